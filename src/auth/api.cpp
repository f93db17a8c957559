#include "auth/api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "auth/credentials.hpp"
#include "common/attempts.hpp"
#include "common/unix_time.hpp"
#include "meeting/policy.hpp"

namespace conclave::auth {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::size_t kMinPasswordBytes = 10;
constexpr std::int64_t kInviteSeconds = 7 * 24 * 3600;

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

json account_json(const store::Account& a) {
  return {{"id", a.id}, {"email", a.email}, {"name", a.display_name}, {"admin", a.admin}};
}

std::string header(const http::Request& r, bhttp::field f) {
  const auto it = r.find(f);
  return it == r.end() ? std::string() : std::string(it->value());
}

bool state_changing(bhttp::verb v) {
  return v == bhttp::verb::post || v == bhttp::verb::put || v == bhttp::verb::patch ||
         v == bhttp::verb::delete_;
}

// A string field of a JSON body, or nullopt (missing or not a string).
std::optional<std::string> text(const json& body, const char* name, std::size_t max) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().size() > max)
    return std::nullopt;
  return it->get<std::string>();
}

// A string password run through a coroutine on the hasher thread.
asio::awaitable<std::string> hash_on_pool(std::string password) {
  co_return hash_password(password);
}
asio::awaitable<bool> verify_on_pool(std::string hash, std::string password) {
  co_return verify_password(hash, password);
}

}  // namespace

std::string csrf_refusal(const http::Request& r, std::string_view session_token) {
  // 1. Same origin: Origin equal to our own, or no Origin and Sec-Fetch-Site same-origin.
  const auto origin = header(r, bhttp::field::origin);
  const auto host = header(r, bhttp::field::host);
  if (!origin.empty()) {
    if (host.empty() || (origin != "http://" + host && origin != "https://" + host)) return "csrf";
  } else {
    const auto it = r.find("Sec-Fetch-Site");
    if (it == r.end() || it->value() != "same-origin") return "csrf";
  }
  // 2. A JSON body type, which a cross-site form cannot send without a preflight. Only
  //    POST can come from a form at all; other methods need it when they carry a body.
  auto type = header(r, bhttp::field::content_type);
  if (r.method() != bhttp::verb::post && r.body().empty() && type.empty())
    type = "application/json";
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type != "application/json") return "bad_content_type";
  // 3. With a session, its CSRF token.
  if (!session_token.empty()) {
    const auto it = r.find("X-CSRF-Token");
    if (it == r.end() ||
        !equal_constant_time(std::string_view(it->value().data(), it->value().size()),
                             csrf_token(session_token))) {
      return "csrf";
    }
  }
  return "";
}

Api::Api(asio::io_context& io, store::Store& store, http::Router& router,
         metrics::Registry& registry, ApiConfig config)
    : io_(io),
      store_(store),
      router_(router),
      config_(config),
      dummy_hash_(hash_password("not a password of anyone, used to spend the same time")),
      per_address_(config.signin_failures),
      per_account_(config.signin_failures),
      attempts_(metrics::attempts_family(registry)) {}

Api::~Api() {
  hasher_.join();
}

void Api::install() {
  router_.add_async(
      "/api/", [this](const http::Request& r, const std::string& peer) { return handle(r, peer); });
}

std::optional<meeting::SignedIn> Api::who(std::string_view cookie_header) {
  const auto token = cookie_value(cookie_header, kSessionCookie);
  if (token.empty() || token.size() > 128) return std::nullopt;
  try {
    const auto session = store_.find_session(token_hash(token));
    if (!session || session->expires_at <= unix_now()) return std::nullopt;
    const auto account = store_.find_account(session->account_id);
    if (!account || account->disabled) return std::nullopt;
    return meeting::SignedIn{account->id, account->email, account->display_name};
  } catch (const store::StoreError& e) {
    spdlog::warn("cannot read a session: {}", e.what());
    return std::nullopt;
  }
}

std::optional<Api::Caller> Api::caller(const http::Request& r) {
  const auto token = cookie_value(header(r, bhttp::field::cookie), kSessionCookie);
  if (token.empty() || token.size() > 128) return std::nullopt;
  const auto session = store_.find_session(token_hash(token));
  if (!session || session->expires_at <= unix_now()) return std::nullopt;
  const auto account = store_.find_account(session->account_id);
  if (!account || account->disabled) return std::nullopt;
  return Caller{*account, token};
}

http::Response Api::json_response(const http::Request& r, int status, const json& body) {
  return router_.respond(static_cast<bhttp::status>(status), r,
                         body.is_null() ? std::string() : body.dump(), "application/json", "api");
}

http::Response Api::error(const http::Request& r, int status, std::string_view code,
                          std::string_view message) {
  return json_response(r, status, json{{"error", {{"code", code}, {"message", message}}}});
}

http::Response Api::limited(const http::Request& r, std::chrono::seconds wait) {
  attempts_.with({"signin", "limited"}).inc();
  auto res = json_response(
      r, 429,
      json{{"error",
            {{"code", "too_many_attempts"},
             {"message", fmt::format("too many attempts, try again in {} s", wait.count())},
             {"retry_after", wait.count()}}}});
  res.set(bhttp::field::retry_after, std::to_string(wait.count()));
  return res;
}

std::string Api::session_cookie(const std::string& token, std::chrono::seconds max_age) const {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie,
                     token, max_age.count(), config_.tls ? "; Secure" : "");
}

// A new session for `account`: the cookie and the CSRF token.
http::Response Api::signed_in(const http::Request& r, int status, const store::Account& account) {
  const auto token = new_token();
  const auto now = unix_now();
  store_.delete_expired_sessions(now);
  store_.create_session({token_hash(token), account.id, now, now + config_.session_ttl.count()});
  auto res = json_response(r, status,
                           json{{"account", account_json(account)}, {"csrf", csrf_token(token)}});
  res.set(bhttp::field::set_cookie, session_cookie(token, config_.session_ttl));
  return res;
}

asio::awaitable<http::Response> Api::handle(const http::Request& r, const std::string& peer) {
  const auto path = std::string(path_of(r.target()));
  const auto method = r.method();
  try {
    auto who_called = caller(r);
    if (state_changing(method)) {
      const auto refusal = csrf_refusal(r, who_called ? who_called->token : std::string());
      if (refusal == "bad_content_type")
        co_return error(r, 415, refusal, "send the request as application/json");
      if (!refusal.empty())
        co_return error(r, 403, refusal, "this request did not come from this site's own pages");
    }
    json body = json::object();
    if (state_changing(method) && !r.body().empty()) {
      body = json::parse(r.body(), nullptr, false);
      if (body.is_discarded() || !body.is_object())
        co_return error(r, 400, "bad_request", "the body must be a JSON object");
    }
    auto need_sign_in = [&]() { return error(r, 401, "sign_in_required", "sign in first"); };
    auto meeting_result = [&](const meeting::ApiResult& res) {
      return json_response(r, res.status, res.body);
    };

    if (path == "/api/session" && method == bhttp::verb::get) {
      static constexpr const char* kSignup[] = {"closed", "invite", "open"};
      co_return json_response(
          r, 200,
          json{{"account", who_called ? account_json(who_called->account) : json(nullptr)},
               {"csrf", who_called ? json(csrf_token(who_called->token)) : json(nullptr)},
               {"signup", kSignup[static_cast<int>(config_.signup)]},
               {"create",
                config_.create == meeting::CreatePolicy::kAnyone ? "anyone" : "accounts"}});
    }
    if (path == "/api/signup" && method == bhttp::verb::post) co_return co_await signup(r, body);
    if (path == "/api/signin" && method == bhttp::verb::post)
      co_return co_await signin(r, peer, body);
    if (path == "/api/signout" && method == bhttp::verb::post) {
      if (who_called) store_.delete_session(token_hash(who_called->token));
      auto res = json_response(r, 204, nullptr);
      res.set(bhttp::field::set_cookie, session_cookie("", std::chrono::seconds(0)));
      co_return res;
    }
    if (path == "/api/signout-all" && method == bhttp::verb::post) {
      if (!who_called) co_return need_sign_in();
      store_.delete_sessions_of(who_called->account.id);
      auto res = json_response(r, 204, nullptr);
      res.set(bhttp::field::set_cookie, session_cookie("", std::chrono::seconds(0)));
      co_return res;
    }
    if (path == "/api/devices" && method == bhttp::verb::get) {
      if (!who_called) co_return need_sign_in();
      json list = json::array();
      for (const auto& d : store_.devices_of(who_called->account.id)) {
        list.push_back({{"id", d.id},
                        {"public_key", d.public_key},
                        {"label", d.label},
                        {"created_at", d.created_at}});
      }
      co_return json_response(r, 200, json{{"devices", std::move(list)}});
    }
    if (path == "/api/devices" && method == bhttp::verb::post) {
      if (!who_called) co_return need_sign_in();
      const auto key = text(body, "public_key", 64);
      const auto label = meeting::normalise_display_name(text(body, "label", 512).value_or(""));
      if (!key || !is_public_key(*key))
        co_return error(r, 400, "bad_request", "'public_key' must be base64url of 32 bytes");
      if (!label) co_return error(r, 400, "bad_request", "'label' must be 1 to 64 characters");
      try {
        const auto id = store_.add_device({0, who_called->account.id, *key, *label, unix_now()});
        co_return json_response(r, 201, json{{"id", id}});
      } catch (const store::ConflictError&) {
        co_return error(r, 409, "device_exists", "this key is already one of your devices");
      }
    }
    if (path.starts_with("/api/devices/") && method == bhttp::verb::delete_) {
      if (!who_called) co_return need_sign_in();
      std::int64_t id = 0;
      const auto digits = std::string_view(path).substr(13);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
      if (ec != std::errc() || end != digits.data() + digits.size())
        co_return error(r, 404, "not_found", "no such device");
      store_.remove_device(who_called->account.id, id);
      co_return json_response(r, 204, nullptr);
    }
    if (path == "/api/account/audit" && method == bhttp::verb::get) {
      if (!who_called) co_return need_sign_in();
      co_return json_response(r, 200, json{{"entries", audit_json(who_called->account.id)}});
    }
    if (path == "/api/account/export" && method == bhttp::verb::get) {
      if (!who_called) co_return need_sign_in();
      auto res = json_response(r, 200, export_json(who_called->account));
      res.set(bhttp::field::content_disposition, "attachment; filename=\"conclave-export.json\"");
      co_return res;
    }
    if (path == "/api/account" && method == bhttp::verb::delete_) {
      if (!who_called) co_return need_sign_in();
      const auto password = text(body, "password", kMaxPasswordBytes).value_or("");
      const bool ok = co_await asio::co_spawn(
          hasher_, verify_on_pool(who_called->account.password_hash, password),
          asio::use_awaitable);
      if (!ok) co_return error(r, 403, "bad_credentials", "wrong password");
      const auto id = who_called->account.id;
      if (conference_) {
        const meeting::SignedIn me{id, who_called->account.email, who_called->account.display_name};
        for (const auto& m : store_.meetings_of(id)) conference_->api_delete_meeting(me, m.id);
      }
      store_.delete_account(id);
      store_.checkpoint();
      spdlog::info("an account was deleted by its owner");
      auto res = json_response(r, 204, nullptr);
      res.set(bhttp::field::set_cookie, session_cookie("", std::chrono::seconds(0)));
      co_return res;
    }
    if (path == "/api/invites" && method == bhttp::verb::post) {
      if (!who_called) co_return need_sign_in();
      if (!who_called->account.admin)
        co_return error(r, 403, "forbidden", "only administrators may invite");
      const auto token = new_token();
      const auto expires = unix_now() + kInviteSeconds;
      store_.create_invite({token_hash(token), who_called->account.id, expires});
      co_return json_response(r, 201, json{{"token", token}, {"expires_at", expires}});
    }
    if (path == "/api/meetings" || path.starts_with("/api/meetings/")) {
      if (!conference_) co_return error(r, 503, "unavailable", "meetings are not available");
      std::optional<meeting::SignedIn> signed_in;
      if (who_called) {
        signed_in = meeting::SignedIn{who_called->account.id, who_called->account.email,
                                      who_called->account.display_name};
      }
      if (path == "/api/meetings" && method == bhttp::verb::post)
        co_return meeting_result(conference_->api_create_meeting(signed_in, body));
      if (!signed_in) co_return need_sign_in();
      if (path == "/api/meetings" && method == bhttp::verb::get)
        co_return meeting_result(conference_->api_list_meetings(*signed_in));
      auto rest = std::string_view(path).substr(14);  // after "/api/meetings/"
      const bool passcode = rest.ends_with("/passcode");
      if (passcode) rest.remove_suffix(9);
      if (rest.empty() || rest.size() > 64 || rest.find('/') != std::string_view::npos)
        co_return error(r, 404, "not_found", "no such route");
      if (passcode && method == bhttp::verb::post)
        co_return meeting_result(conference_->api_new_passcode(*signed_in, rest));
      if (!passcode && method == bhttp::verb::patch)
        co_return meeting_result(conference_->api_update_meeting(*signed_in, rest, body));
      if (!passcode && method == bhttp::verb::delete_)
        co_return meeting_result(conference_->api_delete_meeting(*signed_in, rest));
    }
    co_return error(r, 404, "not_found", "no such route");
  } catch (const store::StoreError& e) {
    spdlog::error("API request failed: {}", e.what());
    co_return error(r, 503, "store_unavailable", "the server cannot reach its database");
  }
}

json Api::audit_json(std::int64_t account) {
  json list = json::array();
  for (const auto& e : store_.audit_entries_about(account)) {
    list.push_back({{"seq", e.seq},
                    {"at", e.at},
                    {"actor", e.actor},
                    {"action", e.action},
                    {"details", json::parse(e.details, nullptr, false)},
                    {"hash", e.hash}});
  }
  return list;
}

// Everything the server holds about an account (docs/privacy.md lists the same fields).
// Secrets and values derived from them are named, not given: a password hash, the hashes of
// session tokens, passcodes and host keys.
json Api::export_json(const store::Account& a) {
  json devices = json::array();
  for (const auto& d : store_.devices_of(a.id)) {
    devices.push_back({{"id", d.id},
                       {"public_key", d.public_key},
                       {"label", d.label},
                       {"created_at", d.created_at}});
  }
  json meetings = json::array();
  for (const auto& m : store_.meetings_of(a.id)) {
    meetings.push_back({{"id", m.id},
                        {"created_at", m.created_at},
                        {"last_used_at", m.last_used_at},
                        {"settings", json::parse(m.settings_json, nullptr, false)},
                        {"passcode_hash", "(stored, not exported)"},
                        {"host_key_hash", "(stored, not exported)"}});
  }
  json sessions = json::array();
  for (const auto& s : store_.sessions_of(a.id)) {
    sessions.push_back({{"created_at", s.created_at},
                        {"expires_at", s.expires_at},
                        {"token_hash", "(stored, not exported)"}});
  }
  json invites = json::array();
  for (const auto& i : store_.invites_of(a.id)) {
    invites.push_back({{"expires_at", i.expires_at}, {"token_hash", "(stored, not exported)"}});
  }
  return {{"format", "conclave-export/1"},
          {"exported_at", unix_now()},
          {"account",
           {{"id", a.id},
            {"email", a.email},
            {"display_name", a.display_name},
            {"admin", a.admin},
            {"disabled", a.disabled},
            {"created_at", a.created_at},
            {"password_hash", "(argon2id, stored, not exported)"}}},
          {"sessions", std::move(sessions)},
          {"devices", std::move(devices)},
          {"invites", std::move(invites)},
          {"meetings", std::move(meetings)},
          {"audit", audit_json(a.id)}};
}

asio::awaitable<http::Response> Api::signup(const http::Request& r, const json& body) {
  if (config_.signup == Signup::kClosed)
    co_return error(r, 403, "signup_closed", "accounts on this server are made by its admins");
  const auto email = normalise_email(text(body, "email", 512).value_or(""));
  if (!email) co_return error(r, 400, "bad_request", "'email' is not an email address");
  const auto password = text(body, "password", kMaxPasswordBytes);
  if (!password || password->size() < kMinPasswordBytes) {
    co_return error(
        r, 400, "bad_request",
        fmt::format("'password' must be {} to {} bytes", kMinPasswordBytes, kMaxPasswordBytes));
  }
  const auto name = meeting::normalise_display_name(text(body, "name", 512).value_or(""));
  if (!name) co_return error(r, 400, "bad_request", "'name' must be 1 to 64 characters");
  if (store_.find_account_by_email(*email))
    co_return error(r, 409, "email_taken", "there is already an account with this email");
  if (config_.signup == Signup::kInvite) {
    const auto invite = text(body, "invite", 128);
    if (!invite || !store_.take_invite(token_hash(*invite), unix_now()))
      co_return error(r, 403, "bad_invite", "this invite is not valid (any more)");
  }
  const auto hash = co_await asio::co_spawn(hasher_, hash_on_pool(*password), asio::use_awaitable);
  store::Account account;
  account.email = *email;
  account.display_name = *name;
  account.password_hash = hash;
  account.created_at = unix_now();
  try {
    account.id = store_.create_account(account);
  } catch (const store::ConflictError&) {
    co_return error(r, 409, "email_taken", "there is already an account with this email");
  }
  spdlog::info("account created by sign-up");
  co_return signed_in(r, 201, account);
}

asio::awaitable<http::Response> Api::signin(const http::Request& r, const std::string& peer,
                                            const json& body) {
  const auto now = AttemptLimiter::Clock::now();
  const auto address = AttemptLimiter::address_key(peer);
  const auto email = normalise_email(text(body, "email", 512).value_or("")).value_or("");
  const auto password = text(body, "password", kMaxPasswordBytes).value_or("");
  if (const auto wait = per_address_.check(address, now); wait.count() > 0)
    co_return limited(r, wait);
  if (!email.empty()) {
    if (const auto wait = per_account_.check(email, now); wait.count() > 0)
      co_return limited(r, wait);
  }
  const auto account = email.empty() ? std::nullopt : store_.find_account_by_email(email);
  // The same work whether or not the account exists.
  const auto& hash = account ? account->password_hash : dummy_hash_;
  const bool ok =
      co_await asio::co_spawn(hasher_, verify_on_pool(hash, password), asio::use_awaitable) &&
      account && !account->disabled;
  if (!ok) {
    per_address_.count(address, AttemptLimiter::Clock::now());
    if (!email.empty()) per_account_.count(email, AttemptLimiter::Clock::now());
    attempts_.with({"signin", "failed"}).inc();
    co_return error(r, 401, "bad_credentials", "wrong email or password");
  }
  per_account_.clear(email);
  attempts_.with({"signin", "ok"}).inc();
  if (password_needs_rehash(account->password_hash)) {
    const auto fresh =
        co_await asio::co_spawn(hasher_, hash_on_pool(password), asio::use_awaitable);
    store_.set_password_hash(account->id, fresh);
  }
  co_return signed_in(r, 200, *account);
}

}  // namespace conclave::auth
