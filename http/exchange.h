#pragma once
// One request and its reply, as a handler sees it: path parameters, query parameters (decoded),
// headers, and the ways to answer. Shared so an asynchronous handler can answer from a callback.

#include <boost/container/small_vector.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/request_handler.h"

namespace keyledger::http {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// A route has at most two `{…}` segments: held inline, no allocation per request.
using PathParams = boost::container::small_vector<std::string, 2>;

class Exchange {
 public:
  Exchange(Request&& request, RequestContext context, Responder respond);

  const Request& request() const { return request_; }
  const RequestContext& context() const { return context_; }
  std::string_view body() const { return request_.body(); }
  std::string_view path() const { return path_; }
  // The i-th `{…}` segment of the matched route.
  const std::string& param(size_t i) const { return params_.at(i); }
  void set_params(PathParams params) { params_ = std::move(params); }

  std::optional<std::string> Query(std::string_view name) const;
  std::vector<std::string> QueryAll(std::string_view name) const;
  // A query parameter given more than once whose name is not `repeatable`, if any.
  std::optional<std::string> RepeatedQueryParameter(std::string_view repeatable) const;
  // The first query parameter whose name is not in `known`, if any.
  std::optional<std::string> UnknownQueryParameter(const std::vector<std::string>& known) const;
  std::string_view Header(std::string_view name) const;
  // The token of `Authorization: Bearer <token>`, or empty (also when Authorization is repeated).
  std::string_view BearerToken() const;

  Response& response() { return response_; }
  void Reply(unsigned status, std::string json_body);
  // Fills in response() as Reply would, without sending it: ReplyPrepared sends it later (a
  // Reply or Fail before then replaces it).
  void Prepare(unsigned status, std::string json_body);
  void ReplyNoContent();
  // Sends response() as the handler has filled it in (non-JSON bodies).
  void ReplyPrepared();
  void Fail(const Status& status);
  bool replied() const { return replied_; }

 private:
  Request request_;
  RequestContext context_;
  Responder respond_;
  Response response_;
  std::string_view path_;  // within request_'s target, which the exchange owns and never moves
  std::vector<std::pair<std::string, std::string>> query_;
  PathParams params_;
  bool replied_ = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// Query-parameter helpers that answer 400 naming the parameter.
Result<size_t> LimitParam(const Exchange& ex);  // ?limit= 1..1000, default 50
// RFC 3339; with `lower_bound` (an inclusive "from"), a fraction beyond milliseconds rounds up.
Result<std::optional<int64_t>> TimeParam(const Exchange& ex, std::string_view name, bool lower_bound = false);
struct TimeRange {
  std::optional<int64_t> from, to;
};
// ?from= and ?to=, each optional; `from` later than `to` is refused rather than read as nothing.
Result<TimeRange> TimeRangeParams(const Exchange& ex);

}  // namespace keyledger::http
