#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <utility>

#include "store/migrations.hpp"

namespace conclave::store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseFileName = "conclave.db";
constexpr int kBusyTimeoutMs = 5000;

// A step of opening or querying the database failed. It carries only the cause (mostly
// SQLite's own message). The caller knows what it was trying to do, and turns it into a
// StoreError that names that step and the path.
class StepFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail_with_sqlite_message(sqlite3* db) {
  throw StepFailure(sqlite3_errmsg(db));
}

std::string errno_message(int error) {
  return std::system_category().message(error);
}

std::int64_t unix_now() {
  // Since C++20, system_clock measures Unix time.
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One prepared statement, finalized when it goes out of scope. Values are always bound,
// never formatted into the SQL text.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
        SQLITE_OK) {
      fail_with_sqlite_message(db_);
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters count from 1, as in SQLite.
  void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
  }

  // Moves to the next row. Returns true if there is one, and false when the statement has
  // finished.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail_with_sqlite_message(db_);
  }

  // Columns count from 0, as in SQLite.
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    // Text before bytes: the order that SQLite documents as safe (no conversion between them).
    const unsigned char* chars = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (chars == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(chars), static_cast<std::size_t>(size));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail_with_sqlite_message(db_);
  }

  sqlite3* db_;                   // Passed by argument.
  sqlite3_stmt* stmt_ = nullptr;  // Allocated by this.
};

// Runs SQL that is fixed in this program, such as migrations and transaction control, and
// may hold several statements. Never use it with values: bind those through a Statement.
void exec_script(sqlite3* db, std::string_view sql) {
  const std::string terminated(sql);  // sqlite3_exec wants a NUL-terminated string.
  if (sqlite3_exec(db, terminated.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    fail_with_sqlite_message(db);
  }
}

// BEGIN IMMEDIATE takes the write lock at the start. A second process opening the same
// file then waits for up to busy_timeout, instead of failing with SQLITE_BUSY half way
// through a migration when a read lock is upgraded to a write lock. If commit() is not
// reached, the destructor rolls back.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec_script(db_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    // This fails harmlessly if SQLite has already rolled back by itself (e.g. SQLITE_FULL).
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    exec_script(db_, "COMMIT");
    committed_ = true;
  }

 private:
  sqlite3* db_;  // Passed by argument.
  bool committed_ = false;
};

constexpr std::string_view kCreateSchemaVersionTable = R"sql(
  CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL,
    description TEXT NOT NULL
  )
)sql";

// The highest migration recorded in the file, or 0 for a new database. This only reads,
// so it can run before the newer-schema check without changing the file.
std::int64_t applied_version(sqlite3* db) {
  {
    Statement table(db,
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!table.step()) return 0;
  }
  Statement highest(db, "SELECT max(version) FROM schema_version");
  if (!highest.step() || highest.is_null(0)) return 0;
  return highest.int64(0);
}

// Sets a pragma and then reads it back. SQLite ignores pragmas it does not know, and it
// can refuse a value: journal_mode stays "delete" where WAL is not possible, for example
// on a file system without shared memory (https://sqlite.org/wal.html#noshm). So only the
// value read back shows that the setting was applied. Pragma values cannot be bound as
// parameters, but all of them are constants in this file.
void set_pragma(sqlite3* db, std::string_view name, std::string_view value,
                std::string_view expected) {
  {
    Statement set(db, "PRAGMA " + std::string(name) + " = " + std::string(value));
    while (set.step()) {
    }
  }
  Statement get(db, "PRAGMA " + std::string(name));
  const std::string actual = get.step() ? get.text(0) : std::string("nothing");
  if (actual != expected) {
    throw StepFailure("PRAGMA " + std::string(name) + " = " + std::string(value) +
                      " was not applied (it reads back as \"" + actual + "\")");
  }
}

void configure_connection(sqlite3* db) {
  // WAL: readers and the writer do not block each other. This setting is persistent, as it
  // is stored in the file header (https://sqlite.org/wal.html#activating_and_configuring_wal_mode).
  set_pragma(db, "journal_mode", "WAL", "wal");
  // The remaining pragmas apply to this connection only, so they are set on every open.
  set_pragma(db, "foreign_keys", "ON", "1");
  // Overwrites deleted content with zeros, so that a deleted row cannot be read back from
  // free pages of the file (DESIGN.md: "deletion is real").
  set_pragma(db, "secure_delete", "ON", "1");
  // In WAL mode, NORMAL is still safe against corruption. A power loss can only lose the
  // last transactions that were not yet checkpointed
  // (https://sqlite.org/pragma.html#pragma_synchronous).
  set_pragma(db, "synchronous", "NORMAL", "1");
}

void migrate(sqlite3* db, const std::string& database_path, std::int64_t applied) {
  for (const Migration& migration : kMigrations) {
    if (migration.version <= applied) continue;
    try {
      Transaction transaction(db);
      exec_script(db, kCreateSchemaVersionTable);
      // Read again now that we hold the write lock: another process opening the same file
      // may have applied this migration while we waited for the lock.
      if (applied_version(db) >= migration.version) {
        transaction.commit();
        continue;
      }
      exec_script(db, migration.sql);
      {
        Statement record(db,
                         "INSERT INTO schema_version (version, applied_at, description) "
                         "VALUES (?1, ?2, ?3)");
        record.bind(1, migration.version);
        record.bind(2, unix_now());
        record.bind(3, migration.description);
        record.step();
      }
      transaction.commit();
    } catch (const StepFailure& e) {
      throw StoreError("database " + database_path + ": migration " +
                       std::to_string(migration.version) + " (" +
                       std::string(migration.description) + ") failed: " + e.what());
    }
  }
}

std::string random_server_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    std::array<char, 256> reason{};
    ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
    throw StepFailure(std::string("OpenSSL RAND_bytes failed: ") + reason.data());
  }
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  std::string id;
  id.reserve(2 * bytes.size());
  for (const unsigned char byte : bytes) {
    id.push_back(kHexDigits[byte >> 4]);
    id.push_back(kHexDigits[byte & 0x0f]);
  }
  return id;
}

ServerIdentity load_or_create_identity(sqlite3* db) {
  Transaction transaction(db);
  ServerIdentity identity;
  bool found = false;
  {
    Statement select(db, "SELECT server_id, created_at FROM server_identity WHERE id = 1");
    if (select.step()) {
      identity.server_id = select.text(0);
      identity.created_at_unix = select.int64(1);
      found = true;
    }
  }
  if (!found) {
    identity.server_id = random_server_id();
    identity.created_at_unix = unix_now();
    Statement insert(db,
                     "INSERT INTO server_identity (id, server_id, created_at) VALUES (1, ?1, ?2)");
    insert.bind(1, identity.server_id);
    insert.bind(2, identity.created_at_unix);
    insert.step();
  }
  transaction.commit();
  return identity;
}

// We create the data directory ourselves, with mode 0700, because it holds the database
// and (later) key material. Missing parents are created as `mkdir -p` would create them.
// An existing directory keeps the mode its operator gave it.
void prepare_data_dir(const fs::path& dir) {
  const std::string name = dir.string();
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) {
    if (dir.has_parent_path()) {
      fs::create_directories(dir.parent_path(), ec);
      if (ec) throw StoreError("cannot create data directory " + name + ": " + ec.message());
    }
    if (::mkdir(dir.c_str(), 0700) == 0) {
      // The umask may have removed owner bits. We want exactly 0700.
      if (::chmod(dir.c_str(), 0700) != 0) {
        const int error = errno;
        throw StoreError("cannot set mode 0700 on data directory " + name + ": " +
                         errno_message(error));
      }
    } else if (const int error = errno; error != EEXIST) {
      throw StoreError("cannot create data directory " + name + ": " + errno_message(error));
    }
  } else if (ec) {
    throw StoreError("cannot access data directory " + name + ": " + ec.message());
  } else if (!fs::is_directory(status)) {
    throw StoreError("data directory " + name + " is not a directory");
  }

  // We check for writing before we open the database. Without this check, a read-only
  // directory only shows up later as SQLite's "attempt to write a readonly database" or
  // "unable to open database file". SQLite also needs write access to the directory itself
  // to create the -wal and -shm files next to the database.
  std::string probe = (dir / ".conclave-write-check-XXXXXX").string();
  const int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw StoreError("data directory " + name + " is not writable: " + errno_message(error));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

// SQLite creates new database files with mode 0644, less the umask. It gives the -wal and
// -shm files the mode of the database file (os_unix.c, findCreateFileMode). So we create
// the file ourselves with 0600, which keeps all three files private. An existing file that
// others can access is tightened to 0600 for the same reason.
void prepare_database_file(const fs::path& file) {
  const std::string name = file.string();
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    throw StoreError("cannot open database " + name + ": " + errno_message(error));
  }
  struct stat info {};
  const bool private_mode =
      ::fstat(fd, &info) == 0 && ((info.st_mode & 0077) == 0 || ::fchmod(fd, 0600) == 0);
  const int error = errno;
  ::close(fd);
  if (!private_mode) {
    throw StoreError("cannot make database " + name +
                     " private (mode 0600): " + errno_message(error));
  }
}

}  // namespace

void SqliteStore::CloseConnection::operator()(sqlite3* db) const noexcept {
  // Every Statement is finalized by the time the store is destroyed, so this closes right
  // away. The last connection to close checkpoints the WAL and removes the -wal file.
  // close_v2 is used rather than close because it never leaves a leaked connection
  // behind, even if a statement had been left open.
  sqlite3_close_v2(db);
}

SqliteStore::SqliteStore(std::string database_path, Connection db, ServerIdentity identity)
    : database_path_(std::move(database_path)),
      db_(std::move(db)),
      identity_(std::move(identity)) {}

std::unique_ptr<SqliteStore> SqliteStore::open(const fs::path& data_dir) {
  // The messages name absolute paths. A relative data_dir such as the default "data" says
  // little in a log written by a service manager.
  std::error_code ec;
  fs::path dir = fs::absolute(data_dir, ec);
  if (ec) dir = data_dir;
  dir = dir.lexically_normal();
  if (dir.has_parent_path() && !dir.has_filename()) dir = dir.parent_path();  // "data/"

  prepare_data_dir(dir);
  const fs::path file = dir / kDatabaseFileName;
  std::string path = file.string();
  prepare_database_file(file);

  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE, nullptr);
  Connection db(raw);  // SQLite may return a handle even on failure, and it must be closed.
  if (rc != SQLITE_OK) {
    throw StoreError("cannot open database " + path + ": " +
                     (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  // sqlite3_open_v2 does not read the file. The first read is where "file is not a
  // database" shows up.
  std::int64_t applied = 0;
  try {
    applied = applied_version(db.get());
  } catch (const StepFailure& e) {
    throw StoreError("cannot open database " + path + ": " + e.what());
  }
  // Refuse to downgrade. This happens before anything writes (even journal_mode is stored
  // in the file header), so an older build leaves the file exactly as it found it.
  if (applied > kLatestSchemaVersion) {
    throw StoreError("database " + path + " was written by a newer Conclave (schema " +
                     std::to_string(applied) + ", this build knows " +
                     std::to_string(kLatestSchemaVersion) + ")");
  }

  try {
    configure_connection(db.get());
  } catch (const StepFailure& e) {
    throw StoreError("cannot configure database " + path + ": " + e.what());
  }
  migrate(db.get(), path, applied);

  ServerIdentity identity;
  try {
    identity = load_or_create_identity(db.get());
  } catch (const StepFailure& e) {
    throw StoreError("database " + path +
                     ": cannot read or create the server identity: " + e.what());
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(path), std::move(db), std::move(identity)));
}

int SqliteStore::schema_version() {
  try {
    // migrate() and the newer-schema check keep this between 1 and kLatestSchemaVersion.
    return static_cast<int>(applied_version(db_.get()));
  } catch (const StepFailure& e) {
    throw StoreError("database " + database_path_ +
                     ": cannot read the schema version: " + e.what());
  }
}

ServerIdentity SqliteStore::server_identity() {
  return identity_;
}

bool SqliteStore::healthy() noexcept {
  // Unlike SELECT 1, this reads a table, so it goes through the pager and the WAL index
  // and fails when the file can no longer be read. It is still cheap: one B-tree lookup
  // of the maximum key.
  try {
    Statement probe(db_.get(), "SELECT max(version) FROM schema_version");
    return probe.step();
  } catch (...) {
    return false;
  }
}

}  // namespace conclave::store
