// State across process restarts: a clean SIGTERM stop keeps everything; SIGTERM under load exits 0
// and loses no acknowledged creation; a SIGKILL loses nothing that was acknowledged.

#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/signing.h"
#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

// Every API key of acme, by id, as GET /keys/{id} shows it.
std::map<std::string, json::object> KeysById(LedgerApi& api, const std::string& admin) {
  std::map<std::string, json::object> out;
  HttpResponse r = api.client().Get(KeysPath("acme") + "?status=all&limit=1000", admin);
  BOOST_TEST_REQUIRE(r.status == 200u, r.body);
  const json::object page = ParseObject(r.body);
  for (const json::value& k : page.at("keys").as_array()) {
    const std::string id(k.as_object().at("id").as_string());
    out[id] = api.GetKey("acme", admin, id);
  }
  return out;
}

struct ToolRun {
  int exit_code = -1;
  std::string out;
};

// `keyledger verify-log --data DIR`: its exit code and standard output.
ToolRun RunVerifyLog(const std::filesystem::path& data_dir) {
  const std::string command = std::string(KEYLEDGER_BINARY) + " verify-log --data '" + data_dir.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_TEST_REQUIRE(pipe != nullptr);
  ToolRun run;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(restart_keeps_keys_statuses_usage_and_log) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey active = api.CreateApiKey("acme", admin.token);
  IssuedKey revoked = api.CreateApiKey("acme", admin.token, R"({"name":"old","preset":"read_only"})");
  IssuedKey rotated = api.CreateApiKey("acme", admin.token, R"({"name":"rotating","preset":"read_only"})");
  for (int i = 0; i < 3; ++i) api.Verify(active.token);
  api.Verify(active.token, "invoices:write");
  api.Verify(revoked.token);
  BOOST_TEST_REQUIRE(api.client().Post(KeyPath("acme", revoked.id) + "/revoke", "{}", admin.token).status ==
                     200u);
  api.Verify(revoked.token);
  HttpResponse rot = api.client().Post(KeyPath("acme", rotated.id) + "/rotate", "{}", admin.token);
  BOOST_TEST_REQUIRE(rot.status == 201u, rot.body);
  const std::string successor_token(ParseObject(rot.body).at("token").as_string());
  api.Verify(successor_token);

  const auto keys_before = KeysById(api, admin.token);
  const std::vector<std::string> log_before = api.AllEventsRaw();
  BOOST_TEST_REQUIRE(keys_before.size() == 4u);
  BOOST_TEST(keys_before.at(active.id).at("usage_count").to_number<int64_t>() == 4);

  api.Restart();  // asserts exit status 0

  const auto keys_after = KeysById(api, admin.token);
  BOOST_TEST(keys_after.size() == keys_before.size());
  for (const auto& [id, key] : keys_before) {
    BOOST_TEST_CONTEXT("key " << id) {
      BOOST_TEST_REQUIRE(keys_after.count(id) == 1u);
      BOOST_TEST((keys_after.at(id) == key), json::serialize(key) << "\nbecame\n"
                                                                  << json::serialize(keys_after.at(id)));
    }
  }
  BOOST_TEST(api.AllEventsRaw() == log_before, boost::test_tools::per_element());

  BOOST_TEST(api.Verify(active.token).at("code").as_string() == "VALID");
  BOOST_TEST(api.Verify(revoked.token).at("code").as_string() == "REVOKED");
  BOOST_TEST(api.Verify(rotated.token).at("code").as_string() == "EXPIRED");
  BOOST_TEST(api.Verify(successor_token).at("code").as_string() == "VALID");
  BOOST_TEST(api.GetKey("acme", admin.token, active.id).at("usage_count").to_number<int64_t>() == 5);
  // The admin and operator keys still work too.
  BOOST_TEST(api.client().Get("/admin/v1/workspaces/acme", admin.token).status == 200u);
  const std::string err = api.server().AllStderr();
  BOOST_TEST(err.find("stopped cleanly") != std::string::npos, err);
  // The restart started from the checkpoint the stop wrote, which its signed one vouches for.
  const std::string second_run = api.server().CurrentStderr();
  BOOST_TEST(second_run.find("projections loaded: checkpoint at seq " + std::to_string(log_before.size())) !=
                 std::string::npos,
             second_run);
  BOOST_TEST(second_run.find("skipped") == std::string::npos, second_run);
}

BOOST_AUTO_TEST_CASE(sigterm_under_load_exits_0_and_keeps_acknowledged_creations) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey verified = api.CreateApiKey("acme", admin.token);
  const unsigned short port = api.port();

  std::mutex mutex;
  std::vector<std::string> acknowledged;  // GUARDED_BY(mutex)
  std::atomic<int> acknowledged_count{0};
  std::atomic<int> valid_answers{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(port, std::chrono::seconds(20));
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        try {
          HttpResponse r = c.Post(KeysPath("acme"),
                                  R"({"name":"load-)" + std::to_string(t) + "-" + std::to_string(i) +
                                      R"(","preset":"read_only"})",
                                  admin.token);
          if (r.status != 201u) {
            if (r.status != 503u) ++unexpected;
            return;
          }
          boost::system::error_code ec;
          json::value v = json::parse(r.body, ec);
          if (ec) {
            ++unexpected;
            return;
          }
          std::lock_guard lock(mutex);
          acknowledged.emplace_back(v.at("key").at("id").as_string());
          ++acknowledged_count;
        } catch (const std::exception&) {
          return;  // the server has closed the connection or stopped listening
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      HttpClient c(port, std::chrono::seconds(20));
      while (std::chrono::steady_clock::now() < deadline) {
        try {
          HttpResponse r = c.Post("/v1/keys/verify", R"({"token":")" + verified.token + R"("})");
          if (r.status != 200u) {
            if (r.status != 503u) ++unexpected;
            return;
          }
          if (r.body.find(R"("code":"VALID")") != std::string::npos) ++valid_answers;
        } catch (const std::exception&) {
          return;
        }
      }
    });
  }
  // Wait (bounded) for the load to be under way, then stop the server in the middle of it.
  while (acknowledged_count.load() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  BOOST_TEST_REQUIRE(acknowledged_count.load() >= 40, "the load never got going");
  api.client().Close();
  api.server().SendTerm();
  const int exit_status = api.server().Wait();
  for (std::thread& t : threads) t.join();
  BOOST_TEST(exit_status == 0, "stderr:\n" << api.server().CurrentStderr());
  BOOST_TEST(unexpected.load() == 0);
  BOOST_TEST((std::chrono::steady_clock::now() < deadline), "the clients ran until the deadline");

  api.server().Start();
  api.Reconnect();
  for (const std::string& id : acknowledged) {
    HttpResponse r = api.client().Get(KeyPath("acme", id), admin.token);
    BOOST_TEST(r.status == 200u, "acknowledged key " << id << " is gone: " << r.body);
  }
  // At least every acknowledged use is there (a use may be logged and its answer lost).
  const int64_t uses = api.GetKey("acme", admin.token, verified.id).at("usage_count").to_number<int64_t>();
  BOOST_TEST(uses >= valid_answers.load());
  BOOST_TEST(api.Verify(verified.token).at("code").as_string() == "VALID");
}

BOOST_AUTO_TEST_CASE(sigkill_loses_no_acknowledged_event) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  std::vector<IssuedKey> keys;
  for (int i = 0; i < 5; ++i) keys.push_back(api.CreateApiKey("acme", admin.token));
  for (int i = 0; i < 7; ++i) BOOST_TEST(api.Verify(keys[0].token).at("code").as_string() == "VALID");
  BOOST_TEST_REQUIRE(api.client().Post(KeyPath("acme", keys[1].id) + "/revoke", "{}", admin.token).status ==
                     200u);
  const std::vector<std::string> log_before = api.AllEventsRaw();

  api.client().Close();
  api.server().Kill();
  api.server().Start();
  api.Reconnect();

  const std::vector<std::string> log_after = api.AllEventsRaw();
  BOOST_TEST(log_after == log_before, boost::test_tools::per_element());
  for (const IssuedKey& k : keys)
    BOOST_TEST(api.client().Get(KeyPath("acme", k.id), admin.token).status == 200u);
  BOOST_TEST(api.GetKey("acme", admin.token, keys[0].id).at("usage_count").to_number<int64_t>() == 7);
  BOOST_TEST(api.Verify(keys[1].token).at("code").as_string() == "REVOKED");
  BOOST_TEST(api.Verify(keys[2].token).at("code").as_string() == "VALID");
}

// A lost signing key (or one left out of a restore) must not be replaced silently: verify-log
// would then call every earlier checkpoint forged.
BOOST_AUTO_TEST_CASE(serve_signs_on_with_the_key_that_signed_the_log) {
  namespace fs = std::filesystem;
  ServerProcess first(ServerConfig{.bootstrap_token = RandomToken("klo")});
  first.Start();
  BOOST_TEST_REQUIRE(first.Stop() == 0);  // a signed checkpoint at the start and at the stop
  const std::string pub_before = ReadFileText(first.data_dir() / "signing_key.pub");
  BOOST_TEST_REQUIRE(pub_before.size() == 65u);
  // Each try on its own copy of the data directory, without the private key.
  const auto copy_to = [&](const ServerProcess& server) {
    fs::copy(first.data_dir(), server.data_dir(), fs::copy_options::recursive);
    fs::remove(server.data_dir() / "signing_key.pem");
  };

  ServerProcess missing(ServerConfig{});
  copy_to(missing);
  BOOST_CHECK_THROW(missing.Start(), std::runtime_error);
  const std::string missing_err = missing.CurrentStderr();
  BOOST_TEST(missing_err.find("signing_key.pem is missing, but the log holds checkpoints signed by key " +
                              pub_before.substr(0, 16)) != std::string::npos,
             missing_err);
  BOOST_TEST(!fs::exists(missing.data_dir() / "signing_key.pem"));
  BOOST_TEST(ReadFileText(missing.data_dir() / "signing_key.pub") == pub_before);

  auto other = SigningKey::Generate();
  BOOST_REQUIRE(other.ok());
  const fs::path other_pem = fs::temp_directory_path() / ("keyledger-other-" + std::to_string(::getpid()) + ".pem");
  BOOST_REQUIRE(other->SavePem(other_pem.string()).ok());
  ServerProcess another(ServerConfig{.extra_args = {"--signing-key", other_pem.string()}});
  copy_to(another);
  BOOST_CHECK_THROW(another.Start(), std::runtime_error);
  BOOST_TEST(another.CurrentStderr().find("is not the key that signed the log's newest checkpoint") !=
                 std::string::npos,
             another.CurrentStderr());
  BOOST_TEST(ReadFileText(another.data_dir() / "signing_key.pub") == pub_before);
  fs::remove(other_pem);

  ServerProcess deliberate(ServerConfig{.extra_args = {"--new-signing-key"}});
  copy_to(deliberate);
  deliberate.Start();
  BOOST_TEST(deliberate.Stop() == 0);
  BOOST_TEST(fs::exists(deliberate.data_dir() / "signing_key.pem"));
  BOOST_TEST(ReadFileText(deliberate.data_dir() / "signing_key.pub") != pub_before);
  // The change sticks even though nothing was appended meanwhile: the head was signed again with
  // the new key, so a plain start accepts it.
  ServerProcess after(ServerConfig{});
  fs::copy(deliberate.data_dir(), after.data_dir(), fs::copy_options::recursive);
  after.Start();
  BOOST_TEST(after.Stop() == 0);
}

// A WAL record that fails its checksum ends recovery there (RocksDB's point-in-time mode; a crash
// tears the last record the same way on this prezeroed WAL). With log after it, the damage is in
// the middle of the log, and what recovery drops must not pass silently: the service's log says
// so, the damaged WAL is copied aside before RocksDB deletes it, and verify-log reports it.
BOOST_AUTO_TEST_CASE(a_damaged_wal_record_is_reported_as_an_error) {
  namespace fs = std::filesystem;
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  std::vector<std::string> ids;  // of creations acknowledged before the kill; the third is damaged
  for (const std::string name : {"first", "second", "damaged-record-needle", "fourth"}) {
    ids.push_back(api.CreateApiKey("acme", admin.token, R"({"name":")" + name + R"(","preset":"read_only"})").id);
  }
  api.server().Kill();  // all of it is in the WAL only
  size_t damaged = 0;
  for (const auto& entry : fs::directory_iterator(api.server().data_dir())) {
    if (entry.path().extension() != ".log") continue;
    std::string bytes = ReadFileText(entry.path());
    const size_t at = bytes.find("damaged-record-needle");
    if (at == std::string::npos) continue;
    bytes[at] ^= 0x01;
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
    ++damaged;
  }
  BOOST_REQUIRE(damaged == 1u);
  const ToolRun before = RunVerifyLog(api.server().data_dir());

  api.server().Start();
  api.Reconnect();
  const std::string err = api.server().CurrentStderr();
  BOOST_TEST(err.find("error rocksdb: ") != std::string::npos, err);
  BOOST_TEST(err.find("Corruption: checksum mismatch") != std::string::npos, err);
  BOOST_TEST(err.find("fails its checksum, and ") != std::string::npos, err);
  const std::string log = api.client().Get("/admin/v1/events?limit=1000", api.operator_token()).body;
  BOOST_TEST(log.find(ids[1]) != std::string::npos);
  BOOST_TEST(log.find(ids[2]) == std::string::npos);  // recovery stopped there
  const json::array events = ParseObject(log).at("events").as_array();
  const uint64_t recovered_head = events.back().as_object().at("seq").to_number<uint64_t>();
  BOOST_TEST(api.server().Stop() == 0);

  // The damaged WAL, with the acknowledged creation after the damage, was copied aside before
  // RocksDB recovered (and then deleted) it.
  const fs::path set_aside = api.server().data_dir() / "wal-set-aside";
  BOOST_TEST_REQUIRE(fs::exists(set_aside));
  size_t copies = 0;
  for (const auto& dir : fs::directory_iterator(set_aside)) {
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (file.path().extension() == ".log") {
        ++copies;
        BOOST_TEST(ReadFileText(file.path()).find("fourth") != std::string::npos);
      }
    }
    BOOST_TEST(ReadFileText(dir.path() / "note.txt").find("recovered_head_seq=" + std::to_string(recovered_head)) !=
               std::string::npos);
  }
  BOOST_TEST(copies == 1u);

  // verify-log names the first event that recovery may have lost, however intact the chain is:
  // before the restart from the WAL itself, after it from the copies set aside.
  BOOST_TEST(before.exit_code == 1, before.out);
  BOOST_TEST(before.out.find("FIRST BROKEN SEQ: " + std::to_string(recovered_head + 1)) != std::string::npos, before.out);
  BOOST_TEST(before.out.find("fails its checksum, and ") != std::string::npos, before.out);
  const ToolRun after = RunVerifyLog(api.server().data_dir());
  BOOST_TEST(after.exit_code == 1, after.out);
  BOOST_TEST(after.out.find("FIRST BROKEN SEQ: " + std::to_string(recovered_head + 1)) != std::string::npos, after.out);
  BOOST_TEST(after.out.find("started on a damaged write-ahead log") != std::string::npos, after.out);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
