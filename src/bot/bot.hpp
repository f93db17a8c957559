// One headless participant of our own server (docs/bench.md): joins through the real
// signaling protocol (passcode; waits when held in the waiting room), publishes synthetic
// media (bot/media.hpp) on a publish connection, subscribes to everyone on a subscribe
// connection as a browser does (asks for the full layer of every video, sends
// transport-wide CC feedback), and keeps what it measured.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <set>

#include "bot/client_transport.hpp"
#include "bot/e2ee_session.hpp"
#include "bot/media.hpp"
#include "bot/signal_client.hpp"

namespace conclave::bot {

struct BotOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string bind = "127.0.0.1";  // local address for media sockets
  std::string meeting, passcode, name = "bot", host_key;
  std::string cookie;  // a signed-in account's session cookie ("conclave_session=…")
  SenderOptions media;
  bool subscribe = true;
  // End-to-end encryption as the browser does it (docs/e2ee.md): required to take part in
  // an E2EE meeting with browsers, and a cost to measure.
  bool e2ee = false;
};

// What every kind of bot (ours, Janus's) reports.
class Participant {
 public:
  virtual ~Participant() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual const std::string& error() const = 0;
  virtual std::optional<double> join_ms() const = 0;
  virtual const std::map<std::uint32_t, StreamStats>& received() const = 0;
  virtual std::uint64_t packets_sent() const = 0;
  // Forget what was measured so far: measurement starts now (after a warm-up).
  virtual void reset_stats() = 0;
  bool failed() const { return !error().empty(); }
};

class Bot final : public Participant {
 public:
  Bot(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate, BotOptions options,
      int index);
  ~Bot() override;

  void start() override;
  void stop() override;
  const std::string& error() const override { return error_; }
  std::optional<double> join_ms() const override { return join_ms_; }
  const std::map<std::uint32_t, StreamStats>& received() const override {
    return receiver_.received();
  }
  std::uint64_t packets_sent() const override { return pub_ ? pub_->counters().rtp_out : 0; }
  void reset_stats() override { receiver_.reset_stats(); }
  const std::string& id() const { return id_; }
  // With --e2ee: how many frames opened and failed, and the security code.
  std::uint64_t frames_opened() const { return receiver_.frames_opened(); }
  std::uint64_t frames_refused() const { return receiver_.frames_refused(); }
  std::string security_code() const { return e2ee_ ? e2ee_->security_code() : std::string(); }
  std::size_t key_holders() const { return e2ee_ ? e2ee_->holders() : 0; }

 private:
  void fail(std::string why);
  void on_event(const nlohmann::json& e);
  void publish();
  void on_subscribe_offer(const nlohmann::json& e);

  boost::asio::io_context& io_;
  const rtc::DtlsCertificate& certificate_;
  BotOptions opt_;
  int index_;
  std::unique_ptr<SignalClient> sig_;
  std::unique_ptr<ClientTransport> pub_, sub_;
  MediaSender sender_;
  MediaReceiver receiver_;
  std::string id_, error_;
  std::chrono::steady_clock::time_point started_{};
  std::optional<double> join_ms_;
  int sub_version_ = -1;
  std::map<std::string, std::string> sub_kinds_;  // track id -> kind
  std::set<std::string> roster_;                  // the others, as the server told us
  std::unique_ptr<E2eeSession> e2ee_;
  void admitted(const nlohmann::json& roster);
  bool stopped_ = false;
};

}  // namespace conclave::bot
