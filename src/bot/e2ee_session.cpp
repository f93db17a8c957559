#include "bot/e2ee_session.hpp"

#include <openssl/rand.h>

#include "e2ee/protocol.hpp"

namespace conclave::bot {

using nlohmann::json;

namespace {
e2ee::Bytes random_bytes(std::size_t n) {
  e2ee::Bytes b(n);
  RAND_bytes(b.data(), static_cast<int>(n));
  return b;
}
std::uint32_t random_key_id() {
  const auto b = random_bytes(4);
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}
}  // namespace

E2eeSession::E2eeSession(std::string meeting, std::string self, std::set<std::string> older,
                         Hooks hooks)
    : meeting_(std::move(meeting)),
      self_(std::move(self)),
      older_(std::move(older)),
      hooks_(std::move(hooks)),
      identity_(e2ee::new_ed25519()),
      session_(e2ee::new_x25519()),
      key_id_(random_key_id()),
      sender_(key_id_, random_bytes(16)) {}

json E2eeSession::hello(bool reply) const {
  auto h = e2ee::hello_message(meeting_, self_, identity_, session_.public_key, key_id_);
  if (reply) h["reply"] = true;
  return h;
}

void E2eeSession::start() {
  hooks_.send({}, hello(false));
}

void E2eeSession::send_key(const std::string& to, const Holder& h) {
  const auto plain = e2ee::key_plaintext({sender_.key_id(), sender_.epoch(), sender_.base_key()});
  hooks_.send(to, e2ee::key_message(e2ee::seal_entry(h.pairwise, self_, to, meeting_, plain)));
}

void E2eeSession::on_relay(const std::string& from, const json& data) {
  const auto kind = e2ee::kind_of(data);
  if (kind == "hello") return on_hello(from, data);
  if (kind != "key") return;  // msg and dm carry chat: a bot reads none of it
  const auto h = holders_.find(from);
  if (h == holders_.end()) return;
  const auto plain = e2ee::open_entry(data, h->second.pairwise, from, self_, meeting_);
  const auto k = plain ? e2ee::parse_key_plaintext(*plain) : std::nullopt;
  if (!k || k->key_id != h->second.key_id) return;  // only its own key
  receivers_.set(k->key_id, k->epoch, k->base);
}

void E2eeSession::on_hello(const std::string& from, const json& data) {
  if (from == self_) return;
  if (!hooks_.in_roster(from)) {
    if (unknown_hellos_.size() < 200) unknown_hellos_[from] = data;
    return;
  }
  const auto hello_of = e2ee::open_hello(data, meeting_, from);
  if (!hello_of) return;
  const bool reply = data.value("reply", false);
  const auto known = holders_.find(from);
  if (known != holders_.end() && known->second.session == hello_of->session) {
    if (!reply) hooks_.send(from, hello(true));
    send_key(from, known->second);
    return;
  }
  const auto pairwise =
      e2ee::pairwise_key(meeting_, session_.private_key, session_.public_key, identity_.public_key,
                         hello_of->session, hello_of->identity);
  if (!pairwise) return;
  if (known != holders_.end()) receivers_.forget(known->second.key_id);
  Holder& h = holders_[from];
  h = Holder{hello_of->identity, hello_of->session, *pairwise, hello_of->key_id};
  if (!reply) hooks_.send(from, hello(true));
  // A newcomer must not read what came before: our key moves on first.
  if (!older_.count(from)) sender_.ratchet();
  send_key(from, h);
}

void E2eeSession::participant_joined(const std::string& id) {
  const auto it = unknown_hellos_.find(id);
  if (it == unknown_hellos_.end()) return;
  const auto data = std::move(it->second);
  unknown_hellos_.erase(it);
  on_hello(id, data);
}

void E2eeSession::participant_left(const std::string& id) {
  unknown_hellos_.erase(id);
  const auto it = holders_.find(id);
  if (it == holders_.end()) return;
  receivers_.forget(it->second.key_id);
  holders_.erase(it);
  sender_.rekey(random_bytes(16));
  for (const auto& [to, h] : holders_) send_key(to, h);
}

bool E2eeSession::protect(std::span<const std::uint8_t> frame, bool video, e2ee::Bytes& out) {
  return sender_.protect(frame, video ? e2ee::vp8_clear_prefix(frame) : 0, out);
}

e2ee::FrameResult E2eeSession::unprotect(std::span<const std::uint8_t> frame, bool video,
                                         e2ee::Bytes& out) {
  return receivers_.unprotect(frame, video ? e2ee::vp8_clear_prefix(frame) : 0, out,
                              e2ee::Clock::now());
}

std::string E2eeSession::security_code() const {
  std::vector<e2ee::Bytes> ids{identity_.public_key};
  for (const auto& [id, h] : holders_) ids.push_back(h.identity);
  return e2ee::security_code(meeting_, ids);
}

}  // namespace conclave::bot
