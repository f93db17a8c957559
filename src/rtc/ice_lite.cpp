#include "rtc/ice_lite.hpp"

#include <openssl/rand.h>

#include <vector>

#include <cstring>

namespace conclave::rtc {

std::optional<std::string_view> local_ufrag_of(std::string_view username) noexcept {
  const auto colon = username.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return username.substr(0, colon);
}

stun::TransportAddress to_transport_address(const Endpoint& e) noexcept {
  if (e.family() == AF_INET6) {
    std::array<std::uint8_t, 16> ip{};
    std::memcpy(ip.data(), e.address_bytes(), 16);
    return stun::TransportAddress::ipv6(ip, e.port());
  }
  std::array<std::uint8_t, 4> ip{};
  std::memcpy(ip.data(), e.address_bytes(), 4);
  return stun::TransportAddress::ipv4(ip, e.port());
}

namespace {

std::string random_ice_string(std::size_t length) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes(length);
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  for (auto b : bytes) out += kChars[b & 63];
  return out;
}

}  // namespace

IceLiteAgent::Credentials IceLiteAgent::generate(std::string remote_ufrag) {
  return {random_ice_string(8), random_ice_string(24), std::move(remote_ufrag)};
}

IceLiteAgent::IceLiteAgent(Credentials credentials) : credentials_(std::move(credentials)) {}

IceLiteAgent::Outcome IceLiteAgent::on_stun(const stun::MessageView& message, const Endpoint& from,
                                            Clock::time_point now,
                                            std::span<std::uint8_t> out) noexcept {
  Outcome outcome;
  if (message.method() != stun::Method::kBinding ||
      message.message_class() != stun::MessageClass::kRequest) {
    // Indications (keepalives some agents send) and stray responses need no answer.
    return outcome;
  }
  // USERNAME is "<our ufrag>:<their ufrag>" (RFC 8445 §7.2.2).
  const auto username = message.username();
  const auto local = username ? local_ufrag_of(*username) : std::nullopt;
  if (!local || *local != credentials_.local_ufrag) {
    outcome.verdict = Verdict::kBadUsername;
    return outcome;
  }
  if (!credentials_.remote_ufrag.empty() &&
      username->substr(local->size() + 1) != credentials_.remote_ufrag) {
    outcome.verdict = Verdict::kBadUsername;
    return outcome;
  }
  if (message.fingerprint() && !stun::check_fingerprint(message)) {
    outcome.verdict = Verdict::kBadFingerprint;
    return outcome;
  }
  const auto key = stun::short_term_key(credentials_.local_pwd);
  if (!stun::check_integrity(message, key)) {
    // RFC 8489 §9.1.3 would answer 401, but an attacker who can send to our port learns
    // nothing from silence, and we do not amplify: dropped and counted by the caller.
    outcome.verdict = Verdict::kBadIntegrity;
    return outcome;
  }

  stun::WriteResult written;
  if (!message.unknown_comprehension_required().empty()) {
    written = stun::build_binding_error(message, stun::error_code::kUnknownAttribute, {}, key, out);
    outcome.verdict = Verdict::kAnsweredError;
  } else if (message.ice_controlled()) {
    // A lite agent is always controlled (RFC 8445 §6.1.1); a peer that also claims to be
    // controlled must switch role: 487 (§7.3.1.1).
    written = stun::build_binding_error(message, stun::error_code::kRoleConflict, {}, key, out);
    outcome.verdict = Verdict::kAnsweredError;
  } else {
    written = stun::build_binding_success(message, to_transport_address(from), key, out);
    outcome.verdict = Verdict::kAnswered;
    remember(from, now);
    last_valid_ = now;
    last_checked_ = from;
    if (message.use_candidate() && (!selected_ || !(*selected_ == from))) {
      selected_ = from;
      nominated_ = true;
      outcome.nominated_now = true;
    }
  }
  if (!written.ok()) {
    outcome.verdict = Verdict::kNoRoom;
    return outcome;
  }
  outcome.response_size = written.size;
  return outcome;
}

void IceLiteAgent::remember(const Endpoint& from, Clock::time_point now) noexcept {
  std::size_t slot = 0;
  for (std::size_t i = 0; i < kMaxPaths; ++i) {
    if (paths_[i].valid() && paths_[i] == from) {
      path_seen_[i] = now;
      return;
    }
    // Free slot first, else the path seen longest ago.
    if (!paths_[i].valid() || (paths_[slot].valid() && path_seen_[i] < path_seen_[slot])) slot = i;
  }
  paths_[slot] = from;
  path_seen_[slot] = now;
}

std::optional<Endpoint> IceLiteAgent::send_path() const noexcept {
  return selected_ ? selected_ : last_checked_;
}

bool IceLiteAgent::is_known_path(const Endpoint& from) const noexcept {
  for (const auto& p : paths_) {
    if (p.valid() && p == from) return true;
  }
  return false;
}

bool IceLiteAgent::consent_expired(Clock::time_point now) const noexcept {
  // Before the first valid check, the same 30 s bound the time a browser has to connect.
  return now - last_valid_.value_or(created_) > kConsentTimeout;
}

}  // namespace conclave::rtc
