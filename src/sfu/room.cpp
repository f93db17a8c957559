#include "sfu/room.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "rtc/rtcp.hpp"
#include "sfu/test_tap.hpp"
#include "sfu/vp8.hpp"

namespace conclave::sfu {

namespace {

using rtc::WebRtcTransport;
using State = rtc::WebRtcTransport::State;

constexpr unsigned kTicksPerReport = 50;      // 1 s of 20 ms ticks
constexpr unsigned kTicksPerAllocation = 25;  // 500 ms
constexpr unsigned kTicksPerSpeakerUpdate = 10;
constexpr std::chrono::seconds kLayerIdle{1};
constexpr std::size_t kCacheSlots = 256;
constexpr std::size_t kSentLogSlots = 1024;
constexpr std::size_t kMaxRtcpDatagram = 1200;
constexpr std::size_t kMaxBindings = 64;  // SSRCs of one publish connection: 8 tracks × 3 × 2
constexpr std::size_t kMaxNacksPerPacket = 64;
constexpr std::chrono::milliseconds kMinResendInterval{30};
constexpr std::chrono::milliseconds kPublisherNackRtt{50};

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

std::uint64_t ntp_now() {
  return to_ntp(std::chrono::system_clock::now());
}

std::uint32_t source_key(std::uint32_t ssrc, std::uint32_t epoch) {
  return ssrc ^ (epoch * 0x9E3779B1u);
}

// The two header extensions every packet to a subscriber carries: abs-send-time (for a
// receiver's REMB estimate) and our transport-wide sequence number (for its feedback).
struct OutExtensions {
  std::array<std::uint8_t, 3> abs_send_time{};
  std::array<std::uint8_t, 2> transport_seq{};
  std::array<rtc::ExtensionElement, 2> elements;
  OutExtensions(std::uint16_t seq, Clock::time_point now) noexcept
      : elements{{{kOutExtAbsSendTime, abs_send_time}, {kOutExtTransportCc, transport_seq}}} {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    rtc::write_abs_send_time(abs_send_time, rtc::abs_send_time_from_us(us));
    rtc::write_transport_sequence_number(transport_seq, seq);
  }
  OutExtensions(const OutExtensions&) = delete;  // elements point into this object
  OutExtensions& operator=(const OutExtensions&) = delete;
};

TrackSource allocator_source(Source s) {
  switch (s) {
    case Source::kScreen:
      return TrackSource::kScreen;
    case Source::kMicrophone:
      return TrackSource::kMicrophone;
    case Source::kCamera:
      break;
  }
  return TrackSource::kCamera;
}

}  // namespace

// The listener of one of a participant's two transports. The transport (and this, which
// WebRtcServer keeps beside it) may outlive the participant by a tick: detach() cuts the
// way back before the Room forgets the participant.
class Room::Link final : public rtc::WebRtcTransport::Listener {
 public:
  Link(Room& room, Participant& participant, TransportRole role)
      : room_(&room), participant_(&participant), role_(role) {}
  void detach() { room_ = nullptr; }

  void on_state(WebRtcTransport&, State state, std::string_view) override {
    if (room_) room_->on_state(*participant_, role_, state);
  }
  void on_rtp(WebRtcTransport&, std::span<std::uint8_t> packet, std::size_t) noexcept override {
    // A subscriber has nothing to send us but RTCP; anything else is ignored.
    if (room_ && role_ == TransportRole::kPublish) room_->on_publisher_rtp(*participant_, packet);
  }
  void on_rtcp(WebRtcTransport&, std::span<std::uint8_t> packet, std::size_t) noexcept override {
    if (!room_) return;
    if (role_ == TransportRole::kPublish) {
      room_->on_publisher_rtcp(*participant_, packet);
    } else {
      room_->on_subscriber_rtcp(*participant_, packet);
    }
  }

 private:
  Room* room_;                // Null once detached.
  Participant* participant_;  // Valid while room_ is set.
  TransportRole role_;
};

Room::Room(RoomId id, rtc::WebRtcServer& server, SfuCounters& counters, RoomConfig config,
           const EventSink& sink, std::span<std::uint8_t> scratch)
    : id_(id),
      server_(server),
      counters_(counters),
      config_(config),
      sink_(sink),
      scratch_(scratch) {}

Room::~Room() {
  for (auto& p : participants_) {
    close_transport(*p, TransportRole::kPublish);
    close_transport(*p, TransportRole::kSubscribe);
  }
}

// ---------------------------------------------------------------------------------------
// Control commands.

Room::Participant* Room::find(ParticipantId id) {
  for (auto& p : participants_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

Room::PublishedTrack* Room::find_track(TrackId id) {
  const auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : it->second;
}

void Room::add_participant(ParticipantId id) {
  if (find(id)) return;
  auto p = std::make_unique<Participant>();
  p->id = id;
  p->rtcp_ssrc = random_u32() | 1;
  p->bindings.reserve(kMaxBindings);
  speakers_.add(id);
  participants_.push_back(std::move(p));
}

void Room::close_transport(Participant& p, TransportRole role) {
  auto*& transport = role == TransportRole::kPublish ? p.publish : p.subscribe;
  auto*& link = role == TransportRole::kPublish ? p.publish_link : p.subscribe_link;
  if (link) link->detach();
  if (transport) transport->close("replaced or left");  // reaped by the server's timer
  transport = nullptr;
  link = nullptr;
}

void Room::remove_participant(ParticipantId id) {
  Participant* p = find(id);
  if (!p) return;
  close_transport(*p, TransportRole::kPublish);
  close_transport(*p, TransportRole::kSubscribe);
  for (auto& track : p->tracks) {
    drop_downs_of(*track);
    tracks_.erase(track->spec.id);
    counters_.published_tracks.add(-1);
  }
  while (!p->downs.empty()) remove_down(*p, p->downs.back().get());
  speakers_.remove(id);
  std::erase_if(participants_, [p](const auto& q) { return q.get() == p; });
}

void Room::set_transport(ParticipantId id, TransportRole role, std::uint32_t generation,
                         rtc::WebRtcTransport::Parameters parameters) {
  Participant* p = find(id);
  if (!p) return;
  close_transport(*p, role);
  (role == TransportRole::kPublish ? p->publish_generation : p->subscribe_generation) = generation;
  auto link = std::make_unique<Link>(*this, *p, role);
  Link* raw = link.get();
  auto& transport = server_.add_transport(std::move(parameters), std::move(link));
  if (role == TransportRole::kPublish) {
    p->publish = &transport;
    p->publish_link = raw;
    p->bindings.clear();  // a new connection sends new SSRCs
    p->twcc = TwccRecorder();
  } else {
    p->subscribe = &transport;
    p->subscribe_link = raw;
    p->bwe = BandwidthEstimator();
    for (auto& d : p->downs) {
      d->current = -1;  // the new receiver starts from a key frame
      d->epoch++;
      if (d->log) d->log->clear();
    }
  }
}

void Room::restart_ice(ParticipantId id, TransportRole role,
                       rtc::IceLiteAgent::Credentials credentials) {
  Participant* p = find(id);
  if (!p) return;
  auto* transport = role == TransportRole::kPublish ? p->publish : p->subscribe;
  if (transport) server_.restart_ice(*transport, std::move(credentials));
}

void Room::set_published_tracks(ParticipantId id, const PublishExtensions& ext,
                                const std::vector<PublishedTrackSpec>& specs) {
  Participant* p = find(id);
  if (!p) return;
  p->publish_extensions.clear();
  using K = rtc::ExtensionKind;
  if (ext.mid) p->publish_extensions.add(ext.mid, K::kMid);
  if (ext.rid) p->publish_extensions.add(ext.rid, K::kRid);
  if (ext.repaired_rid) p->publish_extensions.add(ext.repaired_rid, K::kRepairedRid);
  if (ext.abs_send_time) p->publish_extensions.add(ext.abs_send_time, K::kAbsSendTime);
  if (ext.transport_cc) p->publish_extensions.add(ext.transport_cc, K::kTransportWideCc);
  if (ext.audio_level) p->publish_extensions.add(ext.audio_level, K::kAudioLevel);

  // Tracks that are gone. Their SSRCs are remembered by mid and rid: a track re-created on
  // the same mid (a new source, new rids) is the same RTP stream, and the browser may no
  // longer send the mid and rid extensions that would let us bind it again.
  struct Carried {
    std::string mid, rid;
    std::uint32_t ssrc, rtx_ssrc;
  };
  std::vector<Carried> carried;
  auto remember = [&carried](const PublishedTrack& t) {
    for (const auto& layer : t.layers) {
      if (layer->ssrc) carried.push_back({t.spec.mid, layer->rid, layer->ssrc, layer->rtx_ssrc});
    }
  };
  for (auto it = p->tracks.begin(); it != p->tracks.end();) {
    const bool kept = std::any_of(specs.begin(), specs.end(),
                                  [&](const auto& s) { return s.id == (*it)->spec.id; });
    if (kept) {
      ++it;
      continue;
    }
    drop_downs_of(**it);
    PublishedTrack* gone = it->get();
    remember(*gone);
    std::erase_if(p->bindings, [gone](const Binding& b) { return b.track == gone; });
    tracks_.erase((*it)->spec.id);
    counters_.published_tracks.add(-1);
    it = p->tracks.erase(it);
  }
  // Bindings of the tracks that stay are kept: browsers stop sending the mid and rid
  // extensions once our receiver reports acknowledge an SSRC, so they could not be
  // rebuilt from later packets.
  for (const auto& spec : specs) {
    PublishedTrack* track = find_track(spec.id);
    if (!track) {
      auto t = std::make_unique<PublishedTrack>();
      t->owner = p;
      track = t.get();
      p->tracks.push_back(std::move(t));
      tracks_.emplace(spec.id, track);
      counters_.published_tracks.add(1);
    }
    const bool same_layers = track->spec.rids == spec.rids && !track->layers.empty();
    track->spec = spec;
    if (!same_layers) {
      remember(*track);
      std::erase_if(p->bindings, [track](const Binding& b) { return b.track == track; });
      track->layers.clear();
      const std::size_t count = std::clamp<std::size_t>(spec.rids.size(), 1, kMaxLayers);
      for (std::size_t i = 0; i < count; ++i) {
        auto layer = std::make_unique<Layer>(spec.clock_rate);
        if (i < spec.rids.size()) layer->rid = spec.rids[i];
        if (spec.kind == MediaKind::kVideo)
          layer->cache = std::make_unique<PacketCache>(kCacheSlots);
        track->layers.push_back(std::move(layer));
      }
      track->order = {0, 1, 2};
      for (auto* d : track->downs) {
        d->current = -1;
        d->target = -1;
        d->epoch++;
        if (d->log) d->log->clear();  // its entries name layers that no longer exist
      }
      for (std::size_t i = 0; i < track->layers.size(); ++i) {
        Layer& layer = *track->layers[i];
        for (const auto& c : carried) {
          if (c.mid != spec.mid || c.rid != layer.rid) continue;
          if (p->bindings.size() + 2 > kMaxBindings) continue;
          layer.ssrc = c.ssrc;
          layer.rtx_ssrc = c.rtx_ssrc;
          const auto slot = static_cast<std::uint8_t>(i);
          p->bindings.push_back({c.ssrc, track, slot, false});
          if (c.rtx_ssrc) p->bindings.push_back({c.rtx_ssrc, track, slot, true});
        }
      }
    }
    // SSRCs the SDP names are bound at once; simulcast layers (rid) bind on first packet.
    if (track->spec.rids.empty()) {
      auto bound = [p](std::uint32_t ssrc) {
        return std::any_of(p->bindings.begin(), p->bindings.end(),
                           [ssrc](const Binding& b) { return b.ssrc == ssrc; });
      };
      Layer& layer = *track->layers[0];
      if (!spec.ssrcs.empty() && !bound(spec.ssrcs.front()) &&
          p->bindings.size() + 2 <= kMaxBindings) {
        // A new SSRC for this stream replaces the old one (and its RTX).
        const auto old_media = layer.ssrc, old_rtx = layer.rtx_ssrc;
        std::erase_if(p->bindings, [&](const Binding& b) {
          return b.track == track && (b.ssrc == old_media || b.ssrc == old_rtx);
        });
        layer.ssrc = spec.ssrcs.front();
        layer.rtx_ssrc = 0;
        p->bindings.push_back({layer.ssrc, track, 0, false});
      }
      for (auto [media, rtx] : spec.rtx_ssrcs) {
        if (layer.ssrc == media && layer.rtx_ssrc == 0 && !bound(rtx) &&
            p->bindings.size() < kMaxBindings) {
          p->bindings.push_back({rtx, track, 0, true});
          layer.rtx_ssrc = rtx;
        }
      }
    }
  }
}

void Room::unpublish(ParticipantId id, TrackId track_id) {
  Participant* p = find(id);
  PublishedTrack* track = find_track(track_id);
  if (!p || !track || track->owner != p) return;
  drop_downs_of(*track);
  std::erase_if(p->bindings, [track](const Binding& b) { return b.track == track; });
  tracks_.erase(track_id);
  counters_.published_tracks.add(-1);
  std::erase_if(p->tracks, [track](const auto& t) { return t.get() == track; });
}

void Room::set_blocked(ParticipantId id, TrackId track_id, bool blocked) {
  Participant* p = find(id);
  PublishedTrack* track = find_track(track_id);
  if (!p || !track || track->owner != p) return;
  const bool lifted = track->spec.blocked && !blocked;
  track->spec.blocked = blocked;
  if (lifted && track->spec.kind == MediaKind::kVideo) {
    // Receivers dropped everything meanwhile: they need a key frame to start again.
    for (auto& layer : track->layers) layer->keyframe_wanted = true;
  }
}

void Room::set_subscriptions(ParticipantId id, const std::vector<SubscriptionSpec>& specs) {
  Participant* sub = find(id);
  if (!sub) return;
  // Remove what is no longer wanted.
  for (std::size_t i = 0; i < sub->downs.size();) {
    DownTrack* d = sub->downs[i].get();
    const bool kept = std::any_of(specs.begin(), specs.end(), [&](const auto& s) {
      return s.track == d->spec.track && s.ssrc == d->spec.ssrc;
    });
    if (kept) {
      ++i;
    } else {
      remove_down(*sub, d);
    }
  }
  for (const auto& spec : specs) {
    const bool exists = std::any_of(sub->downs.begin(), sub->downs.end(),
                                    [&](const auto& d) { return d->spec.ssrc == spec.ssrc; });
    if (exists) continue;
    PublishedTrack* track = find_track(spec.track);
    if (!track || track->owner == sub) continue;
    auto down = std::make_unique<DownTrack>(static_cast<std::uint16_t>(random_u32()), random_u32());
    down->track = track;
    down->subscriber = sub;
    down->spec = spec;
    down->rtx_sequence = static_cast<std::uint16_t>(random_u32());
    if (track->spec.kind == MediaKind::kVideo) {
      down->log = std::make_unique<SentPacketLog>(kSentLogSlots);
    } else {
      down->target = 0;  // audio always flows unless the receiver turns it off
    }
    track->downs.push_back(down.get());
    sub->downs.push_back(std::move(down));
    counters_.subscriptions.add(1);
  }
  sub->requests.reserve(sub->downs.size());
  sub->allocations.reserve(sub->downs.size());
  sub->layer_infos.reserve(sub->downs.size());
  allocate(*sub, Clock::now());
}

void Room::remove_down(Participant& sub, DownTrack* down) {
  std::erase(down->track->downs, down);
  std::erase_if(sub.downs, [down](const auto& d) { return d.get() == down; });
  counters_.subscriptions.add(-1);
}

void Room::drop_downs_of(PublishedTrack& track) {
  while (!track.downs.empty()) {
    DownTrack* d = track.downs.back();
    remove_down(*d->subscriber, d);
  }
}

void Room::set_preference(ParticipantId id, TrackId track, Preference preference) {
  Participant* sub = find(id);
  if (!sub) return;
  for (auto& d : sub->downs) {
    if (d->spec.track != track) continue;
    d->preference = preference;
    if (d->track->spec.kind == MediaKind::kAudio) {
      d->target = preference.quality == Preference::Quality::kOff ? -1 : 0;
    }
  }
  allocate(*sub, Clock::now());
}

// ---------------------------------------------------------------------------------------
// Receiving from a publisher.

void Room::on_state(Participant& p, TransportRole role, State state) noexcept {
  if (state == State::kClosed || state == State::kFailed) {
    // The server reaps the transport (and its Link) at its next tick: forget both now.
    auto*& transport = role == TransportRole::kPublish ? p.publish : p.subscribe;
    auto*& link = role == TransportRole::kPublish ? p.publish_link : p.subscribe_link;
    if (link) link->detach();
    transport = nullptr;
    link = nullptr;
  }
  try {
    const auto generation =
        role == TransportRole::kPublish ? p.publish_generation : p.subscribe_generation;
    sink_(TransportStateEvent{id_, p.id, role, generation, state});
  } catch (...) {
    // The sink only posts; failing to allocate the event is survivable.
  }
  if (role == TransportRole::kSubscribe && state == State::kConnected) {
    const auto now = Clock::now();
    allocate(p, now);
    for (auto& d : p.downs) {
      if (d->target >= 0 && d->track->spec.kind == MediaKind::kVideo) {
        request_keyframe(*d->track, static_cast<std::uint8_t>(d->target), now);
      }
    }
  }
}

const Room::Binding* Room::bind(Participant& p, const rtc::RtpPacket& packet) noexcept {
  const auto& ext = p.publish_extensions;
  const auto mid_id = ext.id(rtc::ExtensionKind::kMid);
  if (mid_id == 0) return nullptr;
  const auto mid_value = packet.find_extension(mid_id);
  const auto mid = mid_value ? rtc::read_sdes_text(*mid_value) : std::nullopt;
  if (!mid) return nullptr;
  PublishedTrack* track = nullptr;
  for (auto& t : p.tracks) {
    if (t->spec.mid == *mid) track = t.get();
  }
  if (!track) return nullptr;
  const bool rtx =
      track->spec.rtx_payload_type != 0 && packet.payload_type() == track->spec.rtx_payload_type;
  if (!rtx && packet.payload_type() != track->spec.payload_type) return nullptr;
  std::uint8_t slot = 0;
  if (!track->spec.rids.empty()) {
    const auto rid_id = ext.id(rtx ? rtc::ExtensionKind::kRepairedRid : rtc::ExtensionKind::kRid);
    const auto rid_value = rid_id ? packet.find_extension(rid_id) : std::nullopt;
    const auto rid = rid_value ? rtc::read_sdes_text(*rid_value) : std::nullopt;
    if (!rid) return nullptr;
    std::size_t i = 0;
    while (i < track->layers.size() && track->layers[i]->rid != *rid) ++i;
    if (i == track->layers.size()) return nullptr;
    slot = static_cast<std::uint8_t>(i);
  }
  Layer& layer = *track->layers[slot];
  const std::uint32_t ssrc = packet.ssrc();
  if (p.bindings.size() >= kMaxBindings) return nullptr;  // never grow on this path
  // RTX before its media stream: nothing to restore it as yet.
  if (rtx && layer.ssrc == 0) return nullptr;
  // A publisher restart (new SSRC for the same mid and rid) replaces the old binding.
  const std::uint32_t old = rtx ? layer.rtx_ssrc : layer.ssrc;
  if (old != 0 && old != ssrc) {
    std::erase_if(p.bindings, [old](const Binding& b) { return b.ssrc == old; });
    if (!rtx) {
      layer.stats = ReceiveStats(track->spec.clock_rate);
      layer.nack.reset();
      if (layer.cache) layer.cache->clear();
      for (DownTrack* d : track->downs) {
        if (d->log) d->log->clear();  // cached entries of the old stream are gone
      }
    }
  }
  (rtx ? layer.rtx_ssrc : layer.ssrc) = ssrc;
  p.bindings.push_back({ssrc, track, slot, rtx});
  return &p.bindings.back();
}

void Room::on_publisher_rtp(Participant& p, std::span<std::uint8_t> data) noexcept {
  auto packet = rtc::RtpPacket::parse(data);
  if (!packet) return;
  const auto now = Clock::now();
  if (const auto id = p.publish_extensions.id(rtc::ExtensionKind::kTransportWideCc)) {
    if (const auto value = packet->find_extension(id)) {
      if (const auto seq = rtc::read_transport_sequence_number(*value)) p.twcc.on_packet(*seq, now);
    }
  }
  const Binding* binding = nullptr;
  for (const auto& b : p.bindings) {
    if (b.ssrc == packet->ssrc()) binding = &b;
  }
  if (!binding) binding = bind(p, *packet);
  if (!binding) {
    counters_.unknown_ssrc.inc();
    return;
  }
  PublishedTrack& track = *binding->track;
  const std::uint8_t slot = binding->layer;
  if (!binding->rtx) {
    on_media(track, slot, *packet, now, false);
    return;
  }
  // RTX (RFC 4588 §4): the original sequence number leads the payload. Padding-only
  // retransmissions (bandwidth probes) have none and end here, counted by TWCC above.
  const auto payload = packet->payload();
  if (payload.size() <= 2) return;
  const std::uint16_t original = rtc::wire::load_be16(payload.data());
  const std::size_t header = packet->header_size();
  std::memmove(data.data() + 2, data.data(), header);
  auto restored = rtc::RtpPacket::parse(data.subspan(2));
  if (!restored) return;
  restored->set_ssrc(track.layers[slot]->ssrc);
  restored->set_payload_type(track.spec.payload_type);
  restored->set_sequence_number(original);
  on_media(track, slot, *restored, now, true);
}

void Room::on_media(PublishedTrack& track, std::uint8_t slot, rtc::RtpPacket& packet,
                    Clock::time_point now, bool recovered) noexcept {
  Layer& layer = *track.layers[slot];
  const auto payload = packet.payload();
  bool keyframe = false;
  // Parsed once here; forward() rewrites the fields it locates for every subscriber.
  std::optional<Vp8Descriptor> vp8;
  if (track.spec.kind == MediaKind::kVideo && !payload.empty()) {
    vp8 = parse_vp8_descriptor(payload);
    if (const auto& d = vp8) {
      keyframe = is_vp8_keyframe_start(payload, *d);
      if (keyframe) {
        layer.keyframes.on_keyframe(now);
        layer.keyframe_wanted = false;
        if (const auto size = vp8_keyframe_size(payload, *d)) {
          if (size->width != layer.width || size->height != layer.height) {
            layer.width = size->width;
            layer.height = size->height;
            sort_layers(track);
          }
        }
      }
    }
  }
  if (track.spec.nack) {
    const bool filled = layer.nack.on_packet(packet.sequence_number(), now, keyframe);
    if (recovered) {
      // A retransmission that fills no hole of ours (a bandwidth probe carrying old
      // payload, or a late copy): nothing to count, cache or forward.
      if (!filled) return;
      counters_.rtx_received.inc();
    }
  }
  layer.stats.on_packet(packet.sequence_number(), packet.timestamp(), now, packet.size(),
                        recovered);
  layer.rate.add(packet.size(), now);
  layer.last_packet = now;
  layer.active = true;
  if (track.spec.kind == MediaKind::kAudio && !track.spec.blocked) {
    if (const auto id = track.owner->publish_extensions.id(rtc::ExtensionKind::kAudioLevel)) {
      if (const auto value = packet.find_extension(id)) {
        if (const auto level = rtc::read_audio_level(*value)) {
          speakers_.on_audio_level(track.owner->id, level->level, level->voice_activity, now);
        }
      }
    }
  }
  if (payload.empty() || track.spec.blocked) {
    // Padding only, or a track a host muted: not forwarded, and the receivers' sequence
    // numbers close over it.
    for (DownTrack* d : track.downs) {
      if (d->current != slot) continue;
      RewriteInput in;
      in.source = source_key(layer.ssrc, d->epoch);
      in.sequence_number = packet.sequence_number();
      in.timestamp = packet.timestamp();
      in.clock_rate = track.spec.clock_rate;
      in.arrival = now;
      d->rewriter.skip(in);
    }
    return;
  }
  if (layer.cache) layer.cache->store(packet.sequence_number(), packet.bytes(), now);
  const Vp8Descriptor* descriptor = vp8 ? &*vp8 : nullptr;
  for (DownTrack* d : track.downs) forward(*d, slot, packet, descriptor, keyframe, now);
}

// ---------------------------------------------------------------------------------------
// Sending to a subscriber.

void Room::forward(DownTrack& down, std::uint8_t slot, const rtc::RtpPacket& packet,
                   const Vp8Descriptor* vp8, bool keyframe, Clock::time_point now) noexcept {
  Participant& sub = *down.subscriber;
  if (!sub.subscribe || sub.subscribe->state() != State::kConnected) return;
  PublishedTrack& track = *down.track;
  const bool video = track.spec.kind == MediaKind::kVideo;
  if (down.target != down.current && (!video || (down.target == slot && keyframe))) {
    set_current(down, down.target);
  }
  if (down.current != slot) return;

  const auto payload = packet.payload();
  RewriteInput in;
  in.source = source_key(track.layers[slot]->ssrc, down.epoch);
  in.sequence_number = packet.sequence_number();
  in.timestamp = packet.timestamp();
  in.clock_rate = track.spec.clock_rate;
  in.arrival = now;
  if (vp8 && vp8->has_picture_id) {
    in.has_picture_id = true;
    in.picture_id = vp8->picture_id;
    in.picture_id_15bit = vp8->picture_id_15bit;
  }
  if (vp8 && vp8->has_tl0_pic_idx) {
    in.has_tl0_pic_idx = true;
    in.tl0_pic_idx = vp8->tl0_pic_idx;
  }
  const auto out = down.rewriter.rewrite(in);
  if (!out) return;
  if (const auto tap = forward_tap.load(std::memory_order_relaxed)) {
    tap(track.spec.kind, down.spec.ssrc, packet.marker(), payload);
  }

  const std::uint16_t transport_seq = ++sub.transport_sequence;
  const OutExtensions ours(transport_seq, now);
  std::array<rtc::ExtensionElement, 3> ext{{ours.elements[0], ours.elements[1], {0, {}}}};
  std::size_t ext_count = 2;
  if (!video) {
    const auto id = track.owner->publish_extensions.id(rtc::ExtensionKind::kAudioLevel);
    const auto level = id ? packet.find_extension(id) : std::nullopt;
    if (level && level->size() == 1) ext[ext_count++] = {kOutExtAudioLevel, *level};
  }
  rtc::RtpHeaderFields header;
  header.marker = packet.marker();
  header.payload_type = video ? kOutVp8Pt : kOutOpusPt;
  header.sequence_number = out->sequence_number;
  header.timestamp = out->timestamp;
  header.ssrc = down.spec.ssrc;
  auto buffer = scratch_.first(scratch_.size() / 2);
  const auto written =
      rtc::write_rtp_packet(buffer, header, std::span(ext.data(), ext_count), payload);
  if (!written.ok()) return;
  if (vp8) {
    auto out_payload = buffer.subspan(written.size - payload.size(), payload.size());
    if (vp8->has_picture_id) write_vp8_picture_id(out_payload, *vp8, out->picture_id);
    if (vp8->has_tl0_pic_idx) write_vp8_tl0_pic_idx(out_payload, *vp8, out->tl0_pic_idx);
  }
  if (down.log) {
    SentPacket sent{};
    sent.out_seq = out->sequence_number;
    sent.out_timestamp = out->timestamp;
    sent.layer = slot;
    sent.in_seq = packet.sequence_number();
    sent.out_picture_id = out->picture_id;
    sent.out_tl0_pic_idx = out->tl0_pic_idx;
    sent.marker = packet.marker();
    sent.sent = now;
    down.log->record(sent);
  }
  down.packets_sent++;
  down.octets_sent += static_cast<std::uint32_t>(payload.size());
  down.last_timestamp = out->timestamp;
  down.timestamp_offset = out->timestamp - packet.timestamp();
  down.last_sent = now;
  send_to_subscriber(sub, buffer.first(written.size), buffer.size(), now, transport_seq);
}

bool Room::send_to_subscriber(Participant& sub, std::span<std::uint8_t> packet,
                              std::size_t capacity, Clock::time_point now,
                              std::size_t transport_seq) noexcept {
  const std::size_t size = packet.size();
  if (!sub.subscribe->send_rtp(packet, capacity)) return false;
  sub.bwe.on_packet_sent(static_cast<std::uint16_t>(transport_seq), size, now);
  counters_.forwarded_packets.inc();
  counters_.forwarded_bytes.inc(size);
  return true;
}

// A subscriber lost `sequence` (its numbering): resend it on the RTX stream (RFC 4588),
// never under the original SSRC — a changed packet under the same SSRC and sequence
// number would reuse an AES-GCM nonce.
void Room::resend(DownTrack& down, std::uint16_t sequence, Clock::time_point now) noexcept {
  counters_.nack_received.inc();
  if (!down.log || down.spec.rtx_ssrc == 0) return;
  SentPacket* sent = down.log->find(sequence);
  if (!sent) return;
  Participant& sub = *down.subscriber;
  const auto interval = std::max(sub.rtt, kMinResendInterval);
  if (!down.log->allow_resend(*sent, now, interval, 4)) return;
  PublishedTrack& track = *down.track;
  if (sent->layer >= track.layers.size() || !track.layers[sent->layer]->cache) return;
  const auto cached = track.layers[sent->layer]->cache->get(sent->in_seq, now);
  if (!cached) return;
  // The byte budget: a quarter of the estimate per second, at most 64 KiB at once.
  const double rate = static_cast<double>(sub.bwe.estimate_bps(now)) / 8 / 4;
  const double elapsed = std::chrono::duration<double>(now - sub.rtx_refilled).count();
  sub.rtx_budget = std::min(64.0 * 1024, sub.rtx_budget + rate * elapsed);
  sub.rtx_refilled = now;
  if (sub.rtx_budget < static_cast<double>(cached->size())) return;
  sub.rtx_budget -= static_cast<double>(cached->size());
  // Work on a copy in the second half of the scratch buffer.
  auto copy = scratch_.subspan(scratch_.size() / 2);
  if (cached->size() > copy.size()) return;
  std::memcpy(copy.data(), cached->data(), cached->size());
  auto original = rtc::RtpPacket::parse(copy.first(cached->size()));
  if (!original || original->header_size() < 2) return;
  auto payload = original->payload();
  if (const auto vp8 = parse_vp8_descriptor(payload)) {
    if (vp8->has_picture_id) write_vp8_picture_id(payload, *vp8, sent->out_picture_id);
    if (vp8->has_tl0_pic_idx) write_vp8_tl0_pic_idx(payload, *vp8, sent->out_tl0_pic_idx);
  }
  // The two bytes before the payload (the end of the old header) take the OSN.
  const std::size_t start = original->header_size() - 2;
  rtc::wire::store_be16(copy.data() + start, sent->out_seq);
  const auto rtx_payload = copy.subspan(start, payload.size() + 2);

  const std::uint16_t transport_seq = ++sub.transport_sequence;
  const OutExtensions ours(transport_seq, now);
  const auto& ext = ours.elements;
  rtc::RtpHeaderFields header;
  header.marker = sent->marker;
  header.payload_type = kOutVp8RtxPt;
  header.sequence_number = down.rtx_sequence++;
  header.timestamp = sent->out_timestamp;
  header.ssrc = down.spec.rtx_ssrc;
  auto buffer = scratch_.first(scratch_.size() / 2);
  const auto written = rtc::write_rtp_packet(buffer, header, ext, rtx_payload);
  if (!written.ok()) return;
  if (send_to_subscriber(sub, buffer.first(written.size), buffer.size(), now, transport_seq)) {
    counters_.rtx_sent.inc();
  }
}

void Room::request_keyframe(PublishedTrack& track, std::uint8_t slot,
                            Clock::time_point now) noexcept {
  if (slot >= track.layers.size()) return;
  Layer& layer = *track.layers[slot];
  Participant& owner = *track.owner;
  if (layer.ssrc == 0 || !owner.publish) return;
  if (!layer.keyframes.should_request(now)) {
    layer.keyframe_wanted = true;  // send_publisher_feedback asks again when allowed
    return;
  }
  layer.keyframe_wanted = false;
  std::array<std::uint8_t, 64> buffer{};
  const auto written = rtc::write_pli(buffer, owner.rtcp_ssrc, layer.ssrc);
  if (!written.ok()) return;
  send_rtcp(owner.publish, std::span(buffer).first(written.size));
  counters_.keyframe_requests.inc();
}

void Room::send_rtcp(rtc::WebRtcTransport* transport, std::span<std::uint8_t> packet) noexcept {
  if (!transport || transport->state() != State::kConnected) return;
  // SRTCP adds its index and tag: copy into room to spare.
  std::array<std::uint8_t, kMaxRtcpDatagram + 64> buffer{};
  if (packet.size() > kMaxRtcpDatagram) return;
  std::memcpy(buffer.data(), packet.data(), packet.size());
  transport->send_rtcp(std::span(buffer).first(packet.size()), buffer.size());
}

// ---------------------------------------------------------------------------------------
// RTCP.

void Room::on_publisher_rtcp(Participant& p, std::span<std::uint8_t> data) noexcept {
  const auto compound = rtc::RtcpCompound::parse(data);
  if (!compound) return;
  const auto now = Clock::now();
  for (const auto& packet : *compound) {
    if (packet.type() != rtc::RtcpType::kSenderReport) continue;
    const auto sr = rtc::SenderReport::parse(packet);
    if (!sr) continue;
    const auto info = sr->sender_info();
    for (const auto& b : p.bindings) {
      if (b.ssrc == info.ssrc && !b.rtx) {
        Layer& layer = *b.track->layers[b.layer];
        layer.stats.on_sender_report(info.ntp_timestamp, now);
        layer.sr_rtp = info.rtp_timestamp;
        layer.sr_arrival = now;
        layer.has_sr = true;
      }
    }
  }
}

void Room::on_subscriber_rtcp(Participant& sub, std::span<std::uint8_t> data) noexcept {
  const auto compound = rtc::RtcpCompound::parse(data);
  if (!compound) return;
  const auto now = Clock::now();
  auto down_of = [&sub](std::uint32_t ssrc) -> DownTrack* {
    for (auto& d : sub.downs) {
      if (d->spec.ssrc == ssrc) return d.get();
    }
    return nullptr;
  };
  auto on_blocks = [&](const rtc::ReportBlockList& blocks) {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const auto block = blocks[i];
      if (!down_of(block.ssrc)) continue;
      sub.bwe.on_loss_report(block.fraction_lost, now);
      if (const auto rtt = round_trip_time(block.last_sr, block.delay_since_last_sr, ntp_now())) {
        sub.rtt = std::max(std::chrono::milliseconds(1),
                           std::chrono::duration_cast<std::chrono::milliseconds>(*rtt));
      }
    }
  };
  for (const auto& packet : *compound) {
    switch (packet.type()) {
      case rtc::RtcpType::kReceiverReport:
        if (const auto rr = rtc::ReceiverReport::parse(packet)) on_blocks(rr->report_blocks());
        break;
      case rtc::RtcpType::kSenderReport:
        if (const auto sr = rtc::SenderReport::parse(packet)) on_blocks(sr->report_blocks());
        break;
      case rtc::RtcpType::kRtpFeedback:
        if (packet.format() == rtc::kFmtNack) {
          const auto nack = rtc::Nack::parse(packet);
          DownTrack* d = nack ? down_of(nack->media_ssrc()) : nullptr;
          std::size_t asked = 0;
          if (d) {
            nack->for_each_lost([&](std::uint16_t seq) {
              if (++asked <= kMaxNacksPerPacket) resend(*d, seq, now);
            });
          }
        } else if (packet.format() == rtc::kFmtTransportCc) {
          if (const auto fb = rtc::TransportFeedback::parse(packet)) {
            sub.bwe.on_transport_feedback(*fb, now);
          }
        }
        break;
      case rtc::RtcpType::kPayloadFeedback:
        if (packet.format() == rtc::kFmtPli) {
          const auto pli = rtc::Pli::parse(packet);
          DownTrack* d = pli ? down_of(pli->media_ssrc()) : nullptr;
          if (d) {
            counters_.subscriber_keyframe.inc();
            const int slot = d->current >= 0 ? d->current : d->target;
            if (slot >= 0) request_keyframe(*d->track, static_cast<std::uint8_t>(slot), now);
          }
        } else if (packet.format() == rtc::kFmtFir) {
          if (const auto fir = rtc::Fir::parse(packet)) {
            for (std::size_t i = 0; i < fir->entry_count(); ++i) {
              DownTrack* d = down_of(fir->entry(i).ssrc);
              if (!d) continue;
              counters_.subscriber_keyframe.inc();
              const int slot = d->current >= 0 ? d->current : d->target;
              if (slot >= 0) request_keyframe(*d->track, static_cast<std::uint8_t>(slot), now);
            }
          }
        } else if (packet.format() == rtc::kFmtAfb) {
          if (const auto remb = rtc::Remb::parse(packet)) sub.bwe.on_remb(remb->bitrate_bps(), now);
        }
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Timers.

void Room::on_tick(Clock::time_point now) noexcept {
  ++ticks_;
  for (auto& p : participants_) send_publisher_feedback(*p, now);
  if (ticks_ % kTicksPerReport == 0) send_reports(now);
  if (ticks_ % kTicksPerAllocation == 0) {
    for (auto& p : participants_) {
      for (auto& t : p->tracks) {
        for (auto& layer : t->layers) layer->active = now - layer->last_packet < kLayerIdle;
      }
    }
    for (auto& p : participants_) allocate(*p, now);
  }
  if (ticks_ % kTicksPerSpeakerUpdate == 0 && speakers_.update(now)) {
    try {
      const auto dominant = speakers_.dominant();
      std::vector<ParticipantId> speaking;
      for (auto& p : participants_) {
        if (speakers_.speaking(p->id)) speaking.push_back(p->id);
      }
      if (dominant != last_dominant_ || speaking != speaking_sent_) {
        last_dominant_ = dominant;
        speaking_sent_ = speaking;
        sink_(SpeakingEvent{id_, dominant.value_or(0), std::move(speaking)});
      }
    } catch (...) {
      // Out of memory for an event: the next update tries again.
    }
  }
}

void Room::send_publisher_feedback(Participant& p, Clock::time_point now) noexcept {
  if (!p.publish || p.publish->state() != State::kConnected) return;
  std::array<std::uint8_t, kMaxRtcpDatagram> buffer{};
  std::uint32_t media_ssrc = 0;
  for (auto& t : p.tracks) {
    if (!t->layers.empty() && t->layers[0]->ssrc) media_ssrc = t->layers[0]->ssrc;
  }
  for (int i = 0; i < 4; ++i) {
    const std::size_t n = p.twcc.build_feedback(buffer, p.rtcp_ssrc, media_ssrc);
    if (n == 0) break;
    send_rtcp(p.publish, std::span(buffer).first(n));
    if (!p.twcc.more()) break;
  }
  std::array<std::uint16_t, 64> lost{};
  for (auto& t : p.tracks) {
    if (!t->spec.nack) continue;
    for (std::uint8_t slot = 0; slot < t->layers.size(); ++slot) {
      Layer& layer = *t->layers[slot];
      if (layer.ssrc == 0) continue;
      const std::size_t k = layer.nack.collect(now, kPublisherNackRtt, lost);
      if (k > 0) {
        const auto written =
            rtc::write_nack(buffer, p.rtcp_ssrc, layer.ssrc, std::span(lost).first(k));
        if (written.ok()) {
          send_rtcp(p.publish, std::span(buffer).first(written.size));
          counters_.nack_sent.inc(k);
        }
      }
      if (layer.nack.keyframe_needed()) request_keyframe(*t, slot, now);
    }
  }
  for (auto& t : p.tracks) {
    for (std::uint8_t slot = 0; slot < t->layers.size(); ++slot) {
      if (t->layers[slot]->keyframe_wanted) request_keyframe(*t, slot, now);
    }
  }
}

void Room::send_reports(Clock::time_point now) noexcept {
  std::array<std::uint8_t, kMaxRtcpDatagram> buffer{};
  const auto ntp = ntp_now();
  for (auto& p : participants_) {
    // Receiver reports to the publisher, one block per layer that has started.
    if (p->publish && p->publish->state() == State::kConnected) {
      std::array<rtc::ReportBlock, rtc::kMaxRtcpCount> blocks{};
      std::size_t count = 0;
      for (auto& t : p->tracks) {
        for (auto& layer : t->layers) {
          if (layer->ssrc && layer->stats.started() && count < blocks.size()) {
            blocks[count++] = layer->stats.make_report_block(layer->ssrc, now);
          }
        }
      }
      const auto written =
          rtc::write_receiver_report(buffer, p->rtcp_ssrc, std::span(blocks).first(count));
      if (written.ok()) send_rtcp(p->publish, std::span(buffer).first(written.size));
    }
    // Sender reports to the subscriber, as many as fit in one datagram at a time.
    if (p->subscribe && p->subscribe->state() == State::kConnected) {
      std::size_t used = 0;
      for (auto& d : p->downs) {
        if (d->packets_sent == 0) continue;
        // Our wall clock now, and the RTP time that matches it: from the publisher's own
        // sender report (its capture clock, the same for its audio and video, so lip sync
        // holds), carried forward by the time since it arrived and through this
        // subscription's timestamp offset. Without one, from the last forwarded packet.
        const auto clock = d->track->spec.clock_rate;
        auto ticks_since = [clock, now](Clock::time_point t) {
          const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - t).count();
          return static_cast<std::uint32_t>(us * clock / 1'000'000);
        };
        const Layer* layer = d->current >= 0 ? d->track->layers[d->current].get() : nullptr;
        rtc::SenderInfo info;
        info.ssrc = d->spec.ssrc;
        info.ntp_timestamp = ntp;
        info.rtp_timestamp =
            layer && layer->has_sr
                ? layer->sr_rtp + ticks_since(layer->sr_arrival) + d->timestamp_offset
                : d->last_timestamp + ticks_since(d->last_sent);
        info.packet_count = d->packets_sent;
        info.octet_count = d->octets_sent;
        auto rest = std::span(buffer).subspan(used);
        auto written = rtc::write_sender_report(rest, info, {});
        if (!written.ok()) {
          send_rtcp(p->subscribe, std::span(buffer).first(used));
          used = 0;
          written = rtc::write_sender_report(buffer, info, {});
          if (!written.ok()) continue;
        }
        used += written.size;
      }
      if (used > 0) send_rtcp(p->subscribe, std::span(buffer).first(used));
    }
  }
}

void Room::sort_layers(PublishedTrack& track) noexcept {
  // Layers whose size is known are ordered by width among the positions they hold; one
  // never seen (a layer the publisher does not send) keeps its SDP position.
  const std::size_t n = track.layers.size();
  std::array<std::uint8_t, kMaxLayers> known{};
  std::size_t count = 0;
  for (std::uint8_t i = 0; i < n; ++i) {
    if (track.layers[i]->width != 0) known[count++] = i;
  }
  std::array<std::uint8_t, kMaxLayers> sorted = known;
  auto width_of = [&track](std::uint8_t slot) { return track.layers[slot]->width; };
  for (std::size_t i = 1; i < count; ++i) {  // insertion sort of at most three
    for (std::size_t j = i; j > 0 && width_of(sorted[j]) < width_of(sorted[j - 1]); --j) {
      std::swap(sorted[j], sorted[j - 1]);
    }
  }
  std::array<std::uint8_t, kMaxLayers> order{0, 1, 2};
  for (std::size_t k = 0; k < count; ++k) order[known[k]] = sorted[k];
  track.order = order;
}

void Room::set_current(DownTrack& down, int slot) noexcept {
  if (down.current == slot) return;
  down.current = slot;
  down.epoch++;
  if (down.track->spec.kind != MediaKind::kVideo) return;
  counters_.layer_switches.inc();
  int rank = -1;
  for (std::size_t i = 0; slot >= 0 && i < down.track->layers.size(); ++i) {
    if (down.track->order[i] == slot) rank = static_cast<int>(i);
  }
  try {
    sink_(LayerEvent{id_, down.subscriber->id, down.spec.track, rank, down.reason});
  } catch (...) {
  }
}

void Room::allocate(Participant& sub, Clock::time_point now) noexcept {
  const std::size_t n = sub.downs.size();
  if (n == 0) return;
  if (sub.requests.capacity() < n || sub.layer_infos.capacity() < n)
    return;  // set_subscriptions reserves
  sub.requests.resize(n);
  sub.allocations.resize(n);
  sub.layer_infos.resize(n);
  const auto order = speakers_.order();
  for (std::size_t i = 0; i < n; ++i) {
    DownTrack& d = *sub.downs[i];
    PublishedTrack& t = *d.track;
    AllocationRequest& r = sub.requests[i];
    r = AllocationRequest{};
    r.id = i;
    r.audio = t.spec.kind == MediaKind::kAudio;
    r.source = allocator_source(t.spec.source);
    r.max_width = d.preference.max_width;
    r.max_height = d.preference.max_height;
    r.paused_by_receiver = d.preference.quality == Preference::Quality::kOff;
    r.relevance = static_cast<int>(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (order[k] == t.owner->id) r.relevance = static_cast<int>(k);
    }
    if (r.audio) continue;
    std::size_t allowed = t.layers.size();
    if (d.preference.quality == Preference::Quality::kLow) allowed = 1;
    if (d.preference.quality == Preference::Quality::kMedium)
      allowed = std::min<std::size_t>(2, allowed);
    auto& infos = sub.layer_infos[i];
    r.current_layer = -1;
    for (std::size_t k = 0; k < t.layers.size(); ++k) {
      const Layer& layer = *t.layers[t.order[k]];
      infos[k] = LayerInfo{layer.width, layer.height, layer.rate.bps(now),
                           layer.active && layer.ssrc != 0 && k < allowed};
      if (d.current == t.order[k]) r.current_layer = static_cast<int>(k);
    }
    r.layers = std::span<const LayerInfo>(infos.data(), t.layers.size());
  }
  AllocatorConfig config;
  config.last_n = config_.last_n;
  const std::uint64_t budget = sub.bwe.estimate_bps(now);
  allocate_layers(budget, sub.requests, sub.allocations, config);
  for (std::size_t i = 0; i < n; ++i) {
    DownTrack& d = *sub.downs[i];
    if (sub.requests[i].audio) continue;
    const int rank = sub.allocations[i].layer;
    const int slot = rank < 0 ? -1 : d.track->order[static_cast<std::size_t>(rank)];
    if (slot != d.target) {
      d.target = slot;
      if (sub.requests[i].paused_by_receiver ||
          d.preference.quality != Preference::Quality::kHigh) {
        d.reason = LayerReason::kRequested;
      } else if (slot < 0 && config.last_n &&
                 sub.requests[i].relevance >= static_cast<int>(config.last_n)) {
        d.reason = LayerReason::kLastN;
      } else {
        d.reason = LayerReason::kBandwidth;
      }
      if (slot < 0) set_current(d, -1);
    }
    // A subscriber that is not connected yet gets its key frame when it connects.
    const bool connected = sub.subscribe && sub.subscribe->state() == State::kConnected;
    if (connected && d.target >= 0 && d.target != d.current) {
      request_keyframe(*d.track, static_cast<std::uint8_t>(d.target), now);
    }
  }
}

}  // namespace conclave::sfu
