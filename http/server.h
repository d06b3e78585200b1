#pragma once
// The HTTP/1.1 transport: listens, enforces limits, deadlines and framing rules, speaks TLS when
// configured, and hands complete requests to a RequestHandler. It knows nothing of keyledger's API.
//
//   boost::asio::io_context io;
//   HttpServer server(io, options, router);
//   auto bound = server.Listen({boost::asio::ip::make_address("127.0.0.1"), 0});
//   server.Start();
//   ... N threads run io.run() ...
//   server.Stop([&] { io.stop(); });  // e.g. from a SIGTERM handler
//
// What the client sees from the transport itself (always followed by a closed connection):
// 400 invalid_request (malformed or smuggling-shaped framing), 413 body_too_large, 431
// headers_too_large, 503 not_ready (max_connections reached), each with a JSON body
// {"error":"<sentence>","code":"<code>"}. A handler that throws yields 500 internal (the
// connection stays usable). Timed-out and reset connections are closed without a response.
// Every response carries X-Request-Id (the client's, when sane, else a generated one) and
// "Server: keyledger".

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "http/request_handler.h"
#include "http/server_options.h"

namespace keyledger::http {

class Listener;

// Listen and Start are for the thread that sets the server up; Stop and the accessors may be
// called from any thread, while any number of threads run the io_context.
class HttpServer {
 public:
  // `io_context` and `handler` must outlive the server and stay usable until on_stopped has run.
  // Throws std::system_error when TLS is configured and the certificate or key cannot be loaded.
  HttpServer(boost::asio::io_context& io_context, const ServerOptions& options,
             RequestHandler& handler);
  // REQUIRES: Stop's on_stopped has run, or the io_context is no longer being run.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on `endpoint` and returns the bound endpoint (port 0 picks a free port).
  // May be called several times for several endpoints. Throws std::system_error naming the
  // endpoint when the socket cannot be bound (e.g. the port is in use).
  // REQUIRES: before Start().
  boost::asio::ip::tcp::endpoint Listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // Starts accepting on every endpoint given to Listen. Returns at once; connections are served by
  // whichever threads run the io_context. REQUIRES: at most once, before Stop().
  void Start();

  // Graceful shutdown: stops accepting, lets requests in progress finish and write their responses
  // (with "Connection: close"), closes idle keep-alive connections at once, and force-closes
  // whatever is left after options.shutdown_grace. Then posts `on_stopped` to the io_context (so
  // it runs on an io thread, after every session is gone). Returns at once. Later calls only add
  // their callback (called at once, via post, if shutdown already finished).
  void Stop(std::function<void()> on_stopped);

  // Connections currently open, including ones being refused with 503.
  [[nodiscard]] std::size_t connection_count() const;
  // Failed accepts since construction (EMFILE and the like); each is also logged.
  [[nodiscard]] std::uint64_t accept_failures() const;

 private:
  class State;

  boost::asio::io_context& io_context_;
  const std::shared_ptr<State> state_;  // shared with the accept loops and the stop timer
  std::vector<std::shared_ptr<Listener>> listeners_;
  bool started_ = false;
};

}  // namespace keyledger::http
