#pragma once
// Message-framing checks applied to every request header before its body is read.
//
// Boost 1.81's parser accepts some shapes that let a front proxy and this server disagree about
// where one request ends and the next begins (request smuggling): "Transfer-Encoding: gzip,
// chunked", Transfer-Encoding next to Content-Length when the former does not end in chunked,
// repeated Content-Length, chunked on HTTP/1.0. This server accepts exactly one way to delimit a
// body (a single decimal Content-Length, or a single "Transfer-Encoding: chunked" on HTTP/1.1) and
// answers anything else with 400 and a closed connection.
//
// The Host field is checked here too, as RFC 9112 section 3.2 requires of a server: an HTTP/1.1
// request without one, or any request with more than one, is answered with 400. Two Host fields
// are the same ambiguity one layer up: a proxy and this server could disagree about the target.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <string_view>

namespace keyledger::http {

enum class FramingProblem {
  kNone = 0,
  kContentLengthWithTransferEncoding,
  kMultipleContentLength,
  kInvalidContentLength,  // not a plain decimal number, e.g. "5, 5" or "+5"
  kMultipleTransferEncoding,
  kUnsupportedTransferEncoding,  // anything but exactly "chunked" (case-insensitive)
  kChunkedOnHttp10,
  kMissingHost,    // HTTP/1.1 without a Host field
  kMultipleHost,
};

// Pure function of the parsed header; no I/O. Returns kNone when the framing is acceptable.
[[nodiscard]] FramingProblem CheckFraming(
    const boost::beast::http::request_header<boost::beast::http::fields>& header);

// A sentence for the client, suitable for the "error" member of a 400 body. Never echoes header
// values. Returns an empty view for kNone.
[[nodiscard]] std::string_view DescribeFramingProblem(FramingProblem problem);

}  // namespace keyledger::http
