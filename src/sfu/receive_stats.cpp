#include "sfu/receive_stats.hpp"

#include <algorithm>
#include <limits>

namespace conclave::sfu {

namespace {

constexpr std::uint32_t kSeqMod = 1u << 16;  // RTP_SEQ_MOD

// Ticks of `rate` in a duration, modulo 2^32 (timestamps wrap the same way).
std::uint32_t to_ticks(Clock::duration d, std::uint32_t rate) noexcept {
  const std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  const std::int64_t secs = us / 1'000'000;
  const std::int64_t rem = us % 1'000'000;
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(secs) * rate +
                                    static_cast<std::uint64_t>(rem * rate / 1'000'000));
}

}  // namespace

void ReceiveStats::init_sequence(std::uint16_t seq) noexcept {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

bool ReceiveStats::update_sequence(std::uint16_t seq) noexcept {
  const auto udelta = static_cast<std::uint16_t>(seq - max_seq_);
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // in order, with permissible gap: wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // A very large jump. Two sequential packets there: the sender restarted.
    if (seq == bad_seq_) {
      init_sequence(seq);
      have_transit_ = false;
    } else {
      bad_seq_ = (seq + 1u) & (kSeqMod - 1);
      return false;
    }
  }
  // else: a duplicate or a reordered packet; counted as received (A.3).
  ++received_;
  return true;
}

void ReceiveStats::on_packet(std::uint16_t seq, std::uint32_t rtp_timestamp,
                             Clock::time_point arrival, std::size_t bytes,
                             bool retransmitted) noexcept {
  ++packets_;
  bytes_ += bytes;
  if (!started_) {
    started_ = true;
    first_arrival_ = arrival;
    init_sequence(seq);
    received_ = 1;
  } else if (!update_sequence(seq)) {
    return;
  }
  if (retransmitted) return;
  // A.8: D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1}) = transit_i - transit_{i-1}.
  const std::uint32_t transit = to_ticks(arrival - first_arrival_, clock_rate_) - rtp_timestamp;
  if (have_transit_) {
    const auto d = static_cast<std::int32_t>(transit - last_transit_);
    const std::int64_t abs_d = d < 0 ? -static_cast<std::int64_t>(d) : d;
    jitter_q4_ += abs_d - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
  have_transit_ = true;
}

void ReceiveStats::on_sender_report(std::uint64_t ntp_timestamp,
                                    Clock::time_point arrival) noexcept {
  have_sr_ = true;
  last_sr_ = compact_ntp(ntp_timestamp);
  last_sr_arrival_ = arrival;
}

std::int64_t ReceiveStats::cumulative_lost() const noexcept {
  if (!started_) return 0;
  const auto expected =
      static_cast<std::int64_t>(cycles_ + max_seq_) - static_cast<std::int64_t>(base_seq_) + 1;
  return expected - static_cast<std::int64_t>(received_);
}

rtc::ReportBlock ReceiveStats::make_report_block(std::uint32_t ssrc,
                                                 Clock::time_point now) noexcept {
  rtc::ReportBlock b;
  b.ssrc = ssrc;
  if (started_) {
    // A.3.
    const auto expected =
        static_cast<std::int64_t>(cycles_ + max_seq_) - static_cast<std::int64_t>(base_seq_) + 1;
    const std::int64_t lost = expected - static_cast<std::int64_t>(received_);
    b.cumulative_lost =
        static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7FFFFF));
    const std::int64_t expected_interval = expected - static_cast<std::int64_t>(expected_prior_);
    const std::int64_t received_interval =
        static_cast<std::int64_t>(received_) - static_cast<std::int64_t>(received_prior_);
    expected_prior_ = static_cast<std::uint64_t>(expected);
    received_prior_ = received_;
    const std::int64_t lost_interval = expected_interval - received_interval;
    if (expected_interval > 0 && lost_interval > 0) {
      b.fraction_lost = static_cast<std::uint8_t>(
          std::min<std::int64_t>(255, (lost_interval << 8) / expected_interval));
    }
    b.extended_highest_sequence = extended_highest_sequence();
    b.jitter = jitter();
  }
  if (have_sr_) {
    b.last_sr = last_sr_;
    const std::int64_t us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - last_sr_arrival_).count();
    if (us > 0) {
      b.delay_since_last_sr = static_cast<std::uint32_t>(std::min<std::int64_t>(
          (us << 16) / 1'000'000, std::numeric_limits<std::uint32_t>::max()));
    }
  }
  return b;
}

std::uint64_t to_ntp(std::chrono::system_clock::time_point t) noexcept {
  constexpr std::int64_t kNtpUnixOffset = 2'208'988'800;  // 1900-01-01 to 1970-01-01, seconds
  const std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  const auto ntp_secs = static_cast<std::uint32_t>(secs + kNtpUnixOffset);  // era wraps in 2036
  const auto fraction =
      static_cast<std::uint32_t>((static_cast<std::uint64_t>(rem) << 32) / 1'000'000'000u);
  return (std::uint64_t{ntp_secs} << 32) | fraction;
}

std::optional<std::chrono::microseconds> round_trip_time(std::uint32_t lsr, std::uint32_t dlsr,
                                                         std::uint64_t ntp_now) noexcept {
  constexpr std::uint32_t kRounding = 4;  // 1/65536 s units (~61 µs)
  if (lsr == 0) return std::nullopt;
  const std::uint32_t elapsed = compact_ntp(ntp_now) - lsr;
  if (elapsed >= 0x80000000u) return std::nullopt;  // LSR is after now: not our SR
  if (elapsed < dlsr) {
    if (dlsr - elapsed <= kRounding) return std::chrono::microseconds(0);
    return std::nullopt;
  }
  const std::uint64_t units = elapsed - dlsr;
  return std::chrono::microseconds(static_cast<std::int64_t>((units * 1'000'000) >> 16));
}

RateMeter::RateMeter(std::chrono::milliseconds window) noexcept
    : bucket_(std::max<std::chrono::microseconds>(
          std::chrono::duration_cast<std::chrono::microseconds>(window) / kBuckets,
          std::chrono::microseconds(1))) {}

std::int64_t RateMeter::bucket_of(Clock::time_point t) const noexcept {
  const std::int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::int64_t b = bucket_.count();
  return us >= 0 ? us / b : -((-us + b - 1) / b);
}

void RateMeter::add(std::size_t bytes, Clock::time_point now) noexcept {
  const std::int64_t idx = bucket_of(now);
  if (!started_) {
    started_ = true;
    first_bucket_ = idx;
    index_.fill(idx - static_cast<std::int64_t>(kBuckets));  // every slot out of the window
  }
  const auto n = static_cast<std::int64_t>(kBuckets);
  const auto slot = static_cast<std::size_t>(((idx % n) + n) % n);
  if (index_[slot] > idx) return;  // time went backwards past this slot: dropped
  if (index_[slot] != idx) {
    index_[slot] = idx;
    bytes_[slot] = 0;
  }
  bytes_[slot] += bytes;
}

std::uint64_t RateMeter::bps(Clock::time_point now) const noexcept {
  if (!started_) return 0;
  const std::int64_t idx = bucket_of(now);
  if (idx < first_bucket_) return 0;
  const auto n = static_cast<std::int64_t>(kBuckets);
  std::uint64_t sum = 0;
  for (std::size_t s = 0; s < kBuckets; ++s) {
    if (index_[s] > idx - n && index_[s] <= idx) sum += bytes_[s];
  }
  const std::int64_t oldest = std::max(idx - n + 1, first_bucket_);
  const std::int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::int64_t b = bucket_.count();
  std::int64_t span_us = now_us - oldest * b;
  span_us = std::max(span_us, b);
  return sum * 8 * 1'000'000 / static_cast<std::uint64_t>(span_us);
}

}  // namespace conclave::sfu
