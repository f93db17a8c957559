// `conclave admin …`: what only the operator at the server's command line may do. The
// first administrator is made here (there is no sign-up for it), and invites for
// auth.signup = "invite". Every command opens the store of the configured data directory.
#pragma once

#include <optional>
#include <string>

#include "app/config.hpp"

namespace conclave::app {

struct CreateUser {
  std::string email;
  std::string name;
  bool admin = false;
  bool generate_password = false;
};

// Reads the password from `password_line` (one line of standard input) unless
// generate_password, in which case it prints the generated one. Prints one line on
// success. Returns the exit code: 0 done, 1 refused (email taken), 2 bad arguments,
// 3 the store cannot be opened.
int admin_create_user(const Config& config, const CreateUser& what,
                      const std::optional<std::string>& password_line);

// Prints a new invite token (valid 7 days), made in the name of `by_email` (an admin).
int admin_create_invite(const Config& config, const std::string& by_email);

// What an operator can do to an existing account. Each is appended to the audit log
// (privacy/audit.hpp), which the account's owner sees. There is deliberately no way to
// sign in as a user, read what they said, or join a meeting unseen.
enum class AccountChange { kDelete, kDisable, kEnable, kResetPassword, kMakeAdmin, kRevokeAdmin };
int admin_change_user(const Config& config, const std::string& email, AccountChange change,
                      const std::optional<std::string>& password_line);

// `conclave audit verify`: 0 when the chain holds (prints its length and head hash), 1 at
// the first broken link (printed), 3 when the store cannot be opened.
int audit_verify(const Config& config);

}  // namespace conclave::app
