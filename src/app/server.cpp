#include "app/server.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <csignal>
#include <nlohmann/json.hpp>

#include <openssl/rand.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>

#include "common/startup_error.hpp"
#include "common/unix_time.hpp"
#include "http/tls.hpp"
#include "rtc/echo_session.hpp"
#include "rtc/sdp.hpp"
#include "store/sqlite_store.hpp"

namespace conclave::app {

namespace asio = boost::asio;

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

std::unique_ptr<asio::ssl::context> make_tls(const Config& config) {
  switch (config.effective_tls_mode()) {
    case TlsMode::kFiles:
      return http::make_tls_context(config.tls.cert, config.tls.key);
    case TlsMode::kSelfSigned: {
      std::vector<std::string> names{"localhost"};
      if (auto h = host_name(); !h.empty() && h != "localhost") names.push_back(h);
      std::vector<std::string> ips{"127.0.0.1", "::1"};
      const auto& a = config.http.address;
      if (a != "0.0.0.0" && a != "::" && a != "127.0.0.1" && a != "::1") ips.push_back(a);
      const auto paths = http::ensure_self_signed(config.server.data_dir / "tls", names, ips);
      spdlog::info("TLS: {} self-signed certificate {}", paths.generated ? "generated" : "using",
                   paths.cert.string());
      return http::make_tls_context(paths.cert, paths.key);
    }
    case TlsMode::kOff:
    case TlsMode::kAuto:
      break;
  }
  return nullptr;
}

}  // namespace

Server::Server(const Config& config)
    : config_(config),
      draining_gauge_(registry_.gauge("conclave_draining",
                                      "1 while the server drains before exiting, else 0.")) {
  try {
    store_ = store::SqliteStore::open(config_.server.data_dir);
  } catch (const store::StoreError& e) {
    throw StartupError(e.what());
  }
  tls_ = make_tls(config_);
  if (config_.meeting.create == "accounts" && config_.auth.signup == "closed" &&
      store_->account_count() == 0) {
    spdlog::warn(
        "no accounts yet, and only signed-in users may create meetings: create the first "
        "administrator with: conclave admin create-user --admin --email you@example.org "
        "--name \"Your Name\"");
  }

  metrics::register_process_metrics(registry_);
  const auto web_root =
      config_.http.web_root.empty() ? executable_dir() / "web" : config_.http.web_root;
  files_ = std::make_unique<http::StaticFiles>(web_root);
  if (!files_->has_client()) {
    spdlog::warn("no browser client in {} (build it, or set http.web_root)", web_root.string());
  }
  router_ = std::make_unique<http::Router>(
      tls_ != nullptr, *files_, registry_,
      http::Router::Hooks{
          .ready = [this] { return !draining_ && store_->healthy(); },
          .draining = [this] { return draining_; },
          .health_body = [this] { return health_body(); },
      });
  hub_ = std::make_unique<signal::Hub>(
      io_,
      signal::HubLimits{.max_message_bytes = config_.websocket.max_message_bytes,
                        .idle_timeout = config_.websocket.idle_timeout},
      dispatcher_, registry_, tls_ != nullptr);
  router_->set_upgrades(hub_.get());
  {
    const auto signup = config_.auth.signup == "open"     ? auth::Signup::kOpen
                        : config_.auth.signup == "invite" ? auth::Signup::kInvite
                                                          : auth::Signup::kClosed;
    api_ = std::make_unique<auth::Api>(
        io_, *store_, *router_, registry_,
        auth::ApiConfig{.signup = signup,
                        .session_ttl = config_.auth.session_ttl,
                        .tls = tls_ != nullptr,
                        .create = config_.meeting.create == "anyone"
                                      ? meeting::CreatePolicy::kAnyone
                                      : meeting::CreatePolicy::kAccounts,
                        .signin_failures = {.free = config_.limits.signin_failures,
                                            .window = config_.limits.window,
                                            .backoff_max = config_.limits.backoff_max}});
    api_->install();
  }
  http_ = std::make_unique<http::Server>(io_, *router_, tls_.get());
  http_->listen(config_.http.address, config_.http.port);
  rtc_counters_ = std::make_unique<rtc::RtcCounters>(rtc::RtcCounters::create(registry_));
  start_media_workers();
  try {
    start_conference();
    if (config_.rtc.echo) {
      spdlog::warn("rtc.echo is on: POST /rtc/echo sends media back to its sender (tests only)");
      router_->add_async("/rtc/echo", [this](const http::Request& r, const std::string&) {
        return handle_echo(r);
      });
    }
  } catch (...) {
    // ~Server does not run for a constructor that throws: stop the threads here, before
    // the members they use are destroyed.
    stop_media_workers();
    throw;
  }
}

void Server::start_media_workers() {
  const auto& rtc = config_.rtc;
  unsigned count = rtc.workers ? rtc.workers : std::max(1u, std::thread::hardware_concurrency());
  std::string announced = rtc.announced_ip.empty() ? rtc.address : rtc.announced_ip;
  if (announced == "0.0.0.0" || announced == "::") {
    throw StartupError("rtc.address " + rtc.address +
                       " listens on every address: set rtc.announced_ip to the one browsers "
                       "should send media to");
  }
  for (unsigned i = 0; i < count; ++i) {
    const std::uint16_t port = rtc.port ? static_cast<std::uint16_t>(rtc.port + i) : 0;
    workers_.push_back(
        std::make_unique<rtc::MediaWorker>(i, rtc.address, port, announced, *rtc_counters_));
  }
  for (auto& w : workers_) w->start();
  spdlog::info("{} media worker(s) on UDP {}:{}{}", workers_.size(), rtc.address,
               workers_.front()->port(), workers_.size() > 1 ? "+" : "");
}

void Server::start_conference() {
  sfu_counters_ = std::make_unique<sfu::SfuCounters>(sfu::SfuCounters::create(registry_));
  auto& utilisation = registry_.gauge_family(
      "conclave_worker_loop_utilisation_permille",
      "CPU time of each media worker thread over wall time, in thousandths (1000 = busy).",
      {"worker"});
  std::vector<meeting::WorkerHandle> handles;
  for (auto& w : workers_) {
    auto sink = [this](sfu::Event event) {
      asio::post(io_, [this, event = std::move(event)] {
        if (conference_) conference_->on_event(event);
      });
    };
    // Built here, used only on the worker's thread from now on.
    engines_.push_back(std::make_unique<sfu::Engine>(
        w->io(), w->server(), *sfu_counters_, utilisation.with({std::to_string(w->index())}),
        sfu::RoomConfig{.last_n = config_.sfu.last_n}, std::move(sink)));
    engines_.back()->start();
    handles.push_back({w.get(), engines_.back().get()});
  }
  const auto& limits = config_.limits;
  meeting::ConferenceConfig conference_config{
      .reconnect_grace = config_.meeting.reconnect_grace,
      .max_participants = config_.meeting.max_participants,
      .create = config_.meeting.create == "anyone" ? meeting::CreatePolicy::kAnyone
                                                   : meeting::CreatePolicy::kAccounts,
      .joins_per_address = {.free = limits.join_attempts,
                            .window = std::chrono::seconds(60),
                            .backoff_max = limits.backoff_max},
      .passcode_failures_per_address = {.free = limits.passcode_failures,
                                        .window = limits.window,
                                        .backoff_max = limits.backoff_max},
      .passcode_failures_per_meeting = {.free = limits.meeting_passcode_failures,
                                        .window = limits.window,
                                        .backoff_max = limits.backoff_max}};
  conference_ = std::make_unique<meeting::Conference>(
      io_, *hub_, std::move(handles), registry_, conference_config, *store_,
      [api = api_.get()](std::string_view cookie) { return api->who(cookie); });
  conference_->register_handlers(dispatcher_);
  api_->set_conference(conference_.get());
  schedule_retention();
}

// Retention (docs/privacy.md): meetings unused for retention.meeting_days and expired
// sign-in sessions are deleted (rows removed; secure_delete zeroes them; the checkpoint
// clears the WAL). Running meetings are kept.
void Server::schedule_retention() {
  retention_timer_.expires_after(config_.retention.sweep_interval);
  retention_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || draining_) return;
    sweep();
    schedule_retention();
  });
}

void Server::sweep() {
  const auto now = unix_now();
  try {
    const auto cutoff = now - static_cast<std::int64_t>(config_.retention.meeting_days) * 86400;
    const auto live = conference_ ? conference_->live_meeting_ids() : std::vector<std::string>{};
    const auto gone = store_->delete_meetings_unused_since(cutoff, live);
    store_->delete_expired_sessions(now);
    if (gone > 0) {
      store_->checkpoint();
      spdlog::info("retention: deleted {} meeting(s) unused for {} day(s)", gone,
                   config_.retention.meeting_days);
    }
  } catch (const store::StoreError& e) {
    spdlog::warn("retention sweep failed: {}", e.what());
  }
}

void Server::stop_media_workers() {
  for (std::size_t i = 0; i < engines_.size(); ++i) {
    asio::post(workers_[i]->io(), [engine = engines_[i].get()] { engine->stop(); });
  }
  for (auto& w : workers_) w->stop();
}

namespace {

// Runs on the worker's thread. A plain coroutine function, not a lambda: its by-value
// parameters live in its own frame, whereas a coroutine lambda's captures live in a
// closure object that co_spawn may have moved away by the time the body runs.
asio::awaitable<void> add_echo_transport(rtc::MediaWorker& worker,
                                         rtc::WebRtcTransport::Parameters params) {
  worker.server().add_transport(std::move(params), std::make_unique<rtc::EchoSession>());
  co_return;
}

}  // namespace

asio::awaitable<http::Response> Server::handle_echo(const http::Request& request) {
  namespace bhttp = boost::beast::http;
  if (request.method() != bhttp::verb::post) {
    auto res = router_->error(bhttp::status::method_not_allowed, request, "use POST", "rtc_echo");
    res.set(bhttp::field::allow, "POST");
    co_return res;
  }
  auto parsed = rtc::sdp::parse_sdp(request.body());
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&parsed)) {
    co_return router_->error(bhttp::status::bad_request, request,
                             fmt::format("offer line {}: {}", e->line, e->message), "rtc_echo");
  }
  const auto& offer = std::get<rtc::sdp::SessionDescription>(parsed);
  auto transport = rtc::sdp::transport_of(offer);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&transport)) {
    co_return router_->error(bhttp::status::bad_request, request, "offer: " + e->message,
                             "rtc_echo");
  }
  const auto& remote = std::get<rtc::sdp::TransportParameters>(transport);
  if (draining_) {
    co_return router_->error(bhttp::status::service_unavailable, request, "the server is draining",
                             "rtc_echo");
  }

  auto& worker = *workers_[next_worker_++ % workers_.size()];
  rtc::WebRtcTransport::Parameters params;
  params.ice = rtc::IceLiteAgent::generate(remote.ice_ufrag);
  // Browsers offer actpass; we then take the DTLS server role and answer passive.
  const bool we_are_client = remote.setup == rtc::sdp::Setup::kPassive;
  params.dtls_role = we_are_client ? rtc::DtlsRole::kClient : rtc::DtlsRole::kServer;
  params.remote_fingerprint.algorithm = rtc::DtlsHashAlgorithm::kSha256;
  std::copy(remote.fingerprint.digest.begin(), remote.fingerprint.digest.end(),
            params.remote_fingerprint.digest.begin());
  params.remote_fingerprint.size = remote.fingerprint.digest.size();
  const rtc::sdp::LocalTransport local{params.ice.local_ufrag, params.ice.local_pwd,
                                       worker.fingerprint(),   worker.announced_ip(),
                                       worker.port(),          we_are_client};
  auto answer = rtc::sdp::write_echo_answer(offer, local);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&answer)) {
    co_return router_->error(bhttp::status::bad_request, request, "offer: " + e->message,
                             "rtc_echo");
  }
  // The transport is created on its worker's thread; this coroutine waits without
  // blocking the control thread, then answers.
  co_await asio::co_spawn(worker.io(), add_echo_transport(worker, std::move(params)),
                          asio::use_awaitable);
  co_return router_->respond(bhttp::status::created, request,
                             std::move(std::get<std::string>(answer)), "application/sdp",
                             "rtc_echo");
}

Server::~Server() {
  // Normally done in finish(); this covers a run() that ended by an exception, so no
  // engine is destroyed while its worker still runs. Idempotent.
  stop_media_workers();
}

std::string Server::health_body() const {
  const bool store_ok = store_->healthy();
  const char* status = draining_ ? "draining" : store_ok ? "ok" : "store_unavailable";
  return nlohmann::json{{"status", status}, {"version", CONCLAVE_VERSION}}.dump();
}

int Server::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal_fn;
  on_signal_fn = [this, &on_signal_fn](const boost::system::error_code& ec, int number) {
    if (ec) return;
    on_signal(number);
    signals_.async_wait(on_signal_fn);
  };
  signals_.async_wait(on_signal_fn);

  http_->start();
  const auto& a = config_.http.address;
  const auto host = a.find(':') != std::string::npos ? "[" + a + "]" : a;
  spdlog::info("conclave {} listening on {}://{}:{} (data directory {})", CONCLAVE_VERSION,
               tls_ ? "https" : "http", host, http_->port(),
               std::filesystem::absolute(config_.server.data_dir).string());
  io_.run();
  spdlog::info("stopped");
  return 0;
}

void Server::on_signal(int number) {
  if (!draining_) {
    spdlog::info(
        "{} received: draining for up to {} s (healthz 503, no new meetings); "
        "send it again to stop at once",
        number == SIGINT ? "SIGINT" : "SIGTERM", config_.server.drain_timeout.count());
    begin_drain();
    return;
  }
  spdlog::warn("second signal: stopping now");
  spdlog::default_logger()->flush();
  std::_Exit(128 + number);
}

void Server::begin_drain() {
  draining_ = true;
  draining_gauge_.set(1);
  if (conference_) conference_->set_draining();
  hub_->stop_accepting([this] { finish("every meeting connection has ended"); });
  if (finished_) return;
  drain_timer_.expires_after(config_.server.drain_timeout);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    spdlog::info("drain timeout: closing {} connection(s)", hub_->size());
    hub_->close_all(boost::beast::websocket::close_code::going_away, "server shutting down");
    // Give the closing handshakes a moment; finish() runs earlier if they all complete.
    drain_timer_.expires_after(std::chrono::seconds(2));
    drain_timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e) finish("drain timeout");
    });
  });
}

void Server::finish(const char* why) {
  if (finished_) return;
  finished_ = true;
  spdlog::info("drained: {}", why);
  drain_timer_.cancel();
  retention_timer_.cancel();
  http_->close();
  stop_media_workers();
  signals_.cancel();
  io_.stop();
}

}  // namespace conclave::app
