#include "rtc/rtcp.hpp"

#include <algorithm>
#include <cstring>

namespace conclave::rtc {

namespace {

constexpr std::uint8_t kVersion2 = 2;
constexpr std::size_t kFeedbackHeaderSize = kRtcpHeaderSize + 8;  // + sender and media SSRC
constexpr std::size_t kSenderInfoSize = 24;                       // SSRC + 20 bytes of info

// A builder's packet must fit the caller's span and the 16-bit length field, which counts
// 32-bit words minus one (RFC 3550 §6.4.1).
WriteError check_fits(std::span<const std::uint8_t> out, std::size_t total) noexcept {
  if (total / 4 - 1 > 0xFFFF) return WriteError::kInvalidArgument;
  if (total > out.size()) return WriteError::kBufferTooSmall;
  return WriteError::kNone;
}

// total is a multiple of 4, header included.
void write_header(std::uint8_t* p, std::size_t count, RtcpType type, std::size_t total,
                  bool padding = false) noexcept {
  p[0] = static_cast<std::uint8_t>((kVersion2 << 6) | (padding ? 0x20 : 0) | (count & 0x1F));
  p[1] = static_cast<std::uint8_t>(type);
  wire::store_be16(p + 2, static_cast<std::uint16_t>(total / 4 - 1));
}

void write_feedback_header(std::uint8_t* p, std::uint8_t format, RtcpType type, std::size_t total,
                           std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                           bool padding = false) noexcept {
  write_header(p, format, type, total, padding);
  wire::store_be32(p + 4, sender_ssrc);
  wire::store_be32(p + 8, media_ssrc);
}

std::int32_t sign_extend_24(std::uint32_t v) noexcept {
  return (v & 0x800000) != 0 ? static_cast<std::int32_t>(v) - 0x1000000
                             : static_cast<std::int32_t>(v);
}

void write_report_blocks(std::uint8_t* p, std::span<const ReportBlock> blocks) noexcept {
  for (const auto& block : blocks) {
    wire::store_be32(p, block.ssrc);
    p[4] = block.fraction_lost;
    // 24-bit signed two's complement; out-of-range counts are clamped (RFC 3550 §A.3).
    const std::int32_t lost = std::clamp(block.cumulative_lost, -0x800000, 0x7FFFFF);
    wire::store_be24(p + 5, static_cast<std::uint32_t>(lost) & 0xFFFFFF);
    wire::store_be32(p + 8, block.extended_highest_sequence);
    wire::store_be32(p + 12, block.jitter);
    wire::store_be32(p + 16, block.last_sr);
    wire::store_be32(p + 20, block.delay_since_last_sr);
    p += kReportBlockSize;
  }
}

// Walks one SDES chunk starting at offset (32-bit aligned): SSRC, items, a null item and
// null bytes up to the next 32-bit boundary (RFC 3550 §6.5). On success offset is past the
// chunk; out, if given, gets the SSRC and first CNAME.
bool walk_sdes_chunk(std::span<const std::uint8_t> body, std::size_t& offset,
                     SdesChunk* out) noexcept {
  const std::size_t size = body.size();
  if (offset + 4 > size) return false;
  if (out != nullptr) {
    out->ssrc = wire::load_be32(&body[offset]);
    out->cname.reset();
  }
  std::size_t at = offset + 4;
  for (;;) {
    if (at >= size) return false;  // no terminating null item
    const std::uint8_t type = body[at];
    if (type == 0) {
      at = (at + 1 + 3) / 4 * 4;
      if (at > size) return false;
      offset = at;
      return true;
    }
    if (at + 2 > size) return false;
    const std::size_t length = body[at + 1];
    if (at + 2 + length > size) return false;
    if (out != nullptr && type == kSdesCname && !out->cname) {
      out->cname = std::string_view(reinterpret_cast<const char*>(&body[at + 2]), length);
    }
    at += 2 + length;
  }
}

// Transport-wide CC packet status chunks (draft-holmer-...-01 §3.1.2 - §3.1.4).
constexpr std::uint16_t kChunkVector = 0x8000;  // T bit: status vector chunk
constexpr std::uint16_t kChunkTwoBit = 0x4000;  // S bit of a vector: 2-bit symbols
constexpr std::size_t kMaxRunLength = 0x1FFF;   // 13 bits
constexpr std::size_t kOneBitSymbols = 14;
constexpr std::size_t kTwoBitSymbols = 7;

std::size_t chunk_capacity(std::uint16_t chunk) noexcept {
  if ((chunk & kChunkVector) == 0) return chunk & kMaxRunLength;
  return (chunk & kChunkTwoBit) != 0 ? kTwoBitSymbols : kOneBitSymbols;
}

std::uint8_t chunk_symbol(std::uint16_t chunk, std::size_t index) noexcept {
  if ((chunk & kChunkVector) == 0) return (chunk >> 13) & 0x3;
  if ((chunk & kChunkTwoBit) != 0) return (chunk >> (12 - 2 * index)) & 0x3;
  return (chunk >> (13 - index)) & 0x1;
}

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Walks the statuses a feedback will describe, one per sequence number from the first
// received packet to the last, computing each received packet's delta on the way. Cheap
// to copy, which is how the chunk chooser looks ahead without storing the statuses.
class TwccCursor {
 public:
  TwccCursor(std::span<const TwccArrival> received, std::int64_t reference_us,
             std::size_t count) noexcept
      : received_(received),
        seq_(received.front().sequence_number),
        last_us_(reference_us),
        remaining_(count) {
    load();
  }

  bool done() const noexcept { return remaining_ == 0; }
  std::size_t remaining() const noexcept { return remaining_; }
  std::uint8_t symbol() const noexcept { return symbol_; }
  std::int64_t delta() const noexcept { return delta_; }
  bool delta_in_range() const noexcept { return delta_ >= -32768 && delta_ <= 32767; }

  void step() noexcept {
    if (symbol_ != 0) {
      last_us_ += delta_ * kTwccDeltaTickUs;  // the quantised time, so rounding never adds up
      ++next_;
    }
    ++seq_;
    --remaining_;
    load();
  }

 private:
  void load() noexcept {
    symbol_ = 0;
    delta_ = 0;
    if (remaining_ == 0 || next_ >= received_.size() || received_[next_].sequence_number != seq_) {
      return;
    }
    // Round to the nearest tick.
    delta_ = floor_div(received_[next_].arrival_time_us - last_us_ + kTwccDeltaTickUs / 2,
                       kTwccDeltaTickUs);
    symbol_ = (delta_ >= 0 && delta_ <= 0xFF) ? 1 : 2;
  }

  std::span<const TwccArrival> received_;
  std::size_t next_ = 0;
  std::uint16_t seq_;
  std::int64_t last_us_;
  std::size_t remaining_;
  std::uint8_t symbol_ = 0;
  std::int64_t delta_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Packets and compounds

std::optional<RtcpPacket> RtcpPacket::parse_prefix(std::span<std::uint8_t> buffer,
                                                   RtcpError& error) noexcept {
  if (buffer.size() < kRtcpHeaderSize) {
    error = RtcpError::kTruncatedHeader;
    return std::nullopt;
  }
  if ((buffer[0] >> 6) != kVersion2) {
    error = RtcpError::kBadVersion;
    return std::nullopt;
  }
  const std::size_t size = 4 * (std::size_t{wire::load_be16(&buffer[2])} + 1);
  if (size > buffer.size()) {
    error = RtcpError::kLengthPastEnd;
    return std::nullopt;
  }
  std::size_t padding = 0;
  if ((buffer[0] & 0x20) != 0) {
    // The last octet counts the padding, itself included (RFC 3550 §6.4.1).
    padding = buffer[size - 1];
    if (padding == 0 || padding > size - kRtcpHeaderSize) {
      error = RtcpError::kBadPadding;
      return std::nullopt;
    }
  }
  RtcpPacket packet;
  packet.bytes_ = buffer.first(size);
  packet.body_ = buffer.subspan(kRtcpHeaderSize, size - kRtcpHeaderSize - padding);
  error = RtcpError::kNone;
  return packet;
}

std::optional<RtcpPacket> RtcpPacket::parse(std::span<std::uint8_t> buffer,
                                            RtcpError& error) noexcept {
  auto packet = parse_prefix(buffer, error);
  if (packet && packet->bytes_.size() != buffer.size()) {
    error = RtcpError::kTrailingData;
    return std::nullopt;
  }
  return packet;
}

std::optional<RtcpCompound> RtcpCompound::parse(std::span<std::uint8_t> buffer,
                                                RtcpError& error) noexcept {
  if (buffer.empty()) {
    error = RtcpError::kTruncatedHeader;
    return std::nullopt;
  }
  std::size_t count = 0;
  for (std::size_t offset = 0; offset < buffer.size(); ++count) {
    const auto packet = RtcpPacket::parse_prefix(buffer.subspan(offset), error);
    if (!packet) return std::nullopt;
    offset += packet->bytes_.size();
  }
  RtcpCompound compound;
  compound.bytes_ = buffer;
  compound.packet_count_ = count;
  error = RtcpError::kNone;
  return compound;
}

void RtcpCompound::Iterator::advance() noexcept {
  RtcpError error;
  const auto packet = rest_.empty() ? std::nullopt : RtcpPacket::parse_prefix(rest_, error);
  if (!packet) {  // the end (the compound was validated as a whole)
    done_ = true;
    return;
  }
  current_ = *packet;
  rest_ = rest_.subspan(packet->bytes().size());
  done_ = false;
}

// ---------------------------------------------------------------------------------------
// SR / RR

ReportBlock ReportBlockList::operator[](std::size_t index) const noexcept {
  const std::uint8_t* p = &bytes_[index * kReportBlockSize];
  ReportBlock block;
  block.ssrc = wire::load_be32(p);
  block.fraction_lost = p[4];
  block.cumulative_lost = sign_extend_24(wire::load_be24(p + 5));
  block.extended_highest_sequence = wire::load_be32(p + 8);
  block.jitter = wire::load_be32(p + 12);
  block.last_sr = wire::load_be32(p + 16);
  block.delay_since_last_sr = wire::load_be32(p + 20);
  return block;
}

std::optional<SenderReport> SenderReport::parse(const RtcpPacket& packet) noexcept {
  if (packet.type() != RtcpType::kSenderReport) return std::nullopt;
  const std::size_t blocks = packet.count();
  if (packet.body().size() < kSenderInfoSize + blocks * kReportBlockSize) return std::nullopt;
  return SenderReport(packet.body(), blocks);
}

SenderInfo SenderReport::sender_info() const noexcept {
  const std::uint8_t* p = body_.data();
  return {wire::load_be32(p), wire::load_be64(p + 4), wire::load_be32(p + 12),
          wire::load_be32(p + 16), wire::load_be32(p + 20)};
}

std::optional<ReceiverReport> ReceiverReport::parse(const RtcpPacket& packet) noexcept {
  if (packet.type() != RtcpType::kReceiverReport) return std::nullopt;
  const std::size_t blocks = packet.count();
  if (packet.body().size() < 4 + blocks * kReportBlockSize) return std::nullopt;
  return ReceiverReport(packet.body(), blocks);
}

WriteResult write_sender_report(std::span<std::uint8_t> out, const SenderInfo& info,
                                std::span<const ReportBlock> blocks) noexcept {
  if (blocks.size() > kMaxRtcpCount) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t total = kRtcpHeaderSize + kSenderInfoSize + blocks.size() * kReportBlockSize;
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  write_header(p, blocks.size(), RtcpType::kSenderReport, total);
  wire::store_be32(p + 4, info.ssrc);
  wire::store_be64(p + 8, info.ntp_timestamp);
  wire::store_be32(p + 16, info.rtp_timestamp);
  wire::store_be32(p + 20, info.packet_count);
  wire::store_be32(p + 24, info.octet_count);
  write_report_blocks(p + 28, blocks);
  return WriteResult::written(total);
}

WriteResult write_receiver_report(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                  std::span<const ReportBlock> blocks) noexcept {
  if (blocks.size() > kMaxRtcpCount) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t total = kRtcpHeaderSize + 4 + blocks.size() * kReportBlockSize;
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  write_header(p, blocks.size(), RtcpType::kReceiverReport, total);
  wire::store_be32(p + 4, sender_ssrc);
  write_report_blocks(p + 8, blocks);
  return WriteResult::written(total);
}

// ---------------------------------------------------------------------------------------
// SDES

std::optional<Sdes> Sdes::parse(const RtcpPacket& packet) noexcept {
  if (packet.type() != RtcpType::kSdes) return std::nullopt;
  const std::size_t chunks = packet.count();
  std::size_t offset = 0;
  for (std::size_t i = 0; i < chunks; ++i) {
    if (!walk_sdes_chunk(packet.body(), offset, nullptr)) return std::nullopt;
  }
  return Sdes(packet.body(), chunks);
}

void SdesChunkIterator::advance() noexcept {
  if (remaining_ == 0 || !walk_sdes_chunk(body_, offset_, &current_)) {
    done_ = true;
    return;
  }
  --remaining_;
  done_ = false;
}

WriteResult write_sdes(std::span<std::uint8_t> out, std::span<const SdesChunk> chunks) noexcept {
  if (chunks.size() > kMaxRtcpCount) return WriteResult::failed(WriteError::kInvalidArgument);
  std::size_t total = kRtcpHeaderSize;
  for (const auto& chunk : chunks) {
    if (chunk.cname && chunk.cname->size() > 255) {
      return WriteResult::failed(WriteError::kInvalidArgument);
    }
    const std::size_t items = chunk.cname ? 2 + chunk.cname->size() : 0;
    total += (4 + items + 1 + 3) / 4 * 4;  // SSRC, items, null item, pad to 32 bits
  }
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  write_header(p, chunks.size(), RtcpType::kSdes, total);
  std::size_t offset = kRtcpHeaderSize;
  for (const auto& chunk : chunks) {
    wire::store_be32(p + offset, chunk.ssrc);
    offset += 4;
    if (chunk.cname) {
      p[offset] = kSdesCname;
      p[offset + 1] = static_cast<std::uint8_t>(chunk.cname->size());
      if (!chunk.cname->empty())
        std::memcpy(p + offset + 2, chunk.cname->data(), chunk.cname->size());
      offset += 2 + chunk.cname->size();
    }
    const std::size_t end = (offset + 1 + 3) / 4 * 4;
    std::fill(p + offset, p + end, std::uint8_t{0});
    offset = end;
  }
  return WriteResult::written(total);
}

// ---------------------------------------------------------------------------------------
// BYE

std::optional<Bye> Bye::parse(const RtcpPacket& packet) noexcept {
  if (packet.type() != RtcpType::kBye) return std::nullopt;
  const auto body = packet.body();
  const std::size_t ssrcs = packet.count();
  if (body.size() < 4 * ssrcs) return std::nullopt;
  std::string_view reason;
  // Whatever follows the SSRCs is the optional reason: a length octet and text (§6.6).
  if (body.size() > 4 * ssrcs) {
    const std::size_t length = body[4 * ssrcs];
    if (4 * ssrcs + 1 + length > body.size()) return std::nullopt;
    reason = std::string_view(reinterpret_cast<const char*>(&body[4 * ssrcs + 1]), length);
  }
  return Bye(body, ssrcs, reason);
}

WriteResult write_bye(std::span<std::uint8_t> out, std::span<const std::uint32_t> ssrcs,
                      std::string_view reason) noexcept {
  if (ssrcs.size() > kMaxRtcpCount || reason.size() > 255) {
    return WriteResult::failed(WriteError::kInvalidArgument);
  }
  const std::size_t reason_size = reason.empty() ? 0 : (1 + reason.size() + 3) / 4 * 4;
  const std::size_t total = kRtcpHeaderSize + 4 * ssrcs.size() + reason_size;
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  write_header(p, ssrcs.size(), RtcpType::kBye, total);
  std::size_t offset = kRtcpHeaderSize;
  for (const std::uint32_t ssrc : ssrcs) {
    wire::store_be32(p + offset, ssrc);
    offset += 4;
  }
  if (!reason.empty()) {
    p[offset] = static_cast<std::uint8_t>(reason.size());
    std::memcpy(p + offset + 1, reason.data(), reason.size());
    std::fill(p + offset + 1 + reason.size(), p + total, std::uint8_t{0});
  }
  return WriteResult::written(total);
}

// ---------------------------------------------------------------------------------------
// Feedback

std::optional<Feedback> Feedback::parse(const RtcpPacket& packet) noexcept {
  const RtcpType type = packet.type();
  if (type != RtcpType::kRtpFeedback && type != RtcpType::kPayloadFeedback) return std::nullopt;
  if (packet.body().size() < 8) return std::nullopt;
  return Feedback(packet.body(), type, packet.format());
}

std::size_t expand_nack_item(NackItem item,
                             std::span<std::uint16_t, kMaxSequencesPerNackItem> out) noexcept {
  std::size_t n = 0;
  out[n++] = item.pid;
  for (unsigned bit = 0; bit < 16; ++bit) {
    if ((item.blp >> bit) & 1u) out[n++] = static_cast<std::uint16_t>(item.pid + bit + 1);
  }
  return n;
}

std::optional<Nack> Nack::parse(const RtcpPacket& packet) noexcept {
  const auto fb = Feedback::parse(packet);
  if (!fb || fb->type() != RtcpType::kRtpFeedback || fb->format() != kFmtNack) return std::nullopt;
  const std::size_t fci = fb->fci().size();
  if (fci == 0 || fci % 4 != 0) return std::nullopt;  // length is 2 + n (RFC 4585 §6.1)
  return Nack(*fb);
}

std::size_t Nack::lost_sequence_numbers(std::span<std::uint16_t> out) const noexcept {
  std::size_t n = 0;
  for_each_lost([&](std::uint16_t seq) noexcept {
    if (n < out.size()) out[n++] = seq;
  });
  return n;
}

namespace {

// The packing shared by nack_item_count and write_nack; emit(item) per item.
template <class Emit>
std::size_t pack_nack(std::span<const std::uint16_t> lost, Emit&& emit) noexcept {
  std::size_t items = 0;
  std::size_t i = 0;
  while (i < lost.size()) {
    const std::uint16_t pid = lost[i++];
    std::uint16_t blp = 0;
    while (i < lost.size()) {
      const std::int32_t d = seq_diff(lost[i], pid);
      if (d < 0 || d > 16) break;
      if (d > 0) blp = static_cast<std::uint16_t>(blp | (1u << (d - 1)));
      ++i;  // d == 0 is a duplicate of the PID
    }
    emit(NackItem{pid, blp});
    ++items;
  }
  return items;
}

}  // namespace

std::size_t nack_item_count(std::span<const std::uint16_t> lost) noexcept {
  return pack_nack(lost, [](NackItem) noexcept {});
}

WriteResult write_nack(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                       std::uint32_t media_ssrc, std::span<const std::uint16_t> lost) noexcept {
  if (lost.empty()) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t total = kFeedbackHeaderSize + 4 * nack_item_count(lost);
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  write_feedback_header(p, kFmtNack, RtcpType::kRtpFeedback, total, sender_ssrc, media_ssrc);
  std::size_t offset = kFeedbackHeaderSize;
  pack_nack(lost, [&](NackItem item) noexcept {
    wire::store_be16(p + offset, item.pid);
    wire::store_be16(p + offset + 2, item.blp);
    offset += 4;
  });
  return WriteResult::written(total);
}

std::optional<Pli> Pli::parse(const RtcpPacket& packet) noexcept {
  const auto fb = Feedback::parse(packet);
  if (!fb || fb->type() != RtcpType::kPayloadFeedback || fb->format() != kFmtPli) {
    return std::nullopt;
  }
  return Pli(*fb);
}

WriteResult write_pli(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                      std::uint32_t media_ssrc) noexcept {
  if (const auto e = check_fits(out, kFeedbackHeaderSize); e != WriteError::kNone) {
    return WriteResult::failed(e);
  }
  write_feedback_header(out.data(), kFmtPli, RtcpType::kPayloadFeedback, kFeedbackHeaderSize,
                        sender_ssrc, media_ssrc);
  return WriteResult::written(kFeedbackHeaderSize);
}

std::optional<Fir> Fir::parse(const RtcpPacket& packet) noexcept {
  const auto fb = Feedback::parse(packet);
  if (!fb || fb->type() != RtcpType::kPayloadFeedback || fb->format() != kFmtFir) {
    return std::nullopt;
  }
  const std::size_t fci = fb->fci().size();
  if (fci == 0 || fci % 8 != 0) return std::nullopt;
  return Fir(*fb);
}

WriteResult write_fir(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                      std::span<const FirEntry> entries) noexcept {
  if (entries.empty()) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t total = kFeedbackHeaderSize + 8 * entries.size();
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  // The media source field is unused and SHALL be 0 (RFC 5104 §4.3.1.2).
  write_feedback_header(p, kFmtFir, RtcpType::kPayloadFeedback, total, sender_ssrc, 0);
  std::size_t offset = kFeedbackHeaderSize;
  for (const auto& entry : entries) {
    wire::store_be32(p + offset, entry.ssrc);
    p[offset + 4] = entry.sequence_number;
    p[offset + 5] = p[offset + 6] = p[offset + 7] = 0;
    offset += 8;
  }
  return WriteResult::written(total);
}

std::optional<Remb> Remb::parse(const RtcpPacket& packet) noexcept {
  const auto fb = Feedback::parse(packet);
  if (!fb || fb->type() != RtcpType::kPayloadFeedback || fb->format() != kFmtAfb) {
    return std::nullopt;
  }
  const auto fci = fb->fci();
  if (fci.size() < 8 || std::memcmp(fci.data(), "REMB", 4) != 0) return std::nullopt;
  // Other application layer feedback shares FMT 15; the SSRC count must match exactly.
  if (fci.size() != 8 + 4 * std::size_t{fci[4]}) return std::nullopt;
  return Remb(*fb);
}

std::uint64_t Remb::bitrate_bps() const noexcept {
  const auto fci = this->fci();
  const std::uint8_t exponent = fci[5] >> 2;
  const std::uint32_t mantissa = (std::uint32_t{fci[5] & 0x03u} << 16) | wire::load_be16(&fci[6]);
  return decode_remb_bitrate(exponent, mantissa);
}

WriteResult write_remb(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                       std::uint64_t bitrate_bps, std::span<const std::uint32_t> ssrcs) noexcept {
  if (ssrcs.size() > kMaxRembSsrcs) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t total = kFeedbackHeaderSize + 8 + 4 * ssrcs.size();
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);
  std::uint8_t* p = out.data();
  // The media source is unused and 0 (draft-alvestrand-rmcat-remb-03 §2.2).
  write_feedback_header(p, kFmtAfb, RtcpType::kPayloadFeedback, total, sender_ssrc, 0);
  std::memcpy(p + 12, "REMB", 4);
  const RembBitrate bitrate = encode_remb_bitrate(bitrate_bps);
  p[16] = static_cast<std::uint8_t>(ssrcs.size());
  p[17] = static_cast<std::uint8_t>((bitrate.exponent << 2) | (bitrate.mantissa >> 16));
  wire::store_be16(p + 18, static_cast<std::uint16_t>(bitrate.mantissa));
  std::size_t offset = 20;
  for (const std::uint32_t ssrc : ssrcs) {
    wire::store_be32(p + offset, ssrc);
    offset += 4;
  }
  return WriteResult::written(total);
}

// ---------------------------------------------------------------------------------------
// Transport-wide CC feedback

std::optional<TransportFeedback> TransportFeedback::parse(const RtcpPacket& packet) noexcept {
  const auto fb = Feedback::parse(packet);
  if (!fb || fb->type() != RtcpType::kRtpFeedback || fb->format() != kFmtTransportCc) {
    return std::nullopt;
  }
  const auto body = packet.body();
  const std::size_t size = body.size();
  if (size < 16 + 2) return std::nullopt;  // SSRCs, base/count, reference/count, one chunk
  const std::size_t count = wire::load_be16(&body[10]);
  if (count == 0) return std::nullopt;  // libwebrtc refuses empty feedback too
  std::size_t offset = 16;
  std::size_t covered = 0;
  std::size_t delta_bytes = 0;
  std::size_t received = 0;
  while (covered < count) {
    if (offset + 2 > size) return std::nullopt;
    const std::uint16_t chunk = wire::load_be16(&body[offset]);
    offset += 2;
    // Symbols past the status count (the tail of the last vector) are ignored.
    const std::size_t n = std::min(chunk_capacity(chunk), count - covered);
    if ((chunk & kChunkVector) == 0) {
      const std::uint8_t symbol = chunk_symbol(chunk, 0);
      if (symbol == 3 && n > 0) return std::nullopt;
      delta_bytes += symbol * n;
      if (symbol != 0) received += n;
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t symbol = chunk_symbol(chunk, i);
        if (symbol == 3) return std::nullopt;
        delta_bytes += symbol;
        if (symbol != 0) ++received;
      }
    }
    covered += n;
  }
  if (offset + delta_bytes > size) return std::nullopt;
  if (size - offset - delta_bytes > 3) return std::nullopt;  // more than alignment padding
  return TransportFeedback(*fb, offset, received);
}

bool TransportFeedback::Reader::next(TwccStatus& status) noexcept {
  if (remaining_ == 0) return false;
  while (chunk_used_ == chunk_size_) {
    if (chunk_offset_ + 2 > body_.size()) return false;  // not reached for a parsed view
    chunk_ = wire::load_be16(&body_[chunk_offset_]);
    chunk_offset_ += 2;
    chunk_used_ = 0;
    chunk_size_ = std::min(chunk_capacity(chunk_), remaining_);
  }
  const std::uint8_t symbol = chunk_symbol(chunk_, chunk_used_++);
  std::int16_t delta = 0;
  if (symbol == 1) {
    delta = body_[delta_offset_];
    delta_offset_ += 1;
  } else if (symbol == 2) {
    delta = static_cast<std::int16_t>(wire::load_be16(&body_[delta_offset_]));
    delta_offset_ += 2;
  }
  status = {seq_, static_cast<TwccSymbol>(symbol), delta};
  ++seq_;
  --remaining_;
  return true;
}

std::size_t TransportFeedback::decode(std::span<TwccStatus> out) const noexcept {
  auto reader = statuses();
  std::size_t n = 0;
  while (n < out.size() && reader.next(out[n])) ++n;
  return n;
}

WriteResult write_transport_feedback(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                     std::uint32_t media_ssrc, std::uint8_t feedback_count,
                                     std::span<const TwccArrival> received) noexcept {
  if (received.empty()) return WriteResult::failed(WriteError::kInvalidArgument);
  // The span is summed gap by gap, so it may exceed half the sequence space as long as the
  // status count fits its 16 bits; each gap must be a step forward.
  std::size_t count = 1;
  for (std::size_t i = 1; i < received.size(); ++i) {
    const std::int32_t gap = seq_diff(received[i].sequence_number, received[i - 1].sequence_number);
    if (gap <= 0) return WriteResult::failed(WriteError::kInvalidArgument);
    count += static_cast<std::size_t>(gap);
  }
  if (count > 0xFFFF) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::int64_t reference = floor_div(received.front().arrival_time_us, kTwccReferenceTickUs);
  const std::int64_t reference_us = reference * kTwccReferenceTickUs;

  // Pass 1: every delta must fit 16 bits, and the deltas' size.
  std::size_t delta_bytes = 0;
  for (TwccCursor c(received, reference_us, count); !c.done(); c.step()) {
    if (c.symbol() != 0 && !c.delta_in_range()) {
      return WriteResult::failed(WriteError::kInvalidArgument);
    }
    delta_bytes += c.symbol();
  }

  // Pass 2: chunks, written from offset 20 onwards as they are chosen.
  std::uint8_t* p = out.data();
  std::size_t offset = kFeedbackHeaderSize + 8;
  for (TwccCursor c(received, reference_us, count); !c.done();) {
    const std::size_t remaining = c.remaining();
    std::size_t run = 0;
    for (TwccCursor look = c; !look.done() && look.symbol() == c.symbol() && run < kMaxRunLength;
         look.step()) {
      ++run;
    }
    const std::size_t one_bit_cover = std::min(kOneBitSymbols, remaining);
    bool one_bit_ok = true;
    {
      TwccCursor look = c;
      for (std::size_t i = 0; i < one_bit_cover; ++i, look.step()) {
        if (look.symbol() > 1) {
          one_bit_ok = false;
          break;
        }
      }
    }
    const std::size_t two_bit_cover = std::min(kTwoBitSymbols, remaining);
    std::uint16_t chunk = 0;
    if (run >= two_bit_cover && (!one_bit_ok || run >= one_bit_cover)) {
      chunk = static_cast<std::uint16_t>((c.symbol() << 13) | run);
      for (std::size_t i = 0; i < run; ++i) c.step();
    } else if (one_bit_ok) {
      chunk = kChunkVector;
      for (std::size_t i = 0; i < one_bit_cover; ++i, c.step()) {
        chunk = static_cast<std::uint16_t>(chunk | (c.symbol() << (13 - i)));
      }
    } else {
      chunk = kChunkVector | kChunkTwoBit;
      for (std::size_t i = 0; i < two_bit_cover; ++i, c.step()) {
        chunk = static_cast<std::uint16_t>(chunk | (c.symbol() << (12 - 2 * i)));
      }
    }
    if (offset + 2 > out.size()) return WriteResult::failed(WriteError::kBufferTooSmall);
    wire::store_be16(p + offset, chunk);
    offset += 2;
  }

  const std::size_t unpadded = offset + delta_bytes;
  const std::size_t total = (unpadded + 3) / 4 * 4;
  if (const auto e = check_fits(out, total); e != WriteError::kNone) return WriteResult::failed(e);

  // Pass 3: the deltas.
  for (TwccCursor c(received, reference_us, count); !c.done(); c.step()) {
    if (c.symbol() == 1) {
      p[offset++] = static_cast<std::uint8_t>(c.delta());
    } else if (c.symbol() == 2) {
      wire::store_be16(p + offset,
                       static_cast<std::uint16_t>(static_cast<std::int16_t>(c.delta())));
      offset += 2;
    }
  }
  const std::size_t padding = total - unpadded;
  if (padding > 0) {
    std::fill(p + offset, p + total - 1, std::uint8_t{0});
    p[total - 1] = static_cast<std::uint8_t>(padding);
  }
  write_feedback_header(p, kFmtTransportCc, RtcpType::kRtpFeedback, total, sender_ssrc, media_ssrc,
                        padding > 0);
  wire::store_be16(p + 12, received.front().sequence_number);
  wire::store_be16(p + 14, static_cast<std::uint16_t>(count));
  wire::store_be24(p + 16, static_cast<std::uint32_t>(reference) & 0xFFFFFF);
  p[19] = feedback_count;
  return WriteResult::written(total);
}

}  // namespace conclave::rtc
