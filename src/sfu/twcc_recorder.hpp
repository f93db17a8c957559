// Receive side of transport-wide congestion control: records the transport-wide sequence
// number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2) and arrival time of every
// RTP packet a publisher sends on one transport, and turns them into transport-wide
// feedback (RTPFB FMT 15, same draft §3.1) for the publisher's send-side estimator. Without
// this feedback Chromium's publisher stays at its start bitrate and never turns on its high
// simulcast layer.
//
// Who calls it: the transport's receive path calls on_packet() for every packet carrying
// the extension (media, RTX and padding alike, before any drop decision); a per-transport
// timer calls build_feedback() about every 50 ms, and again at once while more() is true.
//
// What it owns: a ring of `capacity` arrival times indexed by the unwrapped sequence
// number, and a scratch list for one feedback, both allocated in the constructor. The
// packet path (on_packet, build_feedback) is noexcept, never allocates and never logs.
//
// Invariants and choices:
// - Sequence numbers are unwrapped to 64 bits (rtc::SequenceUnwrapper). The ring holds
//   [end - capacity, end), where end is one past the newest sequence number seen. What has
//   not been reported yet is [next, end); if that grows past the ring (feedback not being
//   built) its oldest part is given up.
// - A feedback covers [next, last included]: holes between received packets are reported
//   as not received. rtc::write_transport_feedback starts at a received packet, so a hole
//   right after the previous feedback (its packets lost) is prepended here as a run-length
//   chunk of "not received" (the base is then a lost packet, as in libwebrtc's
//   RemoteEstimatorProxy). A leading hole longer than one run chunk (8191) is not reported.
// - Duplicates keep their first arrival time. A packet that arrives after its hole was
//   reported as lost moves the start of the next feedback back to it, so the next feedback
//   re-reports from there (as libwebrtc's RemoteEstimatorProxy does; the sender takes the
//   late packet as received and ignores statuses of packets it already has). Packets older
//   than the ring are ignored.
// - One feedback stays within kMaxFeedbackBytes (and the caller's buffer) and
//   kMaxStatusesPerFeedback statuses, and no receive delta may exceed the 16-bit signed
//   range of 250 µs ticks (±8.19 s; a margin of 8 s is used): where any of these would be
//   broken the feedback ends and more() tells the caller to build the next one at once.
// - The 24-bit reference time (64 ms units) is the first reported arrival rounded down,
//   taken from the caller's steady clock; it wraps after ~12 days, as the draft allows.
// - The feedback packet count (8 bits) increments per feedback written and wraps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rtc/rtcp.hpp"
#include "rtc/rtp.hpp"

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

class TwccRecorder {
 public:
  // The whole RTCP packet, so that it fits one datagram with SRTCP's trailer and an IPv6
  // path with room to spare.
  static constexpr std::size_t kMaxFeedbackBytes = 1200;
  static constexpr std::size_t kMaxStatusesPerFeedback = 4096;
  // Largest gap between two consecutive reported arrivals (the wire allows ±8.19 s).
  static constexpr std::int64_t kMaxDeltaUs = 8'000'000;
  // One run-length chunk (13 bits): the longest leading hole that is still reported.
  static constexpr std::int64_t kMaxLeadingLost = 0x1FFF;

  explicit TwccRecorder(std::size_t capacity = 2048);

  void on_packet(std::uint16_t transport_seq, Clock::time_point arrival) noexcept;

  // Writes one feedback packet covering what arrived since the last feedback (and the
  // holes between), using rtc::write_transport_feedback; returns bytes written, 0 when
  // there is nothing to report (or out is too small for even one status). Call every
  // ~50 ms, and again at once while more() is true.
  std::size_t build_feedback(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                             std::uint32_t media_ssrc) noexcept;

  // The last build_feedback() had to stop before the newest packet.
  bool more() const noexcept { return more_; }

  // Statistics for tests and metrics.
  std::uint8_t feedback_count() const noexcept { return feedback_count_; }
  std::size_t capacity() const noexcept { return arrival_us_.size(); }
  // Packets not yet covered by a feedback (including holes).
  std::size_t pending() const noexcept {
    return started_ ? static_cast<std::size_t>(end_ - next_) : 0;
  }

 private:
  static constexpr std::int64_t kNotReceived = INT64_MIN;

  std::int64_t& slot(std::int64_t seq) noexcept {
    return arrival_us_[static_cast<std::size_t>(seq) % arrival_us_.size()];
  }
  std::int64_t slot(std::int64_t seq) const noexcept {
    return arrival_us_[static_cast<std::size_t>(seq) % arrival_us_.size()];
  }

  // Allocated by this.
  std::vector<std::int64_t> arrival_us_;   // by unwrapped sequence number modulo size
  std::vector<rtc::TwccArrival> scratch_;  // one feedback's received packets

  rtc::SequenceUnwrapper unwrapper_;
  bool started_ = false;
  // Unwrapped sequence numbers, offset so they stay positive (the ring index is modulo).
  std::int64_t next_ = 0;  // first not yet reported
  std::int64_t end_ = 0;   // one past the newest seen
  std::uint8_t feedback_count_ = 0;
  bool more_ = false;
};

}  // namespace conclave::sfu
