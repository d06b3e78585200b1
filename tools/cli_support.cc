#include "tools/cli_support.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/time_format.h"
#include "core/utf8.h"
#include "projections/validation.h"

namespace keyledger::tools {
namespace {

// Escapes control characters and malformed UTF-8 so that a name cannot move the cursor or
// break the row, and clips the text after `max_chars` characters (0: never).
std::string SafeCell(std::string_view text, size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size();) {
    if (max_chars != 0 && chars == max_chars) {
      out += "…";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = Utf8SequenceLength(text, i);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.append(text.substr(i, n));
      i += n;
      ++chars;
      continue;
    }
    ++i;
    ++chars;
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return chars;
}

// The write-ahead log files of the database in `dir` (RocksDB keeps them there by default).
std::set<std::string> WalFiles(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log") names.insert(entry.path().filename().string());
  }
  return names;
}

}  // namespace

int Fail(std::string_view command, const Status& s) {
  std::cerr << "keyledger " << command << ": " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCheckFailed;
}

CLI::Option* AddDataOption(CLI::App& cmd, std::string& data_dir) {
  return cmd.add_option("--data", data_dir, "Data directory of the service (opened read-only)")
      ->required()
      ->check(CLI::ExistingDirectory);
}

namespace {

// What is wrong with `text` as a time flag, or nothing.
std::string TimeFlagProblem(const std::string& text, bool past_only) {
  const std::optional<TimeMs> t = ParseRfc3339(text);
  if (!t) return "'" + text + "' is not an RFC 3339 time such as 2026-11-23T10:00:00.000Z";
  if (past_only && *t > SystemClock().Now()) return "'" + text + "' is in the future; the log holds nothing after now";
  return {};
}

}  // namespace

CLI::Validator Rfc3339Validator() {
  return CLI::Validator([](std::string& text) { return TimeFlagProblem(text, false); }, "RFC3339");
}

CLI::Validator WorkspaceIdValidator() {
  return CLI::Validator(
      [](std::string& id) {
        return IsValidWorkspaceId(id) ? std::string()
                                      : "'" + id + "' is not a workspace id (lowercase letters, digits and '-', 2 to 63)";
      },
      "WORKSPACE");
}

CLI::Validator PastRfc3339Validator() {
  return CLI::Validator([](std::string& text) { return TimeFlagProblem(text, true); }, "RFC3339");
}

std::optional<TimeMs> ParseTimeFlag(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return ParseRfc3339(text);
}

Status CheckHoldsStore(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return Status::Invalid("--data " + dir + " holds no keyledger database");
  }
  return Status::Ok();
}

Result<std::unique_ptr<EventStore>> OpenReadOnly(const std::string& dir) {
  if (Status s = CheckHoldsStore(dir); !s.ok()) return s;
  StoreOptions options;
  options.read_only = true;
  options.create_if_missing = false;
  std::string why;
  for (int attempt = 1; attempt <= kReadOnlyOpenAttempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    const std::set<std::string> wals_before = WalFiles(dir);
    auto store = EventStore::Open(dir, options);
    const std::set<std::string> wals_after = WalFiles(dir);
    // Strict first: no log appeared or vanished. Then, under a flush rate too high for that,
    // at least no log that existed before the open vanished during it.
    const bool strict = attempt <= kReadOnlyOpenAttempts / 2;
    const bool none_vanished = std::includes(wals_after.begin(), wals_after.end(), wals_before.begin(),
                                             wals_before.end());
    if (!store.ok()) {
      why = store.status().message();
    } else if (strict ? wals_before != wals_after : !none_vanished) {
      why = "the service flushed and deleted a write-ahead log during every attempt to open it";
    } else {
      return store;
    }
  }
  return Status::Internal("cannot open the data directory " + dir + " read-only (" + why + ")");
}

Progress::Progress() : enabled_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() { Clear(); }

void Progress::Show(std::string_view line) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_chars_ != 0 && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const size_t chars = DisplayWidth(line) + 1;
  std::cerr << '\r' << line << "…";
  if (chars < shown_chars_) std::cerr << std::string(shown_chars_ - chars, ' ');
  std::cerr << std::flush;
  shown_chars_ = chars;
}

void Progress::Clear() {
  if (!enabled_ || shown_chars_ == 0) return;
  std::cerr << '\r' << std::string(shown_chars_, ' ') << '\r' << std::flush;
  shown_chars_ = 0;
}

Table::Table(std::vector<std::string> headers, std::vector<size_t> max_chars)
    : headers_(std::move(headers)), max_chars_(std::move(max_chars)) {
  max_chars_.resize(headers_.size(), kDefaultMaxCellChars);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (size_t c = 0; c < cells.size(); ++c) cells[c] = SafeCell(cells[c], max_chars_[c]);
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - DisplayWidth(row[c]) + 2, ' ');
    }
    out << line << "\n";
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

std::string TimeOrDash(TimeMs t) { return t == 0 ? "-" : FormatRfc3339(t); }

}  // namespace keyledger::tools
