// Fuzzes the signaling requests of docs/protocol.md end to end on the control thread: the
// real meeting::Conference behind a real signal::Dispatcher and signal::Hub, with one real
// rtc::MediaWorker (127.0.0.1, port 0, never started: its io_context is polled here, so the
// commands the Conference posts run on this thread, in order) and a real sfu::Engine on it.
//
// Input: lines. A line's first byte picks one of three connections (byte % 3); the rest is
// one text message from it. An empty rest closes that connection (Hub::detach, which runs
// the Conference's on_closed handler, as when a WebSocket ends) and the slot gets a new one,
// like a browser that reconnects. A line starting "#!" is a directive: 'g' (first line
// only) sets meeting.reconnect_grace to 0, 'm' (first line only) sets max_participants to 2,
// 'd' drains the server from then on. Before dispatch, placeholders are replaced with what
// the server handed out, so that inputs can name things whose ids are random:
//   $p0..$p2  participant id of slot 0..2 (its last join)     $r0..$r2  its reconnect token
//   $t0..$t9  the n-th track id seen (publish results, track_published events)
//   $v        the version of the latest subscribe_offer this slot's connection received
//   $a / $b   a browser-like answer to that offer (JSON-escaped SDP; $b with another
//             DTLS fingerprint, i.e. a new RTCPeerConnection)
//
// The store is a real SqliteStore in a temporary directory, made once per World, holding
// the meetings inputs may join (issue 7: a join never creates a meeting): "standup-42" and
// "other-room" (no passcode, no waiting room, joining before the host allowed: the shape
// of the older inputs), "lobby-1" (passcode "fuzzpass01", host key
// "fuzzhostkey0000000000000000", the default settings: waiting room on) and "owned-1"
// (passcode "fuzzpass02", owned by the account that slot 2 is signed in as; its saved
// settings are reset for every input).
//
// Invariants: dispatch never throws; every reply is a JSON object with an id and exactly
// one of result (an object) or error ({code, message} strings; never "internal", which
// the protocol reserves for server bugs); every event is a JSON object with a string
// "event" and no id; no event reaches the requesting connection before its reply.
//
// The control side (io_context, Hub, Dispatcher, Conference, Engine) is rebuilt for every
// input, so a crash reproduces from its input alone; the MediaWorker (socket, certificate)
// is kept and rebuilt every 1000 inputs, since its server keeps closed transports until it
// would reap them on a timer that does not run here.
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.hpp"
#include "meeting/conference.hpp"
#include "meeting/policy.hpp"
#include "rtc/counters.hpp"
#include "rtc/media_worker.hpp"
#include "sfu/counters.hpp"
#include "sfu/engine.hpp"
#include "signal/dispatcher.hpp"
#include "signal/hub.hpp"
#include "signal/session.hpp"
#include "store/sqlite_store.hpp"

namespace {

using namespace conclave;
using nlohmann::json;

constexpr std::size_t kSlots = 3;
constexpr std::size_t kMaxTracksRemembered = 32;
constexpr unsigned kInputsPerWorld = 1000;

// FUZZ_MEETING_TRACE=1 prints every request, reply and event (for reading a reproducer).
const bool kTrace = std::getenv("FUZZ_MEETING_TRACE") != nullptr;

void trace(const char* what, std::uint64_t session, std::string_view text) {
  if (!kTrace) return;
  std::fprintf(stderr, "%s %llu: %.*s\n", what, static_cast<unsigned long long>(session),
               static_cast<int>(std::min<std::size_t>(text.size(), 300)), text.data());
}

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "fuzz_meeting_requests: %s: %.*s\n", what,
               static_cast<int>(std::min<std::size_t>(text.size(), 2000)), text.data());
  std::abort();
}

// What lives across inputs: the media worker (a UDP socket and a DTLS certificate) and the
// metrics its server counts into.
struct World {
  metrics::Registry registry;
  rtc::RtcCounters rtc_counters = rtc::RtcCounters::create(registry);
  sfu::SfuCounters sfu_counters = sfu::SfuCounters::create(registry);
  metrics::Gauge& utilisation =
      registry.gauge_family("conclave_worker_loop_utilisation_permille", "fuzz", {"worker"})
          .with({"0"});
  rtc::MediaWorker worker{0, "127.0.0.1", 0, "127.0.0.1", rtc_counters};
  std::filesystem::path dir = make_dir();
  std::unique_ptr<store::SqliteStore> store = store::SqliteStore::open(dir);
  std::int64_t account = add_meetings(*store);

  ~World() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  static std::filesystem::path make_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "fuzz-meeting-XXXXXX").string();
    if (!mkdtemp(templ.data())) fail("cannot make a temporary directory", templ);
    return templ;
  }

  static std::int64_t add_meetings(store::Store& s) {
    store::Account a;
    a.email = "owner@example.org";
    a.display_name = "Owner";
    a.password_hash = "$argon2id$not-used";
    a.created_at = 1;
    const auto id = s.create_account(a);
    auto add = [&](const char* name, const char* passcode, const char* host_key,
                   std::optional<std::int64_t> owner, const nlohmann::json& settings) {
      store::MeetingRecord r;
      r.id = name;
      r.owner = owner;
      r.passcode_hash = meeting::hash_secret(passcode);
      r.host_key_hash = meeting::hash_secret(host_key);
      r.settings_json = meeting::to_json(meeting::apply_settings({}, settings, false), true).dump();
      r.created_at = r.last_used_at = 1;
      s.create_meeting(r);
    };
    const json open{{"waiting_room", false}, {"join_before_host", true}};
    add("standup-42", "", "", std::nullopt, open);
    add("other-room", "", "", std::nullopt, open);
    add("lobby-1", "fuzzpass01", "fuzzhostkey0000000000000000", std::nullopt, json::object());
    add("owned-1", "fuzzpass02", "", id, json::object());
    return id;
  }
};

struct Round;

class FakeSession final : public signal::Session {
 public:
  FakeSession(Round& round, std::size_t slot) : round_(round), slot_(slot) {}
  std::uint64_t id() const override { return id_; }
  const std::string& peer_address() const override { return address_; }
  const std::string& cookie() const override { return cookie_; }
  void send(std::string text) override;
  void close(boost::beast::websocket::close_code, std::string) override { closed_ = true; }

  std::uint64_t id_ = 0;
  bool closed_ = false;
  std::string address_ = "127.0.0.1";
  std::string cookie_;  // slot 2: "session=owner", signed in as the owner of owned-1

 private:
  Round& round_;
  std::size_t slot_;
};

struct Slot {
  std::shared_ptr<FakeSession> session;
  std::string participant = "p-none";
  std::string token = "none";
  std::int64_t offer_version = 0;
  std::string offer_sdp;
};

// One input's control side. Built afresh for every input.
struct Round {
  explicit Round(World& w, meeting::ConferenceConfig config)
      : world(w),
        hub(control, signal::HubLimits{}, dispatcher, registry, false),
        engine(world.worker.io(), world.worker.server(), world.sfu_counters, world.utilisation,
               sfu::RoomConfig{}, [this](sfu::Event event) {
                 boost::asio::post(control, [this, event = std::move(event)] {
                   if (conference) conference->on_event(event);
                 });
               }) {
    engine.start();
    world.store->update_meeting_settings("owned-1", meeting::to_json({}, true).dump());
    conference = std::make_unique<meeting::Conference>(
        control, hub, std::vector<meeting::WorkerHandle>{{&world.worker, &engine}}, registry,
        config, *world.store,
        [account = world.account](std::string_view cookie) -> std::optional<meeting::SignedIn> {
          if (cookie != "session=owner") return std::nullopt;
          return meeting::SignedIn{account, "owner@example.org", "Owner"};
        });
    conference->register_handlers(dispatcher);
    for (std::size_t i = 0; i < kSlots; ++i) connect(i);
  }

  ~Round() {
    drain();
    // Every connection drops at the end (the disconnect path, grace timers included).
    for (auto& s : slots) hub.detach(s.session->id(), signal::CloseReason::kPeer);
    drain();
    conference.reset();
    drain();  // the grace timers' cancelled waits
  }

  void connect(std::size_t i) {
    auto s = std::make_shared<FakeSession>(*this, i);
    if (i == 2) s->cookie_ = "session=owner";
    s->id_ = hub.attach(s);
    slots[i].session = std::move(s);
    slots[i].offer_version = 0;
    slots[i].offer_sdp.clear();
  }

  // Runs everything that is ready on both threads' queues, until neither has anything.
  void drain() {
    for (int rounds = 0; rounds < 10000; ++rounds) {
      control.restart();
      std::size_t n = control.poll();
      n += world.worker.io().poll();
      if (n == 0) return;
    }
    fail("the io_contexts never become idle", "");
  }

  void remember_track(const std::string& id) {
    if (std::find(tracks.begin(), tracks.end(), id) != tracks.end()) return;
    if (tracks.size() < kMaxTracksRemembered) tracks.push_back(id);
  }

  World& world;
  metrics::Registry registry;  // the Conference's and the Hub's metrics
  boost::asio::io_context control{1};
  signal::Dispatcher dispatcher;
  signal::Hub hub;
  sfu::Engine engine;
  std::unique_ptr<meeting::Conference> conference;
  std::array<Slot, kSlots> slots;
  std::vector<std::string> tracks;
  std::uint64_t dispatching = 0;  // the session whose request is being handled
};

void FakeSession::send(std::string text) {
  trace("  event ->", id_, text);
  const auto event = json::parse(text, nullptr, false);
  if (event.is_discarded() || !event.is_object()) fail("event is not a JSON object", text);
  const auto name = event.find("event");
  if (name == event.end() || !name->is_string()) fail("event without an event name", text);
  if (event.contains("id")) fail("event with an id", text);
  if (round_.dispatching == id_) fail("event sent before the reply to its request", text);
  if (*name == "subscribe_offer") {
    const auto v = event.find("version");
    const auto sdp = event.find("sdp");
    if (v == event.end() || !v->is_number_integer() || sdp == event.end() || !sdp->is_string()) {
      fail("subscribe_offer without version or sdp", text);
    }
    auto& slot = round_.slots[slot_];
    if (slot.session.get() == this) {
      slot.offer_version = v->get<std::int64_t>();
      slot.offer_sdp = sdp->get<std::string>();
    }
  } else if (*name == "track_published") {
    const auto t = event.find("track");
    if (t != event.end() && t->is_object() && t->contains("id") && (*t)["id"].is_string()) {
      round_.remember_track((*t)["id"].get<std::string>());
    }
  }
}

// A browser's answer to one of our subscribe offers: recvonly, DTLS active, its own ICE
// credentials and certificate, no candidates (ICE-lite server, the browser is controlling).
std::string answer_to(std::string_view offer, bool other_certificate) {
  std::string out;
  while (!offer.empty()) {
    const auto nl = offer.find('\n');
    std::string_view line = offer.substr(0, nl);
    offer.remove_prefix(nl == std::string_view::npos ? offer.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto starts = [&](std::string_view p) { return line.substr(0, p.size()) == p; };
    if (starts("a=ice-lite") || starts("a=candidate") || starts("a=end-of-candidates") ||
        starts("a=ssrc") || starts("a=msid:")) {
      continue;
    }
    std::string l(line);
    if (starts("a=sendonly")) {
      l = "a=recvonly";
    } else if (starts("a=setup:")) {
      l = "a=setup:active";
    } else if (starts("a=ice-ufrag:")) {
      l = "a=ice-ufrag:fzAn";
    } else if (starts("a=ice-pwd:")) {
      l = "a=ice-pwd:fuzzAnswerPassword012345";
    } else if (starts("a=fingerprint:")) {
      l = other_certificate
              ? "a=fingerprint:sha-256 "
                "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"
                "BB:CC:DD:EE:FF:00"
              : "a=fingerprint:sha-256 "
                "75:D5:5D:8C:13:75:0E:5F:CC:7B:26:45:2D:D8:EA:76:C2:84:21:6A:DC:9D:EA:F4:68:B4:"
                "25:D0:59:3E:18:27";
    } else if (starts("o=")) {
      l = "o=- 6021918862978307879 2 IN IP4 127.0.0.1";
    }
    out += l;
    out += "\r\n";
  }
  return out;
}

std::string escaped(const std::string& s) {
  auto quoted = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::string expand(Round& round, std::size_t slot, std::string_view text) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char k = i + 1 < text.size() ? text[i + 1] : '\0';
    const char d = i + 2 < text.size() ? text[i + 2] : '\0';
    const bool digit = d >= '0' && d <= '9';
    const std::size_t n = digit ? static_cast<std::size_t>(d - '0') : 0;
    if (c != '$') {
      out += c;
    } else if (k == 'p' && digit) {
      out += round.slots[n % kSlots].participant;
      i += 2;
    } else if (k == 'r' && digit) {
      out += round.slots[n % kSlots].token;
      i += 2;
    } else if (k == 't' && digit) {
      out += n < round.tracks.size() ? round.tracks[n] : std::string("t-none");
      i += 2;
    } else if (k == 'v') {
      out += std::to_string(round.slots[slot].offer_version);
      i += 1;
    } else if (k == 'a' || k == 'b') {
      out += escaped(answer_to(round.slots[slot].offer_sdp, k == 'b'));
      i += 1;
    } else {
      out += c;
    }
  }
  return out;
}

void check_reply(Round& round, std::size_t slot, const std::string& reply) {
  const auto r = json::parse(reply, nullptr, false);
  if (r.is_discarded() || !r.is_object()) fail("reply is not a JSON object", reply);
  if (!r.contains("id")) fail("reply without id", reply);
  const bool result = r.contains("result"), error = r.contains("error");
  if (result == error) fail("reply without exactly one of result and error", reply);
  if (error) {
    const auto& e = r["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
        !e["message"].is_string()) {
      fail("malformed error", reply);
    }
    if (e["code"] == "internal") fail("internal error (a server bug)", reply);
    return;
  }
  const auto& res = r["result"];
  if (!res.is_object()) fail("result is not an object", reply);
  // Remember what the server handed out, for the placeholders.
  if (const auto p = res.find("participant"); p != res.end() && p->is_object()) {
    if (p->contains("id") && (*p)["id"].is_string())
      round.slots[slot].participant = (*p)["id"].get<std::string>();
    if (const auto t = res.find("reconnect_token"); t != res.end() && t->is_string())
      round.slots[slot].token = t->get<std::string>();
  }
  if (const auto ts = res.find("tracks"); ts != res.end() && ts->is_array()) {
    for (const auto& t : *ts) {
      if (t.is_object() && t.contains("id") && t["id"].is_string())
        round.remember_track(t["id"].get<std::string>());
    }
  }
}

std::unique_ptr<World> the_world;
unsigned input_count = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!the_world || ++input_count % kInputsPerWorld == 0) {
    spdlog::set_level(spdlog::level::off);
    the_world.reset();
    the_world = std::make_unique<World>();
  }
  std::string_view input(reinterpret_cast<const char*>(data), size);

  meeting::ConferenceConfig config;
  if (input.substr(0, 2) == "#!") {
    const auto first = input.substr(0, input.find('\n'));
    if (first.find('g') != std::string_view::npos) config.reconnect_grace = std::chrono::seconds(0);
    if (first.find('m') != std::string_view::npos) config.max_participants = 2;
  }
  Round round(*the_world, config);

  while (!input.empty()) {
    const auto nl = input.find('\n');
    const auto line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (line.empty()) continue;
    if (line.substr(0, 2) == "#!") {
      if (line.find('d') != std::string_view::npos) round.conference->set_draining();
      continue;
    }
    const std::size_t slot = static_cast<unsigned char>(line[0]) % kSlots;
    auto& session = *round.slots[slot].session;
    if (line.size() == 1) {
      // The connection ends; the browser comes back on a new one.
      trace("closed", session.id(), "");
      round.hub.detach(session.id(), signal::CloseReason::kPeer);
      round.connect(slot);
      round.drain();
      continue;
    }
    const auto text = expand(round, slot, line.substr(1));
    std::string reply;
    trace("request <-", session.id(), text);
    round.dispatching = session.id();
    try {
      reply = round.dispatcher.dispatch(session, text);
    } catch (...) {
      fail("an exception escaped dispatch", text);
    }
    round.dispatching = 0;
    trace("  reply ->", session.id(), reply);
    check_reply(round, slot, reply);
    round.drain();
    // A connection the server closed (leave, replaced) ends, and the slot reconnects.
    for (std::size_t i = 0; i < kSlots; ++i) {
      if (round.slots[i].session->closed_) {
        round.hub.detach(round.slots[i].session->id(), signal::CloseReason::kServer);
        round.connect(i);
        round.drain();
      }
    }
  }
  return 0;
}
