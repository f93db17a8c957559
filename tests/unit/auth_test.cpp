// auth/: password hashing, tokens, CSRF, emails (docs/api.md).
#include <gtest/gtest.h>

#include <set>

#include "auth/api.hpp"
#include "auth/credentials.hpp"

namespace conclave::auth {
namespace {

TEST(Passwords, Argon2idAtInteractiveLimits) {
  const auto hash = hash_password("correct horse battery");
  // libsodium's interactive limits: 2 passes over 64 MiB, one lane.
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password(hash, "correct horse battery"));
  EXPECT_FALSE(verify_password(hash, "correct horse batterY"));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "x"));
  EXPECT_NE(hash_password("correct horse battery"), hash);  // salted
  EXPECT_FALSE(password_needs_rehash(hash));
  // A hash made with weaker limits is upgraded at the next sign-in.
  EXPECT_TRUE(password_needs_rehash(
      "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"));
}

TEST(Tokens, RandomHashedAndCsrfBound) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto t = new_token();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_TRUE(seen.insert(t).second);
  }
  const auto t = new_token();
  EXPECT_EQ(token_hash(t).size(), 64u);
  EXPECT_EQ(token_hash(t), token_hash(t));
  EXPECT_NE(token_hash(t), token_hash(new_token()));
  EXPECT_EQ(csrf_token(t), csrf_token(t));
  EXPECT_NE(csrf_token(t), csrf_token(new_token()));
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

TEST(Emails, Normalised) {
  EXPECT_EQ(normalise_email("  Ada@Example.ORG "), "ada@example.org");
  for (const char* bad :
       {"", "ada", "@example.org", "ada@", "a@b@c", "a b@c.org", "a<b>@c.org", "a\x01@c.org"}) {
    EXPECT_FALSE(normalise_email(bad).has_value()) << bad;
  }
  EXPECT_FALSE(normalise_email(std::string(250, 'a') + "@b.org").has_value());
}

TEST(Cookies, ValueOfOneCookie) {
  EXPECT_EQ(cookie_value("a=1; conclave_session=xyz; b=2", "conclave_session"), "xyz");
  EXPECT_EQ(cookie_value("conclave_session=", "conclave_session"), "");
  EXPECT_EQ(cookie_value("xconclave_session=1", "conclave_session"), "");
  EXPECT_EQ(cookie_value("", "conclave_session"), "");
}

http::Request request(std::string_view origin, std::string_view type, std::string_view csrf,
                      std::string_view fetch_site = {}) {
  http::Request r{boost::beast::http::verb::post, "/api/meetings", 11};
  r.set(boost::beast::http::field::host, "meet.example.org");
  if (!origin.empty()) r.set(boost::beast::http::field::origin, origin);
  if (!type.empty()) r.set(boost::beast::http::field::content_type, type);
  if (!csrf.empty()) r.set("X-CSRF-Token", csrf);
  if (!fetch_site.empty()) r.set("Sec-Fetch-Site", fetch_site);
  r.body() = "{}";
  return r;
}

TEST(Csrf, TheRuleOfTheApi) {
  const auto session = new_token();
  const auto good = csrf_token(session);
  const std::string self = "https://meet.example.org";
  EXPECT_EQ(csrf_refusal(request(self, "application/json", good), session), "");
  EXPECT_EQ(csrf_refusal(request(self, "application/json; charset=utf-8", good), session), "");
  EXPECT_EQ(csrf_refusal(request("", "application/json", good, "same-origin"), session), "");
  // Without a session there is no token to check (sign-in, sign-up, guest creation).
  EXPECT_EQ(csrf_refusal(request(self, "application/json", ""), ""), "");
  EXPECT_EQ(csrf_refusal(request("https://evil.example", "application/json", good), session),
            "csrf");
  EXPECT_EQ(
      csrf_refusal(request("https://meet.example.org.evil", "application/json", good), session),
      "csrf");
  EXPECT_EQ(csrf_refusal(request("", "application/json", good), session), "csrf");
  EXPECT_EQ(csrf_refusal(request("", "application/json", good, "cross-site"), session), "csrf");
  EXPECT_EQ(csrf_refusal(request(self, "application/json", ""), session), "csrf");
  EXPECT_EQ(csrf_refusal(request(self, "application/json", csrf_token(new_token())), session),
            "csrf");
  EXPECT_EQ(csrf_refusal(request(self, "text/plain", good), session), "bad_content_type");
  EXPECT_EQ(csrf_refusal(request(self, "application/x-www-form-urlencoded", good), session),
            "bad_content_type");
}

}  // namespace
}  // namespace conclave::auth
