// Statistics of one incoming RTP stream for our receiver reports (RFC 3550 §6.4.1, with
// the algorithms of appendix A.1 sequence validation, A.3 loss and A.8 jitter), the NTP
// helpers of sender reports and round-trip time (§6.4.1), and a sliding-window rate meter.
// Called by the forwarding engine: on_packet() per media packet of a publisher layer,
// on_sender_report() per SR about it, make_report_block() when it writes an RR/SR.
//
// Choices against appendix A.1:
//  - No probation: the first packet starts the stream. SRTP has already authenticated the
//    packet, so a stray packet from a dead source cannot reach us.
//  - The restart rule is kept: a jump of MAX_DROPOUT (3000) or more ahead, or more than
//    MAX_MISORDER (100) behind, is not counted; if the next packet follows it in sequence,
//    the sender restarted and counting starts again from there (base, cycles, received).
//  - Duplicates count as received, as in A.3 (so cumulative lost can go negative).
//  - Jitter (A.8) is updated for every counted packet that is not a retransmission (a
//    retransmission's transit time says nothing about the network path's jitter); arrival
//    times are converted to timestamp units from the caller's clock. It is kept scaled by
//    16 as in A.8's integer form, and its baseline is reset on a restart.
//
// Invariants: no allocation, noexcept, no logging; time comes from the caller.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rtc/rtcp.hpp"

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

class ReceiveStats {
 public:
  static constexpr std::uint32_t kMaxDropout = 3000;
  static constexpr std::uint32_t kMaxMisorder = 100;

  explicit ReceiveStats(std::uint32_t clock_rate) noexcept : clock_rate_(clock_rate) {}

  // Media packets, including retransmissions recovered via RTX (retransmitted = true):
  // those count as received but do not update jitter.
  void on_packet(std::uint16_t seq, std::uint32_t rtp_timestamp, Clock::time_point arrival,
                 std::size_t bytes, bool retransmitted = false) noexcept;
  // For LSR/DLSR: the SR's 64-bit NTP timestamp and when it arrived.
  void on_sender_report(std::uint64_t ntp_timestamp, Clock::time_point arrival) noexcept;
  // A report block for `ssrc`: fraction lost since the previous call, cumulative lost
  // clamped to 24-bit signed, extended highest seq, jitter in timestamp units, LSR = middle
  // 32 bits of the last SR's NTP time (0 if none), DLSR in 1/65536 s (0 if none). Starts a
  // new interval for the fraction.
  rtc::ReportBlock make_report_block(std::uint32_t ssrc, Clock::time_point now) noexcept;

  std::uint64_t packets() const noexcept { return packets_; }  // every on_packet call
  std::uint64_t bytes() const noexcept { return bytes_; }
  bool started() const noexcept { return started_; }
  // Extended highest sequence number received (cycles + max seq, RFC 3550 §A.1).
  std::uint32_t extended_highest_sequence() const noexcept {
    return static_cast<std::uint32_t>(cycles_ + max_seq_);
  }
  // Jitter in timestamp units (A.8).
  std::uint32_t jitter() const noexcept {
    return static_cast<std::uint32_t>(std::min<std::int64_t>(jitter_q4_ >> 4, 0xFFFFFFFF));
  }
  // expected - received since the (re)start, unclamped.
  std::int64_t cumulative_lost() const noexcept;

 private:
  void init_sequence(std::uint16_t seq) noexcept;
  // A.1 update_seq: false when the packet is not counted.
  bool update_sequence(std::uint16_t seq) noexcept;

  std::uint32_t clock_rate_;
  bool started_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint64_t cycles_ = 0;  // shifted count of wraps
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 0;  // RTP_SEQ_MOD + 1 = none
  std::uint64_t received_ = 0;
  std::uint64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;

  Clock::time_point first_arrival_{};
  bool have_transit_ = false;
  std::uint32_t last_transit_ = 0;
  std::int64_t jitter_q4_ = 0;  // jitter * 16

  bool have_sr_ = false;
  std::uint32_t last_sr_ = 0;
  Clock::time_point last_sr_arrival_{};

  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
};

// The 64-bit NTP timestamp (RFC 5905 §6: seconds since 1900 in the high 32 bits, fraction
// in the low 32) of a wall-clock time, for sender reports.
std::uint64_t to_ntp(std::chrono::system_clock::time_point t) noexcept;
// The middle 32 bits of an NTP timestamp (16.16 seconds), as in LSR (RFC 3550 §6.4.1).
constexpr std::uint32_t compact_ntp(std::uint64_t ntp) noexcept {
  return static_cast<std::uint32_t>(ntp >> 16);
}
// RFC 3550 §6.4.1: RTT = A - LSR - DLSR, with A our NTP time now, from a report block about
// a stream we send. nullopt when LSR is 0 (the peer has no SR of ours yet) or the result
// is negative by more than rounding (the block is stale or bogus); a result within rounding
// of zero (a few units of 1/65536 s) is 0.
std::optional<std::chrono::microseconds> round_trip_time(std::uint32_t lsr, std::uint32_t dlsr,
                                                         std::uint64_t ntp_now) noexcept;

// Bits per second over a sliding window (default 1 s) in kBuckets fixed buckets, no
// allocation. bps(now) divides the bytes in the buckets the window covers by the time they
// span (whole old buckets plus the elapsed part of the current one), so a steady rate reads
// steady; before a whole window has passed since the first add, by the time since the
// start of the first add's bucket (at least one bucket).
class RateMeter {
 public:
  static constexpr std::size_t kBuckets = 20;

  explicit RateMeter(std::chrono::milliseconds window = std::chrono::milliseconds(1000)) noexcept;

  void add(std::size_t bytes, Clock::time_point now) noexcept;
  std::uint64_t bps(Clock::time_point now) const noexcept;

 private:
  std::int64_t bucket_of(Clock::time_point t) const noexcept;

  std::chrono::microseconds bucket_;
  std::array<std::uint64_t, kBuckets> bytes_{};
  std::array<std::int64_t, kBuckets> index_{};  // which bucket each slot holds
  std::int64_t first_bucket_ = 0;
  bool started_ = false;
};

}  // namespace conclave::sfu
