// The server's persistent state behind one interface, so the embedded SQLite default and
// (later) PostgreSQL for multi-node deployments are interchangeable (DESIGN.md, "Storage").
// It holds the schema version and the server's identity; accounts, their sign-in sessions,
// devices and invites (auth/); and meetings with their saved settings (meeting/). Nothing
// of meeting content is ever stored here. Later issues add methods one table at a time,
// each with a migration.
//
// A Store owns its database connection. It is not thread-safe: only the control thread
// calls it. Media workers never touch it (DESIGN.md: media never touches storage code), and
// other threads post their requests to the control thread instead of calling it directly.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::store {

// A storage failure. The message is one line that names the problem and the path,
// written so the server can print it as is when it cannot start.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A write that would break a uniqueness rule (an email already taken, a meeting id that
// exists). Nothing was written.
class ConflictError : public StoreError {
 public:
  using StoreError::StoreError;
};

// Who this installation is. Created on first start and never changed afterwards.
struct ServerIdentity {
  std::string server_id;  // 128 random bits as 32 lowercase hex characters.
  std::int64_t created_at_unix = 0;
};

// Times are Unix seconds. Secrets (passwords, session tokens, invite tokens, passcodes,
// host keys) are never stored: only their hashes, made by the caller.

struct Account {
  std::int64_t id = 0;
  std::string email;  // Lowercased by the caller; unique.
  std::string display_name;
  std::string password_hash;  // libsodium crypto_pwhash_str (argon2id) string.
  bool admin = false;
  bool disabled = false;
  std::int64_t created_at = 0;
};

// A signed-in browser: the SHA-256 (hex) of the random token in its cookie.
struct AuthSession {
  std::string token_hash;
  std::int64_t account_id = 0;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

// A device of an account and its public Ed25519 identity key (E2EE pinning, issue 6).
struct Device {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string public_key;  // base64url, no padding, of the 32 raw bytes
  std::string label;
  std::int64_t created_at = 0;
};

// An invitation to sign up (auth.signup = "invite"): the SHA-256 (hex) of its token.
struct Invite {
  std::string token_hash;
  std::int64_t created_by = 0;  // account id
  std::int64_t expires_at = 0;
};

// A meeting that exists on this server. The id is the one in links (>= 64 random bits).
struct MeetingRecord {
  std::string id;
  std::optional<std::int64_t> owner;  // account; none for a meeting a guest created
  std::string passcode_hash;          // meeting::hash_secret() string; empty: no passcode
  std::string host_key_hash;          // ditto, for the creator of an ownerless meeting
  std::string settings_json;          // meeting::Settings as JSON (docs/protocol.md)
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
};

// One entry of the audit log of administrative actions on accounts (privacy/audit.hpp
// makes the chain; docs/privacy.md). Names and emails are never put into an entry: the
// subject is an account id, so deleting the account leaves nothing personal behind.
struct AuditEntry {
  std::int64_t seq = 0;                 // 1, 2, 3, ... without gaps
  std::int64_t at = 0;                  // unix seconds
  std::string actor;                    // "operator" (command line) or "account:<id>"
  std::string action;                   // "create_user", "delete_user", ...
  std::optional<std::int64_t> subject;  // the account acted on
  std::string details;                  // JSON, never personal data
  std::string prev_hash;                // hash of entry seq - 1 ("" for the first)
  std::string hash;                     // SHA-256 (hex) over prev_hash and this entry
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The highest migration applied to the database. Throws StoreError.
  virtual int schema_version() = 0;

  virtual ServerIdentity server_identity() = 0;

  // Accounts. create_account throws ConflictError when the email is taken; returns the id.
  virtual std::int64_t create_account(const Account& account) = 0;
  virtual std::optional<Account> find_account(std::int64_t id) = 0;
  virtual std::optional<Account> find_account_by_email(std::string_view email) = 0;
  virtual std::size_t account_count() = 0;
  virtual void set_password_hash(std::int64_t account, std::string_view hash) = 0;
  virtual void set_account_disabled(std::int64_t account, bool disabled) = 0;
  virtual void set_admin(std::int64_t account, bool admin) = 0;

  // Sign-in sessions.
  virtual void create_session(const AuthSession& session) = 0;
  virtual std::optional<AuthSession> find_session(std::string_view token_hash) = 0;
  virtual void delete_session(std::string_view token_hash) = 0;
  virtual void delete_sessions_of(std::int64_t account) = 0;
  virtual void delete_expired_sessions(std::int64_t now) = 0;
  virtual std::vector<AuthSession> sessions_of(std::int64_t account) = 0;

  // Devices (public identity keys).
  virtual std::int64_t add_device(const Device& device) = 0;
  virtual std::vector<Device> devices_of(std::int64_t account) = 0;
  virtual void remove_device(std::int64_t account, std::int64_t device) = 0;

  // Invites. take_invite deletes it and says whether it existed and had not expired.
  virtual void create_invite(const Invite& invite) = 0;
  virtual bool take_invite(std::string_view token_hash, std::int64_t now) = 0;
  virtual std::vector<Invite> invites_of(std::int64_t account) = 0;

  // Meetings. create_meeting throws ConflictError when the id exists.
  virtual void create_meeting(const MeetingRecord& meeting) = 0;
  virtual std::optional<MeetingRecord> find_meeting(std::string_view id) = 0;
  virtual void update_meeting_settings(std::string_view id, std::string_view settings_json) = 0;
  virtual void set_meeting_passcode(std::string_view id, std::string_view passcode_hash) = 0;
  virtual void touch_meeting(std::string_view id, std::int64_t now) = 0;
  virtual void delete_meeting(std::string_view id) = 0;
  virtual std::vector<MeetingRecord> meetings_of(std::int64_t owner) = 0;

  // Deletes the account and, through the foreign keys, everything that is its (sessions,
  // devices, invites, meetings). Rows are removed, never flagged; with secure_delete their
  // bytes are overwritten, and checkpoint() then clears them from the WAL.
  virtual void delete_account(std::int64_t account) = 0;
  // Copies the WAL into the database file and truncates it (so deleted bytes are gone from
  // both files). Never throws; false if it could not be done now (a reader holds the WAL).
  virtual bool checkpoint() noexcept = 0;
  // Deletes meetings last used before `cutoff` (unix s), except those in `keep` (running).
  // Returns how many went.
  virtual std::size_t delete_meetings_unused_since(std::int64_t cutoff,
                                                   const std::vector<std::string>& keep) = 0;

  // The audit log. append_audit inserts as given (privacy::AuditLog computes seq and
  // hashes); the others read in seq order.
  virtual void append_audit(const AuditEntry& entry) = 0;
  virtual std::optional<AuditEntry> last_audit() = 0;
  virtual std::vector<AuditEntry> audit_entries() = 0;
  virtual std::vector<AuditEntry> audit_entries_about(std::int64_t account) = 0;

  // A cheap read of the database for /healthz. False when the database does not answer;
  // never throws.
  virtual bool healthy() noexcept = 0;

 protected:
  Store() = default;
};

}  // namespace conclave::store
