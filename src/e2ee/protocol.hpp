// The relay messages of docs/e2ee.md ("Messages"), built and opened in C++: the native
// twin of web/src/e2ee/protocol.ts, byte-compatible with it (tests/vectors/e2ee-v1.json
// holds whole messages that both languages reproduce). Everything the server relays is
// one of these JSON objects, tagged "t": "conclave-e2ee/1"; only hello's public keys and
// signature are readable by the server, the rest is AES-GCM ciphertext.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "e2ee/keys.hpp"

namespace conclave::e2ee {

inline constexpr std::string_view kProtocolTag = "conclave-e2ee/1";

// Base64url without padding (RFC 4648 §5); decoding refuses padding and other alphabets.
std::string b64url(std::span<const std::uint8_t> bytes);
std::optional<Bytes> from_b64url(std::string_view text);

// A session announcement, signed by the device's identity key over hello_transcript().
struct Hello {
  Bytes identity;  // Ed25519 public, 32 bytes
  Bytes session;   // X25519 public, 32 bytes
  std::uint32_t key_id = 0;
};
nlohmann::json hello_message(std::string_view meeting, std::string_view participant,
                             const KeyPair& identity, std::span<const std::uint8_t> session_public,
                             std::uint32_t key_id);
// The hello of `from` (the sender id the server put on the relay) in `meeting`, if it is
// well formed and its signature verifies; nullopt otherwise.
std::optional<Hello> open_hello(const nlohmann::json& message, std::string_view meeting,
                                std::string_view from);

// A sender key as it travels sealed: u32(key_id) || u16(epoch) || base key (16 bytes).
struct KeyUpdate {
  std::uint32_t key_id = 0;
  std::uint16_t epoch = 0;
  Bytes base;
};
Bytes key_plaintext(const KeyUpdate& k);
std::optional<KeyUpdate> parse_key_plaintext(std::span<const std::uint8_t> plaintext);

// {"n": nonce, "c": AES-256-GCM(pairwise, n, sealed_aad(from, to, meeting), plaintext)}.
// An empty `nonce` means 12 fresh random bytes (a fixed one is for test vectors only).
nlohmann::json seal_entry(std::span<const std::uint8_t> pairwise, std::string_view from,
                          std::string_view to, std::string_view meeting,
                          std::span<const std::uint8_t> plaintext,
                          std::span<const std::uint8_t> nonce = {});
std::optional<Bytes> open_entry(const nlohmann::json& entry, std::span<const std::uint8_t> pairwise,
                                std::string_view from, std::string_view to,
                                std::string_view meeting);

// `key`: one sealed sender key for one participant (a newcomer; after a leave, every
// remaining key holder gets its own through one fan-out relay). `dm`: content for one
// person, sealed on the pairwise channel.
nlohmann::json key_message(nlohmann::json entry);
nlohmann::json dm_message(nlohmann::json entry);

// `msg`: content for everyone, sealed with the sender's message key of an epoch; "kid"
// names the key (kid_of(key_id, epoch)).
nlohmann::json msg_message(std::span<const std::uint8_t> base_key, std::string_view from,
                           std::string_view meeting, std::uint32_t key_id, std::uint16_t epoch,
                           std::span<const std::uint8_t> plaintext,
                           std::span<const std::uint8_t> nonce = {});
// The KID a `msg` names, so that the caller can pick the base key for open_msg.
std::optional<std::uint64_t> msg_kid(const nlohmann::json& message);
std::optional<Bytes> open_msg(const nlohmann::json& message, std::span<const std::uint8_t> base_key,
                              std::string_view from, std::string_view meeting);

// The kind of a protocol message ("hello", "key", "msg", "dm"), or empty when
// `message` is not one.
std::string kind_of(const nlohmann::json& message);

}  // namespace conclave::e2ee
