#include "e2ee/sframe.hpp"

#include "e2ee/keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <string>

namespace conclave::e2ee {
namespace {

using Bytes = std::vector<std::uint8_t>;

const EVP_MD* hash_of(const SuiteParams& p) {
  return p.sha512 ? EVP_sha512() : EVP_sha256();
}

// Big-endian in the fewest bytes (at least one).
std::size_t min_bytes(std::uint64_t v) {
  std::size_t n = 1;
  while (n < 8 && (v >> (8 * n)) != 0) ++n;
  return n;
}

void put_be(Bytes& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes hmac(const EVP_MD* md, std::span<const std::uint8_t> key,
           std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &size);
  out.resize(size);
  return out;
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

// AES-CTR over `in` with the 16-byte counter block `iv`.
bool aes_ctr(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
             std::span<const std::uint8_t> in, std::uint8_t* out) {
  const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
  CipherCtx c;
  int len = 0, fin = 0;
  return c.ctx && EVP_EncryptInit_ex(c.ctx, cipher, nullptr, key.data(), iv.data()) == 1 &&
         EVP_EncryptUpdate(c.ctx, out, &len, in.data(), static_cast<int>(in.size())) == 1 &&
         EVP_EncryptFinal_ex(c.ctx, out + len, &fin) == 1;
}

// §4.5.1: the tag over the lengths, the nonce, the AAD and the ciphertext.
Bytes ctr_hmac_tag(const SuiteParams& p, std::span<const std::uint8_t> auth_key,
                   std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                   std::span<const std::uint8_t> ct) {
  Bytes data;
  put_be(data, aad.size(), 8);
  put_be(data, ct.size(), 8);
  put_be(data, p.tag_size, 8);
  data.insert(data.end(), nonce.begin(), nonce.end());
  data.insert(data.end(), aad.begin(), aad.end());
  data.insert(data.end(), ct.begin(), ct.end());
  auto tag = hmac(hash_of(p), auth_key, data);
  tag.resize(p.tag_size);
  return tag;
}

constexpr std::size_t kCtrEncKey = 16;

}  // namespace

std::optional<SuiteParams> params(CipherSuite suite) {
  switch (suite) {
    case CipherSuite::kAes128CtrHmacSha256_80:
      return SuiteParams{48, 12, 10, false, false};
    case CipherSuite::kAes128CtrHmacSha256_64:
      return SuiteParams{48, 12, 8, false, false};
    case CipherSuite::kAes128CtrHmacSha256_32:
      return SuiteParams{48, 12, 4, false, false};
    case CipherSuite::kAes128GcmSha256_128:
      return SuiteParams{16, 12, 16, true, false};
    case CipherSuite::kAes256GcmSha512_128:
      return SuiteParams{32, 12, 16, true, true};
  }
  return std::nullopt;
}

void encode_header(const Header& h, Bytes& out) {
  std::uint8_t first = 0;
  const bool x = h.kid >= 8, y = h.ctr >= 8;
  const std::size_t kid_len = x ? min_bytes(h.kid) : 0, ctr_len = y ? min_bytes(h.ctr) : 0;
  first |= x ? static_cast<std::uint8_t>(0x80 | ((kid_len - 1) << 4))
             : static_cast<std::uint8_t>(h.kid << 4);
  first |= y ? static_cast<std::uint8_t>(0x08 | (ctr_len - 1)) : static_cast<std::uint8_t>(h.ctr);
  out.push_back(first);
  if (x) put_be(out, h.kid, kid_len);
  if (y) put_be(out, h.ctr, ctr_len);
}

std::optional<std::pair<Header, std::size_t>> decode_header(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::nullopt;
  const std::uint8_t first = in[0];
  std::size_t at = 1;
  auto read = [&](std::size_t n, std::uint64_t& v) {
    if (in.size() < at + n) return false;
    v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in[at + i];
    at += n;
    return true;
  };
  Header h;
  if (first & 0x80) {
    if (!read(((first >> 4) & 7) + 1, h.kid)) return std::nullopt;
  } else {
    h.kid = (first >> 4) & 7;
  }
  if (first & 0x08) {
    if (!read((first & 7) + 1, h.ctr)) return std::nullopt;
  } else {
    h.ctr = first & 7;
  }
  return std::pair{h, at};
}

std::optional<KeyMaterial> derive(CipherSuite suite, std::uint64_t kid,
                                  std::span<const std::uint8_t> base_key) {
  const auto p = params(suite);
  if (!p) return std::nullopt;
  auto label = [&](std::string_view what) {
    Bytes l(what.begin(), what.end());
    put_be(l, kid, 8);
    put_be(l, static_cast<std::uint16_t>(suite), 2);
    return l;
  };
  KeyMaterial km;
  km.suite = suite;
  km.kid = kid;
  // §4.4.2: Extract once with an empty salt, then Expand with each label; hkdf() does both.
  km.key = hkdf(p->sha512, {}, base_key, label("SFrame 1.0 Secret key "), p->key_size);
  km.salt = hkdf(p->sha512, {}, base_key, label("SFrame 1.0 Secret salt "), p->nonce_size);
  return km;
}

std::vector<std::uint8_t> nonce_for(const KeyMaterial& km, std::uint64_t ctr) {
  Bytes nonce = km.salt;
  for (std::size_t i = 0; i < 8 && i < nonce.size(); ++i)
    nonce[nonce.size() - 1 - i] ^= static_cast<std::uint8_t>(ctr >> (8 * i));
  return nonce;
}

bool aead_encrypt(CipherSuite suite, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<const std::uint8_t> pt, Bytes& out) {
  const auto p = params(suite);
  if (!p || key.size() != p->key_size || nonce.size() != p->nonce_size) return false;
  const std::size_t start = out.size();
  out.resize(start + pt.size());
  if (p->gcm) {
    const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    CipherCtx c;
    int len = 0, fin = 0;
    std::array<std::uint8_t, 16> tag{};
    const bool ok = c.ctx && EVP_EncryptInit_ex(c.ctx, cipher, nullptr, nullptr, nullptr) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN,
                                        static_cast<int>(nonce.size()), nullptr) == 1 &&
                    EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce.data()) == 1 &&
                    (aad.empty() || EVP_EncryptUpdate(c.ctx, nullptr, &len, aad.data(),
                                                      static_cast<int>(aad.size())) == 1) &&
                    EVP_EncryptUpdate(c.ctx, out.data() + start, &len, pt.data(),
                                      static_cast<int>(pt.size())) == 1 &&
                    EVP_EncryptFinal_ex(c.ctx, out.data() + start + len, &fin) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
    if (!ok) return false;
    out.insert(out.end(), tag.begin(), tag.begin() + static_cast<std::ptrdiff_t>(p->tag_size));
    return true;
  }
  Bytes iv(nonce.begin(), nonce.end());
  iv.resize(16, 0);
  if (!aes_ctr(key.first(kCtrEncKey), iv, pt, out.data() + start)) return false;
  const auto tag = ctr_hmac_tag(*p, key.subspan(kCtrEncKey), nonce, aad,
                                std::span<const std::uint8_t>(out.data() + start, pt.size()));
  out.insert(out.end(), tag.begin(), tag.end());
  return true;
}

bool aead_decrypt(CipherSuite suite, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<const std::uint8_t> in, Bytes& out) {
  const auto p = params(suite);
  if (!p || key.size() != p->key_size || nonce.size() != p->nonce_size || in.size() < p->tag_size)
    return false;
  const auto ct = in.first(in.size() - p->tag_size);
  const auto tag = in.last(p->tag_size);
  const std::size_t start = out.size();
  out.resize(start + ct.size());
  if (p->gcm) {
    const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    CipherCtx c;
    int len = 0, fin = 0;
    std::array<std::uint8_t, 16> t{};
    std::copy(tag.begin(), tag.end(), t.begin());
    const bool ok = c.ctx && EVP_DecryptInit_ex(c.ctx, cipher, nullptr, nullptr, nullptr) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN,
                                        static_cast<int>(nonce.size()), nullptr) == 1 &&
                    EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce.data()) == 1 &&
                    (aad.empty() || EVP_DecryptUpdate(c.ctx, nullptr, &len, aad.data(),
                                                      static_cast<int>(aad.size())) == 1) &&
                    EVP_DecryptUpdate(c.ctx, out.data() + start, &len, ct.data(),
                                      static_cast<int>(ct.size())) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, 16, t.data()) == 1 &&
                    EVP_DecryptFinal_ex(c.ctx, out.data() + start + len, &fin) == 1;
    if (!ok) out.resize(start);
    return ok;
  }
  const auto expected = ctr_hmac_tag(*p, key.subspan(kCtrEncKey), nonce, aad, ct);
  if (CRYPTO_memcmp(expected.data(), tag.data(), tag.size()) != 0) {
    out.resize(start);
    return false;
  }
  Bytes iv(nonce.begin(), nonce.end());
  iv.resize(16, 0);
  if (!aes_ctr(key.first(kCtrEncKey), iv, ct, out.data() + start)) {
    out.resize(start);
    return false;
  }
  return true;
}

bool protect(const KeyMaterial& km, std::uint64_t ctr, std::span<const std::uint8_t> metadata,
             std::span<const std::uint8_t> plaintext, Bytes& out) {
  const std::size_t start = out.size();
  encode_header({km.kid, ctr}, out);
  Bytes aad(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  aad.insert(aad.end(), metadata.begin(), metadata.end());
  if (!aead_encrypt(km.suite, km.key, nonce_for(km, ctr), aad, plaintext, out)) {
    out.resize(start);
    return false;
  }
  return true;
}

}  // namespace conclave::e2ee
