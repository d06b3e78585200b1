// Rebuilds and checkpoints: the live projection equals a replay of the log from seq 1, a
// checkpoint is written on Close and periodically, start-up loads it and replays only the tail,
// and a checkpoint that does not match the log is ignored.

#include <boost/test/unit_test.hpp>

#include "projections/checkpoint.h"
#include "events/chain_checkpoint.h"

#include <rocksdb/write_batch.h>

#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/codec.h"
#include "tests/events/manual_executor.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::KeyInput;
using testing::KeyInputWithAbilities;
using testing::kStartMs;
using testing::LedgerEnv;
using testing::PutRawEvent;
using testing::RebuildFromLog;

// projections/checkpoint.h: "projection_checkpoint/" ‖ BE ts ‖ BE seq → seq ‖ hash ‖ ts ‖ chunk
// count ‖ size, and the state in chunks "projection_chunk/" ‖ BE ts ‖ BE seq ‖ BE chunk number.
constexpr std::string_view kCheckpointPrefix = "projection_checkpoint/";
constexpr std::string_view kChunkPrefix = "projection_chunk/";
// A workspace name as the binary state stores it (state_codec.cc): varint length, bytes.
constexpr std::string_view kWorkspaceName = "\x08" "Acme Inc";
constexpr std::string_view kMarkedName = "\x14" "Acme From Checkpoint";

// Workspaces, keys of every shape, valid and rejected uses over several hours, idempotent
// creations, rotations with and without grace, a revocation and expiries by time (swept).
void BuildHistory(LedgerEnv& env) {
  auto acme = env.MustSetUpWorkspace("acme", Plan::kPro, "Acme Inc");
  BOOST_REQUIRE(env.CreateWorkspace(env.op, "acme-labs", Plan::kFree, "Acme Labs").ok());
  BOOST_REQUIRE(env.ledger->GetWorkspace(env.op, "acme").ok());
  auto globex = env.MustSetUpWorkspace("globex", Plan::kFree);
  const Principal alice = *env.ledger->Authenticate(acme.admin_token, "alice");

  CreateKeyInput k1_in = KeyInput("billing", Preset::kReadOnly);
  k1_in.owner = "billing@acme";
  k1_in.metadata = {{"team", "billing"}, {"note", "quotes \" and ünïcode"}};
  k1_in.idempotency_key = "create-billing";
  k1_in.request_digest = testing::DigestOf("billing body");
  auto k1 = env.MustCreateKey(alice, "acme", k1_in);
  auto k2 = env.MustCreateKey(alice, "acme", KeyInputWithAbilities("payments", {"invoices:write", "refunds:read"}));
  auto k3 = env.MustCreateKey(acme.admin, "acme", KeyInput("sync job"));
  auto k4 = env.MustCreateKey(acme.admin, "acme", KeyInput("temporary"));
  CreateKeyInput k5_in = KeyInput("one day");
  k5_in.expires_in_days = 1;
  auto k5 = env.MustCreateKey(acme.admin, "acme", k5_in);
  BOOST_REQUIRE(env.CreateApiKey(alice, "acme", k1_in).ok());  // an idempotent replay: no event

  for (int i = 0; i < 5; ++i) BOOST_REQUIRE((env.VerifyCodeOf(k1.token, "invoices:read") == VerifyCode::kValid));
  BOOST_REQUIRE((env.VerifyCodeOf(k1.token, "invoices:write") == VerifyCode::kForbidden));
  BOOST_REQUIRE((env.VerifyCodeOf(k2.token, "invoices:write") == VerifyCode::kValid));
  env.clock.Advance(kHourMs + 123);
  BOOST_REQUIRE((env.VerifyCodeOf(k3.token) == VerifyCode::kValid));
  auto k2b = env.RotateWithGrace(alice, "acme", k2.key.id, 3600);
  BOOST_REQUIRE(k2b.ok());
  auto k3b = env.RotateWithGrace(acme.admin, "acme", k3.key.id, 0);
  BOOST_REQUIRE(k3b.ok());
  BOOST_REQUIRE(env.Revoke(alice, "acme", k4.key.id, "no longer needed").ok());
  BOOST_REQUIRE((env.VerifyCodeOf(k4.token) == VerifyCode::kRevoked));
  BOOST_REQUIRE((env.VerifyCodeOf(k3.token) == VerifyCode::kExpired));
  BOOST_REQUIRE((env.VerifyCodeOf(k2b->token, "refunds:read") == VerifyCode::kValid));

  env.clock.Advance(2 * kHourMs);
  BOOST_REQUIRE(env.Sweep().ok());  // k2's grace has ended
  BOOST_REQUIRE(env.UpdatePlan(env.op, "globex", Plan::kPro).ok());
  auto g1 = env.MustCreateKey(globex.admin, "globex", KeyInput("globex main"));
  BOOST_REQUIRE((env.VerifyCodeOf(g1.token) == VerifyCode::kValid));

  env.clock.Advance(kDayMs);
  BOOST_REQUIRE((env.VerifyCodeOf(k5.token) == VerifyCode::kExpired));
  BOOST_REQUIRE(env.Sweep().ok());  // k5 expired by time
  BOOST_REQUIRE((env.VerifyCodeOf(k2.token) == VerifyCode::kExpired));
  BOOST_REQUIRE((env.VerifyCodeOf(k1.token, "customers:read") == VerifyCode::kValid));
}

// The newest checkpoint row's value.
std::optional<std::string> CheckpointRow(const EventStore& store) {
  std::string end(kCheckpointPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  std::optional<std::string> newest;
  Status s = store.ScanReverse(Cf::kMeta, kCheckpointPrefix, end, [&](std::string_view, std::string_view value) {
    newest = std::string(value);
    return false;
  });
  BOOST_REQUIRE(s.ok());
  return newest;
}

// Removes every projection checkpoint, chunks included, so that the next one planted is the one
// start-up finds.
void DeleteCheckpointRows(EventStore& store) {
  rocksdb::WriteBatch batch;
  BatchRows rows = BatchRowsForStore(batch, store);
  for (std::string_view prefix : {kCheckpointPrefix, kChunkPrefix}) {
    std::string end(prefix);
    end.back() = static_cast<char>(end.back() + 1);
    Status s = store.Scan(Cf::kMeta, prefix, end, [&](std::string_view key, std::string_view) {
      rows.Delete(Cf::kMeta, key);
      return true;
    });
    BOOST_REQUIRE(s.ok());
  }
  BOOST_REQUIRE(store.Write(batch, true).ok());
}

// Writes a checkpoint row by hand: a header claiming `seq`, `hash` and `ts` (and `claimed_size`
// bytes, when given), and `state` as its one chunk.
void PutCheckpoint(EventStore& store, uint64_t seq, const Digest& hash, TimeMs ts, std::string_view state,
                   std::optional<uint64_t> claimed_size = std::nullopt) {
  const std::string id = EncodeSeq(static_cast<uint64_t>(ts)) + EncodeSeq(seq);
  std::string header = EncodeSeq(seq);
  header.append(AsBytes(hash));
  header.append(EncodeSeq(static_cast<uint64_t>(ts)));
  header.append(EncodeSeq(1));
  header.append(EncodeSeq(claimed_size.value_or(state.size())));
  rocksdb::WriteBatch batch;
  BatchRows rows = BatchRowsForStore(batch, store);
  rows.Put(Cf::kMeta, std::string(kCheckpointPrefix) + id, header);
  rows.Put(Cf::kMeta, std::string(kChunkPrefix) + id + EncodeSeq(0), state);
  Status s = store.Write(batch, true);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
}

// The state of the newest checkpoint that matches the log, serialized.
std::string NewestCheckpointState(const EventStore& store) {
  auto loaded = LoadProjectionCheckpoint(store);
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->has_value());
  return (*loaded)->Serialize();
}

Digest HashOfEvent(const EventStore& store, uint64_t seq) {
  auto row = store.Get(Cf::kEvents, EncodeSeq(seq));
  BOOST_REQUIRE(row.ok() && row->has_value());
  auto parts = SplitStoredValue(**row);
  BOOST_REQUIRE(parts.ok());
  return parts->hash;
}

// The state at `seq` with the workspace "acme" renamed: a checkpoint only a loaded checkpoint
// could have produced.
LedgerState MarkedStateAt(const EventStore& store, uint64_t seq) {
  std::string bytes = RebuildFromLog(store, seq).Serialize();
  const size_t at = bytes.find(kWorkspaceName);
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_REQUIRE(bytes.find(kWorkspaceName, at + 1) == std::string::npos);
  bytes.replace(at, kWorkspaceName.size(), kMarkedName);
  auto state = LedgerState::Deserialize(bytes);
  BOOST_REQUIRE(state.ok());
  return std::move(state).value();
}

std::string WorkspaceName(LedgerEnv& env) {
  auto ws = env.ledger->GetWorkspace(env.op, "acme");
  BOOST_REQUIRE(ws.ok());
  return ws->name;
}

BOOST_AUTO_TEST_SUITE(CheckpointTest)

BOOST_AUTO_TEST_CASE(live_projection_equals_a_rebuild_from_seq_1) {
  LedgerEnv env;
  BuildHistory(env);
  const LedgerState rebuilt = RebuildFromLog(*env.store);
  BOOST_TEST(rebuilt.applied_seq() == env.ledger->head_seq());
  BOOST_TEST((env.ledger->Fingerprint() == rebuilt.Fingerprint()));
  BOOST_TEST(rebuilt.key_count() == 13u);  // operator, 2×2 admin keys, 8 API keys

  // Incremental replay (to a seq, then on) equals the one-pass rebuild.
  LedgerState partial = RebuildFromLog(*env.store, 20);
  BOOST_TEST(partial.applied_seq() == 20u);
  BOOST_TEST((partial.Fingerprint() != rebuilt.Fingerprint()));
  BOOST_REQUIRE(ReplayInto(*env.store, partial).ok());
  BOOST_TEST((partial.Fingerprint() == rebuilt.Fingerprint()));

  // The canonical form round-trips byte for byte.
  const std::string bytes = rebuilt.Serialize();
  auto restored = LedgerState::Deserialize(bytes);
  BOOST_REQUIRE_MESSAGE(restored.ok(), restored.status().message());
  BOOST_TEST(restored->Serialize() == bytes);
}

BOOST_AUTO_TEST_CASE(close_writes_a_checkpoint_that_reopen_loads) {
  LedgerEnv env;
  BuildHistory(env);
  const Digest fingerprint = env.ledger->Fingerprint();
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();

  auto row = CheckpointRow(*env.store);
  BOOST_REQUIRE(row.has_value());
  BOOST_REQUIRE(row->size() == 64u);
  BOOST_TEST(DecodeSeq(*row) == head);
  Digest hash;
  std::memcpy(hash.data(), row->data() + 8, hash.size());
  BOOST_TEST((hash == HashOfEvent(*env.store, head)));
  BOOST_TEST(NewestCheckpointState(*env.store) == RebuildFromLog(*env.store).Serialize());

  env.ReopenAll();
  BOOST_TEST(env.ledger->head_seq() == head);
  BOOST_TEST((env.ledger->Fingerprint() == fingerprint));
  // And the reopened ledger carries on.
  auto acme_admin = env.ledger->ListKeys(env.op, "acme", KeyFilter::kAll, 10, "");
  BOOST_TEST((acme_admin.status().code() == StatusCode::kForbidden));
  BOOST_REQUIRE(env.CreateWorkspace(env.op, "after-restart", Plan::kPro).ok());
  BOOST_TEST(RebuildFromLog(*env.store).applied_seq() == head + 1);
  BOOST_TEST((env.ledger->Fingerprint() == RebuildFromLog(*env.store).Fingerprint()));
}

BOOST_AUTO_TEST_CASE(reopen_starts_from_the_checkpoint_and_replays_only_the_tail) {
  LedgerEnv env;
  BuildHistory(env);
  const uint64_t checkpoint_seq = env.ledger->head_seq();
  env.ReopenLedger();
  // The tail: more keys, uses, a revocation.
  auto op_ws = env.ledger->GetWorkspace(env.op, "acme");
  BOOST_REQUIRE(op_ws.ok());
  auto admin_key = env.CreateAdminKey(env.op, "acme", "tail admin", "admin");
  BOOST_REQUIRE(admin_key.ok());
  const Principal admin = *env.ledger->Authenticate(admin_key->token, "tail");
  auto tail_key = env.MustCreateKey(admin, "acme", KeyInput("tail key"));
  BOOST_REQUIRE((env.VerifyCodeOf(tail_key.token) == VerifyCode::kValid));
  auto tail_key2 = env.MustCreateKey(admin, "acme", KeyInput("tail key 2"));
  BOOST_REQUIRE(env.Revoke(admin, "acme", tail_key2.key.id).ok());
  const uint64_t head = env.ledger->head_seq();
  BOOST_REQUIRE(head > checkpoint_seq);
  env.CloseLedger();

  // Plant a checkpoint at the earlier seq whose state carries a mark no event could make, as the
  // only one (Close wrote a newer one, which start-up would prefer).
  const LedgerState marked = MarkedStateAt(*env.store, checkpoint_seq);
  DeleteCheckpointRows(*env.store);
  BOOST_REQUIRE(SaveProjectionCheckpoint(*env.store, marked, HashOfEvent(*env.store, checkpoint_seq)).ok());

  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme From Checkpoint");  // loaded from the checkpoint...
  BOOST_TEST(env.ledger->head_seq() == head);
  auto tail_view = env.ledger->GetKey(admin, "acme", tail_key.key.id);  // ...and the tail replayed
  BOOST_REQUIRE(tail_view.ok());
  BOOST_TEST(tail_view->usage_count == 1u);
  BOOST_TEST((env.ledger->GetKey(admin, "acme", tail_key2.key.id)->status == KeyStatus::kRevoked));
  LedgerState expected = LedgerState::Deserialize(marked.Serialize()).value();
  BOOST_REQUIRE(ReplayInto(*env.store, expected).ok());
  BOOST_TEST((env.ledger->Fingerprint() == expected.Fingerprint()));
  BOOST_TEST((env.ledger->Fingerprint() != RebuildFromLog(*env.store).Fingerprint()));
}

BOOST_AUTO_TEST_CASE(periodic_checkpoints_reflect_exactly_their_seq) {
  LedgerOptions options = testing::TestOptions();
  options.checkpoint_every_events = 5;
  LedgerEnv env(options);
  BuildHistory(env);
  const Principal admin = [&] {
    auto created = env.CreateAdminKey(env.op, "acme", "checkpoint admin", "admin");
    BOOST_REQUIRE(created.ok());
    return *env.ledger->Authenticate(created->token, "");
  }();
  auto key = env.MustCreateKey(admin, "acme", KeyInput("k"));

  std::optional<std::string> row;
  for (int i = 0; i < 10; ++i) {
    row = CheckpointRow(*env.store);
    BOOST_REQUIRE_MESSAGE(row.has_value(), "no periodic checkpoint was written");
    if (DecodeSeq(*row) < env.ledger->head_seq()) break;
    BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  }
  const uint64_t checkpoint_seq = DecodeSeq(*row);
  const uint64_t head = env.ledger->head_seq();
  BOOST_TEST(checkpoint_seq < head);
  BOOST_TEST(head - checkpoint_seq < 5u);
  const std::string periodic = NewestCheckpointState(*env.store);
  BOOST_TEST(periodic == RebuildFromLog(*env.store, checkpoint_seq).Serialize());
  Digest hash;
  std::memcpy(hash.data(), row->data() + 8, hash.size());
  BOOST_TEST((hash == HashOfEvent(*env.store, checkpoint_seq)));
  const Digest fingerprint = env.ledger->Fingerprint();

  // As if the process died after that checkpoint: Close's own checkpoint is put back to it.
  env.CloseLedger();
  DeleteCheckpointRows(*env.store);
  PutCheckpoint(*env.store, checkpoint_seq, hash, DecodeSeq(row->substr(40)), periodic);
  env.ReopenAll();
  BOOST_TEST(env.ledger->head_seq() == head);
  BOOST_TEST((env.ledger->Fingerprint() == fingerprint));
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
}

// As the service runs them: periodic checkpoints written on the checkpoint writer's thread while
// appends go on. Every one written reflects exactly its seq, and Close leaves the newest at the head.
BOOST_AUTO_TEST_CASE(background_checkpoints_reflect_exactly_their_seq) {
  LedgerOptions options = testing::TestOptions();
  options.checkpoint_every_events = 7;
  options.background_checkpoints = true;
  LedgerEnv env(options);
  BuildHistory(env);
  auto acme_admin = env.CreateAdminKey(env.op, "acme", "bg admin", "admin");
  BOOST_REQUIRE(acme_admin.ok());
  const Principal admin = *env.ledger->Authenticate(acme_admin->token, "");
  auto key = env.MustCreateKey(admin, "acme", KeyInput("k"));
  for (int i = 0; i < 200; ++i) BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  const uint64_t head = env.ledger->head_seq();
  const Digest fingerprint = env.ledger->Fingerprint();
  env.CloseLedger();

  std::string end(kCheckpointPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  std::vector<uint64_t> seqs;
  BOOST_REQUIRE(env.store->Scan(Cf::kMeta, kCheckpointPrefix, end, [&](std::string_view, std::string_view v) {
    seqs.push_back(DecodeSeq(v));
    return true;
  }).ok());
  BOOST_TEST(seqs.size() >= 2u);  // at least one periodic one, and Close's
  BOOST_TEST(seqs.back() == head);
  for (uint64_t seq : seqs) {
    auto at = LoadProjectionCheckpoint(*env.store, [&] {
      LedgerState s = RebuildFromLog(*env.store, seq);
      return s.applied_ts();
    }());
    BOOST_REQUIRE(at.ok());
    BOOST_REQUIRE(at->has_value());
  }
  BOOST_TEST(NewestCheckpointState(*env.store) == RebuildFromLog(*env.store).Serialize());
  env.OpenLedger();
  BOOST_TEST((env.ledger->Fingerprint() == fingerprint));
}

// As `serve` stops: its io_context, the appender's executor, has stopped running work when Close
// comes, and a background checkpoint may be waiting for the rows it handed to the appender.
// Close must finish it anyway (it hung forever on SIGTERM when the executor was left in charge).
BOOST_AUTO_TEST_CASE(close_finishes_a_background_checkpoint_after_the_executor_has_stopped) {
  LedgerOptions options = testing::TestOptions();
  options.checkpoint_every_events = 1;  // every batch triggers one
  options.background_checkpoints = true;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  env.ReopenAll();  // no checkpoint in flight: the next batch's trigger starts one for certain

  ManualExecutor executor;
  env.ledger->RunWritesOn(executor.executor());
  auto verified = std::make_shared<std::promise<Result<VerifyResult>>>();
  auto verify = verified->get_future();
  env.ledger->Verify(VerifyInput{key.token, "", ""},
                     [verified](Result<VerifyResult> r) { verified->set_value(std::move(r)); });
  executor.RunUntil([&] { return verify.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  BOOST_REQUIRE(verify.get().ok());
  const uint64_t head = env.ledger->head_seq();

  // The executor runs nothing more. Close on a thread of its own, so that a hang fails the test.
  auto closed = std::async(std::launch::async, [&] { return env.ledger->Close(); });
  if (closed.wait_for(testing::kCallbackTimeout) != std::future_status::ready) {
    BOOST_ERROR("Close hung waiting for the background checkpoint");
    std::abort();  // the ledger's threads are stuck: no clean way on
  }
  BOOST_TEST(closed.get().ok());
  auto row = CheckpointRow(*env.store);
  BOOST_REQUIRE(row.has_value());
  BOOST_TEST(DecodeSeq(*row) == head);
  BOOST_TEST(NewestCheckpointState(*env.store) == RebuildFromLog(*env.store).Serialize());
}

// With many keys a checkpoint is costly, so they are spaced by checkpoint_events_per_key × keys.
BOOST_AUTO_TEST_CASE(checkpoints_are_spaced_by_the_number_of_keys) {
  LedgerOptions options = testing::TestOptions();
  options.checkpoint_every_events = 5;
  options.checkpoint_events_per_key = 4;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  std::vector<CreatedKey> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(env.MustCreateKey(acme.admin, "acme", KeyInput("k" + std::to_string(i))));
  auto newest = [&] {
    auto row = CheckpointRow(*env.store);
    return row ? DecodeSeq(*row) : 0;
  };
  const uint64_t before = newest();
  const size_t key_count = RebuildFromLog(*env.store).key_count();
  // Fewer than 4 × keys events later there is no new checkpoint, though far more than 5.
  while (env.ledger->head_seq() < before + 4 * key_count - 1) {
    BOOST_REQUIRE((env.VerifyCodeOf(keys[0].token) == VerifyCode::kValid));
  }
  BOOST_TEST(newest() == before);
  for (size_t i = 0; i < 2 && newest() == before; ++i) {
    BOOST_REQUIRE((env.VerifyCodeOf(keys[0].token) == VerifyCode::kValid));
  }
  BOOST_TEST(newest() > before);
}

// Each snapshot stops the writer, so under a steady load checkpoints are also spaced in time:
// the event count alone does not trigger one before checkpoint_min_interval_ms has passed.
BOOST_AUTO_TEST_CASE(checkpoints_are_spaced_in_time) {
  LedgerOptions options = testing::TestOptions();
  options.checkpoint_every_events = 5;
  options.checkpoint_min_interval_ms = 10 * kSecondMs;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  auto newest = [&] {
    auto row = CheckpointRow(*env.store);
    return row ? DecodeSeq(*row) : 0;
  };
  const uint64_t before = newest();
  const uint64_t first = env.ledger->head_seq();
  while (env.ledger->head_seq() < first + 50) {
    BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  }
  BOOST_TEST(newest() == before);  // ten times the event count, but no time has passed
  env.clock.Set(env.clock.Now() + 10 * kSecondMs - 1);
  BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_TEST(newest() == before);
  env.clock.Set(env.clock.Now() + 1);
  BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_TEST(newest() == env.ledger->head_seq());
  BOOST_TEST(NewestCheckpointState(*env.store) == RebuildFromLog(*env.store).Serialize());
}

BOOST_AUTO_TEST_CASE(deadlines_and_indexes_survive_a_restart_from_a_checkpoint) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto graced = env.MustCreateKey(acme.admin, "acme", KeyInput("graced"));
  auto rotated = env.RotateWithGrace(acme.admin, "acme", graced.key.id, 3600);
  BOOST_REQUIRE(rotated.ok());
  CreateKeyInput short_lived = KeyInput("short");
  short_lived.expires_at = kStartMs + 2 * kHourMs;
  auto expiring = env.MustCreateKey(acme.admin, "acme", short_lived);
  const TimeMs deadline = env.ledger->NextDeadline();
  BOOST_TEST(deadline == kStartMs + kHourMs);

  env.ReopenAll();  // loads the checkpoint Close wrote: the deadline index is rebuilt from it
  BOOST_TEST(env.ledger->NextDeadline() == deadline);
  env.clock.Set(kStartMs + 2 * kHourMs);
  BOOST_REQUIRE(env.Sweep().ok());
  std::vector<std::pair<std::string, std::string>> expired;
  for (const Event& e : env.Log()) {
    if (e.type() == EventType::kKeyExpired) expired.emplace_back(e.key_id, std::get<KeyExpired>(e.data).reason);
  }
  BOOST_TEST((expired == std::vector<std::pair<std::string, std::string>>{{graced.key.id, "rotated"},
                                                                          {expiring.key.id, "expired"}}));
  // The digest index came back too: the tokens still resolve.
  BOOST_TEST((env.VerifyCodeOf(rotated->token) == VerifyCode::kValid));
  BOOST_TEST((env.VerifyCodeOf(graced.token) == VerifyCode::kExpired));
}

BOOST_AUTO_TEST_CASE(a_checkpoint_that_does_not_match_the_log_is_ignored) {
  LedgerEnv env;
  BuildHistory(env);
  const uint64_t seq = env.ledger->head_seq() - 3;
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();
  const Digest full = RebuildFromLog(*env.store).Fingerprint();
  const LedgerState marked = MarkedStateAt(*env.store, seq);

  // A hash that does not match event `seq`, as the only checkpoint. (Each Close below writes a
  // valid one again, so each case starts by clearing them.)
  Digest wrong = HashOfEvent(*env.store, seq);
  wrong[0] ^= 0x01;
  DeleteCheckpointRows(*env.store);
  BOOST_REQUIRE(SaveProjectionCheckpoint(*env.store, marked, wrong).ok());
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme Inc");
  BOOST_TEST((env.ledger->Fingerprint() == full));
  env.CloseLedger();

  // A checkpoint ahead of the log.
  DeleteCheckpointRows(*env.store);
  PutCheckpoint(*env.store, head + 10, HashOfEvent(*env.store, head), marked.applied_ts(), marked.Serialize());
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme Inc");
  BOOST_TEST((env.ledger->Fingerprint() == full));
  env.CloseLedger();

  // The right seq and hash but a state that cannot be read.
  DeleteCheckpointRows(*env.store);
  PutCheckpoint(*env.store, seq, HashOfEvent(*env.store, seq), marked.applied_ts(),
                marked.Serialize().substr(0, 100));
  env.OpenLedger();
  BOOST_TEST((env.ledger->Fingerprint() == full));
  env.CloseLedger();

  // The right header but a chunk missing.
  DeleteCheckpointRows(*env.store);
  PutCheckpoint(*env.store, seq, HashOfEvent(*env.store, seq), marked.applied_ts(), marked.Serialize());
  {
    rocksdb::WriteBatch batch;
    const std::string id = EncodeSeq(static_cast<uint64_t>(marked.applied_ts())) + EncodeSeq(seq);
    BatchRowsForStore(batch, *env.store).Delete(Cf::kMeta, std::string(kChunkPrefix) + id + EncodeSeq(0));
    BOOST_REQUIRE(env.store->Write(batch, true).ok());
  }
  env.OpenLedger();
  BOOST_TEST((env.ledger->Fingerprint() == full));
  env.CloseLedger();

  // The right seq and hash but a size no buffer can hold, or one larger than its chunks.
  for (const uint64_t claimed : {uint64_t{1} << 62, uint64_t{1} << 30}) {
    DeleteCheckpointRows(*env.store);
    PutCheckpoint(*env.store, seq, HashOfEvent(*env.store, seq), marked.applied_ts(), marked.Serialize(), claimed);
    env.OpenLedger();
    BOOST_TEST((env.ledger->Fingerprint() == full), "claimed size " << claimed);
    env.CloseLedger();
  }

  // Too short to hold a header.
  DeleteCheckpointRows(*env.store);
  {
    rocksdb::WriteBatch batch;
    BatchRowsForStore(batch, *env.store).Put(Cf::kMeta, std::string(kCheckpointPrefix) + EncodeSeq(0) + EncodeSeq(0), "short");
    BOOST_REQUIRE(env.store->Write(batch, true).ok());
  }
  env.OpenLedger();
  BOOST_TEST((env.ledger->Fingerprint() == full));
  BOOST_TEST(env.ledger->head_seq() == head);

  // The sanity check of the test itself: the same marked checkpoint with the right hash is used.
  env.CloseLedger();
  DeleteCheckpointRows(*env.store);
  BOOST_REQUIRE(SaveProjectionCheckpoint(*env.store, marked, HashOfEvent(*env.store, seq)).ok());
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme From Checkpoint");
}

// The projection rows are outside the hash chain (one edited byte once brought a revoked key
// back): with a signing key, start-up loads a checkpoint only when a checkpoint signed by that key
// carries its digest, and rebuilds from the log otherwise.
BOOST_AUTO_TEST_CASE(with_a_signing_key_only_a_vouched_checkpoint_is_loaded) {
  auto key = SigningKey::Generate();
  auto other_key = SigningKey::Generate();
  BOOST_REQUIRE(key.ok() && other_key.ok());
  LedgerOptions options = testing::TestOptions();
  options.signing_key = *key;
  LedgerEnv env(options);
  BuildHistory(env);
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();  // a projection checkpoint and a signed one, at head
  const Digest full = RebuildFromLog(*env.store).Fingerprint();
  const LedgerState marked = MarkedStateAt(*env.store, head);
  const Digest head_hash = HashOfEvent(*env.store, head);
  const auto plant = [&](const SigningKey* signer) {
    DeleteCheckpointRows(*env.store);
    auto digest = SaveProjectionCheckpoint(*env.store, marked, head_hash);
    BOOST_REQUIRE(digest.ok());
    if (signer) {
      const ChainCheckpoint vouching = SignChainCheckpoint(*signer, head, head_hash, marked.applied_ts(), *digest);
      rocksdb::WriteBatch batch;
      BatchRowsForStore(batch, *env.store).Put(Cf::kMeta, ChainCheckpointRow(head), vouching.ToJson());
      BOOST_REQUIRE(env.store->Write(batch, true).ok());
    }
  };

  plant(nullptr);  // altered: the signed checkpoint carries the real state's digest
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme Inc");
  BOOST_TEST((env.ledger->Fingerprint() == full));
  BOOST_TEST(env.ledger->head_seq() == head);
  env.CloseLedger();

  plant(&*other_key);  // vouched for, but by a key this ledger does not sign with
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme Inc");
  env.CloseLedger();

  plant(&*key);  // the test's own sanity check: vouched for by the ledger's key, it is used
  env.OpenLedger();
  BOOST_TEST(WorkspaceName(env) == "Acme From Checkpoint");
}

// A state of ~40k keys serializes to many chunks; older checkpoints beyond the newest 8 are
// deleted with every one of their chunks, and so are chunks a crash left without their header.
BOOST_AUTO_TEST_CASE(large_checkpoints_span_chunks_and_old_ones_leave_no_rows) {
  LedgerEnv env;
  env.CloseLedger();
  LedgerState state;
  uint64_t seq = 0;
  auto apply = [&](std::string ws, std::string key_id, EventData data) {
    Event e;
    e.seq = ++seq;
    e.ts = kStartMs + static_cast<TimeMs>(seq);
    e.workspace = std::move(ws);
    e.key_id = std::move(key_id);
    e.actor = "bulk";
    e.data = std::move(data);
    state.Apply(e);
  };
  apply("bulk", "", WorkspaceCreated{"Bulk", Plan::kPro, 365});
  for (int i = 0; i < 40000; ++i) {
    KeyCreated k;
    k.name = "service number " + std::to_string(i);
    k.prefix = "kl_" + std::to_string(i);
    k.digest = testing::DigestOf("bulk key " + std::to_string(i));
    k.owner = "owner-" + std::to_string(i % 17) + "@example.com";
    k.preset = Preset::kReadOnly;
    k.abilities = {"*:read"};
    k.expires_at = kStartMs + 90 * kDayMs;
    apply("bulk", "key_bulk_" + std::to_string(i), std::move(k));
  }
  BOOST_REQUIRE(state.Serialize().size() > (4u << 20));

  // A checkpoint is only loaded when the log holds its seq with its hash: plant such an event
  // (recovery is not run here, so the gap before it does not matter).
  auto save = [&] {
    PutRawEvent(*env.store, state.applied_seq(), Digest{});
    BOOST_REQUIRE(SaveProjectionCheckpoint(*env.store, state, HashOfEvent(*env.store, state.applied_seq())).ok());
  };
  // Chunks whose header was never written (a crash between the two): one older than any
  // checkpoint, one between the first checkpoint and the next.
  auto plant_orphan_chunks = [&](TimeMs ts, uint64_t orphan_seq) {
    rocksdb::WriteBatch batch;
    BatchRows rows = BatchRowsForStore(batch, *env.store);
    const std::string id = EncodeSeq(static_cast<uint64_t>(ts)) + EncodeSeq(orphan_seq);
    for (uint64_t c = 0; c < 3; ++c) rows.Put(Cf::kMeta, std::string(kChunkPrefix) + id + EncodeSeq(c), "partial");
    BOOST_REQUIRE(env.store->Write(batch, true).ok());
  };
  plant_orphan_chunks(0, 1);
  save();
  BOOST_TEST(NewestCheckpointState(*env.store) == state.Serialize());
  plant_orphan_chunks(state.applied_ts(), state.applied_seq() + 1);

  for (int i = 0; i < 10; ++i) {
    apply("bulk", "key_bulk_" + std::to_string(i), KeyUsed{UseOutcome::kValid, "", "10.0.0.1"});
    save();
  }
  BOOST_TEST(NewestCheckpointState(*env.store) == state.Serialize());
  uint64_t headers = 0, chunks_claimed = 0, chunk_rows = 0;
  std::string end(kCheckpointPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  BOOST_REQUIRE(env.store->Scan(Cf::kMeta, kCheckpointPrefix, end, [&](std::string_view, std::string_view v) {
    ++headers;
    chunks_claimed += DecodeSeq(v.substr(48));
    return true;
  }).ok());
  std::string chunk_end(kChunkPrefix);
  chunk_end.back() = static_cast<char>(chunk_end.back() + 1);
  BOOST_REQUIRE(env.store->Scan(Cf::kMeta, kChunkPrefix, chunk_end, [&](std::string_view, std::string_view) {
    ++chunk_rows;
    return true;
  }).ok());
  BOOST_TEST(headers == kKeptProjectionCheckpoints);
  BOOST_TEST(chunks_claimed >= 2 * kKeptProjectionCheckpoints);
  BOOST_TEST(chunk_rows == chunks_claimed);  // no chunk of a deleted checkpoint, no orphan
}

// A log of 5,000 uses of one key after its workspace's set-up: the replay's batches and chunks
// many times over. Returns the key's id.
std::string WriteLongLog(LedgerEnv& env) {
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("busy"));
  env.CloseLedger();
  std::vector<PendingEvent> uses;
  for (int i = 0; i < 5000; ++i) {
    uses.push_back({"acme", key.key.id, "", KeyUsed{UseOutcome::kValid, "", "10.0.0." + std::to_string(i % 200)}});
  }
  BOOST_REQUIRE(testing::AppendRaw(*env.store, env.clock, uses).ok());
  const LedgerState whole = RebuildFromLog(*env.store);
  BOOST_REQUIRE(whole.FindKey(key.key.id)->usage_count == 5000u);
  return key.key.id;
}

// Replay reads on one thread, decodes on both and applies on one, in batches: a break deep in a
// long log stops it with exactly the events before the break applied, whatever batch it falls in.
BOOST_AUTO_TEST_CASE(replay_of_a_long_log_stops_exactly_at_a_break) {
  LedgerEnv env;
  const std::string key_id = WriteLongLog(env);
  const uint64_t head = RebuildFromLog(*env.store).applied_seq();

  const uint64_t broken = head - 1234;
  PutRawEvent(*env.store, broken, Digest{});  // its prev_hash no longer links
  LedgerState state;
  Status replayed = ReplayInto(*env.store, state);
  BOOST_TEST(!replayed.ok());
  BOOST_TEST(replayed.message().find("chain breaks at seq " + std::to_string(broken)) != std::string::npos);
  BOOST_TEST(state.applied_seq() == broken - 1);
  BOOST_TEST(state.FindKey(key_id)->usage_count == 5000u - 1234u - 1u);

  // Bounded replays stop where asked, across batches.
  LedgerState partial;
  BOOST_REQUIRE(ReplayInto(*env.store, partial, 3001).ok());
  BOOST_TEST(partial.applied_seq() == 3001u);
}

// Rows that cannot be decoded, wherever they fall in the batches, stop the replay exactly before
// the first of them, with its seq; a later one (decoded first, maybe by the other thread) does not
// hide it.
BOOST_AUTO_TEST_CASE(replay_stops_before_the_first_row_it_cannot_decode) {
  LedgerEnv env;
  const std::string key_id = WriteLongLog(env);
  const uint64_t head = RebuildFromLog(*env.store).applied_seq();
  auto garble = [&](uint64_t seq) {
    rocksdb::WriteBatch batch;
    BatchRowsForStore(batch, *env.store).Put(Cf::kEvents, EncodeSeq(seq), "not an event");
    BOOST_REQUIRE(env.store->Write(batch, true).ok());
  };
  garble(head - 10);
  for (const uint64_t first : {head - 100, head - 2000, uint64_t{1030}, uint64_t{70}}) {
    garble(first);
    LedgerState state;
    Status replayed = ReplayInto(*env.store, state);
    BOOST_TEST(!replayed.ok());
    BOOST_TEST(replayed.message().find("event " + std::to_string(first) + " cannot be read") != std::string::npos,
               replayed.message());
    BOOST_TEST(state.applied_seq() == first - 1);
    BOOST_TEST(state.FindKey(key_id)->usage_count == first - 1 - (head - 5000));
  }
}

BOOST_AUTO_TEST_CASE(a_broken_chain_or_a_gap_stops_recovery) {
  LedgerEnv env;
  BuildHistory(env);
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();

  PutRawEvent(*env.store, head + 1, Digest{});  // prev_hash does not match event `head`
  LedgerState state;
  Status replayed = ReplayInto(*env.store, state);
  BOOST_TEST(!replayed.ok());
  BOOST_TEST(replayed.message().find(std::to_string(head + 1)) != std::string::npos);
  BOOST_TEST(state.applied_seq() == head);
  {
    Ledger broken(*env.store, env.clock, testing::TestOptions());
    BOOST_TEST(!broken.Open().ok());
    BOOST_TEST(!broken.ready());
  }

  // The right prev_hash but a hole before it.
  PutRawEvent(*env.store, head + 1, HashOfEvent(*env.store, head));
  BOOST_REQUIRE(ReplayInto(*env.store, state).ok());  // picks up where it stopped
  BOOST_TEST(state.applied_seq() == head + 1);
  PutRawEvent(*env.store, head + 3, HashOfEvent(*env.store, head + 1));
  LedgerState gap;
  Status gapped = ReplayInto(*env.store, gap);
  BOOST_TEST(!gapped.ok());
  BOOST_TEST(gap.applied_seq() == head + 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ReplayEquivalenceTest)

// Regression: a key created without an Idempotency-Key kept the request digest in the live
// projection, but the event does not carry it, so a replay of the log differed from the live state
// and `keyledger replay` reported a projection digest mismatch on an untouched log.
BOOST_AUTO_TEST_CASE(regression_request_digest_without_idempotency_key_diverged_from_replay) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput plain = KeyInput("no idempotency key");
  plain.request_digest = Sha256("the request body");
  env.MustCreateKey(acme.admin, "acme", plain);
  CreateKeyInput idempotent = KeyInput("with idempotency key");
  idempotent.idempotency_key = "retry-1";
  idempotent.request_digest = Sha256("another body");
  env.MustCreateKey(acme.admin, "acme", idempotent);
  BOOST_TEST((env.ledger->Fingerprint() == RebuildFromLog(*env.store).Fingerprint()));
}

BOOST_AUTO_TEST_SUITE_END()


}  // namespace
}  // namespace keyledger
