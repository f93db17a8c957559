// The HTTP API under /api/ (docs/api.md): accounts, sign-in sessions, devices, invites,
// and the meeting routes, which it hands to meeting::Conference after checking CSRF and
// who is signed in. Runs on the control thread as one async route of http::Router;
// password hashing runs on a thread of its own and the request waits for it without
// blocking the control thread.
#pragma once

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "common/attempt_limiter.hpp"
#include "common/metrics.hpp"
#include "http/router.hpp"
#include "meeting/conference.hpp"
#include "store/store.hpp"

namespace conclave::auth {

enum class Signup { kClosed, kInvite, kOpen };

struct ApiConfig {
  Signup signup = Signup::kClosed;
  std::chrono::seconds session_ttl{30 * 24 * 3600};
  bool tls = false;                                                 // cookies get Secure
  meeting::CreatePolicy create = meeting::CreatePolicy::kAccounts;  // reported by /api/session
  AttemptLimiter::Limits signin_failures{.free = 5};
};

inline constexpr std::string_view kSessionCookie = "conclave_session";

class Api {
 public:
  Api(boost::asio::io_context& io, store::Store& store, http::Router& router,
      metrics::Registry& registry, ApiConfig config);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Meeting routes go here once the Conference exists.
  void set_conference(meeting::Conference* conference) { conference_ = conference; }

  // Registers "/api/" on the router.
  void install();

  // The signed-in user behind a Cookie header (the Conference's WhoIsSignedIn).
  std::optional<meeting::SignedIn> who(std::string_view cookie_header);

  boost::asio::awaitable<http::Response> handle(const http::Request& request,
                                                const std::string& peer);

 private:
  struct Caller {
    store::Account account;
    std::string token;
  };
  std::optional<Caller> caller(const http::Request& request);

  // `body` is the request's JSON object, already parsed (and CSRF-checked) by handle().
  boost::asio::awaitable<http::Response> signup(const http::Request& r, const nlohmann::json& body);
  boost::asio::awaitable<http::Response> signin(const http::Request& r, const std::string& peer,
                                                const nlohmann::json& body);

  nlohmann::json audit_json(std::int64_t account);
  nlohmann::json export_json(const store::Account& account);
  http::Response json_response(const http::Request& r, int status, const nlohmann::json& body);
  http::Response error(const http::Request& r, int status, std::string_view code,
                       std::string_view message);
  http::Response limited(const http::Request& r, std::chrono::seconds wait);
  http::Response signed_in(const http::Request& r, int status, const store::Account& account);
  std::string session_cookie(const std::string& token, std::chrono::seconds max_age) const;

  boost::asio::io_context& io_;
  store::Store& store_;   // Passed by argument.
  http::Router& router_;  // Passed by argument.
  meeting::Conference* conference_ = nullptr;
  ApiConfig config_;
  boost::asio::thread_pool hasher_{1};
  std::string dummy_hash_;  // verified against for unknown emails (same time as a wrong password)
  AttemptLimiter per_address_;
  AttemptLimiter per_account_;
  metrics::Family<metrics::Counter>& attempts_;
};

// Exposed for tests: the CSRF rule of docs/api.md for a state-changing request. Returns
// "" when the request passes, else the error code ("csrf" or "bad_content_type").
std::string csrf_refusal(const http::Request& request, std::string_view session_token);

}  // namespace conclave::auth
