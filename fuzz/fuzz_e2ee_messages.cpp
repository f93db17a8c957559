// Fuzzes what a client reads from the relay in an E2EE meeting (e2ee/protocol): any bytes,
// parsed as JSON, then opened as every kind of message (hello, key, msg, dm), and the
// base64url and key-plaintext decoders on the raw input.
//
// Invariants: nothing crashes; base64url decodes only what it would encode again the same
// way; a key plaintext parses only at its one size and writes back the same bytes; a
// hello opens only with a valid signature (the fuzzer cannot make one for a fixed meeting
// and sender unless the corpus holds one), and sealed entries and messages under the
// fixed keys below never open from fuzzer input without a real seal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "e2ee/protocol.hpp"

using namespace conclave::e2ee;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto b = from_b64url(text)) {
    if (b64url(*b) != text) std::abort();
  }
  const std::span<const std::uint8_t> raw(data, size);
  if (const auto k = parse_key_plaintext(raw)) {
    if (size != 22 || key_plaintext(*k) != Bytes(raw.begin(), raw.end())) std::abort();
  }
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  static const Bytes pairwise(32, 0x42), base(16, 0x17);
  (void)kind_of(json);
  (void)open_hello(json, "kfx7-mq2d-9tbe-4hna", "p-k3x9m2q7d4b8n6t");
  (void)open_entry(json, pairwise, "p-a", "p-b", "kfx7-mq2d-9tbe-4hna");
  (void)msg_kid(json);
  (void)open_msg(json, base, "p-a", "kfx7-mq2d-9tbe-4hna");
  if (json.is_object()) {
    if (const auto each = json.find("each"); each != json.end() && each->is_object()) {
      for (const auto& [id, entry] : each->items())
        (void)open_entry(entry, pairwise, id, "p-b", "kfx7-mq2d-9tbe-4hna");
    }
  }
  return 0;
}
