// Unit tests of rtc/stun: classification (RFC 7983), parsing as a view (RFC 8489 §5, §14),
// MESSAGE-INTEGRITY and FINGERPRINT (§14.5, §14.7), the writer and the ICE-lite answers.
// The RFC 5769 vectors are in stun_vectors_test.cpp.
#include "rtc/stun.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtc/crc32.hpp"

namespace conclave::rtc::stun {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::string_view kPassword = "asd88fgpdd777uzjYhagZg";  // 22 ice-chars
constexpr TransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::uint16_t read_u16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
void write_u16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

// Appends one attribute by hand (no checks), keeping the header's length field right:
// for messages the writer refuses to produce.
void append_raw(Bytes& message, std::uint16_t type, std::span<const std::uint8_t> value) {
  const std::size_t at = message.size();
  message.resize(at + 4 + ((value.size() + 3) & ~std::size_t{3}), 0);
  write_u16(message, at, type);
  write_u16(message, at + 2, static_cast<std::uint16_t>(value.size()));
  std::copy(value.begin(), value.end(), message.begin() + static_cast<std::ptrdiff_t>(at + 4));
  write_u16(message, 2, static_cast<std::uint16_t>(message.size() - kHeaderSize));
}

// Appends a correct FINGERPRINT by hand.
void append_fingerprint(Bytes& message) {
  const std::size_t at = message.size();
  append_raw(message, 0x8028, std::array<std::uint8_t, 4>{});
  const std::uint32_t value = crc32(std::span(message).first(at)) ^ kFingerprintXor;
  for (int i = 0; i < 4; ++i)
    message[at + 4 + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

Bytes header(MessageClass message_class = MessageClass::kRequest) {
  std::array<std::uint8_t, kHeaderSize> buffer{};
  MessageWriter writer(buffer, message_class, Method::kBinding, kId);
  return Bytes(buffer.begin(), buffer.end());
}

// A typical ICE connectivity check as a browser sends it.
Bytes connectivity_check() {
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_username("Ab3x:QRst")
      .add_priority(0x6e7f1eff)
      .add_ice_controlling(0x1122334455667788)
      .add_use_candidate();
  const WriteResult result = writer.finish(short_term_key(kPassword), true);
  EXPECT_TRUE(result.ok()) << to_string(result.error);
  return Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(result.size));
}

ParseError parse_error(std::span<const std::uint8_t> bytes) {
  MessageView view;
  return MessageView::parse(bytes, view);
}

MessageView parse_ok(std::span<const std::uint8_t> bytes) {
  MessageView view;
  const ParseError error = MessageView::parse(bytes, view);
  EXPECT_EQ(error, ParseError::kOk) << to_string(error);
  return view;
}

TEST(LooksLikeStun, AcceptsWholeMessages) {
  EXPECT_TRUE(looks_like_stun(connectivity_check()));
  EXPECT_TRUE(looks_like_stun(header()));
}

TEST(LooksLikeStun, RejectsOtherProtocolsFirstBytes) {
  // A valid message with its first byte changed into each of RFC 7983's other ranges:
  // cookie and length still fit, so only the first byte can reject it.
  const Bytes message = connectivity_check();
  for (int first = 4; first < 256; ++first) {
    Bytes other = message;
    other[0] = static_cast<std::uint8_t>(first);
    EXPECT_FALSE(looks_like_stun(other)) << "first byte " << first;
  }
  for (int first = 0; first <= 3; ++first) {
    Bytes stun = message;
    stun[0] = static_cast<std::uint8_t>(first);
    EXPECT_TRUE(looks_like_stun(stun)) << "first byte " << first;
  }
}

TEST(LooksLikeStun, RejectsRtpAndDtlsPackets) {
  // RTP v2 (0x80, PT 111), RTCP SR (0x80 200), DTLS 1.2 ClientHello record (0x16 0xfe 0xfd).
  Bytes rtp(172, 0);
  rtp[0] = 0x80;
  rtp[1] = 111;
  Bytes rtcp = {0x80, 200, 0x00, 0x06, 0x21, 0x12, 0xa4, 0x42};
  rtcp.resize(28, 0);
  Bytes dtls = {0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  dtls.resize(120, 0);
  EXPECT_FALSE(looks_like_stun(rtp));
  EXPECT_FALSE(looks_like_stun(rtcp));
  EXPECT_FALSE(looks_like_stun(dtls));
}

TEST(LooksLikeStun, RejectsBadHeaders) {
  const Bytes message = connectivity_check();
  EXPECT_FALSE(looks_like_stun(std::span(message).first(19)));
  EXPECT_FALSE(looks_like_stun({}));
  Bytes cookie = message;
  cookie[7] ^= 0x01;
  EXPECT_FALSE(looks_like_stun(cookie));
  Bytes longer = message;
  longer.push_back(0);  // one byte more than the length field says
  EXPECT_FALSE(looks_like_stun(longer));
  Bytes odd = message;
  write_u16(odd, 2, static_cast<std::uint16_t>(read_u16(odd, 2) - 2));
  odd.resize(odd.size() - 2);  // consistent, but not a multiple of 4
  EXPECT_FALSE(looks_like_stun(odd));
}

TEST(Parse, HeaderFields) {
  for (const auto message_class : {MessageClass::kRequest, MessageClass::kIndication,
                                   MessageClass::kSuccessResponse, MessageClass::kErrorResponse}) {
    for (const std::uint16_t method : {0x001, 0x0ABC, 0xFFF, 0x080, 0x010}) {
      std::array<std::uint8_t, kHeaderSize> buffer{};
      MessageWriter writer(buffer, message_class, static_cast<Method>(method), kId);
      const WriteResult result = writer.finish_without_integrity(false);
      ASSERT_TRUE(result.ok());
      const MessageView m = parse_ok(std::span(buffer).first(result.size));
      EXPECT_EQ(m.message_class(), message_class);
      EXPECT_EQ(static_cast<std::uint16_t>(m.method()), method);
      EXPECT_TRUE(std::equal(kId.begin(), kId.end(), m.transaction_id().begin()));
      EXPECT_EQ(buffer[0] & 0xC0, 0);  // RFC 8489 §5: the top two bits stay zero
    }
  }
  // RFC 8489 §5's examples: Binding request 0x0001, Binding success response 0x0101.
  EXPECT_EQ(parse_ok(header(MessageClass::kRequest)).message_type(), 0x0001);
  EXPECT_EQ(parse_ok(header(MessageClass::kSuccessResponse)).message_type(), 0x0101);
  EXPECT_EQ(parse_ok(header(MessageClass::kErrorResponse)).message_type(), 0x0111);
}

TEST(Parse, OptionalOverloadAgrees) {
  EXPECT_TRUE(MessageView::parse(std::span<const std::uint8_t>(connectivity_check())));
  Bytes bad = connectivity_check();
  bad[4] = 0;
  EXPECT_FALSE(MessageView::parse(std::span<const std::uint8_t>(bad)));
}

TEST(Parse, RejectsNonStunHeaders) {
  Bytes top_bits = header();
  top_bits[0] |= 0x40;
  EXPECT_EQ(parse_error(top_bits), ParseError::kNotStun);
  top_bits[0] = 0x80;
  EXPECT_EQ(parse_error(top_bits), ParseError::kNotStun);
  Bytes cookie = header();
  cookie[4] = 0x00;
  EXPECT_EQ(parse_error(cookie), ParseError::kBadCookie);
}

TEST(Parse, EveryTruncationIsRejected) {
  Bytes with_everything = connectivity_check();
  for (const Bytes& message : {connectivity_check(), header()}) {
    for (std::size_t n = 0; n < message.size(); ++n) {
      // A copy of exactly n bytes, so that AddressSanitizer sees any read past them.
      const Bytes cut(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(parse_error(cut), ParseError::kOk) << "length " << n;
      EXPECT_FALSE(looks_like_stun(cut)) << "length " << n;
    }
  }
  EXPECT_EQ(parse_error(std::span(with_everything).first(19)), ParseError::kTruncated);
  EXPECT_EQ(parse_error(std::span(with_everything).first(24)), ParseError::kTruncated);
}

TEST(Parse, LengthFieldLies) {
  const Bytes message = connectivity_check();
  const std::uint16_t length = read_u16(message, 2);
  auto with_length = [&](int delta) {
    Bytes m = message;
    write_u16(m, 2, static_cast<std::uint16_t>(length + delta));
    return m;
  };
  EXPECT_EQ(parse_error(with_length(+4)), ParseError::kTruncated);  // claims more than is there
  EXPECT_EQ(parse_error(with_length(-4)), ParseError::kBadLength);  // bytes after the message
  EXPECT_EQ(parse_error(with_length(+1)), ParseError::kBadLength);  // not a multiple of 4
  EXPECT_EQ(parse_error(with_length(-2)), ParseError::kBadLength);
  EXPECT_EQ(parse_error(with_length(0xFFFF - length)), ParseError::kBadLength);
  Bytes zero = message;
  write_u16(zero, 2, 0);
  EXPECT_EQ(parse_error(zero), ParseError::kBadLength);
  // Consistent length 0: a bare header is a valid message.
  EXPECT_EQ(parse_error(std::span(zero).first(kHeaderSize)), ParseError::kOk);
}

TEST(Parse, AttributeLengthRunningPastTheEnd) {
  Bytes message = header();
  append_raw(message, 0x0006, bytes_of("user"));  // USERNAME, value at 24..28
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 1});
  ASSERT_EQ(parse_error(message), ParseError::kOk);
  for (const std::uint16_t bad_length : {13, 16, 0xFFFF}) {
    Bytes m = message;
    write_u16(m, 22, bad_length);  // USERNAME's length now runs past the end
    EXPECT_EQ(parse_error(m), ParseError::kBadAttributeLength) << bad_length;
  }
  Bytes last = message;
  write_u16(last, 30, 5);  // PRIORITY, the last attribute, one byte too long
  EXPECT_EQ(parse_error(last), ParseError::kBadAttributeLength);
}

TEST(Parse, KnownAttributesWithBadValuesAreRejected) {
  struct Case {
    std::uint16_t type;
    Bytes value;
  };
  const std::vector<Case> cases = {
      {0x0024, {0, 0, 1}},                       // PRIORITY of 3 bytes
      {0x0025, {0}},                             // USE-CANDIDATE with a value
      {0x802A, {1, 2, 3, 4}},                    // ICE-CONTROLLING of 4 bytes
      {0x8029, Bytes(12, 0)},                    // ICE-CONTROLLED of 12 bytes
      {0x0008, Bytes(19, 0)},                    // MESSAGE-INTEGRITY of 19 bytes
      {0x8028, Bytes(8, 0)},                     // FINGERPRINT of 8 bytes
      {0x0020, {0, 3, 0, 0, 1, 2, 3, 4}},        // XOR-MAPPED-ADDRESS, family 3
      {0x0020, {0, 1, 0, 0, 1, 2, 3, 4, 5, 6}},  // IPv4 family, 6 address bytes
      {0x0020, {0, 2, 0, 0, 1, 2, 3, 4}},        // IPv6 family, 4 address bytes
      {0x0001, {0, 1, 0}},                       // MAPPED-ADDRESS too short
      {0x0009, {0, 0, 4}},                       // ERROR-CODE too short
      {0x0009, {0, 0, 7, 0}},                    // ERROR-CODE class 7
      {0x0009, {0, 0, 2, 0}},                    // ERROR-CODE class 2
      {0x0009, {0, 0, 4, 100}},                  // ERROR-CODE number 100
      {0x000A, {0, 1, 0}},                       // UNKNOWN-ATTRIBUTES of odd length
  };
  for (const Case& c : cases) {
    Bytes message = header();
    append_raw(message, c.type, c.value);
    EXPECT_EQ(parse_error(message), ParseError::kBadAttributeValue) << std::hex << c.type;
  }
}

TEST(RoundTrip, EveryIceAttribute) {
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_username("remote:local")
      .add_priority(0xFFFFFFFF)
      .add_use_candidate()
      .add_ice_controlling(0x8000000000000001)
      .add_ice_controlled(0x0123456789ABCDEF)
      .add_xor_mapped_address(TransportAddress::ipv4({203, 0, 113, 7}, 65535))
      .add_attribute(AttributeType::kSoftware, bytes_of("conclave"));
  const WriteResult result = writer.finish(short_term_key(kPassword), true);
  ASSERT_TRUE(result.ok()) << to_string(result.error);
  const MessageView m = parse_ok(std::span(buffer).first(result.size));
  EXPECT_EQ(m.username(), "remote:local");
  EXPECT_EQ(m.priority(), 0xFFFFFFFFu);
  EXPECT_TRUE(m.use_candidate());
  EXPECT_EQ(m.ice_controlling(), 0x8000000000000001u);
  EXPECT_EQ(m.ice_controlled(), 0x0123456789ABCDEFu);
  EXPECT_EQ(m.xor_mapped_address(), TransportAddress::ipv4({203, 0, 113, 7}, 65535));
  EXPECT_EQ(m.software(), "conclave");
  EXPECT_FALSE(m.mapped_address());
  EXPECT_FALSE(m.error_code());
  EXPECT_FALSE(m.realm());
  EXPECT_FALSE(m.nonce());
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_TRUE(check_fingerprint(m));
  // Generic iteration sees them all, in order, with MESSAGE-INTEGRITY and FINGERPRINT.
  std::vector<AttributeType> types;
  for (const Attribute a : m.attributes()) types.push_back(a.type);
  const std::vector<AttributeType> expected = {
      AttributeType::kUsername,      AttributeType::kPriority,
      AttributeType::kUseCandidate,  AttributeType::kIceControlling,
      AttributeType::kIceControlled, AttributeType::kXorMappedAddress,
      AttributeType::kSoftware,      AttributeType::kMessageIntegrity,
      AttributeType::kFingerprint};
  EXPECT_EQ(types, expected);
  const auto software = m.find(AttributeType::kSoftware);
  ASSERT_TRUE(software);
  EXPECT_EQ(std::string(software->value.begin(), software->value.end()), "conclave");
  EXPECT_EQ(software->offset, *m.message_integrity_offset() - 12);
  EXPECT_FALSE(m.find(AttributeType::kRealm));
}

TEST(RoundTrip, AbsentAttributesAreAbsent) {
  const Bytes message = header();
  const MessageView m = parse_ok(message);
  EXPECT_FALSE(m.username());
  EXPECT_FALSE(m.priority());
  EXPECT_FALSE(m.use_candidate());
  EXPECT_FALSE(m.ice_controlling());
  EXPECT_FALSE(m.ice_controlled());
  EXPECT_FALSE(m.xor_mapped_address());
  EXPECT_FALSE(m.message_integrity_offset());
  EXPECT_FALSE(m.message_integrity());
  EXPECT_FALSE(m.fingerprint_offset());
  EXPECT_FALSE(m.fingerprint());
  EXPECT_FALSE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_FALSE(check_fingerprint(m));
  EXPECT_TRUE(m.attributes().begin() == m.attributes().end());
}

TEST(Parse, UnfilledViewReadsAsAnEmptyMessage) {
  MessageView m;
  Bytes bad = header();
  bad[4] = 0;
  ASSERT_EQ(MessageView::parse(bad, m), ParseError::kBadCookie);  // leaves `m` as it was
  EXPECT_EQ(m.bytes().size(), kHeaderSize);
  EXPECT_FALSE(m.username());
  EXPECT_FALSE(m.xor_mapped_address());
  EXPECT_FALSE(m.message_integrity_offset());
  EXPECT_TRUE(m.unknown_comprehension_required().empty());
  EXPECT_TRUE(m.attributes().begin() == m.attributes().end());
  EXPECT_FALSE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_FALSE(check_fingerprint(m));
}

TEST(RoundTrip, XorMappedAddressIpv6) {
  const auto address = TransportAddress::ipv6(
      {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}, 1);
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kSuccessResponse, Method::kBinding, kId);
  writer.add_xor_mapped_address(address);
  const WriteResult result = writer.finish_without_integrity(false);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.size, kHeaderSize + 4 + 20);
  // On the wire the address is XORed: the plain bytes must not appear.
  EXPECT_FALSE(std::equal(address.ip.begin(), address.ip.end(), buffer.begin() + 28));
  const MessageView m = parse_ok(std::span(buffer).first(result.size));
  EXPECT_EQ(m.xor_mapped_address(), address);
  EXPECT_EQ(m.xor_mapped_address()->ip_bytes().size(), 16u);
}

TEST(RoundTrip, MappedAddressIsReadWithoutXor) {
  Bytes message = header(MessageClass::kSuccessResponse);
  append_raw(message, 0x0001, std::array<std::uint8_t, 8>{0, 1, 0x12, 0x34, 10, 0, 0, 1});
  const MessageView m = parse_ok(message);
  EXPECT_EQ(m.mapped_address(), TransportAddress::ipv4({10, 0, 0, 1}, 0x1234));
  EXPECT_FALSE(m.xor_mapped_address());
}

TEST(RoundTrip, ErrorCodeAndUnknownAttributes) {
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kErrorResponse, Method::kBinding, kId);
  const std::array<AttributeType, 3> unknown = {static_cast<AttributeType>(0x0003),
                                                static_cast<AttributeType>(0x001C),
                                                static_cast<AttributeType>(0x7FFF)};
  writer.add_error_code(420, "Unknown Attribute").add_unknown_attributes(unknown);
  const WriteResult result = writer.finish_without_integrity(true);
  ASSERT_TRUE(result.ok());
  const MessageView m = parse_ok(std::span(buffer).first(result.size));
  ASSERT_TRUE(m.error_code());
  EXPECT_EQ(m.error_code()->code, 420);
  EXPECT_EQ(m.error_code()->reason, "Unknown Attribute");
  const auto list = m.find(AttributeType::kUnknownAttributes);
  ASSERT_TRUE(list);
  EXPECT_EQ(Bytes(list->value.begin(), list->value.end()),
            (Bytes{0x00, 0x03, 0x00, 0x1C, 0x7F, 0xFF}));
  // Three 16-bit types take 6 bytes and are padded to 8 with zeros (RFC 8489 §14.13).
  EXPECT_EQ(buffer[list->offset + 4 + 6], 0);
  EXPECT_EQ(buffer[list->offset + 4 + 7], 0);
  EXPECT_TRUE(check_fingerprint(m));
}

TEST(RoundTrip, ErrorCodeClassesAndNumbers) {
  for (const std::uint16_t code : {300, 400, 401, 438, 487, 500, 699}) {
    std::array<std::uint8_t, 64> buffer{};
    MessageWriter writer(buffer, MessageClass::kErrorResponse, Method::kBinding, kId);
    writer.add_error_code(code, "");
    const WriteResult result = writer.finish_without_integrity(false);
    ASSERT_TRUE(result.ok()) << code;
    const MessageView m = parse_ok(std::span(buffer).first(result.size));
    EXPECT_EQ(m.error_code()->code, code);
    EXPECT_EQ(m.error_code()->reason, "");
    EXPECT_EQ(buffer[kHeaderSize + 6], code / 100);  // class: the hundreds digit
    EXPECT_EQ(buffer[kHeaderSize + 7], code % 100);  // number
  }
}

TEST(RoundTrip, OddLengthUsernamesArePaddedWithZeros) {
  const std::string name = "abcdefgh";
  for (std::size_t n = 0; n <= name.size(); ++n) {
    std::array<std::uint8_t, 64> buffer;
    buffer.fill(0xEE);
    MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
    writer.add_username(std::string_view(name).substr(0, n));
    const WriteResult result = writer.finish_without_integrity(false);
    ASSERT_TRUE(result.ok());
    const std::size_t padded = (n + 3) & ~std::size_t{3};
    EXPECT_EQ(result.size, kHeaderSize + 4 + padded);
    EXPECT_EQ(result.size % 4, 0u);
    EXPECT_EQ(read_u16(Bytes(buffer.begin(), buffer.end()), kHeaderSize + 2), n);  // unpadded
    for (std::size_t i = kHeaderSize + 4 + n; i < result.size; ++i) EXPECT_EQ(buffer[i], 0) << i;
    EXPECT_EQ(buffer[result.size], 0xEE);  // nothing written past the message
    const MessageView m = parse_ok(std::span(buffer).first(result.size));
    EXPECT_EQ(m.username(), std::string_view(name).substr(0, n));
  }
}

TEST(Parse, PaddingContentIsIgnored) {
  Bytes message = header();
  append_raw(message, 0x0006, bytes_of("abcde"));
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 9});
  message[kHeaderSize + 4 + 5] = 0xFF;  // padding bytes of USERNAME
  message[kHeaderSize + 4 + 6] = 0x20;
  message[kHeaderSize + 4 + 7] = 0x01;
  const MessageView m = parse_ok(message);
  EXPECT_EQ(m.username(), "abcde");
  EXPECT_EQ(m.priority(), 9u);
}

TEST(Parse, DuplicatesGiveTheFirstOccurrence) {
  Bytes message = header();
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 1});
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 2});
  append_raw(message, 0x0006, bytes_of("first"));
  append_raw(message, 0x0006, bytes_of("second"));
  const MessageView m = parse_ok(message);
  EXPECT_EQ(m.priority(), 1u);
  EXPECT_EQ(m.username(), "first");
  std::size_t count = 0;
  for (const Attribute a : m.attributes()) count += a.type == AttributeType::kPriority;
  EXPECT_EQ(count, 2u);
}

TEST(Parse, UnknownComprehensionRequiredAttributesAreReported) {
  Bytes message = header();
  append_raw(message, 0x0003, std::array<std::uint8_t, 4>{});  // CHANGE-REQUEST (RFC 5780)
  append_raw(message, 0x8001, bytes_of("optional"));           // unknown, optional: ignored
  append_raw(message, 0x7FFF, {});
  append_raw(message, 0x0003, std::array<std::uint8_t, 4>{});  // a duplicate, listed once
  append_raw(message, 0x001C, Bytes(32, 0));                   // MESSAGE-INTEGRITY-SHA256
  append_raw(message, 0x0000, {});                             // reserved type 0
  const MessageView m = parse_ok(message);
  const std::vector<AttributeType> unknown(m.unknown_comprehension_required().begin(),
                                           m.unknown_comprehension_required().end());
  const std::vector<AttributeType> expected = {
      static_cast<AttributeType>(0x0003), static_cast<AttributeType>(0x7FFF),
      static_cast<AttributeType>(0x001C), static_cast<AttributeType>(0x0000)};
  EXPECT_EQ(unknown, expected);
}

TEST(Parse, UnknownListIsBounded) {
  Bytes message = header();
  for (std::uint16_t type = 0x0100; type < 0x0100 + 20; ++type) append_raw(message, type, {});
  const MessageView m = parse_ok(message);
  ASSERT_EQ(m.unknown_comprehension_required().size(), MessageView::kMaxUnknownReported);
  EXPECT_EQ(m.unknown_comprehension_required()[0], static_cast<AttributeType>(0x0100));
}

TEST(Integrity, RightKeyPassesWrongKeyFails) {
  const Bytes message = connectivity_check();
  const MessageView m = parse_ok(message);
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_FALSE(check_integrity(m, short_term_key("asd88fgpdd777uzjYhagZh")));
  EXPECT_FALSE(check_integrity(m, short_term_key("")));
  EXPECT_FALSE(check_integrity(m, short_term_key(std::string(kPassword) + "x")));
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));  // the shared context re-keys
}

TEST(Integrity, EveryFlippedBitBeforeTheHmacIsCaught) {
  const Bytes message = connectivity_check();
  const std::size_t integrity = *parse_ok(message).message_integrity_offset();
  // Every bit up to the end of the HMAC value: the message either stops parsing or fails
  // the check.
  for (std::size_t i = 0; i < integrity + 24; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = message;
      flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
      MessageView m;
      if (MessageView::parse(flipped, m) != ParseError::kOk) continue;
      EXPECT_FALSE(check_integrity(m, short_term_key(kPassword))) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Integrity, FlippedFingerprintDoesNotAffectIntegrity) {
  Bytes message = connectivity_check();
  message.back() ^= 0x01;
  const MessageView m = parse_ok(message);
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_FALSE(check_fingerprint(m));
}

TEST(Fingerprint, EveryFlippedBitIsCaught) {
  const Bytes message = connectivity_check();
  for (std::size_t i = 0; i < message.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = message;
      flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
      MessageView m;
      if (MessageView::parse(flipped, m) != ParseError::kOk) continue;
      EXPECT_FALSE(check_fingerprint(m)) << "byte " << i << " bit " << bit;
    }
  }
  EXPECT_TRUE(check_fingerprint(parse_ok(message)));
}

TEST(Fingerprint, MustBeLast) {
  Bytes message = header();
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 1});
  append_fingerprint(message);
  ASSERT_EQ(parse_error(message), ParseError::kOk);
  EXPECT_TRUE(check_fingerprint(parse_ok(message)));
  append_raw(message, 0x8022, bytes_of("late"));
  EXPECT_EQ(parse_error(message), ParseError::kFingerprintNotLast);
}

TEST(Integrity, AttributesAfterItAreIgnored) {
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_username("a:b");
  const WriteResult result = writer.finish(short_term_key(kPassword), false);
  ASSERT_TRUE(result.ok());
  Bytes message(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(result.size));
  const std::size_t integrity = result.size - 24;
  // Attributes an attacker could append without knowing the key: all must be ignored,
  // including ones that would otherwise be errors or change the answer.
  append_raw(message, 0x0024, std::array<std::uint8_t, 4>{0, 0, 0, 7});  // PRIORITY
  append_raw(message, 0x0025, {});                                       // USE-CANDIDATE
  append_raw(message, 0x0006, bytes_of("evil:user"));                    // USERNAME
  append_raw(message, 0x0003, std::array<std::uint8_t, 4>{});            // unknown, required
  append_raw(message, 0x0024, std::array<std::uint8_t, 2>{});            // malformed PRIORITY
  append_raw(message, 0x0008, Bytes(20, 0));                             // a second MI
  append_fingerprint(message);
  const MessageView m = parse_ok(message);
  EXPECT_EQ(m.username(), "a:b");
  EXPECT_FALSE(m.priority());
  EXPECT_FALSE(m.use_candidate());
  EXPECT_TRUE(m.unknown_comprehension_required().empty());
  EXPECT_EQ(m.message_integrity_offset(), integrity);
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_TRUE(check_fingerprint(m));
  std::vector<AttributeType> types;
  for (const Attribute a : m.attributes()) types.push_back(a.type);
  const std::vector<AttributeType> expected = {
      AttributeType::kUsername, AttributeType::kMessageIntegrity, AttributeType::kFingerprint};
  EXPECT_EQ(types, expected);
  // Their framing still has to be right, or FINGERPRINT could not be found.
  Bytes broken = message;
  write_u16(broken, integrity + 24 + 2, 0x00F0);
  EXPECT_EQ(parse_error(broken), ParseError::kBadAttributeLength);
}

TEST(Integrity, IgnoredTailWithoutFingerprintIsNotIterated) {
  std::array<std::uint8_t, kMaxUdpMessageSize> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  const WriteResult result = writer.finish(short_term_key(kPassword), false);
  ASSERT_TRUE(result.ok());
  Bytes message(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(result.size));
  append_raw(message, 0x8022, bytes_of("tail"));
  const MessageView m = parse_ok(message);
  std::size_t count = 0;
  for (const Attribute a : m.attributes()) {
    EXPECT_EQ(a.type, AttributeType::kMessageIntegrity);
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
}

TEST(Integrity, CheckLeavesTheBufferUntouched) {
  const Bytes message = connectivity_check();
  const Bytes before = message;
  const MessageView m = parse_ok(message);
  EXPECT_TRUE(check_integrity(m, short_term_key(kPassword)));
  EXPECT_EQ(message, before);
}

TEST(Writer, BufferTooSmallAtEveryCapacity) {
  const Bytes expected = connectivity_check();
  for (std::size_t capacity = 0; capacity <= expected.size(); ++capacity) {
    std::array<std::uint8_t, 256> buffer;
    buffer.fill(0xEE);
    const std::span<std::uint8_t> limited = std::span(buffer).first(capacity);
    MessageWriter writer(limited, MessageClass::kRequest, Method::kBinding, kId);
    writer.add_username("Ab3x:QRst")
        .add_priority(0x6e7f1eff)
        .add_ice_controlling(0x1122334455667788)
        .add_use_candidate();
    const WriteResult result = writer.finish(short_term_key(kPassword), true);
    for (std::size_t i = capacity; i < buffer.size(); ++i) {
      ASSERT_EQ(buffer[i], 0xEE) << "wrote byte " << i << " with capacity " << capacity;
    }
    if (capacity < expected.size()) {
      EXPECT_EQ(result.error, WriteError::kBufferTooSmall) << capacity;
      EXPECT_EQ(result.size, 0u);
      EXPECT_FALSE(result.ok());
    } else {
      ASSERT_TRUE(result.ok());
      EXPECT_EQ(Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(result.size)),
                expected);
    }
  }
}

TEST(Writer, ErrorsStickAndAddsAfterFinishAreRefused) {
  std::array<std::uint8_t, 64> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_attribute(AttributeType::kSoftware, Bytes(100, 'x'));  // too big for 64 bytes
  EXPECT_EQ(writer.error(), WriteError::kBufferTooSmall);
  writer.add_priority(1);  // no effect, error kept
  EXPECT_EQ(writer.error(), WriteError::kBufferTooSmall);
  EXPECT_EQ(writer.size(), kHeaderSize);
  EXPECT_EQ(writer.finish_without_integrity(true).error, WriteError::kBufferTooSmall);

  MessageWriter done(buffer, MessageClass::kRequest, Method::kBinding, kId);
  ASSERT_TRUE(done.finish_without_integrity(false).ok());
  done.add_priority(1);
  EXPECT_EQ(done.error(), WriteError::kFinished);
}

TEST(Writer, RefusesWhatFinishMustWrite) {
  std::array<std::uint8_t, 64> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_attribute(AttributeType::kMessageIntegrity, Bytes(20, 0));
  EXPECT_EQ(writer.error(), WriteError::kInvalidValue);
  MessageWriter other(buffer, MessageClass::kRequest, Method::kBinding, kId);
  other.add_attribute(AttributeType::kFingerprint, Bytes(4, 0));
  EXPECT_EQ(other.error(), WriteError::kInvalidValue);
}

TEST(Writer, RfcValueLimits) {
  std::array<std::uint8_t, 1024> buffer{};
  {
    MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
    writer.add_username(std::string(508, 'u'));  // RFC 8489 §14.3: fewer than 509 bytes
    EXPECT_EQ(writer.error(), WriteError::kOk);
    writer.add_username(std::string(509, 'u'));
    EXPECT_EQ(writer.error(), WriteError::kValueTooLong);
  }
  {
    MessageWriter writer(buffer, MessageClass::kErrorResponse, Method::kBinding, kId);
    writer.add_error_code(400, std::string(127, 'r'));  // §14.8: fewer than 128 characters
    EXPECT_EQ(writer.error(), WriteError::kOk);
    std::string accented;
    for (int i = 0; i < 127; ++i) accented += "\xc3\xa9";  // 127 characters, 254 bytes
    writer.add_error_code(400, accented);
    EXPECT_EQ(writer.error(), WriteError::kOk);
    writer.add_error_code(400, std::string(128, 'r'));
    EXPECT_EQ(writer.error(), WriteError::kValueTooLong);
  }
  for (const std::uint16_t code : {0, 299, 700, 1000}) {
    MessageWriter writer(buffer, MessageClass::kErrorResponse, Method::kBinding, kId);
    writer.add_error_code(code, "x");
    EXPECT_EQ(writer.error(), WriteError::kInvalidValue) << code;
  }
}

TEST(Writer, MessageLengthFieldLimit) {
  std::vector<std::uint8_t> buffer(70000, 0);
  MessageWriter writer(buffer, MessageClass::kIndication, Method::kBinding, kId);
  writer.add_attribute(static_cast<AttributeType>(0x8FFF), Bytes(0xFFFF - 8, 0));
  ASSERT_EQ(writer.error(), WriteError::kOk);  // body 4 + 65528 = 65532 bytes
  writer.add_attribute(static_cast<AttributeType>(0x8FFF), {});
  EXPECT_EQ(writer.error(), WriteError::kValueTooLong);  // 65536 would not fit in 16 bits
}

TEST(Writer, KeepsTheLengthFieldCurrent) {
  std::array<std::uint8_t, 128> buffer{};
  MessageWriter writer(buffer, MessageClass::kRequest, Method::kBinding, kId);
  writer.add_username("abc");
  // Without finish() the buffer already holds a well-formed message.
  const MessageView m = parse_ok(std::span(buffer).first(writer.size()));
  EXPECT_EQ(m.username(), "abc");
}

TEST(BindingSuccess, AnswersTheRequest) {
  const Bytes request_bytes = connectivity_check();
  const MessageView request = parse_ok(request_bytes);
  const auto source = TransportAddress::ipv4({198, 51, 100, 20}, 50000);
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const WriteResult result = build_binding_success(request, source, short_term_key(kPassword), out);
  ASSERT_TRUE(result.ok()) << to_string(result.error);
  EXPECT_EQ(result.size, kHeaderSize + 12 + 24 + 8);
  const MessageView response = parse_ok(std::span(out).first(result.size));
  EXPECT_EQ(response.message_class(), MessageClass::kSuccessResponse);
  EXPECT_EQ(response.method(), Method::kBinding);
  EXPECT_TRUE(std::equal(kId.begin(), kId.end(), response.transaction_id().begin()));
  EXPECT_EQ(response.xor_mapped_address(), source);
  EXPECT_TRUE(check_integrity(response, short_term_key(kPassword)));
  EXPECT_TRUE(check_fingerprint(response));
  EXPECT_TRUE(looks_like_stun(std::span(out).first(result.size)));
}

TEST(BindingSuccess, CanAnswerInTheRequestsOwnBuffer) {
  Bytes buffer = connectivity_check();
  buffer.resize(kMaxUdpMessageSize);
  const MessageView request = parse_ok(std::span(buffer).first(connectivity_check().size()));
  const auto source =
      TransportAddress::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42}, 9);
  const WriteResult result =
      build_binding_success(request, source, short_term_key(kPassword), buffer);
  ASSERT_TRUE(result.ok());
  const MessageView response = parse_ok(std::span(buffer).first(result.size));
  EXPECT_TRUE(std::equal(kId.begin(), kId.end(), response.transaction_id().begin()));
  EXPECT_EQ(response.xor_mapped_address(), source);
  EXPECT_TRUE(check_integrity(response, short_term_key(kPassword)));
}

TEST(BindingSuccess, OnlyAnswersBindingRequests) {
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const auto source = TransportAddress::ipv4({192, 0, 2, 1}, 1);
  for (const auto c :
       {MessageClass::kIndication, MessageClass::kSuccessResponse, MessageClass::kErrorResponse}) {
    const Bytes bytes = header(c);
    EXPECT_EQ(build_binding_success(parse_ok(bytes), source, short_term_key(kPassword), out).error,
              WriteError::kInvalidValue);
    EXPECT_EQ(build_binding_error(parse_ok(bytes), 400, "", {}, out).error,
              WriteError::kInvalidValue);
  }
  std::array<std::uint8_t, kHeaderSize> allocate{};  // TURN Allocate (method 0x003)
  MessageWriter writer(allocate, MessageClass::kRequest, static_cast<Method>(0x003), kId);
  EXPECT_EQ(build_binding_success(parse_ok(allocate), source, short_term_key(kPassword), out).error,
            WriteError::kInvalidValue);
}

TEST(BindingSuccess, ReportsASmallBuffer) {
  const Bytes request_bytes = connectivity_check();  // outlives the view
  const MessageView request = parse_ok(request_bytes);
  std::array<std::uint8_t, 40> out{};
  const WriteResult result = build_binding_success(
      request, TransportAddress::ipv4({192, 0, 2, 1}, 1), short_term_key(kPassword), out);
  EXPECT_EQ(result.error, WriteError::kBufferTooSmall);
  EXPECT_EQ(result.size, 0u);
}

TEST(BindingError, UnauthorizedWithoutKeyHasNoIntegrity) {
  const Bytes request_bytes = connectivity_check();  // outlives the view
  const MessageView request = parse_ok(request_bytes);
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const WriteResult result = build_binding_error(request, error_code::kUnauthorized, "", {}, out);
  ASSERT_TRUE(result.ok());
  const MessageView response = parse_ok(std::span(out).first(result.size));
  EXPECT_EQ(response.message_class(), MessageClass::kErrorResponse);
  EXPECT_EQ(response.error_code()->code, 401);
  EXPECT_EQ(response.error_code()->reason, "Unauthorized");
  EXPECT_FALSE(response.message_integrity_offset());
  EXPECT_TRUE(check_fingerprint(response));
}

TEST(BindingError, RoleConflictWithIntegrity) {
  const Bytes request_bytes = connectivity_check();  // outlives the view
  const MessageView request = parse_ok(request_bytes);
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const WriteResult result =
      build_binding_error(request, error_code::kRoleConflict, "", short_term_key(kPassword), out);
  ASSERT_TRUE(result.ok());
  const MessageView response = parse_ok(std::span(out).first(result.size));
  EXPECT_EQ(response.error_code()->code, 487);
  EXPECT_EQ(response.error_code()->reason, "Role Conflict");
  EXPECT_TRUE(check_integrity(response, short_term_key(kPassword)));
  EXPECT_TRUE(check_fingerprint(response));
  const WriteResult custom =
      build_binding_error(request, 400, "missing PRIORITY", short_term_key(kPassword), out);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(parse_ok(std::span(out).first(custom.size)).error_code()->reason, "missing PRIORITY");
  EXPECT_EQ(build_binding_error(request, 200, "", {}, out).error, WriteError::kInvalidValue);
}

TEST(BindingError, UnknownAttributeListsThem) {
  Bytes request_bytes = header();
  append_raw(request_bytes, 0x0006, bytes_of("a:b"));
  append_raw(request_bytes, 0x0003, std::array<std::uint8_t, 4>{});
  append_raw(request_bytes, 0x002F, {});
  const MessageView request = parse_ok(request_bytes);
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const WriteResult result = build_binding_error(request, error_code::kUnknownAttribute, "",
                                                 short_term_key(kPassword), out);
  ASSERT_TRUE(result.ok());
  const MessageView response = parse_ok(std::span(out).first(result.size));
  EXPECT_EQ(response.error_code()->code, 420);
  const auto list = response.find(AttributeType::kUnknownAttributes);
  ASSERT_TRUE(list);
  EXPECT_EQ(Bytes(list->value.begin(), list->value.end()), (Bytes{0x00, 0x03, 0x00, 0x2F}));
  EXPECT_TRUE(check_integrity(response, short_term_key(kPassword)));
}

TEST(Names, AreDistinct) {
  std::vector<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(ParseError::kFingerprintNotLast); ++e) {
    names.push_back(to_string(static_cast<ParseError>(e)));
  }
  for (int e = 0; e <= static_cast<int>(WriteError::kCryptoFailure); ++e) {
    names.push_back(to_string(static_cast<WriteError>(e)));
  }
  std::sort(names.begin(), names.end());
  // "ok" appears once per enum; everything else once.
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end(),
                               [](auto a, auto b) { return a == b && a != "ok"; }),
            names.end());
  EXPECT_EQ(to_string(ParseError::kBadCookie), "bad_cookie");
  EXPECT_EQ(default_reason(420), "Unknown Attribute");
  EXPECT_EQ(default_reason(499), "");
}

}  // namespace
}  // namespace conclave::rtc::stun
