#include "rtc/echo_session.hpp"

#include <spdlog/spdlog.h>

namespace conclave::rtc {

void EchoSession::on_state(WebRtcTransport& transport, WebRtcTransport::State state,
                           std::string_view why) {
  using S = WebRtcTransport::State;
  const char* name = state == S::kConnecting  ? "connecting"
                     : state == S::kConnected ? "connected"
                     : state == S::kClosed    ? "closed"
                     : state == S::kFailed    ? "failed"
                                              : "new";
  spdlog::info("echo transport {}: {} ({})", transport.id(), name, why);
}

void EchoSession::on_rtp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
                         std::size_t capacity) noexcept {
  transport.send_rtp(packet, capacity);
}

void EchoSession::on_rtcp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
                          std::size_t capacity) noexcept {
  // Reports and feedback about the browser's own streams go back to it: a PLI for the
  // echoed video reaches the sender of that same SSRC, which then sends a keyframe.
  transport.send_rtcp(packet, capacity);
}

}  // namespace conclave::rtc
