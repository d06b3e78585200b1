// bench_micro: Google Benchmark micro-benchmarks of the steps on the verify and replay paths.
//
//   bench_micro [--keys=N] [Google Benchmark flags, e.g. --benchmark_format=csv]
//
// - CheckToken: token format and CRC-32 check (every verify, before any lookup);
// - TokenDigest: SHA-256 of a token (every verify);
// - FindByDigest: what the verify path does to find a key, on a state of N API keys (default
//   1,000,000) built by applying key.created events: LedgerState::IndexOfDigest, then the record's
//   kind, with digests of existing keys in random order;
// - EncodeBody/DecodeBody of a key.used and a key.created event (every append; every replayed event).

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/token.h"
#include "events/codec.h"
#include "events/event.h"
#include "projections/ledger_state.h"

namespace keyledger::bench {
namespace {

uint64_t g_keys = 1'000'000;
constexpr TimeMs kTs = 1772445600000;

std::string TestToken(uint64_t i) {
  std::string random = std::to_string(i);
  random.insert(0, kTokenRandomChars - random.size(), 'x');
  return ComposeToken(kDefaultApiTokenPrefix, random);
}

Event UsedEvent() {
  Event e;
  e.seq = 123456789;
  e.ts = kTs;
  e.workspace = "ws-42";
  e.key_id = NewId("key_");
  e.data = KeyUsed{UseOutcome::kValid, "invoices:read", "10.0.3.7"};
  e.prev_hash = Sha256("previous");
  return e;
}

Event CreatedEvent(uint64_t seq, uint64_t i) {
  const std::string token = TestToken(i);
  KeyCreated d;
  d.kind = KeyKind::kApi;
  d.name = "service " + std::to_string(i);
  d.prefix = DisplayPrefix(token);
  d.digest = TokenDigest(token);
  d.owner = "team@bench.test";
  d.preset = Preset::kReadOnly;
  d.abilities = {"*:read"};
  d.expires_at = kTs + 90 * kDayMs;
  Event e;
  e.seq = seq;
  e.ts = kTs;
  e.workspace = "ws-42";
  e.key_id = "key_" + std::to_string(i);
  e.actor = "admin@bench.test";
  e.data = std::move(d);
  return e;
}

void BM_CheckToken(benchmark::State& state) {
  const std::string token = TestToken(7);
  for (auto _ : state) benchmark::DoNotOptimize(CheckToken(token));
}
BENCHMARK(BM_CheckToken);

void BM_TokenDigest(benchmark::State& state) {
  const std::string token = TestToken(7);
  for (auto _ : state) benchmark::DoNotOptimize(TokenDigest(token));
}
BENCHMARK(BM_TokenDigest);

// Built once, on first use, so that benchmarks filtered out do not pay for it.
const LedgerState& StateWithKeys() {
  static const LedgerState state = [] {
    LedgerState s;
    Event ws;
    ws.seq = 1;
    ws.ts = kTs;
    ws.workspace = "ws-42";
    ws.data = WorkspaceCreated{"Workspace 42", Plan::kPro, 365};
    s.Apply(ws);
    for (uint64_t i = 0; i < g_keys; ++i) s.Apply(CreatedEvent(i + 2, i));
    return s;
  }();
  return state;
}

void BM_FindByDigest(benchmark::State& state) {
  const LedgerState& ledger = StateWithKeys();
  std::vector<Digest> digests;
  for (uint64_t i = 0; i < 4096; ++i) digests.push_back(TokenDigest(TestToken((i * 2654435761u) % g_keys)));
  size_t i = 0;
  for (auto _ : state) {
    // What the verify path does: the digest index, then the record's kind (no copy).
    const std::optional<KeyIndex> key = ledger.IndexOfDigest(digests[i++ & 4095]);
    if (!key) state.SkipWithError("a digest was not found");
    benchmark::DoNotOptimize(ledger.Record(*key).kind);
  }
  state.SetLabel(std::to_string(ledger.key_count()) + " keys");
}
BENCHMARK(BM_FindByDigest);

void BM_EncodeUsed(benchmark::State& state) {
  const Event e = UsedEvent();
  for (auto _ : state) benchmark::DoNotOptimize(EncodeBody(e));
}
BENCHMARK(BM_EncodeUsed);

void BM_DecodeUsed(benchmark::State& state) {
  const Event e = UsedEvent();
  const std::string body = EncodeBody(e);
  for (auto _ : state) {
    auto decoded = DecodeBody(body, e.hash);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_DecodeUsed);

void BM_EncodeCreated(benchmark::State& state) {
  const Event e = CreatedEvent(99, 99);
  for (auto _ : state) benchmark::DoNotOptimize(EncodeBody(e));
}
BENCHMARK(BM_EncodeCreated);

void BM_DecodeCreated(benchmark::State& state) {
  const Event e = CreatedEvent(99, 99);
  const std::string body = EncodeBody(e);
  for (auto _ : state) {
    auto decoded = DecodeBody(body, e.hash);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_DecodeCreated);

}  // namespace
}  // namespace keyledger::bench

int main(int argc, char** argv) {
  // Take --keys=N out before Google Benchmark sees the flags.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--keys=", 7) == 0) {
      keyledger::bench::g_keys = std::strtoull(argv[i] + 7, nullptr, 10);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
