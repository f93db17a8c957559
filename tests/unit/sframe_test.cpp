// e2ee/sframe against RFC 9605 Appendix C (tests/vectors/sframe-rfc9605.json): every
// header, both CTR+HMAC AEAD sets, and full SFrame encryption for all five suites; then
// what a receiver must refuse.
#include "e2ee/sframe.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vector_files.hpp"

namespace conclave::e2ee {
namespace {

using Bytes = std::vector<std::uint8_t>;

nlohmann::json vectors() {
  return test::vector_file("sframe-rfc9605.json");
}

using test::hex;

TEST(SframeVectors, Headers) {
  const auto v = vectors()["header"];
  ASSERT_GT(v.size(), 100u);
  for (const auto& t : v) {
    const Header h{t["kid"].get<std::uint64_t>(), t["ctr"].get<std::uint64_t>()};
    Bytes out;
    encode_header(h, out);
    EXPECT_EQ(out, hex(t["encoded"])) << t.dump();
    const auto back = decode_header(out);
    ASSERT_TRUE(back) << t.dump();
    EXPECT_EQ(back->first.kid, h.kid);
    EXPECT_EQ(back->first.ctr, h.ctr);
    EXPECT_EQ(back->second, out.size());
    // Cut short anywhere: refused, never read past the end.
    for (std::size_t n = 0; n < out.size(); ++n)
      EXPECT_FALSE(decode_header(std::span(out).first(n))) << t.dump() << " cut at " << n;
  }
}

TEST(SframeVectors, CtrHmacAeads) {
  const auto all = vectors();
  for (const char* set : {"aes_ctr_hmac", "aes_256_ctr_hmac"}) {
    for (const auto& t : all[set]) {
      const auto suite = static_cast<CipherSuite>(t["cipher_suite"].get<int>());
      if (!params(suite)) continue;  // suite 6+ (AES-256-CTR) is not registered for use here
      Bytes out;
      ASSERT_TRUE(
          aead_encrypt(suite, hex(t["key"]), hex(t["nonce"]), hex(t["aad"]), hex(t["pt"]), out));
      EXPECT_EQ(out, hex(t["ct"])) << t.dump();
      Bytes pt;
      ASSERT_TRUE(aead_decrypt(suite, hex(t["key"]), hex(t["nonce"]), hex(t["aad"]), out, pt));
      EXPECT_EQ(pt, hex(t["pt"]));
    }
  }
}

TEST(SframeVectors, AllFiveSuites) {
  const auto v = vectors()["sframe"];
  ASSERT_EQ(v.size(), 5u);
  for (const auto& t : v) {
    const auto suite = static_cast<CipherSuite>(t["cipher_suite"].get<int>());
    const auto kid = t["kid"].get<std::uint64_t>();
    const auto ctr = t["ctr"].get<std::uint64_t>();
    const auto km = derive(suite, kid, hex(t["base_key"]));
    ASSERT_TRUE(km);
    EXPECT_EQ(km->key, hex(t["sframe_key"])) << t["cipher_suite"];
    EXPECT_EQ(km->salt, hex(t["sframe_salt"])) << t["cipher_suite"];
    EXPECT_EQ(nonce_for(*km, ctr), hex(t["nonce"]));
    Bytes frame;
    ASSERT_TRUE(protect(*km, ctr, hex(t["metadata"]), hex(t["pt"]), frame));
    EXPECT_EQ(frame, hex(t["ct"])) << t["cipher_suite"];
    Bytes pt;
    Header h;
    const auto err = unprotect([&](std::uint64_t k) { return k == kid ? &*km : nullptr; },
                               hex(t["metadata"]), frame, pt, &h);
    EXPECT_FALSE(err.has_value());
    EXPECT_EQ(pt, hex(t["pt"]));
    EXPECT_EQ(h.ctr, ctr);
  }
}

TEST(Sframe, ReceiversRefuseWhatTheyMust) {
  const Bytes base(16, 7);
  const auto km = *derive(CipherSuite::kAes128GcmSha256_128, 5, base);
  const Bytes metadata{0x90, 0x01};  // e.g. a clear prefix and its length
  const Bytes payload(100, 0x42);
  Bytes frame;
  ASSERT_TRUE(protect(km, 99, metadata, payload, frame));
  auto key_for = [&](std::uint64_t k) { return k == 5 ? &km : nullptr; };
  Bytes out;
  EXPECT_FALSE(unprotect(key_for, metadata, frame, out).has_value());

  for (std::size_t i = 0; i < frame.size(); ++i) {
    Bytes bad = frame;
    bad[i] ^= 1;
    out.clear();
    EXPECT_TRUE(unprotect(key_for, metadata, bad, out).has_value()) << "byte " << i;
  }
  Bytes other_meta = metadata;
  other_meta[1] = 0x02;  // a different clear prefix (or length) is refused
  EXPECT_EQ(unprotect(key_for, other_meta, frame, out), UnprotectError::kAuthentication);
  const auto other = *derive(CipherSuite::kAes128GcmSha256_128, 6, Bytes(16, 8));
  Bytes foreign;
  ASSERT_TRUE(protect(other, 1, metadata, payload, foreign));
  EXPECT_EQ(unprotect(key_for, metadata, foreign, out), UnprotectError::kUnknownKey);
  EXPECT_EQ(unprotect(key_for, metadata, Bytes{}, out), UnprotectError::kShortFrame);
  EXPECT_EQ(unprotect(key_for, metadata, Bytes{0x50}, out), UnprotectError::kAuthentication);
}

}  // namespace
}  // namespace conclave::e2ee
