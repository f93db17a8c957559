// Who holds which media key, per docs/e2ee.md "Sender keys and epochs": our own sending
// key (ratcheted when someone joins, replaced when someone leaves) and the keys of the
// other senders, with an anti-replay window per KID and the previous epoch kept briefly
// for frames in flight. The frame layout is `clear prefix || SFrame`, with the prefix and
// its length authenticated as SFrame metadata.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "e2ee/keys.hpp"
#include "e2ee/sframe.hpp"

namespace conclave::e2ee {

using Clock = std::chrono::steady_clock;

// The VP8 payload-header bytes the SFU reads (RFC 6386 §9.1): 10 on a key frame (the
// frame tag, start code and dimensions), 3 otherwise. The key-frame bit is the low bit of
// the first byte (0 = key frame). 0 for an empty frame.
std::size_t vp8_clear_prefix(std::span<const std::uint8_t> frame);

// SFrame metadata for a clear prefix: u8(length) || prefix.
Bytes prefix_metadata(std::span<const std::uint8_t> prefix);

class SenderKey {
 public:
  SenderKey(std::uint32_t key_id, Bytes base_key);

  std::uint32_t key_id() const { return key_id_; }
  std::uint16_t epoch() const { return epoch_; }
  const Bytes& base_key() const { return base_; }

  // Someone joined: the next epoch is derived from this one (what the newcomer is sent).
  void ratchet();
  // Someone left: a fresh random key, which the remaining receivers are sent.
  void rekey(Bytes fresh_base_key);

  // Appends `frame[:prefix_len] || SFrame(frame[prefix_len:])` to `out`.
  bool protect(std::span<const std::uint8_t> frame, std::size_t prefix_len, Bytes& out);

 private:
  void derive_current();
  std::uint32_t key_id_;
  std::uint16_t epoch_ = 0;
  Bytes base_;
  KeyMaterial km_;
  std::uint64_t ctr_ = 0;
};

enum class FrameResult { kOk, kNoKey, kAuthentication, kReplay, kOldEpoch, kMalformed };

class ReceiverKeys {
 public:
  // How many join ratchets ahead of the newest key a frame may be and still be decrypted
  // with a key derived here (as the browser does, web/src/e2ee/media.ts).
  static constexpr std::uint16_t kMaxEpochsAhead = 8;

  explicit ReceiverKeys(Clock::duration previous_epoch_grace = std::chrono::seconds(2))
      : grace_(previous_epoch_grace) {}

  // A sender's key for an epoch, as delivered over a pairwise channel.
  void set(std::uint32_t key_id, std::uint16_t epoch, std::span<const std::uint8_t> base_key);
  // Someone joined: every sender's key moves one epoch on, derived locally (no message).
  void ratchet_all();
  void forget(std::uint32_t key_id);

  // Decrypts `frame` (clear prefix of `prefix_len` bytes, then SFrame) into `out`
  // (prefix || plaintext). Counts what it refuses.
  FrameResult unprotect(std::span<const std::uint8_t> frame, std::size_t prefix_len, Bytes& out,
                        Clock::time_point now);

  struct Counts {
    std::uint64_t ok = 0, no_key = 0, authentication = 0, replay = 0, old_epoch = 0, malformed = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  struct Epoch {
    std::uint16_t epoch = 0;
    Bytes base;
    KeyMaterial km;
    std::uint64_t highest = 0;
    bool any = false;
    std::uint64_t window = 0;  // bit i: highest - i was seen (i < 64)
  };
  struct Sender {
    Epoch current;
    std::optional<Epoch> previous;
    std::optional<Clock::time_point> current_since;  // first frame of the current epoch
  };
  static Epoch make_epoch(std::uint32_t key_id, std::uint16_t epoch, Bytes base);
  FrameResult count(FrameResult r);

  Clock::duration grace_;
  std::map<std::uint32_t, Sender> senders_;
  Counts counts_;
};

}  // namespace conclave::e2ee
