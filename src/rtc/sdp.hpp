// Session descriptions (RFC 8866) as far as WebRTC offer/answer needs them (RFC 8829/JSEP,
// Unified Plan, BUNDLE RFC 9143, rtcp-mux RFC 5761, ICE RFC 8839, DTLS RFC 8842). Runs on
// the control thread, never on the packet path. parse_sdp() accepts what Chromium,
// Firefox and Safari send and refuses anything malformed with a typed error naming the
// line; it never throws. The SFU issue grows this into full offer/answer; today it is
// enough for the echo endpoint's answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace conclave::rtc::sdp {

inline constexpr std::size_t kMaxSdpBytes = 64 * 1024;
inline constexpr std::size_t kMaxMediaSections = 64;

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
enum class Setup { kActpass, kActive, kPassive, kHoldconn };

struct Codec {
  int payload_type = -1;
  std::string name;  // as in a=rtpmap, e.g. "opus", "VP8", "rtx"
  int clock_rate = 0;
  int channels = 1;
  std::string fmtp;                   // parameters as written, e.g. "minptime=10;useinbandfec=1"
  std::vector<std::string> feedback;  // a=rtcp-fb values, e.g. "nack pli"
};

struct Extension {
  int id = 0;
  std::string uri;
};

struct Fingerprint {
  std::string algorithm;  // lowercase, e.g. "sha-256"
  std::vector<std::uint8_t> digest;
};

struct MediaSection {
  std::string kind;  // "audio", "video", "application"
  std::uint16_t port = 0;
  std::string protocol;      // "UDP/TLS/RTP/SAVPF"
  std::vector<int> formats;  // payload types in m= order
  std::string mid;
  Direction direction = Direction::kSendRecv;
  bool rtcp_mux = false;
  std::vector<Codec> codecs;
  std::vector<Extension> extensions;
  std::vector<std::uint32_t> ssrcs;
  // Transport attributes; Chromium writes them per media section, others per session.
  std::string ice_ufrag;
  std::string ice_pwd;
  std::optional<Fingerprint> fingerprint;
  std::optional<Setup> setup;

  const Codec* find_codec(std::string_view name, int clock_rate) const;
  int extension_id(std::string_view uri) const;  // 0 if absent
};

struct SessionDescription {
  std::vector<std::string> bundle_mids;  // a=group:BUNDLE
  bool ice_lite = false;
  std::vector<MediaSection> media;
};

struct ParseError {
  std::size_t line = 0;  // 1-based; 0 for the whole description
  std::string message;
};

std::variant<SessionDescription, ParseError> parse_sdp(std::string_view text);

// "AB:CD:..." <-> bytes.
std::string format_fingerprint(const std::vector<std::uint8_t>& digest);
std::optional<std::vector<std::uint8_t>> parse_fingerprint_hex(std::string_view hex);

// The transport attributes of a description once BUNDLE is applied: the first media
// section's (RFC 9143 §7: all bundled sections share the tagged section's transport).
struct TransportParameters {
  std::string ice_ufrag;
  std::string ice_pwd;
  Fingerprint fingerprint;
  Setup setup = Setup::kActpass;
};
std::variant<TransportParameters, ParseError> transport_of(const SessionDescription& offer);

// What this server puts in its answer about itself (ICE-lite, one host candidate per
// worker address, DTLS server role since browsers offer actpass).
struct LocalTransport {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint;  // "sha-256 AB:CD:..."
  std::string candidate_ip;
  std::uint16_t candidate_port = 0;
  bool dtls_client = false;  // a=setup:active when the offer said passive; else passive
};

// The answer to `offer` for a transport that receives and sends back the same media (the
// echo endpoint of the transport issue): each audio section accepts Opus, each video
// section VP8, with the mid header extension only (needed for BUNDLE demux, RFC 9143
// §9.2), rtcp-mux, and the offer's NACK/PLI/FIR feedback for that codec; any other section
// is rejected (port 0). Returns an error when the offer has nothing we can accept.
std::variant<std::string, ParseError> write_echo_answer(const SessionDescription& offer,
                                                        const LocalTransport& local);

}  // namespace conclave::rtc::sdp
