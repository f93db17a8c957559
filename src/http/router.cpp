#include "http/router.hpp"

#include <fmt/format.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include <nlohmann/json.hpp>

#include "http/security_headers.hpp"

namespace conclave::http {

namespace {

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

// "http://host:port" -> "host:port"; empty if it is not an http(s) origin.
std::string_view origin_authority(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.rfind(scheme, 0) == 0) return origin.substr(scheme.size());
  }
  return {};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Router::Router(bool tls, StaticFiles& files, metrics::Registry& registry, Hooks hooks)
    : tls_(tls),
      files_(files),
      requests_(registry.counter_family("conclave_http_requests_total",
                                        "HTTP requests answered, by route and status.",
                                        {"route", "status"})),
      registry_(registry),
      hooks_(std::move(hooks)) {}

Response Router::make(bhttp::status status, unsigned version, bool keep_alive, std::string body,
                      std::string_view content_type, std::string_view route) {
  Response res{status, version};
  apply_security_headers(res, tls_);
  res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::cache_control, "no-store");
  // While draining, every connection is told to close after its response.
  res.keep_alive(keep_alive && !hooks_.draining());
  res.body() = std::move(body);
  res.prepare_payload();
  requests_.with({std::string(route), std::to_string(static_cast<unsigned>(status))}).inc();
  return res;
}

Response Router::error(bhttp::status status, const Request& request, std::string_view message,
                       std::string_view route) {
  nlohmann::json body = {
      {"error", {{"code", static_cast<unsigned>(status)}, {"message", std::string(message)}}}};
  return make(status, request.version(), request.keep_alive(), body.dump() + "\n",
              "application/json", route);
}

Response Router::parse_error(bhttp::status status, unsigned version) {
  nlohmann::json body = {{"error",
                          {{"code", static_cast<unsigned>(status)},
                           {"message", std::string(bhttp::obsolete_reason(status))}}}};
  return make(status, version, false, body.dump() + "\n", "application/json", "bad_request");
}

Response Router::handle(const Request& request) {
  const auto path = path_of(request.target());
  const bool head = request.method() == bhttp::verb::head;
  const bool get_or_head = head || request.method() == bhttp::verb::get;

  // Only called for GET and HEAD; HEAD keeps the Content-Length GET would send.
  auto finish = [&](Response res) {
    if (head) res.body().clear();
    return res;
  };
  auto only_get = [&](std::string_view route) {
    auto res = error(bhttp::status::method_not_allowed, request, "use GET or HEAD", route);
    res.set(bhttp::field::allow, "GET, HEAD");
    return res;
  };

  if (path == "/healthz") {
    if (!get_or_head) return only_get("healthz");
    const bool ready = hooks_.ready();
    return finish(make(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                       request.version(), request.keep_alive(), hooks_.health_body() + "\n",
                       "application/json", "healthz"));
  }
  if (path == "/metrics") {
    if (!get_or_head) return only_get("metrics");
    // The counter for this very request is bumped before rendering, so it is included.
    auto& counter = requests_.with({"metrics", "200"});
    counter.inc();
    Response res{bhttp::status::ok, request.version()};
    apply_security_headers(res, tls_);
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(request.keep_alive() && !hooks_.draining());
    res.body() = registry_.render();
    res.prepare_payload();
    return finish(std::move(res));
  }
  if (path == "/ws") {
    return error(bhttp::status::upgrade_required, request, "this is a WebSocket endpoint", "ws");
  }

  const auto target = resolve_static(request.target());
  const std::string_view route = target.kind == StaticTarget::Kind::kAppRoute ? "app" : "static";
  if (target.kind != StaticTarget::Kind::kNotFound && !get_or_head) return only_get(route);
  auto file = files_.load(target);
  if (!file) {
    if (target.kind == StaticTarget::Kind::kAppRoute && !files_.has_client()) {
      return error(bhttp::status::service_unavailable, request,
                   "the browser client is not built (run the build, or set http.web_root)", route);
    }
    return error(bhttp::status::not_found, request, "not found", "not_found");
  }
  auto res = make(bhttp::status::ok, request.version(), request.keep_alive(), std::move(file->body),
                  file->content_type, route);
  res.set(bhttp::field::cache_control, file->cache_control);
  return finish(std::move(res));
}

std::optional<Response> Router::check_upgrade(const Request& request) {
  if (path_of(request.target()) != "/ws") {
    return error(bhttp::status::not_found, request, "not found", "not_found");
  }
  // Browsers let any site open a WebSocket to any host; the Origin header is what tells a
  // page of ours from someone else's page using the visitor's cookies (CSWSH). Non-browser
  // clients (the bot) send no Origin and are accepted.
  const auto origin = request[bhttp::field::origin];
  if (!origin.empty() && !iequals(origin_authority(origin), request[bhttp::field::host])) {
    return error(bhttp::status::forbidden, request, "cross-origin WebSocket refused", "ws");
  }
  if (!upgrades_ || !upgrades_->accepting() || hooks_.draining()) {
    return error(bhttp::status::service_unavailable, request,
                 "the server is draining and accepts no new meetings", "ws");
  }
  return std::nullopt;
}

void Router::add_async(std::string path, AsyncHandler handler) {
  async_routes_.emplace_back(std::move(path), std::move(handler));
}

const Router::AsyncHandler* Router::async_handler(const Request& request) const {
  const auto path = path_of(request.target());
  for (const auto& [p, h] : async_routes_) {
    if (p == path) return &h;
    if (!p.empty() && p.back() == '/' && path.substr(0, p.size()) == p) return &h;
  }
  return nullptr;
}

Response Router::respond(bhttp::status status, const Request& request, std::string body,
                         std::string_view content_type, std::string_view route) {
  return make(status, request.version(), request.keep_alive(), std::move(body), content_type,
              route);
}

void Router::count_upgrade() {
  requests_.with({"ws", "101"}).inc();
}

}  // namespace conclave::http
