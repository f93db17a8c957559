// The conclave server process: owns the control thread's io_context and everything on it
// (store, metrics, HTTP listener, signaling hub) and the shutdown sequence. Media worker
// threads (rtc/, sfu/) will be started and stopped from here too.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

#include "app/config.hpp"
#include "auth/api.hpp"
#include "common/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "meeting/conference.hpp"
#include "rtc/counters.hpp"
#include "rtc/media_worker.hpp"
#include "sfu/counters.hpp"
#include "sfu/engine.hpp"
#include "signal/dispatcher.hpp"
#include "signal/hub.hpp"
#include "store/store.hpp"

namespace conclave::app {

class Server {
 public:
  // Opens the store, prepares TLS and binds the port. Throws StartupError (one line that
  // names the problem) when any of that fails.
  explicit Server(const Config& config);
  ~Server();

  // Serves until drained or stopped; returns the process exit code.
  int run();

 private:
  void on_signal(int signal_number);
  void begin_drain();
  void finish(const char* why);
  std::string health_body() const;
  void start_media_workers();
  void stop_media_workers();
  void start_conference();
  boost::asio::awaitable<http::Response> handle_echo(const http::Request& request);

  Config config_;
  boost::asio::io_context io_{1};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  metrics::Registry registry_;
  metrics::Gauge& draining_gauge_;
  std::unique_ptr<http::StaticFiles> files_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<auth::Api> api_;  // outlives conference_, which asks it who is signed in
  signal::Dispatcher dispatcher_;
  std::unique_ptr<signal::Hub> hub_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<rtc::RtcCounters> rtc_counters_;
  std::vector<std::unique_ptr<rtc::MediaWorker>> workers_;  // Allocated by this.
  std::unique_ptr<sfu::SfuCounters> sfu_counters_;
  // One per worker; destroyed before the workers (declared after them), stopped on their
  // threads in finish().
  std::vector<std::unique_ptr<sfu::Engine>> engines_;
  std::unique_ptr<meeting::Conference> conference_;
  std::size_t next_worker_ = 0;
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer drain_timer_{io_};
  boost::asio::steady_timer retention_timer_{io_};
  void schedule_retention();
  void sweep();
  bool draining_ = false;
  bool finished_ = false;
};

// The directory holding the running executable (for the default web root).
std::filesystem::path executable_dir();

}  // namespace conclave::app
