// The secrets of accounts: passwords (argon2id), session tokens and their CSRF tokens,
// emails as accounts know them. Pure functions, tested alone (tests/unit/auth_test.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conclave::auth {

// argon2id through libsodium's crypto_pwhash_str at the interactive limits (2 passes,
// 64 MiB): about 0.1 s of one core. Slow on purpose; never call on the control thread.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view hash, std::string_view password);
// True when `hash` was made with other limits than today's (rehash at the next sign-in).
bool password_needs_rehash(std::string_view hash);

// 256 random bits, base64url without padding (43 characters).
std::string new_token();
// SHA-256 of a token, lowercase hex: what the store keeps.
std::string token_hash(std::string_view token);
// The CSRF token of a session: base64url(HMAC-SHA256(key = session token, "conclave csrf")).
std::string csrf_token(std::string_view session_token);
bool equal_constant_time(std::string_view a, std::string_view b);

// An email as accounts store it: trimmed, lowercased, at most 254 bytes, exactly one '@'
// with something on each side, no spaces or control characters. nullopt otherwise.
std::optional<std::string> normalise_email(std::string_view email);

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(std::string_view header, std::string_view name);

// base64url without padding, of 32 bytes: an Ed25519 public key as the API carries it.
bool is_public_key(std::string_view key);

}  // namespace conclave::auth
