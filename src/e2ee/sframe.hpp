// SFrame (RFC 9605): the per-frame encryption end-to-end encryption puts on every media
// frame, and the native twin of the browser's encoded-transform worker (issue 6). This
// file is the RFC's mechanics only — header, key derivation, the five cipher suites,
// protect and unprotect — checked against the RFC's own vectors; which keys exist and
// when they change is the key schedule's business (docs/e2ee.md).
//
// Nothing here allocates on the media path beyond the output buffer the caller passes,
// and nothing throws: failures are values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace conclave::e2ee {

// RFC 9605 §4.5: the registered cipher suites.
enum class CipherSuite : std::uint16_t {
  kAes128CtrHmacSha256_80 = 1,
  kAes128CtrHmacSha256_64 = 2,
  kAes128CtrHmacSha256_32 = 3,
  kAes128GcmSha256_128 = 4,  // the one browsers use here (docs/e2ee.md)
  kAes256GcmSha512_128 = 5,
};

struct SuiteParams {
  std::size_t key_size;    // Nk: bytes of the AEAD key (CTR+HMAC: 16 encryption + 32 auth)
  std::size_t nonce_size;  // Nn
  std::size_t tag_size;    // Nt
  bool gcm;
  bool sha512;  // the hash of HKDF (and HMAC) is SHA-512, else SHA-256
};
std::optional<SuiteParams> params(CipherSuite suite);

// §4.3: the header. KID and CTR are at most 64 bits each.
struct Header {
  std::uint64_t kid = 0;
  std::uint64_t ctr = 0;
};
// Appends the encoded header to `out` (1 to 17 bytes).
void encode_header(const Header& h, std::vector<std::uint8_t>& out);
// Reads a header from the start of `in`; the size it took, or nullopt if `in` is too short.
std::optional<std::pair<Header, std::size_t>> decode_header(std::span<const std::uint8_t> in);

// §4.4.2: a sender's key and salt for one KID, from its base key.
struct KeyMaterial {
  CipherSuite suite = CipherSuite::kAes128GcmSha256_128;
  std::uint64_t kid = 0;
  std::vector<std::uint8_t> key;   // Nk bytes
  std::vector<std::uint8_t> salt;  // Nn bytes
};
std::optional<KeyMaterial> derive(CipherSuite suite, std::uint64_t kid,
                                  std::span<const std::uint8_t> base_key);

// The AEADs of §4.5, exposed for their own vectors. `out` receives ciphertext || tag.
bool aead_encrypt(CipherSuite suite, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);
bool aead_decrypt(CipherSuite suite, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<const std::uint8_t> ciphertext_and_tag, std::vector<std::uint8_t>& out);

// §4.4.3: protect one frame: header || AEAD(key, salt ^ ctr, header || metadata, frame).
// `metadata` is authenticated but not sent (here: the clear prefix and its length).
bool protect(const KeyMaterial& km, std::uint64_t ctr, std::span<const std::uint8_t> metadata,
             std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);

enum class UnprotectError { kShortFrame, kUnknownKey, kAuthentication };
// §4.4.4: the header's KID picks the key (`key_for` returns null when none is known).
template <class KeyFor>
std::optional<UnprotectError> unprotect(KeyFor&& key_for, std::span<const std::uint8_t> metadata,
                                        std::span<const std::uint8_t> frame,
                                        std::vector<std::uint8_t>& out, Header* header = nullptr);

// The nonce of §4.4.3: the salt XOR the counter, big-endian, right-aligned.
std::vector<std::uint8_t> nonce_for(const KeyMaterial& km, std::uint64_t ctr);

}  // namespace conclave::e2ee

// ---------------------------------------------------------------------------------------

namespace conclave::e2ee {

template <class KeyFor>
std::optional<UnprotectError> unprotect(KeyFor&& key_for, std::span<const std::uint8_t> metadata,
                                        std::span<const std::uint8_t> frame,
                                        std::vector<std::uint8_t>& out, Header* header) {
  const auto decoded = decode_header(frame);
  if (!decoded) return UnprotectError::kShortFrame;
  const auto [h, size] = *decoded;
  if (header) *header = h;
  const KeyMaterial* km = key_for(h.kid);
  if (km == nullptr) return UnprotectError::kUnknownKey;
  std::vector<std::uint8_t> aad(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(size));
  aad.insert(aad.end(), metadata.begin(), metadata.end());
  if (!aead_decrypt(km->suite, km->key, nonce_for(*km, h.ctr), aad, frame.subspan(size), out))
    return UnprotectError::kAuthentication;
  return std::nullopt;
}

}  // namespace conclave::e2ee
