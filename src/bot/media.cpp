#include "bot/media.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <sstream>

#include "rtc/rtcp.hpp"
#include "rtc/rtp.hpp"
#include "rtc/sdp.hpp"
#include "rtc/srtp.hpp"

namespace conclave::bot {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

namespace {

// Every payload we send starts (after the VP8 descriptor and payload header) with this
// block, so that a receiver can measure one-way latency and the sender's own sequence.
constexpr std::uint32_t kMagic = 0x434e434c;  // "CNCL"
constexpr std::size_t kStampSize = 4 + 8 + 4 + 1;
constexpr std::size_t kMaxPayload = 1100;  // per video packet, like a browser's

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
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

// RFC 7741 §4.2: the VP8 payload descriptor's size, or nullopt when cut short.
std::optional<std::size_t> vp8_descriptor_size(std::span<const std::uint8_t> p) {
  if (p.empty()) return std::nullopt;
  std::size_t n = 1;
  if (p[0] & 0x80) {
    if (p.size() < 2) return std::nullopt;
    const std::uint8_t x = p[1];
    n = 2;
    if (x & 0x80) {
      if (p.size() <= n) return std::nullopt;
      n += (p[n] & 0x80) ? 2 : 1;  // PictureID, 15 or 7 bits
    }
    if (x & 0x40) ++n;  // TL0PICIDX
    if (x & 0x30) ++n;  // TID/Y/KEYIDX
  }
  if (p.size() < n) return std::nullopt;
  return n;
}

// The VP8 payload header at the start of a frame (RFC 6386 §9.1): 10 bytes on a key frame.
std::size_t vp8_header(std::span<const std::uint8_t> frame) {
  if (frame.empty()) return 0;
  return (frame[0] & 1) == 0 ? 10 : 3;
}

}  // namespace

std::optional<rtc::Endpoint> parse_candidate(std::string_view attribute, std::uint32_t* priority,
                                             bool* host) {
  if (attribute.rfind("a=", 0) == 0) attribute.remove_prefix(2);
  if (attribute.rfind("candidate:", 0) != 0) return std::nullopt;
  std::istringstream f{std::string(attribute.substr(10))};
  std::string foundation, component, transport, ip, typ, type;
  std::uint64_t prio = 0;
  unsigned port = 0;
  if (!(f >> foundation >> component >> transport >> prio >> ip >> port >> typ >> type))
    return std::nullopt;
  const auto lower = [](std::string v) {
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  if (component != "1" || lower(transport) != "udp" || typ != "typ" || port == 0 || port > 65535)
    return std::nullopt;
  const auto ep = rtc::Endpoint::parse(ip, static_cast<std::uint16_t>(port));
  if (!ep.valid()) return std::nullopt;
  if (priority) *priority = static_cast<std::uint32_t>(prio);
  if (host) *host = type == "host";
  return ep;
}

std::optional<ClientTransport::Remote> remote_from_sdp(const std::string& text, std::string& error,
                                                       bool need_candidate) {
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
  const auto fp = rtc::DtlsFingerprint::from_digest(sd.media[0].fingerprint->algorithm,
                                                    sd.media[0].fingerprint->digest);
  if (!fp) {
    error = "server fingerprint unreadable";
    return std::nullopt;
  }
  r.fingerprint = *fp;
  r.peer_is_dtls_client = sd.media[0].setup == rtc::sdp::Setup::kActive;
  // a=candidate:<foundation> <component> udp <priority> <ip> <port> typ <type> ...
  int best_rank = -1;
  std::uint32_t best_priority = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("a=candidate:", 0) != 0) continue;
    std::uint32_t priority = 0;
    bool host = false;
    const auto ep = parse_candidate(line, &priority, &host);
    if (!ep) continue;
    const int rank = (ep->family() == AF_INET ? 2 : 0) + (host ? 1 : 0);
    if (rank > best_rank || (rank == best_rank && priority > best_priority)) {
      best_rank = rank;
      best_priority = priority;
      r.candidate = *ep;
    }
  }
  if (!r.candidate.valid() && need_candidate) {
    error = "server SDP without a usable candidate";
    return std::nullopt;
  }
  return r;
}

std::string publish_offer(const MediaSender& sender, const std::string& ufrag,
                          const std::string& pwd, const std::string& fingerprint,
                          const std::string& cname, std::string_view setup) {
  const auto& m = sender.options();
  std::ostringstream o;
  const std::string common = "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" + ufrag +
                             "\r\na=ice-pwd:" + pwd +
                             "\r\na=ice-options:trickle\r\na=fingerprint:" + fingerprint +
                             "\r\na=setup:" + std::string(setup) + "\r\n";
  o << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  o << "a=group:BUNDLE" << (m.audio ? " " + m.audio_mid : "") << (m.video ? " " + m.video_mid : "")
    << "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n";
  if (m.audio) {
    o << "m=audio 9 UDP/TLS/RTP/SAVPF " << m.opus_pt << "\r\n"
      << common << "a=mid:" << m.audio_mid << "\r\n"
      << "a=extmap:" << int{m.ext_mid} << " urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:" << int{m.ext_audio_level} << " urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      << "a=sendonly\r\na=msid:" << cname << " mic\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:" << m.opus_pt << " opus/48000/2\r\na=fmtp:" << m.opus_pt
      << " minptime=10;useinbandfec=1\r\n"
      << "a=ssrc:" << sender.audio_ssrc() << " cname:" << cname << "\r\n";
  }
  if (m.video) {
    o << "m=video 9 UDP/TLS/RTP/SAVPF " << m.vp8_pt << ' ' << m.vp8_pt + 1 << "\r\n"
      << common << "a=mid:" << m.video_mid << "\r\n"
      << "a=extmap:" << int{m.ext_mid} << " urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      << "a=extmap:" << int{m.ext_rid} << " urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
      << "a=extmap:" << m.ext_rid + 1
      << " urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
      << "a=sendonly\r\na=msid:" << cname << " cam\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      << "a=rtpmap:" << m.vp8_pt << " VP8/90000\r\na=rtcp-fb:" << m.vp8_pt
      << " ccm fir\r\na=rtcp-fb:" << m.vp8_pt << " nack\r\na=rtcp-fb:" << m.vp8_pt
      << " nack pli\r\na=rtpmap:" << m.vp8_pt + 1 << " rtx/90000\r\na=fmtp:" << m.vp8_pt + 1
      << " apt=" << m.vp8_pt << "\r\n";
    std::string order;
    for (const auto& l : sender.layers()) {
      o << "a=rid:" << l.rid << " send\r\n";
      order += (order.empty() ? "" : ";") + l.rid;
    }
    if (sender.layers().size() > 1) o << "a=simulcast:send " << order << "\r\n";
  }
  return o.str();
}

std::string answer_sdp(const rtc::sdp::SessionDescription& sd, const std::string& ufrag,
                       const std::string& pwd, const std::string& fingerprint) {
  std::ostringstream a;
  a << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (const auto& m : sd.bundle_mids) a << ' ' << m;
  a << "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n";
  for (const auto& m : sd.media) {
    a << "m=" << m.kind << " 9 " << m.protocol;
    for (int f : m.formats) a << ' ' << f;
    a << "\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" << ufrag
      << "\r\na=ice-pwd:" << pwd << "\r\na=fingerprint:" << fingerprint
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
  return a.str();
}

MediaSender::MediaSender(boost::asio::io_context& io, SenderOptions options)
    : io_(io), opt_(std::move(options)), audio_timer_(io), video_timer_(io) {
  audio_ssrc_ = random_u32();
  static const char* rids[] = {"q", "h", "f"};
  for (std::size_t i = 0; i < opt_.layer_kbps.size() && i < 3; ++i) {
    layers_.push_back(Layer{rids[i], random_u32(), static_cast<std::uint16_t>(random_u32()), 0,
                            opt_.layer_kbps[i]});
  }
}

void MediaSender::start(ClientTransport& transport) {
  transport_ = &transport;
  // A publisher that is not speaking has its microphone muted, as most people in a large
  // meeting do: its track exists and sends nothing.
  if (opt_.audio && opt_.speaking) tick_audio();
  if (opt_.video) tick_video();
}

void MediaSender::stop() {
  stopped_ = true;
  audio_timer_.cancel();
  video_timer_.cancel();
}

void MediaSender::tick_audio() {
  if (stopped_) return;
  std::array<std::uint8_t, 256 + rtc::kSrtpProtectHeadroom> buf{};
  std::array<std::uint8_t, 80> frame{};
  write_stamp(frame.data(), audio_payload_seq_++, 0);
  std::span<const std::uint8_t> payload = frame;
  if (protect_) {
    sealed_.clear();
    if (protect_(frame, false, sealed_)) payload = sealed_;
  }
  const auto mid = std::span(reinterpret_cast<const std::uint8_t*>(opt_.audio_mid.data()),
                             opt_.audio_mid.size());
  // RFC 6464: V bit set and -20 dBov while "speaking", silence (127) otherwise.
  const std::uint8_t level[] = {static_cast<std::uint8_t>(opt_.speaking ? 0x80 | 20 : 127)};
  const rtc::ExtensionElement ext[] = {{opt_.ext_mid, mid}, {opt_.ext_audio_level, level}};
  rtc::RtpHeaderFields h;
  h.payload_type = static_cast<std::uint8_t>(opt_.opus_pt);
  h.sequence_number = audio_seq_++;
  h.timestamp = audio_ts_;
  h.ssrc = audio_ssrc_;
  audio_ts_ += 960;
  const auto w = rtc::write_rtp_packet(buf, h, ext, payload);
  if (w.ok()) transport_->send_rtp(buf, w.size);
  audio_timer_.expires_after(20ms);
  audio_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick_audio();
  });
}

void MediaSender::tick_video() {
  if (stopped_) return;
  video_ts_ += 90000 / opt_.fps;
  ++picture_id_;
  for (auto& l : layers_) send_video_frame(l);
  video_timer_.expires_after(std::chrono::microseconds(1000000 / opt_.fps));
  video_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick_video();
  });
}

void MediaSender::send_video_frame(Layer& l) {
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
  // The whole frame first: RFC 6386 §9.1's frame tag (key frame bit clear on key frames,
  // show_frame), on key frames the start code and the dimensions; then our stamp; then
  // zeros (the content does not matter to the server).
  frame_.clear();
  frame_.push_back(static_cast<std::uint8_t>((key ? 0x00 : 0x01) | 0x10));
  frame_.push_back(0);
  frame_.push_back(0);
  if (key) {
    for (const int b : {0x9d, 0x01, 0x2a, width & 0xff, width >> 8, height & 0xff, height >> 8})
      frame_.push_back(static_cast<std::uint8_t>(b));
  }
  const std::size_t stamp_at = frame_.size();
  frame_.resize(std::max(size, stamp_at + kStampSize));
  write_stamp(frame_.data() + stamp_at, l.payload_seq++, static_cast<std::uint8_t>(layer_index));
  std::span<const std::uint8_t> body = frame_;
  if (protect_) {
    sealed_.clear();
    if (!protect_(frame_, true, sealed_)) return;
    body = sealed_;
  }
  std::array<std::uint8_t, 1500 + rtc::kSrtpProtectHeadroom> buf{};
  std::array<std::uint8_t, kMaxPayload> payload{};
  const auto mid = std::span(reinterpret_cast<const std::uint8_t*>(opt_.video_mid.data()),
                             opt_.video_mid.size());
  const std::span<const std::uint8_t> rid(reinterpret_cast<const std::uint8_t*>(l.rid.data()),
                                          l.rid.size());
  const rtc::ExtensionElement ext[] = {{opt_.ext_mid, mid}, {opt_.ext_rid, rid}};
  bool first = true;
  while (!body.empty()) {
    std::size_t n = 0;
    // RFC 7741 §4.2: X, S on the first packet, PID 0; I with a 15-bit PictureID.
    payload[n++] = static_cast<std::uint8_t>(0x80 | (first ? 0x10 : 0));
    payload[n++] = 0x80;
    payload[n++] = static_cast<std::uint8_t>(0x80 | ((picture_id_ >> 8) & 0x7f));
    payload[n++] = static_cast<std::uint8_t>(picture_id_);
    const std::size_t chunk = std::min(body.size(), kMaxPayload - n);
    std::memcpy(payload.data() + n, body.data(), chunk);
    n += chunk;
    body = body.subspan(chunk);
    rtc::RtpHeaderFields h;
    h.marker = body.empty();
    h.payload_type = static_cast<std::uint8_t>(opt_.vp8_pt);
    h.sequence_number = l.seq++;
    h.timestamp = video_ts_;
    h.ssrc = l.ssrc;
    const auto w = rtc::write_rtp_packet(buf, h, ext, std::span(payload.data(), n));
    if (w.ok()) transport_->send_rtp(buf, w.size);
    first = false;
  }
}

void MediaSender::on_rtcp(std::span<std::uint8_t> p) {
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

void MediaReceiver::start(ClientTransport& transport, std::uint8_t twcc_ext, int opus_pt) {
  transport_ = &transport;
  twcc_ext_ = twcc_ext;
  opus_pt_ = opus_pt;
  feedback_ssrc_ = random_u32();
  send_feedback();
}

void MediaReceiver::stop() {
  stopped_ = true;
  timer_.cancel();
}

// Every 50 ms, what arrived since the last feedback (RFC draft-holmer-rmcat-transport-
// wide-cc-extensions-01), as a browser sends it.
void MediaReceiver::send_feedback() {
  if (stopped_) return;
  if (!twcc_arrivals_.empty() && transport_->state() == ClientTransport::State::kConnected) {
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
    if (w.ok()) transport_->send_rtcp(buf, w.size);
    a.clear();
  }
  if (++ticks_ % 20 == 0) send_reports();
  timer_.expires_after(50ms);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_feedback();
  });
}

void MediaReceiver::on_rtp(std::span<std::uint8_t> packet) {
  const auto now = now_ns();
  const auto rtp = rtc::RtpPacket::parse(packet);
  if (!rtp) return;
  if (rtx_pts_.count(rtp->payload_type())) {
    ++rtx_received_;  // a retransmission we asked for: the stream it repairs counted the gap
    return;
  }
  auto& s = received_[rtp->ssrc()];
  const bool video = rtp->payload_type() != opus_pt_;
  if (s.kind.empty()) s.kind = video ? "video" : "audio";
  // Extended sequence numbers (RFC 3550 A.1, simplified: no reordering beyond half a cycle).
  const std::uint16_t seq = rtp->sequence_number();
  if (!s.any) {
    s.any = true;
    s.first_seq = s.last_seq = seq;
  } else {
    const auto last16 = static_cast<std::uint16_t>(s.last_seq);
    const auto delta = static_cast<std::int16_t>(seq - last16);
    if (delta > 1 && video) send_nack(rtp->ssrc(), s.last_seq + 1, s.last_seq + delta);
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
  const auto payload = rtp->payload();
  if (!video) return audio(s, payload, now);
  const auto d = vp8_descriptor_size(payload);
  if (!d) return;
  const bool start = (payload[0] & 0x10) != 0 && (payload[0] & 0x07) == 0;
  const auto body = payload.subspan(*d);
  if (!unprotect_) {
    // The stamp follows the VP8 payload header of a frame's first packet.
    if (start && !body.empty())
      read_stamp(s, body.subspan(std::min(body.size(), vp8_header(body))), now);
    return;
  }
  // Encrypted: the frame must be whole before it can be opened.
  auto& f = frames_[rtp->ssrc()];
  if (start) {
    f.assign(body.begin(), body.end());
  } else if (!f.empty()) {
    f.insert(f.end(), body.begin(), body.end());
  }
  if (rtp->marker() && !f.empty()) {
    opened_.clear();
    if (unprotect_(f, true, opened_)) {
      ++frames_opened_;
      const std::span<const std::uint8_t> plain = opened_;
      read_stamp(s, plain.subspan(std::min(plain.size(), vp8_header(plain))), now);
    } else {
      ++frames_refused_;
    }
    f.clear();
  }
}

void MediaReceiver::note_offer(const rtc::sdp::SessionDescription& offer) {
  for (const auto& m : offer.media)
    for (const auto& c : m.codecs)
      if (c.name == "rtx" || c.name == "RTX") rtx_pts_.insert(c.payload_type);
}

// Extended sequence numbers [from, to) are missing: NACK up to 16 of them; a longer gap
// will not be repaired in time, so ask for a key frame instead.
void MediaReceiver::send_nack(std::uint32_t ssrc, std::uint32_t from, std::uint32_t to) {
  if (!transport_ || transport_->state() != ClientTransport::State::kConnected) return;
  std::array<std::uint8_t, 256 + rtc::kSrtpProtectHeadroom> buf{};
  if (to - from > 16) {
    const auto w = rtc::write_pli(std::span(buf.data(), 256), feedback_ssrc_, ssrc);
    if (w.ok() && transport_->send_rtcp(buf, w.size)) ++plis_sent_;
    return;
  }
  std::vector<std::uint16_t> lost;
  for (auto q = from; q != to; ++q) lost.push_back(static_cast<std::uint16_t>(q));
  const auto w = rtc::write_nack(std::span(buf.data(), 256), feedback_ssrc_, ssrc, lost);
  if (w.ok() && transport_->send_rtcp(buf, w.size)) ++nacks_sent_;
}

// A receiver report per 31 streams (RFC 3550 §6.4.2): loss since the last one and in all,
// the highest sequence number; no jitter or SR timing (the server does not need them).
void MediaReceiver::send_reports() {
  if (!transport_ || transport_->state() != ClientTransport::State::kConnected) return;
  std::vector<rtc::ReportBlock> blocks;
  for (const auto& [ssrc, s] : received_) {
    if (!s.any) continue;
    auto& r = reported_[ssrc];
    const auto expected = s.expected(), received = s.packets;
    const auto exp_i = expected - std::min(expected, r.expected);
    const auto rec_i = received - std::min(received, r.received);
    rtc::ReportBlock b;
    b.ssrc = ssrc;
    b.fraction_lost =
        exp_i > rec_i
            ? static_cast<std::uint8_t>(std::min<std::uint64_t>(255, (exp_i - rec_i) * 256 / exp_i))
            : 0;
    b.cumulative_lost = static_cast<std::int32_t>(expected > received ? expected - received : 0);
    b.extended_highest_sequence = s.last_seq;
    blocks.push_back(b);
    r = {expected, received};
  }
  std::array<std::uint8_t, 1024 + rtc::kSrtpProtectHeadroom> buf{};
  for (std::size_t at = 0; at < blocks.size(); at += 31) {
    const auto n = std::min<std::size_t>(31, blocks.size() - at);
    const auto w = rtc::write_receiver_report(std::span(buf.data(), 1024), feedback_ssrc_,
                                              std::span(blocks).subspan(at, n));
    if (w.ok()) transport_->send_rtcp(buf, w.size);
  }
}

// An audio payload: opened first when encrypted, then its stamp.
void MediaReceiver::audio(StreamStats& s, std::span<const std::uint8_t> p, std::uint64_t now) {
  if (unprotect_) {
    opened_.clear();
    if (!unprotect_(p, false, opened_)) {
      ++frames_refused_;
      return;
    }
    ++frames_opened_;
    p = opened_;
  }
  read_stamp(s, p, now);
}

// Our stamp at the start of `p` (plaintext): one latency sample.
void MediaReceiver::read_stamp(StreamStats& s, std::span<const std::uint8_t> p, std::uint64_t now) {
  if (p.size() < kStampSize || get_be(p.data(), 4) != kMagic) return;
  const auto sent = get_be(p.data() + 4, 8);
  if (now > sent) s.latency_us.push_back(static_cast<std::uint32_t>((now - sent) / 1000));
}

}  // namespace conclave::bot
