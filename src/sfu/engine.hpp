// The SFU on one media worker: the rooms whose media this worker carries, their 20 ms
// timer, and the entry points the control thread posts commands to. Everything here runs
// on the worker's thread; the control thread only ever calls post_*() style lambdas that
// it schedules with boost::asio::post(worker.io(), …) (see meeting::Conference).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <unordered_map>

#include "common/metrics.hpp"
#include "rtc/webrtc_server.hpp"
#include "sfu/counters.hpp"
#include "sfu/room.hpp"
#include "sfu/types.hpp"

namespace conclave::sfu {

class Engine {
 public:
  // `utilisation` is this worker's conclave_worker_loop_utilisation gauge (thousandths).
  Engine(boost::asio::io_context& io, rtc::WebRtcServer& server, SfuCounters& counters,
         metrics::Gauge& utilisation, RoomConfig config, EventSink sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts the timer; call from the control thread before any command (it posts).
  void start();
  // Worker thread (called while the worker stops): closes every room.
  void stop();

  // Commands, on the worker thread. A command for a room or participant that is gone is
  // ignored: the control thread may have sent it just before a removal.
  Room& room(RoomId id);  // creates it; not after stop()
  bool stopped() const { return stopped_; }
  Room* find_room(RoomId id);
  void remove_participant(RoomId room, ParticipantId participant);
  std::size_t room_count() const { return rooms_.size(); }

 private:
  void tick();

  boost::asio::io_context& io_;
  rtc::WebRtcServer& server_;  // Passed by argument.
  SfuCounters& counters_;      // Passed by argument.
  metrics::Gauge& utilisation_;
  RoomConfig config_;
  EventSink sink_;
  std::unordered_map<RoomId, std::unique_ptr<Room>> rooms_;
  // One packet is built at a time on this thread; rooms share this buffer.
  std::array<std::uint8_t, 4096> scratch_{};
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  std::int64_t last_cpu_ns_ = 0;
  Clock::time_point last_sample_{};
  unsigned ticks_ = 0;
};

}  // namespace conclave::sfu
