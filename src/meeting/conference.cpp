#include "meeting/conference.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>

#include "common/attempts.hpp"
#include "common/unix_time.hpp"
#include "meeting/test_hooks.hpp"

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

// An unknown hash or a wrong length gives an empty fingerprint: the handshake then fails
// on the mismatch, as it would have with the digest as written.
rtc::DtlsFingerprint to_dtls_fingerprint(const rtc::sdp::Fingerprint& f) {
  return rtc::DtlsFingerprint::from_digest(f.algorithm, f.digest).value_or(rtc::DtlsFingerprint{});
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
                       metrics::Registry& registry, ConferenceConfig config, store::Store& store,
                       WhoIsSignedIn who)
    : io_(io),
      hub_(hub),
      workers_(std::move(workers)),
      config_(config),
      store_(store),
      who_(std::move(who)),
      joins_per_address_(config.joins_per_address),
      failures_per_address_(config.passcode_failures_per_address),
      failures_per_meeting_(config.passcode_failures_per_meeting),
      meetings_gauge_(
          registry.gauge("conclave_meetings", "Meetings with at least one participant.")),
      participants_gauge_(registry.gauge("conclave_participants",
                                         "Participants in meetings (disconnected ones in their "
                                         "grace period included).")),
      joins_(registry.counter("conclave_joins_total", "Participants that joined a meeting.")),
      leaves_(registry.counter_family("conclave_leaves_total", "Participants that left, by reason.",
                                      {"reason"})),
      attempts_(metrics::attempts_family(registry)) {
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
  d.on("join", [this](signal::Session& s, const signal::Request& r) {
    const Requester guard(requester_, s.id());
    return join(s, r.body);
  });
  // Everything but join and leave needs an admitted participant: the waiting room is
  // enforced here, for every request at once.
  auto member = [this](json (Conference::*fn)(Participant&, const json&)) {
    return [this, fn](signal::Session& s, const signal::Request& r) {
      const Requester guard(requester_, s.id());
      Participant& p = joined(s);
      if (!p.admitted) {
        throw RequestError("forbidden", "you are in the waiting room until a host lets you in");
      }
      return (this->*fn)(p, r.body);
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
  d.on("admit", member(&Conference::admit));
  d.on("deny", member(&Conference::deny));
  d.on("remove", member(&Conference::remove_request));
  d.on("mute_participant", member(&Conference::mute_participant));
  d.on("mute_all", member(&Conference::mute_all));
  d.on("ask_unmute", member(&Conference::ask_unmute));
  d.on("stop_video", member(&Conference::stop_video));
  d.on("spotlight", member(&Conference::spotlight));
  d.on("set_settings", member(&Conference::set_settings));
  d.on("set_role", member(&Conference::set_role));
  d.on("transfer_host", member(&Conference::transfer_host));
  d.on("end_meeting", member(&Conference::end_meeting));
  d.on("rename", member(&Conference::rename));
  d.on("leave", [this](signal::Session& s, const signal::Request&) {
    const Requester guard(requester_, s.id());
    return leave(s, joined(s));
  });
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
  if (!token) return join_new(session, body, meeting_id, *name);

  // A resume: the token is the credential (128 random bits, one use), so neither the
  // passcode nor the waiting room is asked again; a removed participant's token is gone.
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
  if (p.admitted) {
    // Whatever offer was in flight may have been lost with the old connection.
    p.offer_outstanding = false;
    p.offer_dirty = true;
    send_offer_soon(p);
  }
  return join_result(p, true);
}

json Conference::join_result(Participant& p, bool resumed) {
  Meeting& m = *p.meeting;
  json roster = json::array();
  if (p.admitted) {
    for (auto& other : m.participants) {
      if (other.get() != &p && !other->hidden) roster.push_back(describe(*other));
    }
  }
  json result{{"participant", describe(p)},
              {"reconnect_token", p.reconnect_token},
              {"resumed", resumed},
              {"meeting", m.id},
              {"state", p.admitted ? "admitted" : "waiting"},
              {"role", role_name(p.role)},
              // Someone waiting learns nothing of the meeting but that they wait.
              {"settings", p.admitted ? to_json(m.settings) : json(nullptr)},
              {"spotlight", m.spotlight.empty() || !p.admitted ? json(nullptr) : json(m.spotlight)},
              {"roster", std::move(roster)},
              {"last_n", 0}};
  if (!p.admitted) result["waiting_reason"] = p.host_absent ? "host_absent" : "host_admits";
  if (p.admitted && p.role != Role::kParticipant) {
    result["waiting"] = waiting_list(m);
  }
  return result;
}

namespace {

// A passcode hash for meetings that do not exist, so that a wrong id costs the same hash
// as a wrong passcode (the two must not be told apart, not even by timing).
const std::string& dummy_hash() {
  static const std::string hash = hash_secret("no such meeting, no such passcode");
  return hash;
}

}  // namespace

json Conference::join_new(signal::Session& session, const json& body, const std::string& meeting_id,
                          const std::string& name) {
  // Only new participants are refused while draining: a dropped one may still resume.
  if (draining_) throw RequestError("draining", "the server is shutting down; try again shortly");
  const auto now = std::chrono::steady_clock::now();
  const std::string address = AttemptLimiter::address_key(session.peer_address());
  // A join refused by the join limiter counts as a limited join; one refused because of
  // passcode failures (from this address or for this meeting), as a limited passcode.
  auto limited = [&](std::chrono::seconds wait, const char* kind) {
    attempts_.with({kind, "limited"}).inc();
    throw RequestError("too_many_attempts",
                       fmt::format("too many attempts, try again in {} s", wait.count()),
                       wait.count());
  };
  if (const auto wait = joins_per_address_.check(address, now); wait.count() > 0)
    limited(wait, "join");
  if (const auto wait = failures_per_address_.check(address, now); wait.count() > 0)
    limited(wait, "passcode");
  if (const auto wait = failures_per_meeting_.check(meeting_id, now); wait.count() > 0)
    limited(wait, "passcode");
  joins_per_address_.count(address, now);

  std::string passcode;
  if (const auto it = body.find("passcode"); it != body.end() && !it->is_null())
    passcode = string_field(body, "passcode", 64);
  std::string host_key;
  if (const auto it = body.find("host_key"); it != body.end() && !it->is_null())
    host_key = string_field(body, "host_key", 64);
  std::string device;
  if (const auto it = body.find("device"); it != body.end() && !it->is_null()) {
    device = string_field(body, "device", 64);
    if (!is_device_id(device)) {
      throw RequestError(signal::errors::kBadRequest,
                         "'device' must be 16 to 64 characters of A-Z, a-z, 0-9, - and _");
    }
  }

  // The meeting and its passcode. A running meeting has the current hashes; otherwise the
  // store. Either way exactly one hash is checked.
  Meeting* live = nullptr;
  std::optional<store::MeetingRecord> record;
  if (const auto mit = meetings_.find(meeting_id); mit != meetings_.end()) {
    live = mit->second.get();
  } else if (is_meeting_id(meeting_id)) {
    record = store_.find_meeting(meeting_id);
  }
  const std::string& stored = live     ? live->passcode_hash
                              : record ? record->passcode_hash
                                       : dummy_hash();
  const bool exists = live != nullptr || record.has_value();
  const bool passcode_ok = verify_secret(stored, passcode) && exists;
  if (!passcode_ok) {
    failures_per_address_.count(address, now);
    failures_per_meeting_.count(meeting_id, now);
    attempts_.with({"passcode", "failed"}).inc();
    throw RequestError("no_such_meeting",
                       "no such meeting, or the passcode is wrong; check the whole link");
  }
  attempts_.with({"passcode", "ok"}).inc();

  const auto account = who_ ? who_(session.cookie()) : std::nullopt;
  const std::optional<std::int64_t> owner = live ? live->owner : record->owner;
  const std::string& host_key_hash = live ? live->host_key_hash : record->host_key_hash;
  const bool host_capable =
      (account && owner && *owner == account->account) ||
      (!host_key.empty() && !host_key_hash.empty() && verify_secret(host_key_hash, host_key));
  const Settings& settings = live ? live->settings : settings_from_stored(record->settings_json);

  if (settings.locked && !host_capable)
    throw RequestError("locked", "the host has locked this meeting");
  if (live && ((account && live->banned_accounts.count(account->account)) ||
               (!device.empty() && live->banned_devices.count(device)))) {
    throw RequestError("forbidden", "you were removed from this meeting");
  }
  if (!host_capable && settings.authenticated_only && !account)
    throw RequestError("forbidden", "only signed-in users may join this meeting");
  if (!host_capable && !settings.allowed_domains.empty() &&
      !(account && email_domain_allowed(account->email, settings.allowed_domains))) {
    throw RequestError("forbidden",
                       "only signed-in users with an email address of the meeting's allowed "
                       "domains may join this meeting");
  }
  if (live && live->participants.size() + live->waiting.size() >= config_.max_participants)
    throw RequestError("meeting_full", "this meeting is full");

  Meeting& m = live ? *live : open_meeting(*record);
  auto owned = std::make_unique<Participant>();
  Participant& p = *owned;
  p.id = random_u64();
  p.wire_id = wire_id('p', p.id);
  p.name = name;
  if (const auto hidden = hidden_join.load(std::memory_order_relaxed)) p.hidden = hidden(name);
  p.meeting = &m;
  p.session = session.id();
  p.reconnect_token = random_token();
  p.refilled = p.publish_refilled = p.relay_refilled = std::chrono::steady_clock::now();
  p.subscribe_ice = rtc::IceLiteAgent::generate("");
  p.subscribe_session_id = random_u64() >> 2;
  p.account = account;
  if (account) {
    try {
      for (const auto& d : store_.devices_of(account->account))
        p.device_keys.push_back(d.public_key);
    } catch (const store::StoreError& e) {
      spdlog::warn("cannot read an account's devices: {}", e.what());
    }
  }
  p.device = device;
  p.host_capable = host_capable;
  p.waiting_since = unix_now();
  by_session_[p.session] = &p;
  by_token_[p.reconnect_token] = &p;
  participants_gauge_.add(1);
  joins_.inc();
  attempts_.with({"join", "ok"}).inc();

  const bool hosted = host_present(m);
  bool admit = false;
  if (host_capable) {
    p.role = hosted ? Role::kCohost : Role::kHost;
    admit = true;
  } else if (!hosted && !m.settings.join_before_host) {
    p.host_absent = true;
  } else {
    admit = !m.settings.waiting_room || (m.settings.members_skip_waiting && account);
  }
  m.waiting.push_back(std::move(owned));
  if (admit) {
    admit_now(p, false);
    if (p.role == Role::kHost) after_host_arrived(m);
  } else {
    notify_waiting(m);
  }
  return join_result(p, false);
}

Conference::Meeting& Conference::open_meeting(const store::MeetingRecord& record) {
  auto m = std::make_unique<Meeting>();
  m->id = record.id;
  m->room = random_u64();
  m->worker = next_worker_++ % workers_.size();
  m->owner = record.owner;
  m->passcode_hash = record.passcode_hash;
  m->host_key_hash = record.host_key_hash;
  m->settings = settings_from_stored(record.settings_json);
  by_room_[m->room] = m.get();
  Meeting& ref = *m;
  meetings_.emplace(record.id, std::move(m));
  meetings_gauge_.add(1);
  try {
    store_.touch_meeting(record.id, unix_now());
  } catch (const store::StoreError& e) {
    spdlog::warn("cannot record the use of a meeting: {}", e.what());
  }
  return ref;
}

bool Conference::host_present(const Meeting& m) const {
  return std::any_of(m.participants.begin(), m.participants.end(),
                     [](const auto& p) { return p->role == Role::kHost; });
}

// Moves p from the waiting room into the meeting: from now on it is in the roster, gets
// media and relays, and others hear of it.
void Conference::admit_now(Participant& p, bool tell) {
  Meeting& m = *p.meeting;
  const auto it = std::find_if(m.waiting.begin(), m.waiting.end(),
                               [&](const auto& w) { return w.get() == &p; });
  if (it == m.waiting.end()) return;
  json roster = json::array();
  for (auto& other : m.participants) {
    if (!other->hidden) roster.push_back(describe(*other));
  }
  m.participants.push_back(std::move(*it));
  m.waiting.erase(it);
  p.admitted = true;
  p.host_absent = false;
  const auto pid = p.id;
  {
    auto& w = workers_[m.worker];
    asio::post(w.worker->io(), [engine = w.engine, room = m.room, pid] {
      if (!engine->stopped()) engine->room(room).add_participant(pid);
    });
  }
  if (!p.hidden) {
    broadcast(m, json{{"event", "participant_joined"}, {"participant", describe(p)}}, &p);
  }
  sync_subscriptions(p);
  if (tell) {
    // Admitted from the waiting room: the roster and the rest, as a join result would
    // have given them.
    json event = join_result(p, false);
    event.erase("participant");
    event.erase("reconnect_token");
    event.erase("resumed");
    event.erase("state");
    event["event"] = "admitted";
    send(p, event);
  }
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

void Conference::remove(Participant& p, const char* reason, bool quiet) {
  spdlog::debug("participant {} leaves meeting ({})", p.wire_id, reason);
  Meeting& m = *p.meeting;
  if (p.session) {
    by_session_.erase(p.session);
    p.session = 0;
  }
  by_token_.erase(p.reconnect_token);
  participants_gauge_.add(-1);
  leaves_.with({reason}).inc();
  if (!p.admitted) {
    std::erase_if(m.waiting, [&p](const auto& q) { return q.get() == &p; });
    if (!quiet) notify_waiting(m);
  } else {
    const auto pid = p.id;
    {
      auto& w = workers_[m.worker];
      asio::post(w.worker->io(), [engine = w.engine, room = m.room, pid] {
        engine->remove_participant(room, pid);
      });
    }
    const auto wire = p.wire_id;
    const bool p_hidden = p.hidden;
    const bool was_host = p.role == Role::kHost;
    std::erase_if(m.participants, [&p](const auto& q) { return q.get() == &p; });
    if (!quiet && !p_hidden) {
      broadcast(m, json{{"event", "participant_left"}, {"participant", wire}, {"reason", reason}},
                nullptr);
      if (m.spotlight == wire) {
        m.spotlight.clear();
        broadcast(m, json{{"event", "spotlight"}, {"participant", nullptr}, {"by", nullptr}},
                  nullptr);
      }
      for (auto& other : m.participants) sync_subscriptions(*other);
      if (was_host) hand_over_host(m);
    }
  }
  if (m.participants.empty() && m.waiting.empty()) {
    by_room_.erase(m.room);
    meetings_.erase(m.id);
    meetings_gauge_.add(-1);
  }
}

// A host is in the meeting now: those who waited only for that go in, or on to the host.
void Conference::after_host_arrived(Meeting& m) {
  std::vector<Participant*> absent;
  for (auto& w : m.waiting) {
    if (w->host_absent) absent.push_back(w.get());
  }
  for (Participant* w : absent) {
    w->host_absent = false;
    if (!m.settings.waiting_room || (m.settings.members_skip_waiting && w->account))
      admit_now(*w, true);
  }
  notify_waiting(m);
}

// The host has gone: the longest-present co-host, else the longest-present signed-in
// participant, becomes host; else nobody until a host-capable person joins.
void Conference::hand_over_host(Meeting& m) {
  if (host_present(m)) return;
  Participant* next = nullptr;
  for (auto& p : m.participants) {
    if (p->role == Role::kCohost) {
      next = p.get();
      break;
    }
  }
  if (!next) {
    for (auto& p : m.participants) {
      if (p->account) {
        next = p.get();
        break;
      }
    }
  }
  if (!next) return;
  next->role = Role::kHost;
  broadcast(m, json{{"event", "role_changed"}, {"participant", next->wire_id}, {"role", "host"}},
            nullptr);
  after_host_arrived(m);
}

// Who waits, as hosts and co-hosts see them (docs/protocol.md, "Waiting").
json Conference::waiting_list(const Meeting& m) const {
  json waiting = json::array();
  for (const auto& w : m.waiting) {
    waiting.push_back({{"id", w->wire_id},
                       {"name", w->name},
                       {"signed_in", w->account.has_value()},
                       {"since", w->waiting_since}});
  }
  return waiting;
}

// The waiting list, to everyone who may admit.
void Conference::notify_waiting(Meeting& m) {
  const auto text = json{{"event", "waiting_changed"}, {"waiting", waiting_list(m)}}.dump();
  for (auto& p : m.participants) {
    if (p->role == Role::kParticipant || p->session == 0) continue;
    deliver(p->session, text);
  }
}

// Tells p why, then closes its WebSocket after what is queued.
void Conference::close_session(Participant& p, const char* reason, unsigned short code) {
  if (p.session == 0) return;
  if (auto s = hub_.find(p.session)) {
    s->send(json{{"event", "closing"}, {"reason", reason}}.dump());
    s->close(static_cast<boost::beast::websocket::close_code>(code), reason);
  }
}

void Conference::end(Meeting& m, const char* reason) {
  // Everyone goes at once; nobody is told of anybody else leaving.
  std::vector<Participant*> all;
  for (auto& p : m.participants) all.push_back(p.get());
  for (auto& p : m.waiting) all.push_back(p.get());
  const auto room = m.room;
  for (Participant* p : all) close_session(*p, reason, 4004);
  for (Participant* p : all) {
    if (by_room_.count(room) == 0) break;  // the meeting went with its last participant
    if (Participant* q = find_by_id(room, p->id)) remove(*q, "ended", /*quiet=*/true);
  }
}

Conference::Participant& Conference::target_of(Participant& p, const json& body, bool waiting_too) {
  const auto id = string_field(body, "participant", 64);
  Participant* t = find_participant(*p.meeting, id);
  if (!t && waiting_too) t = find_waiting(*p.meeting, id);
  if (!t) throw RequestError("unknown_participant", "nobody with that id is in the meeting");
  return *t;
}

namespace {

void require_moderator(Role role, const char* what) {
  if (role == Role::kParticipant) {
    throw RequestError("forbidden", fmt::format("only the host and co-hosts may {}", what));
  }
}

void require_host(Role role, const char* what) {
  if (role != Role::kHost)
    throw RequestError("forbidden", fmt::format("only the host may {}", what));
}

// Nobody acts on the host but the host.
void require_may_act_on(Role actor, Role target) {
  if (target == Role::kHost && actor != Role::kHost)
    throw RequestError("forbidden", "only the host may do that to the host");
}

}  // namespace

json Conference::admit(Participant& p, const json& body) {
  require_moderator(p.role, "admit people");
  Meeting& m = *p.meeting;
  const auto& who = field(body, "participant");
  if (who == "all") {
    std::vector<Participant*> all;
    for (auto& w : m.waiting) all.push_back(w.get());
    for (Participant* w : all) admit_now(*w, true);
  } else {
    const auto id = string_field(body, "participant", 64);
    Participant* w = find_waiting(m, id);
    if (!w) throw RequestError("unknown_participant", "nobody with that id is waiting");
    admit_now(*w, true);
  }
  notify_waiting(m);
  return json::object();
}

json Conference::deny(Participant& p, const json& body) {
  require_moderator(p.role, "turn people away");
  const auto id = string_field(body, "participant", 64);
  Participant* w = find_waiting(*p.meeting, id);
  if (!w) throw RequestError("unknown_participant", "nobody with that id is waiting");
  send(*w, json{{"event", "denied"}});
  close_session(*w, "denied", 4003);
  remove(*w, "denied");
  return json::object();
}

json Conference::remove_request(Participant& p, const json& body) {
  require_moderator(p.role, "remove people");
  const bool ban = bool_field(body, "ban", false);
  Participant& t = target_of(p, body, /*waiting_too=*/true);
  if (&t == &p) throw RequestError(signal::errors::kBadRequest, "use 'leave' to leave");
  require_may_act_on(p.role, t.role);
  Meeting& m = *p.meeting;
  if (ban) {
    if (t.account) m.banned_accounts.insert(t.account->account);
    if (!t.device.empty()) m.banned_devices.insert(t.device);
  }
  close_session(t, "removed", 4002);
  remove(t, "removed");
  return json::object();
}

void Conference::block_track(Participant& owner, Track& t, bool blocked) {
  if (t.blocked == blocked) return;
  t.blocked = blocked;
  const auto pid = owner.id;
  const auto tid = t.id;
  post_to_worker(*owner.meeting,
                 [pid, tid, blocked](sfu::Room& room) { room.set_blocked(pid, tid, blocked); });
}

// Mutes target's tracks of `source` for everyone, stops forwarding them, and tells target.
void Conference::mute_by_host(Participant& by, Participant& target, sfu::Source source) {
  const bool audio = source == sfu::Source::kMicrophone;
  if (audio) {
    target.host_muted_audio = true;
    target.unmute_allowed = false;
  }
  bool any = false;
  for (auto& t : target.tracks) {
    if (t.source != source) continue;
    any = true;
    block_track(target, t, true);
    if (!t.muted) {
      t.muted = true;
      broadcast(*target.meeting,
                json{{"event", "track_muted"},
                     {"participant", target.wire_id},
                     {"track", t.wire_id},
                     {"muted", true}},
                &target);
    }
    send(target, json{{"event", audio ? "muted_by_host" : "video_stopped"},
                      {"track", t.wire_id},
                      {"by", by.wire_id}});
  }
  // Nothing published yet: the microphone they publish next starts muted; say so now.
  if (!any && audio)
    send(target, json{{"event", "muted_by_host"}, {"track", nullptr}, {"by", by.wire_id}});
}

json Conference::mute_participant(Participant& p, const json& body) {
  require_moderator(p.role, "mute others");
  Participant& t = target_of(p, body);
  require_may_act_on(p.role, t.role);
  mute_by_host(p, t, sfu::Source::kMicrophone);
  return json::object();
}

json Conference::mute_all(Participant& p, const json&) {
  require_moderator(p.role, "mute everyone");
  for (auto& t : p.meeting->participants) {
    if (t->role == Role::kParticipant) mute_by_host(p, *t, sfu::Source::kMicrophone);
  }
  return json::object();
}

json Conference::ask_unmute(Participant& p, const json& body) {
  require_moderator(p.role, "ask others to unmute");
  Participant& t = target_of(p, body);
  if (&t == &p) throw RequestError(signal::errors::kBadRequest, "that is you");
  t.unmute_allowed = true;
  send(t, json{{"event", "unmute_requested"}, {"by", p.wire_id}});
  return json::object();
}

json Conference::stop_video(Participant& p, const json& body) {
  require_moderator(p.role, "stop others' video");
  Participant& t = target_of(p, body);
  require_may_act_on(p.role, t.role);
  mute_by_host(p, t, sfu::Source::kCamera);
  return json::object();
}

json Conference::spotlight(Participant& p, const json& body) {
  require_moderator(p.role, "spotlight someone");
  const auto& who = field(body, "participant");
  Meeting& m = *p.meeting;
  std::string next;
  if (!who.is_null()) next = target_of(p, body).wire_id;
  if (next != m.spotlight) {
    m.spotlight = next;
    broadcast(m,
              json{{"event", "spotlight"},
                   {"participant", next.empty() ? json(nullptr) : json(next)},
                   {"by", p.wire_id}},
              nullptr);
  }
  return json::object();
}

void Conference::save_settings(const Meeting& m) {
  if (!m.owner) return;  // a guest's meeting keeps its settings for this session only
  try {
    store_.update_meeting_settings(m.id, to_json(m.settings, /*saved=*/true).dump());
  } catch (const store::StoreError& e) {
    spdlog::warn("cannot save a meeting's settings: {}", e.what());
  }
}

json Conference::set_settings(Participant& p, const json& body) {
  require_moderator(p.role, "change the meeting's settings");
  Meeting& m = *p.meeting;
  const Settings before = m.settings;
  const Settings after = apply_settings(before, field(body, "settings"));
  if (after.e2ee != before.e2ee) {
    throw RequestError(signal::errors::kBadRequest,
                       "end-to-end encryption is chosen for the meeting, not while it runs");
  }
  if (after == before) return json::object();
  m.settings = after;
  save_settings(m);
  const json event{{"event", "settings_changed"}, {"settings", to_json(after)}, {"by", p.wire_id}};
  broadcast(m, event, nullptr);
  if (after.locked != before.locked) {
    const auto text = event.dump();
    for (auto& w : m.waiting) {
      if (w->session == 0) continue;
      deliver(w->session, text);
    }
  }
  if (after.screen_share == Settings::Share::kHosts &&
      before.screen_share != Settings::Share::kHosts) {
    // Shares of participants end now, as if they had unpublished them.
    for (auto& q : m.participants) {
      if (q->role != Role::kParticipant) continue;
      std::vector<Track> gone;
      for (const auto& t : q->tracks) {
        if (t.source == sfu::Source::kScreen) gone.push_back(t);
      }
      if (gone.empty()) continue;
      std::erase_if(q->tracks, [](const Track& t) { return t.source == sfu::Source::kScreen; });
      const auto pid = q->id;
      for (const auto& t : gone) {
        post_to_worker(m, [pid, tid = t.id](sfu::Room& room) { room.unpublish(pid, tid); });
        send(*q, json{{"event", "track_unpublished"},
                      {"participant", q->wire_id},
                      {"track", t.wire_id}});
      }
      announce_unpublished(*q, gone);
      for (auto& other : m.participants) {
        if (other.get() != q.get()) sync_subscriptions(*other);
      }
    }
  }
  // Turning the waiting room off lets those waiting for a host's decision in.
  if (!after.waiting_room && before.waiting_room && host_present(m)) {
    std::vector<Participant*> all;
    for (auto& w : m.waiting) all.push_back(w.get());
    for (Participant* w : all) admit_now(*w, true);
    notify_waiting(m);
  }
  return json::object();
}

json Conference::set_role(Participant& p, const json& body) {
  require_host(p.role, "make or unmake co-hosts");
  const auto role = string_field(body, "role", 16);
  Participant& t = target_of(p, body);
  if (&t == &p) throw RequestError(signal::errors::kBadRequest, "use 'transfer_host' instead");
  Role next;
  if (role == "cohost") {
    next = Role::kCohost;
  } else if (role == "participant") {
    next = Role::kParticipant;
  } else {
    throw RequestError(signal::errors::kBadRequest, "'role' must be cohost or participant");
  }
  if (t.role != next) {
    t.role = next;
    broadcast(*p.meeting,
              json{{"event", "role_changed"}, {"participant", t.wire_id}, {"role", role}}, nullptr);
    if (next == Role::kCohost) notify_waiting(*p.meeting);
  }
  return json::object();
}

json Conference::transfer_host(Participant& p, const json& body) {
  require_host(p.role, "hand over the host role");
  Participant& t = target_of(p, body);
  if (&t == &p) throw RequestError(signal::errors::kBadRequest, "you are the host already");
  t.role = Role::kHost;
  p.role = Role::kCohost;
  Meeting& m = *p.meeting;
  broadcast(m, json{{"event", "role_changed"}, {"participant", t.wire_id}, {"role", "host"}},
            nullptr);
  broadcast(m, json{{"event", "role_changed"}, {"participant", p.wire_id}, {"role", "cohost"}},
            nullptr);
  notify_waiting(m);
  return json::object();
}

json Conference::end_meeting(Participant& p, const json&) {
  require_host(p.role, "end the meeting for everyone");
  // After the reply, which the session queues when this handler returns.
  asio::post(io_, [this, room = p.meeting->room] {
    if (const auto it = by_room_.find(room); it != by_room_.end())
      end(*it->second, "meeting_ended");
  });
  return json::object();
}

json Conference::rename(Participant& p, const json& body) {
  if (!p.meeting->settings.rename_self && p.role == Role::kParticipant)
    throw RequestError("forbidden", "the host does not allow changing names in this meeting");
  const auto name = normalise_display_name(string_field(body, "name", 512));
  if (!name) {
    throw RequestError(signal::errors::kBadRequest,
                       "'name' must be 1 to 64 characters, without control characters");
  }
  if (*name != p.name) {
    p.name = *name;
    broadcast(*p.meeting,
              json{{"event", "participant_renamed"}, {"participant", p.wire_id}, {"name", p.name}},
              nullptr);
  }
  return json::object();
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
  const bool shares = std::any_of(declared.begin(), declared.end(), [](const Declared& d) {
    return d.source == sfu::Source::kScreen;
  });
  if (shares && p.role == Role::kParticipant &&
      p.meeting->settings.screen_share == Settings::Share::kHosts) {
    throw RequestError("forbidden", "only the host and co-hosts may share their screen");
  }

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
      // A host's mute holds for a microphone track published after it, too.
      if (p.host_muted_audio && t.source == sfu::Source::kMicrophone) t.muted = t.blocked = true;
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
  // A ghost's tracks stay as unseen as the ghost (meeting/test_hooks.hpp).
  for (const auto& t : added) {
    if (!p.hidden) broadcast(m, json{{"event", "track_published"}, {"track", describe(p, t)}}, &p);
  }
  if (!p.hidden && (!gone.empty() || !added.empty())) {
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
    spec.blocked = t.blocked;
    specs.push_back(std::move(spec));
  }
  const auto pid = p.id;
  post_to_worker(*p.meeting, [pid, ext, specs = std::move(specs)](sfu::Room& room) {
    room.set_published_tracks(pid, ext, specs);
  });
}

void Conference::announce_unpublished(Participant& p, const std::vector<Track>& gone) {
  if (p.hidden) return;
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
  if (!muted && it->blocked) {
    // Muted by a host. The host can never unmute anyone; the participant may, if the
    // meeting allows it or a host asked them to.
    const bool audio = it->source == sfu::Source::kMicrophone;
    if (audio && p.role == Role::kParticipant && !p.meeting->settings.unmute_self &&
        !p.unmute_allowed) {
      throw RequestError("forbidden",
                         "the host has muted you; you can unmute when the host asks you to");
    }
    if (audio) {
      p.host_muted_audio = false;
      p.unmute_allowed = false;
      for (auto& t : p.tracks) {
        if (t.source == sfu::Source::kMicrophone) block_track(p, t, false);
      }
    } else {
      block_track(p, *it, false);
    }
  }
  if (it->muted != muted) {
    it->muted = muted;
    if (!p.hidden)
      broadcast(*p.meeting,
                json{{"event", "track_muted"},
                     {"participant", p.wire_id},
                     {"track", id},
                     {"muted", muted}},
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
    if (other.get() == &p || other->hidden) continue;
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
  // `each`: one opaque blob per named participant, in one request (an E2EE key for every
  // remaining key holder after a leave, docs/e2ee.md); otherwise `data` to `to`, or to
  // everyone else when `to` is null.
  const auto each = body.find("each");
  const bool fan_out = each != body.end();
  const auto size = fan_out ? each->dump().size() : field(body, "data").dump().size();
  if (size > kMaxRelayBytes) {
    throw RequestError("too_large",
                       fmt::format("relay data is {} bytes; at most {}", size, kMaxRelayBytes));
  }
  if (fan_out && (!each->is_object() || each->empty() || body.contains("to"))) {
    throw RequestError(signal::errors::kBadRequest,
                       "'each' must map participant ids to data, without 'to'");
  }
  if (const auto kind = body.find("kind"); kind != body.end() && !kind->is_null()) {
    if (!kind->is_string() || kind->get_ref<const std::string&>().size() > 32) {
      throw RequestError(signal::errors::kBadRequest, "'kind' must be a short string");
    }
    // The server cannot read relayed content (end-to-end encryption); honest clients tag
    // chat so that it can refuse it, and they drop chat themselves while it is off.
    if (*kind == "chat" && !p.meeting->settings.chat)
      throw RequestError("forbidden", "the host has turned chat off");
  }
  Participant* target = nullptr;
  if (!fan_out) {
    const auto& to = field(body, "to");
    if (!to.is_null() && !to.is_string()) {
      throw RequestError(signal::errors::kBadRequest, "'to' must be a participant id or null");
    }
    if (to.is_string()) {
      target = find_participant(*p.meeting, to.get<std::string>());
      if (!target || target == &p) {
        throw RequestError("unknown_participant", "nobody with that id is in the meeting");
      }
    }
  }
  if (!take(p.relay_bytes, p.relay_refilled, kRelayBytesPerSecond, kRelayBurstBytes,
            static_cast<double>(size))) {
    throw RequestError("rate_limited", "too much relayed data; slow down");
  }
  if (fan_out) {
    // Someone who left a moment ago is skipped, not an error: the sender's roster may be
    // a step behind. The reply names them.
    json skipped = json::array();
    for (const auto& [id, data] : each->items()) {
      Participant* q = find_participant(*p.meeting, id);
      if (!q || q == &p) {
        skipped.push_back(id.substr(0, 64));
        continue;
      }
      send(*q, json{{"event", "relay"}, {"from", p.wire_id}, {"data", data}});
    }
    return skipped.empty() ? json::object() : json{{"skipped", std::move(skipped)}};
  }
  const json event{{"event", "relay"}, {"from", p.wire_id}, {"data", field(body, "data")}};
  if (target) {
    send(*target, event);
  } else {
    broadcast(*p.meeting, event, &p);
  }
  return json::object();
}

// ---------------------------------------------------------------------------------------
// The HTTP API's meeting routes (docs/api.md).

namespace {

ApiResult api_error(int status, const char* code, std::string message) {
  return {status, json{{"error", {{"code", code}, {"message", std::move(message)}}}}};
}

ApiResult no_such_meeting() {
  return api_error(404, "no_such_meeting", "you own no meeting with that id");
}

}  // namespace

ApiResult Conference::api_create_meeting(const std::optional<SignedIn>& who, const json& body) {
  if (config_.create == CreatePolicy::kAccounts && !who)
    return api_error(401, "sign_in_required", "sign in to create a meeting");
  Settings settings;
  bool with_passcode = true;
  try {
    if (const auto it = body.find("settings"); it != body.end() && !it->is_null())
      settings = apply_settings(settings, *it, /*allow_live=*/false);
    with_passcode = bool_field(body, "passcode", true);
  } catch (const RequestError& e) {
    return api_error(400, "bad_request", e.what());
  }
  const auto passcode = with_passcode ? new_passcode() : std::string();
  const auto host_key = who ? std::string() : new_host_key();
  store::MeetingRecord record;
  if (who) record.owner = who->account;
  record.passcode_hash = hash_secret(passcode);
  record.host_key_hash = hash_secret(host_key);
  record.settings_json = to_json(settings, /*saved=*/true).dump();
  record.created_at = record.last_used_at = unix_now();
  // 80 random bits collide with negligible odds; a few tries turn "negligible" into "never".
  for (int attempt = 0;; ++attempt) {
    record.id = new_meeting_id();
    try {
      store_.create_meeting(record);
      break;
    } catch (const store::ConflictError&) {
      if (attempt == 3) throw;
    }
  }
  json out{{"id", record.id}, {"passcode", passcode}, {"settings", to_json(settings)}};
  if (!host_key.empty()) out["host_key"] = host_key;
  spdlog::info("meeting created by {}", who ? "an account" : "a guest");
  return {201, std::move(out)};
}

ApiResult Conference::api_list_meetings(const SignedIn& who) {
  json list = json::array();
  for (const auto& r : store_.meetings_of(who.account)) {
    list.push_back({{"id", r.id},
                    {"created_at", r.created_at},
                    {"last_used_at", r.last_used_at},
                    {"settings", to_json(settings_from_stored(r.settings_json), true)}});
  }
  return {200, json{{"meetings", std::move(list)}}};
}

ApiResult Conference::api_update_meeting(const SignedIn& who, std::string_view id,
                                         const json& body) {
  const auto record = store_.find_meeting(id);
  if (!record || record->owner != who.account) return no_such_meeting();
  Settings next;
  try {
    next = apply_settings(settings_from_stored(record->settings_json), field(body, "settings"),
                          /*allow_live=*/false);
  } catch (const RequestError& e) {
    return api_error(400, "bad_request", e.what());
  }
  store_.update_meeting_settings(id, to_json(next, true).dump());
  if (const auto it = meetings_.find(id); it != meetings_.end()) {
    Meeting& m = *it->second;
    next.locked = m.settings.locked;
    if (!(next == m.settings)) {
      m.settings = next;
      broadcast(m,
                json{{"event", "settings_changed"}, {"settings", to_json(next)}, {"by", nullptr}},
                nullptr);
    }
  }
  return {200, json{{"settings", to_json(next, true)}}};
}

ApiResult Conference::api_new_passcode(const SignedIn& who, std::string_view id) {
  const auto record = store_.find_meeting(id);
  if (!record || record->owner != who.account) return no_such_meeting();
  const auto passcode = new_passcode();
  const auto hash = hash_secret(passcode);
  store_.set_meeting_passcode(id, hash);
  if (const auto it = meetings_.find(id); it != meetings_.end()) it->second->passcode_hash = hash;
  return {200, json{{"passcode", passcode}}};
}

ApiResult Conference::api_delete_meeting(const SignedIn& who, std::string_view id) {
  const auto record = store_.find_meeting(id);
  if (!record || record->owner != who.account) return no_such_meeting();
  if (const auto it = meetings_.find(id); it != meetings_.end()) end(*it->second, "meeting_ended");
  store_.delete_meeting(id);
  store_.checkpoint();  // the row's bytes leave the WAL too (docs/privacy.md)
  return {204, nullptr};
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

void Conference::deliver(std::uint64_t session, std::string text) {
  if (session == requester_) {
    // The reply to the request being handled goes first (docs/protocol.md, "Framing").
    asio::post(io_, [this, session, text = std::move(text)]() mutable {
      if (auto s = hub_.find(session)) s->send(std::move(text));
    });
    return;
  }
  if (auto s = hub_.find(session)) s->send(std::move(text));
}

void Conference::send(Participant& p, const json& event) {
  if (p.session == 0) return;
  deliver(p.session, event.dump());
}

void Conference::broadcast(Meeting& m, const json& event, const Participant* except) {
  const auto text = event.dump();
  for (auto& p : m.participants) {
    if (p.get() == except || p->session == 0) continue;
    deliver(p->session, text);
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
  json out{{"id", p.wire_id},
           {"name", p.name},
           {"tracks", std::move(tracks)},
           {"speaking", p.speaking},
           {"role", role_name(p.role)},
           {"signed_in", p.account.has_value()}};
  if (p.account) {
    // Who this is across meetings, and the identity keys the account published: clients
    // pin them and warn when a known person's key changes (docs/e2ee.md).
    out["account"] = p.account->account;
    out["device_keys"] = p.device_keys;
  }
  return out;
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
  for (auto& p : it->second->waiting) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

Conference::Participant* Conference::find_waiting(Meeting& m, std::string_view wire) {
  for (auto& p : m.waiting) {
    if (p->wire_id == wire) return p.get();
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
