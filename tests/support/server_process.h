#pragma once
// A real `keyledger serve` process for process-level tests.
//
// Each ServerProcess owns a fresh temporary directory: `data/` is the server's --data directory and
// `stderr.N.log` holds the standard error of the N-th run. The server listens on 127.0.0.1 with
// port 0, and Start() learns the port from the `listening on http://127.0.0.1:PORT` log line
// (polling the stderr file against a deadline, never a fixed sleep).
//
// Errors in the harness itself (spawn failure, the server exiting before it listens, the deadline
// passing) throw std::runtime_error carrying the server's stderr, so the test fails with context.
//
// Not thread-safe: one test thread drives the process; other threads may only read port().

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace keyledger::testing {

struct ServerConfig {
  // Installed as KEYLEDGER_BOOTSTRAP_TOKEN when set; the variable is removed from the child's
  // environment otherwise, so the server generates and prints an operator token.
  std::optional<std::string> bootstrap_token;
  // Appended after `serve --data DIR --listen 127.0.0.1:0`.
  std::vector<std::string> extra_args;
  // The server's RLIMIT_NOFILE, soft and hard, when set.
  std::optional<unsigned long> file_limit;
  std::chrono::milliseconds start_deadline{std::chrono::seconds(20)};
  std::chrono::milliseconds stop_deadline{std::chrono::seconds(20)};
};

class ServerProcess {
 public:
  explicit ServerProcess(ServerConfig config = {});
  // Kills a still-running server (SIGKILL) and removes the temporary directory, unless the
  // environment variable KEYLEDGER_KEEP_TEST_DIRS is set.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns the server on the data directory and waits until it listens. The server gets SIGKILL
  // when the calling thread ends (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
  // REQUIRES: !running(); called from a thread that outlives the server (the test's thread).
  void Start();
  // SIGTERM, then waits up to stop_deadline. Returns the exit code (0..255) when the process
  // exited, or 128 + signal number when a signal ended it; throws when the deadline passes (the
  // process is then killed). REQUIRES: running().
  int Stop();
  // SIGTERM without waiting; finish with Wait().
  void SendTerm();
  // SIGKILL and reap: a crash, nothing flushed. REQUIRES: running().
  void Kill();
  // Waits for the process to end (deadline stop_deadline); same result as Stop().
  int Wait();
  // Stop() (which must return 0) then Start() on the same data directory.
  void Restart();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  unsigned short port() const { return port_.load(); }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Standard error of the current (or last) run.
  std::string CurrentStderr() const;
  // Standard error of every run so far, in order.
  std::string AllStderr() const;
  int runs() const { return runs_; }

 private:
  std::filesystem::path StderrPath(int run) const;
  int WaitUntil(std::chrono::steady_clock::time_point deadline);

  ServerConfig config_;
  std::filesystem::path root_;
  std::filesystem::path data_dir_;
  pid_t pid_ = -1;
  std::atomic<unsigned short> port_{0};
  int runs_ = 0;
};

// Reads a whole file; empty when it does not exist.
std::string ReadFileText(const std::filesystem::path& path);

// Number of non-overlapping occurrences of `needle` in `haystack`. REQUIRES: !needle.empty().
size_t CountOccurrences(const std::string& haystack, const std::string& needle);

}  // namespace keyledger::testing
