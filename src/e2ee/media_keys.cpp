#include "e2ee/media_keys.hpp"

namespace conclave::e2ee {

std::size_t vp8_clear_prefix(std::span<const std::uint8_t> frame) {
  if (frame.empty()) return 0;
  const std::size_t want = (frame[0] & 1) == 0 ? 10 : 3;
  return std::min(want, frame.size());
}

Bytes prefix_metadata(std::span<const std::uint8_t> prefix) {
  Bytes m;
  m.push_back(static_cast<std::uint8_t>(prefix.size()));
  m.insert(m.end(), prefix.begin(), prefix.end());
  return m;
}

SenderKey::SenderKey(std::uint32_t key_id, Bytes base_key)
    : key_id_(key_id), base_(std::move(base_key)) {
  derive_current();
}

void SenderKey::derive_current() {
  km_ = *derive(CipherSuite::kAes128GcmSha256_128, kid_of(key_id_, epoch_), base_);
  ctr_ = 0;
}

void SenderKey::ratchet() {
  base_ = e2ee::ratchet(base_);
  ++epoch_;
  derive_current();
}

void SenderKey::rekey(Bytes fresh) {
  base_ = std::move(fresh);
  ++epoch_;
  derive_current();
}

bool SenderKey::protect(std::span<const std::uint8_t> frame, std::size_t prefix_len, Bytes& out) {
  if (prefix_len > frame.size() || prefix_len > 255) return false;
  const auto prefix = frame.first(prefix_len);
  out.insert(out.end(), prefix.begin(), prefix.end());
  return e2ee::protect(km_, ctr_++, prefix_metadata(prefix), frame.subspan(prefix_len), out);
}

ReceiverKeys::Epoch ReceiverKeys::make_epoch(std::uint32_t key_id, std::uint16_t epoch,
                                             Bytes base) {
  Epoch e;
  e.epoch = epoch;
  e.km = *derive(CipherSuite::kAes128GcmSha256_128, kid_of(key_id, epoch), base);
  e.base = std::move(base);
  return e;
}

void ReceiverKeys::set(std::uint32_t key_id, std::uint16_t epoch,
                       std::span<const std::uint8_t> base_key) {
  auto it = senders_.find(key_id);
  if (it == senders_.end()) {
    senders_[key_id].current = make_epoch(key_id, epoch, Bytes(base_key.begin(), base_key.end()));
    return;
  }
  Sender& s = it->second;
  if (epoch == s.current.epoch) return;
  if (static_cast<std::uint16_t>(epoch - s.current.epoch) > 0x8000) return;  // an older one
  s.previous = std::move(s.current);
  s.current = make_epoch(key_id, epoch, Bytes(base_key.begin(), base_key.end()));
  s.current_since.reset();
}

void ReceiverKeys::ratchet_all() {
  for (auto& [key_id, s] : senders_) {
    const auto next = e2ee::ratchet(s.current.base);
    s.previous = std::move(s.current);
    s.current = make_epoch(key_id, static_cast<std::uint16_t>(s.previous->epoch + 1), next);
    s.current_since.reset();
  }
}

void ReceiverKeys::forget(std::uint32_t key_id) {
  senders_.erase(key_id);
}

FrameResult ReceiverKeys::count(FrameResult r) {
  switch (r) {
    case FrameResult::kOk:
      ++counts_.ok;
      break;
    case FrameResult::kNoKey:
      ++counts_.no_key;
      break;
    case FrameResult::kAuthentication:
      ++counts_.authentication;
      break;
    case FrameResult::kReplay:
      ++counts_.replay;
      break;
    case FrameResult::kOldEpoch:
      ++counts_.old_epoch;
      break;
    case FrameResult::kMalformed:
      ++counts_.malformed;
      break;
  }
  return r;
}

FrameResult ReceiverKeys::unprotect(std::span<const std::uint8_t> frame, std::size_t prefix_len,
                                    Bytes& out, Clock::time_point now) {
  if (prefix_len > frame.size() || prefix_len > 255) return count(FrameResult::kMalformed);
  const auto prefix = frame.first(prefix_len);
  const auto body = frame.subspan(prefix_len);
  const auto header = decode_header(body);
  if (!header) return count(FrameResult::kMalformed);
  const auto key_id = static_cast<std::uint32_t>(header->first.kid >> 16);
  const auto epoch = static_cast<std::uint16_t>(header->first.kid & 0xffff);
  const auto it = senders_.find(key_id);
  if (it == senders_.end()) return count(FrameResult::kNoKey);
  Sender& s = it->second;
  // The previous epoch stays usable for a short while after the new one started.
  if (s.previous && s.current_since && now - *s.current_since > grace_) s.previous.reset();
  Epoch* e = nullptr;
  std::optional<Epoch> tentative;
  if (epoch == s.current.epoch) {
    e = &s.current;
  } else if (s.previous && epoch == s.previous->epoch) {
    e = &*s.previous;
  } else {
    const bool older = static_cast<std::uint16_t>(s.current.epoch - epoch) < 0x8000;
    if (older) return count(FrameResult::kOldEpoch);
    // A few epochs ahead: the sender ratcheted for a join we have not heard of yet. Derive
    // it (docs/e2ee.md); a rekey cannot be derived, and then fails as "no key yet".
    const auto steps = static_cast<std::uint16_t>(epoch - s.current.epoch);
    if (steps > kMaxEpochsAhead) return count(FrameResult::kNoKey);
    Bytes base = s.current.base;
    for (std::uint16_t i = 0; i < steps; ++i) base = e2ee::ratchet(base);
    tentative = make_epoch(key_id, epoch, std::move(base));
    e = &*tentative;
  }
  const auto ctr = header->first.ctr;
  if (e->any && ctr <= e->highest) {
    const auto age = e->highest - ctr;
    if (age >= 64 || (e->window >> age) & 1) return count(FrameResult::kReplay);
  }
  const std::size_t start = out.size();
  out.insert(out.end(), prefix.begin(), prefix.end());
  const auto err =
      e2ee::unprotect([&](std::uint64_t) { return &e->km; }, prefix_metadata(prefix), body, out);
  if (err) {
    out.resize(start);
    return count(tentative ? FrameResult::kNoKey : FrameResult::kAuthentication);
  }
  if (tentative) {
    s.previous = std::move(s.current);
    s.current = std::move(*tentative);
    s.current_since.reset();
    e = &s.current;
  }
  // Only an authentic frame moves the window.
  if (!e->any || ctr > e->highest) {
    const auto shift = e->any ? ctr - e->highest : 64;
    e->window = shift >= 64 ? 1 : (e->window << shift) | 1;
    e->highest = ctr;
    e->any = true;
  } else {
    e->window |= std::uint64_t{1} << (e->highest - ctr);
  }
  if (e == &s.current && !s.current_since) s.current_since = now;
  return count(FrameResult::kOk);
}

}  // namespace conclave::e2ee
