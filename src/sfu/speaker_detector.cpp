#include "sfu/speaker_detector.hpp"

#include <algorithm>
#include <cmath>

namespace conclave::sfu {

namespace {

double level_activity(std::uint8_t level, bool voice) noexcept {
  double a;
  if (level <= SpeakerDetector::kFullActivityLevel) {
    a = 1;
  } else if (level >= SpeakerDetector::kNoActivityLevel) {
    a = 0;
  } else {
    a = static_cast<double>(SpeakerDetector::kNoActivityLevel - level) /
        (SpeakerDetector::kNoActivityLevel - SpeakerDetector::kFullActivityLevel);
  }
  return voice ? a : a * SpeakerDetector::kNoVoiceWeight;
}

// An earlier optional time sorts after a later one; none sorts last.
int compare_recency(const std::optional<Clock::time_point>& a,
                    const std::optional<Clock::time_point>& b) noexcept {
  if (a == b) return 0;
  if (!a) return 1;
  if (!b) return -1;
  return *a > *b ? -1 : 1;
}

}  // namespace

SpeakerDetector::SpeakerDetector(std::size_t max_speakers) : max_speakers_(max_speakers) {
  slots_.reserve(max_speakers_);
  index_.reserve(max_speakers_);
  order_index_.reserve(max_speakers_);
  order_.reserve(max_speakers_);
}

void SpeakerDetector::add(std::uint64_t participant) {
  if (index_.contains(participant) || slots_.size() >= max_speakers_) return;
  Slot slot;
  slot.id = participant;
  slot.join_seq = next_join_seq_++;
  index_.emplace(participant, slots_.size());
  slots_.push_back(slot);
  order_index_.resize(slots_.size());
  order_.resize(slots_.size());
  rebuild_order();
}

void SpeakerDetector::remove(std::uint64_t participant) {
  const auto it = index_.find(participant);
  if (it == index_.end()) return;
  const std::size_t at = it->second;
  index_.erase(it);
  if (at + 1 != slots_.size()) {
    slots_[at] = slots_.back();
    index_[slots_[at].id] = at;
  }
  slots_.pop_back();
  order_index_.resize(slots_.size());
  order_.resize(slots_.size());
  if (dominant_ == participant) dominant_.reset();
  if (challenger_ == participant) challenger_.reset();
  rebuild_order();
}

const SpeakerDetector::Slot* SpeakerDetector::find(std::uint64_t participant) const noexcept {
  const auto it = index_.find(participant);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

SpeakerDetector::Slot* SpeakerDetector::find(std::uint64_t participant) noexcept {
  const auto it = index_.find(participant);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

bool SpeakerDetector::contains(std::uint64_t participant) const noexcept {
  return find(participant) != nullptr;
}

bool SpeakerDetector::speaking(std::uint64_t participant) const noexcept {
  const Slot* s = find(participant);
  return s != nullptr && s->speaking;
}

double SpeakerDetector::short_activity(std::uint64_t participant) const noexcept {
  const Slot* s = find(participant);
  return s != nullptr ? s->short_avg : 0.0;
}

double SpeakerDetector::medium_activity(std::uint64_t participant) const noexcept {
  const Slot* s = find(participant);
  return s != nullptr ? s->medium_avg : 0.0;
}

void SpeakerDetector::on_audio_level(std::uint64_t participant, std::uint8_t level, bool voice,
                                     Clock::time_point now) noexcept {
  Slot* s = find(participant);
  if (s == nullptr) return;
  const double activity = level_activity(static_cast<std::uint8_t>(level & 0x7F), voice);
  s->activity_sum += activity;
  ++s->samples;
  if (activity >= kLoudActivity) s->last_loud = now;
}

bool SpeakerDetector::update(Clock::time_point now) noexcept {
  using Seconds = std::chrono::duration<double>;
  const double dt = last_update_ ? std::clamp(Seconds(now - *last_update_).count(), 0.0, 2.0)
                                 : 0.1;  // the first update: one nominal interval
  last_update_ = now;
  const double short_alpha = 1 - std::exp(-dt / kShortTauSeconds);
  const double medium_alpha = 1 - std::exp(-dt / kMediumTauSeconds);

  bool changed = false;
  for (Slot& s : slots_) {
    const double activity = s.samples > 0 ? s.activity_sum / s.samples : 0.0;
    s.activity_sum = 0;
    s.samples = 0;
    s.short_avg += short_alpha * (activity - s.short_avg);
    s.medium_avg += medium_alpha * (activity - s.medium_avg);
    const bool speaking_now = s.last_loud && now - *s.last_loud <= kSpeakingHold;
    if (speaking_now != s.speaking) changed = true;
    s.speaking = speaking_now;
    if (speaking_now) s.last_speaking = now;
  }

  const Slot* current = dominant_ ? find(*dominant_) : nullptr;
  // The most active other participant that is speaking enough to be considered at all.
  const Slot* best = nullptr;
  for (const Slot& s : slots_) {
    if (&s == current || s.short_avg < kMinActivity || s.medium_avg < kMinActivity) continue;
    if (best == nullptr || s.medium_avg > best->medium_avg) best = &s;
  }
  if (current == nullptr) {
    challenger_.reset();
    if (best != nullptr) {
      dominant_ = best->id;
      changed = true;
    }
  } else if (best != nullptr &&
             best->medium_avg > kTakeoverRatio * current->medium_avg + kTakeoverMargin &&
             best->short_avg > current->short_avg) {
    if (challenger_ != best->id) {
      challenger_ = best->id;
      challenger_since_ = now;
    } else if (now - challenger_since_ >= kTakeoverTime) {
      dominant_ = best->id;
      challenger_.reset();
      changed = true;
    }
  } else {
    challenger_.reset();
  }
  if (dominant_) {
    if (Slot* d = find(*dominant_)) d->last_dominant = now;
  }
  rebuild_order();
  return changed;
}

void SpeakerDetector::rebuild_order() noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i) order_index_[i] = i;
  std::sort(order_index_.begin(), order_index_.end(), [this](std::size_t a, std::size_t b) {
    const Slot& x = slots_[a];
    const Slot& y = slots_[b];
    const bool x_dominant = dominant_ == x.id;
    const bool y_dominant = dominant_ == y.id;
    if (x_dominant != y_dominant) return x_dominant;
    if (const int c = compare_recency(x.last_dominant, y.last_dominant); c != 0) return c < 0;
    if (const int c = compare_recency(x.last_speaking, y.last_speaking); c != 0) return c < 0;
    return x.join_seq < y.join_seq;
  });
  for (std::size_t i = 0; i < slots_.size(); ++i) order_[i] = slots_[order_index_[i]].id;
}

}  // namespace conclave::sfu
