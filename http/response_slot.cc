#include "http/response_slot.h"

#include "core/log.h"
#include "http/transport_error.h"

namespace keyledger::http {
namespace {

// Shared by all copies of one Responder; its destructor notices a handler that forgot to answer.
class ResponderLink {
 public:
  explicit ResponderLink(std::shared_ptr<ResponseSlot> slot) : slot_(std::move(slot)) {}
  ResponderLink(const ResponderLink&) = delete;
  ResponderLink& operator=(const ResponderLink&) = delete;

  ~ResponderLink() {
    // Checked first so that the common case (already answered) builds no response.
    if (!slot_->completed() && slot_->Fulfill(MakeTransportError(TransportError::kInternal))) {
      log::Error("http: request handler dropped its responder without answering");
    }
  }

  void Respond(Response&& response) {
    if (!slot_->Fulfill(std::move(response))) {
      // Either a second call or an answer for a connection that was already cut at shutdown.
      log::Debug("http: response dropped; the request was already answered or abandoned");
    }
  }

 private:
  const std::shared_ptr<ResponseSlot> slot_;
};

}  // namespace

bool ResponseSlot::Fulfill(Response&& response) {
  std::unique_lock lock(mutex_);
  if (completed_) return false;
  completed_ = true;
  if (!waiter_) {
    response_ = std::move(response);
    return true;
  }
  std::unique_ptr<Waiter> waiter = std::move(waiter_);
  lock.unlock();
  waiter->Complete(std::move(response));
  return true;
}

void ResponseSlot::Abandon() {
  std::unique_lock lock(mutex_);
  if (completed_) return;
  completed_ = true;
  std::unique_ptr<Waiter> waiter = std::move(waiter_);
  lock.unlock();
  if (waiter) waiter->Complete(std::nullopt);
}

bool ResponseSlot::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

std::optional<Response> ResponseSlot::TryTake() {
  std::lock_guard lock(mutex_);
  std::optional<Response> taken = std::move(response_);
  response_.reset();
  return taken;
}

Responder MakeResponder(std::shared_ptr<ResponseSlot> slot) {
  auto link = std::make_shared<ResponderLink>(std::move(slot));
  return [link = std::move(link)](Response&& response) { link->Respond(std::move(response)); };
}

}  // namespace keyledger::http
