// RTP packets (RFC 3550 §5) as non-owning views over the receive buffer, their header
// extensions (RFC 8285), the per-transport map from negotiated extension ids to what they
// mean, 16-bit sequence number arithmetic, and the RFC 5761/7983 checks that tell RTP from
// RTCP on a bundled, rtcp-muxed port.
//
// Everything here is on the packet path: functions are noexcept, report failure by return
// value, never allocate and never log. An RtpPacket does not own its bytes: it is valid as
// long as the buffer it was parsed from, and its setters write into that buffer, which is
// how the SFU rewrites SSRC, sequence number, timestamp and payload type when forwarding.
// Callers: the transport's receive path (after SRTP unprotect) and sfu/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "rtc/wire.hpp"

namespace conclave::rtc {

// Why a builder (RTP or RTCP) could not write its packet. Builders write into a span the
// caller owns and never write past it.
enum class WriteError : std::uint8_t {
  kNone,
  kBufferTooSmall,   // the packet would not fit into the output span
  kInvalidArgument,  // a field is out of range for the wire format (the builder says which)
};

struct WriteResult {
  std::size_t size = 0;  // bytes written, when error is kNone
  WriteError error = WriteError::kNone;

  constexpr bool ok() const noexcept { return error == WriteError::kNone; }
  static constexpr WriteResult written(std::size_t n) noexcept { return {n, WriteError::kNone}; }
  static constexpr WriteResult failed(WriteError e) noexcept { return {0, e}; }
};

// ---------------------------------------------------------------------------------------
// Sequence numbers (RFC 3550 §A.1): 16 bits that wrap, compared by the shortest distance.

// a - b as the shortest signed distance on the 16-bit circle, in [-32768, 32767].
constexpr std::int32_t seq_diff(std::uint16_t a, std::uint16_t b) noexcept {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b));
}

// Whether a comes after b. Exactly half the circle apart is ambiguous; the larger value is
// taken as newer there so that seq_newer(a, b) and seq_newer(b, a) are never both true.
constexpr bool seq_newer(std::uint16_t a, std::uint16_t b) noexcept {
  const std::int32_t d = seq_diff(a, b);
  return d > 0 || (d == -32768 && a > b);
}

// Extends 16-bit sequence numbers to 64 bits for the SFU's per-stream state (loss
// accounting, the retransmission cache, layer switch points). Each value is placed at the
// shortest distance from the previous one, so reordering of up to half the circle and any
// number of wraps are handled; the low 16 bits of a result always equal the input. The
// first value maps to itself, so a packet reordered before it unwraps to a negative value.
class SequenceUnwrapper {
 public:
  std::int64_t unwrap(std::uint16_t seq) noexcept {
    last_ = started_ ? last_ + seq_diff(seq, static_cast<std::uint16_t>(last_)) : seq;
    started_ = true;
    return last_;
  }
  // The most recent result, if any.
  std::optional<std::int64_t> last() const noexcept {
    return started_ ? std::optional<std::int64_t>(last_) : std::nullopt;
  }
  void reset() noexcept { started_ = false; }

 private:
  std::int64_t last_ = 0;
  bool started_ = false;
};

// ---------------------------------------------------------------------------------------
// Demultiplexing on a bundled port (RFC 7983 §7, RFC 5761 §4):
//
//   first byte  0..3     STUN        second byte of RTP/RTCP (rtcp-mux, RFC 5761 §4):
//              16..19    ZRTP          192..223  RTCP packet type (SR 200, RR 201, ...)
//              20..63    DTLS          otherwise M bit + RTP payload type
//              64..79    TURN channel
//             128..191   RTP/RTCP    (payload types 64..95 are not used with rtcp-mux, so
//                                     marker + PT never lands in 192..223)

// A fixed RTP header's worth of bytes, version 2, and not an RTCP packet type.
bool looks_like_rtp(std::span<const std::uint8_t> datagram) noexcept;
// An RTCP common header's worth of bytes, version 2, packet type 192..223.
bool looks_like_rtcp(std::span<const std::uint8_t> datagram) noexcept;

// ---------------------------------------------------------------------------------------
// Header extensions (RFC 8285).

// The profile field of the extension header (RFC 8285 §4.2, §4.3).
inline constexpr std::uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr std::uint16_t kTwoByteExtensionProfile = 0x1000;  // low 4 bits: appbits

enum class ExtensionForm : std::uint8_t {
  kNone,     // no X bit
  kOneByte,  // 0xBEDE: ids 1..14, 1..16 bytes of data
  kTwoByte,  // 0x100X: ids 1..255, 0..255 bytes of data
  kUnknown,  // some other profile: raw bytes only, no elements
};

// One element of a header extension block; value points into the packet buffer.
struct HeaderExtension {
  std::uint8_t id = 0;
  std::span<std::uint8_t> value;
};

// Walks the elements of one extension block. Padding bytes (0) between elements are
// skipped; in the one-byte form id 15 ends the walk (RFC 8285 §4.2). An element whose
// length runs past the block ends the walk too: the elements before it are still good and
// the payload is unaffected, so the packet is forwarded rather than dropped.
class HeaderExtensionIterator {
 public:
  using value_type = HeaderExtension;
  using difference_type = std::ptrdiff_t;

  HeaderExtensionIterator() = default;
  HeaderExtensionIterator(std::span<std::uint8_t> block, ExtensionForm form) noexcept;

  const HeaderExtension& operator*() const noexcept { return current_; }
  const HeaderExtension* operator->() const noexcept { return &current_; }
  HeaderExtensionIterator& operator++() noexcept {
    advance();
    return *this;
  }
  HeaderExtensionIterator operator++(int) noexcept {
    auto copy = *this;
    advance();
    return copy;
  }
  bool operator==(std::default_sentinel_t) const noexcept { return done_; }

 private:
  void advance() noexcept;

  std::span<std::uint8_t> block_;
  std::size_t offset_ = 0;
  ExtensionForm form_ = ExtensionForm::kNone;
  bool done_ = true;
  HeaderExtension current_;
};

class HeaderExtensions {
 public:
  HeaderExtensions(std::span<std::uint8_t> block, ExtensionForm form) noexcept
      : block_(block), form_(form) {}
  HeaderExtensionIterator begin() const noexcept { return {block_, form_}; }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  std::span<std::uint8_t> block_;
  ExtensionForm form_;
};

// What a negotiated extension id means. The SDP (a=extmap) gives URIs; the transport maps
// them once at setup, and the packet path only compares small integers.
enum class ExtensionKind : std::uint8_t {
  kUnknown,
  kMid,                    // urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843 §15)
  kRid,                    // urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id (RFC 8852 §3.1)
  kRepairedRid,            // ...:sdes:repaired-rtp-stream-id (RFC 8852 §3.2)
  kAbsSendTime,            // webrtc abs-send-time, 24-bit 6.18 seconds
  kTransportWideCc,        // draft-holmer-rmcat-transport-wide-cc-extensions-01 §2
  kAudioLevel,             // RFC 6464
  kVideoOrientation,       // 3GPP TS 26.114 §7.4.5 (CVO)
  kTransmissionOffset,     // RFC 5450
  kPlayoutDelay,           // webrtc playout-delay
  kAbsCaptureTime,         // webrtc abs-capture-time
  kDependencyDescriptor,   // AV1 RTP spec, appendix A
  kVideoLayersAllocation,  // webrtc video-layers-allocation00
  kCount,
};

// Per-transport id ↔ kind table. Two fixed arrays: no heap, lookups are one index.
class ExtensionMap {
 public:
  // Registers id (1..255) as kind. Fails without changing anything when the id is 0, the
  // kind is kUnknown, the id is taken by another kind or the kind already has another id
  // (RFC 8285 §5: one id per URI and direction).
  bool add(std::uint8_t id, ExtensionKind kind) noexcept;
  // Same, from an a=extmap URI; an unknown URI fails and is simply not used.
  bool add(std::uint8_t id, std::string_view uri) noexcept;
  void clear() noexcept;

  ExtensionKind kind(std::uint8_t id) const noexcept { return kind_by_id_[id]; }
  // The id negotiated for kind, or 0, which never matches an element (0 is padding).
  std::uint8_t id(ExtensionKind kind) const noexcept {
    return kind < ExtensionKind::kCount ? id_by_kind_[static_cast<std::size_t>(kind)] : 0;
  }

  static ExtensionKind kind_from_uri(std::string_view uri) noexcept;
  static std::string_view uri(ExtensionKind kind) noexcept;  // "" for kUnknown

 private:
  std::array<ExtensionKind, 256> kind_by_id_{};
  std::array<std::uint8_t, static_cast<std::size_t>(ExtensionKind::kCount)> id_by_kind_{};
};

// Typed readers and writers of extension values. Readers return nullopt for a value of the
// wrong size; writers return false and leave the bytes alone.

// Transport-wide sequence number: 16 bits (draft-holmer-...-01 §2).
std::optional<std::uint16_t> read_transport_sequence_number(
    std::span<const std::uint8_t> value) noexcept;
bool write_transport_sequence_number(std::span<std::uint8_t> value, std::uint16_t seq) noexcept;

// abs-send-time: 24-bit fixed point seconds, 6 integer and 18 fraction bits, so it wraps
// every 64 s. Values are the raw 24 bits.
std::optional<std::uint32_t> read_abs_send_time(std::span<const std::uint8_t> value) noexcept;
bool write_abs_send_time(std::span<std::uint8_t> value, std::uint32_t abs_send_time) noexcept;
// From/to microseconds; the conversion to 6.18 keeps only the time modulo 64 s.
constexpr std::uint32_t abs_send_time_from_us(std::int64_t us) noexcept {
  constexpr std::int64_t kWrapUs = 64'000'000;
  const std::int64_t in_period = ((us % kWrapUs) + kWrapUs) % kWrapUs;
  return static_cast<std::uint32_t>(((in_period << 18) + 500'000) / 1'000'000) & 0xFFFFFF;
}
constexpr std::int64_t abs_send_time_to_us(std::uint32_t abs_send_time) noexcept {
  return ((std::int64_t{abs_send_time & 0xFFFFFF} * 1'000'000) + (1 << 17)) >> 18;
}

// RFC 6464 §3: V (voice activity) bit, then the level as 0..127 meaning -0..-127 dBov.
struct AudioLevel {
  bool voice_activity = false;
  std::uint8_t level = 127;
};
std::optional<AudioLevel> read_audio_level(std::span<const std::uint8_t> value) noexcept;

// MID, RID and repaired RID carry SDES text (RFC 8843 §15, RFC 8852 §3). Senders may pad
// with NUL bytes, so the text ends at the first NUL; an empty text is no value.
std::optional<std::string_view> read_sdes_text(std::span<const std::uint8_t> value) noexcept;

// 3GPP CVO: rotation in degrees (0, 90, 180, 270) and the camera/flip bits.
struct VideoOrientation {
  bool back_camera = false;
  bool horizontal_flip = false;
  std::uint16_t rotation_degrees = 0;
};
std::optional<VideoOrientation> read_video_orientation(
    std::span<const std::uint8_t> value) noexcept;

// ---------------------------------------------------------------------------------------
// The RTP packet view.

enum class RtpError : std::uint8_t {
  kNone,
  kTooShort,            // fewer than the 12 bytes of the fixed header
  kTooLong,             // larger than kMaxRtpPacketSize
  kBadVersion,          // V != 2
  kTruncatedCsrcs,      // CC says more CSRCs than there are bytes
  kTruncatedExtension,  // X set but the extension header or its data runs past the end
  kBadPadding,          // P set with a count of 0 or larger than what follows the header
};

// An unfragmented datagram on an Ethernet path cannot be larger, and WebRTC senders keep
// packets to about 1200 bytes; the bound also fixes the size of a retransmission cache
// slot.
inline constexpr std::size_t kMaxRtpPacketSize = 1500;
inline constexpr std::size_t kRtpFixedHeaderSize = 12;
inline constexpr std::size_t kMaxCsrcs = 15;

class RtpPacket {
 public:
  // Validates the header (RFC 3550 §5.1, RFC 8285 §4.1) and returns a view over buffer.
  static std::optional<RtpPacket> parse(std::span<std::uint8_t> buffer, RtpError& error) noexcept;
  static std::optional<RtpPacket> parse(std::span<std::uint8_t> buffer) noexcept {
    RtpError ignored;
    return parse(buffer, ignored);
  }

  bool marker() const noexcept { return (data_[1] & 0x80) != 0; }
  std::uint8_t payload_type() const noexcept { return data_[1] & 0x7F; }
  std::uint16_t sequence_number() const noexcept { return wire::load_be16(&data_[2]); }
  std::uint32_t timestamp() const noexcept { return wire::load_be32(&data_[4]); }
  std::uint32_t ssrc() const noexcept { return wire::load_be32(&data_[8]); }
  std::size_t csrc_count() const noexcept { return data_[0] & 0x0F; }
  std::uint32_t csrc(std::size_t index) const noexcept {  // index < csrc_count()
    return wire::load_be32(&data_[kRtpFixedHeaderSize + 4 * index]);
  }

  bool has_extension() const noexcept { return (data_[0] & 0x10) != 0; }
  std::uint16_t extension_profile() const noexcept;  // 0 without an extension
  ExtensionForm extension_form() const noexcept;
  // The extension data after the 4-byte extension header (empty without an extension).
  std::span<std::uint8_t> extension_data() const noexcept {
    return data_.subspan(extension_offset_, extension_size_);
  }
  // The elements, for the one- and two-byte forms (nothing for other profiles).
  HeaderExtensions extensions() const noexcept { return {extension_data(), extension_form()}; }
  // The value of the first element with this id; nullopt if there is none (id 0 never
  // matches). An element may legitimately be empty in the two-byte form.
  std::optional<std::span<std::uint8_t>> find_extension(std::uint8_t id) const noexcept;
  // Overwrites the value of an existing element of exactly value.size() bytes, e.g. to
  // restamp abs-send-time or the transport-wide sequence number when forwarding. Changing
  // a size would move the payload, so that is refused (false).
  bool set_extension(std::uint8_t id, std::span<const std::uint8_t> value) noexcept;

  std::size_t header_size() const noexcept { return header_size_; }
  std::span<std::uint8_t> payload() const noexcept {
    return data_.subspan(header_size_, data_.size() - header_size_ - padding_size_);
  }
  std::size_t padding_size() const noexcept { return padding_size_; }
  // The whole packet as parsed.
  std::span<std::uint8_t> bytes() const noexcept { return data_; }
  std::size_t size() const noexcept { return data_.size(); }

  void set_marker(bool marker) noexcept {
    data_[1] = static_cast<std::uint8_t>((data_[1] & 0x7F) | (marker ? 0x80 : 0));
  }
  // Only the low 7 bits are kept.
  void set_payload_type(std::uint8_t payload_type) noexcept {
    data_[1] = static_cast<std::uint8_t>((data_[1] & 0x80) | (payload_type & 0x7F));
  }
  void set_sequence_number(std::uint16_t seq) noexcept { wire::store_be16(&data_[2], seq); }
  void set_timestamp(std::uint32_t timestamp) noexcept { wire::store_be32(&data_[4], timestamp); }
  void set_ssrc(std::uint32_t ssrc) noexcept { wire::store_be32(&data_[8], ssrc); }

 private:
  RtpPacket() = default;

  std::span<std::uint8_t> data_;
  std::size_t header_size_ = 0;  // fixed header, CSRCs and the whole extension
  std::size_t extension_offset_ = 0;
  std::size_t extension_size_ = 0;
  std::size_t padding_size_ = 0;
};

// ---------------------------------------------------------------------------------------
// Building RTP packets (the SFU's probes and padding, tests, fuzzers).

struct RtpHeaderFields {
  bool marker = false;
  std::uint8_t payload_type = 0;  // 0..127
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::span<const std::uint32_t> csrcs{};  // at most 15
};

struct ExtensionElement {
  std::uint8_t id = 0;
  std::span<const std::uint8_t> value;
};

// Writes header, extension elements, payload and padding_size bytes of padding (the last
// byte holding the count, RFC 3550 §5.1). Elements are written in the one-byte form when
// every id is 1..14 and every value 1..16 bytes, otherwise in the two-byte form (ids
// 1..255, values 0..255 bytes); the block is zero-padded to 32 bits. kInvalidArgument for
// a payload type > 127, more than 15 CSRCs, an element no form can carry, padding_size >
// 255, or a packet larger than kMaxRtpPacketSize.
WriteResult write_rtp_packet(std::span<std::uint8_t> out, const RtpHeaderFields& header,
                             std::span<const ExtensionElement> extensions,
                             std::span<const std::uint8_t> payload,
                             std::size_t padding_size = 0) noexcept;

}  // namespace conclave::rtc
