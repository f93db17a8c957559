#include "signal/envelope.hpp"

namespace conclave::signal {

namespace {

bool valid_id(const nlohmann::json& id) {
  if (id.is_number_integer()) return true;
  return id.is_string() && !id.get_ref<const std::string&>().empty() &&
         id.get_ref<const std::string&>().size() <= kMaxIdLength;
}

bool valid_type(const std::string& type) {
  if (type.empty() || type.size() > kMaxTypeLength) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::variant<Request, ParseFailure> parse_request(std::string_view text) {
  nlohmann::json doc;
  // nlohmann's parser is iterative, so depth costs no stack; the limit keeps handlers from
  // walking absurd structures. The callback only notes the depth: returning false would
  // silently drop the deep part and accept the rest.
  bool too_deep = false;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end(),
                                [&too_deep](int depth, nlohmann::json::parse_event_t, auto&) {
                                  if (depth > kMaxJsonDepth) too_deep = true;
                                  return true;
                                });
  } catch (const nlohmann::json::exception&) {
    return ParseFailure{nullptr, {errors::kBadJson, "the message is not valid JSON"}};
  }
  if (too_deep) {
    return ParseFailure{nullptr, {errors::kBadRequest, "the message is nested too deeply"}};
  }
  if (!doc.is_object()) {
    return ParseFailure{nullptr, {errors::kBadRequest, "a request must be a JSON object"}};
  }
  const auto id = doc.find("id");
  if (id == doc.end() || !valid_id(*id)) {
    return ParseFailure{nullptr,
                        {errors::kBadRequest,
                         "a request needs an id: an integer or a string of "
                         "1 to 64 characters"}};
  }
  const auto type = doc.find("type");
  if (type == doc.end() || !type->is_string() || !valid_type(type->get<std::string>())) {
    return ParseFailure{*id,
                        {errors::kBadRequest,
                         "a request needs a type: lowercase letters, "
                         "digits, '_' or '.'"}};
  }
  Request request{*id, type->get<std::string>(), std::move(doc)};
  return request;
}

std::string make_result(const nlohmann::json& id, const nlohmann::json& result) {
  return nlohmann::json{{"id", id}, {"result", result}}.dump();
}

std::string make_error(const nlohmann::json& id, const Error& error) {
  nlohmann::json body{{"code", error.code}, {"message", error.message}};
  if (error.retry_after > 0) body["retry_after"] = error.retry_after;
  return nlohmann::json{{"id", id}, {"error", std::move(body)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace conclave::signal
