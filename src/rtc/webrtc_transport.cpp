#include "rtc/webrtc_transport.hpp"

#include <spdlog/spdlog.h>

#include "rtc/counters.hpp"
#include "rtc/udp_socket.hpp"

namespace conclave::rtc {

namespace {
const char* state_name(WebRtcTransport::State s) {
  switch (s) {
    case WebRtcTransport::State::kNew:
      return "new";
    case WebRtcTransport::State::kConnecting:
      return "connecting";
    case WebRtcTransport::State::kConnected:
      return "connected";
    case WebRtcTransport::State::kClosed:
      return "closed";
    case WebRtcTransport::State::kFailed:
      return "failed";
  }
  return "?";
}
}  // namespace

WebRtcTransport::WebRtcTransport(std::uint64_t id, Parameters parameters,
                                 const DtlsCertificate& certificate, UdpSocket& socket,
                                 RtcCounters& counters, Listener& listener)
    : id_(id),
      ice_(std::move(parameters.ice)),
      dtls_(std::make_unique<DtlsTransport>(certificate, parameters.dtls_role,
                                            parameters.remote_fingerprint, *this)),
      socket_(socket),
      counters_(counters),
      listener_(listener) {
  counters_.transports.add(1);
}

WebRtcTransport::~WebRtcTransport() {
  counters_.transports.add(-1);
}

void WebRtcTransport::set_state(State state, std::string_view why) {
  if (state_ == state) return;
  state_ = state;
  spdlog::debug("transport {}: {} ({})", id_, state_name(state), why);
  listener_.on_state(*this, state, why);
}

void WebRtcTransport::on_stun(const stun::MessageView& message, const Endpoint& from) noexcept {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  std::array<std::uint8_t, stun::kMaxUdpMessageSize> out;
  const auto outcome = ice_.on_stun(message, from, Clock::now(), out);
  using V = IceLiteAgent::Verdict;
  switch (outcome.verdict) {
    case V::kBadIntegrity:
    case V::kBadFingerprint:
      counters_.dropped_stun_integrity.inc();
      return;
    case V::kBadUsername:
      counters_.dropped_stun_username.inc();
      return;
    case V::kNoRoom:
    case V::kNotARequest:
      return;
    case V::kAnswered:
    case V::kAnsweredError:
      break;
  }
  if (outcome.response_size > 0) send_datagram(std::span(out.data(), outcome.response_size), from);
  if (outcome.verdict == V::kAnswered && state_ == State::kNew) {
    set_state(State::kConnecting, "ICE check succeeded");
    if (dtls_->role() == DtlsRole::kClient && !dtls_started_) {
      dtls_started_ = true;
      dtls_->start();
    }
  }
}

void WebRtcTransport::on_dtls(std::span<const std::uint8_t> record, const Endpoint& from) noexcept {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  if (!ice_.is_known_path(from)) {
    counters_.dropped_unknown_source.inc();
    return;
  }
  if (!dtls_started_) {
    dtls_started_ = true;
    dtls_->start();
  }
  dtls_->receive(record);
}

void WebRtcTransport::on_rtp_or_rtcp(std::span<std::uint8_t> packet, std::size_t capacity,
                                     const Endpoint& from) noexcept {
  if (state_ != State::kConnected || !srtp_in_) {
    counters_.dropped_not_connected.inc();
    return;
  }
  if (!ice_.is_known_path(from)) {
    counters_.dropped_unknown_source.inc();
    return;
  }
  // RFC 5761 §4: with rtcp-mux, payload types 192-223 in the second byte are RTCP.
  if (looks_like_rtcp(packet)) {
    std::size_t len = packet.size();
    if (srtp_in_->unprotect_rtcp(packet, len) != SrtpStatus::kOk) {
      counters_.dropped_srtp.inc();
      return;
    }
    listener_.on_rtcp(*this, packet.first(len), capacity);
    return;
  }
  std::size_t len = packet.size();
  if (srtp_in_->unprotect_rtp(packet, len) != SrtpStatus::kOk) {
    counters_.dropped_srtp.inc();
    return;
  }
  listener_.on_rtp(*this, packet.first(len), capacity);
}

bool WebRtcTransport::send_rtp(std::span<std::uint8_t> packet, std::size_t capacity) noexcept {
  return send_protected(packet, capacity, /*rtcp=*/false);
}

bool WebRtcTransport::send_rtcp(std::span<std::uint8_t> packet, std::size_t capacity) noexcept {
  return send_protected(packet, capacity, /*rtcp=*/true);
}

bool WebRtcTransport::send_protected(std::span<std::uint8_t> packet, std::size_t capacity,
                                     bool rtcp) noexcept {
  const auto path = ice_.send_path();
  if (state_ != State::kConnected || !srtp_out_ || !path) return false;
  std::size_t len = packet.size();
  const std::span<std::uint8_t> buffer(packet.data(), capacity);
  const auto status =
      rtcp ? srtp_out_->protect_rtcp(buffer, len) : srtp_out_->protect_rtp(buffer, len);
  if (status != SrtpStatus::kOk) return false;
  return send_datagram(std::span<const std::uint8_t>(packet.data(), len), *path);
}

bool WebRtcTransport::send_datagram(std::span<const std::uint8_t> datagram,
                                    const Endpoint& to) noexcept {
  if (!socket_.send(datagram, to)) {
    counters_.send_failures.inc();
    return false;
  }
  counters_.packets_out.inc();
  counters_.bytes_out.inc(datagram.size());
  return true;
}

void WebRtcTransport::on_tick(Clock::time_point now) noexcept {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  if (ice_.consent_expired(now)) {
    // RFC 7675 §5.1: no consent for 30 s ends the session (a browser tab that was closed
    // without a goodbye ends up here).
    set_state(State::kClosed,
              ice_.ever_checked() ? "ICE consent expired" : "no ICE check within 30 s");
    return;
  }
  // DTLS retransmission (RFC 6347 §4.2.4) and the handshake deadline run on our loop.
  if (dtls_started_) {
    if (const auto due = dtls_->next_timeout(); due && due->count() <= 0) dtls_->on_timeout();
  }
}

void WebRtcTransport::close(std::string_view why) {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  if (dtls_started_) dtls_->close();
  set_state(State::kClosed, why);
}

void WebRtcTransport::on_dtls_send(std::span<const std::uint8_t> datagram) {
  // Before any check succeeded there is nowhere to send; DTLS retransmits later.
  if (const auto path = ice_.send_path()) send_datagram(datagram, *path);
}

void WebRtcTransport::on_dtls_connected(SrtpProfile profile, const SrtpKeyPair& keys) {
  // RFC 5764 §4.2: we decrypt with the peer's write key and encrypt with ours.
  srtp_in_ = SrtpSession::create(SrtpDirection::kInbound, profile, keys.remote.bytes());
  srtp_out_ = SrtpSession::create(SrtpDirection::kOutbound, profile, keys.local.bytes());
  if (!srtp_in_ || !srtp_out_) {
    counters_.dtls_failures.inc();
    set_state(State::kFailed, "SRTP session could not be created");
    return;
  }
  set_state(State::kConnected, "DTLS-SRTP established");
}

void WebRtcTransport::on_dtls_failed(DtlsTransport::Failure reason) {
  counters_.dtls_failures.inc();
  set_state(State::kFailed, to_string(reason));
}

void WebRtcTransport::on_dtls_closed() {
  set_state(State::kClosed, "DTLS close_notify");
}

}  // namespace conclave::rtc
