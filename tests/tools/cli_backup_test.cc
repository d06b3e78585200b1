// `keyledger backup`: a consistent copy taken while a live Ledger keeps appending on the source
// (it holds the read-write handle; the backup opens the source read-only), and the copy's contents.

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <boost/test/unit_test.hpp>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/tools/cli_fixture.h"
#include "tools/backup_command.h"

namespace keyledger::cli_testing {
namespace {

BOOST_AUTO_TEST_SUITE(cli_backup)

BOOST_AUTO_TEST_CASE(a_backup_taken_while_the_ledger_appends_verifies_and_replays_to_its_head) {
  testing::LedgerEnv env;  // the live service: its Ledger holds the read-write handle
  env.clock.Set(kT0);
  testing::WorkspaceActors actors = env.MustSetUpWorkspace("acme");
  CreateKeyInput input = testing::KeyInput("Warehouse sync production", Preset::kReadOnly);
  input.owner = "data@acme.example";
  const CreatedKey key = env.MustCreateKey(actors.admin, "acme", input);

  // Boost.Test is not thread-safe: the writer only counts, the test thread checks.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended{0};
  std::atomic<uint64_t> failures{0};
  std::thread writer([&] {
    auto last_flush = std::chrono::steady_clock::now();
    for (uint64_t i = 1; !stop.load(); ++i) {
      env.clock.Advance(1);
      auto used = testing::Await<VerifyResult>([&](Callback<VerifyResult> cb) {
        env.ledger->Verify(VerifyInput{key.token, "invoices:read", "10.0.0.9"}, std::move(cb));
      });
      if (!used.ok() || used->code != VerifyCode::kValid) failures.fetch_add(1);
      if (i % 20 == 0) {
        auto created = testing::Await<CreatedKey>([&](Callback<CreatedKey> cb) {
          env.ledger->CreateApiKey(actors.admin, "acme",
                                   testing::KeyInput("Batch job " + std::to_string(i), Preset::kReadOnly),
                                   std::move(cb));
        });
        if (!created.ok()) failures.fetch_add(1);
      }
      // Flushes make SST files that compactions then delete under the read-only reader. At most
      // one per 20 ms: a service flushes once per 64 MB of writes, seconds apart, and at hundreds
      // per second (what an unthrottled loop reaches) every open on a loaded machine lost the
      // race, all 40 attempts of it.
      const auto now = std::chrono::steady_clock::now();
      if (i % 50 == 0 && now - last_flush >= std::chrono::milliseconds(20)) {
        last_flush = now;
        if (!env.store->Flush().ok()) failures.fetch_add(1);
      }
      appended.fetch_add(1);
    }
  });
  while (appended.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  ScratchDir scratch;
  const std::string to = scratch.Path("backup");
  const uint64_t appended_before = appended.load();
  RunResult backup = RunCli({"backup", "--data", env.dir.path(), "--to", to});
  const uint64_t appended_after = appended.load();
  while (appended.load() < appended_after + 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  writer.join();
  BOOST_TEST(failures.load() == 0u);
  BOOST_TEST(appended_after > appended_before, "the ledger kept appending during the backup");

  BOOST_REQUIRE_MESSAGE(backup.exit_code == 0, backup);
  BOOST_TEST(Contains(backup.out, "verified: the copy's chain is intact"), backup);
  const uint64_t head = HeadSeq(backup.out);
  BOOST_REQUIRE_MESSAGE(head != 0, backup);
  BOOST_TEST(head > appended_before, backup);
  BOOST_TEST(head < env.ledger->head_seq(), "the source went on past the copy");

  RunResult verify = RunCli({"verify-log", "--data", to});
  BOOST_TEST(verify.exit_code == 0, verify);
  BOOST_TEST(HeadSeq(verify.out) == head, verify);
  RunResult replay = RunCli({"replay", "--data", to, "--format", "json"});
  BOOST_TEST(replay.exit_code == 0, replay);
  BOOST_TEST(ParseJson(replay.out).at("seq").to_number<uint64_t>() == head, replay);
  // The copy is a database the service can open read-write.
  auto reopened = OpenStore(to);
  auto last = reopened->LastEvent();
  BOOST_TEST((last.ok() && last->first == head));
}

BOOST_AUTO_TEST_CASE(the_copy_holds_the_checkpoints_and_key_files) {
  HistoryCopy copy;
  const History& h = copy.history();
  BOOST_REQUIRE(h.signing_key->SavePem(copy.data_dir() + "/signing_key.pem").ok());
  WriteFile(copy.data_dir() + "/signing_key.pub", PublicKeyToHex(h.signing_key->public_key()) + "\n");
  const std::string to = copy.Path("backup");
  RunResult r = RunCli({"backup", "--data", copy.data_dir(), "--to", to});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r);
  BOOST_TEST(HeadSeq(r.out) == h.head_seq, r);
  BOOST_TEST(Contains(r.out, "copied signing_key.pub, signing_key.pem (mode 0600)"), r);
  struct stat st {};
  BOOST_REQUIRE(stat((to + "/signing_key.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  // Closed to other local users as the data directory is (serve's umask 027), whatever the
  // caller's umask: the copy holds the same owners, names and uses.
  const mode_t caller_umask = ::umask(022);
  ::umask(caller_umask);
  BOOST_TEST_REQUIRE((caller_umask & 007) != 007, "the test needs a caller umask that leaves others some access");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(to)) {
    BOOST_REQUIRE(stat(entry.path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0007) == 0u, entry.path() << " mode " << std::oct << (st.st_mode & 0777));
  }
  BOOST_REQUIRE(stat(to.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0007) == 0u);

  RunResult verify = RunCli({"verify-log", "--data", to});
  BOOST_TEST(verify.exit_code == 0, verify);
  BOOST_TEST(Contains(verify.out, "(from " + to + "/signing_key.pub"), verify);
  BOOST_TEST(Contains(verify.out, "signed checkpoints verified: 2"), verify);
  RunResult replay = RunCli({"replay", "--data", to});
  BOOST_TEST(Contains(replay.out, "projection digest matches the signed checkpoint"), replay);

  const std::string without = copy.Path("without-key");
  RunResult no_key = RunCli({"backup", "--data", copy.data_dir(), "--to", without, "--no-private-key"});
  BOOST_TEST(no_key.exit_code == 0, no_key);
  BOOST_TEST(!std::filesystem::exists(without + "/signing_key.pem"));
  BOOST_TEST(std::filesystem::exists(without + "/signing_key.pub"));
}

// Captures what std::cout and std::cerr receive while it lives.
class CapturedOutput {
 public:
  CapturedOutput() : out_(std::cout.rdbuf(captured_out.rdbuf())), err_(std::cerr.rdbuf(captured_err.rdbuf())) {}
  ~CapturedOutput() {
    std::cout.rdbuf(out_);
    std::cerr.rdbuf(err_);
  }
  std::ostringstream captured_out;
  std::ostringstream captured_err;

 private:
  std::streambuf* out_;
  std::streambuf* err_;
};

// In process, to make the read-only source fail as when the live server compacts a file away.
BOOST_AUTO_TEST_CASE(a_source_read_error_is_retried_into_an_emptied_target) {
  HistoryCopy copy;
  const History& h = copy.history();
  tools::BackupFlags flags;
  flags.data_dir = copy.data_dir();
  flags.to_dir = copy.Path("backup");
  flags.simulated_source_failures = 2;
  int code = 0;
  std::string out, err;
  {
    CapturedOutput captured;
    code = tools::Backup(flags);
    out = captured.captured_out.str();
    err = captured.captured_err.str();
  }
  BOOST_TEST(code == 0, out << err);
  BOOST_TEST(Contains(err, "retrying, attempt 2 of 4"), err);
  BOOST_TEST(Contains(err, "retrying, attempt 3 of 4"), err);
  BOOST_TEST(HeadSeq(out) == h.head_seq, out);
  RunResult verify = RunCli({"verify-log", "--data", flags.to_dir, "--public-key", copy.public_key_file()});
  BOOST_TEST(verify.exit_code == 0, verify);

  flags.to_dir = copy.Path("never");
  flags.simulated_source_failures = tools::kBackupAttempts;
  {
    CapturedOutput captured;
    code = tools::Backup(flags);
    err = captured.captured_err.str();
  }
  BOOST_TEST(code == 1, err);
  BOOST_TEST(Contains(err, "attempt 4 of 4"), err);
  BOOST_TEST(Contains(err, "holds an incomplete copy"), err);
}

BOOST_AUTO_TEST_CASE(a_non_empty_target_is_refused) {
  HistoryCopy copy;
  const std::string to = copy.Path("occupied");
  std::filesystem::create_directories(to);
  WriteFile(to + "/something", "x");
  RunResult r = RunCli({"backup", "--data", copy.data_dir(), "--to", to});
  BOOST_TEST(r.exit_code == 2, r);
  BOOST_TEST(Contains(r.err, "not empty"), r);
  RunResult onto_itself = RunCli({"backup", "--data", copy.data_dir(), "--to", copy.data_dir()});
  BOOST_TEST(onto_itself.exit_code == 2, onto_itself);
}

// Mistakes in what is copied where are bad usage (exit 2) and leave nothing behind: a source that
// is not a keyledger database, a target inside the data directory.
BOOST_AUTO_TEST_CASE(a_source_that_is_no_store_or_a_target_inside_it_is_refused) {
  HistoryCopy copy;
  const std::string not_store = copy.Path("not-a-store"), to = copy.Path("backup");
  std::filesystem::create_directories(not_store);
  WriteFile(not_store + "/x", "hi");
  RunResult no_store = RunCli({"backup", "--data", not_store, "--to", to});
  BOOST_TEST(no_store.exit_code == 2, no_store);
  BOOST_TEST(Contains(no_store.err, "holds no keyledger database"), no_store);
  BOOST_TEST(!Contains(no_store.err, "attempt"), "no retries: " << no_store);
  BOOST_TEST(!std::filesystem::exists(to));

  const std::string inside = copy.data_dir() + "/sub";
  RunResult nested = RunCli({"backup", "--data", copy.data_dir(), "--to", inside});
  BOOST_TEST(nested.exit_code == 2, nested);
  BOOST_TEST(Contains(nested.err, "overlap"), nested);
  BOOST_TEST(!std::filesystem::exists(inside));
  RunResult around = RunCli({"backup", "--data", copy.data_dir(), "--to", copy.root() + "/../"});
  BOOST_TEST(around.exit_code == 2, around);
}

// The WALs serve set aside at a start on a damaged one go with the copy, and verify-log on the
// copy reports them as it does on the source.
BOOST_AUTO_TEST_CASE(set_aside_wals_go_with_the_copy) {
  HistoryCopy copy;
  const std::string set_aside = copy.data_dir() + "/wal-set-aside/2026-12-05T05-00-00.000Z";
  std::filesystem::create_directories(set_aside);
  WriteFile(set_aside + "/000009.log", "log bytes");
  WriteFile(set_aside + "/note.txt", "found_at=2026-12-05T05:00:00.000Z\nfile=000009.log\noffset=10\n"
                                     "bytes_after=20\nwhat=the write-ahead log 000009.log is damaged\n"
                                     "recovered_head_seq=3\n");
  const std::string to = copy.Path("backup");
  RunResult r = RunCli({"backup", "--data", copy.data_dir(), "--to", to});
  BOOST_TEST(r.exit_code == 0, r);
  BOOST_TEST(Contains(r.out, "wal-set-aside/"), r);
  BOOST_TEST(ReadFileText(to + "/wal-set-aside/2026-12-05T05-00-00.000Z/000009.log") == "log bytes");
  for (const std::string& dir : {copy.data_dir(), to}) {
    RunResult v = RunCli({"verify-log", "--data", dir});
    BOOST_TEST(v.exit_code == 1, v);
    BOOST_TEST(FirstBrokenSeq(v.out) == 4u, v);
    BOOST_TEST(Contains(v.out, "at 2026-12-05T05:00:00.000Z the service started on a damaged write-ahead log and "
                               "recovered the log to seq 3: the write-ahead log 000009.log is damaged"),
               v);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
