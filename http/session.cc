#include "http/session.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>

#include "core/log.h"
#include "http/framing.h"
#include "http/request_id.h"
#include "http/response_slot.h"
#include "http/transport_error.h"

namespace keyledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kServerName = "keyledger";
// First read of an idle connection; Beast grows the buffer itself once a request is under way.
constexpr std::size_t kIdleReadSize = 4096;
// After an error response the client may still be sending the request we refused. Closing with
// unread data makes the kernel send RST, which can destroy our response in the client's buffer
// before it is read, so we read and discard for a while first (like nginx's lingering close).
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerMaxBytes = 256 * 1024;
// Waiting for the peer's close_notify is a courtesy; never wait long for it.
constexpr std::chrono::seconds kTlsShutdownTimeout{1};
constexpr std::size_t kMaxLoggedPathLength = 200;

// What happens to the connection after one exchange.
enum class Next {
  kKeepAlive,        // read the next request
  kClose,            // orderly close
  kCloseAfterError,  // orderly close, draining what the client may still send
  kDrop,             // peer gone, timed out or cut: just release the socket
};

bool IsParseError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

std::string PeerAddress(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

std::string RequestIdOf(const bhttp::request_header<>& header) {
  const auto it = header.find(kRequestIdField);
  if (it != header.end()) {
    const std::string_view id(it->value().data(), it->value().size());
    if (IsAcceptableRequestId(id)) return std::string(id);
  }
  return GenerateRequestId();
}

// Method and path for debug logs; the query string may carry secrets and is left out.
std::string Describe(const bhttp::request_header<>& header) {
  const std::string_view target(header.target().data(), header.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > kMaxLoggedPathLength) path = path.substr(0, kMaxLoggedPathLength);
  const auto method = header.method_string();
  std::string text(method.data(), method.size());
  text.append(" ").append(path);
  return text;
}

bool ExpectsContinue(const bhttp::request_header<>& header) {
  const auto it = header.find(bhttp::field::expect);
  return header.version() >= 11 && it != header.end() &&
         beast::iequals(it->value(), "100-continue");
}

// The transport's finishing touches on any response: request id, server name, framing that
// matches the body, and keep-alive only when both sides want it.
void Finalize(Response& response, unsigned version, bool keep_alive,
              const std::string& request_id) {
  // Read before the version changes: an HTTP/1.1 response built by the handler wants keep-alive
  // unless it says "Connection: close", whatever version the request had.
  const bool handler_keep_alive = response.keep_alive();
  response.version(version);
  // insert, not set: set() first searches the fields for a value to replace. Handlers never set
  // Server; a request id they set is kept.
  if (response.find(kRequestIdField) == response.end()) response.insert(kRequestIdField, request_id);
  response.insert(bhttp::field::server, kServerName);
  const unsigned status = response.result_int();
  if (status / 100 == 1 || status == 204 || status == 304) {
    // These never have a body, and 1xx/204 must not declare one.
    response.body().clear();
    response.erase(bhttp::field::content_length);
    response.erase(bhttp::field::transfer_encoding);
  } else {
    response.prepare_payload();
  }
  // The setter rewrites the Connection field even when the answer is already right.
  const bool keep = keep_alive && handler_keep_alive;
  if (response.keep_alive() != keep) response.keep_alive(keep);
}

// The bytes Beast's serializer writes for a Content-Length (not chunked) response: status line,
// each field as "Name: value\r\n" in order, an empty line, then the body unless header_only.
void SerializeResponse(const Response& response, bool header_only, std::string& out) {
  const unsigned version = response.version();
  const unsigned code = response.result_int();
  const auto reason = response.reason();
  const std::string_view body = header_only ? std::string_view() : std::string_view(response.body());
  out.clear();
  out.reserve(256 + body.size());
  const char line[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.',
                       static_cast<char>('0' + version % 10), ' ',
                       static_cast<char>('0' + code / 100 % 10),
                       static_cast<char>('0' + code / 10 % 10), static_cast<char>('0' + code % 10),
                       ' '};
  out.append(line, sizeof line);
  out.append(reason.data(), reason.size()).append("\r\n");
  for (const auto& field : response.base()) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size()).append(": ");
    out.append(value.data(), value.size()).append("\r\n");
  }
  out.append("\r\n");
  out.append(body);
}

template <class Stream>
class Session {
 public:
  Session(Stream& stream, Connection& connection, const SessionEnv& env, RequestContext context)
      : stream_(stream), connection_(connection), env_(env), context_(std::move(context)) {}

  asio::awaitable<void> Run() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      if (!co_await Handshake()) {
        co_await Close(Next::kDrop);
        co_return;
      }
    }
    Next next = Next::kKeepAlive;
    if (!connection_.admitted()) {
      // Answered before its request is read: the point is to spend as little as possible on it.
      const std::string request_id = GenerateRequestId();
      next = co_await WriteError(TransportError::kNotReady, {}, request_id);
    }
    while (next == Next::kKeepAlive) {
      if (buffer_.size() == 0) next = co_await WaitForRequestBytes();
      if (next == Next::kKeepAlive) next = co_await ServeOneRequest();
    }
    co_await Close(next);
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // The socket's own calls (the plain-TCP fast paths' read_some and write_some) then return
  // would_block instead of blocking the I/O thread. Set once; later calls only check the flag.
  error_code MakeNonBlocking() {
    error_code ec;
    auto& socket = Lowest().socket();
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    return ec;
  }

  asio::awaitable<bool> Handshake() {
    // No request has started yet, so a graceful stop may cut the handshake short.
    if (connection_.stopping()) co_return false;
    connection_.SetIdle(true);
    Lowest().expires_after(env_.options.read_timeout);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    connection_.SetIdle(false);
    if (ec) log::Debug("http: TLS handshake failed: " + ec.message());
    co_return !ec;
  }

  // Idle until the first byte of the next request; this is the only state in which a graceful
  // stop closes the connection right away.
  asio::awaitable<Next> WaitForRequestBytes() {
    if (connection_.stopping()) co_return Next::kClose;
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      co_return co_await WaitForPlainRequestBytes();
    } else {
      connection_.SetIdle(true);
      Lowest().expires_after(env_.options.keep_alive_timeout);
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kIdleReadSize), kNoThrow);
      connection_.SetIdle(false);
      if (ec) co_return Next::kDrop;  // peer closed, keep-alive timeout, or closed by Stop
      buffer_.commit(n);
      co_return Next::kKeepAlive;
    }
  }

  // Plain TCP: a keep-alive client sends its next request only once it has read our response, so
  // the read Asio attempts before it waits fails with EAGAIN nearly every time. Waiting for
  // readability first, then reading what is there, trades that recv (0.61 us on the benchmark
  // machine) for the epoll_ctl with which Asio re-arms the wait (0.39 us), and drops Beast's
  // timed read: the keep-alive deadline is the connection's idle timer, armed once per timeout
  // rather than once per request.
  asio::awaitable<Next> WaitForPlainRequestBytes() {
    auto& socket = Lowest().socket();
    error_code ec = MakeNonBlocking();
    if (ec) co_return Next::kDrop;
    connection_.SetIdleUntil(std::chrono::steady_clock::now() + env_.options.keep_alive_timeout);
    for (;;) {
      auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_read, kNoThrow);
      // Closed by the idle timer or by Stop, or the peer reset the connection.
      if (wait_ec) break;
      const std::size_t n = socket.read_some(buffer_.prepare(kIdleReadSize), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
      if (ec) break;  // end of stream included
      connection_.SetIdle(false);
      buffer_.commit(n);
      co_return Next::kKeepAlive;
    }
    connection_.SetIdle(false);
    co_return Next::kDrop;
  }

  asio::awaitable<Next> ServeOneRequest() {
    const auto started = std::chrono::steady_clock::now();
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        env_.options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(env_.options.body_limit);
    // One deadline for the whole request, so a slow sender cannot stretch it phase by phase.
    const auto deadline = started + env_.options.read_timeout;
    // A keep-alive request usually arrives whole in the bytes already read: parse it from the
    // buffer directly (same parser, same limits and errors) and read asynchronously only when
    // more is needed.
    parser.eager(false);
    SkipEmptyLines();
    if (const error_code ec = ParseBuffered(parser); ec) {
      co_return co_await RejectUnreadable(ec, parser);
    }
    if (!parser.is_header_done()) {
      Lowest().expires_at(deadline);
      auto [header_ec, header_bytes] =
          co_await bhttp::async_read_header(stream_, buffer_, parser, kNoThrow);
      if (header_ec) co_return co_await RejectUnreadable(header_ec, parser);
    }

    // Before the body is parsed: the body's extent is exactly what is in question.
    const FramingProblem problem = CheckFraming(parser.get());
    if (problem != FramingProblem::kNone) {
      const std::string request_id = RequestIdOf(parser.get());
      co_return co_await WriteError(TransportError::kInvalidRequest,
                                    DescribeFramingProblem(problem), request_id);
    }
    if (!parser.is_done()) {
      if (ExpectsContinue(parser.get())) {
        if (!co_await WriteContinue()) co_return Next::kDrop;
      }
      parser.eager(true);
      if (const error_code ec = ParseBuffered(parser); ec) {
        co_return co_await RejectUnreadable(ec, parser);
      }
      if (!parser.is_done()) {
        Lowest().expires_at(deadline);
        auto [body_ec, body_bytes] = co_await bhttp::async_read(stream_, buffer_, parser, kNoThrow);
        if (body_ec) co_return co_await RejectUnreadable(body_ec, parser);
      }
    }
    Request request = parser.release();
    co_return co_await Dispatch(request, started);
  }

  // RFC 9112 section 2.2: a server SHOULD ignore empty lines before a request-line (some clients
  // send a CRLF after a POST's body). Those already read are dropped; one split across reads, or
  // arriving after the first byte of the request was awaited, still reads as malformed.
  void SkipEmptyLines() {
    std::size_t empty = 0;
    const auto* bytes = static_cast<const char*>(buffer_.data().data());
    while (empty + 2 <= buffer_.size() && bytes[empty] == '\r' && bytes[empty + 1] == '\n') empty += 2;
    buffer_.consume(empty);
  }

  // Feeds the parser what buffer_ holds, consuming what it took. need_more is not an error: the
  // caller then reads asynchronously (the parser keeps its state).
  error_code ParseBuffered(bhttp::request_parser<bhttp::string_body>& parser) {
    error_code ec;
    while (buffer_.size() > 0 && !parser.is_done()) {
      const bool header_was_done = parser.is_header_done();
      const std::size_t used = parser.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) return {};
      if (ec) return ec;
      // Header phase (not eager): stop once the header is complete, for the framing checks.
      if (!header_was_done && parser.is_header_done()) return {};
      if (used == 0) return {};
    }
    return ec;
  }

  // Maps a failed read to a response, or to silence when there is nobody left to answer.
  asio::awaitable<Next> RejectUnreadable(const error_code& ec,
                                         bhttp::request_parser<bhttp::string_body>& parser) {
    // Every argument below is a named local: GCC 12 mishandles temporaries that live across a
    // co_await (double destruction), so none is created inside a co_await expression.
    if (ec == bhttp::error::body_limit) {
      const std::string message =
          "Request body exceeds " + std::to_string(env_.options.body_limit) + " bytes.";
      // A Content-Length over the limit stops the parser inside the header, before it is "done";
      // the fields read until then are still there, X-Request-Id among them when it came first.
      const std::string request_id = RequestIdOf(parser.get());
      co_return co_await WriteError(TransportError::kBodyTooLarge, message, request_id);
    }
    if (ec == bhttp::error::header_limit) {
      const std::string message =
          "Request headers exceed " + std::to_string(env_.options.header_limit) + " bytes.";
      const std::string request_id = GenerateRequestId();
      co_return co_await WriteError(TransportError::kHeadersTooLarge, message, request_id);
    }
    if (IsParseError(ec) && ec != bhttp::error::partial_message &&
        ec != bhttp::error::end_of_stream) {
      const std::string request_id = GenerateRequestId();
      co_return co_await WriteError(TransportError::kInvalidRequest, {}, request_id);
    }
    co_return Next::kDrop;
  }

  // `request` is handed on to the handler (moved from).
  asio::awaitable<Next> Dispatch(Request& request, std::chrono::steady_clock::time_point started) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == bhttp::verb::head;
    const std::string request_id = RequestIdOf(request);
    const std::string description = log::Enabled(log::Level::kDebug) ? Describe(request) : "";

    auto slot = std::make_shared<ResponseSlot>();
    // Kept until after the call so that a handler that throws is reported as throwing, not as
    // having dropped its responder.
    Responder responder = MakeResponder(slot);
    try {
      env_.handler.Handle(std::move(request), context_, responder);
    } catch (const std::exception& e) {
      // Never the request: its headers may hold credentials.
      log::Error(std::string("http: request handler threw: ") + e.what());
      slot->Fulfill(MakeTransportError(TransportError::kInternal));
    } catch (...) {
      log::Error("http: request handler threw a non-standard exception");
      slot->Fulfill(MakeTransportError(TransportError::kInternal));
    }
    responder = nullptr;

    std::optional<Response> response = slot->TryTake();
    if (!response) {
      connection_.SetPending(slot);
      response = co_await slot->AsyncWait(asio::use_awaitable);
      connection_.SetPending(nullptr);
      if (!response) co_return Next::kDrop;  // force-closed at the end of the shutdown grace
    }
    Finalize(*response, version, keep_alive && !connection_.stopping(), request_id);
    const bool written = co_await Write(*response, head);
    if (written && env_.options.request_durations) {
      env_.options.request_durations->Record(std::chrono::steady_clock::now() - started);
    }
    if (log::Enabled(log::Level::kDebug)) {
      const std::chrono::duration<double, std::milli> took =
          std::chrono::steady_clock::now() - started;
      log::Debug("http: " + description + " " + std::to_string(response->result_int()) + " " +
                 std::to_string(took.count()) + " ms" + (written ? "" : " (write failed)"));
    }
    if (!written) co_return Next::kDrop;
    co_return response->keep_alive() ? Next::kKeepAlive : Next::kClose;
  }

  asio::awaitable<Next> WriteError(TransportError error, std::string_view message,
                                   const std::string& request_id) {
    Response response = MakeTransportError(error, message);
    response.set(kRequestIdField, request_id);
    response.set(bhttp::field::server, kServerName);
    response.keep_alive(false);
    log::Debug("http: rejected a request with " + std::to_string(response.result_int()));
    if (!co_await Write(response, false)) co_return Next::kDrop;
    co_return Next::kCloseAfterError;
  }

  asio::awaitable<bool> WriteContinue() {
    bhttp::response<bhttp::empty_body> interim{bhttp::status::continue_, 11};
    Lowest().expires_after(env_.options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, interim, kNoThrow);
    co_return !ec;
  }

  asio::awaitable<bool> Write(Response& response, bool header_only) {
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      if (!response.chunked()) {
        // One buffer and, when the socket can take it all (small responses almost always), one
        // non-blocking send with no asynchronous operation, timer or completion behind it.
        SerializeResponse(response, header_only, write_buffer_);
        auto& socket = Lowest().socket();
        error_code ec = MakeNonBlocking();
        std::size_t sent = 0;
        if (!ec) sent = socket.write_some(asio::buffer(write_buffer_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        if (ec) co_return false;
        if (sent == write_buffer_.size()) co_return true;
        Lowest().expires_after(env_.options.write_timeout);
        const auto rest = asio::buffer(write_buffer_) + sent;
        auto [write_ec, n] = co_await asio::async_write(stream_, rest, kNoThrow);
        co_return !write_ec;
      }
    }
    Lowest().expires_after(env_.options.write_timeout);
    if (header_only) {
      bhttp::response_serializer<bhttp::string_body> serializer(response);
      auto [ec, n] = co_await bhttp::async_write_header(stream_, serializer, kNoThrow);
      co_return !ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream_, response, kNoThrow);
    co_return !ec;
  }

  asio::awaitable<void> Close(Next how) {
    if (!Lowest().socket().is_open()) co_return;
    error_code ignored;
    if (how != Next::kDrop) {
      // From here on nothing is lost by closing at once, so a graceful stop need not wait.
      connection_.SetIdle(true);
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        Lowest().expires_after(kTlsShutdownTimeout);
        co_await stream_.async_shutdown(kNoThrow);
      } else {
        Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
        if (how == Next::kCloseAfterError || buffer_.size() > 0) co_await Linger();
      }
    }
    Lowest().close();
  }

  asio::awaitable<void> Linger() {
    Lowest().expires_after(kLingerTimeout);
    std::array<char, 4096> scratch;
    std::size_t drained = 0;
    while (drained < kLingerMaxBytes) {
      auto [ec, n] = co_await Lowest().async_read_some(asio::buffer(scratch), kNoThrow);
      if (ec) break;
      drained += n;
    }
  }

  Stream& stream_;
  Connection& connection_;
  const SessionEnv& env_;
  const RequestContext context_;
  beast::flat_buffer buffer_;
  std::string write_buffer_;  // plain TCP: the serialized response, reused across requests
};

// Releases the connection's registration however the session ends, exception included.
class SessionScope {
 public:
  SessionScope(ConnectionRegistry& registry, Connection& connection)
      : registry_(registry), connection_(connection) {}
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;
  ~SessionScope() {
    connection_.Detach();
    registry_.Remove(connection_);
  }

 private:
  ConnectionRegistry& registry_;
  Connection& connection_;
};

template <class Stream>
asio::awaitable<void> ServeConnection(Stream stream, std::shared_ptr<Connection> connection,
                                      std::shared_ptr<const SessionEnv> env,
                                      RequestContext context) {
  SessionScope scope(*env->registry, *connection);
  if (!connection->Attach(beast::get_lowest_layer(stream).socket())) co_return;
  Session<Stream> session(stream, *connection, *env, std::move(context));
  co_await session.Run();
}

void LogEscapedException(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log::Error(std::string("http: connection ended by an exception: ") + e.what());
  } catch (...) {
    log::Error("http: connection ended by a non-standard exception");
  }
}

}  // namespace

void SpawnSession(tcp::socket socket, std::shared_ptr<Connection> connection,
                  std::shared_ptr<const SessionEnv> env) {
  error_code ignored;
  // Responses are small and latency matters more than packet count.
  socket.set_option(tcp::no_delay(true), ignored);
  RequestContext context{PeerAddress(socket)};
  const asio::any_io_executor executor = connection->executor();
  if (env->tls) {
    TlsStream stream(std::move(socket), *env->tls);
    asio::co_spawn(executor,
                   ServeConnection(std::move(stream), std::move(connection), std::move(env),
                                   std::move(context)),
                   LogEscapedException);
  } else {
    asio::co_spawn(executor,
                   ServeConnection(PlainStream(std::move(socket)), std::move(connection),
                                   std::move(env), std::move(context)),
                   LogEscapedException);
  }
}

}  // namespace keyledger::http
