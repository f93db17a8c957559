// What one media packet costs on a worker, per size (transport issue, "Cost"):
//   receive: RtpPacket::parse + mid/transport-cc extension lookup + SRTP unprotect in place
//   send:    SSRC / sequence / timestamp rewrite in place + SRTP protect in place
// for both SRTP profiles a browser may pick. Each iteration handles one packet of the size
// given (RTP header + extensions + payload, before the SRTP tag).
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "rtc/rtp.hpp"
#include "rtc/srtp.hpp"

namespace {

using namespace conclave::rtc;

constexpr std::uint8_t kMidId = 4;
constexpr std::uint8_t kTwccId = 3;

std::vector<std::uint8_t> master_key(SrtpProfile profile) {
  std::vector<std::uint8_t> key(srtp_master_key_length(profile) + srtp_master_salt_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return key;
}

// A VP8-sized RTP packet with mid and transport-cc extensions, as Chromium sends them.
std::size_t make_packet(std::span<std::uint8_t> out, std::size_t total, std::uint16_t seq) {
  static const std::uint8_t mid[] = {'1'};
  const std::uint8_t twcc[] = {static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
  const ExtensionElement ext[] = {{kMidId, mid}, {kTwccId, twcc}};
  std::vector<std::uint8_t> payload(total - 12 - 4 - 8, 0x5a);
  const RtpHeaderFields h{false, 96, seq, 90000u + seq * 3000u, 0x11223344, {}};
  return write_rtp_packet(out, h, ext, payload).size;
}

void BM_ReceivePath(benchmark::State& state, SrtpProfile profile) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto key = master_key(profile);
  auto sender = SrtpSession::create(SrtpDirection::kOutbound, profile, key);
  // Protected packets with consecutive sequence numbers; the inbound session's replay
  // window means each can be unprotected once, so the ring is re-armed with a new session.
  constexpr std::size_t kRing = 2048;
  std::vector<std::array<std::uint8_t, 2048>> ring(kRing);
  std::vector<std::size_t> lens(kRing);
  for (std::size_t i = 0; i < kRing; ++i) {
    lens[i] = make_packet(ring[i], size, static_cast<std::uint16_t>(i));
    (void)sender->protect_rtp(ring[i], lens[i]);
  }
  auto receiver = SrtpSession::create(SrtpDirection::kInbound, profile, key);
  std::array<std::uint8_t, 2048> work{};
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == kRing) {
      state.PauseTiming();
      receiver = SrtpSession::create(SrtpDirection::kInbound, profile, key);
      i = 0;
      state.ResumeTiming();
    }
    std::memcpy(work.data(), ring[i].data(), lens[i]);  // the socket's receive buffer
    std::size_t len = lens[i];
    ++i;
    if (receiver->unprotect_rtp(work, len) != SrtpStatus::kOk) state.SkipWithError("unprotect");
    auto packet = RtpPacket::parse(std::span(work.data(), len));
    if (!packet) state.SkipWithError("parse");
    benchmark::DoNotOptimize(packet->find_extension(kMidId));
    benchmark::DoNotOptimize(packet->find_extension(kTwccId));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_SendPath(benchmark::State& state, SrtpProfile profile) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto sender = SrtpSession::create(SrtpDirection::kOutbound, profile, master_key(profile));
  std::array<std::uint8_t, 2048> plain{};
  const std::size_t plain_len = make_packet(plain, size, 0);
  std::array<std::uint8_t, 2048> work{};
  std::uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(work.data(), plain.data(), plain_len);  // the forwarded packet, decrypted
    auto packet = RtpPacket::parse(std::span(work.data(), plain_len));
    // What the SFU does per subscriber: its own SSRC, a gapless sequence, a continuous clock.
    packet->set_ssrc(0x55667788);
    packet->set_sequence_number(++seq);
    packet->set_timestamp(3000u * seq);
    std::size_t len = plain_len;
    if (sender->protect_rtp(work, len) != SrtpStatus::kOk) state.SkipWithError("protect");
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

}  // namespace

BENCHMARK_CAPTURE(BM_ReceivePath, aead_aes_128_gcm, SrtpProfile::kAeadAes128Gcm)
    ->Arg(100)
    ->Arg(1200);
BENCHMARK_CAPTURE(BM_ReceivePath, aes_cm_128_hmac_sha1_80, SrtpProfile::kAes128CmHmacSha1_80)
    ->Arg(100)
    ->Arg(1200);
BENCHMARK_CAPTURE(BM_SendPath, aead_aes_128_gcm, SrtpProfile::kAeadAes128Gcm)->Arg(100)->Arg(1200);
BENCHMARK_CAPTURE(BM_SendPath, aes_cm_128_hmac_sha1_80, SrtpProfile::kAes128CmHmacSha1_80)
    ->Arg(100)
    ->Arg(1200);

BENCHMARK_MAIN();
