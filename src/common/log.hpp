// Logging for the whole process, through spdlog. Two formats: human (default) and JSON
// lines for machines. IP addresses are personal data: they are written only when the
// operator turns that on, so every call site that wants to mention a peer goes through
// peer_for_log(), never formats an endpoint itself.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace conclave::log {

enum class Format { kHuman, kJson };

struct Options {
  Format format = Format::kHuman;
  spdlog::level::level_enum level = spdlog::level::info;
  bool ip_addresses = false;
};

// Installs the default logger (stderr). Call once, before any thread starts.
void init(const Options& options);

// The peer as it may appear in a log line: "203.0.113.7:51234" if the operator allowed
// addresses in logs, otherwise "-".
std::string peer_for_log(std::string_view address, unsigned short port);

}  // namespace conclave::log
