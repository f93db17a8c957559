// Tests of sfu/receive_stats: RFC 3550 A.1 sequence accounting (wrap, reordering,
// duplicates, restarts), A.3 loss (fraction per interval, clamped cumulative), A.8 jitter,
// LSR/DLSR, NTP conversion and round-trip time (§6.4.1), and the rate meter.
#include "sfu/receive_stats.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace conclave::sfu {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(ReceiveStats, EmptyReport) {
  ReceiveStats s(90000);
  EXPECT_FALSE(s.started());
  const rtc::ReportBlock b = s.make_report_block(0x1234, kT0);
  EXPECT_EQ(b, (rtc::ReportBlock{0x1234, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(s.packets(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(ReceiveStats, InOrderNoLoss) {
  ReceiveStats s(90000);
  for (std::uint16_t i = 0; i < 100; ++i) {
    s.on_packet(static_cast<std::uint16_t>(1000 + i), 3000u * i, kT0 + milliseconds(33 * i), 100);
  }
  EXPECT_TRUE(s.started());
  EXPECT_EQ(s.packets(), 100u);
  EXPECT_EQ(s.bytes(), 10000u);
  const rtc::ReportBlock b = s.make_report_block(7, kT0 + milliseconds(3300));
  EXPECT_EQ(b.ssrc, 7u);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(b.extended_highest_sequence, 1099u);
}

TEST(ReceiveStats, FractionPerIntervalAndCumulative) {
  ReceiveStats s(90000);
  for (std::uint16_t i = 0; i < 10; ++i) {
    if (i == 3 || i == 7) continue;
    s.on_packet(i, 0, kT0, 100);
  }
  rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.cumulative_lost, 2);
  EXPECT_EQ(b.fraction_lost, (2 << 8) / 10);
  for (std::uint16_t i = 10; i < 20; ++i) s.on_packet(i, 0, kT0, 100);
  b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.fraction_lost, 0);  // a new interval
  EXPECT_EQ(b.cumulative_lost, 2);
  // A late packet from the first interval makes up for a loss: the interval's net loss is
  // negative, which reports 0.
  s.on_packet(3, 0, kT0, 100);
  b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 1);
  // Nothing in an interval: 0.
  b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceiveStats, HeavyLossFraction) {
  ReceiveStats s(90000);
  s.on_packet(0, 0, kT0, 1);
  s.make_report_block(1, kT0);
  s.on_packet(100, 0, kT0, 1);  // 99 lost, 1 received of 100 expected
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.fraction_lost, (99 << 8) / 100);
  EXPECT_EQ(b.cumulative_lost, 99);
}

TEST(ReceiveStats, SequenceWrapCountsCycles) {
  ReceiveStats s(90000);
  for (std::uint32_t i = 65530; i < 65536 + 6; ++i) {
    s.on_packet(static_cast<std::uint16_t>(i), 0, kT0, 1);
  }
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.extended_highest_sequence, 65536u + 5u);
  EXPECT_EQ(b.cumulative_lost, 0);
}

TEST(ReceiveStats, ReorderedAcrossWrapDoesNotCountACycle) {
  ReceiveStats s(90000);
  s.on_packet(65534, 0, kT0, 1);
  s.on_packet(1, 0, kT0, 1);      // wrapped, 65535 and 0 missing so far
  s.on_packet(65535, 0, kT0, 1);  // late, from before the wrap
  s.on_packet(0, 0, kT0, 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.extended_highest_sequence, 65536u + 1u);
  EXPECT_EQ(b.cumulative_lost, 0);
}

TEST(ReceiveStats, DuplicatesMakeLossNegative) {
  ReceiveStats s(90000);
  s.on_packet(1, 0, kT0, 1);
  s.on_packet(2, 0, kT0, 1);
  s.on_packet(2, 0, kT0, 1);
  s.on_packet(2, 0, kT0, 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceiveStats, SingleStrayJumpIsIgnored) {
  ReceiveStats s(90000);
  for (std::uint16_t i = 0; i < 10; ++i) s.on_packet(i, 0, kT0, 1);
  s.on_packet(30000, 0, kT0, 1);  // not counted
  for (std::uint16_t i = 10; i < 20; ++i) s.on_packet(i, 0, kT0, 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.extended_highest_sequence, 19u);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(s.packets(), 21u);  // packets() counts everything that arrived
}

TEST(ReceiveStats, TooLateIsIgnored) {
  ReceiveStats s(90000);
  for (std::uint16_t i = 0; i < 500; ++i) s.on_packet(i, 0, kT0, 1);
  // A.1: less than MAX_MISORDER behind is reordering, MAX_MISORDER or more is a jump back.
  s.on_packet(499 - (ReceiveStats::kMaxMisorder - 1), 0, kT0, 1);  // counted (a duplicate)
  s.on_packet(499 - ReceiveStats::kMaxMisorder, 0, kT0, 1);        // ignored
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.cumulative_lost, -1);
  EXPECT_EQ(b.extended_highest_sequence, 499u);
}

TEST(ReceiveStats, JumpWithinDropoutIsLoss) {
  ReceiveStats s(90000);
  s.on_packet(0, 0, kT0, 1);
  s.on_packet(ReceiveStats::kMaxDropout - 1, 0, kT0, 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.extended_highest_sequence, ReceiveStats::kMaxDropout - 1);
  EXPECT_EQ(b.cumulative_lost, static_cast<std::int32_t>(ReceiveStats::kMaxDropout - 2));
}

TEST(ReceiveStats, RestartAfterTwoSequentialPackets) {
  ReceiveStats s(90000);
  for (std::uint16_t i = 0; i < 10; ++i) s.on_packet(i, 0, kT0, 1);
  s.on_packet(50000, 0, kT0, 1);
  s.on_packet(50001, 0, kT0, 1);  // the sender restarted: counting starts over at 50001
  s.on_packet(50002, 0, kT0, 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.extended_highest_sequence, 50002u);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceiveStats, CumulativeLostClampsTo24Bits) {
  ReceiveStats s(90000);
  std::uint16_t seq = 0;
  for (int i = 0; i < 3000; ++i) {
    s.on_packet(seq, 0, kT0, 1);
    seq = static_cast<std::uint16_t>(seq + 2999);
  }
  EXPECT_GT(s.cumulative_lost(), 0x7FFFFF);
  EXPECT_EQ(s.make_report_block(1, kT0).cumulative_lost, 0x7FFFFF);

  ReceiveStats d(90000);
  for (int i = 0; i < 0x800002; ++i) d.on_packet(5, 0, kT0, 1);
  EXPECT_LT(d.cumulative_lost(), -0x800000);
  EXPECT_EQ(d.make_report_block(1, kT0).cumulative_lost, -0x800000);
}

TEST(ReceiveStats, JitterZeroForPerfectPacing) {
  ReceiveStats s(90000);
  for (std::uint32_t i = 0; i < 200; ++i) {
    s.on_packet(static_cast<std::uint16_t>(i), 123456u + 1800u * i, kT0 + milliseconds(20 * i), 1);
  }
  EXPECT_EQ(s.make_report_block(1, kT0).jitter, 0u);
}

TEST(ReceiveStats, JitterConvergesToDelayVariation) {
  ReceiveStats s(90000);
  // 20 ms frames, every other one 10 ms late: |D| = 900 ticks for every pair.
  for (std::uint32_t i = 0; i < 500; ++i) {
    const milliseconds extra(i % 2 == 0 ? 0 : 10);
    s.on_packet(static_cast<std::uint16_t>(i), 0xFFFF0000u + 1800u * i,  // ts wraps
                kT0 + milliseconds(20 * i) + extra, 1);
  }
  const std::uint32_t j = s.make_report_block(1, kT0).jitter;
  EXPECT_GE(j, 890u);
  EXPECT_LE(j, 900u);
}

TEST(ReceiveStats, JitterFirstStepIsOneSixteenth) {
  ReceiveStats s(8000);
  s.on_packet(0, 0, kT0, 1);
  s.on_packet(1, 160, kT0 + milliseconds(20 + 20), 1);  // 20 ms late: D = 160 ticks
  EXPECT_EQ(s.jitter(), 10u);                           // 160 / 16
}

TEST(ReceiveStats, RetransmissionsCountButDoNotMoveJitter) {
  ReceiveStats s(90000);
  s.on_packet(0, 0, kT0, 1);
  s.on_packet(2, 3600, kT0 + milliseconds(40), 1);
  s.on_packet(1, 1800, kT0 + milliseconds(400), 1, true);  // recovered via RTX, late
  s.on_packet(3, 5400, kT0 + milliseconds(60), 1);
  const rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.jitter, 0u);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(s.packets(), 4u);
}

TEST(ReceiveStats, LastSrAndDelay) {
  ReceiveStats s(90000);
  s.on_packet(0, 0, kT0, 1);
  rtc::ReportBlock b = s.make_report_block(1, kT0);
  EXPECT_EQ(b.last_sr, 0u);
  EXPECT_EQ(b.delay_since_last_sr, 0u);
  s.on_sender_report(0x0123456789ABCDEFull, kT0);
  b = s.make_report_block(1, kT0 + milliseconds(1500));
  EXPECT_EQ(b.last_sr, 0x456789ABu);
  EXPECT_EQ(b.delay_since_last_sr, 65536u * 3 / 2);
  // A report built before the SR's arrival time (caller clock quirk) says 0.
  b = s.make_report_block(1, kT0 - milliseconds(5));
  EXPECT_EQ(b.delay_since_last_sr, 0u);
  // A newer SR replaces it.
  s.on_sender_report(0x00000001'00020000ull, kT0 + milliseconds(2000));
  b = s.make_report_block(1, kT0 + milliseconds(2250));
  EXPECT_EQ(b.last_sr, 0x00010002u);
  EXPECT_EQ(b.delay_since_last_sr, 65536u / 4);
}

TEST(ReceiveStatsNtp, ToNtp) {
  using std::chrono::system_clock;
  const system_clock::time_point epoch{};
  EXPECT_EQ(to_ntp(epoch), 2208988800ull << 32);
  EXPECT_EQ(to_ntp(epoch + milliseconds(500)), (2208988800ull << 32) | 0x80000000u);
  EXPECT_EQ(to_ntp(epoch + std::chrono::microseconds(250000)) & 0xFFFFFFFFu, 0x40000000u);
  // 2024-01-01T00:00:00Z = 1704067200 Unix seconds.
  EXPECT_EQ(to_ntp(epoch + std::chrono::seconds(1704067200)) >> 32, 1704067200ull + 2208988800ull);
  // Before 1970 rounds the fraction down, not toward zero.
  EXPECT_EQ(to_ntp(epoch - milliseconds(500)), ((2208988800ull - 1) << 32) | 0x80000000u);
  EXPECT_EQ(compact_ntp(0x0123456789ABCDEFull), 0x456789ABu);
}

TEST(ReceiveStatsNtp, RoundTripTime) {
  const std::uint32_t lsr = 0x12340000;
  // Now is 1.5 s after the SR was sent; the peer held it for 1 s.
  const std::uint64_t now = std::uint64_t{lsr + 0x18000u} << 16;
  const auto rtt = round_trip_time(lsr, 0x10000, now);
  ASSERT_TRUE(rtt);
  EXPECT_EQ(rtt->count(), 500000);
  EXPECT_FALSE(round_trip_time(0, 0x10000, now));  // no SR at the peer
}

TEST(ReceiveStatsNtp, RoundTripTimeAcrossCompactWrap) {
  const std::uint32_t lsr = 0xFFFFF000u;
  const std::uint64_t now = std::uint64_t{0x00001000u} << 16;  // 0x2000 units later
  const auto rtt = round_trip_time(lsr, 0x1000, now);
  ASSERT_TRUE(rtt);
  EXPECT_EQ(rtt->count(), (0x1000ll * 1'000'000) >> 16);
}

TEST(ReceiveStatsNtp, RoundTripTimeNegative) {
  const std::uint32_t lsr = 0x10000000u;
  const std::uint64_t now = std::uint64_t{lsr + 100} << 16;
  // Within rounding: 0.
  auto rtt = round_trip_time(lsr, 103, now);
  ASSERT_TRUE(rtt);
  EXPECT_EQ(rtt->count(), 0);
  rtt = round_trip_time(lsr, 104, now);
  ASSERT_TRUE(rtt);
  EXPECT_EQ(rtt->count(), 0);
  // More than that: bogus.
  EXPECT_FALSE(round_trip_time(lsr, 105, now));
  EXPECT_FALSE(round_trip_time(lsr, 0x10000, now));
  // An LSR after now is not one of ours.
  EXPECT_FALSE(round_trip_time(lsr + 1000, 0, now));
}

TEST(RateMeter, EmptyIsZero) {
  const RateMeter m;
  EXPECT_EQ(m.bps(kT0), 0u);
}

TEST(RateMeter, SteadyRate) {
  RateMeter m;
  // 1250 bytes every 10 ms = 1 Mbit/s.
  Clock::time_point t = kT0;
  for (int i = 0; i < 300; ++i) {
    m.add(1250, t);
    t += milliseconds(10);
    if (i >= 10) {
      const std::uint64_t bps = m.bps(t - milliseconds(1));
      EXPECT_GT(bps, 950'000u) << i;
      EXPECT_LT(bps, 1'100'000u) << i;
    }
  }
}

TEST(RateMeter, DecaysAfterSilence) {
  RateMeter m;
  Clock::time_point t = kT0;
  for (int i = 0; i < 100; ++i, t += milliseconds(10)) m.add(1250, t);
  const std::uint64_t half = m.bps(t + milliseconds(500));
  EXPECT_GT(half, 400'000u);
  EXPECT_LT(half, 600'000u);
  EXPECT_EQ(m.bps(t + milliseconds(1000)), 0u);
  EXPECT_EQ(m.bps(t + std::chrono::hours(5)), 0u);
  // And comes back.
  m.add(1250, t + std::chrono::hours(5));
  EXPECT_GT(m.bps(t + std::chrono::hours(5) + milliseconds(30)), 0u);
}

TEST(RateMeter, ShortWindow) {
  RateMeter m(milliseconds(200));
  Clock::time_point t = kT0;
  for (int i = 0; i < 100; ++i, t += milliseconds(10)) m.add(125, t);  // 100 kbit/s
  const std::uint64_t bps = m.bps(t);
  EXPECT_GT(bps, 90'000u);
  EXPECT_LT(bps, 110'000u);
  EXPECT_EQ(m.bps(t + milliseconds(200)), 0u);
}

TEST(RateMeter, StartupUsesElapsedTime) {
  RateMeter m;
  m.add(1000, kT0);
  m.add(1000, kT0 + milliseconds(50));
  // 2000 bytes over 100 ms (two 50 ms buckets).
  EXPECT_EQ(m.bps(kT0 + milliseconds(100)), 160'000u);
  // Less than one bucket in: one bucket's worth of time.
  RateMeter n;
  n.add(1000, kT0);
  EXPECT_EQ(n.bps(kT0), 160'000u);
}

TEST(RateMeter, AddBeforeWindowIsIgnoredAndQueryBeforeStartIsZero) {
  RateMeter m;
  m.add(1000, kT0 + std::chrono::seconds(10));
  m.add(1000, kT0);  // time went back by more than the window: dropped
  EXPECT_EQ(m.bps(kT0 + std::chrono::seconds(10) + milliseconds(50)), 160'000u);
  EXPECT_EQ(m.bps(kT0), 0u);
}

}  // namespace
}  // namespace conclave::sfu
