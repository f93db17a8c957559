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
  if (p.empty() || p.front() == '/' || p.back() == '/') std::abort();
  // No empty segment, and no segment that starts with '.' (so no "." or "..").
  for (std::size_t start = 0; start <= p.size();) {
    auto end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (end == start || p[start] == '.') std::abort();
    start = end + 1;
  }
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) std::abort();
  }
  return 0;
}
