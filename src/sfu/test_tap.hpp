// A view of every RTP packet the SFU forwards, so that a test can show what the server
// operator could see (docs/e2ee.md: video payloads are ciphertext beyond the clear
// prefix). The production binary has no code that sets it, so it stays null there and
// costs one relaxed load per forwarded packet; only the test server
// (tests/tools/test_hooks.cpp, built with CONCLAVE_TEST_HOOKS) sets it, once, before the
// workers start. Called on worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "sfu/types.hpp"

namespace conclave::sfu {

using ForwardTap = void (*)(MediaKind kind, std::uint32_t ssrc, bool marker,
                            std::span<const std::uint8_t> payload);
inline std::atomic<ForwardTap> forward_tap{nullptr};

}  // namespace conclave::sfu
