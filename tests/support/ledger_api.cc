#include "tests/support/ledger_api.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <random>

#include "core/time_format.h"
#include "core/token.h"

namespace keyledger::testing {

json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "not JSON (" << ec.message() << "): " << text);
  return v;
}

json::object ParseObject(const std::string& text) {
  json::value v = ParseJson(text);
  BOOST_REQUIRE_MESSAGE(v.is_object(), "not a JSON object: " << text);
  return std::move(v.as_object());
}

std::string RandomToken(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> digit(0, 61);
  std::string random_part;
  for (size_t i = 0; i < kTokenRandomChars; ++i) random_part.push_back(kBase62Digits[digit(rng)]);
  return ComposeToken(prefix, random_part);
}

std::string Rfc3339FromNow(int64_t offset_ms) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return FormatRfc3339(now + offset_ms);
}

std::vector<std::string> RawArrayElements(std::string_view text, std::string_view key) {
  std::vector<std::string> out;
  const std::string opener = "\"" + std::string(key) + "\":[";
  size_t i = text.find(opener);
  BOOST_REQUIRE_MESSAGE(i != std::string_view::npos, "no " << opener << " in " << text);
  i += opener.size();
  int depth = 0;
  bool in_string = false;
  size_t start = i;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (depth == 0) start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;  // the array's own ']'
      if (--depth == 0) out.emplace_back(text.substr(start, i + 1 - start));
    }
  }
  return out;
}

void ExpectError(const HttpResponse& r, unsigned status, std::string_view code,
                 std::optional<std::string_view> field) {
  BOOST_TEST(r.status == status, "status " << r.status << " != " << status << "; body: " << r.body);
  BOOST_TEST(r.Header("Content-Type").value_or("<none>") == kJsonContentType);
  BOOST_TEST(r.HasHeader("X-Request-Id"));
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  BOOST_TEST_REQUIRE((!ec && v.is_object()), "error body is not a JSON object: " << r.body);
  const json::object& o = v.as_object();
  BOOST_TEST((o.contains("error") && o.at("error").is_string() && !o.at("error").as_string().empty()),
             "no \"error\" sentence in " << r.body);
  BOOST_TEST((o.contains("code") && o.at("code").is_string() && o.at("code").as_string() == code),
             "code is not " << code << " in " << r.body);
  if (field) {
    BOOST_TEST((o.contains("field") && o.at("field").is_string() && o.at("field").as_string() == *field),
               "field is not " << *field << " in " << r.body);
  }
}

void ExpectJsonBody(const HttpResponse& r, unsigned status, std::string_view expected) {
  BOOST_TEST(r.status == status, "status " << r.status << " != " << status << "; body: " << r.body);
  BOOST_TEST(r.Header("Content-Type").value_or("<none>") == kJsonContentType);
  boost::system::error_code ec;
  json::value actual = json::parse(r.body, ec);
  BOOST_TEST_REQUIRE(!ec, "body is not JSON: " << r.body);
  BOOST_TEST((actual == json::parse(expected)), "body " << r.body << " is not exactly " << expected);
}

std::string KeysPath(const std::string& ws) { return "/admin/v1/workspaces/" + ws + "/keys"; }
std::string KeyPath(const std::string& ws, const std::string& id) { return KeysPath(ws) + "/" + id; }

LedgerApi::LedgerApi(std::vector<std::string> extra_args, std::optional<unsigned long> file_limit)
    : operator_token_(RandomToken("klo")) {
  ServerConfig config;
  config.bootstrap_token = operator_token_;
  config.extra_args = std::move(extra_args);
  config.file_limit = file_limit;
  server_ = std::make_unique<ServerProcess>(std::move(config));
  server_->Start();
  client_ = NewClient();
}

void LedgerApi::Restart() {
  client_.reset();
  BOOST_TEST_REQUIRE(server_->Stop() == 0, "SIGTERM did not give exit status 0; stderr:\n"
                                               << server_->CurrentStderr());
  server_->Start();
  client_ = NewClient();
}

std::unique_ptr<HttpClient> LedgerApi::NewClient() const {
  return std::make_unique<HttpClient>(server_->port());
}

json::object LedgerApi::CreateWorkspace(const std::string& id, const std::string& plan) {
  json::object body{{"id", id}, {"name", id + " Inc"}, {"plan", plan}};
  HttpResponse r = client_->Post("/admin/v1/workspaces", json::serialize(body), operator_token_);
  BOOST_TEST_REQUIRE(r.status == 201u, "create workspace " << id << ": " << r.status << " " << r.body);
  return ParseObject(r.body);
}

json::object LedgerApi::SetPlan(const std::string& ws, const std::string& plan) {
  json::object body{{"plan", plan}};
  HttpResponse r = client_->Patch("/admin/v1/workspaces/" + ws, json::serialize(body), operator_token_);
  BOOST_TEST_REQUIRE(r.status == 200u, "set plan of " << ws << ": " << r.status << " " << r.body);
  return ParseObject(r.body);
}

IssuedKey LedgerApi::CreateAdminKey(const std::string& ws, const std::string& role, const std::string& name) {
  json::object body{{"name", name}, {"role", role}};
  HttpResponse r =
      client_->Post("/admin/v1/workspaces/" + ws + "/admin-keys", json::serialize(body), operator_token_);
  BOOST_TEST_REQUIRE(r.status == 201u, "create admin key in " << ws << ": " << r.status << " " << r.body);
  json::object o = ParseObject(r.body);
  IssuedKey k;
  k.key = o.at("key").as_object();
  k.id = json::value_to<std::string>(k.key.at("id"));
  k.token = json::value_to<std::string>(o.at("token"));
  return k;
}

IssuedKey LedgerApi::CreateApiKey(const std::string& ws, const std::string& admin_token,
                                  const std::string& body) {
  HttpResponse r = client_->Post(KeysPath(ws), body, admin_token);
  BOOST_TEST_REQUIRE(r.status == 201u, "create API key in " << ws << ": " << r.status << " " << r.body);
  json::object o = ParseObject(r.body);
  IssuedKey k;
  k.key = o.at("key").as_object();
  k.id = json::value_to<std::string>(k.key.at("id"));
  k.token = json::value_to<std::string>(o.at("token"));
  return k;
}

json::object LedgerApi::Verify(const std::string& token, const std::string& ability) {
  json::object body{{"token", token}};
  if (!ability.empty()) body["ability"] = ability;
  HttpResponse r = client_->Post("/v1/keys/verify", json::serialize(body));
  BOOST_TEST_REQUIRE(r.status == 200u, "verify: " << r.status << " " << r.body);
  return ParseObject(r.body);
}

json::object LedgerApi::GetKey(const std::string& ws, const std::string& admin_token, const std::string& id) {
  HttpResponse r = client_->Get(KeyPath(ws, id), admin_token);
  BOOST_TEST_REQUIRE(r.status == 200u, "get key " << id << ": " << r.status << " " << r.body);
  return ParseObject(r.body);
}

std::vector<std::string> LedgerApi::AllEventsRaw(size_t page) {
  std::vector<std::string> events;
  uint64_t after = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    HttpResponse r =
        client_->Get("/admin/v1/events?after=" + std::to_string(after) + "&limit=" + std::to_string(page),
                     operator_token_);
    BOOST_TEST_REQUIRE(r.status == 200u, "events after " << after << ": " << r.status << " " << r.body);
    std::vector<std::string> batch = RawArrayElements(r.body, "events");
    if (batch.empty()) break;
    json::object o = ParseObject(r.body);
    BOOST_TEST_REQUIRE(o.at("next_after").is_int64(), "next_after is not a number: " << r.body);
    const auto next = static_cast<uint64_t>(o.at("next_after").as_int64());
    BOOST_TEST_REQUIRE(next > after, "next_after did not advance past " << after);
    after = next;
    for (std::string& e : batch) events.push_back(std::move(e));
  }
  return events;
}

std::vector<json::object> LedgerApi::AllEvents(size_t page) {
  std::vector<json::object> events;
  for (const std::string& raw : AllEventsRaw(page)) events.push_back(ParseObject(raw));
  return events;
}

}  // namespace keyledger::testing
