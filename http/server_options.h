#pragma once
// Limits and deadlines of the HTTP transport. Every field has a production default; tests shrink
// the deadlines so that timeouts can be observed quickly.

#include <chrono>
#include <cstddef>
#include <string>

#include "core/latency_histogram.h"

namespace keyledger::http {

struct ServerOptions {
  // Request line plus header fields, in bytes. Larger requests get 431 and the connection closes.
  std::size_t header_limit = 8 * 1024;
  // Decoded body, in bytes. Larger bodies (declared or chunked) get 413 and the connection closes.
  std::size_t body_limit = 64 * 1024;
  // From the first byte of a request until it has been read completely; also bounds a TLS
  // handshake.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  // How long a connection may sit idle waiting for the first byte of its next request (including
  // the first request of a fresh connection).
  std::chrono::milliseconds keep_alive_timeout{std::chrono::seconds(30)};
  // For writing one response.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  // Connections served at once. Beyond this, a new connection is answered 503 and closed; while
  // 64 such answers are in progress (each lingers up to 2 s), more are closed without one.
  std::size_t max_connections = 10000;
  // After Stop(): how long in-flight requests may take before their connections are cut.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
  // Threads that run the io_context. With exactly one, every handler already runs on that one
  // thread, so connections go without a strand of their own: one queue hop less for every
  // completion of every request. 0 means unknown, handled like several.
  unsigned io_threads = 0;
  // PEM files. TLS is on when both are set; requests are then served over TLS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // When set, every response written adds its request's time, from the first byte read to the
  // last byte written, here. Not owned: must outlive the server.
  LatencyHistogram* request_durations = nullptr;

  [[nodiscard]] bool tls_enabled() const { return !tls_cert_file.empty() && !tls_key_file.empty(); }
};

}  // namespace keyledger::http
