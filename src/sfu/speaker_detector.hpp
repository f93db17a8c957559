// Dominant-speaker detection for one room, from the audio level each publisher puts in its
// packets (RFC 6464 §3: V bit for voice activity, level 0..127 meaning -0..-127 dBov, 127
// = silence; the SFU reads the header extension, never the encrypted payload), and the
// relevance order of participants that last-N forwarding uses (sfu/layer_allocator.hpp).
//
// Who calls it: the room's receive path calls on_audio_level() for every audio packet that
// carries the extension; a room timer calls update() every 100–300 ms and, when it returns
// true, tells the participants (active-speaker event) and re-runs layer allocation.
// Participants are added and removed at control time.
//
// How (a simplified form of Volfin & Cohen's short/medium window scheme that Jitsi uses):
// - Each packet's level becomes an activity in [0, 1]: 1 at -40 dBov or louder, 0 at -70
//   dBov or quieter, linear between; halved when the V bit says no voice (senders that
//   never set V still rank among themselves).
// - update() averages the activity since the last update (no packets, e.g. DTX or mute,
//   counts as 0) and feeds it to two exponential averages per participant: short
//   (τ = 0.3 s) and medium (τ = 1 s).
// - With no dominant speaker, the most active participant becomes dominant as soon as
//   both its averages reach 0.3 (about 0.4 s of speech; a short cough does not get there).
// - A challenger takes over only when its medium average exceeds 1.3 × the dominant's
//   plus 0.05, its short average is at least 0.3 and above the dominant's, and all of
//   that holds at every update for 0.5 s. After a clean hand-over that is about 1.4 s.
//   Overlapping speakers at similar levels therefore never swap, and a cough or a "yes"
//   in someone else's pause does not take over.
// - Silence everywhere keeps the last dominant speaker (the picture does not jump away
//   when someone pauses); removing the dominant speaker clears it until the next update.
// - speaking(p): a packet with activity ≥ 0.5 arrived within 500 ms of the last update.
// - order(): the current dominant first, then by how recently each was dominant, then by
//   how recently each was speaking, then join order. Recency is taken at update() times,
//   so the order only changes at updates, and simultaneous speakers keep join order.
//
// Packet path rules: on_audio_level(), update() and the queries are noexcept, do not
// allocate (per-participant state and the order are sized by add/remove, which run at
// control time and may allocate) and never log. Time is passed in by the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;

class SpeakerDetector {
 public:
  // Tuning, see the header comment.
  static constexpr std::uint8_t kFullActivityLevel = 40;  // -40 dBov
  static constexpr std::uint8_t kNoActivityLevel = 70;    // -70 dBov
  static constexpr double kNoVoiceWeight = 0.5;
  static constexpr double kLoudActivity = 0.5;
  static constexpr std::chrono::milliseconds kSpeakingHold{500};
  static constexpr double kShortTauSeconds = 0.3;
  static constexpr double kMediumTauSeconds = 1.0;
  static constexpr double kMinActivity = 0.3;
  static constexpr double kTakeoverRatio = 1.3;
  static constexpr double kTakeoverMargin = 0.05;
  static constexpr std::chrono::milliseconds kTakeoverTime{500};

  explicit SpeakerDetector(std::size_t max_speakers = 256);

  // Control time. add() of a known participant, or beyond max_speakers, does nothing.
  void add(std::uint64_t participant);
  void remove(std::uint64_t participant);

  // Unknown participants are ignored.
  void on_audio_level(std::uint64_t participant, std::uint8_t level, bool voice,
                      Clock::time_point now) noexcept;

  // Re-evaluates (call every ~100–300 ms). Returns true when the dominant speaker or the
  // speaking set changed.
  bool update(Clock::time_point now) noexcept;

  std::optional<std::uint64_t> dominant() const noexcept { return dominant_; }
  // As of the last update().
  bool speaking(std::uint64_t participant) const noexcept;
  // Participants by relevance, for last-N (see the header comment).
  std::span<const std::uint64_t> order() const noexcept { return order_; }

  std::size_t size() const noexcept { return slots_.size(); }
  bool contains(std::uint64_t participant) const noexcept;
  // The smoothed activities (0..1), for tests and metrics; 0 for unknown participants.
  double short_activity(std::uint64_t participant) const noexcept;
  double medium_activity(std::uint64_t participant) const noexcept;

 private:
  struct Slot {
    std::uint64_t id = 0;
    std::uint64_t join_seq = 0;
    double activity_sum = 0;
    std::uint32_t samples = 0;
    std::optional<Clock::time_point> last_loud;
    double short_avg = 0;
    double medium_avg = 0;
    bool speaking = false;
    std::optional<Clock::time_point> last_dominant;
    std::optional<Clock::time_point> last_speaking;
  };

  const Slot* find(std::uint64_t participant) const noexcept;
  Slot* find(std::uint64_t participant) noexcept;
  void rebuild_order() noexcept;

  std::size_t max_speakers_;
  std::vector<Slot> slots_;
  std::unordered_map<std::uint64_t, std::size_t> index_;  // participant → slot
  std::vector<std::size_t> order_index_;                  // scratch for rebuild_order
  std::vector<std::uint64_t> order_;
  std::uint64_t next_join_seq_ = 0;

  std::optional<std::uint64_t> dominant_;
  std::optional<std::uint64_t> challenger_;
  Clock::time_point challenger_since_{};
  std::optional<Clock::time_point> last_update_;
};

}  // namespace conclave::sfu
