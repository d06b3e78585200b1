// Creating things through the Ledger facade: workspaces and plans, admin keys, the rules for new
// API keys (abilities, expiry, input limits, plan), idempotent retries and the operator bootstrap.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "projections/ledger.h"
#include "tests/events/manual_executor.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::CountType;
using testing::KeyInput;
using testing::KeyInputWithAbilities;
using testing::kStartMs;
using testing::LedgerEnv;

BOOST_AUTO_TEST_SUITE(LedgerCreateTest)

BOOST_AUTO_TEST_CASE(operator_creates_free_and_pro_workspaces_and_changes_plans) {
  LedgerEnv env;
  auto free_ws = env.CreateWorkspace(env.op, "acme", Plan::kFree, "Acme Inc");
  BOOST_REQUIRE(free_ws.ok());
  BOOST_TEST(free_ws->id == "acme");
  BOOST_TEST(free_ws->name == "Acme Inc");
  BOOST_TEST((free_ws->plan == Plan::kFree));
  BOOST_TEST(free_ws->max_expiry_days == 365);
  BOOST_TEST(free_ws->created_at == kStartMs);

  auto pro_ws = env.CreateWorkspace(env.op, "globex-2", Plan::kPro);
  BOOST_REQUIRE(pro_ws.ok());
  BOOST_TEST((pro_ws->plan == Plan::kPro));
  BOOST_TEST(pro_ws->name == "globex-2");  // the name defaults to the id

  const uint64_t head = env.ledger->head_seq();
  auto again = env.CreateWorkspace(env.op, "acme", Plan::kPro);
  CHECK_CODE(again, StatusCode::kConflict);
  auto bad_id = env.CreateWorkspace(env.op, "Acme", Plan::kPro);
  CHECK_CODE(bad_id, StatusCode::kInvalidArgument);
  BOOST_TEST(bad_id.status().field() == "id");
  BOOST_TEST(env.ledger->head_seq() == head);

  env.clock.Advance(kSecondMs);
  auto updated = env.UpdatePlan(env.op, "acme", Plan::kPro);
  BOOST_REQUIRE(updated.ok());
  BOOST_TEST((updated->plan == Plan::kPro));
  BOOST_TEST(updated->updated_at == kStartMs + kSecondMs);
  auto read = env.ledger->GetWorkspace(env.op, "acme");
  BOOST_REQUIRE(read.ok());
  BOOST_TEST((read->plan == Plan::kPro));
  CHECK_CODE(env.UpdatePlan(env.op, "nowhere", Plan::kPro), StatusCode::kNotFound);
  CHECK_CODE(env.ledger->GetWorkspace(env.op, "nowhere"), StatusCode::kNotFound);

  const auto log = env.Log();
  BOOST_TEST(CountType(log, EventType::kWorkspaceCreated) == 2u);
  BOOST_TEST(CountType(log, EventType::kWorkspaceUpdated) == 1u);
  BOOST_TEST(log.back().actor == "ops");
}

BOOST_AUTO_TEST_CASE(operator_creates_admin_and_auditor_keys) {
  LedgerEnv env;
  BOOST_REQUIRE(env.CreateWorkspace(env.op, "acme", Plan::kPro).ok());
  auto admin = env.CreateAdminKey(env.op, "acme", "dashboard", "admin");
  BOOST_REQUIRE(admin.ok());
  BOOST_TEST(admin->token.rfind("kla_", 0) == 0u);
  BOOST_TEST(CheckToken(admin->token).has_value());
  BOOST_TEST((admin->key.kind == KeyKind::kAdmin));
  BOOST_TEST(admin->key.role == "admin");
  BOOST_TEST(admin->key.workspace == "acme");
  BOOST_TEST(admin->key.prefix == admin->token.substr(0, 12));
  BOOST_TEST(admin->key.id.rfind("key_", 0) == 0u);
  auto admin_p = env.ledger->Authenticate(admin->token, "alice");
  BOOST_REQUIRE(admin_p.ok());
  BOOST_TEST((admin_p->kind == KeyKind::kAdmin));
  BOOST_TEST(admin_p->role == "admin");
  BOOST_TEST(admin_p->workspace == "acme");
  BOOST_TEST(admin_p->actor == "alice");

  auto auditor = env.CreateAdminKey(env.op, "acme", "reviewer", "auditor");
  BOOST_REQUIRE(auditor.ok());
  auto auditor_p = env.ledger->Authenticate(auditor->token, "");
  BOOST_REQUIRE(auditor_p.ok());
  BOOST_TEST(auditor_p->role == "auditor");
  BOOST_TEST(auditor_p->actor == auditor->key.id);  // no X-Actor: the key id acts

  const uint64_t head = env.ledger->head_seq();
  auto bad_role = env.CreateAdminKey(env.op, "acme", "x", "owner");
  CHECK_CODE(bad_role, StatusCode::kInvalidArgument);
  BOOST_TEST(bad_role.status().field() == "role");
  CHECK_CODE(env.CreateAdminKey(env.op, "acme", "", "admin"), StatusCode::kInvalidArgument);
  CHECK_CODE(env.CreateAdminKey(env.op, "nowhere", "x", "admin"), StatusCode::kNotFound);
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(admin_creates_key_with_preset_and_details) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto admin = *env.ledger->Authenticate(acme.admin_token, "alice");
  CreateKeyInput in = KeyInput("billing sync", Preset::kReadOnly);
  in.owner = "billing-team@acme.test";
  in.description = "Nightly invoice export";
  in.metadata = {{"team", "billing"}, {"env", "prod"}};
  const uint64_t head = env.ledger->head_seq();
  auto created = env.CreateApiKey(admin, "acme", in);
  BOOST_REQUIRE_MESSAGE(created.ok(), created.status().message());
  BOOST_TEST(env.ledger->head_seq() == head + 1);
  BOOST_TEST(!created->replayed);
  BOOST_TEST(created->token.rfind("kl_", 0) == 0u);
  BOOST_TEST(CheckToken(created->token).has_value());
  const KeyState& key = created->key;
  BOOST_TEST((key.kind == KeyKind::kApi));
  BOOST_TEST(key.workspace == "acme");
  BOOST_TEST(key.name == "billing sync");
  BOOST_TEST(key.owner == "billing-team@acme.test");
  BOOST_TEST(key.description == "Nightly invoice export");
  BOOST_TEST((key.preset == Preset::kReadOnly));
  BOOST_TEST((key.abilities.list() == std::vector<std::string>{"*:read"}));
  BOOST_TEST((key.metadata == Metadata{{"team", "billing"}, {"env", "prod"}}));
  BOOST_TEST((key.status == KeyStatus::kActive));
  BOOST_TEST(key.created_at == kStartMs);
  BOOST_TEST(key.created_by == "alice");
  BOOST_TEST(key.expires_at == kStartMs + 90 * kDayMs);  // default lifetime
  BOOST_TEST(key.prefix == created->token.substr(0, 12));
  BOOST_TEST(key.usage_count == 0u);

  // The log holds the digest and display prefix, never the token.
  const auto log = env.Log();
  const Event& event = log.back();
  BOOST_REQUIRE((event.type() == EventType::kKeyCreated));
  BOOST_TEST(event.key_id == key.id);
  BOOST_TEST(event.actor == "alice");
  const auto& data = std::get<KeyCreated>(event.data);
  BOOST_TEST((data.digest == TokenDigest(created->token)));
  Status scanned = env.store->Scan(Cf::kEvents, EncodeSeq(0), "", [&](std::string_view, std::string_view v) {
    BOOST_TEST(v.find(created->token) == std::string_view::npos);
    BOOST_TEST(v.find(created->token.substr(12)) == std::string_view::npos);
    return true;
  });
  BOOST_TEST(scanned.ok());
}

// A preparing Reply (projections/reply.h) has its answer built before the creation's fsync and
// delivered after it; when that fsync fails, the failure is prepared and delivered instead.
BOOST_AUTO_TEST_CASE(a_preparing_reply_is_built_before_the_fsync_and_delivered_after_it) {
  LedgerOptions options = testing::TestOptions();
  options.idle_sync_fallback = std::chrono::hours(1);  // only an idle executor thread fsyncs
  ManualExecutor executor;  // outlives the ledger, which may hand it work until it closes
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  auto admin = *env.ledger->Authenticate(acme.admin_token, "alice");
  env.ledger->RunWritesOn(executor.executor());

  struct Seen {
    std::vector<std::pair<StatusCode, uint64_t>> prepared;  // outcome, fsyncs done by then
    std::vector<std::pair<StatusCode, uint64_t>> delivered;
    std::string name;
  };
  EventStore* store = env.store.get();
  auto create = [&](const std::string& name) {
    auto seen = std::make_shared<Seen>();
    env.ledger->CreateApiKey(admin, "acme", KeyInput(name),
                             [seen, store](Result<CreatedKey> r) -> Reply<CreatedKey>::Deliver {
                               const StatusCode code = r.status().code();
                               seen->prepared.emplace_back(code, store->wal_fsyncs());
                               if (r.ok()) seen->name = r->key.name;
                               return [seen, store, code] {
                                 seen->delivered.emplace_back(code, store->wal_fsyncs());
                               };
                             });
    return seen;
  };
  using Outcomes = std::vector<std::pair<StatusCode, uint64_t>>;
  // Runs the executor until its idle-thread fsync takes the held creation. The first drain may
  // reach the executor a moment late: the appender thread can still be finishing the set-up's
  // last command when the creation is submitted, and hands the drain over when it is done.
  auto run_until_idle_fsync = [&] {
    const auto deadline = std::chrono::steady_clock::now() + testing::kCallbackTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      executor.RunPending();
      if (env.ledger->SyncHeldOnIdleThread()) return true;
      executor.WaitForWork(std::chrono::milliseconds(5));
    }
    return false;
  };

  const uint64_t fsyncs = store->wal_fsyncs();  // no other fsync: no fallback, no WAL-only writes
  auto first = create("first");
  BOOST_REQUIRE(run_until_idle_fsync());
  BOOST_TEST((first->prepared == Outcomes{{StatusCode::kOk, fsyncs}}));  // before the fsync
  BOOST_TEST(first->name == "first");
  BOOST_TEST(first->delivered.empty());
  executor.RunPending();
  BOOST_TEST((first->delivered == Outcomes{{StatusCode::kOk, fsyncs + 1}}));  // after it

  // Now the writer role is free and on this thread: the drain reaches the executor at once.
  auto second = create("second");
  executor.RunPending();  // written and held
  store->InjectWriteFailureForTesting(true);  // its fsync fails
  BOOST_REQUIRE(env.ledger->SyncHeldOnIdleThread());
  executor.RunPending();
  BOOST_REQUIRE(second->prepared.size() == 2u);
  BOOST_TEST((second->prepared[0].first == StatusCode::kOk));
  BOOST_TEST((second->prepared[1].first == StatusCode::kUnavailable));
  BOOST_REQUIRE(second->delivered.size() == 1u);
  BOOST_TEST((second->delivered[0].first == StatusCode::kUnavailable));
}

BOOST_AUTO_TEST_CASE(api_keys_use_the_configured_token_prefix) {
  LedgerOptions options = testing::TestOptions();
  options.api_token_prefix = "acme2";
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  BOOST_TEST(key.token.rfind("acme2_", 0) == 0u);
  BOOST_TEST(key.key.prefix == key.token.substr(0, 12));
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  auto admin = env.CreateAdminKey(env.op, "acme", "second admin", "admin");
  BOOST_REQUIRE(admin.ok());
  BOOST_TEST(admin->token.rfind("kla_", 0) == 0u);  // admin keys keep their own prefix
}

BOOST_AUTO_TEST_CASE(admin_creates_key_with_explicit_abilities) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto created = env.CreateApiKey(acme.admin, "acme",
                                  KeyInputWithAbilities("k", {"invoices:write", "customers:read", "invoices:write"}));
  BOOST_REQUIRE(created.ok());
  BOOST_TEST((created->key.preset == Preset::kNone));
  BOOST_TEST((created->key.abilities.list() == std::vector<std::string>{"invoices:write", "customers:read"}));
}

BOOST_AUTO_TEST_CASE(expiry_defaults_limits_and_explicit_values) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const TimeMs now = env.clock.Now();

  CreateKeyInput days = KeyInput("thirty");
  days.expires_in_days = 30;
  BOOST_TEST(env.MustCreateKey(acme.admin, "acme", days).key.expires_at == now + 30 * kDayMs);

  CreateKeyInput at = KeyInput("explicit");
  at.expires_at = now + 12345678;
  BOOST_TEST(env.MustCreateKey(acme.admin, "acme", at).key.expires_at == now + 12345678);

  CreateKeyInput max = KeyInput("max");
  max.expires_at = now + 365 * kDayMs;
  BOOST_TEST(env.MustCreateKey(acme.admin, "acme", max).key.expires_at == now + 365 * kDayMs);

  CreateKeyInput max_days = KeyInput("max days");
  max_days.expires_in_days = 365;
  BOOST_TEST(env.MustCreateKey(acme.admin, "acme", max_days).key.expires_at == now + 365 * kDayMs);

  const uint64_t head = env.ledger->head_seq();
  CreateKeyInput beyond = KeyInput("beyond");
  beyond.expires_at = now + 365 * kDayMs + 1;
  auto r = env.CreateApiKey(acme.admin, "acme", beyond);
  CHECK_CODE(r, StatusCode::kInvalidArgument);
  BOOST_TEST(r.status().field() == "expires_at");

  CreateKeyInput now_exactly = KeyInput("now");
  now_exactly.expires_at = now;
  r = env.CreateApiKey(acme.admin, "acme", now_exactly);
  CHECK_CODE(r, StatusCode::kInvalidArgument);
  BOOST_TEST(r.status().field() == "expires_at");

  CreateKeyInput past = KeyInput("past");
  past.expires_at = now - kDayMs;
  r = env.CreateApiKey(acme.admin, "acme", past);
  CHECK_CODE(r, StatusCode::kInvalidArgument);
  BOOST_TEST(r.status().field() == "expires_at");

  for (int64_t bad_days : {int64_t{0}, int64_t{-1}, int64_t{366}}) {
    CreateKeyInput in = KeyInput("days");
    in.expires_in_days = bad_days;
    CHECK_CODE(env.CreateApiKey(acme.admin, "acme", in), StatusCode::kInvalidArgument);
  }

  CreateKeyInput both = KeyInput("both");
  both.expires_at = now + kDayMs;
  both.expires_in_days = 1;
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", both), StatusCode::kInvalidArgument);
  BOOST_TEST(env.ledger->head_seq() == head);  // a refused request appends nothing
}

BOOST_AUTO_TEST_CASE(preset_xor_abilities_and_input_rules) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const uint64_t head = env.ledger->head_seq();

  CreateKeyInput neither;
  neither.name = "neither";
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", neither), StatusCode::kInvalidArgument);

  CreateKeyInput both = KeyInput("both");
  both.abilities = std::vector<std::string>{"invoices:read"};
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", both), StatusCode::kInvalidArgument);

  auto bad_ability = env.CreateApiKey(acme.admin, "acme", KeyInputWithAbilities("k", {"invoices:delete"}));
  CHECK_CODE(bad_ability, StatusCode::kInvalidArgument);
  BOOST_TEST(bad_ability.status().field() == "abilities");
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInputWithAbilities("k", {})), StatusCode::kInvalidArgument);

  auto no_name = env.CreateApiKey(acme.admin, "acme", KeyInput(""));
  CHECK_CODE(no_name, StatusCode::kInvalidArgument);
  BOOST_TEST(no_name.status().field() == "name");
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInput(std::string(101, 'n'))), StatusCode::kInvalidArgument);
  BOOST_TEST(env.CreateApiKey(acme.admin, "acme", KeyInput(std::string(100, 'n'))).ok());

  CreateKeyInput bad_meta = KeyInput("meta");
  bad_meta.metadata = {{"a", "1"}, {"a", "2"}};
  auto meta = env.CreateApiKey(acme.admin, "acme", bad_meta);
  CHECK_CODE(meta, StatusCode::kInvalidArgument);
  BOOST_TEST(meta.status().field() == "metadata");

  CreateKeyInput bad_idem = KeyInput("idem");
  bad_idem.idempotency_key = "has space";
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", bad_idem), StatusCode::kInvalidArgument);

  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInput("bad\nname")), StatusCode::kInvalidArgument);
  BOOST_TEST(env.ledger->head_seq() == head + 1);  // only the 100-character name was accepted
}

BOOST_AUTO_TEST_CASE(free_plan_requires_upgrade) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme", Plan::kFree);
  const uint64_t head = env.ledger->head_seq();
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInput("k")), StatusCode::kUpgradeRequired);
  BOOST_TEST(env.ledger->head_seq() == head);

  BOOST_REQUIRE(env.UpdatePlan(env.op, "acme", Plan::kPro).ok());
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));

  // A downgrade takes API access away from existing keys, and says so in the log.
  BOOST_REQUIRE(env.UpdatePlan(env.op, "acme", Plan::kFree).ok());
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kUpgradeRequired));
  const Event last = env.Log().back();  // a copy: the log vector is a temporary
  BOOST_REQUIRE((last.type() == EventType::kKeyUsed));
  BOOST_TEST((std::get<KeyUsed>(last.data).outcome == UseOutcome::kUpgradeRequired));
}

BOOST_AUTO_TEST_CASE(idempotent_create_replays_conflicts_and_expires_after_a_day) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto globex = env.MustSetUpWorkspace("globex");
  CreateKeyInput in = KeyInput("k");
  in.idempotency_key = "req-42";
  in.request_digest = testing::DigestOf("{\"name\":\"k\"}");
  auto first = env.MustCreateKey(acme.admin, "acme", in);
  BOOST_TEST(!first.replayed);
  BOOST_TEST(!first.token.empty());
  const uint64_t head = env.ledger->head_seq();

  env.clock.Advance(kIdempotencyWindowMs - 1);
  auto retry = env.CreateApiKey(acme.admin, "acme", in);
  BOOST_REQUIRE(retry.ok());
  BOOST_TEST(retry->replayed);
  BOOST_TEST(retry->token.empty());
  BOOST_TEST(retry->key.id == first.key.id);
  BOOST_TEST(env.ledger->head_seq() == head);

  CreateKeyInput other_body = in;
  other_body.request_digest = testing::DigestOf("{\"name\":\"k2\"}");
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", other_body), StatusCode::kConflict);
  BOOST_TEST(env.ledger->head_seq() == head);

  // Idempotency keys are per workspace.
  auto elsewhere = env.CreateApiKey(globex.admin, "globex", in);
  BOOST_REQUIRE(elsewhere.ok());
  BOOST_TEST(!elsewhere->replayed);

  env.clock.Advance(1);  // exactly 24 h after the first creation
  auto later = env.CreateApiKey(acme.admin, "acme", other_body);
  BOOST_REQUIRE(later.ok());
  BOOST_TEST(!later->replayed);
  BOOST_TEST(later->key.id != first.key.id);
  auto later_retry = env.CreateApiKey(acme.admin, "acme", other_body);
  BOOST_REQUIRE(later_retry.ok());
  BOOST_TEST(later_retry->replayed);
  BOOST_TEST(later_retry->key.id == later->key.id);
}

BOOST_AUTO_TEST_CASE(idempotent_rotate_replays_the_rotation) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  RotateKeyInput in;
  in.grace_seconds = 60;
  in.idempotency_key = "rot-1";
  in.request_digest = testing::DigestOf("rotate");
  auto first = env.Rotate(acme.admin, "acme", key.key.id, in);
  BOOST_REQUIRE(first.ok());
  const uint64_t head = env.ledger->head_seq();
  auto retry = env.Rotate(acme.admin, "acme", key.key.id, in);
  BOOST_REQUIRE_MESSAGE(retry.ok(), retry.status().message());
  BOOST_TEST(retry->replayed);
  BOOST_TEST(retry->token.empty());
  BOOST_TEST(retry->key.id == first->key.id);
  BOOST_REQUIRE(retry->replaced.has_value());
  BOOST_TEST(retry->replaced->id == key.key.id);
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(idempotency_survives_a_restart) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  // Several keys, each Idempotency-Key used twice a day apart, so that the newer creation must be
  // the one a restart remembers whatever the random key ids are.
  std::vector<CreateKeyInput> first_round, second_round;
  for (int i = 0; i < 8; ++i) {
    CreateKeyInput in = KeyInput("k" + std::to_string(i));
    in.idempotency_key = "req-" + std::to_string(i);
    in.request_digest = testing::DigestOf("first " + std::to_string(i));
    first_round.push_back(in);
    in.request_digest = testing::DigestOf("second " + std::to_string(i));
    second_round.push_back(in);
  }
  for (const auto& in : first_round) env.MustCreateKey(acme.admin, "acme", in);
  env.clock.Advance(kIdempotencyWindowMs + kHourMs);
  std::vector<std::string> ids;
  for (const auto& in : second_round) ids.push_back(env.MustCreateKey(acme.admin, "acme", in).key.id);
  const uint64_t head = env.ledger->head_seq();

  env.ReopenAll();
  auto admin = *env.ledger->Authenticate(acme.admin_token, "");
  for (size_t i = 0; i < second_round.size(); ++i) {
    auto retry = env.CreateApiKey(admin, "acme", second_round[i]);
    BOOST_REQUIRE_MESSAGE(retry.ok(), retry.status().message());
    BOOST_TEST(retry->replayed, "request " << i);
    BOOST_TEST(retry->key.id == ids[i]);
  }
  BOOST_TEST(env.ledger->head_seq() == head);
  CHECK_CODE(env.CreateApiKey(admin, "acme", first_round[0]), StatusCode::kConflict);
}

BOOST_AUTO_TEST_CASE(bootstrap_installs_a_given_operator_token_once) {
  bool called = false;
  LedgerOptions options = testing::TestOptions();
  options.on_operator_token = [&](const std::string&) { called = true; };
  LedgerEnv env(options);
  BOOST_TEST(!called);  // a given token is never echoed
  const auto log = env.Log();
  BOOST_REQUIRE(log.size() == 1u);
  BOOST_TEST((std::get<KeyCreated>(log[0].data).kind == KeyKind::kOperator));
  BOOST_TEST((std::get<KeyCreated>(log[0].data).digest == TokenDigest(testing::KnownOperatorToken())));
  env.ReopenAll();
  BOOST_TEST(env.Log().size() == 1u);  // not installed twice
  BOOST_TEST((env.op.kind == KeyKind::kOperator));
}

BOOST_AUTO_TEST_CASE(bootstrap_generates_an_operator_token_when_none_is_given) {
  std::vector<std::string> tokens;
  LedgerOptions options = testing::TestOptions();
  options.bootstrap_token.clear();
  options.on_operator_token = [&](const std::string& token) { tokens.push_back(token); };
  LedgerEnv env(options);
  BOOST_REQUIRE(tokens.size() == 1u);
  BOOST_TEST(tokens[0].rfind("klo_", 0) == 0u);
  BOOST_TEST(CheckToken(tokens[0]).has_value());
  auto op = env.ledger->Authenticate(tokens[0], "");
  BOOST_REQUIRE(op.ok());
  BOOST_TEST((op->kind == KeyKind::kOperator));
  BOOST_TEST(env.CreateWorkspace(*op, "acme", Plan::kPro).ok());
  env.ReopenAll();
  BOOST_TEST(tokens.size() == 1u);
  BOOST_TEST(env.ledger->Authenticate(tokens[0], "").ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
