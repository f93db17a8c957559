// Fuzzes the configuration loader: any TOML text either applies cleanly or throws
// ConfigError; nothing else may escape, and an applied config must print and reload.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conclave::app;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadedConfig loaded;
  for (const auto& k : config_keys()) loaded.sources[k.key] = Source::kDefault;
  try {
    apply_toml(loaded, text, "fuzz.toml");
  } catch (const ConfigError&) {
    return 0;
  }
  // Whatever was accepted must survive a round trip through `config print` unchanged.
  const std::string printed = to_toml(loaded);
  LoadedConfig again;
  apply_toml(again, printed, "printed.toml");  // a throw here is a bug: the fuzzer reports it
  for (auto& [key, source] : loaded.sources) source = Source::kDefault;
  for (const auto& k : config_keys()) again.sources[k.key] = Source::kDefault;
  if (to_toml(again) != to_toml(loaded)) std::abort();
  return 0;
}
