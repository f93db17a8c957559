// The vectors of our own E2EE protocol (tests/vectors/e2ee-v1.json), computed by the C++
// library from fixed inputs. The generator (e2ee_vectors_gen) writes the file once; the
// GoogleTest suite recomputes it and must get the very same JSON; the Vitest suite
// (web/src/e2ee/protocol.test.ts) recomputes every output from the file's inputs with
// WebCrypto. So both languages are held to one set of bytes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "e2ee/keys.hpp"
#include "e2ee/media_keys.hpp"
#include "e2ee/protocol.hpp"

namespace conclave::test {

inline std::string hex_of(std::span<const std::uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

inline nlohmann::json make_e2ee_v1_vectors() {
  using namespace conclave::e2ee;
  auto text = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
  // Inputs: fixed bytes from HKDF over a label (any fixed bytes would do).
  auto seed = [&](std::string_view label, std::size_t n) {
    return hkdf_sha256({}, text("conclave test vectors"), text(label), n);
  };
  const std::string meeting = "kfx7-mq2d-9tbe-4hna";
  struct Who {
    std::string id;
    KeyPair identity, session;
    std::uint32_t key_id;
  };
  auto who = [&](std::string id, std::string_view tag, std::uint32_t key_id) {
    return Who{std::move(id), *ed25519_from_private(seed(std::string("identity ") += tag, 32)),
               *x25519_from_private(seed(std::string("session ") += tag, 32)), key_id};
  };
  const Who a = who("p-k3x9m2q7d4b8n6t1", "a", 0x1a2b3c4d);
  const Who b = who("p-w5r8c2v6h9j3f7y4", "b", 0x0badcafe);
  const Who c = who("p-q1z4x7c0v3b6n9m2", "c", 7);
  auto party = [](const Who& w) {
    return nlohmann::json{{"id", w.id},
                          {"identity_private", hex_of(w.identity.private_key)},
                          {"identity_public", hex_of(w.identity.public_key)},
                          {"session_private", hex_of(w.session.private_key)},
                          {"session_public", hex_of(w.session.public_key)},
                          {"key_id", w.key_id}};
  };

  nlohmann::json v;
  v["description"] =
      "Conclave E2EE protocol v1 (docs/e2ee.md): every output here is recomputed from the "
      "inputs by tests/unit/e2ee_protocol_test.cpp and web/src/e2ee/protocol.test.ts.";
  v["meeting"] = meeting;
  v["parties"] = {party(a), party(b), party(c)};

  // hello: Ed25519 is deterministic, so the whole message is fixed.
  v["hello"] = {
      {"from", a.id},
      {"transcript", hex_of(hello_transcript(meeting, a.id, a.session.public_key, a.key_id))},
      {"message", hello_message(meeting, a.id, a.identity, a.session.public_key, a.key_id)}};

  const Bytes ab =
      *pairwise_key(meeting, a.session.private_key, a.session.public_key, a.identity.public_key,
                    b.session.public_key, b.identity.public_key);
  const Bytes ac =
      *pairwise_key(meeting, a.session.private_key, a.session.public_key, a.identity.public_key,
                    c.session.public_key, c.identity.public_key);
  v["pairwise"] = {{"a_b", hex_of(ab)},
                   {"a_c", hex_of(ac)},
                   {"shared_a_b", hex_of(*x25519(a.session.private_key, b.session.public_key))}};

  // Sender keys: the ratchet chain and the message key of each epoch.
  const Bytes base0 = seed("sender key a", 16);
  nlohmann::json chain = nlohmann::json::array();
  Bytes base = base0;
  for (int e = 0; e < 3; ++e) {
    chain.push_back(
        {{"epoch", e}, {"base", hex_of(base)}, {"message_key", hex_of(message_key(base))}});
    base = ratchet(base);
  }
  v["ratchet"] = chain;

  // key: a gives b its ratcheted key (epoch 1), sealed on their pairwise channel.
  const KeyUpdate k1{a.key_id, 1, ratchet(base0)};
  const Bytes n1 = seed("nonce key", 12);
  v["key"] = {{"from", a.id},
              {"to", b.id},
              {"nonce", hex_of(n1)},
              {"aad", hex_of(sealed_aad(a.id, b.id, meeting))},
              {"plaintext", hex_of(key_plaintext(k1))},
              {"message", key_message(seal_entry(ab, a.id, b.id, meeting, key_plaintext(k1), n1))}};

  // After a leave: a's fresh key (epoch 2), one `key` for b and one for c (sent together
  // in one fan-out relay, {"each": {b: …, c: …}}).
  const KeyUpdate k2{a.key_id, 2, seed("fresh key a", 16)};
  const Bytes n2b = seed("nonce rekey b", 12), n2c = seed("nonce rekey c", 12);
  v["rekey"] = {
      {"from", a.id},
      {"plaintext", hex_of(key_plaintext(k2))},
      {"nonces", {{b.id, hex_of(n2b)}, {c.id, hex_of(n2c)}}},
      {"each",
       {{b.id, key_message(seal_entry(ab, a.id, b.id, meeting, key_plaintext(k2), n2b))},
        {c.id, key_message(seal_entry(ac, a.id, c.id, meeting, key_plaintext(k2), n2c))}}}};

  // msg: a chat line for everyone, under a's message key of epoch 1.
  const std::string chat =
      R"({"t":"conclave/1","kind":"chat","id":"m1","text":"Hello, Ada \u2014 caf\u00e9"})";
  const Bytes n3 = seed("nonce msg", 12);
  v["msg"] = {{"from", a.id},
              {"key_id", a.key_id},
              {"epoch", 1},
              {"base", hex_of(k1.base)},
              {"nonce", hex_of(n3)},
              {"aad", hex_of(message_aad(a.id, meeting, a.key_id, 1))},
              {"plaintext", chat},
              {"message", msg_message(k1.base, a.id, meeting, a.key_id, 1, text(chat), n3)}};

  // dm: content for b alone, on the pairwise channel.
  const std::string dm = R"({"t":"conclave/1","kind":"chat","id":"m2","text":"just you","to":"b"})";
  const Bytes n4 = seed("nonce dm", 12);
  v["dm"] = {{"from", a.id},
             {"to", b.id},
             {"nonce", hex_of(n4)},
             {"plaintext", dm},
             {"message", dm_message(seal_entry(ab, a.id, b.id, meeting, text(dm), n4))}};

  // Media frames from a at epoch 1: a VP8 key frame (10-byte clear prefix), a delta frame
  // (3), an Opus frame (none), counters 0, 1, 2.
  Bytes key_frame = {0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};
  for (int i = 0; i < 40; ++i) key_frame.push_back(static_cast<std::uint8_t>(i * 7));
  Bytes delta_frame = {0x31, 0x05, 0x00};
  for (int i = 0; i < 20; ++i) delta_frame.push_back(static_cast<std::uint8_t>(200 - i));
  const Bytes opus = {0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x8d};
  SenderKey s1(a.key_id, base0);
  s1.ratchet();  // epoch 1, the key b was given
  nlohmann::json frames = nlohmann::json::array();
  struct F {
    const char* what;
    const Bytes* frame;
    std::size_t prefix;
  };
  for (const F f :
       {F{"vp8 key frame", &key_frame, vp8_clear_prefix(key_frame)},
        F{"vp8 delta frame", &delta_frame, vp8_clear_prefix(delta_frame)}, F{"opus", &opus, 0}}) {
    Bytes out;
    s1.protect(*f.frame, f.prefix, out);
    frames.push_back({{"what", f.what},
                      {"frame", hex_of(*f.frame)},
                      {"prefix_len", f.prefix},
                      {"metadata", hex_of(prefix_metadata(std::span(*f.frame).first(f.prefix)))},
                      {"protected", hex_of(out)}});
  }
  v["frames"] = {{"key_id", a.key_id},
                 {"epoch", 1},
                 {"base", hex_of(k1.base)},
                 {"kid", kid_of(a.key_id, 1)},
                 {"list", frames}};

  v["security_code"] = {
      {"identities",
       {hex_of(a.identity.public_key), hex_of(b.identity.public_key),
        hex_of(c.identity.public_key)}},
      {"code", security_code(meeting, {a.identity.public_key, b.identity.public_key,
                                       c.identity.public_key})}};
  return v;
}

}  // namespace conclave::test
