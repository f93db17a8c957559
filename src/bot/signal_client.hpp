// The signaling protocol of docs/protocol.md from C++, for the headless client: one
// WebSocket (Boost.Beast) to the server's /ws, requests with ids and their replies,
// events. Single-threaded on the caller's io_context; writes are queued (Beast allows one
// outstanding write).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace conclave::bot {

class SignalClient {
 public:
  // `result` is the reply's result, or null with `error` set ({code, message}).
  using Reply = std::function<void(const nlohmann::json* result, const nlohmann::json* error)>;
  using EventHandler = std::function<void(const nlohmann::json& event)>;

  // `cookie`: a Cookie header for the upgrade (a signed-in account's session), or empty.
  SignalClient(boost::asio::io_context& io, std::string host, std::uint16_t port,
               std::string cookie = {});

  void connect(std::function<void(bool ok, std::string error)> done);
  void request(const std::string& type, nlohmann::json fields, Reply reply);
  void on_event(EventHandler handler) { on_event_ = std::move(handler); }
  void on_closed(std::function<void()> handler) { on_closed_ = std::move(handler); }
  void close();

 private:
  void read_loop();
  void write_next();

  boost::asio::io_context& io_;
  std::string host_;
  std::uint16_t port_;
  std::string cookie_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool open_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Reply> pending_;
  EventHandler on_event_;
  std::function<void()> on_closed_;
};

}  // namespace conclave::bot
