// The test-only echo endpoint's half of a transport (transport issue: "the server sends it
// straight back on the same transport"): every decrypted RTP and RTCP packet is
// re-encrypted in place and sent back to the browser it came from. With BUNDLE and the mid
// header extension the browser routes the echoed media to its own receivers. Enabled only
// by rtc.echo; never part of a meeting.
#pragma once

#include "rtc/webrtc_transport.hpp"

namespace conclave::rtc {

class EchoSession final : public WebRtcTransport::Listener {
 public:
  void on_state(WebRtcTransport& transport, WebRtcTransport::State state,
                std::string_view why) override;
  void on_rtp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
              std::size_t capacity) noexcept override;
  void on_rtcp(WebRtcTransport& transport, std::span<std::uint8_t> packet,
               std::size_t capacity) noexcept override;
};

}  // namespace conclave::rtc
