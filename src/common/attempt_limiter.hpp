// Growing back-off for attempts that an attacker would repeat: joins, passcode failures,
// sign-in failures (docs/protocol.md, "Attempt limits"). Keyed by whatever the caller
// limits on (a source address, a meeting id, an account), in memory only: addresses are
// never written to the store.
//
// Within `window` of the first counted attempt, `free` attempts pass untouched. Each one
// after that blocks the key for base * 2^(n - free - 1), capped at `backoff_max`; while a
// key is blocked, check() says for how long. A key that has been quiet for `window` (and
// is not blocked) starts over. At most `max_keys` keys are kept; when full, the entry that
// was touched least recently is forgotten (an attacker with that many addresses gains one
// fresh start per eviction, which the per-meeting and per-account limits still bound).
//
// Not thread-safe: one instance per thread (the control thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace conclave {

class AttemptLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    unsigned free = 5;
    std::chrono::seconds window{600};
    std::chrono::milliseconds base{1000};
    std::chrono::seconds backoff_max{900};
    std::size_t max_keys = 100000;
  };

  explicit AttemptLimiter(Limits limits) : limits_(limits) {}

  // 0 when an attempt for `key` may go ahead now; otherwise how long to wait, rounded up
  // to whole seconds (at least 1).
  std::chrono::seconds check(std::string_view key, Clock::time_point now);

  // Counts one attempt (a join, or a failure) for `key`, which may start a block.
  void count(std::string_view key, Clock::time_point now);

  // Forgets `key` (a successful sign-in clears its account's failures).
  void clear(std::string_view key);

  std::size_t size() const { return entries_.size(); }

  // The key for a source address: IPv4 as is, IPv6 by its /64 (one subscriber usually holds
  // a whole /64, so single IPv6 addresses would be free for the asking).
  static std::string address_key(std::string_view address);
  const Limits& limits() const { return limits_; }

 private:
  struct Entry {
    unsigned attempts = 0;
    Clock::time_point window_start{};
    Clock::time_point last{};
    Clock::time_point blocked_until{};
    std::list<std::string>::iterator age;  // position in lru_
  };

  Entry* find(std::string_view key);
  void expire_if_quiet(Entry& e, Clock::time_point now) const;

  Limits limits_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front: touched least recently
};

}  // namespace conclave
