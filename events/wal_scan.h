#pragma once
// Tells damage in RocksDB's write-ahead logs from a torn tail.
//
// RocksDB recovers a WAL up to its first record that fails its checksum and drops the rest
// (kPointInTimeRecovery: the only mode that also recovers from a crash). After a crash that is
// right: the failed record is the last, torn write, never acknowledged, and zeros follow it (the
// WAL is filled with zeros ahead of the writer, events/prezeroed_wal_file_system.h). When log
// bytes follow the failed record, something damaged a record in the middle of the log, and what
// RocksDB drops after it was acknowledged. This scan finds that case: it checks every physical
// record's CRC32C (RocksDB's log format: 32 KiB blocks of checksum, length, type, payload) and
// reports the first failed record after which any non-zero byte remains, in that file or in a
// later one.
//
// A power cut can also leave data after a hole, from writes that were never synced, so neither
// case is certain from the bytes alone: callers report what they found and keep the evidence.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace keyledger {

struct WalDamage {
  std::string file;          // name within the directory, e.g. "000025.log"
  uint64_t offset = 0;       // of the record that fails its checksum
  uint64_t bytes_after = 0;  // non-zero bytes of log after that record, in it and later files
  std::string what;          // one sentence
};

// Scans every RocksDB WAL (*.log) in `dir`, oldest first. nullopt when every record checks out up
// to a tail of zeros, or when only the last record written is torn.
Result<std::optional<WalDamage>> FindWalDamage(const std::string& dir);

// The same, scanned up to `attempts` times until two scans agree: a WAL read while the service
// appends to it can look damaged for the instant a write is half copied, real damage stays put.
Result<std::optional<WalDamage>> FindStableWalDamage(const std::string& dir, int attempts = 3);

// What a start on a damaged WAL leaves for a reviewer: the damaged file and those after it, copied
// to DIR/wal-set-aside/<when>/ before RocksDB recovers (and later deletes) them, with a note
// (`note.txt`, key=value lines) of what was found and the head the log was recovered to.
inline constexpr const char* kWalSetAsideDir = "wal-set-aside";

struct SetAsideWal {
  std::string path;                // the directory holding the copies and the note
  std::string found_at;            // RFC 3339
  WalDamage damage;
  uint64_t recovered_head_seq = 0;  // the log's head after recovery
};

// Copies `damage.file` and every later WAL of `dir` to a new DIR/wal-set-aside/<found_at>/ and
// writes its note (without the recovered head). Returns that directory.
Result<std::string> SetAsideDamagedWal(const std::string& dir, const WalDamage& damage, const std::string& found_at);
// Adds the head the log was recovered to to the note in `set_aside`.
Status NoteRecoveredHead(const std::string& set_aside, uint64_t head_seq);
// Every set-aside WAL of `dir`, oldest first (none: empty).
Result<std::vector<SetAsideWal>> ListSetAsideWals(const std::string& dir);

}  // namespace keyledger
