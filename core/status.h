#pragma once
// Expected outcomes are values: a Status says what went wrong in terms the HTTP layer can map to a
// status code in one table (http/error_mapping.cc). Cheap to copy when ok().

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keyledger {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // 400: the input is wrong; `field` names it when one field is at fault
  kUnauthorized,      // 401: missing, malformed, unknown, revoked or expired credential
  kUpgradeRequired,   // 402: the workspace's plan has no API access
  kForbidden,         // 403: valid credential without the right, or another workspace
  kNotFound,          // 404
  kConflict,          // 409: state does not allow it, or it already exists
  kUnavailable,       // 503: the store refuses writes (sticky error) or is not ready
  kInternal,          // 500: a bug or an unexpected storage failure
};

inline std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kUnauthorized: return "unauthorized";
    case StatusCode::kUpgradeRequired: return "upgrade_required";
    case StatusCode::kForbidden: return "forbidden";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, StatusCode code) { return os << StatusCodeName(code); }

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string message, std::string field = {}) {
    return {StatusCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Status NotFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
  static Status Conflict(std::string message) { return {StatusCode::kConflict, std::move(message)}; }
  static Status Forbidden() { return {StatusCode::kForbidden, "Forbidden."}; }
  static Status Unauthorized() { return {StatusCode::kUnauthorized, "Unauthorized."}; }
  static Status UpgradeRequired() { return {StatusCode::kUpgradeRequired, "Upgrade required."}; }
  static Status Unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status Internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// A value or the Status explaining its absence.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT
  // REQUIRES: !status.ok()

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace keyledger
