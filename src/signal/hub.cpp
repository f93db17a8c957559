#include "signal/hub.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

#include "http/security_headers.hpp"

namespace conclave::signal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

const char* reason_label(CloseReason r) {
  switch (r) {
    case CloseReason::kPeer:
      return "peer";
    case CloseReason::kOversize:
      return "oversize";
    case CloseReason::kTimeout:
      return "timeout";
    case CloseReason::kQueueFull:
      return "send_queue_full";
    case CloseReason::kProtocol:
      return "protocol";
    case CloseReason::kServer:
      return "server";
    case CloseReason::kError:
      return "error";
  }
  return "error";
}

// One WebSocket connection. The read loop and the write loop are two coroutines on the
// control thread; they share the outbox and a timer used as a wake-up signal, with no
// lock because they never run at the same time. Both hold a shared_ptr to the session,
// which therefore lives until both have finished.
template <class Stream>
class WsSession final : public Session, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream stream, Hub& hub, const http::Request& request)
      : ws_(std::move(stream)), hub_(hub), wake_(ws_.get_executor()) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    const auto peer = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    if (!ec) peer_address_ = peer.address().to_string();
    if (const auto it = request.find(beast::http::field::cookie); it != request.end())
      cookie_ = std::string(it->value());
  }

  static asio::awaitable<void> run(std::shared_ptr<WsSession> self, http::Request request) {
    co_await self->read_loop(std::move(request));
  }

  std::uint64_t id() const override { return id_; }
  const std::string& peer_address() const override { return peer_address_; }
  const std::string& cookie() const override { return cookie_; }

  void send(std::string text) override {
    if (close_requested_ || finished_) return;
    if (queued_bytes_ + text.size() > hub_.limits().max_queued_bytes) {
      reason_ = CloseReason::kQueueFull;
      close(websocket::close_code::policy_error, "send queue full");
      return;
    }
    queued_bytes_ += text.size();
    outbox_.push_back(std::move(text));
    wake_.cancel();
  }

  void close(websocket::close_code code, std::string reason) override {
    if (close_requested_ || finished_) return;
    close_requested_ = true;
    if (reason_ == CloseReason::kPeer) reason_ = CloseReason::kServer;
    close_reason_ = websocket::close_reason(code, reason);
    wake_.cancel();
  }

 private:
  asio::awaitable<void> read_loop(http::Request request) {
    const auto& limits = hub_.limits();
    ws_.read_message_max(limits.max_message_bytes);
    // Beast sends a ping at half the idle timeout and gives up when nothing at all has
    // arrived for the whole of it (RFC 6455 §5.5.2 pings as keepalive).
    ws_.set_option(websocket::stream_base::timeout{limits.handshake_timeout, limits.idle_timeout,
                                                   /*keep_alive_pings=*/true});
    const bool tls = hub_.tls();
    ws_.set_option(websocket::stream_base::decorator(
        [tls](websocket::response_type& res) { http::apply_security_headers(res, tls); }));
    boost::system::error_code ec;
    co_await ws_.async_accept(request, redirect_error(use_awaitable, ec));
    if (ec) co_return;

    id_ = hub_.attach(this->shared_from_this());
    asio::co_spawn(ws_.get_executor(), write_loop(this->shared_from_this()), asio::detached);

    beast::flat_buffer buffer;
    for (;;) {
      co_await ws_.async_read(buffer, redirect_error(use_awaitable, ec));
      if (ec) break;
      hub_.count_received();
      if (close_requested_) {
        buffer.consume(buffer.size());
        continue;  // draining the peer's last messages until its close frame arrives
      }
      if (!ws_.got_text()) {
        reason_ = CloseReason::kProtocol;
        close(websocket::close_code::unknown_data, "binary messages are not part of the protocol");
        buffer.consume(buffer.size());
        continue;
      }
      const auto data = buffer.cdata();
      const std::string_view text(static_cast<const char*>(data.data()), data.size());
      std::string reply = hub_.dispatcher().dispatch(*this, text);
      buffer.consume(buffer.size());
      send(std::move(reply));
    }
    // Beast has already answered an oversized message with close code 1009 (RFC 6455 §7.4.1).
    if (ec == websocket::error::message_too_big) {
      reason_ = CloseReason::kOversize;
    } else if (ec == beast::error::timeout) {
      reason_ = CloseReason::kTimeout;
    } else if (ec != websocket::error::closed && reason_ == CloseReason::kPeer) {
      reason_ = CloseReason::kError;
    }
    finished_ = true;
    wake_.cancel();
    hub_.detach(id_, reason_);
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<WsSession> self) {
    auto& s = *self;
    boost::system::error_code ec;
    for (;;) {
      while (!s.outbox_.empty() && !s.finished_) {
        s.ws_.text(true);
        co_await s.ws_.async_write(asio::buffer(s.outbox_.front()),
                                   redirect_error(use_awaitable, ec));
        if (ec) co_return;
        s.queued_bytes_ -= s.outbox_.front().size();
        s.outbox_.pop_front();
        s.hub_.count_sent();
      }
      if (s.finished_) co_return;
      if (s.close_requested_) {
        co_await s.ws_.async_close(s.close_reason_, redirect_error(use_awaitable, ec));
        co_return;  // the read loop sees the peer's close frame (or the timeout) and ends
      }
      s.wake_.expires_at(asio::steady_timer::time_point::max());
      co_await s.wake_.async_wait(redirect_error(use_awaitable, ec));
    }
  }

  websocket::stream<Stream> ws_;
  Hub& hub_;  // Passed by argument; outlives every session.
  asio::steady_timer wake_;
  std::uint64_t id_ = 0;
  std::string peer_address_;  // "" if the socket could not say
  std::string cookie_;
  std::deque<std::string> outbox_;
  std::size_t queued_bytes_ = 0;
  bool close_requested_ = false;
  bool finished_ = false;
  websocket::close_reason close_reason_;
  CloseReason reason_ = CloseReason::kPeer;
};

template <class Stream>
void start_session(asio::io_context& io, Hub& hub, Stream stream, http::Request request) {
  auto session = std::make_shared<WsSession<Stream>>(std::move(stream), hub, request);
  asio::co_spawn(io, WsSession<Stream>::run(std::move(session), std::move(request)),
                 asio::detached);
}

}  // namespace

Hub::Hub(asio::io_context& io, HubLimits limits, const Dispatcher& dispatcher,
         metrics::Registry& registry, bool tls)
    : io_(io),
      limits_(limits),
      dispatcher_(dispatcher),
      tls_(tls),
      open_(registry.gauge("conclave_websocket_connections", "Open signaling WebSockets.")),
      opened_(registry.counter("conclave_websocket_connections_total",
                               "Signaling WebSockets accepted since start.")),
      received_(registry.counter("conclave_websocket_messages_received_total",
                                 "WebSocket messages received.")),
      sent_(registry.counter("conclave_websocket_messages_sent_total", "WebSocket messages sent.")),
      closed_(registry.counter_family("conclave_websocket_closed_total",
                                      "Signaling WebSockets ended, by reason.", {"reason"})) {}

Hub::~Hub() = default;

void Hub::accept(http::TcpStream stream, http::Request request) {
  start_session(io_, *this, std::move(stream), std::move(request));
}

void Hub::accept(http::TlsStream stream, http::Request request) {
  start_session(io_, *this, std::move(stream), std::move(request));
}

std::uint64_t Hub::attach(std::shared_ptr<Session> session) {
  const auto id = next_id_++;
  sessions_.emplace(id, session);
  open_.add(1);
  opened_.inc();
  return id;
}

std::shared_ptr<Session> Hub::find(std::uint64_t id) const {
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.lock();
}

void Hub::detach(std::uint64_t id, CloseReason reason) {
  if (sessions_.erase(id) == 0) return;
  open_.add(-1);
  closed_.with({reason_label(reason)}).inc();
  if (on_closed_) on_closed_(id);
  if (sessions_.empty() && on_empty_) {
    auto done = std::move(on_empty_);
    on_empty_ = nullptr;
    done();
  }
}

void Hub::stop_accepting(std::function<void()> on_empty) {
  accepting_ = false;
  if (sessions_.empty()) {
    on_empty();
  } else {
    on_empty_ = std::move(on_empty);
  }
}

void Hub::close_all(websocket::close_code code, const std::string& reason) {
  // Copy first: closing may end a session, and its detach() edits the map.
  std::vector<std::shared_ptr<Session>> open;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) s->close(code, reason);
}

}  // namespace conclave::signal
