// Per-subscriber rewriting of one outgoing RTP stream: sequence number, timestamp, and
// the VP8 picture id and TL0PICIDX (RFC 7741 §4.2), so that a simulcast layer switch or a
// publisher restart looks to the receiver like one continuous stream. The caller sets the
// SSRC and writes the returned values into the packet (rtc::RtpPacket setters,
// write_vp8_picture_id / write_vp8_tl0_pic_idx); this unit owns only the offsets.
// Called by the forwarding engine once per packet it considers for one subscriber stream.
//
// Model. Incoming packets are grouped by `source` (the incoming SSRC, or anything that
// changes when the stream underneath changes). The current source has a constant offset
// for each field: out = in + offset (mod 2^16 for sequence numbers, 2^32 for timestamps,
// 2^15 for picture ids, 2^8 for TL0PICIDX). When the source changes (the caller does that
// only at a key frame) the new offsets put the new first packet right after the last one
// sent: seq = last + 1, timestamp = last + max(1, wall time since the last forwarded packet
// in clock-rate ticks), picture id = last + 1, TL0PICIDX = last + 1 (RFC 3550 §5.1 lets a
// receiver see an SSRC's sequence numbers and timestamps continue; RFC 7741 §4.2 requires
// picture ids and TL0PICIDX to keep incrementing within an SSRC).
//
// Incoming sequence numbers of the current source are unwrapped relative to the newest
// one seen (RFC 3550 §A.1 style), so wraparound of input and output is handled everywhere.
// The first packet of a source is its switch point: anything older is dropped (it was never
// part of what this subscriber saw, and its out seq would collide with the old source's).
//
// Reordering, duplicates and skip(). The last kWindow incoming sequence numbers of the
// current source are tracked in two bitmaps: forwarded and skipped.
//  - A packet newer than the newest one seen is forwarded; if it jumps ahead, the numbers
//    in between stay holes in the output, so the receiver NACKs them as it should.
//  - A late packet (older than the newest, not older than the switch point, within the
//    window) fills its own hole: it gets in + offset + (skips between it and the newest),
//    i.e. exactly the out seq it would have had in order.
//  - A packet already forwarded or skipped is a duplicate and is dropped; so is a packet
//    more than kWindow behind the newest (nobody is waiting for it any more, and we could
//    no longer tell whether it is a duplicate).
//  - skip() of a packet newer than the newest shifts the offset down by one, so the next
//    forwarded packet takes its place and the receiver sees no gap. skip() of a late packet
//    only marks it as consumed (a later copy of it is then dropped): the packets after it are
//    already out with their numbers, so its out seq stays a hole that the receiver will NACK and
//    never get. Where that matters (a late padding-only packet) the caller should forward
//    the packet instead of skipping it. skip() of another source than the current one, or
//    before the first packet, does nothing.
//
// Timestamp jumps at a switch are capped at kMaxTimestampJump ticks so that a long pause
// never looks like going backwards (a jump past 2^31 would). The clock is never read here:
// arrival times come from the caller. Packet path: noexcept, no allocation, no logging.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

struct RewriteInput {
  std::uint32_t source = 0;  // identifies the incoming stream: changes on a layer switch or
                             // a publisher restart (e.g. the incoming SSRC)
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t clock_rate = 90000;
  Clock::time_point arrival{};
  bool has_picture_id = false;
  std::uint16_t picture_id = 0;
  bool picture_id_15bit = true;
  bool has_tl0_pic_idx = false;
  std::uint8_t tl0_pic_idx = 0;
};

struct RewriteOutput {
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint16_t picture_id = 0;  // 0 when the input has none; 7-bit inputs stay < 128
  std::uint8_t tl0_pic_idx = 0;  // 0 when the input has none
  bool operator==(const RewriteOutput&) const = default;
};

class RtpRewriter {
 public:
  // Incoming sequence numbers of the current source that are remembered for reordering,
  // duplicate detection and skips.
  static constexpr std::int64_t kWindow = 1024;
  // Largest timestamp step a switch inserts (about 3.3 hours at 90 kHz).
  static constexpr std::uint32_t kMaxTimestampJump = 1u << 30;

  // The caller passes random initial values (RFC 3550 §5.1).
  explicit RtpRewriter(std::uint16_t initial_seq = 0, std::uint32_t initial_ts = 0) noexcept
      : last_out_seq_(static_cast<std::uint16_t>(initial_seq - 1)), last_out_ts_(initial_ts) {}

  // nullopt = drop this packet (it belongs to an old source after a switch, is older than
  // the switch point, is a duplicate, or is more than kWindow behind the newest).
  std::optional<RewriteOutput> rewrite(const RewriteInput& in) noexcept;
  // The caller decided not to forward this incoming packet of the current source (e.g.
  // padding-only): see the rule in the header comment.
  void skip(const RewriteInput& in) noexcept;

  bool started() const noexcept { return started_; }
  // The current source; meaningful once started().
  std::uint32_t source() const noexcept { return source_; }
  // Of the newest packet forwarded (before the first one: initial_seq - 1, initial_ts).
  std::uint16_t last_sequence_number() const noexcept { return last_out_seq_; }
  std::uint32_t last_timestamp() const noexcept { return last_out_ts_; }

 private:
  using Bitmap = std::array<std::uint64_t, kWindow / 64>;

  void start_source(const RewriteInput& in) noexcept;
  // Unwrapped relative to the newest packet of the current source.
  std::int64_t unwrap(std::uint16_t seq) const noexcept;
  // Moves the newest packet to ext, clearing the window slots it passes.
  void advance(std::int64_t ext) noexcept;
  static bool test(const Bitmap& bits, std::int64_t ext) noexcept;
  static void set(Bitmap& bits, std::int64_t ext) noexcept;
  // Skipped packets with ext in (from, highest_].
  std::uint32_t skips_after(std::int64_t from) const noexcept;
  RewriteOutput apply(const RewriteInput& in, std::uint16_t seq_offset) noexcept;

  bool started_ = false;
  std::uint32_t source_ = 0;
  std::int64_t switch_point_ = 0;  // ext seq of the current source's first packet
  std::int64_t highest_ = 0;       // ext seq of the newest packet (forwarded or skipped)
  Bitmap consumed_{};              // has its out seq: forwarded, or skipped when already late
  Bitmap skipped_{};               // skipped as the newest: the offset was shifted down for it

  std::uint16_t seq_offset_ = 0;  // for packets after the newest skip
  std::uint32_t ts_offset_ = 0;
  std::uint16_t pid_offset_ = 0;  // modulo 2^15
  bool pid_offset_valid_ = false;
  std::uint8_t tl0_offset_ = 0;
  bool tl0_offset_valid_ = false;

  std::uint16_t last_out_seq_;
  std::uint32_t last_out_ts_;
  std::uint16_t last_out_pid_ = 0;
  bool have_out_pid_ = false;
  std::uint8_t last_out_tl0_ = 0;
  bool have_out_tl0_ = false;
  Clock::time_point last_forward_arrival_{};
};

}  // namespace conclave::sfu
