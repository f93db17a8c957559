// Tests of sfu/nack_generator: gap detection, recovery by late packets, the NACK schedule
// (at once, then every max(rtt, 20 ms), at most max_retries, forgotten after max_age),
// overflow and key frame handling, wraparound, and a randomised check against a model.
#include "sfu/nack_generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace conclave::sfu {
namespace {

using std::chrono::milliseconds;
using Seqs = std::vector<std::uint16_t>;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

Seqs collect(NackGenerator& g, Clock::time_point now, milliseconds rtt = milliseconds(50),
             std::size_t max = 64) {
  std::array<std::uint16_t, 512> buf{};
  const std::size_t n = g.collect(now, rtt, std::span(buf.data(), max));
  return Seqs(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

TEST(NackGenerator, NoLossNoNack) {
  NackGenerator g;
  for (std::uint16_t s = 0; s < 100; ++s) EXPECT_FALSE(g.on_packet(s, kT0, false));
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_TRUE(collect(g, kT0).empty());
  EXPECT_FALSE(g.keyframe_needed());
}

TEST(NackGenerator, GapIsNackedAtOnceOldestFirst) {
  NackGenerator g;
  g.on_packet(10, kT0, false);
  g.on_packet(14, kT0, false);
  EXPECT_EQ(g.missing(), 3u);
  EXPECT_EQ(collect(g, kT0), (Seqs{11, 12, 13}));
  // Not again before the interval.
  EXPECT_TRUE(collect(g, kT0 + milliseconds(49)).empty());
  EXPECT_EQ(collect(g, kT0 + milliseconds(50)), (Seqs{11, 12, 13}));
}

TEST(NackGenerator, LatePacketIsARecovery) {
  NackGenerator g;
  g.on_packet(10, kT0, false);
  g.on_packet(13, kT0, false);
  EXPECT_TRUE(g.on_packet(12, kT0, false));
  EXPECT_EQ(g.missing(), 1u);
  EXPECT_FALSE(g.on_packet(12, kT0, false));  // a duplicate is not
  EXPECT_FALSE(g.on_packet(13, kT0, false));
  EXPECT_FALSE(g.on_packet(5, kT0, false));  // older than anything tracked
  EXPECT_EQ(collect(g, kT0), (Seqs{11}));
  EXPECT_TRUE(g.on_packet(11, kT0, false));
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_TRUE(collect(g, kT0 + milliseconds(100)).empty());
}

TEST(NackGenerator, RetryIntervalIsAtLeast20ms) {
  NackGenerator g;
  g.on_packet(1, kT0, false);
  g.on_packet(3, kT0, false);
  EXPECT_EQ(collect(g, kT0, milliseconds(5)), (Seqs{2}));
  EXPECT_TRUE(collect(g, kT0 + milliseconds(19), milliseconds(5)).empty());
  EXPECT_EQ(collect(g, kT0 + milliseconds(20), milliseconds(5)), (Seqs{2}));
  // A longer RTT spaces them further.
  EXPECT_TRUE(collect(g, kT0 + milliseconds(219), milliseconds(200)).empty());
  EXPECT_EQ(collect(g, kT0 + milliseconds(220), milliseconds(200)), (Seqs{2}));
}

TEST(NackGenerator, MaxRetriesThenForgotten) {
  NackGenerator g(256, 10, milliseconds(10000));
  g.on_packet(1, kT0, false);
  g.on_packet(3, kT0, false);
  Clock::time_point now = kT0;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(collect(g, now, milliseconds(20)), (Seqs{2})) << i;
    now += milliseconds(20);
  }
  // Retries used up; the entry is dropped once its last NACK has had an interval.
  EXPECT_TRUE(collect(g, now - milliseconds(1), milliseconds(20)).empty());
  EXPECT_EQ(g.missing(), 1u);
  EXPECT_TRUE(collect(g, now, milliseconds(20)).empty());
  EXPECT_EQ(g.missing(), 0u);
}

TEST(NackGenerator, LateRecoveryAfterLastRetryStillCounts) {
  NackGenerator g(256, 1);
  g.on_packet(1, kT0, false);
  g.on_packet(3, kT0, false);
  EXPECT_EQ(collect(g, kT0), (Seqs{2}));
  EXPECT_TRUE(collect(g, kT0 + milliseconds(10)).empty());
  EXPECT_TRUE(g.on_packet(2, kT0 + milliseconds(30), false));
}

TEST(NackGenerator, ForgottenAfterMaxAge) {
  NackGenerator g(256, 100, milliseconds(1000));
  g.on_packet(1, kT0, false);
  g.on_packet(3, kT0, false);
  g.on_packet(5, kT0 + milliseconds(500), false);
  EXPECT_EQ(collect(g, kT0 + milliseconds(999)), (Seqs{2, 4}));
  EXPECT_TRUE(collect(g, kT0 + milliseconds(1000)).empty());
  EXPECT_EQ(g.missing(), 1u);  // 2 is a second old and gone; 4 is kept
  EXPECT_EQ(collect(g, kT0 + milliseconds(1049)), (Seqs{4}));
  EXPECT_TRUE(collect(g, kT0 + milliseconds(1500)).empty());
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_FALSE(g.on_packet(2, kT0 + milliseconds(1600), false));
}

TEST(NackGenerator, OutputSpanLimitsAndRestStaysDue) {
  NackGenerator g;
  g.on_packet(0, kT0, false);
  g.on_packet(11, kT0, false);  // 1..10 missing
  EXPECT_EQ(collect(g, kT0, milliseconds(50), 4), (Seqs{1, 2, 3, 4}));
  EXPECT_EQ(collect(g, kT0 + milliseconds(1), milliseconds(50), 4), (Seqs{5, 6, 7, 8}));
  EXPECT_EQ(collect(g, kT0 + milliseconds(2), milliseconds(50), 4), (Seqs{9, 10}));
  EXPECT_EQ(collect(g, kT0 + milliseconds(50), milliseconds(50), 0), Seqs{});
  EXPECT_EQ(collect(g, kT0 + milliseconds(51), milliseconds(50), 64),
            (Seqs{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(NackGenerator, Wraparound) {
  NackGenerator g;
  g.on_packet(65533, kT0, false);
  g.on_packet(2, kT0, false);
  EXPECT_EQ(g.missing(), 4u);
  EXPECT_EQ(collect(g, kT0), (Seqs{65534, 65535, 0, 1}));
  EXPECT_TRUE(g.on_packet(65535, kT0, false));
  EXPECT_TRUE(g.on_packet(0, kT0, false));
  EXPECT_EQ(collect(g, kT0 + milliseconds(50)), (Seqs{65534, 1}));
}

TEST(NackGenerator, ReorderingWithoutLossLeavesNothing) {
  NackGenerator g;
  const Seqs order = {100, 102, 101, 105, 103, 104, 106, 108, 107};
  int recoveries = 0;
  for (std::uint16_t s : order) recoveries += g.on_packet(s, kT0, false) ? 1 : 0;
  EXPECT_EQ(recoveries, 4);
  EXPECT_EQ(g.missing(), 0u);
}

TEST(NackGenerator, HugeGapClearsAndAsksForKeyframe) {
  NackGenerator g(16);
  g.on_packet(0, kT0, false);
  g.on_packet(3, kT0, false);
  EXPECT_EQ(g.missing(), 2u);
  g.on_packet(3 + 17 + 1, kT0, false);  // 17 missing > 16
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_TRUE(g.keyframe_needed());
  EXPECT_FALSE(g.keyframe_needed());  // reset when read
  // Exactly max_missing is still tracked.
  g.on_packet(21 + 16 + 1, kT0, false);
  EXPECT_EQ(g.missing(), 16u);
  EXPECT_FALSE(g.keyframe_needed());
}

TEST(NackGenerator, OverflowGivesUpOldest) {
  NackGenerator g(8);
  g.on_packet(0, kT0, false);
  g.on_packet(6, kT0, false);   // 1..5
  g.on_packet(11, kT0, false);  // 7..10: 9 in all, one too many
  EXPECT_EQ(g.missing(), 8u);
  EXPECT_TRUE(g.keyframe_needed());
  EXPECT_EQ(collect(g, kT0), (Seqs{2, 3, 4, 5, 7, 8, 9, 10}));
  EXPECT_FALSE(g.on_packet(1, kT0, false));  // given up: not a recovery
}

TEST(NackGenerator, KeyframeDropsOlderEntries) {
  NackGenerator g;
  g.on_packet(0, kT0, false);
  g.on_packet(5, kT0, false);  // 1..4 missing
  g.on_packet(9, kT0, true);   // key frame starts at 9: 6..8 and 1..4 no longer needed
  EXPECT_EQ(g.missing(), 0u);
  g.on_packet(12, kT0, false);  // 10, 11 missing after the key frame
  EXPECT_EQ(collect(g, kT0), (Seqs{10, 11}));
}

TEST(NackGenerator, LateKeyframeDropsOnlyOlder) {
  NackGenerator g;
  g.on_packet(0, kT0, false);
  g.on_packet(10, kT0, false);             // 1..9 missing
  EXPECT_TRUE(g.on_packet(5, kT0, true));  // the key frame started at 5, late
  EXPECT_EQ(collect(g, kT0), (Seqs{6, 7, 8, 9}));
}

TEST(NackGenerator, KeyframeClearsKeyframeNeeded) {
  NackGenerator g(4);
  g.on_packet(0, kT0, false);
  g.on_packet(100, kT0, false);
  g.on_packet(101, kT0, true);
  EXPECT_FALSE(g.keyframe_needed());
  // A huge gap that lands on a key frame needs no request.
  g.on_packet(1000, kT0, true);
  EXPECT_FALSE(g.keyframe_needed());
  EXPECT_EQ(g.missing(), 0u);
}

TEST(NackGenerator, Reset) {
  NackGenerator g(4);
  g.on_packet(0, kT0, false);
  g.on_packet(100, kT0, false);
  g.reset();
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_FALSE(g.keyframe_needed());
  g.on_packet(40000, kT0, false);  // a new start anywhere: no gap
  EXPECT_EQ(g.missing(), 0u);
  g.on_packet(40002, kT0, false);
  EXPECT_EQ(collect(g, kT0), (Seqs{40001}));
}

// Random loss and reordering (packets displaced by up to 10) across a wrap: every sequence
// number lost for good is NACKed, none that arrived is still tracked once seen, and every
// recovery corresponds to a number we NACKed or were tracking.
TEST(NackGenerator, RandomisedAgainstModel) {
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    NackGenerator g(1024, 10, milliseconds(100000));
    const auto start = static_cast<std::uint16_t>(65000 + rng() % 500);
    constexpr int kCount = 3000;
    std::vector<int> order;
    for (int i = 0; i < kCount; ++i) {
      if (i > 0 && rng() % 10 == 0) continue;  // lost for good
      order.push_back(i);
    }
    for (std::size_t i = 1; i + 1 < order.size(); ++i) {
      const std::size_t j = std::min(order.size() - 1, i + rng() % 10);
      std::swap(order[i], order[j]);
    }
    std::set<std::uint16_t> arrived;
    std::set<std::uint16_t> nacked;
    Clock::time_point now = kT0;
    for (int i : order) {
      const auto seq = static_cast<std::uint16_t>(start + i);
      g.on_packet(seq, now, false);
      arrived.insert(seq);
      now += milliseconds(1);
      for (std::uint16_t s : collect(g, now, milliseconds(1000), 512)) {
        EXPECT_EQ(arrived.count(s), 0u) << s;
        nacked.insert(s);
      }
    }
    const int highest = *std::max_element(order.begin(), order.end());
    for (int i = 0; i <= highest; ++i) {
      const auto seq = static_cast<std::uint16_t>(start + i);
      if (arrived.count(seq) == 0) {
        EXPECT_EQ(nacked.count(seq), 1u) << seq;
      }
    }
    EXPECT_FALSE(g.keyframe_needed());
  }
}

}  // namespace
}  // namespace conclave::sfu
