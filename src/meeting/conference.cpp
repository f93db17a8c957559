#include "meeting/conference.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace conclave::meeting {

namespace asio = boost::asio;
using nlohmann::json;
using signal::RequestError;

namespace {

constexpr int kProtocolVersion = 1;
constexpr std::size_t kMaxTracks = 8;
constexpr std::size_t kMaxRelayBytes = 16 * 1024;
// parse_sdp refuses more (rtc::sdp::kMaxMediaSections); rejected sections are recycled.
constexpr std::size_t kMaxSections = rtc::sdp::kMaxMediaSections;
constexpr double kRequestsPerSecond = 50;
constexpr double kRequestBurst = 100;
// Each publish may rebuild a track's caches on the worker: fewer of those.
constexpr double kPublishesPerSecond = 5;
constexpr double kPublishBurst = 10;
// Relayed bytes a participant may send, so that one cannot fill everyone's send queue
// (1 MiB, after which the Hub closes the connection).
constexpr double kRelayBytesPerSecond = 64 * 1024;
constexpr double kRelayBurstBytes = 256 * 1024;

// Takes `cost` from a token bucket refilled at `rate` per second up to `burst`.
bool take(double& tokens, std::chrono::steady_clock::time_point& refilled, double rate,
          double burst, double cost) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - refilled).count();
  tokens = std::min(burst, tokens + elapsed * rate);
  refilled = now;
  if (tokens < cost) return false;
  tokens -= cost;
  return true;
}

std::string random_token() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::uint32_t random_ssrc() {
  std::uint32_t v = 0;
  while (v == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

const char* kind_name(sfu::MediaKind k) {
  return k == sfu::MediaKind::kAudio ? "audio" : "video";
}

const char* source_name(sfu::Source s) {
  switch (s) {
    case sfu::Source::kMicrophone:
      return "microphone";
    case sfu::Source::kCamera:
      return "camera";
    case sfu::Source::kScreen:
      return "screen";
  }
  return "camera";
}

// Field readers that turn a missing or mistyped field into bad_request naming it.
const json& field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end())
    throw RequestError(signal::errors::kBadRequest, fmt::format("'{}' is missing", name));
  return *it;
}

std::string string_field(const json& body, const char* name, std::size_t max) {
  const auto& v = field(body, name);
  if (!v.is_string())
    throw RequestError(signal::errors::kBadRequest, fmt::format("'{}' must be a string", name));
  auto s = v.get<std::string>();
  if (s.size() > max) {
    throw RequestError(signal::errors::kBadRequest,
                       fmt::format("'{}' is longer than {} bytes", name, max));
  }
  return s;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  const auto it = body.find(name);
  if (it == body.end()) return fallback;
  if (!it->is_boolean())
    throw RequestError(signal::errors::kBadRequest,
                       fmt::format("'{}' must be true or false", name));
  return it->get<bool>();
}

std::int64_t int_field(const json& body, const char* name, std::int64_t min, std::int64_t max,
                       std::int64_t fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    throw RequestError(signal::errors::kBadRequest, fmt::format("'{}' must be an integer", name));
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    throw RequestError(signal::errors::kBadRequest,
                       fmt::format("'{}' must be from {} to {}", name, min, max));
  }
  return v;
}

rtc::DtlsFingerprint to_dtls_fingerprint(const rtc::sdp::Fingerprint& f) {
  rtc::DtlsFingerprint out;
  out.algorithm = rtc::DtlsHashAlgorithm::kSha256;
  if (f.algorithm == "sha-1") out.algorithm = rtc::DtlsHashAlgorithm::kSha1;
  if (f.algorithm == "sha-384") out.algorithm = rtc::DtlsHashAlgorithm::kSha384;
  if (f.algorithm == "sha-512") out.algorithm = rtc::DtlsHashAlgorithm::kSha512;
  const std::size_t n = std::min(f.digest.size(), out.digest.size());
  std::copy_n(f.digest.begin(), n, out.digest.begin());
  out.size = n;
  return out;
}

std::string sdp_error(const rtc::sdp::ParseError& e) {
  return e.line ? fmt::format("SDP line {}: {}", e.line, e.message) : "SDP: " + e.message;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Free helpers.

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  while (v == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

std::string wire_id(char prefix, std::uint64_t value) {
  static constexpr char kBase32[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford
  std::string out{prefix, '-'};
  for (int shift = 60; shift >= 0; shift -= 5) out += kBase32[(value >> shift) & 31];
  return out;
}

bool is_meeting_id(std::string_view id) {
  if (id.size() < 3 || id.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id.front()) || !alnum(id.back())) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (alnum(id[i])) continue;
    if (id[i] != '-' || id[i - 1] == '-') return false;
  }
  return true;
}

std::optional<std::string> normalise_display_name(std::string_view name) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!name.empty() && space(name.front())) name.remove_prefix(1);
  while (!name.empty() && space(name.back())) name.remove_suffix(1);
  if (name.empty() || name.size() > 256) return std::nullopt;
  // Valid UTF-8, no C0/C1 controls or DEL, at most 64 code points, and something visible
  // (a name of no-break spaces or zero-width characters would show as nobody).
  std::size_t points = 0;
  bool visible = false;
  for (std::size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return std::nullopt;
    }
    if (i + len > name.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(name[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return std::nullopt;
    if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
      return std::nullopt;  // line separators and bidi overrides: names must not restyle text
    }
    const bool blank = cp == ' ' || cp == '\t' || cp == 0xA0 || cp == 0x1680 ||
                       (cp >= 0x2000 && cp <= 0x200F) || cp == 0x202F || cp == 0x205F ||
                       cp == 0x2060 || cp == 0x3000 || cp == 0xFEFF || cp == 0x115F ||
                       cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0;
    visible = visible || !blank;
    i += len;
    if (++points > 64) return std::nullopt;
  }
  if (!visible) return std::nullopt;
  return std::string(name);
}

// ---------------------------------------------------------------------------------------

Conference::Conference(asio::io_context& io, signal::Hub& hub, std::vector<WorkerHandle> workers,
                       metrics::Registry& registry, ConferenceConfig config)
    : io_(io),
      hub_(hub),
      workers_(std::move(workers)),
      config_(config),
      meetings_gauge_(
          registry.gauge("conclave_meetings", "Meetings with at least one participant.")),
      participants_gauge_(registry.gauge("conclave_participants",
                                         "Participants in meetings (disconnected ones in their "
                                         "grace period included).")),
      joins_(registry.counter("conclave_joins_total", "Participants that joined a meeting.")),
      leaves_(registry.counter_family("conclave_leaves_total", "Participants that left, by reason.",
                                      {"reason"})) {
  hub_.on_closed([this](std::uint64_t session) { on_session_closed(session); });
}

Conference::~Conference() {
  hub_.on_closed(nullptr);
}

template <class Fn>
void Conference::post_to_worker(const Meeting& m, Fn&& fn) {
  auto& w = workers_[m.worker];
  asio::post(w.worker->io(),
             [engine = w.engine, room = m.room, fn = std::forward<Fn>(fn)]() mutable {
               if (sfu::Room* r = engine->find_room(room)) fn(*r);
             });
}

rtc::sdp::LocalTransport Conference::local_transport(const Meeting& m,
                                                     const rtc::IceLiteAgent::Credentials& ice,
                                                     bool dtls_client) const {
  const auto& w = *workers_[m.worker].worker;
  rtc::sdp::LocalTransport local;
  local.ice_ufrag = ice.local_ufrag;
  local.ice_pwd = ice.local_pwd;
  local.fingerprint = w.fingerprint();
  local.candidate_ip = w.announced_ip();
  local.candidate_port = w.port();
  local.dtls_client = dtls_client;
  return local;
}

void Conference::register_handlers(signal::Dispatcher& d) {
  d.on("join", [this](signal::Session& s, const signal::Request& r) { return join(s, r.body); });
  auto member = [this](json (Conference::*fn)(Participant&, const json&)) {
    return [this, fn](signal::Session& s, const signal::Request& r) {
      return (this->*fn)(joined(s), r.body);
    };
  };
  d.on("publish", member(&Conference::publish));
  d.on("unpublish", member(&Conference::unpublish));
  d.on("mute", member(&Conference::mute));
  d.on("subscribe", member(&Conference::subscribe));
  d.on("unsubscribe", member(&Conference::unsubscribe));
  d.on("subscribe_answer", member(&Conference::subscribe_answer));
  d.on("ice_restart", member(&Conference::ice_restart));
  d.on("relay", member(&Conference::relay));
  d.on("leave", [this](signal::Session& s, const signal::Request&) { return leave(s, joined(s)); });
}

Conference::Participant& Conference::joined(signal::Session& session) {
  const auto it = by_session_.find(session.id());
  if (it == by_session_.end()) throw RequestError("not_joined", "send 'join' first");
  Participant& p = *it->second;
  if (!take(p.tokens, p.refilled, kRequestsPerSecond, kRequestBurst, 1)) {
    throw RequestError("rate_limited", "too many requests; slow down");
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// join / leave / disconnect

json Conference::join(signal::Session& session, const json& body) {
  if (by_session_.count(session.id()))
    throw RequestError("already_joined", "this connection has joined already");
  const auto version = int_field(body, "protocol", 0, 1'000'000, -1);
  if (version == -1) throw RequestError(signal::errors::kBadRequest, "'protocol' is missing");
  if (version != kProtocolVersion) {
    throw RequestError("unsupported_protocol",
                       fmt::format("this server speaks protocol {}", kProtocolVersion));
  }
  const auto meeting_id = string_field(body, "meeting", 64);
  if (!is_meeting_id(meeting_id)) throw RequestError("no_such_meeting", "no such meeting");
  const auto raw_name = string_field(body, "name", 512);
  const auto name = normalise_display_name(raw_name);
  if (!name) {
    throw RequestError(signal::errors::kBadRequest,
                       "'name' must be 1 to 64 characters, without control characters");
  }
  std::optional<std::string> token;
  if (const auto it = body.find("reconnect"); it != body.end() && !it->is_null()) {
    token = string_field(body, "reconnect", 64);
  }
  if (token) {
    const auto it = by_token_.find(*token);
    if (it == by_token_.end() || it->second->meeting->id != meeting_id) {
      throw RequestError("reconnect_expired", "that session has ended; join again");
    }
    Participant& p = *it->second;
    if (p.session != 0) {
      if (auto old = hub_.find(p.session)) {
        old->send(json{{"event", "closing"}, {"reason", "replaced"}}.dump());
        old->close(static_cast<boost::beast::websocket::close_code>(4001),
                   "replaced by a new connection");
      }
      by_session_.erase(p.session);
    }
    p.session = session.id();
    by_session_[p.session] = &p;
    p.grace.reset();
    // A fresh token for every resume: one that leaked is good for one takeover at most.
    by_token_.erase(p.reconnect_token);
    p.reconnect_token = random_token();
    by_token_[p.reconnect_token] = &p;
    // Whatever offer was in flight may have been lost with the old connection.
    p.offer_outstanding = false;
    p.offer_dirty = true;
    send_offer_soon(p);
    json roster = json::array();
    for (auto& other : p.meeting->participants) {
      if (other.get() != &p) roster.push_back(describe(*other));
    }
    return {{"participant", describe(p)}, {"reconnect_token", p.reconnect_token}, {"resumed", true},
            {"meeting", meeting_id},      {"roster", std::move(roster)},          {"last_n", 0}};
  }

  // Only new participants are refused while draining: a dropped one may still resume.
  if (draining_) throw RequestError("draining", "the server is shutting down; try again shortly");
  auto mit = meetings_.find(meeting_id);
  if (mit != meetings_.end() && mit->second->participants.size() >= config_.max_participants) {
    throw RequestError("meeting_full", "this meeting is full");
  }
  if (mit == meetings_.end()) {
    auto m = std::make_unique<Meeting>();
    m->id = meeting_id;
    m->room = random_u64();
    m->worker = next_worker_++ % workers_.size();
    by_room_[m->room] = m.get();
    mit = meetings_.emplace(meeting_id, std::move(m)).first;
    meetings_gauge_.add(1);
  }
  Meeting& m = *mit->second;
  auto owned = std::make_unique<Participant>();
  Participant& p = *owned;
  p.id = random_u64();
  p.wire_id = wire_id('p', p.id);
  p.name = *name;
  p.meeting = &m;
  p.session = session.id();
  p.reconnect_token = random_token();
  p.refilled = p.publish_refilled = p.relay_refilled = std::chrono::steady_clock::now();
  p.subscribe_ice = rtc::IceLiteAgent::generate("");
  p.subscribe_session_id = random_u64() >> 2;
  json roster = json::array();
  for (auto& other : m.participants) roster.push_back(describe(*other));
  m.participants.push_back(std::move(owned));
  by_session_[p.session] = &p;
  by_token_[p.reconnect_token] = &p;
  participants_gauge_.add(1);
  joins_.inc();
  const auto pid = p.id;
  {
    auto& w = workers_[m.worker];
    asio::post(w.worker->io(), [engine = w.engine, room = m.room, pid] {
      if (!engine->stopped()) engine->room(room).add_participant(pid);
    });
  }
  broadcast(m, json{{"event", "participant_joined"}, {"participant", describe(p)}}, &p);
  sync_subscriptions(p);
  return {{"participant", describe(p)}, {"reconnect_token", p.reconnect_token}, {"resumed", false},
          {"meeting", meeting_id},      {"roster", std::move(roster)},          {"last_n", 0}};
}

json Conference::leave(signal::Session& session, Participant& p) {
  remove(p, "left");
  // After the reply, which the session queues when this handler returns.
  asio::post(io_, [this, id = session.id()] {
    if (auto s = hub_.find(id)) s->close(boost::beast::websocket::close_code::normal, "left");
  });
  return json::object();
}

void Conference::on_session_closed(std::uint64_t session) {
  const auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  Participant& p = *it->second;
  by_session_.erase(it);
  p.session = 0;
  if (config_.reconnect_grace.count() == 0) {
    remove(p, "disconnected");
    return;
  }
  p.grace = std::make_unique<asio::steady_timer>(io_, config_.reconnect_grace);
  p.grace->async_wait(
      [this, room = p.meeting->room, id = p.id](const boost::system::error_code& ec) {
        if (ec) return;
        if (Participant* q = find_by_id(room, id); q && q->session == 0) remove(*q, "disconnected");
      });
}

void Conference::remove(Participant& p, const char* reason) {
  spdlog::debug("participant {} leaves meeting ({})", p.wire_id, reason);
  Meeting& m = *p.meeting;
  if (p.session) {
    by_session_.erase(p.session);
    p.session = 0;
  }
  by_token_.erase(p.reconnect_token);
  const auto pid = p.id;
  {
    auto& w = workers_[m.worker];
    asio::post(w.worker->io(),
               [engine = w.engine, room = m.room, pid] { engine->remove_participant(room, pid); });
  }
  const auto wire = p.wire_id;
  std::erase_if(m.participants, [&p](const auto& q) { return q.get() == &p; });
  participants_gauge_.add(-1);
  leaves_.with({reason}).inc();
  broadcast(m, json{{"event", "participant_left"}, {"participant", wire}, {"reason", reason}},
            nullptr);
  for (auto& other : m.participants) sync_subscriptions(*other);
  if (m.participants.empty()) {
    by_room_.erase(m.room);
    meetings_.erase(m.id);
    meetings_gauge_.add(-1);
  }
}

// ---------------------------------------------------------------------------------------
// Publishing

json Conference::publish(Participant& p, const json& body) {
  if (!take(p.publish_tokens, p.publish_refilled, kPublishesPerSecond, kPublishBurst, 1)) {
    throw RequestError("rate_limited", "too many publishes; slow down");
  }
  const auto sdp_text = string_field(body, "sdp", rtc::sdp::kMaxSdpBytes);
  const auto& list = field(body, "tracks");
  if (!list.is_array())
    throw RequestError(signal::errors::kBadRequest, "'tracks' must be an array");
  if (list.size() > kMaxTracks) {
    throw RequestError(signal::errors::kBadRequest, fmt::format("at most {} tracks", kMaxTracks));
  }
  auto parsed = rtc::sdp::parse_sdp(sdp_text);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&parsed))
    throw RequestError("bad_sdp", sdp_error(*e));
  const auto& offer = std::get<rtc::sdp::SessionDescription>(parsed);
  auto transport = rtc::sdp::transport_of(offer);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&transport))
    throw RequestError("bad_sdp", sdp_error(*e));
  const auto& remote = std::get<rtc::sdp::TransportParameters>(transport);

  // The declared tracks, checked against the offer before anything changes.
  struct Declared {
    std::string mid;
    sfu::MediaKind kind;
    sfu::Source source;
    bool muted;
  };
  std::vector<Declared> declared;
  std::size_t screens = 0;
  for (const auto& t : list) {
    if (!t.is_object())
      throw RequestError(signal::errors::kBadRequest, "each track must be an object");
    Declared d;
    d.mid = string_field(t, "mid", 32);
    const auto kind = string_field(t, "kind", 16);
    const auto source = string_field(t, "source", 16);
    d.muted = bool_field(t, "muted", false);
    if (kind == "audio") {
      d.kind = sfu::MediaKind::kAudio;
    } else if (kind == "video") {
      d.kind = sfu::MediaKind::kVideo;
    } else {
      throw RequestError(signal::errors::kBadRequest, "'kind' must be audio or video");
    }
    if (source == "microphone" && d.kind == sfu::MediaKind::kAudio) {
      d.source = sfu::Source::kMicrophone;
    } else if (source == "camera" && d.kind == sfu::MediaKind::kVideo) {
      d.source = sfu::Source::kCamera;
    } else if (source == "screen") {
      d.source = sfu::Source::kScreen;
      if (d.kind == sfu::MediaKind::kVideo) ++screens;
    } else {
      throw RequestError(signal::errors::kBadRequest,
                         "'source' must be microphone (audio), camera (video) or screen");
    }
    if (std::any_of(declared.begin(), declared.end(),
                    [&](const auto& x) { return x.mid == d.mid; })) {
      throw RequestError(signal::errors::kBadRequest, "mid " + d.mid + " is listed twice");
    }
    const auto section = std::find_if(offer.media.begin(), offer.media.end(),
                                      [&](const auto& s) { return s.mid == d.mid; });
    if (section == offer.media.end()) {
      throw RequestError(signal::errors::kBadRequest, "mid " + d.mid + " is not in the offer");
    }
    if (section->kind != kind) {
      throw RequestError(signal::errors::kBadRequest,
                         "mid " + d.mid + " is not " + kind + " in the offer");
    }
    declared.push_back(std::move(d));
  }
  if (screens > 1) throw RequestError(signal::errors::kBadRequest, "at most one screen share");

  Meeting& m = *p.meeting;
  const bool new_connection =
      !p.publish_transport || remote.fingerprint.digest != p.publish_fingerprint;
  const bool restart =
      !new_connection && p.publish_ice && p.publish_ice->remote_ufrag != remote.ice_ufrag;
  auto ice = p.publish_ice.value_or(rtc::IceLiteAgent::Credentials{});
  if (new_connection || restart) ice = rtc::IceLiteAgent::generate(remote.ice_ufrag);
  const bool we_are_client = remote.setup == rtc::sdp::Setup::kPassive;
  auto answered = rtc::sdp::answer_publish_offer(offer, local_transport(m, ice, we_are_client));
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&answered))
    throw RequestError("bad_sdp", sdp_error(*e));
  auto& answer = std::get<rtc::sdp::PublishAnswer>(answered);
  for (const auto& d : declared) {
    const auto nm = std::find_if(answer.media.begin(), answer.media.end(),
                                 [&](const auto& x) { return x.mid == d.mid; });
    if (nm == answer.media.end() || !nm->accepted) {
      throw RequestError("bad_sdp",
                         "mid " + d.mid + " has no codec this server forwards (Opus, VP8)");
    }
  }

  // Nothing can fail from here on.
  p.publish_ice = ice;
  p.publish_fingerprint = remote.fingerprint.digest;
  if (new_connection) {
    rtc::WebRtcTransport::Parameters params;
    params.ice = ice;
    params.dtls_role = we_are_client ? rtc::DtlsRole::kClient : rtc::DtlsRole::kServer;
    params.remote_fingerprint = to_dtls_fingerprint(remote.fingerprint);
    const auto pid = p.id;
    const auto generation = ++p.publish_generation;
    post_to_worker(m, [pid, generation, params = std::move(params)](sfu::Room& room) mutable {
      room.set_transport(pid, sfu::TransportRole::kPublish, generation, std::move(params));
    });
    p.publish_transport = true;
  } else if (restart) {
    const auto pid = p.id;
    post_to_worker(m, [pid, ice](sfu::Room& room) {
      room.restart_ice(pid, sfu::TransportRole::kPublish, ice);
    });
  }

  std::vector<Track> gone;
  std::vector<Track> next;
  for (const auto& t : p.tracks) {
    const bool kept = std::any_of(declared.begin(), declared.end(), [&](const auto& d) {
      return d.mid == t.mid && d.kind == t.kind && d.source == t.source;
    });
    if (!kept) gone.push_back(t);
  }
  std::vector<Track> added;
  json result_tracks = json::array();
  for (const auto& d : declared) {
    const auto nm = std::find_if(answer.media.begin(), answer.media.end(),
                                 [&](const auto& x) { return x.mid == d.mid; });
    const auto old = std::find_if(p.tracks.begin(), p.tracks.end(), [&](const auto& t) {
      return t.mid == d.mid && t.kind == d.kind && t.source == d.source;
    });
    Track t;
    if (old != p.tracks.end()) {
      t = *old;
    } else {
      t.id = random_u64();
      t.wire_id = wire_id('t', t.id);
      t.mid = d.mid;
      t.kind = d.kind;
      t.source = d.source;
      t.muted = d.muted;
    }
    t.layers =
        static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(3, nm->rids.size())));
    if (old == p.tracks.end()) added.push_back(t);
    next.push_back(t);
    result_tracks.push_back({{"mid", t.mid}, {"id", t.wire_id}});
  }
  p.tracks = std::move(next);
  post_published_tracks(p, answer);
  announce_unpublished(p, gone);
  for (const auto& t : added) {
    broadcast(m, json{{"event", "track_published"}, {"track", describe(p, t)}}, &p);
  }
  if (!gone.empty() || !added.empty()) {
    for (auto& other : m.participants) {
      if (other.get() != &p) sync_subscriptions(*other);
    }
  }
  return {{"sdp", std::move(answer.sdp)}, {"tracks", std::move(result_tracks)}};
}

void Conference::post_published_tracks(Participant& p, const rtc::sdp::PublishAnswer& answer) {
  sfu::PublishExtensions ext;
  std::vector<sfu::PublishedTrackSpec> specs;
  for (const auto& t : p.tracks) {
    const auto nm = std::find_if(answer.media.begin(), answer.media.end(),
                                 [&](const auto& x) { return x.mid == t.mid; });
    if (nm == answer.media.end()) continue;
    auto take = [](std::uint8_t& into, int id) {
      if (into == 0 && id > 0 && id < 256) into = static_cast<std::uint8_t>(id);
    };
    take(ext.mid, nm->ext_mid);
    take(ext.rid, nm->ext_rid);
    take(ext.repaired_rid, nm->ext_repaired_rid);
    take(ext.abs_send_time, nm->ext_abs_send_time);
    take(ext.transport_cc, nm->ext_transport_cc);
    take(ext.audio_level, nm->ext_audio_level);
    sfu::PublishedTrackSpec spec;
    spec.id = t.id;
    spec.mid = t.mid;
    spec.kind = t.kind;
    spec.source = t.source;
    spec.payload_type = static_cast<std::uint8_t>(nm->payload_type);
    spec.rtx_payload_type =
        nm->rtx_payload_type > 0 ? static_cast<std::uint8_t>(nm->rtx_payload_type) : 0;
    spec.clock_rate = static_cast<std::uint32_t>(nm->clock_rate);
    spec.rids = nm->rids;
    if (spec.rids.size() > sfu::kMaxLayers) spec.rids.resize(sfu::kMaxLayers);
    spec.ssrcs = nm->ssrcs;
    spec.rtx_ssrcs = nm->rtx_ssrcs;
    spec.nack = nm->nack;
    spec.muted = t.muted;
    specs.push_back(std::move(spec));
  }
  const auto pid = p.id;
  post_to_worker(*p.meeting, [pid, ext, specs = std::move(specs)](sfu::Room& room) {
    room.set_published_tracks(pid, ext, specs);
  });
}

void Conference::announce_unpublished(Participant& p, const std::vector<Track>& gone) {
  for (const auto& t : gone) {
    broadcast(
        *p.meeting,
        json{{"event", "track_unpublished"}, {"participant", p.wire_id}, {"track", t.wire_id}}, &p);
  }
}

json Conference::unpublish(Participant& p, const json& body) {
  const auto id = string_field(body, "track", 64);
  const auto it = std::find_if(p.tracks.begin(), p.tracks.end(),
                               [&](const auto& t) { return t.wire_id == id; });
  if (it == p.tracks.end()) throw RequestError("unknown_track", "no track " + id + " of yours");
  std::vector<Track> gone{*it};
  p.tracks.erase(it);
  // The worker drops the track's layers and subscriptions with it.
  const auto pid = p.id;
  const auto removed = gone.front().id;
  post_to_worker(*p.meeting, [pid, removed](sfu::Room& room) { room.unpublish(pid, removed); });
  announce_unpublished(p, gone);
  for (auto& other : p.meeting->participants) {
    if (other.get() != &p) sync_subscriptions(*other);
  }
  return json::object();
}

json Conference::mute(Participant& p, const json& body) {
  const auto id = string_field(body, "track", 64);
  const auto muted = bool_field(body, "muted", false);
  if (!body.contains("muted"))
    throw RequestError(signal::errors::kBadRequest, "'muted' is missing");
  const auto it = std::find_if(p.tracks.begin(), p.tracks.end(),
                               [&](const auto& t) { return t.wire_id == id; });
  if (it == p.tracks.end()) throw RequestError("unknown_track", "no track " + id + " of yours");
  if (it->muted != muted) {
    it->muted = muted;
    broadcast(
        *p.meeting,
        json{{"event", "track_muted"}, {"participant", p.wire_id}, {"track", id}, {"muted", muted}},
        &p);
  }
  return json::object();
}

// ---------------------------------------------------------------------------------------
// Subscribing

json Conference::subscribe(Participant& p, const json& body) {
  const auto id = string_field(body, "track", 64);
  Participant* owner = nullptr;
  const Track* t = find_track(*p.meeting, id, &owner);
  if (!t || owner == &p) throw RequestError("unknown_track", "no remote track " + id);
  sfu::Preference pref;
  const auto quality =
      body.contains("quality") ? string_field(body, "quality", 16) : std::string("high");
  if (quality == "off") {
    pref.quality = sfu::Preference::Quality::kOff;
  } else if (quality == "low") {
    pref.quality = sfu::Preference::Quality::kLow;
  } else if (quality == "medium") {
    pref.quality = sfu::Preference::Quality::kMedium;
  } else if (quality == "high") {
    pref.quality = sfu::Preference::Quality::kHigh;
  } else {
    throw RequestError(signal::errors::kBadRequest, "'quality' must be off, low, medium or high");
  }
  pref.max_width = static_cast<std::uint16_t>(int_field(body, "width", 0, 16384, 0));
  pref.max_height = static_cast<std::uint16_t>(int_field(body, "height", 0, 16384, 0));
  p.preferences[t->id] = pref;
  if (p.unsubscribed.erase(t->id)) sync_subscriptions(p);
  const auto pid = p.id;
  const auto tid = t->id;
  post_to_worker(*p.meeting,
                 [pid, tid, pref](sfu::Room& room) { room.set_preference(pid, tid, pref); });
  return json::object();
}

json Conference::unsubscribe(Participant& p, const json& body) {
  const auto id = string_field(body, "track", 64);
  Participant* owner = nullptr;
  const Track* t = find_track(*p.meeting, id, &owner);
  if (!t || owner == &p) throw RequestError("unknown_track", "no remote track " + id);
  if (p.unsubscribed.insert(t->id).second) sync_subscriptions(p);
  return json::object();
}

// Brings the sections of p's subscribe connection in line with the remote tracks it
// should receive; the browser hears of changes in the next offer.
void Conference::sync_subscriptions(Participant& p) {
  std::vector<const Track*> wanted;
  for (auto& other : p.meeting->participants) {
    if (other.get() == &p) continue;
    for (const auto& t : other->tracks) {
      if (!p.unsubscribed.count(t.id)) wanted.push_back(&t);
    }
  }
  bool changed = false;
  // A section whose track is gone stays in place, empty (a=inactive, still bundled): it is
  // never rejected, since rejecting the BUNDLE-tagged first section would make the browser
  // start a new DTLS transport.
  for (auto& s : p.sections) {
    if (s.empty()) continue;
    const bool still =
        std::any_of(wanted.begin(), wanted.end(), [&](const Track* t) { return t->id == s.track; });
    if (!still) {
      s.track = 0;
      s.ssrc = s.rtx_ssrc = 0;
      s.acked = s.empty_acked = false;
      changed = true;
    }
  }
  for (const Track* t : wanted) {
    const bool has = std::any_of(p.sections.begin(), p.sections.end(),
                                 [&](const auto& s) { return s.track == t->id; });
    if (has) continue;
    // An empty section of the same kind that the browser has seen empty carries the new
    // track under its mid (new SSRCs and msid); else a new section.
    auto reuse = std::find_if(p.sections.begin(), p.sections.end(), [&](const Section& s) {
      return s.empty() && s.empty_acked && s.kind == t->kind;
    });
    if (reuse == p.sections.end()) {
      if (p.sections.size() >= kMaxSections) {
        spdlog::warn("participant {} has {} subscribe sections; not adding more", p.wire_id,
                     kMaxSections);
        break;
      }
      reuse = p.sections.insert(p.sections.end(), Section{});
      reuse->mid = std::to_string(p.next_mid++);
    }
    Section& s = *reuse;
    s.acked = s.empty_acked = false;
    s.track = t->id;
    s.kind = t->kind;
    s.ssrc = random_ssrc();
    if (t->kind == sfu::MediaKind::kVideo) s.rtx_ssrc = random_ssrc();
    changed = true;
  }
  // Forget what the receiver said about tracks that are gone for good.
  std::erase_if(p.unsubscribed, [&](sfu::TrackId id) {
    return std::none_of(p.meeting->participants.begin(), p.meeting->participants.end(),
                        [&](const auto& o) {
                          return std::any_of(o->tracks.begin(), o->tracks.end(),
                                             [&](const Track& x) { return x.id == id; });
                        });
  });
  // Forget preferences of tracks that are gone for good.
  std::erase_if(p.preferences, [&](const auto& kv) {
    return std::none_of(wanted.begin(), wanted.end(),
                        [&](const Track* t) { return t->id == kv.first; });
  });
  if (changed) {
    p.offer_dirty = true;
    // Removals take effect now; additions when the browser has answered (forwarding
    // before that would waste the key frame asked for).
    post_subscriptions(p);
    send_offer_soon(p);
  }
}

void Conference::send_offer_soon(Participant& p) {
  // Deferred, so a reply to the request that caused it goes out first.
  asio::post(io_, [this, room = p.meeting->room, id = p.id] {
    if (Participant* q = find_by_id(room, id)) send_offer(*q);
  });
}

void Conference::send_offer(Participant& p) {
  if (p.offer_outstanding || !p.offer_dirty || p.session == 0) return;
  if (p.sections.empty()) return;  // nothing to receive yet
  rtc::sdp::SubscribeOffer offer;
  offer.session_id = p.subscribe_session_id;
  offer.version = ++p.offer_version;
  offer.local = local_transport(*p.meeting, p.subscribe_ice, false);
  json tracks = json::array();
  for (const auto& s : p.sections) {
    rtc::sdp::SubscribeTrack t;
    t.mid = s.mid;
    t.kind = kind_name(s.kind);
    t.ssrc = s.ssrc;
    t.rtx_ssrc = s.rtx_ssrc;
    Participant* owner = nullptr;
    const Track* track = nullptr;
    for (auto& other : p.meeting->participants) {
      for (const auto& x : other->tracks) {
        if (x.id == s.track) {
          track = &x;
          owner = other.get();
        }
      }
    }
    t.cname = owner ? owner->wire_id : "gone";
    t.stream_id = owner ? owner->wire_id : "gone";
    t.track_id = track ? track->wire_id : "gone-" + s.mid;
    if (track) {
      tracks.push_back({{"mid", s.mid},
                        {"track", track->wire_id},
                        {"participant", owner->wire_id},
                        {"kind", kind_name(track->kind)},
                        {"source", source_name(track->source)}});
    } else {
      t.ssrc = t.rtx_ssrc = 0;  // empty
    }
    offer.tracks.push_back(std::move(t));
  }
  const auto sdp = rtc::sdp::write_subscribe_offer(offer);
  if (p.ice_restart_pending) {
    p.ice_restart_pending = false;
    const auto pid = p.id;
    post_to_worker(*p.meeting, [pid, ice = p.subscribe_ice](sfu::Room& room) {
      room.restart_ice(pid, sfu::TransportRole::kSubscribe, ice);
    });
  }
  p.last_offer = std::move(offer);
  p.offer_outstanding = true;
  p.offer_dirty = false;
  send(p, json{{"event", "subscribe_offer"},
               {"version", p.offer_version},
               {"sdp", sdp},
               {"tracks", std::move(tracks)}});
}

void Conference::post_subscriptions(Participant& p) {
  std::vector<sfu::SubscriptionSpec> specs;
  for (const auto& s : p.sections) {
    if (!s.empty() && s.acked) specs.push_back({s.track, s.mid, s.ssrc, s.rtx_ssrc});
  }
  std::vector<std::pair<sfu::TrackId, sfu::Preference>> prefs(p.preferences.begin(),
                                                              p.preferences.end());
  const auto pid = p.id;
  post_to_worker(*p.meeting,
                 [pid, specs = std::move(specs), prefs = std::move(prefs)](sfu::Room& room) {
                   room.set_subscriptions(pid, specs);
                   for (const auto& [track, pref] : prefs) room.set_preference(pid, track, pref);
                 });
}

json Conference::subscribe_answer(Participant& p, const json& body) {
  const auto version = int_field(body, "version", 0, INT64_MAX, -1);
  const auto sdp_text = string_field(body, "sdp", rtc::sdp::kMaxSdpBytes);
  if (!p.offer_outstanding || !p.last_offer ||
      version != static_cast<std::int64_t>(p.offer_version)) {
    throw RequestError("stale_offer",
                       fmt::format("the latest offer is version {}", p.offer_version));
  }
  auto parsed = rtc::sdp::parse_sdp(sdp_text);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&parsed))
    throw RequestError("bad_sdp", sdp_error(*e));
  auto checked = rtc::sdp::check_subscribe_answer(std::get<rtc::sdp::SessionDescription>(parsed),
                                                  *p.last_offer);
  if (auto* e = std::get_if<rtc::sdp::ParseError>(&checked))
    throw RequestError("bad_sdp", sdp_error(*e));
  const auto& info = std::get<rtc::sdp::SubscribeAnswerInfo>(checked);
  p.offer_outstanding = false;
  if (!p.subscribe_transport || info.transport.fingerprint.digest != p.subscribe_fingerprint) {
    rtc::WebRtcTransport::Parameters params;
    params.ice = p.subscribe_ice;
    params.ice.remote_ufrag = info.transport.ice_ufrag;
    // We offered actpass; a browser answering active makes us the DTLS server.
    params.dtls_role = info.transport.setup == rtc::sdp::Setup::kPassive ? rtc::DtlsRole::kClient
                                                                         : rtc::DtlsRole::kServer;
    params.remote_fingerprint = to_dtls_fingerprint(info.transport.fingerprint);
    const auto pid = p.id;
    const auto generation = ++p.subscribe_generation;
    post_to_worker(
        *p.meeting, [pid, generation, params = std::move(params)](sfu::Room& room) mutable {
          room.set_transport(pid, sfu::TransportRole::kSubscribe, generation, std::move(params));
        });
    p.subscribe_transport = true;
    p.subscribe_fingerprint = info.transport.fingerprint.digest;
  } else if (info.transport.ice_ufrag != p.subscribe_ice.remote_ufrag) {
    // After an ICE restart: checks must now carry the browser's new ufrag.
    p.subscribe_ice.remote_ufrag = info.transport.ice_ufrag;
    const auto pid = p.id;
    post_to_worker(*p.meeting, [pid, ice = p.subscribe_ice](sfu::Room& room) {
      room.restart_ice(pid, sfu::TransportRole::kSubscribe, ice);
    });
  }
  p.subscribe_ice.remote_ufrag = info.transport.ice_ufrag;
  // What the browser now has: the tracks it accepted, the sections it has seen empty.
  for (auto& s : p.sections) {
    const auto it = std::find_if(p.last_offer->tracks.begin(), p.last_offer->tracks.end(),
                                 [&](const auto& t) { return t.mid == s.mid; });
    if (it == p.last_offer->tracks.end()) continue;
    if (!s.empty() && it->ssrc == s.ssrc) s.acked = true;
    if (s.empty() && it->ssrc == 0) s.empty_acked = true;
  }
  post_subscriptions(p);
  send_offer_soon(p);  // changes made while this offer was out
  return json::object();
}

json Conference::ice_restart(Participant& p, const json& body) {
  const auto pc = string_field(body, "pc", 16);
  const bool reset = bool_field(body, "reset", false);
  if (pc == "publish") {
    throw RequestError(
        signal::errors::kBadRequest,
        "the publish connection restarts ICE with a 'publish' carrying an ICE-restart offer");
  }
  if (pc != "subscribe") throw RequestError(signal::errors::kBadRequest, "'pc' must be subscribe");
  p.subscribe_ice = rtc::IceLiteAgent::generate("");
  if (reset) {
    // A new RTCPeerConnection: new transport (at its answer), mids from 0.
    p.subscribe_session_id = random_u64() >> 2;
    p.offer_version = 0;
    p.last_offer.reset();
    p.subscribe_transport = false;
    p.subscribe_fingerprint.clear();
    p.sections.clear();
    p.next_mid = 0;
    p.offer_outstanding = false;
    sync_subscriptions(p);
  } else {
    p.ice_restart_pending = p.subscribe_transport;
    p.offer_outstanding = false;  // the new offer supersedes any unanswered one
  }
  p.offer_dirty = true;
  send_offer_soon(p);
  return json::object();
}

json Conference::relay(Participant& p, const json& body) {
  const auto& to = field(body, "to");
  const auto& data = field(body, "data");
  const auto size = data.dump().size();
  if (size > kMaxRelayBytes) {
    throw RequestError("too_large",
                       fmt::format("relay data is {} bytes; at most {}", size, kMaxRelayBytes));
  }
  if (!to.is_null() && !to.is_string()) {
    throw RequestError(signal::errors::kBadRequest, "'to' must be a participant id or null");
  }
  Participant* target = nullptr;
  if (to.is_string()) {
    target = find_participant(*p.meeting, to.get<std::string>());
    if (!target || target == &p) {
      throw RequestError("unknown_participant", "nobody with that id is in the meeting");
    }
  }
  if (!take(p.relay_bytes, p.relay_refilled, kRelayBytesPerSecond, kRelayBurstBytes,
            static_cast<double>(size))) {
    throw RequestError("rate_limited", "too much relayed data; slow down");
  }
  const json event{{"event", "relay"}, {"from", p.wire_id}, {"data", data}};
  if (target) {
    send(*target, event);
  } else {
    broadcast(*p.meeting, event, &p);
  }
  return json::object();
}

// ---------------------------------------------------------------------------------------
// Worker events.

void Conference::on_event(const sfu::Event& event) {
  if (const auto* e = std::get_if<sfu::TransportStateEvent>(&event)) {
    Participant* p = find_by_id(e->room, e->participant);
    if (!p) return;
    using S = rtc::WebRtcTransport::State;
    if (e->state != S::kClosed && e->state != S::kFailed) return;
    const auto current =
        e->role == sfu::TransportRole::kPublish ? p->publish_generation : p->subscribe_generation;
    if (e->generation != current) return;  // an earlier transport, already replaced
    // The worker has dropped it (consent lost, DTLS alert). Without a WebSocket the
    // participant is gone; with one, its tracks end for everyone and the client is told
    // to start that media connection again (an ICE restart cannot revive DTLS).
    spdlog::debug("participant {}: {} connection ended (generation {})", p->wire_id,
                  e->role == sfu::TransportRole::kPublish ? "publish" : "subscribe", e->generation);
    if (p->session == 0) {
      remove(*p, "timeout");
      return;
    }
    if (e->role == sfu::TransportRole::kPublish) {
      p->publish_transport = false;
      p->publish_ice.reset();
      p->publish_fingerprint.clear();
      const auto gone = std::move(p->tracks);
      p->tracks.clear();
      const auto pid = p->id;
      post_to_worker(*p->meeting, [pid](sfu::Room& room) {
        room.set_published_tracks(pid, sfu::PublishExtensions{}, {});
      });
      announce_unpublished(*p, gone);
      for (auto& other : p->meeting->participants) {
        if (other.get() != p) sync_subscriptions(*other);
      }
    } else {
      p->subscribe_transport = false;
      p->subscribe_fingerprint.clear();
    }
    send(*p, json{{"event", "connection_lost"},
                  {"pc", e->role == sfu::TransportRole::kPublish ? "publish" : "subscribe"}});
    return;
  }
  if (const auto* e = std::get_if<sfu::SpeakingEvent>(&event)) {
    const auto it = by_room_.find(e->room);
    if (it == by_room_.end()) return;
    Meeting* m = it->second;
    json speaking = json::array();
    json dominant = nullptr;
    for (auto& p : m->participants) {
      p->speaking = std::find(e->speaking.begin(), e->speaking.end(), p->id) != e->speaking.end();
      if (p->speaking) speaking.push_back(p->wire_id);
      if (p->id == e->dominant) dominant = p->wire_id;
    }
    broadcast(
        *m, json{{"event", "speaking"}, {"dominant", dominant}, {"speaking", std::move(speaking)}},
        nullptr);
    return;
  }
  if (const auto* e = std::get_if<sfu::LayerEvent>(&event)) {
    Participant* p = find_by_id(e->room, e->subscriber);
    if (!p) return;
    std::string track;
    for (auto& other : p->meeting->participants) {
      for (const auto& t : other->tracks) {
        if (t.id == e->track) track = t.wire_id;
      }
    }
    if (track.empty()) return;
    static constexpr const char* kReasons[] = {"bandwidth", "requested", "last_n", "publisher"};
    send(*p, json{{"event", "layer"},
                  {"track", track},
                  {"layer", e->layer},
                  {"reason", kReasons[static_cast<int>(e->reason)]}});
  }
}

// ---------------------------------------------------------------------------------------
// Messages and lookups.

void Conference::send(Participant& p, const json& event) {
  if (p.session == 0) return;
  if (auto s = hub_.find(p.session)) s->send(event.dump());
}

void Conference::broadcast(Meeting& m, const json& event, const Participant* except) {
  const auto text = event.dump();
  for (auto& p : m.participants) {
    if (p.get() == except || p->session == 0) continue;
    if (auto s = hub_.find(p->session)) s->send(text);
  }
}

json Conference::describe(const Participant& p, const Track& t) const {
  return {{"id", t.wire_id},           {"participant", p.wire_id},
          {"kind", kind_name(t.kind)}, {"source", source_name(t.source)},
          {"muted", t.muted},          {"layers", t.layers}};
}

json Conference::describe(const Participant& p) const {
  json tracks = json::array();
  for (const auto& t : p.tracks) tracks.push_back(describe(p, t));
  return {
      {"id", p.wire_id}, {"name", p.name}, {"tracks", std::move(tracks)}, {"speaking", p.speaking}};
}

Conference::Participant* Conference::find_participant(Meeting& m, std::string_view wire) {
  for (auto& p : m.participants) {
    if (p->wire_id == wire) return p.get();
  }
  return nullptr;
}

Conference::Participant* Conference::find_by_id(sfu::RoomId room, sfu::ParticipantId id) {
  const auto it = by_room_.find(room);
  if (it == by_room_.end()) return nullptr;
  for (auto& p : it->second->participants) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

const Conference::Track* Conference::find_track(Meeting& m, std::string_view wire,
                                                Participant** owner) {
  for (auto& p : m.participants) {
    for (const auto& t : p->tracks) {
      if (t.wire_id == wire) {
        *owner = p.get();
        return &t;
      }
    }
  }
  return nullptr;
}

}  // namespace conclave::meeting
