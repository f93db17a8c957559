#include "rtc/dtls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace conclave::rtc {

namespace {

using Clock = std::chrono::steady_clock;

// RFC 5764 §4.2: the exporter label for DTLS-SRTP keying material.
constexpr char kDtlsSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";

// The use_srtp profiles we offer, in our order of preference (RFC 5764 §4.1.1). OpenSSL's
// server picks the first of its own list that the client offers, so as a server we get
// GCM whenever the browser offers it.
constexpr char kSrtpProfiles[] = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

// ECDHE with ECDSA (our certificate and every browser's) and AEAD ciphers only: what
// Chromium and Firefox offer first. CHACHA20 helps peers without AES instructions.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:P-256";

constexpr long kCertificateValidityDays = 30;

std::string openssl_error(const char* what) {
  const unsigned long e = ERR_get_error();
  std::string message = what;
  if (e != 0) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    message += ": ";
    message += buffer;
  }
  ERR_clear_error();
  return message;
}

const EVP_MD* digest_for(DtlsHashAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DtlsHashAlgorithm::kSha1:
      return EVP_sha1();
    case DtlsHashAlgorithm::kSha224:
      return EVP_sha224();
    case DtlsHashAlgorithm::kSha256:
      return EVP_sha256();
    case DtlsHashAlgorithm::kSha384:
      return EVP_sha384();
    case DtlsHashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

constexpr std::size_t digest_size(DtlsHashAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DtlsHashAlgorithm::kSha1:
      return 20;
    case DtlsHashAlgorithm::kSha224:
      return 28;
    case DtlsHashAlgorithm::kSha256:
      return 32;
    case DtlsHashAlgorithm::kSha384:
      return 48;
    case DtlsHashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

bool digest_certificate(X509* certificate, DtlsHashAlgorithm algorithm,
                        DtlsFingerprint& out) noexcept {
  const EVP_MD* md = digest_for(algorithm);
  unsigned int size = 0;
  if (md == nullptr || X509_digest(certificate, md, out.digest.data(), &size) != 1 ||
      size != digest_size(algorithm)) {
    return false;
  }
  out.algorithm = algorithm;
  out.size = size;
  return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::chrono::milliseconds ceil_ms(std::chrono::microseconds us) noexcept {
  return std::chrono::ceil<std::chrono::milliseconds>(us);
}

}  // namespace

std::string_view to_string(DtlsHashAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DtlsHashAlgorithm::kSha1:
      return "sha-1";
    case DtlsHashAlgorithm::kSha224:
      return "sha-224";
    case DtlsHashAlgorithm::kSha256:
      return "sha-256";
    case DtlsHashAlgorithm::kSha384:
      return "sha-384";
    case DtlsHashAlgorithm::kSha512:
      return "sha-512";
  }
  return "unknown";
}

std::string DtlsFingerprint::to_sdp() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(to_string(algorithm));
  out += ' ';
  for (std::size_t i = 0; i < size; ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

namespace {
std::optional<DtlsHashAlgorithm> algorithm_named(std::string_view name) noexcept {
  static constexpr DtlsHashAlgorithm kAlgorithms[] = {
      DtlsHashAlgorithm::kSha1, DtlsHashAlgorithm::kSha224, DtlsHashAlgorithm::kSha256,
      DtlsHashAlgorithm::kSha384, DtlsHashAlgorithm::kSha512};
  for (const DtlsHashAlgorithm algorithm : kAlgorithms) {
    if (iequals(name, to_string(algorithm))) return algorithm;
  }
  return std::nullopt;
}
}  // namespace

std::optional<DtlsFingerprint> DtlsFingerprint::from_digest(
    std::string_view name, std::span<const std::uint8_t> digest) noexcept {
  const auto algorithm = algorithm_named(name);
  if (!algorithm || digest.size() != digest_size(*algorithm)) return std::nullopt;
  DtlsFingerprint fingerprint;
  fingerprint.algorithm = *algorithm;
  std::copy(digest.begin(), digest.end(), fingerprint.digest.begin());
  fingerprint.size = digest.size();
  return fingerprint;
}

std::optional<DtlsFingerprint> DtlsFingerprint::parse(std::string_view value) noexcept {
  value = trim(value);
  const std::size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view name = value.substr(0, space);
  const std::string_view hex = trim(value.substr(space + 1));

  DtlsFingerprint fingerprint;
  const auto algorithm = algorithm_named(name);
  if (!algorithm) return std::nullopt;
  fingerprint.algorithm = *algorithm;

  // RFC 8122 §5: 2UHEX *(":" 2UHEX).
  const std::size_t expected = digest_size(fingerprint.algorithm);
  if (hex.size() != expected * 3 - 1) return std::nullopt;
  for (std::size_t i = 0; i < expected; ++i) {
    const std::size_t at = i * 3;
    if (i != 0 && hex[at - 1] != ':') return std::nullopt;
    const int high = hex_value(hex[at]);
    const int low = hex_value(hex[at + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    fingerprint.digest[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  fingerprint.size = expected;
  return fingerprint;
}

bool operator==(const DtlsFingerprint& a, const DtlsFingerprint& b) noexcept {
  return a.algorithm == b.algorithm && a.size == b.size &&
         std::equal(a.digest.begin(), a.digest.begin() + static_cast<std::ptrdiff_t>(a.size),
                    b.digest.begin());
}

DtlsCertificate DtlsCertificate::generate() {
  struct KeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
  };
  struct ContextFree {
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  };

  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error(openssl_error("DTLS: cannot generate a P-256 key"));

  std::unique_ptr<X509, X509Free> certificate(X509_new());
  if (!certificate) throw std::runtime_error(openssl_error("DTLS: X509_new"));

  // A random serial and common name, as browsers do: nothing in them identifies this
  // server, its operator or the time it started beyond the validity dates.
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error(openssl_error("DTLS: RAND_bytes"));
  }
  std::uint64_t serial = 0;
  for (std::size_t i = 0; i < 8; ++i) serial = (serial << 8) | random[i];
  serial &= 0x7fffffffffffffffULL;  // positive (RFC 5280 §4.1.2.2)
  static constexpr char kHex[] = "0123456789abcdef";
  std::string common_name;
  for (std::size_t i = 8; i < 16; ++i) {
    common_name += kHex[random[i] >> 4];
    common_name += kHex[random[i] & 0x0f];
  }

  X509_NAME* name = X509_get_subject_name(certificate.get());
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate.get()), serial) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -86400L) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kCertificateValidityDays * 86400L) ==
          nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_issuer_name(certificate.get(), name) != 1 ||
      X509_set_pubkey(certificate.get(), key.get()) != 1 ||
      X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0) {
    throw std::runtime_error(openssl_error("DTLS: cannot build the certificate"));
  }

  std::unique_ptr<SSL_CTX, ContextFree> context(SSL_CTX_new(DTLS_method()));
  if (!context) throw std::runtime_error(openssl_error("DTLS: SSL_CTX_new"));
  SSL_CTX* ctx = context.get();
  // DTLS 1.2 only: WebRTC requires it (RFC 8827 §6.5) and DTLS 1.0 lacks AEAD ciphers.
  // No session cache or tickets: every association is a full handshake with a fresh
  // fingerprint check, and the context stays read-only so workers can share it.
  // No renegotiation: WebRTC never renegotiates and it is attack surface.
  // SSL_OP_NO_QUERY_MTU: we set the MTU ourselves; our BIO is not a socket.
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kCipherList) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) != 0 ||  // 0 is success here
      SSL_CTX_use_certificate(ctx, certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error(openssl_error("DTLS: cannot configure the SSL context"));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  DtlsCertificate result;
  if (!digest_certificate(certificate.get(), DtlsHashAlgorithm::kSha256, result.fingerprint_)) {
    throw std::runtime_error(openssl_error("DTLS: cannot digest the certificate"));
  }
  result.sdp_fingerprint_ = result.fingerprint_.to_sdp();
  result.common_name_ = std::move(common_name);
  result.key_ = key.release();
  result.certificate_ = certificate.release();
  result.context_ = context.release();
  return result;
}

DtlsCertificate::DtlsCertificate(DtlsCertificate&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)),
      certificate_(std::exchange(other.certificate_, nullptr)),
      context_(std::exchange(other.context_, nullptr)),
      fingerprint_(other.fingerprint_),
      sdp_fingerprint_(std::move(other.sdp_fingerprint_)),
      common_name_(std::move(other.common_name_)) {}

DtlsCertificate& DtlsCertificate::operator=(DtlsCertificate&& other) noexcept {
  if (this != &other) {
    SSL_CTX_free(context_);
    X509_free(certificate_);
    EVP_PKEY_free(key_);
    key_ = std::exchange(other.key_, nullptr);
    certificate_ = std::exchange(other.certificate_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    fingerprint_ = other.fingerprint_;
    sdp_fingerprint_ = std::move(other.sdp_fingerprint_);
    common_name_ = std::move(other.common_name_);
  }
  return *this;
}

DtlsCertificate::~DtlsCertificate() {
  SSL_CTX_free(context_);
  X509_free(certificate_);
  EVP_PKEY_free(key_);
}

// Every public entry point runs inside one of these: it refuses calls made from inside a
// listener callback (re-entry would run OpenSSL inside OpenSSL) and clears OpenSSL's
// per-thread error queue before and after, so that SSL_get_error() sees only our errors
// and nothing leaks into the next transport served by this thread.
class DtlsTransport::CallScope {
 public:
  explicit CallScope(DtlsTransport& transport) noexcept
      : transport_(transport), entered_(!transport.in_call_) {
    if (entered_) {
      transport_.in_call_ = true;
      ERR_clear_error();
    }
  }
  ~CallScope() {
    if (entered_) {
      ERR_clear_error();
      transport_.in_call_ = false;
    }
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  bool entered() const noexcept { return entered_; }

 private:
  DtlsTransport& transport_;
  const bool entered_;
};

DtlsTransport::DtlsTransport(const DtlsCertificate& certificate, Role role,
                             const DtlsFingerprint& remote_fingerprint, Listener& listener,
                             const DtlsOptions& options) noexcept
    : listener_(listener),
      context_(certificate.context_),
      remote_fingerprint_(remote_fingerprint),
      options_(options),
      role_(role) {
  if (context_ != nullptr) SSL_CTX_up_ref(context_);
  options_.mtu = std::clamp<std::size_t>(options_.mtu, 512, outgoing_.size());
}

DtlsTransport::~DtlsTransport() {
  SSL_free(ssl_);  // frees the BIO too
  SSL_CTX_free(context_);
}

// Our BIO: datagram semantics over memory. OpenSSL's BIO_s_mem is a byte stream, which
// would run two records of different datagrams together (and BIO_s_dgram_mem only exists
// from OpenSSL 3.2). Reads hand over the datagram receive() is processing, once; writes
// are gathered into one outgoing datagram until OpenSSL flushes (end of a flight) or the
// next record would not fit the MTU. OpenSSL sizes handshake fragments with BIO_wpending,
// so a flight packs into as few datagrams as the MTU allows (RFC 6347 §4.1.1).
struct DtlsTransport::DatagramBio {
  static BIO_METHOD* method() noexcept {
    static BIO_METHOD* method = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
      // Never freed: one per process, used until exit.
      method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "conclave-dtls-datagram");
      if (method == nullptr) return;
      BIO_meth_set_write(method, &write);
      BIO_meth_set_read(method, &read);
      BIO_meth_set_ctrl(method, &ctrl);
      BIO_meth_set_create(method, &create);
    });
    return method;
  }

  static int create(BIO* bio) noexcept {
    BIO_set_init(bio, 1);
    return 1;
  }

  static int write(BIO* bio, const char* data, int len) noexcept {
    auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self == nullptr || data == nullptr || len <= 0) return 0;
    self->queue_datagram_bytes(
        {reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len)});
    return len;
  }

  static int read(BIO* bio, char* out, int len) noexcept {
    auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self == nullptr || out == nullptr || len <= 0) return 0;
    if (self->incoming_.empty()) {
      BIO_set_retry_read(bio);
      return -1;
    }
    // Like recvfrom(): the whole datagram at once, truncated if it does not fit.
    const std::size_t n = std::min(self->incoming_.size(), static_cast<std::size_t>(len));
    std::copy_n(self->incoming_.data(), n, reinterpret_cast<std::uint8_t*>(out));
    self->incoming_ = {};
    return static_cast<int>(n);
  }

  static long ctrl(BIO* bio, int command, long /*number*/, void* /*pointer*/) noexcept {
    auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
    switch (command) {
      case BIO_CTRL_FLUSH:
        if (self != nullptr) self->flush_datagram();
        return 1;
      case BIO_CTRL_WPENDING:
        return self != nullptr ? static_cast<long>(self->outgoing_size_) : 0;
      case BIO_CTRL_PENDING:
        return self != nullptr ? static_cast<long>(self->incoming_.size()) : 0;
      // BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: 0, the MTU we give SSL_set_mtu is the datagram's.
      // BIO_CTRL_DGRAM_QUERY_MTU: not asked (SSL_OP_NO_QUERY_MTU).
      // BIO_CTRL_DGRAM_MTU_EXCEEDED: 0, we never see EMSGSIZE.
      default:
        return 0;
    }
  }
};

void DtlsTransport::queue_datagram_bytes(std::span<const std::uint8_t> bytes) noexcept {
  if (outgoing_size_ + bytes.size() > options_.mtu) flush_datagram();
  if (bytes.size() > outgoing_.size()) {
    // A record larger than any datagram we build (OpenSSL fragments handshake messages
    // to the MTU, so only application data could be): send it alone.
    listener_.on_dtls_send(bytes);
    return;
  }
  std::copy(bytes.begin(), bytes.end(),
            outgoing_.begin() + static_cast<std::ptrdiff_t>(outgoing_size_));
  outgoing_size_ += bytes.size();
}

void DtlsTransport::flush_datagram() noexcept {
  if (outgoing_size_ == 0) return;
  const std::size_t size = outgoing_size_;
  outgoing_size_ = 0;
  listener_.on_dtls_send({outgoing_.data(), size});
}

// OpenSSL's retransmission timer (RFC 6347 §4.2.4.1): start at initial_retransmit rather
// than OpenSSL's 1 s, double per retransmission, cap at max_retransmit.
unsigned int DtlsTransport::next_retransmit_us(SSL* ssl, unsigned int previous_us) noexcept {
  const auto* self = static_cast<const DtlsTransport*>(SSL_get_app_data(ssl));
  const auto initial =
      self != nullptr ? self->options_.initial_retransmit : std::chrono::milliseconds{100};
  const auto cap =
      self != nullptr ? self->options_.max_retransmit : std::chrono::milliseconds{3000};
  const auto initial_us = static_cast<unsigned int>(
      std::chrono::duration_cast<std::chrono::microseconds>(initial).count());
  const auto cap_us =
      static_cast<unsigned int>(std::chrono::duration_cast<std::chrono::microseconds>(cap).count());
  if (previous_us == 0) return initial_us;
  return previous_us >= cap_us / 2 ? cap_us : previous_us * 2;
}

// The peer's certificate is self-signed and checked only against the fingerprint its SDP
// announced (RFC 5763 §5, RFC 8122 §5). OpenSSL calls this for each certificate of the
// chain, once per verification problem and once at the end; chain errors (self-signed,
// expired: browsers' certificates are not meant for PKI) are not ours to judge, the leaf
// (depth 0) must match the fingerprint. Rejecting here aborts the handshake with a
// bad_certificate alert before any key is derived. finish_handshake() checks again.
int DtlsTransport::verify_peer(int /*preverify_ok*/, X509_STORE_CTX* store) noexcept {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl != nullptr ? static_cast<DtlsTransport*>(SSL_get_app_data(ssl)) : nullptr;
  if (self == nullptr) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  if (self->matches_remote_fingerprint(X509_STORE_CTX_get_current_cert(store))) return 1;
  self->fingerprint_mismatch_ = true;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

bool DtlsTransport::matches_remote_fingerprint(X509* certificate) const noexcept {
  if (certificate == nullptr || remote_fingerprint_.size == 0) return false;
  DtlsFingerprint actual;
  if (!digest_certificate(certificate, remote_fingerprint_.algorithm, actual)) return false;
  return actual.size == remote_fingerprint_.size &&
         CRYPTO_memcmp(actual.digest.data(), remote_fingerprint_.digest.data(), actual.size) == 0;
}

void DtlsTransport::start() noexcept {
  CallScope scope(*this);
  if (!scope.entered() || state_ != State::kNew) return;
  state_ = State::kConnecting;
  handshake_deadline_ = Clock::now() + options_.handshake_timeout;

  BIO_METHOD* method = DatagramBio::method();
  ssl_ = context_ != nullptr ? SSL_new(context_) : nullptr;
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    fail(Failure::kInternal, "cannot create the SSL object");
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO for both directions: the SSL takes one reference
  SSL_set_app_data(ssl_, this);
  // Both roles demand the peer's certificate: a server sends CertificateRequest and fails
  // a client that sends none (RFC 5763 §5: both ends authenticate by fingerprint).
  SSL_set_verify(ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                 &DtlsTransport::verify_peer);
  // The MTU OpenSSL fragments to; SSL_OP_NO_QUERY_MTU (on the context) stops it asking
  // the BIO and lowering it after retransmissions.
  SSL_set_mtu(ssl_, static_cast<long>(options_.mtu));
  DTLS_set_timer_cb(ssl_, &DtlsTransport::next_retransmit_us);
  if (role_ == Role::kClient) {
    SSL_set_connect_state(ssl_);
    continue_handshake();  // sends the ClientHello
  } else {
    SSL_set_accept_state(ssl_);
  }
}

DtlsTransport::ReceiveStatus DtlsTransport::receive(
    std::span<const std::uint8_t> datagram) noexcept {
  if (!is_dtls(datagram)) return ReceiveStatus::kNotDtls;
  CallScope scope(*this);
  if (!scope.entered()) return ReceiveStatus::kIgnored;
  if (state_ != State::kConnecting && state_ != State::kConnected) return ReceiveStatus::kIgnored;

  incoming_ = datagram;
  ReceiveStatus status = ReceiveStatus::kOk;
  if (state_ == State::kConnecting) {
    continue_handshake();
    // Records behind the last handshake message in the same datagram (an alert, say) sit
    // in OpenSSL's buffer: read them now rather than when the next datagram comes.
    if (state_ == State::kConnected) status = read_connected();
  } else {
    status = read_connected();
  }
  incoming_ = {};  // a datagram OpenSSL did not read (malformed header) is dropped whole
  if (status == ReceiveStatus::kOk) {
    if (state_ == State::kFailed) status = ReceiveStatus::kFailed;
    if (state_ == State::kClosed) status = ReceiveStatus::kClosed;
  }
  return status;
}

void DtlsTransport::continue_handshake() noexcept {
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    flush_datagram();
    finish_handshake();
    return;
  }
  const int error = SSL_get_error(ssl_, result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      flush_datagram();
      return;
    case SSL_ERROR_ZERO_RETURN:  // close_notify during the handshake
      flush_datagram();
      state_ = State::kClosed;
      listener_.on_dtls_closed();
      return;
    default:
      handle_ssl_failure();
      return;
  }
}

void DtlsTransport::handle_ssl_failure() noexcept {
  // OpenSSL has queued the fatal alert it sends in reply (if any); fail() flushes it.
  const unsigned long error = ERR_peek_last_error();
  const char* reason = error != 0 ? ERR_reason_error_string(error) : nullptr;
  const char* detail = reason != nullptr ? reason : "handshake failed";
  if (fingerprint_mismatch_) {
    fail(Failure::kFingerprintMismatch, "peer certificate does not match a=fingerprint");
  } else if (ERR_GET_LIB(error) == ERR_LIB_SSL &&
             ERR_GET_REASON(error) == SSL_R_READ_TIMEOUT_EXPIRED) {
    fail(Failure::kHandshakeTimeout, detail);
  } else if (ERR_GET_LIB(error) == ERR_LIB_SSL && ERR_GET_REASON(error) >= SSL_AD_REASON_OFFSET) {
    // OpenSSL reports an alert received from the peer as reason 1000 + alert number.
    fail(Failure::kPeerAlert, detail);
  } else {
    fail(Failure::kProtocolError, detail);
  }
}

void DtlsTransport::finish_handshake() noexcept {
  // Checked in verify_peer already; checked again on the certificate the session ended
  // with, so that no path through OpenSSL yields keys for the wrong peer.
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (!matches_remote_fingerprint(peer)) {
    SSL_shutdown(ssl_);
    fail(Failure::kFingerprintMismatch, "peer certificate does not match a=fingerprint");
    return;
  }

  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  if (selected == nullptr) {
    SSL_shutdown(ssl_);
    fail(Failure::kNoSrtpProfile, "peer did not negotiate use_srtp");
    return;
  }
  SrtpProfile profile;
  switch (selected->id) {
    case SRTP_AEAD_AES_128_GCM:
      profile = SrtpProfile::kAeadAes128Gcm;
      break;
    case SRTP_AES128_CM_SHA1_80:
      profile = SrtpProfile::kAes128CmHmacSha1_80;
      break;
    default:
      SSL_shutdown(ssl_);
      fail(Failure::kNoSrtpProfile, "peer selected an SRTP profile we did not offer");
      return;
  }

  // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt |
  // server_write_salt, from the RFC 5705 exporter with no context.
  const std::size_t key_size = srtp_master_key_length(profile);
  const std::size_t salt_size = srtp_master_salt_length(profile);
  std::array<std::uint8_t, 2 * SrtpMasterKey::kMaxSize> material{};
  const std::size_t material_size = 2 * (key_size + salt_size);
  if (SSL_export_keying_material(ssl_, material.data(), material_size, kDtlsSrtpExporterLabel,
                                 sizeof kDtlsSrtpExporterLabel - 1, nullptr, 0, 0) != 1) {
    OPENSSL_cleanse(material.data(), material.size());
    SSL_shutdown(ssl_);
    fail(Failure::kKeyExport, "SSL_export_keying_material failed");
    return;
  }
  const std::span<const std::uint8_t> all(material.data(), material_size);
  const auto client_key = all.subspan(0, key_size);
  const auto server_key = all.subspan(key_size, key_size);
  const auto client_salt = all.subspan(2 * key_size, salt_size);
  const auto server_salt = all.subspan(2 * key_size + salt_size, salt_size);
  SrtpKeyPair keys;
  if (role_ == Role::kClient) {
    keys.local = SrtpMasterKey(client_key, client_salt);
    keys.remote = SrtpMasterKey(server_key, server_salt);
  } else {
    keys.local = SrtpMasterKey(server_key, server_salt);
    keys.remote = SrtpMasterKey(client_key, client_salt);
  }
  OPENSSL_cleanse(material.data(), material.size());

  profile_ = profile;
  state_ = State::kConnected;
  listener_.on_dtls_connected(profile, keys);
  // `keys` wipes itself (SrtpMasterKey's destructor).
}

DtlsTransport::ReceiveStatus DtlsTransport::read_connected() noexcept {
  // After the handshake the peer sends alerts, retransmissions of its last flight (when
  // ours was lost: OpenSSL answers by retransmitting our last flight, RFC 6347 §4.2.4),
  // and application data, which WebRTC without data channels never sends: drained and
  // dropped. A bounded loop: one datagram holds at most a few records.
  std::array<std::uint8_t, 2048> scratch;
  for (int i = 0; i < 64; ++i) {
    const int result = SSL_read(ssl_, scratch.data(), static_cast<int>(scratch.size()));
    if (result > 0) continue;
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {
      // close_notify: answer with ours (RFC 5246 §7.2.1) and report.
      SSL_shutdown(ssl_);
      flush_datagram();
      state_ = State::kClosed;
      listener_.on_dtls_closed();
      return ReceiveStatus::kClosed;
    }
    handle_ssl_failure();
    return ReceiveStatus::kFailed;
  }
  flush_datagram();
  return ReceiveStatus::kOk;
}

void DtlsTransport::fail(Failure reason, const char* detail) noexcept {
  flush_datagram();  // the alert OpenSSL queued, if any
  state_ = State::kFailed;
  failure_detail_ = detail;
  listener_.on_dtls_failed(reason);
}

void DtlsTransport::close() noexcept {
  CallScope scope(*this);
  if (!scope.entered()) return;
  if (state_ == State::kConnected && ssl_ != nullptr) {
    SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
    flush_datagram();
  }
  if (state_ != State::kFailed) state_ = State::kClosed;
}

std::optional<std::chrono::milliseconds> DtlsTransport::next_timeout() const noexcept {
  if (ssl_ == nullptr || (state_ != State::kConnecting && state_ != State::kConnected)) {
    return std::nullopt;
  }
  std::optional<std::chrono::milliseconds> result;
  timeval remaining{};
  if (DTLSv1_get_timeout(ssl_, &remaining) == 1) {
    result = ceil_ms(std::chrono::seconds{remaining.tv_sec} +
                     std::chrono::microseconds{remaining.tv_usec});
  }
  if (state_ == State::kConnecting) {
    const auto until_deadline = std::max(
        std::chrono::milliseconds{0}, ceil_ms(std::chrono::duration_cast<std::chrono::microseconds>(
                                          handshake_deadline_ - Clock::now())));
    if (!result || until_deadline < *result) result = until_deadline;
  }
  return result;
}

void DtlsTransport::on_timeout() noexcept {
  CallScope scope(*this);
  if (!scope.entered() || ssl_ == nullptr) return;
  if (state_ == State::kConnecting && Clock::now() >= handshake_deadline_) {
    fail(Failure::kHandshakeTimeout, "handshake did not finish in time");
    return;
  }
  if (state_ != State::kConnecting && state_ != State::kConnected) return;
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    // OpenSSL gave up after retransmitting the flight too often (RFC 6347 §4.2.4.1).
    if (state_ == State::kConnecting) {
      fail(Failure::kHandshakeTimeout, "peer stopped answering the handshake");
    } else {
      handle_ssl_failure();
    }
    return;
  }
  flush_datagram();
}

std::string_view to_string(DtlsTransport::State state) noexcept {
  switch (state) {
    case DtlsTransport::State::kNew:
      return "new";
    case DtlsTransport::State::kConnecting:
      return "connecting";
    case DtlsTransport::State::kConnected:
      return "connected";
    case DtlsTransport::State::kClosed:
      return "closed";
    case DtlsTransport::State::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view to_string(DtlsTransport::Failure failure) noexcept {
  switch (failure) {
    case DtlsTransport::Failure::kHandshakeTimeout:
      return "handshake_timeout";
    case DtlsTransport::Failure::kFingerprintMismatch:
      return "fingerprint_mismatch";
    case DtlsTransport::Failure::kNoSrtpProfile:
      return "no_srtp_profile";
    case DtlsTransport::Failure::kPeerAlert:
      return "peer_alert";
    case DtlsTransport::Failure::kProtocolError:
      return "protocol_error";
    case DtlsTransport::Failure::kKeyExport:
      return "key_export";
    case DtlsTransport::Failure::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace conclave::rtc
