#include "rtc/webrtc_server.hpp"

#include <fmt/format.h>

#include "common/startup_error.hpp"

namespace conclave::rtc {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// How often transports get their DTLS retransmission and consent check. DTLS timers start
// at 100 ms or more, so 20 ms is fine-grained enough and costs nothing when idle.
constexpr auto kTick = 20ms;

WebRtcServer::WebRtcServer(asio::io_context& io, const std::string& address, std::uint16_t port,
                           RtcCounters& counters)
    : counters_(counters),
      certificate_(std::make_unique<DtlsCertificate>(DtlsCertificate::generate())),
      timer_(io) {
  std::string error;
  socket_ = UdpSocket::open(io, address, port, *this, error);
  if (!socket_) throw StartupError(error);
}

WebRtcServer::~WebRtcServer() = default;

void WebRtcServer::start() {
  socket_->start();
  tick();
}

void WebRtcServer::stop() {
  stopped_ = true;
  for (auto& [id, entry] : transports_) entry.transport->close("server stopping");
  timer_.cancel();
  socket_->close();
}

WebRtcTransport& WebRtcServer::add_transport(WebRtcTransport::Parameters parameters,
                                             std::unique_ptr<WebRtcTransport::Listener> owner) {
  const auto id = next_id_++;
  const auto ufrag = parameters.ice.local_ufrag;
  auto transport = std::make_unique<WebRtcTransport>(id, std::move(parameters), *certificate_,
                                                     *socket_, counters_, *owner);
  auto& ref = *transport;
  by_ufrag_[ufrag] = &ref;
  transports_.emplace(id, Entry{std::move(owner), std::move(transport)});
  return ref;
}

void WebRtcServer::restart_ice(WebRtcTransport& transport, IceLiteAgent::Credentials credentials) {
  WebRtcTransport* t = &transport;
  std::erase_if(by_ufrag_, [t](const auto& kv) { return kv.second == t; });
  by_ufrag_[credentials.local_ufrag] = t;
  transport.restart_ice(std::move(credentials));
}

void WebRtcServer::on_datagram(std::span<std::uint8_t> data, std::size_t capacity,
                               const Endpoint& from) noexcept {
  counters_.packets_in.inc();
  counters_.bytes_in.inc(data.size());
  if (data.empty()) {
    counters_.dropped_malformed.inc();
    return;
  }
  const std::uint8_t first = data[0];
  if (first <= 3) {
    const auto message = stun::MessageView::parse(data);
    const auto username = message ? message->username() : std::nullopt;
    const auto ufrag = username ? local_ufrag_of(*username) : std::nullopt;
    if (!ufrag) {
      counters_.dropped_malformed.inc();
      return;
    }
    const auto it = by_ufrag_.find(*ufrag);
    if (it == by_ufrag_.end()) {
      counters_.dropped_stun_username.inc();
      return;
    }
    WebRtcTransport* transport = it->second;
    transport->on_stun(*message, from);
    if (transport->ice().is_known_path(from)) by_path_[from] = transport;
    return;
  }
  const bool dtls = first >= 20 && first <= 63;
  const bool srtp = first >= 128 && first <= 191;
  if (!dtls && !srtp) {
    counters_.dropped_malformed.inc();
    return;
  }
  const auto it = by_path_.find(from);
  if (it == by_path_.end()) {
    counters_.dropped_unknown_source.inc();
    return;
  }
  if (dtls) {
    it->second->on_dtls(data, from);
  } else {
    it->second->on_rtp_or_rtcp(data, capacity, from);
  }
}

void WebRtcServer::tick() {
  if (stopped_) return;
  const auto now = WebRtcTransport::Clock::now();
  for (auto& [id, entry] : transports_) entry.transport->on_tick(now);
  reap();
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

// Transports that ended are destroyed here, from the timer, never from inside their own
// callbacks (STYLE.md: do not destroy an object from inside its callback).
void WebRtcServer::reap() {
  for (auto it = transports_.begin(); it != transports_.end();) {
    const auto state = it->second.transport->state();
    if (state != WebRtcTransport::State::kClosed && state != WebRtcTransport::State::kFailed) {
      ++it;
      continue;
    }
    WebRtcTransport* dead = it->second.transport.get();
    std::erase_if(by_ufrag_, [dead](const auto& kv) { return kv.second == dead; });
    std::erase_if(by_path_, [dead](const auto& kv) { return kv.second == dead; });
    it = transports_.erase(it);
  }
}

}  // namespace conclave::rtc
