#include "rtc/sdp.hpp"

#include <algorithm>
#include <charconv>

namespace conclave::rtc::sdp {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

template <class T>
bool to_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Splits "a b c" on single spaces, dropping empty pieces.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto sp = s.find(' ');
    if (sp != 0) out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<Setup> parse_setup(std::string_view v) {
  if (v == "actpass") return Setup::kActpass;
  if (v == "active") return Setup::kActive;
  if (v == "passive") return Setup::kPassive;
  if (v == "holdconn") return Setup::kHoldconn;
  return std::nullopt;
}

// ICE ufrag/pwd characters (RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/").
bool valid_ice_chars(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

Codec& codec_for(MediaSection& m, int pt) {
  for (auto& c : m.codecs) {
    if (c.payload_type == pt) return c;
  }
  m.codecs.push_back(Codec{pt, {}, 0, 1, {}, {}});
  return m.codecs.back();
}

struct Transport {
  std::string ice_ufrag, ice_pwd;
  std::optional<Fingerprint> fingerprint;
  std::optional<Setup> setup;
};

// Applies one a= attribute that may appear at session or media level. Returns an error
// message, "" when applied, or nullopt when the attribute is not a transport attribute.
std::optional<std::string> transport_attribute(std::string_view name, std::string_view value,
                                               Transport& t) {
  if (name == "ice-ufrag") {
    if (!valid_ice_chars(value, 4, 256)) return "ice-ufrag must be 4 to 256 ICE characters";
    t.ice_ufrag = value;
    return "";
  }
  if (name == "ice-pwd") {
    if (!valid_ice_chars(value, 22, 256)) return "ice-pwd must be 22 to 256 ICE characters";
    t.ice_pwd = value;
    return "";
  }
  if (name == "fingerprint") {
    const auto w = words(value);
    if (w.size() != 2) return "fingerprint needs an algorithm and a digest";
    auto digest = parse_fingerprint_hex(w[1]);
    if (!digest) return "fingerprint digest is not colon-separated hex";
    t.fingerprint = Fingerprint{lower(w[0]), std::move(*digest)};
    return "";
  }
  if (name == "setup") {
    t.setup = parse_setup(value);
    if (!t.setup) return "setup must be actpass, active, passive or holdconn";
    return "";
  }
  return std::nullopt;
}

}  // namespace

const Codec* MediaSection::find_codec(std::string_view name, int clock_rate) const {
  for (const auto& c : codecs) {
    if (c.clock_rate == clock_rate && c.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), c.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &c;
    }
  }
  return nullptr;
}

int MediaSection::extension_id(std::string_view uri) const {
  for (const auto& e : extensions) {
    if (e.uri == uri) return e.id;
  }
  return 0;
}

std::string format_fingerprint(const std::vector<std::uint8_t>& digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> parse_fingerprint_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  if (hex.size() < 2 || hex.size() > 64 * 3) return std::nullopt;
  for (std::size_t i = 0; i < hex.size(); i += 3) {
    if (i + 2 > hex.size() || (i + 2 < hex.size() && hex[i + 2] != ':')) return std::nullopt;
    std::uint8_t byte = 0;
    auto [ptr, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, byte, 16);
    if (ec != std::errc() || ptr != hex.data() + i + 2) return std::nullopt;
    out.push_back(byte);
  }
  return out;
}

std::variant<SessionDescription, ParseError> parse_sdp(std::string_view text) {
  if (text.size() > kMaxSdpBytes) return ParseError{0, "the description is larger than 64 KiB"};
  SessionDescription desc;
  Transport session_transport;
  std::vector<Transport> media_transport;
  std::size_t line_no = 0;
  bool saw_version = false;

  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    auto fail = [&](std::string message) { return ParseError{line_no, std::move(message)}; };
    if (line.size() < 2 || line[1] != '=' || !std::islower(static_cast<unsigned char>(line[0]))) {
      return fail("not a <type>=<value> line");
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!saw_version) {
      if (type != 'v' || value != "0") return fail("a description starts with v=0");
      saw_version = true;
      continue;
    }
    if (type == 'm') {
      if (desc.media.size() >= kMaxMediaSections) return fail("too many media sections");
      const auto w = words(value);
      if (w.size() < 3) return fail("m= needs media, port and protocol");
      MediaSection m;
      m.kind = w[0];
      if (!to_number(w[1].substr(0, w[1].find('/')), m.port))
        return fail("m= port is not a number");
      m.protocol = w[2];
      const bool rtp = m.protocol.find("RTP/") != std::string::npos;
      for (std::size_t i = 3; i < w.size(); ++i) {
        if (!rtp) continue;  // e.g. webrtc-datachannel
        int pt = -1;
        if (!to_number(w[i], pt) || pt < 0 || pt > 127) {
          return fail("m= payload type is not a number from 0 to 127");
        }
        m.formats.push_back(pt);
      }
      desc.media.push_back(std::move(m));
      media_transport.emplace_back();
      continue;
    }
    if (type != 'a') continue;  // o=, s=, t=, c=, b=: nothing we need

    const auto colon = value.find(':');
    const std::string_view name = value.substr(0, colon);
    const std::string_view arg = colon == std::string_view::npos ? "" : value.substr(colon + 1);
    Transport& transport = desc.media.empty() ? session_transport : media_transport.back();
    if (auto r = transport_attribute(name, arg, transport)) {
      if (!r->empty()) return fail(*r);
      continue;
    }
    if (desc.media.empty()) {
      if (name == "group") {
        auto w = words(arg);
        if (!w.empty() && w[0] == "BUNDLE") {
          for (std::size_t i = 1; i < w.size(); ++i) desc.bundle_mids.emplace_back(w[i]);
        }
      } else if (name == "ice-lite") {
        desc.ice_lite = true;
      }
      continue;
    }

    MediaSection& m = desc.media.back();
    if (name == "mid") {
      if (arg.empty() || arg.size() > 32) return fail("mid must be 1 to 32 characters");
      m.mid = arg;
    } else if (name == "sendrecv") {
      m.direction = Direction::kSendRecv;
    } else if (name == "sendonly") {
      m.direction = Direction::kSendOnly;
    } else if (name == "recvonly") {
      m.direction = Direction::kRecvOnly;
    } else if (name == "inactive") {
      m.direction = Direction::kInactive;
    } else if (name == "rtcp-mux") {
      m.rtcp_mux = true;
    } else if (name == "rtpmap") {
      // a=rtpmap:<pt> <name>/<clock>[/<channels>]
      const auto w = words(arg);
      int pt = -1;
      if (w.size() != 2 || !to_number(w[0], pt) || pt < 0 || pt > 127) return fail("bad rtpmap");
      const auto enc = w[1];
      const auto s1 = enc.find('/');
      if (s1 == std::string_view::npos || s1 == 0) return fail("rtpmap needs <name>/<clock rate>");
      const auto s2 = enc.find('/', s1 + 1);
      Codec& c = codec_for(m, pt);
      c.name = enc.substr(0, s1);
      if (!to_number(enc.substr(s1 + 1, s2 == std::string_view::npos ? std::string_view::npos
                                                                     : s2 - s1 - 1),
                     c.clock_rate) ||
          c.clock_rate <= 0) {
        return fail("rtpmap clock rate is not a positive number");
      }
      if (s2 != std::string_view::npos &&
          (!to_number(enc.substr(s2 + 1), c.channels) || c.channels < 1 || c.channels > 8)) {
        return fail("rtpmap channel count is not a number from 1 to 8");
      }
    } else if (name == "fmtp" || name == "rtcp-fb") {
      const auto sp = arg.find(' ');
      if (sp == std::string_view::npos)
        return fail(std::string(name) + " needs a payload type and a value");
      const auto pt_text = arg.substr(0, sp);
      const auto rest = trim(arg.substr(sp + 1));
      if (name == "rtcp-fb" && pt_text == "*") {
        for (int pt : m.formats) codec_for(m, pt).feedback.emplace_back(rest);
        continue;
      }
      int pt = -1;
      if (!to_number(pt_text, pt) || pt < 0 || pt > 127)
        return fail(std::string(name) + " payload type is not a number from 0 to 127");
      if (name == "fmtp") {
        codec_for(m, pt).fmtp = rest;
      } else {
        codec_for(m, pt).feedback.emplace_back(rest);
      }
    } else if (name == "extmap") {
      // a=extmap:<id>[/<direction>] <uri> [<attributes>]
      const auto w = words(arg);
      int id = 0;
      if (w.size() < 2 || !to_number(w[0].substr(0, w[0].find('/')), id) || id < 1 || id > 255) {
        return fail("extmap id must be a number from 1 to 255");
      }
      m.extensions.push_back(Extension{id, std::string(w[1])});
    } else if (name == "ssrc") {
      std::uint32_t ssrc = 0;
      if (!to_number(arg.substr(0, arg.find(' ')), ssrc)) return fail("ssrc is not a number");
      if (std::find(m.ssrcs.begin(), m.ssrcs.end(), ssrc) == m.ssrcs.end()) m.ssrcs.push_back(ssrc);
    }
  }
  if (!saw_version) return ParseError{0, "empty description"};
  if (desc.media.empty()) return ParseError{0, "the description has no media section"};

  // Session-level transport attributes are the defaults for every media section.
  for (std::size_t i = 0; i < desc.media.size(); ++i) {
    auto& m = desc.media[i];
    const auto& t = media_transport[i];
    m.ice_ufrag = !t.ice_ufrag.empty() ? t.ice_ufrag : session_transport.ice_ufrag;
    m.ice_pwd = !t.ice_pwd.empty() ? t.ice_pwd : session_transport.ice_pwd;
    m.fingerprint = t.fingerprint ? t.fingerprint : session_transport.fingerprint;
    m.setup = t.setup ? t.setup : session_transport.setup;
  }
  return desc;
}

std::variant<TransportParameters, ParseError> transport_of(const SessionDescription& d) {
  if (d.media.empty()) return ParseError{0, "no media section"};
  // The first bundled section carries the transport; without BUNDLE, the first section.
  const MediaSection* tagged = &d.media.front();
  if (!d.bundle_mids.empty()) {
    tagged = nullptr;
    for (const auto& m : d.media) {
      if (m.mid == d.bundle_mids.front()) tagged = &m;
    }
    if (!tagged) return ParseError{0, "BUNDLE names a mid that no media section has"};
  }
  if (tagged->ice_ufrag.empty() || tagged->ice_pwd.empty()) {
    return ParseError{0, "the offer has no ice-ufrag/ice-pwd"};
  }
  if (!tagged->fingerprint) return ParseError{0, "the offer has no DTLS fingerprint"};
  if (tagged->fingerprint->algorithm != "sha-256" || tagged->fingerprint->digest.size() != 32) {
    return ParseError{0, "only sha-256 DTLS fingerprints are supported"};
  }
  return TransportParameters{tagged->ice_ufrag, tagged->ice_pwd, *tagged->fingerprint,
                             tagged->setup.value_or(Setup::kActpass)};
}

namespace {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "recvonly";  // they send, we receive
    case Direction::kRecvOnly:
      return "sendonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "inactive";
}

constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";

}  // namespace

std::variant<std::string, ParseError> write_echo_answer(const SessionDescription& offer,
                                                        const LocalTransport& local) {
  std::string media;
  std::vector<std::string> bundle;
  for (const auto& m : offer.media) {
    const Codec* codec = nullptr;
    if (m.kind == "audio") codec = m.find_codec("opus", 48000);
    if (m.kind == "video") codec = m.find_codec("VP8", 90000);
    const int mid_ext = m.extension_id(kMidUri);
    if (!codec || m.mid.empty() || mid_ext == 0 || !m.rtcp_mux) {
      // Rejected: port 0, same kind and protocol, the first format (RFC 8829 §5.3.1).
      media += "m=" + m.kind + " 0 " + m.protocol + " " +
               (m.formats.empty() ? std::string("0") : std::to_string(m.formats.front())) +
               "\r\nc=IN IP4 0.0.0.0\r\n";
      if (!m.mid.empty()) media += "a=mid:" + m.mid + "\r\n";
      media += "a=inactive\r\n";
      continue;
    }
    bundle.push_back(m.mid);
    const auto pt = std::to_string(codec->payload_type);
    media += "m=" + m.kind + " 9 UDP/TLS/RTP/SAVPF " + pt + "\r\n";
    media += "c=IN IP4 0.0.0.0\r\n";
    media += "a=mid:" + m.mid + "\r\n";
    media += std::string("a=") + direction_name(m.direction) + "\r\n";
    media += "a=rtcp-mux\r\n";
    media += "a=extmap:" + std::to_string(mid_ext) + " " + std::string(kMidUri) + "\r\n";
    media += "a=rtpmap:" + pt + " " + codec->name + "/" + std::to_string(codec->clock_rate) +
             (codec->channels > 1 ? "/" + std::to_string(codec->channels) : "") + "\r\n";
    if (!codec->fmtp.empty()) media += "a=fmtp:" + pt + " " + codec->fmtp + "\r\n";
    for (const auto& fb : codec->feedback) {
      if (fb == "nack" || fb == "nack pli" || fb == "ccm fir") {
        media += "a=rtcp-fb:" + pt + " " + fb + "\r\n";
      }
    }
  }
  if (bundle.empty())
    return ParseError{0, "the offer has no Opus or VP8 section with mid and rtcp-mux"};

  std::string out =
      "v=0\r\no=conclave 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
      "a=group:BUNDLE";
  for (const auto& mid : bundle) out += " " + mid;
  out += "\r\n";
  // Transport attributes at session level apply to every section (RFC 8839 §5.4).
  out += "a=ice-ufrag:" + local.ice_ufrag + "\r\na=ice-pwd:" + local.ice_pwd + "\r\n";
  out += "a=fingerprint:" + local.fingerprint + "\r\n";
  out += local.dtls_client ? "a=setup:active\r\n" : "a=setup:passive\r\n";
  out += media;
  // One host candidate, in the first (tagged) bundled section.
  const auto first = out.find("a=mid:" + bundle.front() + "\r\n");
  const std::string candidate = "a=candidate:1 1 udp 2130706431 " + local.candidate_ip + " " +
                                std::to_string(local.candidate_port) +
                                " typ host\r\na=end-of-candidates\r\n";
  out.insert(first + 6 + bundle.front().size() + 2, candidate);
  return out;
}

}  // namespace conclave::rtc::sdp
