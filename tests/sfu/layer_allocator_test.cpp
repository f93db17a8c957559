#include "sfu/layer_allocator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace conclave::sfu {
namespace {

// A camera's usual three layers.
constexpr std::array<LayerInfo, 3> kCamera = {{
    {320, 180, 150'000, true},
    {640, 360, 500'000, true},
    {1280, 720, 1'500'000, true},
}};
constexpr std::array<LayerInfo, 3> kScreen = {{
    {480, 270, 300'000, true},
    {960, 540, 800'000, true},
    {1920, 1080, 2'000'000, true},
}};

AllocationRequest video(std::uint64_t id, int relevance, std::span<const LayerInfo> layers,
                        int current = -1) {
  AllocationRequest r;
  r.id = id;
  r.relevance = relevance;
  r.layers = layers;
  r.current_layer = current;
  return r;
}

AllocationRequest audio(std::uint64_t id) {
  AllocationRequest r;
  r.id = id;
  r.audio = true;
  r.source = TrackSource::kMicrophone;
  return r;
}

std::vector<int> run(std::uint64_t budget, const std::vector<AllocationRequest>& requests,
                     const AllocatorConfig& config = {}) {
  std::vector<Allocation> out(requests.size(), Allocation{0, -7});
  allocate_layers(budget, requests, out, config);
  std::vector<int> layers;
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].id, requests[i].id);
    layers.push_back(out[i].layer);
  }
  return layers;
}

using Layers = std::vector<int>;

TEST(LayerAllocator, EmptyRequests) {
  std::vector<Allocation> out;
  allocate_layers(1'000'000, {}, out, {});
  SUCCEED();
}

TEST(LayerAllocator, AudioAlwaysFlowsEvenWithoutBudget) {
  EXPECT_EQ(run(0, {audio(1), audio(2), video(3, 0, kCamera)}), (Layers{0, 0, -1}));
  // The audio reserve comes first: 64 k for audio leaves too little for 150 k of video.
  EXPECT_EQ(run(200'000, {audio(1), video(2, 0, kCamera)}), (Layers{0, -1}));
  EXPECT_EQ(run(64'000 + 150'000 * 115 / 100, {audio(1), video(2, 0, kCamera)}), (Layers{0, 0}));
}

TEST(LayerAllocator, GivesTheHighestLayerThatFits) {
  EXPECT_EQ(run(10'000'000, {video(1, 0, kCamera)}), (Layers{2}));
  EXPECT_EQ(run(1'000'000, {video(1, 0, kCamera)}), (Layers{1}));
  EXPECT_EQ(run(300'000, {video(1, 0, kCamera)}), (Layers{0}));
  EXPECT_EQ(run(100'000, {video(1, 0, kCamera)}), (Layers{-1}));
}

TEST(LayerAllocator, BaseLayersFirstThenUpgradesInPriorityOrder) {
  // 2.3 M: three base layers (450 k), then the most relevant goes to high (1.35 M more),
  // the next to medium (350 k more) and the last stays low.
  const auto l = run(2'300'000, {video(3, 2, kCamera), video(1, 0, kCamera), video(2, 1, kCamera)},
                     {.upgrade_headroom = 1.0});
  EXPECT_EQ(l, (Layers{0, 2, 1}));
}

TEST(LayerAllocator, PausesTheLeastRelevantWhenBaseLayersDoNotFit) {
  const auto l = run(350'000, {video(1, 0, kCamera), video(2, 1, kCamera), video(3, 2, kCamera)},
                     {.upgrade_headroom = 1.0});
  EXPECT_EQ(l, (Layers{0, 0, -1}));
}

TEST(LayerAllocator, ACheaperLessRelevantTrackStillFitsAfterAPausedOne) {
  // The screen share's base (300 k) does not fit in 200 k; the camera's (150 k) does.
  auto screen = video(1, 5, kScreen);
  screen.source = TrackSource::kScreen;
  const auto l = run(200'000, {screen, video(2, 0, kCamera)}, {.upgrade_headroom = 1.0});
  EXPECT_EQ(l, (Layers{-1, 0}));
}

TEST(LayerAllocator, ScreenSharesComeFirst) {
  auto screen = video(9, 7, kScreen);
  screen.source = TrackSource::kScreen;
  // 2.5 M: screen base 300 k + camera base 150 k, then the screen goes high (+1.7 M) and
  // the camera only to medium (350 k left... exactly).
  const auto l = run(2'500'000, {video(1, 0, kCamera), screen}, {.upgrade_headroom = 1.0});
  EXPECT_EQ(l, (Layers{1, 2}));
}

TEST(LayerAllocator, LastNForwardsOnlyTheMostRelevant) {
  std::vector<AllocationRequest> r = {video(1, 3, kCamera), video(2, 0, kCamera),
                                      video(3, 2, kCamera), video(4, 1, kCamera), audio(5)};
  EXPECT_EQ(run(100'000'000, r, {.last_n = 2}), (Layers{-1, 2, -1, 2, 0}));
  EXPECT_EQ(run(100'000'000, r, {.last_n = 3}), (Layers{-1, 2, 2, 2, 0}));
  EXPECT_EQ(run(100'000'000, r, {.last_n = 0}), (Layers{2, 2, 2, 2, 0}));
}

TEST(LayerAllocator, LastNCountsScreenSharesAndTiesBreakByListOrder) {
  auto screen = video(1, 9, kScreen);
  screen.source = TrackSource::kScreen;
  std::vector<AllocationRequest> r = {video(2, 1, kCamera), video(3, 1, kCamera), screen};
  EXPECT_EQ(run(100'000'000, r, {.last_n = 2}), (Layers{2, -1, 2}));
}

TEST(LayerAllocator, ReceiverPausedAndInactiveTracksTakeNoLastNSlot) {
  constexpr std::array<LayerInfo, 3> kOff = {
      {{320, 180, 150'000, false}, {640, 360, 500'000, false}, {1280, 720, 1'500'000, false}}};
  auto hidden = video(1, 0, kCamera);
  hidden.paused_by_receiver = true;
  std::vector<AllocationRequest> r = {hidden, video(2, 1, kOff), video(3, 2, kCamera),
                                      video(4, 3, kCamera)};
  EXPECT_EQ(run(100'000'000, r, {.last_n = 1}), (Layers{-1, -1, 2, -1}));
}

TEST(LayerAllocator, NeverExceedsWhatTheTileNeeds) {
  auto r = video(1, 0, kCamera);
  r.max_width = 320;
  r.max_height = 180;
  EXPECT_EQ(run(100'000'000, {r}), (Layers{0}));
  r.max_width = 400;  // more than low: medium covers it
  r.max_height = 200;
  EXPECT_EQ(run(100'000'000, {r}), (Layers{1}));
  r.max_width = 1920;  // more than any: the largest
  r.max_height = 1080;
  EXPECT_EQ(run(100'000'000, {r}), (Layers{2}));
  r.max_width = 0;  // only a height limit
  r.max_height = 360;
  EXPECT_EQ(run(100'000'000, {r}), (Layers{1}));
}

TEST(LayerAllocator, UnknownDimensionsAreTakenByIndex) {
  constexpr std::array<LayerInfo, 3> kNoSize = {
      {{0, 0, 150'000, true}, {0, 0, 500'000, true}, {0, 0, 1'500'000, true}}};
  // Full size assumed 1280x720: 320x180, 640x360, 1280x720.
  EXPECT_EQ(size_cap_layer(kNoSize, 320, 180), 0);
  EXPECT_EQ(size_cap_layer(kNoSize, 321, 180), 1);
  EXPECT_EQ(size_cap_layer(kNoSize, 1000, 0), 2);
  // One known layer gives the full size: high is 1920x1080, so low is 480x270.
  constexpr std::array<LayerInfo, 3> kPartly = {
      {{0, 0, 0, true}, {0, 0, 0, true}, {1920, 1080, 0, true}}};
  EXPECT_EQ(size_cap_layer(kPartly, 480, 270), 0);
  EXPECT_EQ(size_cap_layer(kPartly, 481, 270), 1);
  EXPECT_EQ(size_cap_layer({}, 10, 10), -1);
}

TEST(LayerAllocator, DefaultBitratesByResolution) {
  constexpr std::array<LayerInfo, 3> kNoRate = {
      {{320, 180, 0, true}, {640, 360, 0, true}, {1280, 720, 0, true}}};
  EXPECT_EQ(layer_bitrate(kNoRate, 0), kDefaultLowBps);
  EXPECT_EQ(layer_bitrate(kNoRate, 1), kDefaultMediumBps);
  EXPECT_EQ(layer_bitrate(kNoRate, 2), kDefaultHighBps);
  constexpr std::array<LayerInfo, 3> kNothing = {
      {{0, 0, 0, true}, {0, 0, 0, true}, {0, 0, 0, true}}};
  EXPECT_EQ(layer_bitrate(kNothing, 0), kDefaultLowBps);
  EXPECT_EQ(layer_bitrate(kNothing, 2), kDefaultHighBps);
  EXPECT_EQ(layer_bitrate(kNoRate, 5), 0u);
  // Defaults drive the allocation: 700 k fits low + medium's default.
  EXPECT_EQ(run(700'000, {video(1, 0, kNoRate)}, {.upgrade_headroom = 1.0}), (Layers{1}));
}

TEST(LayerAllocator, InactiveLayersAreNeverChosen) {
  constexpr std::array<LayerInfo, 3> kNoHigh = {
      {{320, 180, 150'000, true}, {640, 360, 500'000, true}, {1280, 720, 1'500'000, false}}};
  EXPECT_EQ(run(100'000'000, {video(1, 0, kNoHigh)}), (Layers{1}));
  constexpr std::array<LayerInfo, 3> kOnlyHigh = {
      {{320, 180, 150'000, false}, {640, 360, 500'000, false}, {1280, 720, 1'500'000, true}}};
  EXPECT_EQ(run(100'000'000, {video(1, 0, kOnlyHigh)}), (Layers{2}));
  EXPECT_EQ(run(1'000'000, {video(1, 0, kOnlyHigh)}), (Layers{-1}));
  // A small tile, but only the high layer is sent: better a large picture than none.
  auto small = video(1, 0, kOnlyHigh);
  small.max_width = 160;
  small.max_height = 90;
  EXPECT_EQ(run(100'000'000, {small}), (Layers{2}));
  // Medium inactive: low to high directly.
  constexpr std::array<LayerInfo, 3> kGap = {
      {{320, 180, 150'000, true}, {640, 360, 500'000, false}, {1280, 720, 1'500'000, true}}};
  EXPECT_EQ(run(1'000'000, {video(1, 0, kGap)}), (Layers{0}));
  EXPECT_EQ(run(2'000'000, {video(1, 0, kGap)}), (Layers{2}));
}

TEST(LayerAllocator, UpgradeNeedsHeadroomStayingDoesNot) {
  // High costs 1.5 M; with headroom 1.15 an upgrade needs 1.725 M.
  EXPECT_EQ(run(1'700'000, {video(1, 0, kCamera, 1)}), (Layers{1}));
  EXPECT_EQ(run(1'725'000, {video(1, 0, kCamera, 1)}), (Layers{2}));
  EXPECT_EQ(run(1'500'000, {video(1, 0, kCamera, 2)}), (Layers{2}));  // stays
  EXPECT_EQ(run(1'499'999, {video(1, 0, kCamera, 2)}), (Layers{1}));  // must go down
  // Resuming a paused track is an upgrade too.
  EXPECT_EQ(run(160'000, {video(1, 0, kCamera, -1)}), (Layers{-1}));
  EXPECT_EQ(run(160'000, {video(1, 0, kCamera, 0)}), (Layers{0}));
}

// A budget wandering around a threshold, each allocation fed back as the current layer:
// the layer changes only when the budget leaves the hysteresis band.
TEST(LayerAllocator, DoesNotFlapNearAThreshold) {
  int current = -1;
  int changes = 0;
  for (int i = 0; i < 200; ++i) {
    // 1.5 M ± 100 k: between "stay on high" (1.5 M) and "upgrade to high" (1.725 M)
    // after the first rise.
    const std::uint64_t budget = (i < 10) ? 2'000'000 : 1'550'000 + (i % 7) * 20'000;
    const auto l = run(budget, {video(1, 0, kCamera, current)});
    if (l[0] != current) ++changes;
    current = l[0];
  }
  EXPECT_EQ(current, 2);
  EXPECT_EQ(changes, 1);  // paused → high, then stable

  // Just below: settles on medium and does not come back up.
  changes = 0;
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t budget = 1'400'000 + (i % 5) * 60'000;  // 1.40 .. 1.64 M
    const auto l = run(budget, {video(1, 0, kCamera, current)});
    if (l[0] != current) ++changes;
    current = l[0];
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(changes, 1);
}

TEST(LayerAllocator, TwoTracksStayStableAroundTheirThresholds) {
  // 2.00 .. 2.06 M: {high, medium} costs exactly 2.0 M to keep, but {high, low} → {high,
  // medium} needs 2.075 M. Whichever the tracks are on, they stay there.
  for (const int start : {0, 1}) {
    std::vector<AllocationRequest> r = {video(1, 0, kCamera, 2), video(2, 1, kCamera, start)};
    for (int i = 0; i < 100; ++i) {
      const std::uint64_t budget = 2'000'000 + static_cast<std::uint64_t>(i % 3) * 30'000;
      const auto l = run(budget, r);
      EXPECT_EQ(l, (Layers{2, start})) << i;
      r[0].current_layer = l[0];
      r[1].current_layer = l[1];
    }
  }
}

TEST(LayerAllocator, ManyTracksBeyondTheStackArray) {
  std::vector<AllocationRequest> r;
  for (int i = 0; i < 600; ++i) r.push_back(video(static_cast<std::uint64_t>(i), 600 - i, kCamera));
  const auto l = run(100'000'000, r, {.last_n = 25});
  int forwarded = 0;
  for (int i = 0; i < 600; ++i) {
    if (l[static_cast<std::size_t>(i)] >= 0) {
      ++forwarded;
      EXPECT_GE(i, 575);  // the 25 most relevant: largest index, smallest relevance
    }
  }
  EXPECT_EQ(forwarded, 25);
}

TEST(LayerAllocator, TooSmallScratchPausesVideoOnly) {
  std::vector<AllocationRequest> r = {video(1, 0, kCamera), audio(2)};
  std::vector<Allocation> out(2);
  std::array<std::uint32_t, 1> order;
  allocate_layers(10'000'000, r, out, {}, order);
  EXPECT_EQ(out[0].layer, -1);
  EXPECT_EQ(out[1].layer, 0);
}

}  // namespace
}  // namespace conclave::sfu
