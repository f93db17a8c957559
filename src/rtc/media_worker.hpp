// A media worker: one thread, one io_context, one UDP port (its WebRtcServer) and the
// transports on it (DESIGN.md "Threading"). The control thread creates it, then talks to
// it only by posting work to io() — see app::Server and the echo endpoint — and stops it
// at shutdown. Nothing else is shared: what the control thread may read (port, announced
// address, certificate fingerprint) is fixed at construction.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <thread>

#include "rtc/webrtc_server.hpp"

namespace conclave::rtc {

class MediaWorker {
 public:
  // Opens the socket (throws StartupError). `announced_ip` is what goes into candidates.
  MediaWorker(unsigned index, const std::string& address, std::uint16_t port,
              std::string announced_ip, RtcCounters& counters);
  ~MediaWorker();

  void start();
  // Closes every transport, stops the loop and joins the thread. Idempotent.
  void stop();

  boost::asio::io_context& io() { return io_; }
  // Only from the worker's own thread (inside work posted to io()).
  WebRtcServer& server() { return *server_; }

  unsigned index() const { return index_; }
  std::uint16_t port() const { return port_; }
  const std::string& announced_ip() const { return announced_ip_; }
  const std::string& fingerprint() const { return fingerprint_; }  // "sha-256 AB:..."

 private:
  unsigned index_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<WebRtcServer> server_;
  std::string announced_ip_;
  std::string fingerprint_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace conclave::rtc
