#include "http/framing.h"

#include <boost/beast/core/string.hpp>

namespace keyledger::http {
namespace {

namespace bhttp = boost::beast::http;

// Field values come from Beast already stripped of surrounding whitespace, but a value assembled
// from obs-fold continuation lines may still carry some; strip again so "chunked " is accepted
// like "chunked" while "chunked, chunked" is not.
std::string_view TrimOws(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

bool IsDecimal(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

FramingProblem CheckFraming(const bhttp::request_header<bhttp::fields>& header) {
  const std::size_t content_lengths = header.count(bhttp::field::content_length);
  const std::size_t transfer_encodings = header.count(bhttp::field::transfer_encoding);

  if (content_lengths > 0 && transfer_encodings > 0) {
    return FramingProblem::kContentLengthWithTransferEncoding;
  }
  if (content_lengths > 1) return FramingProblem::kMultipleContentLength;
  if (content_lengths == 1) {
    const auto value = header.find(bhttp::field::content_length)->value();
    if (!IsDecimal(TrimOws(std::string_view(value.data(), value.size())))) {
      return FramingProblem::kInvalidContentLength;
    }
  }
  if (transfer_encodings > 1) return FramingProblem::kMultipleTransferEncoding;
  if (transfer_encodings == 1) {
    const auto value = header.find(bhttp::field::transfer_encoding)->value();
    if (!boost::beast::iequals(TrimOws(std::string_view(value.data(), value.size())), "chunked")) {
      return FramingProblem::kUnsupportedTransferEncoding;
    }
    // HTTP/1.0 has no chunked coding; a 1.0 peer (or proxy) would read the body differently.
    if (header.version() < 11) return FramingProblem::kChunkedOnHttp10;
  }
  const std::size_t hosts = header.count(bhttp::field::host);
  if (hosts > 1) return FramingProblem::kMultipleHost;
  if (hosts == 0 && header.version() >= 11) return FramingProblem::kMissingHost;
  return FramingProblem::kNone;
}

std::string_view DescribeFramingProblem(FramingProblem problem) {
  switch (problem) {
    case FramingProblem::kNone:
      return {};
    case FramingProblem::kContentLengthWithTransferEncoding:
      return "Content-Length and Transfer-Encoding must not be sent together.";
    case FramingProblem::kMultipleContentLength:
      return "Content-Length must be sent at most once.";
    case FramingProblem::kInvalidContentLength:
      return "Content-Length must be a single decimal number.";
    case FramingProblem::kMultipleTransferEncoding:
      return "Transfer-Encoding must be sent at most once.";
    case FramingProblem::kUnsupportedTransferEncoding:
      return "Transfer-Encoding must be exactly chunked.";
    case FramingProblem::kChunkedOnHttp10:
      return "Chunked transfer encoding requires HTTP/1.1.";
    case FramingProblem::kMissingHost:
      return "HTTP/1.1 requests must carry a Host header.";
    case FramingProblem::kMultipleHost:
      return "Host must be sent at most once.";
  }
  return "Request framing is invalid.";
}

}  // namespace keyledger::http
