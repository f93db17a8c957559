#include "rtc/srtp.hpp"

#include "rtc/wire.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace conclave::rtc {

static_assert(kSrtpProtectHeadroom == SRTP_MAX_TRAILER_LEN + 4,
              "libsrtp's documented trailer space changed: review kSrtpProtectHeadroom");
static_assert(SrtpMasterKey::kMaxSize == SRTP_AES_ICM_128_KEY_LEN_WSALT);

namespace {

constexpr std::size_t kRtpHeaderSize = 12;     // RFC 3550 §5.1, without CSRCs
constexpr std::size_t kRtcpHeaderSize = 8;     // RFC 3550 §6.4.1: header word + sender SSRC
constexpr std::size_t kMaxPacketSize = 65535;  // a UDP payload; keeps lengths far from INT_MAX

// srtp_init() sets up libsrtp's crypto kernel and must run once per process before any
// session is created (libsrtp keeps the kernel in a global). Never shut down: sessions
// may live until exit on any worker.
bool ensure_srtp_initialised() noexcept {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = srtp_init() == srtp_err_status_ok; });
  return ok;
}

SrtpStatus from_libsrtp(srtp_err_status_t status) noexcept {
  switch (status) {
    case srtp_err_status_ok:
      return SrtpStatus::kOk;
    case srtp_err_status_auth_fail:
      return SrtpStatus::kAuthFail;
    case srtp_err_status_replay_fail:
      return SrtpStatus::kReplayFail;
    case srtp_err_status_replay_old:
      return SrtpStatus::kReplayOld;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      return SrtpStatus::kBadParam;
    default:
      return SrtpStatus::kFail;
  }
}

// The RTP header length: fixed part, CSRCs and the header extension (RFC 3550 §5.3.1),
// or 0 when it does not fit in `len` bytes. libsrtp checks this too in recent versions;
// checking here keeps us safe whichever libsrtp the system has.
std::size_t rtp_header_length(std::span<const std::uint8_t> packet, std::size_t len) noexcept {
  if (len < kRtpHeaderSize) return 0;
  std::size_t header = kRtpHeaderSize + 4 * static_cast<std::size_t>(packet[0] & 0x0f);
  if (packet[0] & 0x10) {
    if (len < header + 4) return 0;
    const std::size_t words = std::size_t{wire::load_be16(&packet[header + 2])};
    header += 4 + 4 * words;
  }
  return header <= len ? header : 0;
}

}  // namespace

std::string_view to_string(SrtpProfile profile) noexcept {
  switch (profile) {
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAes128CmHmacSha1_80:
      return "SRTP_AES128_CM_HMAC_SHA1_80";
  }
  return "unknown";
}

std::string_view to_string(SrtpStatus status) noexcept {
  switch (status) {
    case SrtpStatus::kOk:
      return "ok";
    case SrtpStatus::kBadParam:
      return "bad_param";
    case SrtpStatus::kBufferTooSmall:
      return "buffer_too_small";
    case SrtpStatus::kAuthFail:
      return "auth_fail";
    case SrtpStatus::kReplayFail:
      return "replay_fail";
    case SrtpStatus::kReplayOld:
      return "replay_old";
    case SrtpStatus::kFail:
      return "fail";
  }
  return "unknown";
}

SrtpMasterKey::SrtpMasterKey(std::span<const std::uint8_t> key,
                             std::span<const std::uint8_t> salt) noexcept {
  if (key.size() + salt.size() > kMaxSize) return;
  std::copy(key.begin(), key.end(), bytes_.begin());
  std::copy(salt.begin(), salt.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(key.size()));
  size_ = key.size() + salt.size();
}

SrtpMasterKey::~SrtpMasterKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

bool operator==(const SrtpMasterKey& a, const SrtpMasterKey& b) noexcept {
  return a.size_ == b.size_ && CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), a.size_) == 0;
}

std::optional<SrtpSession> SrtpSession::create(SrtpDirection direction, SrtpProfile profile,
                                               std::span<const std::uint8_t> master_key) noexcept {
  if (master_key.size() != srtp_master_key_length(profile) + srtp_master_salt_length(profile)) {
    return std::nullopt;
  }
  if (!ensure_srtp_initialised()) return std::nullopt;

  srtp_policy_t policy{};
  switch (profile) {
    case SrtpProfile::kAeadAes128Gcm:
      // RFC 7714 §14.2: the same AEAD transform for SRTP and SRTCP.
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
    case SrtpProfile::kAes128CmHmacSha1_80:
      // RFC 5764 §4.1.2: SRTCP uses the 80-bit tag too.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
  }
  // libsrtp reads the key only while creating the session (it derives the session keys,
  // RFC 3711 §4.3) but takes it through a non-const pointer, hence the copy.
  std::array<unsigned char, SrtpMasterKey::kMaxSize> key{};
  std::copy(master_key.begin(), master_key.end(), key.begin());
  policy.key = key.data();
  policy.ssrc.type = direction == SrtpDirection::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.window_size = kReplayWindow;
  // The sender may resend a packet under its original SSRC and sequence number (NACK
  // answered without RTX). That is only safe when the resent bytes are identical: a
  // different payload or header extension under the same index reuses the AES-CTR
  // keystream / GCM nonce (RFC 3711 §9.1; RFC 7714, Security Considerations).
  policy.allow_repeat_tx = direction == SrtpDirection::kOutbound ? 1 : 0;
  policy.next = nullptr;

  srtp_t context = nullptr;
  const srtp_err_status_t status = srtp_create(&context, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  if (status != srtp_err_status_ok) {
    if (context != nullptr) srtp_dealloc(context);
    return std::nullopt;
  }
  return SrtpSession(context, direction, profile);
}

SrtpSession::SrtpSession(SrtpSession&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)),
      direction_(other.direction_),
      profile_(other.profile_) {}

SrtpSession& SrtpSession::operator=(SrtpSession&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) srtp_dealloc(context_);
    context_ = std::exchange(other.context_, nullptr);
    direction_ = other.direction_;
    profile_ = other.profile_;
  }
  return *this;
}

SrtpSession::~SrtpSession() {
  if (context_ != nullptr) srtp_dealloc(context_);
}

SrtpStatus SrtpSession::protect_rtp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept {
  if (context_ == nullptr || direction_ != SrtpDirection::kOutbound) return SrtpStatus::kBadParam;
  if (len > buffer.size() || len > kMaxPacketSize) return SrtpStatus::kBadParam;
  if (rtp_header_length(buffer, len) == 0) return SrtpStatus::kBadParam;
  if (buffer.size() - len < kSrtpProtectHeadroom) return SrtpStatus::kBufferTooSmall;
  int n = static_cast<int>(len);
  const SrtpStatus status = from_libsrtp(srtp_protect(context_, buffer.data(), &n));
  if (status == SrtpStatus::kOk) len = static_cast<std::size_t>(n);
  return status;
}

SrtpStatus SrtpSession::protect_rtcp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept {
  if (context_ == nullptr || direction_ != SrtpDirection::kOutbound) return SrtpStatus::kBadParam;
  if (len > buffer.size() || len > kMaxPacketSize || len < kRtcpHeaderSize) {
    return SrtpStatus::kBadParam;
  }
  if (buffer.size() - len < kSrtpProtectHeadroom) return SrtpStatus::kBufferTooSmall;
  int n = static_cast<int>(len);
  const SrtpStatus status = from_libsrtp(srtp_protect_rtcp(context_, buffer.data(), &n));
  if (status == SrtpStatus::kOk) len = static_cast<std::size_t>(n);
  return status;
}

SrtpStatus SrtpSession::unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept {
  if (context_ == nullptr || direction_ != SrtpDirection::kInbound) return SrtpStatus::kBadParam;
  if (len > buffer.size() || len > kMaxPacketSize) return SrtpStatus::kBadParam;
  if (rtp_header_length(buffer, len) == 0) return SrtpStatus::kBadParam;
  int n = static_cast<int>(len);
  const SrtpStatus status = from_libsrtp(srtp_unprotect(context_, buffer.data(), &n));
  if (status == SrtpStatus::kOk) len = static_cast<std::size_t>(n);
  return status;
}

SrtpStatus SrtpSession::unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept {
  if (context_ == nullptr || direction_ != SrtpDirection::kInbound) return SrtpStatus::kBadParam;
  if (len > buffer.size() || len > kMaxPacketSize || len < kRtcpHeaderSize) {
    return SrtpStatus::kBadParam;
  }
  int n = static_cast<int>(len);
  const SrtpStatus status = from_libsrtp(srtp_unprotect_rtcp(context_, buffer.data(), &n));
  if (status == SrtpStatus::kOk) len = static_cast<std::size_t>(n);
  return status;
}

}  // namespace conclave::rtc
