// The ICE-lite side of one WebRTC transport (RFC 8445 §2.5): we gather one host candidate
// per worker address, never send checks, and answer the browser's Binding requests. The
// browser is the controlling agent and nominates with USE-CANDIDATE; we follow it to a
// new address when a valid request arrives from one (network change, §7.3.1.5 spirit),
// and we declare the path dead when no valid request came for 30 s (consent freshness,
// RFC 7675 §5.1). Owned by a WebRtcTransport; runs on its worker thread; never throws.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "rtc/endpoint.hpp"
#include "rtc/stun.hpp"

namespace conclave::rtc {

class IceLiteAgent {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kConsentTimeout{30};
  // Addresses a transport accepts DTLS/RTP from: the ones that passed a check recently.
  static constexpr std::size_t kMaxPaths = 4;

  struct Credentials {
    std::string local_ufrag;
    std::string local_pwd;
    std::string remote_ufrag;  // from the offer; empty accepts any (it is not secret)
  };

  enum class Verdict : std::uint8_t {
    kAnswered,        // a success response is in `response`
    kAnsweredError,   // an error response (420 unknown attribute, 487 role conflict)
    kBadUsername,     // not for this transport: dropped
    kBadIntegrity,    // wrong or missing MESSAGE-INTEGRITY: dropped silently, counted
    kBadFingerprint,  // FINGERPRINT present and wrong: dropped
    kNotARequest,     // responses and indications: ignored (a lite agent sends no checks)
    kNoRoom,          // response buffer too small (a bug)
  };

  struct Outcome {
    Verdict verdict = Verdict::kNotARequest;
    std::size_t response_size = 0;  // bytes of `out` to send back to `from`
    bool nominated_now = false;     // the selected path changed to `from`
  };

  explicit IceLiteAgent(Credentials credentials);

  // Fresh local credentials from the CSPRNG (RFC 8839 §5.4: ice-chars, a 4+ character
  // ufrag and a 22+ character password; we use 8 and 24, 6 bits each).
  static Credentials generate(std::string remote_ufrag);

  const Credentials& credentials() const noexcept { return credentials_; }
  // ICE restart (RFC 8445 §9): new credentials; the selected path stays in use until
  // checks with the new ones select another, so media does not stop meanwhile.
  void restart(Credentials credentials) { credentials_ = std::move(credentials); }

  // Handles a STUN message from `from` whose USERNAME routed it to this transport.
  Outcome on_stun(const stun::MessageView& message, const Endpoint& from, Clock::time_point now,
                  std::span<std::uint8_t> out) noexcept;

  // Where to send: the nominated path, or before nomination the last path that passed a
  // check (browsers start DTLS as soon as a check succeeds).
  std::optional<Endpoint> send_path() const noexcept;
  bool nominated() const noexcept { return nominated_; }
  // True when `from` passed a check and may carry DTLS/RTP/RTCP.
  bool is_known_path(const Endpoint& from) const noexcept;

  bool consent_expired(Clock::time_point now) const noexcept;
  bool ever_checked() const noexcept { return last_valid_.has_value(); }

 private:
  void remember(const Endpoint& from, Clock::time_point now) noexcept;

  Credentials credentials_;
  std::array<Endpoint, kMaxPaths> paths_{};
  std::array<Clock::time_point, kMaxPaths> path_seen_{};
  std::optional<Endpoint> selected_;
  std::optional<Endpoint> last_checked_;
  std::optional<Clock::time_point> last_valid_;
  Clock::time_point created_ = Clock::now();
  bool nominated_ = false;
};

// Splits "local:remote" (the USERNAME of a request to us, RFC 8445 §7.2.2) and returns the
// local ufrag, which is how the worker's socket finds the transport.
std::optional<std::string_view> local_ufrag_of(std::string_view username) noexcept;

stun::TransportAddress to_transport_address(const Endpoint& endpoint) noexcept;

}  // namespace conclave::rtc
