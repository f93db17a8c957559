#pragma once

#include <stdexcept>

namespace conclave {

// Something the operator must fix before the server can start (port in use, unreadable
// certificate, data directory not writable). The message is one line naming the problem;
// main() prints it and exits 1.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace conclave
