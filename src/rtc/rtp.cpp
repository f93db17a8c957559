#include "rtc/rtp.hpp"

#include <algorithm>
#include <cstring>

namespace conclave::rtc {

namespace {

constexpr std::uint8_t kVersion2 = 2;
constexpr std::size_t kExtensionHeaderSize = 4;  // profile + length in 32-bit words

constexpr bool is_rtcp_packet_type(std::uint8_t second_byte) noexcept {
  return second_byte >= 192 && second_byte <= 223;
}

constexpr bool is_rtp_or_rtcp_first_byte(std::uint8_t first_byte) noexcept {
  return first_byte >= 128 && first_byte <= 191;
}

ExtensionForm form_of_profile(std::uint16_t profile) noexcept {
  if (profile == kOneByteExtensionProfile) return ExtensionForm::kOneByte;
  if ((profile & 0xFFF0) == kTwoByteExtensionProfile) return ExtensionForm::kTwoByte;
  return ExtensionForm::kUnknown;
}

struct UriEntry {
  ExtensionKind kind;
  std::string_view uri;
};

// a=extmap URIs of the extensions the SFU understands.
constexpr std::array<UriEntry, 12> kUris{{
    {ExtensionKind::kMid, "urn:ietf:params:rtp-hdrext:sdes:mid"},
    {ExtensionKind::kRid, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"},
    {ExtensionKind::kRepairedRid, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"},
    {ExtensionKind::kAbsSendTime, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
    {ExtensionKind::kTransportWideCc,
     "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
    {ExtensionKind::kAudioLevel, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
    {ExtensionKind::kVideoOrientation, "urn:3gpp:video-orientation"},
    {ExtensionKind::kTransmissionOffset, "urn:ietf:params:rtp-hdrext:toffset"},
    {ExtensionKind::kPlayoutDelay, "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"},
    {ExtensionKind::kAbsCaptureTime,
     "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"},
    {ExtensionKind::kDependencyDescriptor,
     "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"},
    {ExtensionKind::kVideoLayersAllocation,
     "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00"},
}};
static_assert(kUris.size() + 1 == static_cast<std::size_t>(ExtensionKind::kCount),
              "every kind but kUnknown has a URI");

}  // namespace

// ---------------------------------------------------------------------------------------

bool looks_like_rtp(std::span<const std::uint8_t> datagram) noexcept {
  return datagram.size() >= kRtpFixedHeaderSize && is_rtp_or_rtcp_first_byte(datagram[0]) &&
         !is_rtcp_packet_type(datagram[1]);
}

bool looks_like_rtcp(std::span<const std::uint8_t> datagram) noexcept {
  return datagram.size() >= 4 && is_rtp_or_rtcp_first_byte(datagram[0]) &&
         is_rtcp_packet_type(datagram[1]);
}

// ---------------------------------------------------------------------------------------
// RFC 8285 element walk.

HeaderExtensionIterator::HeaderExtensionIterator(std::span<std::uint8_t> block,
                                                 ExtensionForm form) noexcept
    : block_(block), form_(form), done_(false) {
  advance();
}

void HeaderExtensionIterator::advance() noexcept {
  if (form_ != ExtensionForm::kOneByte && form_ != ExtensionForm::kTwoByte) {
    done_ = true;
    return;
  }
  const std::size_t size = block_.size();
  // Padding (a 0 byte, RFC 8285 §4.2/§4.3) may sit between elements and after the last.
  // In the one-byte form a byte with id 0 and a nonzero length is malformed padding; it is
  // skipped as a single byte, as libwebrtc does, rather than ending the walk.
  const std::uint8_t padding_mask = form_ == ExtensionForm::kOneByte ? 0xF0 : 0xFF;
  while (offset_ < size && (block_[offset_] & padding_mask) == 0) ++offset_;
  if (offset_ >= size) {
    done_ = true;
    return;
  }
  std::size_t id = 0;
  std::size_t length = 0;
  std::size_t header = 0;
  if (form_ == ExtensionForm::kOneByte) {
    id = block_[offset_] >> 4;
    // ID 15 is reserved: stop processing the block, ignore its length (§4.2).
    if (id == 15) {
      done_ = true;
      return;
    }
    length = (block_[offset_] & 0x0F) + 1u;  // the 4-bit field is length - 1
    header = 1;
  } else {
    if (offset_ + 2 > size) {
      done_ = true;
      return;
    }
    id = block_[offset_];
    length = block_[offset_ + 1];
    header = 2;
  }
  if (offset_ + header + length > size) {
    done_ = true;  // runs past the block: malformed, keep what came before
    return;
  }
  current_.id = static_cast<std::uint8_t>(id);
  current_.value = block_.subspan(offset_ + header, length);
  offset_ += header + length;
}

// ---------------------------------------------------------------------------------------
// ExtensionMap

bool ExtensionMap::add(std::uint8_t id, ExtensionKind kind) noexcept {
  if (id == 0 || kind == ExtensionKind::kUnknown || kind >= ExtensionKind::kCount) return false;
  const auto k = static_cast<std::size_t>(kind);
  if (kind_by_id_[id] == kind && id_by_kind_[k] == id) return true;  // same mapping again
  if (kind_by_id_[id] != ExtensionKind::kUnknown || id_by_kind_[k] != 0) return false;
  kind_by_id_[id] = kind;
  id_by_kind_[k] = id;
  return true;
}

bool ExtensionMap::add(std::uint8_t id, std::string_view uri) noexcept {
  return add(id, kind_from_uri(uri));
}

void ExtensionMap::clear() noexcept {
  kind_by_id_.fill(ExtensionKind::kUnknown);
  id_by_kind_.fill(0);
}

ExtensionKind ExtensionMap::kind_from_uri(std::string_view uri) noexcept {
  for (const auto& entry : kUris) {
    if (entry.uri == uri) return entry.kind;
  }
  return ExtensionKind::kUnknown;
}

std::string_view ExtensionMap::uri(ExtensionKind kind) noexcept {
  for (const auto& entry : kUris) {
    if (entry.kind == kind) return entry.uri;
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Typed extension values

std::optional<std::uint16_t> read_transport_sequence_number(
    std::span<const std::uint8_t> value) noexcept {
  // -01 carries exactly 2 bytes; the -02 variant may append 2 bytes of feedback request,
  // which start with the same sequence number, so only the first 2 are read.
  if (value.size() != 2 && value.size() != 4) return std::nullopt;
  return wire::load_be16(value.data());
}

bool write_transport_sequence_number(std::span<std::uint8_t> value, std::uint16_t seq) noexcept {
  if (value.size() != 2 && value.size() != 4) return false;
  wire::store_be16(value.data(), seq);
  return true;
}

std::optional<std::uint32_t> read_abs_send_time(std::span<const std::uint8_t> value) noexcept {
  if (value.size() != 3) return std::nullopt;
  return wire::load_be24(value.data());
}

bool write_abs_send_time(std::span<std::uint8_t> value, std::uint32_t abs_send_time) noexcept {
  if (value.size() != 3) return false;
  wire::store_be24(value.data(), abs_send_time & 0xFFFFFF);
  return true;
}

std::optional<AudioLevel> read_audio_level(std::span<const std::uint8_t> value) noexcept {
  // One byte in the one-byte form; the two-byte form may pad it (RFC 6464 §3).
  if (value.empty()) return std::nullopt;
  return AudioLevel{(value[0] & 0x80) != 0, static_cast<std::uint8_t>(value[0] & 0x7F)};
}

std::optional<std::string_view> read_sdes_text(std::span<const std::uint8_t> value) noexcept {
  const auto* begin = reinterpret_cast<const char*>(value.data());
  const auto* end = begin + value.size();
  const auto* nul = std::find(begin, end, '\0');
  if (nul == begin) return std::nullopt;
  return std::string_view(begin, static_cast<std::size_t>(nul - begin));
}

std::optional<VideoOrientation> read_video_orientation(
    std::span<const std::uint8_t> value) noexcept {
  if (value.empty()) return std::nullopt;
  // Bits 0 0 0 0 C F R1 R0 (3GPP TS 26.114 §7.4.5): R in units of 90° counter-clockwise.
  const std::uint8_t b = value[0];
  return VideoOrientation{(b & 0x08) != 0, (b & 0x04) != 0,
                          static_cast<std::uint16_t>((b & 0x03) * 90)};
}

// ---------------------------------------------------------------------------------------
// RtpPacket

std::optional<RtpPacket> RtpPacket::parse(std::span<std::uint8_t> buffer,
                                          RtpError& error) noexcept {
  const std::size_t size = buffer.size();
  if (size < kRtpFixedHeaderSize) {
    error = RtpError::kTooShort;
    return std::nullopt;
  }
  if (size > kMaxRtpPacketSize) {
    error = RtpError::kTooLong;
    return std::nullopt;
  }
  if ((buffer[0] >> 6) != kVersion2) {
    error = RtpError::kBadVersion;
    return std::nullopt;
  }
  std::size_t offset = kRtpFixedHeaderSize + 4u * (buffer[0] & 0x0F);
  if (offset > size) {
    error = RtpError::kTruncatedCsrcs;
    return std::nullopt;
  }
  RtpPacket packet;
  packet.data_ = buffer;
  if ((buffer[0] & 0x10) != 0) {
    if (offset + kExtensionHeaderSize > size) {
      error = RtpError::kTruncatedExtension;
      return std::nullopt;
    }
    const std::size_t words = wire::load_be16(&buffer[offset + 2]);
    packet.extension_offset_ = offset + kExtensionHeaderSize;
    packet.extension_size_ = 4 * words;
    offset = packet.extension_offset_ + packet.extension_size_;
    if (offset > size) {
      error = RtpError::kTruncatedExtension;
      return std::nullopt;
    }
  } else {
    packet.extension_offset_ = offset;
  }
  packet.header_size_ = offset;
  if ((buffer[0] & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included, so 0 is invalid,
    // and the padding cannot reach back into the header.
    const std::size_t padding = buffer[size - 1];
    if (padding == 0 || padding > size - offset) {
      error = RtpError::kBadPadding;
      return std::nullopt;
    }
    packet.padding_size_ = padding;
  }
  error = RtpError::kNone;
  return packet;
}

std::uint16_t RtpPacket::extension_profile() const noexcept {
  if (!has_extension()) return 0;
  return wire::load_be16(&data_[extension_offset_ - kExtensionHeaderSize]);
}

ExtensionForm RtpPacket::extension_form() const noexcept {
  if (!has_extension()) return ExtensionForm::kNone;
  return form_of_profile(extension_profile());
}

std::optional<std::span<std::uint8_t>> RtpPacket::find_extension(std::uint8_t id) const noexcept {
  if (id == 0) return std::nullopt;
  for (const auto& element : extensions()) {
    if (element.id == id) return element.value;
  }
  return std::nullopt;
}

bool RtpPacket::set_extension(std::uint8_t id, std::span<const std::uint8_t> value) noexcept {
  const auto existing = find_extension(id);
  if (!existing || existing->size() != value.size()) return false;
  if (!value.empty()) std::memmove(existing->data(), value.data(), value.size());
  return true;
}

// ---------------------------------------------------------------------------------------
// Builder

WriteResult write_rtp_packet(std::span<std::uint8_t> out, const RtpHeaderFields& header,
                             std::span<const ExtensionElement> extensions,
                             std::span<const std::uint8_t> payload,
                             std::size_t padding_size) noexcept {
  if (header.payload_type > 127 || header.csrcs.size() > kMaxCsrcs || padding_size > 255) {
    return WriteResult::failed(WriteError::kInvalidArgument);
  }
  bool one_byte = true;
  std::size_t one_byte_size = 0;
  std::size_t two_byte_size = 0;
  for (const auto& element : extensions) {
    if (element.id == 0 || element.value.size() > 255) {
      return WriteResult::failed(WriteError::kInvalidArgument);
    }
    if (element.id > 14 || element.value.empty() || element.value.size() > 16) one_byte = false;
    one_byte_size += 1 + element.value.size();
    two_byte_size += 2 + element.value.size();
  }
  const std::size_t elements_size = one_byte ? one_byte_size : two_byte_size;
  const std::size_t block_size = (elements_size + 3) / 4 * 4;
  if (block_size / 4 > 0xFFFF) return WriteResult::failed(WriteError::kInvalidArgument);
  const std::size_t extension_size = extensions.empty() ? 0 : kExtensionHeaderSize + block_size;
  const std::size_t header_size = kRtpFixedHeaderSize + 4 * header.csrcs.size() + extension_size;
  const std::size_t total = header_size + payload.size() + padding_size;
  if (total > kMaxRtpPacketSize) return WriteResult::failed(WriteError::kInvalidArgument);
  if (total > out.size()) return WriteResult::failed(WriteError::kBufferTooSmall);

  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>((kVersion2 << 6) | (padding_size > 0 ? 0x20 : 0) |
                                   (extensions.empty() ? 0 : 0x10) | header.csrcs.size());
  p[1] = static_cast<std::uint8_t>((header.marker ? 0x80 : 0) | header.payload_type);
  wire::store_be16(p + 2, header.sequence_number);
  wire::store_be32(p + 4, header.timestamp);
  wire::store_be32(p + 8, header.ssrc);
  std::size_t offset = kRtpFixedHeaderSize;
  for (const std::uint32_t csrc : header.csrcs) {
    wire::store_be32(p + offset, csrc);
    offset += 4;
  }
  if (!extensions.empty()) {
    wire::store_be16(p + offset, one_byte ? kOneByteExtensionProfile : kTwoByteExtensionProfile);
    wire::store_be16(p + offset + 2, static_cast<std::uint16_t>(block_size / 4));
    offset += kExtensionHeaderSize;
    const std::size_t block_end = offset + block_size;
    for (const auto& element : extensions) {
      if (one_byte) {
        p[offset++] = static_cast<std::uint8_t>((element.id << 4) | (element.value.size() - 1));
      } else {
        p[offset++] = element.id;
        p[offset++] = static_cast<std::uint8_t>(element.value.size());
      }
      if (!element.value.empty())
        std::memcpy(p + offset, element.value.data(), element.value.size());
      offset += element.value.size();
    }
    std::fill(p + offset, p + block_end, std::uint8_t{0});
    offset = block_end;
  }
  if (!payload.empty()) std::memcpy(p + offset, payload.data(), payload.size());
  offset += payload.size();
  if (padding_size > 0) {
    std::fill(p + offset, p + offset + padding_size - 1, std::uint8_t{0});
    p[offset + padding_size - 1] = static_cast<std::uint8_t>(padding_size);
    offset += padding_size;
  }
  return WriteResult::written(offset);
}

}  // namespace conclave::rtc
