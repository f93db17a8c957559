// Fuzzes the RTCP views and builders (rtc/rtcp): any bytes give a validated compound or a
// typed error; the packets of a compound tile it exactly; every typed view that accepts a
// packet can be read in full; and wherever a builder exists, what was read is rebuilt,
// parsed again and compared (SR, RR, SDES CNAMEs, BYE, NACK sequence numbers, PLI, FIR,
// REMB bitrate and SSRCs, transport-wide CC statuses and arrival times). Builders write
// canonical forms, so the comparison is of meaning, not bytes. Any violation aborts.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtc/rtcp.hpp"

namespace {

using namespace conclave::rtc;

void check(bool ok) {
  if (!ok) std::abort();
}

// Rebuilt packets go here; a feedback of 65535 statuses with 2-byte deltas needs ~150 KB.
std::array<std::uint8_t, 1 << 18> g_out;
std::array<TwccStatus, 65536> g_statuses;
std::array<TwccArrival, 65536> g_arrivals;
std::array<TwccStatus, 65536> g_statuses_again;

RtcpPacket reparse(const WriteResult& written) {
  check(written.ok() && written.size % 4 == 0);
  auto packet = RtcpPacket::parse(std::span<std::uint8_t>(g_out.data(), written.size));
  check(packet.has_value());
  return *packet;
}

void reports(std::span<const ReportBlock> a, ReportBlockList b) {
  check(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) check(a[i] == b[i]);
}

void sender_report(const SenderReport& sr) {
  std::array<ReportBlock, kMaxRtcpCount> blocks;
  const auto list = sr.report_blocks();
  for (std::size_t i = 0; i < list.size(); ++i) blocks[i] = list[i];
  const std::span<const ReportBlock> read(blocks.data(), list.size());
  const auto again =
      SenderReport::parse(reparse(write_sender_report(g_out, sr.sender_info(), read)));
  check(again && again->sender_info() == sr.sender_info());
  reports(read, again->report_blocks());
}

void receiver_report(const ReceiverReport& rr) {
  std::array<ReportBlock, kMaxRtcpCount> blocks;
  const auto list = rr.report_blocks();
  for (std::size_t i = 0; i < list.size(); ++i) blocks[i] = list[i];
  const std::span<const ReportBlock> read(blocks.data(), list.size());
  const auto again =
      ReceiverReport::parse(reparse(write_receiver_report(g_out, rr.sender_ssrc(), read)));
  check(again && again->sender_ssrc() == rr.sender_ssrc());
  reports(read, again->report_blocks());
}

void sdes(const Sdes& s) {
  std::vector<SdesChunk> chunks;
  for (const auto& c : s) chunks.push_back(c);
  check(chunks.size() == s.chunk_count());
  const auto again = Sdes::parse(reparse(write_sdes(g_out, chunks)));
  check(again.has_value());
  std::size_t i = 0;
  for (const auto& c : *again) {
    check(i < chunks.size() && c.ssrc == chunks[i].ssrc && c.cname == chunks[i].cname);
    ++i;
  }
  check(i == chunks.size());
}

void bye(const Bye& b) {
  std::vector<std::uint32_t> ssrcs;
  for (std::size_t i = 0; i < b.ssrc_count(); ++i) ssrcs.push_back(b.ssrc(i));
  const auto again = Bye::parse(reparse(write_bye(g_out, ssrcs, b.reason())));
  check(again && again->ssrc_count() == ssrcs.size() && again->reason() == b.reason());
  for (std::size_t i = 0; i < ssrcs.size(); ++i) check(again->ssrc(i) == ssrcs[i]);
}

void nack(const Nack& n) {
  std::vector<std::uint16_t> lost;
  n.for_each_lost([&](std::uint16_t s) { lost.push_back(s); });
  std::vector<std::uint16_t> copied(lost.size());
  check(n.lost_sequence_numbers(copied) == lost.size() && copied == lost);
  const auto again = Nack::parse(reparse(write_nack(g_out, n.sender_ssrc(), n.media_ssrc(), lost)));
  check(again && again->media_ssrc() == n.media_ssrc() && again->sender_ssrc() == n.sender_ssrc());
  std::vector<std::uint16_t> lost_again;
  again->for_each_lost([&](std::uint16_t s) { lost_again.push_back(s); });
  // The same set: duplicates collapse and packing may reorder within an item.
  std::sort(lost.begin(), lost.end());
  lost.erase(std::unique(lost.begin(), lost.end()), lost.end());
  std::sort(lost_again.begin(), lost_again.end());
  lost_again.erase(std::unique(lost_again.begin(), lost_again.end()), lost_again.end());
  check(lost == lost_again);
}

void fir(const Fir& f) {
  std::vector<FirEntry> entries;
  for (std::size_t i = 0; i < f.entry_count(); ++i) entries.push_back(f.entry(i));
  const auto again = Fir::parse(reparse(write_fir(g_out, f.sender_ssrc(), entries)));
  check(again && again->entry_count() == entries.size() && again->media_ssrc() == 0);
  for (std::size_t i = 0; i < entries.size(); ++i) check(again->entry(i) == entries[i]);
}

void remb(const Remb& r) {
  std::vector<std::uint32_t> ssrcs;
  for (std::size_t i = 0; i < r.ssrc_count(); ++i) ssrcs.push_back(r.ssrc(i));
  const std::uint64_t bps = r.bitrate_bps();
  const auto again = Remb::parse(reparse(write_remb(g_out, r.sender_ssrc(), bps, ssrcs)));
  check(again && again->ssrc_count() == ssrcs.size());
  for (std::size_t i = 0; i < ssrcs.size(); ++i) check(again->ssrc(i) == ssrcs[i]);
  // Any mantissa << exponent that fits 64 bits has an exact canonical encoding.
  if (bps != ~std::uint64_t{0}) check(again->bitrate_bps() == bps);
}

void transport_feedback(const TransportFeedback& fb) {
  const std::size_t count = fb.decode(g_statuses);
  check(count == fb.status_count());
  std::size_t received = 0;
  std::int64_t t = std::int64_t{fb.reference_time()} * kTwccReferenceTickUs;
  for (std::size_t i = 0; i < count; ++i) {
    const TwccStatus& s = g_statuses[i];
    check(s.sequence_number == static_cast<std::uint16_t>(fb.base_sequence_number() + i));
    if (!s.received()) {
      check(s.delta == 0);
      continue;
    }
    if (s.symbol == TwccSymbol::kSmallDelta) check(s.delta >= 0 && s.delta <= 255);
    t += s.delta * kTwccDeltaTickUs;
    g_arrivals[received++] = {s.sequence_number, t};
  }
  check(received == fb.received_count());
  if (received == 0) return;  // the builder reports received packets only

  // Only the first delta changes (it is taken from a new reference); the others are
  // multiples of 250 µs already and within 16 bits. So the build fails only where the
  // builder needs each step between received packets to be under half the sequence space.
  const std::span<const TwccArrival> arrivals(g_arrivals.data(), received);
  bool long_gap = false;
  for (std::size_t i = 1; i < received && !long_gap; ++i) {
    long_gap = seq_diff(arrivals[i].sequence_number, arrivals[i - 1].sequence_number) <= 0;
  }
  const auto written = write_transport_feedback(g_out, fb.sender_ssrc(), fb.media_ssrc(),
                                                fb.feedback_count(), arrivals);
  if (long_gap) {
    check(written.error == WriteError::kInvalidArgument);
    return;
  }
  const auto again = TransportFeedback::parse(reparse(written));
  check(again && again->received_count() == received &&
        again->base_sequence_number() == arrivals.front().sequence_number &&
        again->feedback_count() == fb.feedback_count());
  const std::size_t count_again = again->decode(g_statuses_again);
  check(count_again == again->status_count());
  std::size_t next = 0;
  std::int64_t t_again = std::int64_t{again->reference_time()} * kTwccReferenceTickUs;
  std::int64_t first_again = 0;
  for (std::size_t i = 0; i < count_again; ++i) {
    const TwccStatus& s = g_statuses_again[i];
    if (!s.received()) continue;
    t_again += s.delta * kTwccDeltaTickUs;
    if (next == 0) first_again = t_again;
    check(next < received && s.sequence_number == arrivals[next].sequence_number);
    // Relative to the first packet: the 24-bit reference may have wrapped differently.
    check(t_again - first_again == arrivals[next].arrival_time_us - arrivals[0].arrival_time_us);
    ++next;
  }
  check(next == received);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> buffer(data, data + size);  // exact size, for ASan
  RtcpError single_error = RtcpError::kNone;
  const auto single = RtcpPacket::parse(buffer, single_error);
  check(single.has_value() == (single_error == RtcpError::kNone));

  RtcpError error = RtcpError::kNone;
  const auto compound = RtcpCompound::parse(buffer, error);
  if (!compound) {
    check(error != RtcpError::kNone && !single);
    return 0;
  }
  check(error == RtcpError::kNone);
  check(single.has_value() == (compound->packet_count() == 1));

  std::size_t covered = 0;
  std::size_t packets = 0;
  for (const auto& packet : *compound) {
    const auto bytes = packet.bytes();
    check(bytes.data() == buffer.data() + covered && bytes.size() >= kRtcpHeaderSize &&
          bytes.size() % 4 == 0);
    check(packet.body().data() == bytes.data() + kRtcpHeaderSize &&
          packet.body().size() <= bytes.size() - kRtcpHeaderSize);
    covered += bytes.size();
    ++packets;

    if (const auto sr = SenderReport::parse(packet)) sender_report(*sr);
    if (const auto rr = ReceiverReport::parse(packet)) receiver_report(*rr);
    if (const auto s = Sdes::parse(packet)) sdes(*s);
    if (const auto b = Bye::parse(packet)) bye(*b);
    if (const auto n = Nack::parse(packet)) nack(*n);
    if (const auto p = Pli::parse(packet)) {
      const auto again = Pli::parse(reparse(write_pli(g_out, p->sender_ssrc(), p->media_ssrc())));
      check(again && again->sender_ssrc() == p->sender_ssrc() &&
            again->media_ssrc() == p->media_ssrc());
    }
    if (const auto f = Fir::parse(packet)) fir(*f);
    if (const auto r = Remb::parse(packet)) remb(*r);
    if (const auto t = TransportFeedback::parse(packet)) transport_feedback(*t);
    // In-place rewrite of the media source SSRC leaves the packet valid.
    if (auto fb = Feedback::parse(packet)) {
      fb->set_media_ssrc(~fb->media_ssrc());
      check(Feedback::parse(packet).has_value());
      fb->set_media_ssrc(~fb->media_ssrc());
    }
  }
  check(covered == size && packets == compound->packet_count());
  return 0;
}
