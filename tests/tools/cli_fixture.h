#pragma once
// Shared set-up for the cli_test suites: a realistic small history written by a real Ledger with a
// ManualClock (built once per process, then copied per test), signed chain checkpoints added the
// way the service adds them, a raw RocksDB handle for tampering as an attacker with file access
// would, and a runner for the real `keyledger` binary that captures stdout, stderr and the exit code.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "core/signing.h"
#include "core/time_format.h"
#include "events/chain_checkpoint.h"
#include "events/codec.h"
#include "projections/point_in_time.h"
#include "tests/projections/ledger_fixture.h"

#ifndef KEYLEDGER_BINARY
#error "KEYLEDGER_BINARY must name the keyledger executable"
#endif

namespace keyledger::cli_testing {

using testing::kStartMs;
constexpr TimeMs kT0 = kStartMs;  // 2026-03-02T10:00:00.000Z
constexpr TimeMs kMinuteMs = 60 * kSecondMs;

inline std::string At(TimeMs t) { return FormatRfc3339(t); }

// ---------------------------------------------------------------------------------------------
// Running the binary.

struct RunResult {
  int exit_code = -1;  // 0..255, or 128 + signal
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  return os << "exit " << r.exit_code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

// Runs `keyledger args...` with stdin from /dev/null and both outputs captured (read together
// with poll, so a chatty child never blocks on a full pipe). Throws on a hang past `deadline`.
inline RunResult RunCli(const std::vector<std::string>& args,
                        std::chrono::seconds deadline = std::chrono::seconds(120)) {
  std::vector<std::string> argv_strings = {KEYLEDGER_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  RunResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      throw std::runtime_error("keyledger did not finish in time: " + result.out + result.err);
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) throw std::runtime_error("poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[65536];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

inline bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The number after "FIRST BROKEN SEQ: ", or 0 when there is none.
inline uint64_t FirstBrokenSeq(const std::string& out) {
  constexpr std::string_view kTag = "FIRST BROKEN SEQ: ";
  const size_t at = out.find(kTag);
  if (at == std::string::npos) return 0;
  return std::stoull(out.substr(at + kTag.size()));
}

// The n of "head: seq n", or 0 when there is none.
inline uint64_t HeadSeq(const std::string& out) {
  constexpr std::string_view kTag = "head: seq ";
  const size_t at = out.find(kTag);
  if (at == std::string::npos) return 0;
  return std::stoull(out.substr(at + kTag.size()));
}

inline boost::json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << text);
  return v;
}

inline std::vector<boost::json::value> ParseJsonLines(const std::string& text) {
  std::vector<boost::json::value> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(ParseJson(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

inline std::string Str(const boost::json::value& v) {
  return v.is_null() ? std::string() : std::string(v.as_string());
}

// ---------------------------------------------------------------------------------------------
// Directories and files.

// A directory under /tmp, removed with everything in it when the object goes.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/keyledger-cli-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

// ---------------------------------------------------------------------------------------------
// Signed chain checkpoints, written as the service writes them.

// Signs event `seq` of `store` (its hash and ts; the projection digest of the state at seq, or
// `digest` when given) with `key` and stores it at ChainCheckpointRow(seq).
inline void PutSignedCheckpoint(EventStore& store, const SigningKey& key, uint64_t seq,
                                std::optional<Digest> digest = std::nullopt) {
  auto row = store.Get(Cf::kEvents, EncodeSeq(seq));
  BOOST_REQUIRE(row.ok() && row->has_value());
  auto event = DecodeStoredValue(**row);
  BOOST_REQUIRE(event.ok());
  if (!digest) {
    auto state = StateAtSeq(store, seq);
    BOOST_REQUIRE_MESSAGE(state.ok(), state.status().message());
    digest = state->Fingerprint();
  }
  const ChainCheckpoint c = SignChainCheckpoint(key, seq, event->hash, event->ts, *digest);
  rocksdb::WriteBatch batch;
  batch.Put(store.cf(Cf::kMeta), ChainCheckpointRow(seq), c.ToJson());
  BOOST_REQUIRE(store.Write(batch, true).ok());
}

inline std::unique_ptr<EventStore> OpenStore(const std::string& dir) {
  auto store = EventStore::Open(dir, StoreOptions{});
  BOOST_REQUIRE_MESSAGE(store.ok(), store.status().message());
  return std::move(store).value();
}

// ---------------------------------------------------------------------------------------------
// The database as an attacker with file access sees it: plain RocksDB, every column family.

class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "events", "by_workspace", "by_key", "idempotency", "meta"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles_, &raw);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  rocksdb::ColumnFamilyHandle* events() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[5]; }

  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return value;
  }
  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& value) {
    BOOST_REQUIRE(db_->Put(rocksdb::WriteOptions(), cf, key, value).ok());
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    BOOST_REQUIRE(db_->Delete(rocksdb::WriteOptions(), cf, key).ok());
  }
  std::string GetEvent(uint64_t seq) { return Get(events(), EncodeSeq(seq)); }
  void PutEvent(uint64_t seq, const std::string& value) { Put(events(), EncodeSeq(seq), value); }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

// ---------------------------------------------------------------------------------------------
// The history.
//
//   T0        workspace acme, admin key (actor "alice") and auditor key
//   T0+1h     K1 "Billing sync production" (read_only, owner ops@), by alice
//   T0+1h+1s  K2 `Reporting, "nightly" export` (invoices:read), by an actor whose name holds a
//             quote, a comma and a newline
//   T0+1h+2s  K3 "test" (full_access, no owner), by alice
//   T0+2h     K1 used twice (valid)                    <- signed checkpoint at the second use
//   T0+4h     K1 used three times (valid): 5
//   T0+5h     K1 rotated to K1b with a grace of 1 h (grace_until T0+6h), by alice
//   T0+5h30m  K1 used (valid, in grace): 6; K1b used: 1
//   T0+7h     K1 used after its grace: rejected (expired)
//   T0+8h     K2 revoked, by alice
//   T0+9h     K2 used twice: rejected (revoked)
//   T0+10h    K1b used                                 <- signed checkpoint at the head
struct History {
  std::unique_ptr<testing::LedgerEnv> env;  // closed; owns the data directory
  std::string data_dir;
  std::optional<SigningKey> signing_key;
  std::string ws = "acme";
  std::string weird_actor = "=Jane \"JJ\" Doe, Finance\nTeam";  // '=': a spreadsheet formula in CSV
  std::string k2_name = "Reporting, \"nightly\" export";
  std::string k1, k1b, k2, k3;
  std::string k1_token;
  uint64_t k2_created_seq = 0;
  uint64_t mid_seq = 0;  // K1's second use; signed
  uint64_t head_seq = 0;  // signed
};

inline std::unique_ptr<History> BuildHistory() {
  auto h = std::make_unique<History>();
  h->env = std::make_unique<testing::LedgerEnv>();
  testing::LedgerEnv& env = *h->env;
  auto at = [&](TimeMs t) { env.clock.Set(t); };
  auto use = [&](const std::string& token, const std::string& ip = "10.0.0.1") {
    auto r = env.Verify(token, "invoices:read", ip);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r->code;
  };

  at(kT0);
  testing::WorkspaceActors actors = env.MustSetUpWorkspace(h->ws, Plan::kPro, "Acme Inc");
  auto alice = env.ledger->Authenticate(actors.admin_token, "alice");
  auto jane = env.ledger->Authenticate(actors.admin_token, h->weird_actor);
  BOOST_REQUIRE(alice.ok() && jane.ok());

  at(kT0 + kHourMs);
  CreateKeyInput k1 = testing::KeyInput("Billing sync production", Preset::kReadOnly);
  k1.owner = "ops@acme.example";
  CreatedKey created1 = env.MustCreateKey(*alice, h->ws, k1);
  h->k1 = created1.key.id;
  h->k1_token = created1.token;
  at(kT0 + kHourMs + kSecondMs);
  CreateKeyInput k2 = testing::KeyInputWithAbilities(h->k2_name, {"invoices:read"});
  k2.owner = "finance@acme.example";
  CreatedKey created2 = env.MustCreateKey(*jane, h->ws, k2);
  h->k2 = created2.key.id;
  at(kT0 + kHourMs + 2 * kSecondMs);
  h->k3 = env.MustCreateKey(*alice, h->ws, testing::KeyInput("test", Preset::kFullAccess)).key.id;

  at(kT0 + 2 * kHourMs);
  BOOST_REQUIRE(use(h->k1_token) == VerifyCode::kValid);
  at(kT0 + 2 * kHourMs + kSecondMs);
  BOOST_REQUIRE(use(h->k1_token) == VerifyCode::kValid);
  h->mid_seq = env.ledger->head_seq();
  for (int i = 0; i < 3; ++i) {
    at(kT0 + 4 * kHourMs + i * kSecondMs);
    BOOST_REQUIRE(use(h->k1_token) == VerifyCode::kValid);
  }

  at(kT0 + 5 * kHourMs);
  auto rotated = env.RotateWithGrace(*alice, h->ws, h->k1, 3600);
  BOOST_REQUIRE_MESSAGE(rotated.ok(), rotated.status().message());
  h->k1b = rotated->key.id;
  const std::string k1b_token = rotated->token;
  at(kT0 + 5 * kHourMs + 30 * kMinuteMs);
  BOOST_REQUIRE(use(h->k1_token) == VerifyCode::kValid);
  BOOST_REQUIRE(use(k1b_token) == VerifyCode::kValid);
  at(kT0 + 7 * kHourMs);
  BOOST_REQUIRE(use(h->k1_token) == VerifyCode::kExpired);

  at(kT0 + 8 * kHourMs);
  BOOST_REQUIRE(env.Revoke(*alice, h->ws, h->k2, "exposed in chat").ok());
  at(kT0 + 9 * kHourMs);
  BOOST_REQUIRE(use(created2.token, "203.0.113.7") == VerifyCode::kRevoked);
  at(kT0 + 9 * kHourMs + kSecondMs);
  BOOST_REQUIRE(use(created2.token, "203.0.113.7") == VerifyCode::kRevoked);
  at(kT0 + 10 * kHourMs);
  BOOST_REQUIRE(use(k1b_token) == VerifyCode::kValid);
  h->head_seq = env.ledger->head_seq();

  for (const Event& e : env.Log()) {
    if (e.key_id == h->k2 && e.type() == EventType::kKeyCreated) h->k2_created_seq = e.seq;
  }
  BOOST_REQUIRE(h->k2_created_seq > 0);
  env.CloseLedger();

  // The tests own the signed checkpoints: drop any the Ledger wrote, then sign two.
  auto key = SigningKey::Generate();
  BOOST_REQUIRE(key.ok());
  h->signing_key = *key;
  std::vector<std::string> stale;
  auto existing = ReadChainCheckpoints(*env.store);
  BOOST_REQUIRE(existing.ok());
  for (const auto& c : *existing) stale.push_back(ChainCheckpointRow(c.row_seq));
  rocksdb::WriteBatch drop;
  for (const auto& row : stale) drop.Delete(env.store->cf(Cf::kMeta), row);
  BOOST_REQUIRE(env.store->Write(drop, true).ok());
  PutSignedCheckpoint(*env.store, *h->signing_key, h->mid_seq);
  PutSignedCheckpoint(*env.store, *h->signing_key, h->head_seq);
  env.store.reset();
  h->data_dir = env.dir.path();
  return h;
}

// Built on first use, then shared read-only: tests work on copies.
inline const History& TheHistory() {
  static std::unique_ptr<History> history = BuildHistory();
  return *history;
}

// A private copy of the history's data directory.
class HistoryCopy {
 public:
  HistoryCopy() : history_(TheHistory()) {
    std::filesystem::copy(history_.data_dir, data_dir(), std::filesystem::copy_options::recursive);
    WriteFile(public_key_file(), PublicKeyToHex(history_.signing_key->public_key()) + "\n");
  }
  const History& history() const { return history_; }
  std::string data_dir() const { return scratch_.Path("data"); }
  std::string public_key_file() const { return scratch_.Path("real_key.pub"); }
  std::string Path(const std::string& name) const { return scratch_.Path(name); }
  const std::string& root() const { return scratch_.path(); }  // a directory, not a database

 private:
  const History& history_;
  ScratchDir scratch_;
};

}  // namespace keyledger::cli_testing
