// bench_rocksdb_synced_writes: the reference for lifecycle writes — what a naive service does.
//
//   bench_rocksdb_synced_writes --dir DIR [--threads 64] [--seconds S]
//                               (--value-bytes B | --size-from KEYLEDGER_DATA_DIR)
//
// A fresh RocksDB database in DIR (default options plus create_if_missing); `threads` threads, each
// doing one Put with WriteOptions.sync = true per "request" until `seconds` have passed. (RocksDB
// itself groups concurrent writers into one WAL write, as it would for such a service.)
//
// The value size is one key creation's log rows: with --size-from it is measured on a keyledger
// data directory (opened read-only) as the mean over its API-key `key.created` events of the
// stored event row plus its by_key and by_workspace index rows (keys and values).
//
// Prints RESULT lines: value_bytes, writes, writes_per_s, cpu_us_per_write (user + system CPU time
// of the whole process, RocksDB's threads included, over the writes).

#include <rocksdb/db.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "events/codec.h"
#include "events/store.h"

namespace keyledger::bench {
namespace {

uint64_t CreateRowBytes(const std::string& keyledger_dir) {
  StoreOptions options;
  options.read_only = true;
  options.create_if_missing = false;
  auto store = EventStore::Open(keyledger_dir, options);
  if (!store.ok()) Die(store.status().message());
  uint64_t creates = 0, bytes = 0;
  Status failure;
  Status s = (*store)->Scan(Cf::kEvents, EncodeSeq(0), "", [&](std::string_view key, std::string_view value) {
    auto event = DecodeStoredValue(value);
    if (!event.ok()) {
      failure = event.status();
      return false;
    }
    const auto* created = std::get_if<KeyCreated>(&event->data);
    if (created && created->kind == KeyKind::kApi) {
      ++creates;
      bytes += key.size() + value.size();
      bytes += event->key_id.size() + 1 + 8 + 1;     // by_key: key_id ‖ 0 ‖ seq → type
      bytes += event->workspace.size() + 1 + 8 + 1;  // by_workspace: ws ‖ 0 ‖ seq → type
    }
    return true;
  });
  if (!s.ok()) Die(s.message());
  if (!failure.ok()) Die(failure.message());
  if (creates == 0) Die("no API key creations in " + keyledger_dir);
  return bytes / creates;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int Run(const Flags& flags) {
  const std::string dir = flags.Required("dir");
  const uint64_t threads = flags.Number("threads", 64);
  const double seconds = std::stod(flags.Get("seconds", "10"));
  const std::string size_from = flags.Get("size-from");
  const uint64_t value_bytes = size_from.empty() ? flags.Number("value-bytes", 0) : CreateRowBytes(size_from);
  if (value_bytes == 0) Die("give --value-bytes or --size-from");

  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) Die(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  const double cpu_before = CpuSeconds();
  Stopwatch watch;
  for (uint64_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      const std::string value(value_bytes, 'v');
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string key = std::to_string(t) + "/" + std::to_string(n++);
        if (!db->Put(wo, key, value).ok()) {
          failed = true;
          return;
        }
        writes.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (watch.Seconds() < seconds && !failed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = watch.Seconds();
  const double cpu = CpuSeconds() - cpu_before;
  if (failed) Die("a synced Put failed");
  std::cerr << "bench_rocksdb_synced_writes: " << writes << " synced writes of " << value_bytes << " B from "
            << threads << " threads in " << elapsed << " s\n";
  Report("value_bytes", static_cast<double>(value_bytes));
  Report("writes", static_cast<double>(writes));
  Report("writes_per_s", writes / elapsed);
  if (writes > 0) Report("cpu_us_per_write", cpu * 1e6 / writes);
  return 0;
}

}  // namespace
}  // namespace keyledger::bench

int main(int argc, char** argv) { return keyledger::bench::Run(keyledger::bench::Flags(argc, argv)); }
