// Fuzzes the SDP parser and the answer writer: any text parses or fails with a typed
// error, and whatever answer is written for a parsed offer parses again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rtc/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conclave::rtc::sdp;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sdp(text);
  auto* offer = std::get_if<SessionDescription>(&parsed);
  if (!offer) return 0;
  (void)transport_of(*offer);
  const LocalTransport local{"abcd", "0123456789abcdefghijkl", "sha-256 AB", "127.0.0.1", 9};
  auto answer = write_echo_answer(*offer, local);
  if (auto* a = std::get_if<std::string>(&answer)) {
    if (!std::holds_alternative<SessionDescription>(parse_sdp(*a))) std::abort();
  }
  return 0;
}
