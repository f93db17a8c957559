#include "bot/bot.hpp"

#include <sstream>

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
  sig_ = std::make_unique<SignalClient>(io_, opt_.host, opt_.port);
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
      if (r->value("state", std::string("admitted")) == "admitted") publish();
    });
  });
}

void Bot::on_event(const json& e) {
  const auto name = e.value("event", std::string());
  if (name == "admitted") {
    publish();
  } else if (name == "subscribe_offer") {
    if (opt_.subscribe) on_subscribe_offer(e);
  } else if (name == "closing" || name == "denied") {
    fail("server closed: " + e.value("reason", name));
  }
}

std::string Bot::publish_offer() const {
  const auto& m = opt_.media;
  std::ostringstream o;
  const std::string common =
      "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" + pub_->ufrag() +
      "\r\na=ice-pwd:" + pub_->pwd() +
      "\r\na=ice-options:trickle\r\na=fingerprint:" + certificate_.sdp_fingerprint() +
      "\r\na=setup:actpass\r\n";
  o << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  o << "a=group:BUNDLE" << (m.audio ? " " + m.audio_mid : "") << (m.video ? " " + m.video_mid : "")
    << "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n";
  if (m.audio) {
    o << "m=audio 9 UDP/TLS/RTP/SAVPF " << m.opus_pt << "\r\n"
      << common << "a=mid:" << m.audio_mid << "\r\n"
      << "a=extmap:" << int{m.ext_mid} << " urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:" << int{m.ext_audio_level} << " urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      << "a=sendonly\r\na=msid:bot-" << index_ << " mic\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:" << m.opus_pt << " opus/48000/2\r\na=fmtp:" << m.opus_pt
      << " minptime=10;useinbandfec=1\r\n"
      << "a=ssrc:" << sender_.audio_ssrc() << " cname:bot-" << index_ << "\r\n";
  }
  if (m.video) {
    o << "m=video 9 UDP/TLS/RTP/SAVPF " << m.vp8_pt << ' ' << m.vp8_pt + 1 << "\r\n"
      << common << "a=mid:" << m.video_mid << "\r\n"
      << "a=extmap:" << int{m.ext_mid} << " urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:" << int{m.ext_rid} << " urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
      << "a=extmap:" << m.ext_rid + 1
      << " urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
      << "a=sendonly\r\na=msid:bot-" << index_ << " cam\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:" << m.vp8_pt << " VP8/90000\r\na=rtcp-fb:" << m.vp8_pt
      << " ccm fir\r\na=rtcp-fb:" << m.vp8_pt << " nack\r\na=rtcp-fb:" << m.vp8_pt
      << " nack pli\r\na=rtpmap:" << m.vp8_pt + 1 << " rtx/90000\r\na=fmtp:" << m.vp8_pt + 1
      << " apt=" << m.vp8_pt << "\r\n";
    std::string order;
    for (const auto& l : sender_.layers()) {
      o << "a=rid:" << l.rid << " send\r\n";
      order += (order.empty() ? "" : ";") + l.rid;
    }
    if (sender_.layers().size() > 1) o << "a=simulcast:send " << order << "\r\n";
  }
  return o.str();
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
  sig_->request("publish", {{"sdp", publish_offer()}, {"tracks", tracks}},
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
