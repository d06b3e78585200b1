#pragma once
// Helpers for the transport tests: a server on 127.0.0.1:0 run by two threads, a handler with a
// few behaviours picked by path, and a client that writes raw bytes and reads with deadlines (so
// a test fails instead of hanging when the server misbehaves).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/request_handler.h"
#include "http/server.h"
#include "http/server_options.h"

namespace keyledger::http::testing {

inline constexpr std::chrono::milliseconds kIoTimeout{5000};

// Behaviour by path:
//   /throw        throws std::runtime_error
//   /async?ms=N   answers from another std::thread after N ms
//   /hold         parks the responder until ReleaseHeld()
//   /drop         returns without answering and without keeping the responder
//   /own-id       sets its own X-Request-Id ("handler-id")
//   anything else answers at once: 200, body "<METHOD> <target>\n<request body>",
//                 X-Remote-Ip set from the RequestContext
class TestHandler : public RequestHandler {
 public:
  TestHandler() = default;
  ~TestHandler() override;  // answers anything still held, joins its threads

  void Handle(Request&& request, const RequestContext& context, Responder respond) override;

  // Waits until `count` requests are parked in /hold; false after `timeout`.
  bool WaitForHeld(std::size_t count, std::chrono::milliseconds timeout = kIoTimeout);
  // Answers every parked request with 200 "released", from another thread.
  void ReleaseHeld();
  [[nodiscard]] std::size_t handled() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable held_changed_;
  std::vector<Responder> held_;
  std::vector<std::thread> threads_;
  std::size_t handled_ = 0;
};

// The I/O thread counts that the tests sensitive to threading run with: one (connections then go
// without strands) and two.
inline std::vector<unsigned> IoThreadCounts() { return {1, 2}; }

// HttpServer on 127.0.0.1:<free port>, run by options.io_threads threads (two when it is 0).
class TestServer {
 public:
  explicit TestServer(RequestHandler& handler, ServerOptions options = {});
  ~TestServer();  // stops (if not yet) and joins
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  [[nodiscard]] const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  [[nodiscard]] HttpServer& server() { return *server_; }

  // Calls HttpServer::Stop; the future becomes ready when on_stopped has run.
  std::future<void> Stop();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::optional<HttpServer> server_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::vector<std::thread> threads_;
  std::promise<void> stopped_;
  bool stop_requested_ = false;
};

// A client over Stream (beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>) with its own
// io_context; every operation is bounded by a deadline.
template <class Stream>
class BasicTestClient {
 public:
  template <class... Args>
  explicit BasicTestClient(Args&&... args) : stream_(io_, std::forward<Args>(args)...) {}

  Stream& stream() { return stream_; }
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  boost::asio::io_context& io() { return io_; }

  boost::system::error_code Connect(const boost::asio::ip::tcp::endpoint& server) {
    return Run([&](auto done) { tcp().async_connect(server, [done](auto ec) { done(ec, 0); }); });
  }

  boost::system::error_code Send(std::string_view bytes) {
    return Run([&](auto done) {
      boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), done);
    });
  }

  // One response. `to_head` says the request was HEAD, so the response has no body to read.
  boost::system::error_code Read(Response& response, bool to_head = false,
                                 std::chrono::milliseconds timeout = kIoTimeout) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(to_head);
    const auto ec =
        Run([&](auto done) { boost::beast::http::async_read(stream_, buffer_, parser, done); },
            timeout);
    if (!ec) response = parser.release();
    return ec;
  }

  // Reads until the server closes. Returns the error that ended reading: eof when the server
  // closed, beast::error::timeout when it was still open after `timeout`. Bytes that arrived
  // meanwhile are counted in unexpected_bytes().
  boost::system::error_code WaitForClose(std::chrono::milliseconds timeout = kIoTimeout) {
    tcp().expires_after(timeout);
    for (;;) {
      const auto ec = Run([&](auto done) { stream_.async_read_some(buffer_.prepare(4096), done); },
                          std::nullopt);
      if (ec) return ec;
      buffer_.commit(last_transferred_);
    }
  }

  [[nodiscard]] std::size_t unexpected_bytes() const { return buffer_.size(); }

 private:
  // Starts one operation and runs the client's io_context until it completes; the stream's
  // deadline (set here unless `timeout` is nullopt) bounds it.
  template <class Initiate>
  boost::system::error_code Run(Initiate initiate,
                                std::optional<std::chrono::milliseconds> timeout = kIoTimeout) {
    if (timeout) tcp().expires_after(*timeout);
    boost::system::error_code result = boost::asio::error::would_block;
    initiate([this, &result](boost::system::error_code ec, std::size_t n) {
      result = ec;
      last_transferred_ = n;
    });
    io_.restart();
    io_.run();
    return result;
  }

  boost::asio::io_context io_;
  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::size_t last_transferred_ = 0;
};

using TestClient = BasicTestClient<boost::beast::tcp_stream>;

// "<method> <target> HTTP/1.1\r\nHost: test\r\n<headers>\r\n<body>". `headers` is inserted
// verbatim (each line ending in \r\n); nothing else is added, so framing is the caller's choice.
std::string RawRequest(std::string_view method, std::string_view target,
                       std::string_view headers = {}, std::string_view body = {});

// A POST with a correct Content-Length.
std::string PostRequest(std::string_view target, std::string_view body,
                        std::string_view headers = {});

// Connects a TestClient or fails the test.
void ConnectOrFail(TestClient& client, const boost::asio::ip::tcp::endpoint& server);

// Reads the transport's JSON error body field "code" (or "" when absent).
std::string ErrorCode(const Response& response);

}  // namespace keyledger::http::testing
