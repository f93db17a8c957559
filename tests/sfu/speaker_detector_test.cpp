#include "sfu/speaker_detector.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace conclave::sfu {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::seconds(100);

constexpr std::uint64_t kA = 11, kB = 22, kC = 33, kD = 44;
constexpr std::uint8_t kSilence = 127;

// Speech is not a flat level: syllables between -25 and -45 dBov with short gaps.
std::uint8_t speech(int packet) {
  const int phase = packet % 10;
  if (phase == 9) return 80;  // a gap between words
  return static_cast<std::uint8_t>(25 + (packet * 7) % 21);
}

// Drives a room: every participant sends an audio packet every 20 ms with the level its
// script gives (nullopt = no packet, e.g. DTX); update() runs every 100 ms. Records the
// dominant speaker after each update.
class Room {
 public:
  using Script = std::function<std::optional<std::uint8_t>(std::uint64_t id, int ms)>;

  explicit Room(std::vector<std::uint64_t> ids) : ids_(std::move(ids)) {
    for (const auto id : ids_) detector.add(id);
  }

  // Runs from the current time to `until_ms`.
  void run(int until_ms, const Script& script) {
    for (; ms_ < until_ms; ms_ += 20) {
      const auto now = kT0 + milliseconds(ms_);
      for (const auto id : ids_) {
        if (!detector.contains(id)) continue;
        if (const auto level = script(id, ms_)) {
          detector.on_audio_level(id, *level, *level < 90, now);
        }
      }
      if (ms_ % 100 == 0) {
        const bool changed = detector.update(now);
        const auto d = detector.dominant();
        if (d != last_dominant_) {
          EXPECT_TRUE(changed) << ms_;
          switches.push_back({ms_, d});
        }
        last_dominant_ = d;
        if (changed) ++change_events;
      }
    }
  }

  struct Switch {
    int ms;
    std::optional<std::uint64_t> to;
  };
  SpeakerDetector detector{16};
  std::vector<Switch> switches;
  int change_events = 0;

 private:
  std::vector<std::uint64_t> ids_;
  std::optional<std::uint64_t> last_dominant_;
  int ms_ = 0;
};

// Who talks when: [from, to) intervals per participant.
Room::Script talking(std::vector<std::pair<std::uint64_t, std::pair<int, int>>> turns) {
  return [turns](std::uint64_t id, int ms) -> std::optional<std::uint8_t> {
    for (const auto& [who, span] : turns) {
      if (who == id && ms >= span.first && ms < span.second) return speech(ms / 20);
    }
    return kSilence;
  };
}

TEST(SpeakerDetector, NobodyDominantBeforeAnyoneSpeaks) {
  Room room({kA, kB});
  room.run(3'000, talking({}));
  EXPECT_FALSE(room.detector.dominant());
  EXPECT_FALSE(room.detector.speaking(kA));
  EXPECT_TRUE(room.switches.empty());
  EXPECT_EQ(room.change_events, 0);
}

TEST(SpeakerDetector, SingleSpeakerBecomesDominantQuickly) {
  Room room({kA, kB, kC});
  room.run(5'000, talking({{kB, {1'000, 5'000}}}));
  ASSERT_EQ(room.switches.size(), 1u);
  EXPECT_EQ(room.switches[0].to, kB);
  EXPECT_GE(room.switches[0].ms, 1'200);
  EXPECT_LE(room.switches[0].ms, 1'800);
  EXPECT_TRUE(room.detector.speaking(kB));
  EXPECT_FALSE(room.detector.speaking(kA));
  EXPECT_GT(room.detector.medium_activity(kB), 0.8);
  EXPECT_EQ(room.detector.order().front(), kB);
}

TEST(SpeakerDetector, TurnTakingSwitchesAfterAboutASecond) {
  Room room({kA, kB});
  room.run(15'000, talking({{kA, {0, 5'000}}, {kB, {5'000, 10'000}}, {kA, {10'000, 15'000}}}));
  ASSERT_EQ(room.switches.size(), 3u);
  EXPECT_EQ(room.switches[0].to, kA);
  EXPECT_EQ(room.switches[1].to, kB);
  EXPECT_GE(room.switches[1].ms, 5'800);
  EXPECT_LE(room.switches[1].ms, 7'000);
  EXPECT_EQ(room.switches[2].to, kA);
  EXPECT_GE(room.switches[2].ms, 10'800);
  EXPECT_LE(room.switches[2].ms, 12'000);
}

TEST(SpeakerDetector, ACoughDoesNotTakeOver) {
  Room room({kA, kB});
  // A talks; B coughs twice (300 ms, very loud): once while A talks, once in a 3 s pause.
  const auto script = [](std::uint64_t id, int ms) -> std::optional<std::uint8_t> {
    if (id == kA && (ms < 6'000 || ms >= 9'500)) return speech(ms / 20);
    if (id == kB && ((ms >= 3'000 && ms < 3'300) || (ms >= 9'000 && ms < 9'300))) return 10;
    return kSilence;
  };
  room.run(12'000, script);
  ASSERT_EQ(room.switches.size(), 1u);
  EXPECT_EQ(room.detector.dominant(), kA);
  // B was speaking during its cough (a speaking indicator may show it) but is not now.
  EXPECT_FALSE(room.detector.speaking(kB));
}

TEST(SpeakerDetector, ShortInterjectionDoesNotTakeOver) {
  Room room({kA, kB});
  room.run(8'000, talking({{kA, {0, 8'000}}, {kB, {4'000, 4'600}}}));
  ASSERT_EQ(room.switches.size(), 1u);
  EXPECT_EQ(room.detector.dominant(), kA);
}

TEST(SpeakerDetector, OverlappingSpeakersAtSimilarLevelsDoNotSwap) {
  Room room({kA, kB});
  room.run(12'000, talking({{kA, {0, 12'000}}, {kB, {3'000, 12'000}}}));
  ASSERT_EQ(room.switches.size(), 1u);
  EXPECT_EQ(room.detector.dominant(), kA);
  EXPECT_TRUE(room.detector.speaking(kA));
  EXPECT_TRUE(room.detector.speaking(kB));
  // Both speaking, A dominant: A first, B second.
  EXPECT_EQ(room.detector.order()[0], kA);
  EXPECT_EQ(room.detector.order()[1], kB);
}

TEST(SpeakerDetector, AClearlyLouderOverlappingSpeakerTakesOver) {
  Room room({kA, kB});
  // A murmurs at -60 dBov (activity 1/3) the whole time; B talks normally from 3 s.
  const auto script = [](std::uint64_t id, int ms) -> std::optional<std::uint8_t> {
    if (id == kA) return std::uint8_t{60};
    if (id == kB && ms >= 3'000) return speech(ms / 20);
    return kSilence;
  };
  room.run(8'000, script);
  ASSERT_EQ(room.switches.size(), 2u);
  EXPECT_EQ(room.switches[0].to, kA);
  EXPECT_EQ(room.switches[1].to, kB);
  EXPECT_GE(room.switches[1].ms, 3'500);
  EXPECT_LE(room.switches[1].ms, 5'000);
}

TEST(SpeakerDetector, SilenceKeepsTheLastDominantSpeaker) {
  Room room({kA, kB});
  room.run(4'000, talking({{kA, {0, 3'000}}}));
  EXPECT_EQ(room.detector.dominant(), kA);
  EXPECT_FALSE(room.detector.speaking(kA));
  const int events = room.change_events;
  room.run(20'000, talking({}));
  EXPECT_EQ(room.detector.dominant(), kA);
  EXPECT_EQ(room.change_events, events);  // nothing changes during the silence
  EXPECT_LT(room.detector.medium_activity(kA), 0.01);
  // And no packets at all (DTX, mute) is silence too.
  room.run(25'000, [](std::uint64_t, int) { return std::optional<std::uint8_t>(); });
  EXPECT_EQ(room.detector.dominant(), kA);
}

TEST(SpeakerDetector, SpeakingFollowsTheLevelWithinHalfASecond) {
  SpeakerDetector d;
  d.add(kA);
  d.on_audio_level(kA, 30, true, kT0);
  EXPECT_TRUE(d.update(kT0 + milliseconds(100)));  // speaking set changed
  EXPECT_TRUE(d.speaking(kA));
  EXPECT_FALSE(d.update(kT0 + milliseconds(400)));
  EXPECT_TRUE(d.speaking(kA));
  EXPECT_TRUE(d.update(kT0 + milliseconds(600)));
  EXPECT_FALSE(d.speaking(kA));
  // A quiet level, or a loud one the sender marks as not voice, is not speaking.
  d.on_audio_level(kA, 65, true, kT0 + milliseconds(700));
  d.on_audio_level(kA, 50, false, kT0 + milliseconds(720));
  EXPECT_FALSE(d.update(kT0 + milliseconds(800)));
  EXPECT_FALSE(d.speaking(kA));
  // Unknown participants are ignored.
  d.on_audio_level(kB, 0, true, kT0 + milliseconds(900));
  EXPECT_FALSE(d.speaking(kB));
  EXPECT_EQ(d.short_activity(kB), 0.0);
}

TEST(SpeakerDetector, RemovingTheDominantSpeaker) {
  Room room({kA, kB, kC});
  room.run(6'000, talking({{kA, {0, 6'000}}, {kB, {2'000, 10'000}}}));
  EXPECT_EQ(room.detector.dominant(), kA);
  room.detector.remove(kA);
  EXPECT_FALSE(room.detector.dominant());
  EXPECT_FALSE(room.detector.contains(kA));
  EXPECT_EQ(room.detector.size(), 2u);
  for (const auto id : room.detector.order()) EXPECT_NE(id, kA);
  room.run(6'200, talking({{kB, {0, 10'000}}}));
  EXPECT_EQ(room.detector.dominant(), kB);  // at the next update, without a wait
  EXPECT_EQ(room.detector.order().front(), kB);
  room.detector.remove(kB);
  room.detector.remove(kB);  // twice is harmless
  EXPECT_EQ(room.detector.size(), 1u);
  EXPECT_EQ(room.detector.order().size(), 1u);
  EXPECT_EQ(room.detector.order().front(), kC);
}

TEST(SpeakerDetector, OrderIsDominantThenRecencyThenJoinOrder) {
  Room room({kA, kB, kC, kD});
  {
    const auto o = room.detector.order();
    EXPECT_EQ(std::vector<std::uint64_t>(o.begin(), o.end()),
              (std::vector<std::uint64_t>{kA, kB, kC, kD}));
  }
  // C talks (dominant), then B talks (dominant), then D coughs.
  const auto script = [](std::uint64_t id, int ms) -> std::optional<std::uint8_t> {
    if (id == kC && ms < 4'000) return speech(ms / 20);
    if (id == kB && ms >= 4'000 && ms < 9'000) return speech(ms / 20);
    if (id == kD && ms >= 10'000 && ms < 10'200) return 20;
    return kSilence;
  };
  room.run(10'300, script);
  EXPECT_EQ(room.detector.dominant(), kB);
  const auto o = room.detector.order();
  // B (dominant), C (was dominant), D (spoke), A (only joined).
  EXPECT_EQ(std::vector<std::uint64_t>(o.begin(), o.end()),
            (std::vector<std::uint64_t>{kB, kC, kD, kA}));
}

TEST(SpeakerDetector, CapacityAndDuplicates) {
  SpeakerDetector d(2);
  d.add(kA);
  d.add(kA);
  d.add(kB);
  d.add(kC);  // beyond capacity
  EXPECT_EQ(d.size(), 2u);
  EXPECT_FALSE(d.contains(kC));
  d.remove(kA);
  d.add(kC);
  EXPECT_TRUE(d.contains(kC));
  const auto o = d.order();
  EXPECT_EQ(std::vector<std::uint64_t>(o.begin(), o.end()), (std::vector<std::uint64_t>{kB, kC}));
}

// Many participants with random short noises and one steady speaker: one switch only.
TEST(SpeakerDetector, BackgroundNoiseInABigRoomDoesNotFlap) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = 1; i <= 12; ++i) ids.push_back(i);
  Room room(ids);
  const auto script = [](std::uint64_t id, int ms) -> std::optional<std::uint8_t> {
    if (id == 3) return speech(ms / 20);
    // Everyone else: -55..-75 dBov background, and a 200 ms loud clatter now and then.
    const auto h = static_cast<std::uint32_t>(id * 2654435761u ^
                                              static_cast<std::uint32_t>(ms / 200) * 40503u);
    if (h % 97 == 0) return std::uint8_t{15};
    return static_cast<std::uint8_t>(55 + (h >> 8) % 21);
  };
  room.run(30'000, script);
  ASSERT_EQ(room.switches.size(), 1u);
  EXPECT_EQ(room.detector.dominant(), 3u);
}

}  // namespace
}  // namespace conclave::sfu
