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

  std::int64_t create_account(const Account& account) override;
  std::optional<Account> find_account(std::int64_t id) override;
  std::optional<Account> find_account_by_email(std::string_view email) override;
  std::size_t account_count() override;
  void set_password_hash(std::int64_t account, std::string_view hash) override;
  void set_account_disabled(std::int64_t account, bool disabled) override;
  void set_admin(std::int64_t account, bool admin) override;

  void create_session(const AuthSession& session) override;
  std::optional<AuthSession> find_session(std::string_view token_hash) override;
  void delete_session(std::string_view token_hash) override;
  void delete_sessions_of(std::int64_t account) override;
  void delete_expired_sessions(std::int64_t now) override;
  std::vector<AuthSession> sessions_of(std::int64_t account) override;

  std::int64_t add_device(const Device& device) override;
  std::vector<Device> devices_of(std::int64_t account) override;
  void remove_device(std::int64_t account, std::int64_t device) override;

  void create_invite(const Invite& invite) override;
  bool take_invite(std::string_view token_hash, std::int64_t now) override;
  std::vector<Invite> invites_of(std::int64_t account) override;

  void create_meeting(const MeetingRecord& meeting) override;
  std::optional<MeetingRecord> find_meeting(std::string_view id) override;
  void update_meeting_settings(std::string_view id, std::string_view settings_json) override;
  void set_meeting_passcode(std::string_view id, std::string_view passcode_hash) override;
  void touch_meeting(std::string_view id, std::int64_t now) override;
  void delete_meeting(std::string_view id) override;
  std::vector<MeetingRecord> meetings_of(std::int64_t owner) override;

  void delete_account(std::int64_t account) override;
  bool checkpoint() noexcept override;
  std::size_t delete_meetings_unused_since(std::int64_t cutoff,
                                           const std::vector<std::string>& keep) override;
  void append_audit(const AuditEntry& entry) override;
  std::optional<AuditEntry> last_audit() override;
  std::vector<AuditEntry> audit_entries() override;
  std::vector<AuditEntry> audit_entries_about(std::int64_t account) override;

 private:
  // Closes the connection when the store is destroyed. Never throws.
  struct CloseConnection {
    void operator()(sqlite3* db) const noexcept;
  };
  using Connection = std::unique_ptr<sqlite3, CloseConnection>;

  SqliteStore(std::string database_path, Connection db, ServerIdentity identity);

  // Runs `fn` (which uses db_), turning SQLite failures into StoreError that names `what`
  // and the path; a UNIQUE violation becomes ConflictError.
  template <class Fn>
  auto guarded(const char* what, Fn&& fn) -> decltype(fn());

  std::string database_path_;  // For error messages.
  Connection db_;              // Allocated by this.
  ServerIdentity identity_;    // Read or created by open(); the schema has no way to change it.
};

}  // namespace conclave::store
