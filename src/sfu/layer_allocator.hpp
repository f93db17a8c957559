// Chooses, for one subscriber, which simulcast layer of each subscribed video track to
// forward (or whether to pause it), within that subscriber's bandwidth estimate
// (sfu/bandwidth_estimator.hpp). The forwarding engine calls allocate_layers() a few times
// per second per subscriber and when subscriptions, layers or the estimate change; it then
// switches layers at the next keyframe and pauses or resumes tracks.
//
// Rules (in the spirit of mediasoup's Consumer priorities and libwebrtc's
// BitrateAllocator, but for an SFU that does not probe):
// - Audio always flows: audio_reserve_bps per audio track is taken from the budget first,
//   and audio is never paused here (its allocation is layer 0).
// - Video priority: screen shares first, then by relevance (0 most relevant), then by
//   position in the request list.
// - Last-N: only the last_n most relevant video tracks (screen shares count) are
//   candidates; the rest are paused. Tracks the receiver paused, and tracks with no active
//   layer, take no last-N slot.
// - Size: a layer never exceeds what the receiver's tile needs: the smallest layer whose
//   width and height are both ≥ the requested ones, or the largest layer when none is. A
//   layer with unknown dimensions (0) is taken by its index: 0, 1, 2 = 1/4, 1/2, 1 of the
//   full size (the full size derived from a layer whose size is known, else 1280×720).
//   When no active layer is within the size cap, the lowest active layer is used (better
//   a larger picture than none).
// - Inactive layers (the publisher is not sending them) are never chosen.
// - Budget: first every candidate gets its lowest eligible layer in priority order; one
//   that does not fit is paused (video is paused before audio suffers) and the next one is
//   still tried. Then, in priority order, each forwarded track is raised to the highest
//   eligible layer the remaining budget allows.
// - Hysteresis: going above the track's current layer (or resuming a paused track) needs
//   upgrade_headroom × that layer's bitrate to fit; staying on (or going down to) the
//   current layer only needs its bitrate. So an estimate hovering near a threshold does
//   not flap.
// - Unknown bitrates (0) get a default by resolution: under 300 lines 150 kbit/s, under
//   600 lines 500 kbit/s, else 1.5 Mbit/s (by index 0/1/2 when the size is unknown too).
//
// Not on the packet path, but noexcept and without allocation for up to kMaxStackTracks
// requests (a thread-local vector that only grows is used beyond; should it fail to grow,
// every video track is paused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace conclave::sfu {

enum class TrackSource : std::uint8_t { kCamera, kMicrophone, kScreen };

// One simulcast layer, lowest first; active = the publisher is sending it now.
struct LayerInfo {
  std::uint16_t width = 0, height = 0;
  std::uint64_t bitrate_bps = 0;
  bool active = false;
};

struct AllocationRequest {
  std::uint64_t id = 0;  // caller's subscription id
  bool audio = false;
  TrackSource source = TrackSource::kCamera;
  std::uint16_t max_width = 0, max_height = 0;  // what the receiver's tile needs; 0 = no limit
  bool paused_by_receiver = false;  // the receiver unsubscribed from video / tile hidden
  int relevance = 0;  // rank: 0 most relevant (active speaker or pinned), larger = less
  std::span<const LayerInfo> layers;  // empty for audio
  int current_layer = -1;             // what is forwarded now (-1 paused), for hysteresis
};

struct Allocation {
  std::uint64_t id;
  int layer;  // -1 = paused; audio is always 0
};

struct AllocatorConfig {
  std::size_t last_n = 0;  // 0 = unlimited
  double upgrade_headroom = 1.15;
  std::uint64_t audio_reserve_bps = 64'000;
};

inline constexpr std::size_t kMaxStackTracks = 256;

// Default bitrates for layers that do not say theirs.
inline constexpr std::uint64_t kDefaultLowBps = 150'000;
inline constexpr std::uint64_t kDefaultMediumBps = 500'000;
inline constexpr std::uint64_t kDefaultHighBps = 1'500'000;

// Fills out[i] for requests[i] (out.size() == requests.size(); extra entries on either
// side are left alone).
void allocate_layers(std::uint64_t budget_bps, std::span<const AllocationRequest> requests,
                     std::span<Allocation> out, const AllocatorConfig& config) noexcept;

// The same, with the caller's scratch space for the priority order (order.size() ≥
// requests.size(), else every video track is paused).
void allocate_layers(std::uint64_t budget_bps, std::span<const AllocationRequest> requests,
                     std::span<Allocation> out, const AllocatorConfig& config,
                     std::span<std::uint32_t> order) noexcept;

// The bitrate the allocator assumes for layer `index` of `layers` (its own, or the default).
std::uint64_t layer_bitrate(std::span<const LayerInfo> layers, std::size_t index) noexcept;

// The highest layer index the receiver's size needs (see the rules above); -1 if no layers.
int size_cap_layer(std::span<const LayerInfo> layers, std::uint16_t max_width,
                   std::uint16_t max_height) noexcept;

}  // namespace conclave::sfu
