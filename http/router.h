#pragma once
// Maps method and path to a handler. Patterns are literal segments and `{name}` segments, which
// match one non-empty segment and are handed to the handler in order. A path that matches no
// pattern is 404; one that matches with another method is 405 with `Allow`; HEAD is answered by
// the GET route (the transport sends no content for it). Bodies sent to
// POST/PATCH must be JSON (415 otherwise). A handler that throws answers 500.
//
// A forward-auth route (AddForwardAuth) answers for a request that a proxy guards: it takes every
// method, since nginx's auth_request and Envoy's ext_authz ask with the guarded request's method,
// and paths below its pattern too, since Envoy appends the guarded request's path to the one it
// is given. Its handler never reads the body, so any body is let through to it.
//
// Routes are added before serving; Dispatch is then thread-safe.

#include <boost/container/small_vector.hpp>

#include <functional>
#include <string>
#include <vector>

#include "http/exchange.h"
#include "http/request_handler.h"

namespace keyledger::http {

using Handler = std::function<void(const ExchangePtr&)>;
using PathSegments = boost::container::small_vector<std::string_view, 8>;

class Router final : public RequestHandler {
 public:
  // Routes below /admin/ answer 400 to a query parameter not in `query_parameters` (a typo such
  // as ?asof= must not answer for the present); the others ignore parameters they do not read.
  void Add(boost::beast::http::verb method, std::string_view pattern, Handler handler,
           std::vector<std::string> query_parameters = {});
  void AddForwardAuth(std::string_view pattern, Handler handler);
  void Handle(Request&& request, const RequestContext& context, Responder respond) override;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;
    Handler handler;
    bool forward_auth = false;  // any method, any path below, any body
    std::vector<std::string> query_parameters;
    bool strict_query = false;  // an admin route: unknown query parameters are refused
  };
  static bool Match(const Route& route, const PathSegments& path, PathParams& params);

  std::vector<Route> routes_;
};

}  // namespace keyledger::http
