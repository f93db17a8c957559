// meeting/policy: settings, ids, secrets (docs/protocol.md "Meeting security").
#include "meeting/policy.hpp"

#include <gtest/gtest.h>

#include <set>

#include "signal/dispatcher.hpp"

namespace conclave::meeting {
namespace {

using nlohmann::json;

TEST(Settings, DefaultsAreTheSafeOnes) {
  const Settings s;
  EXPECT_TRUE(s.waiting_room);
  EXPECT_FALSE(s.join_before_host);
  EXPECT_FALSE(s.locked);
  EXPECT_FALSE(s.members_skip_waiting);
  const auto j = to_json(s);
  EXPECT_EQ(j["screen_share"], "everyone");
  EXPECT_EQ(j["locked"], false);
  EXPECT_FALSE(to_json(s, /*saved=*/true).contains("locked"));
  // End-to-end encryption is on unless the owner chose otherwise, and that choice is saved.
  EXPECT_TRUE(s.e2ee);
  EXPECT_EQ(to_json(s, /*saved=*/true)["e2ee"], true);
  EXPECT_FALSE(apply_settings(s, json{{"e2ee", false}}, /*allow_live=*/false).e2ee);
  EXPECT_THROW(apply_settings(s, json{{"e2ee", "no"}}), signal::RequestError);
}

TEST(Settings, PartialUpdateAppliesOnlyNamedFields) {
  const auto s = apply_settings(Settings{}, json{{"chat", false}, {"screen_share", "hosts"}});
  EXPECT_FALSE(s.chat);
  EXPECT_EQ(s.screen_share, Settings::Share::kHosts);
  EXPECT_TRUE(s.waiting_room);
}

TEST(Settings, BadFieldsAreRefusedAndNothingApplies) {
  const Settings base;
  for (const auto& bad :
       {json{{"chat", "no"}}, json{{"nope", true}}, json{{"screen_share", "some"}},
        json{{"allowed_domains", "x.org"}}, json{{"allowed_domains", {"not a domain"}}},
        json{{"allowed_domains", {"a..b"}}}, json::array()}) {
    EXPECT_THROW(apply_settings(base, bad), signal::RequestError) << bad.dump();
  }
  // A good field before a bad one is not applied either: the function returns nothing.
  EXPECT_THROW(apply_settings(base, json{{"chat", false}, {"zzz", 1}}), signal::RequestError);
  // Saved settings never carry the live lock.
  EXPECT_THROW(apply_settings(base, json{{"locked", true}}, /*allow_live=*/false),
               signal::RequestError);
}

TEST(Settings, DomainsAreLowercasedAndDeduplicated) {
  const auto s =
      apply_settings(Settings{}, json{{"allowed_domains", {"Example.ORG", "example.org"}}});
  ASSERT_EQ(s.allowed_domains.size(), 1u);
  EXPECT_EQ(s.allowed_domains[0], "example.org");
  EXPECT_TRUE(email_domain_allowed("ada@EXAMPLE.org", s.allowed_domains));
  EXPECT_FALSE(email_domain_allowed("ada@example.org.evil", s.allowed_domains));
  EXPECT_FALSE(email_domain_allowed("no-at-sign", s.allowed_domains));
  json many = json::array();
  for (int i = 0; i <= 32; ++i) many.push_back("d" + std::to_string(i) + ".org");
  EXPECT_THROW(apply_settings(Settings{}, json{{"allowed_domains", many}}), signal::RequestError);
}

TEST(Settings, StoredRoundTripAndDamagedRowsFallBack) {
  auto s = apply_settings(Settings{}, json{{"waiting_room", false}, {"rename_self", false}});
  s.locked = true;  // not saved
  const auto back = settings_from_stored(to_json(s, true).dump());
  EXPECT_FALSE(back.waiting_room);
  EXPECT_FALSE(back.rename_self);
  EXPECT_FALSE(back.locked);
  EXPECT_EQ(settings_from_stored("not json"), Settings{});
  EXPECT_FALSE(settings_from_stored(R"({"chat": 3, "waiting_room": false})").waiting_room);
}

TEST(Ids, MeetingIdsHave80RandomBitsInFourGroups) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_meeting_id();
    ASSERT_EQ(id.size(), 19u) << id;
    EXPECT_EQ(id[4], '-');
    EXPECT_EQ(id[9], '-');
    EXPECT_EQ(id[14], '-');
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_EQ(new_passcode().size(), 10u);
  EXPECT_EQ(new_host_key().size(), 26u);
}

TEST(Ids, EveryCharacterOfAnIdIsUsed) {
  // 16 characters x 1000 ids: each of the 32 symbols shows up at every position with
  // overwhelming probability if the bits are uniform (a stuck bit would leave gaps).
  std::array<std::set<char>, 19> at{};
  for (int i = 0; i < 2000; ++i) {
    const auto id = new_meeting_id();
    for (std::size_t k = 0; k < id.size(); ++k) at[k].insert(id[k]);
  }
  for (std::size_t k = 0; k < 19; ++k) {
    if (k == 4 || k == 9 || k == 14) continue;
    EXPECT_EQ(at[k].size(), 32u) << "position " << k;
  }
}

TEST(Secrets, HashAndVerify) {
  const auto h = hash_secret("abcde12345");
  EXPECT_EQ(h.substr(0, 3), "s1$");
  EXPECT_EQ(h.find("abcde12345"), std::string::npos);
  EXPECT_TRUE(verify_secret(h, "abcde12345"));
  EXPECT_TRUE(verify_secret(h, "ABCDE12345"));  // Crockford is case-insensitive
  EXPECT_FALSE(verify_secret(h, "abcde12346"));
  EXPECT_FALSE(verify_secret(h, ""));
  EXPECT_NE(hash_secret("abcde12345"), h);  // salted
  EXPECT_EQ(hash_secret(""), "");
  EXPECT_TRUE(verify_secret("", "anything"));  // no passcode
  EXPECT_FALSE(verify_secret("s1$zz", "x"));
  EXPECT_FALSE(verify_secret(std::string(100, 'a'), "x"));
}

TEST(Devices, Ids) {
  EXPECT_TRUE(is_device_id("abcdefghijklmnop"));
  EXPECT_TRUE(is_device_id("A-_0123456789abcdef"));
  EXPECT_FALSE(is_device_id("short"));
  EXPECT_FALSE(is_device_id(std::string(65, 'a')));
  EXPECT_FALSE(is_device_id("abcdefghijklmno p"));
}

}  // namespace
}  // namespace conclave::meeting
