// A key's life after creation through the Ledger facade: verify outcomes and usage, rotation with
// and without grace, revocation, expiry by time and the sweeper, closing, and the sticky error.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "projections/ledger.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::CountType;
using testing::EventsForKey;
using testing::KeyInput;
using testing::KeyInputWithAbilities;
using testing::kStartMs;
using testing::LedgerEnv;

BOOST_AUTO_TEST_SUITE(LedgerLifecycleTest)

BOOST_AUTO_TEST_CASE(valid_verify_counts_usage_and_appends_a_use) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto created = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  env.clock.Advance(10 * kSecondMs);
  const uint64_t head = env.ledger->head_seq();

  auto r = env.Verify(created.token, "invoices:read", "203.0.113.9");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST((r->code == VerifyCode::kValid));
  BOOST_TEST(VerifyCodeName(r->code) == "VALID");
  BOOST_REQUIRE(r->key.has_value());
  BOOST_TEST(r->key->id == created.key.id);
  BOOST_TEST(r->key->usage_count == 1u);
  BOOST_TEST(r->key->last_used_at == kStartMs + 10 * kSecondMs);
  BOOST_TEST(env.ledger->head_seq() == head + 1);

  const Event use = env.Log().back();  // a copy: the log vector is a temporary
  BOOST_REQUIRE((use.type() == EventType::kKeyUsed));
  BOOST_TEST(use.key_id == created.key.id);
  BOOST_TEST(use.workspace == "acme");
  const auto& data = std::get<KeyUsed>(use.data);
  BOOST_TEST((data.outcome == UseOutcome::kValid));
  BOOST_TEST(data.ability == "invoices:read");
  BOOST_TEST(data.source_ip == "203.0.113.9");

  env.clock.Advance(kHourMs);
  BOOST_TEST((env.VerifyCodeOf(created.token) == VerifyCode::kValid));  // no ability asked
  const KeyState key = env.MustGetKey(acme.admin, "acme", created.key.id);
  BOOST_TEST(key.usage_count == 2u);
  BOOST_TEST(key.last_used_at == kStartMs + 10 * kSecondMs + kHourMs);
  auto usage = env.ledger->Usage(acme.admin, "acme", created.key.id, UsageQuery{});
  BOOST_REQUIRE(usage.ok());
  BOOST_REQUIRE(usage->buckets.size() == 2u);
  BOOST_TEST(usage->buckets[0].hour_start == kStartMs);
  BOOST_TEST(usage->buckets[0].count == 1u);
  BOOST_TEST(usage->buckets[1].hour_start == kStartMs + kHourMs);
  BOOST_TEST(usage->total == 2u);
  BOOST_TEST(usage->rejected == 0u);
}

BOOST_AUTO_TEST_CASE(missing_ability_is_forbidden_and_write_does_not_imply_read) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto read_only = env.MustCreateKey(acme.admin, "acme", KeyInputWithAbilities("r", {"*:read"}));
  BOOST_TEST((env.VerifyCodeOf(read_only.token, "invoices:read") == VerifyCode::kValid));
  BOOST_TEST((env.VerifyCodeOf(read_only.token, "invoices:write") == VerifyCode::kForbidden));

  auto writer = env.MustCreateKey(acme.admin, "acme", KeyInputWithAbilities("w", {"invoices:write"}));
  BOOST_TEST((env.VerifyCodeOf(writer.token, "invoices:write") == VerifyCode::kValid));
  BOOST_TEST((env.VerifyCodeOf(writer.token, "invoices:read") == VerifyCode::kForbidden));
  BOOST_TEST((env.VerifyCodeOf(writer.token, "customers:write") == VerifyCode::kForbidden));

  auto r = env.Verify(writer.token, "invoices:read", "198.51.100.7");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(VerifyCodeName(r->code) == "FORBIDDEN");
  BOOST_REQUIRE(r->key.has_value());  // a known key is described whatever the outcome
  BOOST_TEST(r->key->usage_count == 1u);
  BOOST_TEST(r->key->rejected_count == 3u);
  BOOST_TEST(r->key->last_rejected_ip == "198.51.100.7");

  const auto uses = EventsForKey(env.Log(), writer.key.id);
  std::vector<UseOutcome> outcomes;
  for (const Event& e : uses) {
    if (e.type() == EventType::kKeyUsed) outcomes.push_back(std::get<KeyUsed>(e.data).outcome);
  }
  BOOST_TEST((outcomes == std::vector<UseOutcome>{UseOutcome::kValid, UseOutcome::kForbidden,
                                                  UseOutcome::kForbidden, UseOutcome::kForbidden}));
}

BOOST_AUTO_TEST_CASE(unknown_or_malformed_tokens_are_not_found_and_append_nothing) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  const uint64_t head = env.ledger->head_seq();
  const uint64_t unknown_before = env.ledger->stats().verifies_unknown.load();

  std::string wrong_checksum = key.token;
  wrong_checksum.back() = wrong_checksum.back() == 'A' ? 'B' : 'A';
  std::string wrong_body = key.token;
  wrong_body[5] = wrong_body[5] == 'A' ? 'B' : 'A';
  const std::vector<std::string> tokens = {
      GenerateToken("kl"),  // well formed, never issued
      "",
      "kl_",
      "garbage",
      key.token + "x",
      key.token.substr(0, key.token.size() - 1),
      wrong_checksum,
      wrong_body,
      "Bearer " + key.token,
  };
  for (const std::string& token : tokens) {
    auto r = env.Verify(token, "invoices:read");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST((r->code == VerifyCode::kNotFound), "token: " << token);
    BOOST_TEST(!r->key.has_value());
  }
  BOOST_TEST(env.ledger->head_seq() == head);
  BOOST_TEST(env.ledger->stats().verifies_unknown.load() == unknown_before + tokens.size());
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));  // the real one still works
}

BOOST_AUTO_TEST_CASE(admin_and_operator_tokens_are_not_found_on_verify) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const uint64_t head = env.ledger->head_seq();
  BOOST_TEST((env.VerifyCodeOf(acme.admin_token) == VerifyCode::kNotFound));
  BOOST_TEST((env.VerifyCodeOf(acme.auditor_token, "invoices:read") == VerifyCode::kNotFound));
  BOOST_TEST((env.VerifyCodeOf(testing::KnownOperatorToken()) == VerifyCode::kNotFound));
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(rotate_with_grace_keeps_the_old_key_until_grace_ends) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput in = KeyInputWithAbilities("payments", {"invoices:read", "refunds:write"});
  in.owner = "pay-team";
  in.description = "payments backend";
  in.metadata = {{"service", "payments"}};
  auto old_key = env.MustCreateKey(acme.admin, "acme", in);
  env.clock.Advance(60 * kSecondMs);
  const TimeMs rotated_at = env.clock.Now();

  auto rotated = env.RotateWithGrace(acme.admin, "acme", old_key.key.id, 3600);
  BOOST_REQUIRE_MESSAGE(rotated.ok(), rotated.status().message());
  BOOST_TEST(!rotated->token.empty());
  BOOST_TEST(rotated->token != old_key.token);
  const KeyState& fresh = rotated->key;
  BOOST_TEST(fresh.id != old_key.key.id);
  BOOST_TEST(fresh.name == "payments");
  BOOST_TEST(fresh.owner == "pay-team");
  BOOST_TEST(fresh.description == "payments backend");
  BOOST_TEST((fresh.abilities.list() == old_key.key.abilities.list()));
  BOOST_TEST((fresh.metadata == old_key.key.metadata));
  BOOST_TEST(fresh.rotated_from == old_key.key.id);
  BOOST_TEST(fresh.expires_at == rotated_at + 90 * kDayMs);
  BOOST_REQUIRE(rotated->replaced.has_value());
  BOOST_TEST(rotated->replaced->id == old_key.key.id);
  BOOST_TEST(rotated->replaced->rotated_to == fresh.id);
  BOOST_TEST(rotated->replaced->grace_until == rotated_at + 3600 * kSecondMs);
  BOOST_TEST((rotated->replaced->status == KeyStatus::kActive));

  BOOST_TEST((env.VerifyCodeOf(rotated->token, "refunds:write") == VerifyCode::kValid));
  BOOST_TEST((env.VerifyCodeOf(old_key.token, "refunds:write") == VerifyCode::kValid));
  env.clock.Set(rotated_at + 3600 * kSecondMs - 1);
  BOOST_TEST((env.VerifyCodeOf(old_key.token) == VerifyCode::kValid));
  env.clock.Set(rotated_at + 3600 * kSecondMs);
  BOOST_TEST((env.VerifyCodeOf(old_key.token) == VerifyCode::kExpired));
  BOOST_TEST((env.MustGetKey(acme.admin, "acme", old_key.key.id).status == KeyStatus::kExpired));
  BOOST_TEST(CountType(env.Log(), EventType::kKeyExpired) == 0u);  // nothing swept yet

  BOOST_REQUIRE(env.Sweep().ok());
  const auto log = env.Log();
  const Event& expired = log.back();
  BOOST_REQUIRE((expired.type() == EventType::kKeyExpired));
  BOOST_TEST(expired.key_id == old_key.key.id);
  BOOST_TEST(std::get<KeyExpired>(expired.data).reason == "rotated");
  BOOST_TEST((env.VerifyCodeOf(old_key.token) == VerifyCode::kExpired));
  BOOST_TEST((env.VerifyCodeOf(rotated->token) == VerifyCode::kValid));

  // The rotated key cannot be rotated again; the new one can, with a new name.
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", old_key.key.id, 0), StatusCode::kConflict);
  RotateKeyInput renamed;
  renamed.name = "payments v3";
  renamed.expires_in_days = 7;
  auto third = env.Rotate(acme.admin, "acme", fresh.id, renamed);
  BOOST_REQUIRE(third.ok());
  BOOST_TEST(third->key.name == "payments v3");
  BOOST_TEST(third->key.expires_at == env.clock.Now() + 7 * kDayMs);
}

BOOST_AUTO_TEST_CASE(rotate_without_grace_ends_the_old_key_in_the_same_batch) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto old_key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  BOOST_TEST((env.VerifyCodeOf(old_key.token) == VerifyCode::kValid));
  const uint64_t head = env.ledger->head_seq();

  auto rotated = env.RotateWithGrace(acme.admin, "acme", old_key.key.id, 0);
  BOOST_REQUIRE(rotated.ok());
  BOOST_REQUIRE(rotated->replaced.has_value());
  BOOST_TEST((rotated->replaced->status == KeyStatus::kExpired));
  BOOST_TEST(env.ledger->head_seq() == head + 3);
  const auto log = env.Log();
  BOOST_REQUIRE(log.size() == head + 3);
  const Event& created = log[head];
  const Event& rotation = log[head + 1];
  const Event& expiry = log[head + 2];
  BOOST_TEST((created.type() == EventType::kKeyCreated));
  BOOST_TEST(created.key_id == rotated->key.id);
  BOOST_TEST(std::get<KeyCreated>(created.data).rotated_from == old_key.key.id);
  BOOST_TEST((rotation.type() == EventType::kKeyRotated));
  BOOST_TEST(rotation.key_id == old_key.key.id);
  BOOST_TEST(std::get<KeyRotated>(rotation.data).new_key_id == rotated->key.id);
  BOOST_TEST((expiry.type() == EventType::kKeyExpired));
  BOOST_TEST(expiry.key_id == old_key.key.id);
  BOOST_TEST(std::get<KeyExpired>(expiry.data).reason == "rotated");
  BOOST_TEST(created.ts == expiry.ts);

  BOOST_TEST((env.VerifyCodeOf(old_key.token) == VerifyCode::kExpired));
  BOOST_TEST((env.VerifyCodeOf(rotated->token) == VerifyCode::kValid));
  // Nothing is left for the sweeper to say.
  const uint64_t before_sweep = env.ledger->head_seq();
  BOOST_REQUIRE(env.Sweep().ok());
  BOOST_TEST(env.ledger->head_seq() == before_sweep);
}

BOOST_AUTO_TEST_CASE(rotating_a_key_that_is_not_active_conflicts) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto revoked = env.MustCreateKey(acme.admin, "acme", KeyInput("revoked"));
  BOOST_REQUIRE(env.Revoke(acme.admin, "acme", revoked.key.id).ok());
  CreateKeyInput short_lived = KeyInput("short");
  short_lived.expires_in_days = 1;
  auto expired = env.MustCreateKey(acme.admin, "acme", short_lived);
  auto graced = env.MustCreateKey(acme.admin, "acme", KeyInput("graced"));
  BOOST_REQUIRE(env.RotateWithGrace(acme.admin, "acme", graced.key.id, 600).ok());
  env.clock.Advance(kDayMs);
  const uint64_t head = env.ledger->head_seq();

  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", revoked.key.id, 0), StatusCode::kConflict);
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", expired.key.id, 0), StatusCode::kConflict);
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", graced.key.id, 0), StatusCode::kConflict);
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", "key_doesnotexist0000000", 0), StatusCode::kNotFound);
  auto negative = env.RotateWithGrace(acme.admin, "acme", revoked.key.id, -1);
  CHECK_CODE(negative, StatusCode::kInvalidArgument);
  BOOST_TEST(negative.status().field() == "grace_seconds");
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", revoked.key.id, 604801), StatusCode::kInvalidArgument);
  BOOST_TEST(env.ledger->head_seq() == head);

  // Already rotated, still inside its grace period: also a conflict.
  auto active = env.MustCreateKey(acme.admin, "acme", KeyInput("active"));
  BOOST_REQUIRE(env.RotateWithGrace(acme.admin, "acme", active.key.id, 604800).ok());
  BOOST_TEST((env.VerifyCodeOf(active.token) == VerifyCode::kValid));
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", active.key.id, 0), StatusCode::kConflict);
}

BOOST_AUTO_TEST_CASE(revoke_is_immediate_and_only_once) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto admin = *env.ledger->Authenticate(acme.admin_token, "bob");
  auto key = env.MustCreateKey(admin, "acme", KeyInput("k"));
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  env.clock.Advance(5 * kSecondMs);

  auto revoked = env.Revoke(admin, "acme", key.key.id, "leaked in a log");
  BOOST_REQUIRE(revoked.ok());
  BOOST_TEST((revoked->status == KeyStatus::kRevoked));
  BOOST_TEST(revoked->revoked_at == kStartMs + 5 * kSecondMs);
  BOOST_TEST(revoked->revoke_reason == "leaked in a log");
  const Event event = env.Log().back();  // a copy: the log vector is a temporary
  BOOST_REQUIRE((event.type() == EventType::kKeyRevoked));
  BOOST_TEST(event.actor == "bob");
  BOOST_TEST(std::get<KeyRevoked>(event.data).reason == "leaked in a log");

  auto r = env.Verify(key.token, "invoices:read");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST((r->code == VerifyCode::kRevoked));
  BOOST_TEST((r->key->status == KeyStatus::kRevoked));
  const uint64_t head = env.ledger->head_seq();
  CHECK_CODE(env.Revoke(admin, "acme", key.key.id), StatusCode::kConflict);
  CHECK_CODE(env.Revoke(admin, "acme", "key_doesnotexist0000000"), StatusCode::kNotFound);
  CHECK_CODE(env.Revoke(admin, "acme", key.key.id, std::string(501, 'r')), StatusCode::kInvalidArgument);
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(a_key_expires_by_time_before_any_sweep) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput in = KeyInput("k");
  in.expires_at = kStartMs + 2 * kHourMs;
  auto key = env.MustCreateKey(acme.admin, "acme", in);
  auto long_lived = env.MustCreateKey(acme.admin, "acme", KeyInput("long"));
  BOOST_TEST(env.ledger->NextDeadline() == kStartMs + 2 * kHourMs);

  env.clock.Set(kStartMs + 2 * kHourMs - 1);
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_REQUIRE(env.Sweep().ok());
  BOOST_TEST(CountType(env.Log(), EventType::kKeyExpired) == 0u);  // not due yet

  env.clock.Set(kStartMs + 2 * kHourMs);
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kExpired));
  BOOST_TEST((env.MustGetKey(acme.admin, "acme", key.key.id).status == KeyStatus::kExpired));
  BOOST_TEST(CountType(env.Log(), EventType::kKeyExpired) == 0u);

  BOOST_REQUIRE(env.Sweep().ok());
  auto log = env.Log();
  BOOST_TEST(CountType(log, EventType::kKeyExpired) == 1u);
  const Event& expired = log.back();
  BOOST_REQUIRE((expired.type() == EventType::kKeyExpired));
  BOOST_TEST(expired.key_id == key.key.id);
  BOOST_TEST(expired.actor == "system");
  BOOST_TEST(std::get<KeyExpired>(expired.data).reason == "expired");
  BOOST_TEST(env.ledger->NextDeadline() == long_lived.key.expires_at);
  CHECK_CODE(env.Revoke(acme.admin, "acme", key.key.id), StatusCode::kConflict);

  // Sweeping again says nothing new.
  const uint64_t head = env.ledger->head_seq();
  BOOST_REQUIRE(env.Sweep().ok());
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(sweep_names_expiry_when_the_key_ends_before_its_grace) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput in = KeyInput("k");
  in.expires_in_days = 1;
  auto key = env.MustCreateKey(acme.admin, "acme", in);
  BOOST_REQUIRE(env.RotateWithGrace(acme.admin, "acme", key.key.id, 604800).ok());
  env.clock.Advance(kDayMs);
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kExpired));
  BOOST_REQUIRE(env.Sweep().ok());
  const Event last = env.Log().back();  // a copy: the log vector is a temporary
  BOOST_REQUIRE((last.type() == EventType::kKeyExpired));
  BOOST_TEST(last.key_id == key.key.id);
  BOOST_TEST(std::get<KeyExpired>(last.data).reason == "expired");
}

BOOST_AUTO_TEST_CASE(a_failed_write_makes_every_later_command_unavailable) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  BOOST_TEST(env.ledger->health().ok());

  env.store->InjectWriteFailureForTesting(true);
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInput("k2")), StatusCode::kUnavailable);
  BOOST_TEST(!env.ledger->health().ok());
  BOOST_TEST((env.ledger->health().code() == StatusCode::kUnavailable));
  env.store->InjectWriteFailureForTesting(false);  // the error is sticky regardless

  auto verify = env.Verify(key.token, "invoices:read");
  CHECK_CODE(verify, StatusCode::kUnavailable);
  CHECK_CODE(env.Revoke(acme.admin, "acme", key.key.id), StatusCode::kUnavailable);
  CHECK_CODE(env.RotateWithGrace(acme.admin, "acme", key.key.id, 0), StatusCode::kUnavailable);
  CHECK_CODE(env.CreateWorkspace(env.op, "globex", Plan::kPro), StatusCode::kUnavailable);
  CHECK_CODE(env.CreateAdminKey(env.op, "acme", "x", "admin"), StatusCode::kUnavailable);
  CHECK_CODE(env.UpdatePlan(env.op, "acme", Plan::kFree), StatusCode::kUnavailable);
  BOOST_TEST((env.Sweep().code() == StatusCode::kUnavailable));
  BOOST_TEST(!env.ledger->health().ok());
}

BOOST_AUTO_TEST_CASE(commands_after_close_are_unavailable) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k"));
  BOOST_TEST(env.ledger->ready());
  BOOST_TEST(env.ledger->Close().ok());
  BOOST_TEST(env.ledger->Close().ok(), "a second Close has nothing left to do");
  BOOST_TEST(!env.ledger->ready());
  CHECK_CODE(env.Verify(key.token), StatusCode::kUnavailable);
  CHECK_CODE(env.CreateApiKey(acme.admin, "acme", KeyInput("k2")), StatusCode::kUnavailable);
}

BOOST_AUTO_TEST_CASE(the_sweeper_thread_records_expiry_on_its_own) {
  LedgerOptions options = testing::TestOptions();
  options.start_sweeper = true;
  LedgerEnv env(options);
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput in = KeyInput("k");
  in.expires_at = kStartMs + kHourMs;
  auto key = env.MustCreateKey(acme.admin, "acme", in);
  env.clock.Advance(kHourMs);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool swept = false;
  while (!swept && std::chrono::steady_clock::now() < deadline) {
    auto log = env.Log();
    swept = !log.empty() && log.back().type() == EventType::kKeyExpired && log.back().key_id == key.key.id;
    if (!swept) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_REQUIRE_MESSAGE(swept, "the sweeper did not append key.expired within 30 s");
  BOOST_TEST(std::get<KeyExpired>(env.Log().back().data).reason == "expired");
  BOOST_TEST(env.ledger->NextDeadline() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
