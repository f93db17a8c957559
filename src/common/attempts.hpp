// conclave_attempts_total{kind,outcome}: joins, passcode checks and sign-ins, counted by
// meeting/ and auth/ into one family (docs/protocol.md, "Attempt limits").
#pragma once

#include "common/metrics.hpp"

namespace conclave::metrics {

inline Family<Counter>& attempts_family(Registry& registry) {
  return registry.shared_counter_family(
      "conclave_attempts_total",
      "Joins, passcode checks and sign-ins, by kind (join, passcode, signin) and outcome (ok, "
      "failed, limited).",
      {"kind", "outcome"});
}

}  // namespace conclave::metrics
