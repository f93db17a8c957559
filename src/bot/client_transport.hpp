// One peer connection of the headless client (conclave-bot): the browser's side of a
// WebRTC transport against an ICE-lite server. Full ICE as the controlling agent with one
// host candidate (connectivity checks with USE-CANDIDATE to the server's candidate from
// its SDP), the DTLS client (a=setup:active), SRTP both ways, BUNDLE and rtcp-mux on one
// UDP socket of its own. The same RFC 7983 demultiplexing as the server, over the same
// rtc/ pieces (stun, DtlsTransport, SrtpSession, UdpSocket).
//
// Single-threaded: everything runs on the io_context the socket was opened on.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "rtc/dtls.hpp"
#include "rtc/endpoint.hpp"
#include "rtc/srtp.hpp"
#include "rtc/udp_socket.hpp"

namespace conclave::bot {

class ClientTransport final : public rtc::UdpSocket::Listener, public rtc::DtlsTransport::Listener {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State : std::uint8_t { kNew, kChecking, kDtls, kConnected, kFailed };

  struct Remote {
    std::string ufrag, pwd;
    rtc::DtlsFingerprint fingerprint;
    rtc::Endpoint candidate;
    // The peer's a=setup said "active": it is the DTLS client and we the server. Otherwise
    // (passive, or actpass that we answer with active) we are the client.
    bool peer_is_dtls_client = false;
  };
  struct Callbacks {
    std::function<void(State)> on_state;
    std::function<void(std::span<std::uint8_t> rtp)> on_rtp;    // decrypted
    std::function<void(std::span<std::uint8_t> rtcp)> on_rtcp;  // decrypted
  };

  ClientTransport(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate,
                  Callbacks callbacks);
  ~ClientTransport() override;

  // Binds the socket (loopback or the given address); false and `error` on failure.
  bool open(const std::string& bind_address, std::string& error);
  // Our ICE credentials for the SDP we write.
  const std::string& ufrag() const { return ufrag_; }
  const std::string& pwd() const { return pwd_; }
  std::uint16_t port() const;

  // The server's answer or offer is known: start the checks, then DTLS.
  void connect(Remote remote);
  State state() const { return state_; }

  // Protect and send. `buffer` must have kSrtpProtectHeadroom bytes after `len`.
  bool send_rtp(std::span<std::uint8_t> buffer, std::size_t len);
  bool send_rtcp(std::span<std::uint8_t> buffer, std::size_t len);

  struct Counters {
    std::uint64_t rtp_in = 0, rtp_out = 0, rtcp_in = 0, rtcp_out = 0, unprotect_failures = 0,
                  checks_sent = 0;
  };
  const Counters& counters() const { return counters_; }
  // When connect() was called and when DTLS completed (join-time measurements).
  std::optional<Clock::time_point> connected_at() const { return connected_at_; }

  void close();

 private:
  void on_datagram(std::span<std::uint8_t> data, std::size_t capacity,
                   const rtc::Endpoint& from) noexcept override;
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(rtc::SrtpProfile profile, const rtc::SrtpKeyPair& keys) override;
  void on_dtls_failed(rtc::DtlsTransport::Failure reason) override;
  void on_dtls_closed() override;

  void send_check();
  void schedule();
  void set_state(State s);

  boost::asio::io_context& io_;
  const rtc::DtlsCertificate& certificate_;
  Callbacks callbacks_;
  std::unique_ptr<rtc::UdpSocket> socket_;
  std::string ufrag_, pwd_;
  Remote remote_;
  std::uint64_t tie_breaker_ = 0;
  bool controlling_ = true;  // until a role conflict says otherwise (RFC 8445 §7.3.1.1)
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::optional<rtc::SrtpSession> srtp_in_, srtp_out_;
  boost::asio::steady_timer timer_;
  State state_ = State::kNew;
  int checks_ = 0;
  Clock::time_point last_check_{};
  std::optional<Clock::time_point> connected_at_;
  Counters counters_;
  bool closed_ = false;
};

const char* to_string(ClientTransport::State s);

}  // namespace conclave::bot
