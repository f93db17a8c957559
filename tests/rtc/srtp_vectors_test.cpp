// Known-answer tests of rtc/srtp.
//
// libsrtp takes master keys and derives the session keys itself (RFC 3711 §4.3), so the
// published vectors that start from session keys (RFC 3711 B.2, RFC 7714 §16/§17) cannot
// be fed to SrtpSession directly. The chain here:
//   1. a small reference transform written in this file on OpenSSL EVP (AES-CTR, HMAC-SHA1,
//      AES-GCM) is checked against the published vectors: RFC 3711 B.2 (AES-CM keystream),
//      B.3 (key derivation), RFC 7714 §16.1 (SRTP AEAD_AES_128_GCM) and §17.1 (SRTCP);
//   2. SrtpSession is checked against that reference from a master key, for both
//      profiles, RTP and RTCP, protect and unprotect;
//   3. SrtpSession is checked against the packet-level AES_CM_128_HMAC_SHA1_80 vector of
//      libsrtp's own validation test (srtp_driver.c srtp_validate(): master key and salt
//      from RFC 3711 B.3, SSRC 0xcafebabe, sequence number 0x1234), the only published
//      packet-level vector for that profile we know of that starts from a master key.
// The reference also pins one reading of RFC 7714 §11 that the RFC vectors do not cover:
// the 96-bit GCM master salt enters the 112-bit AES-CM key derivation padded with two
// zero bytes on the right (what libsrtp, and so the browsers that use it, do).
#include "rtc/srtp.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace conclave::rtc {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (const char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;  // spaces between groups
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits";
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Reference transform (RFC 3711, RFC 7714) on OpenSSL EVP, test-only.

// AES-128 in counter mode from a 16-byte initial counter block; XORs `data` in place.
void aes_ctr(const Bytes& key, const std::array<std::uint8_t, 16>& iv, std::uint8_t* data,
             std::size_t size) {
  if (size == 0) return;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key.data(), iv.data()), 1);
  int out_len = 0;
  ASSERT_EQ(EVP_EncryptUpdate(ctx, data, &out_len, data, static_cast<int>(size)), 1);
  EVP_CIPHER_CTX_free(ctx);
}

// RFC 3711 §4.3.1/§4.3.3: the AES-CM PRF with key derivation rate 0. x = key_id XOR
// master_salt, key_id = label || r (r = 0 here), right-aligned in the 112-bit salt; the
// keystream from IV = x * 2^16 is the derived key.
Bytes derive(const Bytes& master_key, const Bytes& master_salt, std::uint8_t label,
             std::size_t size) {
  std::array<std::uint8_t, 16> iv{};
  // A 96-bit (GCM) master salt is padded on the right to 112 bits.
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[7] ^= label;
  Bytes out(size, 0);
  aes_ctr(master_key, iv, out.data(), out.size());
  return out;
}

struct SessionKeys {
  Bytes rtp_key, rtp_auth, rtp_salt, rtcp_key, rtcp_auth, rtcp_salt;
};

SessionKeys derive_session_keys(const Bytes& master_key, const Bytes& master_salt,
                                std::size_t salt_size, std::size_t auth_size) {
  // RFC 3711 §4.3.2 labels: 0 SRTP encryption, 1 SRTP auth, 2 SRTP salt, 3..5 SRTCP.
  return {
      derive(master_key, master_salt, 0, 16),        derive(master_key, master_salt, 1, auth_size),
      derive(master_key, master_salt, 2, salt_size), derive(master_key, master_salt, 3, 16),
      derive(master_key, master_salt, 4, auth_size), derive(master_key, master_salt, 5, salt_size)};
}

std::uint32_t read32(const Bytes& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
std::array<std::uint8_t, 16> cm_iv(const Bytes& salt, std::uint32_t ssrc, std::uint64_t index) {
  std::array<std::uint8_t, 16> iv{};
  std::copy(salt.begin(), salt.end(), iv.begin());
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<std::uint8_t>(index >> (40 - 8 * i));
  return iv;
}

Bytes hmac_sha1_80(const Bytes& key, const Bytes& data) {
  std::array<std::uint8_t, 20> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), mac.data(),
       &size);
  return {mac.begin(), mac.begin() + 10};
}

// SRTP with AES_CM_128_HMAC_SHA1_80 (RFC 3711 §3.1, §4.1.1, §4.2.1), 12-byte header,
// rollover counter 0.
Bytes cm_protect_rtp(const SessionKeys& k, const Bytes& rtp) {
  Bytes out = rtp;
  const std::uint16_t seq = static_cast<std::uint16_t>(rtp[2] << 8 | rtp[3]);
  aes_ctr(k.rtp_key, cm_iv(k.rtp_salt, read32(rtp, 8), seq), out.data() + 12, out.size() - 12);
  // The tag covers the packet and the 32-bit rollover counter (RFC 3711 §4.2).
  const Bytes tag = hmac_sha1_80(k.rtp_auth, concat({out, Bytes{0, 0, 0, 0}}));
  return concat({out, tag});
}

// SRTCP with AES_CM_128_HMAC_SHA1_80 (RFC 3711 §3.4): encrypted from byte 8, then E=1 and
// the 31-bit index, then the tag over all of it.
Bytes cm_protect_rtcp(const SessionKeys& k, const Bytes& rtcp, std::uint32_t index) {
  Bytes out = rtcp;
  aes_ctr(k.rtcp_key, cm_iv(k.rtcp_salt, read32(rtcp, 4), index), out.data() + 8, out.size() - 8);
  const std::uint32_t e_index = 0x80000000u | index;
  out.insert(out.end(),
             {static_cast<std::uint8_t>(e_index >> 24), static_cast<std::uint8_t>(e_index >> 16),
              static_cast<std::uint8_t>(e_index >> 8), static_cast<std::uint8_t>(e_index)});
  return concat({out, hmac_sha1_80(k.rtcp_auth, out)});
}

// AES-128-GCM with a 16-byte tag: returns ciphertext || tag.
Bytes gcm_seal(const Bytes& key, const Bytes& iv, const Bytes& aad, const Bytes& plain) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(plain.size() + 16);
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr),
            1);
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &n, plain.data(), static_cast<int>(plain.size())),
            1);
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + n, &n), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size()), 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

// RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt, 96 bits.
Bytes gcm_rtp_iv(const Bytes& salt, std::uint32_t ssrc, std::uint32_t roc, std::uint16_t seq) {
  Bytes iv(12, 0);
  for (int i = 0; i < 4; ++i) iv[2 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) iv[6 + i] = static_cast<std::uint8_t>(roc >> (24 - 8 * i));
  iv[10] = static_cast<std::uint8_t>(seq >> 8);
  iv[11] = static_cast<std::uint8_t>(seq);
  for (std::size_t i = 0; i < 12; ++i) iv[i] ^= salt[i];
  return iv;
}

// SRTP AEAD_AES_128_GCM (RFC 7714 §8): the header is the associated data, the payload is
// encrypted, the 16-byte tag follows. 12-byte header, ROC 0.
Bytes gcm_protect_rtp(const Bytes& key, const Bytes& salt, const Bytes& rtp) {
  const Bytes header(rtp.begin(), rtp.begin() + 12);
  const Bytes payload(rtp.begin() + 12, rtp.end());
  const auto seq = static_cast<std::uint16_t>(rtp[2] << 8 | rtp[3]);
  return concat({header, gcm_seal(key, gcm_rtp_iv(salt, read32(rtp, 8), 0, seq), header, payload)});
}

// SRTCP AEAD_AES_128_GCM (RFC 7714 §9): IV = (0x0000 || SSRC || 0x0000 || 0 || index)
// XOR salt; associated data = the first 8 bytes and the E||index word; the packet is
// header || ciphertext || tag || E||index.
Bytes gcm_protect_rtcp(const Bytes& key, const Bytes& salt, const Bytes& rtcp,
                       std::uint32_t index) {
  Bytes iv(12, 0);
  const std::uint32_t ssrc = read32(rtcp, 4);
  for (int i = 0; i < 4; ++i) iv[2 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) iv[8 + i] = static_cast<std::uint8_t>(index >> (24 - 8 * i));
  for (std::size_t i = 0; i < 12; ++i) iv[i] ^= salt[i];
  const std::uint32_t e_index = 0x80000000u | index;
  const Bytes trailer = {
      static_cast<std::uint8_t>(e_index >> 24), static_cast<std::uint8_t>(e_index >> 16),
      static_cast<std::uint8_t>(e_index >> 8), static_cast<std::uint8_t>(e_index)};
  const Bytes header(rtcp.begin(), rtcp.begin() + 8);
  const Bytes body(rtcp.begin() + 8, rtcp.end());
  return concat({header, gcm_seal(key, iv, concat({header, trailer}), body), trailer});
}

// Published vectors.

// RFC 3711 Appendix B.3 (key derivation test vectors).
const Bytes kB3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kB3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");

// RFC 7714 §16.1 and §17.1: session key and salt ("Quid pro quo"), the RTP packet
// (SSRC 0x5501a0b2, sequence 0xf17b, ROC 0, "Gallia est omnis divisa in partes tres")
// and the RTCP packet (SSRC "Mars"). §17's introduction prints a packet that differs from
// the one its subsections encrypt; this is the one §17.1 encrypts.
const Bytes k7714Key = hex("000102030405060708090a0b0c0d0e0f");
const Bytes k7714Salt = hex("517569642070726f2071756f");
const Bytes k7714Rtp =
    hex("8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
        "69736120 696e2070 61727465 73207472 6573");
const Bytes k7714Rtcp =
    hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
        "deadbeef deadbeef deadbeef deadbeef deadbeef");

// libsrtp's srtp_validate() packets (AES_CM_128_HMAC_SHA1_80 from the B.3 master key).
const Bytes kLibsrtpRtp = hex("800f1234 decafbad cafebabe abababab abababab abababab abababab");
const Bytes kLibsrtpSrtp =
    hex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc 99ea179b 8dbb");
const Bytes kLibsrtpRtcp = hex("81c8000b cafebabe abababab abababab abababab abababab");
const Bytes kLibsrtpSrtcp =
    hex("81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798");

TEST(Rfc3711, B2AesCmKeystream) {
  // B.2: session key, and the counter F0F1...FD0000 (salt already shifted, SSRC and index
  // zero). Keystream blocks 0, 1, 2 and 0xFEFF, 0xFF00, 0xFF01.
  const Bytes key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  std::array<std::uint8_t, 16> iv{};
  const Bytes counter = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
  std::copy(counter.begin(), counter.end(), iv.begin());
  Bytes keystream(0xFF02 * 16, 0);
  aes_ctr(key, iv, keystream.data(), keystream.size());
  EXPECT_EQ(Bytes(keystream.begin(), keystream.begin() + 48),
            hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                "41E95B3BB0A2E8DD477901E4FCA894C0"));
  EXPECT_EQ(Bytes(keystream.end() - 48, keystream.end()),
            hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                "6A2CC3787889374FBEB4C81B17BA6C44"));
}

TEST(Rfc3711, B3KeyDerivation) {
  EXPECT_EQ(derive(kB3MasterKey, kB3MasterSalt, 0, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(derive(kB3MasterKey, kB3MasterSalt, 2, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(derive(kB3MasterKey, kB3MasterSalt, 1, 94),
            hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"));
}

TEST(Rfc7714, Section16_1_SrtpAeadAes128Gcm) {
  const Bytes expected =
      hex("8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f"
          "42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce");
  EXPECT_EQ(gcm_rtp_iv(k7714Salt, 0x5501a0b2, 0, 0xf17b), hex("51753c6580c2726f20718414"));
  EXPECT_EQ(gcm_protect_rtp(k7714Key, k7714Salt, k7714Rtp), expected);
}

TEST(Rfc7714, Section17_1_SrtcpAeadAes128Gcm) {
  const Bytes expected =
      hex("81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1"
          "730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4");
  EXPECT_EQ(gcm_protect_rtcp(k7714Key, k7714Salt, k7714Rtcp, 0x5d4), expected);
}

// SrtpSession against the vectors and the reference.

Bytes protect(SrtpSession& session, const Bytes& packet, bool rtcp) {
  std::array<std::uint8_t, 1500> buffer{};
  std::copy(packet.begin(), packet.end(), buffer.begin());
  std::size_t len = packet.size();
  const SrtpStatus status =
      rtcp ? session.protect_rtcp(buffer, len) : session.protect_rtp(buffer, len);
  EXPECT_EQ(status, SrtpStatus::kOk);
  return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(len)};
}

Bytes unprotect(SrtpSession& session, const Bytes& packet, bool rtcp) {
  std::array<std::uint8_t, 1500> buffer{};
  std::copy(packet.begin(), packet.end(), buffer.begin());
  std::size_t len = packet.size();
  const SrtpStatus status =
      rtcp ? session.unprotect_rtcp(buffer, len) : session.unprotect_rtp(buffer, len);
  EXPECT_EQ(status, SrtpStatus::kOk);
  return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(len)};
}

SrtpSession session(SrtpDirection direction, SrtpProfile profile, const Bytes& master) {
  auto s = SrtpSession::create(direction, profile, master);
  EXPECT_TRUE(s.has_value());
  return std::move(*s);
}

TEST(LibsrtpValidate, AesCm128HmacSha1_80Rtp) {
  const Bytes master = concat({kB3MasterKey, kB3MasterSalt});
  auto out = session(SrtpDirection::kOutbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  auto in = session(SrtpDirection::kInbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  EXPECT_EQ(protect(out, kLibsrtpRtp, false), kLibsrtpSrtp);
  EXPECT_EQ(unprotect(in, kLibsrtpSrtp, false), kLibsrtpRtp);
}

TEST(LibsrtpValidate, AesCm128HmacSha1_80Rtcp) {
  const Bytes master = concat({kB3MasterKey, kB3MasterSalt});
  auto out = session(SrtpDirection::kOutbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  auto in = session(SrtpDirection::kInbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  EXPECT_EQ(protect(out, kLibsrtpRtcp, true), kLibsrtpSrtcp);  // first SRTCP index is 1
  EXPECT_EQ(unprotect(in, kLibsrtpSrtcp, true), kLibsrtpRtcp);
}

TEST(LibsrtpValidate, ReferenceAgreesWithThePublishedPackets) {
  // The reference, from the same master key, gives libsrtp's published bytes: so it is
  // right about key derivation, the CM IV, and what the HMAC covers.
  const SessionKeys k = derive_session_keys(kB3MasterKey, kB3MasterSalt, 14, 20);
  EXPECT_EQ(cm_protect_rtp(k, kLibsrtpRtp), kLibsrtpSrtp);
  EXPECT_EQ(cm_protect_rtcp(k, kLibsrtpRtcp, 1), kLibsrtpSrtcp);
}

TEST(SrtpSessionKnownAnswer, AeadAes128GcmFromMasterKey) {
  // RFC 7714's key and salt used as a master key this time, so libsrtp derives session
  // keys (RFC 7714 §11, RFC 3711 §4.3) and protects the RFC 7714 §16 and §17 packets.
  const Bytes master = concat({k7714Key, k7714Salt});
  const SessionKeys k = derive_session_keys(k7714Key, k7714Salt, 12, 0);
  const Bytes expected_rtp = gcm_protect_rtp(k.rtp_key, k.rtp_salt, k7714Rtp);
  const Bytes expected_rtcp = gcm_protect_rtcp(k.rtcp_key, k.rtcp_salt, k7714Rtcp, 1);

  auto out = session(SrtpDirection::kOutbound, SrtpProfile::kAeadAes128Gcm, master);
  auto in = session(SrtpDirection::kInbound, SrtpProfile::kAeadAes128Gcm, master);
  EXPECT_EQ(protect(out, k7714Rtp, false), expected_rtp);
  EXPECT_EQ(unprotect(in, expected_rtp, false), k7714Rtp);
  EXPECT_EQ(protect(out, k7714Rtcp, true), expected_rtcp);
  EXPECT_EQ(unprotect(in, expected_rtcp, true), k7714Rtcp);
}

TEST(SrtpSessionKnownAnswer, AesCm128HmacSha1_80FromMasterKey) {
  // Another master key and the RFC 7714 packets, to cover a second SSRC, sequence number
  // and payload length with the CM profile.
  const Bytes key = hex("00112233445566778899aabbccddeeff");
  const Bytes salt = hex("f0e1d2c3b4a5968778695a4b3c2d");
  const Bytes master = concat({key, salt});
  const SessionKeys k = derive_session_keys(key, salt, 14, 20);
  const Bytes expected_rtp = cm_protect_rtp(k, k7714Rtp);
  const Bytes expected_rtcp = cm_protect_rtcp(k, k7714Rtcp, 1);

  auto out = session(SrtpDirection::kOutbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  auto in = session(SrtpDirection::kInbound, SrtpProfile::kAes128CmHmacSha1_80, master);
  EXPECT_EQ(protect(out, k7714Rtp, false), expected_rtp);
  EXPECT_EQ(unprotect(in, expected_rtp, false), k7714Rtp);
  EXPECT_EQ(protect(out, k7714Rtcp, true), expected_rtcp);
  EXPECT_EQ(unprotect(in, expected_rtcp, true), k7714Rtcp);
}

}  // namespace
}  // namespace conclave::rtc
