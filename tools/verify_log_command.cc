#include "tools/verify_log_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "core/signing.h"
#include "core/time_format.h"
#include "events/chain_checkpoint.h"
#include "events/chain_verifier.h"
#include "events/wal_scan.h"
#include "tools/cli_support.h"

namespace keyledger::tools {
namespace {

constexpr std::string_view kCommand = "verify-log";
constexpr size_t kMaxKeyFileBytes = 64 * 1024;  // a PEM public key is ~110 bytes
constexpr size_t kMaxCheckpointFileBytes = 64 * 1024;  // a checkpoint's JSON is ~420 bytes
constexpr int kMaxWalks = 3;

struct VerifyLogFlags {
  std::string data_dir;
  std::vector<std::string> public_key_files;  // oldest first
  std::vector<std::string> checkpoint_files;
};

struct TrustedKey {
  PublicKey key;
  std::string source;  // for the report
};

// The whole of a small file; an error naming it when it cannot be read or holds more than
// `max_bytes` (then it is not what it was given as: `what`).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read " + path);
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max_bytes) return Status::Invalid(path + " is too large to be " + std::string(what));
  return text;
}

Result<PublicKey> ReadPublicKeyFile(const std::string& path) {
  auto text = ReadSmallFile(path, kMaxKeyFileBytes, "a public key");
  if (!text.ok()) return text.status();
  auto key = ParsePublicKey(*text);
  if (!key.ok()) return Status::Invalid(path + ": " + key.status().message());
  return key;
}

// The checkpoints given with --checkpoint: each file the JSON body of GET /admin/v1/checkpoint.
Result<std::vector<ChainCheckpoint>> ReadHeldCheckpoints(const std::vector<std::string>& paths) {
  std::vector<ChainCheckpoint> held;
  for (const std::string& path : paths) {
    auto text = ReadSmallFile(path, kMaxCheckpointFileBytes, "a checkpoint");
    if (!text.ok()) return Status::Invalid("--checkpoint: " + text.status().message());
    auto checkpoint = ChainCheckpoint::FromJson(*text);
    if (!checkpoint.ok()) return Status::Invalid("--checkpoint " + path + ": " + checkpoint.status().message());
    held.push_back(std::move(*checkpoint));
  }
  return held;
}

// Each --public-key F, oldest first; else DIR/signing_key.pub; else none. A bad F is the
// caller's mistake (InvalidArgument), and so is a key given twice (its place in the order would
// be ambiguous); a bad DIR/signing_key.pub is a finding about the data (Internal).
Result<std::vector<TrustedKey>> ChooseTrustedKeys(const VerifyLogFlags& flags) {
  std::vector<TrustedKey> trusted;
  for (const std::string& file : flags.public_key_files) {
    auto key = ReadPublicKeyFile(file);
    if (!key.ok()) return Status::Invalid("--public-key " + key.status().message());
    for (const TrustedKey& earlier : trusted) {
      if (earlier.key == *key) return Status::Invalid("--public-key " + file + " is the key " + earlier.source + " holds");
    }
    trusted.push_back({*key, "--public-key " + file});
  }
  if (!trusted.empty()) return trusted;
  const std::string in_dir = (std::filesystem::path(flags.data_dir) / "signing_key.pub").string();
  std::error_code ec;
  if (!std::filesystem::exists(in_dir, ec)) return trusted;
  auto key = ReadPublicKeyFile(in_dir);
  if (!key.ok()) {
    return Status::Internal(key.status().message() + " (pass the service's public key with --public-key)");
  }
  trusted.push_back({*key, in_dir + "; it lives beside the data, so to prove who signed, pass a "
                                    "copy kept elsewhere with --public-key"});
  return trusted;
}

void PrintTrustedKeys(std::ostream& out, const std::vector<TrustedKey>& trusted) {
  if (trusted.empty()) {
    out << "trusted key: none (no --public-key and no signing_key.pub in the data directory): "
           "checkpoints are checked only against the key they name, so this proves the log "
           "consistent with itself, not who signed it\n";
  } else if (trusted.size() == 1) {
    out << "trusted key: " << PublicKeyToHex(trusted[0].key) << " (from " << trusted[0].source << ")\n";
  } else {
    out << "trusted keys, in the order the service used them:\n";
    for (size_t i = 0; i < trusted.size(); ++i) {
      out << "  " << i + 1 << ": " << PublicKeyToHex(trusted[i].key) << " (from " << trusted[i].source << ")\n";
    }
  }
}

// One walk over a fresh read-only view.
Result<ChainReport> Walk(const VerifyLogFlags& flags, const std::vector<TrustedKey>& trusted,
                         const std::vector<ChainCheckpoint>& held) {
  auto store = OpenReadOnly(flags.data_dir);
  if (!store.ok()) return store.status();
  Progress progress;
  ChainVerifyOptions options;
  for (const TrustedKey& t : trusted) options.trusted_keys.push_back(t.key);
  options.held_checkpoints = held;
  if (progress.enabled()) {
    options.progress = [&progress](uint64_t seq) {
      progress.Show("verified " + std::to_string(seq) + " events");
    };
  }
  return VerifyChain(**store, options);
}

// What the chain cannot show: a write-ahead log damaged in its middle loses the events after the
// damage when RocksDB recovers it (events/wal_scan.h), whether now (the WAL as it is) or at an
// earlier start of the service (the copies it set aside then).
Status AddWalFindings(const std::string& data_dir, ChainReport& report) {
  auto damage = FindStableWalDamage(data_dir);
  if (!damage.ok()) return damage.status();
  if (*damage) report.findings.push_back({report.head_seq + 1, (*damage)->what + "."});
  auto set_aside = ListSetAsideWals(data_dir);
  if (!set_aside.ok()) return set_aside.status();
  for (const SetAsideWal& wal : *set_aside) {
    report.findings.push_back(
        {wal.recovered_head_seq + 1,
         "at " + wal.found_at + " the service started on a damaged write-ahead log and recovered the log to seq " +
             std::to_string(wal.recovered_head_seq) + ": " + wal.damage.what + ". Copies of it are in " + wal.path +
             "."});
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const ChainFinding& a, const ChainFinding& b) { return a.seq < b.seq; });
  return Status::Ok();
}

int VerifyLog(const VerifyLogFlags& flags) {
  auto trusted = ChooseTrustedKeys(flags);
  if (!trusted.ok()) return Fail(kCommand, trusted.status());
  auto held = ReadHeldCheckpoints(flags.checkpoint_files);
  if (!held.ok()) return Fail(kCommand, held.status());

  // A break is reported only when a second walk on a fresh view finds it at the same seq: a
  // view torn by a flush of the live server (tools/cli_support.h, OpenReadOnly) must not read as
  // tampering. Tampering stays put; a torn view does not.
  auto report = Walk(flags, *trusted, *held);
  if (!report.ok()) return Fail(kCommand, report.status());
  bool confirmed = report->findings.empty();
  for (int walk = 2; walk <= kMaxWalks && !confirmed; ++walk) {
    auto again = Walk(flags, *trusted, *held);
    if (!again.ok()) return Fail(kCommand, again.status());
    confirmed = again->findings.empty() || again->findings.front().seq == report->findings.front().seq;
    report = std::move(again);
  }

  if (Status s = AddWalFindings(flags.data_dir, *report); !s.ok()) return Fail(kCommand, s);

  std::ostream& out = std::cout;
  PrintTrustedKeys(out, *trusted);
  if (!report->findings.empty()) {
    const ChainFinding& first = report->findings.front();
    out << "FIRST BROKEN SEQ: " << first.seq << "\n" << first.what << "\n";
    if (report->findings.size() > 1) {
      out << "further findings:\n";
      for (size_t i = 1; i < report->findings.size(); ++i) {
        out << "  seq " << report->findings[i].seq << ": " << report->findings[i].what << "\n";
      }
    }
    if (!confirmed) {
      out << "(the first broken seq moved between " << kMaxWalks << " walks: the log is being written "
          << "under the reader; run verify-log on a backup to be sure)\n";
    }
    out << "FAILED: " << report->findings.size()
        << (report->findings.size() == 1 ? " finding.\n" : " findings.\n");
    return kExitCheckFailed;
  }
  out << "events verified: " << report->events << "\n";
  out << "signed checkpoints verified: " << report->checkpoints;
  if (report->checkpoints == 0) {
    out << " (none in the log: nothing shows that its tail was not cut short)\n";
  } else {
    out << " (newest at seq " << report->last_checkpoint_seq << ")\n";
  }
  if (report->head_seq == 0) {
    out << "head: seq 0 (the log is empty)\n";
  } else {
    out << "head: seq " << report->head_seq << ", hash " << ToHex(report->head_hash) << ", ts "
        << FormatRfc3339(report->head_ts) << "\n";
  }
  out << "OK: the log is intact.\n";
  return kExitOk;
}

}  // namespace

void AddVerifyLogCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<VerifyLogFlags>();
  CLI::App* cmd = app.add_subcommand(
      "verify-log",
      "Walk the hash chain and the signed checkpoints; print the first broken seq and exit 1, or "
      "the head and exit 0.");
  AddDataOption(*cmd, flags->data_dir);
  cmd->add_option("--public-key", flags->public_key_files,
                  "A file holding the service's Ed25519 public key (64 hex digits or PEM) that "
                  "checkpoints must be signed with (default: DATA/signing_key.pub when present). "
                  "Repeatable: when the service's key was changed (serve --new-signing-key), pass "
                  "every key it used, oldest first")
      ->check(CLI::ExistingFile);
  cmd->add_option("--checkpoint", flags->checkpoint_files,
                  "A signed checkpoint kept outside the data directory (the JSON that GET "
                  "/admin/v1/checkpoint answered), checked as those in the log are: the log must "
                  "still hold the event it vouches for. Repeatable")
      ->check(CLI::ExistingFile);
  cmd->callback([flags, &exit_code] { exit_code = VerifyLog(*flags); });
}

}  // namespace keyledger::tools
