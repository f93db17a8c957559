#include "app/admin.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <iostream>

#include "auth/credentials.hpp"
#include "common/unix_time.hpp"
#include "meeting/conference.hpp"
#include "privacy/audit.hpp"
#include "store/sqlite_store.hpp"

namespace conclave::app {
namespace {

std::unique_ptr<store::SqliteStore> open_store(const Config& config) {
  try {
    return store::SqliteStore::open(config.server.data_dir);
  } catch (const store::StoreError& e) {
    std::cerr << "conclave: " << e.what() << "\n";
    return nullptr;
  }
}

// 20 characters from an alphabet without look-alikes: about 115 bits.
std::string generated_password() {
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < 20) {
    unsigned char b = 0;
    RAND_bytes(&b, 1);
    if (b < 55 * 4) out += kAlphabet[b % 55];  // no modulo bias
  }
  return out;
}

}  // namespace

int admin_create_user(const Config& config, const CreateUser& what,
                      const std::optional<std::string>& password_line) {
  const auto email = auth::normalise_email(what.email);
  if (!email) {
    std::cerr << "conclave: error: --email: not an email address\n";
    return 2;
  }
  const auto name = meeting::normalise_display_name(what.name);
  if (!name) {
    std::cerr << "conclave: error: --name: 1 to 64 characters, no control characters\n";
    return 2;
  }
  std::string password;
  if (what.generate_password) {
    password = generated_password();
  } else {
    if (!password_line) {
      std::cerr << "conclave: error: give the password on standard input, or "
                   "--generate-password\n";
      return 2;
    }
    password = *password_line;
    if (password.size() < 10 || password.size() > 1024) {
      std::cerr << "conclave: error: the password must be 10 to 1024 bytes\n";
      return 2;
    }
  }
  auto store = open_store(config);
  if (!store) return 3;
  store::Account account;
  account.email = *email;
  account.display_name = *name;
  account.password_hash = auth::hash_password(password);
  account.admin = what.admin;
  account.created_at = unix_now();
  try {
    account.id = store->create_account(account);
  } catch (const store::ConflictError&) {
    std::cerr << "conclave: error: email already taken: " << *email << "\n";
    return 1;
  } catch (const store::StoreError& e) {
    std::cerr << "conclave: " << e.what() << "\n";
    return 3;
  }
  try {
    privacy::append_audit(*store, "operator", "create_user", account.id,
                          what.admin ? R"({"admin":true})" : R"({"admin":false})");
  } catch (const store::StoreError& e) {
    std::cerr << "conclave: " << e.what() << "\n";
    return 3;
  }
  std::cout << "created user " << *email << " (id " << account.id << (what.admin ? ", admin" : "")
            << ")\n";
  if (what.generate_password) std::cout << "password: " << password << "\n";
  return 0;
}

int admin_create_invite(const Config& config, const std::string& by_email) {
  auto store = open_store(config);
  if (!store) return 3;
  const auto email = auth::normalise_email(by_email).value_or("");
  const auto by = store->find_account_by_email(email);
  if (!by || !by->admin) {
    std::cerr << "conclave: error: --by must name an administrator's account\n";
    return 2;
  }
  const auto token = auth::new_token();
  const auto expires = unix_now() + 7 * 24 * 3600;
  store->create_invite({auth::token_hash(token), by->id, expires});
  std::cout << "invite: " << token << " (valid for 7 days)\n";
  return 0;
}

int admin_change_user(const Config& config, const std::string& email_text, AccountChange change,
                      const std::optional<std::string>& password_line) {
  auto store = open_store(config);
  if (!store) return 3;
  const auto email = auth::normalise_email(email_text).value_or("");
  const auto account = store->find_account_by_email(email);
  if (!account) {
    std::cerr << "conclave: error: no account with that email\n";
    return 1;
  }
  try {
    switch (change) {
      case AccountChange::kDelete:
        // The entry first, so that the log never lacks a deletion that happened.
        privacy::append_audit(*store, "operator", "delete_user", account->id);
        store->delete_account(account->id);
        if (!store->checkpoint())
          std::cerr << "conclave: the WAL is in use; its copy is cleared at the next checkpoint\n";
        std::cout << "deleted user " << account->id << " and everything of theirs\n";
        break;
      case AccountChange::kDisable:
      case AccountChange::kEnable: {
        const bool off = change == AccountChange::kDisable;
        privacy::append_audit(*store, "operator", off ? "disable_user" : "enable_user",
                              account->id);
        store->set_account_disabled(account->id, off);
        std::cout << (off ? "disabled user " : "enabled user ") << account->id << "\n";
        break;
      }
      case AccountChange::kResetPassword: {
        if (!password_line || password_line->size() < 10 || password_line->size() > 1024) {
          std::cerr << "conclave: error: give the new password (10 to 1024 bytes) on standard "
                       "input\n";
          return 2;
        }
        privacy::append_audit(*store, "operator", "reset_password", account->id);
        store->set_password_hash(account->id, auth::hash_password(*password_line));
        store->delete_sessions_of(account->id);
        std::cout << "reset the password of user " << account->id << " and signed them out\n";
        break;
      }
      case AccountChange::kMakeAdmin:
      case AccountChange::kRevokeAdmin: {
        const bool admin = change == AccountChange::kMakeAdmin;
        privacy::append_audit(*store, "operator", "change_role", account->id,
                              admin ? R"({"admin":true})" : R"({"admin":false})");
        store->set_admin(account->id, admin);
        std::cout << "user " << account->id << (admin ? " is" : " is no longer")
                  << " an administrator\n";
        break;
      }
    }
  } catch (const store::StoreError& e) {
    std::cerr << "conclave: " << e.what() << "\n";
    return 3;
  }
  return 0;
}

int audit_verify(const Config& config) {
  auto store = open_store(config);
  if (!store) return 3;
  std::vector<store::AuditEntry> entries;
  try {
    entries = store->audit_entries();
  } catch (const store::StoreError& e) {
    std::cerr << "conclave: " << e.what() << "\n";
    return 3;
  }
  if (const auto broken = privacy::verify_chain(entries)) {
    std::cout << "audit log BROKEN at entry " << broken->seq << ": " << broken->why << "\n";
    return 1;
  }
  std::cout << "audit log OK: " << entries.size() << " entries, head "
            << (entries.empty() ? std::string("(empty)") : entries.back().hash) << "\n";
  return 0;
}

}  // namespace conclave::app
