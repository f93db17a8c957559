#include "rtc/sdp.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace conclave::rtc::sdp {
namespace {

const std::string kSdpDir = std::string(CONCLAVE_TEST_DATA_DIR) + "/sdp/";

std::string read_capture(const std::string& name) {
  std::ifstream in(kSdpDir + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

SessionDescription parse_ok(const std::string& text) {
  auto r = parse_sdp(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "line " << e->line << ": " << e->message;
    return {};
  }
  return std::get<SessionDescription>(r);
}

// Captured from Chromium 156 (tests/data/sdp/README.md says how).
TEST(Sdp, ParsesChromiumSendRecvOffer) {
  const auto d = parse_ok(read_capture("chromium-156-sendrecv-offer.sdp"));
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.bundle_mids, (std::vector<std::string>{"0", "1"}));
  const auto& audio = d.media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid, "0");
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_EQ(audio.direction, Direction::kSendRecv);
  const Codec* opus = audio.find_codec("opus", 48000);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->payload_type, 111);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(audio.extension_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  EXPECT_EQ(audio.ssrcs.size(), 1u);
  EXPECT_EQ(audio.setup, Setup::kActpass);
  ASSERT_TRUE(audio.fingerprint);
  EXPECT_EQ(audio.fingerprint->algorithm, "sha-256");
  EXPECT_EQ(audio.fingerprint->digest.size(), 32u);

  const auto& video = d.media[1];
  const Codec* vp8 = video.find_codec("vp8", 90000);
  ASSERT_NE(vp8, nullptr);
  EXPECT_EQ(vp8->payload_type, 96);
  EXPECT_NE(std::find(vp8->feedback.begin(), vp8->feedback.end(), "nack pli"), vp8->feedback.end());
  EXPECT_EQ(video.ssrcs.size(), 2u);  // media + RTX
  const auto t = transport_of(d);
  ASSERT_TRUE(std::holds_alternative<TransportParameters>(t));
  EXPECT_EQ(std::get<TransportParameters>(t).ice_ufrag, audio.ice_ufrag);
}

TEST(Sdp, ParsesChromiumSimulcastOffer) {
  const auto d = parse_ok(read_capture("chromium-156-simulcast-offer.sdp"));
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].kind, "video");
  EXPECT_EQ(d.media[0].direction, Direction::kSendOnly);
  EXPECT_NE(d.media[0].extension_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 0);
}

TEST(Sdp, EchoAnswerAcceptsOpusAndVp8WithMidOnly) {
  const auto offer = parse_ok(read_capture("chromium-156-sendrecv-offer.sdp"));
  LocalTransport local{"abcd", "0123456789abcdefghijkl",
                       "sha-256 " + format_fingerprint(std::vector<std::uint8_t>(32, 0xab)),
                       "127.0.0.1", 40000};
  auto r = write_echo_answer(offer, local);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  const auto& answer = std::get<std::string>(r);
  const auto parsed = parse_ok(answer);
  EXPECT_TRUE(parsed.ice_lite);
  ASSERT_EQ(parsed.media.size(), 2u);
  EXPECT_EQ(parsed.bundle_mids, offer.bundle_mids);
  EXPECT_EQ(parsed.media[0].formats, std::vector<int>{111});
  EXPECT_EQ(parsed.media[1].formats, std::vector<int>{96});
  EXPECT_EQ(parsed.media[1].extensions.size(), 1u);
  EXPECT_EQ(parsed.media[1].ice_ufrag, "abcd");
  EXPECT_EQ(parsed.media[0].setup, Setup::kPassive);
  EXPECT_NE(answer.find("a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"),
            std::string::npos);
  // Every line ends in CRLF (RFC 8866 §5).
  for (std::size_t i = answer.find('\n'); i != std::string::npos; i = answer.find('\n', i + 1)) {
    ASSERT_EQ(answer[i - 1], '\r');
  }
}

TEST(Sdp, RefusesMalformedDescriptionsWithTheLine) {
  auto line_of = [](const std::string& text) {
    auto r = parse_sdp(text);
    return std::holds_alternative<ParseError>(r) ? std::get<ParseError>(r).line : SIZE_MAX;
  };
  EXPECT_EQ(line_of(""), 0u);
  EXPECT_EQ(line_of("x=0\r\n"), 1u);
  EXPECT_EQ(line_of("v=0\r\ns=-\r\n"), 0u);  // no media
  EXPECT_EQ(line_of("v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n"), 2u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 300\r\n"), 2u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n"), 3u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:0 urn:x\r\n"), 3u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 ZZ\r\n"), 3u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:a b\r\n"), 3u);
  EXPECT_EQ(line_of("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:sideways\r\n"), 3u);
  EXPECT_EQ(line_of(std::string(70 * 1024, 'a')), 0u);
  // Truncations of a real offer never crash (and mostly fail cleanly).
  const auto offer = read_capture("chromium-156-sendrecv-offer.sdp");
  for (std::size_t n = 0; n < offer.size(); n += 7) (void)parse_sdp(offer.substr(0, n));
}

TEST(Sdp, TransportNeedsIceAndSha256Fingerprint) {
  const auto d = parse_ok("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n");
  EXPECT_TRUE(std::holds_alternative<ParseError>(transport_of(d)));
  EXPECT_EQ(parse_fingerprint_hex("AB:cd:01"), (std::vector<std::uint8_t>{0xab, 0xcd, 0x01}));
  EXPECT_FALSE(parse_fingerprint_hex("AB:C"));
  EXPECT_FALSE(parse_fingerprint_hex("ABCD"));
  EXPECT_EQ(format_fingerprint({0xab, 0x01}), "AB:01");
}

// ---- Parsing: simulcast, rids, SSRC groups, msid (RFC 8851, 8853, 5576, 8830). ----

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto i = text.find(from); i != std::string::npos; i = text.find(from, i + to.size())) {
    text.replace(i, from.size(), to);
  }
  return text;
}

// Removes every line that starts with `prefix`.
std::string drop_lines(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) out += line + "\n";
  }
  return out;
}

std::optional<ParseError> parse_error(const std::string& text) {
  auto r = parse_sdp(text);
  if (auto* e = std::get_if<ParseError>(&r)) return *e;
  return std::nullopt;
}

TEST(SdpParse, EveryCaptureParses) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSdpDir)) {
    if (entry.path().extension() != ".sdp") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto d = parse_ok(read_capture(entry.path().filename().string()));
    EXPECT_FALSE(d.media.empty());
    ++count;
  }
  EXPECT_GE(count, 9u);
}

TEST(SdpParse, ChromiumSimulcastOfferHasRidsAndSimulcast) {
  const auto d = parse_ok(read_capture("chromium-156-simulcast-offer.sdp"));
  EXPECT_TRUE(d.extmap_allow_mixed);
  const auto& video = d.media[0];
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "q");
  EXPECT_TRUE(video.rids[0].send);
  EXPECT_TRUE(video.rids[0].payload_types.empty());
  ASSERT_TRUE(video.simulcast);
  EXPECT_EQ(video.simulcast->send, (std::vector<std::vector<std::string>>{{"q"}, {"h"}, {"f"}}));
  EXPECT_TRUE(video.simulcast->recv.empty());
  EXPECT_TRUE(video.simulcast->paused.empty());
  EXPECT_TRUE(video.ssrcs.empty());  // Chromium signals no SSRC with rids
  EXPECT_EQ(video.msid_stream, "-");
  EXPECT_EQ(video.msid_track, "b24e0b0d-8dfe-4993-9882-17b875b6f706");
  EXPECT_TRUE(video.rtcp_rsize);
  ASSERT_NE(video.rtx_for(96), nullptr);
  EXPECT_EQ(video.rtx_for(96)->payload_type, 97);
  const auto& audio = d.media[1];
  ASSERT_EQ(audio.ssrc_infos.size(), 1u);
  EXPECT_EQ(audio.ssrc_infos[0].ssrc, 3535187098u);
  EXPECT_EQ(audio.ssrc_infos[0].cname, "frwTJjSMCb6wPev9");
  EXPECT_EQ(audio.ssrc_infos[0].msid, "- 7d524138-c411-418c-88a6-be0ecf249a62");
}

TEST(SdpParse, ChromiumSendRecvOfferHasFidGroup) {
  const auto d = parse_ok(read_capture("chromium-156-sendrecv-offer.sdp"));
  const auto& video = d.media[1];
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<std::uint32_t>{629820800, 390160647}));
  EXPECT_EQ(video.ssrcs, (std::vector<std::uint32_t>{629820800, 390160647}));
  EXPECT_EQ(video.msid_stream, "9da45c5f-c097-4650-91a0-d46412eaec84");
}

TEST(SdpParse, FirefoxSimulcastOfferHasExtensionDirectionsAndSsrcs) {
  const auto d = parse_ok(read_capture("firefox-153-simulcast-offer.sdp"));
  ASSERT_EQ(d.media.size(), 2u);
  const auto& video = d.media[0];
  EXPECT_TRUE(video.extmap_allow_mixed);
  const auto rid_ext = std::find_if(video.extensions.begin(), video.extensions.end(),
                                    [](const Extension& e) { return e.uri == kUriRid; });
  ASSERT_NE(rid_ext, video.extensions.end());
  EXPECT_EQ(rid_ext->id, 9);
  EXPECT_EQ(rid_ext->direction, Direction::kSendOnly);
  EXPECT_EQ(video.extensions[0].direction, std::nullopt);
  ASSERT_TRUE(video.simulcast);
  EXPECT_EQ(video.simulcast->send.size(), 3u);
  EXPECT_EQ(video.ssrc_infos.size(), 6u);
  EXPECT_EQ(video.ssrc_groups.size(), 3u);
  EXPECT_EQ(video.msid_stream, "-");
  EXPECT_EQ(video.msid_track, "{8d6d0bae-9a56-4ae0-97ba-0df022518390}");
  // Session-level transport attributes apply to every section.
  ASSERT_TRUE(video.fingerprint);
  EXPECT_EQ(video.ice_ufrag, "b5fd84e3");
}

const std::string kVideoHead =
    "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

TEST(SdpParse, SimulcastSyntax) {
  const auto d = parse_ok(kVideoHead +
                          "a=rid:f send pt=96;max-width=1280;max-height=720;max-fps=30\r\n"
                          "a=rid:h send\r\na=rid:i send\r\na=rid:q send\r\na=rid:r-1_x recv\r\n"
                          "a=simulcast:send f,~h;i;~q recv r-1_x\r\n");
  const auto& m = d.media[0];
  ASSERT_TRUE(m.simulcast);
  EXPECT_EQ(m.simulcast->send, (std::vector<std::vector<std::string>>{{"f", "h"}, {"i"}, {"q"}}));
  EXPECT_EQ(m.simulcast->recv, (std::vector<std::vector<std::string>>{{"r-1_x"}}));
  EXPECT_EQ(m.simulcast->paused, (std::vector<std::string>{"h", "q"}));
  EXPECT_EQ(m.rids[0].payload_types, std::vector<int>{96});
  EXPECT_EQ(m.rids[0].params, "pt=96;max-width=1280;max-height=720;max-fps=30");
  EXPECT_FALSE(m.rids[4].send);
  // The draft syntax that older Firefox wrote.
  const auto old =
      parse_ok(kVideoHead + "a=rid:a send\r\na=rid:b send\r\na=simulcast: send rid=a;b\r\n");
  ASSERT_TRUE(old.media[0].simulcast);
  EXPECT_EQ(old.media[0].simulcast->send.size(), 2u);
}

TEST(SdpParse, RefusesInvalidOrUnboundedSections) {
  auto line_of = [](const std::string& text) {
    const auto e = parse_error(text);
    return e ? e->line : SIZE_MAX;
  };
  // Duplicate mid (a second section with the same mid), two mids in one section.
  EXPECT_EQ(line_of(kVideoHead + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"), 8u);
  EXPECT_EQ(line_of(kVideoHead + "a=mid:1\r\n"), 7u);
  // RIDs: duplicate, bad characters, too long, too many, unknown direction.
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q send\r\na=rid:q send\r\n"), 8u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q.1 send\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:" + std::string(17, 'a') + " send\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q sideways\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q send pt=x\r\n"), 7u);
  std::string rids;
  for (int i = 0; i < 9; ++i) rids += "a=rid:r" + std::to_string(i) + " send\r\n";
  EXPECT_EQ(line_of(kVideoHead + rids), 15u);
  // Simulcast: a rid without a=rid line, a second line, an empty list, bad direction.
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q send\r\na=simulcast:send q;h\r\n"), 8u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q recv\r\na=simulcast:send q\r\n"), 8u);
  EXPECT_EQ(line_of(kVideoHead + "a=rid:q send\r\na=simulcast:send q\r\na=simulcast:send q\r\n"),
            9u);
  EXPECT_EQ(line_of(kVideoHead + "a=simulcast:send\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=simulcast:send q;;h\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=simulcast:both q\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=simulcast:send q send h\r\n"), 7u);
  // rtx without apt, or with an apt that names no codec of the section: the m= line.
  EXPECT_EQ(line_of("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n"
                    "a=rtpmap:97 rtx/90000\r\n"),
            2u);
  EXPECT_EQ(line_of("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n"
                    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=98\r\n"),
            2u);
  // Extensions: direction, duplicate id, too many.
  EXPECT_EQ(line_of(kVideoHead + "a=extmap:1/sideways urn:x\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n"), 8u);
  std::string exts;
  for (int i = 1; i <= 33; ++i)
    exts += "a=extmap:" + std::to_string(i) + " urn:x" + std::to_string(i) + "\r\n";
  EXPECT_EQ(line_of(kVideoHead + exts), 39u);
  // SSRCs: too many, bad group.
  std::string ssrcs;
  for (int i = 1; i <= 65; ++i) ssrcs += "a=ssrc:" + std::to_string(i) + " cname:x\r\n";
  EXPECT_EQ(line_of(kVideoHead + ssrcs), 71u);
  EXPECT_EQ(line_of(kVideoHead + "a=ssrc-group:FID\r\n"), 7u);
  EXPECT_EQ(line_of(kVideoHead + "a=ssrc-group:FID 1 x\r\n"), 7u);
  // Codecs: too many in one section.
  std::string codecs = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
  for (int pt = 0; pt <= 64; ++pt) codecs += "a=rtpmap:" + std::to_string(pt) + " x/8000\r\n";
  EXPECT_EQ(line_of(codecs), 67u);
  // msid: too many words.
  EXPECT_EQ(line_of(kVideoHead + "a=msid:a b c\r\n"), 7u);
}

// ---- Publish: the client's offer, our answer. ----

LocalTransport test_local() {
  return LocalTransport{"abcd", "0123456789abcdefghijkl",
                        "sha-256 " + format_fingerprint(std::vector<std::uint8_t>(32, 0xab)),
                        "127.0.0.1", 40000};
}

PublishAnswer answer_ok(const std::string& offer_text) {
  const auto offer = parse_ok(offer_text);
  auto r = answer_publish_offer(offer, test_local());
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "line " << e->line << ": " << e->message;
    return {};
  }
  return std::get<PublishAnswer>(r);
}

void expect_crlf(const std::string& text) {
  for (std::size_t i = text.find('\n'); i != std::string::npos; i = text.find('\n', i + 1)) {
    ASSERT_EQ(text[i - 1], '\r');
  }
}

TEST(SdpPublish, AnswersChromiumSimulcastOffer) {
  const auto a = answer_ok(read_capture("chromium-156-simulcast-offer.sdp"));
  ASSERT_EQ(a.media.size(), 2u);
  const auto& v = a.media[0];
  EXPECT_TRUE(v.accepted);
  EXPECT_FALSE(v.inactive);
  EXPECT_EQ(v.mid, "0");
  EXPECT_EQ(v.kind, "video");
  EXPECT_EQ(v.codec, "VP8");
  EXPECT_EQ(v.payload_type, 96);
  EXPECT_EQ(v.rtx_payload_type, 97);
  EXPECT_EQ(v.clock_rate, 90000);
  EXPECT_EQ(v.rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_TRUE(v.paused_rids.empty());
  EXPECT_EQ(v.ext_mid, 9);
  EXPECT_EQ(v.ext_rid, 10);
  EXPECT_EQ(v.ext_repaired_rid, 11);
  EXPECT_EQ(v.ext_abs_send_time, 2);
  EXPECT_EQ(v.ext_transport_cc, 4);
  EXPECT_EQ(v.ext_audio_level, 0);
  EXPECT_TRUE(v.nack && v.pli && v.fir && v.transport_cc && v.remb);
  EXPECT_TRUE(v.ssrcs.empty());
  EXPECT_EQ(v.msid_track, "b24e0b0d-8dfe-4993-9882-17b875b6f706");
  const auto& au = a.media[1];
  EXPECT_TRUE(au.accepted);
  EXPECT_EQ(au.codec, "opus");
  EXPECT_EQ(au.payload_type, 111);
  EXPECT_EQ(au.channels, 2);
  EXPECT_EQ(au.fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(au.ext_audio_level, 12);
  EXPECT_EQ(au.ext_mid, 9);
  EXPECT_TRUE(au.transport_cc);
  EXPECT_EQ(au.ssrcs, std::vector<std::uint32_t>{3535187098u});
  EXPECT_EQ(au.cname, "frwTJjSMCb6wPev9");

  const auto& sdp = a.sdp;
  expect_crlf(sdp);
  EXPECT_NE(sdp.find("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"),
            std::string::npos);
  EXPECT_EQ(sdp.find("video-orientation"), std::string::npos);
  EXPECT_EQ(sdp.find("dependency-descriptor"), std::string::npos);
  EXPECT_EQ(sdp.find("playout-delay"), std::string::npos);
  EXPECT_EQ(sdp.find("H264"), std::string::npos);
  EXPECT_NE(sdp.find("a=extmap-allow-mixed\r\n"), std::string::npos);
  EXPECT_NE(sdp.find("a=msid-semantic: WMS\r\n"), std::string::npos);

  // Our answer parses with our own parser and says what we negotiated.
  const auto p = parse_ok(sdp);
  EXPECT_TRUE(p.ice_lite);
  EXPECT_EQ(p.bundle_mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(p.media.size(), 2u);
  for (const auto& m : p.media) {
    EXPECT_EQ(m.port, 40000);  // one port for the bundle (RFC 9143)
    EXPECT_EQ(m.direction, Direction::kRecvOnly);
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_TRUE(m.rtcp_rsize);
    EXPECT_EQ(m.setup, Setup::kPassive);
    EXPECT_EQ(m.ice_ufrag, "abcd");
  }
  EXPECT_EQ(p.media[0].formats, (std::vector<int>{96, 97}));
  ASSERT_NE(p.media[0].rtx_for(96), nullptr);
  EXPECT_EQ(p.media[0].extension_id(kUriRid), 10);
  EXPECT_EQ(p.media[0].extensions.size(), 5u);
  ASSERT_TRUE(p.media[0].simulcast);
  EXPECT_EQ(p.media[0].simulcast->recv,
            (std::vector<std::vector<std::string>>{{"q"}, {"h"}, {"f"}}));
  EXPECT_EQ(p.media[1].formats, std::vector<int>{111});
  EXPECT_EQ(p.media[1].extensions.size(), 4u);
  const auto t = transport_of(p);
  ASSERT_TRUE(std::holds_alternative<TransportParameters>(t));
}

TEST(SdpPublish, AnswersChromiumSendRecvOffer) {
  const auto a = answer_ok(read_capture("chromium-156-sendrecv-offer.sdp"));
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_TRUE(a.media[0].accepted && a.media[1].accepted);
  const auto& v = a.media[1];
  EXPECT_TRUE(v.rids.empty());
  EXPECT_EQ(v.ssrcs, std::vector<std::uint32_t>{629820800u});
  EXPECT_EQ(v.rtx_ssrcs,
            (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{629820800u, 390160647u}}));
  EXPECT_EQ(v.msid_stream, "9da45c5f-c097-4650-91a0-d46412eaec84");
  EXPECT_EQ(v.cname, "8+Ru5Rly6hOlPXiG");
  EXPECT_EQ(a.sdp.find("a=simulcast"), std::string::npos);
  const auto p = parse_ok(a.sdp);
  EXPECT_EQ(p.media[1].direction, Direction::kRecvOnly);
}

TEST(SdpPublish, AnswersFirefoxSimulcastOffer) {
  const auto a = answer_ok(read_capture("firefox-153-simulcast-offer.sdp"));
  ASSERT_EQ(a.media.size(), 2u);
  const auto& v = a.media[0];
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(v.payload_type, 120);
  EXPECT_EQ(v.rtx_payload_type, 124);
  EXPECT_EQ(v.rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_EQ(v.ext_rid, 9);
  EXPECT_EQ(v.ext_repaired_rid, 10);
  EXPECT_EQ(v.ext_mid, 3);
  EXPECT_EQ(v.ssrcs, (std::vector<std::uint32_t>{1474872352u, 2125110221u, 416554101u}));
  EXPECT_EQ(v.rtx_ssrcs.size(), 3u);
  EXPECT_EQ(v.fmtp, "");
  const auto& au = a.media[1];
  EXPECT_EQ(au.payload_type, 109);
  EXPECT_EQ(au.ext_audio_level, 1);
  EXPECT_EQ(au.ext_abs_send_time, 0);  // Firefox does not offer it for audio
  // Extensions the offerer only sends, we only receive (RFC 8285 §7); its recvonly ones
  // (playout delay, csrc audio level) are not answered.
  EXPECT_NE(a.sdp.find("a=extmap:9/recvonly " + std::string(kUriRid) + "\r\n"), std::string::npos);
  EXPECT_EQ(a.sdp.find("csrc-audio-level"), std::string::npos);
  EXPECT_NE(a.sdp.find("a=fmtp:124 apt=120\r\n"), std::string::npos);
  const auto p = parse_ok(a.sdp);
  EXPECT_EQ(p.media[0].formats, (std::vector<int>{120, 124}));
}

const std::string kPublishSession =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n"
    "a=ice-ufrag:w81N\r\na=ice-pwd:byV2Ofx1pQQ/V7LkWEEpehd6\r\n"
    "a=fingerprint:sha-256 "
    "2E:55:E3:57:32:E5:02:C9:B2:BA:B2:17:A8:C9:96:2C:FD:1C:08:B7:5D:74:9C:C7:39:5F:45:3D:1F:A0:70:"
    "F1"
    "\r\na=setup:actpass\r\n";
const std::string kOpusSection =
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n";
const std::string kH264Section =
    "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n";
const std::string kDataSection =
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\na=sctp-port:5000\r\n";

TEST(SdpPublish, RejectsH264OnlyVideoAndDataButAcceptsAudio) {
  const auto a = answer_ok(kPublishSession + kOpusSection + kH264Section + kDataSection);
  ASSERT_EQ(a.media.size(), 3u);
  EXPECT_TRUE(a.media[0].accepted);
  EXPECT_EQ(a.media[0].fmtp, "minptime=10;useinbandfec=1;usedtx=1");
  EXPECT_FALSE(a.media[1].accepted);
  EXPECT_EQ(a.media[1].mid, "1");
  EXPECT_FALSE(a.media[2].accepted);
  EXPECT_EQ(a.media[2].kind, "application");
  const auto p = parse_ok(a.sdp);
  EXPECT_EQ(p.bundle_mids, std::vector<std::string>{"0"});
  ASSERT_EQ(p.media.size(), 3u);
  EXPECT_EQ(p.media[1].port, 0);
  EXPECT_EQ(p.media[1].mid, "1");
  EXPECT_EQ(p.media[1].formats, std::vector<int>{102});
  EXPECT_EQ(p.media[2].port, 0);
  EXPECT_EQ(p.media[2].mid, "2");
  EXPECT_NE(a.sdp.find("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos);
  EXPECT_NE(a.sdp.find("a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n"), std::string::npos);
}

TEST(SdpPublish, DirectionsAndBundleMembership) {
  // recvonly from the client: accepted, but inactive.
  auto a = answer_ok(kPublishSession + replace_all(kOpusSection, "a=sendonly", "a=recvonly"));
  ASSERT_EQ(a.media.size(), 1u);
  EXPECT_TRUE(a.media[0].accepted && a.media[0].inactive);
  EXPECT_EQ(parse_ok(a.sdp).media[0].direction, Direction::kInactive);
  // A section outside the BUNDLE group is rejected; one in it is kept.
  const auto two =
      replace_all(kPublishSession, "BUNDLE 0 1 2", "BUNDLE 1") + kOpusSection +
      replace_all(replace_all(kOpusSection, "a=mid:0", "a=mid:1"), "a=sendonly", "a=sendrecv");
  a = answer_ok(two);
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_FALSE(a.media[0].accepted);
  EXPECT_TRUE(a.media[1].accepted);
  EXPECT_FALSE(a.media[1].inactive);
}

TEST(SdpPublish, RefusesOffersWithoutRtcpMuxOrBundleOrAnythingToAccept) {
  const auto offer = read_capture("chromium-156-simulcast-offer.sdp");
  auto refused = [](const std::string& text) {
    const auto d = parse_sdp(text);
    if (!std::holds_alternative<SessionDescription>(d)) return false;
    return std::holds_alternative<ParseError>(
        answer_publish_offer(std::get<SessionDescription>(d), test_local()));
  };
  EXPECT_FALSE(refused(offer));
  EXPECT_TRUE(refused(drop_lines(offer, "a=rtcp-mux")));
  EXPECT_TRUE(refused(drop_lines(offer, "a=group:BUNDLE")));
  EXPECT_TRUE(refused(drop_lines(offer, "a=fingerprint")));
  EXPECT_TRUE(refused(kPublishSession + kH264Section));
}

// ---- Subscribe: our offer, the browser's answer. ----

// The offer stored as conclave-subscribe-offer.sdp, which Chromium and Firefox answered.
SubscribeOffer captured_subscribe_offer() {
  SubscribeOffer o;
  o.session_id = 7385921044118810001ull;
  o.version = 2;
  std::vector<std::uint8_t> fp;
  for (int i = 0; i < 32; ++i) fp.push_back(static_cast<std::uint8_t>(i * 7 + 3));
  o.local = LocalTransport{"cNcL", "conclaveSubscribePwd0123", "sha-256 " + format_fingerprint(fp),
                           "127.0.0.1", 40000};
  o.tracks = {
      {"0", "audio", true, 1001, 0, "conclave-alice", "alice", "alice-mic"},
      {"1", "video", true, 2001, 2002, "conclave-alice", "alice", "alice-cam"},
      {"2", "video", true, 3001, 3002, "conclave-bob", "bob", "bob-screen"},
  };
  return o;
}

SubscribeOffer captured_subscribe_offer_inactive() {
  auto o = captured_subscribe_offer();
  o.tracks[1].active = false;
  o.version = 3;
  return o;
}

TEST(SdpSubscribe, OfferIsTheOneBrowsersAnswered) {
  // If this fails because the writer changed, recapture both browsers' answers
  // (tests/data/sdp/README.md) before updating the stored offers.
  EXPECT_EQ(write_subscribe_offer(captured_subscribe_offer()),
            read_capture("conclave-subscribe-offer.sdp"));
  EXPECT_EQ(write_subscribe_offer(captured_subscribe_offer_inactive()),
            read_capture("conclave-subscribe-offer-inactive.sdp"));
}

TEST(SdpSubscribe, OfferRoundTripsThroughTheParser) {
  const auto offer = captured_subscribe_offer();
  const auto text = write_subscribe_offer(offer);
  expect_crlf(text);
  const auto d = parse_ok(text);
  EXPECT_TRUE(d.ice_lite);
  EXPECT_TRUE(d.extmap_allow_mixed);
  EXPECT_EQ(d.bundle_mids, (std::vector<std::string>{"0", "1", "2"}));
  ASSERT_EQ(d.media.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& m = d.media[i];
    const auto& t = offer.tracks[i];
    EXPECT_EQ(m.mid, t.mid);
    EXPECT_EQ(m.kind, t.kind);
    EXPECT_EQ(m.port, 40000);
    EXPECT_EQ(m.direction, Direction::kSendOnly);
    EXPECT_EQ(m.setup, Setup::kActpass);
    EXPECT_TRUE(m.rtcp_mux && m.rtcp_rsize);
    EXPECT_EQ(m.msid_stream, t.stream_id);
    EXPECT_EQ(m.msid_track, t.track_id);
    EXPECT_EQ(m.extension_id(kUriMid), kExtMid);
    EXPECT_EQ(m.extension_id(kUriAbsSendTime), kExtAbsSendTime);
    EXPECT_EQ(m.extension_id(kUriTransportCc), kExtTransportCc);
    EXPECT_EQ(m.ssrc_infos.front().cname, t.cname);
    EXPECT_EQ(m.ssrc_infos.front().msid, t.stream_id + " " + t.track_id);
  }
  EXPECT_EQ(d.media[0].formats, std::vector<int>{kOpusPayloadType});
  EXPECT_EQ(d.media[0].extension_id(kUriAudioLevel), kExtAudioLevel);
  EXPECT_EQ(d.media[0].ssrcs, std::vector<std::uint32_t>{1001});
  EXPECT_EQ(d.media[1].formats, (std::vector<int>{kVp8PayloadType, kVp8RtxPayloadType}));
  EXPECT_EQ(d.media[1].extension_id(kUriAudioLevel), 0);
  EXPECT_TRUE(d.media[1].has_feedback(kVp8PayloadType, "nack pli"));
  EXPECT_FALSE(d.media[1].has_feedback(kVp8PayloadType, "goog-remb"));
  ASSERT_EQ(d.media[2].ssrc_groups.size(), 1u);
  EXPECT_EQ(d.media[2].ssrc_groups[0].ssrcs, (std::vector<std::uint32_t>{3001, 3002}));
  const auto t = transport_of(d);
  ASSERT_TRUE(std::holds_alternative<TransportParameters>(t));
  EXPECT_EQ(std::get<TransportParameters>(t).ice_ufrag, "cNcL");

  // A disabled track: port 0, inactive, out of the BUNDLE group, no SSRC.
  const auto inactive = parse_ok(write_subscribe_offer(captured_subscribe_offer_inactive()));
  EXPECT_EQ(inactive.bundle_mids, (std::vector<std::string>{"0", "2"}));
  EXPECT_EQ(inactive.media[1].port, 0);
  EXPECT_EQ(inactive.media[1].direction, Direction::kInactive);
  EXPECT_TRUE(inactive.media[1].ssrcs.empty());
}

SubscribeAnswerInfo check_ok(const std::string& answer, const SubscribeOffer& offer) {
  auto r = check_subscribe_answer(parse_ok(answer), offer);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<SubscribeAnswerInfo>(r);
}

TEST(SdpSubscribe, ChecksChromiumAnswer) {
  const auto info =
      check_ok(read_capture("chromium-156-subscribe-answer.sdp"), captured_subscribe_offer());
  EXPECT_EQ(info.transport.setup, Setup::kActive);
  EXPECT_EQ(info.transport.ice_ufrag, "Podt");
  EXPECT_EQ(info.transport.fingerprint.digest.size(), 32u);
  EXPECT_TRUE(info.rejected_mids.empty());
  EXPECT_TRUE(info.inactive_mids.empty());
  EXPECT_TRUE(info.transport_cc);
  EXPECT_FALSE(info.remb);
  EXPECT_TRUE(info.nack && info.pli && info.fir && info.rtx);
  EXPECT_TRUE(info.abs_send_time && info.audio_level && info.rtcp_rsize);
  EXPECT_TRUE(info.extmap_allow_mixed);

  const auto inactive = check_ok(read_capture("chromium-156-subscribe-answer-inactive.sdp"),
                                 captured_subscribe_offer_inactive());
  EXPECT_EQ(inactive.rejected_mids, std::vector<std::string>{"1"});
  EXPECT_TRUE(inactive.transport_cc && inactive.nack && inactive.rtx);
}

TEST(SdpSubscribe, ChecksFirefoxAnswer) {
  const auto info =
      check_ok(read_capture("firefox-153-subscribe-answer.sdp"), captured_subscribe_offer());
  EXPECT_EQ(info.transport.setup, Setup::kActive);
  EXPECT_TRUE(info.rejected_mids.empty());
  EXPECT_TRUE(info.transport_cc);
  EXPECT_TRUE(info.nack && info.pli && info.fir && info.rtx);
  EXPECT_TRUE(info.audio_level);
  EXPECT_FALSE(info.abs_send_time);  // Firefox takes it for video only
  const auto inactive = check_ok(read_capture("firefox-153-subscribe-answer-inactive.sdp"),
                                 captured_subscribe_offer_inactive());
  EXPECT_EQ(inactive.rejected_mids, std::vector<std::string>{"1"});
}

TEST(SdpSubscribe, RefusesBrokenAnswers) {
  const auto offer = captured_subscribe_offer();
  const auto answer = read_capture("chromium-156-subscribe-answer.sdp");
  auto error_of = [&](const std::string& text) -> std::string {
    const auto d = parse_sdp(text);
    if (auto* e = std::get_if<ParseError>(&d)) return "parse: " + e->message;
    auto r = check_subscribe_answer(std::get<SessionDescription>(d), offer);
    return std::holds_alternative<ParseError>(r) ? std::get<ParseError>(r).message : "";
  };
  EXPECT_EQ(error_of(answer), "");
  // Wrong count: the last section cut off.
  EXPECT_NE(error_of(answer.substr(0, answer.rfind("m=video"))), "");
  // A mid answered under another name, or out of order.
  EXPECT_NE(error_of(replace_all(answer, "a=mid:1\r\n", "a=mid:x\r\n")), "");
  auto swapped = replace_all(answer, "a=mid:1\r\n", "a=mid:T\r\n");
  swapped =
      replace_all(replace_all(swapped, "a=mid:2\r\n", "a=mid:1\r\n"), "a=mid:T\r\n", "a=mid:2\r\n");
  EXPECT_NE(error_of(swapped), "");
  // Transport: no fingerprint, setup actpass.
  EXPECT_NE(error_of(drop_lines(answer, "a=fingerprint")), "");
  EXPECT_NE(error_of(replace_all(answer, "a=setup:active", "a=setup:actpass")), "");
  // Not bundled, no rtcp-mux, sending, extension id moved, codec missing.
  EXPECT_NE(error_of(replace_all(answer, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1")), "");
  EXPECT_NE(error_of(drop_lines(answer, "a=rtcp-mux")), "");
  EXPECT_NE(error_of(replace_all(answer, "a=recvonly", "a=sendrecv")), "");
  EXPECT_NE(error_of(replace_all(answer, "a=extmap:3 ", "a=extmap:7 ")), "");
  EXPECT_NE(error_of(replace_all(answer, "SAVPF 111", "SAVPF 0")), "");
  // Everything rejected.
  EXPECT_NE(error_of(replace_all(replace_all(answer, "m=audio 9", "m=audio 0"), "m=video 9",
                                 "m=video 0")),
            "");
}

}  // namespace
}  // namespace conclave::rtc::sdp
