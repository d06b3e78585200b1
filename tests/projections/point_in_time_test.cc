#include <boost/test/unit_test.hpp>

#include <future>

#include "events/chain_checkpoint.h"
#include "projections/checkpoint.h"
#include "projections/point_in_time.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger::testing {
namespace {

size_t CountCheckpointRows(const EventStore& store) {
  std::string from = "projection_checkpoint/";
  std::string to = from;
  to.back() = static_cast<char>(to.back() + 1);
  size_t n = 0;
  Status s = store.Scan(Cf::kMeta, from, to, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  BOOST_REQUIRE(s.ok());
  return n;
}

// The newest signed checkpoint stored in the log: what verify-log and GET /checkpoint read.
ChainCheckpoint NewestStored(const EventStore& store) {
  auto latest = LatestChainCheckpoint(store);
  BOOST_REQUIRE(latest.ok() && latest->has_value());
  return **latest;
}

// Signed checkpoints written only when asked for, at open and at close: the periodic ones are a
// million events or a minute (of the test's clock) apart.
LedgerOptions SignedWithRareCheckpoints(const SigningKey& key) {
  LedgerOptions options = TestOptions();
  options.signing_key = key;
  options.checkpoint_every_events = 1000000;
  options.checkpoint_every_ms = 60 * kSecondMs;
  return options;
}

// Ledger::SignedHead's answer, which may come later from the checkpoint thread.
std::future<Result<ChainCheckpoint>> AskSignedHead(Ledger& ledger, const Principal& p) {
  auto answer = std::make_shared<std::promise<Result<ChainCheckpoint>>>();
  ledger.SignedHead(p, [answer](Result<ChainCheckpoint> r) { answer->set_value(std::move(r)); });
  return answer->get_future();
}

Result<ChainCheckpoint> Await(std::future<Result<ChainCheckpoint>> answer) {
  BOOST_TEST_REQUIRE((answer.wait_for(std::chrono::seconds(60)) == std::future_status::ready));
  return answer.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(PointInTimeTest)

// A hand-built timeline: created at T1, two uses, rotated with grace at T2, three more uses, the
// grace ends at T3, the new key is revoked at T4.
BOOST_AUTO_TEST_CASE(as_of_answers_with_the_state_at_each_instant) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const TimeMs before_creation = env.clock.Now();
  env.clock.Advance(kSecondMs);
  auto old_key = env.MustCreateKey(acme.admin, "acme", KeyInput("reporting"));
  env.clock.Advance(kSecondMs);
  BOOST_REQUIRE((env.VerifyCodeOf(old_key.token) == VerifyCode::kValid));
  BOOST_REQUIRE((env.VerifyCodeOf(old_key.token) == VerifyCode::kValid));
  const TimeMs after_two_uses = env.clock.Now();
  env.clock.Advance(kSecondMs);
  auto rotated = env.RotateWithGrace(acme.admin, "acme", old_key.key.id, 3600);
  BOOST_REQUIRE(rotated.ok());
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE((env.VerifyCodeOf(old_key.token) == VerifyCode::kValid));
  env.clock.Advance(60 * kSecondMs);
  const TimeMs during_grace = env.clock.Now();
  env.clock.Advance(kHourMs);
  BOOST_REQUIRE(env.Sweep().ok());
  const TimeMs after_grace = env.clock.Now();
  env.clock.Advance(kSecondMs);
  BOOST_REQUIRE(env.Revoke(acme.admin, "acme", rotated->key.id).ok());
  env.clock.Advance(kSecondMs);

  // Before creation: the key did not exist.
  BOOST_TEST(env.ledger->GetKey(acme.admin, "acme", old_key.key.id, before_creation).status().code() ==
             StatusCode::kNotFound);
  // After two uses: active, two uses.
  auto early = env.ledger->GetKey(acme.admin, "acme", old_key.key.id, after_two_uses);
  BOOST_REQUIRE(early.ok());
  BOOST_TEST((early->status == KeyStatus::kActive));
  BOOST_TEST(early->usage_count == 2u);
  BOOST_TEST(early->rotated_to.empty());
  // Between rotation and grace end: both active, the old one with grace_until and five uses.
  auto page = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 10, "", during_grace);
  BOOST_REQUIRE(page.ok());
  BOOST_TEST(page->keys.size() == 2u);
  auto in_grace = env.ledger->GetKey(acme.admin, "acme", old_key.key.id, during_grace);
  BOOST_TEST((in_grace->status == KeyStatus::kActive));
  BOOST_TEST(in_grace->grace_until == rotated->replaced->grace_until);
  BOOST_TEST(in_grace->usage_count == 5u);
  // After the grace: the old key expired, the new one active.
  BOOST_TEST((env.ledger->GetKey(acme.admin, "acme", old_key.key.id, after_grace)->status == KeyStatus::kExpired));
  BOOST_TEST((env.ledger->GetKey(acme.admin, "acme", rotated->key.id, after_grace)->status == KeyStatus::kActive));
  // Now: the new key revoked.
  BOOST_TEST((env.ledger->GetKey(acme.admin, "acme", rotated->key.id)->status == KeyStatus::kRevoked));
  // The future is not a point in time the ledger can answer for.
  BOOST_TEST(env.ledger->GetKey(acme.admin, "acme", old_key.key.id, env.clock.Now() + kHourMs)
                 .status()
                 .field() == "as_of");
  // Isolation holds for as_of as for the present.
  auto beta = env.MustSetUpWorkspace("beta");
  BOOST_TEST(env.ledger->GetKey(beta.admin, "acme", old_key.key.id, during_grace).status().code() ==
             StatusCode::kForbidden);
  // A workspace created after the instant had no keys then (not "not found": it exists).
  auto before_beta = env.ledger->ListKeys(beta.admin, "beta", KeyFilter::kAll, 10, "", during_grace);
  BOOST_REQUIRE_MESSAGE(before_beta.ok(), before_beta.status().message());
  BOOST_TEST(before_beta->keys.empty());
  BOOST_TEST(before_beta->next_cursor.empty());
}

BOOST_AUTO_TEST_CASE(state_as_of_from_a_checkpoint_equals_a_replay_from_seq_one) {
  LedgerOptions options = TestOptions();
  options.checkpoint_every_events = 4;  // many checkpoints along the way
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  std::vector<TimeMs> instants;
  for (int i = 0; i < 24; ++i) {  // ~54 events: a dozen checkpoints, of which the newest 8 stay
    auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("key " + std::to_string(i)));
    env.clock.Advance(kSecondMs);
    BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
    instants.push_back(env.clock.Now());
    env.clock.Advance(kSecondMs);
  }
  env.CloseLedger();
  BOOST_TEST(CountCheckpointRows(*env.store) == kKeptProjectionCheckpoints);
  for (TimeMs t : instants) {
    auto from_checkpoint = StateAsOf(*env.store, t);
    BOOST_REQUIRE(from_checkpoint.ok());
    LedgerState from_scratch;
    BOOST_REQUIRE(ReplayInto(*env.store, from_scratch, 0, t).ok());
    BOOST_TEST((from_checkpoint->Fingerprint() == from_scratch.Fingerprint()));
    BOOST_TEST(from_checkpoint->applied_ts() <= t);
  }
}

// The same states, built a few events per step, as the read thread builds them between other reads.
BOOST_AUTO_TEST_CASE(state_as_of_in_steps_equals_state_as_of) {
  LedgerOptions options = TestOptions();
  options.checkpoint_every_events = 8;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  std::vector<TimeMs> instants = {env.clock.Now() - 1};  // before the first event: empty
  for (int i = 0; i < 12; ++i) {
    auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("key " + std::to_string(i)));
    env.clock.Advance(kSecondMs);
    for (int u = 0; u < i; ++u) BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
    instants.push_back(env.clock.Now());
    env.clock.Advance(kSecondMs);
  }
  env.CloseLedger();
  for (uint64_t per_step : {uint64_t{1}, uint64_t{3}, uint64_t{5}}) {
    for (TimeMs t : instants) {
      BOOST_TEST_CONTEXT("events per step " << per_step << ", as of " << t) {
        auto whole = StateAsOf(*env.store, t);
        BOOST_REQUIRE(whole.ok());
        StateAsOfSteps build(*env.store, t, per_step);
        int steps = 1;
        while (!build.Step() && steps < 10000) ++steps;
        BOOST_TEST_REQUIRE(build.status().ok(), build.status().message());
        BOOST_TEST((build.state().Fingerprint() == whole->Fingerprint()));
        BOOST_TEST(build.state().applied_seq() == whole->applied_seq());
        // The checkpoint's step, then at least the events after it, per_step at a time.
        BOOST_TEST(steps >= 2);
        BOOST_TEST(build.Step());  // done stays done
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(state_as_of_in_steps_stops_at_a_break_in_a_later_step) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("busy"));
  std::vector<uint64_t> use_seqs;
  std::vector<TimeMs> use_times;
  for (int i = 0; i < 20; ++i) {
    env.clock.Advance(1);
    BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
    use_seqs.push_back(env.ledger->head_seq());
    use_times.push_back(env.clock.Now());
  }
  env.CloseLedger();  // writes a checkpoint at the head: as_of below lies before it
  const uint64_t broken = use_seqs[10];
  PutRawEvent(*env.store, broken, Digest{});  // its prev_hash no longer links
  StateAsOfSteps build(*env.store, use_times[15], 4);
  int steps = 1;
  while (!build.Step() && steps < 1000) ++steps;
  BOOST_TEST(!build.status().ok());
  BOOST_TEST(build.status().message().find("chain breaks at seq " + std::to_string(broken)) != std::string::npos);
  BOOST_TEST(build.state().applied_seq() == broken - 1);
  BOOST_TEST(steps > 2);
}

BOOST_AUTO_TEST_CASE(state_at_seq_stops_exactly_at_that_seq) {
  LedgerOptions options = TestOptions();
  options.checkpoint_every_events = 3;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  for (int i = 0; i < 6; ++i) env.MustCreateKey(acme.admin, "acme", KeyInput("k" + std::to_string(i)));
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();
  for (uint64_t seq = 1; seq <= head; ++seq) {
    auto state = StateAtSeq(*env.store, seq);
    BOOST_REQUIRE(state.ok());
    BOOST_TEST(state->applied_seq() == seq);
    BOOST_TEST((state->Fingerprint() == RebuildFromLog(*env.store, seq).Fingerprint()));
  }
  BOOST_TEST(StateAtSeq(*env.store, head + 1).status().code() == StatusCode::kNotFound);
}

BOOST_AUTO_TEST_CASE(signed_checkpoints_vouch_for_the_head_and_the_projections) {
  auto key = SigningKey::Generate();
  BOOST_REQUIRE(key.ok());
  LedgerOptions options = TestOptions();
  options.signing_key = *key;
  LedgerEnv env(options);
  // Open signed the head at once.
  const ChainCheckpoint first = NewestStored(*env.store);
  BOOST_TEST(first.seq == env.ledger->head_seq());
  BOOST_TEST(first.VerifiedBy(key->public_key()));

  auto acme = env.MustSetUpWorkspace("acme");
  env.MustCreateKey(acme.admin, "acme", KeyInput("reporting"));
  BOOST_TEST(Await(AskSignedHead(*env.ledger, acme.admin)).status().code() == StatusCode::kForbidden);
  const uint64_t head = env.ledger->head_seq();
  env.CloseLedger();  // signs the head on the way out

  auto latest = LatestChainCheckpoint(*env.store);
  BOOST_REQUIRE(latest.ok() && latest->has_value());
  const ChainCheckpoint& c = **latest;
  BOOST_TEST(c.seq == head);
  BOOST_TEST(c.VerifiedBy(key->public_key()));
  BOOST_TEST((c.projection_digest == RebuildFromLog(*env.store).Fingerprint()));
  auto other = SigningKey::Generate();
  BOOST_TEST(!c.VerifiedBy(other->public_key()));
  ChainCheckpoint altered = c;
  altered.seq += 1;
  BOOST_TEST(!altered.VerifiedBy(key->public_key()));
  auto round_trip = ChainCheckpoint::FromJson(c.ToJson());
  BOOST_REQUIRE(round_trip.ok());
  BOOST_TEST(round_trip->VerifiedBy(key->public_key()));
}

// API.md's GET /checkpoint: "the chain head signed", not the newest periodic checkpoint, which
// may be a minute old.
BOOST_AUTO_TEST_CASE(signed_head_covers_the_log_as_it_stood_when_asked) {
  auto key = SigningKey::Generate();
  LedgerEnv env(SignedWithRareCheckpoints(*key));
  auto acme = env.MustSetUpWorkspace("acme");
  env.MustCreateKey(acme.admin, "acme", KeyInput("reporting"));
  const uint64_t head = env.ledger->head_seq();
  BOOST_TEST_REQUIRE(NewestStored(*env.store).seq < head);  // the periodic one is behind

  const Result<ChainCheckpoint> first = Await(AskSignedHead(*env.ledger, env.op));
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->seq == head);
  BOOST_TEST(first->VerifiedBy(key->public_key()));
  BOOST_TEST(NewestStored(*env.store).seq == head, "stored, for verify-log");

  // Nothing appended since: answered at once, from the same checkpoint.
  bool answered = false;
  env.ledger->SignedHead(env.op, [&](Result<ChainCheckpoint> r) {
    answered = true;
    BOOST_TEST((r.ok() && r->seq == head && r->signature == first->signature));
  });
  BOOST_TEST(answered);

  // Two callers after more events: both get the new head.
  env.MustCreateKey(acme.admin, "acme", KeyInput("billing"));
  const uint64_t later = env.ledger->head_seq();
  auto a = AskSignedHead(*env.ledger, env.op);
  auto b = AskSignedHead(*env.ledger, env.op);
  const Result<ChainCheckpoint> ra = Await(std::move(a)), rb = Await(std::move(b));
  BOOST_TEST((ra.ok() && ra->seq == later));
  BOOST_TEST((rb.ok() && rb->seq == later));

  BOOST_TEST(Await(AskSignedHead(*env.ledger, acme.admin)).status().code() == StatusCode::kForbidden);
}

BOOST_AUTO_TEST_CASE(time_based_checkpoints_are_written_while_idle) {
  auto key = SigningKey::Generate();
  LedgerEnv env(SignedWithRareCheckpoints(*key));
  auto acme = env.MustSetUpWorkspace("acme");
  const uint64_t head = env.ledger->head_seq();
  BOOST_TEST(NewestStored(*env.store).seq < head);  // not yet: too soon
  env.clock.Advance(61 * kSecondMs);
  // A tick (what the sweeper sends every second) gives the appender its turn; a sweep waits for
  // the batch after it, so the checkpoint is written by the time the sweep returns.
  env.ledger->Tick();
  BOOST_REQUIRE(env.Sweep().ok());
  BOOST_TEST(NewestStored(*env.store).seq == head);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
