#pragma once
// What the offline subcommands (verify-log, replay, audit, review, backup) share: the exit-code
// convention, opening a data directory read-only, RFC 3339 flags, progress on a terminal, and
// aligned tables for people.
//
// Exit codes (API.md "Command line"): 0 success, 1 when a check fails or the data cannot be read,
// 2 on bad usage. CLI11 parse errors become 2 in main.cc; everything a command finds wrong with
// its arguments after parsing goes through Fail() with an InvalidArgument status, which is 2 too.

#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "events/store.h"

namespace keyledger::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;

// Writes "keyledger <command>: <message>" to standard error and returns the exit code for `s`:
// kExitUsage for InvalidArgument (the caller's arguments are at fault), kExitCheckFailed otherwise.
// REQUIRES: !s.ok()
int Fail(std::string_view command, const Status& s);

// Adds the required `--data DIR` option every offline subcommand takes; DIR must be an existing
// directory (checked by CLI11, so a missing one is bad usage).
CLI::Option* AddDataOption(CLI::App& cmd, std::string& data_dir);

// A CLI11 validator for RFC 3339 times (core/time_format.h), so that a bad TIME is a parse error
// (exit 2) with a message naming the option.
CLI::Validator Rfc3339Validator();
// The same, for an instant of the log's past: not after now (the log holds nothing later, and the
// state "at" a future instant would be today's with every key's expiry run forward). The
// service's `?as_of=` refuses the same.
CLI::Validator PastRfc3339Validator();
// REQUIRES: `text` passed Rfc3339Validator (or is empty: nullopt).
std::optional<TimeMs> ParseTimeFlag(const std::string& text);

// A workspace id as the service accepts them ([a-z0-9][a-z0-9-]{1,62}): a malformed or empty one is
// bad usage, not a workspace without history.
CLI::Validator WorkspaceIdValidator();

// InvalidArgument (bad usage: exit 2) unless `dir` holds a RocksDB database (its CURRENT file).
Status CheckHoldsStore(const std::string& dir);

// Opens `dir` read-only: a consistent view as of the open, safe beside a live server that holds
// the read-write handle. InvalidArgument when `dir` holds no database at all (the wrong
// directory was named); otherwise a failure is Internal, with a sentence naming the directory.
//
// Why the attempts: a read-only open reads the MANIFEST, then replays the write-ahead logs it
// finds. When the live server finishes a flush in between and deletes the log it flushed, the
// flushed rows are in neither, and the view has a hole in the middle of the log (seen in
// practice: verify-log beside a server flushing often reported events "missing"). So the set of
// log files is listed before and after the open, and the open is retried until it is unchanged:
// no log appeared or vanished while the view was being built. Under a flush rate so high that
// this never holds, the later attempts accept an open during which no pre-existing log
// vanished (the race seen); what remains (a log both created and deleted within one open) is
// caught by the chain checks of verify-log, replay and backup, which walk again on a fresh open
// before they report a break.
inline constexpr int kReadOnlyOpenAttempts = 10;
Result<std::unique_ptr<EventStore>> OpenReadOnly(const std::string& dir);

// A progress line on standard error, shown only when standard error is a terminal; quiet
// otherwise, so scripts see only the result. Redraws at most ten times a second; the line is
// erased by Clear() and by the destructor. Not thread-safe.
class Progress {
 public:
  Progress();
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  // "\r<line>…" over the previous line.
  void Show(std::string_view line);
  void Clear();

 private:
  const bool enabled_;
  size_t shown_chars_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

// A table for people: a header row and aligned columns two spaces apart. Cells are made safe
// for a terminal (control characters are escaped as \n, \t, \xNN) and widths count UTF-8
// sequences as one character. Long cells are clipped with "…" at their column's maximum
// (`max_chars[i]`, 0 for none; columns past the end of `max_chars` get kDefaultMaxCellChars).
class Table {
 public:
  static constexpr size_t kDefaultMaxCellChars = 48;
  explicit Table(std::vector<std::string> headers, std::vector<size_t> max_chars = {});
  // REQUIRES: cells.size() == the number of headers.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;  // already made safe and clipped
  std::vector<size_t> max_chars_;
};

// RFC 3339, or "-" for 0 (never / not set).
std::string TimeOrDash(TimeMs t);

}  // namespace keyledger::tools
