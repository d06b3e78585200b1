#include "http/transport_error.h"

#include <cstdio>
#include <string>

namespace keyledger::http {
namespace {

namespace bhttp = boost::beast::http;

struct ErrorEntry {
  bhttp::status status;
  std::string_view code;
  std::string_view message;
};

ErrorEntry Lookup(TransportError error) {
  switch (error) {
    case TransportError::kInvalidRequest:
      return {bhttp::status::bad_request, "invalid_request", "Malformed HTTP request."};
    case TransportError::kBodyTooLarge:
      return {bhttp::status::payload_too_large, "body_too_large", "Request body is too large."};
    case TransportError::kHeadersTooLarge:
      return {bhttp::status::request_header_fields_too_large, "headers_too_large",
              "Request headers are too large."};
    case TransportError::kNotReady:
      return {bhttp::status::service_unavailable, "not_ready",
              "Server is at its connection limit; retry later."};
    case TransportError::kInternal:
      break;
  }
  return {bhttp::status::internal_server_error, "internal", "Internal error."};
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out.append(escaped);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

Response MakeTransportError(TransportError error, std::string_view message) {
  const ErrorEntry entry = Lookup(error);
  std::string body;
  body.reserve(64 + message.size());
  body.append("{\"error\":");
  AppendJsonString(body, message.empty() ? entry.message : message);
  body.append(",\"code\":");
  AppendJsonString(body, entry.code);
  body.push_back('}');

  Response response{entry.status, 11};
  response.set(bhttp::field::content_type, "application/json; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace keyledger::http
