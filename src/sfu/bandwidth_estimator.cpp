#include "sfu/bandwidth_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace conclave::sfu {

namespace {

using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::microseconds;

// Keeps unwrapped sequence numbers positive even when the first send was reordered.
constexpr std::int64_t kSeqOffset = std::int64_t{1} << 32;
// The unwrapped reference time starts here, so arrival times stay positive.
constexpr std::int64_t kReferenceOffset = std::int64_t{1} << 24;

constexpr double kMaxThresholdMs = 600;
constexpr double kMinThresholdMs = 6;
constexpr double kThresholdUp = 0.0087;   // K_u
constexpr double kThresholdDown = 0.039;  // K_d
constexpr double kMaxAdaptOffsetMs = 15;  // outliers do not move the threshold
constexpr double kOverusingTimeMs = 10;
constexpr int kMinDeltasForFullGain = 60;  // the slope's weight grows to this many groups
constexpr std::int64_t kBurstArrivalUs = 5'000;
constexpr std::int64_t kMaxBurstDurationUs = 100'000;
constexpr std::int64_t kArrivalJumpUs = 3'000'000;  // clock jump or long outage: restart
constexpr double kAdditiveMinBps = 50'000;
constexpr double kAdditiveFraction = 0.05;
constexpr std::uint32_t kLossWindowPackets = 20;
constexpr std::int64_t kAckStaleUs = 200'000;
constexpr std::uint32_t kLossWindowMinPackets = 10;  // after 1 s with few packets

std::int64_t to_us(Clock::time_point t) noexcept {
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}
double seconds(Clock::duration d) noexcept {
  return duration<double>(d).count();
}

}  // namespace

BandwidthEstimator::BandwidthEstimator(BandwidthEstimatorConfig config)
    : config_(config), history_(kHistorySize) {
  if (config_.min_bps == 0) config_.min_bps = 1;
  if (config_.max_bps < config_.min_bps) config_.max_bps = config_.min_bps;
  config_.start_bps = std::clamp(config_.start_bps, config_.min_bps, config_.max_bps);
  delay_bps_ = static_cast<double>(config_.start_bps);
  loss_bps_ = static_cast<double>(config_.start_bps);
}

double BandwidthEstimator::clamp_rate(double bps) const noexcept {
  return std::clamp(bps, static_cast<double>(config_.min_bps),
                    static_cast<double>(config_.max_bps));
}

// ---------------------------------------------------------------------------------------
// Sends and feedback

void BandwidthEstimator::on_packet_sent(std::uint16_t transport_seq, std::size_t bytes,
                                        Clock::time_point sent) noexcept {
  const std::int64_t seq = send_unwrapper_.unwrap(transport_seq) + kSeqOffset;
  SentPacket& p = history_[static_cast<std::size_t>(seq) % kHistorySize];
  p.seq = seq;
  p.send_us = to_us(sent);
  p.bytes = static_cast<std::uint32_t>(std::min<std::size_t>(bytes, 0xFFFFFFFF));
  p.state = PacketState::kUnknown;
}

BandwidthEstimator::SentPacket* BandwidthEstimator::find_sent(std::uint16_t seq) noexcept {
  // kHistorySize divides 65536, so the slot of a 16-bit number is that of its unwrapped one.
  SentPacket& p = history_[seq % kHistorySize];
  if (p.seq < 0 || static_cast<std::uint16_t>(p.seq) != seq) return nullptr;
  return &p;
}

// Packets after the highest one reported so far and before up_to were skipped by the
// receiver's feedback: it had not received them when it wrote the feedback.
void BandwidthEstimator::mark_unreported_lost(std::int64_t up_to) noexcept {
  if (highest_reported_ < 0) return;
  const std::int64_t from =
      std::max(highest_reported_ + 1, up_to - static_cast<std::int64_t>(kHistorySize));
  for (std::int64_t s = from; s < up_to; ++s) {
    SentPacket& p = history_[static_cast<std::size_t>(s) % kHistorySize];
    if (p.seq == s && p.state == PacketState::kUnknown) {
      p.state = PacketState::kLost;
      ++window_lost_;
    }
  }
}

void BandwidthEstimator::add_acked(std::int64_t arrival_us, std::uint32_t bytes) noexcept {
  const std::int64_t index = arrival_us / kAckBucketUs;
  AckBucket& b = ack_[static_cast<std::size_t>(index) % kAckBuckets];
  if (b.index != index) {
    if (b.index > index) return;  // older than the buckets kept
    b = {index, 0};
  }
  b.bytes += bytes;
  if (!have_acked_) {
    have_acked_ = true;
    first_arrival_us_ = newest_arrival_us_ = arrival_us;
  }
  first_arrival_us_ = std::min(first_arrival_us_, arrival_us);
  newest_arrival_us_ = std::max(newest_arrival_us_, arrival_us);
}

void BandwidthEstimator::on_transport_feedback(const rtc::TransportFeedback& feedback,
                                               Clock::time_point now) noexcept {
  // The 24-bit reference time wraps; consecutive feedbacks are compared modulo 2^24.
  const std::uint32_t reference = feedback.reference_time();
  if (!have_reference_) {
    have_reference_ = true;
    reference_ = kReferenceOffset + reference;
  } else {
    std::int32_t step = static_cast<std::int32_t>((reference - last_reference_) & 0xFFFFFF);
    if (step >= 0x800000) step -= 0x1000000;
    reference_ += step;
  }
  last_reference_ = reference;

  std::int64_t arrival_us = reference_ * rtc::kTwccReferenceTickUs;
  auto reader = feedback.statuses();
  rtc::TwccStatus status;
  while (reader.next(status)) {
    if (status.received()) arrival_us += std::int64_t{status.delta} * rtc::kTwccDeltaTickUs;
    SentPacket* p = find_sent(status.sequence_number);
    if (p == nullptr) continue;  // not ours, or too old
    if (p->seq > highest_reported_) {
      mark_unreported_lost(p->seq);
      highest_reported_ = p->seq;
    }
    if (!status.received()) {
      if (p->state == PacketState::kUnknown) {
        p->state = PacketState::kLost;
        ++window_lost_;
      }
      continue;
    }
    if (p->state == PacketState::kReceived) continue;  // reported again
    if (p->state == PacketState::kLost && window_lost_ > 0) --window_lost_;
    p->state = PacketState::kReceived;
    ++window_received_;
    add_acked(arrival_us, p->bytes);
    on_delay_sample(p->send_us, arrival_us);
  }
  last_feedback_ = now;
  update_delay_rate(now);

  if (!loss_window_start_) loss_window_start_ = now;
  const std::uint32_t total = window_lost_ + window_received_;
  const Clock::duration elapsed = now - *loss_window_start_;
  if ((total >= kLossWindowPackets && elapsed >= kLossWindow) ||
      (total >= kLossWindowMinPackets && elapsed >= std::chrono::seconds(1))) {
    on_loss_window(static_cast<double>(window_lost_) / total, now);
    window_lost_ = window_received_ = 0;
    loss_window_start_ = now;
  }
}

void BandwidthEstimator::on_remb(std::uint64_t bps, Clock::time_point now) noexcept {
  remb_bps_ = bps;
  remb_time_ = now;
}

void BandwidthEstimator::on_loss_report(std::uint8_t fraction_lost,
                                        Clock::time_point now) noexcept {
  const double fraction = fraction_lost / 256.0;
  if (last_feedback_) {  // TWCC is running: it measures the same losses, per packet
    return;
  }
  on_loss_window(fraction, now);
}

// ---------------------------------------------------------------------------------------
// Delay-based: grouping, trendline, overuse detector (draft-ietf-rmcat-gcc-02 §5.2-5.4)

void BandwidthEstimator::on_delay_sample(std::int64_t send_us, std::int64_t arrival_us) noexcept {
  if (!current_.valid) {
    current_ = {true, send_us, send_us, arrival_us, arrival_us};
    return;
  }
  if (send_us < current_.first_send_us) return;  // sent before this group: reordered
  const std::int64_t arrival_gap = arrival_us - current_.last_arrival_us;
  const std::int64_t send_gap = send_us - current_.last_send_us;
  const bool in_send_burst = send_us - current_.first_send_us <= kBurstTime.count();
  // Packets queued somewhere and released together (§5.2, libwebrtc's BelongsToBurst).
  const bool arrival_burst = arrival_gap >= 0 && arrival_gap <= kBurstArrivalUs &&
                             arrival_gap - send_gap < 0 &&
                             arrival_us - current_.first_arrival_us < kMaxBurstDurationUs;
  if (in_send_burst || arrival_burst) {
    current_.last_send_us = std::max(current_.last_send_us, send_us);
    current_.last_arrival_us = std::max(current_.last_arrival_us, arrival_us);
    return;
  }
  if (previous_.valid) {
    const std::int64_t send_delta = current_.last_send_us - previous_.last_send_us;
    const std::int64_t arrival_delta = current_.last_arrival_us - previous_.last_arrival_us;
    if (arrival_delta < 0 || std::abs(arrival_delta - send_delta) > kArrivalJumpUs) {
      previous_.valid = false;  // the arrival clock jumped: start again
    } else {
      on_group_delta(send_delta / 1000.0, arrival_delta / 1000.0, current_.last_arrival_us);
    }
  }
  if (current_.valid) previous_ = current_;
  current_ = {true, send_us, send_us, arrival_us, arrival_us};
}

void BandwidthEstimator::on_group_delta(double send_delta_ms, double arrival_delta_ms,
                                        std::int64_t arrival_us) noexcept {
  if (num_deltas_ < 1000) ++num_deltas_;
  if (!trend_origin_us_) trend_origin_us_ = arrival_us;
  accumulated_delay_ms_ += arrival_delta_ms - send_delta_ms;
  smoothed_delay_ms_ =
      kTrendlineSmoothing * smoothed_delay_ms_ + (1 - kTrendlineSmoothing) * accumulated_delay_ms_;
  window_x_[window_head_] = (arrival_us - *trend_origin_us_) / 1000.0;
  window_y_[window_head_] = smoothed_delay_ms_;
  window_head_ = (window_head_ + 1) % kTrendlineWindow;
  if (window_count_ < kTrendlineWindow) ++window_count_;

  double trend = prev_trend_;
  if (window_count_ == kTrendlineWindow) {
    // Least-squares slope of smoothed delay (ms) over arrival time (ms).
    double mean_x = 0, mean_y = 0;
    for (std::size_t i = 0; i < kTrendlineWindow; ++i) {
      mean_x += window_x_[i];
      mean_y += window_y_[i];
    }
    mean_x /= kTrendlineWindow;
    mean_y /= kTrendlineWindow;
    double numerator = 0, denominator = 0;
    for (std::size_t i = 0; i < kTrendlineWindow; ++i) {
      numerator += (window_x_[i] - mean_x) * (window_y_[i] - mean_y);
      denominator += (window_x_[i] - mean_x) * (window_x_[i] - mean_x);
    }
    if (denominator > 0) trend = numerator / denominator;
  }
  detect(trend, send_delta_ms, arrival_us);
}

void BandwidthEstimator::detect(double trend, double send_delta_ms,
                                std::int64_t arrival_us) noexcept {
  if (num_deltas_ < 2) {
    prev_trend_ = trend;
    return;
  }
  const double modified = std::min(num_deltas_, kMinDeltasForFullGain) * trend * kTrendlineGain;
  if (modified > threshold_) {
    time_over_using_ms_ =
        time_over_using_ms_ < 0 ? send_delta_ms / 2 : time_over_using_ms_ + send_delta_ms;
    ++overuse_counter_;
    if (time_over_using_ms_ > kOverusingTimeMs && overuse_counter_ > 1 && trend >= prev_trend_) {
      time_over_using_ms_ = 0;
      overuse_counter_ = 0;
      usage_ = BandwidthUsage::kOverusing;
    }
  } else if (modified < -threshold_) {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    usage_ = BandwidthUsage::kUnderusing;
  } else {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    usage_ = BandwidthUsage::kNormal;
  }
  prev_trend_ = trend;
  update_threshold(modified, arrival_us);
}

void BandwidthEstimator::update_threshold(double modified_trend, std::int64_t arrival_us) noexcept {
  if (!last_threshold_update_us_) last_threshold_update_us_ = arrival_us;
  const double magnitude = std::abs(modified_trend);
  if (magnitude > threshold_ + kMaxAdaptOffsetMs) {  // a spike: do not adapt to it
    last_threshold_update_us_ = arrival_us;
    return;
  }
  const double k = magnitude < threshold_ ? kThresholdDown : kThresholdUp;
  const double dt_ms = std::clamp((arrival_us - *last_threshold_update_us_) / 1000.0, 0.0, 100.0);
  threshold_ += k * (magnitude - threshold_) * dt_ms;
  threshold_ = std::clamp(threshold_, kMinThresholdMs, kMaxThresholdMs);
  last_threshold_update_us_ = arrival_us;
}

// ---------------------------------------------------------------------------------------
// Rate controllers (§5.5, §6)

double BandwidthEstimator::increase_cap(Clock::time_point now) const noexcept {
  const auto acked = static_cast<double>(acknowledged_bps(now));
  return std::max(2 * acked, acked + static_cast<double>(kIncreaseHeadroomBps));
}

void BandwidthEstimator::update_delay_rate(Clock::time_point now) noexcept {
  const double dt =
      last_rate_update_ ? std::clamp(seconds(now - *last_rate_update_), 0.0, 1.0) : 0.0;
  last_rate_update_ = now;
  const auto acked = static_cast<double>(acknowledged_bps(now));

  switch (usage_) {
    case BandwidthUsage::kOverusing: {
      // Link capacity: a running mean and normalised variance of the acknowledged bitrate
      // at overuse, in kbit/s as libwebrtc keeps it (so the variance bounds mean the same).
      if (acked > 0) {
        const double sample = acked / 1000;
        if (link_capacity_kbps_ >= 0) {
          const double deviation = std::sqrt(link_capacity_var_ * link_capacity_kbps_);
          if (sample < link_capacity_kbps_ - 3 * deviation) link_capacity_kbps_ = -1;
        }
        link_capacity_kbps_ =
            link_capacity_kbps_ < 0 ? sample : 0.95 * link_capacity_kbps_ + 0.05 * sample;
        const double error = link_capacity_kbps_ - sample;
        link_capacity_var_ = std::clamp(
            0.95 * link_capacity_var_ + 0.05 * error * error / std::max(link_capacity_kbps_, 1.0),
            0.4, 2.5);
      }
      // Never more than halve at once: the acknowledged rate is thin just after a start.
      const double target = std::max(kBeta * (acked > 0 ? acked : delay_bps_), 0.5 * delay_bps_);
      if (target < delay_bps_) delay_bps_ = target;
      rate_state_ = RateState::kHold;
      break;
    }
    case BandwidthUsage::kUnderusing:
      rate_state_ = RateState::kHold;  // queues are draining: wait
      break;
    case BandwidthUsage::kNormal:
      if (rate_state_ == RateState::kHold) {
        rate_state_ = RateState::kIncrease;
        break;
      }
      {
        double upper = std::numeric_limits<double>::infinity();
        double lower = 0;
        if (link_capacity_kbps_ >= 0) {
          const double deviation = std::sqrt(link_capacity_var_ * link_capacity_kbps_);
          upper = (link_capacity_kbps_ + 3 * deviation) * 1000;
          lower = (link_capacity_kbps_ - 3 * deviation) * 1000;
          if (acked > upper) {  // the link got faster
            link_capacity_kbps_ = -1;
            upper = std::numeric_limits<double>::infinity();
          }
        }
        double increased;
        if (link_capacity_kbps_ >= 0 && delay_bps_ >= lower && delay_bps_ <= upper) {
          increased = delay_bps_ + std::max(kAdditiveMinBps, kAdditiveFraction * delay_bps_) * dt;
        } else {
          increased = delay_bps_ * std::pow(kIncreasePer200Ms, dt / 0.2);
        }
        const double cap = increase_cap(now);
        if (increased > cap) increased = std::max(delay_bps_, cap);  // hold above the cap
        delay_bps_ = increased;
      }
      break;
  }
  delay_bps_ = clamp_rate(delay_bps_);
}

void BandwidthEstimator::on_loss_window(double fraction, Clock::time_point now) noexcept {
  const double dt =
      last_loss_update_ ? std::clamp(seconds(now - *last_loss_update_), 0.0, 1.0) : 0.0;
  last_loss_update_ = now;
  loss_fraction_ = fraction;
  if (fraction > kLossHigh) {
    // From what is being sent or what gets through, whichever is lower: decreasing from a
    // bound far above the sending rate would take several windows to bite, and decreasing
    // below what gets through lets a full tail-drop queue drain, so that the delay-based
    // detector sees the next one fill.
    double base = loss_bps_;
    if (last_feedback_) {
      base = std::min(base, delay_bps_);
      const auto acked = static_cast<double>(acknowledged_bps(now));
      if (acked > 0) base = std::min(base, acked);
    }
    loss_bps_ = base * (1 - 0.5 * fraction);
  } else if (fraction < kLossLow) {
    const double increased = loss_bps_ * std::pow(kIncreasePer200Ms, dt / 0.2);
    const double cap = last_feedback_ ? increase_cap(now) : static_cast<double>(config_.max_bps);
    loss_bps_ = std::max(loss_bps_, std::min(increased, cap));
  }
  loss_bps_ = clamp_rate(loss_bps_);
}

// ---------------------------------------------------------------------------------------
// Queries

std::uint64_t BandwidthEstimator::acknowledged_bps(Clock::time_point now) const noexcept {
  if (!have_acked_ || !last_feedback_) return 0;
  // The window ends at the newest arrival while feedback keeps coming; once it has been
  // silent for longer than a few feedback intervals the window slides on with `now`.
  const std::int64_t silent_us = duration_cast<microseconds>(now - *last_feedback_).count();
  const std::int64_t end_us =
      newest_arrival_us_ + std::max<std::int64_t>(0, silent_us - kAckStaleUs);
  const std::int64_t window_us = duration_cast<microseconds>(kAckWindow).count();
  const std::int64_t last_index = end_us / kAckBucketUs;
  // Whole buckets after the window start, plus the current partial one.
  const std::int64_t first_index = (end_us - window_us) / kAckBucketUs + 1;
  std::uint64_t bytes = 0;
  for (const AckBucket& b : ack_) {
    if (b.index >= first_index && b.index <= last_index) bytes += b.bytes;
  }
  const std::int64_t start_us = std::max(first_index * kAckBucketUs, first_arrival_us_);
  const std::int64_t span_us = std::max<std::int64_t>(end_us - start_us, 100'000);
  return bytes * 8 * 1'000'000 / static_cast<std::uint64_t>(span_us);
}

std::uint64_t BandwidthEstimator::estimate_bps(Clock::time_point now) const noexcept {
  double estimate = loss_bps_;
  if (last_feedback_) estimate = std::min(estimate, delay_bps_);
  if (remb_time_ && now - *remb_time_ <= kRembLifetime) {
    estimate = std::min(estimate, static_cast<double>(remb_bps_));
  }
  return static_cast<std::uint64_t>(clamp_rate(estimate));
}

}  // namespace conclave::sfu
