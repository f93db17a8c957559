// Fuzzes the request-target -> file mapping: whatever the target, the result is a client
// route, "not found", or a relative path of safe characters with no dot segment.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/static_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using conclave::http::StaticTarget;
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto r = conclave::http::resolve_static(target);
  if (r.kind != StaticTarget::Kind::kFile) return 0;
  const std::string& p = r.relative;
  if (p.empty() || p.front() == '/' || p.front() == '.') std::abort();
  if (p.find("..") != std::string::npos || p.find("//") != std::string::npos) std::abort();
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) std::abort();
  }
  return 0;
}
