// The key schedule of docs/e2ee.md, in C++ (the native twin of the browser's): identity
// signatures on session announcements, pairwise channels, the sender-key ratchet, message
// keys, KIDs and the security code. Pure functions over bytes on OpenSSL (X25519, Ed25519,
// HKDF-SHA256, AES-256-GCM), so that tests/vectors/ can hold the same bytes for both
// languages.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::e2ee {

using Bytes = std::vector<std::uint8_t>;

// HKDF (RFC 5869) in one call, with SHA-256 or SHA-512 (SFrame suite 5); an empty salt
// means HashLen zero bytes.
Bytes hkdf(bool sha512, std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
           std::span<const std::uint8_t> info, std::size_t length);
Bytes hkdf_sha256(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
                  std::span<const std::uint8_t> info, std::size_t length);

// Key pairs as raw 32-byte keys (what WebCrypto exports as "raw" for public keys).
struct KeyPair {
  Bytes private_key;  // 32 bytes
  Bytes public_key;   // 32 bytes
};
std::optional<KeyPair> x25519_from_private(std::span<const std::uint8_t> private_key);
std::optional<KeyPair> ed25519_from_private(std::span<const std::uint8_t> private_key);
KeyPair new_x25519();
KeyPair new_ed25519();
std::optional<Bytes> x25519(std::span<const std::uint8_t> my_private,
                            std::span<const std::uint8_t> their_public);
std::optional<Bytes> ed25519_sign(std::span<const std::uint8_t> private_key,
                                  std::span<const std::uint8_t> message);
bool ed25519_verify(std::span<const std::uint8_t> public_key, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> sig);

// What a hello's signature covers: "conclave e2ee v1 hello" || meeting || participant ||
// session public key || u32(key_id).
Bytes hello_transcript(std::string_view meeting, std::string_view participant,
                       std::span<const std::uint8_t> session_public, std::uint32_t key_id);

// The pairwise channel key of two sessions (docs/e2ee.md, "Pairwise channel").
std::optional<Bytes> pairwise_key(std::string_view meeting,
                                  std::span<const std::uint8_t> my_session_private,
                                  std::span<const std::uint8_t> my_session_public,
                                  std::span<const std::uint8_t> my_identity,
                                  std::span<const std::uint8_t> their_session_public,
                                  std::span<const std::uint8_t> their_identity);

// AES-256-GCM with a 12-byte nonce; the result is ciphertext || 16-byte tag.
std::optional<Bytes> seal(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                          std::span<const std::uint8_t> aad,
                          std::span<const std::uint8_t> plaintext);
std::optional<Bytes> open(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                          std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed);
Bytes sealed_aad(std::string_view from, std::string_view to, std::string_view meeting);

// Sender keys: the join ratchet, and the message key of an epoch.
Bytes ratchet(std::span<const std::uint8_t> base_key);
Bytes message_key(std::span<const std::uint8_t> base_key);
Bytes message_aad(std::string_view from, std::string_view meeting, std::uint32_t key_id,
                  std::uint16_t epoch);
constexpr std::uint64_t kid_of(std::uint32_t key_id, std::uint16_t epoch) {
  return (std::uint64_t{key_id} << 16) | epoch;
}

// The security code: 6 groups of 5 digits over the meeting and the sorted identity keys
// of every key holder.
std::string security_code(std::string_view meeting, std::vector<Bytes> identities);

}  // namespace conclave::e2ee
