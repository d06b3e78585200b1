#include "tests/http/transport/test_support.h"

#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>

namespace keyledger::http::testing {
namespace {

namespace bhttp = boost::beast::http;

Response MakeResponse(std::string body) {
  Response response{bhttp::status::ok, 11};
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

int QueryMillis(std::string_view target) {
  const auto at = target.find("ms=");
  return at == std::string_view::npos ? 0 : std::stoi(std::string(target.substr(at + 3)));
}

}  // namespace

TestHandler::~TestHandler() {
  ReleaseHeld();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
}

void TestHandler::Handle(Request&& request, const RequestContext& context, Responder respond) {
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));
  {
    std::lock_guard lock(mutex_);
    ++handled_;
  }
  if (path == "/throw") throw std::runtime_error("test handler failure");
  if (path == "/drop") return;
  if (path == "/hold") {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(respond));
    held_changed_.notify_all();
    return;
  }
  if (path == "/async") {
    const int millis = QueryMillis(target);
    std::lock_guard lock(mutex_);
    threads_.emplace_back([millis, target, respond = std::move(respond)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(millis));
      respond(MakeResponse("async " + target));
    });
    return;
  }
  Response response =
      MakeResponse(std::string(request.method_string()) + " " + target + "\n" + request.body());
  response.set("X-Remote-Ip", context.remote_ip);
  if (path == "/own-id") response.set("X-Request-Id", "handler-id");
  respond(std::move(response));
}

bool TestHandler::WaitForHeld(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return held_changed_.wait_for(lock, timeout, [&] { return held_.size() >= count; });
}

void TestHandler::ReleaseHeld() {
  std::lock_guard lock(mutex_);
  if (held_.empty()) return;
  threads_.emplace_back([held = std::move(held_)]() mutable {
    for (auto& respond : held) respond(MakeResponse("released"));
  });
  held_.clear();
}

std::size_t TestHandler::handled() const {
  std::lock_guard lock(mutex_);
  return handled_;
}

TestServer::TestServer(RequestHandler& handler, ServerOptions options)
    : work_(boost::asio::make_work_guard(io_)) {
  server_.emplace(io_, options, handler);
  endpoint_ = server_->Listen({boost::asio::ip::make_address("127.0.0.1"), 0});
  server_->Start();
  const unsigned threads = options.io_threads == 0 ? 2 : options.io_threads;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

TestServer::~TestServer() {
  if (!stop_requested_) {
    auto stopped = Stop();
    if (stopped.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      BOOST_ERROR("server did not report on_stopped");
    }
  }
  work_.reset();
  io_.stop();
  for (auto& thread : threads_) thread.join();
  server_.reset();
}

std::future<void> TestServer::Stop() {
  stop_requested_ = true;
  auto future = stopped_.get_future();
  server_->Stop([this] { stopped_.set_value(); });
  return future;
}

std::string RawRequest(std::string_view method, std::string_view target, std::string_view headers,
                       std::string_view body) {
  std::string text;
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  text.append(headers).append("\r\n").append(body);
  return text;
}

std::string PostRequest(std::string_view target, std::string_view body, std::string_view headers) {
  return RawRequest(
      "POST", target,
      std::string(headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n", body);
}

void ConnectOrFail(TestClient& client, const boost::asio::ip::tcp::endpoint& server) {
  const auto ec = client.Connect(server);
  BOOST_REQUIRE_MESSAGE(!ec, "connect failed: " << ec.message());
}

std::string ErrorCode(const Response& response) {
  const std::string& body = response.body();
  const std::string key = "\"code\":\"";
  const auto at = body.find(key);
  if (at == std::string::npos) return {};
  const auto end = body.find('"', at + key.size());
  return body.substr(at + key.size(), end - at - key.size());
}

}  // namespace keyledger::http::testing
