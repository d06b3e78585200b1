#pragma once
// `keyledger replay --data DIR [--as-of TIME] [--workspace WS] [--format table|json]`: every API key
// (of one workspace, or of all) as it was at an instant: status as of that instant, abilities,
// expiry, grace, usage count and last use as they were then. Without --as-of: the whole log, with
// statuses as of now.
//
// The state is rebuilt from seq 1 by replaying the log itself, never loaded from a stored
// projection checkpoint (those rows are not signed), and on the way the projection digest is
// recomputed at the newest signed checkpoint at or before the replayed seq and compared with the
// digest that checkpoint signs. The read is a consistent view of DIR as of the open; a log that
// cannot be replayed, or looks cut short, is replayed again on a fresh view (up to 3 times)
// before it is reported, in case the view was torn by a flush of a live server.
//
// Standard output, --format table:
//   key state as of <RFC 3339> (events 1..<seq> of <head>)
//   [WORKSPACE  ]ID  NAME  STATUS  ABILITIES  EXPIRES_AT  GRACE_UNTIL  USES  REJECTED  LAST_USED
//   ...one row per key, times RFC 3339 or "-"; WORKSPACE only without --workspace...
//   <n> API key(s)
//   <digest sentence>
// --format json (one line):
//   {"as_of":"<RFC 3339>","seq":N,"head_seq":H,"keys":[<Key>...],
//    "checkpoint":{"seq":C,"signature_valid":bool,"projection_digest_matches":bool}|null,
//    "problems":["<sentence that makes the exit 1>"...]}
//   and the sentences on standard error.
// Digest sentences:
//   projection digest matches the signed checkpoint at seq C
//   projection digest does NOT match the signed checkpoint at seq C: replaying events 1..C gives
//     <hex>, the checkpoint signs <hex>                                              (exit 1)
//   the signed checkpoint at seq C has an invalid signature: run keyledger verify-log  (exit 1)
//   no signed checkpoint at or before seq N: the projection digest was not checked
// and, when a signed checkpoint lies past the head (the tail was cut off):
//   the log ends at seq H but a signed checkpoint vouches for seq C: events were removed; run
//     keyledger verify-log                                                            (exit 1)
// Exit 0; 1 on a digest mismatch, an invalid checkpoint signature, a cut-off tail, a log that
// cannot be replayed (a broken chain: verify-log names where) or a --workspace that did not exist
// at the instant; 2 on bad usage (a bad TIME among them, or a --data that holds no database).

#include <CLI/CLI.hpp>

namespace keyledger::tools {

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddReplayCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
