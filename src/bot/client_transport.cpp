#include "bot/client_transport.hpp"

#include <openssl/rand.h>

#include <array>

#include "rtc/ice_lite.hpp"
#include "rtc/stun.hpp"

namespace conclave::bot {

namespace stun = rtc::stun;
using namespace std::chrono_literals;

namespace {
// Checks every 50 ms until a success, then consent every 5 s (RFC 7675 allows 4–6 s).
constexpr auto kCheckInterval = 50ms;
constexpr auto kConsentInterval = 5s;
constexpr int kMaxChecks = 200;  // 10 s of checks without an answer: failed

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}
}  // namespace

const char* to_string(ClientTransport::State s) {
  switch (s) {
    case ClientTransport::State::kNew:
      return "new";
    case ClientTransport::State::kChecking:
      return "checking";
    case ClientTransport::State::kDtls:
      return "dtls";
    case ClientTransport::State::kConnected:
      return "connected";
    case ClientTransport::State::kFailed:
      return "failed";
  }
  return "?";
}

ClientTransport::ClientTransport(boost::asio::io_context& io,
                                 const rtc::DtlsCertificate& certificate, Callbacks callbacks)
    : io_(io), certificate_(certificate), callbacks_(std::move(callbacks)), timer_(io) {
  const auto creds = rtc::IceLiteAgent::generate("");
  ufrag_ = creds.local_ufrag;
  pwd_ = creds.local_pwd;
  tie_breaker_ = random_u64();
}

ClientTransport::~ClientTransport() {
  close();
}

bool ClientTransport::open(const std::string& bind_address, std::string& error) {
  socket_ = rtc::UdpSocket::open(io_, bind_address, 0, *this, error);
  if (!socket_) return false;
  socket_->start();
  return true;
}

std::uint16_t ClientTransport::port() const {
  return socket_ ? socket_->port() : 0;
}

void ClientTransport::connect(Remote remote) {
  remote_ = std::move(remote);
  set_state(State::kChecking);
  dtls_ = std::make_unique<rtc::DtlsTransport>(
      certificate_, remote_.peer_is_dtls_client ? rtc::DtlsRole::kServer : rtc::DtlsRole::kClient,
      remote_.fingerprint, *this);
  send_check();
  schedule();
}

void ClientTransport::set_state(State s) {
  if (state_ == s) return;
  state_ = s;
  if (s == State::kConnected) connected_at_ = Clock::now();
  if (callbacks_.on_state) callbacks_.on_state(s);
}

void ClientTransport::send_check() {
  if (!socket_ || closed_) return;
  std::array<std::uint8_t, stun::kMaxUdpMessageSize> buf{};
  stun::TransactionId tid{};
  RAND_bytes(tid.data(), static_cast<int>(tid.size()));
  stun::MessageWriter w(buf, stun::MessageClass::kRequest, stun::Method::kBinding, tid);
  // RFC 8445 §7.1.1: USERNAME is remote:local; a peer-reflexive priority; the controlling
  // agent nominates by USE-CANDIDATE (aggressive nomination: every check carries it).
  // Against a full ICE peer that also wants to control (Janus offering to a subscriber),
  // the tie-breakers decide (§7.3.1.1) and we may end up controlled: then the peer
  // nominates and our checks only confirm the path.
  w.add_username(remote_.ufrag + ":" + ufrag_).add_priority(0x6e0001ff);
  if (controlling_) {
    w.add_ice_controlling(tie_breaker_).add_use_candidate();
  } else {
    w.add_ice_controlled(tie_breaker_);
  }
  const auto pwd =
      std::span(reinterpret_cast<const std::uint8_t*>(remote_.pwd.data()), remote_.pwd.size());
  const auto r = w.finish(pwd, true);
  if (!r.ok()) return;
  socket_->send(std::span(buf.data(), r.size), remote_.candidate);
  ++counters_.checks_sent;
  ++checks_;
  last_check_ = Clock::now();
}

void ClientTransport::schedule() {
  if (closed_) return;
  auto wait = state_ == State::kChecking ? std::chrono::milliseconds(kCheckInterval)
                                         : std::chrono::milliseconds(kConsentInterval);
  if (dtls_ && state_ == State::kDtls) {
    if (const auto t = dtls_->next_timeout()) wait = std::min(wait, *t);
  }
  timer_.expires_after(wait);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    if (state_ == State::kChecking) {
      if (checks_ >= kMaxChecks) {
        set_state(State::kFailed);
        return;
      }
      send_check();
    } else if (state_ == State::kDtls) {
      if (const auto t = dtls_ ? dtls_->next_timeout() : std::nullopt; t && *t <= 0ms)
        dtls_->on_timeout();
    } else if (state_ == State::kConnected && Clock::now() - last_check_ >= kConsentInterval) {
      send_check();  // consent freshness
    }
    if (state_ != State::kFailed) schedule();
  });
}

void ClientTransport::on_datagram(std::span<std::uint8_t> data, std::size_t capacity,
                                  const rtc::Endpoint& from) noexcept {
  if (data.empty() || closed_) return;
  const std::uint8_t b = data[0];
  if (b < 4) {  // STUN (RFC 7983 §7)
    const auto msg = stun::MessageView::parse(data);
    if (!msg) return;
    if (msg->message_class() == stun::MessageClass::kRequest) {
      // A full ICE peer (Janus) checks us too: answer under our password (RFC 8445 §7.3).
      const auto key = std::span(reinterpret_cast<const std::uint8_t*>(pwd_.data()), pwd_.size());
      if (!stun::check_integrity(*msg, key)) return;
      std::array<std::uint8_t, stun::kMaxUdpMessageSize> out{};
      // Role conflict (RFC 8445 §7.3.1.1): both controlling. The larger tie-breaker keeps
      // the role; the other switches. (Both controlled cannot happen: we start controlling.)
      if (const auto theirs = msg->ice_controlling(); theirs && controlling_) {
        if (tie_breaker_ >= *theirs) {
          const auto r =
              stun::build_binding_error(*msg, stun::error_code::kRoleConflict, {}, key, out);
          if (r.ok()) socket_->send(std::span(out.data(), r.size), from);
          return;
        }
        controlling_ = false;
      }
      const auto r = stun::build_binding_success(*msg, rtc::to_transport_address(from), key, out);
      if (r.ok()) socket_->send(std::span(out.data(), r.size), from);
      return;
    }
    if (msg->message_class() == stun::MessageClass::kErrorResponse) {
      // 487 to our check: the peer keeps controlling; we switch and check again (§7.2.5.1).
      if (const auto e = msg->error_code();
          e && e->code == stun::error_code::kRoleConflict && controlling_) {
        controlling_ = false;
        send_check();
      }
      return;
    }
    if (msg->message_class() != stun::MessageClass::kSuccessResponse) return;
    const auto pwd =
        std::span(reinterpret_cast<const std::uint8_t*>(remote_.pwd.data()), remote_.pwd.size());
    if (!stun::check_integrity(*msg, pwd)) return;
    if (state_ == State::kChecking) {
      set_state(State::kDtls);
      dtls_->start();
      timer_.cancel();
      schedule();
    }
    return;
  }
  if (b >= 20 && b <= 63) {
    if (dtls_) dtls_->receive(data);
    return;
  }
  if (b >= 128 && b <= 191 && srtp_in_) {
    std::size_t len = data.size();
    const auto span = std::span(data.data(), capacity);
    const bool rtcp = data.size() >= 2 && data[1] >= 192 && data[1] <= 223;
    const auto status =
        rtcp ? srtp_in_->unprotect_rtcp(span, len) : srtp_in_->unprotect_rtp(span, len);
    if (status != rtc::SrtpStatus::kOk) {
      ++counters_.unprotect_failures;
      return;
    }
    if (rtcp) {
      ++counters_.rtcp_in;
      if (callbacks_.on_rtcp) callbacks_.on_rtcp(std::span(data.data(), len));
    } else {
      ++counters_.rtp_in;
      if (callbacks_.on_rtp) callbacks_.on_rtp(std::span(data.data(), len));
    }
  }
}

void ClientTransport::on_dtls_send(std::span<const std::uint8_t> datagram) {
  if (socket_) socket_->send(datagram, remote_.candidate);
}

void ClientTransport::on_dtls_connected(rtc::SrtpProfile profile, const rtc::SrtpKeyPair& keys) {
  srtp_in_ = rtc::SrtpSession::create(rtc::SrtpDirection::kInbound, profile, keys.remote.bytes());
  srtp_out_ = rtc::SrtpSession::create(rtc::SrtpDirection::kOutbound, profile, keys.local.bytes());
  // Not from inside the DTLS callback: the listener contract.
  boost::asio::post(io_, [this, ok = srtp_in_ && srtp_out_] {
    set_state(ok ? State::kConnected : State::kFailed);
  });
}

void ClientTransport::on_dtls_failed(rtc::DtlsTransport::Failure) {
  boost::asio::post(io_, [this] { set_state(State::kFailed); });
}

void ClientTransport::on_dtls_closed() {
  boost::asio::post(io_, [this] { set_state(State::kFailed); });
}

bool ClientTransport::send_rtp(std::span<std::uint8_t> buffer, std::size_t len) {
  if (!srtp_out_ || !socket_) return false;
  if (srtp_out_->protect_rtp(buffer, len) != rtc::SrtpStatus::kOk) return false;
  ++counters_.rtp_out;
  return socket_->send(std::span(buffer.data(), len), remote_.candidate);
}

bool ClientTransport::send_rtcp(std::span<std::uint8_t> buffer, std::size_t len) {
  if (!srtp_out_ || !socket_) return false;
  if (srtp_out_->protect_rtcp(buffer, len) != rtc::SrtpStatus::kOk) return false;
  ++counters_.rtcp_out;
  return socket_->send(std::span(buffer.data(), len), remote_.candidate);
}

void ClientTransport::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  if (dtls_) dtls_->close();
  if (socket_) socket_->close();
}

}  // namespace conclave::bot
