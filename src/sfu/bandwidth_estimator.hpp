// Send-side bandwidth estimate for one subscriber: how many bits per second the SFU may
// send to that browser. The SFU stamps its own transport-wide sequence numbers on what it
// forwards (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), records each send here,
// and feeds back the browser's transport-wide feedback (RTPFB FMT 15, same draft §3.1);
// REMB (draft-alvestrand-rmcat-remb-03) and receiver-report loss (RFC 3550 §6.4.1) are
// extra inputs. The layer allocator uses estimate_bps() to pick simulcast layers.
//
// The algorithm follows Google congestion control (draft-ietf-rmcat-gcc-02), in its
// send-side form as libwebrtc runs it:
// - Delay-based (§5): packets are grouped into send bursts of 5 ms (§5.2; a packet that
//   arrives within 5 ms of the group's last one and earlier than its send spacing says is
//   a burst and joins the group too). For consecutive groups the inter-group delay
//   variation d = (arrival delta) - (send delta) is accumulated, smoothed (0.9) and a
//   least-squares slope is fitted over the last 20 groups (libwebrtc's trendline filter
//   in place of the draft's Kalman filter). The overuse detector (§5.4) compares
//   slope × min(groups, 60) × 4 with an adaptive threshold γ (starts at 12.5 ms,
//   K_u = 0.0087, K_d = 0.039, kept in [6, 600]); overuse needs 10 ms and two groups above
//   it with a rising slope. The rate controller (§5.5) is AIMD: on overuse it sets the
//   estimate to 0.85 × the acknowledged bitrate and holds; while underusing it holds;
//   while normal it increases, multiplicatively (8 % per 200 ms) unless the estimate sits
//   within 3 standard deviations of the link capacity measured at past overuses, where it
//   increases additively (max(50 kbit/s, 5 %) per second).
// - There is no probing, so the increase is not capped at the acknowledged bitrate (the
//   SFU only moves a subscriber up a layer once the estimate says it fits): it may reach
//   max(2 × acknowledged, acknowledged + 1.5 Mbit/s). Above that cap it holds, never
//   drops, so an idle subscriber keeps its estimate.
// - Loss-based (§6): the loss fraction over windows of at least 250 ms and 20 packets;
//   above 10 % the loss bound becomes min(loss bound, delay estimate) × (1 - 0.5 loss);
//   below 2 % it grows like the delay estimate (8 % per 200 ms, same cap); in between it
//   holds. A packet never mentioned although later ones were reported counts as lost; a
//   packet reported lost and later received is taken back.
// - Receiver-report loss drives the loss bound only while no transport-wide feedback has
//   been seen (TWCC not negotiated); the estimate is then the loss bound alone.
// - REMB is an upper bound while REMBs keep coming; it expires 2 s after the last one.
// - estimate = min(delay estimate [once TWCC feedback was seen], loss bound, REMB), clamped
//   to [min_bps, max_bps]. Without any feedback it stays at start_bps.
//
// Packet path rules: every member is noexcept, never allocates after the constructor
// (the send history of kHistorySize entries is allocated there) and never logs. Time is
// passed in by the caller. The browser's arrival times are only compared with each other
// (its 24-bit reference time is unwrapped); our send times only with each other.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rtc/rtcp.hpp"
#include "rtc/rtp.hpp"

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

struct BandwidthEstimatorConfig {
  std::uint64_t start_bps = 1'000'000, min_bps = 50'000, max_bps = 20'000'000;
};

enum class BandwidthUsage : std::uint8_t { kNormal, kUnderusing, kOverusing };

class BandwidthEstimator {
 public:
  static constexpr std::size_t kHistorySize = 4096;  // a power of two dividing 65536

  explicit BandwidthEstimator(BandwidthEstimatorConfig config = {});

  // Every packet sent on the transport with our transport-wide sequence number.
  void on_packet_sent(std::uint16_t transport_seq, std::size_t bytes,
                      Clock::time_point sent) noexcept;
  void on_transport_feedback(const rtc::TransportFeedback& feedback,
                             Clock::time_point now) noexcept;
  // An upper bound while REMBs keep coming (expires after kRembLifetime without one).
  void on_remb(std::uint64_t bps, Clock::time_point now) noexcept;
  // From an RTCP receiver report block (RFC 3550 Q8 fraction), for when TWCC is not
  // negotiated; only recorded (loss_fraction) once transport-wide feedback has been seen.
  void on_loss_report(std::uint8_t fraction_lost, Clock::time_point now) noexcept;

  std::uint64_t estimate_bps(Clock::time_point now) const noexcept;
  // What feedback says arrived over the last ~1 s (the window slides on with `now` after
  // the last feedback, so the value decays when feedback stops).
  std::uint64_t acknowledged_bps(Clock::time_point now) const noexcept;
  // The loss fraction of the last completed loss window (or receiver report), 0..1.
  double loss_fraction() const noexcept { return loss_fraction_; }

  // Internals, for tests and metrics.
  BandwidthUsage delay_state() const noexcept { return usage_; }
  std::uint64_t delay_based_bps() const noexcept { return static_cast<std::uint64_t>(delay_bps_); }
  std::uint64_t loss_based_bps() const noexcept { return static_cast<std::uint64_t>(loss_bps_); }
  double overuse_threshold() const noexcept { return threshold_; }

  // Algorithm constants (see the header comment for where they come from).
  static constexpr std::chrono::microseconds kBurstTime{5'000};
  static constexpr std::size_t kTrendlineWindow = 20;
  static constexpr double kTrendlineSmoothing = 0.9;
  static constexpr double kTrendlineGain = 4.0;
  static constexpr double kInitialThresholdMs = 12.5;
  static constexpr double kBeta = 0.85;
  static constexpr double kIncreasePer200Ms = 1.08;
  static constexpr std::uint64_t kIncreaseHeadroomBps = 1'500'000;
  static constexpr double kLossHigh = 0.10;
  static constexpr double kLossLow = 0.02;
  static constexpr std::chrono::milliseconds kLossWindow{250};
  static constexpr std::chrono::milliseconds kRembLifetime{2'000};
  static constexpr std::chrono::milliseconds kAckWindow{1'000};

 private:
  enum class PacketState : std::uint8_t { kUnknown, kLost, kReceived };
  struct SentPacket {
    std::int64_t seq = -1;  // unwrapped; -1 = empty slot
    std::int64_t send_us = 0;
    std::uint32_t bytes = 0;
    PacketState state = PacketState::kUnknown;
  };
  struct Group {
    bool valid = false;
    std::int64_t first_send_us = 0, last_send_us = 0;
    std::int64_t first_arrival_us = 0, last_arrival_us = 0;
  };
  struct AckBucket {
    std::int64_t index = -1;  // arrival time / kAckBucketUs
    std::uint64_t bytes = 0;
  };
  enum class RateState : std::uint8_t { kHold, kIncrease };

  static constexpr std::int64_t kAckBucketUs = 50'000;
  static constexpr std::size_t kAckBuckets = 32;

  SentPacket* find_sent(std::uint16_t seq) noexcept;
  void mark_unreported_lost(std::int64_t up_to) noexcept;
  void add_acked(std::int64_t arrival_us, std::uint32_t bytes) noexcept;
  void on_delay_sample(std::int64_t send_us, std::int64_t arrival_us) noexcept;
  void on_group_delta(double send_delta_ms, double arrival_delta_ms,
                      std::int64_t arrival_us) noexcept;
  void detect(double trend, double send_delta_ms, std::int64_t arrival_us) noexcept;
  void update_threshold(double modified_trend, std::int64_t arrival_us) noexcept;
  void update_delay_rate(Clock::time_point now) noexcept;
  void on_loss_window(double fraction, Clock::time_point now) noexcept;
  double increase_cap(Clock::time_point now) const noexcept;
  double clamp_rate(double bps) const noexcept;

  BandwidthEstimatorConfig config_;

  // Send history, by unwrapped sequence number modulo kHistorySize. Allocated by this.
  std::vector<SentPacket> history_;
  rtc::SequenceUnwrapper send_unwrapper_;
  std::int64_t highest_reported_ = -1;

  // The browser's clock: unwrapped 24-bit reference time.
  bool have_reference_ = false;
  std::uint32_t last_reference_ = 0;
  std::int64_t reference_ = 0;

  // Acknowledged bitrate: bytes by remote arrival time in 50 ms buckets.
  std::array<AckBucket, kAckBuckets> ack_{};
  bool have_acked_ = false;
  std::int64_t first_arrival_us_ = 0;
  std::int64_t newest_arrival_us_ = 0;
  std::optional<Clock::time_point> last_feedback_;

  // Inter-arrival grouping and trendline (remote arrival times, our send times).
  Group current_, previous_;
  std::array<double, kTrendlineWindow> window_x_{}, window_y_{};
  std::size_t window_count_ = 0, window_head_ = 0;
  std::optional<std::int64_t> trend_origin_us_;
  double accumulated_delay_ms_ = 0, smoothed_delay_ms_ = 0;
  int num_deltas_ = 0;
  double prev_trend_ = 0;
  double threshold_ = kInitialThresholdMs;
  std::optional<std::int64_t> last_threshold_update_us_;
  double time_over_using_ms_ = -1;
  int overuse_counter_ = 0;
  BandwidthUsage usage_ = BandwidthUsage::kNormal;

  // AIMD rate controller.
  double delay_bps_;
  RateState rate_state_ = RateState::kIncrease;
  std::optional<Clock::time_point> last_rate_update_;
  double link_capacity_kbps_ = -1;  // < 0: none
  double link_capacity_var_ = 0.4;

  // Loss-based controller.
  double loss_bps_;
  std::uint32_t window_lost_ = 0, window_received_ = 0;
  std::optional<Clock::time_point> loss_window_start_;
  std::optional<Clock::time_point> last_loss_update_;
  double loss_fraction_ = 0;

  // REMB.
  std::optional<Clock::time_point> remb_time_;
  std::uint64_t remb_bps_ = 0;
};

}  // namespace conclave::sfu
