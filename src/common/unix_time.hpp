// Wall-clock time as the store and the API keep it: whole seconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace conclave {

inline std::int64_t unix_now() {
  // Since C++20, system_clock measures Unix time.
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace conclave
