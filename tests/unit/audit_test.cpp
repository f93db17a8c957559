// privacy/audit: the hash chain and its verification (docs/privacy.md).
#include "privacy/audit.hpp"

#include <gtest/gtest.h>

namespace conclave::privacy {
namespace {

std::vector<store::AuditEntry> chain(int n) {
  std::vector<store::AuditEntry> out;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    store::AuditEntry e;
    e.seq = i;
    e.at = 1000 + i;
    e.actor = "operator";
    e.action = i % 2 ? "disable_user" : "enable_user";
    e.subject = 7;
    e.details = "{}";
    e.prev_hash = prev;
    e.hash = entry_hash(e);
    prev = e.hash;
    out.push_back(e);
  }
  return out;
}

TEST(AuditChain, AnIntactChainVerifies) {
  EXPECT_FALSE(verify_chain({}).has_value());
  EXPECT_FALSE(verify_chain(chain(5)).has_value());
}

TEST(AuditChain, EveryKindOfTamperingIsNamedAtItsEntry) {
  auto changed = chain(5);
  changed[2].details = R"({"admin":true})";
  EXPECT_EQ(verify_chain(changed)->seq, 3);

  auto subject = chain(5);
  subject[3].subject = 8;
  EXPECT_EQ(verify_chain(subject)->seq, 4);

  auto removed = chain(5);
  removed.erase(removed.begin() + 1);
  EXPECT_EQ(verify_chain(removed)->seq, 2);

  auto swapped = chain(5);
  std::swap(swapped[1], swapped[2]);
  EXPECT_EQ(verify_chain(swapped)->seq, 2);

  // Re-hashing a changed entry does not help: the next one no longer links to it.
  auto rehashed = chain(5);
  rehashed[1].action = "delete_user";
  rehashed[1].hash = entry_hash(rehashed[1]);
  EXPECT_EQ(verify_chain(rehashed)->seq, 3);
}

TEST(AuditChain, FieldsCannotBeShiftedIntoEachOther) {
  store::AuditEntry a;
  a.seq = 1;
  a.actor = "operator";
  a.action = "x";
  store::AuditEntry b = a;
  b.actor = "operatorx";
  b.action = "";
  EXPECT_NE(entry_hash(a), entry_hash(b));
  store::AuditEntry c = a;
  c.subject = 0;
  EXPECT_NE(entry_hash(a), entry_hash(c));
}

}  // namespace
}  // namespace conclave::privacy
