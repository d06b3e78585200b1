// bench_replay: rebuilds every projection from seq 0 and compares with a bare RocksDB iteration.
//
//   bench_replay --data DIR [--references 0]
//
// 0. Every file of the database is read once, so that no pass below pays for cold pages.
// 1. Bare iteration (the reference): the database opened read-only with plain rocksdb::DB and
//    default options but a 64 MiB block cache (as EventStore uses), every row of the `events` column
//    family read in order with default ReadOptions, touching its key and value.
// 2. The same bare iteration with the ReadOptions the replay itself uses (EventStore::ScanBulk: no
//    block cache, 4 MiB read-ahead): what the replay's own reading costs, without the decoding and
//    applying. Reported beside the goal's reference so that the ratio is not read as all ours.
// 3. Replay: EventStore opened read-only, a fresh LedgerState, ReplayInto(store, state) from seq 0
//    (decodes every event, checks seq and prev_hash links, applies it).
// All run in the same process, one after the other, on the same cached files. `--references 0`
// skips 1 and 2: for timing the replay alone, e.g. alternating two builds.
//
// Prints RESULT lines: bare_events, bare_events_per_s, bulk_bare_events_per_s, replay_events,
// replay_seconds, replay_events_per_s.

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "events/store.h"
#include "projections/checkpoint.h"
#include "projections/ledger_state.h"

namespace keyledger::bench {
namespace {

// Reads every file under `dir` once, into the page cache.
void WarmPageCache(const std::string& dir) {
  std::vector<char> buffer(1 << 20);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    }
  }
}

// One bare pass over the events column family with `read`, reported as `<prefix>events_per_s`.
void BareIteration(const std::string& dir, const rocksdb::ReadOptions& read, const std::string& prefix) {
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) Die(s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &raw);
  if (!s.ok()) Die(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "events") events = handles[i];
  }
  if (!events) Die("no events column family in " + dir);

  Stopwatch watch;
  uint64_t count = 0, touched = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, events));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key(), value = it->value();
    touched += key.size() + value.size() + static_cast<uint8_t>(key[key.size() - 1]) +
               static_cast<uint8_t>(value[value.size() - 1]);
    ++count;
  }
  if (!it->status().ok()) Die(it->status().ToString());
  const double seconds = watch.Seconds();
  it.reset();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  std::cerr << "bench_replay: " << prefix << "iteration of " << count << " events (" << touched << ") in "
            << seconds << " s\n";
  Report(prefix + "events", static_cast<double>(count));
  Report(prefix + "events_per_s", count / seconds);
}

void Replay(const std::string& dir) {
  StoreOptions options;
  options.read_only = true;
  options.create_if_missing = false;
  auto store = EventStore::Open(dir, options);
  if (!store.ok()) Die(store.status().message());
  LedgerState state;
  Stopwatch watch;
  if (Status s = ReplayInto(**store, state); !s.ok()) Die(s.message());
  const double seconds = watch.Seconds();
  std::cerr << "bench_replay: replayed " << state.applied_seq() << " events, " << state.key_count()
            << " keys in " << seconds << " s\n";
  Report("replay_events", static_cast<double>(state.applied_seq()));
  Report("replay_seconds", seconds);
  Report("replay_events_per_s", state.applied_seq() / seconds);
}

}  // namespace
}  // namespace keyledger::bench

int main(int argc, char** argv) {
  keyledger::bench::Flags flags(argc, argv);
  const std::string dir = flags.Required("data");
  keyledger::bench::WarmPageCache(dir);
  if (flags.Number("references", 1) != 0) {
    keyledger::bench::BareIteration(dir, rocksdb::ReadOptions(), "bare_");
    rocksdb::ReadOptions bulk;  // as EventStore::ScanBulk
    bulk.fill_cache = false;
    bulk.readahead_size = 4 << 20;
    keyledger::bench::BareIteration(dir, bulk, "bulk_bare_");
  }
  keyledger::bench::Replay(dir);
  return 0;
}
