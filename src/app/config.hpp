// The server's configuration. Every key is described once, in the table in config.cpp,
// and that one description gives its TOML key, its command-line flag, its environment
// variable, its --help text and its line in `conclave config print`. Precedence, lowest
// first: built-in default, TOML file (--config / CONCLAVE_CONFIG), environment, flag.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace conclave::app {

enum class TlsMode { kAuto, kOff, kSelfSigned, kFiles };
enum class LogFormat { kHuman, kJson };

struct Config {
  struct Server {
    std::filesystem::path data_dir = "data";
    std::chrono::seconds drain_timeout{30};
  } server;
  struct Http {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    // Empty: the `web` folder next to the executable (where the build puts the client).
    std::filesystem::path web_root;
  } http;
  struct Tls {
    TlsMode mode = TlsMode::kAuto;  // auto: files when cert and key are set, else off
    std::filesystem::path cert;
    std::filesystem::path key;
  } tls;
  struct WebSocket {
    std::size_t max_message_bytes = 64 * 1024;
    std::chrono::seconds idle_timeout{40};  // a ping goes out at half of it
  } websocket;
  struct Rtc {
    std::string address = "127.0.0.1";  // where the media workers' UDP sockets bind
    std::uint16_t port = 40000;         // worker i uses port + i (0: any free port)
    std::string announced_ip;           // in ICE candidates; empty: rtc.address
    unsigned workers = 1;               // 0: one per CPU core
    bool echo = false;                  // test-only POST /rtc/echo (transport issue)
  } rtc;
  struct Meeting {
    std::chrono::seconds reconnect_grace{15};  // a dropped participant may resume this long
    unsigned max_participants = 200;
    std::string create = "accounts";  // who may create meetings: accounts, anyone
  } meeting;
  struct Auth {
    std::string signup = "closed";  // closed (admins create accounts), invite, open
    std::chrono::seconds session_ttl{30 * 24 * 3600};
  } auth;
  // How long the server keeps what it keeps (docs/privacy.md).
  struct Retention {
    unsigned meeting_days = 90;  // a meeting unused this long is deleted; 0: at once
    std::chrono::seconds sweep_interval{3600};
  } retention;
  // Attempt limits (docs/protocol.md "Attempt limits"; docs/security.md).
  struct Limits {
    unsigned join_attempts = 100;             // per address per minute
    unsigned passcode_failures = 5;           // per address
    unsigned meeting_passcode_failures = 50;  // per meeting id
    unsigned signin_failures = 5;             // per address and per account
    std::chrono::seconds window{600};
    std::chrono::seconds backoff_max{900};
  } limits;
  struct Sfu {
    unsigned last_n = 25;  // videos forwarded to each receiver at most (0: no limit)
  } sfu;
  struct Log {
    LogFormat format = LogFormat::kHuman;
    std::string level = "info";
    bool ip_addresses = false;
  } log;

  // tls.mode after resolving "auto".
  TlsMode effective_tls_mode() const;
};

// Where a key's effective value came from, for `config print`.
enum class Source { kDefault, kFile, kEnv, kFlag };

// A configuration error: unknown key, flag or variable, wrong type, out of range. The
// message names the key and where it was given. Exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One configurable key, as the table in config.cpp describes it.
struct KeyInfo {
  std::string key;   // "http.port"
  std::string flag;  // "--http-port"
  std::string env;   // "CONCLAVE_HTTP_PORT"
  std::string type;  // "PORT", "PATH", "SECONDS", ...
  std::string help;
  std::string default_value;  // as config print shows it; empty for "none"
};
const std::vector<KeyInfo>& config_keys();

// The environment variable that names the config file; not itself a key.
inline constexpr const char* kConfigFileEnv = "CONCLAVE_CONFIG";

struct LoadedConfig {
  Config config;
  std::map<std::string, Source> sources;  // by key
};

// Builds the effective configuration. `flag_values` maps keys to the raw text given on
// the command line; `environment` is the process environment as NAME=VALUE strings (so
// tests can pass their own). Throws ConfigError.
LoadedConfig load_config(const std::optional<std::filesystem::path>& file,
                         const std::map<std::string, std::string>& flag_values,
                         const std::vector<std::string>& environment);

// Parses TOML text as a config file on top of `base` (used by load_config and the fuzzer).
void apply_toml(LoadedConfig& into, std::string_view toml_text, const std::string& origin);

// The effective configuration as a TOML document that load_config accepts again, each
// line commented with where its value came from.
std::string to_toml(const LoadedConfig& loaded);

}  // namespace conclave::app
