#pragma once
// `keyledger backup --data DIR --to DIR [--no-private-key]`: a consistent copy of a data directory,
// taken while the service runs.
//
// RocksDB's Checkpoint and BackupEngine need the read-write handle, which the live server holds,
// so the copy is made row by row: DIR is opened read-only (a consistent view of every column
// family as of the open: batches are atomic across them), a fresh database is created at --to
// with the same column families, every row is copied in WriteBatches, and the copy is flushed.
// The copy is then reopened read-only and its chain verified (events/chain_verifier.h), and its
// head seq and hash compared with the source's view. A read error on the source (a file compacted
// away under the read-only handle), or a copy that does not verify (a view of the source torn by
// a flush of the live server: tools/cli_support.h), is retried: the whole copy again into the
// emptied --to, at most kBackupAttempts times in all, each retry announced on standard error:
//   keyledger backup: attempt <n> failed (<reason>); retrying, attempt <n+1> of 4 The service's signing_key.pub and signing_key.pem (kept mode 0600)
// are copied too, unless --no-private-key leaves the private key out.
//
// --to must not exist or be an empty directory (otherwise bad usage, exit 2).
// Standard output (exit 0):
//   backup of <DIR> written to <TO>: <n> rows
//   copied <file>[, <file> (mode 0600)]                         (when the key files exist)
//   head: seq <n>, hash <64 hex>, ts <RFC 3339>                  (or "head: seq 0 (the log is empty)")
//   verified: the copy's chain is intact and its head is the source's head at the time of the backup
// When the copy still does not verify on the last attempt (exit 1; the copy is left in place):
//   backup of <DIR> written to <TO>: <n> rows
//   FIRST BROKEN SEQ: <n>
//   <sentence>
//   FAILED: the copy's chain does not verify after 4 attempts; run keyledger verify-log on <DIR>
// Errors (the source cannot be read after every attempt, the copy cannot be written): a sentence
// on standard error, exit 1.

#include <CLI/CLI.hpp>

#include <string>

namespace keyledger::tools {

inline constexpr int kBackupAttempts = 4;  // the first copy and up to 3 retries

struct BackupFlags {
  std::string data_dir;
  std::string to_dir;
  bool no_private_key = false;
  // Tests only (not a command-line option): the first n attempts fail after copying some rows,
  // as when the live server compacts a file away under the read-only source.
  int simulated_source_failures = 0;
};

// Runs the backup, writing the report to standard output and errors to standard error, and
// returns the exit code.
int Backup(const BackupFlags& flags);

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddBackupCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
