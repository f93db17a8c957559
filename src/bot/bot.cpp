#include "bot/bot.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "rtc/rtcp.hpp"
#include "rtc/rtp.hpp"
#include "rtc/sdp.hpp"
#include "rtc/srtp.hpp"

namespace conclave::bot {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Every payload we send starts (after the VP8 descriptor and payload header) with this
// block, so that a receiver can measure one-way latency and the sender's own sequence.
constexpr std::uint32_t kMagic = 0x434e434c;  // "CNCL"
constexpr std::size_t kStampSize = 4 + 8 + 4 + 1;
constexpr int kOpusPt = 111, kVp8Pt = 96;
constexpr std::size_t kMaxPayload = 1100;  // per video packet, like a browser's
constexpr std::uint8_t kExtMid = 1, kExtAudioLevel = 4, kExtRid = 10;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

void write_stamp(std::uint8_t* p, std::uint32_t seq, std::uint8_t layer) {
  put_be(p, kMagic, 4);
  put_be(p + 4, now_ns(), 8);
  put_be(p + 12, seq, 4);
  p[16] = layer;
}

// The server's ICE/DTLS parameters and its host candidate, from an SDP it wrote.
std::optional<ClientTransport::Remote> remote_of(const std::string& text, std::string& error) {
  auto parsed = rtc::sdp::parse_sdp(text);
  if (const auto* e = std::get_if<rtc::sdp::ParseError>(&parsed)) {
    error = "server SDP line " + std::to_string(e->line) + ": " + e->message;
    return std::nullopt;
  }
  const auto& sd = std::get<rtc::sdp::SessionDescription>(parsed);
  if (sd.media.empty() || !sd.media[0].fingerprint) {
    error = "server SDP without media or fingerprint";
    return std::nullopt;
  }
  ClientTransport::Remote r;
  r.ufrag = sd.media[0].ice_ufrag;
  r.pwd = sd.media[0].ice_pwd;
  const auto fp = rtc::DtlsFingerprint::parse(sd.media[0].fingerprint->algorithm + " " + [&] {
    std::string hex;
    static const char* d = "0123456789ABCDEF";
    for (auto b : sd.media[0].fingerprint->digest) {
      if (!hex.empty()) hex += ':';
      hex += d[b >> 4];
      hex += d[b & 15];
    }
    return hex;
  }());
  if (!fp) {
    error = "server fingerprint unreadable";
    return std::nullopt;
  }
  r.fingerprint = *fp;
  // a=candidate:<foundation> <component> udp <priority> <ip> <port> typ host
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("a=candidate:", 0) != 0) continue;
    std::istringstream f(line.substr(12));
    std::string foundation, component, transport, priority, ip, port;
    f >> foundation >> component >> transport >> priority >> ip >> port;
    r.candidate = rtc::Endpoint::parse(ip, static_cast<std::uint16_t>(std::stoi(port)));
    if (r.candidate.valid()) break;
  }
  if (!r.candidate.valid()) {
    error = "server SDP without a usable candidate";
    return std::nullopt;
  }
  return r;
}

}  // namespace

Bot::Bot(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate, BotOptions options,
         int index)
    : io_(io),
      certificate_(certificate),
      opt_(std::move(options)),
      index_(index),
      audio_timer_(io),
      video_timer_(io),
      report_timer_(io) {
  audio_ssrc_ = random_u32();
  static const char* rids[] = {"q", "h", "f"};
  for (std::size_t i = 0; i < opt_.layer_kbps.size() && i < 3; ++i) {
    layers_.push_back(Layer{rids[i], random_u32(), static_cast<std::uint16_t>(random_u32()), 0,
                            opt_.layer_kbps[i]});
  }
}

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
  audio_timer_.cancel();
  video_timer_.cancel();
  report_timer_.cancel();
  if (pub_) pub_->close();
  if (sub_) sub_->close();
  if (sig_) sig_->close();
}

std::uint64_t Bot::packets_sent() const {
  return pub_ ? pub_->counters().rtp_out : 0;
}
bool Bot::publishing() const {
  return pub_ && pub_->state() == ClientTransport::State::kConnected;
}
bool Bot::subscribed() const {
  return sub_ && sub_->state() == ClientTransport::State::kConnected;
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
      if (r->value("state", std::string("admitted")) == "admitted") publish();
      // else: wait for `admitted`
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
  std::ostringstream o;
  const auto& fp = certificate_.sdp_fingerprint();
  const std::string common =
      "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" + pub_->ufrag() +
      "\r\na=ice-pwd:" + pub_->pwd() + "\r\na=ice-options:trickle\r\na=fingerprint:" + fp +
      "\r\na=setup:actpass\r\n";
  o << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  std::string bundle;
  if (opt_.publish_audio) bundle += " 0";
  if (opt_.publish_video) bundle += " 1";
  o << "a=group:BUNDLE" << bundle << "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n";
  if (opt_.publish_audio) {
    o << "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      << common << "a=mid:0\r\n"
      << "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:4 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      << "a=sendonly\r\na=msid:bot-" << index_ << " mic\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
      << "a=ssrc:" << audio_ssrc_ << " cname:bot-" << index_ << "\r\n";
  }
  if (opt_.publish_video) {
    o << "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
      << common << "a=mid:1\r\n"
      << "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
      << "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
      << "a=sendonly\r\na=msid:bot-" << index_ << " cam\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\n"
      << "a=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
    std::string order;
    for (const auto& l : layers_) {
      o << "a=rid:" << l.rid << " send\r\n";
      order += (order.empty() ? "" : ";") + l.rid;
    }
    if (layers_.size() > 1) o << "a=simulcast:send " << order << "\r\n";
  }
  return o.str();
}

void Bot::publish() {
  if (!opt_.publish_audio && !opt_.publish_video) return;
  pub_ = std::make_unique<ClientTransport>(
      io_, certificate_,
      ClientTransport::Callbacks{
          [this](ClientTransport::State s) {
            if (s == ClientTransport::State::kFailed) return fail("publish connection failed");
            if (s != ClientTransport::State::kConnected) return;
            join_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
            if (opt_.publish_audio) tick_audio();
            if (opt_.publish_video) tick_video();
          },
          nullptr, [this](std::span<std::uint8_t> p) { on_pub_rtcp(p); }});
  std::string err;
  if (!pub_->open(opt_.bind, err)) return fail(err);
  json tracks = json::array();
  if (opt_.publish_audio)
    tracks.push_back({{"mid", "0"}, {"kind", "audio"}, {"source", "microphone"}, {"muted", false}});
  if (opt_.publish_video)
    tracks.push_back({{"mid", "1"}, {"kind", "video"}, {"source", "camera"}, {"muted", false}});
  sig_->request("publish", {{"sdp", publish_offer()}, {"tracks", tracks}},
                [this](const json* r, const json* e) {
                  if (!r) return fail("publish: " + e->dump());
                  on_publish_answer((*r)["sdp"].get<std::string>());
                });
}

void Bot::on_publish_answer(const std::string& sdp) {
  std::string err;
  auto remote = remote_of(sdp, err);
  if (!remote) return fail(err);
  pub_->connect(std::move(*remote));
}

void Bot::tick_audio() {
  if (stopped_) return;
  std::array<std::uint8_t, 256 + rtc::kSrtpProtectHeadroom> buf{};
  std::array<std::uint8_t, 80> payload{};
  write_stamp(payload.data(), audio_payload_seq_++, 0);
  const std::uint8_t mid[] = {'0'};
  // RFC 6464: V bit set and -20 dBov while "speaking", silence (127) otherwise.
  const std::uint8_t level[] = {static_cast<std::uint8_t>(opt_.speaking ? 0x80 | 20 : 127)};
  const rtc::ExtensionElement ext[] = {{kExtMid, mid}, {kExtAudioLevel, level}};
  rtc::RtpHeaderFields h;
  h.payload_type = kOpusPt;
  h.sequence_number = audio_seq_++;
  h.timestamp = audio_ts_;
  h.ssrc = audio_ssrc_;
  audio_ts_ += 960;
  const auto w = rtc::write_rtp_packet(buf, h, ext, payload);
  if (w.ok()) pub_->send_rtp(buf, w.size);
  audio_timer_.expires_after(20ms);
  audio_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick_audio();
  });
}

void Bot::tick_video() {
  if (stopped_) return;
  video_ts_ += 90000 / opt_.fps;
  ++picture_id_;
  for (auto& l : layers_) send_video_frame(l);
  video_timer_.expires_after(std::chrono::microseconds(1000000 / opt_.fps));
  video_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick_video();
  });
}

void Bot::send_video_frame(Layer& l) {
  const auto now = Clock::now();
  const bool key = l.want_keyframe || now - l.last_keyframe >= opt_.keyframe_interval;
  if (key) {
    l.want_keyframe = false;
    l.last_keyframe = now;
    ++keyframes_sent_;
  }
  std::size_t size = static_cast<std::size_t>(l.kbps) * 1000 / 8 / opt_.fps;
  if (key) size *= 4;
  size = std::max<std::size_t>(size, 64);
  const int layer_index = static_cast<int>(&l - layers_.data());
  const int width = 320 << layer_index, height = 180 << layer_index;
  std::array<std::uint8_t, 1500 + rtc::kSrtpProtectHeadroom> buf{};
  std::array<std::uint8_t, kMaxPayload> payload{};
  const std::uint8_t mid[] = {'1'};
  const std::span<const std::uint8_t> rid(reinterpret_cast<const std::uint8_t*>(l.rid.data()),
                                          l.rid.size());
  const rtc::ExtensionElement ext[] = {{kExtMid, mid}, {kExtRid, rid}};
  std::size_t left = size;
  bool first = true;
  while (left > 0) {
    std::size_t n = 0;
    // RFC 7741 §4.2: X, S on the first packet, PID 0; I with a 15-bit PictureID.
    payload[n++] = static_cast<std::uint8_t>(0x80 | (first ? 0x10 : 0));
    payload[n++] = 0x80;
    payload[n++] = static_cast<std::uint8_t>(0x80 | ((picture_id_ >> 8) & 0x7f));
    payload[n++] = static_cast<std::uint8_t>(picture_id_);
    if (first) {
      // RFC 6386 §9.1: frame tag (key frame bit 0 clear on key frames, show_frame), then on
      // key frames the start code and the dimensions.
      payload[n++] = static_cast<std::uint8_t>((key ? 0x00 : 0x01) | 0x10);
      payload[n++] = 0;
      payload[n++] = 0;
      if (key) {
        payload[n++] = 0x9d;
        payload[n++] = 0x01;
        payload[n++] = 0x2a;
        payload[n++] = static_cast<std::uint8_t>(width);
        payload[n++] = static_cast<std::uint8_t>(width >> 8);
        payload[n++] = static_cast<std::uint8_t>(height);
        payload[n++] = static_cast<std::uint8_t>(height >> 8);
      }
    }
    write_stamp(payload.data() + n, l.payload_seq++, static_cast<std::uint8_t>(layer_index));
    n += kStampSize;
    const std::size_t body = std::min(left, kMaxPayload - n);
    n += body;  // zeros: the content does not matter to the server
    left -= body;
    rtc::RtpHeaderFields h;
    h.marker = left == 0;
    h.payload_type = kVp8Pt;
    h.sequence_number = l.seq++;
    h.timestamp = video_ts_;
    h.ssrc = l.ssrc;
    const auto w = rtc::write_rtp_packet(buf, h, ext, std::span(payload.data(), n));
    if (w.ok()) pub_->send_rtp(buf, w.size);
    first = false;
  }
}

void Bot::on_pub_rtcp(std::span<std::uint8_t> p) {
  // Key-frame requests: PLI (PT 206, FMT 1) and FIR (PT 206, FMT 4); the media SSRC is
  // at offset 8 (for FIR, in the FCI's first entry: offset 12).
  for (std::size_t at = 0; at + 12 <= p.size();) {
    const std::size_t len = (get_be(&p[at + 2], 2) + 1) * 4;
    const int fmt = p[at] & 0x1f, pt = p[at + 1];
    if (pt == 206 && (fmt == 1 || fmt == 4) && at + 12 <= p.size()) {
      const std::size_t off = fmt == 4 ? 12 : 8;
      if (at + off + 4 <= p.size()) {
        const auto ssrc = static_cast<std::uint32_t>(get_be(&p[at + off], 4));
        for (auto& l : layers_)
          if (l.ssrc == ssrc) l.want_keyframe = true;
        ++keyframe_requests_;
      }
    }
    if (len == 0) break;
    at += len;
  }
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
                                   [this](std::span<std::uint8_t> p) { on_rtp(p); }, nullptr});
    std::string err;
    if (!sub_->open(opt_.bind, err)) return fail(err);
  }
  std::ostringstream a;
  a << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (const auto& m : sd.bundle_mids) a << ' ' << m;
  a << "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n";
  for (const auto& m : sd.media) {
    a << "m=" << m.kind << " 9 " << m.protocol;
    for (int f : m.formats) a << ' ' << f;
    a << "\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" << sub_->ufrag()
      << "\r\na=ice-pwd:" << sub_->pwd() << "\r\na=fingerprint:" << certificate_.sdp_fingerprint()
      << "\r\na=setup:active\r\na=mid:" << m.mid << "\r\n";
    for (const auto& x : m.extensions) a << "a=extmap:" << x.id << ' ' << x.uri << "\r\n";
    a << (m.direction == rtc::sdp::Direction::kInactive ? "a=inactive" : "a=recvonly")
      << "\r\na=rtcp-mux\r\na=rtcp-rsize\r\n";
    for (const auto& c : m.codecs) {
      a << "a=rtpmap:" << c.payload_type << ' ' << c.name << '/' << c.clock_rate;
      if (c.channels > 1) a << '/' << c.channels;
      a << "\r\n";
      for (const auto& fb : c.feedback) a << "a=rtcp-fb:" << c.payload_type << ' ' << fb << "\r\n";
      if (!c.fmtp.empty()) a << "a=fmtp:" << c.payload_type << ' ' << c.fmtp << "\r\n";
    }
  }
  sig_->request("subscribe_answer", {{"version", version}, {"sdp", a.str()}},
                [](const json*, const json*) {});
  if (fresh) {
    std::string err;
    auto remote = remote_of(text, err);
    if (!remote) return fail(err);
    sub_->connect(std::move(*remote));
    for (const auto& m : sd.media)
      for (const auto& x : m.extensions)
        if (x.uri.find("transport-wide-cc") != std::string::npos)
          twcc_ext_ = static_cast<std::uint8_t>(x.id);
    feedback_ssrc_ = random_u32();
    send_feedback();
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

// Every 50 ms, what arrived since the last feedback (RFC draft-holmer-rmcat-transport-
// wide-cc-extensions-01), as a browser sends it.
void Bot::send_feedback() {
  if (stopped_) return;
  if (!twcc_arrivals_.empty() && subscribed()) {
    auto& a = twcc_arrivals_;
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end(),
                        [](const auto& x, const auto& y) { return x.first == y.first; }),
            a.end());
    std::vector<rtc::TwccArrival> arrivals;
    arrivals.reserve(a.size());
    for (const auto& [seq, us] : a) arrivals.push_back({static_cast<std::uint16_t>(seq), us});
    std::array<std::uint8_t, 1400 + rtc::kSrtpProtectHeadroom> buf{};
    const std::size_t room = 1400;
    const auto w = rtc::write_transport_feedback(std::span(buf.data(), room), feedback_ssrc_, 0,
                                                 twcc_count_++, arrivals);
    if (w.ok()) sub_->send_rtcp(buf, w.size);
    a.clear();
  }
  report_timer_.expires_after(50ms);
  report_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_feedback();
  });
}

void Bot::on_rtp(std::span<std::uint8_t> packet) {
  const auto now = now_ns();
  const auto rtp = rtc::RtpPacket::parse(packet);
  if (!rtp) return;
  auto& s = received_[rtp->ssrc()];
  const bool video = rtp->payload_type() != kOpusPt;
  if (s.kind.empty()) s.kind = video ? "video" : "audio";
  // Extended sequence numbers (RFC 3550 A.1, simplified: no reordering beyond half a cycle).
  const std::uint16_t seq = rtp->sequence_number();
  if (!s.any) {
    s.any = true;
    s.first_seq = s.last_seq = seq;
  } else {
    const auto last16 = static_cast<std::uint16_t>(s.last_seq);
    const auto delta = static_cast<std::int16_t>(seq - last16);
    if (delta > 0) s.last_seq += static_cast<std::uint32_t>(delta);
  }
  ++s.packets;
  s.bytes += packet.size();
  if (twcc_ext_) {
    if (const auto v = rtp->find_extension(twcc_ext_)) {
      if (const auto t = rtc::read_transport_sequence_number(*v)) {
        std::uint32_t ext = *t;
        if (twcc_any_) {
          ext = twcc_last_ + static_cast<std::uint32_t>(static_cast<std::int16_t>(
                                 *t - static_cast<std::uint16_t>(twcc_last_)));
        }
        if (!twcc_any_ || static_cast<std::int32_t>(ext - twcc_last_) > 0) twcc_last_ = ext;
        twcc_any_ = true;
        twcc_arrivals_.emplace_back(ext, static_cast<std::int64_t>(now / 1000));
      }
    }
  }
  auto payload = rtp->payload();
  std::size_t at = 0;
  if (video) {
    if (payload.size() < 4) return;
    const bool start = (payload[0] & 0x10) != 0;
    at = 4;  // our descriptor: X, I with a 15-bit PictureID (the SFU rewrites it in place)
    if (start && payload.size() > at) at += (payload[at] & 1) == 0 ? 10 : 3;
  }
  if (payload.size() < at + kStampSize || get_be(&payload[at], 4) != kMagic) return;
  const auto sent = get_be(&payload[at + 4], 8);
  if (now > sent) s.latency_us.push_back(static_cast<std::uint32_t>((now - sent) / 1000));
}

}  // namespace conclave::bot
