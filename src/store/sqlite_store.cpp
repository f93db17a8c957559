#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/unix_time.hpp"
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

// ---------------------------------------------------------------------------------------
// Accounts, sessions, devices, invites, meetings (migration 2).

template <class Fn>
auto SqliteStore::guarded(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const StepFailure& e) {
    const int code = sqlite3_extended_errcode(db_.get());
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
      throw ConflictError(std::string(what) + ": already exists");
    throw StoreError("database " + database_path_ + ": cannot " + what + ": " + e.what());
  }
}

namespace {

Account read_account(const Statement& row) {
  Account a;
  a.id = row.int64(0);
  a.email = row.text(1);
  a.display_name = row.text(2);
  a.password_hash = row.text(3);
  a.admin = row.int64(4) != 0;
  a.disabled = row.int64(5) != 0;
  a.created_at = row.int64(6);
  return a;
}

constexpr std::string_view kAccountColumns =
    "SELECT id, email, display_name, password_hash, admin, disabled, created_at FROM accounts ";

MeetingRecord read_meeting(const Statement& row) {
  MeetingRecord m;
  m.id = row.text(0);
  if (!row.is_null(1)) m.owner = row.int64(1);
  m.passcode_hash = row.text(2);
  m.host_key_hash = row.text(3);
  m.settings_json = row.text(4);
  m.created_at = row.int64(5);
  m.last_used_at = row.int64(6);
  return m;
}

constexpr std::string_view kMeetingColumns =
    "SELECT id, owner, passcode_hash, host_key_hash, settings, created_at, last_used_at "
    "FROM meetings ";

// Runs a statement that returns no rows.
void run(Statement& st) {
  while (st.step()) {
  }
}

}  // namespace

std::int64_t SqliteStore::create_account(const Account& a) {
  return guarded("create an account", [&] {
    Statement st(db_.get(),
                 "INSERT INTO accounts (email, display_name, password_hash, admin, disabled, "
                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st.bind(1, a.email);
    st.bind(2, a.display_name);
    st.bind(3, a.password_hash);
    st.bind(4, std::int64_t{a.admin});
    st.bind(5, std::int64_t{a.disabled});
    st.bind(6, a.created_at);
    run(st);
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.get()));
  });
}

std::optional<Account> SqliteStore::find_account(std::int64_t id) {
  return guarded("read an account", [&]() -> std::optional<Account> {
    Statement st(db_.get(), std::string(kAccountColumns) + "WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_account(st);
  });
}

std::optional<Account> SqliteStore::find_account_by_email(std::string_view email) {
  return guarded("read an account", [&]() -> std::optional<Account> {
    Statement st(db_.get(), std::string(kAccountColumns) + "WHERE email = ?1");
    st.bind(1, email);
    if (!st.step()) return std::nullopt;
    return read_account(st);
  });
}

std::size_t SqliteStore::account_count() {
  return guarded("count accounts", [&] {
    Statement st(db_.get(), "SELECT count(*) FROM accounts");
    st.step();
    return static_cast<std::size_t>(st.int64(0));
  });
}

void SqliteStore::set_password_hash(std::int64_t account, std::string_view hash) {
  guarded("change a password", [&] {
    Statement st(db_.get(), "UPDATE accounts SET password_hash = ?2 WHERE id = ?1");
    st.bind(1, account);
    st.bind(2, hash);
    run(st);
  });
}

void SqliteStore::set_account_disabled(std::int64_t account, bool disabled) {
  guarded("disable an account", [&] {
    Transaction transaction(db_.get());
    {
      Statement st(db_.get(), "UPDATE accounts SET disabled = ?2 WHERE id = ?1");
      st.bind(1, account);
      st.bind(2, std::int64_t{disabled});
      run(st);
    }
    if (disabled) {
      Statement st(db_.get(), "DELETE FROM auth_sessions WHERE account_id = ?1");
      st.bind(1, account);
      run(st);
    }
    transaction.commit();
  });
}

void SqliteStore::set_admin(std::int64_t account, bool admin) {
  guarded("change a role", [&] {
    Statement st(db_.get(), "UPDATE accounts SET admin = ?2 WHERE id = ?1");
    st.bind(1, account);
    st.bind(2, std::int64_t{admin});
    run(st);
  });
}

void SqliteStore::create_session(const AuthSession& s) {
  guarded("create a session", [&] {
    Statement st(db_.get(),
                 "INSERT INTO auth_sessions (token_hash, account_id, created_at, expires_at) "
                 "VALUES (?1, ?2, ?3, ?4)");
    st.bind(1, s.token_hash);
    st.bind(2, s.account_id);
    st.bind(3, s.created_at);
    st.bind(4, s.expires_at);
    run(st);
  });
}

std::optional<AuthSession> SqliteStore::find_session(std::string_view token_hash) {
  return guarded("read a session", [&]() -> std::optional<AuthSession> {
    Statement st(db_.get(),
                 "SELECT token_hash, account_id, created_at, expires_at FROM auth_sessions "
                 "WHERE token_hash = ?1");
    st.bind(1, token_hash);
    if (!st.step()) return std::nullopt;
    return AuthSession{st.text(0), st.int64(1), st.int64(2), st.int64(3)};
  });
}

void SqliteStore::delete_session(std::string_view token_hash) {
  guarded("delete a session", [&] {
    Statement st(db_.get(), "DELETE FROM auth_sessions WHERE token_hash = ?1");
    st.bind(1, token_hash);
    run(st);
  });
}

void SqliteStore::delete_sessions_of(std::int64_t account) {
  guarded("delete sessions", [&] {
    Statement st(db_.get(), "DELETE FROM auth_sessions WHERE account_id = ?1");
    st.bind(1, account);
    run(st);
  });
}

void SqliteStore::delete_expired_sessions(std::int64_t now) {
  guarded("delete expired sessions", [&] {
    Statement st(db_.get(), "DELETE FROM auth_sessions WHERE expires_at <= ?1");
    st.bind(1, now);
    run(st);
  });
}

std::vector<AuthSession> SqliteStore::sessions_of(std::int64_t account) {
  return guarded("read sessions", [&] {
    Statement st(db_.get(),
                 "SELECT token_hash, account_id, created_at, expires_at FROM auth_sessions "
                 "WHERE account_id = ?1 ORDER BY created_at");
    st.bind(1, account);
    std::vector<AuthSession> out;
    while (st.step()) out.push_back({st.text(0), st.int64(1), st.int64(2), st.int64(3)});
    return out;
  });
}

std::vector<Invite> SqliteStore::invites_of(std::int64_t account) {
  return guarded("read invites", [&] {
    Statement st(db_.get(),
                 "SELECT token_hash, created_by, expires_at FROM invites WHERE created_by = ?1");
    st.bind(1, account);
    std::vector<Invite> out;
    while (st.step()) out.push_back({st.text(0), st.int64(1), st.int64(2)});
    return out;
  });
}

std::int64_t SqliteStore::add_device(const Device& d) {
  return guarded("add a device", [&] {
    Statement st(db_.get(),
                 "INSERT INTO devices (account_id, public_key, label, created_at) "
                 "VALUES (?1, ?2, ?3, ?4)");
    st.bind(1, d.account_id);
    st.bind(2, d.public_key);
    st.bind(3, d.label);
    st.bind(4, d.created_at);
    run(st);
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.get()));
  });
}

std::vector<Device> SqliteStore::devices_of(std::int64_t account) {
  return guarded("read devices", [&] {
    Statement st(db_.get(),
                 "SELECT id, account_id, public_key, label, created_at FROM devices "
                 "WHERE account_id = ?1 ORDER BY id");
    st.bind(1, account);
    std::vector<Device> out;
    while (st.step())
      out.push_back(Device{st.int64(0), st.int64(1), st.text(2), st.text(3), st.int64(4)});
    return out;
  });
}

void SqliteStore::remove_device(std::int64_t account, std::int64_t device) {
  guarded("remove a device", [&] {
    Statement st(db_.get(), "DELETE FROM devices WHERE id = ?1 AND account_id = ?2");
    st.bind(1, device);
    st.bind(2, account);
    run(st);
  });
}

void SqliteStore::create_invite(const Invite& invite) {
  guarded("create an invite", [&] {
    Statement st(db_.get(),
                 "INSERT INTO invites (token_hash, created_by, expires_at) VALUES (?1, ?2, ?3)");
    st.bind(1, invite.token_hash);
    st.bind(2, invite.created_by);
    st.bind(3, invite.expires_at);
    run(st);
  });
}

bool SqliteStore::take_invite(std::string_view token_hash, std::int64_t now) {
  return guarded("use an invite", [&] {
    Transaction transaction(db_.get());
    std::int64_t expires = 0;
    bool found = false;
    {
      Statement st(db_.get(), "SELECT expires_at FROM invites WHERE token_hash = ?1");
      st.bind(1, token_hash);
      if (st.step()) {
        found = true;
        expires = st.int64(0);
      }
    }
    if (found) {
      Statement st(db_.get(), "DELETE FROM invites WHERE token_hash = ?1");
      st.bind(1, token_hash);
      run(st);
    }
    transaction.commit();
    return found && expires > now;
  });
}

void SqliteStore::create_meeting(const MeetingRecord& m) {
  guarded("create a meeting", [&] {
    Statement st(db_.get(),
                 "INSERT INTO meetings (id, owner, passcode_hash, host_key_hash, settings, "
                 "created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, m.id);
    if (m.owner) st.bind(2, *m.owner);  // else NULL (unbound)
    st.bind(3, m.passcode_hash);
    st.bind(4, m.host_key_hash);
    st.bind(5, m.settings_json);
    st.bind(6, m.created_at);
    st.bind(7, m.last_used_at);
    run(st);
  });
}

std::optional<MeetingRecord> SqliteStore::find_meeting(std::string_view id) {
  return guarded("read a meeting", [&]() -> std::optional<MeetingRecord> {
    Statement st(db_.get(), std::string(kMeetingColumns) + "WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_meeting(st);
  });
}

void SqliteStore::update_meeting_settings(std::string_view id, std::string_view settings_json) {
  guarded("save a meeting's settings", [&] {
    Statement st(db_.get(), "UPDATE meetings SET settings = ?2 WHERE id = ?1");
    st.bind(1, id);
    st.bind(2, settings_json);
    run(st);
  });
}

void SqliteStore::set_meeting_passcode(std::string_view id, std::string_view passcode_hash) {
  guarded("change a meeting's passcode", [&] {
    Statement st(db_.get(), "UPDATE meetings SET passcode_hash = ?2 WHERE id = ?1");
    st.bind(1, id);
    st.bind(2, passcode_hash);
    run(st);
  });
}

void SqliteStore::touch_meeting(std::string_view id, std::int64_t now) {
  guarded("record a meeting's use", [&] {
    Statement st(db_.get(), "UPDATE meetings SET last_used_at = ?2 WHERE id = ?1");
    st.bind(1, id);
    st.bind(2, now);
    run(st);
  });
}

void SqliteStore::delete_meeting(std::string_view id) {
  guarded("delete a meeting", [&] {
    Statement st(db_.get(), "DELETE FROM meetings WHERE id = ?1");
    st.bind(1, id);
    run(st);
  });
}

std::vector<MeetingRecord> SqliteStore::meetings_of(std::int64_t owner) {
  return guarded("read meetings", [&] {
    Statement st(db_.get(), std::string(kMeetingColumns) + "WHERE owner = ?1 ORDER BY created_at");
    st.bind(1, owner);
    std::vector<MeetingRecord> out;
    while (st.step()) out.push_back(read_meeting(st));
    return out;
  });
}

void SqliteStore::delete_account(std::int64_t account) {
  guarded("delete an account", [&] {
    Statement st(db_.get(), "DELETE FROM accounts WHERE id = ?1");
    st.bind(1, account);
    run(st);
  });
}

bool SqliteStore::checkpoint() noexcept {
  int log = 0, done = 0;
  return sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) ==
         SQLITE_OK;
}

std::size_t SqliteStore::delete_meetings_unused_since(std::int64_t cutoff,
                                                      const std::vector<std::string>& keep) {
  return guarded("delete old meetings", [&] {
    std::vector<std::string> old;
    {
      Statement st(db_.get(), "SELECT id FROM meetings WHERE last_used_at < ?1");
      st.bind(1, cutoff);
      while (st.step()) old.push_back(st.text(0));
    }
    std::size_t gone = 0;
    for (const auto& id : old) {
      if (std::find(keep.begin(), keep.end(), id) != keep.end()) continue;
      Statement st(db_.get(), "DELETE FROM meetings WHERE id = ?1");
      st.bind(1, id);
      run(st);
      ++gone;
    }
    return gone;
  });
}

namespace {

constexpr std::string_view kAuditColumns =
    "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log ";

AuditEntry read_audit(const Statement& row) {
  AuditEntry e;
  e.seq = row.int64(0);
  e.at = row.int64(1);
  e.actor = row.text(2);
  e.action = row.text(3);
  if (!row.is_null(4)) e.subject = row.int64(4);
  e.details = row.text(5);
  e.prev_hash = row.text(6);
  e.hash = row.text(7);
  return e;
}

}  // namespace

void SqliteStore::append_audit(const AuditEntry& e) {
  guarded("append to the audit log", [&] {
    Statement st(db_.get(),
                 "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, "
                 "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st.bind(1, e.seq);
    st.bind(2, e.at);
    st.bind(3, e.actor);
    st.bind(4, e.action);
    if (e.subject) st.bind(5, *e.subject);
    st.bind(6, e.details);
    st.bind(7, e.prev_hash);
    st.bind(8, e.hash);
    run(st);
  });
}

std::optional<AuditEntry> SqliteStore::last_audit() {
  return guarded("read the audit log", [&]() -> std::optional<AuditEntry> {
    Statement st(db_.get(), std::string(kAuditColumns) + "ORDER BY seq DESC LIMIT 1");
    if (!st.step()) return std::nullopt;
    return read_audit(st);
  });
}

std::vector<AuditEntry> SqliteStore::audit_entries() {
  return guarded("read the audit log", [&] {
    Statement st(db_.get(), std::string(kAuditColumns) + "ORDER BY seq");
    std::vector<AuditEntry> out;
    while (st.step()) out.push_back(read_audit(st));
    return out;
  });
}

std::vector<AuditEntry> SqliteStore::audit_entries_about(std::int64_t account) {
  return guarded("read the audit log", [&] {
    Statement st(db_.get(), std::string(kAuditColumns) + "WHERE subject = ?1 ORDER BY seq");
    st.bind(1, account);
    std::vector<AuditEntry> out;
    while (st.step()) out.push_back(read_audit(st));
    return out;
  });
}

}  // namespace conclave::store
