#include "sfu/rtp_rewriter.hpp"

#include <algorithm>

#include "rtc/rtp.hpp"

namespace conclave::sfu {

namespace {

// Wall time in clock-rate ticks, at least 1 (timestamps must move forward across a switch)
// and at most kMaxTimestampJump.
std::uint32_t timestamp_step(Clock::duration elapsed, std::uint32_t clock_rate) noexcept {
  const std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  if (us <= 0) return 1;
  const std::int64_t secs = us / 1'000'000;
  const std::int64_t rem = us % 1'000'000;
  if (secs >= std::int64_t{RtpRewriter::kMaxTimestampJump}) return RtpRewriter::kMaxTimestampJump;
  const std::int64_t ticks = secs * clock_rate + rem * clock_rate / 1'000'000;
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(ticks, 1, std::int64_t{RtpRewriter::kMaxTimestampJump}));
}

}  // namespace

void RtpRewriter::start_source(const RewriteInput& in) noexcept {
  const std::uint32_t out_ts =
      started_ ? last_out_ts_ + timestamp_step(in.arrival - last_forward_arrival_, in.clock_rate)
               : last_out_ts_;
  seq_offset_ = static_cast<std::uint16_t>(last_out_seq_ + 1 - in.sequence_number);
  ts_offset_ = out_ts - in.timestamp;
  pid_offset_valid_ = false;
  tl0_offset_valid_ = false;
  source_ = in.source;
  started_ = true;
  // The switch point becomes the newest packet when rewrite() goes on with it.
  switch_point_ = in.sequence_number;
  highest_ = switch_point_ - 1;
  consumed_.fill(0);
  skipped_.fill(0);
}

std::int64_t RtpRewriter::unwrap(std::uint16_t seq) const noexcept {
  return highest_ + rtc::seq_diff(seq, static_cast<std::uint16_t>(highest_));
}

void RtpRewriter::advance(std::int64_t ext) noexcept {
  if (ext - highest_ >= kWindow) {
    consumed_.fill(0);
    skipped_.fill(0);
  } else {
    for (std::int64_t e = highest_ + 1; e <= ext; ++e) {
      const auto i = static_cast<std::uint64_t>(e) & (kWindow - 1);
      consumed_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
      skipped_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
    }
  }
  highest_ = ext;
}

bool RtpRewriter::test(const Bitmap& bits, std::int64_t ext) noexcept {
  const auto i = static_cast<std::uint64_t>(ext) & (kWindow - 1);
  return ((bits[i / 64] >> (i % 64)) & 1u) != 0;
}

void RtpRewriter::set(Bitmap& bits, std::int64_t ext) noexcept {
  const auto i = static_cast<std::uint64_t>(ext) & (kWindow - 1);
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}

std::uint32_t RtpRewriter::skips_after(std::int64_t from) const noexcept {
  std::uint32_t n = 0;
  for (std::int64_t e = from + 1; e <= highest_; ++e) n += test(skipped_, e) ? 1u : 0u;
  return n;
}

RewriteOutput RtpRewriter::apply(const RewriteInput& in, std::uint16_t seq_offset) noexcept {
  RewriteOutput out;
  out.sequence_number = static_cast<std::uint16_t>(in.sequence_number + seq_offset);
  out.timestamp = in.timestamp + ts_offset_;
  if (in.has_picture_id) {
    if (!pid_offset_valid_) {
      // RFC 7741 §4.2: the picture id increments per picture; the new source's first
      // picture follows the last one sent.
      pid_offset_ = have_out_pid_
                        ? static_cast<std::uint16_t>((last_out_pid_ + 1 - in.picture_id) & 0x7FFF)
                        : 0;
      pid_offset_valid_ = true;
    }
    const std::uint16_t mask = in.picture_id_15bit ? 0x7FFF : 0x7F;
    out.picture_id = static_cast<std::uint16_t>((in.picture_id + pid_offset_) & mask);
  }
  if (in.has_tl0_pic_idx) {
    if (!tl0_offset_valid_) {
      tl0_offset_ = have_out_tl0_ ? static_cast<std::uint8_t>(last_out_tl0_ + 1 - in.tl0_pic_idx)
                                  : std::uint8_t{0};
      tl0_offset_valid_ = true;
    }
    out.tl0_pic_idx = static_cast<std::uint8_t>(in.tl0_pic_idx + tl0_offset_);
  }
  last_forward_arrival_ = std::max(last_forward_arrival_, in.arrival);
  return out;
}

std::optional<RewriteOutput> RtpRewriter::rewrite(const RewriteInput& in) noexcept {
  if (!started_ || in.source != source_) start_source(in);
  const std::int64_t ext = unwrap(in.sequence_number);
  if (ext < switch_point_) return std::nullopt;
  if (ext > highest_) {
    advance(ext);
    set(consumed_, ext);
    const RewriteOutput out = apply(in, seq_offset_);
    last_out_seq_ = out.sequence_number;
    last_out_ts_ = out.timestamp;
    if (in.has_picture_id) {
      last_out_pid_ = out.picture_id;
      have_out_pid_ = true;
    }
    if (in.has_tl0_pic_idx) {
      last_out_tl0_ = out.tl0_pic_idx;
      have_out_tl0_ = true;
    }
    return out;
  }
  if (highest_ - ext >= kWindow) return std::nullopt;
  if (test(consumed_, ext) || test(skipped_, ext)) return std::nullopt;
  set(consumed_, ext);
  // A late packet: the offset has since been shifted down once per skip after it.
  return apply(in, static_cast<std::uint16_t>(seq_offset_ + skips_after(ext)));
}

void RtpRewriter::skip(const RewriteInput& in) noexcept {
  if (!started_ || in.source != source_) return;
  const std::int64_t ext = unwrap(in.sequence_number);
  if (ext < switch_point_) return;
  if (ext > highest_) {
    advance(ext);
    set(skipped_, ext);
    --seq_offset_;
    return;
  }
  if (highest_ - ext >= kWindow) return;
  if (test(consumed_, ext) || test(skipped_, ext)) return;
  set(consumed_, ext);
}

}  // namespace conclave::sfu
