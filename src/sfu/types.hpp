// What the control thread (meeting/) and a media worker's sfu::Engine tell each other. The
// control thread posts commands carrying these plain values onto the worker's io_context;
// the worker posts Events back through an EventSink. Nothing here points into the other
// thread's objects: participants and tracks are named by 64-bit ids that the control
// thread allocates (random, never reused).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "rtc/webrtc_transport.hpp"

namespace conclave::sfu {

using Clock = std::chrono::steady_clock;
using ParticipantId = std::uint64_t;
using TrackId = std::uint64_t;
using RoomId = std::uint64_t;

enum class MediaKind : std::uint8_t { kAudio, kVideo };
enum class Source : std::uint8_t { kMicrophone, kCamera, kScreen };

// One track the browser sends on its publish connection, as negotiated (rtc/sdp's
// NegotiatedMedia, reduced to what the packet path needs).
struct PublishedTrackSpec {
  TrackId id = 0;
  std::string mid;
  MediaKind kind = MediaKind::kAudio;
  Source source = Source::kMicrophone;
  std::uint8_t payload_type = 0;
  std::uint8_t rtx_payload_type = 0;  // 0: none
  std::uint32_t clock_rate = 48000;
  std::vector<std::string> rids;     // simulcast layers as the browser names them; empty: one
  std::vector<std::uint32_t> ssrcs;  // signalled, if any
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rtx_ssrcs;  // (media, rtx)
  bool nack = false;
  bool muted = false;
  // A host muted it (docs/protocol.md, mute_participant / stop_video): nothing of it is
  // forwarded, whatever the publisher's client does, until the control plane lifts it.
  bool blocked = false;
};

// The extension ids of one publish connection (BUNDLE: one table for all its sections).
struct PublishExtensions {
  std::uint8_t mid = 0, rid = 0, repaired_rid = 0, abs_send_time = 0, transport_cc = 0,
               audio_level = 0;
};

// One remote track forwarded on a participant's subscribe connection.
struct SubscriptionSpec {
  TrackId track = 0;
  std::string mid;
  std::uint32_t ssrc = 0;
  std::uint32_t rtx_ssrc = 0;  // video only
};

// What the receiver asked for (signaling `subscribe`).
struct Preference {
  enum class Quality : std::uint8_t { kOff, kLow, kMedium, kHigh };
  Quality quality = Quality::kHigh;
  std::uint16_t max_width = 0, max_height = 0;  // 0: no limit
};

enum class TransportRole : std::uint8_t { kPublish, kSubscribe };

// Worker → control.
struct TransportStateEvent {
  RoomId room;
  ParticipantId participant;
  TransportRole role;
  std::uint32_t generation;  // as given to Room::set_transport: stale events are ignored
  rtc::WebRtcTransport::State state;
};
struct SpeakingEvent {
  RoomId room;
  ParticipantId dominant;  // 0: nobody
  std::vector<ParticipantId> speaking;
};
enum class LayerReason : std::uint8_t { kBandwidth, kRequested, kLastN, kPublisher };
struct LayerEvent {
  RoomId room;
  ParticipantId subscriber;
  TrackId track;
  int layer;  // -1 paused
  LayerReason reason;
};
using Event = std::variant<TransportStateEvent, SpeakingEvent, LayerEvent>;
// Called on the worker thread; the implementation posts to the control thread.
using EventSink = std::function<void(Event)>;

}  // namespace conclave::sfu
