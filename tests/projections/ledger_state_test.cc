#define BOOST_TEST_MODULE projections
#include <boost/test/unit_test.hpp>

#include "projections/ledger_state.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/log.h"
#include "projections/byte_codec.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::kStartMs;

// Every Ledger::Open logs at info level; keep the test output to warnings and failures.
struct QuietLog {
  QuietLog() { log::SetLevel(log::Level::kWarn); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLog);

// Feeds hand-made events to a LedgerState with contiguous seqs.
class StateBuilder {
 public:
  StateBuilder& Add(TimeMs ts, std::string ws, std::string key_id, EventData data,
                    std::string actor = "tester") {
    Event e;
    e.seq = ++seq_;
    e.ts = ts;
    e.workspace = std::move(ws);
    e.key_id = std::move(key_id);
    e.actor = std::move(actor);
    e.data = std::move(data);
    state.Apply(e);
    return *this;
  }
  LedgerState state;

 private:
  uint64_t seq_ = 0;
};

KeyCreated ApiKey(std::string name, std::string token, TimeMs expires_at = 0) {
  KeyCreated k;
  k.kind = KeyKind::kApi;
  k.name = std::move(name);
  k.prefix = DisplayPrefix(token);
  k.digest = TokenDigest(token);
  k.preset = Preset::kFullAccess;
  k.abilities = {"*:read", "*:write"};
  k.expires_at = expires_at;
  return k;
}

std::string IdOf(const std::optional<KeyState>& key) { return key ? key->id : std::string(); }

KeyUsed Use(UseOutcome outcome, std::string ip = "10.0.0.1") {
  return KeyUsed{outcome, "invoices:read", std::move(ip)};
}

BOOST_AUTO_TEST_SUITE(LedgerStateTest)

BOOST_AUTO_TEST_CASE(workspace_created_then_updated) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme Inc", Plan::kFree, 365});
  b.Add(kStartMs + 5, "acme", "", WorkspaceUpdated{Plan::kPro});
  const WorkspaceState* ws = b.state.FindWorkspace("acme");
  BOOST_REQUIRE(ws != nullptr);
  BOOST_TEST(ws->name == "Acme Inc");
  BOOST_TEST((ws->plan == Plan::kPro));
  BOOST_TEST(ws->created_at == kStartMs);
  BOOST_TEST(ws->updated_at == kStartMs + 5);
  BOOST_TEST(b.state.FindWorkspace("globex") == nullptr);
  BOOST_TEST(b.state.applied_seq() == 2u);
  BOOST_TEST(b.state.applied_ts() == kStartMs + 5);
}

BOOST_AUTO_TEST_CASE(key_created_is_indexed_by_id_digest_and_workspace) {
  const std::string token = GenerateToken("kl");
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  KeyCreated created = ApiKey("billing", token, kStartMs + kDayMs);
  created.owner = "ops@acme";
  created.metadata = {{"team", "billing"}, {"env", "prod"}};
  b.Add(kStartMs + 1, "acme", "key_1", created, "alice");

  const std::optional<KeyState> key = b.state.FindKey("key_1");
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(IdOf(b.state.FindByDigest(TokenDigest(token))) == "key_1");
  BOOST_TEST(!b.state.FindByDigest(TokenDigest(GenerateToken("kl"))).has_value());
  BOOST_TEST(key->name == "billing");
  BOOST_TEST(key->owner == "ops@acme");
  BOOST_TEST(key->created_by == "alice");
  BOOST_TEST(key->created_at == kStartMs + 1);
  BOOST_TEST(key->expires_at == kStartMs + kDayMs);
  BOOST_TEST((key->abilities.list() == std::vector<std::string>{"*:read", "*:write"}));
  BOOST_TEST(key->metadata.size() == 2u);
  BOOST_TEST(key->metadata[0].first == "team");  // insertion order kept
  BOOST_TEST((key->status == KeyStatus::kActive));
  BOOST_TEST((b.state.FindWorkspace("acme")->keys == std::vector<KeyIndex>{0}));
  BOOST_TEST(b.state.Key(0).id == "key_1");
  BOOST_TEST(b.state.NextDeadline() == kStartMs + kDayMs);
  BOOST_TEST(b.state.key_count() == 1u);
}

BOOST_AUTO_TEST_CASE(uses_count_valid_and_rejected_in_hourly_buckets) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  b.Add(kStartMs, "acme", "key_1", ApiKey("k", GenerateToken("kl")));
  b.Add(kStartMs + 10, "acme", "key_1", Use(UseOutcome::kValid));
  b.Add(kStartMs + kHourMs - 1, "acme", "key_1", Use(UseOutcome::kForbidden, "10.9.9.9"));
  b.Add(kStartMs + kHourMs, "acme", "key_1", Use(UseOutcome::kValid));
  b.Add(kStartMs + 3 * kHourMs + 7, "acme", "key_1", Use(UseOutcome::kRevoked, "10.1.1.1"));

  const KeyState key = *b.state.FindKey("key_1");
  BOOST_TEST(key.usage_count == 2u);
  BOOST_TEST(key.rejected_count == 2u);
  BOOST_TEST(key.last_used_at == kStartMs + kHourMs);
  BOOST_TEST(key.last_rejected_at == kStartMs + 3 * kHourMs + 7);
  BOOST_TEST(key.last_rejected_ip == "10.1.1.1");
  BOOST_REQUIRE(key.usage.size() == 3u);
  BOOST_TEST(key.usage[0].hour_start == kStartMs);
  BOOST_TEST(key.usage[0].count == 2u);
  BOOST_TEST(key.usage[0].rejected == 1u);
  BOOST_TEST(key.usage[1].hour_start == kStartMs + kHourMs);
  BOOST_TEST(key.usage[1].count == 1u);
  BOOST_TEST(key.usage[1].rejected == 0u);
  BOOST_TEST(key.usage[2].hour_start == kStartMs + 3 * kHourMs);
  BOOST_TEST(key.usage[2].rejected == 1u);
}

// ApplyBatch (replay's path: ids hashed ahead, then handed to the apply) must build exactly what
// Apply builds one event at a time: forty keys so that the lookahead reaches across chunks, uses
// interleaved, a use of a key that does not exist, an id created twice (the newer one wins), a
// rotation and a revocation.
BOOST_AUTO_TEST_CASE(apply_batch_builds_what_apply_builds) {
  std::vector<Event> events;
  auto add = [&](TimeMs ts, std::string key_id, EventData data) {
    Event e;
    e.seq = events.size() + 1;
    e.ts = ts;
    e.workspace = "acme";
    e.key_id = std::move(key_id);
    e.actor = "tester";
    e.data = std::move(data);
    events.push_back(std::move(e));
  };
  add(kStartMs, "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  for (int k = 0; k < 40; ++k) {
    add(kStartMs + k, "key_" + std::to_string(k), ApiKey("k", GenerateToken("kl")));
  }
  for (int i = 0; i < 400; ++i) {
    const int k = (i * 7) % 40;
    const UseOutcome outcome = i % 3 == 0 ? UseOutcome::kForbidden : UseOutcome::kValid;
    const std::string ip = "10.0.0." + std::to_string(i % 4);
    add(kStartMs + kHourMs + i, "key_" + std::to_string(k), Use(outcome, ip));
  }
  add(kStartMs + 2 * kHourMs, "key_missing", Use(UseOutcome::kValid));
  add(kStartMs + 2 * kHourMs, "key_3", ApiKey("again", GenerateToken("kl")));
  add(kStartMs + 2 * kHourMs, "key_3", Use(UseOutcome::kValid));
  add(kStartMs + 2 * kHourMs, "key_4", KeyRotated{"key_5", kStartMs + 3 * kHourMs});
  add(kStartMs + 2 * kHourMs, "key_6", KeyRevoked{"leaked"});
  add(kStartMs + 2 * kHourMs, "key_6", Use(UseOutcome::kRevoked, "10.9.9.9"));

  LedgerState one_by_one;
  for (const Event& e : events) one_by_one.Apply(e);
  for (const size_t chunk : {events.size(), size_t{13}, size_t{1}}) {
    LedgerState batched;
    for (size_t i = 0; i < events.size(); i += chunk) {
      batched.ApplyBatch(events.data() + i, std::min(chunk, events.size() - i));
    }
    BOOST_TEST_CONTEXT("chunks of " << chunk) {
      BOOST_TEST((batched.Fingerprint() == one_by_one.Fingerprint()));
      BOOST_TEST(batched.applied_seq() == events.size());
      // key_1's uses are i = 23 + 40j, j = 0..9; those with j = 1, 4, 7 are rejected.
      BOOST_TEST(batched.FindKey("key_1")->usage_count == 7u);
      BOOST_TEST(batched.FindKey("key_1")->rejected_count == 3u);
      BOOST_TEST(batched.FindKey("key_3")->name == "again");
      BOOST_TEST(batched.FindKey("key_3")->usage_count == 1u);
      BOOST_TEST(batched.FindKey("key_4")->rotated_to == "key_5");
      BOOST_TEST((batched.FindKey("key_6")->status == KeyStatus::kRevoked));
      BOOST_TEST(batched.FindKey("key_6")->last_rejected_ip == "10.9.9.9");
      BOOST_TEST(!batched.FindKey("key_missing").has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(effective_status_changes_exactly_at_the_deadline) {
  KeyState key;
  key.expires_at = kStartMs + 1000;
  BOOST_TEST((key.EffectiveStatus(kStartMs + 999) == KeyStatus::kActive));
  BOOST_TEST((key.EffectiveStatus(kStartMs + 1000) == KeyStatus::kExpired));
  key.grace_until = kStartMs + 500;
  BOOST_TEST((key.EffectiveStatus(kStartMs + 499) == KeyStatus::kActive));
  BOOST_TEST((key.EffectiveStatus(kStartMs + 500) == KeyStatus::kExpired));
  key.status = KeyStatus::kRevoked;
  BOOST_TEST((key.EffectiveStatus(kStartMs) == KeyStatus::kRevoked));
  KeyState forever;
  BOOST_TEST((forever.EffectiveStatus(INT64_MAX) == KeyStatus::kActive));
}

BOOST_AUTO_TEST_CASE(deadline_is_the_earlier_of_expiry_and_grace_end) {
  KeyState key;
  BOOST_TEST(key.Deadline() == 0);
  key.expires_at = 100;
  BOOST_TEST(key.Deadline() == 100);
  key.grace_until = 50;
  BOOST_TEST(key.Deadline() == 50);
  key.grace_until = 150;
  BOOST_TEST(key.Deadline() == 100);
  key.expires_at = 0;
  BOOST_TEST(key.Deadline() == 150);
}

BOOST_AUTO_TEST_CASE(rotation_moves_the_deadline_to_the_grace_end) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  b.Add(kStartMs, "acme", "key_old", ApiKey("a", GenerateToken("kl"), kStartMs + 90 * kDayMs));
  b.Add(kStartMs, "acme", "key_other", ApiKey("b", GenerateToken("kl"), kStartMs + 2 * kHourMs));
  BOOST_TEST(b.state.NextDeadline() == kStartMs + 2 * kHourMs);
  b.Add(kStartMs + 1, "acme", "key_new", ApiKey("a", GenerateToken("kl"), kStartMs + 91 * kDayMs));
  b.Add(kStartMs + 1, "acme", "key_old", KeyRotated{"key_new", kStartMs + kHourMs});

  const KeyState old = *b.state.FindKey("key_old");
  BOOST_TEST(old.rotated_to == "key_new");
  BOOST_TEST(old.grace_until == kStartMs + kHourMs);
  BOOST_TEST(b.state.NextDeadline() == kStartMs + kHourMs);
  BOOST_TEST(b.state.DueForExpiry(kStartMs + kHourMs - 1, 10).empty());
  BOOST_TEST((b.state.DueForExpiry(kStartMs + kHourMs, 10) == std::vector<std::string>{"key_old"}));
  // Earliest first, bounded by `max`.
  BOOST_TEST((b.state.DueForExpiry(kStartMs + 3 * kHourMs, 10) ==
              std::vector<std::string>{"key_old", "key_other"}));
  BOOST_TEST((b.state.DueForExpiry(kStartMs + 3 * kHourMs, 1) == std::vector<std::string>{"key_old"}));

  b.Add(kStartMs + kHourMs, "acme", "key_old", KeyExpired{"rotated"});
  BOOST_TEST((b.state.FindKey("key_old")->status == KeyStatus::kExpired));
  BOOST_TEST(b.state.NextDeadline() == kStartMs + 2 * kHourMs);
}

BOOST_AUTO_TEST_CASE(a_key_ends_once_and_leaves_the_deadline_index) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  b.Add(kStartMs, "acme", "key_1", ApiKey("a", GenerateToken("kl"), kStartMs + kDayMs));
  b.Add(kStartMs + 7, "acme", "key_1", KeyRevoked{"leaked"}, "alice");
  BOOST_TEST(b.state.NextDeadline() == 0);
  b.Add(kStartMs + kDayMs, "acme", "key_1", KeyExpired{"expired"});
  const KeyState key = *b.state.FindKey("key_1");
  BOOST_TEST((key.status == KeyStatus::kRevoked));
  BOOST_TEST(key.revoked_at == kStartMs + 7);
  BOOST_TEST(key.ended_at == kStartMs + 7);
  BOOST_TEST(key.revoke_reason == "leaked");
  BOOST_TEST(b.state.DueForExpiry(kStartMs + 10 * kDayMs, 10).empty());
}

BOOST_AUTO_TEST_CASE(idempotency_records_last_24_hours_per_workspace) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  KeyCreated created = ApiKey("a", GenerateToken("kl"));
  created.idempotency_key = "req-1";
  created.request_digest = Sha256("body");
  b.Add(kStartMs, "acme", "key_1", created);
  const LedgerState& s = b.state;
  BOOST_TEST(IdOf(s.FindIdempotent("acme", "req-1", kStartMs)) == "key_1");
  BOOST_TEST(IdOf(s.FindIdempotent("acme", "req-1", kStartMs + kIdempotencyWindowMs - 1)) == "key_1");
  BOOST_TEST(!s.FindIdempotent("acme", "req-1", kStartMs + kIdempotencyWindowMs).has_value());
  BOOST_TEST(!s.FindIdempotent("globex", "req-1", kStartMs).has_value());
  BOOST_TEST(!s.FindIdempotent("acme", "req-2", kStartMs).has_value());
}

// A state with a bit of everything, including strings that need escaping.
LedgerState VariedState() {
  StateBuilder b;
  b.Add(kStartMs, "", "key_op", [] {
    KeyCreated op;
    op.kind = KeyKind::kOperator;
    op.name = "operator";
    op.digest = Sha256("op");
    return op;
  }(), "bootstrap");
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme \"Inc\" \\ Ünïcødé 日本", Plan::kPro, 365});
  b.Add(kStartMs, "globex", "", WorkspaceCreated{"Globex", Plan::kFree, 365});
  KeyCreated admin;
  admin.kind = KeyKind::kAdmin;
  admin.name = "dashboard";
  admin.role = "auditor";
  admin.digest = Sha256("admin");
  b.Add(kStartMs + 1, "acme", "key_admin", admin);
  KeyCreated k = ApiKey("billing ✓", GenerateToken("kl"), kStartMs + 30 * kDayMs);
  k.preset = Preset::kNone;
  k.abilities = {"invoices:read", "customers:write"};
  k.metadata = {{"team", "pay\"ments"}, {"emoji", "🔑"}, {"empty", ""}};
  k.owner = "o'wner";
  k.description = "line one / two";
  k.idempotency_key = "idem-1";
  k.request_digest = Sha256("x");
  b.Add(kStartMs + 2, "acme", "key_b", k);
  b.Add(kStartMs + 3, "acme", "key_a", ApiKey("other", GenerateToken("kl"), kStartMs + 60 * kDayMs));
  b.Add(kStartMs + 4, "acme", "key_b", Use(UseOutcome::kValid));
  b.Add(kStartMs + kHourMs, "acme", "key_b", Use(UseOutcome::kForbidden, "192.0.2.1"));
  b.Add(kStartMs + kHourMs, "acme", "key_c", ApiKey("new", GenerateToken("kl"), kStartMs + 90 * kDayMs));
  b.Add(kStartMs + kHourMs, "acme", "key_a", KeyRotated{"key_c", kStartMs + 2 * kHourMs});
  b.Add(kStartMs + 2 * kHourMs, "acme", "key_a", KeyExpired{"rotated"});
  b.Add(kStartMs + 2 * kHourMs, "acme", "key_b", KeyRevoked{"compromised"});
  return std::move(b.state);
}

BOOST_AUTO_TEST_CASE(serialize_round_trips_byte_for_byte) {
  const LedgerState state = VariedState();
  const std::string bytes = state.Serialize();
  auto restored = LedgerState::Deserialize(bytes);
  BOOST_REQUIRE_MESSAGE(restored.ok(), restored.status().message());
  BOOST_TEST(restored->Serialize() == bytes);
  BOOST_TEST(restored->applied_seq() == state.applied_seq());
  BOOST_TEST(restored->applied_ts() == state.applied_ts());
  BOOST_TEST((restored->Fingerprint() == state.Fingerprint()));
  BOOST_TEST((state.Fingerprint() == Sha256(bytes)));
  BOOST_TEST(restored->FindWorkspace("acme")->name == "Acme \"Inc\" \\ Ünïcødé 日本");
  BOOST_TEST(restored->FindKey("key_b")->metadata[1].second == "🔑");
}

BOOST_AUTO_TEST_CASE(serialize_is_canonical_and_sensitive_to_every_change) {
  // Two builds differ only in their random tokens, and the digests are part of the state.
  BOOST_TEST(VariedState().Serialize() != VariedState().Serialize());
  // Same events, same bytes: build twice from identical events.
  const std::string token = GenerateToken("kl");
  auto build = [&](int uses) {
    StateBuilder b;
    b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
    for (int i = 0; i < 20; ++i) {
      b.Add(kStartMs + i, "acme", "key_" + std::to_string(i * 7919 % 101), ApiKey("k", token + std::to_string(i)));
    }
    for (int i = 0; i < uses; ++i) b.Add(kStartMs + 100, "acme", "key_0", Use(UseOutcome::kValid));
    return std::move(b.state);
  };
  BOOST_TEST(build(1).Serialize() == build(1).Serialize());
  BOOST_TEST((build(1).Fingerprint() != build(2).Fingerprint()));
}

BOOST_AUTO_TEST_CASE(deserialize_rebuilds_the_indexes) {
  const LedgerState state = VariedState();
  auto restored = LedgerState::Deserialize(state.Serialize());
  BOOST_REQUIRE(restored.ok());
  const std::optional<KeyState> c = restored->FindKey("key_c");
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(IdOf(restored->FindByDigest(c->digest)) == "key_c");
  BOOST_TEST(IdOf(restored->FindByDigest(Sha256("admin"))) == "key_admin");
  BOOST_TEST(restored->NextDeadline() == state.NextDeadline());
  BOOST_TEST(restored->NextDeadline() == kStartMs + 90 * kDayMs);
  BOOST_TEST((restored->DueForExpiry(kStartMs + 365 * kDayMs, 10) == state.DueForExpiry(kStartMs + 365 * kDayMs, 10)));
  BOOST_TEST(IdOf(restored->FindIdempotent("acme", "idem-1", kStartMs + 3)) == "key_b");
  BOOST_TEST((restored->FindKey("key_b")->abilities.list() ==
              std::vector<std::string>{"invoices:read", "customers:write"}));
  BOOST_TEST(restored->FindKey("key_admin")->abilities.list().empty());
}

BOOST_AUTO_TEST_CASE(deserialize_rejects_malformed_bytes) {
  BOOST_TEST(!LedgerState::Deserialize("").ok());
  BOOST_TEST(!LedgerState::Deserialize("{").ok());
  BOOST_TEST(!LedgerState::Deserialize(R"({"seq":1,"ts":2})").ok());  // the old JSON format
  const std::string bytes = VariedState().Serialize();
  BOOST_REQUIRE(LedgerState::Deserialize(bytes).ok());
  // Every truncation, and anything appended, is refused rather than half-loaded.
  for (size_t size = 0; size < bytes.size(); ++size) {
    auto bad = LedgerState::Deserialize(bytes.substr(0, size));
    BOOST_TEST_REQUIRE(!bad.ok(), "accepted a truncation to " << size << " bytes");
    BOOST_TEST((bad.status().code() == StatusCode::kInternal));
  }
  BOOST_TEST(!LedgerState::Deserialize(bytes + "x").ok());
}

// Decodes `input` as a second thread appends it in pieces of `piece` bytes to an ArrivingBytes of
// `capacity` bytes read through a window of `window`.
Result<LedgerState> DecodeArriving(std::string_view input, size_t capacity, size_t piece,
                                   size_t window = ArrivingBytes::kWindow) {
  ArrivingBytes in(capacity, window);
  std::thread writer([&] {
    for (size_t at = 0; at < input.size(); at += piece) {
      if (!in.Append(input.substr(at, piece))) break;
    }
    in.Close();
  });
  auto state = LedgerState::Deserialize(in);
  writer.join();
  return state;
}

// A checkpoint is decoded while another thread still reads it from RocksDB: whatever the pieces
// it arrives in, the state is the same, and an input that stops short or runs long is refused.
BOOST_AUTO_TEST_CASE(deserialize_decodes_bytes_as_they_arrive) {
  const std::string bytes = VariedState().Serialize();
  for (size_t piece : {size_t{1}, size_t{7}, size_t{64}, bytes.size()}) {
    auto state = DecodeArriving(bytes, bytes.size(), piece);
    BOOST_TEST_REQUIRE(state.ok(), "pieces of " << piece << ": " << state.status().message());
    BOOST_TEST(state->Serialize() == bytes, "pieces of " << piece);
  }
  auto short_input = DecodeArriving(bytes.substr(0, bytes.size() - 1), bytes.size(), 64);
  BOOST_TEST(!short_input.ok());
  auto long_input = DecodeArriving(bytes + "x", bytes.size() + 1, 64);
  BOOST_TEST(!long_input.ok());
  BOOST_TEST(long_input.status().message().find("trailing bytes") != std::string::npos,
             long_input.status().message());
  // The writer never overflows the buffer it was given.
  ArrivingBytes small(4);
  BOOST_TEST(small.Append("abc"));
  BOOST_TEST(!small.Append("de"));
  BOOST_TEST(small.written() == 3u);
}

// The bytes pass through a window far smaller than the state, reused round and round: every pool,
// workspace key list and key record still decodes whole, whether the pieces are smaller or larger
// than the window or straddle its end.
BOOST_AUTO_TEST_CASE(deserialize_decodes_a_state_many_times_its_window) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  for (int i = 0; i < 400; ++i) {
    KeyCreated k = ApiKey("key " + std::to_string(i), GenerateToken("kl"), kStartMs + kDayMs + i);
    k.owner = "owner-" + std::to_string(i);  // 400 pool strings
    k.description = std::string(static_cast<size_t>(i % 97), 'd');
    const std::string id = "key_" + std::to_string(i);
    b.Add(kStartMs + i, "acme", id, k);
    if (i % 3 == 0) b.Add(kStartMs + i + kHourMs * (i % 5), "acme", id, Use(UseOutcome::kValid));
  }
  const std::string bytes = b.state.Serialize();
  constexpr size_t kPage = 4096;
  BOOST_REQUIRE(bytes.size() > 10 * kPage);
  for (size_t piece : {size_t{1}, size_t{1000}, kPage, kPage + 1, 3 * kPage, bytes.size()}) {
    auto state = DecodeArriving(bytes, bytes.size(), piece, kPage);
    BOOST_TEST_REQUIRE(state.ok(), "pieces of " << piece << ": " << state.status().message());
    BOOST_TEST(state->Serialize() == bytes, "pieces of " << piece);
    BOOST_TEST(state->FindKey("key_399")->owner == "owner-399");
  }
}

// A record that cannot fit in the window is refused as the input ends there, and neither the
// decoder nor the writer, which waits for room in a full window, waits forever.
BOOST_AUTO_TEST_CASE(a_record_larger_than_the_window_is_refused_without_a_deadlock) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  KeyCreated k = ApiKey("wide", GenerateToken("kl"));
  k.description = std::string(3 * 4096, 'w');
  b.Add(kStartMs, "acme", "key_wide", k);
  const std::string bytes = b.state.Serialize();
  auto state = DecodeArriving(bytes, bytes.size(), 4096, 4096);
  BOOST_TEST(!state.ok());
  BOOST_TEST(DecodeArriving(bytes, bytes.size(), 4096, 4 * 4096).ok());
}

// The window's ring: a reader sees the bytes in order and in one piece across its end, and the
// writer waits for the room the reader releases.
BOOST_AUTO_TEST_CASE(arriving_bytes_reuse_the_room_the_reader_releases) {
  constexpr size_t kPage = 4096;
  std::string input(3 * kPage + 100, '\0');
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>(i * 131 % 251);
  ArrivingBytes in(input.size(), kPage);
  BOOST_REQUIRE(in.window() == kPage);
  std::thread writer([&] {
    in.Append(input);
    in.Close();
  });
  size_t at = 0;
  while (at < input.size()) {
    // Half a window at a time, so each read after the first starts mid-window and the last
    // ones run across the end of the ring.
    const size_t n = std::min(kPage / 2 + 300, input.size() - at);
    const std::string_view got = in.WaitFor(at, n);
    BOOST_REQUIRE(got.size() >= n);
    BOOST_REQUIRE(got.substr(0, n) == std::string_view(input).substr(at, n));
    at += n;
    in.Release(at);
  }
  writer.join();
  BOOST_TEST(in.written() == input.size());
  // Bytes that fit in the window need no ring: one buffer of their size, no wrapping.
  BOOST_TEST(ArrivingBytes(100, kPage).window() == 100u);
  BOOST_TEST(ArrivingBytes(kPage + 1, kPage).window() == kPage);
  // More than the window at once, or together with what is not released, cannot be waited for.
  ArrivingBytes held(2 * kPage, kPage);
  BOOST_TEST(held.Append(std::string(kPage, 'x')));
  BOOST_TEST(held.WaitFor(0, kPage + 1).size() == kPage);
  BOOST_TEST(held.WaitFor(1, kPage).size() == kPage - 1);
  BOOST_TEST(!held.abandoned());
  held.Abandon();
  BOOST_TEST(held.abandoned());
  BOOST_TEST(!held.Append("y"));  // an abandoned window takes no more
}

// A varint reads the same whether ten or more bytes follow it (the unchecked fast path) or it ends
// the input (checked byte by byte); an overlong one fails either way.
BOOST_AUTO_TEST_CASE(varints_read_alike_at_the_end_of_the_input_and_before_more) {
  const std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35,
                                        (uint64_t{1} << 63) - 1, uint64_t{1} << 63, UINT64_MAX};
  for (uint64_t v : values) {
    std::string alone;
    ByteWriter(alone).Varint(v);
    const std::string followed = alone + std::string(12, '\x01');
    ByteReader at_end(alone);
    BOOST_TEST(at_end.Varint() == v);
    BOOST_TEST((!at_end.failed() && at_end.at_end()));
    ByteReader before_more(followed);
    BOOST_TEST(before_more.Varint() == v);
    BOOST_TEST(before_more.U8() == 1u, "read " << v << " to the wrong length");
    BOOST_TEST(!before_more.failed());
  }
  const std::string overlong(11, '\x80');
  ByteReader checked(std::string_view(overlong).substr(0, 9));
  checked.Varint();
  BOOST_TEST(checked.failed());  // ran out mid-varint
  const std::string overlong_then_more = overlong + std::string(5, '\x00');
  ByteReader unchecked(overlong_then_more);
  BOOST_TEST(unchecked.Varint() == 0u);
  BOOST_TEST(unchecked.failed());  // ten bytes and no end
}

// Regression: Deserialize rebuilt the idempotency index in key-id order, so when an
// Idempotency-Key had been reused after its 24 h window, a restart from a checkpoint could point
// it back at the older key (whose window is over) and a retry of the newer request made a second
// key instead of replaying. The newer creation must win, as it does in Apply.
BOOST_AUTO_TEST_CASE(regression_deserialize_keeps_the_newest_key_per_idempotency_key) {
  StateBuilder b;
  b.Add(kStartMs, "acme", "", WorkspaceCreated{"Acme", Plan::kPro, 365});
  KeyCreated first = ApiKey("first", GenerateToken("kl"));
  first.idempotency_key = "req";
  first.request_digest = Sha256("one");
  b.Add(kStartMs, "acme", "key_z_older", first);  // sorts last by id
  KeyCreated second = ApiKey("second", GenerateToken("kl"));
  second.idempotency_key = "req";
  second.request_digest = Sha256("two");
  const TimeMs later = kStartMs + kIdempotencyWindowMs + kHourMs;
  b.Add(later, "acme", "key_a_newer", second);
  BOOST_REQUIRE(IdOf(b.state.FindIdempotent("acme", "req", later + 1)) == "key_a_newer");

  auto restored = LedgerState::Deserialize(b.state.Serialize());
  BOOST_REQUIRE(restored.ok());
  const std::optional<KeyState> found = restored->FindIdempotent("acme", "req", later + 1);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->id == "key_a_newer");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
