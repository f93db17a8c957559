#include "app/config.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <functional>

namespace conclave::app {
namespace {

enum class Kind { kString, kPath, kInteger, kBool, kEnum };

struct Key {
  Key(KeyInfo i, Kind k, std::int64_t lo = 0, std::int64_t hi = 0)
      : info(std::move(i)), kind(k), min(lo), max(hi) {}
  KeyInfo info;
  Kind kind;
  std::int64_t min, max;             // kInteger
  std::vector<std::string> choices;  // kEnum
  std::function<void(Config&, const std::string&)> set;
  std::function<std::string(const Config&)> get;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

template <class E>
std::string enum_name(E value, const std::vector<std::pair<E, std::string>>& names) {
  for (const auto& [v, n] : names) {
    if (v == value) return n;
  }
  return "?";
}

const std::vector<std::pair<TlsMode, std::string>> kTlsModes = {
    {TlsMode::kAuto, "auto"},
    {TlsMode::kOff, "off"},
    {TlsMode::kSelfSigned, "self-signed"},
    {TlsMode::kFiles, "files"}};
const std::vector<std::pair<LogFormat, std::string>> kLogFormats = {{LogFormat::kHuman, "human"},
                                                                    {LogFormat::kJson, "json"}};

std::vector<std::string> names_of(const auto& table) {
  std::vector<std::string> out;
  for (const auto& [v, n] : table) out.push_back(n);
  return out;
}

// Derives the flag and environment names from the key, so that the three never drift
// apart: "http.port" -> --http-port, CONCLAVE_HTTP_PORT. Keys of [server] drop the section
// name in the flag and the variable (--data-dir, CONCLAVE_DATA_DIR).
// tls.mode is spelled --tls / CONCLAVE_TLS, as in `conclave --tls self-signed`.
KeyInfo info(std::string key, std::string type, std::string help) {
  std::string bare = key.rfind("server.", 0) == 0 ? key.substr(7) : key;
  if (key == "tls.mode") bare = "tls";
  std::string flag = "--", env = "CONCLAVE_";
  for (char c : bare) {
    flag += (c == '.' || c == '_') ? '-' : c;
    env += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return {std::move(key), std::move(flag), std::move(env), std::move(type), std::move(help), {}};
}

Key text_key(std::string key, std::string type, std::string help,
             std::function<std::string&(Config&)> field) {
  Key k{info(std::move(key), std::move(type), std::move(help)), Kind::kString};
  k.set = [field](Config& c, const std::string& v) { field(c) = v; };
  k.get = [field](const Config& c) { return field(const_cast<Config&>(c)); };
  return k;
}

Key path_key(std::string key, std::string help,
             std::function<std::filesystem::path&(Config&)> field) {
  Key k{info(std::move(key), "PATH", std::move(help)), Kind::kPath};
  k.set = [field](Config& c, const std::string& v) { field(c) = v; };
  k.get = [field](const Config& c) { return field(const_cast<Config&>(c)).string(); };
  return k;
}

template <class T>
Key integer_key(std::string key, std::string type, std::string help, std::int64_t min,
                std::int64_t max, std::function<T&(Config&)> field) {
  Key k{info(std::move(key), std::move(type), std::move(help)), Kind::kInteger, min, max};
  k.set = [field](Config& c, const std::string& v) { field(c) = static_cast<T>(std::stoll(v)); };
  k.get = [field](const Config& c) {
    return std::to_string(static_cast<std::int64_t>(field(const_cast<Config&>(c))));
  };
  return k;
}

Key seconds_key(std::string key, std::string help, std::int64_t min, std::int64_t max,
                std::function<std::chrono::seconds&(Config&)> field) {
  Key k{info(std::move(key), "SECONDS", std::move(help)), Kind::kInteger, min, max};
  k.set = [field](Config& c, const std::string& v) {
    field(c) = std::chrono::seconds(std::stoll(v));
  };
  k.get = [field](const Config& c) {
    return std::to_string(field(const_cast<Config&>(c)).count());
  };
  return k;
}

Key bool_key(std::string key, std::string help, std::function<bool&(Config&)> field) {
  Key k{info(std::move(key), "BOOL", std::move(help)), Kind::kBool};
  k.set = [field](Config& c, const std::string& v) { field(c) = (v == "true"); };
  k.get = [field](const Config& c) {
    return std::string(field(const_cast<Config&>(c)) ? "true" : "false");
  };
  return k;
}

template <class E>
Key enum_key(std::string key, std::string help, const std::vector<std::pair<E, std::string>>& names,
             std::function<E&(Config&)> field) {
  Key k{info(std::move(key), "CHOICE", std::move(help)), Kind::kEnum};
  k.choices = names_of(names);
  k.set = [field, &names](Config& c, const std::string& v) {
    for (const auto& [e, n] : names) {
      if (n == v) field(c) = e;
    }
  };
  k.get = [field, &names](const Config& c) {
    return enum_name(field(const_cast<Config&>(c)), names);
  };
  return k;
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table = [] {
    std::vector<Key> t;
    t.push_back(path_key(
        "server.data_dir", "Directory for the database and generated TLS files; created if missing",
        [](Config & c) -> auto& { return c.server.data_dir; }));
    t.push_back(seconds_key(
        "server.drain_timeout",
        "On SIGTERM/SIGINT, how long open meetings may go on before the server exits", 0, 86400,
        [](Config & c) -> auto& { return c.server.drain_timeout; }));
    t.push_back(text_key(
        "http.address", "ADDRESS", "IP address to listen on (0.0.0.0 or :: for all)",
        [](Config & c) -> auto& { return c.http.address; }));
    t.push_back(integer_key<std::uint16_t>(
        "http.port", "PORT", "TCP port for HTTP(S) and WebSocket (0: any free port)", 0, 65535,
        [](Config & c) -> auto& { return c.http.port; }));
    t.push_back(path_key(
        "http.web_root", "Directory of the built browser client (default: 'web' beside the binary)",
        [](Config & c) -> auto& { return c.http.web_root; }));
    t.push_back(enum_key<TlsMode>(
        "tls.mode",
        "auto (files if cert and key are set, else off), off, self-signed (generated and kept "
        "under the data directory), files",
        kTlsModes, [](Config & c) -> auto& { return c.tls.mode; }));
    t.push_back(path_key(
        "tls.cert", "PEM certificate chain file (tls.mode files)",
        [](Config & c) -> auto& { return c.tls.cert; }));
    t.push_back(path_key(
        "tls.key", "PEM private key file (tls.mode files)",
        [](Config & c) -> auto& { return c.tls.key; }));
    t.push_back(integer_key<std::size_t>(
        "websocket.max_message_bytes", "BYTES",
        "Largest WebSocket message accepted; a larger one closes the connection (1009)", 1024,
        16 * 1024 * 1024, [](Config & c) -> auto& { return c.websocket.max_message_bytes; }));
    t.push_back(seconds_key(
        "websocket.idle_timeout",
        "A WebSocket silent this long is closed; pings go out at half of it", 2, 3600,
        [](Config & c) -> auto& { return c.websocket.idle_timeout; }));
    t.push_back(text_key(
        "rtc.address", "ADDRESS", "IP address the media workers' UDP sockets bind to",
        [](Config & c) -> auto& { return c.rtc.address; }));
    t.push_back(integer_key<std::uint16_t>(
        "rtc.port", "PORT", "UDP port of the first media worker; worker i uses port + i (0: any)",
        0, 65535, [](Config & c) -> auto& { return c.rtc.port; }));
    t.push_back(text_key(
        "rtc.announced_ip", "ADDRESS",
        "Address put in ICE candidates, for hosts behind NAT (empty: rtc.address)",
        [](Config & c) -> auto& { return c.rtc.announced_ip; }));
    t.push_back(integer_key<unsigned>(
        "rtc.workers", "COUNT", "Media worker threads, one UDP port each (0: one per core)", 0, 256,
        [](Config & c) -> auto& { return c.rtc.workers; }));
    t.push_back(bool_key(
        "rtc.echo",
        "Test only: POST /rtc/echo answers an SDP offer and sends the "
        "browser's media straight back",
        [](Config & c) -> auto& { return c.rtc.echo; }));
    t.push_back(seconds_key(
        "meeting.reconnect_grace",
        "How long a participant whose connection dropped keeps its place and media", 0, 600,
        [](Config & c) -> auto& { return c.meeting.reconnect_grace; }));
    t.push_back(integer_key<unsigned>(
        "meeting.max_participants", "COUNT", "Participants per meeting at most", 2, 10000,
        [](Config & c) -> auto& { return c.meeting.max_participants; }));
    {
      Key k{info("meeting.create", "CHOICE",
                 "Who may create meetings: accounts (signed-in users) or anyone (guests too; "
                 "the creator gets a host key)"),
            Kind::kEnum};
      k.choices = {"accounts", "anyone"};
      k.set = [](Config& c, const std::string& v) { c.meeting.create = v; };
      k.get = [](const Config& c) { return c.meeting.create; };
      t.push_back(std::move(k));
    }
    {
      Key k{info("auth.signup", "CHOICE",
                 "Who may create an account: closed (only admins, from the command line), "
                 "invite (with an invite token), open (anyone)"),
            Kind::kEnum};
      k.choices = {"closed", "invite", "open"};
      k.set = [](Config& c, const std::string& v) { c.auth.signup = v; };
      k.get = [](const Config& c) { return c.auth.signup; };
      t.push_back(std::move(k));
    }
    t.push_back(seconds_key(
        "auth.session_ttl", "How long a sign-in lasts", 1, 365 * 24 * 3600,
        [](Config & c) -> auto& { return c.auth.session_ttl; }));
    t.push_back(integer_key<unsigned>(
        "retention.meeting_days", "DAYS",
        "Meetings not used for this many days are deleted, with their settings (0: as soon as "
        "they are over)",
        0, 36500, [](Config & c) -> auto& { return c.retention.meeting_days; }));
    t.push_back(seconds_key(
        "retention.sweep_interval", "How often expired meetings and sessions are deleted", 1, 86400,
        [](Config & c) -> auto& { return c.retention.sweep_interval; }));
    t.push_back(integer_key<unsigned>(
        "limits.join_attempts", "COUNT", "Joins per source address per minute before waits grow", 1,
        1000000, [](Config & c) -> auto& { return c.limits.join_attempts; }));
    t.push_back(integer_key<unsigned>(
        "limits.passcode_failures", "COUNT",
        "Wrong passcodes or meeting ids per source address (per limits.window) before waits "
        "grow",
        1, 1000000, [](Config & c) -> auto& { return c.limits.passcode_failures; }));
    t.push_back(integer_key<unsigned>(
        "limits.meeting_passcode_failures", "COUNT",
        "Wrong passcodes per meeting (per limits.window) before waits grow", 1, 1000000,
        [](Config & c) -> auto& { return c.limits.meeting_passcode_failures; }));
    t.push_back(integer_key<unsigned>(
        "limits.signin_failures", "COUNT",
        "Failed sign-ins per source address and per account (per limits.window) before waits "
        "grow",
        1, 1000000, [](Config & c) -> auto& { return c.limits.signin_failures; }));
    t.push_back(seconds_key(
        "limits.window", "Quiet time after which an address or account starts over", 1,
        7 * 24 * 3600, [](Config & c) -> auto& { return c.limits.window; }));
    t.push_back(seconds_key(
        "limits.backoff_max", "Longest wait the growing back-off imposes", 1, 7 * 24 * 3600,
        [](Config & c) -> auto& { return c.limits.backoff_max; }));
    t.push_back(integer_key<unsigned>(
        "sfu.last_n", "COUNT",
        "Videos forwarded to each participant at most, the most relevant first (0: no limit)", 0,
        10000, [](Config & c) -> auto& { return c.sfu.last_n; }));
    t.push_back(enum_key<LogFormat>(
        "log.format", "human or json (one object per line)", kLogFormats,
        [](Config & c) -> auto& { return c.log.format; }));
    {
      Key k{info("log.level", "CHOICE", "trace, debug, info, warn, error, critical or off"),
            Kind::kEnum};
      k.choices = {"trace", "debug", "info", "warn", "error", "critical", "off"};
      k.set = [](Config& c, const std::string& v) { c.log.level = v; };
      k.get = [](const Config& c) { return c.log.level; };
      t.push_back(std::move(k));
    }
    t.push_back(bool_key(
        "log.ip_addresses", "Write client IP addresses into logs (off: they are personal data)",
        [](Config & c) -> auto& { return c.log.ip_addresses; }));
    return t;
  }();
  return table;
}

const Key* find_key(std::string_view key) {
  for (const auto& k : keys()) {
    if (k.info.key == key) return &k;
  }
  return nullptr;
}

// Checks and normalises a raw text value for `key`; throws ConfigError naming `origin`.
std::string validate(const Key& key, std::string value, const std::string& origin) {
  auto fail = [&](const std::string& why) {
    return ConfigError(
        fmt::format("invalid value for {} ({}): '{}' {}", key.info.key, origin, value, why));
  };
  switch (key.kind) {
    case Kind::kInteger: {
      std::int64_t n = 0;
      const auto* end = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), end, n);
      if (value.empty() || ec != std::errc() || ptr != end || n < key.min || n > key.max) {
        throw fail(fmt::format("is not a whole number from {} to {}", key.min, key.max));
      }
      return std::to_string(n);
    }
    case Kind::kBool: {
      const auto v = lower(value);
      if (v == "true" || v == "1" || v == "yes" || v == "on") return "true";
      if (v == "false" || v == "0" || v == "no" || v == "off") return "false";
      throw fail("is not true or false");
    }
    case Kind::kEnum:
      if (std::find(key.choices.begin(), key.choices.end(), value) == key.choices.end()) {
        throw fail(fmt::format("is not one of: {}", fmt::join(key.choices, ", ")));
      }
      return value;
    case Kind::kString:
    case Kind::kPath:
      if (value.find('\0') != std::string::npos) throw fail("contains a NUL byte");
      return value;
  }
  return value;
}

void set(LoadedConfig& into, const Key& key, const std::string& raw, const std::string& origin,
         Source source) {
  key.set(into.config, validate(key, raw, origin));
  into.sources[key.info.key] = source;
}

void walk_toml(LoadedConfig& into, const toml::table& table, const std::string& prefix,
               const std::string& origin) {
  for (const auto& [name, node] : table) {
    const std::string path =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const auto* sub = node.as_table()) {
      walk_toml(into, *sub, path, origin);
      continue;
    }
    const Key* key = find_key(path);
    if (!key) throw ConfigError(fmt::format("unknown key '{}' in {}", path, origin));
    std::string text;
    bool type_ok = true;
    switch (key->kind) {
      case Kind::kInteger:
        if (auto v = node.value_exact<std::int64_t>())
          text = std::to_string(*v);
        else
          type_ok = false;
        break;
      case Kind::kBool:
        if (auto v = node.value_exact<bool>())
          text = *v ? "true" : "false";
        else
          type_ok = false;
        break;
      default:
        if (auto v = node.value_exact<std::string>())
          text = *v;
        else
          type_ok = false;
    }
    if (!type_ok) {
      const char* want = key->kind == Kind::kInteger ? "an integer"
                         : key->kind == Kind::kBool  ? "true or false"
                                                     : "a string";
      throw ConfigError(fmt::format("invalid value for {} ({}): expected {}", path, origin, want));
    }
    set(into, *key, text, origin, Source::kFile);
  }
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + '"';
}

}  // namespace

TlsMode Config::effective_tls_mode() const {
  if (tls.mode != TlsMode::kAuto) return tls.mode;
  return (!tls.cert.empty() || !tls.key.empty()) ? TlsMode::kFiles : TlsMode::kOff;
}

const std::vector<KeyInfo>& config_keys() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> out;
    const Config defaults;
    for (const auto& k : keys()) {
      out.push_back(k.info);
      out.back().default_value = k.get(defaults);
    }
    return out;
  }();
  return infos;
}

void apply_toml(LoadedConfig& into, std::string_view toml_text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  walk_toml(into, table, "", origin);
}

LoadedConfig load_config(const std::optional<std::filesystem::path>& file,
                         const std::map<std::string, std::string>& flag_values,
                         const std::vector<std::string>& environment) {
  LoadedConfig loaded;
  for (const auto& k : keys()) loaded.sources[k.info.key] = Source::kDefault;

  if (file) {
    std::FILE* f = std::fopen(file->c_str(), "rb");
    if (!f) {
      throw ConfigError(
          fmt::format("cannot read config file {}: {}", file->string(), std::strerror(errno)));
    }
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    apply_toml(loaded, text, file->string());
  }

  for (const auto& entry : environment) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    if (name.rfind("CONCLAVE_", 0) != 0 || name == kConfigFileEnv) continue;
    const Key* key = nullptr;
    for (const auto& k : keys()) {
      if (k.info.env == name) key = &k;
    }
    if (!key) throw ConfigError(fmt::format("unknown environment variable {}", name));
    set(loaded, *key, entry.substr(eq + 1), "environment " + name, Source::kEnv);
  }

  for (const auto& [name, value] : flag_values) {
    const Key* key = find_key(name);
    if (!key) throw ConfigError(fmt::format("unknown key '{}'", name));
    set(loaded, *key, value, "flag " + key->info.flag, Source::kFlag);
  }

  const auto& c = loaded.config;
  if (c.tls.mode == TlsMode::kFiles && (c.tls.cert.empty() || c.tls.key.empty())) {
    throw ConfigError("tls.mode is files but tls.cert and tls.key are not both set");
  }
  if (c.effective_tls_mode() == TlsMode::kFiles && (c.tls.cert.empty() != c.tls.key.empty())) {
    throw ConfigError("tls.cert and tls.key must be given together");
  }
  if (c.server.data_dir.empty()) throw ConfigError("server.data_dir must not be empty");
  return loaded;
}

std::string to_toml(const LoadedConfig& loaded) {
  static const char* kSourceNames[] = {"default", "config file", "environment", "flag"};
  std::string out = "# Effective configuration of conclave " CONCLAVE_VERSION
                    "; every line says where its value came from.\n";
  std::string section;
  for (const auto& k : keys()) {
    const auto dot = k.info.key.find('.');
    const std::string sec = k.info.key.substr(0, dot);
    if (sec != section) {
      section = sec;
      out += fmt::format("\n[{}]\n", section);
    }
    const std::string value = k.get(loaded.config);
    const bool quoted = k.kind != Kind::kInteger && k.kind != Kind::kBool;
    out += fmt::format("{} = {}  # {}\n", k.info.key.substr(dot + 1),
                       quoted ? toml_string(value) : value,
                       kSourceNames[static_cast<int>(loaded.sources.at(k.info.key))]);
  }
  return out;
}

}  // namespace conclave::app
