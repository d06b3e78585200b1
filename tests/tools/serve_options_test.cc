// `keyledger serve --background-priority`: the checkpoint writer, like RocksDB's flush and
// compaction threads, runs at idle CPU priority by default so that it never takes a core from a
// request, and at normal priority when asked.

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

// The scheduling policy (SCHED_*) of the server's thread named `name`, from field 41 of
// /proc/PID/task/TID/stat; nullopt while there is no such thread.
std::optional<int> PolicyOfThread(pid_t pid, const std::string& name) {
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    if (comm != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // Fields after "pid (comm) ": the state is field 3, so field 41 is the 39th from there.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
      if (i == 41) return std::stoi(field);
    }
  }
  return std::nullopt;
}

// Polls until the thread has the policy (it sets it itself when it starts) or 10 s pass.
std::optional<int> AwaitPolicy(pid_t pid, const std::string& name, int wanted) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<int> policy;
  while (std::chrono::steady_clock::now() < deadline) {
    policy = PolicyOfThread(pid, name);
    if (policy == wanted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return policy;
}

BOOST_AUTO_TEST_SUITE(serve_options)

BOOST_AUTO_TEST_CASE(background_work_is_idle_priority_by_default) {
  LedgerApi api;
  BOOST_TEST(AwaitPolicy(api.server().pid(), "checkpoints", SCHED_IDLE).value_or(-1) == SCHED_IDLE);
  // The I/O threads are untouched.
  BOOST_TEST(PolicyOfThread(api.server().pid(), "keyledger").value_or(-1) == SCHED_OTHER);
  api.CreateWorkspace("acme", "pro");  // and the service works as ever
}

BOOST_AUTO_TEST_CASE(normal_background_priority_on_request) {
  LedgerApi api({"--background-priority", "normal"});
  api.CreateWorkspace("acme", "pro");
  BOOST_TEST(PolicyOfThread(api.server().pid(), "checkpoints").value_or(-1) == SCHED_OTHER);
}

// The log holds owners, names, metadata and every use: nothing serve creates is open to every
// local user, whatever umask it was started with; a data directory that is gets a warning.
BOOST_AUTO_TEST_CASE(the_data_directory_is_closed_to_other_users) {
  namespace fs = std::filesystem;
  const mode_t before = ::umask(0);  // the server inherits the most permissive umask
  std::optional<LedgerApi> api;
  try {
    api.emplace();
  } catch (...) {
    ::umask(before);
    throw;
  }
  ::umask(before);
  api->CreateWorkspace("acme", "pro");
  const fs::path dir = api->server().data_dir();
  BOOST_TEST(((fs::status(dir).permissions() & fs::perms::others_all) == fs::perms::none));
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    ++files;
    BOOST_TEST(((entry.status().permissions() & fs::perms::others_all) == fs::perms::none), entry.path());
  }
  BOOST_TEST(files > 5u);
  BOOST_TEST(api->server().CurrentStderr().find("open to every local user") == std::string::npos);

  fs::permissions(dir, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  api->Restart();
  BOOST_TEST(api->server().CurrentStderr().find("is open to every local user") != std::string::npos);
}

// Connections are capped below the file descriptor limit, with room for the store: a client
// holding every descriptor had made the store's next file open fail, and with it every write
// until a restart.
BOOST_AUTO_TEST_CASE(connections_stay_below_the_file_descriptor_limit) {
  LedgerApi api(std::vector<std::string>{}, 1100);
  const std::string err = api.server().CurrentStderr();
  BOOST_TEST(err.find("at most 332 connections: the file descriptor limit is 1100") != std::string::npos, err);
  api.CreateWorkspace("acme", "pro");  // its connection is admitted before the crowd below
  IssuedKey admin = api.CreateAdminKey("acme");

  // Idle connections, more than the cap: the first beyond it are answered 503 (at most 64 at once,
  // each lingering up to 2 s); the rest are closed unanswered, so the sockets stay bounded.
  std::vector<int> crowd;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(api.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 500; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd >= 0);
    crowd.push_back(fd);
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
  }
  const auto first_bytes = [](int fd) {
    const timeval patience{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    char answer[64] = {};
    const ssize_t n = ::recv(fd, answer, sizeof answer - 1, 0);
    return n > 0 ? std::string(answer, static_cast<size_t>(n)) : std::string();
  };
  const std::string refused = first_bytes(crowd[340]);  // the 332 admitted include the client's
  BOOST_TEST(refused.rfind("HTTP/1.1 503", 0) == 0u, refused);
  BOOST_TEST(first_bytes(crowd.back()).empty(), "closed without an answer");

  // The store still writes, and the server is still ready.
  api.CreateApiKey("acme", admin.token);
  BOOST_TEST(api.client().Get("/readyz").status == 200u);
  for (int fd : crowd) ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::testing
