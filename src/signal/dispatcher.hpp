// Routes parsed requests to their handlers and turns every failure into a typed error:
// this is the one place where exceptions from the control path become replies (STYLE.md,
// "Exceptions are fine on the control path, caught and turned into typed errors in one
// place"). Handlers are registered at start-up by the modules that own the requests
// (meeting/, sfu/ in later issues).
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "signal/envelope.hpp"

namespace conclave::signal {

class Session;

// Thrown by a handler to answer with a specific typed error.
class RequestError : public std::runtime_error {
 public:
  RequestError(std::string code, const std::string& message, std::int64_t retry_after = 0)
      : std::runtime_error(message), code_(std::move(code)), retry_after_(retry_after) {}
  const std::string& code() const { return code_; }
  std::int64_t retry_after() const { return retry_after_; }

 private:
  std::string code_;
  std::int64_t retry_after_ = 0;
};

class Dispatcher {
 public:
  using Handler = std::function<nlohmann::json(Session&, const Request&)>;

  void on(std::string type, Handler handler);

  // The reply to one text message from `session`. Never throws.
  std::string dispatch(Session& session, std::string_view text) const;

 private:
  std::map<std::string, Handler, std::less<>> handlers_;
};

}  // namespace conclave::signal
