// Tests of sfu/rtp_rewriter: sequence number, timestamp, picture id and TL0PICIDX
// continuity across simulcast switches and publisher restarts, wraparound of input and
// output, reordering, duplicates and skips, and randomised properties of in-order input.
#include "sfu/rtp_rewriter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "rtc/rtp.hpp"

namespace conclave::sfu {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

RewriteInput packet(std::uint32_t source, std::uint16_t seq, std::uint32_t ts,
                    milliseconds at = milliseconds(0)) {
  RewriteInput in;
  in.source = source;
  in.sequence_number = seq;
  in.timestamp = ts;
  in.arrival = kT0 + at;
  return in;
}

RewriteInput vp8_packet(std::uint32_t source, std::uint16_t seq, std::uint32_t ts,
                        std::uint16_t pid, std::uint8_t tl0, milliseconds at = milliseconds(0),
                        bool pid_15bit = true) {
  RewriteInput in = packet(source, seq, ts, at);
  in.has_picture_id = true;
  in.picture_id = pid;
  in.picture_id_15bit = pid_15bit;
  in.has_tl0_pic_idx = true;
  in.tl0_pic_idx = tl0;
  return in;
}

std::uint16_t seq_of(const std::optional<RewriteOutput>& out) {
  EXPECT_TRUE(out);
  return out ? out->sequence_number : 0;
}

TEST(RewriterBasics, FirstPacketStartsAtInitialValues) {
  RtpRewriter r(1000, 5000);
  EXPECT_FALSE(r.started());
  const auto out = r.rewrite(packet(1, 40000, 123456));
  ASSERT_TRUE(out);
  EXPECT_TRUE(r.started());
  EXPECT_EQ(out->sequence_number, 1000);
  EXPECT_EQ(out->timestamp, 5000u);
  EXPECT_EQ(out->picture_id, 0);
  EXPECT_EQ(out->tl0_pic_idx, 0);
  EXPECT_EQ(r.last_sequence_number(), 1000);
  EXPECT_EQ(r.last_timestamp(), 5000u);
  EXPECT_EQ(r.source(), 1u);
}

TEST(RewriterBasics, OffsetsStayConstantWithinSource) {
  RtpRewriter r(10, 100);
  ASSERT_TRUE(r.rewrite(packet(1, 500, 9000)));
  for (std::uint16_t i = 1; i < 50; ++i) {
    const auto out = r.rewrite(packet(1, static_cast<std::uint16_t>(500 + i), 9000 + 3000u * i));
    ASSERT_TRUE(out);
    EXPECT_EQ(out->sequence_number, 10 + i);
    EXPECT_EQ(out->timestamp, 100 + 3000u * i);
  }
  EXPECT_EQ(r.last_sequence_number(), 59);
}

TEST(RewriterBasics, FirstPictureIdAndTl0PassThrough) {
  RtpRewriter r(0, 0);
  const auto out = r.rewrite(vp8_packet(1, 7, 0, 0x1234, 0x56));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0x1234);
  EXPECT_EQ(out->tl0_pic_idx, 0x56);
}

TEST(RewriterWrap, IncomingSequenceWraps) {
  RtpRewriter r(100, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 65534, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 65535, 0))), 101);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 0, 0))), 102);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 1, 0))), 103);
}

TEST(RewriterWrap, OutgoingSequenceWraps) {
  RtpRewriter r(65534, 0);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 10, 0))), 65534);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 11, 0))), 65535);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 12, 0))), 0);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 1);
}

TEST(RewriterWrap, TimestampWrapsInAndOut) {
  RtpRewriter r(0, 0xFFFFFF00u);
  auto out = r.rewrite(packet(1, 1, 0xFFFFFFF0u));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, 0xFFFFFF00u);
  out = r.rewrite(packet(1, 2, 0x00000100u));  // input wrapped, +0x110
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, 0x00000010u);  // output wrapped too
}

TEST(RewriterWrap, SwitchAcrossBothWraps) {
  RtpRewriter r(65535, 0xFFFFFFFFu);
  ASSERT_TRUE(r.rewrite(packet(1, 65535, 0xFFFFFFFFu, milliseconds(0))));
  // Switch 10 ms later to a source that has just wrapped its own counters.
  const auto out = r.rewrite(packet(2, 0, 5, milliseconds(10)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence_number, 0);
  EXPECT_EQ(out->timestamp, 0xFFFFFFFFu + 900u);  // wraps to 899
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 1, 3005, milliseconds(43)))), 1);
  EXPECT_EQ(r.last_timestamp(), 899u + 3000u);
}

TEST(RewriterSwitch, ContinuesSequenceAndTimestamp) {
  RtpRewriter r(1000, 50000);
  for (std::uint16_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        r.rewrite(packet(1, static_cast<std::uint16_t>(200 + i), 3000u * i, milliseconds(33 * i))));
  }
  EXPECT_EQ(r.last_sequence_number(), 1004);
  EXPECT_EQ(r.last_timestamp(), 50000u + 12000u);
  // Source 2 is far away in both; its first packet arrives 100 ms after the last one sent.
  const auto out = r.rewrite(packet(2, 60000, 4'000'000'000u, milliseconds(132 + 100)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence_number, 1005);
  EXPECT_EQ(out->timestamp, 50000u + 12000u + 9000u);
  EXPECT_EQ(r.source(), 2u);
  // Later packets keep the new offsets.
  const auto next = r.rewrite(packet(2, 60001, 4'000'003'000u, milliseconds(265)));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->sequence_number, 1006);
  EXPECT_EQ(next->timestamp, 50000u + 12000u + 9000u + 3000u);
}

TEST(RewriterSwitch, TimestampStepIsAtLeastOne) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 1, 100, milliseconds(50))));
  // Same instant, and an arrival that is earlier than the last one (a caller's clock quirk).
  auto out = r.rewrite(packet(2, 9, 7, milliseconds(50)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, 1u);
  out = r.rewrite(packet(3, 9, 7, milliseconds(10)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, 2u);
}

TEST(RewriterSwitch, TimestampStepUsesClockRate) {
  RtpRewriter r(0, 0);
  RewriteInput a = packet(1, 1, 0, milliseconds(0));
  a.clock_rate = 48000;
  ASSERT_TRUE(r.rewrite(a));
  RewriteInput b = packet(2, 1, 0, milliseconds(20));
  b.clock_rate = 48000;
  const auto out = r.rewrite(b);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, 960u);
}

TEST(RewriterSwitch, LongPauseIsCapped) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 1, 0, milliseconds(0))));
  const auto out = r.rewrite(packet(2, 1, 0, std::chrono::hours(24 * 400)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->timestamp, RtpRewriter::kMaxTimestampJump);
  // One day at 90 kHz is above the cap too.
  RtpRewriter q(0, 0);
  ASSERT_TRUE(q.rewrite(packet(1, 1, 0, milliseconds(0))));
  const auto day = q.rewrite(packet(2, 1, 0, std::chrono::hours(24)));
  ASSERT_TRUE(day);
  EXPECT_EQ(day->timestamp, RtpRewriter::kMaxTimestampJump);
  // Ten seconds is not.
  RtpRewriter s(0, 0);
  ASSERT_TRUE(s.rewrite(packet(1, 1, 0, milliseconds(0))));
  const auto ten = s.rewrite(packet(2, 1, 0, std::chrono::seconds(10)));
  ASSERT_TRUE(ten);
  EXPECT_EQ(ten->timestamp, 900000u);
}

TEST(RewriterSwitch, OldSourceDroppedAfterSwitch) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  ASSERT_TRUE(r.rewrite(packet(2, 500, 0)));
  // A straggler of source 1 would be taken as a switch back by rewrite(); callers filter
  // by source before calling. skip() of it does nothing.
  r.skip(packet(1, 11, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 501, 0))), 2);
}

TEST(RewriterSwitch, PacketsOlderThanSwitchPointAreDropped) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  ASSERT_TRUE(r.rewrite(packet(1, 11, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 500, 0))), 2);
  EXPECT_FALSE(r.rewrite(packet(2, 499, 0)));  // before the key frame we switched at
  EXPECT_FALSE(r.rewrite(packet(2, 400, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 501, 0))), 3);
  EXPECT_FALSE(r.rewrite(packet(2, 499, 0)));
}

TEST(RewriterSwitch, SwitchPointOlderCheckAcrossWrap) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 0, 0))), 1);
  EXPECT_FALSE(r.rewrite(packet(2, 65535, 0)));  // just before the switch point, wrapped
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 1, 0))), 2);
}

TEST(RewriterSwitch, SwitchBackToEarlierSource) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0, milliseconds(0))));
  ASSERT_TRUE(r.rewrite(packet(1, 11, 0, milliseconds(10))));
  ASSERT_TRUE(r.rewrite(packet(2, 90, 0, milliseconds(20))));
  ASSERT_TRUE(r.rewrite(packet(2, 91, 0, milliseconds(30))));
  // Back to 1 at its key frame 20: 12..19 were never sent to this subscriber.
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 20, 0, milliseconds(40)))), 4);
  EXPECT_FALSE(r.rewrite(packet(1, 19, 0, milliseconds(41))));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 21, 0, milliseconds(42)))), 5);
}

TEST(RewriterSwitch, PublisherRestartSameLayerNewSsrc) {
  RtpRewriter r(300, 1000);
  for (std::uint16_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(r.rewrite(vp8_packet(0xAAAA, static_cast<std::uint16_t>(30000 + i), 90000u * i,
                                     static_cast<std::uint16_t>(5000 + i),
                                     static_cast<std::uint8_t>(40 + i), milliseconds(33 * i))));
  }
  // The publisher restarted: new SSRC, sequence and timestamp reset, picture ids from 0.
  const auto out = r.rewrite(vp8_packet(0xBBBB, 0, 0, 0, 0, milliseconds(66 + 500)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence_number, 303);
  EXPECT_EQ(out->timestamp, 1000u + 180000u + 45000u);
  EXPECT_EQ(out->picture_id, 5003);
  EXPECT_EQ(out->tl0_pic_idx, 43);
}

TEST(RewriterPictureId, ContinuityAcrossSwitch) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 10, 0, 100, 7)));
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 11, 0, 100, 7)));  // same picture, second packet
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 12, 3000, 101, 7)));
  // Layer switch: the other layer's ids are unrelated.
  auto out = r.rewrite(vp8_packet(2, 900, 5000, 20000, 200, milliseconds(33)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 102);
  EXPECT_EQ(out->tl0_pic_idx, 8);
  out = r.rewrite(vp8_packet(2, 901, 8000, 20001, 201, milliseconds(66)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 103);
  EXPECT_EQ(out->tl0_pic_idx, 9);
}

TEST(RewriterPictureId, FifteenBitWrap) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 1, 0, 0x7FFE, 255)));
  auto out = r.rewrite(vp8_packet(1, 2, 0, 0x7FFF, 255));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0x7FFF);
  // Switch: last + 1 wraps to 0; TL0PICIDX wraps at 256.
  out = r.rewrite(vp8_packet(2, 50, 0, 0x1000, 3, milliseconds(1)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0);
  EXPECT_EQ(out->tl0_pic_idx, 0);
  // The incoming ids wrap while the offset is not zero.
  RtpRewriter q(0, 0);
  ASSERT_TRUE(q.rewrite(vp8_packet(1, 1, 0, 10, 0)));
  ASSERT_TRUE(q.rewrite(vp8_packet(2, 1, 0, 0x7FFF, 0, milliseconds(1))));  // → 11
  out = q.rewrite(vp8_packet(2, 2, 0, 0, 0, milliseconds(2)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 12);
}

TEST(RewriterPictureId, SevenBitSourceStaysSevenBit) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 1, 0, 0x1234, 0)));
  auto out = r.rewrite(vp8_packet(2, 1, 0, 126, 0, milliseconds(1), false));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0x1235 & 0x7F);
  out = r.rewrite(vp8_packet(2, 2, 0, 127, 0, milliseconds(2), false));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0x1236 & 0x7F);
  out = r.rewrite(vp8_packet(2, 3, 0, 0, 0, milliseconds(3), false));  // incoming wraps at 128
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 0x1237 & 0x7F);
}

TEST(RewriterPictureId, SourceWithoutPictureIdInBetween) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 1, 0, 500, 9)));
  // A source without the fields (say, a codec without them) leaves them alone...
  ASSERT_TRUE(r.rewrite(packet(2, 1, 0, milliseconds(1))));
  // ...and the next source with them continues from the last ones sent.
  const auto out = r.rewrite(vp8_packet(3, 1, 0, 7, 7, milliseconds(2)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->picture_id, 501);
  EXPECT_EQ(out->tl0_pic_idx, 10);
}

TEST(RewriterReorder, LatePacketGetsItsEarlierNumber) {
  RtpRewriter r(100, 0);
  ASSERT_TRUE(r.rewrite(vp8_packet(1, 10, 0, 1, 1)));
  EXPECT_EQ(seq_of(r.rewrite(vp8_packet(1, 13, 6000, 3, 1))), 103);  // 11, 12 late
  const auto late = r.rewrite(vp8_packet(1, 11, 3000, 2, 1));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->sequence_number, 101);
  EXPECT_EQ(late->timestamp, 3000u);
  EXPECT_EQ(late->picture_id, 2);
  EXPECT_EQ(seq_of(r.rewrite(vp8_packet(1, 12, 3000, 2, 1))), 102);
  // Late packets do not move what "last" means.
  EXPECT_EQ(r.last_sequence_number(), 103);
  EXPECT_EQ(r.last_timestamp(), 6000u);
}

TEST(RewriterReorder, LateAcrossIncomingWrap) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 65534, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 1, 0))), 3);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 65535, 0))), 1);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 0, 0))), 2);
}

TEST(RewriterReorder, LateAfterSwitchOnlyIfNewerThanSwitchPoint) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 7, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 100, 0))), 1);
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 103, 0))), 4);
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 102, 0))), 3);
  EXPECT_EQ(seq_of(r.rewrite(packet(2, 101, 0))), 2);
  EXPECT_FALSE(r.rewrite(packet(2, 99, 0)));
}

TEST(RewriterReorder, DuplicatesAreDropped) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  ASSERT_TRUE(r.rewrite(packet(1, 12, 0)));
  EXPECT_FALSE(r.rewrite(packet(1, 12, 0)));  // the newest again
  EXPECT_FALSE(r.rewrite(packet(1, 10, 0)));  // the switch point again
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 11, 0))), 1);
  EXPECT_FALSE(r.rewrite(packet(1, 11, 0)));  // a late packet again
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 3);
}

TEST(RewriterReorder, FarBehindIsDropped) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 0, 0)));
  // Jump ahead by more than the window; 1..1499 are holes.
  ASSERT_TRUE(r.rewrite(packet(1, 1500, 0)));
  EXPECT_FALSE(r.rewrite(packet(1, 1500 - RtpRewriter::kWindow, 0)));
  EXPECT_FALSE(r.rewrite(packet(1, 3, 0)));
  const auto in_window = r.rewrite(packet(1, 1500 - RtpRewriter::kWindow + 1, 0));
  ASSERT_TRUE(in_window);
  EXPECT_EQ(in_window->sequence_number, 1500 - RtpRewriter::kWindow + 1);
}

TEST(RewriterReorder, WindowSlotsAreClearedWhenReused) {
  RtpRewriter r(0, 0);
  // Forward 0..2047 in order: every window slot is used twice.
  for (std::uint32_t s = 0; s < 2048; ++s) {
    ASSERT_TRUE(r.rewrite(packet(1, static_cast<std::uint16_t>(s), 0))) << s;
  }
  // 2049 arrives before 2048; 2048 must not look like a duplicate of 1024 or 0.
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 2049, 0))), 2049);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 2048, 0))), 2048);
}

TEST(RewriterSkip, SkipNewestClosesGap) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  r.skip(packet(1, 11, 0));  // padding
  r.skip(packet(1, 12, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 1);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 14, 0))), 2);
  EXPECT_EQ(r.last_sequence_number(), 2);
}

TEST(RewriterSkip, SkippedPacketIsNotForwardedLater) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  r.skip(packet(1, 11, 0));
  EXPECT_FALSE(r.rewrite(packet(1, 11, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 12, 0))), 1);
}

TEST(RewriterSkip, LatePacketBeforeSkipKeepsItsNumber) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));  // 0
  // 11 is late; 12 is skipped; 13 and 14 follow.
  r.skip(packet(1, 12, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 2);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 14, 0))), 3);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 11, 0))), 1);  // fills exactly the hole it left
}

TEST(RewriterSkip, LatePacketBetweenSkips) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 100, 0)));  // 0
  r.skip(packet(1, 101, 0));
  // 102 late
  r.skip(packet(1, 103, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 105, 0))), 3);  // 104 late
  r.skip(packet(1, 106, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 107, 0))), 4);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 104, 0))), 2);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 102, 0))), 1);
}

TEST(RewriterSkip, SkipAheadLeavesLossHoles) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));  // 0
  r.skip(packet(1, 13, 0));                  // 11 and 12 lost (so far)
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 14, 0))), 3);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 12, 0))), 2);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 11, 0))), 1);
}

TEST(RewriterSkip, LateSkipLeavesHoleAndBlocksDuplicate) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 0)));
  ASSERT_TRUE(r.rewrite(packet(1, 12, 0)));  // 2
  r.skip(packet(1, 11, 0));                  // too late to close: 1 stays a hole
  EXPECT_FALSE(r.rewrite(packet(1, 11, 0)));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 3);
}

TEST(RewriterSkip, IgnoredWhenNotApplicable) {
  RtpRewriter r(5, 0);
  r.skip(packet(1, 10, 0));  // not started
  EXPECT_FALSE(r.started());
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 10, 0))), 5);
  r.skip(packet(1, 10, 0));  // already forwarded
  r.skip(packet(1, 9, 0));   // older than the switch point
  r.skip(packet(2, 11, 0));  // another source
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 11, 0))), 6);
  r.skip(packet(1, 12, 0));
  r.skip(packet(1, 12, 0));  // skipped twice counts once
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 13, 0))), 7);
}

TEST(RewriterSkip, SkipThenSwitch) {
  RtpRewriter r(0, 0);
  ASSERT_TRUE(r.rewrite(packet(1, 10, 100, milliseconds(0))));
  r.skip(packet(1, 11, 100, milliseconds(5)));
  const auto out = r.rewrite(packet(2, 70, 0, milliseconds(10)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence_number, 1);
  EXPECT_EQ(out->timestamp, 900u);  // 10 ms after the last *forwarded* packet
}

TEST(RewriterSkip, SkipAcrossOutgoingWrap) {
  RtpRewriter r(65535, 0);
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 65534, 0))), 65535);
  r.skip(packet(1, 65535, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 0, 0))), 0);
  r.skip(packet(1, 1, 0));
  EXPECT_EQ(seq_of(r.rewrite(packet(1, 2, 0))), 1);
}

// In-order input with switches at random points, random skips and random starting
// points for every source: the output sequence numbers never have a gap and never repeat,
// output timestamps move forward across a switch, and picture ids continue.
TEST(RewriterProperty, NoGapWithInOrderInput) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 50; ++round) {
    const auto initial = static_cast<std::uint16_t>(rng());
    RtpRewriter r(initial, static_cast<std::uint32_t>(rng()));
    std::uint32_t source = 1;
    auto seq = static_cast<std::uint16_t>(rng());
    auto ts = static_cast<std::uint32_t>(rng());
    auto pid = static_cast<std::uint16_t>(rng() & 0x7FFF);
    milliseconds now(0);
    std::uint16_t expected = initial;
    std::optional<RewriteOutput> last;
    std::uint16_t last_in_pid = pid;
    for (int i = 0; i < 3000; ++i) {
      now += milliseconds(rng() % 20);
      const bool switching = last && rng() % 200 == 0;
      if (switching) {
        ++source;
        seq = static_cast<std::uint16_t>(rng());
        ts = static_cast<std::uint32_t>(rng());
        pid = static_cast<std::uint16_t>(rng() & 0x7FFF);
      }
      const RewriteInput in = vp8_packet(source, seq, ts, pid, 0, now);
      if (last && !switching && rng() % 10 == 0) {
        r.skip(in);
      } else {
        const auto out = r.rewrite(in);
        ASSERT_TRUE(out) << "round " << round << " packet " << i;
        EXPECT_EQ(out->sequence_number, expected) << "round " << round << " packet " << i;
        if (last) {
          const std::uint32_t ts_step = out->timestamp - last->timestamp;
          const auto pid_step =
              static_cast<std::uint16_t>((out->picture_id - last->picture_id) & 0x7FFF);
          if (switching) {
            EXPECT_GE(ts_step, 1u);
            EXPECT_LT(ts_step, 0x80000000u);
            EXPECT_EQ(pid_step, 1);
          } else {
            EXPECT_EQ(pid_step, static_cast<std::uint16_t>((pid - last_in_pid) & 0x7FFF));
          }
        }
        last = out;
        last_in_pid = pid;
        ++expected;
        EXPECT_EQ(r.last_sequence_number(), out->sequence_number);
        EXPECT_EQ(r.last_timestamp(), out->timestamp);
      }
      ++seq;
      ts += 3000;
      if (rng() % 3 == 0) pid = static_cast<std::uint16_t>((pid + 1) & 0x7FFF);
    }
  }
}

// One source, packets shuffled within a small window, with duplicates and skips. Reference
// model: a forwarded packet s gets first_out + (s - first_in) - (skips of newest packets
// before s); a packet is forwarded once; output numbers are unique.
TEST(RewriterProperty, ReorderingMatchesModel) {
  std::mt19937 rng(99);
  for (int round = 0; round < 50; ++round) {
    const auto first_in = static_cast<std::uint16_t>(rng());
    const auto first_out = static_cast<std::uint16_t>(rng());
    RtpRewriter r(first_out, 0);
    constexpr int kCount = 2000;
    // Arrival order: 0 first (the switch point), then each packet displaced by up to 8.
    std::vector<int> order(kCount);
    for (int i = 0; i < kCount; ++i) order[static_cast<std::size_t>(i)] = i;
    for (int i = 1; i + 1 < kCount; ++i) {
      const int j = std::min(kCount - 1, i + static_cast<int>(rng() % 8));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    }
    std::vector<int> arrivals;
    for (int i : order) {
      arrivals.push_back(i);
      if (rng() % 20 == 0) arrivals.push_back(i);  // duplicate
    }
    std::vector<bool> skipped_as_newest(kCount, false);
    std::vector<bool> seen(kCount, false);
    std::vector<bool> out_used(65536, false);
    int highest = -1;
    for (int idx : arrivals) {
      const RewriteInput in =
          packet(1, static_cast<std::uint16_t>(first_in + idx), static_cast<std::uint32_t>(idx));
      const bool first_time = !seen[static_cast<std::size_t>(idx)];
      seen[static_cast<std::size_t>(idx)] = true;
      if (idx != 0 && first_time && rng() % 7 == 0) {
        if (idx > highest) skipped_as_newest[static_cast<std::size_t>(idx)] = true;
        r.skip(in);
        highest = std::max(highest, idx);
        continue;
      }
      const auto out = r.rewrite(in);
      if (!first_time) {
        EXPECT_FALSE(out) << idx;
        continue;
      }
      highest = std::max(highest, idx);
      ASSERT_TRUE(out) << idx;
      int skips_before = 0;
      for (int t = 0; t < idx; ++t) skips_before += skipped_as_newest[static_cast<std::size_t>(t)];
      EXPECT_EQ(out->sequence_number, static_cast<std::uint16_t>(first_out + idx - skips_before))
          << "round " << round << " idx " << idx;
      EXPECT_FALSE(out_used[out->sequence_number]);
      out_used[out->sequence_number] = true;
    }
  }
}

}  // namespace
}  // namespace conclave::sfu
