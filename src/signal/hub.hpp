// Owns the open signaling WebSockets: takes upgraded connections from the HTTP server,
// runs one session per connection (a read loop and a write loop, as coroutines on the
// control thread), feeds every text message to the Dispatcher, and closes them all when
// the server drains. Counts what happens in conclave_websocket_* metrics.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "common/metrics.hpp"
#include "http/router.hpp"
#include "signal/dispatcher.hpp"
#include "signal/session.hpp"

namespace conclave::signal {

struct HubLimits {
  std::size_t max_message_bytes = 64 * 1024;
  std::chrono::seconds idle_timeout{40};
  std::chrono::seconds handshake_timeout{10};
  std::size_t max_queued_bytes = 1024 * 1024;  // per session, outgoing
};

// Why a session ended, as counted in conclave_websocket_closed_total{reason}.
enum class CloseReason { kPeer, kOversize, kTimeout, kQueueFull, kProtocol, kServer, kError };

class Hub final : public http::WebSocketUpgrades {
 public:
  Hub(boost::asio::io_context& io, HubLimits limits, const Dispatcher& dispatcher,
      metrics::Registry& registry, bool tls);
  ~Hub() override;

  bool accepting() const override { return accepting_; }
  void accept(http::TcpStream stream, http::Request request) override;
  void accept(http::TlsStream stream, http::Request request) override;

  // Drain: refuse new sessions; `on_empty` runs once no session is left (at once if none).
  void stop_accepting(std::function<void()> on_empty);
  // Closes every open session with `code` (e.g. going_away at the end of a drain).
  void close_all(boost::beast::websocket::close_code code, const std::string& reason);
  std::size_t size() const { return sessions_.size(); }
  // The open session with this id, if any.
  std::shared_ptr<Session> find(std::uint64_t id) const;
  // Called (control thread) after a session has ended, for whatever reason.
  void on_closed(std::function<void(std::uint64_t)> callback) { on_closed_ = std::move(callback); }

  // For the sessions.
  const HubLimits& limits() const { return limits_; }
  const Dispatcher& dispatcher() const { return dispatcher_; }
  bool tls() const { return tls_; }
  std::uint64_t attach(std::shared_ptr<Session> session);
  void detach(std::uint64_t id, CloseReason reason);
  void count_received() { received_.inc(); }
  void count_sent() { sent_.inc(); }

 private:
  boost::asio::io_context& io_;
  HubLimits limits_;
  const Dispatcher& dispatcher_;  // Passed by argument.
  bool tls_;
  bool accepting_ = true;
  std::function<void()> on_empty_;
  std::function<void(std::uint64_t)> on_closed_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;

  metrics::Gauge& open_;
  metrics::Counter& opened_;
  metrics::Counter& received_;
  metrics::Counter& sent_;
  metrics::Family<metrics::Counter>& closed_;
};

}  // namespace conclave::signal
