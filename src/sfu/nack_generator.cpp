#include "sfu/nack_generator.hpp"

#include <algorithm>

#include "rtc/rtp.hpp"

namespace conclave::sfu {

NackGenerator::NackGenerator(std::size_t max_missing, std::uint8_t max_retries,
                             std::chrono::milliseconds max_age)
    : max_missing_(std::max<std::size_t>(max_missing, 1)),
      max_retries_(max_retries),
      max_age_(max_age) {
  entries_.reserve(max_missing_);
}

void NackGenerator::drop_before(std::int64_t ext) noexcept {
  const auto end = std::lower_bound(entries_.begin(), entries_.end(), ext,
                                    [](const Entry& e, std::int64_t s) { return e.ext_seq < s; });
  entries_.erase(entries_.begin(), end);
}

bool NackGenerator::on_packet(std::uint16_t seq, Clock::time_point now,
                              bool keyframe_start) noexcept {
  if (!started_) {
    started_ = true;
    highest_ = seq;
    if (keyframe_start) keyframe_needed_ = false;
    return false;
  }
  const std::int64_t ext = highest_ + rtc::seq_diff(seq, static_cast<std::uint16_t>(highest_));
  bool recovered = false;
  if (ext > highest_) {
    const auto gap = static_cast<std::size_t>(ext - highest_ - 1);
    if (gap > max_missing_) {
      entries_.clear();
      keyframe_needed_ = true;
    } else if (gap > 0) {
      if (entries_.size() + gap > max_missing_) {
        // Give up the oldest: the list stays within its reserved capacity.
        entries_.erase(
            entries_.begin(),
            entries_.begin() + static_cast<std::ptrdiff_t>(entries_.size() + gap - max_missing_));
        keyframe_needed_ = true;
      }
      for (std::int64_t s = highest_ + 1; s < ext; ++s) entries_.push_back(Entry{s, now, {}, 0});
    }
    highest_ = ext;
  } else if (ext < highest_) {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), ext,
                                     [](const Entry& e, std::int64_t s) { return e.ext_seq < s; });
    if (it != entries_.end() && it->ext_seq == ext) {
      entries_.erase(it);
      recovered = true;
    }
  }
  if (keyframe_start) {
    drop_before(ext);
    keyframe_needed_ = false;
  }
  return recovered;
}

std::size_t NackGenerator::collect(Clock::time_point now, std::chrono::milliseconds rtt,
                                   std::span<std::uint16_t> out) noexcept {
  const Clock::duration interval = std::max(rtt, kMinRetryInterval);
  std::size_t n = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry e = entries_[i];
    if (now - e.detected >= max_age_) continue;
    const bool interval_passed = e.retries == 0 || now - e.last_sent >= interval;
    if (e.retries >= max_retries_) {
      if (interval_passed) continue;  // its last NACK had its chance
    } else if (interval_passed && n < out.size()) {
      out[n++] = static_cast<std::uint16_t>(e.ext_seq);
      ++e.retries;
      e.last_sent = now;
    }
    entries_[kept++] = e;
  }
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(kept), entries_.end());
  return n;
}

bool NackGenerator::keyframe_needed() noexcept {
  const bool needed = keyframe_needed_;
  keyframe_needed_ = false;
  return needed;
}

void NackGenerator::reset() noexcept {
  entries_.clear();
  highest_ = 0;
  started_ = false;
  keyframe_needed_ = false;
}

}  // namespace conclave::sfu
