// The server's persistent state behind one interface, so the embedded SQLite default and
// (later) PostgreSQL for multi-node deployments are interchangeable (DESIGN.md, "Storage").
// For now it holds only what the foundation needs: the schema version and the server's
// identity. Later issues add methods here, one table at a time, each with a migration.
//
// A Store owns its database connection. It is not thread-safe: only the control thread
// calls it. Media workers never touch it (DESIGN.md: media never touches storage code), and
// other threads post their requests to the control thread instead of calling it directly.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace conclave::store {

// A storage failure. The message is one line that names the problem and the path,
// written so the server can print it as is when it cannot start.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Who this installation is. Created on first start and never changed afterwards.
struct ServerIdentity {
  std::string server_id;  // 128 random bits as 32 lowercase hex characters.
  std::int64_t created_at_unix = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The highest migration applied to the database. Throws StoreError.
  virtual int schema_version() = 0;

  virtual ServerIdentity server_identity() = 0;

  // A cheap read of the database for /healthz. False when the database does not answer;
  // never throws.
  virtual bool healthy() noexcept = 0;

 protected:
  Store() = default;
};

}  // namespace conclave::store
