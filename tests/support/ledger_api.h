#pragma once
// The keyledger HTTP API as the process-level tests drive it: a started server with a known
// operator token, a client, JSON helpers, and the common multi-step setups (workspace, admin key,
// API key). Helpers that set things up assert success with BOOST_REQUIRE, so a broken setup fails
// the test at the step that broke.
//
// Not thread-safe; worker threads make their own HttpClient from port().

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

namespace keyledger::testing {

namespace json = boost::json;

// Parses `text`; fails the test (BOOST_REQUIRE) with the text when it is not JSON.
json::value ParseJson(const std::string& text);
json::object ParseObject(const std::string& text);

// A well-formed token (`<prefix>_` + 32 random base62 chars + checksum), from core/token.h.
std::string RandomToken(std::string_view prefix);
// RFC 3339 of now + `offset_ms` (the test and the server share the system clock).
std::string Rfc3339FromNow(int64_t offset_ms);

// Every top-level element of the array under `"<key>":[` in `text`, as its exact bytes.
std::vector<std::string> RawArrayElements(std::string_view text, std::string_view key);

// Asserts `r` is an API.md error: `status`, JSON content type, a body with string "error" and
// "code" == `code`, and "field" == `field` when given.
void ExpectError(const HttpResponse& r, unsigned status, std::string_view code,
                 std::optional<std::string_view> field = std::nullopt);
// Asserts `r` has `status`, the JSON content type and a body that is exactly the JSON `expected`
// (the same members with the same values, no others).
void ExpectJsonBody(const HttpResponse& r, unsigned status, std::string_view expected);

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
inline constexpr std::string_view kUnauthorizedBody = R"({"error":"Unauthorized.","code":"unauthorized"})";
inline constexpr std::string_view kForbiddenBody = R"({"error":"Forbidden.","code":"forbidden"})";
inline constexpr std::string_view kUpgradeRequiredBody =
    R"({"error":"Upgrade required.","code":"upgrade_required"})";

struct IssuedKey {
  std::string id;
  std::string token;
  json::object key;  // <Key> from the creating response
};

// A server started with KEYLEDGER_BOOTSTRAP_TOKEN set to a fresh operator token.
class LedgerApi {
 public:
  // `extra_args` go to `keyledger serve`.
  // `file_limit`: the server's RLIMIT_NOFILE (ServerConfig::file_limit).
  explicit LedgerApi(std::vector<std::string> extra_args = {},
                     std::optional<unsigned long> file_limit = std::nullopt);

  ServerProcess& server() { return *server_; }
  HttpClient& client() { return *client_; }
  const std::string& operator_token() const { return operator_token_; }
  unsigned short port() const { return server_->port(); }

  // Stop (asserting exit status 0) and start on the same data directory; a new client.
  void Restart();
  // Replaces client() with one to the current port (after server().Start()).
  void Reconnect() { client_ = NewClient(); }
  // A fresh client to the current port.
  std::unique_ptr<HttpClient> NewClient() const;

  // POST /admin/v1/workspaces as the operator; requires 201.
  json::object CreateWorkspace(const std::string& id, const std::string& plan);
  // PATCH /admin/v1/workspaces/{ws} as the operator; requires 200.
  json::object SetPlan(const std::string& ws, const std::string& plan);
  // POST /admin/v1/workspaces/{ws}/admin-keys as the operator; requires 201.
  IssuedKey CreateAdminKey(const std::string& ws, const std::string& role = "admin",
                           const std::string& name = "dashboard");
  // POST /admin/v1/workspaces/{ws}/keys with `body`; requires 201.
  IssuedKey CreateApiKey(const std::string& ws, const std::string& admin_token,
                         const std::string& body = R"({"name":"billing","preset":"full_access"})");
  // POST /v1/keys/verify; requires 200 and returns the body.
  json::object Verify(const std::string& token, const std::string& ability = "");
  // GET /admin/v1/workspaces/{ws}/keys/{id}; requires 200.
  json::object GetKey(const std::string& ws, const std::string& admin_token, const std::string& id);

  // The whole log through /admin/v1/events, walked in pages of `page` events.
  std::vector<json::object> AllEvents(size_t page = 1000);
  // The same, each event as the exact bytes the server sent.
  std::vector<std::string> AllEventsRaw(size_t page = 1000);

 private:
  std::string operator_token_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// Admin route helpers.
std::string KeysPath(const std::string& ws);
std::string KeyPath(const std::string& ws, const std::string& id);

}  // namespace keyledger::testing
