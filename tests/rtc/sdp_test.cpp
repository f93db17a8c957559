#include "rtc/sdp.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace conclave::rtc::sdp {
namespace {

std::string read_capture(const std::string& name) {
  std::ifstream in(std::string(CONCLAVE_TEST_DATA_DIR) + "/sdp/" + name);
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

}  // namespace
}  // namespace conclave::rtc::sdp
