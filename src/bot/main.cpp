// conclave-bot: headless participants for load tests and benchmarks (docs/bench.md).
// Joins a meeting through the real signaling protocol, publishes synthetic audio and
// simulcast video, subscribes to everyone, and prints what arrived: per bot and in all,
// packets, loss, one-way latency through the server (p50/p99) and join time.
//
//   conclave-bot --server http://127.0.0.1:8080 --create --bots 10 --duration 20
//   conclave-bot --server … --meeting kfx7-… --passcode … --bots 50 --publishers 1
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
#include "rtc/dtls.hpp"

namespace {

using namespace conclave;
using nlohmann::json;

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
  int bots = 1, publishers = -1, speakers = -1;
  double duration = 10, stagger_ms = 20;
  bool create = false, audio_only = false;
  app.add_option("--server", server, "The server's HTTP origin (loopback)");
  app.add_option("--meeting", base.meeting, "Meeting id");
  app.add_option("--passcode", base.passcode, "Meeting passcode");
  app.add_flag("--create", create, "Create a meeting first (server: --meeting-create anyone)");
  app.add_option("--bots", bots, "Participants in this process")->check(CLI::Range(1, 2000));
  app.add_option("--publishers", publishers, "How many of them publish (default: all)");
  app.add_option("--speakers", speakers, "How many publishers' audio says speech (default: all)");
  app.add_flag("--audio-only", audio_only, "Publish audio only");
  app.add_option("--layers", layers, "Simulcast layer bitrates in kbit/s, low to high");
  app.add_option("--fps", base.media.fps, "Video frames per second")->check(CLI::Range(1, 60));
  app.add_option("--duration", duration, "Seconds of media after the last join");
  app.add_option("--stagger", stagger_ms, "Milliseconds between joins");
  app.add_option("--bind", base.bind, "Local address for media sockets");
  app.add_option("--json", json_out, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  const auto colon = server.rfind(':');
  if (server.rfind("http://", 0) != 0 || colon == std::string::npos || colon < 7) {
    std::cerr << "conclave-bot: --server must look like http://127.0.0.1:8080\n";
    return 2;
  }
  base.host = server.substr(7, colon - 7);
  base.port = static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1)));
  base.media.layer_kbps.clear();
  for (std::size_t at = 0; at < layers.size();) {
    const auto comma = layers.find(',', at);
    base.media.layer_kbps.push_back(std::stoi(layers.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (publishers < 0) publishers = bots;
  if (speakers < 0) speakers = publishers;
  if (create) {
    std::string error;
    if (!create_meeting(base.host, base.port, base.meeting, base.passcode, error)) {
      std::cerr << "conclave-bot: " << error << "\n";
      return 1;
    }
  }
  if (base.meeting.empty()) {
    std::cerr << "conclave-bot: give --meeting and --passcode, or --create\n";
    return 2;
  }

  boost::asio::io_context io;
  const auto certificate = rtc::DtlsCertificate::generate();
  std::vector<std::unique_ptr<bot::Participant>> list;
  for (int i = 0; i < bots; ++i) {
    auto o = base;
    o.name = "bot " + std::to_string(i + 1);
    o.media.audio = i < publishers;
    o.media.video = i < publishers && !audio_only;
    o.media.speaking = i < speakers;
    list.push_back(std::make_unique<bot::Bot>(io, certificate, o, i));
  }
  boost::asio::steady_timer timer(io);
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
    timer.expires_after(std::chrono::milliseconds(static_cast<long>(duration * 1000)));
    timer.async_wait([&](const boost::system::error_code&) {
      for (auto& b : list) b->stop();
      io.stop();
    });
  };
  start_next();
  io.run();

  // Results.
  std::vector<std::uint32_t> all_latency;
  std::vector<std::uint32_t> joins;
  std::uint64_t received = 0, expected = 0, sent = 0;
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
    });
  }
  const double loss = expected
                          ? 100.0 * static_cast<double>(expected - std::min(expected, received)) /
                                static_cast<double>(expected)
                          : 0;
  std::vector<std::uint32_t> j = joins;
  const json total{{"bots", bots},
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
  std::printf(
      "total: bots=%d failed=%d sent=%llu received=%llu loss=%.3f%% latency_p50_us=%.0f "
      "latency_p99_us=%.0f join_p50_ms=%.0f\n",
      bots, failed, static_cast<unsigned long long>(sent),
      static_cast<unsigned long long>(received), loss, total["p50_us"].get<double>(),
      total["p99_us"].get<double>(), total["join_p50_ms"].get<double>());
  if (!json_out.empty()) std::ofstream(json_out) << json{{"total", total}, {"bots", out}}.dump(2);
  return failed ? 1 : 0;
}
