// One browser's WebRTC transport on a worker: ICE-lite + DTLS-SRTP + SRTP over the
// worker's shared UDP socket (BUNDLE and rtcp-mux: one 5-tuple for everything).
//
//   new ──(valid check)──► connecting ──(DTLS done, SRTP keys)──► connected
//    │                        │                                      │
//    └────────────────────────┴──(consent lost, DTLS alert/failure, close())──► closed / failed
//
// Owned by WebRtcServer on one worker thread; all calls come from that thread. Events go
// up through Listener (the echo endpoint today, the SFU's participant later). The packet
// path (on_datagram → decrypt → listener, send_rtp → encrypt → socket) returns status
// values and never throws or allocates.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "rtc/dtls.hpp"
#include "rtc/ice_lite.hpp"
#include "rtc/rtp.hpp"
#include "rtc/srtp.hpp"

namespace conclave::rtc {

class UdpSocket;
struct RtcCounters;

class WebRtcTransport final : public DtlsTransport::Listener {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State : std::uint8_t { kNew, kConnecting, kConnected, kClosed, kFailed };

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_state(WebRtcTransport& transport, State state, std::string_view why) = 0;
    // A decrypted RTP packet; `capacity` bytes from packet.data() may be used in place.
    virtual void on_rtp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
                        std::size_t capacity) noexcept = 0;
    // A decrypted RTCP compound packet.
    virtual void on_rtcp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
                         std::size_t capacity) noexcept = 0;
  };

  struct Parameters {
    IceLiteAgent::Credentials ice;
    DtlsRole dtls_role = DtlsRole::kServer;
    DtlsFingerprint remote_fingerprint;
  };

  WebRtcTransport(std::uint64_t id, Parameters parameters, const DtlsCertificate& certificate,
                  UdpSocket& socket, RtcCounters& counters, Listener& listener);
  ~WebRtcTransport() override;

  std::uint64_t id() const noexcept { return id_; }
  State state() const noexcept { return state_; }
  const IceLiteAgent& ice() const noexcept { return ice_; }
  // Through WebRtcServer::restart_ice, which re-keys its ufrag table.
  void restart_ice(IceLiteAgent::Credentials credentials) { ice_.restart(std::move(credentials)); }

  // From the worker's socket, already routed to this transport.
  void on_stun(const stun::MessageView& message, const Endpoint& from) noexcept;
  void on_dtls(std::span<const std::uint8_t> record, const Endpoint& from) noexcept;
  void on_rtp_or_rtcp(std::span<std::uint8_t> packet, std::size_t capacity,
                      const Endpoint& from) noexcept;

  // Protects `packet` in place (needs SRTP trailer room within `capacity`) and sends it on
  // the selected path. False when not connected or the send failed (counted).
  bool send_rtp(std::span<std::uint8_t> packet, std::size_t capacity) noexcept;
  bool send_rtcp(std::span<std::uint8_t> packet, std::size_t capacity) noexcept;

  // Driven by the worker's timer: DTLS retransmission and consent freshness.
  void on_tick(Clock::time_point now) noexcept;
  void close(std::string_view why);

 private:
  // DtlsTransport::Listener
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(SrtpProfile profile, const SrtpKeyPair& keys) override;
  void on_dtls_failed(DtlsTransport::Failure reason) override;
  void on_dtls_closed() override;

  void set_state(State state, std::string_view why);
  bool send_protected(std::span<std::uint8_t> packet, std::size_t capacity, bool rtcp) noexcept;
  bool send_datagram(std::span<const std::uint8_t> datagram, const Endpoint& to) noexcept;

  std::uint64_t id_;
  IceLiteAgent ice_;
  std::unique_ptr<DtlsTransport> dtls_;  // Allocated by this.
  std::optional<SrtpSession> srtp_in_;   // remote key: unprotect what the browser sends
  std::optional<SrtpSession> srtp_out_;  // local key: protect what we send
  UdpSocket& socket_;                    // Passed by argument.
  RtcCounters& counters_;                // Passed by argument.
  Listener& listener_;                   // Passed by argument.
  State state_ = State::kNew;
  bool dtls_started_ = false;
};

}  // namespace conclave::rtc
