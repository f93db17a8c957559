// The meeting-security rules that do not need a running meeting: settings and their JSON
// form, roles, the ids and secrets a new meeting gets, and how secrets are stored
// (docs/protocol.md, "Meeting security"; docs/api.md, "Meetings"). Pure functions, so the
// unit tests and the fuzzer reach them directly.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::meeting {

enum class Role { kHost, kCohost, kParticipant };
const char* role_name(Role role);

struct Settings {
  enum class Share { kEveryone, kHosts };
  bool waiting_room = true;
  bool join_before_host = false;
  bool members_skip_waiting = false;
  bool locked = false;  // live state: never saved
  Share screen_share = Share::kEveryone;
  bool unmute_self = true;
  bool chat = true;
  bool rename_self = true;
  bool authenticated_only = false;
  std::vector<std::string> allowed_domains;  // lowercase; empty: any
  // End-to-end encryption (docs/e2ee.md). On unless the owner chose otherwise; fixed while
  // the meeting runs, since every client sets up its media for one or the other.
  bool e2ee = true;

  bool operator==(const Settings&) const = default;
};

constexpr std::size_t kMaxAllowedDomains = 32;

// The JSON object of docs/protocol.md. `saved` leaves out the live state (`locked`).
nlohmann::json to_json(const Settings& settings, bool saved = false);

// `base` with the fields of `partial` applied. Every field is checked first: a field of the
// wrong type, an unknown field or a bad domain throws signal::RequestError(bad_request)
// naming it, and nothing is applied. `allow_live` false refuses `locked` (saved settings).
Settings apply_settings(Settings base, const nlohmann::json& partial, bool allow_live = true);

// Settings read back from the store; anything unreadable falls back to the defaults for
// that field (a stored row is ours, but an older build may have written fewer fields).
Settings settings_from_stored(std::string_view json_text);

// True when `email`'s domain is one of `domains` (which are lowercase).
bool email_domain_allowed(std::string_view email, const std::vector<std::string>& domains);

// A new meeting id: 80 random bits as four groups of four Crockford base32 characters
// ("kfx7-mq2d-9tbe-4hna"). A new passcode: 50 random bits, ten characters. A host key: 128
// random bits, 26 characters.
std::string new_meeting_id();
std::string new_passcode();
std::string new_host_key();

// A secret as stored: "s1$<salt hex>$<sha256(salt || secret) hex>". The secrets hashed here
// are random and long (50 bits and up, made by the server), so a salted fast hash is
// enough; human-chosen passwords go through argon2id in auth/ instead. An empty secret
// hashes to "" (no passcode).
std::string hash_secret(std::string_view secret);
// Constant time in the secret's content. `stored` "" accepts anything. A malformed stored
// value accepts nothing. Compares case-insensitively (Crockford base32 is).
bool verify_secret(std::string_view stored, std::string_view secret);

// A browser's device id for bans: 16–64 characters of [A-Za-z0-9_-].
bool is_device_id(std::string_view id);

}  // namespace conclave::meeting
