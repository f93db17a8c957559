#include "bot/bot.hpp"

#include "rtc/sdp.hpp"

namespace conclave::bot {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

Bot::Bot(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate, BotOptions options,
         int index)
    : io_(io),
      certificate_(certificate),
      opt_(std::move(options)),
      index_(index),
      sender_(io, opt_.media),
      receiver_(io) {}

Bot::~Bot() {
  stop();
}

void Bot::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  stop();
}

void Bot::stop() {
  if (stopped_) return;
  stopped_ = true;
  sender_.stop();
  receiver_.stop();
  if (pub_) pub_->close();
  if (sub_) sub_->close();
  if (sig_) sig_->close();
}

void Bot::start() {
  started_ = Clock::now();
  sig_ = std::make_unique<SignalClient>(io_, opt_.host, opt_.port, opt_.cookie);
  sig_->on_event([this](const json& e) { on_event(e); });
  sig_->on_closed([this] {
    if (!stopped_) fail("signaling connection closed");
  });
  sig_->connect([this](bool ok, std::string err) {
    if (!ok) return fail(err);
    json join{{"protocol", 1}, {"meeting", opt_.meeting}, {"name", opt_.name}};
    if (!opt_.passcode.empty()) join["passcode"] = opt_.passcode;
    if (!opt_.host_key.empty()) join["host_key"] = opt_.host_key;
    sig_->request("join", join, [this](const json* r, const json* e) {
      if (!r) return fail("join: " + e->value("code", std::string("?")));
      id_ = (*r)["participant"]["id"].get<std::string>();
      // Held in the waiting room: media starts with `admitted`.
      if (r->value("state", std::string("admitted")) == "admitted") admitted((*r)["roster"]);
    });
  });
}

void Bot::on_event(const json& e) {
  const auto name = e.value("event", std::string());
  if (name == "admitted") {
    admitted(e["roster"]);
  } else if (name == "participant_joined") {
    const auto id = e["participant"].value("id", std::string());
    roster_.insert(id);
    if (e2ee_) e2ee_->participant_joined(id);
  } else if (name == "participant_left") {
    const auto id = e.value("participant", std::string());
    roster_.erase(id);
    if (e2ee_) e2ee_->participant_left(id);
  } else if (name == "relay") {
    if (e2ee_) e2ee_->on_relay(e.value("from", std::string()), e["data"]);
  } else if (name == "subscribe_offer") {
    if (opt_.subscribe) on_subscribe_offer(e);
  } else if (name == "closing" || name == "denied") {
    fail("server closed: " + e.value("reason", name));
  }
}

// In the meeting: the roster so far, E2EE keys (before any frame goes out), then media.
void Bot::admitted(const json& roster) {
  if (roster.is_array()) {
    for (const auto& p : roster) roster_.insert(p.value("id", std::string()));
  }
  if (opt_.e2ee) {
    E2eeSession::Hooks hooks;
    hooks.send = [this](const std::string& to, json data) {
      sig_->request("relay",
                    {{"to", to.empty() ? json(nullptr) : json(to)}, {"data", std::move(data)}},
                    [](const json*, const json*) {});
    };
    hooks.in_roster = [this](const std::string& id) { return roster_.count(id) > 0; };
    e2ee_ = std::make_unique<E2eeSession>(opt_.meeting, id_, roster_, std::move(hooks));
    sender_.set_protect(
        [this](std::span<const std::uint8_t> f, bool video, std::vector<std::uint8_t>& out) {
          return e2ee_->protect(f, video, out);
        });
    receiver_.set_unprotect(
        [this](std::span<const std::uint8_t> f, bool video, std::vector<std::uint8_t>& out) {
          return e2ee_->unprotect(f, video, out) == e2ee::FrameResult::kOk;
        });
    e2ee_->start();
  }
  publish();
}

void Bot::publish() {
  const auto& m = opt_.media;
  if (!m.audio && !m.video) return;
  pub_ = std::make_unique<ClientTransport>(
      io_, certificate_,
      ClientTransport::Callbacks{
          [this](ClientTransport::State s) {
            if (s == ClientTransport::State::kFailed) return fail("publish connection failed");
            if (s != ClientTransport::State::kConnected) return;
            join_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
            sender_.start(*pub_);
          },
          nullptr, [this](std::span<std::uint8_t> p) { sender_.on_rtcp(p); }});
  std::string err;
  if (!pub_->open(opt_.bind, err)) return fail(err);
  json tracks = json::array();
  if (m.audio)
    tracks.push_back(
        {{"mid", m.audio_mid}, {"kind", "audio"}, {"source", "microphone"}, {"muted", false}});
  if (m.video)
    tracks.push_back(
        {{"mid", m.video_mid}, {"kind", "video"}, {"source", "camera"}, {"muted", false}});
  const auto offer = publish_offer(sender_, pub_->ufrag(), pub_->pwd(),
                                   certificate_.sdp_fingerprint(), "bot-" + std::to_string(index_));
  sig_->request("publish", {{"sdp", offer}, {"tracks", tracks}},
                [this](const json* r, const json* e) {
                  if (!r) return fail("publish: " + e->dump());
                  std::string error;
                  auto remote = remote_from_sdp((*r)["sdp"].get<std::string>(), error);
                  if (!remote) return fail(error);
                  pub_->connect(std::move(*remote));
                });
}

void Bot::on_subscribe_offer(const json& e) {
  const int version = e.value("version", 0);
  if (version <= sub_version_) return;
  sub_version_ = version;
  const auto text = e["sdp"].get<std::string>();
  auto parsed = rtc::sdp::parse_sdp(text);
  if (std::holds_alternative<rtc::sdp::ParseError>(parsed))
    return fail("subscribe offer unreadable");
  const auto& sd = std::get<rtc::sdp::SessionDescription>(parsed);
  const bool fresh = !sub_;
  receiver_.note_offer(sd);
  if (fresh) {
    sub_ = std::make_unique<ClientTransport>(
        io_, certificate_,
        ClientTransport::Callbacks{[this](ClientTransport::State s) {
                                     if (s == ClientTransport::State::kFailed)
                                       fail("subscribe connection failed");
                                   },
                                   [this](std::span<std::uint8_t> p) { receiver_.on_rtp(p); },
                                   nullptr});
    std::string err;
    if (!sub_->open(opt_.bind, err)) return fail(err);
  }
  sig_->request(
      "subscribe_answer",
      {{"version", version},
       {"sdp", answer_sdp(sd, sub_->ufrag(), sub_->pwd(), certificate_.sdp_fingerprint())}},
      [](const json*, const json*) {});
  if (fresh) {
    std::string err;
    auto remote = remote_from_sdp(text, err);
    if (!remote) return fail(err);
    sub_->connect(std::move(*remote));
    std::uint8_t twcc = 0;
    for (const auto& m : sd.media)
      for (const auto& x : m.extensions)
        if (x.uri.find("transport-wide-cc") != std::string::npos)
          twcc = static_cast<std::uint8_t>(x.id);
    receiver_.start(*sub_, twcc, opt_.media.opus_pt);
  }
  // Ask for the full layer of every video, as a large tile would.
  for (const auto& t : e["tracks"]) {
    const auto id = t.value("track", std::string());
    if (sub_kinds_.count(id)) continue;
    sub_kinds_[id] = t.value("kind", std::string());
    if (sub_kinds_[id] == "video")
      sig_->request("subscribe",
                    {{"track", id}, {"quality", "high"}, {"width", 1280}, {"height", 720}},
                    [](const json*, const json*) {});
  }
}

}  // namespace conclave::bot
