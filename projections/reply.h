#pragma once
// How a ledger command answers its caller: either a plain callback, called once with the final
// result, or a preparing one, which lets the ledger build the answer before the command's events
// are durable and deliver it the moment they are.
//
// A preparing callback is called with the result and returns the function that delivers the
// answer it has built. The ledger may call it while the events are written but not yet fsynced,
// so it must only prepare (build a response, send nothing); the function it returns runs once
// they are durable. Should the command still fail (the fsync fails), it is called again with the
// failure and that second function runs instead: only one answer is ever delivered.

#include <functional>
#include <type_traits>
#include <utility>

#include "core/status.h"

namespace keyledger {

template <typename T>
class Reply {
 public:
  using Deliver = std::function<void()>;

  template <typename F>
    requires std::is_void_v<std::invoke_result_t<F&, Result<T>>>
  Reply(F callback) : callback_(std::move(callback)) {}  // NOLINT: implicit, as a callback

  template <typename F>
    requires std::is_convertible_v<std::invoke_result_t<F&, Result<T>>, Deliver>
  Reply(F prepare) : prepare_(std::move(prepare)) {}  // NOLINT

  bool prepares() const { return static_cast<bool>(prepare_); }

  // REQUIRES: prepares(). Builds the answer to `result`; returns what delivers it.
  Deliver Prepare(Result<T> result) const { return prepare_(std::move(result)); }

  // Answers with `result` now.
  void operator()(Result<T> result) const {
    if (prepare_) {
      if (Deliver deliver = prepare_(std::move(result))) deliver();
    } else {
      callback_(std::move(result));
    }
  }

 private:
  std::function<void(Result<T>)> callback_;
  std::function<Deliver(Result<T>)> prepare_;
};

}  // namespace keyledger
