// bench_startup: start-up time from the latest checkpoint, and resident memory per active key.
//
//   bench_startup --data DIR --active-keys N
//
// Opens the EventStore, then measures Ledger::Open() — load the newest projection checkpoint
// (hashing it to compare with the checkpoint that DIR/signing_key.pem signed), replay the log
// after it (nothing after a clean Close), start the appender — with the real clock and the
// sweeper off, exactly as `keyledger serve` does before it reports ready. VmRSS is
// read just before the Ledger is constructed and just after Open() returns; the difference, over
// the active keys the generator reported, is the memory figure: what a server's RSS holds once
// it is ready, allocator included (Open hands the checkpoint load's freed pages back itself).
//
// Prints RESULT lines: settle_seconds (waiting for RocksDB compactions left pending before the
// measurement), startup_seconds, rss_before_bytes, rss_after_bytes, bytes_per_active_key, head_seq.

#include "bench/bench_common.h"
#include "core/clock.h"
#include "core/memory.h"
#include "core/signing.h"
#include "events/store.h"
#include "projections/ledger.h"

int main(int argc, char** argv) {
  using namespace keyledger;
  using namespace keyledger::bench;
  Flags flags(argc, argv);
  const std::string dir = flags.Required("data");
  const uint64_t active = flags.Number("active-keys", 0);
  if (active == 0) Die("--active-keys is required");

  StoreOptions store_options;
  store_options.create_if_missing = false;
  auto store = EventStore::Open(dir, store_options);
  if (!store.ok()) Die(store.status().message());
  // A compaction left pending by whoever wrote the ledger last (the generator, an earlier run) would
  // share the two cores with the start-up; a server restarted after its compactions finished, the
  // usual case, has none. The wait is reported, not timed into the start-up.
  Stopwatch settle;
  if (Status s = (*store)->WaitForCompactions(600000); !s.ok()) Die(s.message());
  Report("settle_seconds", settle.Seconds());
  SystemClock clock;
  LedgerOptions options;
  options.start_sweeper = false;
  // The generator's key, as serve would take it: the checkpoint is then loaded only once its
  // digest matches the signed one.
  auto signing_key = SigningKey::LoadPem(dir + "/signing_key.pem");
  if (!signing_key.ok()) Die(signing_key.status().message());
  options.signing_key = *signing_key;

  const uint64_t rss_before = ResidentBytes();
  Stopwatch watch;
  Ledger ledger(**store, clock, options);
  if (Status s = ledger.Open(); !s.ok()) Die(s.message());
  const double seconds = watch.Seconds();
  const uint64_t rss_after = ResidentBytes();

  std::cerr << "bench_startup: opened at seq " << ledger.head_seq() << " in " << seconds << " s, RSS "
            << rss_before / 1048576 << " -> " << rss_after / 1048576 << " MiB\n";
  Report("startup_seconds", seconds);
  Report("rss_before_bytes", static_cast<double>(rss_before));
  Report("rss_after_bytes", static_cast<double>(rss_after));
  Report("bytes_per_active_key", (static_cast<double>(rss_after) - rss_before) / active);
  Report("head_seq", static_cast<double>(ledger.head_seq()));
  if (Status closed = ledger.Close(); !closed.ok()) Die("closing the ledger: " + closed.message());
  return 0;
}
