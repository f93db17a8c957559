#include "sfu/twcc_recorder.hpp"

#include <algorithm>
#include <cstring>

#include "rtc/wire.hpp"

namespace conclave::sfu {

namespace {

// Keeps unwrapped sequence numbers positive even when the first packet was reordered.
constexpr std::int64_t kSeqOffset = std::int64_t{1} << 32;

constexpr std::size_t kFeedbackFixedSize = 20;  // RTCP header, 2 SSRCs, base/count/ref/fbcount
constexpr std::size_t kTwoBitSymbols = 7;       // the fewest statuses any chunk covers

std::int64_t to_us(Clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Puts a run-length chunk of `lost` "not received" statuses in front of a feedback that
// rtc::write_transport_feedback wrote into out[0, size), moving the base back by `lost`.
// Returns the new size, or 0 when out has no room for the two more bytes.
std::size_t prepend_not_received(std::span<std::uint8_t> out, std::size_t size,
                                 std::uint16_t lost) noexcept {
  std::uint8_t* p = out.data();
  const bool padded = (p[0] & 0x20) != 0;
  const std::size_t padding = padded ? p[size - 1] : 0;
  const std::size_t unpadded = size - padding + 2;
  const std::size_t total = (unpadded + 3) / 4 * 4;
  if (total > out.size()) return 0;
  std::memmove(p + kFeedbackFixedSize + 2, p + kFeedbackFixedSize,
               unpadded - 2 - kFeedbackFixedSize);
  // Run-length chunk (draft §3.1.3): T = 0, symbol 00 (not received), 13-bit length.
  rtc::wire::store_be16(p + kFeedbackFixedSize, lost);
  const std::uint16_t base = rtc::wire::load_be16(p + 12);
  rtc::wire::store_be16(p + 12, static_cast<std::uint16_t>(base - lost));
  const std::uint16_t count = rtc::wire::load_be16(p + 14);
  rtc::wire::store_be16(p + 14, static_cast<std::uint16_t>(count + lost));
  const std::size_t new_padding = total - unpadded;
  if (new_padding > 0) {
    std::fill(p + unpadded, p + total - 1, std::uint8_t{0});
    p[total - 1] = static_cast<std::uint8_t>(new_padding);
    p[0] = static_cast<std::uint8_t>(p[0] | 0x20);
  } else {
    p[0] = static_cast<std::uint8_t>(p[0] & ~0x20);
  }
  rtc::wire::store_be16(p + 2, static_cast<std::uint16_t>(total / 4 - 1));
  return total;
}

}  // namespace

TwccRecorder::TwccRecorder(std::size_t capacity)
    : arrival_us_(std::max<std::size_t>(capacity, 16), kNotReceived), scratch_(kMaxFeedbackBytes) {}

void TwccRecorder::on_packet(std::uint16_t transport_seq, Clock::time_point arrival) noexcept {
  const std::int64_t seq = unwrapper_.unwrap(transport_seq) + kSeqOffset;
  const std::int64_t us = to_us(arrival);
  const auto size = static_cast<std::int64_t>(arrival_us_.size());
  if (!started_) {
    started_ = true;
    next_ = end_ = seq;
  }
  if (seq >= end_) {
    // Newest so far: the slots of the sequence numbers skipped over become holes.
    if (seq - end_ >= size) {
      std::fill(arrival_us_.begin(), arrival_us_.end(), kNotReceived);
    } else {
      for (std::int64_t s = end_; s < seq; ++s) slot(s) = kNotReceived;
    }
    slot(seq) = us;
    end_ = seq + 1;
    if (end_ - next_ > size) next_ = end_ - size;  // feedback fell behind: give up the oldest
    return;
  }
  if (end_ - seq > size) return;          // older than the ring
  if (slot(seq) != kNotReceived) return;  // duplicate: the first arrival counts
  slot(seq) = us;
  if (seq < next_) next_ = seq;  // its hole was reported already: report again from here
}

std::size_t TwccRecorder::build_feedback(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                         std::uint32_t media_ssrc) noexcept {
  more_ = false;
  if (!started_ || next_ >= end_) return 0;

  std::int64_t first = next_;
  while (first < end_ && slot(first) == kNotReceived) ++first;
  if (first == end_) {  // only holes (cannot happen: end - 1 is always received)
    next_ = end_;
    return 0;
  }
  std::int64_t leading = first - next_;
  if (leading > kMaxLeadingLost) leading = 0;

  // A bound on the size as statuses are added: every chunk covers at least 7 statuses
  // (the writer only picks a shorter run when it is the last chunk), and a delta is one
  // byte when the gap is 0..63 ms (0..255 ticks even with the ±125 µs rounding), else two.
  const std::size_t budget = std::min(out.size(), kMaxFeedbackBytes);
  const std::size_t fixed = kFeedbackFixedSize + (leading > 0 ? 2 : 0) + 3 /* padding */;
  std::size_t n = 0;
  std::size_t delta_bytes = 0;
  std::int64_t last_included = first;
  std::int64_t previous_us = 0;
  for (std::int64_t s = first; s < end_; ++s) {
    const std::int64_t us = slot(s);
    if (us == kNotReceived) continue;
    const auto statuses = static_cast<std::size_t>(leading + (s - first) + 1);
    std::size_t bytes = 2;  // the first delta is from the 64 ms reference: up to 256 ticks
    if (n > 0) {
      const std::int64_t gap = us - previous_us;
      if (gap > kMaxDeltaUs || gap < -kMaxDeltaUs) break;
      bytes = (gap >= 0 && gap <= 63'000) ? 1 : 2;
    }
    const std::size_t chunk_bytes =
        2 * ((statuses - static_cast<std::size_t>(leading) + kTwoBitSymbols - 1) / kTwoBitSymbols);
    if (n == scratch_.size() || statuses > kMaxStatusesPerFeedback ||
        fixed + chunk_bytes + delta_bytes + bytes > budget) {
      break;
    }
    scratch_[n++] = {static_cast<std::uint16_t>(s), us};
    delta_bytes += bytes;
    previous_us = us;
    last_included = s;
  }
  if (n == 0) return 0;  // out cannot hold even one status

  const auto written = rtc::write_transport_feedback(out, sender_ssrc, media_ssrc, feedback_count_,
                                                     std::span(scratch_.data(), n));
  if (!written.ok()) return 0;
  std::size_t size = written.size;
  if (leading > 0) {
    size = prepend_not_received(out, size, static_cast<std::uint16_t>(leading));
    if (size == 0) return 0;
  }
  ++feedback_count_;
  next_ = last_included + 1;
  more_ = next_ < end_;
  return size;
}

}  // namespace conclave::sfu
