#pragma once
// `keyledger review --data DIR --workspace WS [--format table|json] [--as-of TIME]`: the key review of
// API.md ("Audit and review"; rules in projections/review.h) over the workspace's state as of TIME
// (default: now, the whole log), read-only beside a live server.
//
// --format table (default):
//   key review of <WS> as of <RFC 3339> (events 1..<seq>)
//   KEY  NAME  RULE  DETAIL
//   ...one row per finding...
//   <n> finding(s)                       or   no findings
// --format json (one line; the API's shape plus as_of and seq):
//   {"generated_at":"<now>","as_of":"<instant reviewed>","seq":N,"workspace":"<WS>",
//    "findings":[{"key_id","rule","detail"}...]}
// Exit 0 with or without findings (they are the report, not a failure); 1 when the workspace did
// not exist at that instant or the log cannot be read; 2 on bad usage.

#include <CLI/CLI.hpp>

namespace keyledger::tools {

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddReviewCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
