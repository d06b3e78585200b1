#pragma once
// `keyledger verify-log --data DIR [--public-key F]`: walks the hash chain and the signed
// checkpoints of a data directory (read-only, safe beside a live server) and names the first
// sequence number where the history was edited, removed, reordered or cut short.
//
// The trusted key is F (64 hex digits or a PEM public key) when given, else DIR/signing_key.pub
// when present, else none: then each checkpoint is checked against the key it names, which proves
// the log consistent with itself but not who signed it. The output says which.
//
// Standard output, intact log (exit 0):
//   trusted key: <64 hex> (from <source>)      or   trusted key: none (...)
//   events verified: <n>
//   signed checkpoints verified: <n>[ (newest at seq <s>)]
//   head: seq <n>, hash <64 hex>, ts <RFC 3339>
//   OK: the log is intact.
// A broken log (exit 1):
//   trusted key: ...
//   FIRST BROKEN SEQ: <n>
//   <one sentence>
//   [further findings:
//     seq <n>: <sentence>]...
//   FAILED: <k> finding(s).
// A break is reported only when a second walk, on a fresh read-only view, finds the first broken
// seq at the same place (at most 3 walks; a clean walk wins): a view torn by a flush of the live
// server must not read as tampering. If the walks never agree, the last one is reported with a
// line saying so.
// A --public-key file that cannot be read or parsed is bad usage (exit 2); so is a missing or
// non-directory --data. A DIR/signing_key.pub that does not parse is a failed check (exit 1).

#include <CLI/CLI.hpp>

namespace keyledger::tools {

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddVerifyLogCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
