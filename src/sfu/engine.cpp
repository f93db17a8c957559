#include "sfu/engine.hpp"

#include <time.h>

#include <boost/asio/post.hpp>

namespace conclave::sfu {

namespace {

constexpr std::chrono::milliseconds kTick{20};

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

Engine::Engine(boost::asio::io_context& io, rtc::WebRtcServer& server, SfuCounters& counters,
               metrics::Gauge& utilisation, RoomConfig config, EventSink sink)
    : io_(io),
      server_(server),
      counters_(counters),
      utilisation_(utilisation),
      config_(config),
      sink_(std::move(sink)),
      timer_(io) {}

Engine::~Engine() = default;

void Engine::start() {
  boost::asio::post(io_, [this] {
    last_cpu_ns_ = thread_cpu_ns();
    last_sample_ = Clock::now();
    tick();
  });
}

void Engine::stop() {
  stopped_ = true;
  timer_.cancel();
  rooms_.clear();
}

Room& Engine::room(RoomId id) {
  auto& slot = rooms_[id];
  if (!slot) {
    slot = std::make_unique<Room>(id, server_, counters_, config_, sink_, scratch_);
  }
  return *slot;
}

Room* Engine::find_room(RoomId id) {
  const auto it = rooms_.find(id);
  return it == rooms_.end() ? nullptr : it->second.get();
}

void Engine::remove_participant(RoomId id, ParticipantId participant) {
  Room* r = find_room(id);
  if (!r) return;
  r->remove_participant(participant);
  if (r->empty()) rooms_.erase(id);
}

void Engine::tick() {
  if (stopped_) return;
  const auto now = Clock::now();
  for (auto& [id, room] : rooms_) room->on_tick(now);
  // Loop utilisation: the worker thread's CPU time over wall time, sampled each second.
  if (++ticks_ % 50 == 0) {
    const auto cpu = thread_cpu_ns();
    const auto wall =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_sample_).count();
    if (wall > 0) utilisation_.set((cpu - last_cpu_ns_) * 1000 / wall);
    last_cpu_ns_ = cpu;
    last_sample_ = now;
  }
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

}  // namespace conclave::sfu
