#include "rtc/crc32.hpp"

#include <array>

namespace conclave::rtc {
namespace {

// Bit-reversed form of the polynomial x^32 + x^26 + x^23 + ... + 1 (0x04C11DB7): the
// ISO-HDLC CRC processes the least significant bit of each byte first.
constexpr std::uint32_t kReflectedPolynomial = 0xEDB88320u;

// One entry per byte value: the CRC remainder of that byte shifted through eight steps,
// so that the loop below handles a byte per lookup instead of a bit per step.
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t remainder = byte;
    for (int bit = 0; bit < 8; ++bit) {
      remainder = (remainder & 1u) ? (remainder >> 1) ^ kReflectedPolynomial : remainder >> 1;
    }
    table[byte] = remainder;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

// Spot checks of the generated table against the well-known first entries, so that a
// mistake in make_table() fails the build rather than a test.
static_assert(kTable[0] == 0x00000000u);
static_assert(kTable[1] == 0x77073096u);
static_assert(kTable[128] == 0xEDB88320u);
static_assert(kTable[255] == 0x2D02EF8Du);

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> data, std::uint32_t previous) noexcept {
  // The register starts at 0xFFFFFFFF and the result is inverted; undoing the inversion
  // of `previous` continues a CRC where it left off (0 gives the initial 0xFFFFFFFF).
  std::uint32_t reg = ~previous;
  for (const std::uint8_t byte : data) {
    reg = kTable[(reg ^ byte) & 0xFFu] ^ (reg >> 8);
  }
  return ~reg;
}

}  // namespace conclave::rtc
