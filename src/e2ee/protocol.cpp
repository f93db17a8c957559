#include "e2ee/protocol.hpp"

#include <openssl/rand.h>

#include <array>

namespace conclave::e2ee {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int digit_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Bytes nonce_or_random(std::span<const std::uint8_t> nonce) {
  if (!nonce.empty()) return Bytes(nonce.begin(), nonce.end());
  Bytes n(12);
  RAND_bytes(n.data(), static_cast<int>(n.size()));
  return n;
}

bool tagged(const nlohmann::json& m, std::string_view kind) {
  return kind_of(m) == kind;
}

std::optional<Bytes> field(const nlohmann::json& m, const char* name, std::size_t size = 0) {
  const auto it = m.find(name);
  if (it == m.end() || !it->is_string()) return std::nullopt;
  auto b = from_b64url(it->get_ref<const std::string&>());
  if (!b || (size && b->size() != size)) return std::nullopt;
  return b;
}

}  // namespace

std::string b64url(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (const auto rest = bytes.size() - i; rest > 0) {
    const std::uint32_t v = bytes[i] << 16 | (rest == 2 ? bytes[i + 1] << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<Bytes> from_b64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int d = digit_of(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  // The leftover bits must be zero: one text per byte string.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string kind_of(const nlohmann::json& m) {
  if (!m.is_object()) return {};
  const auto t = m.find("t");
  const auto k = m.find("kind");
  if (t == m.end() || k == m.end() || !t->is_string() || !k->is_string() ||
      t->get_ref<const std::string&>() != kProtocolTag)
    return {};
  return k->get<std::string>();
}

nlohmann::json hello_message(std::string_view meeting, std::string_view participant,
                             const KeyPair& identity, std::span<const std::uint8_t> session_public,
                             std::uint32_t key_id) {
  const auto sig = ed25519_sign(identity.private_key,
                                hello_transcript(meeting, participant, session_public, key_id));
  return {{"t", kProtocolTag},
          {"kind", "hello"},
          {"identity", b64url(identity.public_key)},
          {"session", b64url(session_public)},
          {"key_id", key_id},
          {"sig", b64url(sig.value_or(Bytes{}))}};
}

std::optional<Hello> open_hello(const nlohmann::json& m, std::string_view meeting,
                                std::string_view from) {
  if (!tagged(m, "hello")) return std::nullopt;
  auto identity = field(m, "identity", 32);
  auto session = field(m, "session", 32);
  const auto sig = field(m, "sig", 64);
  const auto kid = m.find("key_id");
  if (!identity || !session || !sig || kid == m.end() || !kid->is_number_unsigned() ||
      kid->get<std::uint64_t>() > 0xffffffffu)
    return std::nullopt;
  const auto key_id = kid->get<std::uint32_t>();
  if (!ed25519_verify(*identity, hello_transcript(meeting, from, *session, key_id), *sig))
    return std::nullopt;
  return Hello{std::move(*identity), std::move(*session), key_id};
}

Bytes key_plaintext(const KeyUpdate& k) {
  Bytes out;
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(k.key_id >> (8 * i)));
  out.push_back(static_cast<std::uint8_t>(k.epoch >> 8));
  out.push_back(static_cast<std::uint8_t>(k.epoch));
  out.insert(out.end(), k.base.begin(), k.base.end());
  return out;
}

std::optional<KeyUpdate> parse_key_plaintext(std::span<const std::uint8_t> p) {
  if (p.size() != 4 + 2 + 16) return std::nullopt;
  KeyUpdate k;
  k.key_id =
      std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
  k.epoch = static_cast<std::uint16_t>(p[4] << 8 | p[5]);
  k.base.assign(p.begin() + 6, p.end());
  return k;
}

nlohmann::json seal_entry(std::span<const std::uint8_t> pairwise, std::string_view from,
                          std::string_view to, std::string_view meeting,
                          std::span<const std::uint8_t> plaintext,
                          std::span<const std::uint8_t> nonce) {
  const Bytes n = nonce_or_random(nonce);
  const auto c = seal(pairwise, n, sealed_aad(from, to, meeting), plaintext);
  return {{"n", b64url(n)}, {"c", b64url(c.value_or(Bytes{}))}};
}

std::optional<Bytes> open_entry(const nlohmann::json& entry, std::span<const std::uint8_t> pairwise,
                                std::string_view from, std::string_view to,
                                std::string_view meeting) {
  if (!entry.is_object()) return std::nullopt;
  const auto n = field(entry, "n", 12);
  const auto c = field(entry, "c");
  if (!n || !c) return std::nullopt;
  return open(pairwise, *n, sealed_aad(from, to, meeting), *c);
}

nlohmann::json key_message(nlohmann::json entry) {
  entry["t"] = kProtocolTag;
  entry["kind"] = "key";
  return entry;
}

nlohmann::json dm_message(nlohmann::json entry) {
  entry["t"] = kProtocolTag;
  entry["kind"] = "dm";
  return entry;
}

nlohmann::json msg_message(std::span<const std::uint8_t> base_key, std::string_view from,
                           std::string_view meeting, std::uint32_t key_id, std::uint16_t epoch,
                           std::span<const std::uint8_t> plaintext,
                           std::span<const std::uint8_t> nonce) {
  const Bytes n = nonce_or_random(nonce);
  const auto c =
      seal(message_key(base_key), n, message_aad(from, meeting, key_id, epoch), plaintext);
  return {{"t", kProtocolTag},
          {"kind", "msg"},
          {"kid", kid_of(key_id, epoch)},
          {"n", b64url(n)},
          {"c", b64url(c.value_or(Bytes{}))}};
}

std::optional<std::uint64_t> msg_kid(const nlohmann::json& m) {
  if (!tagged(m, "msg")) return std::nullopt;
  const auto kid = m.find("kid");
  // A KID is 48 bits: it must stay exact as a JavaScript number.
  if (kid == m.end() || !kid->is_number_unsigned() || kid->get<std::uint64_t>() >> 48)
    return std::nullopt;
  return kid->get<std::uint64_t>();
}

std::optional<Bytes> open_msg(const nlohmann::json& m, std::span<const std::uint8_t> base_key,
                              std::string_view from, std::string_view meeting) {
  const auto kid = msg_kid(m);
  const auto n = field(m, "n", 12);
  const auto c = field(m, "c");
  if (!kid || !n || !c) return std::nullopt;
  const auto key_id = static_cast<std::uint32_t>(*kid >> 16);
  const auto epoch = static_cast<std::uint16_t>(*kid & 0xffff);
  return open(message_key(base_key), *n, message_aad(from, meeting, key_id, epoch), *c);
}

}  // namespace conclave::e2ee
