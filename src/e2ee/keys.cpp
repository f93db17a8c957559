#include "e2ee/keys.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace conclave::e2ee {
namespace {

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

void append(Bytes& out, std::span<const std::uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

void append(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

std::optional<KeyPair> from_private(int type, std::span<const std::uint8_t> priv) {
  if (priv.size() != 32) return std::nullopt;
  Pkey k(EVP_PKEY_new_raw_private_key(type, nullptr, priv.data(), priv.size()));
  if (!k) return std::nullopt;
  KeyPair kp{Bytes(priv.begin(), priv.end()), Bytes(32)};
  std::size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(k.get(), kp.public_key.data(), &len) != 1) return std::nullopt;
  return kp;
}

KeyPair fresh(int type) {
  for (;;) {
    Bytes priv(32);
    RAND_bytes(priv.data(), 32);
    if (auto kp = from_private(type, priv)) return *kp;
  }
}

}  // namespace

Bytes hkdf(bool sha512, std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
           std::span<const std::uint8_t> info, std::size_t length) {
  const EVP_MD* md = sha512 ? EVP_sha512() : EVP_sha256();
  const auto hash_len = static_cast<std::size_t>(EVP_MD_get_size(md));
  const Bytes zeros(hash_len, 0);
  const auto s = salt.empty() ? std::span<const std::uint8_t>(zeros) : salt;
  unsigned char prk[EVP_MAX_MD_SIZE];
  unsigned int prk_len = 0;
  HMAC(md, s.data(), static_cast<int>(s.size()), ikm.data(), ikm.size(), prk, &prk_len);
  Bytes out, t;
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    Bytes block = t;
    append(block, info);
    block.push_back(i);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(md, prk, static_cast<int>(prk_len), block.data(), block.size(), mac, &mac_len);
    t.assign(mac, mac + mac_len);
    append(out, t);
  }
  out.resize(length);
  return out;
}

Bytes hkdf_sha256(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
                  std::span<const std::uint8_t> info, std::size_t length) {
  return hkdf(false, salt, ikm, info, length);
}

std::optional<KeyPair> x25519_from_private(std::span<const std::uint8_t> p) {
  return from_private(EVP_PKEY_X25519, p);
}
std::optional<KeyPair> ed25519_from_private(std::span<const std::uint8_t> p) {
  return from_private(EVP_PKEY_ED25519, p);
}
KeyPair new_x25519() {
  return fresh(EVP_PKEY_X25519);
}
KeyPair new_ed25519() {
  return fresh(EVP_PKEY_ED25519);
}

std::optional<Bytes> x25519(std::span<const std::uint8_t> my_private,
                            std::span<const std::uint8_t> their_public) {
  if (my_private.size() != 32 || their_public.size() != 32) return std::nullopt;
  Pkey mine(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, my_private.data(), 32));
  Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, their_public.data(), 32));
  if (!mine || !theirs) return std::nullopt;
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  Bytes out(32);
  std::size_t len = 32;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1)
    return std::nullopt;
  // A low-order public key gives all zeros: refuse it (RFC 7748 §6.1).
  if (std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }))
    return std::nullopt;
  return out;
}

std::optional<Bytes> ed25519_sign(std::span<const std::uint8_t> private_key,
                                  std::span<const std::uint8_t> message) {
  if (private_key.size() != 32) return std::nullopt;
  Pkey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, private_key.data(), 32));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Bytes sig(64);
  std::size_t len = 64;
  if (!k || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    return std::nullopt;
  return sig;
}

bool ed25519_verify(std::span<const std::uint8_t> public_key, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> sig) {
  if (public_key.size() != 32 || sig.size() != 64) return false;
  Pkey k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), 32));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return k && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

Bytes hello_transcript(std::string_view meeting, std::string_view participant,
                       std::span<const std::uint8_t> session_public, std::uint32_t key_id) {
  Bytes t = text("conclave e2ee v1 hello");
  append(t, meeting);
  append(t, participant);
  append(t, session_public);
  for (int i = 3; i >= 0; --i) t.push_back(static_cast<std::uint8_t>(key_id >> (8 * i)));
  return t;
}

std::optional<Bytes> pairwise_key(std::string_view meeting,
                                  std::span<const std::uint8_t> my_session_private,
                                  std::span<const std::uint8_t> my_session_public,
                                  std::span<const std::uint8_t> my_identity,
                                  std::span<const std::uint8_t> their_session_public,
                                  std::span<const std::uint8_t> their_identity) {
  const auto shared = x25519(my_session_private, their_session_public);
  if (!shared) return std::nullopt;
  auto ordered = [](std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    Bytes x(a.begin(), a.end()), y(b.begin(), b.end());
    if (y < x) std::swap(x, y);
    x.insert(x.end(), y.begin(), y.end());
    return x;
  };
  Bytes info = text(meeting);
  append(info, ordered(my_identity, their_identity));
  append(info, ordered(my_session_public, their_session_public));
  return hkdf_sha256(text("conclave e2ee v1 pairwise"), *shared, info, 32);
}

std::optional<Bytes> seal(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                          std::span<const std::uint8_t> aad,
                          std::span<const std::uint8_t> plaintext) {
  if (key.size() != 32 || nonce.size() != 12) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(),
                                                                    EVP_CIPHER_CTX_free);
  Bytes out(plaintext.size() + 16);
  int len = 0, fin = 0;
  if (!c ||
      EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(c.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(c.get(), out.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.get(), out.data() + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + plaintext.size()) != 1)
    return std::nullopt;
  return out;
}

std::optional<Bytes> open(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                          std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed) {
  if (key.size() != 32 || nonce.size() != 12 || sealed.size() < 16) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(),
                                                                    EVP_CIPHER_CTX_free);
  const std::size_t n = sealed.size() - 16;
  Bytes out(n);
  Bytes tag(sealed.end() - 16, sealed.end());
  int len = 0, fin = 0;
  if (!c ||
      EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(c.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(c.get(), out.data(), &len, sealed.data(), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(c.get(), out.data() + len, &fin) != 1)
    return std::nullopt;
  return out;
}

Bytes sealed_aad(std::string_view from, std::string_view to, std::string_view meeting) {
  Bytes a = text("conclave e2ee v1 sealed");
  append(a, from);
  append(a, to);
  append(a, meeting);
  return a;
}

Bytes ratchet(std::span<const std::uint8_t> base_key) {
  return hkdf_sha256({}, base_key, text("conclave e2ee v1 ratchet"), 16);
}

Bytes message_key(std::span<const std::uint8_t> base_key) {
  return hkdf_sha256({}, base_key, text("conclave e2ee v1 message"), 32);
}

Bytes message_aad(std::string_view from, std::string_view meeting, std::uint32_t key_id,
                  std::uint16_t epoch) {
  Bytes a = text("conclave e2ee v1 message");
  append(a, from);
  append(a, meeting);
  for (int i = 3; i >= 0; --i) a.push_back(static_cast<std::uint8_t>(key_id >> (8 * i)));
  a.push_back(static_cast<std::uint8_t>(epoch >> 8));
  a.push_back(static_cast<std::uint8_t>(epoch));
  return a;
}

std::string security_code(std::string_view meeting, std::vector<Bytes> identities) {
  std::sort(identities.begin(), identities.end());
  Bytes data = text("conclave e2ee v1 code");
  append(data, meeting);
  for (const auto& id : identities) append(data, id);
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  for (int g = 0; g < 6; ++g) {
    const std::uint32_t v = std::uint32_t{digest[4 * g]} << 24 |
                            std::uint32_t{digest[4 * g + 1]} << 16 |
                            std::uint32_t{digest[4 * g + 2]} << 8 | digest[4 * g + 3];
    char group[8];
    std::snprintf(group, sizeof group, "%05u", static_cast<unsigned>(v % 100000));
    if (g) out += ' ';
    out += group;
  }
  return out;
}

}  // namespace conclave::e2ee
