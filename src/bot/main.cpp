// conclave-bot: headless participants for load tests and benchmarks (docs/bench.md).
// Joins a meeting through the real signaling protocol, publishes synthetic audio and
// simulcast video, subscribes to everyone, and prints what arrived: per bot and in all,
// packets, loss, one-way latency through the server (p50/p99) and join time.
//
//   conclave-bot --server http://127.0.0.1:8080 --create --bots 10 --duration 20
//   conclave-bot --server … --meeting kfx7-… --passcode … --bots 50 --publishers 1
//   conclave-bot --janus ws://10.255.255.1:8188 --room 1234 --bots 10 --bind 10.255.255.1
// With --janus the same participants join a room of Janus's VideoRoom plugin instead
// (bot/janus.hpp), so that one table compares the two servers.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bot/bot.hpp"
#include "bot/janus.hpp"
#include "bot/server_usage.hpp"
#include "rtc/dtls.hpp"

namespace {

using namespace conclave;
using nlohmann::json;

const bot::Bot* bot_of(const bot::Participant& p) {
  return dynamic_cast<const bot::Bot*>(&p);
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// POST /api/meetings as a guest (the server runs with --meeting-create anyone): a meeting
// everyone enters at once.
bool create_meeting(const std::string& host, std::uint16_t port, std::string& id,
                    std::string& passcode, std::string& error) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address(host), port});
    http::request<http::string_body> req{http::verb::post, "/api/meetings", 11};
    const std::string origin = "http://" + host + ":" + std::to_string(port);
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::origin, origin);
    req.set(http::field::content_type, "application/json");
    req.body() = json{{"settings", {{"waiting_room", false}, {"join_before_host", true}}}}.dump();
    req.prepare_payload();
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    if (res.result_int() != 201) {
      error = "creating a meeting: HTTP " + std::to_string(res.result_int()) + " " + res.body();
      return false;
    }
    const auto body = json::parse(res.body());
    id = body.at("id");
    passcode = body.at("passcode");
    return true;
  } catch (const std::exception& e) {
    error = std::string("creating a meeting: ") + e.what();
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"conclave-bot: headless meeting participants for load tests"};
  std::string server = "http://127.0.0.1:8080", json_out, layers = "150,500,1500";
  bot::BotOptions base;
  int bots = 1, publishers = -1, speakers = -1, meetings = 1;
  double duration = 10, stagger_ms = 20, warmup = 0;
  pid_t server_pid = 0;
  bool create = false, audio_only = false;
  std::string janus_url;
  std::uint64_t room = 1234;
  app.add_option("--server", server, "The server's HTTP origin (loopback)");
  app.add_option("--meeting", base.meeting, "Meeting id");
  app.add_option("--passcode", base.passcode, "Meeting passcode");
  app.add_option("--cookie", base.cookie,
                 "Join signed in: the session cookie of an account (name=value)");
  app.add_option("--host-key", base.host_key, "Join with a guest meeting's host key");
  app.add_flag("--create", create,
               "Create a meeting first (server: --meeting-create anyone); with --janus the "
               "first bot always creates the room");
  app.add_option("--janus", janus_url,
                 "Run against Janus's VideoRoom instead: its WebSocket URL, "
                 "e.g. ws://10.255.255.1:8188");
  app.add_option("--room", room, "With --janus: the VideoRoom room number")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 53));
  app.add_option("--bots", bots, "Participants in this process")->check(CLI::Range(1, 2000));
  app.add_option("--meetings", meetings,
                 "With --create (or --janus): split the bots over this many meetings (rooms)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--publishers", publishers, "How many publish, per meeting (default: all)");
  app.add_option("--speakers", speakers,
                 "How many publishers speak, per meeting (the others are muted)");
  app.add_option("--warmup", warmup, "Seconds after the last join before measuring starts");
  app.add_option("--server-pid", server_pid, "Measure this process's CPU and memory too");
  app.add_flag("--audio-only", audio_only, "Publish audio only");
  app.add_flag("--e2ee", base.e2ee,
               "End-to-end encrypt media as the browser does (our server only, docs/e2ee.md)");
  app.add_option("--layers", layers, "Simulcast layer bitrates in kbit/s, low to high");
  app.add_option("--fps", base.media.fps, "Video frames per second")->check(CLI::Range(1, 60));
  app.add_option("--duration", duration, "Seconds of media after the last join");
  app.add_option("--stagger", stagger_ms, "Milliseconds between joins");
  app.add_option("--bind", base.bind, "Local address for media sockets");
  app.add_option("--json", json_out, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  bot::JanusOptions janus;
  if (!janus_url.empty()) {
    std::string error;
    if (!bot::parse_janus_url(janus_url, janus, error)) {
      std::cerr << "conclave-bot: --janus: " << error << "\n";
      return 2;
    }
    janus.room = room;
  } else {
    const auto colon = server.rfind(':');
    if (server.rfind("http://", 0) != 0 || colon == std::string::npos || colon < 7) {
      std::cerr << "conclave-bot: --server must look like http://127.0.0.1:8080\n";
      return 2;
    }
    base.host = server.substr(7, colon - 7);
    base.port = static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1)));
  }
  base.media.layer_kbps.clear();
  for (std::size_t at = 0; at < layers.size();) {
    const auto comma = layers.find(',', at);
    base.media.layer_kbps.push_back(std::stoi(layers.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (meetings > bots) meetings = bots;
  const int per_meeting = (bots + meetings - 1) / meetings;
  if (publishers < 0) publishers = per_meeting;
  if (speakers < 0) speakers = publishers;
  std::vector<std::pair<std::string, std::string>> rooms;  // id, passcode
  if (!janus_url.empty()) {
    // Janus: rooms --room, --room + 1, ...; the first bot of each creates it, for as many
    // publishers as it has and every layer at once.
    janus.room_publishers = std::max(publishers, 1);
    janus.room_bitrate = 0;
    for (const int kbps : base.media.layer_kbps) janus.room_bitrate += kbps * 1000;
    for (int m = 0; m < meetings; ++m)
      rooms.emplace_back(std::to_string(room + static_cast<std::uint64_t>(m)), "");
  } else if (create) {
    for (int m = 0; m < meetings; ++m) {
      std::string id, passcode, error;
      if (!create_meeting(base.host, base.port, id, passcode, error)) {
        std::cerr << "conclave-bot: " << error << "\n";
        return 1;
      }
      rooms.emplace_back(id, passcode);
    }
  } else {
    rooms.emplace_back(base.meeting, base.passcode);
  }
  if (rooms.front().first.empty()) {
    std::cerr << "conclave-bot: give --meeting and --passcode, or --create\n";
    return 2;
  }

  boost::asio::io_context io;
  const auto certificate = rtc::DtlsCertificate::generate();
  std::vector<std::unique_ptr<bot::Participant>> list;
  for (int i = 0; i < bots; ++i) {
    auto o = base;
    const int j = i % per_meeting;  // place within its meeting
    o.meeting = rooms[static_cast<std::size_t>(i / per_meeting) % rooms.size()].first;
    o.passcode = rooms[static_cast<std::size_t>(i / per_meeting) % rooms.size()].second;
    o.name = "bot " + std::to_string(i + 1);
    o.media.audio = j < publishers;
    o.media.video = j < publishers && !audio_only;
    o.media.speaking = j < speakers;
    if (!janus_url.empty()) {
      auto jo = janus;
      jo.room = std::stoull(o.meeting);
      jo.create_room = j == 0;
      list.push_back(std::make_unique<bot::JanusParticipant>(io, certificate, o, jo, i));
    } else {
      list.push_back(std::make_unique<bot::Bot>(io, certificate, o, i));
    }
  }
  boost::asio::steady_timer timer(io);
  std::optional<bot::ProcessUsage> usage_start, usage_end;
  std::chrono::steady_clock::time_point measured_from{};
  double measured_s = duration;
  int started = 0;
  std::function<void()> start_next = [&] {
    if (started < bots) {
      list[static_cast<std::size_t>(started++)]->start();
      timer.expires_after(std::chrono::microseconds(static_cast<long>(stagger_ms * 1000)));
      timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) start_next();
      });
      return;
    }
    timer.expires_after(std::chrono::milliseconds(static_cast<long>(warmup * 1000)));
    timer.async_wait([&](const boost::system::error_code&) {
      for (auto& b : list) b->reset_stats();
      if (server_pid) usage_start = bot::process_usage(server_pid);
      measured_from = std::chrono::steady_clock::now();
      timer.expires_after(std::chrono::milliseconds(static_cast<long>(duration * 1000)));
      timer.async_wait([&](const boost::system::error_code&) {
        if (server_pid) usage_end = bot::process_usage(server_pid);
        measured_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_from).count();
        for (auto& b : list) b->stop();
        io.stop();
      });
    });
  };
  start_next();
  io.run();

  // Results.
  std::vector<std::uint32_t> all_latency;
  std::vector<std::uint32_t> joins;
  std::uint64_t received = 0, expected = 0, sent = 0, received_bytes = 0;
  int failed = 0;
  json out = json::array();
  std::printf("%-8s %-6s %8s %8s %6s %9s %9s %7s %8s %8s\n", "bot", "state", "join_ms", "sent",
              "in_str", "in_pkts", "expected", "loss%", "p50_us", "p99_us");
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto& b = *list[i];
    std::vector<std::uint32_t> lat;
    std::uint64_t in = 0, exp = 0;
    int streams = 0;
    for (const auto& [ssrc, s] : b.received()) {
      in += s.packets;
      received_bytes += s.bytes;
      exp += s.expected();
      if (s.packets > 10) ++streams;
      lat.insert(lat.end(), s.latency_us.begin(), s.latency_us.end());
    }
    received += in;
    expected += exp;
    sent += b.packets_sent();
    all_latency.insert(all_latency.end(), lat.begin(), lat.end());
    if (b.join_ms()) joins.push_back(static_cast<std::uint32_t>(*b.join_ms()));
    if (b.failed()) ++failed;
    const double loss =
        exp ? 100.0 * static_cast<double>(exp - std::min(exp, in)) / static_cast<double>(exp) : 0;
    const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
    std::printf("%-8zu %-6s %8.0f %8llu %6d %9llu %9llu %7.2f %8.0f %8.0f\n", i + 1,
                b.failed() ? "FAIL" : "ok", b.join_ms().value_or(-1),
                static_cast<unsigned long long>(b.packets_sent()), streams,
                static_cast<unsigned long long>(in), static_cast<unsigned long long>(exp), loss,
                p50, p99);
    if (b.failed()) std::printf("         %s\n", b.error().c_str());
    out.push_back({
        {"bot", i + 1},
        {"error", b.error()},
        {"join_ms", b.join_ms().value_or(-1)},
        {"sent", b.packets_sent()},
        {"streams", streams},
        {"received", in},
        {"expected", exp},
        {"loss_pct", loss},
        {"p50_us", p50},
        {"p99_us", p99},
        {"e2ee_frames_opened", bot_of(b) ? bot_of(b)->frames_opened() : 0},
        {"e2ee_frames_refused", bot_of(b) ? bot_of(b)->frames_refused() : 0},
        {"e2ee_key_holders", bot_of(b) ? bot_of(b)->key_holders() : 0},
        {"security_code", bot_of(b) ? bot_of(b)->security_code() : std::string()},
    });
  }
  const double loss = expected
                          ? 100.0 * static_cast<double>(expected - std::min(expected, received)) /
                                static_cast<double>(expected)
                          : 0;
  std::vector<std::uint32_t> j = joins;
  json total{{"bots", bots},
             {"meetings", static_cast<int>(rooms.size())},
             {"measured_s", measured_s},
             {"forwarded_pps", static_cast<double>(received) / measured_s},
             {"forwarded_mbps", static_cast<double>(received_bytes) * 8 / measured_s / 1e6},
             {"failed", failed},
             {"sent", sent},
             {"received", received},
             {"expected", expected},
             {"loss_pct", loss},
             {"p50_us", percentile(all_latency, 0.5)},
             {"p99_us", percentile(all_latency, 0.99)},
             {"join_p50_ms", percentile(j, 0.5)},
             {"join_p95_ms", percentile(j, 0.95)},
             {"duration_s", duration}};
  if (usage_start && usage_end) {
    const double cpu = usage_end->cpu_seconds - usage_start->cpu_seconds;
    total["server_cpu_s"] = cpu;
    total["server_cpu_us_per_forwarded_packet"] =
        received ? cpu * 1e6 / static_cast<double>(received) : 0;
    total["server_pps_per_busy_core"] = cpu > 0 ? static_cast<double>(received) / cpu : 0;
    total["server_rss_kb"] = usage_end->rss_kb;
    total["server_rss_kb_per_participant"] = static_cast<double>(usage_end->rss_kb) / bots;
    std::printf(
        "server: cpu_s=%.3f cpu_us_per_forwarded_packet=%.2f pps_per_busy_core=%.0f "
        "rss_kb=%ld\n",
        cpu, total["server_cpu_us_per_forwarded_packet"].get<double>(),
        total["server_pps_per_busy_core"].get<double>(), usage_end->rss_kb);
  }
  std::printf(
      "total: bots=%d failed=%d sent=%llu received=%llu loss=%.3f%% latency_p50_us=%.0f "
      "latency_p99_us=%.0f join_p50_ms=%.0f\n",
      bots, failed, static_cast<unsigned long long>(sent),
      static_cast<unsigned long long>(received), loss, total["p50_us"].get<double>(),
      total["p99_us"].get<double>(), total["join_p50_ms"].get<double>());
  if (!json_out.empty()) std::ofstream(json_out) << json{{"total", total}, {"bots", out}}.dump(2);
  return failed ? 1 : 0;
}
