// e2ee/keys: the primitives against their RFCs (tests/vectors/rfc-primitives.json), then
// the key schedule's properties (docs/e2ee.md).
#include "e2ee/keys.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vector_files.hpp"

namespace conclave::e2ee {
namespace {

nlohmann::json vectors() {
  return test::vector_file("rfc-primitives.json");
}

using test::hex;

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(PrimitiveVectors, Hkdf) {
  for (const auto& t : vectors()["hkdf_sha256"]) {
    EXPECT_EQ(hkdf_sha256(hex(t["salt"]), hex(t["ikm"]), hex(t["info"]), t["length"]),
              hex(t["okm"]));
  }
}

TEST(PrimitiveVectors, X25519) {
  for (const auto& t : vectors()["x25519"]) {
    EXPECT_EQ(x25519_from_private(hex(t["alice_private"]))->public_key, hex(t["alice_public"]));
    EXPECT_EQ(x25519_from_private(hex(t["bob_private"]))->public_key, hex(t["bob_public"]));
    EXPECT_EQ(*x25519(hex(t["alice_private"]), hex(t["bob_public"])), hex(t["shared"]));
    EXPECT_EQ(*x25519(hex(t["bob_private"]), hex(t["alice_public"])), hex(t["shared"]));
  }
  // A low-order public key (all zeros) gives no key.
  EXPECT_FALSE(x25519(new_x25519().private_key, Bytes(32, 0)).has_value());
}

TEST(PrimitiveVectors, Ed25519) {
  for (const auto& t : vectors()["ed25519"]) {
    EXPECT_EQ(ed25519_from_private(hex(t["private"]))->public_key, hex(t["public"]));
    EXPECT_EQ(*ed25519_sign(hex(t["private"]), hex(t["message"])), hex(t["signature"]));
    EXPECT_TRUE(ed25519_verify(hex(t["public"]), hex(t["message"]), hex(t["signature"])));
    auto bad = hex(t["signature"]);
    bad[10] ^= 1;
    EXPECT_FALSE(ed25519_verify(hex(t["public"]), hex(t["message"]), bad));
  }
}

TEST(KeySchedule, HelloSignaturesBindMeetingParticipantAndSession) {
  const auto id = new_ed25519();
  const auto session = new_x25519();
  const auto t = hello_transcript("kfx7-mq2d-9tbe-4hna", "p-a", session.public_key, 7);
  const auto sig = *ed25519_sign(id.private_key, t);
  EXPECT_TRUE(ed25519_verify(id.public_key, t, sig));
  EXPECT_FALSE(
      ed25519_verify(id.public_key, hello_transcript("other", "p-a", session.public_key, 7), sig));
  EXPECT_FALSE(ed25519_verify(
      id.public_key, hello_transcript("kfx7-mq2d-9tbe-4hna", "p-b", session.public_key, 7), sig));
  EXPECT_FALSE(ed25519_verify(
      id.public_key, hello_transcript("kfx7-mq2d-9tbe-4hna", "p-a", new_x25519().public_key, 7),
      sig));
}

TEST(KeySchedule, PairwiseKeysAgreeAndAreBoundToTheirMeeting) {
  const auto ida = new_ed25519(), idb = new_ed25519();
  const auto sa = new_x25519(), sb = new_x25519();
  const auto ab = *pairwise_key("m", sa.private_key, sa.public_key, ida.public_key, sb.public_key,
                                idb.public_key);
  const auto ba = *pairwise_key("m", sb.private_key, sb.public_key, idb.public_key, sa.public_key,
                                ida.public_key);
  EXPECT_EQ(ab, ba);
  EXPECT_NE(ab, *pairwise_key("n", sa.private_key, sa.public_key, ida.public_key, sb.public_key,
                              idb.public_key));
  // Someone else's identity claimed for the same session: another key.
  EXPECT_NE(ab, *pairwise_key("m", sa.private_key, sa.public_key, ida.public_key, sb.public_key,
                              new_ed25519().public_key));

  const Bytes nonce(12, 1);
  const auto aad = sealed_aad("p-a", "p-b", "m");
  const auto sealed = *seal(ab, nonce, aad, text("a sender key"));
  EXPECT_EQ(*open(ba, nonce, aad, sealed), text("a sender key"));
  EXPECT_FALSE(
      open(ba, nonce, sealed_aad("p-a", "p-c", "m"), sealed));  // moved to another recipient
  auto flipped = sealed;
  flipped[0] ^= 1;
  EXPECT_FALSE(open(ba, nonce, aad, flipped));
}

TEST(KeySchedule, RatchetIsOneWayAndKidsNameSenderAndEpoch) {
  const Bytes base(16, 3);
  const auto next = ratchet(base);
  EXPECT_EQ(next.size(), 16u);
  EXPECT_NE(next, base);
  EXPECT_EQ(ratchet(base), next);  // everyone who holds `base` ratchets alike
  EXPECT_NE(message_key(base), message_key(next));
  EXPECT_EQ(kid_of(0xdeadbeef, 3), 0xdeadbeef0003u);
  EXPECT_NE(message_aad("p-a", "m", 1, 2), message_aad("p-a", "m", 1, 3));
}

TEST(KeySchedule, SecurityCodeIsTheSameForEveryoneAndChangesWithTheRoster) {
  const auto a = new_ed25519().public_key, b = new_ed25519().public_key,
             c = new_ed25519().public_key;
  const auto code = security_code("m", {a, b, c});
  EXPECT_EQ(code, security_code("m", {c, a, b}));
  EXPECT_EQ(code.size(), 6u * 5 + 5);
  EXPECT_NE(code, security_code("m", {a, b}));
  EXPECT_NE(code, security_code("n", {a, b, c}));
}

}  // namespace
}  // namespace conclave::e2ee
