// The HTTP/1.1 listener: accepts TCP connections on one address and port, runs the TLS
// handshake when TLS is on, reads requests with size limits and a read timeout, and hands
// each request to the Router, or the connection to WebSocketUpgrades on an upgrade.
// Everything runs as coroutines on the control thread's io_context; no locks.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "http/router.hpp"

namespace conclave::http {

struct ServerLimits {
  std::uint32_t header_bytes = 16 * 1024;
  std::uint64_t body_bytes = 64 * 1024;
  std::chrono::seconds read_timeout{30};
};

class Server {
 public:
  // `tls` may be null (plain HTTP). Neither it nor the router is owned.
  Server(boost::asio::io_context& io, Router& router, boost::asio::ssl::context* tls,
         ServerLimits limits = {});

  // Binds and listens. Throws StartupError ("cannot listen on 127.0.0.1:8080: Address
  // already in use").
  void listen(const std::string& address, std::uint16_t port);
  std::uint16_t port() const { return port_; }

  // Starts accepting connections (the accept loop is spawned on the io_context).
  void start();
  // Stops accepting; connections already open go on.
  void close();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  template <class Stream>
  boost::asio::awaitable<void> serve_requests(Stream& stream, const std::string& who,
                                              const std::string& address, bool& handed_over);

  boost::asio::io_context& io_;
  Router& router_;                  // Passed by argument.
  boost::asio::ssl::context* tls_;  // Passed by argument; may be null.
  ServerLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

}  // namespace conclave::http
