#pragma once
// One HTTP/1.1 connection, served by a C++20 coroutine on its own strand (or on the one I/O thread,
// see ServerOptions::io_threads): requests are read and
// answered one after another (pipelined requests wait in the read buffer, so responses keep their
// order). Plain TCP and TLS share the same code, a template over the stream type in session.cc.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "http/connection.h"
#include "http/connection_registry.h"
#include "http/request_handler.h"
#include "http/server_options.h"

namespace keyledger::http {

// What every session of one server shares. Immutable once the first session started.
struct SessionEnv {
  ServerOptions options;
  RequestHandler& handler;
  std::shared_ptr<ConnectionRegistry> registry;
  std::unique_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
};

// Serves `socket` until the peer leaves, a deadline passes, or `connection` is told to stop, then
// removes `connection` from env->registry. `socket`'s executor must be connection->executor(), a
// strand unless a single thread runs the io_context. Returns at once; the work runs on that
// executor. An exception escaping the session is
// logged and ends only this connection.
void SpawnSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<Connection> connection,
                  std::shared_ptr<const SessionEnv> env);

}  // namespace keyledger::http
