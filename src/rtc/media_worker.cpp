#include "rtc/media_worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <future>

namespace conclave::rtc {

MediaWorker::MediaWorker(unsigned index, const std::string& address, std::uint16_t port,
                         std::string announced_ip, RtcCounters& counters)
    : index_(index),
      guard_(boost::asio::make_work_guard(io_)),
      server_(std::make_unique<WebRtcServer>(io_, address, port, counters)),
      announced_ip_(std::move(announced_ip)),
      fingerprint_(server_->certificate().sdp_fingerprint()),
      port_(server_->port()) {}

MediaWorker::~MediaWorker() {
  stop();
}

void MediaWorker::start() {
  server_->start();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), ("media-" + std::to_string(index_)).c_str());
    io_.run();
  });
}

void MediaWorker::stop() {
  if (!thread_.joinable()) return;
  std::promise<void> stopped;
  boost::asio::post(io_, [this, &stopped] {
    server_->stop();
    guard_.reset();
    stopped.set_value();
  });
  stopped.get_future().wait();
  io_.stop();
  thread_.join();
}

}  // namespace conclave::rtc
