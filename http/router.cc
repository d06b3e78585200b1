#include "http/router.h"

#include "core/log.h"
#include "core/token.h"
#include "http/error_mapping.h"

namespace keyledger::http {
namespace http = boost::beast::http;
namespace {

// Inline: the longest route has 7 segments, so splitting a request's path allocates nothing.
PathSegments Split(std::string_view path) {
  PathSegments segments;
  size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool IsJson(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  if (content_type.size() < kJson.size()) return false;
  for (size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(content_type[i])) != kJson[i]) return false;
  }
  return content_type.size() == kJson.size() || content_type[kJson.size()] == ';' ||
         content_type[kJson.size()] == ' ';
}

}  // namespace

void Router::Add(http::verb method, std::string_view pattern, Handler handler,
                 std::vector<std::string> query_parameters) {
  Route route{method, {}, std::move(handler)};
  route.query_parameters = std::move(query_parameters);
  route.strict_query = pattern.starts_with("/admin/");
  for (std::string_view s : Split(pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
}

void Router::AddForwardAuth(std::string_view pattern, Handler handler) {
  Add(http::verb::unknown, pattern, std::move(handler));
  routes_.back().forward_auth = true;
}

bool Router::Match(const Route& route, const PathSegments& path, PathParams& params) {
  if (route.forward_auth ? path.size() < route.segments.size() : path.size() != route.segments.size()) {
    return false;
  }
  params.clear();
  for (size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& s = route.segments[i];
    if (!s.empty() && s.front() == '{') {
      if (path[i].empty()) return false;
      params.emplace_back(path[i]);
    } else if (s != path[i]) {
      return false;
    }
  }
  return true;
}

void Router::Handle(Request&& request, const RequestContext& context, Responder respond) {
  auto ex = std::make_shared<Exchange>(std::move(request), context, std::move(respond));
  const auto path = Split(ex->path());
  const http::verb method = ex->request().method();
  PathParams params;
  std::string allow;
  for (const Route& route : routes_) {
    if (!Match(route, path, params)) continue;
    // HEAD is GET without the content (RFC 9110 9.3.2); the transport leaves the body out.
    const bool head_of_get = method == http::verb::head && route.method == http::verb::get;
    if (!route.forward_auth && route.method != method && !head_of_get) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(route.method));
      if (route.method == http::verb::get) allow += ", HEAD";
      continue;
    }
    if ((method == http::verb::post || method == http::verb::patch) && !route.forward_auth &&
        !ex->body().empty() && !IsJson(ex->Header("Content-Type"))) {
      ex->Reply(415, ErrorBody("Request bodies must be application/json.", "unsupported_media_type"));
      return;
    }
    // Every parameter but the audit's `type` takes one value: `?limit=10&limit=1000` is
    // ambiguous (a proxy may read the other). Below /v1/authz the query is the guarded request's.
    if (!route.forward_auth) {
      if (const std::optional<std::string> repeated = ex->RepeatedQueryParameter("type")) {
        ex->Fail(ContainsToken(*repeated)
                     ? Status::Invalid("A query parameter is given more than once.")
                     : Status::Invalid("Query parameter " + *repeated + " is given more than once.", *repeated));
        return;
      }
    }
    if (route.strict_query) {
      if (const std::optional<std::string> unknown = ex->UnknownQueryParameter(route.query_parameters)) {
        ex->Fail(ContainsToken(*unknown) ? Status::Invalid("A query parameter is not one this endpoint takes.")
                                         : Status::Invalid("Unknown query parameter " + *unknown + ".", *unknown));
        return;
      }
    }
    ex->set_params(std::move(params));
    try {
      route.handler(ex);
    } catch (const std::exception& e) {
      log::Error(std::string("handler failed: ") + e.what());
      ex->Reply(500, ErrorBody("Internal error.", "internal"));
    }
    return;
  }
  if (!allow.empty()) {
    ex->response().set(http::field::allow, allow);
    ex->Reply(405, ErrorBody("This method is not allowed here.", "method_not_allowed"));
    return;
  }
  ex->Reply(404, ErrorBody("No such endpoint.", "not_found"));
}

}  // namespace keyledger::http
