#include "rtc/ice_lite.hpp"

#include <gtest/gtest.h>

#include <array>

namespace conclave::rtc {
namespace {

using namespace std::chrono_literals;

const IceLiteAgent::Credentials kCreds{"srvU", "server-password-0123456789", "brws"};

// A Binding request as Chromium sends it to an ICE-lite server (RFC 8445 §7.2.2).
std::vector<std::uint8_t> request(std::string_view username, std::string_view password,
                                  bool use_candidate, bool controlling = true,
                                  std::uint8_t txid_seed = 1) {
  std::array<std::uint8_t, 548> buf{};
  std::array<std::uint8_t, stun::kTransactionIdSize> txid{};
  txid.fill(txid_seed);
  stun::MessageWriter w(buf, stun::MessageClass::kRequest, stun::Method::kBinding, txid);
  w.add_username(username).add_priority(1853824767);
  if (controlling) {
    w.add_ice_controlling(0x1122334455667788ull);
  } else {
    w.add_ice_controlled(0x1122334455667788ull);
  }
  if (use_candidate) w.add_use_candidate();
  const auto r = w.finish(stun::short_term_key(password), true);
  EXPECT_TRUE(r.ok());
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.size)};
}

IceLiteAgent::Outcome handle(IceLiteAgent& agent, const std::vector<std::uint8_t>& bytes,
                             const Endpoint& from, IceLiteAgent::Clock::time_point now,
                             std::array<std::uint8_t, 548>& out) {
  const auto msg = stun::MessageView::parse(bytes);
  EXPECT_TRUE(msg.has_value());
  return agent.on_stun(*msg, from, now, out);
}

TEST(IceLite, AnswersAValidCheckWithTheMappedAddressUnderOurPassword) {
  IceLiteAgent agent(kCreds);
  const auto from = Endpoint::parse("127.0.0.1", 50000);
  std::array<std::uint8_t, 548> out{};
  const auto o = handle(agent, request("srvU:brws", kCreds.local_pwd, false), from,
                        IceLiteAgent::Clock::now(), out);
  ASSERT_EQ(o.verdict, IceLiteAgent::Verdict::kAnswered);
  const auto resp = stun::MessageView::parse(std::span(out.data(), o.response_size));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->message_class(), stun::MessageClass::kSuccessResponse);
  EXPECT_TRUE(stun::check_integrity(*resp, stun::short_term_key(kCreds.local_pwd)));
  EXPECT_TRUE(stun::check_fingerprint(*resp));
  const auto mapped = resp->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->port, 50000);
  EXPECT_TRUE(agent.is_known_path(from));
  EXPECT_FALSE(agent.nominated());
  ASSERT_TRUE(agent.send_path());  // DTLS may start before nomination
  EXPECT_TRUE(*agent.send_path() == from);
}

TEST(IceLite, DropsWrongPasswordAndWrongUfragSilently) {
  IceLiteAgent agent(kCreds);
  const auto from = Endpoint::parse("127.0.0.1", 50000);
  std::array<std::uint8_t, 548> out{};
  const auto now = IceLiteAgent::Clock::now();
  auto o = handle(agent, request("srvU:brws", "not-the-password-at-all", true), from, now, out);
  EXPECT_EQ(o.verdict, IceLiteAgent::Verdict::kBadIntegrity);
  EXPECT_EQ(o.response_size, 0u);
  o = handle(agent, request("other:brws", kCreds.local_pwd, true), from, now, out);
  EXPECT_EQ(o.verdict, IceLiteAgent::Verdict::kBadUsername);
  o = handle(agent, request("srvU:someoneelse", kCreds.local_pwd, true), from, now, out);
  EXPECT_EQ(o.verdict, IceLiteAgent::Verdict::kBadUsername);
  EXPECT_FALSE(agent.is_known_path(from));
  EXPECT_FALSE(agent.send_path());
}

TEST(IceLite, UseCandidateNominatesAndANewAddressTakesOver) {
  IceLiteAgent agent(kCreds);
  std::array<std::uint8_t, 548> out{};
  const auto now = IceLiteAgent::Clock::now();
  const auto wifi = Endpoint::parse("127.0.0.1", 50000);
  const auto lte = Endpoint::parse("127.0.0.2", 60000);
  auto o = handle(agent, request("srvU:brws", kCreds.local_pwd, true), wifi, now, out);
  EXPECT_TRUE(o.nominated_now);
  EXPECT_TRUE(*agent.send_path() == wifi);
  o = handle(agent, request("srvU:brws", kCreds.local_pwd, true), wifi, now + 1s, out);
  EXPECT_FALSE(o.nominated_now);  // same path again
  // Network change: the browser nominates a pair from its new address.
  o = handle(agent, request("srvU:brws", kCreds.local_pwd, true, true, 2), lte, now + 2s, out);
  EXPECT_TRUE(o.nominated_now);
  EXPECT_TRUE(*agent.send_path() == lte);
  EXPECT_TRUE(agent.is_known_path(wifi));  // late packets on the old path still accepted
}

TEST(IceLite, ConsentExpiresThirtySecondsAfterTheLastValidCheck) {
  IceLiteAgent agent(kCreds);
  std::array<std::uint8_t, 548> out{};
  const auto t0 = IceLiteAgent::Clock::now();
  const auto from = Endpoint::parse("::1", 50000);
  handle(agent, request("srvU:brws", kCreds.local_pwd, true), from, t0, out);
  EXPECT_FALSE(agent.consent_expired(t0 + 29s));
  // An invalid request does not refresh consent.
  handle(agent, request("srvU:brws", "wrong-password-wrong-password", true), from, t0 + 20s, out);
  EXPECT_TRUE(agent.consent_expired(t0 + 31s));
  handle(agent, request("srvU:brws", kCreds.local_pwd, false), from, t0 + 25s, out);
  EXPECT_FALSE(agent.consent_expired(t0 + 31s));
  EXPECT_TRUE(agent.consent_expired(t0 + 56s));
}

TEST(IceLite, APeerThatClaimsTheControlledRoleGets487) {
  IceLiteAgent agent(kCreds);
  std::array<std::uint8_t, 548> out{};
  const auto o = handle(agent, request("srvU:brws", kCreds.local_pwd, false, false),
                        Endpoint::parse("127.0.0.1", 1), IceLiteAgent::Clock::now(), out);
  ASSERT_EQ(o.verdict, IceLiteAgent::Verdict::kAnsweredError);
  const auto resp = stun::MessageView::parse(std::span(out.data(), o.response_size));
  ASSERT_TRUE(resp && resp->error_code());
  EXPECT_EQ(resp->error_code()->code, 487);
}

TEST(IceLite, UfragSplitting) {
  EXPECT_EQ(local_ufrag_of("abc:def"), "abc");
  EXPECT_FALSE(local_ufrag_of(":def"));
  EXPECT_FALSE(local_ufrag_of("abcdef"));
}

}  // namespace
}  // namespace conclave::rtc
