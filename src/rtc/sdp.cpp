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

// Feedback values kept per codec; browsers write five or six.
constexpr std::size_t kMaxFeedbackPerCodec = 16;

bool equal_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<Direction> parse_direction(std::string_view v) {
  if (v == "sendrecv") return Direction::kSendRecv;
  if (v == "sendonly") return Direction::kSendOnly;
  if (v == "recvonly") return Direction::kRecvOnly;
  if (v == "inactive") return Direction::kInactive;
  return std::nullopt;
}

// nullptr when the section already has kMaxCodecsPerSection codecs.
Codec* codec_for(MediaSection& m, int pt) {
  for (auto& c : m.codecs) {
    if (c.payload_type == pt) return &c;
  }
  if (m.codecs.size() >= kMaxCodecsPerSection) return nullptr;
  m.codecs.push_back(Codec{pt, {}, 0, 1, {}, {}});
  return &m.codecs.back();
}

// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_"), bounded here.
bool valid_rid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRidLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// a=rid:<id> <send|recv> [pt=<fmt>,...;<restriction>=<value>;...] (RFC 8851 §10).
std::variant<Rid, std::string> parse_rid(std::string_view arg) {
  const auto w = words(arg);
  if (w.size() < 2 || w.size() > 3)
    return std::string("rid needs an id, send or recv, and restrictions");
  if (!valid_rid_id(w[0])) return std::string("rid id must be 1 to 16 letters, digits, '-' or '_'");
  Rid rid;
  rid.id = w[0];
  if (w[1] == "send") {
    rid.send = true;
  } else if (w[1] == "recv") {
    rid.send = false;
  } else {
    return std::string("rid direction must be send or recv");
  }
  if (w.size() == 3) {
    if (w[2].size() > 256) return std::string("rid restrictions are too long");
    rid.params = w[2];
    std::string_view rest = w[2];
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const auto item = rest.substr(0, semi);
      rest.remove_prefix(semi == std::string_view::npos ? rest.size() : semi + 1);
      if (item.substr(0, 3) != "pt=") continue;
      std::string_view pts = item.substr(3);
      while (!pts.empty()) {
        const auto comma = pts.find(',');
        int pt = -1;
        if (!to_number(pts.substr(0, comma), pt) || pt < 0 || pt > 127)
          return std::string("rid pt= is not a list of payload types");
        if (rid.payload_types.size() < kMaxCodecsPerSection) rid.payload_types.push_back(pt);
        pts.remove_prefix(comma == std::string_view::npos ? pts.size() : comma + 1);
      }
    }
  }
  return rid;
}

// a=simulcast:<send|recv> <streams> [<send|recv> <streams>] (RFC 8853 §5.1); streams are
// separated by ';', alternatives by ',', '~' marks a paused one. The "rid=" prefix of the
// draft syntax that older Firefox wrote is accepted.
std::variant<Simulcast, std::string> parse_simulcast(std::string_view arg) {
  const auto w = words(arg);
  if (w.empty() || w.size() % 2 != 0 || w.size() > 4)
    return std::string("simulcast needs send or recv and a list of rids, once each");
  Simulcast s;
  bool saw_send = false, saw_recv = false;
  for (std::size_t i = 0; i < w.size(); i += 2) {
    std::vector<std::vector<std::string>>* streams = nullptr;
    if (w[i] == "send" && !saw_send) {
      saw_send = true;
      streams = &s.send;
    } else if (w[i] == "recv" && !saw_recv) {
      saw_recv = true;
      streams = &s.recv;
    } else {
      return std::string("simulcast needs send or recv and a list of rids, once each");
    }
    std::string_view list = w[i + 1];
    if (list.substr(0, 4) == "rid=") list.remove_prefix(4);
    while (!list.empty()) {
      const auto semi = list.find(';');
      std::string_view stream = list.substr(0, semi);
      list.remove_prefix(semi == std::string_view::npos ? list.size() : semi + 1);
      if (streams->size() >= kMaxRidsPerSection) return std::string("too many simulcast streams");
      auto& alternatives = streams->emplace_back();
      while (true) {
        const auto comma = stream.find(',');
        std::string_view id = stream.substr(0, comma);
        if (!id.empty() && id.front() == '~') {
          id.remove_prefix(1);
          if (valid_rid_id(id)) s.paused.emplace_back(id);
        }
        if (!valid_rid_id(id)) return std::string("simulcast names an invalid rid id");
        if (alternatives.size() >= kMaxRidsPerSection)
          return std::string("too many simulcast alternatives");
        alternatives.emplace_back(id);
        if (comma == std::string_view::npos) break;
        stream.remove_prefix(comma + 1);
      }
    }
    if (streams->empty()) return std::string("simulcast needs at least one stream");
  }
  return s;
}

// Every rtx codec names, with apt, a payload type of the section (RFC 4588 §8.6).
std::optional<std::string> check_rtx(const MediaSection& m) {
  for (const auto& c : m.codecs) {
    if (!equal_ignore_case(c.name, "rtx")) continue;
    const auto apt = fmtp_parameter(c.fmtp, "apt");
    int pt = -1;
    const auto label = "rtx payload type " + std::to_string(c.payload_type);
    if (!apt || !to_number(std::string_view(*apt), pt)) return label + " has no apt";
    const Codec* target = m.codec(pt);
    if (!target || target->name.empty() || equal_ignore_case(target->name, "rtx")) {
      return label + " has apt=" + *apt + ", which is no codec of the section";
    }
  }
  return std::nullopt;
}

// Every rid of a=simulcast has an a=rid line of the same direction (RFC 8853 §5.2).
std::optional<std::string> check_simulcast_rids(const MediaSection& m) {
  if (!m.simulcast) return std::nullopt;
  auto check = [&](const std::vector<std::vector<std::string>>& streams,
                   bool send) -> std::optional<std::string> {
    for (const auto& stream : streams) {
      for (const auto& id : stream) {
        const auto it = std::find_if(m.rids.begin(), m.rids.end(),
                                     [&](const Rid& r) { return r.id == id && r.send == send; });
        if (it == m.rids.end()) {
          return "simulcast names rid " + id + ", which has no a=rid:" + id +
                 (send ? " send" : " recv") + " line";
        }
      }
    }
    return std::nullopt;
  };
  if (auto e = check(m.simulcast->send, true)) return e;
  return check(m.simulcast->recv, false);
}

// Line numbers a check after the last line reports.
struct SectionLines {
  std::size_t m_line = 0;
  std::size_t simulcast = 0;
};

}  // namespace

const Codec* MediaSection::find_codec(std::string_view name, int clock_rate) const {
  for (int pt : formats) {
    const Codec* c = codec(pt);
    if (c && c->clock_rate == clock_rate && equal_ignore_case(c->name, name)) return c;
  }
  return nullptr;
}

const Codec* MediaSection::codec(int payload_type) const {
  for (const auto& c : codecs) {
    if (c.payload_type == payload_type) return &c;
  }
  return nullptr;
}

const Codec* MediaSection::rtx_for(int payload_type) const {
  for (int pt : formats) {
    const Codec* c = codec(pt);
    if (!c || !equal_ignore_case(c->name, "rtx")) continue;
    const auto apt = fmtp_parameter(c->fmtp, "apt");
    int target = -1;
    if (apt && to_number(std::string_view(*apt), target) && target == payload_type) return c;
  }
  return nullptr;
}

bool MediaSection::has_feedback(int payload_type, std::string_view value) const {
  const Codec* c = codec(payload_type);
  return c && std::find(c->feedback.begin(), c->feedback.end(), value) != c->feedback.end();
}

std::optional<std::string> fmtp_parameter(std::string_view fmtp, std::string_view key) {
  while (!fmtp.empty()) {
    const auto semi = fmtp.find(';');
    const auto item = trim(fmtp.substr(0, semi));
    fmtp.remove_prefix(semi == std::string_view::npos ? fmtp.size() : semi + 1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && equal_ignore_case(trim(item.substr(0, eq)), key)) {
      return std::string(trim(item.substr(eq + 1)));
    }
  }
  return std::nullopt;
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
  std::vector<SectionLines> section_lines;
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
      if (w.size() > 3) m.first_format = w[3];
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
      section_lines.push_back(SectionLines{line_no, 0});
      continue;
    }
    if (type != 'a') continue;  // o=, s=, t=, c=, b= (AS, TIAS): nothing we need

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
          if (!desc.bundle_mids.empty()) return fail("more than one BUNDLE group");
          if (w.size() - 1 > kMaxMediaSections) return fail("too many mids in the BUNDLE group");
          for (std::size_t i = 1; i < w.size(); ++i) desc.bundle_mids.emplace_back(w[i]);
        }
      } else if (name == "ice-lite") {
        desc.ice_lite = true;
      } else if (name == "extmap-allow-mixed") {
        desc.extmap_allow_mixed = true;
      }
      continue;
    }

    MediaSection& m = desc.media.back();
    if (name == "mid") {
      if (arg.empty() || arg.size() > 32) return fail("mid must be 1 to 32 characters");
      if (!m.mid.empty()) return fail("a media section has one mid");
      for (const auto& other : desc.media) {
        if (other.mid == arg) return fail("two media sections have the mid " + std::string(arg));
      }
      m.mid = arg;
    } else if (auto d = parse_direction(name)) {
      m.direction = *d;
    } else if (name == "rtcp-mux") {
      m.rtcp_mux = true;
    } else if (name == "rtcp-rsize") {
      m.rtcp_rsize = true;
    } else if (name == "bundle-only") {
      m.bundle_only = true;
    } else if (name == "extmap-allow-mixed") {
      m.extmap_allow_mixed = true;
    } else if (name == "rtpmap") {
      // a=rtpmap:<pt> <name>/<clock>[/<channels>]
      const auto w = words(arg);
      int pt = -1;
      if (w.size() != 2 || !to_number(w[0], pt) || pt < 0 || pt > 127) return fail("bad rtpmap");
      const auto enc = w[1];
      const auto s1 = enc.find('/');
      if (s1 == std::string_view::npos || s1 == 0) return fail("rtpmap needs <name>/<clock rate>");
      const auto s2 = enc.find('/', s1 + 1);
      Codec* c = codec_for(m, pt);
      if (!c) return fail("too many codecs in one media section");
      c->name = enc.substr(0, s1);
      if (!to_number(enc.substr(s1 + 1, s2 == std::string_view::npos ? std::string_view::npos
                                                                     : s2 - s1 - 1),
                     c->clock_rate) ||
          c->clock_rate <= 0) {
        return fail("rtpmap clock rate is not a positive number");
      }
      if (s2 != std::string_view::npos &&
          (!to_number(enc.substr(s2 + 1), c->channels) || c->channels < 1 || c->channels > 8)) {
        return fail("rtpmap channel count is not a number from 1 to 8");
      }
    } else if (name == "fmtp" || name == "rtcp-fb") {
      const auto sp = arg.find(' ');
      if (sp == std::string_view::npos)
        return fail(std::string(name) + " needs a payload type and a value");
      const auto pt_text = arg.substr(0, sp);
      const auto rest = trim(arg.substr(sp + 1));
      if (name == "rtcp-fb" && pt_text == "*") {
        for (int pt : m.formats) {
          Codec* c = codec_for(m, pt);
          if (!c) return fail("too many codecs in one media section");
          if (c->feedback.size() < kMaxFeedbackPerCodec) c->feedback.emplace_back(rest);
        }
        continue;
      }
      int pt = -1;
      if (!to_number(pt_text, pt) || pt < 0 || pt > 127)
        return fail(std::string(name) + " payload type is not a number from 0 to 127");
      Codec* c = codec_for(m, pt);
      if (!c) return fail("too many codecs in one media section");
      if (name == "fmtp") {
        c->fmtp = rest;
      } else if (c->feedback.size() < kMaxFeedbackPerCodec) {
        c->feedback.emplace_back(rest);
      }
    } else if (name == "extmap") {
      // a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §8)
      const auto w = words(arg);
      int id = 0;
      const auto slash = w.empty() ? std::string_view::npos : w[0].find('/');
      if (w.size() < 2 || !to_number(w[0].substr(0, slash), id) || id < 1 || id > 255) {
        return fail("extmap id must be a number from 1 to 255");
      }
      Extension e{id, std::string(w[1]), std::nullopt};
      if (slash != std::string_view::npos) {
        e.direction = parse_direction(w[0].substr(slash + 1));
        if (!e.direction)
          return fail("extmap direction must be sendrecv, sendonly, recvonly or inactive");
      }
      for (const auto& other : m.extensions) {
        if (other.id == id) return fail("two extmap lines have the id " + std::to_string(id));
      }
      if (m.extensions.size() >= kMaxExtensionsPerSection)
        return fail("too many extmap lines in one media section");
      m.extensions.push_back(std::move(e));
    } else if (name == "ssrc") {
      // a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1)
      const auto sp = arg.find(' ');
      std::uint32_t ssrc = 0;
      if (!to_number(arg.substr(0, sp), ssrc)) return fail("ssrc is not a number");
      SsrcInfo* info = nullptr;
      for (auto& i : m.ssrc_infos) {
        if (i.ssrc == ssrc) info = &i;
      }
      if (!info) {
        if (m.ssrc_infos.size() >= kMaxSsrcsPerSection)
          return fail("too many SSRCs in one media section");
        m.ssrcs.push_back(ssrc);
        info = &m.ssrc_infos.emplace_back(SsrcInfo{ssrc, {}, {}});
      }
      const auto attribute = sp == std::string_view::npos ? "" : trim(arg.substr(sp + 1));
      const auto ac = attribute.find(':');
      const auto attr_name = attribute.substr(0, ac);
      const auto attr_value = ac == std::string_view::npos ? "" : attribute.substr(ac + 1);
      if (attr_value.size() > 256) return fail("ssrc attribute value is too long");
      if (attr_name == "cname") {
        info->cname = attr_value;
      } else if (attr_name == "msid") {
        info->msid = attr_value;
      }
    } else if (name == "ssrc-group") {
      // a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2)
      const auto w = words(arg);
      if (w.size() < 2) return fail("ssrc-group needs semantics and at least one SSRC");
      if (m.ssrc_groups.size() >= kMaxSsrcsPerSection)
        return fail("too many ssrc-group lines in one media section");
      if (w.size() - 1 > kMaxSsrcsPerSection) return fail("too many SSRCs in one ssrc-group");
      SsrcGroup g{std::string(w[0]), {}};
      for (std::size_t i = 1; i < w.size(); ++i) {
        std::uint32_t ssrc = 0;
        if (!to_number(w[i], ssrc)) return fail("ssrc-group member is not a number");
        g.ssrcs.push_back(ssrc);
      }
      m.ssrc_groups.push_back(std::move(g));
    } else if (name == "msid") {
      // a=msid:<stream id> [<track id>] (RFC 8830 §2)
      const auto w = words(arg);
      if (w.empty() || w.size() > 2 || w[0].size() > 64 || (w.size() == 2 && w[1].size() > 64)) {
        return fail("msid must be a stream id and an optional track id of 1 to 64 characters");
      }
      m.msid_stream = w[0];
      m.msid_track = w.size() == 2 ? std::string(w[1]) : std::string();
    } else if (name == "rid") {
      auto r = parse_rid(arg);
      if (auto* e = std::get_if<std::string>(&r)) return fail(*e);
      auto& rid = std::get<Rid>(r);
      for (const auto& other : m.rids) {
        if (other.id == rid.id) return fail("two rid lines have the id " + rid.id);
      }
      if (m.rids.size() >= kMaxRidsPerSection)
        return fail("too many rid lines in one media section");
      m.rids.push_back(std::move(rid));
    } else if (name == "simulcast") {
      if (m.simulcast) return fail("a media section has one simulcast line");
      auto s = parse_simulcast(arg);
      if (auto* e = std::get_if<std::string>(&s)) return fail(*e);
      m.simulcast = std::move(std::get<Simulcast>(s));
      section_lines.back().simulcast = line_no;
    }
  }
  if (!saw_version) return ParseError{0, "empty description"};
  if (desc.media.empty()) return ParseError{0, "the description has no media section"};

  for (std::size_t i = 0; i < desc.media.size(); ++i) {
    auto& m = desc.media[i];
    if (auto e = check_rtx(m)) return ParseError{section_lines[i].m_line, std::move(*e)};
    if (auto e = check_simulcast_rids(m))
      return ParseError{section_lines[i].simulcast, std::move(*e)};
    // Session-level transport attributes are the defaults for every media section.
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

namespace {

constexpr std::string_view kSrtpProfile = "UDP/TLS/RTP/SAVPF";

std::string connection_line(const std::string& ip) {
  return std::string("c=IN ") + (ip.find(':') != std::string::npos ? "IP6 " : "IP4 ") + ip + "\r\n";
}

// The port every bundled section of ours announces: the one host candidate's (RFC 9143 §7).
std::string bundle_port(const LocalTransport& local) {
  return std::to_string(local.candidate_port != 0 ? local.candidate_port : 9);
}

std::string transport_lines(const LocalTransport& local, std::string_view setup) {
  return "a=ice-ufrag:" + local.ice_ufrag + "\r\na=ice-pwd:" + local.ice_pwd +
         "\r\na=fingerprint:" + local.fingerprint + "\r\na=setup:" + std::string(setup) + "\r\n";
}

// ICE-lite: one host candidate and nothing more to come (RFC 8839 §5.1, RFC 8840 §8.2).
std::string candidate_lines(const LocalTransport& local) {
  return "a=candidate:1 1 udp 2130706431 " + local.candidate_ip + " " + bundle_port(local) +
         " typ host\r\na=end-of-candidates\r\n";
}

std::string rtpmap_line(int pt, std::string_view name, int clock_rate, int channels) {
  return "a=rtpmap:" + std::to_string(pt) + " " + std::string(name) + "/" +
         std::to_string(clock_rate) + (channels > 1 ? "/" + std::to_string(channels) : "") + "\r\n";
}

// A rejected section: port 0, same kind and protocol, one format, the mid kept
// (RFC 8829 §5.3.1, RFC 3264 §6).
std::string rejected_section(const MediaSection& m) {
  std::string out = "m=" + m.kind + " 0 " + m.protocol + " " +
                    (m.first_format.empty() ? std::string("0") : m.first_format) +
                    "\r\nc=IN IP4 0.0.0.0\r\n";
  if (!m.mid.empty()) out += "a=mid:" + m.mid + "\r\n";
  out += "a=inactive\r\n";
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The extensions the SFU reads from a publisher, per kind. Not video-orientation (without
// it the browser rotates frames itself), nor dependency descriptor, layers allocation,
// playout delay and the like.
bool wanted_extension(std::string_view kind, std::string_view uri) {
  if (uri == kUriMid || uri == kUriAbsSendTime || uri == kUriTransportCc) return true;
  if (kind == "audio") return uri == kUriAudioLevel;
  return uri == kUriRid || uri == kUriRepairedRid;
}

// Picks codec, rtx, feedback, extensions and simulcast layers of one audio or video section
// of a publish offer. False when the section has nothing we accept.
bool negotiate_publish(const MediaSection& m, NegotiatedMedia& n) {
  const bool audio = m.kind == "audio";
  const Codec* codec = nullptr;
  for (int pt : m.formats) {
    const Codec* c = m.codec(pt);
    if (!c) continue;
    if (audio && equal_ignore_case(c->name, "opus") && c->clock_rate == 48000 && c->channels == 2) {
      codec = c;
      break;
    }
    if (!audio && equal_ignore_case(c->name, "VP8") && c->clock_rate == 90000) {
      codec = c;
      break;
    }
  }
  if (!codec) return false;
  n.payload_type = codec->payload_type;
  n.codec = audio ? "opus" : "VP8";
  n.clock_rate = codec->clock_rate;
  n.channels = audio ? 2 : 1;
  for (const auto& e : m.extensions) {
    // The offerer's view: recvonly/inactive extensions are none it sends to us.
    if (e.direction == Direction::kRecvOnly || e.direction == Direction::kInactive) continue;
    if (!wanted_extension(m.kind, e.uri)) continue;
    if (e.uri == kUriMid) n.ext_mid = e.id;
    if (e.uri == kUriRid) n.ext_rid = e.id;
    if (e.uri == kUriRepairedRid) n.ext_repaired_rid = e.id;
    if (e.uri == kUriAbsSendTime) n.ext_abs_send_time = e.id;
    if (e.uri == kUriTransportCc) n.ext_transport_cc = e.id;
    if (e.uri == kUriAudioLevel) n.ext_audio_level = e.id;
  }
  const int pt = codec->payload_type;
  // Transport-wide feedback needs the sequence numbers of its header extension.
  n.transport_cc = n.ext_transport_cc != 0 && m.has_feedback(pt, "transport-cc");
  if (audio) {
    // In-band FEC always; DTX when the client offers it (RFC 7587 §6.1).
    n.fmtp = "minptime=10;useinbandfec=1";
    if (fmtp_parameter(codec->fmtp, "usedtx") == "1") n.fmtp += ";usedtx=1";
  } else {
    const Codec* rtx = m.rtx_for(pt);
    if (rtx && rtx->clock_rate == 90000) n.rtx_payload_type = rtx->payload_type;
    n.nack = m.has_feedback(pt, "nack");
    n.pli = m.has_feedback(pt, "nack pli");
    n.fir = m.has_feedback(pt, "ccm fir");
    n.remb = m.has_feedback(pt, "goog-remb");
    // Simulcast needs the rid header extension to tell the streams apart (RFC 8852).
    if (m.simulcast && n.ext_rid != 0) {
      for (const auto& stream : m.simulcast->send) {
        if (n.rids.size() == 3) break;
        // The first alternative; an alternative restricted to other codecs cannot be VP8.
        for (const auto& id : stream) {
          const auto rid = std::find_if(m.rids.begin(), m.rids.end(),
                                        [&](const Rid& r) { return r.id == id && r.send; });
          if (rid == m.rids.end() || contains(n.rids, id)) continue;
          if (!rid->payload_types.empty() &&
              std::find(rid->payload_types.begin(), rid->payload_types.end(), pt) ==
                  rid->payload_types.end()) {
            continue;
          }
          n.rids.push_back(id);
          if (contains(m.simulcast->paused, id)) n.paused_rids.push_back(id);
          break;
        }
      }
    }
  }

  // SSRCs: FID pairs (RFC 4588 §8.2), FEC-FR repair streams, SIM order when signalled.
  std::vector<std::uint32_t> repair;
  const SsrcGroup* sim = nullptr;
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics == "FID" && g.ssrcs.size() >= 2) {
      n.rtx_ssrcs.emplace_back(g.ssrcs[0], g.ssrcs[1]);
      repair.push_back(g.ssrcs[1]);
    } else if (g.semantics == "FEC-FR" && g.ssrcs.size() >= 2) {
      repair.push_back(g.ssrcs[1]);
    } else if (g.semantics == "SIM" && !sim) {
      sim = &g;
    }
  }
  if (sim) {
    n.ssrcs = sim->ssrcs;
  } else {
    for (auto ssrc : m.ssrcs) {
      if (std::find(repair.begin(), repair.end(), ssrc) == repair.end()) n.ssrcs.push_back(ssrc);
    }
  }
  for (const auto& info : m.ssrc_infos) {
    if (n.cname.empty()) n.cname = info.cname;
  }
  n.msid_stream = m.msid_stream;
  n.msid_track = m.msid_track;
  if (n.msid_stream.empty()) {
    // Plan B style: the msid only on a=ssrc lines.
    for (const auto& info : m.ssrc_infos) {
      if (info.msid.empty()) continue;
      const auto w = words(info.msid);
      if (!w.empty()) n.msid_stream = w[0];
      if (w.size() > 1) n.msid_track = w[1];
      break;
    }
  }
  return true;
}

std::string publish_answer_section(const MediaSection& m, const NegotiatedMedia& n,
                                   const LocalTransport& local, bool session_mixed) {
  const auto pt = std::to_string(n.payload_type);
  std::string out =
      "m=" + m.kind + " " + bundle_port(local) + " " + std::string(kSrtpProfile) + " " + pt;
  if (n.rtx_payload_type >= 0) out += " " + std::to_string(n.rtx_payload_type);
  out += "\r\n" + connection_line(local.candidate_ip);
  out += transport_lines(local, local.dtls_client ? "active" : "passive");
  out += "a=mid:" + m.mid + "\r\n";
  out += candidate_lines(local);
  for (const auto& e : m.extensions) {
    const int id = e.id;
    if (id == 0 ||
        (id != n.ext_mid && id != n.ext_rid && id != n.ext_repaired_rid &&
         id != n.ext_abs_send_time && id != n.ext_transport_cc && id != n.ext_audio_level)) {
      continue;
    }
    // RFC 8285 §7: what the offerer only sends, we only receive.
    out += "a=extmap:" + std::to_string(id) +
           (e.direction == Direction::kSendOnly ? "/recvonly" : "") + " " + e.uri + "\r\n";
  }
  out += n.inactive ? "a=inactive\r\n" : "a=recvonly\r\n";
  out += "a=rtcp-mux\r\n";
  if (m.rtcp_rsize) out += "a=rtcp-rsize\r\n";
  if (m.extmap_allow_mixed && !session_mixed) out += "a=extmap-allow-mixed\r\n";
  out += rtpmap_line(n.payload_type, n.codec, n.clock_rate, n.channels);
  if (n.remb) out += "a=rtcp-fb:" + pt + " goog-remb\r\n";
  if (n.transport_cc) out += "a=rtcp-fb:" + pt + " transport-cc\r\n";
  if (n.fir) out += "a=rtcp-fb:" + pt + " ccm fir\r\n";
  if (n.nack) out += "a=rtcp-fb:" + pt + " nack\r\n";
  if (n.pli) out += "a=rtcp-fb:" + pt + " nack pli\r\n";
  if (!n.fmtp.empty()) out += "a=fmtp:" + pt + " " + n.fmtp + "\r\n";
  if (n.rtx_payload_type >= 0) {
    out += rtpmap_line(n.rtx_payload_type, "rtx", 90000, 1);
    out += "a=fmtp:" + std::to_string(n.rtx_payload_type) + " apt=" + pt + "\r\n";
  }
  if (!n.rids.empty()) {
    // RFC 8853 §5.3: the answer reverses the directions, keeps the order and the pauses.
    std::string list;
    for (const auto& id : n.rids) {
      out += "a=rid:" + id + " recv\r\n";
      if (!list.empty()) list += ';';
      if (contains(n.paused_rids, id)) list += '~';
      list += id;
    }
    out += "a=simulcast:recv " + list + "\r\n";
  }
  return out;
}

}  // namespace

std::variant<PublishAnswer, ParseError> answer_publish_offer(const SessionDescription& offer,
                                                             const LocalTransport& local) {
  if (offer.bundle_mids.empty()) {
    return ParseError{0, "the offer has no BUNDLE group; one transport for all media is required"};
  }
  if (auto t = transport_of(offer); std::holds_alternative<ParseError>(t)) {
    return std::get<ParseError>(t);
  }
  PublishAnswer answer;
  std::string sections;
  std::vector<std::string> bundle;
  for (const auto& m : offer.media) {
    NegotiatedMedia n;
    n.mid = m.mid;
    n.kind = m.kind;
    const bool rtp_media = m.kind == "audio" || m.kind == "video";
    const bool bundled = !m.mid.empty() && contains(offer.bundle_mids, m.mid);
    const bool offered = m.port != 0 || m.bundle_only;  // port 0 alone: the offerer disabled it
    if (rtp_media && bundled && offered && !m.rtcp_mux) {
      return ParseError{0, "media section " + m.mid + " has no rtcp-mux, which is required"};
    }
    if (rtp_media && bundled && offered && m.protocol == kSrtpProfile && negotiate_publish(m, n)) {
      n.accepted = true;
      n.inactive = m.direction == Direction::kRecvOnly || m.direction == Direction::kInactive;
      bundle.push_back(m.mid);
      sections += publish_answer_section(m, n, local, offer.extmap_allow_mixed);
    } else {
      n = NegotiatedMedia{};
      n.mid = m.mid;
      n.kind = m.kind;
      sections += rejected_section(m);
    }
    answer.media.push_back(std::move(n));
  }
  if (bundle.empty()) {
    return ParseError{0, "the offer has no bundled Opus or VP8 section that can be accepted"};
  }
  std::string& out = answer.sdp;
  out = "v=0\r\no=conclave 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE";
  for (const auto& mid : bundle) out += " " + mid;
  out += "\r\na=msid-semantic: WMS\r\n";
  if (offer.extmap_allow_mixed) out += "a=extmap-allow-mixed\r\n";
  out += sections;
  return answer;
}

std::string write_subscribe_offer(const SubscribeOffer& offer) {
  const LocalTransport& local = offer.local;
  std::string out = "v=0\r\no=- " + std::to_string(offer.session_id) + " " +
                    std::to_string(offer.version) + " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
                    "a=ice-lite\r\n";
  std::string bundle;
  for (const auto& t : offer.tracks) {
    if (t.active) bundle += " " + t.mid;
  }
  // A BUNDLE group names at least one mid (RFC 9143 §9.1).
  if (!bundle.empty()) out += "a=group:BUNDLE" + bundle + "\r\n";
  out += "a=msid-semantic: WMS\r\na=extmap-allow-mixed\r\n";

  for (const auto& t : offer.tracks) {
    const bool audio = t.kind == "audio";
    const bool rtx = !audio && t.rtx_ssrc != 0;
    out += "m=" + t.kind + " " + (t.active ? bundle_port(local) : std::string("0")) + " " +
           std::string(kSrtpProfile) + " ";
    out += audio ? std::to_string(kOpusPayloadType)
                 : std::to_string(kVp8PayloadType) + " " + std::to_string(kVp8RtxPayloadType);
    out += "\r\n";
    if (!t.active) {
      // Disabled (RFC 8829 §5.2.2): no transport, no SSRCs; the mid stays until recycled.
      out += "c=IN IP4 0.0.0.0\r\na=mid:" + t.mid + "\r\na=inactive\r\na=rtcp-mux\r\n";
    } else {
      out += connection_line(local.candidate_ip);
      out += transport_lines(local, "actpass");
      out += "a=mid:" + t.mid + "\r\n";
      out += candidate_lines(local);
      out += "a=extmap:" + std::to_string(kExtMid) + " " + std::string(kUriMid) + "\r\n";
      out += "a=extmap:" + std::to_string(kExtAbsSendTime) + " " + std::string(kUriAbsSendTime) +
             "\r\n";
      out += "a=extmap:" + std::to_string(kExtTransportCc) + " " + std::string(kUriTransportCc) +
             "\r\n";
      if (audio) {
        out += "a=extmap:" + std::to_string(kExtAudioLevel) + " " + std::string(kUriAudioLevel) +
               "\r\n";
      }
      if (t.ssrc == 0) {
        // Kept in the BUNDLE group with nothing to send, ready to carry another track.
        out += "a=inactive\r\n";
      } else {
        out += "a=sendonly\r\n";
        out += "a=msid:" + t.stream_id + " " + t.track_id + "\r\n";
      }
      out += "a=rtcp-mux\r\na=rtcp-rsize\r\n";
    }
    if (audio) {
      const auto pt = std::to_string(kOpusPayloadType);
      out += rtpmap_line(kOpusPayloadType, "opus", 48000, 2);
      out += "a=rtcp-fb:" + pt + " transport-cc\r\n";
      out += "a=fmtp:" + pt + " minptime=10;useinbandfec=1\r\n";
    } else {
      const auto pt = std::to_string(kVp8PayloadType);
      out += rtpmap_line(kVp8PayloadType, "VP8", 90000, 1);
      out += "a=rtcp-fb:" + pt + " transport-cc\r\na=rtcp-fb:" + pt +
             " ccm fir\r\na=rtcp-fb:" + pt + " nack\r\na=rtcp-fb:" + pt + " nack pli\r\n";
      out += rtpmap_line(kVp8RtxPayloadType, "rtx", 90000, 1);
      out += "a=fmtp:" + std::to_string(kVp8RtxPayloadType) + " apt=" + pt + "\r\n";
    }
    if (!t.active || t.ssrc == 0) continue;
    const std::string msid = t.stream_id + " " + t.track_id;
    if (rtx) {
      out +=
          "a=ssrc-group:FID " + std::to_string(t.ssrc) + " " + std::to_string(t.rtx_ssrc) + "\r\n";
    }
    for (const auto ssrc : {t.ssrc, rtx ? t.rtx_ssrc : 0u}) {
      if (ssrc == 0) continue;
      out += "a=ssrc:" + std::to_string(ssrc) + " cname:" + t.cname + "\r\n";
      out += "a=ssrc:" + std::to_string(ssrc) + " msid:" + msid + "\r\n";
    }
  }
  return out;
}

std::variant<SubscribeAnswerInfo, ParseError> check_subscribe_answer(
    const SessionDescription& answer, const SubscribeOffer& offer) {
  if (answer.media.size() != offer.tracks.size()) {
    return ParseError{0, "the answer has " + std::to_string(answer.media.size()) +
                             " media sections where the offer has " +
                             std::to_string(offer.tracks.size())};
  }
  SubscribeAnswerInfo info;
  bool any_accepted = false, any_video = false, any_audio = false;
  bool transport_cc = true, nack = true, pli = true, fir = true, rtx = true, remb = true;
  bool abs_send_time = true, audio_level = true, rsize = true;
  for (std::size_t i = 0; i < answer.media.size(); ++i) {
    const auto& m = answer.media[i];
    const auto& t = offer.tracks[i];
    const auto where = "answer section " + std::to_string(i + 1) + " (mid " + t.mid + ")";
    if (m.mid != t.mid) {
      return ParseError{0, where + " has the mid '" + m.mid + "'; mids must be answered in order"};
    }
    if (m.kind != t.kind) return ParseError{0, where + " is " + m.kind + ", not " + t.kind};
    if (m.port == 0 && !m.bundle_only) {
      info.rejected_mids.push_back(m.mid);
      continue;
    }
    if (!t.active) return ParseError{0, where + " accepts a section we disabled"};
    if (!contains(answer.bundle_mids, m.mid)) return ParseError{0, where + " is not bundled"};
    if (!m.rtcp_mux) return ParseError{0, where + " has no rtcp-mux"};
    if (m.direction == Direction::kSendRecv || m.direction == Direction::kSendOnly) {
      return ParseError{0, where + " would send on a sendonly section of ours"};
    }
    if (m.direction == Direction::kInactive) info.inactive_mids.push_back(m.mid);
    const bool audio = t.kind == "audio";
    const int pt = audio ? kOpusPayloadType : kVp8PayloadType;
    const Codec* c = m.codec(pt);
    if (!c || !equal_ignore_case(c->name, audio ? "opus" : "VP8") ||
        std::find(m.formats.begin(), m.formats.end(), pt) == m.formats.end()) {
      return ParseError{0, where + " does not accept payload type " + std::to_string(pt)};
    }
    // RFC 8285 §7: the answer keeps the offered ids of the extensions it accepts.
    const std::pair<std::string_view, int> ours[] = {{kUriMid, kExtMid},
                                                     {kUriAbsSendTime, kExtAbsSendTime},
                                                     {kUriTransportCc, kExtTransportCc},
                                                     {kUriAudioLevel, kExtAudioLevel}};
    for (const auto& e : m.extensions) {
      for (const auto& [uri, id] : ours) {
        if (e.uri == uri && e.id != id) {
          return ParseError{0,
                            where + " moved extension " + e.uri + " to id " + std::to_string(e.id)};
        }
      }
    }
    any_accepted = true;
    transport_cc = transport_cc && m.extension_id(kUriTransportCc) == kExtTransportCc &&
                   m.has_feedback(pt, "transport-cc");
    remb = remb && m.has_feedback(pt, "goog-remb");
    abs_send_time = abs_send_time && m.extension_id(kUriAbsSendTime) == kExtAbsSendTime;
    rsize = rsize && m.rtcp_rsize;
    if (audio) {
      any_audio = true;
      audio_level = audio_level && m.extension_id(kUriAudioLevel) == kExtAudioLevel;
    } else {
      any_video = true;
      nack = nack && m.has_feedback(pt, "nack");
      pli = pli && m.has_feedback(pt, "nack pli");
      fir = fir && m.has_feedback(pt, "ccm fir");
      const Codec* r = m.rtx_for(pt);
      rtx = rtx && r && r->payload_type == kVp8RtxPayloadType;
    }
  }
  if (!any_accepted) return ParseError{0, "the answer rejects every media section"};
  auto t = transport_of(answer);
  if (auto* e = std::get_if<ParseError>(&t)) return *e;
  info.transport = std::get<TransportParameters>(t);
  if (info.transport.setup != Setup::kActive && info.transport.setup != Setup::kPassive) {
    return ParseError{0, "the answer's DTLS setup must be active or passive"};
  }
  info.transport_cc = transport_cc;
  info.remb = remb;
  info.abs_send_time = abs_send_time;
  info.rtcp_rsize = rsize;
  info.audio_level = any_audio && audio_level;
  info.nack = any_video && nack;
  info.pli = any_video && pli;
  info.fir = any_video && fir;
  info.rtx = any_video && rtx;
  info.extmap_allow_mixed = answer.extmap_allow_mixed;
  return info;
}

}  // namespace conclave::rtc::sdp
