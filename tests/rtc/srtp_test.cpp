// Unit tests of rtc/srtp: SrtpSession over libsrtp, both DTLS-SRTP profiles.
#include "rtc/srtp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <vector>

namespace conclave::rtc {
namespace {

constexpr std::size_t kBufferSize = 1500;

// A master key || salt of the profile's length, filled from `seed`.
std::vector<std::uint8_t> master_key(SrtpProfile profile, std::uint8_t seed) {
  std::vector<std::uint8_t> key(srtp_master_key_length(profile) + srtp_master_salt_length(profile));
  std::iota(key.begin(), key.end(), seed);
  return key;
}

// An RTP packet (RFC 3550 §5.1): V=2, PT 111, `seq`, timestamp, `ssrc`, `payload_size`
// bytes of payload, in a buffer with room to protect it.
struct Packet {
  std::array<std::uint8_t, kBufferSize> buffer{};
  std::size_t len = 0;

  std::span<std::uint8_t> span() { return buffer; }
  std::vector<std::uint8_t> bytes() const {
    return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(len)};
  }
};

Packet rtp_packet(std::uint16_t seq, std::uint32_t ssrc = 0x11223344,
                  std::size_t payload_size = 100) {
  Packet p;
  p.buffer[0] = 0x80;
  p.buffer[1] = 111;
  p.buffer[2] = static_cast<std::uint8_t>(seq >> 8);
  p.buffer[3] = static_cast<std::uint8_t>(seq);
  const std::uint32_t timestamp = 960u * seq;
  for (int i = 0; i < 4; ++i) {
    p.buffer[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    p.buffer[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  }
  for (std::size_t i = 0; i < payload_size; ++i) {
    p.buffer[12 + i] = static_cast<std::uint8_t>(i * 7 + seq);
  }
  p.len = 12 + payload_size;
  return p;
}

// A sender report (RFC 3550 §6.4.1) with no report blocks: 28 bytes.
Packet rtcp_sender_report(std::uint32_t ssrc = 0x11223344) {
  Packet p;
  p.buffer[0] = 0x80;
  p.buffer[1] = 200;
  p.buffer[2] = 0;
  p.buffer[3] = 6;  // length in words minus one
  for (int i = 0; i < 4; ++i) p.buffer[4 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (std::size_t i = 8; i < 28; ++i) p.buffer[i] = static_cast<std::uint8_t>(i);
  p.len = 28;
  return p;
}

std::size_t tag_size(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes128Gcm ? 16 : 10;
}

struct SessionPair {
  SrtpSession sender;
  SrtpSession receiver;
};

SessionPair make_pair(SrtpProfile profile, std::uint8_t seed = 1) {
  const auto key = master_key(profile, seed);
  auto sender = SrtpSession::create(SrtpDirection::kOutbound, profile, key);
  auto receiver = SrtpSession::create(SrtpDirection::kInbound, profile, key);
  EXPECT_TRUE(sender.has_value());
  EXPECT_TRUE(receiver.has_value());
  return {std::move(*sender), std::move(*receiver)};
}

class SrtpProfileTest : public ::testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpProfileTest,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm,
                                           SrtpProfile::kAes128CmHmacSha1_80),
                         [](const ::testing::TestParamInfo<SrtpProfile>& param_info) {
                           return param_info.param == SrtpProfile::kAeadAes128Gcm ? "Gcm"
                                                                                  : "CmSha1_80";
                         });

TEST_P(SrtpProfileTest, RtpRoundTrip) {
  auto [sender, receiver] = make_pair(GetParam());
  for (std::uint16_t seq = 1000; seq < 1010; ++seq) {
    Packet p = rtp_packet(seq);
    const auto plain = p.bytes();
    ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
    EXPECT_EQ(p.len, plain.size() + tag_size(GetParam()));
    // The header stays in the clear (RFC 3711 §3.1); the payload does not.
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, p.buffer.begin()));
    EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), p.buffer.begin() + 12));

    ASSERT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kOk);
    EXPECT_EQ(p.bytes(), plain);
  }
}

TEST_P(SrtpProfileTest, RtcpRoundTrip) {
  auto [sender, receiver] = make_pair(GetParam());
  for (int i = 0; i < 3; ++i) {
    Packet p = rtcp_sender_report();
    const auto plain = p.bytes();
    ASSERT_EQ(sender.protect_rtcp(p.span(), p.len), SrtpStatus::kOk);
    // E flag + 31-bit SRTCP index, then the tag (RFC 3711 §3.4, RFC 7714 §9).
    EXPECT_EQ(p.len, plain.size() + 4 + tag_size(GetParam()));
    ASSERT_EQ(receiver.unprotect_rtcp(p.span(), p.len), SrtpStatus::kOk);
    EXPECT_EQ(p.bytes(), plain);
  }
}

TEST_P(SrtpProfileTest, TamperedPayloadFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(7);
  ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  p.buffer[40] ^= 0x01;
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kAuthFail);
}

TEST_P(SrtpProfileTest, TamperedHeaderFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(7);
  ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  p.buffer[1] ^= 0x80;  // marker bit: authenticated, not encrypted
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kAuthFail);
}

TEST_P(SrtpProfileTest, TamperedTagFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(7);
  ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  p.buffer[p.len - 1] ^= 0x80;
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kAuthFail);
}

TEST_P(SrtpProfileTest, TamperedRtcpFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtcp_sender_report();
  ASSERT_EQ(sender.protect_rtcp(p.span(), p.len), SrtpStatus::kOk);
  p.buffer[12] ^= 0x10;
  EXPECT_EQ(receiver.unprotect_rtcp(p.span(), p.len), SrtpStatus::kAuthFail);
}

TEST_P(SrtpProfileTest, WrongKeyFailsAuthentication) {
  const auto key_a = master_key(GetParam(), 1);
  const auto key_b = master_key(GetParam(), 2);
  auto sender = SrtpSession::create(SrtpDirection::kOutbound, GetParam(), key_a);
  auto receiver = SrtpSession::create(SrtpDirection::kInbound, GetParam(), key_b);
  ASSERT_TRUE(sender && receiver);
  Packet p = rtp_packet(1);
  ASSERT_EQ(sender->protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(receiver->unprotect_rtp(p.span(), p.len), SrtpStatus::kAuthFail);
}

TEST_P(SrtpProfileTest, ReplayedPacketIsRejected) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(500);
  ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  Packet copy = p;
  ASSERT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtp(copy.span(), copy.len), SrtpStatus::kReplayFail);
}

TEST_P(SrtpProfileTest, ReplayedRtcpIsRejected) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtcp_sender_report();
  ASSERT_EQ(sender.protect_rtcp(p.span(), p.len), SrtpStatus::kOk);
  Packet copy = p;
  ASSERT_EQ(receiver.unprotect_rtcp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtcp(copy.span(), copy.len), SrtpStatus::kReplayFail);
}

TEST_P(SrtpProfileTest, ReorderedPacketsInsideTheWindowAreAccepted) {
  auto [sender, receiver] = make_pair(GetParam());
  std::vector<Packet> sent;
  for (std::uint16_t seq = 0; seq < 2000; ++seq) {
    sent.push_back(rtp_packet(seq, 0x11223344, 20));
    ASSERT_EQ(sender.protect_rtp(sent.back().span(), sent.back().len), SrtpStatus::kOk);
  }
  // The newest first, then one 1999 packets older: within kReplayWindow (4096), which
  // libsrtp's default of 128 would have refused.
  ASSERT_EQ(receiver.unprotect_rtp(sent[1999].span(), sent[1999].len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtp(sent[0].span(), sent[0].len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtp(sent[1000].span(), sent[1000].len), SrtpStatus::kOk);
}

TEST_P(SrtpProfileTest, PacketOlderThanTheWindowIsRejected) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet old = rtp_packet(10, 0x11223344, 20);
  ASSERT_EQ(sender.protect_rtp(old.span(), old.len), SrtpStatus::kOk);
  // Step the sender far ahead in increments libsrtp accepts (< 2^15 apart).
  Packet newest =
      rtp_packet(static_cast<std::uint16_t>(10 + SrtpSession::kReplayWindow + 100), 0x11223344, 20);
  ASSERT_EQ(sender.protect_rtp(newest.span(), newest.len), SrtpStatus::kOk);
  ASSERT_EQ(receiver.unprotect_rtp(newest.span(), newest.len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtp(old.span(), old.len), SrtpStatus::kReplayOld);
}

TEST_P(SrtpProfileTest, SenderMayRepeatAPacket) {
  // allow_repeat_tx: a NACKed packet resent under its own SSRC and sequence number.
  auto [sender, receiver] = make_pair(GetParam());
  Packet first = rtp_packet(42);
  Packet again = first;
  ASSERT_EQ(sender.protect_rtp(first.span(), first.len), SrtpStatus::kOk);
  ASSERT_EQ(sender.protect_rtp(again.span(), again.len), SrtpStatus::kOk);
  EXPECT_EQ(first.bytes(), again.bytes());  // identical bytes: no keystream/nonce misuse
  EXPECT_EQ(receiver.unprotect_rtp(first.span(), first.len), SrtpStatus::kOk);
}

TEST_P(SrtpProfileTest, AnySsrcInbound) {
  // One inbound session serves every SSRC the peer sends (audio, video layers, RTX).
  auto [sender, receiver] = make_pair(GetParam());
  for (std::uint32_t ssrc : {0x1u, 0xdeadbeefu, 0x12345678u}) {
    Packet p = rtp_packet(9, ssrc);
    const auto plain = p.bytes();
    ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
    ASSERT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kOk) << ssrc;
    EXPECT_EQ(p.bytes(), plain);
  }
}

TEST_P(SrtpProfileTest, HeaderExtensionAndCsrcsStayInTheClear) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p;
  const std::vector<std::uint8_t> header = {
      0x91, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x11, 0x22, 0x33, 0x44,  // X, CC=1
      0xaa, 0xbb, 0xcc, 0xdd,                                                  // CSRC
      0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00};  // RFC 8285 one-byte, 1 word
  std::copy(header.begin(), header.end(), p.buffer.begin());
  for (std::size_t i = 0; i < 50; ++i) p.buffer[header.size() + i] = static_cast<std::uint8_t>(i);
  p.len = header.size() + 50;
  const auto plain = p.bytes();
  ASSERT_EQ(sender.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), p.buffer.begin()));
  ASSERT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(p.bytes(), plain);
}

TEST_P(SrtpProfileTest, BufferWithoutHeadroomIsRefused) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(1, 0x11223344, 100);
  // One byte short of the documented headroom: refused before libsrtp writes anything.
  std::span<std::uint8_t> tight(p.buffer.data(), p.len + kSrtpProtectHeadroom - 1);
  const std::size_t before = p.len;
  EXPECT_EQ(sender.protect_rtp(tight, p.len), SrtpStatus::kBufferTooSmall);
  EXPECT_EQ(p.len, before);
  Packet r = rtcp_sender_report();
  std::span<std::uint8_t> tight_rtcp(r.buffer.data(), r.len + kSrtpProtectHeadroom - 1);
  EXPECT_EQ(sender.protect_rtcp(tight_rtcp, r.len), SrtpStatus::kBufferTooSmall);

  // Exactly the headroom is enough.
  std::span<std::uint8_t> exact(p.buffer.data(), p.len + kSrtpProtectHeadroom);
  EXPECT_EQ(sender.protect_rtp(exact, p.len), SrtpStatus::kOk);
}

TEST_P(SrtpProfileTest, MalformedInputIsRefused) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(1);
  std::size_t len = p.buffer.size() + 1;  // longer than the buffer
  EXPECT_EQ(sender.protect_rtp(p.span(), len), SrtpStatus::kBadParam);
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), len), SrtpStatus::kBadParam);
  len = 11;  // shorter than an RTP header
  EXPECT_EQ(sender.protect_rtp(p.span(), len), SrtpStatus::kBadParam);
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), len), SrtpStatus::kBadParam);
  len = 7;  // shorter than an RTCP header
  EXPECT_EQ(sender.protect_rtcp(p.span(), len), SrtpStatus::kBadParam);
  EXPECT_EQ(receiver.unprotect_rtcp(p.span(), len), SrtpStatus::kBadParam);

  // CSRC count or extension length that runs past the packet.
  Packet csrc = rtp_packet(2, 0x11223344, 8);
  csrc.buffer[0] = 0x8f;  // CC=15: 60 bytes of CSRCs in a 20-byte packet
  EXPECT_EQ(sender.protect_rtp(csrc.span(), csrc.len), SrtpStatus::kBadParam);
  EXPECT_EQ(receiver.unprotect_rtp(csrc.span(), csrc.len), SrtpStatus::kBadParam);
  Packet ext = rtp_packet(3, 0x11223344, 8);
  ext.buffer[0] = 0x90;
  ext.buffer[14] = 0xff;  // extension length 0xff.. words
  EXPECT_EQ(receiver.unprotect_rtp(ext.span(), ext.len), SrtpStatus::kBadParam);

  // Garbage of a plausible length: not authentic.
  Packet garbage = rtp_packet(4);
  std::fill(garbage.buffer.begin() + 12, garbage.buffer.begin() + 112, 0x5a);
  EXPECT_EQ(receiver.unprotect_rtp(garbage.span(), garbage.len), SrtpStatus::kAuthFail);

  // A packet too short to hold the tag.
  Packet short_packet = rtp_packet(5, 0x11223344, 2);
  EXPECT_NE(receiver.unprotect_rtp(short_packet.span(), short_packet.len), SrtpStatus::kOk);
}

TEST_P(SrtpProfileTest, EachSessionWorksInOneDirectionOnly) {
  auto [sender, receiver] = make_pair(GetParam());
  Packet p = rtp_packet(1);
  EXPECT_EQ(receiver.protect_rtp(p.span(), p.len), SrtpStatus::kBadParam);
  EXPECT_EQ(receiver.protect_rtcp(p.span(), p.len), SrtpStatus::kBadParam);
  EXPECT_EQ(sender.unprotect_rtp(p.span(), p.len), SrtpStatus::kBadParam);
  EXPECT_EQ(sender.unprotect_rtcp(p.span(), p.len), SrtpStatus::kBadParam);
}

TEST_P(SrtpProfileTest, MovedFromSessionIsInert) {
  auto [sender, receiver] = make_pair(GetParam());
  SrtpSession moved = std::move(sender);
  Packet p = rtp_packet(1);
  EXPECT_EQ(sender.protect_rtp(p.span(), p.len),
            SrtpStatus::kBadParam);  // NOLINT: use after move is the test
  EXPECT_EQ(moved.protect_rtp(p.span(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(receiver.unprotect_rtp(p.span(), p.len), SrtpStatus::kOk);
}

TEST(SrtpSession, RefusesKeysOfTheWrongLength) {
  const std::vector<std::uint8_t> thirty(30, 1);
  const std::vector<std::uint8_t> twenty_eight(28, 1);
  EXPECT_FALSE(SrtpSession::create(SrtpDirection::kInbound, SrtpProfile::kAeadAes128Gcm, thirty));
  EXPECT_FALSE(SrtpSession::create(SrtpDirection::kInbound, SrtpProfile::kAes128CmHmacSha1_80,
                                   twenty_eight));
  EXPECT_TRUE(
      SrtpSession::create(SrtpDirection::kInbound, SrtpProfile::kAeadAes128Gcm, twenty_eight));
  EXPECT_FALSE(SrtpSession::create(SrtpDirection::kOutbound, SrtpProfile::kAeadAes128Gcm, {}));
}

TEST(SrtpMasterKey, HoldsKeyThenSalt) {
  const std::array<std::uint8_t, 16> key{1, 2, 3};
  const std::array<std::uint8_t, 12> salt{9, 8, 7};
  const SrtpMasterKey master(key, salt);
  ASSERT_EQ(master.bytes().size(), 28u);
  EXPECT_EQ(master.bytes()[0], 1);
  EXPECT_EQ(master.bytes()[16], 9);
  EXPECT_EQ(master, SrtpMasterKey(key, salt));
  EXPECT_FALSE(master == SrtpMasterKey(salt, key));
  EXPECT_TRUE(SrtpMasterKey().empty());
  const std::array<std::uint8_t, 20> too_long{};
  EXPECT_TRUE(SrtpMasterKey(too_long, too_long).empty());
}

TEST(SrtpNames, AreStable) {
  EXPECT_EQ(to_string(SrtpStatus::kAuthFail), "auth_fail");
  EXPECT_EQ(to_string(SrtpStatus::kReplayFail), "replay_fail");
  EXPECT_EQ(to_string(SrtpStatus::kBufferTooSmall), "buffer_too_small");
  EXPECT_EQ(to_string(SrtpProfile::kAeadAes128Gcm), "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(to_string(SrtpProfile::kAes128CmHmacSha1_80), "SRTP_AES128_CM_HMAC_SHA1_80");
  EXPECT_EQ(srtp_master_salt_length(SrtpProfile::kAeadAes128Gcm), 12u);
  EXPECT_EQ(srtp_master_salt_length(SrtpProfile::kAes128CmHmacSha1_80), 14u);
}

}  // namespace
}  // namespace conclave::rtc
