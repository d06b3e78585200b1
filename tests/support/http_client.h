#pragma once
// A small synchronous HTTP/1.1 client (Boost.Beast) for process-level tests.
//
// One HttpClient holds at most one keep-alive connection to 127.0.0.1:port and reconnects when
// the server closed it (Connection: close, or the socket is gone). Every read and write has a
// deadline, so a test never hangs on a silent server. Transport failures throw
// boost::system::system_error; HTTP error statuses are ordinary responses.
//
// Not thread-safe: use one client per thread.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keyledger::testing {

// Header names compare case-insensitively.
struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

struct HttpResponse {
  unsigned status = 0;
  Headers headers;
  std::string body;
  bool keep_alive = false;

  // The first value of `name`, or nullopt.
  std::optional<std::string> Header(const std::string& name) const;
  bool HasHeader(const std::string& name) const { return headers.count(name) > 0; }
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its response. When `body` is not empty and `headers` has no
  // Content-Type, `application/json` is sent. `bearer`, when not empty, becomes
  // `Authorization: Bearer <bearer>`.
  HttpResponse Request(boost::beast::http::verb method, const std::string& target,
                       const Headers& headers = {}, const std::string& body = {});

  // Shorthands with a bearer token.
  HttpResponse Get(const std::string& target, const std::string& bearer = {}, Headers headers = {});
  HttpResponse Post(const std::string& target, const std::string& body, const std::string& bearer = {},
                    Headers headers = {});
  HttpResponse Patch(const std::string& target, const std::string& body, const std::string& bearer = {},
                     Headers headers = {});

  // Closes the connection; the next request opens a new one.
  void Close();
  // How many TCP connections this client has opened.
  int connections_opened() const { return connections_opened_; }

  unsigned short port() const { return port_; }

 private:
  void EnsureConnected();

  unsigned short port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  int connections_opened_ = 0;
};

}  // namespace keyledger::testing
