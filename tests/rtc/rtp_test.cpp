// Tests of rtc/rtp: the RTP packet view, RFC 8285 header extensions, the extension map and
// typed values, sequence number arithmetic and the RFC 5761/7983 demux checks.
//
// Fixtures are hand-built from the RFC figures (RFC 3550 §5.1, RFC 8285 §4.2/§4.3), except:
// - "chromium_layout" uses the extension ids and sizes Chromium negotiates for an Opus
//   track (audio level, abs-send-time, transport-wide CC, MID) with made-up values;
// - kChromiumOpus is captured here from Chromium 156.0.8078.79 (Debian bookworm): two
//   RTCPeerConnections in one headless page sending fake-device audio to each other over
//   loopback with --disable-webrtc-encryption, read with an AF_PACKET socket on lo. The
//   same file, and captured video and padding-probe packets, are in fuzz/corpus/rtp/.
#include "rtc/rtp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace conclave::rtc {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// RFC 3550 §5.1 fixed header, one CSRC, RFC 8285 §4.2 one-byte extension block with
// padding between elements, 3 payload bytes and 4 bytes of padding.
//   V=2 P=1 X=1 CC=1 | M=1 PT=111 | seq 0x1234 | ts 0xDEADBEEF | SSRC 0x11223344
Bytes one_byte_fixture() {
  return {
      0xB1, 0xEF, 0x12, 0x34,  // V=2 P X CC=1, M PT=111, sequence number
      0xDE, 0xAD, 0xBE, 0xEF,  // timestamp
      0x11, 0x22, 0x33, 0x44,  // SSRC
      0xCA, 0xFE, 0xBA, 0xBE,  // CSRC
      0xBE, 0xDE, 0x00, 0x03,  // one-byte profile, 3 words
      0x10, 0xAA,              // id 1, 1 byte
      0x00, 0x00,              // padding between elements
      0x21, 0x01, 0x02,        // id 2, 2 bytes (transport-wide seq 0x0102)
      0x32, 0x0A, 0x0B, 0x0C,  // id 3, 3 bytes (abs-send-time)
      0x00,                    // padding to 32 bits
      0xFF, 0xFF, 0xFF,        // payload
      0x00, 0x00, 0x00, 0x04,  // RTP padding, count 4
  };
}

// RFC 8285 §4.3 two-byte form (profile 0x1000 with appbits 0x5): an empty element, padding,
// an element with id 200 and one with id 15, which is an ordinary id in this form.
Bytes two_byte_fixture() {
  return {
      0x90, 0x60, 0x00, 0x01,        // V=2 X, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,        // timestamp 2
      0x00, 0x00, 0x00, 0x03,        // SSRC 3
      0x10, 0x05, 0x00, 0x03,        // two-byte profile with appbits 5, 3 words
      0x07, 0x00,                    // id 7, empty
      0x00,                          // padding
      0xC8, 0x03, 0x61, 0x62, 0x63,  // id 200, "abc"
      0x0F, 0x02, 0x01, 0x02,        // id 15, 2 bytes
      0x55, 0x66,                    // payload
  };
}

TEST(RtpPacket, ParsesEveryHeaderField) {
  Bytes b = one_byte_fixture();
  RtpError error = RtpError::kTooLong;
  const auto p = RtpPacket::parse(b, error);
  ASSERT_TRUE(p);
  EXPECT_EQ(error, RtpError::kNone);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_EQ(p->sequence_number(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0xDEADBEEFu);
  EXPECT_EQ(p->ssrc(), 0x11223344u);
  ASSERT_EQ(p->csrc_count(), 1u);
  EXPECT_EQ(p->csrc(0), 0xCAFEBABEu);
  EXPECT_TRUE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), 0xBEDE);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kOneByte);
  EXPECT_EQ(p->extension_data().size(), 12u);
  EXPECT_EQ(p->header_size(), 32u);
  EXPECT_EQ(p->padding_size(), 4u);
  ASSERT_EQ(p->payload().size(), 3u);
  EXPECT_EQ(p->payload()[0], 0xFF);
  EXPECT_EQ(p->size(), b.size());
}

TEST(RtpPacket, MinimalPacketHasNoExtensionOrPadding) {
  Bytes b = {0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), 0);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kNone);
  EXPECT_TRUE(p->extension_data().empty());
  EXPECT_TRUE(p->payload().empty());
  EXPECT_TRUE(p->extensions().begin() == std::default_sentinel);
  EXPECT_FALSE(p->find_extension(1));
}

TEST(RtpPacket, IteratesOneByteElementsAcrossPadding) {
  Bytes b = one_byte_fixture();
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  std::vector<std::pair<int, Bytes>> seen;
  for (const auto& e : p->extensions())
    seen.emplace_back(e.id, Bytes(e.value.begin(), e.value.end()));
  const std::vector<std::pair<int, Bytes>> expected = {
      {1, {0xAA}}, {2, {0x01, 0x02}}, {3, {0x0A, 0x0B, 0x0C}}};
  EXPECT_EQ(seen, expected);
  EXPECT_FALSE(p->find_extension(0));
  EXPECT_FALSE(p->find_extension(4));
}

TEST(RtpPacket, IteratesTwoByteElementsIncludingEmptyAndId15) {
  Bytes b = two_byte_fixture();
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_profile(), 0x1005);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kTwoByte);
  std::vector<std::pair<int, Bytes>> seen;
  for (const auto& e : p->extensions())
    seen.emplace_back(e.id, Bytes(e.value.begin(), e.value.end()));
  const std::vector<std::pair<int, Bytes>> expected = {
      {7, {}}, {200, {0x61, 0x62, 0x63}}, {15, {0x01, 0x02}}};
  EXPECT_EQ(seen, expected);
  const auto empty = p->find_extension(7);
  ASSERT_TRUE(empty);  // present although empty
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(read_sdes_text(*p->find_extension(200)), "abc");
  ASSERT_EQ(p->payload().size(), 2u);
  EXPECT_EQ(p->payload()[1], 0x66);
}

TEST(RtpPacket, OneByteId15StopsTheWalk) {
  Bytes b = {0x90, 0x60, 0,    1,    0, 0, 0, 2, 0, 0, 0, 3,  // X, PT 96
             0xBE, 0xDE, 0x00, 0x02,                          // 2 words
             0x10, 0x01,                                      // id 1
             0xF3, 0x20, 0x02, 0x03,                          // id 15: stop; id 2 never seen
             0x00, 0x00};
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  int count = 0;
  for (const auto& e : p->extensions()) {
    EXPECT_EQ(e.id, 1);
    ++count;
  }
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(p->find_extension(2));
}

TEST(RtpPacket, ElementRunningPastTheBlockEndsTheWalkButNotThePacket) {
  Bytes b = {0x90, 0x60, 0,    1,    0, 0, 0, 2, 0, 0, 0, 3,  //
             0xBE, 0xDE, 0x00, 0x01,                          // 1 word
             0x10, 0x01,                                      // id 1, 1 byte
             0x2F, 0x00,                                      // id 2 claims 16 bytes
             0x99};                                           // payload
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->find_extension(1));
  EXPECT_FALSE(p->find_extension(2));
  ASSERT_EQ(p->payload().size(), 1u);

  Bytes two = {0x90, 0x60, 0,    1,    0, 0, 0, 2, 0, 0, 0, 3,  //
               0x10, 0x00, 0x00, 0x01,                          // two-byte, 1 word
               0x01, 0x00, 0x02, 0x09};                         // id 1 empty; id 2 claims 9 bytes
  const auto q = RtpPacket::parse(two);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->find_extension(1));
  EXPECT_FALSE(q->find_extension(2));
}

TEST(RtpPacket, UnknownProfileKeepsRawBytesOnly) {
  Bytes b = {0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x12, 0x34, 0x00, 0x01, 1, 2, 3, 4};
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kUnknown);
  EXPECT_EQ(p->extension_data().size(), 4u);
  EXPECT_TRUE(p->extensions().begin() == std::default_sentinel);
}

TEST(RtpPacket, SettersRewriteInPlaceWithoutDisturbingNeighbours) {
  Bytes b = one_byte_fixture();
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  p->set_ssrc(0xA1B2C3D4);
  p->set_sequence_number(0xFFFF);
  p->set_timestamp(7);
  p->set_payload_type(0xFF);  // only 7 bits are kept
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 127);
  p->set_payload_type(96);
  p->set_marker(false);
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_FALSE(p->marker());
  p->set_marker(true);
  const Bytes expected_head = {0xB1, 0xE0, 0xFF, 0xFF, 0, 0, 0, 7, 0xA1, 0xB2, 0xC3, 0xD4};
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 12), expected_head);
  const auto again = RtpPacket::parse(b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ssrc(), 0xA1B2C3D4u);
  EXPECT_EQ(again->sequence_number(), 0xFFFF);
  EXPECT_EQ(again->timestamp(), 7u);
  EXPECT_EQ(again->csrc(0), 0xCAFEBABEu);
  EXPECT_EQ(again->payload().size(), 3u);
}

TEST(RtpPacket, EditsExtensionValuesOfTheSameLength) {
  Bytes b = one_byte_fixture();
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  ASSERT_TRUE(write_transport_sequence_number(*p->find_extension(2), 0xABCD));
  ASSERT_TRUE(write_abs_send_time(*p->find_extension(3), 0x123456));
  const std::array<std::uint8_t, 1> level{0x85};
  EXPECT_TRUE(p->set_extension(1, level));
  const std::array<std::uint8_t, 2> wrong_size{1, 2};
  EXPECT_FALSE(p->set_extension(1, wrong_size));  // would move the payload
  EXPECT_FALSE(p->set_extension(9, level));       // absent

  const auto q = RtpPacket::parse(b);
  ASSERT_TRUE(q);
  EXPECT_EQ(read_transport_sequence_number(*q->find_extension(2)), 0xABCD);
  EXPECT_EQ(read_abs_send_time(*q->find_extension(3)), 0x123456u);
  const auto audio = read_audio_level(*q->find_extension(1));
  ASSERT_TRUE(audio);
  EXPECT_TRUE(audio->voice_activity);
  EXPECT_EQ(audio->level, 5);
  // Nothing else moved: the padding between elements and the payload are intact.
  EXPECT_EQ(b[22], 0x00);
  EXPECT_EQ(b[23], 0x00);
  EXPECT_EQ(q->payload()[2], 0xFF);
}

TEST(RtpPacket, EditsTwoByteExtensionValues) {
  Bytes b = two_byte_fixture();
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  const std::array<std::uint8_t, 3> rid{'x', 'y', 'z'};
  EXPECT_TRUE(p->set_extension(200, rid));
  EXPECT_TRUE(p->set_extension(7, std::span<const std::uint8_t>{}));  // empty stays empty
  EXPECT_TRUE(write_transport_sequence_number(*p->find_extension(15), 0x0A0B));
  const auto q = RtpPacket::parse(b);
  ASSERT_TRUE(q);
  EXPECT_EQ(read_sdes_text(*q->find_extension(200)), "xyz");
  EXPECT_EQ(read_transport_sequence_number(*q->find_extension(15)), 0x0A0B);
  EXPECT_EQ(q->payload()[0], 0x55);
}

TEST(RtpPacket, RejectsEachKindOfMalformedHeader) {
  const auto check = [](Bytes b, RtpError expected) {
    RtpError error = RtpError::kNone;
    EXPECT_FALSE(RtpPacket::parse(b, error));
    EXPECT_EQ(error, expected);
  };
  check({}, RtpError::kTooShort);
  check(Bytes(11, 0x80), RtpError::kTooShort);
  check(Bytes(kMaxRtpPacketSize + 1, 0x80), RtpError::kTooLong);
  check({0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, RtpError::kBadVersion);  // V=1
  check({0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, RtpError::kBadVersion);  // V=3
  check({0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, RtpError::kTruncatedCsrcs);
  check({0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, RtpError::kTruncatedCsrcs);
  check({0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE}, RtpError::kTruncatedExtension);
  // A lying extension length: 0xFFFF words.
  check({0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0xFF, 0xFF, 0x10, 1, 0, 0},
        RtpError::kTruncatedExtension);
  check({0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0}, RtpError::kBadPadding);  // count 0
  check({0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 3}, RtpError::kBadPadding);  // count > 2
  // Padding may take everything after the header, no more.
  Bytes ok = {0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const auto p = RtpPacket::parse(ok);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->padding_size(), 2u);
  EXPECT_TRUE(p->payload().empty());
  Bytes max(kMaxRtpPacketSize, 0);
  max[0] = 0x80;
  EXPECT_TRUE(RtpPacket::parse(max));
}

// The fixture's payload bytes are 0xFF and its padding bytes 0, so a prefix that ends in
// either has an impossible padding count: every truncation must be refused.
TEST(RtpPacket, RejectsEveryTruncation) {
  const Bytes full = one_byte_fixture();
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(RtpPacket::parse(prefix)) << "prefix of " << n << " bytes";
  }
}

// Without padding a shorter payload is still a packet; what matters is that no view ever
// reaches past the buffer.
TEST(RtpPacket, TruncationWithoutPaddingNeverReadsPastTheBuffer) {
  const Bytes full = two_byte_fixture();
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto p = RtpPacket::parse(prefix);
    if (n < 28) {
      EXPECT_FALSE(p) << n;  // inside the header
      continue;
    }
    ASSERT_TRUE(p) << n;
    EXPECT_EQ(p->header_size() + p->payload().size(), n);
    for (const auto& e : p->extensions()) {
      EXPECT_LE(e.value.data() + e.value.size(), prefix.data() + prefix.size());
    }
  }
}

TEST(RtpPacket, ParseThenRebuildGivesTheSameBytes) {
  // Chromium's layout for Opus: audio level (id 1), abs-send-time (2), transport-wide CC
  // (3), MID (4), one-byte form. Values made up.
  const Bytes chromium_layout = {
      0x90, 0x6F, 0x5A, 0x10, 0x00, 0x01, 0xE2, 0x40, 0x3C, 0x1D, 0x7E, 0x51,  // header
      0xBE, 0xDE, 0x00, 0x03,                                                  // 3 words
      0x10, 0xA7,              // audio level: V=1, -39 dBov
      0x22, 0x9A, 0x3B, 0x11,  // abs-send-time
      0x31, 0x00, 0x2A,        // transport-wide seq 42
      0x40, 0x30,              // MID "0"
      0x00,                    // padding
      0xFC, 0xFF, 0xFE,        // Opus payload
  };
  Bytes in = chromium_layout;
  const auto p = RtpPacket::parse(in);
  ASSERT_TRUE(p);
  std::vector<ExtensionElement> elements;
  for (const auto& e : p->extensions()) elements.push_back({e.id, e.value});
  std::vector<std::uint32_t> csrcs;
  for (std::size_t i = 0; i < p->csrc_count(); ++i) csrcs.push_back(p->csrc(i));
  const RtpHeaderFields fields{p->marker(),    p->payload_type(), p->sequence_number(),
                               p->timestamp(), p->ssrc(),         csrcs};
  Bytes out(kMaxRtpPacketSize);
  const auto written = write_rtp_packet(out, fields, elements, p->payload(), p->padding_size());
  ASSERT_TRUE(written.ok());
  out.resize(written.size);
  EXPECT_EQ(out, chromium_layout);

  ExtensionMap map;
  ASSERT_TRUE(map.add(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"));
  ASSERT_TRUE(map.add(2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"));
  ASSERT_TRUE(
      map.add(3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"));
  ASSERT_TRUE(map.add(4, "urn:ietf:params:rtp-hdrext:sdes:mid"));
  const auto audio = read_audio_level(*p->find_extension(map.id(ExtensionKind::kAudioLevel)));
  ASSERT_TRUE(audio);
  EXPECT_TRUE(audio->voice_activity);
  EXPECT_EQ(audio->level, 39);
  EXPECT_EQ(read_abs_send_time(*p->find_extension(map.id(ExtensionKind::kAbsSendTime))), 0x9A3B11u);
  EXPECT_EQ(
      read_transport_sequence_number(*p->find_extension(map.id(ExtensionKind::kTransportWideCc))),
      42);
  EXPECT_EQ(read_sdes_text(*p->find_extension(map.id(ExtensionKind::kMid))), "0");
  EXPECT_FALSE(p->find_extension(map.id(ExtensionKind::kRid)));  // not negotiated: id 0
}

// The first Opus packet of a call (marker set), as Chromium sent it.
const Bytes kChromiumOpus = {
    0x90, 0xef, 0x73, 0xdc, 0xdc, 0x9f, 0x38, 0xfd, 0x2b, 0xfa, 0x17, 0xb2, 0xbe, 0xde, 0x00,
    0x03, 0x22, 0xbb, 0x01, 0x99, 0x31, 0x00, 0x01, 0x40, 0x30, 0x10, 0xff, 0x00, 0x78, 0x0b,
    0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x8d, 0x8c, 0x49, 0x46, 0x99, 0x04, 0xc5, 0xaa, 0xed, 0x92,
    0xe7, 0x63, 0x4a, 0x3a, 0x18, 0x98, 0xee, 0x62, 0xcb, 0x60, 0xff, 0x6c, 0x1b, 0x29, 0x00};

TEST(RtpPacket, ChromiumOpusCaptureParsesAndRebuildsByteForByte) {
  Bytes b = kChromiumOpus;
  const auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_EQ(p->sequence_number(), 0x73dc);
  EXPECT_EQ(p->timestamp(), 0xdc9f38fdu);
  EXPECT_EQ(p->ssrc(), 0x2bfa17b2u);
  EXPECT_EQ(p->csrc_count(), 0u);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kOneByte);
  EXPECT_EQ(p->payload().size(), 32u);
  EXPECT_EQ(p->padding_size(), 0u);
  // Chromium's default ids: 1 audio level, 2 abs-send-time, 3 transport-wide CC, 4 MID.
  EXPECT_EQ(read_abs_send_time(*p->find_extension(2)), 0xbb0199u);
  EXPECT_EQ(read_transport_sequence_number(*p->find_extension(3)), 1);
  EXPECT_EQ(read_sdes_text(*p->find_extension(4)), "0");
  const auto level = read_audio_level(*p->find_extension(1));
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level, 127);

  std::vector<ExtensionElement> elements;
  for (const auto& e : p->extensions()) elements.push_back({e.id, e.value});
  ASSERT_EQ(elements.size(), 4u);
  Bytes out(kMaxRtpPacketSize);
  const auto w = write_rtp_packet(
      out, {p->marker(), p->payload_type(), p->sequence_number(), p->timestamp(), p->ssrc(), {}},
      elements, p->payload());
  ASSERT_TRUE(w.ok());
  out.resize(w.size);
  EXPECT_EQ(out, kChromiumOpus);
}

TEST(RtpWriter, BuildsAllPartsAndParsesBack) {
  const std::array<std::uint32_t, 2> csrcs{0x01020304, 0x05060708};
  const std::array<std::uint8_t, 2> tw{0x00, 0x07};
  const std::array<std::uint8_t, 3> ast{0x01, 0x02, 0x03};
  const std::array<ExtensionElement, 2> ext{{{3, tw}, {2, ast}}};
  const std::array<std::uint8_t, 5> payload{1, 2, 3, 4, 5};
  Bytes out(200);
  const auto w =
      write_rtp_packet(out, {true, 100, 65535, 90000, 0xFEEDF00D, csrcs}, ext, payload, 7);
  ASSERT_TRUE(w.ok());
  out.resize(w.size);
  EXPECT_EQ(w.size, 12u + 8 + 4 + 8 + 5 + 7);
  const auto p = RtpPacket::parse(out);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 100);
  EXPECT_EQ(p->sequence_number(), 65535);
  EXPECT_EQ(p->timestamp(), 90000u);
  EXPECT_EQ(p->ssrc(), 0xFEEDF00Du);
  EXPECT_EQ(p->csrc(1), 0x05060708u);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kOneByte);
  EXPECT_EQ(read_transport_sequence_number(*p->find_extension(3)), 7);
  EXPECT_EQ(read_abs_send_time(*p->find_extension(2)), 0x010203u);
  EXPECT_EQ(Bytes(p->payload().begin(), p->payload().end()), Bytes(payload.begin(), payload.end()));
  EXPECT_EQ(p->padding_size(), 7u);
}

TEST(RtpWriter, ChoosesTheTwoByteFormWhenNeeded) {
  const std::array<std::uint8_t, 17> long_value{};
  const std::array<std::uint8_t, 1> one{9};
  const auto form_for = [](std::span<const ExtensionElement> ext) {
    Bytes out(300);
    const auto w = write_rtp_packet(out, {}, ext, {});
    EXPECT_TRUE(w.ok());
    out.resize(w.size);
    const auto p = RtpPacket::parse(out);
    EXPECT_TRUE(p);
    for (const auto& e : ext) {
      const auto v = p->find_extension(e.id);
      EXPECT_TRUE(v && v->size() == e.value.size()) << int(e.id);
    }
    return p->extension_form();
  };
  const std::array<ExtensionElement, 1> small{{{14, one}}};
  EXPECT_EQ(form_for(small), ExtensionForm::kOneByte);
  const std::array<ExtensionElement, 2> id15{{{1, one}, {15, one}}};
  EXPECT_EQ(form_for(id15), ExtensionForm::kTwoByte);
  const std::array<ExtensionElement, 1> long17{{{1, long_value}}};
  EXPECT_EQ(form_for(long17), ExtensionForm::kTwoByte);
  const std::array<ExtensionElement, 2> empty{{{1, {}}, {2, one}}};
  EXPECT_EQ(form_for(empty), ExtensionForm::kTwoByte);
}

TEST(RtpWriter, RefusesWhatTheFormatCannotCarry) {
  Bytes out(kMaxRtpPacketSize + 100);
  const std::array<std::uint32_t, 16> csrcs{};
  EXPECT_EQ(write_rtp_packet(out, {false, 128, 0, 0, 0, {}}, {}, {}).error,
            WriteError::kInvalidArgument);
  EXPECT_EQ(write_rtp_packet(out, {false, 0, 0, 0, 0, csrcs}, {}, {}).error,
            WriteError::kInvalidArgument);
  EXPECT_EQ(write_rtp_packet(out, {}, {}, {}, 256).error, WriteError::kInvalidArgument);
  const std::array<ExtensionElement, 1> id0{{{0, {}}}};
  EXPECT_EQ(write_rtp_packet(out, {}, id0, {}).error, WriteError::kInvalidArgument);
  const Bytes big(kMaxRtpPacketSize, 1);
  EXPECT_EQ(write_rtp_packet(out, {}, {}, big).error, WriteError::kInvalidArgument);
  Bytes small(20);
  const Bytes payload(9, 1);
  EXPECT_EQ(write_rtp_packet(small, {}, {}, payload).error, WriteError::kBufferTooSmall);
  EXPECT_TRUE(write_rtp_packet(small, {}, {}, Bytes(8, 1)).ok());
}

TEST(ExtensionMap, MapsUrisToKindsBothWays) {
  ExtensionMap map;
  EXPECT_EQ(map.kind(3), ExtensionKind::kUnknown);
  EXPECT_EQ(map.id(ExtensionKind::kMid), 0);
  EXPECT_TRUE(
      map.add(3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"));
  EXPECT_TRUE(map.add(200, ExtensionKind::kRid));
  EXPECT_EQ(map.kind(3), ExtensionKind::kTransportWideCc);
  EXPECT_EQ(map.id(ExtensionKind::kTransportWideCc), 3);
  EXPECT_EQ(map.kind(200), ExtensionKind::kRid);
  EXPECT_TRUE(map.add(3, ExtensionKind::kTransportWideCc));  // the same mapping again
  EXPECT_FALSE(map.add(3, ExtensionKind::kMid));             // id taken
  EXPECT_FALSE(map.add(4, ExtensionKind::kRid));             // kind already mapped
  EXPECT_FALSE(map.add(0, ExtensionKind::kMid));             // 0 is padding
  EXPECT_FALSE(map.add(5, "urn:example:unknown"));
  EXPECT_FALSE(map.add(5, ExtensionKind::kUnknown));
  EXPECT_EQ(map.kind(5), ExtensionKind::kUnknown);
  map.clear();
  EXPECT_EQ(map.kind(3), ExtensionKind::kUnknown);
  EXPECT_EQ(map.id(ExtensionKind::kTransportWideCc), 0);
  for (int k = 1; k < static_cast<int>(ExtensionKind::kCount); ++k) {
    const auto kind = static_cast<ExtensionKind>(k);
    EXPECT_EQ(ExtensionMap::kind_from_uri(ExtensionMap::uri(kind)), kind);
  }
  EXPECT_EQ(ExtensionMap::uri(ExtensionKind::kUnknown), "");
}

TEST(ExtensionValues, ReadAndCheckSizes) {
  const std::array<std::uint8_t, 2> two{0x12, 0x34};
  const std::array<std::uint8_t, 3> three{0x12, 0x34, 0x56};
  const std::array<std::uint8_t, 4> four{0x12, 0x34, 0x00, 0x01};
  EXPECT_EQ(read_transport_sequence_number(two), 0x1234);
  EXPECT_EQ(read_transport_sequence_number(four), 0x1234);  // -02 with a request
  EXPECT_FALSE(read_transport_sequence_number(three));
  EXPECT_EQ(read_abs_send_time(three), 0x123456u);
  EXPECT_FALSE(read_abs_send_time(two));
  std::array<std::uint8_t, 2> wrong{};
  EXPECT_FALSE(write_abs_send_time(wrong, 1));
  EXPECT_FALSE(read_audio_level(std::span<const std::uint8_t>{}));
  const std::array<std::uint8_t, 1> silent{0x7F};
  EXPECT_FALSE(read_audio_level(silent)->voice_activity);
  EXPECT_EQ(read_audio_level(silent)->level, 127);

  EXPECT_EQ(read_sdes_text(bytes_of("hq")), "hq");
  EXPECT_EQ(read_sdes_text(bytes_of(std::string_view("lo\0\0", 4))), "lo");
  EXPECT_FALSE(read_sdes_text(bytes_of(std::string_view("\0a", 2))));
  EXPECT_FALSE(read_sdes_text(std::span<const std::uint8_t>{}));

  const std::array<std::uint8_t, 1> cvo{0x0D};  // C=1 (back), F=1 (flip), R=01 (90°)
  const auto o = read_video_orientation(cvo);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->back_camera);
  EXPECT_TRUE(o->horizontal_flip);
  EXPECT_EQ(o->rotation_degrees, 90);
}

TEST(ExtensionValues, AbsSendTimeConvertsMicrosecondsModulo64Seconds) {
  EXPECT_EQ(abs_send_time_from_us(0), 0u);
  EXPECT_EQ(abs_send_time_from_us(1'000'000), 1u << 18);
  EXPECT_EQ(abs_send_time_from_us(64'000'000), 0u);  // wraps
  EXPECT_EQ(abs_send_time_from_us(65'500'000), abs_send_time_from_us(1'500'000));
  EXPECT_EQ(abs_send_time_from_us(-1'000'000), abs_send_time_from_us(63'000'000));
  EXPECT_EQ(abs_send_time_to_us(1u << 18), 1'000'000);
  for (std::int64_t us = 0; us < 64'000'000; us += 999'983) {
    const auto back = abs_send_time_to_us(abs_send_time_from_us(us));
    EXPECT_LE(std::abs(back - us), 3) << us;  // 1/2^18 s is about 3.8 µs
  }
}

TEST(Sequence, DiffAndNewerAcrossTheWrap) {
  EXPECT_EQ(seq_diff(0, 65535), 1);
  EXPECT_EQ(seq_diff(65535, 0), -1);
  EXPECT_EQ(seq_diff(5, 65530), 11);
  EXPECT_EQ(seq_diff(100, 100), 0);
  EXPECT_EQ(seq_diff(32767, 0), 32767);
  EXPECT_EQ(seq_diff(32768, 0), -32768);
  EXPECT_TRUE(seq_newer(0, 65535));
  EXPECT_FALSE(seq_newer(65535, 0));
  EXPECT_FALSE(seq_newer(7, 7));
  EXPECT_TRUE(seq_newer(32767, 0));
  // Exactly half way: one of the two, never both.
  EXPECT_TRUE(seq_newer(32768, 0));
  EXPECT_FALSE(seq_newer(0, 32768));
  for (int a = 0; a < 65536; a += 4099) {
    for (int b = 0; b < 65536; b += 3001) {
      const auto x = static_cast<std::uint16_t>(a);
      const auto y = static_cast<std::uint16_t>(b);
      if (x == y) continue;
      EXPECT_NE(seq_newer(x, y), seq_newer(y, x)) << a << " " << b;
    }
  }
}

TEST(Sequence, UnwrapperFollowsSeveralWrapsWithReordering) {
  SequenceUnwrapper u;
  EXPECT_FALSE(u.last());
  EXPECT_EQ(u.unwrap(65534), 65534);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.unwrap(0), 65536);
  EXPECT_EQ(u.unwrap(65535), 65535);  // late packet from before the wrap
  EXPECT_EQ(u.unwrap(1), 65537);
  EXPECT_EQ(u.last(), 65537);

  // Five wraps, each packet swapped with its neighbour and an occasional old straggler.
  SequenceUnwrapper v;
  const std::int64_t start = 60000;
  std::int64_t expected_max = 0;
  for (std::int64_t i = start; i < start + 5 * 65536; i += 2) {
    const std::int64_t order[] = {i + 1, i, (i % 997 == 0) ? i - 300 : i};
    for (const std::int64_t truth : order) {
      EXPECT_EQ(v.unwrap(static_cast<std::uint16_t>(truth)), truth) << i;
    }
    expected_max = i + 1;
  }
  EXPECT_GT(expected_max, start + 4 * 65536);

  // A packet reordered before the first one unwraps below it.
  SequenceUnwrapper w;
  EXPECT_EQ(w.unwrap(2), 2);
  EXPECT_EQ(w.unwrap(65535), -1);
  w.reset();
  EXPECT_FALSE(w.last());
  EXPECT_EQ(w.unwrap(9), 9);
}

TEST(Demux, TellsRtpFromRtcpAndOthers) {
  const auto with = [](std::uint8_t first, std::uint8_t second) {
    Bytes b(12, 0);
    b[0] = first;
    b[1] = second;
    return b;
  };
  EXPECT_TRUE(looks_like_rtp(with(0x80, 111)));
  EXPECT_TRUE(looks_like_rtp(with(0x80, 0x80 | 96)));  // marker + PT 96 = 224
  EXPECT_TRUE(looks_like_rtp(with(0xBF, 0)));          // 191: last RTP/RTCP first byte
  EXPECT_FALSE(looks_like_rtcp(with(0x80, 111)));
  for (int pt = 192; pt <= 223; ++pt) {
    EXPECT_TRUE(looks_like_rtcp(with(0x81, static_cast<std::uint8_t>(pt)))) << pt;
    EXPECT_FALSE(looks_like_rtp(with(0x81, static_cast<std::uint8_t>(pt)))) << pt;
  }
  EXPECT_FALSE(looks_like_rtcp(with(0x81, 191)));
  EXPECT_FALSE(looks_like_rtcp(with(0x81, 224)));
  // RFC 7983: STUN 0..3, DTLS 20..63, TURN channels 64..79, and 192+ are not RTP/RTCP.
  for (const std::uint8_t first : {0, 1, 20, 22, 63, 64, 79, 127, 192, 255}) {
    EXPECT_FALSE(looks_like_rtp(with(first, 96))) << int(first);
    EXPECT_FALSE(looks_like_rtcp(with(first, 200))) << int(first);
  }
  EXPECT_FALSE(looks_like_rtp(Bytes{0x80, 96, 0, 0}));  // too short for an RTP header
  EXPECT_TRUE(looks_like_rtcp(Bytes{0x80, 201, 0, 0}));
  EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 201, 0}));
}

}  // namespace
}  // namespace conclave::rtc
