#include "tests/support/http_client.h"

#include <strings.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace keyledger::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
}  // namespace

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::optional<std::string> HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

HttpClient::HttpClient(unsigned short port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (stream_) {
    boost::system::error_code ignored;
    stream_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_->socket().close(ignored);
    stream_.reset();
  }
  buffer_.clear();
}

void HttpClient::EnsureConnected() {
  if (stream_ && stream_->socket().is_open()) return;
  Close();
  stream_.emplace(io_);
  stream_->expires_after(timeout_);
  stream_->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  ++connections_opened_;
}

HttpResponse HttpClient::Request(bhttp::verb method, const std::string& target, const Headers& headers,
                                 const std::string& body) {
  EnsureConnected();
  bhttp::request<bhttp::string_body> request{method, target, 11};
  request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  request.set(bhttp::field::user_agent, "keyledger-process-test");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    request.insert(name, value);
    has_content_type = has_content_type || ::strcasecmp(name.c_str(), "Content-Type") == 0;
  }
  if (!body.empty() && !has_content_type) request.set(bhttp::field::content_type, "application/json");
  request.body() = body;
  request.keep_alive(true);
  request.prepare_payload();

  bhttp::response<bhttp::string_body> response;
  try {
    stream_->expires_after(timeout_);
    bhttp::write(*stream_, request);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(method == bhttp::verb::head);
    stream_->expires_after(timeout_);
    bhttp::read(*stream_, buffer_, parser);
    response = parser.release();
  } catch (...) {
    Close();
    throw;
  }

  HttpResponse out;
  out.status = response.result_int();
  for (const auto& field : response) {
    out.headers.emplace(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(response.body());
  out.keep_alive = response.keep_alive();
  if (!out.keep_alive) Close();
  return out;
}

namespace {
Headers WithBearer(Headers headers, const std::string& bearer) {
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  return headers;
}
}  // namespace

HttpResponse HttpClient::Get(const std::string& target, const std::string& bearer, Headers headers) {
  return Request(bhttp::verb::get, target, WithBearer(std::move(headers), bearer));
}

HttpResponse HttpClient::Post(const std::string& target, const std::string& body, const std::string& bearer,
                              Headers headers) {
  return Request(bhttp::verb::post, target, WithBearer(std::move(headers), bearer), body);
}

HttpResponse HttpClient::Patch(const std::string& target, const std::string& body, const std::string& bearer,
                               Headers headers) {
  return Request(bhttp::verb::patch, target, WithBearer(std::move(headers), bearer), body);
}

}  // namespace keyledger::testing
