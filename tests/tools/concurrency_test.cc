// The ledger's invariant under concurrent HTTP traffic: no valid use of a key lands after its
// revocation in log order, and every VALID answer a client received is exactly one valid use event.

#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(no_valid_use_after_revocation_while_verifying_in_parallel) {
  LedgerApi api({"--threads", "4"});
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey key = api.CreateApiKey("acme", admin.token);
  const unsigned short port = api.port();
  const std::string request = R"({"token":")" + key.token + R"(","ability":"invoices:read"})";

  constexpr int kClients = 8;
  constexpr int kValidBeforeRevoke = 400;
  constexpr int kRevokedAnswersPerClient = 20;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);

  struct ClientResult {
    int valid = 0;
    int revoked = 0;
    int valid_after_revoked = 0;  // in this client's own order
    int other = 0;                // any other status or code
    int connections = 0;
    std::string error;
  };
  std::vector<ClientResult> results(kClients);
  std::atomic<int> valid_total{0};
  std::atomic<bool> revoke_sent{false};

  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      ClientResult& out = results[i];
      try {
        HttpClient c(port);
        while (out.revoked < kRevokedAnswersPerClient && std::chrono::steady_clock::now() < deadline) {
          HttpResponse r = c.Post("/v1/keys/verify", request);
          boost::system::error_code ec;
          json::value v = json::parse(r.body, ec);
          if (r.status != 200u || ec || !v.is_object()) {
            ++out.other;
            continue;
          }
          const json::string& code = v.at("code").as_string();
          if (code == "VALID") {
            ++out.valid;
            ++valid_total;
            if (out.revoked > 0) ++out.valid_after_revoked;
          } else if (code == "REVOKED") {
            ++out.revoked;
          } else {
            ++out.other;
          }
        }
        out.connections = c.connections_opened();
      } catch (const std::exception& e) {
        out.error = e.what();
      }
    });
  }

  std::string revoke_status;
  std::thread revoker([&] {
    while (valid_total.load() < kValidBeforeRevoke && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    try {
      HttpClient c(port);
      HttpResponse r = c.Post(KeyPath("acme", key.id) + "/revoke", R"({"reason":"race"})", admin.token);
      revoke_status = std::to_string(r.status) + " " + r.body;
    } catch (const std::exception& e) {
      revoke_status = e.what();
    }
    revoke_sent = true;
  });
  revoker.join();
  for (std::thread& t : clients) t.join();

  BOOST_TEST_REQUIRE(revoke_status.rfind("200 ", 0) == 0u, "revoke: " << revoke_status);
  int valid_answers = 0;
  for (int i = 0; i < kClients; ++i) {
    BOOST_TEST_CONTEXT("client " << i) {
      BOOST_TEST(results[i].error.empty(), results[i].error);
      BOOST_TEST(results[i].other == 0);
      BOOST_TEST(results[i].valid_after_revoked == 0);
      BOOST_TEST(results[i].revoked == kRevokedAnswersPerClient);
      BOOST_TEST(results[i].connections == 1, "keep-alive: one connection per client");
    }
    valid_answers += results[i].valid;
  }
  BOOST_TEST(valid_answers >= kValidBeforeRevoke);

  // The log: key.used events of this key, in order, against its key.revoked.
  const std::vector<json::object> events = api.AllEvents();
  int64_t revoked_seq = -1;
  int valid_events = 0;
  int valid_events_after_revoke = 0;
  int revoked_events = 0;
  int64_t last_seq = 0;
  for (const json::object& e : events) {
    const int64_t seq = e.at("seq").to_number<int64_t>();
    BOOST_TEST(seq == last_seq + 1, "seq " << seq << " follows " << last_seq);
    last_seq = seq;
    if (!e.at("key_id").is_string() || e.at("key_id").as_string() != key.id) continue;
    const json::string& type = e.at("type").as_string();
    if (type == "key.revoked") {
      BOOST_TEST(revoked_seq == -1, "one key.revoked");
      revoked_seq = seq;
    } else if (type == "key.used") {
      const json::string& outcome = e.at("data").as_object().at("outcome").as_string();
      if (outcome == "valid") {
        ++valid_events;
        if (revoked_seq != -1) ++valid_events_after_revoke;
      } else if (outcome == "revoked") {
        ++revoked_events;
        BOOST_TEST(revoked_seq != -1, "a revoked use at seq " << seq << " before the key.revoked event");
      } else {
        BOOST_TEST(false, "unexpected outcome " << outcome << " at seq " << seq);
      }
    }
  }
  BOOST_TEST_REQUIRE(revoked_seq != -1, "no key.revoked event for " << key.id);
  BOOST_TEST(valid_events_after_revoke == 0);
  BOOST_TEST(valid_events == valid_answers, "every VALID answer is exactly one valid use event");
  BOOST_TEST(revoked_events == kClients * kRevokedAnswersPerClient);
  json::object after = api.GetKey("acme", admin.token, key.id);
  BOOST_TEST(after.at("usage_count").to_number<int64_t>() == valid_answers);
  BOOST_TEST(after.at("rejected_count").to_number<int64_t>() == kClients * kRevokedAnswersPerClient);
}

BOOST_AUTO_TEST_CASE(simultaneous_revokes_succeed_once) {
  LedgerApi api({"--threads", "4"});
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey key = api.CreateApiKey("acme", admin.token);
  constexpr int kClients = 8;
  std::vector<unsigned> statuses(kClients, 0);
  std::vector<std::string> bodies(kClients);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      try {
        HttpClient c(api.port());
        c.Get("/healthz");
        ++ready;
        while (ready.load() < kClients) std::this_thread::yield();
        HttpResponse r = c.Post(KeyPath("acme", key.id) + "/revoke", "{}", admin.token);
        statuses[i] = r.status;
        bodies[i] = r.body;
      } catch (const std::exception& e) {
        bodies[i] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0;
  for (int i = 0; i < kClients; ++i) {
    BOOST_TEST((statuses[i] == 200u || statuses[i] == 409u), statuses[i] << " " << bodies[i]);
    ok += statuses[i] == 200u;
  }
  BOOST_TEST(ok == 1);
  int revoked_events = 0;
  for (const json::object& e : api.AllEvents()) {
    revoked_events += e.at("type").as_string() == "key.revoked";
  }
  BOOST_TEST(revoked_events == 1);
}

BOOST_AUTO_TEST_CASE(no_valid_use_after_expiry_while_verifying_in_parallel) {
  LedgerApi api({"--threads", "4"});
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  const std::string expires_at = Rfc3339FromNow(1500);
  IssuedKey key = api.CreateApiKey(
      "acme", admin.token, R"({"name":"brief","preset":"full_access","expires_at":")" + expires_at + R"("})");
  const std::string request = R"({"token":")" + key.token + R"("})";
  constexpr int kClients = 8;
  constexpr int kExpiredAnswersPerClient = 10;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<int> valid(kClients, 0), expired(kClients, 0), other(kClients, 0), valid_after(kClients, 0);
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      try {
        HttpClient c(api.port());
        while (expired[i] < kExpiredAnswersPerClient && std::chrono::steady_clock::now() < deadline) {
          HttpResponse r = c.Post("/v1/keys/verify", request);
          if (r.status != 200u) {
            ++other[i];
          } else if (r.body.find(R"("code":"VALID")") != std::string::npos) {
            ++valid[i];
            if (expired[i] > 0) ++valid_after[i];
          } else if (r.body.find(R"("code":"EXPIRED")") != std::string::npos) {
            ++expired[i];
          } else {
            ++other[i];
          }
        }
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int valid_answers = 0;
  for (int i = 0; i < kClients; ++i) {
    BOOST_TEST(errors[i].empty(), errors[i]);
    BOOST_TEST(other[i] == 0);
    BOOST_TEST(valid_after[i] == 0);
    BOOST_TEST(expired[i] == kExpiredAnswersPerClient);
    valid_answers += valid[i];
  }
  BOOST_TEST(valid_answers > 0, "the clients started before the key expired");

  // Wait (bounded) for the sweeper's key.expired, then check the log.
  std::vector<json::object> events;
  for (auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(20);;) {
    events = api.AllEvents();
    const bool swept = std::any_of(events.begin(), events.end(), [&](const json::object& e) {
      return e.at("type").as_string() == "key.expired" && e.at("key_id").as_string() == key.id;
    });
    if (swept) break;
    BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < wait_until), "no key.expired for " << key.id);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool ended = false;
  int valid_events = 0;
  for (const json::object& e : events) {
    if (!e.at("key_id").is_string() || e.at("key_id").as_string() != key.id) continue;
    if (e.at("type").as_string() == "key.expired") {
      BOOST_TEST(e.at("data").as_object().at("reason").as_string() == "expired");
      ended = true;
    }
    if (e.at("type").as_string() != "key.used") continue;
    if (e.at("data").as_object().at("outcome").as_string() == "valid") {
      ++valid_events;
      BOOST_TEST(!ended, "valid use after key.expired: " << json::serialize(e));
      BOOST_TEST((std::string(e.at("ts").as_string()) < expires_at),
                 "valid use at or after expires_at " << expires_at << ": " << json::serialize(e));
    }
  }
  BOOST_TEST(valid_events == valid_answers);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
