#pragma once
// All live connections of one server: enforces max_connections and lets shutdown reach every
// connection, including ones accepted while shutdown is already under way.

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/connection.h"

namespace keyledger::http {

// Thread-safe.
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t max_admitted);
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // Registers a new connection running on `executor`. It is admitted while fewer than
  // max_admitted admitted connections exist; otherwise it is registered but not admitted (it
  // answers 503). During Drain or ForceCloseAll the new connection is told to stop at once.
  [[nodiscard]] std::shared_ptr<Connection> Add(boost::asio::any_io_executor executor);

  // Unregisters. If Drain was called and this was the last connection, runs on_empty on the
  // calling thread, after the registry's lock is released.
  void Remove(const Connection& connection);

  // Asks every connection, present and future, to stop gracefully (Connection::RequestStop).
  // on_empty runs whenever the registry becomes empty from now on, and once right away (on the
  // calling thread) if it is empty already.
  void Drain(std::function<void()> on_empty);

  // Force-closes every connection, present and future.
  void ForceCloseAll();

  [[nodiscard]] std::size_t size() const;

 private:
  // Constant after construction.
  const std::size_t max_admitted_;

  mutable std::mutex mutex_;
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> connections_;  // guarded
  std::size_t admitted_ = 0;                                                        // guarded
  bool draining_ = false;                                                           // guarded
  bool force_closing_ = false;                                                      // guarded
  std::function<void()> on_empty_;                                                  // guarded
};

}  // namespace keyledger::http
