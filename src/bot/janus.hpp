// The Janus adapter of conclave-bot (issue 9): the same synthetic publishers and
// subscribers as `Bot`, against the VideoRoom plugin of Janus 1.1.2 (Debian package
// `janus`), so that one table compares the two servers.
//
// One WebSocket per participant (subprotocol janus-protocol), the Janus API as JSON
// messages with transaction ids:
//   create (session, keepalive every 25 s) → attach janus.plugin.videoroom (the room
//   handle) → the first bot creates the room ("already exists" is fine, a room too small
//   from an earlier run is edited up) → join as publisher (everyone, publishing or not:
//   this is how VideoRoom tells a participant about publishers) → configure with our
//   publish offer (a=setup:active: our ClientTransport is always the DTLS client; rid
//   order low to high) → Janus's answer → ICE/DTLS/SRTP → MediaSender.
//   Subscribing: one more handle for all the feeds (Janus 1.x subscribes one handle to
//   several publishers): join as subscriber with streams [{feed}...] → Janus's offer →
//   answer_sdp → start with the answer → ICE/DTLS/SRTP → MediaReceiver. Publishers that
//   appear later (a `publishers` event on the room handle) are added to the same
//   subscription with update {subscribe:[{feed}]}; each new offer Janus sends on that
//   handle (after update, or when a publisher leaves) is answered with start.
//
// Single-threaded on the caller's io_context, as Bot.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/bot.hpp"
#include "bot/client_transport.hpp"
#include "bot/media.hpp"

namespace conclave::bot {

struct JanusOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8188;
  std::string path = "/";
  std::uint64_t room = 1234;
  bool create_room = false;  // this participant creates the room before joining
  int room_publishers = 1;   // the room's "publishers" (concurrent publishers allowed)
  int room_bitrate = 0;      // the room's "bitrate" (bit/s Janus allows each publisher)
};

// ws://<IP address>:<port>[/path] into `out`; false and `error` otherwise.
bool parse_janus_url(const std::string& url, JanusOptions& out, std::string& error);

class JanusConnection;

class JanusParticipant final : public Participant {
 public:
  JanusParticipant(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate,
                   BotOptions options, JanusOptions janus, int index);
  ~JanusParticipant() override;

  void start() override;
  void stop() override;
  const std::string& error() const override { return error_; }
  std::optional<double> join_ms() const override { return join_ms_; }
  const std::map<std::uint32_t, StreamStats>& received() const override {
    return receiver_.received();
  }
  std::uint64_t packets_sent() const override { return pub_ ? pub_->counters().rtp_out : 0; }
  void reset_stats() override { receiver_.reset_stats(); }

 private:
  using Reply = std::function<void(const nlohmann::json& message)>;

  void fail(std::string why);
  // Janus API requests on our session.
  void attach(std::function<void(std::uint64_t handle)> done);
  // A VideoRoom request; `done` gets the plugin's data and the jsep, if any (null when
  // absent). Errors of the core or the plugin fail the participant unless `on_error` is
  // given and returns true.
  void message(std::uint64_t handle, nlohmann::json body, const nlohmann::json* jsep,
               std::function<void(const nlohmann::json& data, const nlohmann::json* jsep)> done,
               std::function<bool(int code, const std::string& reason)> on_error = nullptr);
  void trickle_local(std::uint64_t handle, const ClientTransport& transport,
                     const std::string& mid);
  void keepalive();

  void create_room();
  void join_room();
  void on_joined(const nlohmann::json& data);
  void publish();
  void add_feeds(const nlohmann::json& publishers);
  void subscribe_pending();
  void on_subscribe_offer(const nlohmann::json& jsep);
  void on_event(const nlohmann::json& message);
  void on_trickle(std::uint64_t handle, const nlohmann::json& candidate);

  boost::asio::io_context& io_;
  const rtc::DtlsCertificate& certificate_;
  BotOptions opt_;
  JanusOptions janus_;
  int index_;
  std::unique_ptr<JanusConnection> conn_;
  boost::asio::steady_timer keepalive_timer_, retry_timer_;
  std::unique_ptr<ClientTransport> pub_, sub_;
  // Janus's parameters waiting for a trickled candidate (none in its SDP).
  std::optional<ClientTransport::Remote> pub_remote_, sub_remote_;
  MediaSender sender_;
  MediaReceiver receiver_;
  std::uint64_t session_ = 0, room_handle_ = 0, sub_handle_ = 0;
  std::uint64_t my_id_ = 0, private_id_ = 0;
  enum class SubState : std::uint8_t { kNone, kJoining, kReady };
  SubState sub_state_ = SubState::kNone;
  std::set<std::uint64_t> feeds_;             // every feed asked for
  std::vector<std::uint64_t> pending_feeds_;  // not yet asked for
  std::string error_;
  std::chrono::steady_clock::time_point started_{};
  std::optional<double> join_ms_;
  int join_attempts_ = 0;
  bool stopped_ = false;
};

}  // namespace conclave::bot
