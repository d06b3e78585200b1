#pragma once
// Accepts TCP connections on one endpoint and hands each to a callback, on a fresh strand (or, when
// one thread runs the io_context, on the io_context's own executor). The
// accept loop survives every error: it logs, backs off briefly when the process is out of file
// descriptors or memory, and ends only when Close() is called.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "http/log_throttle.h"

namespace keyledger::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Receives each accepted socket, bound to a new strand of the io_context, or to the io_context's
  // executor when `io_threads` is 1. Called on the listener's strand; must not block.
  using AcceptHandler = std::function<void(boost::asio::ip::tcp::socket)>;

  // Opens, binds and listens right away (SO_REUSEADDR on). Throws std::system_error naming the
  // endpoint when that fails (e.g. the port is taken).
  // `io_threads`: as ServerOptions::io_threads.
  Listener(boost::asio::io_context& io_context, const boost::asio::ip::tcp::endpoint& endpoint,
           unsigned io_threads, AcceptHandler on_accept);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound endpoint; with port 0, the port the system chose.
  [[nodiscard]] const boost::asio::ip::tcp::endpoint& local_endpoint() const {
    return local_endpoint_;
  }

  // Starts the accept loop. `on_exit` runs once the loop has ended after Close().
  // REQUIRES: called at most once.
  void Start(std::function<void()> on_exit);

  // Any thread. Stops accepting; the listening socket is closed on the listener's strand.
  void Close();

  // Accepts that failed (each one logged). Any thread.
  [[nodiscard]] std::uint64_t accept_failures() const {
    return accept_failures_.load(std::memory_order_relaxed);
  }

 private:
  boost::asio::awaitable<void> AcceptLoop();

  boost::asio::io_context& io_context_;
  const bool strand_per_connection_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;  // only touched on strand_ once started
  boost::asio::ip::tcp::endpoint local_endpoint_;
  const AcceptHandler on_accept_;
  std::atomic<std::uint64_t> accept_failures_{0};
  LogThrottle failure_log_{std::chrono::seconds(1)};
};

}  // namespace keyledger::http
