// One headless participant (docs/bench.md): joins through the real signaling protocol,
// publishes synthetic media on a publish connection (Opus-sized audio at 50 packets/s and
// VP8-shaped video in three simulcast layers, key frames periodically and on request),
// subscribes like a browser on a subscribe connection, and measures what arrives: every
// payload carries the sender's send time and a sequence number, so one-way latency
// through the server and loss are measured at the receiver (all bots of a machine share
// CLOCK_MONOTONIC).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/client_transport.hpp"
#include "bot/signal_client.hpp"

namespace conclave::bot {

struct BotOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string bind = "127.0.0.1";  // local address for media sockets
  std::string meeting, passcode, name = "bot", host_key;
  bool publish_audio = true;
  bool publish_video = true;
  bool speaking = true;                            // audio level says speech
  std::vector<int> layer_kbps = {150, 500, 1500};  // q, h, f
  int fps = 30;
  std::chrono::milliseconds keyframe_interval{3000};
  bool subscribe = true;
};

// Latency samples (µs) and counts for one received stream.
struct StreamStats {
  std::string kind;
  std::uint64_t packets = 0, bytes = 0;
  std::uint32_t first_seq = 0, last_seq = 0;  // extended RTP sequence numbers
  bool any = false;
  std::vector<std::uint32_t> latency_us;
  std::uint64_t expected() const { return any ? last_seq - first_seq + 1 : 0; }
};

class Bot {
 public:
  Bot(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate, BotOptions options,
      int index);
  ~Bot();

  void start();
  void stop();

  // Results.
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& id() const { return id_; }
  std::optional<double> join_ms() const { return join_ms_; }
  const std::map<std::uint32_t, StreamStats>& received() const { return received_; }
  std::uint64_t packets_sent() const;
  std::uint64_t keyframes_sent() const { return keyframes_sent_; }
  std::uint64_t keyframe_requests() const { return keyframe_requests_; }
  bool publishing() const;
  bool subscribed() const;

 private:
  struct Layer {
    std::string rid;
    std::uint32_t ssrc = 0;
    std::uint16_t seq = 0;
    std::uint32_t payload_seq = 0;
    int kbps = 0;
    bool want_keyframe = true;
    std::chrono::steady_clock::time_point last_keyframe{};
  };

  void fail(std::string why);
  void on_event(const nlohmann::json& e);
  void publish();
  void on_publish_answer(const std::string& sdp);
  void on_subscribe_offer(const nlohmann::json& e);
  std::string publish_offer() const;
  void tick_audio();
  void tick_video();
  void send_video_frame(Layer& layer);
  void on_rtp(std::span<std::uint8_t> packet);
  void on_pub_rtcp(std::span<std::uint8_t> packet);

  boost::asio::io_context& io_;
  const rtc::DtlsCertificate& certificate_;
  BotOptions opt_;
  int index_;
  std::unique_ptr<SignalClient> sig_;
  std::unique_ptr<ClientTransport> pub_, sub_;
  std::string id_, error_;
  std::chrono::steady_clock::time_point started_{};
  std::optional<double> join_ms_;
  boost::asio::steady_timer audio_timer_, video_timer_, report_timer_;
  std::uint32_t audio_ssrc_ = 0, audio_ts_ = 0, audio_payload_seq_ = 0;
  std::uint16_t audio_seq_ = 0;
  std::uint32_t video_ts_ = 0;
  std::uint16_t picture_id_ = 0;
  std::vector<Layer> layers_;
  std::uint64_t keyframes_sent_ = 0, keyframe_requests_ = 0;
  int sub_version_ = -1;
  std::map<std::uint32_t, StreamStats> received_;  // by received SSRC
  std::map<std::string, std::string> sub_kinds_;   // track id -> kind
  // Transport-wide congestion control feedback (the server's downlink estimate needs it):
  // arrivals since the last feedback, by unwrapped transport sequence number.
  std::uint8_t twcc_ext_ = 0;
  std::uint32_t twcc_last_ = 0;
  bool twcc_any_ = false;
  std::vector<std::pair<std::uint32_t, std::int64_t>> twcc_arrivals_;
  std::uint8_t twcc_count_ = 0;
  std::uint32_t feedback_ssrc_ = 0;
  void send_feedback();
  bool stopped_ = false;
};

}  // namespace conclave::bot
