#pragma once
// The one table from Status to HTTP status and error code, and the error body of API.md:
// {"error": "<Human sentence.>", "code": "<machine_code>"[, "field": "<name>"]}.

#include <string>

#include "core/status.h"
#include "http/request_handler.h"

namespace keyledger::http {

struct HttpError {
  unsigned status;
  const char* code;
};

HttpError MapStatus(StatusCode code);
std::string ErrorBody(const Status& status);
std::string ErrorBody(std::string_view message, std::string_view code, std::string_view field = {});

}  // namespace keyledger::http
