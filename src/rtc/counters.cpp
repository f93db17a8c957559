#include "rtc/counters.hpp"

namespace conclave::rtc {

RtcCounters RtcCounters::create(metrics::Registry& r) {
  auto& packets =
      r.counter_family("conclave_rtc_packets_total",
                       "UDP datagrams on the media ports, by direction.", {"direction"});
  auto& bytes =
      r.counter_family("conclave_rtc_bytes_total",
                       "UDP payload bytes on the media ports, by direction.", {"direction"});
  auto& dropped = r.counter_family("conclave_rtc_dropped_total",
                                   "Datagrams dropped on the media ports, by reason.", {"reason"});
  return RtcCounters{
      .packets_in = packets.with({"in"}),
      .bytes_in = bytes.with({"in"}),
      .packets_out = packets.with({"out"}),
      .bytes_out = bytes.with({"out"}),
      .dropped_unknown_source = dropped.with({"unknown_source"}),
      .dropped_stun_username = dropped.with({"stun_username"}),
      .dropped_stun_integrity = dropped.with({"stun_integrity"}),
      .dropped_malformed = dropped.with({"malformed"}),
      .dropped_not_connected = dropped.with({"not_connected"}),
      .dropped_srtp = dropped.with({"srtp"}),
      .send_failures =
          r.counter("conclave_rtc_send_failures_total", "Datagrams the kernel refused to send."),
      .dtls_failures = r.counter("conclave_rtc_dtls_failures_total",
                                 "DTLS handshakes that failed (timeout, alert, fingerprint)."),
      .transports = r.gauge("conclave_rtc_transports", "Open WebRTC transports."),
  };
}

}  // namespace conclave::rtc
