// Decides what answers each HTTP request: /healthz, /metrics, the WebSocket upgrade at
// /ws (handed to whoever implements WebSocketUpgrades, i.e. signal::Hub), and the browser
// client's files. Runs on the control thread; every response gets the security headers
// and is counted in conclave_http_requests_total{route,status}.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "http/static_files.hpp"

namespace conclave::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using TcpStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The receiving end of a WebSocket upgrade. The stream has been read up to the end of the
// upgrade request, which is passed along for the handshake.
class WebSocketUpgrades {
 public:
  virtual ~WebSocketUpgrades() = default;
  virtual bool accepting() const = 0;
  virtual void accept(TcpStream stream, Request request) = 0;
  virtual void accept(TlsStream stream, Request request) = 0;
};

class Router {
 public:
  struct Hooks {
    // False while draining or when the store does not answer: /healthz says 503.
    std::function<bool()> ready;
    std::function<bool()> draining;
    std::function<std::string()> health_body;  // JSON
  };

  Router(bool tls, StaticFiles& files, metrics::Registry& registry, Hooks hooks);

  void set_upgrades(WebSocketUpgrades* upgrades) { upgrades_ = upgrades; }
  WebSocketUpgrades* upgrades() const { return upgrades_; }

  // The response to an ordinary (non-upgrade) request.
  Response handle(const Request& request);

  // For an upgrade request: nullopt when it may go on to the WebSocket handshake,
  // otherwise the refusal to send (404 wrong path, 403 foreign origin, 503 draining).
  std::optional<Response> check_upgrade(const Request& request);

  // A route answered by a coroutine, for work that must wait on another thread (a media
  // worker, the password hasher) without blocking the control thread. Matched on the exact
  // path, or, for a path ending in '/', on every path under it. The handler also gets the
  // peer's IP address (for attempt limits held in memory).
  using AsyncHandler =
      std::function<boost::asio::awaitable<Response>(const Request&, const std::string& peer)>;
  void add_async(std::string path, AsyncHandler handler);
  const AsyncHandler* async_handler(const Request& request) const;

  // A response with the security headers, counted under `route`: for async handlers.
  Response respond(bhttp::status status, const Request& request, std::string body,
                   std::string_view content_type, std::string_view route);
  Response error(bhttp::status status, const Request& request, std::string_view message,
                 std::string_view route);

  // A response for a request that could not be parsed (400, 413, 431).
  Response parse_error(bhttp::status status, unsigned version);

  // Counts a request that went on to the WebSocket handshake.
  void count_upgrade();

 private:
  Response make(bhttp::status status, unsigned version, bool keep_alive, std::string body,
                std::string_view content_type, std::string_view route);

  bool tls_;
  StaticFiles& files_;  // Passed by argument.
  metrics::Family<metrics::Counter>& requests_;
  metrics::Registry& registry_;  // Passed by argument.
  Hooks hooks_;
  WebSocketUpgrades* upgrades_ = nullptr;  // Passed by argument.
  std::vector<std::pair<std::string, AsyncHandler>> async_routes_;
};

}  // namespace conclave::http
