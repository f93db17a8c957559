#include "sfu/vp8.hpp"

namespace conclave::sfu {

std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const std::uint8_t> payload) noexcept {
  Vp8Descriptor d;
  std::size_t pos = 0;
  if (payload.size() < 1) return std::nullopt;
  const std::uint8_t first = payload[pos++];
  const bool extended = (first & 0x80) != 0;
  d.non_reference = (first & 0x20) != 0;
  d.start_of_partition = (first & 0x10) != 0;
  d.partition_index = first & 0x07;
  if (extended) {
    if (pos >= payload.size()) return std::nullopt;
    const std::uint8_t x = payload[pos++];
    d.has_picture_id = (x & 0x80) != 0;
    d.has_tl0_pic_idx = (x & 0x40) != 0;
    d.has_tid = (x & 0x20) != 0;
    d.has_key_idx = (x & 0x10) != 0;
    if (d.has_picture_id) {
      if (pos >= payload.size()) return std::nullopt;
      d.picture_id_offset = pos;
      const std::uint8_t p0 = payload[pos++];
      d.picture_id_15bit = (p0 & 0x80) != 0;
      if (d.picture_id_15bit) {
        if (pos >= payload.size()) return std::nullopt;
        d.picture_id = static_cast<std::uint16_t>(((p0 & 0x7F) << 8) | payload[pos++]);
      } else {
        d.picture_id = p0 & 0x7F;
      }
    }
    if (d.has_tl0_pic_idx) {
      if (pos >= payload.size()) return std::nullopt;
      d.tl0_pic_idx_offset = pos;
      d.tl0_pic_idx = payload[pos++];
    }
    if (d.has_tid || d.has_key_idx) {
      if (pos >= payload.size()) return std::nullopt;
      const std::uint8_t tk = payload[pos++];
      if (d.has_tid) {
        d.tid = static_cast<std::uint8_t>(tk >> 6);
        d.layer_sync = (tk & 0x20) != 0;
      }
      if (d.has_key_idx) d.key_idx = tk & 0x1F;
    }
  }
  // §4.3: the VP8 payload follows; an empty one is malformed.
  if (pos >= payload.size()) return std::nullopt;
  d.size = pos;
  return d;
}

bool is_vp8_keyframe_start(std::span<const std::uint8_t> payload, const Vp8Descriptor& d) noexcept {
  if (!d.start_of_partition || d.partition_index != 0) return false;
  if (d.size >= payload.size()) return false;
  return (payload[d.size] & 0x01) == 0;
}

std::optional<Vp8Size> vp8_keyframe_size(std::span<const std::uint8_t> payload,
                                         const Vp8Descriptor& d) noexcept {
  // 3-byte frame tag, 3-byte start code, 2 bytes width, 2 bytes height.
  constexpr std::size_t kKeyframeHeaderSize = 10;
  if (!is_vp8_keyframe_start(payload, d)) return std::nullopt;
  if (payload.size() - d.size < kKeyframeHeaderSize) return std::nullopt;
  const std::uint8_t* h = payload.data() + d.size;
  if (h[3] != 0x9D || h[4] != 0x01 || h[5] != 0x2A) return std::nullopt;
  Vp8Size size;
  size.width = static_cast<std::uint16_t>((h[6] | (h[7] << 8)) & 0x3FFF);
  size.height = static_cast<std::uint16_t>((h[8] | (h[9] << 8)) & 0x3FFF);
  if (size.width == 0 || size.height == 0) return std::nullopt;
  return size;
}

void write_vp8_picture_id(std::span<std::uint8_t> payload, const Vp8Descriptor& d,
                          std::uint16_t picture_id) noexcept {
  if (!d.has_picture_id) return;
  if (d.picture_id_15bit) {
    if (d.picture_id_offset + 1 >= payload.size()) return;
    payload[d.picture_id_offset] = static_cast<std::uint8_t>(0x80 | ((picture_id >> 8) & 0x7F));
    payload[d.picture_id_offset + 1] = static_cast<std::uint8_t>(picture_id);
  } else {
    if (d.picture_id_offset >= payload.size()) return;
    payload[d.picture_id_offset] = static_cast<std::uint8_t>(picture_id & 0x7F);
  }
}

void write_vp8_tl0_pic_idx(std::span<std::uint8_t> payload, const Vp8Descriptor& d,
                           std::uint8_t tl0) noexcept {
  if (!d.has_tl0_pic_idx || d.tl0_pic_idx_offset >= payload.size()) return;
  payload[d.tl0_pic_idx_offset] = tl0;
}

}  // namespace conclave::sfu
