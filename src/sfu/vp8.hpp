// The VP8 RTP payload descriptor (RFC 7741 §4.2) and the start of the VP8 payload header
// (RFC 7741 §4.3, RFC 6386 §9.1), read and rewritten in place on the forwarding path.
//
// The SFU reads the descriptor to find frame starts, key frames, temporal layers and the
// picture id / TL0PICIDX it must rewrite when it switches a subscriber between simulcast
// layers (see rtp_rewriter.hpp). Media stays opaque otherwise: with end-to-end encryption
// the descriptor and the 3-byte frame tag (plus, on key frames, the 7 bytes after it) are
// left in the clear by the sender's transform, and nothing past them is ever read.
//
//       0 1 2 3 4 5 6 7
//      +-+-+-+-+-+-+-+-+
//      |X|R|N|S|R| PID |  required
//      +-+-+-+-+-+-+-+-+
//   X: |I|L|T|K| RSV   |  present when X = 1
//      +-+-+-+-+-+-+-+-+
//   I: |M| PictureID   |  present when I = 1; M = 1 adds a second byte (15-bit id)
//      +-+-+-+-+-+-+-+-+
//   M: |  PictureID    |
//      +-+-+-+-+-+-+-+-+
//   L: |   TL0PICIDX   |  present when L = 1
//      +-+-+-+-+-+-+-+-+
//  T/K:|TID|Y| KEYIDX  |  present when T = 1 or K = 1
//      +-+-+-+-+-+-+-+-+
//
// Invariants: parse never reads past the span; a parsed descriptor is always followed by
// at least one payload byte (libwebrtc refuses an empty VP8 payload too), so
// payload[d.size] exists whenever parse succeeded on that same buffer. R and RSV bits are
// ignored as §4.2 requires of receivers. The offsets in Vp8Descriptor let the writers
// change fields without parsing again; writers re-check the bounds and do nothing if the
// buffer is not the one parse saw. Packet path: noexcept, no allocation, no logging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace conclave::sfu {

struct Vp8Descriptor {
  std::size_t size = 0;              // bytes of descriptor before the VP8 payload
  bool start_of_partition = false;   // S
  std::uint8_t partition_index = 0;  // PID (0..7)
  bool non_reference = false;        // N
  bool has_picture_id = false;
  bool picture_id_15bit = false;  // M
  std::uint16_t picture_id = 0;   // 7 or 15 bits
  std::size_t picture_id_offset = 0;
  bool has_tl0_pic_idx = false;
  std::uint8_t tl0_pic_idx = 0;
  std::size_t tl0_pic_idx_offset = 0;
  bool has_tid = false;  // T: tid and layer_sync are meaningful
  std::uint8_t tid = 0;
  bool layer_sync = false;  // Y
  bool has_key_idx = false;
  std::uint8_t key_idx = 0;  // 5 bits
};

// nullopt when the descriptor is truncated or leaves no payload byte after it.
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const std::uint8_t> payload) noexcept;

// True when this packet starts a key frame: S=1, PID=0, and the payload header's P bit
// (bit 0 of the first byte after the descriptor, RFC 6386 §9.1: 0 = key frame) is 0.
bool is_vp8_keyframe_start(std::span<const std::uint8_t> payload, const Vp8Descriptor& d) noexcept;

struct Vp8Size {
  std::uint16_t width = 0, height = 0;
  bool operator==(const Vp8Size&) const = default;
};

// Key frame start only: after the 3-byte frame tag, the start code 9d 01 2a, then 14-bit
// little-endian width and height (the upper 2 bits of each are the scaling mode and are
// ignored; RFC 6386 §9.1). nullopt if not a key frame start, truncated, a wrong start code,
// or a zero width or height.
std::optional<Vp8Size> vp8_keyframe_size(std::span<const std::uint8_t> payload,
                                         const Vp8Descriptor& d) noexcept;

// Rewrite fields in place (payload must be the same buffer parse saw; the field must be
// present, else nothing is written). The field keeps its width: 7-bit picture ids are
// written modulo 128, 15-bit ones modulo 32768 with the M bit kept set.
void write_vp8_picture_id(std::span<std::uint8_t> payload, const Vp8Descriptor& d,
                          std::uint16_t picture_id) noexcept;
void write_vp8_tl0_pic_idx(std::span<std::uint8_t> payload, const Vp8Descriptor& d,
                           std::uint8_t tl0) noexcept;

}  // namespace conclave::sfu
