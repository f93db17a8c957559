// CRC-32 as STUN's FINGERPRINT attribute uses it (RFC 8489 §14.7 names the CRC-32 of
// ITU-T V.42, the same as gzip's in RFC 1952 §8 and Ethernet's; in the catalogue of
// parametrised CRCs it is CRC-32/ISO-HDLC: reflected polynomial 0xEDB88320, initial value
// and final XOR 0xFFFFFFFF, check value 0xCBF43926 for the ASCII bytes "123456789").
// Our own table-driven implementation, so that the packet path needs no zlib; the table is
// built at compile time. FINGERPRINT then XORs the result with 0x5354554e, which is
// stun.cpp's business.
#pragma once

#include <cstdint>
#include <span>

namespace conclave::rtc {

// CRC-32 of `data`. To checksum a message held in several pieces, pass the result for
// the pieces before as `previous` (as zlib's crc32() does): crc32(b, crc32(a)) equals the
// CRC of a followed by b. Reads only `data`; never allocates.
[[nodiscard]] std::uint32_t crc32(std::span<const std::uint8_t> data,
                                  std::uint32_t previous = 0) noexcept;

}  // namespace conclave::rtc
