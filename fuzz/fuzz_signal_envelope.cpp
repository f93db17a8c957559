// Fuzzes the signaling envelope parser: any bytes give a Request or a typed failure, and
// the reply built from either is valid JSON that parses again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signal/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conclave::signal;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_request(text);
  std::string reply;
  if (const auto* f = std::get_if<ParseFailure>(&parsed)) {
    reply = make_error(f->id, f->error);
  } else {
    const auto& r = std::get<Request>(parsed);
    if (r.type.empty() || r.type.size() > kMaxTypeLength) std::abort();
    reply = make_result(r.id, nlohmann::json::object());
  }
  if (!nlohmann::json::accept(reply)) std::abort();
  return 0;
}
