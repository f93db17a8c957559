// The SQLite schema as an ordered list of migrations, numbered from 1 without gaps.
// SqliteStore applies each missing one in its own transaction and records it in the
// schema_version table. Never edit a migration once it has been released: a database that
// already has it will not run it again. Add a new one at the end instead. A PostgreSQL
// store will keep its own list with the same numbers, so that schema_version() means the
// same thing for both.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace conclave::store {

struct Migration {
  int version;
  std::string_view description;  // Stored in schema_version.description.
  std::string_view sql;          // One or more statements.
};

inline constexpr std::array kMigrations{
    Migration{1, "server identity", R"sql(
      CREATE TABLE server_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        server_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    )sql"},
    // Issue 7. No soft-delete flags anywhere: deleting removes the row (and secure_delete
    // zeroes its bytes). Every table that belongs to an account goes with it (CASCADE).
    Migration{2, "accounts, sessions, devices, invites, meetings", R"sql(
      CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE auth_sessions (
        token_hash TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX auth_sessions_by_account ON auth_sessions(account_id);
      CREATE INDEX auth_sessions_by_expiry ON auth_sessions(expires_at);
      CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        public_key TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, public_key)
      );
      CREATE TABLE invites (
        token_hash TEXT PRIMARY KEY,
        created_by INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX invites_by_creator ON invites(created_by);
      CREATE TABLE meetings (
        id TEXT PRIMARY KEY,
        owner INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        passcode_hash TEXT NOT NULL,
        host_key_hash TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL
      );
      CREATE INDEX meetings_by_owner ON meetings(owner);
    )sql"},
    // Issue 8: administrative actions on accounts, as a hash chain. No foreign key to
    // accounts: entries outlive the account they are about (and hold no personal data).
    Migration{3, "audit log", R"sql(
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject INTEGER,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_subject ON audit_log(subject);
    )sql"},
};

inline constexpr int kLatestSchemaVersion = kMigrations.back().version;

constexpr bool migrations_are_numbered_in_order() {
  for (std::size_t i = 0; i < kMigrations.size(); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
  }
  return true;
}
static_assert(migrations_are_numbered_in_order(),
              "kMigrations must be numbered 1, 2, 3, ... in the order they are applied");

}  // namespace conclave::store
