// The signaling envelope: every client message is one JSON object
//   {"id": <integer or short string>, "type": "<request name>", ...fields}
// and gets exactly one reply carrying the same id:
//   {"id": ..., "result": {...}}   or   {"id": ..., "error": {"code": "...", "message": "..."}}
// Server-initiated events carry no id: {"event": "<name>", ...}. docs/protocol.md (issue
// 4) documents the requests themselves; this file only frames them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace conclave::signal {

inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kMaxTypeLength = 64;
inline constexpr int kMaxJsonDepth = 32;

struct Request {
  nlohmann::json id;  // integer or string
  std::string type;
  nlohmann::json body;  // the whole object, for handlers to read their fields
};

// A typed error as it goes on the wire. Codes are stable identifiers, messages are for
// people and may change.
struct Error {
  std::string code;
  std::string message;
  std::int64_t retry_after = 0;  // seconds; sent as "retry_after" when > 0 (too_many_attempts)
};

namespace errors {
inline constexpr const char* kBadJson = "bad_json";
inline constexpr const char* kBadRequest = "bad_request";
inline constexpr const char* kUnknownType = "unknown_type";
inline constexpr const char* kInternal = "internal";
}  // namespace errors

struct ParseFailure {
  nlohmann::json id;  // the request's id when it could be read, else null
  Error error;
};

// Never throws: any input yields a Request or a ParseFailure.
std::variant<Request, ParseFailure> parse_request(std::string_view text);

std::string make_result(const nlohmann::json& id, const nlohmann::json& result);
std::string make_error(const nlohmann::json& id, const Error& error);

}  // namespace conclave::signal
