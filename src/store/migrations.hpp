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
