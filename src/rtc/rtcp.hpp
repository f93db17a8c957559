// RTCP (RFC 3550 §6) and the feedback messages WebRTC uses (RFC 4585, RFC 5104, REMB,
// transport-wide congestion control), as non-owning views over the receive buffer and as
// builders that write into a caller-provided span.
//
// A received datagram is first checked as a whole (RtcpCompound::parse): every packet has
// version 2, a length that stays inside the datagram and valid padding, and the packets
// cover the datagram exactly. Iterating it yields RtcpPacket headers; a typed view (SR,
// RR, SDES, BYE, NACK, PLI, FIR, REMB, transport feedback) is made from one of those and
// checks its own counts against the length, so nothing later can read out of bounds.
// Views write into the buffer too: the SFU maps SSRCs between publishers and subscribers
// and rewrites them in place before it forwards feedback or reports.
//
// Packet path rules as in rtp.hpp: noexcept, status values, no allocation, no logging.
// Callers: the transport's receive path (after SRTCP unprotect) and sfu/.
#pragma once

#include "rtc/rtp.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

namespace conclave::rtc {

// RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611.
enum class RtcpType : std::uint8_t {
  kSenderReport = 200,
  kReceiverReport = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpFeedback = 205,      // RTPFB: transport layer feedback
  kPayloadFeedback = 206,  // PSFB: payload-specific feedback
  kExtendedReport = 207,
};

// Feedback message types (the FMT field) that have a view here.
inline constexpr std::uint8_t kFmtNack = 1;          // RTPFB, RFC 4585 §6.2.1
inline constexpr std::uint8_t kFmtTransportCc = 15;  // RTPFB, draft-holmer-...-01 §3.1
inline constexpr std::uint8_t kFmtPli = 1;           // PSFB, RFC 4585 §6.3.1
inline constexpr std::uint8_t kFmtFir = 4;           // PSFB, RFC 5104 §4.3.1
inline constexpr std::uint8_t kFmtAfb = 15;          // PSFB application layer, RFC 4585 §6.4

inline constexpr std::size_t kRtcpHeaderSize = 4;
inline constexpr std::size_t kMaxRtcpCount = 31;  // the 5-bit RC/SC field

enum class RtcpError : std::uint8_t {
  kNone,
  kTruncatedHeader,  // fewer than 4 bytes where a packet header should start
  kBadVersion,       // V != 2
  kLengthPastEnd,    // the length field runs past the end of the datagram
  kBadPadding,       // P set with a count of 0 or one that reaches into the header
  kTrailingData,     // RtcpPacket::parse only: bytes after the one packet
};

// One packet of a compound: its common header and where its body is.
class RtcpPacket {
 public:
  // Exactly one packet that covers the buffer (a compound of one).
  static std::optional<RtcpPacket> parse(std::span<std::uint8_t> buffer, RtcpError& error) noexcept;
  static std::optional<RtcpPacket> parse(std::span<std::uint8_t> buffer) noexcept {
    RtcpError ignored;
    return parse(buffer, ignored);
  }

  std::uint8_t count() const noexcept { return bytes_[0] & 0x1F; }  // RC, SC, or FMT
  std::uint8_t format() const noexcept { return count(); }
  RtcpType type() const noexcept { return static_cast<RtcpType>(bytes_[1]); }
  bool has_padding() const noexcept { return (bytes_[0] & 0x20) != 0; }
  // The packet as on the wire, header and padding included.
  std::span<std::uint8_t> bytes() const noexcept { return bytes_; }
  // After the 4-byte header, without padding.
  std::span<std::uint8_t> body() const noexcept { return body_; }

 private:
  friend class RtcpCompound;
  RtcpPacket() = default;
  // The packet at the start of buffer, which may hold more after it.
  static std::optional<RtcpPacket> parse_prefix(std::span<std::uint8_t> buffer,
                                                RtcpError& error) noexcept;

  std::span<std::uint8_t> bytes_;
  std::span<std::uint8_t> body_;
};

// A validated compound datagram (RFC 3550 §6.1). Reduced-size RTCP (RFC 5506), which
// browsers use, is accepted: the first packet need not be a report.
class RtcpCompound {
 public:
  static std::optional<RtcpCompound> parse(std::span<std::uint8_t> buffer,
                                           RtcpError& error) noexcept;
  static std::optional<RtcpCompound> parse(std::span<std::uint8_t> buffer) noexcept {
    RtcpError ignored;
    return parse(buffer, ignored);
  }

  class Iterator {
   public:
    using value_type = RtcpPacket;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    explicit Iterator(std::span<std::uint8_t> rest) noexcept : rest_(rest) { advance(); }
    const RtcpPacket& operator*() const noexcept { return current_; }
    const RtcpPacket* operator->() const noexcept { return &current_; }
    Iterator& operator++() noexcept {
      advance();
      return *this;
    }
    Iterator operator++(int) noexcept {
      auto copy = *this;
      advance();
      return copy;
    }
    bool operator==(std::default_sentinel_t) const noexcept { return done_; }

   private:
    void advance() noexcept;

    std::span<std::uint8_t> rest_;
    RtcpPacket current_;
    bool done_ = true;
  };

  Iterator begin() const noexcept { return Iterator(bytes_); }
  std::default_sentinel_t end() const noexcept { return {}; }
  std::span<std::uint8_t> bytes() const noexcept { return bytes_; }
  std::size_t packet_count() const noexcept { return packet_count_; }

 private:
  RtcpCompound() = default;

  std::span<std::uint8_t> bytes_;
  std::size_t packet_count_ = 0;
};

// ---------------------------------------------------------------------------------------
// Sender and receiver reports (RFC 3550 §6.4).

inline constexpr std::size_t kReportBlockSize = 24;

struct ReportBlock {
  std::uint32_t ssrc = 0;  // the source this block reports on
  std::uint8_t fraction_lost = 0;
  std::int32_t cumulative_lost = 0;  // signed 24 bits; builders clamp (RFC 3550 §A.3)
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;
  std::uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP time
  std::uint32_t delay_since_last_sr = 0;  // 1/65536 s
  bool operator==(const ReportBlock&) const = default;
};

class ReportBlockList {
 public:
  explicit ReportBlockList(std::span<std::uint8_t> bytes) noexcept : bytes_(bytes) {}
  std::size_t size() const noexcept { return bytes_.size() / kReportBlockSize; }
  ReportBlock operator[](std::size_t index) const noexcept;  // index < size()
  void set_ssrc(std::size_t index, std::uint32_t ssrc) noexcept {
    wire::store_be32(&bytes_[index * kReportBlockSize], ssrc);
  }

 private:
  std::span<std::uint8_t> bytes_;
};

struct SenderInfo {
  std::uint32_t ssrc = 0;
  std::uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
  bool operator==(const SenderInfo&) const = default;
};

class SenderReport {
 public:
  // Profile-specific extensions after the report blocks are allowed and ignored.
  static std::optional<SenderReport> parse(const RtcpPacket& packet) noexcept;

  SenderInfo sender_info() const noexcept;
  std::uint32_t sender_ssrc() const noexcept { return wire::load_be32(body_.data()); }
  void set_sender_ssrc(std::uint32_t ssrc) noexcept { wire::store_be32(body_.data(), ssrc); }
  ReportBlockList report_blocks() const noexcept {
    return ReportBlockList(body_.subspan(24, block_count_ * kReportBlockSize));
  }

 private:
  SenderReport(std::span<std::uint8_t> body, std::size_t blocks) noexcept
      : body_(body), block_count_(blocks) {}

  std::span<std::uint8_t> body_;
  std::size_t block_count_;
};

class ReceiverReport {
 public:
  static std::optional<ReceiverReport> parse(const RtcpPacket& packet) noexcept;

  std::uint32_t sender_ssrc() const noexcept { return wire::load_be32(body_.data()); }
  void set_sender_ssrc(std::uint32_t ssrc) noexcept { wire::store_be32(body_.data(), ssrc); }
  ReportBlockList report_blocks() const noexcept {
    return ReportBlockList(body_.subspan(4, block_count_ * kReportBlockSize));
  }

 private:
  ReceiverReport(std::span<std::uint8_t> body, std::size_t blocks) noexcept
      : body_(body), block_count_(blocks) {}

  std::span<std::uint8_t> body_;
  std::size_t block_count_;
};

// At most 31 blocks (kInvalidArgument otherwise).
WriteResult write_sender_report(std::span<std::uint8_t> out, const SenderInfo& info,
                                std::span<const ReportBlock> blocks) noexcept;
WriteResult write_receiver_report(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                  std::span<const ReportBlock> blocks) noexcept;

// ---------------------------------------------------------------------------------------
// SDES (RFC 3550 §6.5). Only CNAME is surfaced; other items are walked over.

inline constexpr std::uint8_t kSdesCname = 1;

struct SdesChunk {
  std::uint32_t ssrc = 0;
  std::optional<std::string_view> cname;  // the first CNAME item of the chunk
};

class SdesChunkIterator {
 public:
  using value_type = SdesChunk;
  using difference_type = std::ptrdiff_t;

  SdesChunkIterator() = default;
  SdesChunkIterator(std::span<const std::uint8_t> body, std::size_t chunks) noexcept
      : body_(body), remaining_(chunks) {
    advance();
  }
  const SdesChunk& operator*() const noexcept { return current_; }
  const SdesChunk* operator->() const noexcept { return &current_; }
  SdesChunkIterator& operator++() noexcept {
    advance();
    return *this;
  }
  bool operator==(std::default_sentinel_t) const noexcept { return done_; }

 private:
  void advance() noexcept;

  std::span<const std::uint8_t> body_;
  std::size_t offset_ = 0;
  std::size_t remaining_ = 0;
  bool done_ = true;
  SdesChunk current_;
};

class Sdes {
 public:
  // Every one of the SC chunks must be complete and end with a null item.
  static std::optional<Sdes> parse(const RtcpPacket& packet) noexcept;

  std::size_t chunk_count() const noexcept { return chunk_count_; }
  SdesChunkIterator begin() const noexcept { return {body_, chunk_count_}; }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  Sdes(std::span<std::uint8_t> body, std::size_t chunks) noexcept
      : body_(body), chunk_count_(chunks) {}

  std::span<std::uint8_t> body_;
  std::size_t chunk_count_;
};

// One chunk per entry, each with its CNAME item if it has one. At most 31 chunks, CNAMEs
// of at most 255 bytes.
WriteResult write_sdes(std::span<std::uint8_t> out, std::span<const SdesChunk> chunks) noexcept;

// ---------------------------------------------------------------------------------------
// BYE (RFC 3550 §6.6).

class Bye {
 public:
  static std::optional<Bye> parse(const RtcpPacket& packet) noexcept;

  std::size_t ssrc_count() const noexcept { return ssrc_count_; }
  std::uint32_t ssrc(std::size_t index) const noexcept {
    return wire::load_be32(&body_[4 * index]);
  }
  void set_ssrc(std::size_t index, std::uint32_t ssrc) noexcept {
    wire::store_be32(&body_[4 * index], ssrc);
  }
  std::string_view reason() const noexcept { return reason_; }  // empty if none

 private:
  Bye(std::span<std::uint8_t> body, std::size_t ssrcs, std::string_view reason) noexcept
      : body_(body), ssrc_count_(ssrcs), reason_(reason) {}

  std::span<std::uint8_t> body_;
  std::size_t ssrc_count_;
  std::string_view reason_;
};

// At most 31 SSRCs and a reason of at most 255 bytes; an empty reason is left out.
WriteResult write_bye(std::span<std::uint8_t> out, std::span<const std::uint32_t> ssrcs,
                      std::string_view reason = {}) noexcept;

// ---------------------------------------------------------------------------------------
// Feedback messages (RFC 4585 §6.1): header, SSRC of packet sender, SSRC of media source,
// feedback control information (FCI).

class Feedback {
 public:
  // Any RTPFB or PSFB packet with the two SSRCs.
  static std::optional<Feedback> parse(const RtcpPacket& packet) noexcept;

  RtcpType type() const noexcept { return type_; }
  std::uint8_t format() const noexcept { return format_; }
  std::uint32_t sender_ssrc() const noexcept { return wire::load_be32(body_.data()); }
  std::uint32_t media_ssrc() const noexcept { return wire::load_be32(body_.data() + 4); }
  void set_sender_ssrc(std::uint32_t ssrc) noexcept { wire::store_be32(body_.data(), ssrc); }
  void set_media_ssrc(std::uint32_t ssrc) noexcept { wire::store_be32(body_.data() + 4, ssrc); }
  std::span<std::uint8_t> fci() const noexcept { return body_.subspan(8); }

 protected:
  Feedback(std::span<std::uint8_t> body, RtcpType type, std::uint8_t format) noexcept
      : body_(body), type_(type), format_(format) {}

  std::span<std::uint8_t> body_;
  RtcpType type_;
  std::uint8_t format_;
};

// Generic NACK (RFC 4585 §6.2.1): each item is a lost packet id (PID) and a bitmask of
// the 16 following sequence numbers (BLP, bit i for PID + i + 1).
struct NackItem {
  std::uint16_t pid = 0;
  std::uint16_t blp = 0;
  bool operator==(const NackItem&) const = default;
};
inline constexpr std::size_t kMaxSequencesPerNackItem = 17;

// The sequence numbers item reports lost, PID first; returns how many (1..17).
std::size_t expand_nack_item(NackItem item,
                             std::span<std::uint16_t, kMaxSequencesPerNackItem> out) noexcept;

class Nack : public Feedback {
 public:
  // RTPFB FMT 1 with one or more whole items.
  static std::optional<Nack> parse(const RtcpPacket& packet) noexcept;

  std::size_t item_count() const noexcept { return fci().size() / 4; }
  NackItem item(std::size_t index) const noexcept {
    const std::uint8_t* p = fci().data() + 4 * index;
    return {wire::load_be16(p), wire::load_be16(p + 2)};
  }
  // Calls fn(seq) for every sequence number reported lost, item by item.
  template <class Fn>
  void for_each_lost(Fn&& fn) const noexcept(noexcept(fn(std::uint16_t{}))) {
    for (std::size_t i = 0; i < item_count(); ++i) {
      const NackItem it = item(i);
      fn(it.pid);
      for (unsigned bit = 0; bit < 16; ++bit) {
        if ((it.blp >> bit) & 1u) fn(static_cast<std::uint16_t>(it.pid + bit + 1));
      }
    }
  }
  // Writes the lost sequence numbers into out, as many as fit; returns how many it wrote.
  std::size_t lost_sequence_numbers(std::span<std::uint16_t> out) const noexcept;

 private:
  explicit Nack(const Feedback& fb) noexcept : Feedback(fb) {}
};

// How many items write_nack packs lost into.
std::size_t nack_item_count(std::span<const std::uint16_t> lost) noexcept;
// Packs lost sequence numbers, oldest first in RTP order (wraparound allowed), into
// PID + BLP items: a number within 16 after the current PID goes into its BLP, anything
// else starts a new item. Duplicates are absorbed; an unsorted list still has every
// number covered, only in more items. kInvalidArgument for an empty list.
WriteResult write_nack(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                       std::uint32_t media_ssrc, std::span<const std::uint16_t> lost) noexcept;

// Picture loss indication (RFC 4585 §6.3.1): no FCI.
class Pli : public Feedback {
 public:
  static std::optional<Pli> parse(const RtcpPacket& packet) noexcept;

 private:
  explicit Pli(const Feedback& fb) noexcept : Feedback(fb) {}
};

WriteResult write_pli(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                      std::uint32_t media_ssrc) noexcept;

// Full intra request (RFC 5104 §4.3.1): the media source field is 0 and each FCI entry
// names the SSRC that should send a keyframe, with a command sequence number that the
// sender increments per new request (§4.3.1.1).
struct FirEntry {
  std::uint32_t ssrc = 0;
  std::uint8_t sequence_number = 0;
  bool operator==(const FirEntry&) const = default;
};

class Fir : public Feedback {
 public:
  static std::optional<Fir> parse(const RtcpPacket& packet) noexcept;

  std::size_t entry_count() const noexcept { return fci().size() / 8; }
  FirEntry entry(std::size_t index) const noexcept {
    const std::uint8_t* p = fci().data() + 8 * index;
    return {wire::load_be32(p), p[4]};
  }
  void set_entry_ssrc(std::size_t index, std::uint32_t ssrc) noexcept {
    wire::store_be32(fci().data() + 8 * index, ssrc);
  }

 private:
  explicit Fir(const Feedback& fb) noexcept : Feedback(fb) {}
};

WriteResult write_fir(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                      std::span<const FirEntry> entries) noexcept;

// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB FMT 15,
// "REMB", number of SSRCs, bitrate as a 6-bit exponent and an 18-bit mantissa, SSRCs.
struct RembBitrate {
  std::uint8_t exponent = 0;   // 0..63
  std::uint32_t mantissa = 0;  // 0..2^18-1
};
// The smallest exponent whose mantissa fits; rounds down, so an estimate is never raised.
constexpr RembBitrate encode_remb_bitrate(std::uint64_t bps) noexcept {
  std::uint8_t exponent = 0;
  while ((bps >> exponent) > 0x3FFFF) ++exponent;
  return {exponent, static_cast<std::uint32_t>(bps >> exponent)};
}
// Saturates at UINT64_MAX where mantissa << exponent would not fit in 64 bits.
constexpr std::uint64_t decode_remb_bitrate(std::uint8_t exponent,
                                            std::uint32_t mantissa) noexcept {
  const std::uint64_t m = mantissa & 0x3FFFFu;
  const unsigned e = exponent & 0x3Fu;
  if (m > (~std::uint64_t{0} >> e)) return ~std::uint64_t{0};
  return m << e;
}
inline constexpr std::size_t kMaxRembSsrcs = 255;

class Remb : public Feedback {
 public:
  static std::optional<Remb> parse(const RtcpPacket& packet) noexcept;

  std::uint64_t bitrate_bps() const noexcept;
  std::size_t ssrc_count() const noexcept { return fci()[4]; }
  std::uint32_t ssrc(std::size_t index) const noexcept {
    return wire::load_be32(fci().data() + 8 + 4 * index);
  }
  void set_ssrc(std::size_t index, std::uint32_t ssrc) noexcept {
    wire::store_be32(fci().data() + 8 + 4 * index, ssrc);
  }

 private:
  explicit Remb(const Feedback& fb) noexcept : Feedback(fb) {}
};

WriteResult write_remb(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                       std::uint64_t bitrate_bps, std::span<const std::uint32_t> ssrcs) noexcept;

// ---------------------------------------------------------------------------------------
// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1): RTPFB FMT 15. After the two SSRCs: base sequence number, packet
// status count, a 24-bit reference time in 64 ms units, a feedback packet count, packet
// status chunks (run-length or status vector) and one receive delta per received packet,
// in 250 µs units: one unsigned byte ("small") or two signed bytes ("large").

inline constexpr std::int64_t kTwccDeltaTickUs = 250;
inline constexpr std::int64_t kTwccReferenceTickUs = 64'000;

enum class TwccSymbol : std::uint8_t {
  kNotReceived = 0,
  kSmallDelta = 1,  // received, delta 0..255 ticks
  kLargeDelta = 2,  // received, delta -32768..32767 ticks
};

struct TwccStatus {
  std::uint16_t sequence_number = 0;
  TwccSymbol symbol = TwccSymbol::kNotReceived;
  std::int16_t delta = 0;  // ticks since the previous received packet (or the reference
                           // time, for the first); 0 when not received
  bool received() const noexcept { return symbol != TwccSymbol::kNotReceived; }
  bool operator==(const TwccStatus&) const = default;
};

class TransportFeedback : public Feedback {
 public:
  // Checks every chunk and that the deltas the chunks call for are all there; a reserved
  // symbol (3) within the status count or an empty feedback is refused. Up to 3 bytes of
  // zero padding after the deltas are allowed, with or without the P bit.
  static std::optional<TransportFeedback> parse(const RtcpPacket& packet) noexcept;

  std::uint16_t base_sequence_number() const noexcept { return wire::load_be16(&body_[8]); }
  std::uint16_t status_count() const noexcept { return wire::load_be16(&body_[10]); }
  // The raw 24 bits; libwebrtc counts them as unsigned and lets them wrap (every ~12.4
  // days), so compare consecutive feedbacks modulo 2^24.
  std::uint32_t reference_time() const noexcept { return wire::load_be24(&body_[12]); }
  std::uint8_t feedback_count() const noexcept { return body_[15]; }
  std::size_t received_count() const noexcept { return received_count_; }

  // Yields the statuses in order, base sequence number first.
  class Reader {
   public:
    bool next(TwccStatus& status) noexcept;

   private:
    friend class TransportFeedback;
    Reader(std::span<const std::uint8_t> body, std::size_t delta_offset, std::uint16_t base,
           std::uint16_t count) noexcept
        : body_(body), delta_offset_(delta_offset), seq_(base), remaining_(count) {}

    std::span<const std::uint8_t> body_;
    std::size_t chunk_offset_ = 16;
    std::size_t delta_offset_;
    std::uint16_t chunk_ = 0;
    std::size_t chunk_used_ = 0;
    std::size_t chunk_size_ = 0;
    std::uint16_t seq_;
    std::size_t remaining_;
  };
  Reader statuses() const noexcept {
    return {body_, delta_offset_, base_sequence_number(), status_count()};
  }
  // Writes min(out.size(), status_count()) statuses; returns how many.
  std::size_t decode(std::span<TwccStatus> out) const noexcept;

 private:
  TransportFeedback(const Feedback& fb, std::size_t delta_offset, std::size_t received) noexcept
      : Feedback(fb), delta_offset_(delta_offset), received_count_(received) {}

  std::size_t delta_offset_;
  std::size_t received_count_;
};

struct TwccArrival {
  std::uint16_t sequence_number = 0;
  std::int64_t arrival_time_us = 0;
};

// Builds a feedback from received packets in increasing sequence order (wraparound
// allowed, no duplicates, each gap under 32768, at most 65535 statuses in all): the base is
// the first of them, sequence numbers missing in between are reported not received. The reference
// time is the first arrival rounded down to 64 ms; deltas are rounded to 250 µs without
// accumulating the rounding error. Chunks are chosen greedily (whichever of a run, a 14 x 1-bit or
// a 7 x 2-bit vector covers the most statuses). Padded to 32 bits with the P bit, as libwebrtc
// does. kInvalidArgument for an empty or unordered list, too long a span, or a delta beyond ±8.19 s
// (start a new feedback there).
WriteResult write_transport_feedback(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                     std::uint32_t media_ssrc, std::uint8_t feedback_count,
                                     std::span<const TwccArrival> received) noexcept;

}  // namespace conclave::rtc
