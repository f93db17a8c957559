#include "app/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace conclave::app {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("conclave-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / "conclave.toml";
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsServeLocalhost8080) {
  const auto loaded = load_config(std::nullopt, {}, {});
  EXPECT_EQ(loaded.config.http.address, "127.0.0.1");
  EXPECT_EQ(loaded.config.http.port, 8080);
  EXPECT_EQ(loaded.config.server.data_dir, "data");
  EXPECT_EQ(loaded.config.effective_tls_mode(), TlsMode::kOff);
  EXPECT_FALSE(loaded.config.log.ip_addresses);
  EXPECT_EQ(loaded.sources.at("http.port"), Source::kDefault);
}

TEST_F(ConfigTest, PrecedenceIsFlagThenEnvironmentThenFileThenDefault) {
  const auto file = write("[http]\nport = 1001\naddress = \"::1\"\n[server]\ndrain_timeout = 7\n");
  // file only
  auto loaded = load_config(file, {}, {});
  EXPECT_EQ(loaded.config.http.port, 1001);
  EXPECT_EQ(loaded.sources.at("http.port"), Source::kFile);
  // environment beats file
  loaded = load_config(file, {}, {"CONCLAVE_HTTP_PORT=1002", "PATH=/usr/bin"});
  EXPECT_EQ(loaded.config.http.port, 1002);
  EXPECT_EQ(loaded.sources.at("http.port"), Source::kEnv);
  // flag beats environment
  loaded = load_config(file, {{"http.port", "1003"}}, {"CONCLAVE_HTTP_PORT=1002"});
  EXPECT_EQ(loaded.config.http.port, 1003);
  EXPECT_EQ(loaded.sources.at("http.port"), Source::kFlag);
  // keys not overridden keep their file value, others their default
  EXPECT_EQ(loaded.config.http.address, "::1");
  EXPECT_EQ(loaded.config.server.drain_timeout, std::chrono::seconds(7));
  EXPECT_EQ(loaded.config.websocket.max_message_bytes, 64u * 1024);
  EXPECT_EQ(loaded.sources.at("websocket.max_message_bytes"), Source::kDefault);
}

TEST_F(ConfigTest, EveryKeyHasFlagAndEnvironmentNamesDerivedFromIt) {
  for (const auto& k : config_keys()) {
    EXPECT_EQ(k.flag.substr(0, 2), "--") << k.key;
    EXPECT_EQ(k.env.substr(0, 9), "CONCLAVE_") << k.key;
    EXPECT_FALSE(k.help.empty()) << k.key;
  }
  const auto& keys = config_keys();
  auto find = [&](const std::string& key) {
    for (const auto& k : keys) {
      if (k.key == key) return k;
    }
    ADD_FAILURE() << "no key " << key;
    return KeyInfo{};
  };
  EXPECT_EQ(find("http.port").flag, "--http-port");
  EXPECT_EQ(find("http.port").env, "CONCLAVE_HTTP_PORT");
  EXPECT_EQ(find("server.data_dir").flag, "--data-dir");
  EXPECT_EQ(find("server.data_dir").env, "CONCLAVE_DATA_DIR");
  EXPECT_EQ(find("websocket.max_message_bytes").flag, "--websocket-max-message-bytes");
  EXPECT_EQ(find("tls.mode").flag, "--tls");
  EXPECT_EQ(find("tls.mode").env, "CONCLAVE_TLS");
}

TEST_F(ConfigTest, UnknownFileKeyIsAnErrorNamingIt) {
  const auto file = write("[http]\nprot = 80\n");
  try {
    load_config(file, {}, {});
    FAIL() << "accepted an unknown key";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("http.prot"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_config(write("[nosuchsection]\na = 1\n"), {}, {}), ConfigError);
  EXPECT_THROW(load_config(write("toplevel = 1\n"), {}, {}), ConfigError);
}

TEST_F(ConfigTest, UnknownEnvironmentVariableIsAnErrorNamingIt) {
  try {
    load_config(std::nullopt, {}, {"CONCLAVE_HTTP_PROT=80"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("CONCLAVE_HTTP_PROT"), std::string::npos);
  }
  // The config file variable and unrelated variables are fine.
  EXPECT_NO_THROW(load_config(std::nullopt, {}, {"CONCLAVE_CONFIG=/x", "HOME=/root", "NOEQUALS"}));
}

TEST_F(ConfigTest, BadValuesNameKeyAndOrigin) {
  auto message = [&](auto fn) {
    try {
      fn();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message([&] {
              load_config(std::nullopt, {{"http.port", "70000"}}, {});
            }).find("http.port (flag --http-port)"),
            std::string::npos);
  EXPECT_NE(message([&] {
              load_config(std::nullopt, {{"http.port", "80x"}}, {});
            }).find("whole number"),
            std::string::npos);
  EXPECT_NE(message([&] {
              load_config(std::nullopt, {}, {"CONCLAVE_LOG_FORMAT=xml"});
            }).find("environment CONCLAVE_LOG_FORMAT"),
            std::string::npos);
  EXPECT_NE(message([&] {
              load_config(write("[http]\nport = \"80\"\n"), {}, {});
            }).find("expected an integer"),
            std::string::npos);
  EXPECT_NE(message([&] { load_config(write("[http\n"), {}, {}); }).find("conclave.toml:"),
            std::string::npos);
  EXPECT_NE(
      message([&] { load_config(dir_ / "missing.toml", {}, {}); }).find("cannot read config file"),
      std::string::npos);
  EXPECT_THROW(load_config(std::nullopt, {{"log.ip_addresses", "maybe"}}, {}), ConfigError);
  EXPECT_THROW(load_config(std::nullopt, {{"server.drain_timeout", "-1"}}, {}), ConfigError);
  EXPECT_THROW(load_config(std::nullopt, {{"tls.mode", "files"}}, {}), ConfigError);
  EXPECT_THROW(load_config(std::nullopt, {{"tls.cert", "/x.pem"}}, {}), ConfigError);
}

TEST_F(ConfigTest, BooleansAndChoices) {
  auto loaded =
      load_config(std::nullopt, {{"log.ip_addresses", "yes"}, {"tls.mode", "self-signed"}},
                  {"CONCLAVE_LOG_FORMAT=json"});
  EXPECT_TRUE(loaded.config.log.ip_addresses);
  EXPECT_EQ(loaded.config.tls.mode, TlsMode::kSelfSigned);
  EXPECT_EQ(loaded.config.log.format, LogFormat::kJson);
  loaded = load_config(std::nullopt, {{"tls.cert", "/c.pem"}, {"tls.key", "/k.pem"}}, {});
  EXPECT_EQ(loaded.config.effective_tls_mode(), TlsMode::kFiles);
}

TEST_F(ConfigTest, PrintedConfigLoadsBackToTheSameValues) {
  const auto file = write(
      "[server]\ndata_dir = \"/tmp/with \\\"quotes\\\" and \\\\ slash\"\n"
      "[http]\nport = 9\n[log]\nip_addresses = true\n");
  const auto loaded = load_config(file, {{"websocket.idle_timeout", "99"}}, {});
  const auto printed = to_toml(loaded);
  EXPECT_NE(printed.find("port = 9  # config file"), std::string::npos) << printed;
  EXPECT_NE(printed.find("idle_timeout = 99  # flag"), std::string::npos) << printed;
  EXPECT_NE(printed.find("address = \"127.0.0.1\"  # default"), std::string::npos) << printed;
  const auto again = load_config(write(printed), {}, {});
  EXPECT_EQ(again.config.server.data_dir, loaded.config.server.data_dir);
  EXPECT_EQ(again.config.http.port, 9);
  EXPECT_EQ(again.config.websocket.idle_timeout, std::chrono::seconds(99));
  EXPECT_TRUE(again.config.log.ip_addresses);
}

}  // namespace
}  // namespace conclave::app
