// What a server process used, read from /proc (Linux): CPU seconds (user + system, all
// threads) and resident memory. The load harness gives conclave-bot the server's pid, so
// that CPU per forwarded packet comes from the same window as the packets.
#pragma once

#include <sys/types.h>
#include <optional>

namespace conclave::bot {

struct ProcessUsage {
  double cpu_seconds = 0;
  long rss_kb = 0;
};

std::optional<ProcessUsage> process_usage(pid_t pid);

}  // namespace conclave::bot
