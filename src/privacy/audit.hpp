// The audit log of administrative actions on accounts, as a hash chain (docs/privacy.md,
// "Administration in the open"). Each entry carries the SHA-256 of the one before it, so
// changing, deleting or reordering any entry breaks every link after it; `conclave audit
// verify` walks the chain and names the first broken link. The head hash it prints is
// worth writing down elsewhere: a chain cut short at its end is consistent by itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace conclave::privacy {

// The hash of an entry: SHA-256 (hex) over its previous hash and its fields, each
// length-prefixed, so that no two different entries hash alike.
std::string entry_hash(const store::AuditEntry& e);

// Appends one entry to the chain in `store` and returns it. Throws store::StoreError.
store::AuditEntry append_audit(store::Store& store, std::string actor, std::string action,
                               std::optional<std::int64_t> subject, std::string details = "{}");

struct BrokenLink {
  std::int64_t seq = 0;  // the first entry that does not check out (or the missing one)
  std::string why;
};

// Checks a whole chain, as read in seq order. nullopt when every link holds.
std::optional<BrokenLink> verify_chain(const std::vector<store::AuditEntry>& entries);

}  // namespace conclave::privacy
