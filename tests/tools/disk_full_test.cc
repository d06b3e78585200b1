// A full disk: the writes it refuses are answered 503, the process stays up to answer health
// checks, and once there is room again a restart finds every acknowledged creation.
//
// The data directory is a small tmpfs mounted for the test, which needs the right to mount (root
// outside a restricted container); without it the test is reported as skipped, not passed.

#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

bool MountTmpfs(const std::filesystem::path& dir, const char* options, unsigned long flags = 0) {
  return ::mount("tmpfs", dir.c_str(), "tmpfs", flags, options) == 0;
}

boost::test_tools::assertion_result CanMountTmpfs(boost::unit_test::test_unit_id) {
  const std::filesystem::path probe =
      std::filesystem::temp_directory_path() / ("keyledger-mount-probe-" + std::to_string(::getpid()));
  std::filesystem::create_directories(probe);
  const bool mounted = MountTmpfs(probe, "size=1m");
  if (mounted) ::umount(probe.c_str());
  std::filesystem::remove(probe);
  boost::test_tools::assertion_result result(mounted);
  if (!mounted) result.message() << "mounting a tmpfs is not permitted here";
  return result;
}

// Unmounts before the server's temporary directory is removed (declare it after the server).
struct Unmount {
  std::filesystem::path dir;
  ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
};

std::string Field(const HttpResponse& r, const char* name) {
  const json::object o = ParseObject(r.body);
  return std::string(o.at(name).as_string());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(writes_refused_with_503_and_nothing_acknowledged_is_lost,
                     *boost::unit_test::precondition(CanMountTmpfs)) {
  const std::string operator_token = RandomToken("klo");
  ServerProcess server(ServerConfig{.bootstrap_token = operator_token});
  std::filesystem::create_directories(server.data_dir());
  BOOST_TEST_REQUIRE(MountTmpfs(server.data_dir(), "size=8m"));
  Unmount unmount{server.data_dir()};
  server.Start();

  auto client = std::make_unique<HttpClient>(server.port());
  BOOST_TEST_REQUIRE(client->Post("/admin/v1/workspaces", R"({"id":"acme","name":"Acme","plan":"pro"})",
                                  operator_token).status == 201u);
  HttpResponse admin = client->Post("/admin/v1/workspaces/acme/admin-keys", R"({"name":"a","role":"admin"})",
                                    operator_token);
  BOOST_TEST_REQUIRE(admin.status == 201u);
  const std::string admin_token = Field(admin, "token");

  // ~3.5 KB a creation, until the disk is full.
  std::string body = R"({"name":")" + std::string(100, 'n') + R"(","preset":"read_only","description":")" +
                     std::string(900, 'd') + R"(","metadata":{)";
  for (int i = 0; i < 4; ++i) body += (i ? "," : "") + ("\"m" + std::to_string(i) + "\":\"" + std::string(500, 'v') + "\"");
  body += "}}";
  std::vector<std::pair<std::string, std::string>> acknowledged;  // id, token
  HttpResponse refused;
  for (int i = 0; i < 20000 && refused.status == 0; ++i) {
    HttpResponse r = client->Post(KeysPath("acme"), body, admin_token);
    if (r.status == 201u) {
      const json::object o = ParseObject(r.body);
      acknowledged.emplace_back(o.at("key").as_object().at("id").as_string(), o.at("token").as_string());
    } else {
      refused = r;
    }
  }
  BOOST_TEST_REQUIRE(refused.status == 503u, refused.status << ": " << refused.body);
  ExpectError(refused, 503, "not_ready");
  BOOST_TEST_REQUIRE(acknowledged.size() > 100u);

  // Still up: health checks answer, readiness says no, writes keep being refused.
  BOOST_TEST(client->Get("/healthz").status == 200u);
  BOOST_TEST(client->Get("/readyz").status == 503u);
  ExpectError(client->Post(KeysPath("acme"), R"({"name":"more","preset":"read_only"})", admin_token), 503,
              "not_ready");
  BOOST_TEST(client->Get("/healthz").status == 200u);
  BOOST_TEST(::kill(server.pid(), 0) == 0, "the server must not have died");
  BOOST_TEST(server.CurrentStderr().find("No space left on device") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(server.data_dir() / "LOG"), "RocksDB's messages go to the service's log");

  // Room again (the tmpfs grown in place), and a restart: every acknowledged key is there.
  // The stop cannot sign or flush on the full disk: it says so, and does not exit 0.
  client.reset();
  BOOST_TEST(server.Stop() == 1);
  const std::string stop_log = server.CurrentStderr();
  BOOST_TEST(stop_log.find("writes had stopped") != std::string::npos, stop_log);
  BOOST_TEST(stop_log.find("stopped cleanly") == std::string::npos, stop_log);
  BOOST_TEST_REQUIRE(MountTmpfs(server.data_dir(), "size=256m", MS_REMOUNT));
  server.Start();
  client = std::make_unique<HttpClient>(server.port());
  BOOST_TEST(client->Get("/readyz").status == 200u);
  for (const auto& [id, token] : acknowledged) {
    HttpResponse key = client->Get(KeyPath("acme", id), admin_token);
    BOOST_TEST(key.status == 200u, id);
  }
  const json::object verified = ParseObject(
      client->Post("/v1/keys/verify", R"({"token":")" + acknowledged.back().second + R"("})").body);
  BOOST_TEST(verified.at("valid").as_bool());
  BOOST_TEST(client->Post(KeysPath("acme"), R"({"name":"after","preset":"read_only"})", admin_token).status == 201u);
  client.reset();
  BOOST_TEST(server.Stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
