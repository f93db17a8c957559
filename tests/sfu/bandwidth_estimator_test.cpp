#include "sfu/bandwidth_estimator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "rtc/rtcp.hpp"

namespace conclave::sfu {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kT0 = Clock::time_point{} + seconds(5000);

// Writes a transport feedback for `arrivals` (increasing sequence order) and hands the
// parsed view to the estimator.
void feed(BandwidthEstimator& e, const std::vector<rtc::TwccArrival>& arrivals,
          Clock::time_point now, std::uint8_t count = 0) {
  std::vector<std::uint8_t> buffer(16'000);
  const auto w = rtc::write_transport_feedback(buffer, 1, 2, count, arrivals);
  ASSERT_TRUE(w.ok());
  buffer.resize(w.size);
  const auto packet = rtc::RtcpPacket::parse(buffer);
  ASSERT_TRUE(packet);
  const auto fb = rtc::TransportFeedback::parse(*packet);
  ASSERT_TRUE(fb);
  e.on_transport_feedback(*fb, now);
}

// A bottleneck: a link of capacity C with a FIFO queue that drops a packet which would wait
// longer than `queue` (a token bucket with that latency), a one-way propagation delay, and
// a receiver that returns transport-wide feedback every 50 ms. The sender sends what the
// estimate allows (up to `source_max_bps`) every 10 ms in packets of up to 1200 bytes.
class Bottleneck {
 public:
  explicit Bottleneck(double capacity_bps, BandwidthEstimatorConfig config = {})
      : estimator_(config), capacity_bps_(capacity_bps) {}

  void set_capacity(double bps) { capacity_bps_ = bps; }
  void set_random_loss(double fraction) { random_loss_ = fraction; }
  void set_remb(std::optional<std::uint64_t> bps) { remb_ = bps; }
  void set_source_max(double bps) { source_max_bps_ = bps; }

  BandwidthEstimator& estimator() { return estimator_; }
  Clock::time_point now() const { return kT0 + microseconds(t_us_); }
  std::uint64_t estimate() const { return estimator_.estimate_bps(now()); }

  // Runs for `duration`; returns the estimate sampled every 100 ms.
  std::vector<std::uint64_t> run(milliseconds duration) {
    std::vector<std::uint64_t> samples;
    const std::int64_t end = t_us_ + duration.count() * 1000;
    for (; t_us_ < end; t_us_ += 1'000) {
      if (t_us_ % 10'000 == 0) send_tick();
      if (t_us_ % 50'000 == 0) feedback_tick();
      deliver_feedback();
      if (remb_ && t_us_ % 500'000 == 0) estimator_.on_remb(*remb_, now());
      if (t_us_ % 100'000 == 0) samples.push_back(estimate());
    }
    return samples;
  }

 private:
  void send_tick() {
    const double rate = std::min<double>(static_cast<double>(estimate()), source_max_bps_);
    credit_bytes_ += rate * 0.010 / 8;
    while (credit_bytes_ >= 200) {
      const auto bytes = static_cast<std::size_t>(std::min(credit_bytes_, 1200.0));
      credit_bytes_ -= static_cast<double>(bytes);
      estimator_.on_packet_sent(seq_, bytes, now());
      // The link: FIFO, serialisation at capacity, tail drop beyond the queue latency.
      const std::int64_t start = std::max(t_us_, busy_until_us_);
      const bool queue_full = start - t_us_ > kQueueUs;
      rng_ = rng_ * 1103515245u + 12345u;
      const bool random_drop = ((rng_ >> 8) % 10'000) < random_loss_ * 10'000;
      if (!queue_full) {
        busy_until_us_ =
            start + static_cast<std::int64_t>(static_cast<double>(bytes) * 8e6 / capacity_bps_);
        if (!random_drop) in_flight_.push_back({seq_, busy_until_us_ + kPropagationUs});
      }
      ++seq_;
    }
  }

  void feedback_tick() {
    std::vector<rtc::TwccArrival> arrivals;
    while (!in_flight_.empty() && in_flight_.front().second <= t_us_) {
      // The receiver's clock has its own origin.
      arrivals.push_back({in_flight_.front().first, in_flight_.front().second + kRemoteOffsetUs});
      in_flight_.pop_front();
    }
    if (arrivals.empty()) return;
    std::vector<std::uint8_t> buffer(16'000);
    const auto w = rtc::write_transport_feedback(buffer, 1, 2, feedback_count_++, arrivals);
    ASSERT_TRUE(w.ok());
    buffer.resize(w.size);
    feedback_.push_back({t_us_ + kPropagationUs, std::move(buffer)});
  }

  void deliver_feedback() {
    while (!feedback_.empty() && feedback_.front().first <= t_us_) {
      auto& bytes = feedback_.front().second;
      const auto packet = rtc::RtcpPacket::parse(bytes);
      ASSERT_TRUE(packet);
      const auto fb = rtc::TransportFeedback::parse(*packet);
      ASSERT_TRUE(fb);
      estimator_.on_transport_feedback(*fb, now());
      feedback_.pop_front();
    }
  }

  static constexpr std::int64_t kQueueUs = 50'000;
  static constexpr std::int64_t kPropagationUs = 20'000;
  static constexpr std::int64_t kRemoteOffsetUs = 987'654'321;

  BandwidthEstimator estimator_;
  double capacity_bps_;
  double random_loss_ = 0;
  double source_max_bps_ = 6'000'000;
  std::optional<std::uint64_t> remb_;
  std::int64_t t_us_ = 0;
  std::uint16_t seq_ = 65'000;  // wraps early in every run
  double credit_bytes_ = 0;
  std::int64_t busy_until_us_ = 0;
  std::uint32_t rng_ = 42;
  std::deque<std::pair<std::uint16_t, std::int64_t>> in_flight_;
  std::deque<std::pair<std::int64_t, std::vector<std::uint8_t>>> feedback_;
  std::uint8_t feedback_count_ = 0;
};

double mean_of(const std::vector<std::uint64_t>& v, std::size_t from, std::size_t to) {
  double sum = 0;
  for (std::size_t i = from; i < to; ++i) sum += static_cast<double>(v[i]);
  return sum / static_cast<double>(to - from);
}
std::uint64_t max_of(const std::vector<std::uint64_t>& v, std::size_t from, std::size_t to) {
  return *std::max_element(v.begin() + static_cast<std::ptrdiff_t>(from),
                           v.begin() + static_cast<std::ptrdiff_t>(to));
}

// ---------------------------------------------------------------------------------------
// Simulations

TEST(BandwidthEstimatorSim, ConvergesUnder300Kbps) {
  Bottleneck sim(300'000);
  const auto s = sim.run(seconds(30));
  // Settles below the capacity within a few seconds (the additive increase probes a
  // little above it now and then)...
  EXPECT_LE(max_of(s, 50, 300), 345'000u);
  EXPECT_LE(mean_of(s, 50, 300), 300'000.0);
  // ...and uses a good part of it.
  EXPECT_GT(mean_of(s, 100, 300), 150'000.0);
}

TEST(BandwidthEstimatorSim, ConvergesUnder2Mbps) {
  Bottleneck sim(2'000'000);
  const auto s = sim.run(seconds(30));
  EXPECT_LE(mean_of(s, 100, 300), 2'000'000.0);
  EXPECT_LE(max_of(s, 100, 300), 2'200'000u);
  EXPECT_GT(mean_of(s, 100, 300), 1'000'000.0);
}

TEST(BandwidthEstimatorSim, DropsWhenCapacityFalls) {
  Bottleneck sim(2'000'000);
  sim.run(seconds(20));
  ASSERT_GT(sim.estimate(), 1'000'000u);
  sim.set_capacity(300'000);
  const auto s = sim.run(seconds(10));
  EXPECT_LE(s[20], 450'000u) << "2 s after the drop";
  EXPECT_LE(mean_of(s, 30, 100), 300'000.0);
  EXPECT_GT(mean_of(s, 30, 100), 150'000.0);
}

TEST(BandwidthEstimatorSim, RecoversWhenCapacityRises) {
  Bottleneck sim(300'000);
  sim.run(seconds(20));
  ASSERT_LE(sim.estimate(), 330'000u);
  sim.set_capacity(10'000'000);
  const auto s = sim.run(seconds(20));
  const auto reached = std::find_if(s.begin(), s.end(), [](auto v) { return v >= 2'000'000; });
  ASSERT_NE(reached, s.end());
  EXPECT_LE(reached - s.begin(), 150) << "tenths of a second to reach 2 Mbit/s";
}

TEST(BandwidthEstimatorSim, RandomLossAloneDrivesItDown) {
  Bottleneck sim(50'000'000);  // no queue ever builds
  sim.set_source_max(2'000'000);
  sim.run(seconds(10));
  const std::uint64_t before = sim.estimate();
  ASSERT_GE(before, 2'000'000u);
  sim.set_random_loss(0.25);
  const auto first = sim.run(seconds(1));
  EXPECT_NEAR(sim.estimator().loss_fraction(), 0.25, 0.1);  // still many packets per window
  EXPECT_LT(first.back(), before * 3 / 4);
  const auto s = sim.run(seconds(9));
  EXPECT_LT(s[20], before / 2);
  EXPECT_LE(s.back(), 200'000u);
  EXPECT_EQ(sim.estimator().delay_state(), BandwidthUsage::kNormal);
  // Modest loss (between 2 % and 10 %) holds; no loss lets it grow again.
  sim.set_random_loss(0.05);
  const std::uint64_t held = sim.estimate();
  const auto h = sim.run(seconds(5));
  EXPECT_LE(max_of(h, 0, h.size()), held * 2);
  sim.set_random_loss(0);
  sim.run(seconds(15));
  EXPECT_GE(sim.estimate(), 1'500'000u);
}

TEST(BandwidthEstimatorSim, RembCapsTheEstimate) {
  Bottleneck sim(50'000'000);
  sim.set_remb(600'000);
  const auto s = sim.run(seconds(10));
  EXPECT_LE(max_of(s, 10, 100), 600'000u);
  EXPECT_EQ(s.back(), 600'000u);
  // When REMBs stop the bound expires after 2 s and the estimate grows again.
  sim.set_remb(std::nullopt);
  sim.run(seconds(10));
  EXPECT_GT(sim.estimate(), 1'000'000u);
}

TEST(BandwidthEstimatorSim, RisesAboveWhatIsSentWithoutProbing) {
  // The sender only sends 300 kbit/s of its own accord (one low layer); the estimate must
  // still climb so that the allocator can try a higher layer.
  BandwidthEstimatorConfig config;
  config.start_bps = 300'000;
  Bottleneck sim(10'000'000, config);
  sim.set_source_max(300'000);
  sim.run(seconds(10));
  EXPECT_GE(sim.estimate(), 1'700'000u);
  EXPECT_LE(sim.estimate(), 1'900'000u);  // capped at acknowledged + 1.5 Mbit/s
}

// ---------------------------------------------------------------------------------------
// Unit behaviour

TEST(BandwidthEstimator, StartsAtStartAndClampsConfig) {
  BandwidthEstimator e;
  EXPECT_EQ(e.estimate_bps(kT0), 1'000'000u);
  EXPECT_EQ(e.acknowledged_bps(kT0), 0u);
  EXPECT_EQ(e.loss_fraction(), 0.0);
  BandwidthEstimator low({.start_bps = 10, .min_bps = 100'000, .max_bps = 200'000});
  EXPECT_EQ(low.estimate_bps(kT0), 100'000u);
  BandwidthEstimator high({.start_bps = 5'000'000, .min_bps = 100'000, .max_bps = 200'000});
  EXPECT_EQ(high.estimate_bps(kT0), 200'000u);
}

TEST(BandwidthEstimator, AcknowledgedBitrateOfASteadyFlow) {
  BandwidthEstimator e;
  // 1 Mbit/s: 1250-byte packets every 10 ms, arriving 30 ms later; feedback every 50 ms.
  std::vector<rtc::TwccArrival> batch;
  for (int i = 0; i < 300; ++i) {
    const auto seq = static_cast<std::uint16_t>(65'500 + i);
    e.on_packet_sent(seq, 1'250, kT0 + milliseconds(10 * i));
    batch.push_back({seq, 10'000 * i + 30'000});
    if (batch.size() == 5) {
      feed(e, batch, kT0 + milliseconds(10 * i + 40));
      batch.clear();
    }
  }
  const auto now = kT0 + milliseconds(3'000);
  EXPECT_NEAR(static_cast<double>(e.acknowledged_bps(now)), 1'000'000.0, 60'000.0);
  EXPECT_EQ(e.loss_fraction(), 0.0);
  // It decays once feedback stops.
  EXPECT_EQ(e.acknowledged_bps(now + milliseconds(1'300)), 0u);
  EXPECT_LT(e.acknowledged_bps(now + milliseconds(700)), 600'000u);
}

TEST(BandwidthEstimator, IgnoresUnknownAndRepeatedStatuses) {
  BandwidthEstimator e;
  for (int i = 0; i < 10; ++i) {
    e.on_packet_sent(static_cast<std::uint16_t>(i), 1'000, kT0 + milliseconds(i));
  }
  std::vector<rtc::TwccArrival> arrivals;
  for (int i = 0; i < 10; ++i) arrivals.push_back({static_cast<std::uint16_t>(i), 1'000 * i});
  feed(e, arrivals, kT0 + milliseconds(50));
  const auto once = e.acknowledged_bps(kT0 + milliseconds(50));
  EXPECT_GT(once, 0u);
  feed(e, arrivals, kT0 + milliseconds(50));  // the same feedback again
  EXPECT_EQ(e.acknowledged_bps(kT0 + milliseconds(50)), once);
  // Feedback about packets never sent (ahead of the history) changes nothing.
  std::vector<rtc::TwccArrival> unknown;
  for (int i = 0; i < 10; ++i) unknown.push_back({static_cast<std::uint16_t>(3000 + i), 1'000 * i});
  feed(e, unknown, kT0 + milliseconds(50));
  EXPECT_EQ(e.acknowledged_bps(kT0 + milliseconds(50)), once);
}

// Sends 40 packets in 400 ms; returns after feedback that reports only the odd ones or
// skips whole stretches.
TEST(BandwidthEstimator, CountsLossFromStatusesAndFromSkippedPackets) {
  BandwidthEstimator e;
  for (int i = 0; i < 40; ++i) {
    e.on_packet_sent(static_cast<std::uint16_t>(i), 500, kT0 + milliseconds(10 * i));
  }
  // First feedback: 0..9 all received. Second: base 20 (10..19 never mentioned: lost),
  // 20..39 with every fourth lost.
  std::vector<rtc::TwccArrival> first, second;
  for (int i = 0; i < 10; ++i) first.push_back({static_cast<std::uint16_t>(i), 10'000 * i});
  for (int i = 20; i < 40; ++i) {
    if (i % 4 != 1) second.push_back({static_cast<std::uint16_t>(i), 10'000 * i});
  }
  feed(e, first, kT0 + milliseconds(120), 0);
  feed(e, second, kT0 + milliseconds(420), 1);
  // 10 skipped + 5 reported lost of 40.
  EXPECT_NEAR(e.loss_fraction(), 15.0 / 40.0, 1e-9);
  EXPECT_LT(e.loss_based_bps(), 1'000'000u);
  EXPECT_LT(e.estimate_bps(kT0 + milliseconds(420)), 1'000'000u);
}

TEST(BandwidthEstimator, LatePacketIsTakenBackFromTheLosses) {
  BandwidthEstimator e;
  for (int i = 0; i < 30; ++i) {
    e.on_packet_sent(static_cast<std::uint16_t>(i), 500, kT0 + milliseconds(10 * i));
  }
  std::vector<rtc::TwccArrival> a, late;
  for (int i = 0; i < 30; ++i) {
    if (i != 5) a.push_back({static_cast<std::uint16_t>(i), 10'000 * i});
  }
  late.push_back({5, 60'000});
  feed(e, a, kT0 + milliseconds(100), 0);
  feed(e, late, kT0 + milliseconds(200), 1);
  std::vector<rtc::TwccArrival> more = {{30, 300'000}};
  e.on_packet_sent(30, 500, kT0 + milliseconds(300));
  feed(e, more, kT0 + milliseconds(400), 2);
  EXPECT_EQ(e.loss_fraction(), 0.0);
}

TEST(BandwidthEstimator, ReceiverReportLossWithoutTwcc) {
  BandwidthEstimator e;
  auto t = kT0;
  for (int i = 0; i < 5; ++i) {
    t += seconds(1);
    e.on_loss_report(64, t);  // 25 %
  }
  EXPECT_NEAR(e.loss_fraction(), 0.25, 1e-9);
  // Each report: × (1 - 0.125).
  EXPECT_NEAR(static_cast<double>(e.estimate_bps(t)), 1e6 * std::pow(0.875, 5), 2.0);
  const auto low = e.estimate_bps(t);
  for (int i = 0; i < 5; ++i) {
    t += seconds(1);
    e.on_loss_report(12, t);  // ~4.7 %: hold
  }
  EXPECT_EQ(e.estimate_bps(t), low);
  for (int i = 0; i < 20; ++i) {
    t += seconds(1);
    e.on_loss_report(0, t);
  }
  EXPECT_GT(e.estimate_bps(t), 4'000'000u);  // no ack-based cap without TWCC
}

TEST(BandwidthEstimator, ReceiverReportLossIsIgnoredOnceTwccRuns) {
  BandwidthEstimator e;
  e.on_packet_sent(1, 1'000, kT0);
  feed(e, {{1, 0}}, kT0 + milliseconds(50));
  const auto before = e.estimate_bps(kT0 + milliseconds(60));
  e.on_loss_report(200, kT0 + milliseconds(60));
  EXPECT_EQ(e.estimate_bps(kT0 + milliseconds(60)), before);
}

TEST(BandwidthEstimator, RembExpires) {
  BandwidthEstimator e;
  e.on_remb(300'000, kT0);
  EXPECT_EQ(e.estimate_bps(kT0 + seconds(1)), 300'000u);
  EXPECT_EQ(e.estimate_bps(kT0 + milliseconds(2'000)), 300'000u);
  EXPECT_EQ(e.estimate_bps(kT0 + milliseconds(2'001)), 1'000'000u);
  e.on_remb(10, kT0 + seconds(3));
  EXPECT_EQ(e.estimate_bps(kT0 + seconds(3)), 50'000u);  // clamped to min
}

// Groups whose arrival spacing grows steadily: the trendline sees overuse and the rate
// drops to 0.85 × the acknowledged bitrate.
TEST(BandwidthEstimator, DetectsOveruseFromGrowingDelay) {
  BandwidthEstimator e;
  std::vector<rtc::TwccArrival> batch;
  std::int64_t arrival = 0;
  bool overused = false;
  for (int i = 0; i < 200 && !overused; ++i) {
    const auto seq = static_cast<std::uint16_t>(i);
    e.on_packet_sent(seq, 1'200, kT0 + milliseconds(10 * i));
    arrival += 12'000;  // sent every 10 ms, delivered every 12 ms: the queue grows
    batch.push_back({seq, arrival});
    if (batch.size() == 5) {
      feed(e, batch, kT0 + milliseconds(10 * i + 40), static_cast<std::uint8_t>(i));
      batch.clear();
      overused = e.delay_state() == BandwidthUsage::kOverusing;
    }
  }
  ASSERT_TRUE(overused);
  // 1200 bytes per 12 ms is 800 kbit/s acknowledged.
  EXPECT_NEAR(static_cast<double>(e.delay_based_bps()), 0.85 * 800'000, 60'000);
}

TEST(BandwidthEstimator, SurvivesReferenceTimeWrap) {
  BandwidthEstimator e;
  // Arrival times just below the 24-bit wrap of the 64 ms reference (2^24 × 64 ms).
  const std::int64_t wrap_us = (std::int64_t{1} << 24) * 64'000;
  std::int64_t arrival = wrap_us - 2'000'000;
  for (int i = 0; i < 400; ++i) {
    const auto seq = static_cast<std::uint16_t>(i);
    e.on_packet_sent(seq, 1'000, kT0 + milliseconds(10 * i));
    arrival += 10'000;
    feed(e, {{seq, arrival}}, kT0 + milliseconds(10 * i + 30), static_cast<std::uint8_t>(i));
  }
  // Steady delivery across the wrap: no overuse, a sane acknowledged rate, growth.
  EXPECT_NE(e.delay_state(), BandwidthUsage::kOverusing);
  EXPECT_NEAR(static_cast<double>(e.acknowledged_bps(kT0 + milliseconds(4'030))), 800'000, 80'000);
  EXPECT_GT(e.estimate_bps(kT0 + seconds(4)), 1'000'000u);
}

}  // namespace
}  // namespace conclave::sfu
