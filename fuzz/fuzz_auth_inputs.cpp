// Fuzzes what auth/ reads from requests before anything else: the Cookie header and the
// email of a sign-up or sign-in (auth/credentials).
//
// Invariants: nothing throws; a normalised email normalises to itself, has exactly one
// '@' with something on both sides and no uppercase ASCII; the session cookie's value
// comes from the header.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/credentials.hpp"

using namespace conclave;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto email = auth::normalise_email(text)) {
    if (auth::normalise_email(*email) != email) std::abort();
    const auto at = email->find('@');
    if (at == 0 || at == std::string::npos || at + 1 == email->size()) std::abort();
    if (email->find('@', at + 1) != std::string::npos) std::abort();
    for (char c : *email) {
      if (c >= 'A' && c <= 'Z') std::abort();
    }
  }
  const auto value = auth::cookie_value(text, "conclave_session");
  if (!value.empty() && text.find(value) == std::string_view::npos) std::abort();
  (void)auth::is_public_key(text);
  return 0;
}
