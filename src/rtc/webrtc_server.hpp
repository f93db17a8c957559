// Everything on one worker's UDP port (as mediasoup's WebRtcServer): the socket, the
// transports that share it, and the demultiplexing of each datagram to its transport.
//
//   first byte (RFC 7983 §7)     goes to
//   0-3    STUN                  the transport whose ICE ufrag is the USERNAME's first half
//   20-63  DTLS                  the transport that validated this 5-tuple with a STUN check
//   128-191 RTP/RTCP (SRTP)      likewise
//   other                        dropped and counted
//
// Owned by MediaWorker; every call happens on the worker's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "rtc/counters.hpp"
#include "rtc/udp_socket.hpp"
#include "rtc/webrtc_transport.hpp"

namespace conclave::rtc {

class WebRtcServer final : public UdpSocket::Listener {
 public:
  // Opens the socket; throws StartupError naming the address when it cannot.
  WebRtcServer(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
               RtcCounters& counters);
  ~WebRtcServer() override;

  void start();
  void stop();
  std::uint16_t port() const noexcept { return socket_->port(); }
  const DtlsCertificate& certificate() const noexcept { return *certificate_; }
  std::size_t transport_count() const noexcept { return transports_.size(); }

  // Creates a transport owned by this server, with `owner` (the transport's listener) kept
  // alive beside it until the transport ends.
  WebRtcTransport& add_transport(WebRtcTransport::Parameters parameters,
                                 std::unique_ptr<WebRtcTransport::Listener> owner);

  // New ICE credentials for one of this server's transports (ICE restart).
  void restart_ice(WebRtcTransport& transport, IceLiteAgent::Credentials credentials);

  // UdpSocket::Listener
  void on_datagram(std::span<std::uint8_t> data, std::size_t capacity,
                   const Endpoint& from) noexcept override;

 private:
  struct Entry {
    std::unique_ptr<WebRtcTransport::Listener> owner;
    std::unique_ptr<WebRtcTransport> transport;
  };
  void tick();
  void reap();

  RtcCounters& counters_;                         // Passed by argument.
  std::unique_ptr<DtlsCertificate> certificate_;  // Allocated by this; one per worker.
  std::unique_ptr<UdpSocket> socket_;             // Allocated by this.
  std::map<std::uint64_t, Entry> transports_;
  // Looked up by string_view straight from the STUN USERNAME, without building a string.
  struct UfragHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, WebRtcTransport*, UfragHash, std::equal_to<>> by_ufrag_;
  std::unordered_map<Endpoint, WebRtcTransport*, EndpointHash> by_path_;
  boost::asio::steady_timer timer_;
  std::uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace conclave::rtc
