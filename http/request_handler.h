#pragma once
// The seam between the transport (server.h: sockets, limits, deadlines, TLS) and the application
// (router.h and the handlers). The transport never interprets a request beyond framing; the
// application never sees a socket.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>

namespace keyledger::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// What the transport knows about a request besides the message itself.
struct RequestContext {
  std::string remote_ip;  // peer address as text ("127.0.0.1", "::1")
};

// Completes a request. Invoke exactly once, from any thread; the transport moves back to the
// connection's own executor before writing.
using Responder = std::function<void(Response&&)>;

// Thread-safe: Handle is called concurrently from every I/O thread.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // The request is complete and already checked for framing abuse. The handler may answer
  // synchronously (call respond before returning) or later from another thread (e.g. after a log
  // append is acknowledged). It must not block on I/O.
  virtual void Handle(Request&& request, const RequestContext& context, Responder respond) = 0;
};

}  // namespace keyledger::http
