// Fuzzes the STUN codec (rtc/stun). Whatever the bytes:
// - looks_like_stun and parse agree (a datagram that looks like STUN fails, if at all, only
//   on its attributes; one that parses and starts with 0..3 looks like STUN);
// - a message that parses is rebuilt with MessageWriter from its attributes, re-parsed,
//   and must read the same (class, method, transaction id, attributes, every accessor),
//   byte for byte where padding and the ignored tail allow;
// - check_integrity and check_fingerprint run on the input without crashing, and pass on
//   the rebuilt message;
// - a Binding request gets a success and a 420 answer that parse and verify.
// Any disagreement aborts, which libFuzzer (and the CTest replay) report as a crash.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>

#include "rtc/stun.hpp"

namespace {

using namespace conclave::rtc::stun;

constexpr std::string_view kKey = "fuzz-ice-password-0123";

void require(bool condition) {
  if (!condition) std::abort();
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool padding_is_zero(const MessageView& m) {
  for (const Attribute a : m.attributes()) {
    const std::size_t end = a.offset + 4 + a.value.size();
    const std::size_t padded_end = a.offset + 4 + ((a.value.size() + 3) & ~std::size_t{3});
    for (std::size_t i = end; i < padded_end; ++i) {
      if (m.bytes()[i] != 0) return false;
    }
  }
  return true;
}

// Everything the accessors say, compared between the input and its rebuilt copy.
void require_same_reading(const MessageView& a, const MessageView& b) {
  require(a.message_type() == b.message_type());
  require(a.message_class() == b.message_class());
  require(a.method() == b.method());
  require(same_bytes(a.transaction_id(), b.transaction_id()));
  require(a.username() == b.username());
  require(a.realm() == b.realm());
  require(a.nonce() == b.nonce());
  require(a.software() == b.software());
  require(a.mapped_address() == b.mapped_address());
  require(a.xor_mapped_address() == b.xor_mapped_address());
  require(a.priority() == b.priority());
  require(a.use_candidate() == b.use_candidate());
  require(a.ice_controlling() == b.ice_controlling());
  require(a.ice_controlled() == b.ice_controlled());
  require(a.error_code().has_value() == b.error_code().has_value());
  if (a.error_code()) {
    require(a.error_code()->code == b.error_code()->code);
    require(a.error_code()->reason == b.error_code()->reason);
    require(a.error_code()->code >= 300 && a.error_code()->code <= 699);
  }
  require(a.message_integrity_offset().has_value() == b.message_integrity_offset().has_value());
  require(a.fingerprint_offset().has_value() == b.fingerprint_offset().has_value());
  const auto ua = a.unknown_comprehension_required();
  const auto ub = b.unknown_comprehension_required();
  require(std::equal(ua.begin(), ua.end(), ub.begin(), ub.end()));
  // The same attributes in the same order; MESSAGE-INTEGRITY and FINGERPRINT values differ
  // (new key, new bytes), everything else is equal.
  auto ia = a.attributes().begin();
  auto ib = b.attributes().begin();
  for (; ia != a.attributes().end() && ib != b.attributes().end(); ++ia, ++ib) {
    const Attribute x = *ia;
    const Attribute y = *ib;
    require(x.type == y.type);
    if (x.type != AttributeType::kMessageIntegrity && x.type != AttributeType::kFingerprint) {
      require(same_bytes(x.value, y.value));
    }
  }
  require(ia == a.attributes().end() && ib == b.attributes().end());
}

// The largest message the length field allows, plus room.
std::array<std::uint8_t, kHeaderSize + 0xFFFF + 64> g_out;

void check_answers(const MessageView& request) {
  if (request.message_class() != MessageClass::kRequest || request.method() != Method::kBinding) {
    return;
  }
  std::array<std::uint8_t, kMaxUdpMessageSize> out{};
  const auto source = TransportAddress::ipv4({192, 0, 2, 1}, 3478);
  const WriteResult success = build_binding_success(request, source, short_term_key(kKey), out);
  require(success.ok());
  const auto response = MessageView::parse(std::span(out).first(success.size));
  require(response.has_value());
  require(same_bytes(response->transaction_id(), request.transaction_id()));
  require(response->xor_mapped_address() == source);
  require(check_integrity(*response, short_term_key(kKey)));
  require(check_fingerprint(*response));

  const WriteResult error =
      build_binding_error(request, error_code::kUnknownAttribute, "", short_term_key(kKey), out);
  require(error.ok());
  const auto answer = MessageView::parse(std::span(out).first(error.size));
  require(answer.has_value());
  require(answer->error_code() && answer->error_code()->code == 420);
  const auto list = answer->find(AttributeType::kUnknownAttributes);
  require(list.has_value());
  const auto unknown = request.unknown_comprehension_required();
  require(list->value.size() == 2 * unknown.size());
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    const auto type =
        static_cast<std::uint16_t>((list->value[2 * i] << 8) | list->value[2 * i + 1]);
    require(type == static_cast<std::uint16_t>(unknown[i]));
  }
  require(check_integrity(*answer, short_term_key(kKey)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const bool stunish = looks_like_stun(input);
  MessageView m;
  const ParseError error = MessageView::parse(input, m);
  if (stunish) {
    require(error == ParseError::kOk || error == ParseError::kBadAttributeLength ||
            error == ParseError::kBadAttributeValue || error == ParseError::kFingerprintNotLast);
  }
  if (error != ParseError::kOk) return 0;
  if (input[0] <= 3) require(stunish);

  // Neither may crash, whatever the message; with an arbitrary key a pass is possible only
  // if the input was made with it.
  (void)check_integrity(m, short_term_key(kKey));
  (void)check_integrity(m, {});
  const bool fingerprint_ok = check_fingerprint(m);
  require(!fingerprint_ok || m.fingerprint_offset().has_value());

  // Rebuild from the attributes that count.
  MessageWriter writer(g_out, m.message_class(), m.method(), m.transaction_id());
  for (const Attribute a : m.attributes()) {
    if (a.type == AttributeType::kMessageIntegrity || a.type == AttributeType::kFingerprint) {
      continue;
    }
    writer.add_attribute(a.type, a.value);
  }
  const bool with_integrity = m.message_integrity_offset().has_value();
  const bool with_fingerprint = m.fingerprint_offset().has_value();
  const WriteResult rebuilt = with_integrity ? writer.finish(short_term_key(kKey), with_fingerprint)
                                             : writer.finish_without_integrity(with_fingerprint);
  // The rebuilt message is never longer than the input (it drops the ignored tail).
  require(rebuilt.ok());
  require(rebuilt.size <= size);
  const std::span<const std::uint8_t> out(g_out.data(), rebuilt.size);
  MessageView again;
  require(MessageView::parse(out, again) == ParseError::kOk);
  require(looks_like_stun(out) == (out[0] <= 3));
  require_same_reading(m, again);
  if (with_integrity) require(check_integrity(again, short_term_key(kKey)));
  if (with_fingerprint) require(check_fingerprint(again));

  // Byte for byte: everything before MESSAGE-INTEGRITY (or FINGERPRINT) except the length
  // field, which drops the ignored tail; all of it when there is neither hash.
  if (padding_is_zero(m)) {
    const std::size_t prefix =
        m.message_integrity_offset().value_or(m.fingerprint_offset().value_or(size));
    require(same_bytes(input.first(2), out.first(2)));
    require(same_bytes(input.subspan(4, prefix - 4), out.subspan(4, prefix - 4)));
    if (!with_integrity && !with_fingerprint) require(same_bytes(input, out));
    if (!with_integrity && fingerprint_ok) require(same_bytes(input, out));
  }

  check_answers(m);
  return 0;
}
