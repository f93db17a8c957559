// Loss detection on one incoming stream (one publisher layer): the SFU, as the receiver,
// asks the publisher for its own losses with generic NACKs (RFC 4585 §6.2.1; packed by
// rtc::write_nack), so that what it forwards and caches is complete. Subscribers' NACKs are
// answered from the PacketCache instead (retransmission_cache.hpp).
// Called by the forwarding engine: on_packet() for every media packet of the layer
// (recovered RTX payloads included, RTX padding not), collect() from the worker timer.
//
// Rules:
//  - Sequence numbers are unwrapped relative to the newest one (rtc::seq_diff), so wrap and
//    reordering of up to half the circle are handled; a late packet removes its entry (a
//    recovery, on_packet returns true).
//  - A jump ahead adds every number in between. A jump of more than max_missing numbers
//    clears the list and sets keyframe_needed (we cannot NACK that much; the decoders
//    downstream need a key frame), unless the packet that jumped starts a key frame. If
//    the list would overflow, the oldest entries are given up and keyframe_needed is set.
//  - Each missing number is NACKed at the next collect() after it was detected, then again
//    every max(rtt, 20 ms), at most max_retries times; it is forgotten max_age after it
//    was detected, or one interval after its last NACK once retries are used up (so a
//    retransmission still in flight is counted as a recovery).
//  - Key frames: a packet that starts a key frame drops the entries older than it. Nothing
//    before a key frame is needed to decode what follows it, and subscribers that missed
//    those packets will be served by the key frame too (libwebrtc's NackRequester likewise
//    stops caring about packets before a key frame when its list overflows). It also clears
//    keyframe_needed.
//
// Invariants: entries are kept sorted by unwrapped sequence number, oldest first, in a
// vector reserved to max_missing in the constructor and never grown past it: no allocation
// per packet. Time comes from the caller. noexcept, no logging.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

class NackGenerator {
 public:
  static constexpr std::chrono::milliseconds kMinRetryInterval{20};

  explicit NackGenerator(std::size_t max_missing = 256, std::uint8_t max_retries = 10,
                         std::chrono::milliseconds max_age = std::chrono::milliseconds(1000));

  // Every received media packet (not RTX-only padding). Returns true when the packet fills
  // a hole we were tracking (a recovery).
  bool on_packet(std::uint16_t seq, Clock::time_point now, bool keyframe_start) noexcept;
  // Up to out.size() sequence numbers to NACK now, oldest first (see the rules above).
  // Numbers that did not fit stay due for the next call.
  std::size_t collect(Clock::time_point now, std::chrono::milliseconds rtt,
                      std::span<std::uint16_t> out) noexcept;
  // Whether a key frame should be requested upstream; reading it resets it.
  bool keyframe_needed() noexcept;
  // Numbers currently tracked as missing.
  std::size_t missing() const noexcept { return entries_.size(); }
  void reset() noexcept;

 private:
  struct Entry {
    std::int64_t ext_seq = 0;
    Clock::time_point detected{};
    Clock::time_point last_sent{};
    std::uint8_t retries = 0;
  };
  // Drops the entries with ext_seq < ext.
  void drop_before(std::int64_t ext) noexcept;

  std::size_t max_missing_;
  std::uint8_t max_retries_;
  std::chrono::milliseconds max_age_;
  std::vector<Entry> entries_;  // Allocated by this: capacity max_missing, never grown.
  std::int64_t highest_ = 0;
  bool started_ = false;
  bool keyframe_needed_ = false;
};

}  // namespace conclave::sfu
