// One meeting's media on one worker: who publishes what, who receives what, and the packet
// path between them.
//
//   publisher ──SRTP──► WebRtcTransport ─► on_publisher_rtp ─► bind SSRC (mid/rid ext) ─►
//      Layer (stats, NACK holes, key frame, cache) ─► for each DownTrack of the track:
//      layer gate (switch on key frames only) ─► RtpRewriter ─► header + our extensions
//      ─► subscriber's WebRtcTransport::send_rtp
//
//   subscriber RTCP ─► NACK → RTX from the cache; PLI/FIR → throttled PLI upstream;
//      transport-cc / REMB / RR → BandwidthEstimator ─► allocate_layers every 500 ms
//
// A Room is owned by its worker's Engine and touched only on that thread. The packet
// path returns status values, never throws and does not allocate: every buffer (caches,
// logs, scratch) is made when a participant, track or subscription is added, which the
// control thread asks for. Packet payloads are opaque (end-to-end encrypted) apart from
// the VP8 payload descriptor and key-frame header.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "rtc/rtp.hpp"
#include "rtc/webrtc_server.hpp"
#include "sfu/bandwidth_estimator.hpp"
#include "sfu/counters.hpp"
#include "sfu/layer_allocator.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/receive_stats.hpp"
#include "sfu/retransmission_cache.hpp"
#include "sfu/rtp_rewriter.hpp"
#include "sfu/speaker_detector.hpp"
#include "sfu/twcc_recorder.hpp"
#include "sfu/types.hpp"
#include "sfu/vp8.hpp"

namespace conclave::sfu {

// Fixed payload types and extension ids of every subscribe connection (rtc/sdp's offer).
inline constexpr std::uint8_t kOutOpusPt = 111;
inline constexpr std::uint8_t kOutVp8Pt = 96;
inline constexpr std::uint8_t kOutVp8RtxPt = 97;
inline constexpr std::uint8_t kOutExtAbsSendTime = 2;
inline constexpr std::uint8_t kOutExtTransportCc = 3;
inline constexpr std::uint8_t kOutExtAudioLevel = 4;

inline constexpr std::size_t kMaxLayers = 3;

struct RoomConfig {
  std::size_t last_n = 0;  // 0: no limit
};

class Room {
 public:
  Room(RoomId id, rtc::WebRtcServer& server, SfuCounters& counters, RoomConfig config,
       const EventSink& sink, std::span<std::uint8_t> scratch);
  ~Room();
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  RoomId id() const { return id_; }
  bool empty() const { return participants_.empty(); }

  // Control commands (see Engine).
  void add_participant(ParticipantId participant);
  void remove_participant(ParticipantId participant);
  // `generation` names this transport in the TransportStateEvents it causes.
  void set_transport(ParticipantId participant, TransportRole role, std::uint32_t generation,
                     rtc::WebRtcTransport::Parameters parameters);
  void restart_ice(ParticipantId participant, TransportRole role,
                   rtc::IceLiteAgent::Credentials credentials);
  void set_published_tracks(ParticipantId participant, const PublishExtensions& extensions,
                            const std::vector<PublishedTrackSpec>& tracks);
  void unpublish(ParticipantId participant, TrackId track);
  // Stops (or resumes) forwarding a published track: a host's mute is enforced here.
  void set_blocked(ParticipantId participant, TrackId track, bool blocked);
  void set_subscriptions(ParticipantId subscriber, const std::vector<SubscriptionSpec>& specs);
  void set_preference(ParticipantId subscriber, TrackId track, Preference preference);

  // Every 20 ms from the Engine's timer.
  void on_tick(Clock::time_point now) noexcept;

 private:
  struct Participant;
  struct PublishedTrack;
  struct DownTrack;

  // Where an incoming SSRC goes.
  struct Binding {
    std::uint32_t ssrc = 0;
    PublishedTrack* track = nullptr;
    std::uint8_t layer = 0;
    bool rtx = false;
  };

  struct Layer {
    std::string rid;
    std::uint32_t ssrc = 0;
    std::uint32_t rtx_ssrc = 0;
    ReceiveStats stats;
    NackGenerator nack;
    std::unique_ptr<PacketCache> cache;  // video only
    KeyframeRequestThrottle keyframes{std::chrono::milliseconds(200)};
    bool keyframe_wanted = false;  // a request the throttle held back; retried every tick
    RateMeter rate;
    std::uint16_t width = 0, height = 0;
    Clock::time_point last_packet{};
    bool active = false;  // a packet within the last second
    // The publisher's last sender report: its RTP time and when it arrived here.
    std::uint32_t sr_rtp = 0;
    Clock::time_point sr_arrival{};
    bool has_sr = false;
    explicit Layer(std::uint32_t clock_rate) : stats(clock_rate) {}
  };

  struct PublishedTrack {
    PublishedTrackSpec spec;
    Participant* owner = nullptr;
    std::vector<std::unique_ptr<Layer>> layers;           // by rid position in the SDP
    std::array<std::uint8_t, kMaxLayers> order{0, 1, 2};  // layer slots, lowest resolution first
    std::vector<DownTrack*> downs;
  };

  struct DownTrack {
    PublishedTrack* track = nullptr;
    Participant* subscriber = nullptr;
    SubscriptionSpec spec;
    Preference preference;
    RtpRewriter rewriter;
    std::unique_ptr<SentPacketLog> log;  // video only
    int current = -1;                    // layer slot forwarded now; -1 none
    int target = -1;                     // layer slot wanted; switch at its next key frame
    LayerReason reason = LayerReason::kBandwidth;
    std::uint32_t epoch = 0;  // bumped on every (re)start so the rewriter sees a new source
    std::uint16_t rtx_sequence = 0;
    // For sender reports.
    std::uint32_t packets_sent = 0, octets_sent = 0;
    std::uint32_t last_timestamp = 0;
    std::uint32_t timestamp_offset = 0;  // out - in, for the source forwarded now
    Clock::time_point last_sent{};
    DownTrack(std::uint16_t initial_seq, std::uint32_t initial_ts)
        : rewriter(initial_seq, initial_ts) {}
  };

  class Link;  // WebRtcTransport::Listener of one of a participant's transports

  struct Participant {
    ParticipantId id = 0;
    std::uint32_t rtcp_ssrc = 0;  // the SSRC our RTCP to this participant is sent as
    rtc::WebRtcTransport* publish = nullptr;
    rtc::WebRtcTransport* subscribe = nullptr;
    Link* publish_link = nullptr;
    Link* subscribe_link = nullptr;
    std::uint32_t publish_generation = 0;
    std::uint32_t subscribe_generation = 0;
    rtc::ExtensionMap publish_extensions;
    std::vector<std::unique_ptr<PublishedTrack>> tracks;
    std::vector<Binding> bindings;
    TwccRecorder twcc;
    // Subscriber side.
    std::vector<std::unique_ptr<DownTrack>> downs;
    BandwidthEstimator bwe;
    std::uint16_t transport_sequence = 0;
    std::chrono::milliseconds rtt{50};
    // Retransmissions are paid from a byte budget (a quarter of the estimate), so NACKs
    // cannot make the SFU send much more than the subscriber's normal stream.
    double rtx_budget = 0;
    Clock::time_point rtx_refilled{};
    std::vector<AllocationRequest> requests;  // reused by allocate()
    std::vector<Allocation> allocations;
    std::vector<std::array<LayerInfo, kMaxLayers>> layer_infos;
  };

  // Packet path.
  void on_state(Participant& p, TransportRole role, rtc::WebRtcTransport::State state) noexcept;
  void on_publisher_rtp(Participant& p, std::span<std::uint8_t> packet) noexcept;
  void on_publisher_rtcp(Participant& p, std::span<std::uint8_t> packet) noexcept;
  void on_subscriber_rtcp(Participant& p, std::span<std::uint8_t> packet) noexcept;
  const Binding* bind(Participant& p, const rtc::RtpPacket& packet) noexcept;
  void on_media(PublishedTrack& track, std::uint8_t slot, rtc::RtpPacket& packet,
                Clock::time_point now, bool recovered) noexcept;
  void forward(DownTrack& down, std::uint8_t slot, const rtc::RtpPacket& packet,
               const Vp8Descriptor* vp8, bool keyframe, Clock::time_point now) noexcept;
  void resend(DownTrack& down, std::uint16_t sequence, Clock::time_point now) noexcept;
  bool send_to_subscriber(Participant& subscriber, std::span<std::uint8_t> packet,
                          std::size_t capacity, Clock::time_point now,
                          std::size_t transport_cc_offset) noexcept;
  void request_keyframe(PublishedTrack& track, std::uint8_t slot, Clock::time_point now) noexcept;
  void send_rtcp(rtc::WebRtcTransport* transport, std::span<std::uint8_t> packet) noexcept;

  // Timers.
  void send_publisher_feedback(Participant& p, Clock::time_point now) noexcept;
  void send_reports(Clock::time_point now) noexcept;
  void allocate(Participant& subscriber, Clock::time_point now) noexcept;
  void set_current(DownTrack& down, int slot) noexcept;
  void sort_layers(PublishedTrack& track) noexcept;

  // Control helpers.
  Participant* find(ParticipantId id);
  PublishedTrack* find_track(TrackId id);
  void drop_downs_of(PublishedTrack& track);
  void remove_down(Participant& subscriber, DownTrack* down);
  void close_transport(Participant& p, TransportRole role);

  RoomId id_;
  rtc::WebRtcServer& server_;  // Passed by argument; the worker's.
  SfuCounters& counters_;      // Passed by argument.
  RoomConfig config_;
  const EventSink& sink_;            // Passed by argument; the Engine's.
  std::span<std::uint8_t> scratch_;  // The Engine's; one packet at a time.
  std::vector<std::unique_ptr<Participant>> participants_;
  std::unordered_map<TrackId, PublishedTrack*> tracks_;
  SpeakerDetector speakers_;
  std::optional<ParticipantId> last_dominant_;
  std::vector<ParticipantId> speaking_sent_;
  unsigned ticks_ = 0;
};

}  // namespace conclave::sfu
