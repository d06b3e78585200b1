#include "http/server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <string>
#include <utility>

#include "core/log.h"
#include "http/connection_registry.h"
#include "http/listener.h"
#include "http/log_throttle.h"
#include "http/session.h"
#include "http/tls_context.h"

namespace keyledger::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Connections beyond max_connections answered 503 at once; more are closed without an answer.
constexpr std::size_t kMaxRefusedAtOnce = 64;

// Everything that must outlive HttpServer's own calls: sessions and accept loops hold it, so a
// late completion never touches a destroyed server.
class HttpServer::State : public std::enable_shared_from_this<HttpServer::State> {
 public:
  State(asio::io_context& io_context, std::shared_ptr<const SessionEnv> env)
      : io_context_(io_context),
        env_(std::move(env)),
        timer_strand_(asio::make_strand(io_context)),
        grace_timer_(timer_strand_) {}

  const std::shared_ptr<const SessionEnv>& env() const { return env_; }
  ConnectionRegistry& registry() const { return *env_->registry; }

  void OnAccept(tcp::socket socket) {
    std::shared_ptr<Connection> connection = registry().Add(socket.get_executor());
    if (!connection->admitted() &&
        registry().size() > env_->options.max_connections + kMaxRefusedAtOnce) {
      // Each 503 keeps its socket while the answer lingers (up to 2 s): a flood of them would
      // otherwise hold descriptors without bound, those the store needs included.
      registry().Remove(*connection);
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    if (!connection->admitted()) {
      if (const std::uint64_t count = limit_log_.Tick()) {
        log::Warn("http: connection limit of " + std::to_string(env_->options.max_connections) +
                  " reached; answered 503 to " + std::to_string(count) +
                  " connection(s) since the last report");
      }
    }
    try {
      SpawnSession(std::move(socket), connection, env_);
    } catch (...) {
      // No session will ever unregister it, and a drain would wait for it forever.
      registry().Remove(*connection);
      throw;
    }
  }

  void ListenerStarted() {
    std::lock_guard lock(mutex_);
    ++running_listeners_;
  }

  void ListenerStopped() {
    {
      std::lock_guard lock(mutex_);
      --running_listeners_;
    }
    MaybeFinish();
  }

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Returns true if this call began the shutdown.
  bool AddStopCallback(std::function<void()> on_stopped) {
    std::lock_guard lock(mutex_);
    if (finished_) {
      if (on_stopped) asio::post(io_context_, std::move(on_stopped));
      return false;
    }
    if (on_stopped) callbacks_.push_back(std::move(on_stopped));
    const bool first = !stopping_;
    stopping_ = true;
    return first;
  }

  void BeginDrain() {
    asio::post(timer_strand_, [self = shared_from_this()] {
      self->grace_timer_.expires_after(self->env_->options.shutdown_grace);
      self->grace_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: everything finished in time
        log::Warn("http: shutdown grace elapsed; closing " +
                  std::to_string(self->registry().size()) + " remaining connection(s)");
        self->registry().ForceCloseAll();
      });
    });
    registry().Drain([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->MaybeFinish();
    });
  }

 private:
  void MaybeFinish() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      // The registry is checked under our lock so that a connection accepted by a listener that
      // has not exited yet keeps us from finishing.
      if (!stopping_ || finished_ || running_listeners_ > 0 || registry().size() > 0) return;
      finished_ = true;
      callbacks.swap(callbacks_);
    }
    log::Info("http: server stopped");
    asio::post(timer_strand_, [self = shared_from_this()] { self->grace_timer_.cancel(); });
    // Posted, not called: the caller is typically a session finishing on this thread, and
    // on_stopped may destroy the server.
    for (auto& callback : callbacks) asio::post(io_context_, std::move(callback));
  }

  asio::io_context& io_context_;
  const std::shared_ptr<const SessionEnv> env_;
  asio::strand<asio::io_context::executor_type> timer_strand_;
  asio::steady_timer grace_timer_;  // only touched on timer_strand_

  LogThrottle limit_log_{std::chrono::seconds(1)};

  mutable std::mutex mutex_;
  int running_listeners_ = 0;                     // guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  bool finished_ = false;                         // guarded by mutex_
  std::vector<std::function<void()>> callbacks_;  // guarded by mutex_
};

namespace {

std::shared_ptr<const SessionEnv> MakeEnv(const ServerOptions& options, RequestHandler& handler) {
  auto env = std::make_shared<SessionEnv>(SessionEnv{
      options, handler, std::make_shared<ConnectionRegistry>(options.max_connections), nullptr});
  if (options.tls_enabled()) {
    env->tls = MakeServerTlsContext(options.tls_cert_file, options.tls_key_file);
  } else if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    log::Warn("http: TLS needs both a certificate and a key file; serving plain HTTP");
  }
  return env;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io_context, const ServerOptions& options,
                       RequestHandler& handler)
    : io_context_(io_context),
      state_(std::make_shared<State>(io_context, MakeEnv(options, handler))) {}

HttpServer::~HttpServer() {
  // Only reachable with live sessions if the REQUIRES was ignored; cut them rather than leave
  // them pointing at a handler that may be gone.
  for (const auto& listener : listeners_) listener->Close();
  state_->registry().ForceCloseAll();
}

tcp::endpoint HttpServer::Listen(const tcp::endpoint& endpoint) {
  auto listener = std::make_shared<Listener>(
      io_context_, endpoint, state_->env()->options.io_threads,
      [state = std::weak_ptr<State>(state_)](tcp::socket socket) {
        if (auto locked = state.lock()) locked->OnAccept(std::move(socket));
      });
  listeners_.push_back(listener);
  return listener->local_endpoint();
}

void HttpServer::Start() {
  if (started_ || state_->stopping()) return;
  started_ = true;
  if (listeners_.empty()) log::Warn("http: Start() without any Listen(); nothing to serve");
  for (const auto& listener : listeners_) {
    state_->ListenerStarted();
    listener->Start([state = state_] { state->ListenerStopped(); });
  }
}

void HttpServer::Stop(std::function<void()> on_stopped) {
  if (!state_->AddStopCallback(std::move(on_stopped))) return;
  log::Info("http: stopping; in-flight requests may take up to " +
            std::to_string(state_->env()->options.shutdown_grace.count()) + " ms");
  for (const auto& listener : listeners_) listener->Close();
  state_->BeginDrain();
}

std::size_t HttpServer::connection_count() const { return state_->registry().size(); }

std::uint64_t HttpServer::accept_failures() const {
  std::uint64_t total = 0;
  for (const auto& listener : listeners_) total += listener->accept_failures();
  return total;
}

}  // namespace keyledger::http
