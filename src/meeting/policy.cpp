#include "meeting/policy.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "signal/dispatcher.hpp"

namespace conclave::meeting {
namespace {

using nlohmann::json;
using signal::RequestError;

constexpr char kCrockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

// `bits` random bits as base32 characters (5 bits each, rounded up).
std::string random_base32(int bits) {
  std::array<unsigned char, 32> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  int have = 0;
  unsigned acc = 0;
  std::size_t i = 0;
  for (int produced = 0; produced < bits; produced += 5) {
    if (have < 5) {
      acc = (acc << 8) | bytes[i++];
      have += 8;
    }
    out += kCrockford[(acc >> (have - 5)) & 31];
    have -= 5;
  }
  return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::array<unsigned char, 32> sha256(std::string_view a, std::string_view b) {
  std::array<unsigned char, 32> out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int size = 0;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out.data(), &size);
  EVP_MD_CTX_free(ctx);
  return out;
}

// A domain as allowed_domains takes it: lowercase letters, digits, dashes and dots,
// 1–253 characters, no empty label.
bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  char prev = 0;
  for (char c : d) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

bool get_bool(const json& v, const char* name) {
  if (!v.is_boolean()) {
    throw RequestError(signal::errors::kBadRequest,
                       fmt::format("setting '{}' must be true or false", name));
  }
  return v.get<bool>();
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::kHost:
      return "host";
    case Role::kCohost:
      return "cohost";
    case Role::kParticipant:
      return "participant";
  }
  return "participant";
}

json to_json(const Settings& s, bool saved) {
  json out{{"waiting_room", s.waiting_room},
           {"join_before_host", s.join_before_host},
           {"members_skip_waiting", s.members_skip_waiting},
           {"screen_share", s.screen_share == Settings::Share::kHosts ? "hosts" : "everyone"},
           {"unmute_self", s.unmute_self},
           {"chat", s.chat},
           {"rename_self", s.rename_self},
           {"authenticated_only", s.authenticated_only},
           {"allowed_domains", s.allowed_domains},
           {"e2ee", s.e2ee}};
  if (!saved) out["locked"] = s.locked;
  return out;
}

Settings apply_settings(Settings s, const json& partial, bool allow_live) {
  if (!partial.is_object())
    throw RequestError(signal::errors::kBadRequest, "'settings' must be an object");
  for (const auto& [key, v] : partial.items()) {
    const char* name = key.c_str();
    if (key == "waiting_room") {
      s.waiting_room = get_bool(v, name);
    } else if (key == "join_before_host") {
      s.join_before_host = get_bool(v, name);
    } else if (key == "members_skip_waiting") {
      s.members_skip_waiting = get_bool(v, name);
    } else if (key == "locked" && allow_live) {
      s.locked = get_bool(v, name);
    } else if (key == "unmute_self") {
      s.unmute_self = get_bool(v, name);
    } else if (key == "chat") {
      s.chat = get_bool(v, name);
    } else if (key == "rename_self") {
      s.rename_self = get_bool(v, name);
    } else if (key == "authenticated_only") {
      s.authenticated_only = get_bool(v, name);
    } else if (key == "e2ee") {
      s.e2ee = get_bool(v, name);
    } else if (key == "screen_share") {
      if (v == "everyone") {
        s.screen_share = Settings::Share::kEveryone;
      } else if (v == "hosts") {
        s.screen_share = Settings::Share::kHosts;
      } else {
        throw RequestError(signal::errors::kBadRequest,
                           "setting 'screen_share' must be \"everyone\" or \"hosts\"");
      }
    } else if (key == "allowed_domains") {
      if (!v.is_array() || v.size() > kMaxAllowedDomains) {
        throw RequestError(
            signal::errors::kBadRequest,
            fmt::format("setting 'allowed_domains' must be a list of at most {} domains",
                        kMaxAllowedDomains));
      }
      std::vector<std::string> domains;
      for (const auto& d : v) {
        if (!d.is_string() || d.get_ref<const std::string&>().size() > 253 ||
            !is_domain(lower(d.get<std::string>()))) {
          throw RequestError(signal::errors::kBadRequest,
                             "setting 'allowed_domains' holds something that is not a domain");
        }
        auto name_lower = lower(d.get<std::string>());
        if (std::find(domains.begin(), domains.end(), name_lower) == domains.end())
          domains.push_back(std::move(name_lower));
      }
      s.allowed_domains = std::move(domains);
    } else {
      throw RequestError(signal::errors::kBadRequest,
                         fmt::format("no setting '{}'", key.substr(0, 64)));
    }
  }
  return s;
}

Settings settings_from_stored(std::string_view text) {
  Settings defaults;
  const auto parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object()) return defaults;
  Settings s = defaults;
  for (const auto& [key, v] : parsed.items()) {
    try {
      s = apply_settings(s, json{{key, v}}, false);
    } catch (const RequestError&) {
      // An unreadable field keeps its default.
    }
  }
  return s;
}

bool email_domain_allowed(std::string_view email, const std::vector<std::string>& domains) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return false;
  const auto domain = lower(email.substr(at + 1));
  return std::find(domains.begin(), domains.end(), domain) != domains.end();
}

std::string new_meeting_id() {
  const auto raw = random_base32(80);
  return raw.substr(0, 4) + '-' + raw.substr(4, 4) + '-' + raw.substr(8, 4) + '-' +
         raw.substr(12, 4);
}

std::string new_passcode() {
  return random_base32(50);
}

std::string new_host_key() {
  return random_base32(130);
}

std::string hash_secret(std::string_view secret) {
  if (secret.empty()) return {};
  std::array<unsigned char, 16> salt{};
  RAND_bytes(salt.data(), static_cast<int>(salt.size()));
  const auto salt_view = std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size());
  const auto digest = sha256(salt_view, lower(secret));
  return "s1$" + to_hex(salt.data(), salt.size()) + "$" + to_hex(digest.data(), digest.size());
}

bool verify_secret(std::string_view stored, std::string_view secret) {
  if (stored.empty()) return true;
  // "s1$" + 32 hex + "$" + 64 hex.
  if (stored.size() != 3 + 32 + 1 + 64 || stored.substr(0, 3) != "s1$" || stored[35] != '$')
    return false;
  std::array<unsigned char, 16> salt{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < salt.size(); ++i) {
    const int hi = nibble(stored[3 + 2 * i]);
    const int lo = nibble(stored[4 + 2 * i]);
    if (hi < 0 || lo < 0) return false;
    salt[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  const auto salt_view = std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size());
  const auto digest = sha256(salt_view, lower(secret.substr(0, 256)));
  const auto hex = to_hex(digest.data(), digest.size());
  return CRYPTO_memcmp(hex.data(), stored.data() + 36, 64) == 0;
}

bool is_device_id(std::string_view id) {
  if (id.size() < 16 || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

}  // namespace conclave::meeting
