// The embedded default Store: one SQLite file, <data_dir>/conclave.db. WAL mode so that
// readers do not block the writer; secure_delete so that deleted rows are overwritten
// instead of left behind in free pages (DESIGN.md: "deletion is real"). The directory is
// created with mode 0700 and the database file is kept at 0600. SQLite gives its -wal and
// -shm files the mode of the database file, so those stay private too.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/store.hpp"

struct sqlite3;

namespace conclave::store {

class SqliteStore final : public Store {
 public:
  // Creates data_dir (mode 0700) if it is missing and checks that it is writable. Opens
  // or creates conclave.db (0600, and an existing file is tightened to 0600), then
  // configures the connection and applies missing migrations, each in its own transaction.
  // Finally it creates the server identity on first start. Throws StoreError if the
  // directory cannot be used, if the file is not a database, or if the database was
  // written by a newer Conclave. In that last case nothing in the file is changed.
  static std::unique_ptr<SqliteStore> open(const std::filesystem::path& data_dir);

  int schema_version() override;
  ServerIdentity server_identity() override;
  bool healthy() noexcept override;

 private:
  // Closes the connection when the store is destroyed. Never throws.
  struct CloseConnection {
    void operator()(sqlite3* db) const noexcept;
  };
  using Connection = std::unique_ptr<sqlite3, CloseConnection>;

  SqliteStore(std::string database_path, Connection db, ServerIdentity identity);

  std::string database_path_;  // For error messages.
  Connection db_;              // Allocated by this.
  ServerIdentity identity_;    // Read or created by open(); the schema has no way to change it.
};

}  // namespace conclave::store
