#include <gtest/gtest.h>

#include "signal/dispatcher.hpp"
#include "signal/envelope.hpp"
#include "signal/session.hpp"

namespace conclave::signal {
namespace {

nlohmann::json reply(const Dispatcher& d, std::string_view text) {
  struct NullSession final : Session {
    std::uint64_t id() const override { return 7; }
    const std::string& peer_address() const override { return address; }
    const std::string& cookie() const override { return cookie_header; }
    void send(std::string) override {}
    std::string address = "127.0.0.1";
    std::string cookie_header;
    void close(boost::beast::websocket::close_code, std::string) override {}
  } session;
  return nlohmann::json::parse(d.dispatch(session, text));
}

TEST(Envelope, ParsesRequest) {
  auto parsed = parse_request(R"({"id":3,"type":"join","meeting":"abc"})");
  ASSERT_TRUE(std::holds_alternative<Request>(parsed));
  const auto& r = std::get<Request>(parsed);
  EXPECT_EQ(r.id, 3);
  EXPECT_EQ(r.type, "join");
  EXPECT_EQ(r.body["meeting"], "abc");
}

TEST(Envelope, TypedFailures) {
  auto code = [](std::string_view text) {
    auto parsed = parse_request(text);
    return std::holds_alternative<ParseFailure>(parsed) ? std::get<ParseFailure>(parsed).error.code
                                                        : std::string("(parsed)");
  };
  EXPECT_EQ(code("nope"), errors::kBadJson);
  EXPECT_EQ(code("[1]"), errors::kBadRequest);
  EXPECT_EQ(code(R"({"type":"x"})"), errors::kBadRequest);
  EXPECT_EQ(code(R"({"id":1.5,"type":"x"})"), errors::kBadRequest);
  EXPECT_EQ(code(R"({"id":"","type":"x"})"), errors::kBadRequest);
  EXPECT_EQ(code(R"({"id":1,"type":"Bad Type"})"), errors::kBadRequest);
  EXPECT_EQ(code(R"({"id":1})"), errors::kBadRequest);
  // Deep nesting is refused instead of recursing without bound.
  EXPECT_EQ(code(std::string(1000, '[') + std::string(1000, ']')), errors::kBadRequest);
  // ...also inside an otherwise valid request: nothing is silently dropped.
  EXPECT_EQ(
      code(R"({"id":1,"type":"x","deep":)" + std::string(40, '[') + std::string(40, ']') + "}"),
      errors::kBadRequest);
  // The id survives when only the type is wrong, so the client can match the reply.
  auto parsed = parse_request(R"({"id":"a1","type":7})");
  EXPECT_EQ(std::get<ParseFailure>(parsed).id, "a1");
}

TEST(Dispatcher, UnknownTypeIsTypedErrorNotEcho) {
  Dispatcher d;
  const auto r = reply(d, R"({"id":1,"type":"hello"})");
  EXPECT_EQ(r["id"], 1);
  EXPECT_EQ(r["error"]["code"], errors::kUnknownType);
  EXPECT_FALSE(r.contains("type"));
}

TEST(Dispatcher, HandlersAndTheirErrors) {
  Dispatcher d;
  d.on("sum", [](Session& s, const Request& r) {
    return nlohmann::json{{"sum", r.body.at("a").get<int>() + r.body.at("b").get<int>()},
                          {"session", s.id()}};
  });
  d.on("refuse",
       [](Session&, const Request&) -> nlohmann::json { throw RequestError("not_allowed", "no"); });
  d.on("bug", [](Session&, const Request&) -> nlohmann::json {
    throw std::runtime_error("internal detail that must not leak");
  });
  d.on("slow_down", [](Session&, const Request&) -> nlohmann::json {
    throw RequestError("too_many_attempts", "too many attempts, try again in 4 s", 4);
  });
  auto r = reply(d, R"({"id":"q","type":"sum","a":2,"b":3})");
  EXPECT_EQ(r["result"]["sum"], 5);
  EXPECT_EQ(r["result"]["session"], 7);
  EXPECT_EQ(reply(d, R"({"id":1,"type":"sum","a":"x","b":3})")["error"]["code"],
            errors::kBadRequest);
  EXPECT_EQ(reply(d, R"({"id":1,"type":"refuse"})")["error"]["code"], "not_allowed");
  EXPECT_FALSE(reply(d, R"({"id":1,"type":"refuse"})")["error"].contains("retry_after"));
  EXPECT_EQ(reply(d, R"({"id":1,"type":"slow_down"})")["error"]["retry_after"], 4);
  r = reply(d, R"({"id":1,"type":"bug"})");
  EXPECT_EQ(r["error"]["code"], errors::kInternal);
  EXPECT_EQ(r["error"]["message"].get<std::string>().find("internal detail"), std::string::npos);
}

}  // namespace
}  // namespace conclave::signal
