// End-to-end encryption for a headless participant (--e2ee): the browser's protocol
// (docs/e2ee.md, web/src/e2ee/manager.ts) on the C++ twin (src/e2ee/): a device identity
// and a session key, a signed hello, pairwise channels to the key holders (roster members
// whose hello verified), our sender key ratcheted when someone newer joins and replaced
// when someone leaves, and SFrame on every frame. A bot with --e2ee can sit in a meeting
// with browsers and is held to the same rules; the security code it computes is the one
// the browsers show.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "e2ee/keys.hpp"
#include "e2ee/media_keys.hpp"

namespace conclave::bot {

class E2eeSession {
 public:
  struct Hooks {
    // A relay: to one participant, or to everyone when `to` is empty.
    std::function<void(const std::string& to, nlohmann::json data)> send;
    std::function<bool(const std::string& id)> in_roster;
  };

  E2eeSession(std::string meeting, std::string self, std::set<std::string> older, Hooks hooks);

  // Says hello to everyone.
  void start();
  // Every relay in an E2EE meeting comes here; anything that is not ours is dropped.
  void on_relay(const std::string& from, const nlohmann::json& data);
  // Someone appeared in the roster (a hello of theirs may have come first).
  void participant_joined(const std::string& id);
  // Someone left: our key is replaced by a fresh one the remaining holders get.
  void participant_left(const std::string& id);

  // `frame` → clear prefix (video: VP8's, audio: none) || SFrame.
  bool protect(std::span<const std::uint8_t> frame, bool video, e2ee::Bytes& out);
  e2ee::FrameResult unprotect(std::span<const std::uint8_t> frame, bool video, e2ee::Bytes& out);

  std::size_t holders() const { return holders_.size(); }
  std::string security_code() const;
  std::uint16_t epoch() const { return sender_.epoch(); }
  const e2ee::ReceiverKeys::Counts& counts() const { return receivers_.counts(); }

 private:
  struct Holder {
    e2ee::Bytes identity, session, pairwise;
    std::uint32_t key_id = 0;
  };
  void on_hello(const std::string& from, const nlohmann::json& data);
  void send_key(const std::string& to, const Holder& h);
  nlohmann::json hello(bool reply) const;

  std::string meeting_, self_;
  std::set<std::string> older_;
  Hooks hooks_;
  e2ee::KeyPair identity_, session_;
  std::uint32_t key_id_;
  e2ee::SenderKey sender_;
  e2ee::ReceiverKeys receivers_;
  std::map<std::string, Holder> holders_;
  std::map<std::string, nlohmann::json> unknown_hellos_;  // from ids not in the roster (yet)
};

}  // namespace conclave::bot
