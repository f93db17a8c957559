// Cost per packet of SRTP: SrtpSession (libsrtp2 as Debian builds it) for both DTLS-SRTP
// profiles, and the same work done directly with OpenSSL EVP as the reference for the
// "libsrtp2 or a transform of our own on OpenSSL EVP" decision in DESIGN.md (Libraries).
//
// Sizes are whole RTP packets (12-byte header + payload): 100 bytes is an Opus frame,
// 1200 a full video packet. Every iteration copies the plaintext (or the protected
// packet) into the work buffer first, because all of these work in place; the copy is the
// same for every row.
//
// Run: build/bench/conclave_bench_srtp [--benchmark_min_time=0.5]; scripts/bench writes every
// row into docs/benchmarks.md, scripts/bench-ceiling the 1200-byte rows (issue 9, the ceiling).
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "rtc/srtp.hpp"

namespace {

using conclave::rtc::SrtpDirection;
using conclave::rtc::SrtpProfile;
using conclave::rtc::SrtpSession;
using conclave::rtc::SrtpStatus;

constexpr std::size_t kBufferSize = 1500 + conclave::rtc::kSrtpProtectHeadroom;

std::vector<std::uint8_t> master_key(SrtpProfile profile) {
  std::vector<std::uint8_t> key(conclave::rtc::srtp_master_key_length(profile) +
                                conclave::rtc::srtp_master_salt_length(profile));
  // A loop, not std::iota: GCC 12 warns (-Wstringop-overflow) on iota over this vector.
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0x21 + i);
  return key;
}

// An RTP packet of `size` bytes (RFC 3550 §5.1) with sequence number `seq`.
void write_rtp(std::uint8_t* out, std::size_t size, std::uint16_t seq) {
  const std::uint8_t header[12] = {0x80,
                                   0x60,
                                   static_cast<std::uint8_t>(seq >> 8),
                                   static_cast<std::uint8_t>(seq),
                                   0x00,
                                   0x01,
                                   0x02,
                                   0x03,
                                   0xca,
                                   0xfe,
                                   0xba,
                                   0xbe};
  std::memcpy(out, header, sizeof header);
  for (std::size_t i = 12; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 31);
}

void set_seq(std::uint8_t* packet, std::uint16_t seq) {
  packet[2] = static_cast<std::uint8_t>(seq >> 8);
  packet[3] = static_cast<std::uint8_t>(seq);
}

// SrtpSession (libsrtp).

void BM_SrtpProtect(benchmark::State& state, SrtpProfile profile) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto session = SrtpSession::create(SrtpDirection::kOutbound, profile, master_key(profile));
  if (!session) {
    state.SkipWithError("SrtpSession::create failed");
    return;
  }
  std::array<std::uint8_t, kBufferSize> plain{};
  std::array<std::uint8_t, kBufferSize> work{};
  write_rtp(plain.data(), size, 0);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(work.data(), plain.data(), size);
    set_seq(work.data(), seq++);
    std::size_t len = size;
    if (session->protect_rtp(work, len) != SrtpStatus::kOk) {
      state.SkipWithError("protect failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_SrtpUnprotect(benchmark::State& state, SrtpProfile profile) {
  // Replay protection refuses a packet twice, so: a batch of consecutive packets
  // protected up front, unprotected in order by a fresh inbound session per batch (the
  // session set-up is outside the timing).
  constexpr std::size_t kBatch = 2048;
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto key = master_key(profile);
  auto sender = SrtpSession::create(SrtpDirection::kOutbound, profile, key);
  if (!sender) {
    state.SkipWithError("SrtpSession::create failed");
    return;
  }
  std::vector<std::array<std::uint8_t, kBufferSize>> batch(kBatch);
  std::vector<std::size_t> lengths(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) {
    write_rtp(batch[i].data(), size, static_cast<std::uint16_t>(i));
    lengths[i] = size;
    if (sender->protect_rtp(batch[i], lengths[i]) != SrtpStatus::kOk) {
      state.SkipWithError("protect failed");
      return;
    }
  }
  std::optional<SrtpSession> receiver;
  std::array<std::uint8_t, kBufferSize> work{};
  std::size_t next = kBatch;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      receiver = SrtpSession::create(SrtpDirection::kInbound, profile, key);
      next = 0;
      state.ResumeTiming();
    }
    std::memcpy(work.data(), batch[next].data(), lengths[next]);
    std::size_t len = lengths[next];
    ++next;
    if (receiver->unprotect_rtp(work, len) != SrtpStatus::kOk) {
      state.SkipWithError("unprotect failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

BENCHMARK_CAPTURE(BM_SrtpProtect, libsrtp_aead_aes_128_gcm, SrtpProfile::kAeadAes128Gcm)
    ->Arg(100)
    ->Arg(1200);
BENCHMARK_CAPTURE(BM_SrtpUnprotect, libsrtp_aead_aes_128_gcm, SrtpProfile::kAeadAes128Gcm)
    ->Arg(100)
    ->Arg(1200);
BENCHMARK_CAPTURE(BM_SrtpProtect, libsrtp_aes_cm_128_hmac_sha1_80,
                  SrtpProfile::kAes128CmHmacSha1_80)
    ->Arg(100)
    ->Arg(1200);
BENCHMARK_CAPTURE(BM_SrtpUnprotect, libsrtp_aes_cm_128_hmac_sha1_80,
                  SrtpProfile::kAes128CmHmacSha1_80)
    ->Arg(100)
    ->Arg(1200);

// OpenSSL EVP references: the cryptographic work of each profile per packet, for cost only.
// Not SRTP implementations (fixed keys, no key derivation, no index/ROC tracking, no replay
// window) and not checked against the RFC vectors.

// AES-128-GCM as RFC 7714 §8 uses it: 12-byte IV per packet, header as AAD, payload
// encrypted in place, 16-byte tag appended. One EVP_CIPHER_CTX keyed once, re-IVed per
// packet (no allocation per packet).
struct GcmContext {
  GcmContext() {
    std::array<std::uint8_t, 16> key{};
    std::iota(key.begin(), key.end(), std::uint8_t{1});
    EVP_EncryptInit_ex(seal, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
    EVP_DecryptInit_ex(open, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  }
  ~GcmContext() {
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
  GcmContext(const GcmContext&) = delete;
  GcmContext& operator=(const GcmContext&) = delete;

  EVP_CIPHER_CTX* seal = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* open = EVP_CIPHER_CTX_new();
};

std::array<std::uint8_t, 12> gcm_iv(std::uint16_t seq) {
  std::array<std::uint8_t, 12> iv{};
  iv[10] = static_cast<std::uint8_t>(seq >> 8);
  iv[11] = static_cast<std::uint8_t>(seq);
  return iv;
}

bool gcm_seal(EVP_CIPHER_CTX* ctx, std::uint8_t* packet, std::size_t size, std::uint16_t seq) {
  const auto iv = gcm_iv(seq);
  int n = 0;
  return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &n, packet, 12) == 1 &&
         EVP_EncryptUpdate(ctx, packet + 12, &n, packet + 12, static_cast<int>(size - 12)) == 1 &&
         EVP_EncryptFinal_ex(ctx, packet + size, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, packet + size) == 1;
}

bool gcm_open(EVP_CIPHER_CTX* ctx, std::uint8_t* packet, std::size_t size, std::uint16_t seq) {
  const auto iv = gcm_iv(seq);
  const std::size_t body = size - 16;
  int n = 0;
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &n, packet, 12) == 1 &&
         EVP_DecryptUpdate(ctx, packet + 12, &n, packet + 12, static_cast<int>(body - 12)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, packet + body) == 1 &&
         EVP_DecryptFinal_ex(ctx, packet + body, &n) == 1;
}

void BM_EvpGcmSeal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  GcmContext gcm;
  std::array<std::uint8_t, kBufferSize> plain{};
  std::array<std::uint8_t, kBufferSize> work{};
  write_rtp(plain.data(), size, 0);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(work.data(), plain.data(), size);
    if (!gcm_seal(gcm.seal, work.data(), size, seq++)) {
      state.SkipWithError("seal failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_EvpGcmOpen(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  GcmContext gcm;
  std::array<std::uint8_t, kBufferSize> sealed{};
  std::array<std::uint8_t, kBufferSize> work{};
  write_rtp(sealed.data(), size, 7);
  if (!gcm_seal(gcm.seal, sealed.data(), size, 7)) {
    state.SkipWithError("seal failed");
    return;
  }
  for (auto _ : state) {
    std::memcpy(work.data(), sealed.data(), size + 16);
    if (!gcm_open(gcm.open, work.data(), size + 16, 7)) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

BENCHMARK(BM_EvpGcmSeal)->Arg(100)->Arg(1200);
BENCHMARK(BM_EvpGcmOpen)->Arg(100)->Arg(1200);

// AES-128-CTR + HMAC-SHA1 truncated to 80 bits, as RFC 3711 §4.1.1/§4.2.1 use them: the
// EVP cost of AES_CM_128_HMAC_SHA1_80 without libsrtp. Seal: encrypt, then MAC the packet
// and the 4-byte rollover counter; open: check the MAC, then decrypt. The MAC context is
// keyed once and re-initialised per packet. A cost reference, not an SRTP implementation
// (fixed keys and counter block, no key derivation, no replay window).
struct CmContext {
  CmContext() {
    std::array<std::uint8_t, 16> key{};
    std::iota(key.begin(), key.end(), std::uint8_t{1});
    EVP_EncryptInit_ex(ctr, EVP_aes_128_ctr(), nullptr, key.data(), nullptr);
    mac_algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    mac = EVP_MAC_CTX_new(mac_algorithm);
    char digest[] = "SHA1";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_END};
    std::array<std::uint8_t, 20> auth_key{};
    std::iota(auth_key.begin(), auth_key.end(), std::uint8_t{7});
    ok = mac != nullptr && EVP_MAC_init(mac, auth_key.data(), auth_key.size(), params) == 1;
  }
  ~CmContext() {
    EVP_CIPHER_CTX_free(ctr);
    EVP_MAC_CTX_free(mac);
    EVP_MAC_free(mac_algorithm);
  }
  CmContext(const CmContext&) = delete;
  CmContext& operator=(const CmContext&) = delete;

  EVP_CIPHER_CTX* ctr = EVP_CIPHER_CTX_new();
  EVP_MAC* mac_algorithm = nullptr;
  EVP_MAC_CTX* mac = nullptr;
  bool ok = false;
};

// AES-128-CTR over the payload in place, counter block from the sequence number.
bool cm_crypt(CmContext& cm, std::uint8_t* packet, std::size_t size, std::uint16_t seq) {
  std::array<std::uint8_t, 16> iv{};
  iv[12] = static_cast<std::uint8_t>(seq >> 8);
  iv[13] = static_cast<std::uint8_t>(seq);
  int n = 0;
  return EVP_EncryptInit_ex(cm.ctr, nullptr, nullptr, nullptr, iv.data()) == 1 &&
         EVP_EncryptUpdate(cm.ctr, packet + 12, &n, packet + 12, static_cast<int>(size - 12)) == 1;
}

// HMAC-SHA1 of the packet and the 4-byte rollover counter (RFC 3711 §4.2).
bool cm_mac(CmContext& cm, const std::uint8_t* packet, std::size_t size,
            std::array<std::uint8_t, 20>& tag) {
  const std::uint8_t roc[4] = {0, 0, 0, 0};
  std::size_t tag_size = 0;
  return EVP_MAC_init(cm.mac, nullptr, 0, nullptr) == 1 &&
         EVP_MAC_update(cm.mac, packet, size) == 1 &&
         EVP_MAC_update(cm.mac, roc, sizeof roc) == 1 &&
         EVP_MAC_final(cm.mac, tag.data(), &tag_size, tag.size()) == 1;
}

// Encrypt, then append the MAC truncated to 80 bits.
bool cm_seal(CmContext& cm, std::uint8_t* packet, std::size_t size, std::uint16_t seq) {
  std::array<std::uint8_t, 20> tag{};
  if (!cm_crypt(cm, packet, size, seq) || !cm_mac(cm, packet, size, tag)) return false;
  std::memcpy(packet + size, tag.data(), 10);
  return true;
}

// `size` includes the 10-byte tag: check the MAC (constant time), then decrypt.
bool cm_open(CmContext& cm, std::uint8_t* packet, std::size_t size, std::uint16_t seq) {
  const std::size_t body = size - 10;
  std::array<std::uint8_t, 20> tag{};
  return cm_mac(cm, packet, body, tag) && CRYPTO_memcmp(tag.data(), packet + body, 10) == 0 &&
         cm_crypt(cm, packet, body, seq);
}

void BM_EvpAesCtrHmacSha1Seal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  CmContext cm;
  if (!cm.ok) {
    state.SkipWithError("HMAC set-up failed");
    return;
  }
  std::array<std::uint8_t, kBufferSize> plain{};
  std::array<std::uint8_t, kBufferSize> work{};
  write_rtp(plain.data(), size, 0);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(work.data(), plain.data(), size);
    if (!cm_seal(cm, work.data(), size, seq++)) {
      state.SkipWithError("seal failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_EvpAesCtrHmacSha1Open(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  CmContext cm;
  if (!cm.ok) {
    state.SkipWithError("HMAC set-up failed");
    return;
  }
  std::array<std::uint8_t, kBufferSize> sealed{};
  std::array<std::uint8_t, kBufferSize> work{};
  write_rtp(sealed.data(), size, 7);
  if (!cm_seal(cm, sealed.data(), size, 7)) {
    state.SkipWithError("seal failed");
    return;
  }
  for (auto _ : state) {
    std::memcpy(work.data(), sealed.data(), size + 10);
    if (!cm_open(cm, work.data(), size + 10, 7)) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

BENCHMARK(BM_EvpAesCtrHmacSha1Seal)->Arg(100)->Arg(1200);
BENCHMARK(BM_EvpAesCtrHmacSha1Open)->Arg(100)->Arg(1200);

}  // namespace

BENCHMARK_MAIN();
