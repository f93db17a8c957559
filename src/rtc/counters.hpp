// The media plane's counters, shared by every worker: each is one relaxed atomic, so the
// packet path counts without a lock, and /metrics reads them from the control thread.
// A bad packet is counted here and dropped, never logged per packet (STYLE.md §7).
#pragma once

#include "common/metrics.hpp"

namespace conclave::rtc {

struct RtcCounters {
  metrics::Counter& packets_in;
  metrics::Counter& bytes_in;
  metrics::Counter& packets_out;
  metrics::Counter& bytes_out;
  metrics::Counter& dropped_unknown_source;  // not STUN, and from no checked address
  metrics::Counter& dropped_stun_username;   // no transport has that ufrag
  metrics::Counter& dropped_stun_integrity;  // wrong MESSAGE-INTEGRITY or FINGERPRINT
  metrics::Counter& dropped_malformed;       // unparseable STUN/RTP/RTCP, unknown first byte
  metrics::Counter& dropped_not_connected;   // media before DTLS finished
  metrics::Counter& dropped_srtp;            // SRTP authentication or replay failure
  metrics::Counter& send_failures;
  metrics::Counter& dtls_failures;
  metrics::Gauge& transports;

  static RtcCounters create(metrics::Registry& registry);
};

}  // namespace conclave::rtc
