// e2ee/media_keys: joiners, leavers, tampering, replays and old epochs (docs/e2ee.md).
#include "e2ee/media_keys.hpp"

#include <gtest/gtest.h>

namespace conclave::e2ee {
namespace {

using namespace std::chrono_literals;

Bytes vp8_key_frame(std::uint8_t fill) {
  Bytes f{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};  // tag, start code, 640x360
  f.resize(200, fill);
  return f;
}

Bytes send(SenderKey& s, const Bytes& frame) {
  Bytes out;
  EXPECT_TRUE(s.protect(frame, vp8_clear_prefix(frame), out));
  return out;
}

const auto t0 = Clock::time_point{} + 1000s;

TEST(MediaKeys, TheClearPrefixStaysReadableAndTheRestDoesNot) {
  SenderKey a(0xa1, Bytes(16, 1));
  const auto frame = vp8_key_frame(0x77);
  const auto wire = send(a, frame);
  ASSERT_EQ(vp8_clear_prefix(wire), 10u);
  EXPECT_TRUE(std::equal(frame.begin(), frame.begin() + 10, wire.begin()));
  EXPECT_EQ(std::search(wire.begin() + 10, wire.end(), frame.begin() + 10, frame.begin() + 30),
            wire.end());
  ReceiverKeys r;
  r.set(0xa1, 0, a.base_key());
  Bytes out;
  EXPECT_EQ(r.unprotect(wire, vp8_clear_prefix(wire), out, t0), FrameResult::kOk);
  EXPECT_EQ(out, frame);
}

TEST(MediaKeys, AJoinerCannotDecryptFramesFromBeforeItJoined) {
  SenderKey a(0xa1, Bytes(16, 1));
  ReceiverKeys old_member;
  old_member.set(0xa1, 0, a.base_key());
  const auto before = send(a, vp8_key_frame(1));
  // Someone joins: A ratchets and gives the joiner only the new key; the old member
  // ratchets on its own.
  a.ratchet();
  old_member.ratchet_all();
  ReceiverKeys joiner;
  joiner.set(0xa1, a.epoch(), a.base_key());
  Bytes out;
  EXPECT_EQ(joiner.unprotect(before, 10, out, t0), FrameResult::kOldEpoch);
  const auto after = send(a, vp8_key_frame(2));
  EXPECT_EQ(joiner.unprotect(after, 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(old_member.unprotect(after, 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(joiner.counts().old_epoch, 1u);
}

TEST(MediaKeys, ALeaverCannotDecryptFramesFromAfterItLeft) {
  SenderKey a(0xa1, Bytes(16, 1));
  ReceiverKeys stays, leaves;
  stays.set(0xa1, 0, a.base_key());
  leaves.set(0xa1, 0, a.base_key());
  a.rekey(Bytes(16, 0xee));  // fresh random, sent only to those who stay
  stays.set(0xa1, a.epoch(), a.base_key());
  const auto after = send(a, vp8_key_frame(3));
  Bytes out;
  EXPECT_EQ(leaves.unprotect(after, 10, out, t0), FrameResult::kNoKey);
  leaves.ratchet_all();  // not even ratcheting its old key helps
  EXPECT_EQ(leaves.unprotect(after, 10, out, t0), FrameResult::kAuthentication);
  EXPECT_EQ(stays.unprotect(after, 10, out, t0), FrameResult::kOk);
}

TEST(MediaKeys, ReceiversFollowJoinRatchetsAheadButNotRekeys) {
  SenderKey sender(9, Bytes(16, 4));
  ReceiverKeys receiver;
  receiver.set(9, 0, Bytes(16, 4));
  sender.ratchet();
  sender.ratchet();  // two joins the receiver has not heard of yet
  Bytes out;
  EXPECT_EQ(receiver.unprotect(send(sender, vp8_key_frame(1)), 10, out, t0), FrameResult::kOk);
  // A fresh key (a leave) cannot be derived: no key yet, until it arrives.
  sender.rekey(Bytes(16, 8));
  out.clear();
  EXPECT_EQ(receiver.unprotect(send(sender, vp8_key_frame(2)), 10, out, t0), FrameResult::kNoKey);
  receiver.set(9, sender.epoch(), sender.base_key());
  out.clear();
  EXPECT_EQ(receiver.unprotect(send(sender, vp8_key_frame(3)), 10, out, t0), FrameResult::kOk);
  // Too far ahead is not guessed at.
  for (int i = 0; i <= ReceiverKeys::kMaxEpochsAhead; ++i) sender.ratchet();
  out.clear();
  EXPECT_EQ(receiver.unprotect(send(sender, vp8_key_frame(4)), 10, out, t0), FrameResult::kNoKey);
}

TEST(MediaKeys, TamperingReplaysAndOldEpochsAreRefusedAndCounted) {
  SenderKey a(0xa1, Bytes(16, 1));
  ReceiverKeys r(2s);
  r.set(0xa1, 0, a.base_key());
  const auto wire = send(a, vp8_key_frame(4));
  Bytes out;
  auto body = wire;
  body[50] ^= 1;
  EXPECT_EQ(r.unprotect(body, 10, out, t0), FrameResult::kAuthentication);
  auto prefix = wire;
  prefix[6] ^= 1;  // another width in the clear prefix
  EXPECT_EQ(r.unprotect(prefix, 10, out, t0), FrameResult::kAuthentication);
  auto keybit = wire;
  keybit[0] |= 1;  // claims a delta frame: a 3-byte prefix, so the boundary moves and
                   // the SFrame header is read from the wrong place: refused either way
  EXPECT_NE(r.unprotect(keybit, vp8_clear_prefix(keybit), out, t0), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(wire, 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(wire, 10, out, t0), FrameResult::kReplay);
  // Out of order within the window is fine, once.
  const auto f1 = send(a, vp8_key_frame(5));
  const auto f2 = send(a, vp8_key_frame(6));
  EXPECT_EQ(r.unprotect(f2, 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(f1, 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(f1, 10, out, t0), FrameResult::kReplay);

  // A new epoch: the previous one is good for the grace period after its first frame.
  const auto late = send(a, vp8_key_frame(7));
  a.ratchet();
  r.ratchet_all();
  EXPECT_EQ(r.unprotect(send(a, vp8_key_frame(8)), 10, out, t0), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(late, 10, out, t0 + 1s), FrameResult::kOk);
  const auto later = send(a, vp8_key_frame(9));
  a.ratchet();
  r.ratchet_all();
  EXPECT_EQ(r.unprotect(send(a, vp8_key_frame(10)), 10, out, t0 + 2s), FrameResult::kOk);
  EXPECT_EQ(r.unprotect(later, 10, out, t0 + 5s), FrameResult::kOldEpoch);

  const auto& c = r.counts();
  EXPECT_EQ(c.authentication + c.no_key + c.malformed, 3u);
  EXPECT_EQ(c.replay, 2u);
  EXPECT_EQ(c.old_epoch, 1u);
  EXPECT_EQ(r.unprotect(Bytes{}, 0, out, t0), FrameResult::kMalformed);
}

}  // namespace
}  // namespace conclave::e2ee
