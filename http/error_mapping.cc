#include "http/error_mapping.h"

#include "core/json_writer.h"

namespace keyledger::http {

HttpError MapStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return {200, ""};
    case StatusCode::kInvalidArgument: return {400, "invalid_request"};
    case StatusCode::kUnauthorized: return {401, "unauthorized"};
    case StatusCode::kUpgradeRequired: return {402, "upgrade_required"};
    case StatusCode::kForbidden: return {403, "forbidden"};
    case StatusCode::kNotFound: return {404, "not_found"};
    case StatusCode::kConflict: return {409, "conflict"};
    case StatusCode::kUnavailable: return {503, "not_ready"};
    case StatusCode::kInternal: return {500, "internal"};
  }
  return {500, "internal"};
}

std::string ErrorBody(std::string_view message, std::string_view code, std::string_view field) {
  JsonWriter w;
  w.BeginObject().Field("error", message).Field("code", code);
  if (!field.empty()) w.Field("field", field);
  return w.EndObject().Take();
}

std::string ErrorBody(const Status& status) {
  // Unexpected failures keep their detail in the server log, not in the response.
  const std::string_view message =
      status.code() == StatusCode::kInternal ? "Internal error." : std::string_view(status.message());
  return ErrorBody(message, MapStatus(status.code()).code, status.field());
}

}  // namespace keyledger::http
