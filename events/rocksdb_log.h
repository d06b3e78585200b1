#pragma once
// RocksDB's own warnings and errors, written into the service's log instead of a LOG file in the
// data directory.
//
// RocksDB's file logger writes into the directory whose disk may be full: once one of its writes
// has failed, the next one trips an assertion in Debian's build (which keeps RocksDB's
// assertions on) and aborts the process, taking verification down with the writes that were
// already refused. Its warnings also matter to an operator where they will be read: a
// recovery that drops WAL records failing their checksum said so only there; it is an error
// line now (after a crash it is the torn last record; anywhere else, lost writes).

#include <memory>

#include <rocksdb/env.h>

namespace keyledger {

// A logger that passes each message at `level` or above to keyledger::log with a "rocksdb: "
// prefix.
std::shared_ptr<rocksdb::Logger> NewRocksDbLogBridge(rocksdb::InfoLogLevel level);

}  // namespace keyledger
