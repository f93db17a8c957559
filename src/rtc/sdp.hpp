// Session descriptions (RFC 8866) as far as WebRTC offer/answer needs them (RFC 8829/JSEP,
// Unified Plan, BUNDLE RFC 9143, rtcp-mux RFC 5761, ICE RFC 8839, DTLS RFC 8842). Runs on
// the control thread, never on the packet path. parse_sdp() accepts what Chromium,
// Firefox and Safari send and refuses anything malformed with a typed error naming the
// line; it never throws. On top of it: the answer to a client's publish offer
// (answer_publish_offer), the server's offer for a subscribe connection
// (write_subscribe_offer) and the check of the browser's answer to it
// (check_subscribe_answer), and the echo endpoint's answer (write_echo_answer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace conclave::rtc::sdp {

inline constexpr std::size_t kMaxSdpBytes = 64 * 1024;
inline constexpr std::size_t kMaxMediaSections = 64;
inline constexpr std::size_t kMaxRidsPerSection = 8;
inline constexpr std::size_t kMaxSsrcsPerSection = 64;  // distinct a=ssrc values, and groups
inline constexpr std::size_t kMaxCodecsPerSection = 64;
inline constexpr std::size_t kMaxExtensionsPerSection = 32;
inline constexpr std::size_t kMaxRidLength = 16;

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
  std::optional<Direction>
      direction;  // a=extmap:<id>/<direction>, as the sender of the SDP sees it
};

// a=rid (RFC 8851): one RTP stream of a section, named by the RtpStreamId header extension.
struct Rid {
  std::string id;                  // 1 to 16 of ALPHA / DIGIT / "-" / "_"
  bool send = true;                // "send" or "recv", as the writer of the SDP sees it
  std::vector<int> payload_types;  // the pt= restriction, empty when absent
  std::string params;              // the restrictions as written, e.g. "pt=120;max-width=1280"
};

// a=simulcast (RFC 8853). Each stream is a list of alternative rids (separated by ','); the
// streams are separated by ';'. A '~' before a rid (paused) is stripped and the rid listed
// in `paused`.
struct Simulcast {
  std::vector<std::vector<std::string>> send;
  std::vector<std::vector<std::string>> recv;
  std::vector<std::string> paused;
};

// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2), e.g. FID (RFC 4588), SIM, FEC-FR.
struct SsrcGroup {
  std::string semantics;
  std::vector<std::uint32_t> ssrcs;
};

// What a=ssrc:<ssrc> <attribute> lines say about one SSRC (RFC 5576 §4.1, RFC 8830).
struct SsrcInfo {
  std::uint32_t ssrc = 0;
  std::string cname;
  std::string msid;  // the msid: value as written, "<stream> <track>"
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
  std::string first_format;  // the first format as written ("111", "webrtc-datachannel")
  std::string mid;
  Direction direction = Direction::kSendRecv;
  bool rtcp_mux = false;
  bool rtcp_rsize = false;          // RFC 5506
  bool bundle_only = false;         // RFC 9143 §6
  bool extmap_allow_mixed = false;  // RFC 8285 §6, at media level
  std::vector<Codec> codecs;
  std::vector<Extension> extensions;
  std::vector<std::uint32_t> ssrcs;  // every SSRC of a=ssrc, once each, in order
  std::vector<SsrcInfo> ssrc_infos;  // the same SSRCs with their cname and msid
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;
  std::string msid_stream;  // a=msid:<stream> [<track>] (RFC 8830); "-" is no stream
  std::string msid_track;
  // Transport attributes; Chromium writes them per media section, others per session.
  std::string ice_ufrag;
  std::string ice_pwd;
  std::optional<Fingerprint> fingerprint;
  std::optional<Setup> setup;

  // The first codec of that name (case-insensitive) and clock rate, in m= line order.
  const Codec* find_codec(std::string_view name, int clock_rate) const;
  const Codec* codec(int payload_type) const;  // nullptr if absent
  // The rtx codec whose apt is `payload_type` (RFC 4588 §8.6), nullptr if none.
  const Codec* rtx_for(int payload_type) const;
  int extension_id(std::string_view uri) const;  // 0 if absent
  bool has_feedback(int payload_type, std::string_view value) const;
};

struct SessionDescription {
  std::vector<std::string> bundle_mids;  // a=group:BUNDLE
  bool ice_lite = false;
  bool extmap_allow_mixed = false;  // at session level
  std::vector<MediaSection> media;
};

struct ParseError {
  std::size_t line = 0;  // 1-based; 0 for the whole description
  std::string message;
};

std::variant<SessionDescription, ParseError> parse_sdp(std::string_view text);

// The value of `key` in fmtp parameters "a=1;b=2" (keys compared case-insensitively),
// nullopt if absent.
std::optional<std::string> fmtp_parameter(std::string_view fmtp, std::string_view key);

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

// The header extensions the SFU understands.
inline constexpr std::string_view kUriMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kUriRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kUriRepairedRid =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kUriAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kUriTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kUriAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

// ---- Publish: the client's offer (it sends), our answer (we receive). ----

// What was agreed for one media section of a publish offer, in m= line order.
struct NegotiatedMedia {
  std::string mid;
  std::string kind;       // "audio" | "video" | what the offer said for a rejected section
  bool accepted = false;  // false: rejected in the answer (port 0)
  // Accepted but the client sends nothing (it offered recvonly or inactive): a=inactive.
  bool inactive = false;
  int payload_type = -1;  // Opus or VP8
  std::string codec;      // "opus" | "VP8"
  int clock_rate = 0;
  int channels = 1;
  int rtx_payload_type = -1;  // video: the rtx whose apt is payload_type, -1 if none
  std::string fmtp;           // what our answer says for the codec
  bool nack = false, pli = false, fir = false, transport_cc = false, remb = false;
  // Negotiated extension ids, as the client offered them (0 = not negotiated).
  int ext_mid = 0, ext_rid = 0, ext_repaired_rid = 0, ext_abs_send_time = 0, ext_transport_cc = 0,
      ext_audio_level = 0;
  // Simulcast layers as the client sends them, in the order of its a=simulcast:send (the
  // first alternative of each of at most 3 streams); empty without simulcast.
  std::vector<std::string> rids;
  std::vector<std::string> paused_rids;  // those of `rids` the offer marked paused ('~')
  // Media SSRCs signalled (a=ssrc / first member of each FID / SIM), in order; Chromium
  // signals none with rids, so the SFU learns them from the rid header extension.
  std::vector<std::uint32_t> ssrcs;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rtx_ssrcs;  // FID pairs (media, rtx)
  std::string cname;
  std::string msid_stream, msid_track;
};

struct PublishAnswer {
  std::string sdp;
  std::vector<NegotiatedMedia> media;  // one per offered section, in order
};

// Answers a browser's publish offer (its sections sendonly or sendrecv; ours recvonly):
// audio takes Opus/48000/2 only, video VP8/90000 only with its rtx; the extensions and
// feedback the SFU uses, when offered; simulcast by rids (at most 3 streams). Sections of
// another kind or codec, or outside the BUNDLE group, are rejected (port 0, mid kept). All
// accepted sections share one transport: ICE-lite, one host candidate, rtcp-mux (RFC 9143).
// Errors: no BUNDLE group, an audio/video section in it without rtcp-mux, no usable
// transport parameters, or nothing acceptable at all.
std::variant<PublishAnswer, ParseError> answer_publish_offer(const SessionDescription& offer,
                                                             const LocalTransport& local);

// ---- Subscribe: our offer (we send), the browser's answer (it receives). ----

// Fixed payload types and extension ids in every offer we make.
inline constexpr int kOpusPayloadType = 111, kVp8PayloadType = 96, kVp8RtxPayloadType = 97;
inline constexpr int kExtMid = 1, kExtAbsSendTime = 2, kExtTransportCc = 3, kExtAudioLevel = 4;

struct SubscribeTrack {
  std::string mid;   // stable: a section keeps its mid for the life of the connection
  std::string kind;  // "audio" | "video"
  // false: a=inactive section with port 0, for a removed track whose mid is not reused yet
  // (the caller may recycle the section later, with a new mid, RFC 8829 §5.2.2).
  bool active = true;
  // rtx only for video; 0 = no rtx SSRC signalled. An active section with ssrc 0 carries
  // nothing for now: it stays in the BUNDLE group as a=inactive, without msid or SSRCs, and
  // may carry another track of its kind in a later offer. (Rejecting it instead would move
  // the BUNDLE tag when it is the first section, and Chromium then starts a new DTLS
  // transport.)
  std::uint32_t ssrc = 0, rtx_ssrc = 0;
  // a=msid:<stream_id> <track_id>; a=ssrc:<n> cname:<cname> and msid:<stream_id> <track_id>.
  std::string cname, stream_id, track_id;
};

struct SubscribeOffer {
  std::uint64_t session_id = 0, version = 1;  // o= line; version increments per offer
  LocalTransport local;                // ufrag/pwd/fingerprint/candidate; setup actpass in an offer
  std::vector<SubscribeTrack> tracks;  // in m-line order; never reorder or remove earlier ones
};

// The offer for a subscribe connection: ICE-lite, BUNDLE of the active sections, one host
// candidate, sendonly sections with the fixed payload types and extension ids above.
// Preconditions (not checked): mids unique, 1-32 characters of [A-Za-z0-9_-]; SSRCs
// nonzero and unique; stream/track ids and cnames without spaces. An empty track list
// gives a description without media section, which Chromium accepts but parse_sdp (and
// so check_subscribe_answer) refuses: the SFU does not send one.
std::string write_subscribe_offer(const SubscribeOffer& offer);

struct SubscribeAnswerInfo {
  TransportParameters transport;           // setup is active or passive
  std::vector<std::string> rejected_mids;  // port 0 in the answer (includes our inactive ones)
  std::vector<std::string> inactive_mids;  // accepted but a=inactive
  // Each true when every accepted section (of the kind it applies to) accepted it.
  bool transport_cc = false;  // transport-wide-cc extension and rtcp-fb transport-cc
  bool remb = false;          // goog-remb (we do not offer it, so false from a browser)
  bool nack = false;          // video
  bool pli = false;           // video
  bool fir = false;           // video
  bool rtx = false;           // video: rtx 97 accepted
  bool abs_send_time = false;
  bool audio_level = false;  // audio
  bool rtcp_rsize = false;
  bool extmap_allow_mixed = false;
};

// Checks the browser's answer to `offer`: the same number of sections with the same mids
// in the same order and kinds; transport parameters (ICE, sha-256 fingerprint, setup
// active or passive); every accepted section bundled, rtcp-mux, recvonly or inactive, with
// our codec and our extension ids. Reports what it rejected and accepted.
std::variant<SubscribeAnswerInfo, ParseError> check_subscribe_answer(
    const SessionDescription& answer, const SubscribeOffer& offer);

}  // namespace conclave::rtc::sdp
