// Tests of sfu/vp8: the RFC 7741 §4.2 payload descriptor, key frame detection and size
// (RFC 6386 §9.1), and the in-place picture id / TL0PICIDX writers.
//
// Fixtures are hand-built from the RFC 7741 §4.2 figure; the key frame header bytes follow
// RFC 6386 §9.1 (frame tag with P = 0, start code 9d 01 2a, 14-bit little-endian sizes).
#include "sfu/vp8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace conclave::sfu {
namespace {

using Bytes = std::vector<std::uint8_t>;

// X=1 S=1 PID=0 | I L T K | M + 15-bit picture id 0x1234 | TL0PICIDX 0x56 | TID=2 Y=1
// KEYIDX=5 | key frame header of a 640x480 frame (scale bits set, to be ignored).
Bytes full_keyframe() {
  return {
      0x90,              // X=1 R=0 N=0 S=1 R=0 PID=0
      0xF0,              // I L T K
      0x92, 0x34,        // M=1, picture id 0x1234
      0x56,              // TL0PICIDX
      0xA5,              // TID=2 Y=1 KEYIDX=5
      0x10, 0x02, 0x00,  // frame tag: P=0 (key frame), version 0, show_frame
      0x9D, 0x01, 0x2A,  // start code
      0x80, 0x42,        // width 640 | scale 1 << 14
      0xE0, 0xC1,        // height 480 | scale 3 << 14
      0xAA, 0xBB,        // rest of the frame
  };
}

TEST(Vp8Descriptor, ParsesEveryField) {
  const Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 6u);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 0);
  EXPECT_FALSE(d->non_reference);
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 0x1234);
  EXPECT_EQ(d->picture_id_offset, 2u);
  EXPECT_TRUE(d->has_tl0_pic_idx);
  EXPECT_EQ(d->tl0_pic_idx, 0x56);
  EXPECT_EQ(d->tl0_pic_idx_offset, 4u);
  EXPECT_TRUE(d->has_tid);
  EXPECT_EQ(d->tid, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_TRUE(d->has_key_idx);
  EXPECT_EQ(d->key_idx, 5);
}

TEST(Vp8Descriptor, MinimalOneByte) {
  const Bytes p = {0x2B, 0xFF};  // N=1 S=0 PID=3 and one payload byte
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 1u);
  EXPECT_TRUE(d->non_reference);
  EXPECT_FALSE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 3);
  EXPECT_FALSE(d->has_picture_id);
  EXPECT_FALSE(d->has_tl0_pic_idx);
  EXPECT_FALSE(d->has_tid);
  EXPECT_FALSE(d->has_key_idx);
}

TEST(Vp8Descriptor, ReservedBitsIgnored) {
  // R bits in the first byte and RSV bits in the X byte set: receivers MUST ignore them.
  const Bytes p = {0xC8 | 0x10, 0x0F, 0x00};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 2u);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_FALSE(d->has_picture_id);
  EXPECT_FALSE(d->has_tid);
}

TEST(Vp8Descriptor, SevenBitPictureId) {
  const Bytes p = {0x80, 0x80, 0x7E, 0x00};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 3u);
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 0x7E);
}

TEST(Vp8Descriptor, KeyIdxWithoutTid) {
  // K=1, T=0: the T/K byte is there, only KEYIDX is meaningful.
  const Bytes p = {0x80, 0x10, 0xFF, 0x00};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 3u);
  EXPECT_FALSE(d->has_tid);
  EXPECT_EQ(d->tid, 0);
  EXPECT_FALSE(d->layer_sync);
  EXPECT_TRUE(d->has_key_idx);
  EXPECT_EQ(d->key_idx, 0x1F);
}

TEST(Vp8Descriptor, TidWithoutKeyIdx) {
  const Bytes p = {0x80, 0x20, 0x5F, 0x00};  // TID=1 Y=0, KEYIDX bits set but K=0
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_tid);
  EXPECT_EQ(d->tid, 1);
  EXPECT_FALSE(d->layer_sync);
  EXPECT_FALSE(d->has_key_idx);
  EXPECT_EQ(d->key_idx, 0);
}

TEST(Vp8Descriptor, Tl0WithoutPictureId) {
  const Bytes p = {0x90, 0x40, 0x07, 0x00};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->has_picture_id);
  EXPECT_TRUE(d->has_tl0_pic_idx);
  EXPECT_EQ(d->tl0_pic_idx, 7);
  EXPECT_EQ(d->tl0_pic_idx_offset, 2u);
  EXPECT_EQ(d->size, 3u);
}

TEST(Vp8Descriptor, EveryTruncationFails) {
  const Bytes p = full_keyframe();
  // The descriptor is 6 bytes; anything up to and including it has no payload byte.
  for (std::size_t n = 0; n <= 6; ++n) {
    EXPECT_FALSE(parse_vp8_descriptor(std::span(p.data(), n))) << n;
  }
  for (std::size_t n = 7; n <= p.size(); ++n) {
    EXPECT_TRUE(parse_vp8_descriptor(std::span(p.data(), n))) << n;
  }
}

TEST(Vp8Descriptor, EveryTruncationOfEachLayoutFails) {
  const std::vector<Bytes> layouts = {
      {0x10},                          // no X
      {0x80, 0x00},                    // X, nothing in it
      {0x80, 0x80, 0x05},              // 7-bit picture id
      {0x80, 0x80, 0x85, 0x01},        // 15-bit picture id
      {0x80, 0x40, 0x01},              // TL0PICIDX
      {0x80, 0x20, 0x40},              // T
      {0x80, 0x10, 0x01},              // K
      {0x80, 0xC0, 0x85, 0x01, 0x09},  // I (15) + L
      {0x80, 0xA0, 0x05, 0x40},        // I (7) + T
  };
  for (const Bytes& descriptor : layouts) {
    Bytes p = descriptor;
    p.push_back(0x01);
    const auto whole = parse_vp8_descriptor(p);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->size, descriptor.size());
    for (std::size_t n = 0; n < p.size(); ++n) {
      EXPECT_FALSE(parse_vp8_descriptor(std::span(p.data(), n))) << n;
    }
  }
}

TEST(Vp8Keyframe, DetectsKeyframeStart) {
  const Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_TRUE(is_vp8_keyframe_start(p, *d));
}

TEST(Vp8Keyframe, InterFrameIsNotKeyframe) {
  Bytes p = full_keyframe();
  p[6] |= 0x01;  // P = 1
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(is_vp8_keyframe_start(p, *d));
  EXPECT_FALSE(vp8_keyframe_size(p, *d));
}

TEST(Vp8Keyframe, NotStartOfPartitionOrNotFirstPartition) {
  Bytes p = full_keyframe();
  p[0] &= static_cast<std::uint8_t>(~0x10);  // S = 0
  auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(is_vp8_keyframe_start(p, *d));

  p = full_keyframe();
  p[0] |= 0x01;  // PID = 1
  d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(is_vp8_keyframe_start(p, *d));
  EXPECT_FALSE(vp8_keyframe_size(p, *d));
}

TEST(Vp8Keyframe, DescriptorFromAnotherBufferIsRefused) {
  const Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(is_vp8_keyframe_start(std::span(p.data(), d->size), *d));
}

TEST(Vp8Keyframe, SizeIgnoresScaleBits) {
  const Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  const auto size = vp8_keyframe_size(p, *d);
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 640);
  EXPECT_EQ(size->height, 480);
}

TEST(Vp8Keyframe, LargestSize) {
  const Bytes p = {0x10, 0x00, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0xFF, 0xFF, 0xFF, 0x3F};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  const auto size = vp8_keyframe_size(p, *d);
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 0x3FFF);
  EXPECT_EQ(size->height, 0x3FFF);
}

TEST(Vp8Keyframe, SizeTruncationsFail) {
  const Bytes p = full_keyframe();
  // Descriptor 6 bytes + 10 bytes of key frame header = 16.
  for (std::size_t n = 7; n < 16; ++n) {
    const std::span<const std::uint8_t> cut(p.data(), n);
    const auto d = parse_vp8_descriptor(cut);
    ASSERT_TRUE(d) << n;
    EXPECT_TRUE(is_vp8_keyframe_start(cut, *d)) << n;
    EXPECT_FALSE(vp8_keyframe_size(cut, *d)) << n;
  }
  const std::span<const std::uint8_t> exact(p.data(), 16);
  const auto d = parse_vp8_descriptor(exact);
  ASSERT_TRUE(d);
  EXPECT_EQ(vp8_keyframe_size(exact, *d), (Vp8Size{640, 480}));
}

TEST(Vp8Keyframe, BadStartCodeOrZeroSize) {
  for (std::size_t i = 9; i <= 11; ++i) {
    Bytes p = full_keyframe();
    p[i] ^= 0x01;
    const auto d = parse_vp8_descriptor(p);
    ASSERT_TRUE(d);
    EXPECT_FALSE(vp8_keyframe_size(p, *d)) << i;
  }
  Bytes p = full_keyframe();
  p[12] = 0x00;
  p[13] = 0x40;  // width 0 with a scale bit
  auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(vp8_keyframe_size(p, *d));
  p = full_keyframe();
  p[14] = 0x00;
  p[15] = 0xC0;  // height 0
  d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_FALSE(vp8_keyframe_size(p, *d));
}

TEST(Vp8Write, FifteenBitPictureIdModulo32768) {
  Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  write_vp8_picture_id(p, *d, 0x7FFF);
  EXPECT_EQ(p[2], 0xFF);
  EXPECT_EQ(p[3], 0xFF);
  EXPECT_EQ(parse_vp8_descriptor(p)->picture_id, 0x7FFF);
  write_vp8_picture_id(p, *d, 0x8001);  // wraps to 1
  EXPECT_EQ(p[2], 0x80);                // M stays set
  EXPECT_EQ(p[3], 0x01);
  const auto again = parse_vp8_descriptor(p);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->picture_id_15bit);
  EXPECT_EQ(again->picture_id, 1);
  // Nothing else moved.
  Bytes expected = full_keyframe();
  expected[2] = 0x80;
  expected[3] = 0x01;
  EXPECT_EQ(p, expected);
}

TEST(Vp8Write, SevenBitPictureIdModulo128) {
  Bytes p = {0x90, 0x80, 0x05, 0x77};
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  write_vp8_picture_id(p, *d, 130);
  EXPECT_EQ(p, (Bytes{0x90, 0x80, 0x02, 0x77}));
  write_vp8_picture_id(p, *d, 0x7F);
  EXPECT_EQ(p, (Bytes{0x90, 0x80, 0x7F, 0x77}));
}

TEST(Vp8Write, Tl0PicIdx) {
  Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  write_vp8_tl0_pic_idx(p, *d, 0xFE);
  EXPECT_EQ(p[4], 0xFE);
  EXPECT_EQ(parse_vp8_descriptor(p)->tl0_pic_idx, 0xFE);
}

TEST(Vp8Write, AbsentFieldsAreLeftAlone) {
  Bytes p = {0x90, 0x20, 0x40, 0x01};  // X with only T
  const Bytes original = p;
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  write_vp8_picture_id(p, *d, 0x1234);
  write_vp8_tl0_pic_idx(p, *d, 9);
  EXPECT_EQ(p, original);
}

TEST(Vp8Write, ShorterBufferThanParsedIsLeftAlone) {
  Bytes p = full_keyframe();
  const auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  Bytes small(3, 0);
  write_vp8_picture_id(small, *d, 0x1234);  // 15-bit id needs offsets 2 and 3
  write_vp8_tl0_pic_idx(small, *d, 1);      // offset 4
  EXPECT_EQ(small, Bytes(3, 0));
}

}  // namespace
}  // namespace conclave::sfu
