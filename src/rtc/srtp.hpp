// SRTP and SRTCP (RFC 3711, RFC 7714) for one direction of one DTLS-SRTP association,
// over libsrtp2. The keys come from DtlsTransport (RFC 5764 §4.2 key export).
//
// Ownership: an SrtpSession owns one libsrtp session (srtp_t) and nothing else; it is
// move-only and frees the session when destroyed. It belongs to the worker thread that
// owns the transport: not thread-safe, no locks.
//
// Callers: the transport glue creates two sessions when DTLS connects (kInbound with the
// remote key, kOutbound with the local key); the worker's receive path calls
// unprotect_rtp/unprotect_rtcp on every SRTP datagram, the send path protect_rtp/
// protect_rtcp. The bot does the same.
//
// Packet path: protect/unprotect are noexcept, work in place, return an SrtpStatus and
// never allocate in our code. libsrtp allocates once per new SSRC (it clones the
// any-SSRC template into a per-stream context with its own replay window). Below that,
// Debian's libsrtp2 is built on NSS, which does allocate per packet (measured with
// libsrtp2 2.5.0: 5 allocations per AEAD_AES_128_GCM packet, 14 per AES-CM-HMAC-SHA1
// packet) and costs several times what OpenSSL EVP does: bench/srtp_bench.cpp. That is
// the open question of DESIGN.md's "libsrtp2 or our own transform on OpenSSL EVP"; this
// interface is meant to stay when the implementation behind it changes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

// libsrtp's session type (srtp_t is a pointer to it), declared here so that this header
// does not pull in <srtp2/srtp.h>.
struct srtp_ctx_t_;

namespace conclave::rtc {

// The DTLS-SRTP protection profiles we negotiate (RFC 5764 §4.1.2, RFC 7714 §14.2), in
// our order of preference: AEAD_AES_128_GCM first, because it authenticates and encrypts
// in one pass and is much cheaper per packet than AES-CM + HMAC-SHA1.
enum class SrtpProfile : std::uint8_t {
  // SRTP_AEAD_AES_128_GCM {0x00,0x07}: 16-byte key, 12-byte salt, 16-byte tag.
  kAeadAes128Gcm,
  // SRTP_AES128_CM_HMAC_SHA1_80 {0x00,0x01}: 16-byte key, 14-byte salt, 10-byte tag.
  kAes128CmHmacSha1_80,
};

// The profile's name as RFC 5764/7714 write it ("SRTP_AEAD_AES_128_GCM"), for logs.
[[nodiscard]] std::string_view to_string(SrtpProfile profile) noexcept;

// Master key and master salt lengths in bytes (RFC 5764 §4.1.2, RFC 7714 §14.2).
[[nodiscard]] constexpr std::size_t srtp_master_key_length(SrtpProfile) noexcept {
  return 16;
}
[[nodiscard]] constexpr std::size_t srtp_master_salt_length(SrtpProfile profile) noexcept {
  return profile == SrtpProfile::kAeadAes128Gcm ? 12 : 14;
}

// The bytes protect_rtp/protect_rtcp may write past the end of the packet: libsrtp writes
// the tag (and, for SRTCP, the 4-byte E+index word) there and documents that it may use
// up to SRTP_MAX_TRAILER_LEN (+4 for SRTCP) bytes. We require that headroom for every
// protect call, whatever the profile, rather than rely on the actual (smaller) trailer of
// today's profiles: libsrtp promises no more. A 1500-byte send buffer holds any packet
// up to 1352 bytes with room to protect it.
inline constexpr std::size_t kSrtpProtectHeadroom = 148;  // SRTP_MAX_TRAILER_LEN (144) + 4

// The largest trailer today's profiles actually add: SRTCP with AES-CM-HMAC-SHA1-80 adds
// the 4-byte E+index word and a 10-byte tag; AES-GCM adds a 16-byte tag (and 4 for SRTCP).
// For sizing what goes on the wire (MTU), not for buffer headroom.
inline constexpr std::size_t kSrtpMaxOverhead = 20;

// The master key and master salt of one direction, concatenated (key || salt) as libsrtp
// takes them. Wiped when destroyed.
class SrtpMasterKey {
 public:
  static constexpr std::size_t kMaxSize = 30;  // 16-byte key + 14-byte salt

  SrtpMasterKey() noexcept = default;
  // Copies key || salt. Sizes that do not fit leave the key empty.
  SrtpMasterKey(std::span<const std::uint8_t> key, std::span<const std::uint8_t> salt) noexcept;
  SrtpMasterKey(const SrtpMasterKey&) noexcept = default;
  SrtpMasterKey& operator=(const SrtpMasterKey&) noexcept = default;
  ~SrtpMasterKey();

  std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), size_}; }
  bool empty() const noexcept { return size_ == 0; }

  friend bool operator==(const SrtpMasterKey& a, const SrtpMasterKey& b) noexcept;

 private:
  std::array<std::uint8_t, kMaxSize> bytes_{};
  std::size_t size_ = 0;
};

// What DTLS-SRTP gives one endpoint (RFC 5764 §4.2): `local` protects what we send,
// `remote` unprotects what the peer sends. The two ends of one association see the same
// pair mirrored.
struct SrtpKeyPair {
  SrtpMasterKey local;
  SrtpMasterKey remote;
};

enum class SrtpStatus : std::uint8_t {
  kOk,
  kBadParam,        // not an RTP/RTCP packet we can process (too short, length over the
                    // buffer), or the wrong direction for this session
  kBufferTooSmall,  // protect: less than kSrtpProtectHeadroom bytes after the packet
  kAuthFail,        // unprotect: tag mismatch (tampered, wrong key, or not for us)
  kReplayFail,      // unprotect: this index was already received (RFC 3711 §3.3.2);
                    // protect: a repeated index (only without allow_repeat_tx)
  kReplayOld,       // unprotect: index older than the replay window (RFC 3711 §3.3.2)
  kFail,            // any other libsrtp failure (cipher error, out of memory for a new SSRC)
};

// A stable lowercase name ("auth_fail"), for metric labels.
[[nodiscard]] std::string_view to_string(SrtpStatus status) noexcept;

enum class SrtpDirection : std::uint8_t {
  kInbound,   // unprotect only: ssrc_any_inbound, replay protection on
  kOutbound,  // protect only: ssrc_any_outbound, repeated indexes allowed (see below)
};

// Resending under the original SSRC and sequence number (a NACK answered without RTX) is
// allowed on outbound sessions, but only byte-identical resends are safe: a different
// payload or header extension (a new transport-wide-cc sequence number, say) under the
// same index reuses the AES-CTR keystream (RFC 3711 §9.1) or, worse, the GCM nonce,
// which gives away the GHASH authentication key (RFC 7714, Security Considerations).
// Resends that are not identical must go out on the RTX SSRC with their own sequence
// numbers (RFC 4588).

class SrtpSession {
 public:
  // Replay window (RFC 3711 §3.3.2, packets). libsrtp's default is 128; an SFU sees
  // reordering and late retransmissions on the original SSRC when RTX is not negotiated,
  // and a burst of a large keyframe can put more than a thousand packets between a lost
  // packet and its resend. 4096 covers about two seconds of a 20 Mbit/s stream
  // and costs 512 bytes per inbound SSRC. (libsrtp accepts 64 .. 0x7fff.)
  static constexpr unsigned long kReplayWindow = 4096;

  // A session for `direction`, keyed with `master_key` (key || salt of `profile`'s
  // lengths). nullopt when the key has the wrong length or libsrtp refuses (out of memory
  // or a profile its crypto backend lacks). Calls srtp_init() once per process.
  [[nodiscard]] static std::optional<SrtpSession> create(
      SrtpDirection direction, SrtpProfile profile,
      std::span<const std::uint8_t> master_key) noexcept;

  SrtpSession(SrtpSession&& other) noexcept;
  SrtpSession& operator=(SrtpSession&& other) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  SrtpDirection direction() const noexcept { return direction_; }
  SrtpProfile profile() const noexcept { return profile_; }

  // In place. On entry `buffer[0, len)` is the RTP (RTCP) packet; `buffer` must extend at
  // least kSrtpProtectHeadroom bytes past it. On kOk, `buffer[0, len)` is the SRTP
  // (SRTCP) packet and `len` grew by the trailer. On failure the buffer content is
  // unspecified and `len` is unchanged. The packet should start 4-byte aligned (libsrtp
  // reads header words directly; unaligned works on x86, slower).
  [[nodiscard]] SrtpStatus protect_rtp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept;
  [[nodiscard]] SrtpStatus protect_rtcp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept;

  // In place. On entry `buffer[0, len)` is the SRTP (SRTCP) packet as received; on kOk
  // `buffer[0, len)` is the RTP (RTCP) packet and `len` shrank by the trailer. On failure
  // the buffer content is unspecified (libsrtp may have decrypted part of it) and `len`
  // is unchanged: drop the packet.
  [[nodiscard]] SrtpStatus unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t& len) noexcept;
  [[nodiscard]] SrtpStatus unprotect_rtcp(std::span<std::uint8_t> buffer,
                                          std::size_t& len) noexcept;

 private:
  SrtpSession(srtp_ctx_t_* context, SrtpDirection direction, SrtpProfile profile) noexcept
      : context_(context), direction_(direction), profile_(profile) {}

  srtp_ctx_t_* context_ = nullptr;  // Allocated by libsrtp (srtp_create), freed by this.
  SrtpDirection direction_;
  SrtpProfile profile_;
};

}  // namespace conclave::rtc
