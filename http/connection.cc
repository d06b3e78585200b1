#include "http/connection.h"

#include <boost/asio/post.hpp>

namespace keyledger::http {

Connection::Connection(boost::asio::any_io_executor executor, bool admitted)
    : executor_(std::move(executor)), admitted_(admitted), idle_timer_(executor_) {}

void Connection::RequestStop() {
  stopping_.store(true, std::memory_order_release);
  boost::asio::post(executor_, [self = shared_from_this()] {
    if (self->idle_) self->CloseSocket();
  });
}

void Connection::ForceClose() {
  stopping_.store(true, std::memory_order_release);
  boost::asio::post(executor_, [self = shared_from_this()] {
    self->closed_ = true;
    self->CloseSocket();
    if (self->pending_) self->pending_->Abandon();
  });
}

bool Connection::Attach(boost::asio::ip::tcp::socket& socket) {
  if (closed_) return false;
  socket_ = &socket;
  return true;
}

void Connection::Detach() {
  socket_ = nullptr;
  idle_timer_.cancel();  // releases the timer's hold on this object now, not at its deadline
}

void Connection::SetIdle(bool idle) {
  idle_ = idle;
  idle_deadline_ = std::chrono::steady_clock::time_point::max();
}

void Connection::SetIdleUntil(std::chrono::steady_clock::time_point deadline) {
  idle_ = true;
  idle_deadline_ = deadline;
  if (!idle_timer_armed_ && socket_ != nullptr) ArmIdleTimer();
}

void Connection::ArmIdleTimer() {
  idle_timer_armed_ = true;
  idle_timer_.expires_at(idle_deadline_);
  idle_timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnIdleTimer(ec); });
}

void Connection::OnIdleTimer(const boost::system::error_code& ec) {
  idle_timer_armed_ = false;
  if (ec || socket_ == nullptr) return;  // cancelled by Detach, or the session is over
  if (!idle_ || idle_deadline_ == std::chrono::steady_clock::time_point::max()) return;  // busy
  if (std::chrono::steady_clock::now() >= idle_deadline_) {
    CloseSocket();
  } else {
    ArmIdleTimer();  // the connection was used since this wait was armed
  }
}

void Connection::SetPending(std::shared_ptr<ResponseSlot> slot) {
  // ForceClose may have run between the handler call and this; nobody would wake the wait.
  if (closed_ && slot) slot->Abandon();
  pending_ = std::move(slot);
}

void Connection::CloseSocket() {
  if (socket_ == nullptr) return;
  boost::system::error_code ignored;
  // shutdown first so that a pending TLS or HTTP read on the other end sees a clean FIN.
  socket_->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_->close(ignored);
}

}  // namespace keyledger::http
