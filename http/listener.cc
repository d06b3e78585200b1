#include "http/listener.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <system_error>

#include "core/log.h"

namespace keyledger::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Long enough for other connections to finish and give descriptors back, short enough that a
// recovered server resumes accepting before clients time out.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

std::string ToString(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  const std::string host = endpoint.address().is_v6() ? "[" + address + "]" : address;
  return host + ":" + std::to_string(endpoint.port());
}

// The peer gave up between SYN and accept; nothing is wrong on our side, try again at once.
bool IsPeerSideFailure(const error_code& ec) {
  return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::try_again || ec == asio::error::would_block;
}

[[noreturn]] void ThrowListenError(const error_code& ec, const char* step,
                                   const tcp::endpoint& endpoint) {
  throw std::system_error(std::error_code(ec), std::string("cannot ") + step +
                                                   " HTTP listener on " + ToString(endpoint));
}

}  // namespace

Listener::Listener(asio::io_context& io_context, const tcp::endpoint& endpoint,
                   unsigned io_threads, AcceptHandler on_accept)
    : io_context_(io_context),
      strand_per_connection_(io_threads != 1),
      strand_(asio::make_strand(io_context)),
      acceptor_(strand_),
      on_accept_(std::move(on_accept)) {
  error_code ec;
  if (acceptor_.open(endpoint.protocol(), ec)) ThrowListenError(ec, "open", endpoint);
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) {
    ThrowListenError(ec, "configure", endpoint);
  }
  if (acceptor_.bind(endpoint, ec)) ThrowListenError(ec, "bind", endpoint);
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
    ThrowListenError(ec, "listen with", endpoint);
  }
  local_endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) ThrowListenError(ec, "inspect", endpoint);
}

void Listener::Start(std::function<void()> on_exit) {
  log::Info("http: listening on " + ToString(local_endpoint_));
  asio::co_spawn(strand_, AcceptLoop(),
                 [self = shared_from_this(), on_exit = std::move(on_exit)](std::exception_ptr e) {
                   // AcceptLoop catches everything itself; this is the last line of defence.
                   if (e) log::Error("http: accept loop ended by an exception");
                   log::Info("http: stopped listening on " + ToString(self->local_endpoint_));
                   if (on_exit) on_exit();
                 });
}

void Listener::Close() {
  asio::post(strand_, [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
  });
}

asio::awaitable<void> Listener::AcceptLoop() {
  asio::steady_timer backoff(strand_);
  while (acceptor_.is_open()) {
    bool back_off = false;
    try {
      // A named executor, not a temporary: GCC 12 mishandles temporaries across a co_await.
      const asio::any_io_executor session_executor =
          strand_per_connection_ ? asio::any_io_executor(asio::make_strand(io_context_))
                                 : asio::any_io_executor(io_context_.get_executor());
      auto [ec, socket] = co_await acceptor_.async_accept(session_executor, kNoThrow);
      if (!ec) {
        on_accept_(std::move(socket));
        continue;
      }
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      accept_failures_.fetch_add(1, std::memory_order_relaxed);
      if (IsPeerSideFailure(ec)) {
        log::Debug("http: accept failed: " + ec.message());
        continue;
      }
      // EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected: retrying at once would spin on
      // the same error (and flood the log), so give the process a moment to recover.
      if (const std::uint64_t count = failure_log_.Tick()) {
        log::Warn("http: accept failed (" + std::to_string(count) +
                  " time(s) since the last report), retrying shortly: " + ec.message());
      }
      back_off = true;
    } catch (const std::exception& e) {
      accept_failures_.fetch_add(1, std::memory_order_relaxed);
      log::Error(std::string("http: accept failed, retrying shortly: ") + e.what());
      back_off = true;
    }
    if (back_off) {
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kNoThrow);
    }
  }
}

}  // namespace keyledger::http
