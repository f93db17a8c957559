// e2ee/protocol: the relay messages. The shared vector file must be exactly what the
// library computes (the TypeScript suite recomputes the same file from its inputs), and
// every malformed, moved or tampered message is refused.
#include "e2ee/protocol.hpp"

#include <gtest/gtest.h>

#include "e2ee_v1_vectors.hpp"
#include "vector_files.hpp"

namespace conclave::e2ee {
namespace {

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(ProtocolVectors, TheSharedFileIsWhatTheLibraryComputes) {
  const auto file = test::vector_file("e2ee-v1.json");
  const auto mine = test::make_e2ee_v1_vectors();
  for (const auto& [section, value] : mine.items()) {
    EXPECT_EQ(file.at(section), value) << "section " << section;
  }
  EXPECT_EQ(file.size(), mine.size());
}

TEST(ProtocolVectors, EveryMessageOpens) {
  const auto v = test::vector_file("e2ee-v1.json");
  const std::string meeting = v["meeting"];
  const auto hello =
      open_hello(v["hello"]["message"], meeting, v["hello"]["from"].get<std::string>());
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->identity, test::hex(v["parties"][0]["identity_public"]));
  const auto ab = test::hex(v["pairwise"]["a_b"]);
  const std::string a = v["parties"][0]["id"], b = v["parties"][1]["id"];
  const auto key = open_entry(v["key"]["message"], ab, a, b, meeting);
  ASSERT_TRUE(key);
  const auto update = parse_key_plaintext(*key);
  ASSERT_TRUE(update);
  EXPECT_EQ(update->epoch, 1);
  EXPECT_EQ(update->base, test::hex(v["ratchet"][1]["base"]));
  const auto chat = open_msg(v["msg"]["message"], test::hex(v["msg"]["base"]), a, meeting);
  ASSERT_TRUE(chat);
  EXPECT_EQ(std::string(chat->begin(), chat->end()), v["msg"]["plaintext"]);
}

TEST(Protocol, HelloIsRefusedFromAnotherSenderMeetingOrWhenTampered) {
  const auto id = new_ed25519();
  const auto session = new_x25519();
  const auto m = hello_message("m", "p-a", id, session.public_key, 42);
  ASSERT_TRUE(open_hello(m, "m", "p-a"));
  EXPECT_FALSE(open_hello(m, "m", "p-b"));  // the server moved it to another participant
  EXPECT_FALSE(open_hello(m, "n", "p-a"));  // or to another meeting
  auto other_key = m;
  other_key["key_id"] = 43;
  EXPECT_FALSE(open_hello(other_key, "m", "p-a"));
  auto other_session = m;
  other_session["session"] = b64url(new_x25519().public_key);
  EXPECT_FALSE(open_hello(other_session, "m", "p-a"));
  for (const char* f : {"identity", "session", "sig", "key_id", "t"}) {
    auto missing = m;
    missing.erase(f);
    EXPECT_FALSE(open_hello(missing, "m", "p-a")) << f;
  }
  auto negative = m;
  negative["key_id"] = -1;
  EXPECT_FALSE(open_hello(negative, "m", "p-a"));
  EXPECT_FALSE(open_hello(nlohmann::json::array(), "m", "p-a"));
  EXPECT_FALSE(open_hello("hello", "m", "p-a"));
}

TEST(Protocol, SealedEntriesOpenOnlyForTheirPairAndMeeting) {
  const Bytes key(32, 9);
  const auto e = seal_entry(key, "p-a", "p-b", "m", text("sender key"));
  EXPECT_EQ(*open_entry(e, key, "p-a", "p-b", "m"), text("sender key"));
  EXPECT_FALSE(open_entry(e, key, "p-a", "p-c", "m"));
  EXPECT_FALSE(open_entry(e, key, "p-c", "p-b", "m"));
  EXPECT_FALSE(open_entry(e, key, "p-a", "p-b", "n"));
  auto short_nonce = e;
  short_nonce["n"] = "AAAA";
  EXPECT_FALSE(open_entry(short_nonce, key, "p-a", "p-b", "m"));
  EXPECT_FALSE(open_entry(nlohmann::json{{"n", e["n"]}}, key, "p-a", "p-b", "m"));
  // Two seals of the same key never share a nonce.
  EXPECT_NE(e["n"], seal_entry(key, "p-a", "p-b", "m", text("sender key"))["n"]);
}

TEST(Protocol, MessagesAreBoundToSenderMeetingAndKid) {
  const Bytes base(16, 5);
  const auto m = msg_message(base, "p-a", "m", 7, 3, text("a chat line"));
  EXPECT_EQ(*msg_kid(m), kid_of(7, 3));
  EXPECT_EQ(*open_msg(m, base, "p-a", "m"), text("a chat line"));
  EXPECT_FALSE(open_msg(m, base, "p-b", "m"));
  EXPECT_FALSE(open_msg(m, base, "p-a", "n"));
  EXPECT_FALSE(open_msg(m, ratchet(base), "p-a", "m"));
  auto relabelled = m;
  relabelled["kid"] = kid_of(7, 4);  // the server cannot move it to another epoch
  EXPECT_FALSE(open_msg(relabelled, base, "p-a", "m"));
  auto huge = m;
  huge["kid"] = std::uint64_t{1} << 48;
  EXPECT_FALSE(msg_kid(huge));
  EXPECT_EQ(kind_of(m), "msg");
  EXPECT_EQ(kind_of(nlohmann::json{{"t", "conclave/1"}, {"kind", "msg"}}), "");
}

TEST(Protocol, KeyPlaintextHasOneExactShape) {
  const KeyUpdate k{0xfeedf00d, 0x1234, Bytes(16, 0xab)};
  const auto p = key_plaintext(k);
  EXPECT_EQ(p.size(), 22u);
  const auto back = parse_key_plaintext(p);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->key_id, k.key_id);
  EXPECT_EQ(back->epoch, k.epoch);
  EXPECT_EQ(back->base, k.base);
  EXPECT_FALSE(parse_key_plaintext(std::span(p).first(21)));
  Bytes longer = p;
  longer.push_back(0);
  EXPECT_FALSE(parse_key_plaintext(longer));
}

TEST(Protocol, Base64UrlRoundTripsAndRefusesOtherForms) {
  for (std::size_t n = 0; n < 40; ++n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 37 + n);
    EXPECT_EQ(*from_b64url(b64url(b)), b) << n;
  }
  EXPECT_EQ(b64url(text("\xfb\xff")), "-_8");
  EXPECT_FALSE(from_b64url("-_8="));  // padding
  EXPECT_FALSE(from_b64url("+/8"));   // the other alphabet
  EXPECT_FALSE(from_b64url("A"));     // cannot be a whole byte
  EXPECT_FALSE(from_b64url("-_9"));   // non-zero leftover bits
}

}  // namespace
}  // namespace conclave::e2ee
