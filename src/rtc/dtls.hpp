// DTLS 1.2 (RFC 6347) with the DTLS-SRTP extension (RFC 5764) for one WebRTC transport,
// over OpenSSL. No sockets inside: records come in through receive() and go out through
// the listener, so the worker's one UDP socket (RFC 7983 demultiplexing) stays outside.
//
// Identity is a self-signed certificate whose fingerprint travels in SDP (RFC 8122
// a=fingerprint); the peer's certificate is accepted when its digest equals the
// fingerprint from the peer's SDP (RFC 5763 §5, RFC 8827 §6.5), never through PKI.
#pragma once

#include <openssl/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rtc/srtp.hpp"

namespace conclave::rtc {

// The hash functions a=fingerprint may name (RFC 8122 §5), less md2 and md5. We send
// sha-256, as browsers do; we check with whichever the peer names.
enum class DtlsHashAlgorithm : std::uint8_t { kSha1, kSha224, kSha256, kSha384, kSha512 };

// The SDP name: "sha-256".
[[nodiscard]] std::string_view to_string(DtlsHashAlgorithm algorithm) noexcept;

// A certificate fingerprint as a=fingerprint carries it (RFC 8122 §5).
struct DtlsFingerprint {
  static constexpr std::size_t kMaxSize = 64;  // sha-512

  DtlsHashAlgorithm algorithm = DtlsHashAlgorithm::kSha256;
  std::array<std::uint8_t, kMaxSize> digest{};
  std::size_t size = 0;

  std::span<const std::uint8_t> bytes() const noexcept { return {digest.data(), size}; }

  // "sha-256 AB:CD:...": the attribute value, upper-case hex pairs joined by colons.
  std::string to_sdp() const;

  // Parses an attribute value such as "sha-256 AB:CD:...". The hash name is matched
  // without regard to case (ABNF strings are case-insensitive, RFC 5234 §2.3); hex digits
  // are accepted in either case although RFC 8122 writes upper case. nullopt for an
  // unknown hash function, a malformed byte list, or a length that is not the hash's.
  [[nodiscard]] static std::optional<DtlsFingerprint> parse(std::string_view value) noexcept;
  // From a hash name ("sha-256", any case) and the raw digest, as sdp::Fingerprint holds
  // them; nullopt for an unknown hash or a digest of the wrong length.
  [[nodiscard]] static std::optional<DtlsFingerprint> from_digest(
      std::string_view name, std::span<const std::uint8_t> digest) noexcept;

  friend bool operator==(const DtlsFingerprint& a, const DtlsFingerprint& b) noexcept;
};

// An ECDSA P-256 key and a self-signed X.509 certificate for it (random common name,
// valid from a day ago for 30 days, as browsers make theirs), its SHA-256 fingerprint for
// SDP, and the OpenSSL context every DtlsTransport of the process starts from (DTLS 1.2
// only, ECDHE-ECDSA AEAD ciphers, use_srtp profiles, no session cache or tickets).
//
// Owns the key, the certificate and the SSL_CTX (reference counted: a transport that
// started keeps what it needs alive). Made once at startup, per process or per worker,
// then only read: OpenSSL allows SSL_new() on one configured SSL_CTX from many threads.
// Callers: app startup (generate), the SDP code (sdp_fingerprint), DtlsTransport.
class DtlsCertificate {
 public:
  // Control path: throws std::runtime_error when OpenSSL cannot make a key or sign.
  [[nodiscard]] static DtlsCertificate generate();

  DtlsCertificate(DtlsCertificate&& other) noexcept;
  DtlsCertificate& operator=(DtlsCertificate&& other) noexcept;
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;
  ~DtlsCertificate();

  // SHA-256 of the DER certificate.
  const DtlsFingerprint& fingerprint() const noexcept { return fingerprint_; }
  // The value of our a=fingerprint line: "sha-256 AB:CD:...".
  const std::string& sdp_fingerprint() const noexcept { return sdp_fingerprint_; }
  const std::string& common_name() const noexcept { return common_name_; }

 private:
  friend class DtlsTransport;

  DtlsCertificate() = default;

  EVP_PKEY* key_ = nullptr;      // Allocated by this.
  X509* certificate_ = nullptr;  // Allocated by this.
  SSL_CTX* context_ = nullptr;   // Allocated by this; transports take references.
  DtlsFingerprint fingerprint_;
  std::string sdp_fingerprint_;
  std::string common_name_;
};

// Tuning for one transport. The defaults suit browsers on the public Internet.
struct DtlsOptions {
  // Give up when the handshake has not finished this long after start() (-> kFailed).
  std::chrono::milliseconds handshake_timeout{30'000};
  // First retransmission of a flight (RFC 6347 §4.2.4.1 suggests 1 s; that costs a whole
  // second on every lost handshake datagram, and browsers start far lower), then doubled
  // up to max_retransmit. OpenSSL gives up a flight after 12 retransmissions.
  std::chrono::milliseconds initial_retransmit{100};
  std::chrono::milliseconds max_retransmit{3'000};
  // Largest datagram we send, DTLS record headers included (handshake messages are
  // fragmented to fit, RFC 6347 §4.1.1). 1200 bytes pass any IPv4/IPv6 path with room for
  // TURN and VPN headers, which matters because a certificate flight is ~1 KB and IP
  // fragments are often dropped. Clamped to 512..1500.
  std::size_t mtu = 1200;
};

// Client or server of the DTLS handshake, from a=setup (RFC 8842 §5, RFC 4145 §4): the
// side whose SDP says "active" is the client; "passive" is the server. JSEP answerers of
// an actpass offer say "active", so a browser answering our offer is the client. An
// ICE-lite server that answers should say "passive": the client speaks first, and a lite
// agent only learns where to send once the browser's checks arrive.
enum class DtlsRole : std::uint8_t { kClient, kServer };

// One DTLS 1.2 endpoint of a WebRTC transport (one per peer connection, BUNDLE +
// rtcp-mux), ending in SRTP keys.
//
// State machine:
//
//   kNew --start()--> kConnecting --handshake done, peer fingerprint matches,
//    |                    |          SRTP profile agreed, keys exported--> kConnected
//    |                    |                                                  |
//    |                    +-- timeout, alert, fingerprint mismatch,          +-- peer close_notify
//    --> kClosed |                    |   no SRTP profile -----------------> kFailed     +--
//    close() ----------> kClosed |                    +-- close() --> kClosed +-- fatal alert
//    ------> kFailed
//    +-- close() --> kClosed
//
// kClosed and kFailed are final: the owner destroys the transport (not from inside a
// listener callback) and makes a new one for an ICE restart with new fingerprints.
//
// Owns its SSL object and a datagram-sized output buffer; holds a reference on the
// certificate's SSL_CTX. Not thread-safe: one worker thread calls every method.
// Callers: the transport glue, which feeds receive() with each datagram whose first byte
// is 20..63 (RFC 7983 §7), drives next_timeout()/on_timeout() from its event loop, and
// creates the SrtpSessions in on_dtls_connected.
//
// Packet path: nothing here throws. In the connected state receive() does not allocate;
// the handshake allocates inside OpenSSL (it is once per connection).
class DtlsTransport {
 public:
  using Role = DtlsRole;

  enum class State : std::uint8_t { kNew, kConnecting, kConnected, kClosed, kFailed };

  enum class Failure : std::uint8_t {
    kHandshakeTimeout,     // no handshake within handshake_timeout, or OpenSSL gave up
                           // retransmitting a flight
    kFingerprintMismatch,  // the peer's certificate is not the one its SDP announced
    kNoSrtpProfile,        // the peer did not negotiate use_srtp with a profile we offer
    kPeerAlert,            // the peer sent a fatal alert (failure_detail() names it)
    kProtocolError,        // OpenSSL rejected the handshake (no shared cipher, bad message)
    kKeyExport,            // the RFC 5705 exporter failed (should not happen)
    kInternal,             // out of memory creating the SSL object
  };

  enum class ReceiveStatus : std::uint8_t {
    kOk,       // consumed (a handshake step, a retransmission, or silently discarded as
               // RFC 6347 §4.1.2.7 says for records that do not authenticate or parse)
    kNotDtls,  // empty, or first byte outside 20..63: not ours (RFC 7983 §7)
    kIgnored,  // not started, already closed or failed, or called from a callback
    kFailed,   // this datagram ended the transport in kFailed (on_dtls_failed was called)
    kClosed,   // the peer closed the association (on_dtls_closed was called)
  };

  // Events go up through this interface, synchronously, from inside the call that caused
  // them (start, receive, on_timeout, close). Implementations must not destroy the
  // transport or call into it from a callback: post that work to the event loop instead
  // (calls made from a callback are ignored).
  class Listener {
   public:
    // Send this datagram to the peer's address now (UDP, one datagram per call). The
    // span is valid only during the call.
    virtual void on_dtls_send(std::span<const std::uint8_t> datagram) = 0;
    // The handshake finished and the peer's fingerprint matched. Make the SRTP sessions
    // from `keys` here (inbound from keys.remote, outbound from keys.local); `keys` is
    // wiped after the call.
    virtual void on_dtls_connected(SrtpProfile profile, const SrtpKeyPair& keys) = 0;
    virtual void on_dtls_failed(Failure reason) = 0;
    // The peer sent close_notify (we answered with ours). Not called for close().
    virtual void on_dtls_closed() = 0;

   protected:
    virtual ~Listener() = default;
  };

  // `certificate` is only read here (the transport takes a reference on its SSL_CTX);
  // `listener` must outlive the transport.
  DtlsTransport(const DtlsCertificate& certificate, Role role,
                const DtlsFingerprint& remote_fingerprint, Listener& listener,
                const DtlsOptions& options = DtlsOptions{}) noexcept;
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;
  ~DtlsTransport();

  // RFC 7983 §7: a datagram whose first byte is 20..63 is DTLS.
  [[nodiscard]] static bool is_dtls(std::span<const std::uint8_t> datagram) noexcept {
    return !datagram.empty() && datagram[0] >= 20 && datagram[0] <= 63;
  }

  // kNew -> kConnecting. A client sends its ClientHello now; a server waits for one.
  // The handshake deadline starts here. Anything else than kNew: no effect.
  void start() noexcept;

  // Feeds one received datagram (one or more DTLS records). Records that arrive before
  // start() are ignored: the peer retransmits.
  ReceiveStatus receive(std::span<const std::uint8_t> datagram) noexcept;

  // Sends close_notify if connected, then kClosed. No listener event.
  void close() noexcept;

  // How long until on_timeout() should be called: the DTLS retransmission timer (while a
  // flight is unanswered) or the handshake deadline, whichever is sooner. nullopt when
  // nothing is pending. Ask again after every call into the transport.
  [[nodiscard]] std::optional<std::chrono::milliseconds> next_timeout() const noexcept;

  // Retransmits the last flight if its timer expired (RFC 6347 §4.2.4), or fails the
  // transport if the handshake deadline passed. Harmless when called early.
  void on_timeout() noexcept;

  State state() const noexcept { return state_; }
  Role role() const noexcept { return role_; }
  // The negotiated profile, once connected.
  std::optional<SrtpProfile> srtp_profile() const noexcept { return profile_; }
  // After kFailed: a short static description (OpenSSL's reason string, "timeout"...).
  std::string_view failure_detail() const noexcept { return failure_detail_; }

 private:
  class CallScope;     // defined in dtls.cpp
  struct DatagramBio;  // defined in dtls.cpp: the BIO between OpenSSL and this

  static int verify_peer(int preverify_ok, X509_STORE_CTX* store) noexcept;
  static unsigned int next_retransmit_us(SSL* ssl, unsigned int previous_us) noexcept;

  bool matches_remote_fingerprint(X509* certificate) const noexcept;
  void continue_handshake() noexcept;
  void finish_handshake() noexcept;
  ReceiveStatus read_connected() noexcept;
  void handle_ssl_failure() noexcept;
  void fail(Failure reason, const char* detail) noexcept;
  void queue_datagram_bytes(std::span<const std::uint8_t> bytes) noexcept;
  void flush_datagram() noexcept;

  Listener& listener_;          // Passed by argument.
  SSL_CTX* context_ = nullptr;  // Shared with the certificate; this holds a reference.
  SSL* ssl_ = nullptr;          // Allocated by this in start().
  DtlsFingerprint remote_fingerprint_;
  DtlsOptions options_;
  Role role_;
  State state_ = State::kNew;
  bool in_call_ = false;               // guards against calls from listener callbacks
  bool fingerprint_mismatch_ = false;  // set by verify_peer, read when the handshake fails
  std::optional<SrtpProfile> profile_;
  const char* failure_detail_ = "";
  std::chrono::steady_clock::time_point handshake_deadline_{};
  // The datagram receive() is handing to OpenSSL (read through our BIO).
  std::span<const std::uint8_t> incoming_;
  // Records OpenSSL wrote, gathered into one datagram until it is full or flushed.
  std::array<std::uint8_t, 1500> outgoing_{};
  std::size_t outgoing_size_ = 0;
};

[[nodiscard]] std::string_view to_string(DtlsTransport::State state) noexcept;
[[nodiscard]] std::string_view to_string(DtlsTransport::Failure failure) noexcept;

}  // namespace conclave::rtc
