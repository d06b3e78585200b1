// bench_gen_ledger: writes a real, hash-chained keyledger log for the data benchmarks.
//
//   bench_gen_ledger --data DIR [--events N] [--keys K]
//
// Drives the public Ledger API (the same commands the HTTP handlers call) against a ManualClock that
// advances a little with every command, so the log, its index rows and its checkpoints are exactly
// what a server would have written. The mix, for K keys and N events:
//   - one workspace (plan pro) and one admin key per 1000 keys (1..1000 workspaces);
//   - K + K/20 API keys created (a third full_access, a third read_only, a third explicit abilities);
//   - K/20 of them revoked and K/20 rotated with grace 0 (key.created + key.rotated + key.expired);
//   - every other event a key.used: a uniformly random key, 90% "invoices:read", 10%
//     "invoices:write" (forbidden for read-only keys); uses of revoked keys are rejected uses.
// Lifecycle changes are interleaved with the uses in 100 chunks. The log spans 7 days ending a day
// before now, so no key has expired when a benchmark opens it with the real clock. The Ledger is
// closed cleanly at the end, which writes the projection checkpoint (and a signed chain checkpoint,
// with DATA/signing_key.pem) at the head.
//
// Prints RESULT lines: gen_events, gen_active_keys (API, admin and operator keys active at the end),
// gen_seconds.

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/clock.h"
#include "core/signing.h"
#include "core/token.h"
#include "events/store.h"
#include "projections/ledger.h"

namespace keyledger::bench {
namespace {

// At most `limit` commands in flight; keeps the first failure.
class InFlight {
 public:
  explicit InFlight(size_t limit) : limit_(limit) {}
  void Acquire() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return count_ < limit_; });
    ++count_;
  }
  void Release(const Status& s) {
    std::lock_guard lock(mutex_);
    if (!s.ok() && failure_.ok()) failure_ = s;
    --count_;
    changed_.notify_all();
  }
  // Waits until nothing is in flight; dies on the first failure seen.
  void Drain(std::string_view what) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return count_ == 0; });
    if (!failure_.ok()) Die(std::string(what) + ": " + failure_.message());
  }

 private:
  const size_t limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t count_ = 0;
  Status failure_;
};

// xorshift64*: fast, deterministic, good enough to spread uses over keys.
class Random {
 public:
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_ = 0x9E3779B97F4A7C15ULL;
};

CreateKeyInput KeyInput(uint64_t i) {
  CreateKeyInput in;
  in.name = "service " + std::to_string(i);
  in.owner = "team-" + std::to_string(i % 97) + "@bench.test";
  switch (i % 3) {
    case 0: in.preset = Preset::kFullAccess; break;
    case 1: in.preset = Preset::kReadOnly; break;
    default: in.abilities = std::vector<std::string>{"invoices:read", "invoices:write"}; break;
  }
  return in;
}

int Generate(const Flags& flags) {
  const std::string dir = flags.Required("data");
  const uint64_t events = flags.Number("events", 10'000'000);
  const uint64_t keys = flags.Number("keys", 1'000'000);
  const uint64_t workspaces = std::clamp<uint64_t>(keys / 1000, 1, 1000);
  const uint64_t revoked = keys / 20, rotated = keys / 20;
  const uint64_t slots = keys + revoked;  // slots [keys, slots) are the keys that get revoked
  const uint64_t lifecycle = 1 + 2 * workspaces + slots + revoked + 3 * rotated;
  if (keys == 0 || events < lifecycle + keys) {
    Die("--events must be at least " + std::to_string(lifecycle + keys) + " for --keys " + std::to_string(keys));
  }
  const uint64_t uses = events - lifecycle;

  std::filesystem::create_directories(dir);
  auto store = EventStore::Open(dir, StoreOptions{});
  if (!store.ok()) Die(store.status().message());
  auto signing_key = SigningKey::LoadOrCreate(dir + "/signing_key.pem");
  if (!signing_key.ok()) Die(signing_key.status().message());

  const TimeMs span = 7 * kDayMs;
  ManualClock clock(SystemClock().Now() - span - kDayMs);
  const TimeMs step = std::max<TimeMs>(1, span / static_cast<TimeMs>(events));
  LedgerOptions options;
  options.bootstrap_token = ComposeToken(kOperatorTokenPrefix, "benchOperatorToken00000000000000");
  options.start_sweeper = false;
  options.checkpoint_every_events = UINT64_MAX;  // one checkpoint, at Close
  options.checkpoint_every_ms = INT64_MAX;
  options.signing_key = *signing_key;
  Ledger ledger(**store, clock, options);
  if (Status s = ledger.Open(); !s.ok()) Die(s.message());
  if (ledger.head_seq() != 1) Die(dir + " is not empty");
  auto op = ledger.Authenticate(options.bootstrap_token, "ops@bench.test");
  if (!op.ok()) Die("the operator token does not authenticate");

  Stopwatch watch;
  InFlight inflight(8192);
  auto release = [&inflight](const auto& r) { inflight.Release(r.status()); };

  std::vector<std::string> admin_tokens(workspaces);
  for (uint64_t w = 0; w < workspaces; ++w) {
    inflight.Acquire();
    ledger.CreateWorkspace(*op, WorkspaceInput{"ws-" + std::to_string(w), "Workspace " + std::to_string(w), Plan::kPro, std::nullopt},
                           release);
  }
  inflight.Drain("creating workspaces");
  for (uint64_t w = 0; w < workspaces; ++w) {
    inflight.Acquire();
    ledger.CreateAdminKey(*op, "ws-" + std::to_string(w), "dashboard", "admin",
                          [&, w](Result<CreatedKey> r) {
                            if (r.ok()) admin_tokens[w] = r->token;
                            inflight.Release(r.status());
                          });
  }
  inflight.Drain("creating admin keys");
  std::vector<Principal> admins;
  for (const std::string& token : admin_tokens) {
    auto p = ledger.Authenticate(token, "admin@bench.test");
    if (!p.ok()) Die("an admin token does not authenticate");
    admins.push_back(*p);
  }

  // Written on the appender thread by callbacks, read here only after a Drain.
  std::vector<std::string> tokens(slots), ids(slots);
  for (uint64_t i = 0; i < slots; ++i) {
    inflight.Acquire();
    clock.Advance(step);
    ledger.CreateApiKey(admins[i % workspaces], admins[i % workspaces].workspace, KeyInput(i),
                        [&, i](Result<CreatedKey> r) {
                          if (r.ok()) {
                            tokens[i] = r->token;
                            ids[i] = r->key.id;
                          }
                          inflight.Release(r.status());
                        });
  }
  inflight.Drain("creating API keys");
  std::cerr << "bench_gen_ledger: " << slots << " API keys created after " << watch.Seconds() << " s\n";

  const uint64_t chunks = std::min<uint64_t>(100, revoked ? revoked : 1);
  Random random;
  uint64_t used = 0, revoked_so_far = 0, rotated_so_far = 0;
  for (uint64_t chunk = 1; chunk <= chunks; ++chunk) {
    for (const uint64_t until = uses * chunk / chunks; used < until; ++used) {
      const uint64_t slot = random.Below(slots);
      const uint64_t r = random.Next();
      inflight.Acquire();
      clock.Advance(step);
      ledger.Verify(VerifyInput{tokens[slot], r % 10 == 0 ? "invoices:write" : "invoices:read",
                                "10.0." + std::to_string(r >> 56) + "." + std::to_string((r >> 48) & 255)},
                    release);
    }
    inflight.Drain("verifying");
    for (const uint64_t until = revoked * chunk / chunks; revoked_so_far < until; ++revoked_so_far) {
      const uint64_t slot = keys + revoked_so_far;
      inflight.Acquire();
      ledger.RevokeKey(admins[slot % workspaces], admins[slot % workspaces].workspace, ids[slot], "retired",
                       release);
    }
    for (const uint64_t until = rotated * chunk / chunks; rotated_so_far < until; ++rotated_so_far) {
      const uint64_t slot = rotated_so_far * (keys / rotated);  // distinct slots below `keys`
      inflight.Acquire();
      ledger.RotateKey(admins[slot % workspaces], admins[slot % workspaces].workspace, ids[slot],
                       RotateKeyInput{}, [&, slot](Result<CreatedKey> r) {
                         if (r.ok()) {
                           tokens[slot] = r->token;
                           ids[slot] = r->key.id;
                         }
                         inflight.Release(r.status());
                       });
    }
    inflight.Drain("revoking and rotating");
  }
  const uint64_t head = ledger.head_seq();
  if (Status closed = ledger.Close(); !closed.ok()) Die("closing the ledger: " + closed.message());
  const double seconds = watch.Seconds();
  if (head != events) Die("wrote " + std::to_string(head) + " events, expected " + std::to_string(events));
  std::cerr << "bench_gen_ledger: " << head << " events, " << slots << " API keys in " << workspaces
            << " workspaces, " << seconds << " s\n";
  Report("gen_events", static_cast<double>(head));
  Report("gen_active_keys", static_cast<double>(keys + workspaces + 1));
  Report("gen_seconds", seconds);
  return 0;
}

}  // namespace
}  // namespace keyledger::bench

int main(int argc, char** argv) { return keyledger::bench::Generate(keyledger::bench::Flags(argc, argv)); }
