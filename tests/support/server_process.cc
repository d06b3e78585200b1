#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef KEYLEDGER_BINARY
#error "KEYLEDGER_BINARY must name the keyledger executable"
#endif

extern char** environ;

namespace keyledger::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr const char* kBootstrapVariable = "KEYLEDGER_BOOTSTRAP_TOKEN";

std::filesystem::path MakeTempRoot() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/keyledger-proc-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  return pattern;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string ReadFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t CountOccurrences(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

ServerProcess::ServerProcess(ServerConfig config)
    : config_(std::move(config)), root_(MakeTempRoot()), data_dir_(root_ / "data") {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (!std::getenv("KEYLEDGER_KEEP_TEST_DIRS")) {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
}

std::filesystem::path ServerProcess::StderrPath(int run) const {
  return root_ / ("stderr." + std::to_string(run) + ".log");
}

void ServerProcess::Start() {
  if (pid_ > 0) throw std::logic_error("ServerProcess::Start: already running");
  ++runs_;
  port_ = 0;
  const std::filesystem::path stderr_path = StderrPath(runs_);

  std::vector<std::string> args = {KEYLEDGER_BINARY,   "serve",    "--data",
                                   data_dir_.string(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env;
  const std::string bootstrap_prefix = std::string(kBootstrapVariable) + "=";
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, bootstrap_prefix.c_str(), bootstrap_prefix.size()) != 0) env.emplace_back(*e);
  }
  if (config_.bootstrap_token) env.push_back(bootstrap_prefix + *config_.bootstrap_token);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string stderr_file = stderr_path.string();
  const pid_t parent = ::getpid();
  const std::optional<rlim_t> file_limit = config_.file_limit;
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls from here to execve. The server dies with the test process,
    // even when the test crashes and no destructor runs.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    // The test's own sockets must not leak into the server and outlive the test's close().
    ::close_range(3, ~0U, 0);
    if (file_limit) {
      const rlimit limit{*file_limit, *file_limit};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(127);
    }
    ::execve(argv[0], argv.data(), envp.data());
    static constexpr char kExecFailed[] = "process test harness: execve of keyledger failed\n";
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, kExecFailed, sizeof kExecFailed - 1);
    ::_exit(127);
  }
  pid_ = pid;

  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + config_.start_deadline;
  while (true) {
    const std::string text = ReadFileText(stderr_path);
    std::smatch m;
    if (std::regex_search(text, m, kListening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("keyledger serve exited with " + std::to_string(DecodeWaitStatus(status)) +
                               " before listening; stderr:\n" + text);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error("keyledger serve did not log `listening on` in time; stderr:\n" + text);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void ServerProcess::SendTerm() {
  if (pid_ <= 0) throw std::logic_error("ServerProcess::SendTerm: not running");
  ::kill(pid_, SIGTERM);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) throw std::logic_error("ServerProcess::Kill: not running");
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServerProcess::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return DecodeWaitStatus(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error("keyledger serve did not exit in time after SIGTERM; stderr:\n" +
                               CurrentStderr());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

int ServerProcess::Wait() {
  if (pid_ <= 0) throw std::logic_error("ServerProcess::Wait: not running");
  return WaitUntil(std::chrono::steady_clock::now() + config_.stop_deadline);
}

int ServerProcess::Stop() {
  SendTerm();
  return Wait();
}

void ServerProcess::Restart() {
  const int code = Stop();
  if (code != 0) {
    throw std::runtime_error("keyledger serve exited with " + std::to_string(code) +
                             " on SIGTERM; stderr:\n" + CurrentStderr());
  }
  Start();
}

std::string ServerProcess::CurrentStderr() const {
  return runs_ == 0 ? std::string() : ReadFileText(StderrPath(runs_));
}

std::string ServerProcess::AllStderr() const {
  std::string all;
  for (int run = 1; run <= runs_; ++run) all += ReadFileText(StderrPath(run));
  return all;
}

}  // namespace keyledger::testing
