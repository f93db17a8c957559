#include "common/attempt_limiter.hpp"

#include <gtest/gtest.h>

namespace conclave {
namespace {

using namespace std::chrono_literals;
using Clock = AttemptLimiter::Clock;

TEST(AttemptLimiter, FreeAttemptsThenDoublingWaits) {
  AttemptLimiter l({.free = 3, .window = 600s, .base = 1000ms, .backoff_max = 60s});
  const auto t0 = Clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(l.check("a", t0), 0s);
    l.count("a", t0);
  }
  EXPECT_EQ(l.check("a", t0), 0s);
  l.count("a", t0);  // 4th: 1 s
  EXPECT_EQ(l.check("a", t0), 1s);
  EXPECT_EQ(l.check("a", t0 + 1s), 0s);
  l.count("a", t0 + 1s);  // 5th: 2 s
  EXPECT_EQ(l.check("a", t0 + 1s), 2s);
  l.count("a", t0 + 3s);  // 6th: 4 s
  EXPECT_EQ(l.check("a", t0 + 3s), 4s);
  // Other keys are not affected.
  EXPECT_EQ(l.check("b", t0 + 3s), 0s);
}

TEST(AttemptLimiter, WaitIsCappedAndRoundedUp) {
  AttemptLimiter l({.free = 0, .window = 3600s, .base = 1500ms, .backoff_max = 10s});
  const auto t0 = Clock::time_point{} + 1000s;
  l.count("a", t0);
  EXPECT_EQ(l.check("a", t0), 2s);  // 1.5 s rounds up
  for (int i = 0; i < 80; ++i) l.count("a", t0);
  EXPECT_EQ(l.check("a", t0), 10s);
}

TEST(AttemptLimiter, QuietKeysStartOverAndClearForgets) {
  AttemptLimiter l({.free = 1, .window = 60s, .base = 1000ms, .backoff_max = 10s});
  const auto t0 = Clock::time_point{} + 1000s;
  l.count("a", t0);
  l.count("a", t0);
  EXPECT_GT(l.check("a", t0).count(), 0);
  l.count("a", t0 + 61s);  // quiet for a window: counts as the first again
  EXPECT_EQ(l.check("a", t0 + 61s), 0s);
  l.count("a", t0 + 61s);
  EXPECT_GT(l.check("a", t0 + 61s).count(), 0);
  l.clear("a");
  EXPECT_EQ(l.check("a", t0 + 61s), 0s);
}

TEST(AttemptLimiter, WaitingOutABlockDoesNotGiveTheFreeAttemptsBack) {
  AttemptLimiter l({.free = 2, .window = 60s, .base = 1000ms, .backoff_max = 100s});
  auto t = Clock::time_point{} + 1000s;
  for (int i = 0; i < 10; ++i) l.count("a", t);  // blocked for 100 s (capped)
  t += 100s;                                     // the block ends; quiet for 0 s since
  EXPECT_EQ(l.check("a", t), 0s);
  l.count("a", t);  // still over the free count: blocked again at once
  EXPECT_EQ(l.check("a", t), 100s);
  t += 100s + 60s;  // a whole window after the block: starts over
  l.count("a", t);
  EXPECT_EQ(l.check("a", t), 0s);
}

TEST(AttemptLimiter, AddressKeys) {
  EXPECT_EQ(AttemptLimiter::address_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(AttemptLimiter::address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(AttemptLimiter::address_key("2001:db8:1:2:3:4:5:6"), "v6:2001:db8:1:2::/64");
  EXPECT_EQ(AttemptLimiter::address_key("2001:db8:1:2::9"), "v6:2001:db8:1:2::/64");
  EXPECT_EQ(AttemptLimiter::address_key("2001:db8::1"), "v6:2001:db8:0:0::/64");
  EXPECT_EQ(AttemptLimiter::address_key("::1"), "v6:0:0:0:0::/64");
  EXPECT_EQ(AttemptLimiter::address_key(""), "");
}

TEST(AttemptLimiter, MemoryIsBounded) {
  AttemptLimiter l({.free = 0, .window = 60s, .base = 1000ms, .backoff_max = 10s, .max_keys = 100});
  const auto t0 = Clock::time_point{} + 1000s;
  for (int i = 0; i < 1000; ++i) l.count("k" + std::to_string(i), t0);
  EXPECT_EQ(l.size(), 100u);
  EXPECT_GT(l.check("k999", t0).count(), 0);
  EXPECT_EQ(l.check("k0", t0), 0s);  // evicted: least recently touched
}

}  // namespace
}  // namespace conclave
