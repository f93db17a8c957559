#include "privacy/audit.hpp"

#include <openssl/evp.h>

#include "common/unix_time.hpp"

namespace conclave::privacy {
namespace {

void field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

std::string entry_hash(const store::AuditEntry& e) {
  std::string text = "conclave audit v1;";
  field(text, e.prev_hash);
  field(text, std::to_string(e.seq));
  field(text, std::to_string(e.at));
  field(text, e.actor);
  field(text, e.action);
  field(text, e.subject ? std::to_string(*e.subject) : std::string("-"));
  field(text, e.details);
  return sha256_hex(text);
}

store::AuditEntry append_audit(store::Store& store, std::string actor, std::string action,
                               std::optional<std::int64_t> subject, std::string details) {
  const auto last = store.last_audit();
  store::AuditEntry e;
  e.seq = last ? last->seq + 1 : 1;
  e.at = unix_now();
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.subject = subject;
  e.details = std::move(details);
  e.prev_hash = last ? last->hash : std::string();
  e.hash = entry_hash(e);
  store.append_audit(e);
  return e;
}

std::optional<BrokenLink> verify_chain(const std::vector<store::AuditEntry>& entries) {
  std::string prev;
  std::int64_t expected = 1;
  for (const auto& e : entries) {
    if (e.seq != expected) {
      return BrokenLink{expected, e.seq > expected
                                      ? "entry " + std::to_string(expected) + " is missing"
                                      : "entry " + std::to_string(e.seq) + " is out of order"};
    }
    if (e.prev_hash != prev)
      return BrokenLink{e.seq, "its previous-hash does not match the entry before it"};
    if (entry_hash(e) != e.hash)
      return BrokenLink{e.seq, "its contents do not match its hash (changed after writing)"};
    prev = e.hash;
    ++expected;
  }
  return std::nullopt;
}

}  // namespace conclave::privacy
