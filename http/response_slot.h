#pragma once
// Carries a handler's response from whatever thread produced it back to the waiting session.
//
// The session creates one slot per request, gives the handler a Responder bound to it
// (MakeResponder), and then either finds the response already there (the handler answered
// synchronously: no suspension, no post) or co_awaits AsyncWait, which resumes the session on
// its own executor once a response arrives. The slot completes exactly once: by the first
// response, or by Abandon() when the connection is force-closed; anything later is dropped.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "http/request_handler.h"

namespace keyledger::http {

// Thread-safe.
class ResponseSlot {
 public:
  ResponseSlot() = default;
  ResponseSlot(const ResponseSlot&) = delete;
  ResponseSlot& operator=(const ResponseSlot&) = delete;

  // Completes the slot with `response`. Returns false, dropping the response, when the slot had
  // already completed.
  bool Fulfill(Response&& response);

  // Completes the slot without a response: a waiter resumes with std::nullopt.
  void Abandon();

  // True once Fulfill or Abandon has run.
  [[nodiscard]] bool completed() const;

  // The response, if one arrived and nobody has taken it yet.
  [[nodiscard]] std::optional<Response> TryTake();

  // Completes with void(std::optional<Response>) on the token's associated executor, never inside
  // this call. Holds outstanding work on that executor while waiting, so that io_context::run()
  // does not return under a session whose handler is still busy elsewhere.
  // REQUIRES: at most one wait per slot.
  template <class CompletionToken>
  auto AsyncWait(CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(std::optional<Response>)>(
        [this](auto handler) {
          std::unique_lock lock(mutex_);
          auto waiter = std::make_unique<WaiterFor<decltype(handler)>>(std::move(handler));
          if (!completed_) {
            waiter_ = std::move(waiter);
            return;
          }
          std::optional<Response> ready = std::move(response_);
          response_.reset();
          lock.unlock();
          waiter->Complete(std::move(ready));
        },
        token);
  }

 private:
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void Complete(std::optional<Response> response) = 0;
  };

  template <class Handler>
  struct WaiterFor final : Waiter {
    explicit WaiterFor(Handler h)
        : handler(std::move(h)),
          work(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler))) {}

    void Complete(std::optional<Response> response) override {
      auto executor = boost::asio::get_associated_executor(handler);
      boost::asio::post(executor, [h = std::move(handler), r = std::move(response),
                                   w = std::move(work)]() mutable { std::move(h)(std::move(r)); });
    }

    Handler handler;
    boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work;
  };

  mutable std::mutex mutex_;
  bool completed_ = false;            // guarded by mutex_
  std::optional<Response> response_;  // guarded by mutex_; set while nobody waits
  std::unique_ptr<Waiter> waiter_;    // guarded by mutex_
};

// A Responder for `slot`. If every copy of it is destroyed without being called, the slot is
// completed with a 500 so that the client still gets an answer. A second call is dropped.
[[nodiscard]] Responder MakeResponder(std::shared_ptr<ResponseSlot> slot);

}  // namespace keyledger::http
