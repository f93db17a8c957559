#include "rtc/stun.hpp"

#include "rtc/wire.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>

#include "rtc/crc32.hpp"

namespace conclave::rtc::stun {
namespace {

// Offsets within the 20-byte header (RFC 8489 §5).
constexpr std::size_t kLengthOffset = 2;
constexpr std::size_t kCookieOffset = 4;
constexpr std::size_t kTransactionIdOffset = 8;

constexpr std::size_t kFingerprintSize = 4;
constexpr std::size_t kIceTieBreakerSize = 8;
// Largest value of the 16-bit length fields (message body and attribute value).
constexpr std::size_t kMaxLengthField = 0xFFFF;
// RFC 8489 §14.3: USERNAME is "fewer than 509 bytes".
constexpr std::size_t kMaxUsernameBytes = 508;
// RFC 8489 §14.8: the reason phrase is "fewer than 128 characters".
constexpr std::size_t kMaxReasonCharacters = 127;

using wire::load_be16;
using wire::load_be32;
using wire::load_be64;
using wire::store_be16;
using wire::store_be32;
using wire::store_be64;

constexpr std::size_t padded(std::size_t length) noexcept {
  return (length + 3) & ~std::size_t{3};
}

// The message type interleaves the class bits C1 C0 with the method bits M11..M0:
// M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 §5, Figure 3).
constexpr std::uint16_t encode_type(MessageClass message_class, Method method) noexcept {
  const auto m = static_cast<std::uint16_t>(method);
  const auto c = static_cast<std::uint16_t>(message_class);
  return static_cast<std::uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                                    ((c & 0x1) << 4) | ((c & 0x2) << 7));
}
static_assert(encode_type(MessageClass::kRequest, Method::kBinding) == 0x0001);
static_assert(encode_type(MessageClass::kSuccessResponse, Method::kBinding) == 0x0101);
static_assert(encode_type(MessageClass::kErrorResponse, Method::kBinding) == 0x0111);
static_assert(encode_type(MessageClass::kIndication, Method::kBinding) == 0x0011);

// The bytes X-Address is XORed with: the magic cookie, then (IPv6) the transaction id
// (RFC 8489 §14.2).
std::array<std::uint8_t, 16> xor_mask(
    std::span<const std::uint8_t, kTransactionIdSize> id) noexcept {
  std::array<std::uint8_t, 16> mask{};
  store_be32(mask.data(), kMagicCookie);
  std::copy(id.begin(), id.end(), mask.begin() + 4);
  return mask;
}

// Number of UTF-8 characters: bytes that do not continue a multi-byte sequence.
std::size_t utf8_characters(std::string_view text) noexcept {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Whether the value of a known attribute has the size and content RFC 8489 §14 and
// RFC 8445 §7.1 give it. Values of other attributes are not looked at.
bool well_formed(AttributeType type, std::span<const std::uint8_t> value) noexcept {
  const std::size_t n = value.size();
  switch (type) {
    case AttributeType::kMappedAddress:
    case AttributeType::kXorMappedAddress:
      // Reserved byte, family, port, then a 4- or 16-byte address (§14.1, §14.2).
      if (n < 4) return false;
      if (value[1] == static_cast<std::uint8_t>(TransportAddress::Family::kIPv4)) return n == 8;
      if (value[1] == static_cast<std::uint8_t>(TransportAddress::Family::kIPv6)) return n == 20;
      return false;
    case AttributeType::kMessageIntegrity:
      return n == kMessageIntegritySize;
    case AttributeType::kErrorCode: {
      // 21 reserved bits, the class (hundreds digit, 3..6) and the number (0..99), §14.8.
      if (n < 4) return false;
      const unsigned hundreds = value[2] & 0x07u;
      return hundreds >= 3 && hundreds <= 6 && value[3] <= 99;
    }
    case AttributeType::kUnknownAttributes:
      return n % 2 == 0;  // a list of 16-bit types, §14.13
    case AttributeType::kPriority:
    case AttributeType::kFingerprint:
      return n == 4;
    case AttributeType::kUseCandidate:
      return n == 0;
    case AttributeType::kIceControlled:
    case AttributeType::kIceControlling:
      return n == kIceTieBreakerSize;
    case AttributeType::kUsername:
    case AttributeType::kRealm:
    case AttributeType::kNonce:
    case AttributeType::kSoftware:
      // Length limits bind senders (§14.3, §14.9, §14.10, §14.14); a receiver that
      // cannot match a long USERNAME just fails to find the credentials.
      return true;
  }
  return true;
}

// One HMAC context per thread, keyed afresh for each message. Fetching the HMAC
// implementation is a lookup through OpenSSL's provider tables, so it is done once per
// thread, and the digest is set on the first use only (setting it fetches SHA-1 again).
class ThreadHmac {
 public:
  ThreadHmac() noexcept
      : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)),
        ctx_(mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr) {}
  ~ThreadHmac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  ThreadHmac(const ThreadHmac&) = delete;
  ThreadHmac& operator=(const ThreadHmac&) = delete;

  bool compute(std::span<const std::uint8_t> key,
               std::span<const std::span<const std::uint8_t>> parts,
               std::span<std::uint8_t, kMessageIntegritySize> out) noexcept {
    if (ctx_ == nullptr) return false;
    // A null key would mean "keep the previous key" to EVP_MAC_init; an empty key must
    // still be a key, so pass a valid pointer with length 0.
    static constexpr std::uint8_t kNoKeyBytes = 0;
    const std::uint8_t* key_data = key.empty() ? &kNoKeyBytes : key.data();
    bool ok;
    if (!digest_set_) {
      char digest[] = "SHA1";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end(),
      };
      ok = EVP_MAC_init(ctx_, key_data, key.size(), params) == 1;
      digest_set_ = ok;
    } else {
      ok = EVP_MAC_init(ctx_, key_data, key.size(), nullptr) == 1;
    }
    for (const auto& part : parts) {
      if (!ok) break;
      ok = EVP_MAC_update(ctx_, part.data(), part.size()) == 1;
    }
    std::size_t written = 0;
    ok = ok && EVP_MAC_final(ctx_, out.data(), &written, out.size()) == 1 && written == out.size();
    // Leave nothing on this thread's OpenSSL error queue for the DTLS code to trip over.
    if (!ok) ERR_clear_error();
    return ok;
  }

 private:
  EVP_MAC* mac_;      // Allocated by this.
  EVP_MAC_CTX* ctx_;  // Allocated by this.
  bool digest_set_ = false;
};

thread_local ThreadHmac t_hmac;

}  // namespace

std::string_view default_reason(std::uint16_t code) noexcept {
  switch (code) {
    case error_code::kTryAlternate:
      return "Try Alternate";
    case error_code::kBadRequest:
      return "Bad Request";
    case error_code::kUnauthorized:
      return "Unauthorized";
    case error_code::kUnknownAttribute:
      return "Unknown Attribute";
    case error_code::kStaleNonce:
      return "Stale Nonce";
    case error_code::kRoleConflict:
      return "Role Conflict";
    case error_code::kServerError:
      return "Server Error";
    default:
      return "";
  }
}

TransportAddress TransportAddress::ipv4(std::array<std::uint8_t, 4> address,
                                        std::uint16_t port) noexcept {
  TransportAddress a;
  a.family = Family::kIPv4;
  std::copy(address.begin(), address.end(), a.ip.begin());
  a.port = port;
  return a;
}

TransportAddress TransportAddress::ipv6(std::array<std::uint8_t, 16> address,
                                        std::uint16_t port) noexcept {
  TransportAddress a;
  a.family = Family::kIPv6;
  a.ip = address;
  a.port = port;
  return a;
}

std::span<const std::uint8_t> TransportAddress::ip_bytes() const noexcept {
  return std::span<const std::uint8_t>(ip.data(), family == Family::kIPv4 ? 4 : 16);
}

bool looks_like_stun(std::span<const std::uint8_t> packet) noexcept {
  if (packet.size() < kHeaderSize || packet[0] > 3) return false;
  const std::size_t length = load_be16(packet.data() + kLengthOffset);
  return length % 4 == 0 && kHeaderSize + length == packet.size() &&
         load_be32(packet.data() + kCookieOffset) == kMagicCookie;
}

std::string_view to_string(ParseError error) noexcept {
  switch (error) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kNotStun:
      return "not_stun";
    case ParseError::kBadCookie:
      return "bad_cookie";
    case ParseError::kBadLength:
      return "bad_length";
    case ParseError::kBadAttributeLength:
      return "bad_attribute_length";
    case ParseError::kBadAttributeValue:
      return "bad_attribute_value";
    case ParseError::kFingerprintNotLast:
      return "fingerprint_not_last";
  }
  return "unknown";
}

std::string_view to_string(WriteError error) noexcept {
  switch (error) {
    case WriteError::kOk:
      return "ok";
    case WriteError::kBufferTooSmall:
      return "buffer_too_small";
    case WriteError::kValueTooLong:
      return "value_too_long";
    case WriteError::kInvalidValue:
      return "invalid_value";
    case WriteError::kFinished:
      return "finished";
    case WriteError::kCryptoFailure:
      return "crypto_failure";
  }
  return "unknown";
}

std::optional<MessageView::Slot> MessageView::slot_for(AttributeType type) noexcept {
  switch (type) {
    case AttributeType::kMappedAddress:
      return kSlotMappedAddress;
    case AttributeType::kUsername:
      return kSlotUsername;
    case AttributeType::kMessageIntegrity:
      return kSlotMessageIntegrity;
    case AttributeType::kErrorCode:
      return kSlotErrorCode;
    case AttributeType::kUnknownAttributes:
      return kSlotUnknownAttributes;
    case AttributeType::kRealm:
      return kSlotRealm;
    case AttributeType::kNonce:
      return kSlotNonce;
    case AttributeType::kXorMappedAddress:
      return kSlotXorMappedAddress;
    case AttributeType::kPriority:
      return kSlotPriority;
    case AttributeType::kUseCandidate:
      return kSlotUseCandidate;
    case AttributeType::kSoftware:
      return kSlotSoftware;
    case AttributeType::kFingerprint:
      return kSlotFingerprint;
    case AttributeType::kIceControlled:
      return kSlotIceControlled;
    case AttributeType::kIceControlling:
      return kSlotIceControlling;
  }
  return std::nullopt;
}

ParseError MessageView::parse(std::span<const std::uint8_t> bytes, MessageView& out) noexcept {
  if (bytes.size() < kHeaderSize) return ParseError::kTruncated;
  const std::uint8_t* data = bytes.data();
  if ((data[0] & 0xC0) != 0) return ParseError::kNotStun;
  if (load_be32(data + kCookieOffset) != kMagicCookie) return ParseError::kBadCookie;
  const std::size_t length = load_be16(data + kLengthOffset);
  // Attributes are padded to 4 bytes, so the body length always is a multiple of 4.
  if (length % 4 != 0) return ParseError::kBadLength;
  if (kHeaderSize + length > bytes.size()) return ParseError::kTruncated;
  if (kHeaderSize + length < bytes.size()) return ParseError::kBadLength;

  MessageView view;
  view.bytes_ = bytes;
  bool after_integrity = false;
  bool after_fingerprint = false;
  std::size_t offset = kHeaderSize;
  while (offset < bytes.size()) {
    // The body length and every attribute's padded size are multiples of 4, so at least
    // a 4-byte attribute header is left here.
    const auto type = static_cast<AttributeType>(load_be16(data + offset));
    const std::size_t value_length = load_be16(data + offset + 2);
    const std::size_t value_offset = offset + kAttributeHeaderSize;
    if (padded(value_length) > bytes.size() - value_offset) return ParseError::kBadAttributeLength;
    const std::size_t next = value_offset + padded(value_length);

    // RFC 8489 §14.7: "When present, the FINGERPRINT attribute MUST be the last".
    if (after_fingerprint) return ParseError::kFingerprintNotLast;
    // RFC 8489 §14.5: after MESSAGE-INTEGRITY only FINGERPRINT counts; the rest is
    // skipped unread (its framing was checked above, so FINGERPRINT can be found).
    if (after_integrity && type != AttributeType::kFingerprint) {
      offset = next;
      continue;
    }
    const std::span<const std::uint8_t> value = bytes.subspan(value_offset, value_length);
    if (const auto slot = slot_for(type)) {
      if (!well_formed(type, value)) return ParseError::kBadAttributeValue;
      if (view.first_[*slot] == 0) view.first_[*slot] = static_cast<std::uint32_t>(offset);
      if (type == AttributeType::kMessageIntegrity) after_integrity = true;
      if (type == AttributeType::kFingerprint) after_fingerprint = true;
    } else if (is_comprehension_required(type)) {
      const auto known = view.unknown_.begin() + view.unknown_count_;
      if (view.unknown_count_ < kMaxUnknownReported &&
          std::find(view.unknown_.begin(), known, type) == known) {
        view.unknown_[view.unknown_count_++] = type;
      }
    }
    offset = next;
  }
  out = view;
  return ParseError::kOk;
}

std::optional<MessageView> MessageView::parse(std::span<const std::uint8_t> bytes) noexcept {
  MessageView view;
  if (parse(bytes, view) != ParseError::kOk) return std::nullopt;
  return view;
}

std::uint16_t MessageView::message_type() const noexcept {
  return load_be16(bytes_.data());
}

MessageClass MessageView::message_class() const noexcept {
  const std::uint16_t t = message_type();
  return static_cast<MessageClass>(((t >> 4) & 0x1) | ((t >> 7) & 0x2));
}

Method MessageView::method() const noexcept {
  const std::uint16_t t = message_type();
  return static_cast<Method>((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}

std::span<const std::uint8_t, kTransactionIdSize> MessageView::transaction_id() const noexcept {
  return bytes_.subspan<kTransactionIdOffset, kTransactionIdSize>();
}

std::optional<std::span<const std::uint8_t>> MessageView::value_in(Slot slot) const noexcept {
  const std::size_t offset = first_[slot];
  if (offset == 0) return std::nullopt;
  return bytes_.subspan(offset + kAttributeHeaderSize, load_be16(bytes_.data() + offset + 2));
}

std::optional<std::string_view> MessageView::text_in(Slot slot) const noexcept {
  const auto value = value_in(slot);
  if (!value) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(value->data()), value->size());
}

std::optional<TransportAddress> MessageView::address_in(Slot slot, bool xored) const noexcept {
  const auto value = value_in(slot);
  if (!value) return std::nullopt;
  // parse() checked the family and the size.
  const auto v = *value;
  TransportAddress address;
  address.family = static_cast<TransportAddress::Family>(v[1]);
  const std::size_t ip_size = v.size() - 4;
  std::copy_n(v.begin() + 4, ip_size, address.ip.begin());
  address.port = load_be16(v.data() + 2);
  if (xored) {
    // RFC 8489 §14.2: X-Port is XORed with the cookie's top 16 bits, X-Address with the
    // cookie (and, for IPv6, the transaction id).
    const auto mask = xor_mask(transaction_id());
    address.port ^= static_cast<std::uint16_t>(kMagicCookie >> 16);
    for (std::size_t i = 0; i < ip_size; ++i) address.ip[i] ^= mask[i];
  }
  return address;
}

std::optional<std::string_view> MessageView::username() const noexcept {
  return text_in(kSlotUsername);
}
std::optional<std::string_view> MessageView::realm() const noexcept {
  return text_in(kSlotRealm);
}
std::optional<std::string_view> MessageView::nonce() const noexcept {
  return text_in(kSlotNonce);
}
std::optional<std::string_view> MessageView::software() const noexcept {
  return text_in(kSlotSoftware);
}

std::optional<TransportAddress> MessageView::mapped_address() const noexcept {
  return address_in(kSlotMappedAddress, false);
}
std::optional<TransportAddress> MessageView::xor_mapped_address() const noexcept {
  return address_in(kSlotXorMappedAddress, true);
}

std::optional<std::uint32_t> MessageView::priority() const noexcept {
  const auto value = value_in(kSlotPriority);
  if (!value) return std::nullopt;
  return load_be32(value->data());
}

bool MessageView::use_candidate() const noexcept {
  return first_[kSlotUseCandidate] != 0;
}

std::optional<std::uint64_t> MessageView::ice_controlling() const noexcept {
  const auto value = value_in(kSlotIceControlling);
  if (!value) return std::nullopt;
  return load_be64(value->data());
}

std::optional<std::uint64_t> MessageView::ice_controlled() const noexcept {
  const auto value = value_in(kSlotIceControlled);
  if (!value) return std::nullopt;
  return load_be64(value->data());
}

std::optional<ErrorCode> MessageView::error_code() const noexcept {
  const auto value = value_in(kSlotErrorCode);
  if (!value) return std::nullopt;
  const auto v = *value;
  ErrorCode error;
  error.code = static_cast<std::uint16_t>((v[2] & 0x07u) * 100u + v[3]);
  error.reason = std::string_view(reinterpret_cast<const char*>(v.data()) + 4, v.size() - 4);
  return error;
}

std::optional<std::size_t> MessageView::message_integrity_offset() const noexcept {
  if (first_[kSlotMessageIntegrity] == 0) return std::nullopt;
  return first_[kSlotMessageIntegrity];
}

std::optional<std::span<const std::uint8_t, kMessageIntegritySize>> MessageView::message_integrity()
    const noexcept {
  const auto value = value_in(kSlotMessageIntegrity);
  if (!value) return std::nullopt;
  return value->first<kMessageIntegritySize>();
}

std::optional<std::size_t> MessageView::fingerprint_offset() const noexcept {
  if (first_[kSlotFingerprint] == 0) return std::nullopt;
  return first_[kSlotFingerprint];
}

std::optional<std::uint32_t> MessageView::fingerprint() const noexcept {
  const auto value = value_in(kSlotFingerprint);
  if (!value) return std::nullopt;
  return load_be32(value->data());
}

Attribute MessageView::AttributeIterator::operator*() const noexcept {
  const std::uint8_t* p = view_->bytes_.data() + offset_;
  Attribute attribute;
  attribute.type = static_cast<AttributeType>(load_be16(p));
  attribute.value = view_->bytes_.subspan(offset_ + kAttributeHeaderSize, load_be16(p + 2));
  attribute.offset = offset_;
  return attribute;
}

MessageView::AttributeIterator& MessageView::AttributeIterator::operator++() noexcept {
  const std::size_t end = view_->bytes_.size();
  if (offset_ == view_->first_[kSlotMessageIntegrity]) {
    // Skip what follows MESSAGE-INTEGRITY up to FINGERPRINT (RFC 8489 §14.5).
    const std::size_t fingerprint = view_->first_[kSlotFingerprint];
    offset_ = fingerprint != 0 ? fingerprint : end;
    return *this;
  }
  const std::size_t length = load_be16(view_->bytes_.data() + offset_ + 2);
  offset_ += kAttributeHeaderSize + padded(length);
  return *this;
}

MessageView::AttributeRange MessageView::attributes() const noexcept {
  return AttributeRange{AttributeIterator(this, kHeaderSize),
                        AttributeIterator(this, bytes_.size())};
}

std::optional<Attribute> MessageView::find(AttributeType type) const noexcept {
  for (const Attribute attribute : attributes()) {
    if (attribute.type == type) return attribute;
  }
  return std::nullopt;
}

bool hmac_sha1(std::span<const std::uint8_t> key,
               std::span<const std::span<const std::uint8_t>> parts,
               std::span<std::uint8_t, kMessageIntegritySize> out) noexcept {
  return t_hmac.compute(key, parts, out);
}

bool check_integrity(const MessageView& message, std::span<const std::uint8_t> key) noexcept {
  const auto offset = message.message_integrity_offset();
  const auto received = message.message_integrity();
  if (!offset || !received) return false;
  const auto bytes = message.bytes();
  // RFC 8489 §14.5: the HMAC covers the message up to MESSAGE-INTEGRITY, with the length
  // field as if MESSAGE-INTEGRITY were the last attribute. Patch a copy of the header
  // instead of the caller's buffer.
  std::array<std::uint8_t, kHeaderSize> header;
  std::copy_n(bytes.begin(), kHeaderSize, header.begin());
  store_be16(header.data() + kLengthOffset,
             static_cast<std::uint16_t>(*offset + kAttributeHeaderSize + kMessageIntegritySize -
                                        kHeaderSize));
  const std::array<std::span<const std::uint8_t>, 2> parts = {
      std::span<const std::uint8_t>(header),
      bytes.subspan(kHeaderSize, *offset - kHeaderSize),
  };
  std::array<std::uint8_t, kMessageIntegritySize> expected;
  if (!hmac_sha1(key, parts, expected)) return false;
  return CRYPTO_memcmp(expected.data(), received->data(), kMessageIntegritySize) == 0;
}

bool check_fingerprint(const MessageView& message) noexcept {
  const auto offset = message.fingerprint_offset();
  const auto received = message.fingerprint();
  if (!offset || !received) return false;
  // FINGERPRINT is last, so the length field already counts it as §14.7 requires.
  return (crc32(message.bytes().first(*offset)) ^ kFingerprintXor) == *received;
}

MessageWriter::MessageWriter(
    std::span<std::uint8_t> buffer, MessageClass message_class, Method method,
    std::span<const std::uint8_t, kTransactionIdSize> transaction_id) noexcept
    : buffer_(buffer) {
  if (buffer_.size() < kHeaderSize) {
    error_ = WriteError::kBufferTooSmall;
    return;
  }
  store_be16(buffer_.data(), encode_type(message_class, method));
  store_be16(buffer_.data() + kLengthOffset, 0);
  store_be32(buffer_.data() + kCookieOffset, kMagicCookie);
  // memmove: `transaction_id` may be the header of a request being answered in place.
  std::memmove(buffer_.data() + kTransactionIdOffset, transaction_id.data(), kTransactionIdSize);
  size_ = kHeaderSize;
}

void MessageWriter::set_length_field(std::size_t body_length) noexcept {
  store_be16(buffer_.data() + kLengthOffset, static_cast<std::uint16_t>(body_length));
}

std::optional<std::span<std::uint8_t>> MessageWriter::append(AttributeType type,
                                                             std::size_t length) noexcept {
  if (error_ != WriteError::kOk) return std::nullopt;
  if (finished_) {
    error_ = WriteError::kFinished;
    return std::nullopt;
  }
  const std::size_t total = kAttributeHeaderSize + padded(length);
  if (length > kMaxLengthField || size_ - kHeaderSize + total > kMaxLengthField) {
    error_ = WriteError::kValueTooLong;
    return std::nullopt;
  }
  if (total > buffer_.size() - size_) {
    error_ = WriteError::kBufferTooSmall;
    return std::nullopt;
  }
  std::uint8_t* p = buffer_.data() + size_;
  store_be16(p, static_cast<std::uint16_t>(type));
  store_be16(p + 2, static_cast<std::uint16_t>(length));
  // RFC 8489 §14: padding bits are zero on sending.
  std::fill(p + kAttributeHeaderSize + length, p + total, std::uint8_t{0});
  size_ += total;
  set_length_field(size_ - kHeaderSize);
  return std::span<std::uint8_t>(p + kAttributeHeaderSize, length);
}

MessageWriter& MessageWriter::add_attribute(AttributeType type,
                                            std::span<const std::uint8_t> value) noexcept {
  if (type == AttributeType::kMessageIntegrity || type == AttributeType::kFingerprint) {
    if (error_ == WriteError::kOk) error_ = WriteError::kInvalidValue;
    return *this;
  }
  if (const auto out = append(type, value.size())) {
    std::copy(value.begin(), value.end(), out->begin());
  }
  return *this;
}

MessageWriter& MessageWriter::add_username(std::string_view username) noexcept {
  if (username.size() > kMaxUsernameBytes) {
    if (error_ == WriteError::kOk) error_ = WriteError::kValueTooLong;
    return *this;
  }
  return add_attribute(AttributeType::kUsername, short_term_key(username));
}

MessageWriter& MessageWriter::add_xor_mapped_address(const TransportAddress& address) noexcept {
  if (address.family != TransportAddress::Family::kIPv4 &&
      address.family != TransportAddress::Family::kIPv6) {
    if (error_ == WriteError::kOk) error_ = WriteError::kInvalidValue;
    return *this;
  }
  const auto ip = address.ip_bytes();
  const auto out = append(AttributeType::kXorMappedAddress, 4 + ip.size());
  if (!out) return *this;
  std::uint8_t* p = out->data();
  p[0] = 0;  // reserved
  p[1] = static_cast<std::uint8_t>(address.family);
  store_be16(p + 2, static_cast<std::uint16_t>(address.port ^ (kMagicCookie >> 16)));
  // The transaction id is already in the header (written by the constructor).
  const auto mask = xor_mask(buffer_.subspan<kTransactionIdOffset, kTransactionIdSize>());
  for (std::size_t i = 0; i < ip.size(); ++i) p[4 + i] = ip[i] ^ mask[i];
  return *this;
}

MessageWriter& MessageWriter::add_priority(std::uint32_t priority) noexcept {
  if (const auto out = append(AttributeType::kPriority, 4)) store_be32(out->data(), priority);
  return *this;
}

MessageWriter& MessageWriter::add_use_candidate() noexcept {
  append(AttributeType::kUseCandidate, 0);
  return *this;
}

MessageWriter& MessageWriter::add_ice_controlling(std::uint64_t tie_breaker) noexcept {
  if (const auto out = append(AttributeType::kIceControlling, kIceTieBreakerSize)) {
    store_be64(out->data(), tie_breaker);
  }
  return *this;
}

MessageWriter& MessageWriter::add_ice_controlled(std::uint64_t tie_breaker) noexcept {
  if (const auto out = append(AttributeType::kIceControlled, kIceTieBreakerSize)) {
    store_be64(out->data(), tie_breaker);
  }
  return *this;
}

MessageWriter& MessageWriter::add_error_code(std::uint16_t code, std::string_view reason) noexcept {
  if (code < 300 || code > 699) {
    if (error_ == WriteError::kOk) error_ = WriteError::kInvalidValue;
    return *this;
  }
  if (utf8_characters(reason) > kMaxReasonCharacters) {
    if (error_ == WriteError::kOk) error_ = WriteError::kValueTooLong;
    return *this;
  }
  const auto out = append(AttributeType::kErrorCode, 4 + reason.size());
  if (!out) return *this;
  std::uint8_t* p = out->data();
  p[0] = 0;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(code / 100);
  p[3] = static_cast<std::uint8_t>(code % 100);
  std::memcpy(p + 4, reason.data(), reason.size());
  return *this;
}

MessageWriter& MessageWriter::add_unknown_attributes(
    std::span<const AttributeType> types) noexcept {
  const auto out = append(AttributeType::kUnknownAttributes, 2 * types.size());
  if (!out) return *this;
  // RFC 8489 §14.13: an odd count gets ordinary zero padding (RFC 3489 repeated the last).
  for (std::size_t i = 0; i < types.size(); ++i) {
    store_be16(out->data() + 2 * i, static_cast<std::uint16_t>(types[i]));
  }
  return *this;
}

WriteResult MessageWriter::finish_with(std::optional<std::span<const std::uint8_t>> integrity_key,
                                       bool with_fingerprint) noexcept {
  if (error_ == WriteError::kOk && finished_) error_ = WriteError::kFinished;
  if (integrity_key) {
    const std::size_t before = size_;
    // append() sets the length field to include MESSAGE-INTEGRITY, as the HMAC input
    // needs (RFC 8489 §14.5); the value is computed over everything before it.
    if (const auto out = append(AttributeType::kMessageIntegrity, kMessageIntegritySize)) {
      const std::array<std::span<const std::uint8_t>, 1> parts = {
          std::span<const std::uint8_t>(buffer_.data(), before)};
      if (!hmac_sha1(*integrity_key, parts, out->first<kMessageIntegritySize>())) {
        error_ = WriteError::kCryptoFailure;
      }
    }
  }
  if (with_fingerprint) {
    const std::size_t before = size_;
    // The length field counts FINGERPRINT before the CRC is taken (RFC 8489 §14.7).
    if (const auto out = append(AttributeType::kFingerprint, kFingerprintSize)) {
      const std::uint32_t crc =
          crc32(std::span<const std::uint8_t>(buffer_.data(), before)) ^ kFingerprintXor;
      store_be32(out->data(), crc);
    }
  }
  finished_ = true;
  if (error_ != WriteError::kOk) return WriteResult{error_, 0};
  return WriteResult{WriteError::kOk, size_};
}

WriteResult MessageWriter::finish(std::span<const std::uint8_t> integrity_key,
                                  bool with_fingerprint) noexcept {
  return finish_with(integrity_key, with_fingerprint);
}

WriteResult MessageWriter::finish_without_integrity(bool with_fingerprint) noexcept {
  return finish_with(std::nullopt, with_fingerprint);
}

WriteResult build_binding_success(const MessageView& request,
                                  const TransportAddress& mapped_address,
                                  std::span<const std::uint8_t> integrity_key,
                                  std::span<std::uint8_t> out) noexcept {
  if (request.message_class() != MessageClass::kRequest || request.method() != Method::kBinding) {
    return WriteResult{WriteError::kInvalidValue, 0};
  }
  MessageWriter writer(out, MessageClass::kSuccessResponse, Method::kBinding,
                       request.transaction_id());
  writer.add_xor_mapped_address(mapped_address);
  return writer.finish(integrity_key, true);
}

WriteResult build_binding_error(const MessageView& request, std::uint16_t code,
                                std::string_view reason,
                                std::span<const std::uint8_t> integrity_key,
                                std::span<std::uint8_t> out) noexcept {
  if (request.message_class() != MessageClass::kRequest || request.method() != Method::kBinding) {
    return WriteResult{WriteError::kInvalidValue, 0};
  }
  MessageWriter writer(out, MessageClass::kErrorResponse, Method::kBinding,
                       request.transaction_id());
  writer.add_error_code(code, reason.empty() ? default_reason(code) : reason);
  // RFC 8489 §6.3.1.1: a 420 lists the attributes it did not understand.
  if (code == error_code::kUnknownAttribute) {
    writer.add_unknown_attributes(request.unknown_comprehension_required());
  }
  if (integrity_key.empty()) return writer.finish_without_integrity(true);
  return writer.finish(integrity_key, true);
}

}  // namespace conclave::rtc::stun
