#include "http/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/log.hpp"
#include "common/startup_error.hpp"

namespace conclave::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

Server::Server(asio::io_context& io, Router& router, asio::ssl::context* tls, ServerLimits limits)
    : io_(io), router_(router), tls_(tls), limits_(limits), acceptor_(io) {}

void Server::listen(const std::string& address, std::uint16_t port) {
  const auto where = fmt::format("{}:{}", address, port);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw StartupError(fmt::format("cannot listen on {}: not an IP address", where));
  const tcp::endpoint endpoint(ip, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && ip.is_v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw StartupError(fmt::format("cannot listen on {}: {}", where, ec.message()));
  port_ = acceptor_.local_endpoint().port();
}

void Server::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void Server::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Server::accept_loop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // EMFILE and friends: keep serving the connections we have; try again shortly.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const auto who =
      ec ? std::string("-") : log::peer_for_log(peer.address().to_string(), peer.port());
  // For attempt limits held in memory (never logged or stored in full).
  const auto address = ec ? std::string() : peer.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  bool handed_over = false;
  try {
    if (tls_) {
      TlsStream stream(beast::tcp_stream(std::move(socket)), *tls_);
      beast::get_lowest_layer(stream).expires_after(limits_.read_timeout);
      co_await stream.async_handshake(asio::ssl::stream_base::server,
                                      asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        spdlog::debug("TLS handshake with {} failed: {}", who, ec.message());
        co_return;
      }
      co_await serve_requests(stream, who, address, handed_over);
      if (!handed_over) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
    } else {
      TcpStream stream(std::move(socket));
      co_await serve_requests(stream, who, address, handed_over);
      if (!handed_over) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  } catch (const std::exception& e) {
    // Only our own bugs land here: Beast reports I/O problems through error codes.
    spdlog::error("HTTP connection from {} failed: {}", who, e.what());
  }
}

template <class Stream>
asio::awaitable<void> Server::serve_requests(Stream& stream, const std::string& who,
                                             const std::string& address, bool& handed_over) {
  namespace bhttp = beast::http;
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(limits_.header_bytes);
    parser.body_limit(limits_.body_bytes);
    beast::get_lowest_layer(stream).expires_after(limits_.read_timeout);
    boost::system::error_code ec;
    co_await bhttp::async_read(stream, buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      co_return;
    }
    if (ec) {
      if (ec.category() != bhttp::make_error_code(bhttp::error::bad_target).category()) co_return;
      const auto status = ec == bhttp::error::body_limit ? bhttp::status::payload_too_large
                          : ec == bhttp::error::header_limit
                              ? bhttp::status::request_header_fields_too_large
                              : bhttp::status::bad_request;
      auto res = router_.parse_error(status, 11);
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }

    Request request = parser.release();
    Response response;
    if (beast::websocket::is_upgrade(request)) {
      auto refusal = router_.check_upgrade(request);
      if (!refusal) {
        router_.count_upgrade();
        beast::get_lowest_layer(stream).expires_never();
        handed_over = true;
        // The stream moves to the WebSocket session; bytes the parser read past the
        // request would be lost, but a client must wait for 101 before sending frames.
        router_.upgrades()->accept(std::move(stream), std::move(request));
        co_return;
      }
      response = std::move(*refusal);
    } else if (const auto* async = router_.async_handler(request)) {
      response = co_await (*async)(request, address);
    } else {
      response = router_.handle(request);
    }
    // The path is left out on purpose: it can name a meeting.
    spdlog::debug("HTTP {} {} from {}", std::string_view(request.method_string()),
                  response.result_int(), who);
    const bool keep_alive = response.keep_alive();
    co_await bhttp::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) co_return;
  }
}

}  // namespace conclave::http
