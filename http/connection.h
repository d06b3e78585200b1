#pragma once
// The control surface of one accepted connection, shared between its session coroutine and the
// registry that shutdown walks. The session owns the socket; this object only lets other threads
// ask it to stop (RequestStop, ForceClose), and does so by posting onto the session's strand (or
// the single I/O thread's executor), so the socket is never touched anywhere else.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "http/response_slot.h"

namespace keyledger::http {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `executor` is the strand (or single-threaded executor) every operation of this connection
  // runs on. `admitted` is false when the connection was accepted beyond max_connections and only
  // gets a 503.
  Connection(boost::asio::any_io_executor executor, bool admitted);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] const boost::asio::any_io_executor& executor() const { return executor_; }
  [[nodiscard]] bool admitted() const { return admitted_; }

  // Any thread. Graceful: the connection finishes the request in progress (its response goes out
  // with "Connection: close") and then closes; an idle connection closes at once.
  void RequestStop();
  // Any thread. Closes the socket now and abandons a response still being awaited.
  void ForceClose();

  // The rest runs on executor() only, called by the session.

  // Makes `socket` the one to close. Returns false if ForceClose already happened.
  [[nodiscard]] bool Attach(boost::asio::ip::tcp::socket& socket);
  // REQUIRES: called before the attached socket is destroyed.
  void Detach();
  // Idle: nothing of a request has been read; closing now loses no work.
  void SetIdle(bool idle);
  // Idle, and closed once it has stayed idle until `deadline`: the keep-alive timeout of a
  // session that waits for its next request without an operation of its own that could time out.
  // Costs no timer operation per call: one timer per connection is armed when none is, and when
  // it fires it closes the connection if the deadline has passed, or re-arms for the deadline
  // that later calls set meanwhile.
  void SetIdleUntil(std::chrono::steady_clock::time_point deadline);
  // The response the session is about to wait for, so ForceClose can wake it (abandoned at once
  // if ForceClose already happened).
  void SetPending(std::shared_ptr<ResponseSlot> slot);
  // Set by RequestStop/ForceClose before they return (not only once their posted work runs), so
  // that every response finalized after HttpServer::Stop() returned says "Connection: close".
  [[nodiscard]] bool stopping() const { return stopping_.load(std::memory_order_acquire); }

 private:
  void CloseSocket();
  void ArmIdleTimer();
  void OnIdleTimer(const boost::system::error_code& ec);

  // Constant after construction.
  const boost::asio::any_io_executor executor_;
  const bool admitted_;

  // Only touched on executor_.
  boost::asio::ip::tcp::socket* socket_ = nullptr;
  std::shared_ptr<ResponseSlot> pending_;
  bool idle_ = false;
  bool closed_ = false;
  // SetIdleUntil's deadline; max() while the connection is busy or only SetIdle(true) was called.
  std::chrono::steady_clock::time_point idle_deadline_ = std::chrono::steady_clock::time_point::max();
  boost::asio::steady_timer idle_timer_;
  bool idle_timer_armed_ = false;

  std::atomic<bool> stopping_{false};  // any thread
};

}  // namespace keyledger::http
