#include "sfu/counters.hpp"

namespace conclave::sfu {

SfuCounters SfuCounters::create(metrics::Registry& r) {
  return SfuCounters{
      .forwarded_packets = r.counter("conclave_sfu_forwarded_packets_total",
                                     "RTP packets forwarded to subscribers (RTX included)."),
      .forwarded_bytes = r.counter("conclave_sfu_forwarded_bytes_total",
                                   "RTP bytes forwarded to subscribers, before SRTP."),
      .layer_switches =
          r.counter("conclave_sfu_layer_switches_total",
                    "Simulcast layer changes made for a subscriber (pauses included)."),
      .keyframe_requests = r.counter("conclave_sfu_keyframe_requests_total",
                                     "Key frame requests (PLI) sent to publishers."),
      .subscriber_keyframe = r.counter("conclave_sfu_subscriber_keyframe_requests_total",
                                       "PLI and FIR received from subscribers."),
      .nack_received = r.counter("conclave_sfu_nack_received_total",
                                 "Packets subscribers asked to have retransmitted."),
      .rtx_sent = r.counter("conclave_sfu_rtx_sent_total", "Retransmissions sent to subscribers."),
      .nack_sent = r.counter("conclave_sfu_nack_sent_total",
                             "Packets asked of publishers for the SFU's own losses."),
      .rtx_received = r.counter("conclave_sfu_rtx_recovered_total",
                                "Publisher retransmissions that filled a hole."),
      .unknown_ssrc = r.counter("conclave_sfu_unknown_ssrc_total",
                                "RTP packets that matched no published track."),
      .published_tracks = r.gauge("conclave_sfu_published_tracks", "Tracks published on workers."),
      .subscriptions = r.gauge("conclave_sfu_subscriptions", "Tracks forwarded to subscribers."),
  };
}

}  // namespace conclave::sfu
