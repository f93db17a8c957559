// conclave: the server binary. Parses the command line into a configuration and hands
// over to app::Server; turns every startup failure into one line and an exit code:
// 0 success, 1 startup error (port in use, unreadable certificate, data directory not
// writable), 2 configuration error (unknown key, flag or variable, bad value).
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/admin.hpp"
#include "app/config.hpp"
#include "app/server.hpp"
#include "common/log.hpp"
#include "common/startup_error.hpp"

extern char** environ;

#ifdef CONCLAVE_TEST_HOOKS
// The test server only (tests/tools/test_hooks.cpp): what a malicious server could do.
void install_test_hooks();
#endif

namespace {

using namespace conclave;

constexpr int kExitStartup = 1;
constexpr int kExitConfig = 2;

std::vector<std::string> environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

log::Options log_options(const app::Config& config) {
  log::Options o;
  o.format = config.log.format == app::LogFormat::kJson ? log::Format::kJson : log::Format::kHuman;
  o.level = spdlog::level::from_str(config.log.level);
  o.ip_addresses = config.log.ip_addresses;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "Conclave: self-hosted video meetings whose operator cannot watch, listen or read.\n"
      "Serves the web client, signaling and media. Every option is also a TOML key (shown\n"
      "first) and an environment variable; precedence: flag > environment > file > default.",
      "conclave"};
  cli.fallthrough();
  cli.set_version_flag("--version", CONCLAVE_VERSION);
  cli.get_formatter()->column_width(36);

  std::string config_file;
  cli.add_option("--config", config_file, "TOML configuration file [env CONCLAVE_CONFIG]")
      ->type_name("FILE");
  std::map<std::string, std::string> values;
  for (const auto& key : app::config_keys()) {
    cli.add_option(key.flag, values[key.key],
                   fmt::format("{}: {} [default: {}] [env {}]", key.key, key.help,
                               key.default_value.empty() ? "none" : key.default_value, key.env))
        ->type_name(key.type);
  }
  auto* config_cmd = cli.add_subcommand("config", "Inspect the configuration");
  config_cmd->require_subcommand(1);
  auto* print_cmd =
      config_cmd->add_subcommand("print", "Print the effective configuration as TOML");
  auto* admin_cmd =
      cli.add_subcommand("admin", "Operator commands on the store (run where the server runs)");
  admin_cmd->require_subcommand(1);
  app::CreateUser create_user;
  auto* create_user_cmd = admin_cmd->add_subcommand(
      "create-user", "Create an account; the password is read from standard input");
  create_user_cmd->add_option("--email", create_user.email, "Email address")->required();
  create_user_cmd->add_option("--name", create_user.name, "Display name")->required();
  create_user_cmd->add_flag("--admin", create_user.admin, "The account is an administrator");
  create_user_cmd->add_flag("--generate-password", create_user.generate_password,
                            "Generate a password and print it once");
  std::string invite_by;
  auto* invite_cmd = admin_cmd->add_subcommand(
      "create-invite", "Print an invite token for auth.signup = invite (valid 7 days)");
  invite_cmd->add_option("--by", invite_by, "Email of the administrator inviting")->required();
  std::string change_email;
  std::optional<app::AccountChange> change;
  auto add_change = [&](const char* name, const char* help, app::AccountChange what) {
    auto* cmd = admin_cmd->add_subcommand(name, help);
    cmd->add_option("--email", change_email, "The account's email")->required();
    cmd->callback([&change, what] { change = what; });
  };
  add_change("delete-user", "Delete an account and everything of it (rows removed, not flagged)",
             app::AccountChange::kDelete);
  add_change("disable-user", "Disable an account and end its sessions",
             app::AccountChange::kDisable);
  add_change("enable-user", "Enable a disabled account", app::AccountChange::kEnable);
  add_change("reset-password", "Set a new password (read from standard input); ends all sessions",
             app::AccountChange::kResetPassword);
  add_change("make-admin", "Make an account an administrator", app::AccountChange::kMakeAdmin);
  add_change("revoke-admin", "Take administration away from an account",
             app::AccountChange::kRevokeAdmin);
  auto* audit_cmd = cli.add_subcommand("audit", "The audit log of administrative actions");
  audit_cmd->require_subcommand(1);
  auto* verify_cmd = audit_cmd->add_subcommand(
      "verify", "Check the audit log's hash chain; name the first broken link");
  cli.footer(
      "Examples:\n"
      "  conclave                                  http://localhost:8080, data in ./data\n"
      "  conclave --http-port 9000 --data-dir /var/lib/conclave\n"
      "  conclave --http-address 0.0.0.0 --tls self-signed    LAN trial over HTTPS\n"
      "  conclave config print --config conclave.toml\n"
      "  conclave admin create-user --admin --email you@example.org --name \"You\"");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "conclave: error: " << e.what() << "\n(see conclave --help)\n";
    return kExitConfig;
  }

  std::map<std::string, std::string> flags;
  for (const auto& key : app::config_keys()) {
    if (cli.count(key.flag) > 0) flags[key.key] = values[key.key];
  }
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) {
    file = config_file;
  } else if (const char* env = std::getenv(app::kConfigFileEnv); env && *env) {
    file = env;
  }

  app::LoadedConfig loaded;
  try {
    loaded = app::load_config(file, flags, environment());
  } catch (const app::ConfigError& e) {
    std::cerr << "conclave: error: " << e.what() << "\n";
    return kExitConfig;
  }

  if (print_cmd->parsed()) {
    std::cout << app::to_toml(loaded);
    return 0;
  }

  if (create_user_cmd->parsed()) {
    std::optional<std::string> line;
    if (!create_user.generate_password) {
      std::string text;
      if (std::getline(std::cin, text)) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        line = text;
      }
    }
    return app::admin_create_user(loaded.config, create_user, line);
  }
  if (invite_cmd->parsed()) return app::admin_create_invite(loaded.config, invite_by);
  if (verify_cmd->parsed()) return app::audit_verify(loaded.config);
  if (change) {
    std::optional<std::string> line;
    if (*change == app::AccountChange::kResetPassword) {
      std::string text;
      if (std::getline(std::cin, text)) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        line = text;
      }
    }
    return app::admin_change_user(loaded.config, change_email, *change, line);
  }

  log::init(log_options(loaded.config));
#ifdef CONCLAVE_TEST_HOOKS
  install_test_hooks();
#endif
  try {
    app::Server server(loaded.config);
    return server.run();
  } catch (const StartupError& e) {
    spdlog::critical("{}", e.what());
    std::cerr << "conclave: " << e.what() << "\n";
    return kExitStartup;
  }
}
