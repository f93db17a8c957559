// Fuzzes what a receiver reads from a protected media frame (e2ee/sframe): the SFrame
// header and the frame as a whole, under a known key.
//
// Invariants: nothing crashes or reads past the input; a decoded header re-encodes to the
// same bytes when it was minimally encoded; a frame that unprotects came from the key (the
// fuzzer cannot forge one, so success only happens for inputs built by protect()).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "e2ee/sframe.hpp"

using namespace conclave::e2ee;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  if (const auto h = decode_header(in)) {
    std::vector<std::uint8_t> again;
    encode_header(h->first, again);
    if (again.size() > h->second) std::abort();  // minimal encoding is never longer
  }
  static const auto km =
      *derive(CipherSuite::kAes128GcmSha256_128, 3, std::vector<std::uint8_t>(16, 0x5a));
  std::vector<std::uint8_t> out;
  const auto err = unprotect([](std::uint64_t kid) { return kid == 3 ? &km : nullptr; },
                             std::span<const std::uint8_t>{}, in, out);
  if (!err && size < 17) std::abort();  // header + 16-byte tag at least
  return 0;
}
