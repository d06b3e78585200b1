#pragma once
// Maps method and path to a handler. Patterns are literal segments and `{name}` segments, which
// match one non-empty segment and are handed to the handler in order. A path that matches no
// pattern is 404; one that matches with another method is 405 with `Allow`. Bodies sent to
// POST/PATCH must be JSON (415 otherwise). A handler that throws answers 500.
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
  void Add(boost::beast::http::verb method, std::string_view pattern, Handler handler);
  void Handle(Request&& request, const RequestContext& context, Responder respond) override;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool Match(const Route& route, const PathSegments& path, PathParams& params);

  std::vector<Route> routes_;
};

}  // namespace keyledger::http
