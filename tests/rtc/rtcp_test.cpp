// Tests of rtc/rtcp: compound validation and iteration, each typed view and builder, and
// in-place SSRC rewriting.
//
// Where the fixtures come from:
// - *_fixture(): hand-built from the packet figures of the RFC or draft named next to each
//   (RFC 3550 §6.4.1, §6.5, §6.6; RFC 4585 §6.2.1, §6.3.1; RFC 5104 §4.3.1;
//   draft-alvestrand-rmcat-remb-03 §2.2; draft-holmer-rmcat-transport-wide-cc-extensions-01
//   §3.1), with values chosen here.
// - kChromium*: captured here from Chromium 156.0.8078.79 (Debian bookworm package):
//   two RTCPeerConnections in one headless page sending fake-device audio and video to
//   each other over loopback, started with --disable-webrtc-encryption so that RTP/RTCP go
//   out in the clear, through a UDP relay that dropped 8% of RTP packets so that the
//   receiver sent NACKs and feedback with losses; read with an AF_PACKET socket on lo.
//   They are Chromium's own bytes, unchanged (the same files are in fuzz/corpus/rtcp/).
#include "rtc/rtcp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

namespace conclave::rtc {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// RFC 3550 §6.4.1: SR with one report block (RC=1, 52 bytes, length 12).
Bytes sr_fixture() {
  return {
      0x81, 0xC8, 0x00, 0x0C,  // V=2 RC=1, PT=200, length 12
      0x11, 0x22, 0x33, 0x44,  // SSRC of sender
      0xE5, 0xA1, 0xB2, 0xC3,  // NTP timestamp, most significant word
      0xD4, 0xE5, 0xF6, 0x07,  // NTP timestamp, least significant word
      0x00, 0x01, 0x5F, 0x90,  // RTP timestamp 90000
      0x00, 0x00, 0x00, 0x64,  // sender's packet count 100
      0x00, 0x00, 0x4E, 0x20,  // sender's octet count 20000
      0x55, 0x66, 0x77, 0x88,  // SSRC_1
      0x19, 0x00, 0x00, 0x03,  // fraction lost 25/256, cumulative lost 3
      0x00, 0x01, 0x12, 0x34,  // extended highest sequence number
      0x00, 0x00, 0x00, 0x10,  // interarrival jitter
      0xA1, 0xB2, 0xC3, 0xD4,  // last SR
      0x00, 0x01, 0x00, 0x00,  // delay since last SR (1 s)
  };
}

// RFC 3550 §6.5: SDES, one chunk with a 16-byte CNAME (SC=1, 28 bytes, length 6).
Bytes sdes_fixture() {
  return {
      0x81, 0xCA, 0x00, 0x06,  // V=2 SC=1, PT=202, length 6
      0x11, 0x22, 0x33, 0x44,  // SSRC
      0x01, 0x10,              // CNAME, 16 bytes
      'a',  'b',  'c',  'd',  'e', 'f', 'g', 'h',  'i',
      'j',  'k',  'l',  'm',  'n', 'o', 'p', 0x00, 0x00,  // null item, padding to 32 bits
  };
}

// RFC 3550 §6.6: BYE with one SSRC and the reason "bye".
Bytes bye_fixture() {
  return {0x81, 0xCB, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x03, 'b', 'y', 'e'};
}

// RFC 4585 §6.2.1: generic NACK with two items; the first wraps (0xFFF0, 0xFFF1, 0x0000).
Bytes nack_fixture() {
  return {
      0x81, 0xCD, 0x00, 0x04,  // FMT=1, PT=205, length 4
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0xFF, 0xF0, 0x80, 0x01,  // PID 0xFFF0, BLP bits 0 and 15
      0x00, 0x10, 0x00, 0x00,  // PID 0x0010
  };
}

// RFC 4585 §6.3.1: PLI.
Bytes pli_fixture() {
  return {0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02};
}

// RFC 5104 §4.3.1: FIR with one entry (media source 0).
Bytes fir_fixture() {
  return {0x84, 0xCE, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
          0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x07, 0x00, 0x00, 0x00};
}

// draft-alvestrand-rmcat-remb-03 §2.2: 1 Mbps = 250000 << 2, one SSRC.
Bytes remb_fixture() {
  return {
      0x8F, 0xCE, 0x00, 0x05,  // FMT=15, PT=206, length 5
      0x12, 0x34, 0x56, 0x78,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // media source 0
      'R',  'E',  'M',  'B',   //
      0x01, 0x0B, 0xD0, 0x90,  // 1 SSRC, exp 2, mantissa 0x3D090
      0xDE, 0xAD, 0xBE, 0xEF,  // SSRC feedback
  };
}

// draft-holmer-...-01 §3.1: base 65534, 20 statuses: a run of 3 received (small), a 1-bit
// vector "10011111111111", a run of 3 not received; 15 small deltas; zero padding without
// the P bit, as drawn in the draft's figure.
Bytes twcc_fixture() {
  Bytes b = {
      0x8F, 0xCD, 0x00, 0x0A,  // FMT=15, PT=205, length 10
      0x00, 0x00, 0x00, 0x01,  // sender
      0x00, 0x00, 0x00, 0x02,  // media source
      0xFF, 0xFE, 0x00, 0x14,  // base 65534, status count 20
      0x12, 0x34, 0x56, 0x07,  // reference time 0x123456, feedback count 7
      0x20, 0x03,              // run length: symbol 01, 3
      0xA7, 0xFF,              // vector, 1-bit: 1 0 0 1 1 1 1 1 1 1 1 1 1 1
      0x00, 0x03,              // run length: symbol 00, 3
  };
  for (int i = 1; i <= 15; ++i) b.push_back(static_cast<std::uint8_t>(i));
  b.insert(b.end(), {0, 0, 0});
  return b;
}

RtcpPacket only_packet(Bytes& b) {
  RtcpError error;
  auto p = RtcpPacket::parse(b, error);
  EXPECT_TRUE(p) << "error " << int(error);
  return *p;
}

std::vector<RtcpType> types_of(const RtcpCompound& compound) {
  std::vector<RtcpType> types;
  for (const auto& packet : compound) types.push_back(packet.type());
  return types;
}

// -----------------------------------------------------------------------------------------
// Compounds

TEST(RtcpCompound, IteratesPacketsOfACompound) {
  Bytes b = concat({sr_fixture(), sdes_fixture(), bye_fixture()});
  RtcpError error = RtcpError::kBadVersion;
  const auto compound = RtcpCompound::parse(b, error);
  ASSERT_TRUE(compound);
  EXPECT_EQ(error, RtcpError::kNone);
  EXPECT_EQ(compound->packet_count(), 3u);
  const std::vector<RtcpType> expected = {RtcpType::kSenderReport, RtcpType::kSdes, RtcpType::kBye};
  EXPECT_EQ(types_of(*compound), expected);
  auto it = compound->begin();
  EXPECT_EQ(it->count(), 1);
  EXPECT_EQ(it->bytes().size(), 52u);
  EXPECT_EQ(it->body().size(), 48u);
  EXPECT_EQ(it->bytes().data(), b.data());
  ++it;
  EXPECT_EQ(it->bytes().data(), b.data() + 52);
  ++it;
  ++it;
  EXPECT_TRUE(it == std::default_sentinel);
}

TEST(RtcpCompound, RejectsMalformedCompounds) {
  const auto check = [](Bytes b, RtcpError expected) {
    RtcpError error = RtcpError::kNone;
    EXPECT_FALSE(RtcpCompound::parse(b, error));
    EXPECT_EQ(error, expected);
  };
  check({}, RtcpError::kTruncatedHeader);
  check({0x80, 0xC9, 0x00}, RtcpError::kTruncatedHeader);
  check({0x40, 0xC9, 0x00, 0x00}, RtcpError::kBadVersion);
  check({0x80, 0xC9, 0x00, 0x01, 0, 0, 0}, RtcpError::kLengthPastEnd);
  check({0x80, 0xC9, 0xFF, 0xFF, 0, 0, 0, 0}, RtcpError::kLengthPastEnd);  // lying length
  // A valid packet followed by bytes that are not a whole packet.
  for (int extra = 1; extra <= 3; ++extra) {
    Bytes b = {0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 1};
    b.resize(b.size() + static_cast<std::size_t>(extra), 0x80);
    check(b, RtcpError::kTruncatedHeader);
  }
  check(concat({pli_fixture(), {0x00, 0xC9, 0x00, 0x00}}), RtcpError::kBadVersion);
  check({0xA0, 0xC9, 0x00, 0x01, 0, 0, 0, 0}, RtcpError::kBadPadding);  // count 0
  check({0xA0, 0xC9, 0x00, 0x01, 0, 0, 0, 5}, RtcpError::kBadPadding);  // into the header
  Bytes two = concat({pli_fixture(), pli_fixture()});
  RtcpError error = RtcpError::kNone;
  EXPECT_FALSE(RtcpPacket::parse(two, error));
  EXPECT_EQ(error, RtcpError::kTrailingData);
  EXPECT_TRUE(RtcpCompound::parse(two));
}

TEST(RtcpCompound, PaddingIsExcludedFromTheBody) {
  Bytes b = {0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4};  // RR, 4 bytes of padding
  const auto packet = RtcpPacket::parse(b);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->has_padding());
  EXPECT_EQ(packet->body().size(), 4u);
  const auto rr = ReceiverReport::parse(*packet);
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc(), 7u);
}

TEST(RtcpCompound, EveryTruncationIsRejectedExceptAtPacketBoundaries) {
  const Bytes full = concat({sr_fixture(), sdes_fixture(), nack_fixture(), remb_fixture()});
  const std::set<std::size_t> boundaries = {52, 80, 100};
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto compound = RtcpCompound::parse(prefix);
    EXPECT_EQ(compound.has_value(), boundaries.count(n) == 1) << n;
  }
}

TEST(RtcpPacket, EachFixtureRejectsEveryTruncation) {
  for (const Bytes& full : {sr_fixture(), sdes_fixture(), bye_fixture(), nack_fixture(),
                            pli_fixture(), fir_fixture(), remb_fixture(), twcc_fixture()}) {
    Bytes copy = full;
    ASSERT_TRUE(RtcpPacket::parse(copy));
    for (std::size_t n = 0; n < full.size(); ++n) {
      Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      RtcpError error = RtcpError::kNone;
      EXPECT_FALSE(RtcpPacket::parse(prefix, error)) << n;
      EXPECT_NE(error, RtcpError::kNone);
    }
  }
}

// Shrinks the length field (and the buffer with it) to every smaller size: the packet is
// then well-formed at the compound level, so the typed views must check their own counts.
// Every view made from such a packet is read in full; ASan would catch a read past it.
template <class View, class Touch>
void shrink_and_parse(const Bytes& full, Touch&& touch, std::size_t min_valid_size) {
  for (std::size_t size = 4; size < full.size(); size += 4) {
    Bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size));
    wire::store_be16(&b[2], static_cast<std::uint16_t>(size / 4 - 1));
    b[0] &= ~0x20;  // a shrunk packet has no padding
    const auto packet = RtcpPacket::parse(b);
    ASSERT_TRUE(packet);
    const auto view = View::parse(*packet);
    EXPECT_EQ(view.has_value(), size >= min_valid_size) << size;
    if (view) touch(*view);
  }
}

TEST(RtcpViews, LyingCountsAgainstTheLengthAreRejected) {
  shrink_and_parse<SenderReport>(
      sr_fixture(),
      [](const SenderReport& sr) {
        (void)sr.sender_info();
        for (std::size_t i = 0; i < sr.report_blocks().size(); ++i) (void)sr.report_blocks()[i];
      },
      52);
  shrink_and_parse<Sdes>(
      sdes_fixture(),
      [](const Sdes& s) {
        for (const auto& c : s) (void)c;
      },
      28);
  // BYE: the SSRC list is required, the reason is optional.
  shrink_and_parse<Bye>(
      bye_fixture(), [](const Bye& b) { (void)b.ssrc(0); }, 8);
  // NACK with one item is valid; without any it is not.
  shrink_and_parse<Nack>(
      nack_fixture(), [](const Nack& n) { n.for_each_lost([](std::uint16_t) {}); }, 16);
  shrink_and_parse<Pli>(
      pli_fixture(), [](const Pli& p) { (void)p.media_ssrc(); }, 12);
  shrink_and_parse<Fir>(
      fir_fixture(), [](const Fir& f) { (void)f.entry(0); }, 20);
  shrink_and_parse<Remb>(
      remb_fixture(), [](const Remb& r) { (void)r.bitrate_bps(); }, 24);
  shrink_and_parse<TransportFeedback>(
      twcc_fixture(),
      [](const TransportFeedback& t) {
        std::array<TwccStatus, 32> out;
        (void)t.decode(out);
      },
      // The deltas end at byte 41; only the 3 padding bytes may go.
      44);

  // RC/SC larger than the packet has room for.
  Bytes sr = sr_fixture();
  sr[0] = 0x82;  // RC=2 in 52 bytes
  EXPECT_FALSE(SenderReport::parse(only_packet(sr)));
  Bytes rr = {0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1};  // RC=1, no block
  EXPECT_FALSE(ReceiverReport::parse(only_packet(rr)));
  Bytes sdes = sdes_fixture();
  sdes[0] = 0x82;  // SC=2, one chunk
  EXPECT_FALSE(Sdes::parse(only_packet(sdes)));
  Bytes bye = bye_fixture();
  bye[0] = 0x83;  // SC=3: 12 bytes needed, 8 there
  EXPECT_FALSE(Bye::parse(only_packet(bye)));
  Bytes bye_reason = bye_fixture();
  bye_reason[8] = 4;  // reason length past the end
  EXPECT_FALSE(Bye::parse(only_packet(bye_reason)));
}

TEST(RtcpViews, TypeAndFormatMustMatch) {
  Bytes pli = pli_fixture();
  const auto packet = only_packet(pli);
  EXPECT_TRUE(Pli::parse(packet));
  EXPECT_TRUE(Feedback::parse(packet));
  EXPECT_FALSE(Nack::parse(packet));  // same FMT, other PT
  EXPECT_FALSE(Fir::parse(packet));
  EXPECT_FALSE(Remb::parse(packet));
  EXPECT_FALSE(SenderReport::parse(packet));
  EXPECT_FALSE(TransportFeedback::parse(packet));
  Bytes sr = sr_fixture();
  EXPECT_FALSE(Feedback::parse(only_packet(sr)));
  EXPECT_FALSE(ReceiverReport::parse(only_packet(sr)));
  Bytes app = {0x80, 0xCC, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};  // APP: no view
  const auto compound = RtcpCompound::parse(app);
  ASSERT_TRUE(compound);
  EXPECT_EQ(compound->begin()->type(), RtcpType::kApp);
}

// -----------------------------------------------------------------------------------------
// SR / RR

TEST(SenderReport, ParsesTheFixtureAndRebuildsItExactly) {
  Bytes b = sr_fixture();
  const auto sr = SenderReport::parse(only_packet(b));
  ASSERT_TRUE(sr);
  const SenderInfo info = sr->sender_info();
  EXPECT_EQ(info.ssrc, 0x11223344u);
  EXPECT_EQ(info.ntp_timestamp, 0xE5A1B2C3D4E5F607u);
  EXPECT_EQ(info.rtp_timestamp, 90000u);
  EXPECT_EQ(info.packet_count, 100u);
  EXPECT_EQ(info.octet_count, 20000u);
  ASSERT_EQ(sr->report_blocks().size(), 1u);
  const ReportBlock block = sr->report_blocks()[0];
  EXPECT_EQ(block.ssrc, 0x55667788u);
  EXPECT_EQ(block.fraction_lost, 25);
  EXPECT_EQ(block.cumulative_lost, 3);
  EXPECT_EQ(block.extended_highest_sequence, 0x00011234u);
  EXPECT_EQ(block.jitter, 16u);
  EXPECT_EQ(block.last_sr, 0xA1B2C3D4u);
  EXPECT_EQ(block.delay_since_last_sr, 65536u);

  Bytes out(52);
  const std::array<ReportBlock, 1> blocks{block};
  const auto w = write_sender_report(out, info, blocks);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 52u);
  EXPECT_EQ(out, b);
}

TEST(SenderReport, ProfileExtensionsAfterTheBlocksAreIgnored) {
  Bytes b = sr_fixture();
  b.insert(b.end(), {0xAB, 0xCD, 0xEF, 0x01});
  b[3] = 13;
  const auto sr = SenderReport::parse(only_packet(b));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->report_blocks().size(), 1u);
}

TEST(ReceiverReport, RoundTripsZeroToThirtyOneBlocksAndSignedLoss) {
  for (std::size_t n : {0u, 1u, 2u, 31u}) {
    std::vector<ReportBlock> blocks(n);
    for (std::size_t i = 0; i < n; ++i) {
      blocks[i] = {static_cast<std::uint32_t>(0x1000 + i),
                   static_cast<std::uint8_t>(i),
                   static_cast<std::int32_t>(i) - 5,
                   70000u + static_cast<std::uint32_t>(i),
                   static_cast<std::uint32_t>(i * 3),
                   0xAABBCCDD,
                   1234};
    }
    Bytes out(8 + 24 * n);
    const auto w = write_receiver_report(out, 0x99, blocks);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w.size, out.size());
    const auto rr = ReceiverReport::parse(only_packet(out));
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->sender_ssrc(), 0x99u);
    ASSERT_EQ(rr->report_blocks().size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(rr->report_blocks()[i], blocks[i]) << i;
  }
  Bytes out(1000);
  const std::vector<ReportBlock> too_many(32);
  EXPECT_EQ(write_receiver_report(out, 1, too_many).error, WriteError::kInvalidArgument);
  EXPECT_EQ(write_sender_report(out, {}, too_many).error, WriteError::kInvalidArgument);
}

TEST(ReceiverReport, CumulativeLossIsSigned24BitsAndClamped) {
  const std::array<ReportBlock, 4> blocks{{
      {1, 0, -1, 0, 0, 0, 0},
      {2, 0, -0x800000, 0, 0, 0, 0},
      {3, 0, 0x7FFFFF, 0, 0, 0, 0},
      {4, 0, 0x7FFFFFFF, 0, 0, 0, 0},  // clamped to 0x7FFFFF
  }};
  Bytes out(8 + 24 * 4);
  ASSERT_TRUE(write_receiver_report(out, 1, blocks).ok());
  EXPECT_EQ(out[8 + 5], 0xFF);
  EXPECT_EQ(out[8 + 7], 0xFF);
  const auto rr = ReceiverReport::parse(only_packet(out));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->report_blocks()[0].cumulative_lost, -1);
  EXPECT_EQ(rr->report_blocks()[1].cumulative_lost, -0x800000);
  EXPECT_EQ(rr->report_blocks()[2].cumulative_lost, 0x7FFFFF);
  EXPECT_EQ(rr->report_blocks()[3].cumulative_lost, 0x7FFFFF);
}

// -----------------------------------------------------------------------------------------
// SDES, BYE

TEST(Sdes, FindsCnameAndSkipsOtherItems) {
  Bytes b = sdes_fixture();
  const auto sdes = Sdes::parse(only_packet(b));
  ASSERT_TRUE(sdes);
  ASSERT_EQ(sdes->chunk_count(), 1u);
  const SdesChunk chunk = *sdes->begin();
  EXPECT_EQ(chunk.ssrc, 0x11223344u);
  EXPECT_EQ(chunk.cname, "abcdefghijklmnop");

  // Two chunks: NAME and TOOL before the CNAME; then a chunk with no items at all.
  Bytes two = {
      0x82, 0xCA, 0x00, 0x07,                          // SC=2, length 7
      0x00, 0x00, 0x00, 0x0A,                          // SSRC 10
      0x02, 0x02, 'h',  'i',                           // NAME "hi"
      0x06, 0x01, 't',                                 // TOOL "t"
      0x01, 0x03, 'x',  'y',  'z',                     // CNAME "xyz"
      0x00, 0x00, 0x00, 0x00,                          // null item + padding (20 → 24)
      0x00, 0x00, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x00,  // SSRC 11, no items
  };
  const auto sdes2 = Sdes::parse(only_packet(two));
  ASSERT_TRUE(sdes2);
  std::vector<std::pair<std::uint32_t, std::optional<std::string_view>>> seen;
  for (const auto& c : *sdes2) seen.emplace_back(c.ssrc, c.cname);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 10u);
  EXPECT_EQ(seen[0].second, "xyz");
  EXPECT_EQ(seen[1].first, 11u);
  EXPECT_FALSE(seen[1].second);
}

TEST(Sdes, RejectsChunksWithoutTerminatorOrWithOverlongItems) {
  Bytes no_null = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
  EXPECT_FALSE(Sdes::parse(only_packet(no_null)));
  Bytes overlong = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 0};
  EXPECT_FALSE(Sdes::parse(only_packet(overlong)));
  Bytes type_only = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x02, 0x00, 0x01, 0x00};
  EXPECT_FALSE(Sdes::parse(only_packet(type_only)));  // the CNAME item's length is missing
}

TEST(Sdes, BuildsChunksAndParsesThemBack) {
  const std::string long_name(255, 'q');
  const std::array<SdesChunk, 3> chunks{
      {{1, "abcdefghijklmnop"}, {2, std::nullopt}, {3, long_name}}};
  Bytes out(400);
  const auto w = write_sdes(out, chunks);
  ASSERT_TRUE(w.ok());
  out.resize(w.size);
  EXPECT_EQ(w.size % 4, 0u);
  const auto sdes = Sdes::parse(only_packet(out));
  ASSERT_TRUE(sdes);
  std::vector<SdesChunk> seen;
  for (const auto& c : *sdes) seen.push_back(c);
  ASSERT_EQ(seen.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].ssrc, chunks[i].ssrc);
    EXPECT_EQ(seen[i].cname, chunks[i].cname);
  }
  Bytes one(28);
  const std::array<SdesChunk, 1> fixture_chunk{{{0x11223344, "abcdefghijklmnop"}}};
  ASSERT_TRUE(write_sdes(one, fixture_chunk).ok());
  EXPECT_EQ(one, sdes_fixture());

  const std::string too_long(256, 'q');
  const std::array<SdesChunk, 1> bad{{{1, too_long}}};
  EXPECT_EQ(write_sdes(out, bad).error, WriteError::kInvalidArgument);
}

TEST(Bye, ParsesAndBuildsWithAndWithoutReason) {
  Bytes b = bye_fixture();
  auto bye = Bye::parse(only_packet(b));
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->ssrc_count(), 1u);
  EXPECT_EQ(bye->ssrc(0), 0x11223344u);
  EXPECT_EQ(bye->reason(), "bye");
  Bytes out(12);
  const std::array<std::uint32_t, 1> ssrcs{0x11223344};
  ASSERT_TRUE(write_bye(out, ssrcs, "bye").ok());
  EXPECT_EQ(out, b);

  const std::array<std::uint32_t, 3> three{1, 2, 3};
  Bytes plain(16);
  const auto w = write_bye(plain, three);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 16u);
  const auto parsed = Bye::parse(only_packet(plain));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->ssrc_count(), 3u);
  EXPECT_EQ(parsed->ssrc(2), 3u);
  EXPECT_TRUE(parsed->reason().empty());

  bye->set_ssrc(0, 0xABCDEF01);
  EXPECT_EQ(Bye::parse(only_packet(b))->ssrc(0), 0xABCDEF01u);
  EXPECT_EQ(write_bye(out, ssrcs, std::string(256, 'x')).error, WriteError::kInvalidArgument);
}

// -----------------------------------------------------------------------------------------
// NACK

std::vector<std::uint16_t> expand_all(const Nack& nack) {
  std::vector<std::uint16_t> seqs;
  nack.for_each_lost([&](std::uint16_t s) { seqs.push_back(s); });
  return seqs;
}

TEST(Nack, ParsesItemsAndExpandsAcrossTheWrap) {
  Bytes b = nack_fixture();
  const auto nack = Nack::parse(only_packet(b));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc(), 1u);
  EXPECT_EQ(nack->media_ssrc(), 2u);
  ASSERT_EQ(nack->item_count(), 2u);
  EXPECT_EQ(nack->item(0), (NackItem{0xFFF0, 0x8001}));
  const std::vector<std::uint16_t> expected = {0xFFF0, 0xFFF1, 0x0000, 0x0010};
  EXPECT_EQ(expand_all(*nack), expected);
  std::array<std::uint16_t, 3> small{};
  EXPECT_EQ(nack->lost_sequence_numbers(small), 3u);
  EXPECT_EQ(small[2], 0x0000);
  std::array<std::uint16_t, kMaxSequencesPerNackItem> one{};
  EXPECT_EQ(expand_nack_item({7, 0xFFFF}, one), 17u);
  EXPECT_EQ(one[16], 23);

  Bytes odd = nack_fixture();
  odd.insert(odd.end(), {0, 0, 0, 0});
  odd[3] = 5;  // still whole items: 3
  EXPECT_TRUE(Nack::parse(only_packet(odd)));
}

std::vector<std::uint16_t> nack_round_trip(const std::vector<std::uint16_t>& lost,
                                           std::size_t expected_items) {
  Bytes out(12 + 4 * nack_item_count(lost));
  const auto w = write_nack(out, 0xA, 0xB, lost);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size, out.size());
  const auto nack = Nack::parse(only_packet(out));
  EXPECT_TRUE(nack);
  EXPECT_EQ(nack->item_count(), expected_items);
  EXPECT_EQ(nack->media_ssrc(), 0xBu);
  return expand_all(*nack);
}

TEST(Nack, PacksRunsLongerThanOneItem) {
  std::vector<std::uint16_t> lost;
  for (std::uint16_t s = 100; s < 140; ++s) lost.push_back(s);  // 40 = 17 + 17 + 6
  EXPECT_EQ(nack_round_trip(lost, 3), lost);

  std::vector<std::uint16_t> wrapping;
  for (std::uint32_t s = 65530; s < 65536 + 30; s += 1) {
    if (s % 3 != 0) wrapping.push_back(static_cast<std::uint16_t>(s));
  }
  EXPECT_EQ(nack_round_trip(wrapping, nack_item_count(wrapping)), wrapping);
  EXPECT_LE(nack_item_count(wrapping), 3u);

  // PID + 16 is the last one an item covers.
  EXPECT_EQ(nack_round_trip({10, 26}, 1), (std::vector<std::uint16_t>{10, 26}));
  EXPECT_EQ(nack_round_trip({10, 27}, 2), (std::vector<std::uint16_t>{10, 27}));
  EXPECT_EQ(nack_round_trip({65535, 15}, 1), (std::vector<std::uint16_t>{65535, 15}));
}

TEST(Nack, DuplicatesAndDisorderStillCoverEverything) {
  const std::vector<std::uint16_t> dup = {5, 5, 6, 6, 6, 9};
  EXPECT_EQ(nack_round_trip(dup, 1), (std::vector<std::uint16_t>{5, 6, 9}));
  const std::vector<std::uint16_t> unsorted = {50, 40, 45, 44, 60, 1};
  const auto got = nack_round_trip(unsorted, nack_item_count(unsorted));
  EXPECT_EQ(std::set<std::uint16_t>(got.begin(), got.end()),
            std::set<std::uint16_t>(unsorted.begin(), unsorted.end()));
  Bytes out(100);
  EXPECT_EQ(write_nack(out, 1, 2, {}).error, WriteError::kInvalidArgument);
}

// -----------------------------------------------------------------------------------------
// PLI, FIR, REMB

TEST(Pli, ParsesBuildsAndRewritesTheMediaSsrc) {
  Bytes b = pli_fixture();
  auto pli = Pli::parse(only_packet(b));
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->sender_ssrc(), 1u);
  EXPECT_EQ(pli->media_ssrc(), 2u);
  Bytes out(12);
  ASSERT_TRUE(write_pli(out, 1, 2).ok());
  EXPECT_EQ(out, b);
  pli->set_media_ssrc(0xCAFE);
  pli->set_sender_ssrc(0xBEEF);
  const auto again = Pli::parse(only_packet(b));
  EXPECT_EQ(again->media_ssrc(), 0xCAFEu);
  EXPECT_EQ(again->sender_ssrc(), 0xBEEFu);
}

TEST(Fir, ParsesBuildsAndRewritesEntrySsrcs) {
  Bytes b = fir_fixture();
  auto fir = Fir::parse(only_packet(b));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->media_ssrc(), 0u);
  ASSERT_EQ(fir->entry_count(), 1u);
  EXPECT_EQ(fir->entry(0), (FirEntry{9, 7}));
  Bytes out(20);
  const std::array<FirEntry, 1> entries{{{9, 7}}};
  ASSERT_TRUE(write_fir(out, 1, entries).ok());
  EXPECT_EQ(out, b);
  fir->set_entry_ssrc(0, 0x12345678);
  EXPECT_EQ(Fir::parse(only_packet(b))->entry(0), (FirEntry{0x12345678, 7}));

  const std::array<FirEntry, 3> three{{{1, 1}, {2, 2}, {3, 255}}};
  Bytes many(36);
  ASSERT_TRUE(write_fir(many, 5, three).ok());
  const auto parsed = Fir::parse(only_packet(many));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->entry_count(), 3u);
  EXPECT_EQ(parsed->entry(2), (FirEntry{3, 255}));
  EXPECT_EQ(write_fir(many, 5, {}).error, WriteError::kInvalidArgument);
  Bytes partial = fir_fixture();
  partial.insert(partial.end(), {0, 0, 0, 1});  // half an entry
  partial[3] = 5;
  EXPECT_FALSE(Fir::parse(only_packet(partial)));
}

TEST(Remb, ParsesTheFixture) {
  Bytes b = remb_fixture();
  auto remb = Remb::parse(only_packet(b));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->sender_ssrc(), 0x12345678u);
  EXPECT_EQ(remb->bitrate_bps(), 1'000'000u);
  ASSERT_EQ(remb->ssrc_count(), 1u);
  EXPECT_EQ(remb->ssrc(0), 0xDEADBEEFu);
  Bytes out(24);
  const std::array<std::uint32_t, 1> ssrcs{0xDEADBEEF};
  ASSERT_TRUE(write_remb(out, 0x12345678, 1'000'000, ssrcs).ok());
  EXPECT_EQ(out, b);
  remb->set_ssrc(0, 42);
  EXPECT_EQ(Remb::parse(only_packet(b))->ssrc(0), 42u);
}

TEST(Remb, RejectsOtherAfbAndCountMismatch) {
  Bytes other = remb_fixture();
  other[12] = 'X';
  EXPECT_FALSE(Remb::parse(only_packet(other)));
  EXPECT_TRUE(Feedback::parse(only_packet(other)));  // still a PSFB the SFU can drop
  Bytes more = remb_fixture();
  more[16] = 2;  // says 2 SSRCs, has 1
  EXPECT_FALSE(Remb::parse(only_packet(more)));
  Bytes fewer = remb_fixture();
  fewer[16] = 0;  // says 0 SSRCs, has 1
  EXPECT_FALSE(Remb::parse(only_packet(fewer)));
}

TEST(Remb, BitrateEncodingRoundTripsAcrossMagnitudes) {
  // Exact below 2^18, then within one part in 2^17, never rounded up.
  for (std::uint64_t bps = 1; bps <= 10'000'000'000ull; bps = bps * 3 + 1) {
    const RembBitrate enc = encode_remb_bitrate(bps);
    EXPECT_LE(enc.mantissa, 0x3FFFFu);
    EXPECT_LE(enc.exponent, 63);
    const std::uint64_t back = decode_remb_bitrate(enc.exponent, enc.mantissa);
    EXPECT_LE(back, bps);
    if (bps < (1u << 18)) {
      EXPECT_EQ(back, bps);
    } else {
      EXPECT_GE(static_cast<double>(back), static_cast<double>(bps) * (1.0 - 1.0 / (1 << 17)));
    }
    Bytes out(20);
    ASSERT_TRUE(write_remb(out, 1, bps, {}).ok());
    EXPECT_EQ(Remb::parse(only_packet(out))->bitrate_bps(), back);
  }
  EXPECT_EQ(decode_remb_bitrate(0, 0), 0u);
  EXPECT_EQ(decode_remb_bitrate(2, 250000), 1'000'000u);
  EXPECT_EQ(decode_remb_bitrate(63, 0x3FFFF), ~std::uint64_t{0});  // saturates
  EXPECT_EQ(decode_remb_bitrate(46, 0x3FFFF), std::uint64_t{0x3FFFF} << 46);
  const RembBitrate top = encode_remb_bitrate(~std::uint64_t{0});
  EXPECT_EQ(top.exponent, 46);
  EXPECT_EQ(top.mantissa, 0x3FFFFu);
  const std::vector<std::uint32_t> too_many(256);
  Bytes out(2000);
  EXPECT_EQ(write_remb(out, 1, 1, too_many).error, WriteError::kInvalidArgument);
}

// -----------------------------------------------------------------------------------------
// Transport-wide CC feedback

std::vector<TwccStatus> decode_all(const TransportFeedback& fb) {
  std::vector<TwccStatus> out(fb.status_count());
  out.resize(fb.decode(out));
  return out;
}

TEST(TransportFeedback, ParsesRunAndOneBitVectorChunks) {
  Bytes b = twcc_fixture();
  const auto fb = TransportFeedback::parse(only_packet(b));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->base_sequence_number(), 65534);
  EXPECT_EQ(fb->status_count(), 20);
  EXPECT_EQ(fb->reference_time(), 0x123456u);
  EXPECT_EQ(fb->feedback_count(), 7);
  EXPECT_EQ(fb->received_count(), 15u);
  const auto statuses = decode_all(*fb);
  ASSERT_EQ(statuses.size(), 20u);
  const std::string pattern =
      "111"
      "10011111111111"
      "000";
  std::int16_t next_delta = 1;
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(statuses[i].sequence_number, static_cast<std::uint16_t>(65534 + i));
    EXPECT_EQ(statuses[i].received(), pattern[i] == '1') << i;
    if (statuses[i].received()) {
      EXPECT_EQ(statuses[i].symbol, TwccSymbol::kSmallDelta);
      EXPECT_EQ(statuses[i].delta, next_delta++);
    } else {
      EXPECT_EQ(statuses[i].delta, 0);
    }
  }
  std::array<TwccStatus, 4> few;
  EXPECT_EQ(fb->decode(few), 4u);
  EXPECT_EQ(few[3].sequence_number, 1);
}

TEST(TransportFeedback, RejectsMalformedFeedback) {
  const auto rejects = [](Bytes b) { return !TransportFeedback::parse(only_packet(b)); };
  Bytes empty = twcc_fixture();
  empty[14] = empty[15] = 0;  // status count 0
  EXPECT_TRUE(rejects(empty));
  Bytes reserved = twcc_fixture();
  reserved[20] = 0x60;  // run-length chunk with symbol 11
  EXPECT_TRUE(rejects(reserved));
  Bytes reserved_vector = twcc_fixture();
  reserved_vector[20] = 0xF0;  // 2-bit vector, first symbol 11
  reserved_vector[21] = 0x00;
  EXPECT_TRUE(rejects(reserved_vector));
  Bytes more_statuses = twcc_fixture();
  more_statuses[14] = more_statuses[15] = 0xFF;  // chunks (and then the deltas) run out
  EXPECT_TRUE(rejects(more_statuses));
  Bytes more_deltas = twcc_fixture();
  more_deltas[20] = 0x40;  // first run now large (+3 bytes) and the last run received
  more_deltas[24] = 0x20;  // (+3 bytes): 21 delta bytes, 18 there
  EXPECT_TRUE(rejects(more_deltas));
  Bytes trailing = twcc_fixture();
  trailing.insert(trailing.end(), {0, 0, 0, 0});
  trailing[3] = 11;  // 7 bytes after the deltas
  EXPECT_TRUE(rejects(trailing));
}

// Arrival times as reconstructed from the feedback: reference time + running sum of deltas.
std::vector<TwccArrival> arrivals_of(const TransportFeedback& fb) {
  std::vector<TwccArrival> out;
  std::int64_t t = std::int64_t{fb.reference_time()} * kTwccReferenceTickUs;
  for (const auto& s : decode_all(fb)) {
    if (!s.received()) continue;
    t += s.delta * kTwccDeltaTickUs;
    out.push_back({s.sequence_number, t});
  }
  return out;
}

// Builds, checks size and padding, parses back and compares every status.
void expect_round_trip(const std::vector<TwccArrival>& received) {
  Bytes out(70000);
  const auto w = write_transport_feedback(out, 0x1234, 0x5678, 9, received);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size % 4, 0u);
  out.resize(w.size);
  const auto fb = TransportFeedback::parse(only_packet(out));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->sender_ssrc(), 0x1234u);
  EXPECT_EQ(fb->media_ssrc(), 0x5678u);
  EXPECT_EQ(fb->feedback_count(), 9);
  EXPECT_EQ(fb->base_sequence_number(), received.front().sequence_number);
  EXPECT_EQ(fb->status_count(), static_cast<std::uint16_t>(received.back().sequence_number -
                                                           received.front().sequence_number) +
                                    1);
  EXPECT_EQ(fb->received_count(), received.size());
  const auto got = arrivals_of(*fb);
  ASSERT_EQ(got.size(), received.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sequence_number, received[i].sequence_number) << i;
    // Rounded to 250 µs without the error adding up.
    EXPECT_LE(std::abs(got[i].arrival_time_us - received[i].arrival_time_us), 125) << i;
  }
  // Not-received statuses exactly for the gaps.
  std::size_t next = 0;
  for (const auto& s : decode_all(*fb)) {
    const bool expected =
        next < received.size() && received[next].sequence_number == s.sequence_number;
    EXPECT_EQ(s.received(), expected) << s.sequence_number;
    if (expected) ++next;
  }
}

TEST(TransportFeedback, BuildsTheExpectedBytesForAMixedCase) {
  // Statuses: small(4) small(1) lost small(3) large(-2) large(400): no run or 1-bit vector
  // fits, so one 2-bit vector; 29 bytes padded to 32 with the P bit.
  const std::vector<TwccArrival> received = {
      {100, 641'000}, {101, 641'250}, {103, 642'000}, {104, 641'500}, {105, 741'500}};
  Bytes out(32);
  const auto w = write_transport_feedback(out, 0xAABBCCDD, 0x11111111, 5, received);
  ASSERT_TRUE(w.ok());
  const Bytes expected = {
      0xAF, 0xCD, 0x00, 0x07,                          // P, FMT=15, PT=205, length 7
      0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x11, 0x11, 0x11,  //
      0x00, 0x64, 0x00, 0x06,                          // base 100, 6 statuses
      0x00, 0x00, 0x0A, 0x05,                          // reference 10 (640 ms), feedback count 5
      0xD4, 0x68,                                      // 2-bit vector 01 01 00 01 10 10 00
      0x04, 0x01, 0x03, 0xFF, 0xFE, 0x01, 0x90,        // deltas
      0x00, 0x00, 0x03,                                // padding
  };
  EXPECT_EQ(out, expected);
  expect_round_trip(received);
  for (std::size_t n = 0; n < 32; ++n) {
    Bytes small(n);
    EXPECT_EQ(write_transport_feedback(small, 1, 2, 3, received).error, WriteError::kBufferTooSmall)
        << n;
  }
}

TEST(TransportFeedback, AllReceived) {
  std::vector<TwccArrival> received;
  for (int i = 0; i < 100; ++i)
    received.push_back({static_cast<std::uint16_t>(1000 + i), 5'000'000 + i * 1000});
  expect_round_trip(received);
  // 100 small statuses are one run-length chunk.
  Bytes out(1000);
  const auto w = write_transport_feedback(out, 1, 2, 0, received);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(out[20], 0x20);  // T=0, S=01
  EXPECT_EQ(out[21], 100);
  EXPECT_EQ(w.size, (20u + 2 + 100 + 3) / 4 * 4);
}

TEST(TransportFeedback, GapsAndLongRuns) {
  std::vector<TwccArrival> received;
  std::int64_t t = 1'000'000;
  // A received run of 20, a lost run of 9000 (longer than one run chunk), alternating.
  for (std::uint32_t s = 0; s < 20; ++s)
    received.push_back({static_cast<std::uint16_t>(s), t += 500});
  for (std::uint32_t s = 9020; s < 9060; s += 2)
    received.push_back({static_cast<std::uint16_t>(s), t += 700});
  for (std::uint32_t s = 9100; s < 9110; ++s)
    received.push_back({static_cast<std::uint16_t>(s), t += 100'000});
  expect_round_trip(received);
}

TEST(TransportFeedback, LargeAndNegativeDeltas) {
  std::vector<TwccArrival> received = {
      {10, 0},
      {11, 64'000},              // 256 ticks: first value that needs 2 bytes
      {12, 63'750},              // -1 tick
      {13, 63'750 + 8'191'750},  // +32767 ticks
      {14, 63'750},              // -32767 ticks
      {15, 63'750 - 8'192'000},  // -32768 ticks
  };
  expect_round_trip(received);
  // One tick more is out of range: the caller must start a new feedback there.
  received.push_back({16, 63'750});  // +32768 ticks
  Bytes out(1000);
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, received).error, WriteError::kInvalidArgument);
}

TEST(TransportFeedback, RunsLongerThanSevenAndVectors) {
  std::vector<TwccArrival> received;
  std::int64_t t = 0;
  std::uint16_t s = 0;
  const auto add = [&](int n, std::int64_t step, int gap) {
    for (int i = 0; i < n; ++i) {
      received.push_back({s, t += step});
      s = static_cast<std::uint16_t>(s + 1 + gap);
    }
  };
  add(8, 70'000, 0);   // 8 large deltas: a run of large
  add(12, 250, 1);     // alternating received / lost: 1-bit vectors
  add(5, -250, 0);     // negative deltas mixed with small ones
  add(30, 1000, 0);    // run of small
  add(3, 100'000, 2);  // large with gaps: 2-bit vectors
  expect_round_trip(received);
}

TEST(TransportFeedback, WrapsSequenceNumbersAndNegativeReferenceTimes) {
  std::vector<TwccArrival> received;
  for (int i = 0; i < 40; ++i) {
    received.push_back({static_cast<std::uint16_t>(65520 + i * 2), -3'000'000 + i * 2'000});
  }
  Bytes out(1000);
  const auto w = write_transport_feedback(out, 1, 2, 3, received);
  ASSERT_TRUE(w.ok());
  out.resize(w.size);
  const auto fb = TransportFeedback::parse(only_packet(out));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->base_sequence_number(), 65520);
  // floor(-3 s / 64 ms) = -47, as 24 bits.
  EXPECT_EQ(fb->reference_time(), static_cast<std::uint32_t>(-47) & 0xFFFFFF);
  const auto statuses = decode_all(*fb);
  ASSERT_EQ(statuses.size(), 79u);
  EXPECT_EQ(statuses.back().sequence_number, static_cast<std::uint16_t>(65520 + 78));
  // Relative times survive the 24-bit reference.
  const auto got = arrivals_of(*fb);
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_EQ(got[i].arrival_time_us - got[0].arrival_time_us,
              received[i].arrival_time_us - received[0].arrival_time_us);
  }
}

TEST(TransportFeedback, RejectsUnorderedOrEmptyInput) {
  Bytes out(1000);
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, {}).error, WriteError::kInvalidArgument);
  const std::vector<TwccArrival> dup = {{5, 0}, {5, 10}};
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, dup).error, WriteError::kInvalidArgument);
  const std::vector<TwccArrival> backwards = {{5, 0}, {4, 10}};
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, backwards).error, WriteError::kInvalidArgument);
  const std::vector<TwccArrival> single = {{7, 123'456}};
  expect_round_trip(single);
}

TEST(TransportFeedback, SpansBeyondHalfTheSequenceSpaceUpTo65535Statuses) {
  // Each step is under 32768, the whole span is not: 40001 statuses.
  const std::vector<TwccArrival> wide = {{0, 0}, {20000, 1000}, {40000, 2000}};
  expect_round_trip(wide);
  Bytes out(70000);
  const std::vector<TwccArrival> too_wide = {{0, 0}, {30000, 1}, {60000, 2}, {24464, 3}};
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, too_wide).error, WriteError::kInvalidArgument);
  const std::vector<TwccArrival> half_step = {{0, 0}, {32768, 1}};
  EXPECT_EQ(write_transport_feedback(out, 1, 2, 3, half_step).error, WriteError::kInvalidArgument);
}

TEST(TransportFeedback, PseudoRandomPatternsRoundTrip) {
  std::uint32_t rng = 12345;
  const auto next = [&] {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7FFF;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<TwccArrival> received;
    auto seq = static_cast<std::uint16_t>(next() * 2);
    std::int64_t t = static_cast<std::int64_t>(next()) * 1000;
    const int n = 1 + static_cast<int>(next() % 300);
    for (int i = 0; i < n; ++i) {
      received.push_back({seq, t});
      const auto r = next();
      seq = static_cast<std::uint16_t>(seq + 1 + (r % 8 == 0 ? r % 40 : 0));
      t += static_cast<std::int64_t>(next() % 3000) - 500 + (r % 50 == 0 ? 2'000'000 : 0);
    }
    expect_round_trip(received);
  }
}

// -----------------------------------------------------------------------------------------
// Chromium captures (see the top of the file)

// SR (RC=0) + SDES (CNAME) + XR: Chromium's regular compound from a sender.
const Bytes kChromiumSrSdesXr = {
    0x80, 0xc8, 0x00, 0x06, 0x4a, 0x7c, 0x05, 0x7b, 0xee, 0xac, 0xef, 0x70, 0xa0, 0xc6, 0xd6, 0x12,
    0x54, 0x52, 0x9a, 0x83, 0x00, 0x00, 0x00, 0x4b, 0x00, 0x00, 0xcd, 0x13, 0x81, 0xca, 0x00, 0x06,
    0x4a, 0x7c, 0x05, 0x7b, 0x01, 0x10, 0x42, 0x77, 0x2b, 0x43, 0x6c, 0x56, 0x38, 0x4a, 0x49, 0x2f,
    0x6e, 0x68, 0x35, 0x4b, 0x46, 0x68, 0x00, 0x00, 0x80, 0xcf, 0x00, 0x05, 0x4a, 0x7c, 0x05, 0x7b,
    0x05, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xef, 0x70, 0x84, 0xc7, 0x00, 0x00, 0x1b, 0x9d};

// RR with two report blocks (one showing loss) + XR.
const Bytes kChromiumRrXr = {
    0x82, 0xc9, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x9a, 0x42, 0x3d, 0x16, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x34, 0x13, 0x00, 0x00, 0x03, 0xe1, 0xef, 0x6f, 0x3f, 0x1b, 0x00, 0x01, 0x45, 0x89,
    0x4a, 0x7c, 0x05, 0x7b, 0x20, 0x00, 0x00, 0x06, 0x00, 0x00, 0x63, 0x19, 0x00, 0x00, 0x00, 0x36,
    0xef, 0x6f, 0x3f, 0x1b, 0x00, 0x01, 0x45, 0x89, 0x80, 0xcf, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
    0x04, 0x00, 0x00, 0x02, 0xee, 0xac, 0xef, 0x70, 0x84, 0xc7, 0x3a, 0xbc};

// Generic NACK for one packet, sent alone (reduced-size RTCP, RFC 5506).
const Bytes kChromiumNack = {0x81, 0xcd, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                             0x4a, 0x7c, 0x05, 0x7b, 0x62, 0xf3, 0x00, 0x00};

// Transport-wide feedback with three losses, padded with the P bit: a 1-bit vector and a
// run of two.
const Bytes kChromiumTwccLossyPadded = {0xaf, 0xcd, 0x00, 0x09, 0xfa, 0x17, 0xfa, 0x17, 0x2b, 0xfa,
                                        0x17, 0xb2, 0x02, 0xfe, 0x00, 0x10, 0x00, 0xfc, 0xfe, 0x80,
                                        0xb1, 0xff, 0x20, 0x02, 0xa1, 0x00, 0x4f, 0x51, 0x00, 0x00,
                                        0x3a, 0x00, 0x00, 0x01, 0x05, 0x00, 0x0f, 0x00, 0x00, 0x03};

// Transport-wide feedback of 14 statuses in one 1-bit vector, no padding needed.
const Bytes kChromiumTwccVector = {0x8f, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x9a, 0x42, 0x3d,
                                   0x16, 0x00, 0x03, 0x00, 0x0e, 0x00, 0xfc, 0x83, 0x01, 0xad, 0x5f,
                                   0x2f, 0x32, 0x20, 0x28, 0x13, 0x09, 0x15, 0x00, 0x11, 0x10};

TEST(ChromiumCapture, SenderReportSdesAndXr) {
  Bytes b = kChromiumSrSdesXr;
  const auto compound = RtcpCompound::parse(b);
  ASSERT_TRUE(compound);
  const std::vector<RtcpType> expected = {RtcpType::kSenderReport, RtcpType::kSdes,
                                          RtcpType::kExtendedReport};
  EXPECT_EQ(types_of(*compound), expected);
  auto it = compound->begin();
  const auto sr = SenderReport::parse(*it);
  ASSERT_TRUE(sr);
  const SenderInfo info = sr->sender_info();
  EXPECT_EQ(info.ssrc, 0x4a7c057bu);
  EXPECT_EQ(info.ntp_timestamp, 0xeeacef70a0c6d612u);
  EXPECT_EQ(info.rtp_timestamp, 0x54529a83u);
  EXPECT_EQ(info.packet_count, 75u);
  EXPECT_EQ(info.octet_count, 0xcd13u);
  EXPECT_EQ(sr->report_blocks().size(), 0u);
  const auto sdes = Sdes::parse(*++it);
  ASSERT_TRUE(sdes);
  ASSERT_EQ(sdes->chunk_count(), 1u);
  EXPECT_EQ(sdes->begin()->ssrc, 0x4a7c057bu);
  EXPECT_EQ(sdes->begin()->cname, "Bw+ClV8JI/nh5KFh");
  EXPECT_EQ((++it)->bytes().size(), 24u);  // XR: walked over, no view

  // Our builders write Chromium's SR and SDES byte for byte.
  Bytes out(56);
  ASSERT_EQ(write_sender_report(out, info, {}).size, 28u);
  const std::array<SdesChunk, 1> chunk{{{0x4a7c057b, "Bw+ClV8JI/nh5KFh"}}};
  ASSERT_EQ(write_sdes(std::span(out).subspan(28), chunk).size, 28u);
  EXPECT_EQ(out, Bytes(kChromiumSrSdesXr.begin(), kChromiumSrSdesXr.begin() + 56));
}

TEST(ChromiumCapture, ReceiverReportWithLoss) {
  Bytes b = kChromiumRrXr;
  const auto compound = RtcpCompound::parse(b);
  ASSERT_TRUE(compound);
  ASSERT_EQ(compound->packet_count(), 2u);
  const auto rr = ReceiverReport::parse(*compound->begin());
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc(), 1u);
  const auto blocks = rr->report_blocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0], (ReportBlock{0x9a423d16, 0, 3, 0x3413, 0x3e1, 0xef6f3f1b, 0x14589}));
  EXPECT_EQ(blocks[1], (ReportBlock{0x4a7c057b, 0x20, 6, 0x6319, 0x36, 0xef6f3f1b, 0x14589}));
  Bytes out(56);
  const std::array<ReportBlock, 2> read{blocks[0], blocks[1]};
  ASSERT_TRUE(write_receiver_report(out, 1, read).ok());
  EXPECT_EQ(out, Bytes(kChromiumRrXr.begin(), kChromiumRrXr.begin() + 56));
}

TEST(ChromiumCapture, Nack) {
  Bytes b = kChromiumNack;
  const auto nack = Nack::parse(only_packet(b));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc(), 1u);
  EXPECT_EQ(nack->media_ssrc(), 0x4a7c057bu);
  EXPECT_EQ(expand_all(*nack), std::vector<std::uint16_t>{0x62f3});
  Bytes out(16);
  const std::array<std::uint16_t, 1> lost{0x62f3};
  ASSERT_TRUE(write_nack(out, 1, 0x4a7c057b, lost).ok());
  EXPECT_EQ(out, kChromiumNack);
}

// Parses a capture, rebuilds it from the received packets' arrival times, and expects
// Chromium's exact bytes back: same chunk choice, reference time, deltas and padding.
void expect_twcc_rebuilds_identically(const Bytes& capture, std::size_t statuses,
                                      const std::string& pattern) {
  Bytes b = capture;
  const auto fb = TransportFeedback::parse(only_packet(b));
  ASSERT_TRUE(fb);
  ASSERT_EQ(fb->status_count(), statuses);
  std::string seen;
  for (const auto& s : decode_all(*fb)) seen += s.received() ? '1' : '0';
  EXPECT_EQ(seen, pattern);
  const auto arrivals = arrivals_of(*fb);
  Bytes out(capture.size());
  const auto w = write_transport_feedback(out, fb->sender_ssrc(), fb->media_ssrc(),
                                          fb->feedback_count(), arrivals);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(out, capture);
}

TEST(ChromiumCapture, TransportFeedbackWithLossesRebuildsByteForByte) {
  expect_twcc_rebuilds_identically(kChromiumTwccLossyPadded, 16, "1100011111111111");
  Bytes b = kChromiumTwccLossyPadded;
  const auto fb = TransportFeedback::parse(only_packet(b));
  EXPECT_EQ(fb->base_sequence_number(), 766);
  EXPECT_EQ(fb->reference_time(), 0x00fcfeu);
  EXPECT_EQ(fb->feedback_count(), 0x80);
  EXPECT_EQ(fb->received_count(), 13u);
  EXPECT_EQ(decode_all(*fb)[0].delta, 0xa1);
}

TEST(ChromiumCapture, TransportFeedbackVectorRebuildsByteForByte) {
  expect_twcc_rebuilds_identically(kChromiumTwccVector, 14, "10110101011111");
}

// -----------------------------------------------------------------------------------------
// SSRC rewriting across a compound, as the SFU does when it forwards feedback upstream.

TEST(RtcpRewrite, MapsEverySsrcInPlace) {
  Bytes rr = {0x81, 0xC9, 0x00, 0x07, 0, 0, 0, 0x50,  //
              0,    0,    0,    0x0A, 0, 0, 0, 0,    0, 0, 0, 0,
              0,    0,    0,    0,    0, 0, 0, 0,    0, 0, 0, 0};
  Bytes b = concat({rr, nack_fixture(), pli_fixture(), fir_fixture(), remb_fixture()});
  const auto map = [](std::uint32_t ssrc) { return ssrc + 0x10000000; };
  {
    const auto compound = RtcpCompound::parse(b);
    ASSERT_TRUE(compound);
    for (const auto& packet : *compound) {
      if (auto r = ReceiverReport::parse(packet)) {
        auto blocks = r->report_blocks();
        for (std::size_t i = 0; i < blocks.size(); ++i) blocks.set_ssrc(i, map(blocks[i].ssrc));
      } else if (auto fir = Fir::parse(packet)) {
        for (std::size_t i = 0; i < fir->entry_count(); ++i) {
          fir->set_entry_ssrc(i, map(fir->entry(i).ssrc));
        }
      } else if (auto remb = Remb::parse(packet)) {
        for (std::size_t i = 0; i < remb->ssrc_count(); ++i) remb->set_ssrc(i, map(remb->ssrc(i)));
      } else if (auto fb = Feedback::parse(packet)) {
        fb->set_media_ssrc(map(fb->media_ssrc()));
      }
    }
  }
  const auto compound = RtcpCompound::parse(b);
  ASSERT_TRUE(compound);
  auto it = compound->begin();
  EXPECT_EQ(ReceiverReport::parse(*it)->report_blocks()[0].ssrc, 0x1000000Au);
  EXPECT_EQ(ReceiverReport::parse(*it)->sender_ssrc(), 0x50u);  // untouched
  EXPECT_EQ(Nack::parse(*++it)->media_ssrc(), 0x10000002u);
  EXPECT_EQ(Nack::parse(*it)->item(0), (NackItem{0xFFF0, 0x8001}));  // FCI untouched
  EXPECT_EQ(Pli::parse(*++it)->media_ssrc(), 0x10000002u);
  EXPECT_EQ(Fir::parse(*++it)->entry(0).ssrc, 0x10000009u);
  EXPECT_EQ(Remb::parse(*++it)->ssrc(0), 0xDEADBEEFu + 0x10000000u);
  EXPECT_EQ(Remb::parse(*it)->bitrate_bps(), 1'000'000u);
}

TEST(RtcpBuilders, NeverWritePastTheSpan) {
  const std::array<ReportBlock, 2> blocks{};
  const std::array<SdesChunk, 2> chunks{{{1, "abc"}, {2, std::nullopt}}};
  const std::array<std::uint32_t, 2> ssrcs{1, 2};
  const std::array<FirEntry, 2> entries{};
  const std::array<std::uint16_t, 3> lost{1, 2, 40};
  const auto check = [](auto write, std::size_t needed) {
    Bytes exact(needed);
    EXPECT_TRUE(write(std::span<std::uint8_t>(exact)).ok());
    for (std::size_t n = 0; n < needed; ++n) {
      Bytes small(n);  // exact size: ASan reports any write past it
      EXPECT_EQ(write(std::span<std::uint8_t>(small)).error, WriteError::kBufferTooSmall) << n;
    }
  };
  check([&](std::span<std::uint8_t> o) { return write_sender_report(o, {}, blocks); }, 76);
  check([&](std::span<std::uint8_t> o) { return write_receiver_report(o, 1, blocks); }, 56);
  check([&](std::span<std::uint8_t> o) { return write_sdes(o, chunks); }, 4 + 12 + 8);
  check([&](std::span<std::uint8_t> o) { return write_bye(o, ssrcs, "x"); }, 16);
  check([&](std::span<std::uint8_t> o) { return write_nack(o, 1, 2, lost); }, 20);
  check([&](std::span<std::uint8_t> o) { return write_pli(o, 1, 2); }, 12);
  check([&](std::span<std::uint8_t> o) { return write_fir(o, 1, entries); }, 28);
  check([&](std::span<std::uint8_t> o) { return write_remb(o, 1, 5, ssrcs); }, 28);
}

}  // namespace
}  // namespace conclave::rtc
