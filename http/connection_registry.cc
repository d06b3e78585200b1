#include "http/connection_registry.h"

#include <vector>

namespace keyledger::http {

ConnectionRegistry::ConnectionRegistry(std::size_t max_admitted) : max_admitted_(max_admitted) {}

std::shared_ptr<Connection> ConnectionRegistry::Add(boost::asio::any_io_executor executor) {
  bool draining = false;
  bool force_closing = false;
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex_);
    const bool admitted = admitted_ < max_admitted_;
    connection = std::make_shared<Connection>(std::move(executor), admitted);
    if (admitted) ++admitted_;
    connections_.emplace(connection.get(), connection);
    draining = draining_;
    force_closing = force_closing_;
  }
  // Both only post onto the connection's strand; the session sees the request when it starts.
  if (force_closing) {
    connection->ForceClose();
  } else if (draining) {
    connection->RequestStop();
  }
  return connection;
}

void ConnectionRegistry::Remove(const Connection& connection) {
  std::function<void()> on_empty;
  {
    std::lock_guard lock(mutex_);
    if (connections_.erase(&connection) == 0) return;
    if (connection.admitted()) --admitted_;
    if (connections_.empty() && draining_) on_empty = on_empty_;
  }
  if (on_empty) on_empty();
}

void ConnectionRegistry::Drain(std::function<void()> on_empty) {
  std::vector<std::shared_ptr<Connection>> snapshot;
  bool empty = false;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    on_empty_ = on_empty;
    snapshot.reserve(connections_.size());
    for (const auto& [key, connection] : connections_) snapshot.push_back(connection);
    empty = connections_.empty();
  }
  for (const auto& connection : snapshot) connection->RequestStop();
  if (empty && on_empty) on_empty();
}

void ConnectionRegistry::ForceCloseAll() {
  std::vector<std::shared_ptr<Connection>> snapshot;
  {
    std::lock_guard lock(mutex_);
    force_closing_ = true;
    snapshot.reserve(connections_.size());
    for (const auto& [key, connection] : connections_) snapshot.push_back(connection);
  }
  for (const auto& connection : snapshot) connection->ForceClose();
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace keyledger::http
