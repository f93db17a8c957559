// SqliteStore against real files in a fresh temporary directory per test. The test reads
// the database back through its own sqlite3 connection, and never through anything that
// the Store exposes only for tests.
#include <grp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "store/migrations.hpp"
#include "store/sqlite_store.hpp"

namespace conclave::store {
namespace {

namespace fs = std::filesystem;

// The SQLite connection opened most recently in this process. It is captured through
// SQLite's auto-extension hook, which runs for every sqlite3_open_v2. With it, a test can
// ask the store's own connection for its per-connection pragmas, which a second
// connection cannot see.
sqlite3* g_last_opened = nullptr;

int capture_connection(sqlite3* db, char** /*error*/, const sqlite3_api_routines* /*api*/) {
  g_last_opened = db;
  // Debian builds SQLite with SQLITE_SECURE_DELETE, so secure_delete is on by default. We
  // turn it off here, before the store configures the connection. Then the test still
  // fails if the store stops setting it, and it does not depend on how SQLite was built.
  sqlite3_exec(db, "PRAGMA secure_delete = OFF", nullptr, nullptr, nullptr);
  return SQLITE_OK;
}

// Registers capture_connection for the lifetime of this object.
class ConnectionCapture {
 public:
  ConnectionCapture() {
    g_last_opened = nullptr;
    // SQLite declares the entry point as void(*)(void), and every caller casts to that.
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(&capture_connection));
  }
  ~ConnectionCapture() {
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(&capture_connection));
    g_last_opened = nullptr;
  }
  ConnectionCapture(const ConnectionCapture&) = delete;
  ConnectionCapture& operator=(const ConnectionCapture&) = delete;
};

std::string query_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    return "<error>";
  }
  std::string result = "<no row>";
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    result = text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
  }
  sqlite3_finalize(stmt);
  return result;
}

// A second connection to a database file, opened by the test and not by the store.
class RawDatabase {
 public:
  explicit RawDatabase(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << file << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  std::string text(const std::string& sql) { return query_text(db_, sql); }
  std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string read_bytes(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return {};
  std::string bytes(size, '\0');
  std::ifstream in(file, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) ADD_FAILURE() << "short read";
  return bytes;
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    ADD_FAILURE() << "stat " << path << ": " << std::strerror(errno);
    return 0;
  }
  return info.st_mode & 07777;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What SqliteStore::open threw, or "" if it did not throw.
std::string open_error(const fs::path& data_dir) {
  try {
    SqliteStore::open(data_dir);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "conclave-store-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    root_ = pattern;
  }

  void TearDown() override {
    // A test may have left a directory read-only. Restore write access so that
    // remove_all can delete what is inside it.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, ec);
    }
    fs::remove_all(root_, ec);
  }

  fs::path data_dir() const { return root_ / "data"; }
  fs::path database() const { return data_dir() / "conclave.db"; }

  fs::path root_;
};

TEST_F(SqliteStoreTest, OpenCreatesPrivateDirectoryAndDatabaseInWalMode) {
  ASSERT_FALSE(fs::exists(data_dir()));
  auto store = SqliteStore::open(data_dir());
  ASSERT_NE(store, nullptr);

  ASSERT_TRUE(fs::is_directory(data_dir()));
  EXPECT_EQ(mode_of(data_dir()), 0700u);
  ASSERT_TRUE(fs::is_regular_file(database()));
  EXPECT_EQ(mode_of(database()), 0600u);
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);

  // While the store is open in WAL mode, the WAL and its index sit next to the database.
  // They hold database content too, so they must be as private as the database file.
  for (const char* suffix : {"-wal", "-shm"}) {
    const fs::path side_file = database().string() + suffix;
    ASSERT_TRUE(fs::exists(side_file)) << side_file;
    EXPECT_EQ(mode_of(side_file), 0600u) << side_file;
  }

  // journal_mode=WAL is stored in the file, so a second connection sees it. Bytes 18 and
  // 19 of the header are both 2 in WAL mode
  // (https://sqlite.org/fileformat.html#file_format_version_numbers).
  RawDatabase raw(database());
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  const std::string header = read_bytes(database()).substr(0, 20);
  ASSERT_EQ(header.size(), 20u);
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
}

TEST_F(SqliteStoreTest, StoreConnectionHasForeignKeysSecureDeleteAndBusyTimeout) {
  ConnectionCapture capture;
  auto store = SqliteStore::open(data_dir());
  sqlite3* connection = g_last_opened;
  ASSERT_NE(connection, nullptr);
  const char* file = sqlite3_db_filename(connection, "main");
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(fs::equivalent(file, database())) << "captured a connection to " << file;

  EXPECT_EQ(query_text(connection, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(connection, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(query_text(connection, "PRAGMA secure_delete"), "1");
  EXPECT_EQ(query_text(connection, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_GE(std::stoi(query_text(connection, "PRAGMA busy_timeout")), 1000);
}

TEST_F(SqliteStoreTest, ServerIdIs32LowercaseHexAndSurvivesReopening) {
  const std::int64_t before = unix_now();
  ServerIdentity first;
  {
    auto store = SqliteStore::open(data_dir());
    first = store->server_identity();
  }
  const std::int64_t after = unix_now();

  ASSERT_EQ(first.server_id.size(), 32u) << first.server_id;
  EXPECT_TRUE(std::all_of(first.server_id.begin(), first.server_id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << first.server_id;
  EXPECT_NE(first.server_id, std::string(32, '0'));
  EXPECT_GE(first.created_at_unix, before);
  EXPECT_LE(first.created_at_unix, after);

  {
    auto store = SqliteStore::open(data_dir());
    const ServerIdentity again = store->server_identity();
    EXPECT_EQ(again.server_id, first.server_id);
    EXPECT_EQ(again.created_at_unix, first.created_at_unix);
  }

  // The value is in the file, not only in memory.
  RawDatabase raw(database());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM server_identity"), 1);
  EXPECT_EQ(raw.text("SELECT server_id FROM server_identity WHERE id = 1"), first.server_id);
}

TEST_F(SqliteStoreTest, FreshStoresHaveDifferentServerIds) {
  auto a = SqliteStore::open(root_ / "a");
  auto b = SqliteStore::open(root_ / "b");
  EXPECT_NE(a->server_identity().server_id, b->server_identity().server_id);
}

TEST_F(SqliteStoreTest, MigrationsAreRecordedOnceAcrossReopening) {
  SqliteStore::open(data_dir());
  auto store = SqliteStore::open(data_dir());
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);
  store.reset();

  RawDatabase raw(database());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM schema_version"),
            static_cast<std::int64_t>(kMigrations.size()));
  EXPECT_EQ(raw.integer("SELECT max(version) FROM schema_version"), kLatestSchemaVersion);
  for (const Migration& migration : kMigrations) {
    const std::string where = " WHERE version = " + std::to_string(migration.version);
    EXPECT_EQ(raw.text("SELECT description FROM schema_version" + where), migration.description);
    EXPECT_GT(raw.integer("SELECT applied_at FROM schema_version" + where), 0);
  }
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromNewerVersionAndLeavesItUnchanged) {
  SqliteStore::open(data_dir());
  const int future = kLatestSchemaVersion + 6;
  {
    RawDatabase raw(database());
    raw.exec("INSERT INTO schema_version (version, applied_at, description) VALUES (" +
             std::to_string(future) + ", 0, 'from a later release')");
    // In rollback-journal mode, an open that switched to WAL before it checked the version
    // would change the file header, and the byte comparison below would catch that.
    EXPECT_EQ(raw.text("PRAGMA journal_mode = DELETE"), "delete");
  }
  // The database file alone holds the whole state: the journal mode is no longer WAL, and
  // closing the last connection removed the WAL.
  ASSERT_FALSE(fs::exists(database().string() + "-wal"));
  const std::string bytes_before = read_bytes(database());
  ASSERT_FALSE(bytes_before.empty());

  const std::string error = open_error(data_dir());
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_NE(error.find(database().string()), std::string::npos) << error;
  EXPECT_NE(error.find("schema " + std::to_string(future)), std::string::npos) << error;
  EXPECT_NE(error.find("knows " + std::to_string(kLatestSchemaVersion)), std::string::npos)
      << error;

  EXPECT_EQ(read_bytes(database()), bytes_before);
  RawDatabase raw(database());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM schema_version"),
            static_cast<std::int64_t>(kMigrations.size()) + 1);
}

// A table left over in the way makes migration 1 fail. The error names the migration,
// and its transaction is rolled back: not even the schema_version table that the same
// transaction created is left behind.
TEST_F(SqliteStoreTest, FailedMigrationIsNamedAndRolledBack) {
  fs::create_directory(data_dir());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(database().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE server_identity (unrelated TEXT)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }

  const std::string error = open_error(data_dir());
  EXPECT_EQ(error.rfind("database " + database().string() + ": migration 1 (", 0), 0u) << error;
  EXPECT_NE(error.find("already exists"), std::string::npos) << error;

  RawDatabase raw(database());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'"), 0);
  EXPECT_EQ(raw.text("SELECT group_concat(name) FROM pragma_table_info('server_identity')"),
            "unrelated");
}

TEST_F(SqliteStoreTest, RefusesFileThatIsNotADatabaseAndLeavesItUnchanged) {
  fs::create_directory(data_dir());
  const std::string garbage(4096, 'x');
  write_bytes(database(), garbage);

  const std::string error = open_error(data_dir());
  EXPECT_EQ(error, "cannot open database " + database().string() + ": file is not a database");
  EXPECT_EQ(read_bytes(database()), garbage);
}

TEST_F(SqliteStoreTest, TightensModeOfExistingDatabaseFile) {
  fs::create_directory(data_dir());
  write_bytes(database(), "");  // An empty file is a valid, empty SQLite database.
  ASSERT_EQ(::chmod(database().c_str(), 0644), 0);

  auto store = SqliteStore::open(data_dir());
  EXPECT_EQ(mode_of(database()), 0600u);
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);
}

TEST_F(SqliteStoreTest, RefusesDataDirectoryThatIsAFile) {
  write_bytes(data_dir(), "not a directory");
  EXPECT_EQ(open_error(data_dir()),
            "data directory " + data_dir().string() + " is not a directory");
}

// This fails for root as well, since no permission check is involved.
TEST_F(SqliteStoreTest, RefusesDataDirectoryBelowARegularFile) {
  write_bytes(root_ / "file", "a regular file");
  const fs::path below = root_ / "file" / "data";
  EXPECT_EQ(open_error(below),
            "cannot create data directory " + below.string() + ": Not a directory");
  EXPECT_FALSE(fs::exists(below));
}

TEST_F(SqliteStoreTest, RefusesReadOnlyDataDirectory) {
  fs::create_directory(data_dir());
  ASSERT_EQ(::chmod(data_dir().c_str(), 0555), 0);
  const std::string expected =
      "data directory " + data_dir().string() + " is not writable: Permission denied";

  if (::geteuid() != 0) {
    EXPECT_EQ(open_error(data_dir()), expected);
    EXPECT_FALSE(fs::exists(database()));
    return;
  }

  // Permission bits do not stop root. So the open runs in a child process that has
  // switched to the unprivileged user "nobody" (65534). The temporary directory must be
  // searchable for that user.
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    ::close(pipe_fds[0]);
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(77);
    }
    const std::string error = open_error(data_dir());
    const bool written =
        ::write(pipe_fds[1], error.data(), error.size()) == static_cast<ssize_t>(error.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string error;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    error.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot switch to an unprivileged user";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(error, expected);
  EXPECT_FALSE(fs::exists(database()));
}

TEST_F(SqliteStoreTest, HealthyOnOpenStore) {
  auto store = SqliteStore::open(data_dir());
  EXPECT_TRUE(store->healthy());
}

// healthy() really reads the database. It reports a broken database with false instead
// of throwing.
TEST_F(SqliteStoreTest, NotHealthyWhenTheDatabaseNoLongerAnswers) {
  auto store = SqliteStore::open(data_dir());
  {
    RawDatabase raw(database());
    raw.exec("DROP TABLE schema_version");
  }
  EXPECT_FALSE(store->healthy());
}

// ---------------------------------------------------------------------------------------
// Migration 2 (issue 7): accounts, sessions, devices, invites, meetings.

Account make_account(const std::string& email, bool admin = false) {
  Account a;
  a.email = email;
  a.display_name = "Name of " + email;
  a.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$test";
  a.admin = admin;
  a.created_at = 1000;
  return a;
}

TEST_F(SqliteStoreTest, SchemaOneDatabaseIsMigratedAndKeepsItsIdentity) {
  fs::create_directory(data_dir());
  { std::ofstream create(database()); }  // an empty file is an empty database
  {
    // A database as the first release left it: schema 1 only.
    RawDatabase raw(database());
    raw.exec(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, "
        "description TEXT NOT NULL)");
    raw.exec(std::string(kMigrations[0].sql));
    raw.exec("INSERT INTO schema_version VALUES (1, 1, 'server identity')");
    raw.exec("INSERT INTO server_identity VALUES (1, '0123456789abcdef0123456789abcdef', 5)");
  }
  auto store = SqliteStore::open(data_dir());
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(store->server_identity().server_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(store->account_count(), 0u);
}

TEST_F(SqliteStoreTest, AccountsAreUniqueByEmailAndReadBack) {
  auto store = SqliteStore::open(data_dir());
  const auto id = store->create_account(make_account("ada@example.org", true));
  EXPECT_THROW(store->create_account(make_account("ada@example.org")), ConflictError);
  const auto a = store->find_account_by_email("ada@example.org");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, id);
  EXPECT_TRUE(a->admin);
  EXPECT_FALSE(a->disabled);
  EXPECT_EQ(store->find_account(id)->email, "ada@example.org");
  EXPECT_FALSE(store->find_account(id + 1));
  store->set_password_hash(id, "new");
  EXPECT_EQ(store->find_account(id)->password_hash, "new");
  EXPECT_EQ(store->account_count(), 1u);
}

TEST_F(SqliteStoreTest, SessionsExpireAndDisablingAnAccountEndsThem) {
  auto store = SqliteStore::open(data_dir());
  const auto id = store->create_account(make_account("s@example.org"));
  store->create_session({"h1", id, 10, 100});
  store->create_session({"h2", id, 10, 200});
  EXPECT_EQ(store->find_session("h1")->expires_at, 100);
  store->delete_expired_sessions(150);
  EXPECT_FALSE(store->find_session("h1"));
  EXPECT_TRUE(store->find_session("h2"));
  store->set_account_disabled(id, true);
  EXPECT_FALSE(store->find_session("h2"));
  EXPECT_TRUE(store->find_account(id)->disabled);
  store->create_session({"h3", id, 10, 200});
  store->delete_sessions_of(id);
  EXPECT_FALSE(store->find_session("h3"));
}

TEST_F(SqliteStoreTest, DevicesInvitesAndMeetingsBelongToTheirAccount) {
  auto store = SqliteStore::open(data_dir());
  const auto id = store->create_account(make_account("m@example.org"));
  const auto other = store->create_account(make_account("o@example.org"));
  const auto dev = store->add_device({0, id, "key-1", "Laptop", 5});
  EXPECT_THROW(store->add_device({0, id, "key-1", "Again", 5}), ConflictError);
  store->remove_device(other, dev);  // not theirs: nothing happens
  ASSERT_EQ(store->devices_of(id).size(), 1u);

  store->create_invite({"inv", id, 100});
  EXPECT_FALSE(store->take_invite("nope", 50));
  EXPECT_TRUE(store->take_invite("inv", 50));
  EXPECT_FALSE(store->take_invite("inv", 50));  // one use
  store->create_invite({"old", id, 100});
  EXPECT_FALSE(store->take_invite("old", 150));  // expired

  MeetingRecord m;
  m.id = "abcd-efgh-jkmn-pqrs";
  m.owner = id;
  m.passcode_hash = "p";
  m.host_key_hash = "";
  m.settings_json = "{}";
  m.created_at = m.last_used_at = 7;
  store->create_meeting(m);
  EXPECT_THROW(store->create_meeting(m), ConflictError);
  MeetingRecord guest = m;
  guest.id = "zzzz-zzzz-zzzz-zzzz";
  guest.owner.reset();
  store->create_meeting(guest);
  EXPECT_FALSE(store->find_meeting(guest.id)->owner.has_value());
  store->update_meeting_settings(m.id, R"({"chat":false})");
  store->set_meeting_passcode(m.id, "q");
  store->touch_meeting(m.id, 99);
  const auto back = store->find_meeting(m.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->settings_json, R"({"chat":false})");
  EXPECT_EQ(back->passcode_hash, "q");
  EXPECT_EQ(back->last_used_at, 99);
  EXPECT_EQ(store->meetings_of(id).size(), 1u);
  EXPECT_TRUE(store->meetings_of(other).empty());
  store->delete_meeting(guest.id);
  EXPECT_FALSE(store->find_meeting(guest.id));

  // Deleting an account takes everything of it along (no soft-delete flags).
  store->create_session({"sess", id, 1, 1000});
  store.reset();
  {
    RawDatabase raw(database());
    raw.exec("PRAGMA foreign_keys = ON");
    raw.exec("DELETE FROM accounts WHERE id = " + std::to_string(id));
    for (const char* table : {"auth_sessions", "devices", "invites", "meetings"}) {
      EXPECT_EQ(raw.integer(std::string("SELECT count(*) FROM ") + table), 0) << table;
    }
  }
}

}  // namespace
}  // namespace conclave::store
