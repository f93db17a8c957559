#include "common/attempt_limiter.hpp"

#include <algorithm>
#include <vector>

namespace conclave {

AttemptLimiter::Entry* AttemptLimiter::find(std::string_view key) {
  const auto it = entries_.find(std::string(key));
  return it == entries_.end() ? nullptr : &it->second;
}

void AttemptLimiter::expire_if_quiet(Entry& e, Clock::time_point now) const {
  // Quiet for a whole window after the last attempt and after the end of the last block:
  // waiting out a block is not enough to get the free attempts back.
  if (now - std::max(e.last, e.blocked_until) >= limits_.window) {
    e.attempts = 0;
    e.window_start = now;
  }
}

std::chrono::seconds AttemptLimiter::check(std::string_view key, Clock::time_point now) {
  Entry* e = find(key);
  if (e == nullptr || now >= e->blocked_until) return std::chrono::seconds{0};
  const auto left = e->blocked_until - now;
  const auto secs = std::chrono::ceil<std::chrono::seconds>(left);
  return std::max(secs, std::chrono::seconds{1});
}

void AttemptLimiter::count(std::string_view key, Clock::time_point now) {
  Entry* e = find(key);
  if (e == nullptr) {
    if (entries_.size() >= limits_.max_keys && !lru_.empty()) {
      entries_.erase(lru_.front());
      lru_.pop_front();
    }
    lru_.emplace_back(key);
    auto [it, inserted] = entries_.try_emplace(std::string(key));
    e = &it->second;
    e->window_start = now;
    e->age = std::prev(lru_.end());
  } else {
    expire_if_quiet(*e, now);
    lru_.splice(lru_.end(), lru_, e->age);
  }
  e->last = now;
  ++e->attempts;
  if (e->attempts > limits_.free) {
    const unsigned over = e->attempts - limits_.free - 1;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.backoff_max);
    if (over < 40) {
      const auto grown = limits_.base * (std::int64_t{1} << over);
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(grown));
    }
    e->blocked_until = std::max(e->blocked_until, now + wait);
  }
}

std::string AttemptLimiter::address_key(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return std::string(address);
  if (address.substr(0, 7) == "::ffff:" && address.find('.') != std::string_view::npos)
    return std::string(address.substr(7));  // IPv4-mapped
  // Expand to eight groups, keep the first four.
  std::string_view head = address, tail;
  if (const auto gap = address.find("::"); gap != std::string_view::npos) {
    head = address.substr(0, gap);
    tail = address.substr(gap + 2);
  }
  auto split = [](std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
      const auto colon = s.find(':');
      out.push_back(s.substr(0, colon));
      if (colon == std::string_view::npos) break;
      s.remove_prefix(colon + 1);
    }
    return out;
  };
  auto groups = split(head);
  const auto rest = split(tail);
  while (groups.size() + rest.size() < 8) groups.push_back("0");
  groups.insert(groups.end(), rest.begin(), rest.end());
  std::string key = "v6:";
  for (std::size_t i = 0; i < 4 && i < groups.size(); ++i) {
    std::string_view g = groups[i];
    while (g.size() > 1 && g.front() == '0') g.remove_prefix(1);
    key += g;
    key += i < 3 ? ":" : "::/64";
  }
  return key;
}

void AttemptLimiter::clear(std::string_view key) {
  const auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;
  lru_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace conclave
