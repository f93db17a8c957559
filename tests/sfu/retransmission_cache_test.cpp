// Tests of sfu/retransmission_cache: the incoming packet cache (slots, age, unwrapped
// sequence numbers, late and oversized packets), the sent packet log and its resend rule,
// and the key frame request throttle.
#include "sfu/retransmission_cache.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace conclave::sfu {
namespace {

using std::chrono::milliseconds;
using Bytes = std::vector<std::uint8_t>;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

Bytes payload(std::uint16_t seq, std::size_t size = 100) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(seq + i);
  return b;
}

bool holds(const PacketCache& cache, std::uint16_t seq, const Bytes& expected,
           Clock::time_point now = kT0) {
  const auto got = cache.get(seq, now);
  return got && Bytes(got->begin(), got->end()) == expected;
}

TEST(PacketCache, StoresAndReturnsCopies) {
  PacketCache cache(8);
  Bytes p = payload(5);
  cache.store(5, p, kT0);
  p[0] ^= 0xFF;  // the receive buffer is reused; the cache kept its own copy
  EXPECT_TRUE(holds(cache, 5, payload(5)));
  EXPECT_FALSE(cache.get(6, kT0));
  EXPECT_FALSE(cache.get(4, kT0));
}

TEST(PacketCache, EmptyCacheHasNothing) {
  const PacketCache cache(8);
  EXPECT_FALSE(cache.get(0, kT0));
  EXPECT_FALSE(cache.get(12345, kT0));
}

TEST(PacketCache, SlotsRoundUpToPowerOfTwo) {
  EXPECT_EQ(PacketCache(500).slots(), 512u);
  EXPECT_EQ(PacketCache(512).slots(), 512u);
  EXPECT_EQ(PacketCache(1).slots(), 1u);
  EXPECT_EQ(PacketCache(0).slots(), 1u);
  EXPECT_EQ(PacketCache(100000).slots(), PacketCache::kMaxSlots);
}

TEST(PacketCache, OverwrittenSlotNoLongerAnswers) {
  PacketCache cache(4);
  for (std::uint16_t s = 0; s < 6; ++s) cache.store(s, payload(s), kT0);
  EXPECT_FALSE(cache.get(0, kT0));
  EXPECT_FALSE(cache.get(1, kT0));
  for (std::uint16_t s = 2; s < 6; ++s) EXPECT_TRUE(holds(cache, s, payload(s))) << s;
}

TEST(PacketCache, MaxAge) {
  PacketCache cache(8, milliseconds(1000));
  cache.store(1, payload(1), kT0);
  EXPECT_TRUE(holds(cache, 1, payload(1), kT0 + milliseconds(999)));
  EXPECT_FALSE(cache.get(1, kT0 + milliseconds(1000)));
  EXPECT_FALSE(cache.get(1, kT0 + milliseconds(5000)));
}

TEST(PacketCache, OversizedAndEmptyPacketsAreNotStored) {
  PacketCache cache(8);
  cache.store(1, payload(1, PacketCache::kMaxPacketSize), kT0);
  EXPECT_TRUE(holds(cache, 1, payload(1, PacketCache::kMaxPacketSize)));
  cache.store(2, payload(2, PacketCache::kMaxPacketSize + 1), kT0);
  EXPECT_FALSE(cache.get(2, kT0));
  // An oversized packet does not evict the one in its slot either.
  cache.store(9, payload(9, PacketCache::kMaxPacketSize + 1), kT0);
  EXPECT_TRUE(holds(cache, 1, payload(1, PacketCache::kMaxPacketSize)));
  cache.store(3, {}, kT0);
  EXPECT_FALSE(cache.get(3, kT0));
}

TEST(PacketCache, SequenceWraps) {
  PacketCache cache(16);
  for (std::uint32_t s = 65530; s < 65546; ++s) {
    const auto seq = static_cast<std::uint16_t>(s);
    cache.store(seq, payload(seq), kT0);
  }
  for (std::uint32_t s = 65530; s < 65546; ++s) {
    const auto seq = static_cast<std::uint16_t>(s);
    EXPECT_TRUE(holds(cache, seq, payload(seq))) << s;
  }
}

TEST(PacketCache, EntryFrom65536AgoNeverMatches) {
  PacketCache cache(4, std::chrono::hours(1));
  cache.store(100, payload(100), kT0);  // slot 0
  // The stream moves a whole cycle on, in steps shorter than half the circle, and none of
  // the packets that reach the cache lands in slot 0.
  cache.store(20001, payload(1), kT0);
  cache.store(40001, payload(2), kT0);
  cache.store(60001, payload(3), kT0);
  cache.store(97, payload(4), kT0);  // 65633 unwrapped
  // Seq 100 now means 65636; slot 0 still holds the 100 of the previous cycle.
  EXPECT_FALSE(cache.get(100, kT0));
  EXPECT_TRUE(holds(cache, 97, payload(4)));
}

TEST(PacketCache, NumberNotYetArrivedDoesNotMatchOldCycle) {
  // A NACK for the number just after the newest one (not received yet) must not be
  // answered with the packet of that number one cycle earlier.
  PacketCache cache(8, std::chrono::hours(1));
  cache.store(10, payload(10), kT0);
  cache.store(20000, payload(1), kT0);
  cache.store(40000, payload(2), kT0);
  cache.store(60000, payload(3), kT0);
  cache.store(9, payload(4), kT0);  // 65545 unwrapped: 10 is now one ahead of it
  EXPECT_FALSE(cache.get(10, kT0));
  EXPECT_TRUE(holds(cache, 9, payload(4)));
}

TEST(PacketCache, LatePacketStoredIfSlotNotNewer) {
  PacketCache cache(8);
  cache.store(10, payload(10), kT0);
  cache.store(12, payload(12), kT0);
  cache.store(11, payload(11), kT0);  // late, its slot was empty
  EXPECT_TRUE(holds(cache, 11, payload(11)));
  // 20 takes slot 4 (= 12 mod 8); a very late 12 must not evict it.
  cache.store(20, payload(20), kT0);
  cache.store(12, payload(12), kT0);
  EXPECT_TRUE(holds(cache, 20, payload(20)));
  EXPECT_FALSE(cache.get(12, kT0));
  // Out of reach of the window: not stored at all.
  cache.store(5, payload(5), kT0);
  EXPECT_FALSE(cache.get(5, kT0));
}

TEST(PacketCache, DuplicateOverwritesWithLatest) {
  PacketCache cache(8);
  cache.store(3, payload(3), kT0);
  cache.store(3, payload(4), kT0 + milliseconds(10));
  EXPECT_TRUE(holds(cache, 3, payload(4)));
}

TEST(PacketCache, Clear) {
  PacketCache cache(8);
  cache.store(3, payload(3), kT0);
  cache.clear();
  EXPECT_FALSE(cache.get(3, kT0));
  // After a clear the next stream starts from scratch, anywhere on the circle.
  cache.store(40000, payload(1), kT0);
  EXPECT_TRUE(holds(cache, 40000, payload(1)));
}

TEST(PacketCache, RandomisedAgainstModel) {
  std::mt19937 rng(7);
  PacketCache cache(64, std::chrono::hours(1));
  std::uint16_t next = static_cast<std::uint16_t>(rng());
  std::vector<std::pair<std::uint16_t, Bytes>> recent;  // last 64 numbers, in order
  for (int i = 0; i < 20000; ++i) {
    const Bytes p = payload(next, 1 + rng() % 200);
    cache.store(next, p, kT0);
    recent.emplace_back(next, p);
    if (recent.size() > 64) recent.erase(recent.begin());
    ++next;
    if (i % 97 == 0) {
      for (const auto& [s, b] : recent) ASSERT_TRUE(holds(cache, s, b)) << s;
      EXPECT_FALSE(cache.get(static_cast<std::uint16_t>(recent.front().first - 1), kT0));
      EXPECT_FALSE(cache.get(next, kT0));
    }
  }
}

SentPacket sent(std::uint16_t out_seq, std::uint16_t in_seq = 0, std::uint8_t layer = 0) {
  SentPacket p;
  p.out_seq = out_seq;
  p.out_timestamp = 1000u + out_seq;
  p.layer = layer;
  p.in_seq = in_seq;
  p.out_picture_id = 77;
  p.out_tl0_pic_idx = 5;
  p.marker = true;
  p.sent = kT0;
  return p;
}

TEST(SentLog, RecordAndFind) {
  SentPacketLog log(16);
  log.record(sent(100, 5000, 2));
  SentPacket* p = log.find(100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->out_seq, 100);
  EXPECT_EQ(p->in_seq, 5000);
  EXPECT_EQ(p->layer, 2);
  EXPECT_EQ(p->out_timestamp, 1100u);
  EXPECT_EQ(p->out_picture_id, 77);
  EXPECT_EQ(p->out_tl0_pic_idx, 5);
  EXPECT_TRUE(p->marker);
  EXPECT_EQ(log.find(101), nullptr);
  EXPECT_EQ(log.find(99), nullptr);
}

TEST(SentLog, EmptyAndSlots) {
  SentPacketLog log(1000);
  EXPECT_EQ(log.slots(), 1024u);
  EXPECT_EQ(log.find(0), nullptr);
}

TEST(SentLog, RecordResetsResendState) {
  SentPacketLog log(16);
  SentPacket p = sent(1);
  p.resends = 5;
  p.last_resent = kT0;
  log.record(p);
  EXPECT_EQ(log.find(1)->resends, 0);
  EXPECT_EQ(log.find(1)->last_resent, Clock::time_point{});
}

TEST(SentLog, OverwrittenReturnsNull) {
  SentPacketLog log(16);
  for (std::uint16_t s = 0; s < 20; ++s) log.record(sent(s));
  for (std::uint16_t s = 0; s < 4; ++s) EXPECT_EQ(log.find(s), nullptr) << s;
  for (std::uint16_t s = 4; s < 20; ++s) ASSERT_NE(log.find(s), nullptr) << s;
}

TEST(SentLog, WrapsAndNeverMatchesACycleAgo) {
  SentPacketLog log(16);
  for (std::uint32_t s = 65530; s < 65540; ++s) log.record(sent(static_cast<std::uint16_t>(s)));
  for (std::uint32_t s = 65530; s < 65540; ++s) {
    SentPacket* p = log.find(static_cast<std::uint16_t>(s));
    ASSERT_NE(p, nullptr) << s;
    EXPECT_EQ(p->out_seq, static_cast<std::uint16_t>(s));
  }
  // Walk a full cycle on in big steps; slot 3 (65539) is untouched by them.
  log.record(sent(20000));
  log.record(sent(40000));
  log.record(sent(60000));
  log.record(sent(2));              // 65538 + 65536 unwrapped
  EXPECT_EQ(log.find(3), nullptr);  // the 3 in slot 3 is a cycle old
  ASSERT_NE(log.find(2), nullptr);
}

TEST(SentLog, LateRecordDoesNotEvictNewer) {
  SentPacketLog log(4);
  log.record(sent(8));
  log.record(sent(4));  // same slot, older
  EXPECT_EQ(log.find(4), nullptr);
  ASSERT_NE(log.find(8), nullptr);
  log.record(sent(7));
  log.record(sent(6));
  ASSERT_NE(log.find(7), nullptr);
  ASSERT_NE(log.find(6), nullptr);
  log.clear();
  EXPECT_EQ(log.find(8), nullptr);
}

TEST(SentLog, FirstResendAlwaysAllowed) {
  SentPacketLog log(16);
  log.record(sent(1));
  SentPacket* p = log.find(1);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(log.allow_resend(*p, kT0, milliseconds(100)));
  EXPECT_EQ(p->resends, 1);
  EXPECT_EQ(p->last_resent, kT0);
  EXPECT_EQ(log.find(1)->resends, 1);  // updated in the log itself
}

TEST(SentLog, ResendIntervalAndLimit) {
  SentPacketLog log(16);
  log.record(sent(1));
  SentPacket& p = *log.find(1);
  Clock::time_point now = kT0;
  EXPECT_TRUE(log.allow_resend(p, now, milliseconds(100), 3));
  EXPECT_FALSE(log.allow_resend(p, now + milliseconds(99), milliseconds(100), 3));
  EXPECT_EQ(p.resends, 1);
  EXPECT_EQ(p.last_resent, now);  // a refusal changes nothing
  now += milliseconds(100);
  EXPECT_TRUE(log.allow_resend(p, now, milliseconds(100), 3));
  now += milliseconds(100);
  EXPECT_TRUE(log.allow_resend(p, now, milliseconds(100), 3));
  now += milliseconds(1000);
  EXPECT_FALSE(log.allow_resend(p, now, milliseconds(100), 3));  // three resends used
  EXPECT_EQ(p.resends, 3);
}

TEST(SentLog, MinimumIntervalIsTenMilliseconds) {
  SentPacketLog log(16);
  log.record(sent(1));
  SentPacket& p = *log.find(1);
  EXPECT_TRUE(log.allow_resend(p, kT0, milliseconds(0)));
  EXPECT_FALSE(log.allow_resend(p, kT0 + milliseconds(9), milliseconds(0)));
  EXPECT_TRUE(log.allow_resend(p, kT0 + milliseconds(10), milliseconds(0)));
}

TEST(SentLog, DefaultMaxResendsIsEight) {
  SentPacketLog log(16);
  log.record(sent(1));
  SentPacket& p = *log.find(1);
  Clock::time_point now = kT0;
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(log.allow_resend(p, now, milliseconds(10))) << i;
    now += milliseconds(10);
  }
  EXPECT_FALSE(log.allow_resend(p, now, milliseconds(10)));
}

TEST(KeyframeThrottle, FirstRequestGoesOut) {
  KeyframeRequestThrottle t;
  EXPECT_FALSE(t.waiting());
  EXPECT_TRUE(t.should_request(kT0));
  EXPECT_TRUE(t.waiting());
}

TEST(KeyframeThrottle, OutstandingRequestHoldsBackUntilRetry) {
  KeyframeRequestThrottle t(milliseconds(300), milliseconds(1000));
  ASSERT_TRUE(t.should_request(kT0));
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(1)));
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(300)));  // still waiting for the first
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(999)));
  EXPECT_TRUE(t.should_request(kT0 + milliseconds(1000)));  // no key frame: retry
  EXPECT_TRUE(t.waiting());
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(1999)));
  EXPECT_TRUE(t.should_request(kT0 + milliseconds(2000)));
}

TEST(KeyframeThrottle, AfterKeyframeMinIntervalApplies) {
  KeyframeRequestThrottle t(milliseconds(300), milliseconds(1000));
  ASSERT_TRUE(t.should_request(kT0));
  t.on_keyframe(kT0 + milliseconds(100));
  EXPECT_FALSE(t.waiting());
  EXPECT_EQ(t.last_keyframe(), kT0 + milliseconds(100));
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(299)));
  EXPECT_TRUE(t.should_request(kT0 + milliseconds(300)));
  EXPECT_TRUE(t.waiting());
}

TEST(KeyframeThrottle, UnrequestedKeyframeDoesNotBlock) {
  KeyframeRequestThrottle t;
  t.on_keyframe(kT0);
  EXPECT_FALSE(t.waiting());
  EXPECT_TRUE(t.should_request(kT0));
}

TEST(KeyframeThrottle, RetryIsNeverShorterThanMinInterval) {
  KeyframeRequestThrottle t(milliseconds(500), milliseconds(100));
  ASSERT_TRUE(t.should_request(kT0));
  EXPECT_FALSE(t.should_request(kT0 + milliseconds(499)));
  EXPECT_TRUE(t.should_request(kT0 + milliseconds(500)));
}

TEST(KeyframeThrottle, FirSequenceIncrementsAndWraps) {
  KeyframeRequestThrottle t;
  EXPECT_EQ(t.next_fir_sequence(), 0);
  EXPECT_EQ(t.next_fir_sequence(), 1);
  for (int i = 2; i < 256; ++i) t.next_fir_sequence();
  EXPECT_EQ(t.next_fir_sequence(), 0);
}

}  // namespace
}  // namespace conclave::sfu
