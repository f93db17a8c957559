// Fuzzes meeting settings as clients send them (set_settings, POST /api/meetings) and as
// the store gives them back (meeting/policy), and the stored-secret check.
//
// Invariants: apply_settings either throws signal::RequestError or returns settings whose
// saved JSON reads back as the same settings (but for the live `locked`);
// settings_from_stored never throws; verify_secret never throws and accepts nothing for a
// malformed stored value.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "meeting/policy.hpp"
#include "signal/dispatcher.hpp"

using namespace conclave;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)meeting::settings_from_stored(text);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    try {
      auto s = meeting::apply_settings({}, j);
      s.locked = false;
      const auto back = meeting::settings_from_stored(meeting::to_json(s, true).dump());
      if (!(back == s)) {
        std::fprintf(stderr, "settings do not survive the store: %s\n", j.dump().c_str());
        std::abort();
      }
      for (const auto& d : s.allowed_domains) {
        if (!meeting::email_domain_allowed("someone@" + d, s.allowed_domains)) std::abort();
      }
    } catch (const signal::RequestError&) {
      // refused: fine
    }
  }
  // Malformed stored hashes accept nothing; the empty one (no passcode) accepts anything.
  if (!text.empty() && text.substr(0, 3) != "s1$" && meeting::verify_secret(text, "x"))
    std::abort();
  (void)meeting::is_device_id(text);
  return 0;
}
