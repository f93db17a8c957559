// The test server's hooks (built into build/conclave-test-server only, never into
// build/conclave): they make the server behave as a curious or malicious operator could,
// so that tests can show what such an operator gets.
//
//   TESTHOOK_TAP_FILE=<path>  every forwarded video packet is appended to <path> as
//       u32 ssrc | u8 marker | u16 length | RTP payload (big-endian), for
//       tests/browser/e2ee.test.mjs to look at what the SFU sees.
//   TESTHOOK_GHOST_NAME=<name>  a join with exactly this name becomes a hidden
//       participant (meeting/test_hooks.hpp): in the meeting, never in a roster.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "meeting/test_hooks.hpp"
#include "sfu/test_tap.hpp"

namespace {

std::mutex tap_mutex;
std::FILE* tap_file = nullptr;
std::string ghost_name;

void tap(conclave::sfu::MediaKind kind, std::uint32_t ssrc, bool marker,
         std::span<const std::uint8_t> payload) {
  if (kind != conclave::sfu::MediaKind::kVideo || payload.size() > 0xffff) return;
  const std::uint8_t head[7] = {
      static_cast<std::uint8_t>(ssrc >> 24),    static_cast<std::uint8_t>(ssrc >> 16),
      static_cast<std::uint8_t>(ssrc >> 8),     static_cast<std::uint8_t>(ssrc),
      static_cast<std::uint8_t>(marker),        static_cast<std::uint8_t>(payload.size() >> 8),
      static_cast<std::uint8_t>(payload.size())};
  std::lock_guard lock(tap_mutex);
  std::fwrite(head, 1, sizeof head, tap_file);
  std::fwrite(payload.data(), 1, payload.size(), tap_file);
  std::fflush(tap_file);
}

bool hidden(std::string_view name) {
  return !ghost_name.empty() && name == ghost_name;
}

}  // namespace

void install_test_hooks() {
  if (const char* path = std::getenv("TESTHOOK_TAP_FILE"); path && *path) {
    tap_file = std::fopen(path, "ab");
    if (tap_file) conclave::sfu::forward_tap.store(&tap);
  }
  if (const char* name = std::getenv("TESTHOOK_GHOST_NAME"); name && *name) {
    ghost_name = name;
    conclave::meeting::hidden_join.store(&hidden);
  }
}
