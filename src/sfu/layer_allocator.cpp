#include "sfu/layer_allocator.hpp"

#include <algorithm>
#include <array>
#include <new>
#include <vector>

namespace conclave::sfu {

namespace {

constexpr std::uint32_t kFullWidth = 1280;
constexpr std::uint32_t kFullHeight = 720;

struct Dims {
  std::uint32_t width;
  std::uint32_t height;
};

// Simulcast layers are conventionally 1/4, 1/2 and 1 of the full size.
constexpr std::uint32_t scale_divisor(std::size_t index) noexcept {
  return index == 0 ? 4 : index == 1 ? 2 : 1;
}

bool known(const LayerInfo& l) noexcept {
  return l.width > 0 && l.height > 0;
}

Dims layer_dims(std::span<const LayerInfo> layers, std::size_t index) noexcept {
  if (known(layers[index])) return {layers[index].width, layers[index].height};
  Dims full{kFullWidth, kFullHeight};
  for (std::size_t k = layers.size(); k-- > 0;) {
    if (known(layers[k])) {
      full = {layers[k].width * scale_divisor(k), layers[k].height * scale_divisor(k)};
      break;
    }
  }
  return {full.width / scale_divisor(index), full.height / scale_divisor(index)};
}

int lowest_active(std::span<const LayerInfo> layers) noexcept {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].active) return static_cast<int>(i);
  }
  return -1;
}

// Priority: screen shares first, then relevance, then position in the list.
bool higher_priority(const AllocationRequest& a, std::uint32_t ia, const AllocationRequest& b,
                     std::uint32_t ib) noexcept {
  const bool screen_a = a.source == TrackSource::kScreen;
  const bool screen_b = b.source == TrackSource::kScreen;
  if (screen_a != screen_b) return screen_a;
  if (a.relevance != b.relevance) return a.relevance < b.relevance;
  return ia < ib;
}

}  // namespace

std::uint64_t layer_bitrate(std::span<const LayerInfo> layers, std::size_t index) noexcept {
  if (index >= layers.size()) return 0;
  if (layers[index].bitrate_bps > 0) return layers[index].bitrate_bps;
  if (known(layers[index])) {
    const std::uint16_t lines = std::min(layers[index].width, layers[index].height);
    return lines < 300 ? kDefaultLowBps : lines < 600 ? kDefaultMediumBps : kDefaultHighBps;
  }
  return index == 0 ? kDefaultLowBps : index == 1 ? kDefaultMediumBps : kDefaultHighBps;
}

int size_cap_layer(std::span<const LayerInfo> layers, std::uint16_t max_width,
                   std::uint16_t max_height) noexcept {
  if (layers.empty()) return -1;
  const int top = static_cast<int>(layers.size()) - 1;
  if (max_width == 0 && max_height == 0) return top;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Dims d = layer_dims(layers, i);
    if ((max_width == 0 || d.width >= max_width) && (max_height == 0 || d.height >= max_height)) {
      return static_cast<int>(i);
    }
  }
  return top;
}

void allocate_layers(std::uint64_t budget_bps, std::span<const AllocationRequest> requests,
                     std::span<Allocation> out, const AllocatorConfig& config,
                     std::span<std::uint32_t> order) noexcept {
  const std::size_t n = std::min(requests.size(), out.size());
  std::size_t audio_tracks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = {requests[i].id, requests[i].audio ? 0 : -1};
    if (requests[i].audio) ++audio_tracks;
  }
  if (order.size() < n) return;  // no room to order: every video track stays paused

  // Audio first: it is never paused here, even when the budget does not cover it.
  const std::uint64_t audio_bps = audio_tracks * config.audio_reserve_bps;
  double budget = budget_bps > audio_bps ? static_cast<double>(budget_bps - audio_bps) : 0.0;
  const double headroom = std::max(config.upgrade_headroom, 1.0);

  std::size_t videos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!requests[i].audio) order[videos++] = static_cast<std::uint32_t>(i);
  }
  const auto ordered = order.first(videos);
  std::sort(ordered.begin(), ordered.end(), [&](std::uint32_t a, std::uint32_t b) {
    return higher_priority(requests[a], a, requests[b], b);
  });

  // Pass 1: the lowest active layer for each of the last-N candidates, in priority order.
  std::size_t slots = 0;
  for (const std::uint32_t i : ordered) {
    const AllocationRequest& r = requests[i];
    if (r.paused_by_receiver) continue;
    const int base = lowest_active(r.layers);
    if (base < 0) continue;  // nothing to forward: takes no last-N slot
    if (config.last_n > 0 && slots >= config.last_n) continue;
    ++slots;
    const auto cost = static_cast<double>(layer_bitrate(r.layers, static_cast<std::size_t>(base)));
    const double need = r.current_layer >= base ? cost : headroom * cost;
    if (need <= budget) {
      out[i].layer = base;
      budget -= cost;
    }
  }

  // Pass 2: raise each forwarded track, in priority order, as far as the budget allows.
  for (const std::uint32_t i : ordered) {
    const AllocationRequest& r = requests[i];
    const int chosen = out[i].layer;
    if (chosen < 0) continue;
    const int cap = size_cap_layer(r.layers, r.max_width, r.max_height);
    const auto chosen_cost =
        static_cast<double>(layer_bitrate(r.layers, static_cast<std::size_t>(chosen)));
    for (int layer = cap; layer > chosen; --layer) {
      const auto index = static_cast<std::size_t>(layer);
      if (!r.layers[index].active) continue;
      const auto cost = static_cast<double>(layer_bitrate(r.layers, index));
      const double need = layer > r.current_layer ? headroom * cost : cost;
      if (need - chosen_cost <= budget) {
        budget -= cost - chosen_cost;
        out[i].layer = layer;
        break;
      }
    }
  }
}

void allocate_layers(std::uint64_t budget_bps, std::span<const AllocationRequest> requests,
                     std::span<Allocation> out, const AllocatorConfig& config) noexcept {
  const std::size_t n = std::min(requests.size(), out.size());
  if (n <= kMaxStackTracks) {
    std::array<std::uint32_t, kMaxStackTracks> order;
    allocate_layers(budget_bps, requests, out, config, std::span(order).first(n));
    return;
  }
  // Rare: more tracks than the stack array. A per-thread vector that only grows, so the
  // steady state does not allocate.
  thread_local std::vector<std::uint32_t> order;
  try {
    if (order.size() < n) order.resize(n);
  } catch (const std::bad_alloc&) {
    allocate_layers(budget_bps, requests, out, config, std::span<std::uint32_t>());
    return;
  }
  allocate_layers(budget_bps, requests, out, config, std::span(order).first(n));
}

}  // namespace conclave::sfu
