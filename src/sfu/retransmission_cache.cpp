#include "sfu/retransmission_cache.hpp"

#include <algorithm>
#include <cstring>

#include "rtc/rtp.hpp"

namespace conclave::sfu {

namespace {

std::size_t round_slots(std::size_t slots, std::size_t max) {
  std::size_t n = 1;
  while (n < slots && n < max) n <<= 1;
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// PacketCache

PacketCache::PacketCache(std::size_t slots, std::chrono::milliseconds max_age)
    : max_age_(max_age),
      mask_(round_slots(slots, kMaxSlots) - 1),
      entries_(mask_ + 1),
      data_((mask_ + 1) * kMaxPacketSize) {}

std::int64_t PacketCache::unwrap(std::uint16_t seq) const noexcept {
  return started_ ? highest_ + rtc::seq_diff(seq, static_cast<std::uint16_t>(highest_)) : seq;
}

void PacketCache::store(std::uint16_t seq, std::span<const std::uint8_t> packet,
                        Clock::time_point arrival) noexcept {
  if (packet.empty() || packet.size() > kMaxPacketSize) return;
  const std::int64_t ext = unwrap(seq);
  if (started_ && highest_ - ext > static_cast<std::int64_t>(mask_)) return;  // out of reach
  const std::size_t slot = static_cast<std::size_t>(static_cast<std::uint64_t>(ext) & mask_);
  Entry& e = entries_[slot];
  if (e.size != 0 && e.ext_seq > ext) return;  // holds something newer
  std::memcpy(data_.data() + slot * kMaxPacketSize, packet.data(), packet.size());
  e.ext_seq = ext;
  e.size = static_cast<std::uint16_t>(packet.size());
  e.arrival = arrival;
  if (!started_ || ext > highest_) highest_ = ext;
  started_ = true;
}

std::optional<std::span<const std::uint8_t>> PacketCache::get(
    std::uint16_t seq, Clock::time_point now) const noexcept {
  if (!started_) return std::nullopt;
  const std::int64_t ext = unwrap(seq);
  const std::size_t slot = static_cast<std::size_t>(static_cast<std::uint64_t>(ext) & mask_);
  const Entry& e = entries_[slot];
  if (e.size == 0 || e.ext_seq != ext) return std::nullopt;
  if (now - e.arrival >= max_age_) return std::nullopt;
  return std::span<const std::uint8_t>(data_.data() + slot * kMaxPacketSize, e.size);
}

void PacketCache::clear() noexcept {
  std::fill(entries_.begin(), entries_.end(), Entry{});
  started_ = false;
  highest_ = 0;
}

// ---------------------------------------------------------------------------------------
// SentPacketLog

SentPacketLog::SentPacketLog(std::size_t slots)
    : mask_(round_slots(slots, kMaxSlots) - 1), entries_(mask_ + 1) {}

std::int64_t SentPacketLog::unwrap(std::uint16_t seq) const noexcept {
  return started_ ? highest_ + rtc::seq_diff(seq, static_cast<std::uint16_t>(highest_)) : seq;
}

void SentPacketLog::record(const SentPacket& p) noexcept {
  const std::int64_t ext = unwrap(p.out_seq);
  if (started_ && highest_ - ext > static_cast<std::int64_t>(mask_)) return;
  Entry& e = entries_[static_cast<std::size_t>(static_cast<std::uint64_t>(ext) & mask_)];
  if (e.valid && e.ext_seq > ext) return;
  e.ext_seq = ext;
  e.valid = true;
  e.packet = p;
  e.packet.resends = 0;
  e.packet.last_resent = {};
  if (!started_ || ext > highest_) highest_ = ext;
  started_ = true;
}

SentPacket* SentPacketLog::find(std::uint16_t out_seq) noexcept {
  if (!started_) return nullptr;
  const std::int64_t ext = unwrap(out_seq);
  Entry& e = entries_[static_cast<std::size_t>(static_cast<std::uint64_t>(ext) & mask_)];
  if (!e.valid || e.ext_seq != ext) return nullptr;
  return &e.packet;
}

bool SentPacketLog::allow_resend(SentPacket& p, Clock::time_point now,
                                 std::chrono::milliseconds min_interval,
                                 std::uint8_t max_resends) noexcept {
  if (p.resends >= max_resends) return false;
  if (p.resends > 0 && now - p.last_resent < std::max(min_interval, kMinResendInterval)) {
    return false;
  }
  ++p.resends;
  p.last_resent = now;
  return true;
}

void SentPacketLog::clear() noexcept {
  std::fill(entries_.begin(), entries_.end(), Entry{});
  started_ = false;
  highest_ = 0;
}

// ---------------------------------------------------------------------------------------
// KeyframeRequestThrottle

KeyframeRequestThrottle::KeyframeRequestThrottle(std::chrono::milliseconds min_interval,
                                                 std::chrono::milliseconds retry_after) noexcept
    : min_interval_(min_interval), retry_after_(std::max(retry_after, min_interval)) {}

bool KeyframeRequestThrottle::should_request(Clock::time_point now) noexcept {
  if (last_request_) {
    const auto since = now - *last_request_;
    if (since < (waiting_ ? retry_after_ : min_interval_)) return false;
  }
  last_request_ = now;
  waiting_ = true;
  return true;
}

void KeyframeRequestThrottle::on_keyframe(Clock::time_point now) noexcept {
  waiting_ = false;
  last_keyframe_ = now;
}

}  // namespace conclave::sfu
