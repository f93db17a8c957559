// The SFU's counters, shared by every worker (relaxed atomics, as rtc/counters.hpp): what
// was forwarded, how often layers switched and key frames were asked for, NACK and RTX
// traffic. Gauges of meetings and participants belong to the control thread (meeting/).
#pragma once

#include "common/metrics.hpp"

namespace conclave::sfu {

struct SfuCounters {
  metrics::Counter& forwarded_packets;
  metrics::Counter& forwarded_bytes;
  metrics::Counter& layer_switches;
  metrics::Counter& keyframe_requests;    // PLIs we sent to publishers
  metrics::Counter& subscriber_keyframe;  // PLI/FIR received from subscribers
  metrics::Counter& nack_received;        // sequence numbers subscribers asked for
  metrics::Counter& rtx_sent;             // retransmissions sent to subscribers
  metrics::Counter& nack_sent;            // sequence numbers we asked publishers for
  metrics::Counter& rtx_received;         // retransmissions that filled one of our holes
  metrics::Counter& unknown_ssrc;         // RTP we could not bind to a published track
  metrics::Gauge& published_tracks;
  metrics::Gauge& subscriptions;

  static SfuCounters create(metrics::Registry& registry);
};

}  // namespace conclave::sfu
