#pragma once
// `keyledger audit --data DIR --workspace WS [--key ID] [--type T]... [--actor A] [--from TIME]
// [--to TIME] [--format jsonl|csv]`: a workspace's audit timeline, or one key's full history, in log
// order, to standard output (every page of the audit index, read-only, a consistent view as of
// the open).
//
// Types: every --type given; without any, with --key every type (the key's whole history, its
// rejected uses included), and without --key the lifecycle events only (key.used only when asked
// for by --type), as the HTTP audit endpoint does. --from/--to are inclusive.
//
// --format jsonl (default): one `<Event>` JSON object (API.md) per line.
// --format csv (RFC 4180, CRLF line ends, fields quoted when they hold `"` `,` CR or LF):
//   seq,ts,type,workspace,key_id,actor,outcome,ability,source_ip,data
//   outcome, ability and source_ip come from a key.used event's data (empty otherwise); data is
//   the event's whole data object as JSON, always quoted.
// Exit 0; 1 when the workspace has no events or the key is not one of the workspace's; 2 on bad
// usage (an unknown type, a bad TIME).

#include <CLI/CLI.hpp>

namespace keyledger::tools {

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddAuditCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
