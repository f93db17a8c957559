// STUN (RFC 8489) as the ICE-lite agent needs it (RFC 8445 §2.5, §7.3): recognise a STUN
// message among the other protocols on the worker's UDP port, read a Binding request as
// a view over the receive buffer, check its MESSAGE-INTEGRITY and FINGERPRINT, and write
// the answer into a caller-provided buffer.
//
// Packet path: every function here is noexcept, reports problems as values, owns no
// memory and never allocates. MessageView refers to the caller's buffer, which must
// outlive it; MessageWriter writes into the caller's buffer. The only allocations are
// inside OpenSSL's HMAC (see check_integrity).
//
// Callers: the worker's UDP demultiplexer (looks_like_stun), the ICE-lite agent (parse,
// check_integrity, build_binding_success / build_binding_error), and the headless bot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

namespace conclave::rtc::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 §5
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kTransactionIdSize = 12;
inline constexpr std::size_t kAttributeHeaderSize = 4;
inline constexpr std::size_t kMessageIntegritySize = 20;      // HMAC-SHA1, RFC 8489 §14.5
inline constexpr std::uint32_t kFingerprintXor = 0x5354554e;  // RFC 8489 §14.7
// The largest message we send over UDP when nothing is known of the path: a 576-byte
// IPv4 datagram minus 20 bytes of IP and 8 of UDP header (RFC 8489 §6.2.1). Our answers
// are far smaller (an IPv6 Binding success response with both hashes is 76 bytes), so a
// std::array<std::uint8_t, kMaxUdpMessageSize> on the stack is always big enough.
inline constexpr std::size_t kMaxUdpMessageSize = 548;

using TransactionId = std::array<std::uint8_t, kTransactionIdSize>;

// The two class bits of the message type (RFC 8489 §5).
enum class MessageClass : std::uint8_t {
  kRequest = 0b00,
  kIndication = 0b01,
  kSuccessResponse = 0b10,
  kErrorResponse = 0b11,
};

// The 12-bit method of the message type. Any 12-bit value can be held; only Binding is
// named because it is the only method ICE uses (RFC 8445 §7).
enum class Method : std::uint16_t {
  kBinding = 0x001,
};

// Attribute types (RFC 8489 §18.3, RFC 8445 §16.1). Any 16-bit value can be held; types
// below 0x8000 are comprehension-required, the others comprehension-optional (§14).
enum class AttributeType : std::uint16_t {
  kMappedAddress = 0x0001,
  kUsername = 0x0006,
  kMessageIntegrity = 0x0008,
  kErrorCode = 0x0009,
  kUnknownAttributes = 0x000A,
  kRealm = 0x0014,
  kNonce = 0x0015,
  kXorMappedAddress = 0x0020,
  kPriority = 0x0024,      // RFC 8445 §7.1.1
  kUseCandidate = 0x0025,  // RFC 8445 §7.1.2
  kSoftware = 0x8022,
  kFingerprint = 0x8028,
  kIceControlled = 0x8029,   // RFC 8445 §7.1.3
  kIceControlling = 0x802A,  // RFC 8445 §7.1.3
};

constexpr bool is_comprehension_required(AttributeType type) noexcept {
  return static_cast<std::uint16_t>(type) < 0x8000;
}

// Error codes used by the ICE-lite agent (RFC 8489 §14.8, RFC 8445 §7.3.1.1).
namespace error_code {
inline constexpr std::uint16_t kTryAlternate = 300;
inline constexpr std::uint16_t kBadRequest = 400;
inline constexpr std::uint16_t kUnauthorized = 401;
inline constexpr std::uint16_t kUnknownAttribute = 420;
inline constexpr std::uint16_t kStaleNonce = 438;
inline constexpr std::uint16_t kRoleConflict = 487;
inline constexpr std::uint16_t kServerError = 500;
}  // namespace error_code

// The reason phrase RFC 8489 §14.8 (and RFC 8445 §7.3.1.1 for 487) suggests for a code;
// "" for codes it does not name.
[[nodiscard]] std::string_view default_reason(std::uint16_t code) noexcept;

// A transport address as STUN carries it (RFC 8489 §14.1): family, IP address and port.
// Our own small value type rather than sockaddr_storage so that the codec needs no
// socket headers and compares addresses with ==; the UDP layer converts at its edge.
struct TransportAddress {
  // The values are STUN's family codes (§14.1), not AF_INET/AF_INET6.
  enum class Family : std::uint8_t { kIPv4 = 0x01, kIPv6 = 0x02 };

  Family family = Family::kIPv4;
  // Network byte order. An IPv4 address fills the first 4 bytes and the rest stay zero,
  // so that == compares only what matters.
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;  // host byte order

  static TransportAddress ipv4(std::array<std::uint8_t, 4> address, std::uint16_t port) noexcept;
  static TransportAddress ipv6(std::array<std::uint8_t, 16> address, std::uint16_t port) noexcept;
  // The 4 or 16 bytes of the address.
  std::span<const std::uint8_t> ip_bytes() const noexcept;

  friend bool operator==(const TransportAddress&, const TransportAddress&) = default;
};

struct ErrorCode {
  std::uint16_t code = 0;  // 300..699
  std::string_view reason;
};

// RFC 7983 §7 sorts what arrives on one UDP port by its first byte:
//
//                 +----------------+
//                 |        [0..3] -+--> STUN
//                 |      [16..19] -+--> ZRTP
//   packet -->    |      [20..63] -+--> DTLS
//                 |      [64..79] -+--> TURN channel
//                 |    [128..191] -+--> RTP/RTCP
//                 +----------------+
//
// True when `packet` is one whole STUN message: first byte 0..3 (stricter than RFC 8489
// §5's "two most significant bits zero", which would take the ZRTP and DTLS ranges too),
// at least the 20-byte header, the magic cookie at offset 4, and a length field that is a
// multiple of 4 and counts exactly the bytes after the header (one message per datagram).
[[nodiscard]] bool looks_like_stun(std::span<const std::uint8_t> packet) noexcept;

enum class ParseError : std::uint8_t {
  kOk,
  kTruncated,           // fewer than 20 bytes, or the length field runs past the data
  kNotStun,             // a most significant bit of the type is set (RFC 8489 §5)
  kBadCookie,           // no magic cookie: not STUN, or RFC 3489 STUN (§11)
  kBadLength,           // length field not a multiple of 4, or bytes after the message
  kBadAttributeLength,  // an attribute's length runs past the end of the message
  kBadAttributeValue,   // a known attribute whose value has the wrong size or content
  kFingerprintNotLast,  // an attribute after FINGERPRINT (RFC 8489 §14.7)
};

// A stable lowercase name ("bad_cookie"), for metric labels.
[[nodiscard]] std::string_view to_string(ParseError error) noexcept;

// One attribute as it is in the message. `value` excludes the padding.
struct Attribute {
  AttributeType type{};
  std::span<const std::uint8_t> value;
  std::size_t offset = 0;  // of the attribute's type field, from the start of the message
};

// A parsed STUN message: a view over the caller's buffer plus the offsets of the first
// occurrence of each attribute this agent understands. Cheap to copy; never owns.
//
// What parse() enforces (RFC 8489 §5, §14): the header, attributes that fit the message,
// a well-formed value for every attribute listed in AttributeType, and FINGERPRINT last.
// What it leaves to the caller: whether the class and method make sense, and what to do
// with unknown comprehension-required attributes (a server answers a request carrying
// them with 420, RFC 8489 §6.3.1: see unknown_comprehension_required()).
//
// Which attributes count (RFC 8489 §14.5): everything up to and including
// MESSAGE-INTEGRITY, then FINGERPRINT. Anything between them is skipped: not decoded, not
// reported as unknown, not iterated. RFC 8489 §9 also keeps a MESSAGE-INTEGRITY-SHA256
// there (§14.6); we do not implement that attribute, so we skip it too and verify the
// SHA-1 MESSAGE-INTEGRITY, which is what ICE uses (RFC 8445 §7.2.2, written against
// RFC 5389). A MESSAGE-INTEGRITY-SHA256 before MESSAGE-INTEGRITY is an unknown
// comprehension-required attribute like any other.
//
// Duplicates (RFC 8489 §14): accessors return the first occurrence; attributes() shows
// every one.
class MessageView {
 public:
  // A view of a 20-byte header of zeros with no attributes (every accessor answers
  // "absent"), so that a view left unfilled by a failed parse() is still safe to read.
  MessageView() noexcept : bytes_(kNoMessage) {}

  // Parses `bytes` as exactly one STUN message. On kOk, `out` refers to `bytes`.
  [[nodiscard]] static ParseError parse(std::span<const std::uint8_t> bytes,
                                        MessageView& out) noexcept;
  // The same, for callers that only count failures.
  [[nodiscard]] static std::optional<MessageView> parse(
      std::span<const std::uint8_t> bytes) noexcept;

  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  std::uint16_t message_type() const noexcept;  // the 14 bits: class and method interleaved
  MessageClass message_class() const noexcept;
  Method method() const noexcept;
  std::span<const std::uint8_t, kTransactionIdSize> transaction_id() const noexcept;

  // Attribute accessors: nullopt (false) when the attribute is absent.
  // ICE: "<receiver's ufrag>:<sender's ufrag>" (RFC 8445 §7.2.2).
  std::optional<std::string_view> username() const noexcept;
  std::optional<std::string_view> realm() const noexcept;
  std::optional<std::string_view> nonce() const noexcept;
  std::optional<std::string_view> software() const noexcept;
  std::optional<TransportAddress> mapped_address() const noexcept;
  std::optional<TransportAddress> xor_mapped_address() const noexcept;
  std::optional<std::uint32_t> priority() const noexcept;
  bool use_candidate() const noexcept;
  std::optional<std::uint64_t> ice_controlling() const noexcept;  // the tie-breaker
  std::optional<std::uint64_t> ice_controlled() const noexcept;   // the tie-breaker
  std::optional<ErrorCode> error_code() const noexcept;

  // Where MESSAGE-INTEGRITY's type field is, from the start of the message.
  std::optional<std::size_t> message_integrity_offset() const noexcept;
  // The received HMAC; compare it only through check_integrity().
  std::optional<std::span<const std::uint8_t, kMessageIntegritySize>> message_integrity()
      const noexcept;
  // Where FINGERPRINT's type field is, and the value it carries.
  std::optional<std::size_t> fingerprint_offset() const noexcept;
  std::optional<std::uint32_t> fingerprint() const noexcept;

  // Comprehension-required types (0x0000-0x7FFF) this agent does not understand, each
  // once, in order of appearance; what a 420 response lists in UNKNOWN-ATTRIBUTES. At
  // most kMaxUnknownReported are kept (a longer list helps no client).
  static constexpr std::size_t kMaxUnknownReported = 8;
  std::span<const AttributeType> unknown_comprehension_required() const noexcept {
    return std::span<const AttributeType>(unknown_.data(), unknown_count_);
  }

  // Iterates over the attributes that count (see above), in message order.
  class AttributeIterator {
   public:
    using value_type = Attribute;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;

    AttributeIterator() = default;
    Attribute operator*() const noexcept;
    AttributeIterator& operator++() noexcept;
    AttributeIterator operator++(int) noexcept {
      AttributeIterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const AttributeIterator& a, const AttributeIterator& b) noexcept {
      return a.offset_ == b.offset_;
    }

   private:
    friend class MessageView;
    AttributeIterator(const MessageView* view, std::size_t offset) : view_(view), offset_(offset) {}
    const MessageView* view_ = nullptr;
    std::size_t offset_ = 0;
  };
  struct AttributeRange {
    AttributeIterator first;
    AttributeIterator last;
    AttributeIterator begin() const noexcept { return first; }
    AttributeIterator end() const noexcept { return last; }
  };
  AttributeRange attributes() const noexcept;
  // The first attribute of `type` among those that count.
  std::optional<Attribute> find(AttributeType type) const noexcept;

 private:
  // The attributes we decode, each with a slot for the offset of its first occurrence.
  enum Slot : std::uint8_t {
    kSlotMappedAddress,
    kSlotUsername,
    kSlotMessageIntegrity,
    kSlotErrorCode,
    kSlotUnknownAttributes,
    kSlotRealm,
    kSlotNonce,
    kSlotXorMappedAddress,
    kSlotPriority,
    kSlotUseCandidate,
    kSlotSoftware,
    kSlotFingerprint,
    kSlotIceControlled,
    kSlotIceControlling,
    kSlotCount,
  };
  static std::optional<Slot> slot_for(AttributeType type) noexcept;
  std::optional<std::span<const std::uint8_t>> value_in(Slot slot) const noexcept;
  std::optional<std::string_view> text_in(Slot slot) const noexcept;
  std::optional<TransportAddress> address_in(Slot slot, bool xored) const noexcept;

  static constexpr std::array<std::uint8_t, kHeaderSize> kNoMessage{};

  std::span<const std::uint8_t> bytes_;
  // Offset of the attribute's type field; 0 means absent (no attribute starts at 0).
  std::array<std::uint32_t, kSlotCount> first_{};
  std::array<AttributeType, kMaxUnknownReported> unknown_{};
  std::uint8_t unknown_count_ = 0;
};

// The short-term credential key (RFC 8489 §9.1.1): the password itself. ICE passwords are
// ice-chars (RFC 8839 §5.4), which OpaqueString leaves unchanged, so no preparation.
[[nodiscard]] inline std::span<const std::uint8_t> short_term_key(
    std::string_view password) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(password.data()), password.size()};
}

// True when the message has MESSAGE-INTEGRITY and it is the HMAC-SHA1 under `key` of the
// message up to the attribute, with the header's length field counting up to the end of
// MESSAGE-INTEGRITY (RFC 8489 §14.5). The received buffer is not modified or copied: the
// HMAC runs over a patched copy of the 20-byte header, then the rest in place. The
// comparison takes the same time wherever the values differ (CRYPTO_memcmp). OpenSSL's
// HMAC allocates internally when it is keyed; we reuse one thread_local context.
[[nodiscard]] bool check_integrity(const MessageView& message,
                                   std::span<const std::uint8_t> key) noexcept;

// True when the message has FINGERPRINT and it is the CRC-32 of the message before it,
// XOR 0x5354554e (RFC 8489 §14.7).
[[nodiscard]] bool check_fingerprint(const MessageView& message) noexcept;

// HMAC-SHA1 of the concatenation of `parts` under `key` into `out`; false only if OpenSSL
// fails. Exposed for tests and for the writer.
[[nodiscard]] bool hmac_sha1(std::span<const std::uint8_t> key,
                             std::span<const std::span<const std::uint8_t>> parts,
                             std::span<std::uint8_t, kMessageIntegritySize> out) noexcept;

enum class WriteError : std::uint8_t {
  kOk,
  kBufferTooSmall,  // the caller's buffer cannot hold the message
  kValueTooLong,    // over a limit of RFC 8489 (USERNAME, reason) or of a length field
  kInvalidValue,    // e.g. an error code outside 300..699, or FINGERPRINT via add_attribute
  kFinished,        // an attribute added after finish()
  kCryptoFailure,   // OpenSSL failed to compute the HMAC
};

[[nodiscard]] std::string_view to_string(WriteError error) noexcept;

struct WriteResult {
  WriteError error = WriteError::kOk;
  std::size_t size = 0;  // bytes of the message at the start of the buffer; 0 on error
  bool ok() const noexcept { return error == WriteError::kOk; }
};

// Writes one STUN message into a caller-provided buffer, attribute by attribute, with
// zero padding to 4-byte alignment (RFC 8489 §14), keeping the header's length field
// current so that the buffer always holds a well-formed message. The first error sticks:
// later calls do nothing and finish() reports it, so a builder can chain the adds and
// check once. Owns nothing; the buffer must outlive the writer.
class MessageWriter {
 public:
  MessageWriter(std::span<std::uint8_t> buffer, MessageClass message_class, Method method,
                std::span<const std::uint8_t, kTransactionIdSize> transaction_id) noexcept;

  // Any attribute as raw bytes: for SOFTWARE, REALM, NONCE and what we have no helper
  // for. MESSAGE-INTEGRITY and FINGERPRINT are refused here: finish() writes them.
  MessageWriter& add_attribute(AttributeType type, std::span<const std::uint8_t> value) noexcept;
  MessageWriter& add_username(std::string_view username) noexcept;  // < 509 bytes, §14.3
  MessageWriter& add_xor_mapped_address(const TransportAddress& address) noexcept;
  MessageWriter& add_priority(std::uint32_t priority) noexcept;
  MessageWriter& add_use_candidate() noexcept;
  MessageWriter& add_ice_controlling(std::uint64_t tie_breaker) noexcept;
  MessageWriter& add_ice_controlled(std::uint64_t tie_breaker) noexcept;
  // `code` in 300..699; `reason` fewer than 128 characters of UTF-8 (§14.8).
  MessageWriter& add_error_code(std::uint16_t code, std::string_view reason) noexcept;
  MessageWriter& add_unknown_attributes(std::span<const AttributeType> types) noexcept;

  // Appends MESSAGE-INTEGRITY under `integrity_key` and then, if asked, FINGERPRINT.
  [[nodiscard]] WriteResult finish(std::span<const std::uint8_t> integrity_key,
                                   bool with_fingerprint) noexcept;
  // Ends the message without MESSAGE-INTEGRITY (e.g. a 400 to a request we could not
  // authenticate), with FINGERPRINT if asked.
  [[nodiscard]] WriteResult finish_without_integrity(bool with_fingerprint) noexcept;

  WriteError error() const noexcept { return error_; }
  std::size_t size() const noexcept { return size_; }  // bytes written so far

 private:
  // Reserves an attribute of `length` value bytes (zeroed padding included) and returns
  // where its value goes, or nullopt after recording the error.
  std::optional<std::span<std::uint8_t>> append(AttributeType type, std::size_t length) noexcept;
  void set_length_field(std::size_t body_length) noexcept;
  WriteResult finish_with(std::optional<std::span<const std::uint8_t>> integrity_key,
                          bool with_fingerprint) noexcept;

  std::span<std::uint8_t> buffer_;  // Passed by argument.
  std::size_t size_ = 0;
  WriteError error_ = WriteError::kOk;
  bool finished_ = false;
};

// ICE-lite answers (RFC 8445 §7.3, RFC 8489 §6.3.1.1). Both answer `request` (which must
// be a Binding request, else kInvalidValue) with its transaction id, and end with
// MESSAGE-INTEGRITY under `integrity_key` (the local ice-pwd) and FINGERPRINT, which ICE
// requires on every connectivity check message (RFC 8445 §7).
//
// Success: XOR-MAPPED-ADDRESS is the source address the request came from.
[[nodiscard]] WriteResult build_binding_success(const MessageView& request,
                                                const TransportAddress& mapped_address,
                                                std::span<const std::uint8_t> integrity_key,
                                                std::span<std::uint8_t> out) noexcept;
// Error: ERROR-CODE with `reason`, or default_reason(code) when `reason` is empty; for 420
// also UNKNOWN-ATTRIBUTES from request.unknown_comprehension_required(). An empty
// `integrity_key` leaves MESSAGE-INTEGRITY out: the 400 and 401 of RFC 8489 §9.1.3 answer
// requests whose credentials we could not use.
[[nodiscard]] WriteResult build_binding_error(const MessageView& request, std::uint16_t code,
                                              std::string_view reason,
                                              std::span<const std::uint8_t> integrity_key,
                                              std::span<std::uint8_t> out) noexcept;

}  // namespace conclave::rtc::stun
