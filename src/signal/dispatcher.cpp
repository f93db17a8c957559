#include "signal/dispatcher.hpp"

#include <spdlog/spdlog.h>

namespace conclave::signal {

void Dispatcher::on(std::string type, Handler handler) {
  handlers_[std::move(type)] = std::move(handler);
}

std::string Dispatcher::dispatch(Session& session, std::string_view text) const {
  auto parsed = parse_request(text);
  if (auto* failure = std::get_if<ParseFailure>(&parsed)) {
    return make_error(failure->id, failure->error);
  }
  const auto& request = std::get<Request>(parsed);
  const auto handler = handlers_.find(request.type);
  if (handler == handlers_.end()) {
    return make_error(request.id,
                      {errors::kUnknownType, "no request of type '" + request.type + "'"});
  }
  try {
    return make_result(request.id, handler->second(session, request));
  } catch (const RequestError& e) {
    return make_error(request.id, {e.code(), e.what(), e.retry_after()});
  } catch (const nlohmann::json::exception& e) {
    // A handler read a field of the wrong type or one that is missing.
    return make_error(request.id, {errors::kBadRequest, e.what()});
  } catch (const std::exception& e) {
    spdlog::error("request '{}' failed: {}", request.type, e.what());
    return make_error(request.id, {errors::kInternal, "the server could not handle the request"});
  }
}

}  // namespace conclave::signal
