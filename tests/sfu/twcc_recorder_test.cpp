#include "sfu/twcc_recorder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "rtc/rtcp.hpp"

namespace conclave::sfu {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::uint32_t kSenderSsrc = 0x11111111;
constexpr std::uint32_t kMediaSsrc = 0x22222222;

// A start far from the clock's epoch, and not on a 64 ms boundary.
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::seconds(1000) + microseconds(7);

std::int64_t us_of(Clock::time_point t) {
  return std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count();
}

struct Status {
  std::uint16_t seq;
  bool received;
  std::int64_t arrival_us;  // reconstructed, when received
};

struct Parsed {
  std::uint16_t base;
  std::uint16_t count;
  std::uint8_t feedback_count;
  std::uint32_t reference;
  std::size_t size;
  std::vector<Status> statuses;
};

// Builds one feedback and parses it back with rtc::TransportFeedback; nullopt when the
// recorder wrote nothing.
std::optional<Parsed> build(TwccRecorder& r, std::size_t buffer = 1500) {
  std::vector<std::uint8_t> out(buffer);
  const std::size_t n = r.build_feedback(out, kSenderSsrc, kMediaSsrc);
  if (n == 0) return std::nullopt;
  EXPECT_EQ(n % 4, 0u);
  EXPECT_LE(n, TwccRecorder::kMaxFeedbackBytes);
  out.resize(n);
  const auto packet = rtc::RtcpPacket::parse(out);
  EXPECT_TRUE(packet);
  if (!packet) return std::nullopt;
  const auto fb = rtc::TransportFeedback::parse(*packet);
  EXPECT_TRUE(fb);
  if (!fb) return std::nullopt;
  EXPECT_EQ(fb->sender_ssrc(), kSenderSsrc);
  EXPECT_EQ(fb->media_ssrc(), kMediaSsrc);
  Parsed p{fb->base_sequence_number(),
           fb->status_count(),
           fb->feedback_count(),
           fb->reference_time(),
           n,
           {}};
  std::int64_t t = std::int64_t{fb->reference_time()} * rtc::kTwccReferenceTickUs;
  auto reader = fb->statuses();
  rtc::TwccStatus s;
  while (reader.next(s)) {
    if (s.received()) t += s.delta * rtc::kTwccDeltaTickUs;
    p.statuses.push_back({s.sequence_number, s.received(), s.received() ? t : 0});
  }
  EXPECT_EQ(p.statuses.size(), p.count);
  return p;
}

// Checks statuses against what was sent: expected arrival (relative to kT0) per received
// sequence number, everything else in the range not received.
void expect_statuses(const Parsed& p, const std::map<std::uint16_t, std::int64_t>& arrivals) {
  for (const Status& s : p.statuses) {
    const auto it = arrivals.find(s.seq);
    if (it == arrivals.end()) {
      EXPECT_FALSE(s.received) << s.seq;
      continue;
    }
    ASSERT_TRUE(s.received) << s.seq;
    // Arrival times only matter relative to each other; the reference time is absolute
    // steady-clock time here, so compare absolute values.
    EXPECT_LE(std::abs(s.arrival_us - (us_of(kT0) + it->second)), 250) << s.seq;
  }
}

TEST(TwccRecorder, NothingToReportWritesNothing) {
  TwccRecorder r;
  std::vector<std::uint8_t> out(1500);
  EXPECT_EQ(r.build_feedback(out, kSenderSsrc, kMediaSsrc), 0u);
  EXPECT_FALSE(r.more());
  r.on_packet(10, kT0);
  EXPECT_GT(r.build_feedback(out, kSenderSsrc, kMediaSsrc), 0u);
  EXPECT_EQ(r.build_feedback(out, kSenderSsrc, kMediaSsrc), 0u);  // all reported
}

TEST(TwccRecorder, ReportsArrivalTimesInOrder) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> arrivals;
  std::int64_t t = 0;
  for (std::uint16_t seq = 100; seq < 140; ++seq) {
    t += (seq % 3 == 0) ? 0 : 1'370 + 11 * seq;  // bursts and uneven gaps
    r.on_packet(seq, kT0 + microseconds(t));
    arrivals[seq] = t;
  }
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 100);
  EXPECT_EQ(p->count, 40);
  EXPECT_EQ(p->feedback_count, 0);
  // The reference time is the first arrival rounded down to 64 ms.
  EXPECT_EQ(p->reference, static_cast<std::uint32_t>(us_of(kT0) / 64'000) & 0xFFFFFF);
  expect_statuses(*p, arrivals);
  EXPECT_FALSE(r.more());
  EXPECT_EQ(r.pending(), 0u);
}

TEST(TwccRecorder, ReportsHolesAsNotReceived) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> arrivals;
  for (std::uint16_t seq : {1, 2, 5, 6, 7, 20, 21}) {
    arrivals[seq] = seq * 2'000;
    r.on_packet(seq, kT0 + microseconds(seq * 2'000));
  }
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 1);
  EXPECT_EQ(p->count, 21);
  expect_statuses(*p, arrivals);
  std::size_t lost = 0;
  for (const auto& s : p->statuses) lost += s.received ? 0 : 1;
  EXPECT_EQ(lost, 14u);
}

TEST(TwccRecorder, AHoleRightAfterTheLastFeedbackIsReportedNext) {
  TwccRecorder r;
  for (std::uint16_t seq = 0; seq < 10; ++seq) r.on_packet(seq, kT0 + milliseconds(seq));
  ASSERT_TRUE(build(r));
  // 10..14 lost, then 15..19 arrive: the next feedback starts at the first lost packet.
  std::map<std::uint16_t, std::int64_t> arrivals;
  for (std::uint16_t seq = 15; seq < 20; ++seq) {
    r.on_packet(seq, kT0 + milliseconds(seq));
    arrivals[seq] = seq * 1'000;
  }
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 10);
  EXPECT_EQ(p->count, 10);
  EXPECT_EQ(p->feedback_count, 1);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_FALSE(p->statuses[i].received) << i;
  expect_statuses(*p, arrivals);
}

TEST(TwccRecorder, LeadingHoleWithPaddingVariants) {
  // The prepended chunk changes the padding; check every alignment of the delta bytes.
  for (std::uint16_t received = 1; received <= 8; ++received) {
    TwccRecorder r;
    r.on_packet(0, kT0);
    ASSERT_TRUE(build(r));
    std::map<std::uint16_t, std::int64_t> arrivals;
    for (std::uint16_t i = 0; i < received; ++i) {
      const std::uint16_t seq = static_cast<std::uint16_t>(3 + i);
      arrivals[seq] = 1'000 * seq;
      r.on_packet(seq, kT0 + microseconds(arrivals[seq]));
    }
    const auto p = build(r);
    ASSERT_TRUE(p) << received;
    EXPECT_EQ(p->base, 1);
    EXPECT_EQ(p->count, received + 2);
    expect_statuses(*p, arrivals);
  }
}

TEST(TwccRecorder, HandlesWraparound) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> arrivals;
  std::uint16_t seq = 65'530;
  for (int i = 0; i < 12; ++i, ++seq) {
    if (i == 7) continue;  // seq 1 lost
    arrivals[seq] = i * 3'000;
    r.on_packet(seq, kT0 + microseconds(i * 3'000));
  }
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 65'530);
  EXPECT_EQ(p->count, 12);
  EXPECT_EQ(p->statuses.back().seq, 5);
  EXPECT_FALSE(p->statuses[7].received);
  expect_statuses(*p, arrivals);
}

TEST(TwccRecorder, ReorderedPacketsGetTheirOwnArrivalTimes) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> arrivals;
  const std::uint16_t order[] = {0, 1, 3, 2, 6, 4, 5, 7};
  for (std::size_t i = 0; i < 8; ++i) {
    arrivals[order[i]] = static_cast<std::int64_t>(i) * 4'000;
    r.on_packet(order[i], kT0 + microseconds(arrivals[order[i]]));
  }
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 8);
  expect_statuses(*p, arrivals);  // negative deltas for the late ones
}

TEST(TwccRecorder, PacketBeforeTheFirstIsReportedToo) {
  TwccRecorder r;
  r.on_packet(50, kT0);
  r.on_packet(49, kT0 + milliseconds(1));
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 49);
  EXPECT_EQ(p->count, 2);
  expect_statuses(*p, {{49, 1'000}, {50, 0}});
}

TEST(TwccRecorder, LatePacketAfterItsHoleWasReportedIsReportedAgain) {
  TwccRecorder r;
  for (std::uint16_t seq : {0, 1, 3, 4}) r.on_packet(seq, kT0 + milliseconds(seq));
  auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->statuses[2].received);  // 2 reported lost

  r.on_packet(2, kT0 + milliseconds(30));  // arrives late
  r.on_packet(5, kT0 + milliseconds(31));
  p = build(r);
  ASSERT_TRUE(p);
  // Re-reported from 2 on (as libwebrtc does): 2, 3, 4 again, 5 new.
  EXPECT_EQ(p->base, 2);
  EXPECT_EQ(p->count, 4);
  expect_statuses(*p, {{2, 30'000}, {3, 3'000}, {4, 4'000}, {5, 31'000}});
}

TEST(TwccRecorder, DuplicatesKeepTheFirstArrival) {
  TwccRecorder r;
  r.on_packet(7, kT0);
  r.on_packet(8, kT0 + milliseconds(2));
  r.on_packet(8, kT0 + milliseconds(9));
  r.on_packet(7, kT0 + milliseconds(10));
  auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 2);
  expect_statuses(*p, {{7, 0}, {8, 2'000}});
  // A duplicate of something already reported does not cause another report.
  r.on_packet(8, kT0 + milliseconds(20));
  EXPECT_FALSE(build(r));
}

TEST(TwccRecorder, SplitsWhereADeltaWouldNotFitSixteenBits) {
  TwccRecorder r;
  r.on_packet(1, kT0);
  r.on_packet(2, kT0 + milliseconds(5));
  r.on_packet(3, kT0 + milliseconds(10'000));  // 10 s later: beyond ±8.19 s
  r.on_packet(4, kT0 + milliseconds(10'001));
  auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 1);
  EXPECT_EQ(p->count, 2);
  EXPECT_TRUE(r.more());
  expect_statuses(*p, {{1, 0}, {2, 5'000}});
  p = build(r);
  ASSERT_TRUE(p);
  EXPECT_FALSE(r.more());
  EXPECT_EQ(p->base, 3);
  EXPECT_EQ(p->count, 2);
  expect_statuses(*p, {{3, 10'000'000}, {4, 10'001'000}});
}

TEST(TwccRecorder, LargeButRepresentableDeltaStaysInOneFeedback) {
  TwccRecorder r;
  r.on_packet(1, kT0);
  r.on_packet(2, kT0 + milliseconds(7'900));
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 2);
  EXPECT_FALSE(r.more());
  expect_statuses(*p, {{1, 0}, {2, 7'900'000}});
}

// Many packets with deltas that need two bytes: several feedbacks, each within the size
// bound, covering every status exactly once.
TEST(TwccRecorder, BoundsTheSizeOfEachFeedbackAndCoversEverything) {
  TwccRecorder r(4096);
  std::map<std::uint16_t, std::int64_t> arrivals;
  std::int64_t t = 0;
  std::uint16_t seq = 60'000;
  for (int i = 0; i < 3'000; ++i, ++seq) {
    t += (i % 2 == 0) ? 70'000 : -65'000;  // forces large deltas
    if (i % 17 == 5) continue;             // some losses
    r.on_packet(seq, kT0 + microseconds(t + 100'000));
    arrivals[seq] = t + 100'000;
  }
  std::uint16_t expected_base = 60'000;
  std::size_t covered = 0;
  int feedbacks = 0;
  do {
    const auto p = build(r);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->base, expected_base);
    EXPECT_EQ(p->feedback_count, feedbacks);
    expect_statuses(*p, arrivals);
    expected_base = static_cast<std::uint16_t>(expected_base + p->count);
    covered += p->count;
    ++feedbacks;
  } while (r.more() && feedbacks < 100);
  EXPECT_EQ(covered, 3'000u);
  EXPECT_GE(feedbacks, 5);  // about 2 bytes per status: at least 6000 bytes in all
  EXPECT_FALSE(build(r));
}

TEST(TwccRecorder, RespectsASmallOutputBuffer) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> arrivals;
  for (std::uint16_t seq = 0; seq < 100; ++seq) {
    arrivals[seq] = seq * 1'000;
    r.on_packet(seq, kT0 + microseconds(seq * 1'000));
  }
  std::size_t covered = 0;
  for (int i = 0; i < 50 && covered < 100; ++i) {
    const auto p = build(r, 64);
    ASSERT_TRUE(p);
    EXPECT_LE(p->size, 64u);
    expect_statuses(*p, arrivals);
    covered += p->count;
  }
  EXPECT_EQ(covered, 100u);
  EXPECT_FALSE(r.more());
  // Too small for anything at all.
  r.on_packet(100, kT0 + milliseconds(200));
  std::vector<std::uint8_t> tiny(16);
  EXPECT_EQ(r.build_feedback(tiny, kSenderSsrc, kMediaSsrc), 0u);
}

TEST(TwccRecorder, LongRunOfLossesInTheMiddleIsOneFeedback) {
  TwccRecorder r;
  r.on_packet(0, kT0);
  r.on_packet(1'500, kT0 + milliseconds(300));
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 1'501);
  EXPECT_LT(p->size, 40u);  // run-length chunks
  expect_statuses(*p, {{0, 0}, {1'500, 300'000}});
}

TEST(TwccRecorder, JumpBeyondTheRingGivesUpTheOldestUnreported) {
  TwccRecorder r(256);
  r.on_packet(0, kT0);
  r.on_packet(1, kT0 + milliseconds(1));
  r.on_packet(1'000, kT0 + milliseconds(50));  // 0 and 1 are no longer in the ring
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(static_cast<std::uint16_t>(p->base + p->count - 1), 1'000);
  EXPECT_LE(p->count, 256);
  expect_statuses(*p, {{1'000, 50'000}});
  // A packet older than the ring is ignored.
  r.on_packet(2, kT0 + milliseconds(60));
  EXPECT_FALSE(build(r));
}

TEST(TwccRecorder, UnreportedWindowIsBoundedByTheRing) {
  TwccRecorder r(64);
  for (std::uint16_t seq = 0; seq < 200; ++seq) r.on_packet(seq, kT0 + milliseconds(seq));
  EXPECT_EQ(r.pending(), 64u);
  const auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, 136);
  EXPECT_EQ(p->count, 64);
}

TEST(TwccRecorder, FeedbackCountWraps) {
  TwccRecorder r;
  for (int i = 0; i < 260; ++i) {
    r.on_packet(static_cast<std::uint16_t>(i), kT0 + milliseconds(50 * i));
    const auto p = build(r);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->feedback_count, static_cast<std::uint8_t>(i));
  }
  EXPECT_EQ(r.feedback_count(), static_cast<std::uint8_t>(260));
}

TEST(TwccRecorder, ReferenceTimeFollowsTheFirstReportedArrival) {
  TwccRecorder r;
  const Clock::time_point base = Clock::time_point{} + microseconds(64'000 * 5 + 63'999);
  r.on_packet(0, base);
  auto p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reference, 5u);
  r.on_packet(1, base + microseconds(1));  // next 64 ms tick
  p = build(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reference, 6u);
  EXPECT_EQ(p->statuses[0].arrival_us, 64'000 * 6);
}

// Long random-ish run across wraparound with reordering, losses and duplicates, built
// every 50 ms: every packet is reported received at least once with its first arrival.
TEST(TwccRecorder, SoakAcrossWrapWithReorderingLossAndDuplicates) {
  TwccRecorder r;
  std::map<std::uint16_t, std::int64_t> first_arrival;
  std::map<std::uint16_t, bool> reported_received;
  std::uint32_t rng = 12345;
  const auto rand = [&rng] {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7FFF;
  };
  std::int64_t t = 0;
  std::uint16_t seq = 65'000;
  int delayed = -1;
  std::int64_t next_feedback = 50'000;
  const auto drain_one = [&]() -> bool {
    const auto p = build(r);
    if (!p) return false;
    for (const auto& s : p->statuses) {
      if (!s.received) continue;
      const auto it = first_arrival.find(s.seq);
      EXPECT_NE(it, first_arrival.end()) << s.seq;
      if (it == first_arrival.end()) continue;
      EXPECT_LE(std::abs(s.arrival_us - (us_of(kT0) + it->second)), 250) << s.seq;
      reported_received[s.seq] = true;
    }
    return true;
  };
  for (int i = 0; i < 5'000; ++i, ++seq) {
    t += 1'000 + static_cast<std::int64_t>(rand() % 2'000);
    const unsigned roll = rand() % 100;
    if (roll < 5) continue;  // lost
    if (roll < 8 && delayed < 0) {
      delayed = seq;  // delivered a few packets later
      continue;
    }
    r.on_packet(seq, kT0 + microseconds(t));
    first_arrival.emplace(seq, t);
    if (roll < 10) r.on_packet(seq, kT0 + microseconds(t + 500));  // duplicate
    if (delayed >= 0 && roll % 4 == 0) {
      const auto d = static_cast<std::uint16_t>(delayed);
      r.on_packet(d, kT0 + microseconds(t + 100));
      first_arrival.emplace(d, t + 100);
      delayed = -1;
    }
    if (t >= next_feedback) {
      next_feedback += 50'000;
      do {
        drain_one();
      } while (r.more());
    }
  }
  while (drain_one()) {
  }
  for (const auto& [s, arrival] : first_arrival) {
    EXPECT_TRUE(reported_received[s]) << s << " at " << arrival;
  }
}

}  // namespace
}  // namespace conclave::sfu
