#include "tools/backup_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "core/time_format.h"
#include "events/chain_verifier.h"
#include "events/codec.h"
#include "events/wal_scan.h"
#include "tools/cli_support.h"

namespace keyledger::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCommand = "backup";
constexpr size_t kBatchBytes = 4 << 20;
constexpr Cf kAllFamilies[] = {Cf::kEvents, Cf::kByWorkspace, Cf::kByKey, Cf::kIdempotency, Cf::kMeta};
static_assert(std::size(kAllFamilies) == kCfCount);

struct CopyStats {
  uint64_t rows = 0;
  uint64_t head_seq = 0;  // the source's head in the view the copy was taken from
  Digest head_hash{};
};

// Which side failed decides whether a retry can help: the read-only source may lose a file to a
// compaction of the live server; a failure to write the copy will not go away by itself.
struct CopyFailure {
  bool source = false;
  Status status;
};

Status CheckTarget(const std::string& to) {
  std::error_code ec;
  if (!fs::exists(to, ec)) return Status::Ok();
  if (!fs::is_directory(to, ec)) return Status::Invalid("--to " + to + " exists and is not a directory");
  if (!fs::is_empty(to, ec) || ec) {
    return Status::Invalid("--to " + to + " exists and is not empty; a backup goes into a new directory");
  }
  return Status::Ok();
}

// The source must be a keyledger database, and neither directory inside the other (a copy inside
// the live data directory would be copied into itself by the next backup, and mixed with RocksDB's
// files). Both are the caller's mistakes: nothing is created.
Status CheckSource(const std::string& from, const std::string& to) {
  if (Status s = CheckHoldsStore(from); !s.ok()) return s;
  std::error_code ec;
  const fs::path source = fs::weakly_canonical(from, ec), target = fs::weakly_canonical(to, ec);
  if (ec) return Status::Invalid("cannot resolve --data " + from + " or --to " + to + ": " + ec.message());
  const auto within = [](const fs::path& inner, const fs::path& outer) {
    const auto [end, _] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    return end == outer.end();
  };
  if (within(target, source) || within(source, target)) {
    return Status::Invalid("--to " + to + " and --data " + from + " overlap; a backup goes outside the data directory");
  }
  return Status::Ok();
}

// Empties `dir` (which held only a failed attempt's files) without removing it.
Status EmptyDirectory(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    fs::remove_all(entry.path(), ec);
    if (ec) break;
  }
  if (ec) return Status::Internal("cannot empty " + dir + " for another attempt: " + ec.message());
  return Status::Ok();
}

std::optional<CopyFailure> CopyOnce(const std::string& from, const std::string& to, bool simulate_failure,
                                    Progress& progress, CopyStats& stats) {
  stats = CopyStats{};
  auto source = OpenReadOnly(from);
  if (!source.ok()) return CopyFailure{true, source.status()};
  auto head = (*source)->LastEvent();
  if (!head.ok()) return CopyFailure{true, head.status()};
  stats.head_seq = head->first;
  if (stats.head_seq != 0) {
    auto parts = SplitStoredValue(head->second);
    if (!parts.ok()) return CopyFailure{true, Status::Internal("the head event cannot be read")};
    stats.head_hash = parts->hash;
  }

  auto target = EventStore::Open(to, StoreOptions{});
  if (!target.ok()) return CopyFailure{false, Status::Internal("cannot create the copy: " + target.status().message())};
  rocksdb::WriteBatch batch;
  Status write_failure;
  auto flush_batch = [&]() {
    if (batch.Count() == 0) return true;
    write_failure = (*target)->Write(batch, /*sync=*/false);
    batch.Clear();
    return write_failure.ok();
  };
  for (Cf family : kAllFamilies) {
    rocksdb::ColumnFamilyHandle* into = (*target)->cf(family);
    Status scanned = (*source)->Scan(family, "", "", [&](std::string_view key, std::string_view value) {
      if (!batch.Put(into, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())).ok()) {
        write_failure = Status::Internal("a row is too large to copy");
        return false;
      }
      ++stats.rows;
      if (batch.GetDataSize() < kBatchBytes) return true;
      progress.Show("copied " + std::to_string(stats.rows) + " rows");
      return flush_batch();
    });
    if (!write_failure.ok()) return CopyFailure{false, write_failure};
    if (!scanned.ok()) return CopyFailure{true, scanned};
    if (simulate_failure) {
      flush_batch();
      return CopyFailure{true, Status::Internal("simulated: a file of the source vanished")};
    }
  }
  if (!flush_batch()) return CopyFailure{false, write_failure};
  if (Status s = (*target)->Flush(); !s.ok()) return CopyFailure{false, s};
  return std::nullopt;
}

// Copies a small file, creating it with `mode` from the start so a private key is never readable
// by others, not even for a moment.
Status CopySmallFile(const fs::path& from, const fs::path& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Status::Internal("cannot read " + from.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::Internal("cannot create " + to.string());
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::Internal("cannot write " + to.string());
  return Status::Ok();
}

Result<std::vector<std::string>> CopyKeyFiles(const BackupFlags& flags) {
  struct KeyFile {
    const char* name;
    mode_t mode;
    bool is_private;
  };
  static constexpr KeyFile kFiles[] = {{"signing_key.pub", 0644, false}, {"signing_key.pem", 0600, true}};
  std::vector<std::string> copied;
  for (const KeyFile& file : kFiles) {
    if (file.is_private && flags.no_private_key) continue;
    const fs::path from = fs::path(flags.data_dir) / file.name;
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;
    if (Status s = CopySmallFile(from, fs::path(flags.to_dir) / file.name, file.mode); !s.ok()) return s;
    copied.push_back(std::string(file.name) + (file.is_private ? " (mode 0600)" : ""));
  }
  // The WALs serve set aside at a start on a damaged one (events/wal_scan.h): evidence that
  // verify-log reports, and what an operator would recover by hand.
  const fs::path set_aside = fs::path(flags.data_dir) / kWalSetAsideDir;
  std::error_code ec;
  if (fs::exists(set_aside, ec)) {
    fs::copy(set_aside, fs::path(flags.to_dir) / kWalSetAsideDir, fs::copy_options::recursive, ec);
    if (ec) return Status::Internal("cannot copy " + set_aside.string() + ": " + ec.message());
    copied.push_back(std::string(kWalSetAsideDir) + "/");
  }
  return copied;
}

// Reopens the copy read-only and walks its chain. nullopt when it is intact and its head is the
// source's head as of the copy; otherwise the reason, with the first finding when there is one.
struct CopyDefect {
  std::optional<ChainFinding> finding;
  std::string what;
};

Result<std::optional<CopyDefect>> CheckCopy(const std::string& to, const CopyStats& stats, ChainReport& report) {
  auto copy = OpenReadOnly(to);
  if (!copy.ok()) return copy.status();
  Progress progress;
  ChainVerifyOptions options;
  if (progress.enabled()) {
    options.progress = [&progress](uint64_t seq) {
      progress.Show("verified " + std::to_string(seq) + " events of the copy");
    };
  }
  auto walked = VerifyChain(**copy, options);
  if (!walked.ok()) return walked.status();
  report = std::move(walked).value();
  if (!report.findings.empty()) {
    return std::optional<CopyDefect>(CopyDefect{report.findings.front(), "the copy's chain does not verify"});
  }
  if (report.head_seq != stats.head_seq || report.head_hash != stats.head_hash) {
    return std::optional<CopyDefect>(CopyDefect{
        std::nullopt, "the copy's head (seq " + std::to_string(report.head_seq) + ", hash " +
                          ToHex(report.head_hash) + ") is not the source's (seq " +
                          std::to_string(stats.head_seq) + ", hash " + ToHex(stats.head_hash) + ")"});
  }
  return std::optional<CopyDefect>();
}

}  // namespace

int Backup(const BackupFlags& flags) {
  if (Status s = CheckTarget(flags.to_dir); !s.ok()) return Fail(kCommand, s);
  if (Status s = CheckSource(flags.data_dir, flags.to_dir); !s.ok()) return Fail(kCommand, s);
  // The copy holds what the data directory holds: created as serve creates that, readable by the
  // group and no one else, whatever the caller's umask.
  ::umask(::umask(0) | 0027);
  std::error_code ec;
  fs::create_directories(flags.to_dir, ec);
  if (ec) return Fail(kCommand, Status::Internal("cannot create " + flags.to_dir + ": " + ec.message()));

  Progress progress;
  CopyStats stats;
  ChainReport report;
  std::optional<CopyDefect> defect;
  for (int attempt = 1;; ++attempt) {
    const bool simulate_failure = attempt <= flags.simulated_source_failures;
    std::optional<CopyFailure> failure = CopyOnce(flags.data_dir, flags.to_dir, simulate_failure, progress, stats);
    progress.Clear();
    if (!failure) {
      // A copy that does not verify may come from a view of the source torn by a flush of the live
      // server (tools/cli_support.h, OpenReadOnly): copy again. A broken source stays broken.
      auto checked = CheckCopy(flags.to_dir, stats, report);
      if (!checked.ok()) return Fail(kCommand, checked.status());
      defect = std::move(checked).value();
      if (!defect) break;
      if (attempt == kBackupAttempts) break;
      failure = CopyFailure{true, Status::Internal(defect->what)};
    }
    if (!failure->source || attempt == kBackupAttempts) {
      return Fail(kCommand, Status::Internal(failure->status.message() + " (attempt " + std::to_string(attempt) +
                                             " of " + std::to_string(kBackupAttempts) + "; " + flags.to_dir +
                                             " holds an incomplete copy)"));
    }
    std::cerr << "keyledger backup: attempt " << attempt << " failed (" << failure->status.message()
              << "); retrying, attempt " << attempt + 1 << " of " << kBackupAttempts << "\n";
    if (Status s = EmptyDirectory(flags.to_dir); !s.ok()) return Fail(kCommand, s);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
  }
  std::cout << "backup of " << flags.data_dir << " written to " << flags.to_dir << ": " << stats.rows << " rows\n";
  if (defect) {
    if (defect->finding) {
      std::cout << "FIRST BROKEN SEQ: " << defect->finding->seq << "\n" << defect->finding->what << "\n";
    }
    std::cout << "FAILED: " << defect->what << " after " << kBackupAttempts
              << " attempts; run keyledger verify-log on " << flags.data_dir << "\n";
    return kExitCheckFailed;
  }
  auto copied = CopyKeyFiles(flags);
  if (!copied.ok()) return Fail(kCommand, copied.status());
  if (!copied->empty()) {
    std::cout << "copied ";
    for (size_t i = 0; i < copied->size(); ++i) std::cout << (i ? ", " : "") << (*copied)[i];
    std::cout << "\n";
  }
  if (report.head_seq == 0) {
    std::cout << "head: seq 0 (the log is empty)\n";
  } else {
    std::cout << "head: seq " << report.head_seq << ", hash " << ToHex(report.head_hash) << ", ts "
              << FormatRfc3339(report.head_ts) << "\n";
  }
  std::cout << "verified: the copy's chain is intact and its head is the source's head at the time of "
               "the backup\n";
  return kExitOk;
}

void AddBackupCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<BackupFlags>();
  CLI::App* cmd = app.add_subcommand("backup", "A consistent copy of the data directory, taken while the service runs.");
  AddDataOption(*cmd, flags->data_dir);
  cmd->add_option("--to", flags->to_dir, "New or empty directory for the copy")->required();
  cmd->add_flag("--no-private-key", flags->no_private_key,
                "Leave signing_key.pem out of the copy (keep it in a secret store instead)");
  cmd->callback([flags, &exit_code] { exit_code = Backup(*flags); });
}

}  // namespace keyledger::tools
