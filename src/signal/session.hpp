#pragma once

#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdint>
#include <string>

namespace conclave::signal {

// One participant's signaling connection, as handlers see it. Owned by the Hub (through
// the running session coroutine); handlers must not keep a reference past their call.
class Session {
 public:
  virtual ~Session() = default;
  virtual std::uint64_t id() const = 0;
  // The peer's IP address as text ("127.0.0.1", "::1"), for attempt limits held in memory.
  // Never stored or logged in full (common/log.hpp, peer_for_log).
  virtual const std::string& peer_address() const = 0;
  // The Cookie header of the upgrade request ("" without one): who is signed in.
  virtual const std::string& cookie() const = 0;
  // Queues a text message. When the session's send queue is full the peer is too slow to
  // follow the meeting: the session is closed (1008) and counted, never left to stall.
  virtual void send(std::string text) = 0;
  // Starts the closing handshake after the messages already queued.
  virtual void close(boost::beast::websocket::close_code code, std::string reason) = 0;
};

}  // namespace conclave::signal
