// Retransmission state of the SFU (RFC 4585 §6.2.1 generic NACK, RFC 4588 RTX, RFC 5104
// FIR), in three small pieces the forwarding engine combines:
//
//  - PacketCache: the recent packets of one incoming stream (one simulcast layer), by
//    incoming sequence number, copied out of the receive buffer (the only copy the packet
//    path makes). It answers subscribers' NACKs.
//  - SentPacketLog: what one subscriber stream sent, by outgoing sequence number, so that
//    a NACK for an outgoing number maps back to (layer, incoming seq) in a PacketCache and
//    to the rewritten fields to resend it with. A resend under the same SSRC and sequence
//    number must be byte-identical (AES-GCM nonce reuse, ARCHITECTURE.md), so the log keeps
//    exactly what was written; changed resends go on the RTX SSRC.
//  - KeyframeRequestThrottle: one per incoming layer, so that many subscribers' PLIs and
//    layer switches become at most one PLI/FIR upstream per interval.
//
// Invariants: all memory is allocated in the constructors; store/get/record/find never
// allocate, throw or log. Sequence numbers are unwrapped (rtc::seq_diff, RFC 3550 §A.1)
// relative to the newest one stored, and slots keep the unwrapped number, so an entry from
// 65536 (or any multiple) packets ago never answers for the current one. Time comes from the
// caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

// Recent packets of one incoming stream. Fixed capacity: `slots` rounded up to a power of
// two (1..32768; the unwrapping covers only half the 16-bit circle), each slot up to
// kMaxPacketSize bytes. Slot = unwrapped seq mod slots, so the cache holds at most the last
// `slots` sequence numbers; a late packet is stored only if its slot holds nothing newer.
class PacketCache {
 public:
  static constexpr std::size_t kMaxPacketSize = 1500;
  static constexpr std::size_t kMaxSlots = 32768;

  explicit PacketCache(std::size_t slots = 512,
                       std::chrono::milliseconds max_age = std::chrono::milliseconds(1000));

  // A packet larger than kMaxPacketSize (or empty) is not stored.
  void store(std::uint16_t seq, std::span<const std::uint8_t> packet,
             Clock::time_point arrival) noexcept;
  // Only if the slot holds exactly this (unwrapped) seq and it is younger than max_age.
  // The span points into the cache: valid until the next store() or clear().
  std::optional<std::span<const std::uint8_t>> get(std::uint16_t seq,
                                                   Clock::time_point now) const noexcept;
  void clear() noexcept;

  std::size_t slots() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::int64_t ext_seq = 0;
    std::uint16_t size = 0;  // 0 = empty
    Clock::time_point arrival{};
  };
  std::int64_t unwrap(std::uint16_t seq) const noexcept;

  std::chrono::milliseconds max_age_;
  std::size_t mask_;
  std::vector<Entry> entries_;      // Allocated by this, in the constructor.
  std::vector<std::uint8_t> data_;  // slots * kMaxPacketSize, allocated in the constructor.
  std::int64_t highest_ = 0;
  bool started_ = false;
};

// One packet a subscriber stream sent, with the fields it was rewritten to.
struct SentPacket {
  std::uint16_t out_seq = 0;
  std::uint32_t out_timestamp = 0;
  std::uint8_t layer = 0;  // index of the incoming stream (PacketCache) it came from
  std::uint16_t in_seq = 0;
  std::uint16_t out_picture_id = 0;
  std::uint8_t out_tl0_pic_idx = 0;
  bool marker = false;
  Clock::time_point sent{};
  Clock::time_point last_resent{};
  std::uint8_t resends = 0;
};

// What one subscriber stream sent, by outgoing sequence number. Fixed capacity: `slots`
// rounded up to a power of two (1..32768), slot = unwrapped out seq mod slots.
class SentPacketLog {
 public:
  static constexpr std::size_t kMaxSlots = 32768;
  static constexpr std::chrono::milliseconds kMinResendInterval{10};

  explicit SentPacketLog(std::size_t slots = 1024);

  // Stores p with resends = 0 and last_resent cleared, whatever p says: a fresh record has
  // never been resent. A record older than the slot's current one is not stored.
  void record(const SentPacket& p) noexcept;
  // nullptr if overwritten or never recorded. Valid until the next record() or clear().
  SentPacket* find(std::uint16_t out_seq) noexcept;
  // Whether a resend is allowed now. The first resend always is (a NACK means the receiver
  // saw a gap, libwebrtc's RtpPacketHistory does the same); later ones need min_interval
  // (the caller passes about one RTT; taken as at least kMinResendInterval) since the
  // previous resend, and at most max_resends in all. Updates last_resent/resends when it
  // returns true.
  bool allow_resend(SentPacket& p, Clock::time_point now, std::chrono::milliseconds min_interval,
                    std::uint8_t max_resends = 8) noexcept;
  void clear() noexcept;

  std::size_t slots() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::int64_t ext_seq = 0;
    bool valid = false;
    SentPacket packet;
  };
  std::int64_t unwrap(std::uint16_t seq) const noexcept;

  std::size_t mask_;
  std::vector<Entry> entries_;  // Allocated by this, in the constructor.
  std::int64_t highest_ = 0;
  bool started_ = false;
};

// Key frame requests upstream for one incoming layer. A subscriber's PLI/FIR or a layer
// switch asks; at most one request goes out per `min_interval`. While a request is
// outstanding (no key frame since), further ones are held back until `retry_after` has
// passed since it, in case it or the key frame was lost; then another is allowed. After a
// key frame, the next request is allowed once min_interval has passed since the last one.
// (retry_after is taken as at least min_interval.)
class KeyframeRequestThrottle {
 public:
  explicit KeyframeRequestThrottle(
      std::chrono::milliseconds min_interval = std::chrono::milliseconds(300),
      std::chrono::milliseconds retry_after = std::chrono::milliseconds(1000)) noexcept;

  // true → the caller sends a PLI (or FIR) now; the request is recorded.
  bool should_request(Clock::time_point now) noexcept;
  void on_keyframe(Clock::time_point now) noexcept;
  // A request is outstanding without a key frame yet.
  bool waiting() const noexcept { return waiting_; }
  // RFC 5104 §4.3.1.1 FIR command sequence number for a new request: 0, 1, 2, ... mod 256.
  std::uint8_t next_fir_sequence() noexcept { return fir_sequence_++; }
  // When the last key frame arrived, if one has.
  std::optional<Clock::time_point> last_keyframe() const noexcept { return last_keyframe_; }

 private:
  std::chrono::milliseconds min_interval_;
  std::chrono::milliseconds retry_after_;
  std::optional<Clock::time_point> last_request_;
  std::optional<Clock::time_point> last_keyframe_;
  bool waiting_ = false;
  std::uint8_t fir_sequence_ = 0;
};

}  // namespace conclave::sfu
