#pragma once
// The responses the transport writes on its own, before or instead of the application: one
// table from error to status, code and default sentence. The body has the same shape as the
// application's errors: {"error":"<sentence>","code":"<code>"}.

#include <string_view>

#include "http/request_handler.h"

namespace keyledger::http {

enum class TransportError {
  kInvalidRequest,   // 400 invalid_request: malformed HTTP or a request-smuggling shape
  kBodyTooLarge,     // 413 body_too_large
  kHeadersTooLarge,  // 431 headers_too_large
  kNotReady,         // 503 not_ready: at the connection limit
  kInternal,         // 500 internal: the handler threw or dropped its responder
};

// HTTP/1.1 response with a JSON body, Content-Type and Content-Length set. `message` replaces the
// table's sentence when not empty; it is JSON-escaped, but should be a fixed sentence anyway (never
// a header value or token).
[[nodiscard]] Response MakeTransportError(TransportError error, std::string_view message = {});

}  // namespace keyledger::http
