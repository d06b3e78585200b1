// The key review rules (projections/review.h), on LedgerStates built from hand-made events with
// explicit timestamps: each rule is checked on both sides of its boundary.

#include "projections/review.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/sha256.h"
#include "core/time_format.h"
#include "projections/ledger_state.h"

namespace keyledger {
namespace {

// 2026-03-02T10:00:00.000Z: on an hour boundary, so usage buckets are easy to predict.
constexpr TimeMs kT0 = 1772445600000;
constexpr std::string_view kWs = "acme";

// Feeds hand-made events to a LedgerState with contiguous seqs.
class StateBuilder {
 public:
  StateBuilder() { Add(kT0, std::string(kWs), "", WorkspaceCreated{"Acme", Plan::kPro, 365}); }
  StateBuilder& Add(TimeMs ts, std::string ws, std::string key_id, EventData data) {
    Event e;
    e.seq = ++seq_;
    e.ts = ts;
    e.workspace = std::move(ws);
    e.key_id = std::move(key_id);
    e.actor = "tester";
    e.data = std::move(data);
    state.Apply(e);
    return *this;
  }
  StateBuilder& Create(TimeMs ts, const std::string& id, KeyCreated key) {
    return Add(ts, std::string(kWs), id, std::move(key));
  }
  StateBuilder& Use(TimeMs ts, const std::string& id, UseOutcome outcome = UseOutcome::kValid,
                    std::string ip = "10.0.0.1") {
    return Add(ts, std::string(kWs), id, KeyUsed{outcome, "invoices:read", std::move(ip)});
  }
  StateBuilder& Revoke(TimeMs ts, const std::string& id) {
    return Add(ts, std::string(kWs), id, KeyRevoked{"leaked"});
  }
  LedgerState state;

 private:
  uint64_t seq_ = 0;
};

// A key no rule objects to while it is younger than 90 days and used: a clear name, an owner, a
// narrow ability, expiry a year out.
KeyCreated CleanKey(TimeMs created, std::string name = "Invoice exporter production") {
  KeyCreated k;
  k.kind = KeyKind::kApi;
  k.name = std::move(name);
  k.prefix = "kl_" + std::to_string(created % 1000000000).substr(0, 9);
  k.digest = Sha256(k.name + std::to_string(created));
  k.owner = "finance@acme";
  k.abilities = {"invoices:read"};
  k.expires_at = created + 365 * kDayMs;
  return k;
}

// The rules that fire for `key_id`, in order.
std::vector<std::string> RulesFor(const std::vector<ReviewFinding>& findings,
                                  const std::string& key_id) {
  std::vector<std::string> rules;
  for (const ReviewFinding& f : findings) {
    if (f.key_id == key_id) rules.push_back(f.rule);
  }
  return rules;
}

bool Has(const LedgerState& state, TimeMs now, const std::string& key_id, std::string_view rule) {
  for (const ReviewFinding& f : ReviewWorkspace(state, kWs, now)) {
    if (f.key_id == key_id && f.rule == rule) return true;
  }
  return false;
}

const ReviewFinding* Find(const std::vector<ReviewFinding>& findings, std::string_view rule) {
  for (const ReviewFinding& f : findings) {
    if (f.rule == rule) return &f;
  }
  return nullptr;
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

using Rules = std::vector<std::string>;

BOOST_AUTO_TEST_SUITE(ReviewTest)

BOOST_AUTO_TEST_CASE(rule_names_are_the_api_names_in_order) {
  BOOST_TEST((std::vector<std::string_view>(kReviewRules.begin(), kReviewRules.end()) ==
              std::vector<std::string_view>{"no_owner", "never_used", "unused_30d", "full_access",
                                            "expiring_soon", "older_than_90d", "vague_name",
                                            "revoked_key_still_presented"}));
}

BOOST_AUTO_TEST_CASE(a_clean_key_has_no_findings) {
  StateBuilder b;
  b.Create(kT0, "key_clean", CleanKey(kT0));
  b.Use(kT0 + 20 * kDayMs, "key_clean");
  BOOST_TEST(ReviewWorkspace(b.state, kWs, kT0 + 21 * kDayMs).empty());
  // Just made and not used yet: still clean.
  b.Create(kT0 + 21 * kDayMs, "key_fresh", CleanKey(kT0 + 21 * kDayMs, "Reporting staging"));
  BOOST_TEST(ReviewWorkspace(b.state, kWs, kT0 + 21 * kDayMs + kHourMs).empty());
}

BOOST_AUTO_TEST_CASE(unknown_workspace_has_no_findings) {
  StateBuilder b;
  KeyCreated k = CleanKey(kT0, "test");
  k.owner.clear();
  b.Create(kT0, "key_1", k);
  BOOST_TEST(ReviewWorkspace(b.state, "globex", kT0 + 100 * kDayMs).empty());
  BOOST_TEST(!ReviewWorkspace(b.state, kWs, kT0 + 100 * kDayMs).empty());
}

BOOST_AUTO_TEST_CASE(no_owner_fires_for_empty_or_blank_owner_only) {
  StateBuilder b;
  KeyCreated empty = CleanKey(kT0, "Zapier production");
  empty.owner = "";
  KeyCreated blank = CleanKey(kT0, "Reporting staging");
  blank.owner = " \t ";
  KeyCreated padded = CleanKey(kT0, "Warehouse staging");
  padded.owner = " x ";
  b.Create(kT0, "key_empty", empty)
      .Create(kT0, "key_blank", blank)
      .Create(kT0, "key_padded", padded);
  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + kHourMs);
  BOOST_TEST(RulesFor(findings, "key_empty") == Rules{"no_owner"});
  BOOST_TEST(RulesFor(findings, "key_blank") == Rules{"no_owner"});
  BOOST_TEST(RulesFor(findings, "key_padded").empty());

  const ReviewFinding* f = Find(findings, "no_owner");
  BOOST_REQUIRE(f != nullptr);
  BOOST_TEST(Contains(f->detail, "\"Zapier production\""), f->detail);
  BOOST_TEST(Contains(f->detail, empty.prefix), f->detail);
  BOOST_TEST(Contains(f->detail, "no one is accountable"), f->detail);
}

BOOST_AUTO_TEST_CASE(never_used_fires_from_7_days_after_creation) {
  StateBuilder b;
  b.Create(kT0, "key_1", CleanKey(kT0));
  BOOST_TEST(!Has(b.state, kT0 + 6 * kDayMs, "key_1", "never_used"));
  BOOST_TEST(!Has(b.state, kT0 + 7 * kDayMs - 1, "key_1", "never_used"));
  BOOST_TEST(Has(b.state, kT0 + 7 * kDayMs, "key_1", "never_used"));
  BOOST_TEST(Has(b.state, kT0 + 8 * kDayMs, "key_1", "never_used"));

  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + 8 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_1") == Rules{"never_used"});
  BOOST_TEST(Contains(findings[0].detail, "created 2026-03-02, 8 days ago"), findings[0].detail);
  BOOST_TEST(Contains(findings[0].detail, "never been used"), findings[0].detail);
}

BOOST_AUTO_TEST_CASE(never_used_ignores_a_key_with_a_valid_use_but_not_one_with_only_rejections) {
  StateBuilder b;
  b.Create(kT0, "key_used", CleanKey(kT0, "Zapier production"));
  b.Create(kT0, "key_refused", CleanKey(kT0, "Reporting staging"));
  b.Use(kT0 + kDayMs, "key_used");
  b.Use(kT0 + kDayMs, "key_refused", UseOutcome::kForbidden);
  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + 8 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_used").empty());
  BOOST_TEST(RulesFor(findings, "key_refused") == Rules{"never_used"});
}

BOOST_AUTO_TEST_CASE(unused_30d_fires_more_than_30_days_after_the_last_use) {
  StateBuilder b;
  const TimeMs last = kT0 + kDayMs;
  b.Create(kT0, "key_1", CleanKey(kT0));
  b.Use(kT0 + kHourMs, "key_1").Use(last, "key_1");
  BOOST_TEST(!Has(b.state, last + 29 * kDayMs, "key_1", "unused_30d"));
  BOOST_TEST(!Has(b.state, last + 30 * kDayMs, "key_1", "unused_30d"));
  BOOST_TEST(Has(b.state, last + 30 * kDayMs + 1, "key_1", "unused_30d"));
  BOOST_TEST(Has(b.state, last + 31 * kDayMs, "key_1", "unused_30d"));

  const auto findings = ReviewWorkspace(b.state, kWs, last + 31 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_1") == Rules{"unused_30d"});
  BOOST_TEST(Contains(findings[0].detail, "last used 2026-03-03, 31 days ago"), findings[0].detail);
  BOOST_TEST(Contains(findings[0].detail, "2 uses"), findings[0].detail);
}

BOOST_AUTO_TEST_CASE(full_access_fires_for_the_preset_or_both_wildcards) {
  StateBuilder b;
  KeyCreated preset = CleanKey(kT0, "Zapier production");
  preset.preset = Preset::kFullAccess;
  preset.abilities = {"*:read", "*:write"};
  KeyCreated wildcards = CleanKey(kT0, "Reporting staging");
  wildcards.abilities = {"invoices:read", "*:write", "*:read"};
  KeyCreated read_only = CleanKey(kT0, "Warehouse staging");
  read_only.preset = Preset::kReadOnly;
  read_only.abilities = {"*:read"};
  KeyCreated read_all_write_one = CleanKey(kT0, "Finance export job");
  read_all_write_one.abilities = {"*:read", "invoices:write"};
  KeyCreated one_resource = CleanKey(kT0, "CRM integration");
  one_resource.abilities = {"invoices:read", "invoices:write"};
  b.Create(kT0, "key_preset", preset).Create(kT0, "key_wild", wildcards);
  b.Create(kT0, "key_ro", read_only).Create(kT0, "key_mixed", read_all_write_one);
  b.Create(kT0, "key_one", one_resource);

  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + kHourMs);
  BOOST_TEST(RulesFor(findings, "key_preset") == Rules{"full_access"});
  BOOST_TEST(RulesFor(findings, "key_wild") == Rules{"full_access"});
  BOOST_TEST(RulesFor(findings, "key_ro").empty());
  BOOST_TEST(RulesFor(findings, "key_mixed").empty());
  BOOST_TEST(RulesFor(findings, "key_one").empty());
  BOOST_TEST(Contains(findings[0].detail, "needs to write data"), findings[0].detail);
}

BOOST_AUTO_TEST_CASE(expiring_soon_fires_within_14_days_of_expiry) {
  StateBuilder b;
  KeyCreated k = CleanKey(kT0);
  const TimeMs expiry = kT0 + 60 * kDayMs;
  k.expires_at = expiry;
  b.Create(kT0, "key_1", k).Use(kT0 + 40 * kDayMs, "key_1");
  BOOST_TEST(!Has(b.state, expiry - 15 * kDayMs, "key_1", "expiring_soon"));
  BOOST_TEST(!Has(b.state, expiry - 14 * kDayMs - 1, "key_1", "expiring_soon"));
  BOOST_TEST(Has(b.state, expiry - 14 * kDayMs, "key_1", "expiring_soon"));
  BOOST_TEST(Has(b.state, expiry - 13 * kDayMs, "key_1", "expiring_soon"));
  BOOST_TEST(Has(b.state, expiry - 1, "key_1", "expiring_soon"));
  // Once expired it is no longer an active key.
  BOOST_TEST(!Has(b.state, expiry, "key_1", "expiring_soon"));

  const auto findings = ReviewWorkspace(b.state, kWs, expiry - 13 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_1") == Rules{"expiring_soon"});
  BOOST_TEST(Contains(findings[0].detail, FormatRfc3339(expiry) + ", in 13 days"),
             findings[0].detail);
}

BOOST_AUTO_TEST_CASE(a_key_that_never_expires_is_not_expiring_soon) {
  StateBuilder b;
  KeyCreated k = CleanKey(kT0);
  k.expires_at = 0;
  b.Create(kT0, "key_1", k).Use(kT0 + kHourMs, "key_1");
  BOOST_TEST(ReviewWorkspace(b.state, kWs, kT0 + 2 * kHourMs).empty());
}

BOOST_AUTO_TEST_CASE(older_than_90d_fires_more_than_90_days_after_creation) {
  StateBuilder b;
  const TimeMs created = kT0;
  b.Create(created, "key_1", CleanKey(created));
  b.Use(created + 88 * kDayMs, "key_1");  // keeps unused_30d quiet
  BOOST_TEST(!Has(b.state, created + 89 * kDayMs, "key_1", "older_than_90d"));
  BOOST_TEST(!Has(b.state, created + 90 * kDayMs, "key_1", "older_than_90d"));
  BOOST_TEST(Has(b.state, created + 90 * kDayMs + 1, "key_1", "older_than_90d"));
  BOOST_TEST(Has(b.state, created + 91 * kDayMs, "key_1", "older_than_90d"));

  const auto findings = ReviewWorkspace(b.state, kWs, created + 114 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_1") == Rules{"older_than_90d"});
  BOOST_TEST(Contains(findings[0].detail, "created 2026-03-02, 114 days ago"), findings[0].detail);
}

BOOST_AUTO_TEST_CASE(vague_name_fires_for_placeholders_in_any_case_and_spacing) {
  const std::vector<std::string> vague = {
      "test",     "testing",   "test key", "new key", "new",     "key",
      "key 1",    "key1",      "key 2",    "my key",  "mykey",   "asdf",
      "qwerty",   "temp",      "tmp",      "foo",     "bar",     "default",
      "api key",  "apikey",    "untitled", "xxx",     "123",     "  Test  ",
      "TEST KEY", "New   Key", "key-1",    "My_Key",  "Api-Key", "\tUntitled\n"};
  for (const std::string& name : vague) {
    StateBuilder b;
    b.Create(kT0, "key_1", CleanKey(kT0, name));
    BOOST_TEST(
        RulesFor(ReviewWorkspace(b.state, kWs, kT0 + kHourMs), "key_1") == Rules{"vague_name"},
        "name \"" << name << "\"");
  }
}

BOOST_AUTO_TEST_CASE(vague_name_fires_below_3_characters_only) {
  // Characters, not bytes: "日本" is 2 characters in 6 bytes.
  for (const std::string name : {"a", "ab", " ab ", "日本", "é1"}) {
    StateBuilder b;
    b.Create(kT0, "key_1", CleanKey(kT0, name));
    BOOST_TEST(Has(b.state, kT0 + kHourMs, "key_1", "vague_name"), "name \"" << name << "\"");
  }
  for (const std::string name : {"CRM", "ERP", "日本語", "Zapier production",
                                 "test harness billing", "key rotation job", "newsletter sync"}) {
    StateBuilder b;
    b.Create(kT0, "key_1", CleanKey(kT0, name));
    BOOST_TEST(!Has(b.state, kT0 + kHourMs, "key_1", "vague_name"), "name \"" << name << "\"");
  }
  StateBuilder b;
  b.Create(kT0, "key_1", CleanKey(kT0, "ab"));
  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + kHourMs);
  BOOST_REQUIRE(findings.size() == 1u);
  BOOST_TEST(Contains(findings[0].detail, "only 2 characters"), findings[0].detail);
  BOOST_TEST(Contains(findings[0].detail, "Zapier production"), findings[0].detail);
}

BOOST_AUTO_TEST_CASE(revoked_key_still_presented_counts_rejections_after_the_end) {
  StateBuilder b;
  const TimeMs revoked = kT0 + 10 * kDayMs;
  b.Create(kT0, "key_1", CleanKey(kT0)).Use(kT0 + kDayMs, "key_1");
  b.Revoke(revoked, "key_1");
  b.Use(revoked + kHourMs, "key_1", UseOutcome::kRevoked, "198.51.100.4");
  b.Use(revoked + 2 * kDayMs, "key_1", UseOutcome::kRevoked, "198.51.100.4");
  const TimeMs last = revoked + 3 * kDayMs + 5 * 60 * kSecondMs;
  b.Use(last, "key_1", UseOutcome::kRevoked, "203.0.113.9");

  const auto findings = ReviewWorkspace(b.state, kWs, revoked + 4 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_1") == Rules{"revoked_key_still_presented"});
  BOOST_REQUIRE(findings.size() == 1u);
  const std::string& detail = findings[0].detail;
  BOOST_TEST(Contains(detail, "3 times"), detail);
  BOOST_TEST(Contains(detail, "203.0.113.9"), detail);
  BOOST_TEST(Contains(detail, FormatRfc3339(last)), detail);
  BOOST_TEST(Contains(detail, "revoked on 2026-03-12"), detail);
  BOOST_TEST(Contains(detail, "still using it"), detail);
}

BOOST_AUTO_TEST_CASE(revoked_key_still_presented_ignores_rejections_older_than_7_days) {
  StateBuilder b;
  const TimeMs revoked = kT0 + 10 * kDayMs;
  const TimeMs attempt = revoked + 2 * kHourMs + 5 * 60 * kSecondMs;  // bucket revoked + 2 h
  b.Create(kT0, "key_1", CleanKey(kT0)).Revoke(revoked, "key_1");
  b.Use(attempt, "key_1", UseOutcome::kRevoked);
  BOOST_TEST(Has(b.state, revoked + 6 * kDayMs, "key_1", "revoked_key_still_presented"));
  // The window starts exactly 7 days before now: the bucket starting then still counts.
  BOOST_TEST(
      Has(b.state, revoked + 2 * kHourMs + 7 * kDayMs, "key_1", "revoked_key_still_presented"));
  BOOST_TEST(!Has(b.state, revoked + 2 * kHourMs + 7 * kDayMs + 1, "key_1",
                  "revoked_key_still_presented"));
  BOOST_TEST(!Has(b.state, revoked + 8 * kDayMs, "key_1", "revoked_key_still_presented"));
}

BOOST_AUTO_TEST_CASE(revoked_key_still_presented_ignores_rejections_before_the_end) {
  StateBuilder b;
  const TimeMs revoked = kT0 + 10 * kDayMs;
  b.Create(kT0, "key_1", CleanKey(kT0));
  b.Use(revoked - 2 * kHourMs, "key_1", UseOutcome::kForbidden);  // while active, an earlier hour
  b.Revoke(revoked, "key_1");
  BOOST_TEST(ReviewWorkspace(b.state, kWs, revoked + kDayMs).empty());
  // Nor when the refusal came in the hour of the revocation, just before it (its bucket is the
  // revocation's).
  const TimeMs in_hour = revoked + 30 * 60 * kSecondMs;  // mid-hour: one bucket before and after
  StateBuilder same_hour;
  same_hour.Create(kT0, "key_1", CleanKey(kT0));
  same_hour.Use(in_hour - 60 * kSecondMs, "key_1", UseOutcome::kForbidden);
  same_hour.Revoke(in_hour, "key_1");
  BOOST_TEST(ReviewWorkspace(same_hour.state, kWs, in_hour + kDayMs).empty());
  // Presented once after it: a finding, most recently then.
  same_hour.Use(in_hour + 60 * kSecondMs, "key_1", UseOutcome::kRevoked, "198.51.100.7");
  const auto findings = ReviewWorkspace(same_hour.state, kWs, in_hour + kDayMs);
  BOOST_REQUIRE(findings.size() == 1u);
  BOOST_TEST(Contains(findings[0].detail, "most recently at " + FormatRfc3339(in_hour + 60 * kSecondMs)),
             findings[0].detail);
  // A revoked key nobody presents has no finding at all.
  StateBuilder quiet;
  quiet.Create(kT0, "key_1", CleanKey(kT0)).Revoke(kT0 + kDayMs, "key_1");
  BOOST_TEST(ReviewWorkspace(quiet.state, kWs, kT0 + 2 * kDayMs).empty());
}

BOOST_AUTO_TEST_CASE(expired_keys_still_presented_are_findings_too) {
  StateBuilder b;
  KeyCreated swept = CleanKey(kT0, "Zapier production");
  swept.expires_at = kT0 + 30 * kDayMs;
  KeyCreated unswept = CleanKey(kT0, "Reporting staging");
  unswept.expires_at = kT0 + 30 * kDayMs;
  b.Create(kT0, "key_swept", swept).Create(kT0, "key_unswept", unswept);
  b.Add(kT0 + 30 * kDayMs, std::string(kWs), "key_swept", KeyExpired{"expired"});
  // The sweeper has not recorded key_unswept: it ended at its deadline all the same.
  b.Use(kT0 + 31 * kDayMs, "key_swept", UseOutcome::kExpired, "192.0.2.1");
  b.Use(kT0 + 31 * kDayMs, "key_unswept", UseOutcome::kExpired, "192.0.2.2");

  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + 32 * kDayMs);
  BOOST_TEST(RulesFor(findings, "key_swept") == Rules{"revoked_key_still_presented"});
  BOOST_TEST(RulesFor(findings, "key_unswept") == Rules{"revoked_key_still_presented"});
  BOOST_REQUIRE(findings.size() == 2u);
  BOOST_TEST(Contains(findings[0].detail, "expired on 2026-04-01"), findings[0].detail);
  BOOST_TEST(Contains(findings[1].detail, "192.0.2.2"), findings[1].detail);
}

BOOST_AUTO_TEST_CASE(revoked_keys_only_ever_get_revoked_key_still_presented) {
  StateBuilder b;
  KeyCreated worst = CleanKey(kT0, "test");  // vague, no owner, full access, expiring, old
  worst.owner.clear();
  worst.preset = Preset::kFullAccess;
  worst.abilities = {"*:read", "*:write"};
  worst.expires_at = kT0 + 365 * kDayMs;
  b.Create(kT0, "key_1", worst).Use(kT0 + kDayMs, "key_1");
  const TimeMs now = kT0 + 355 * kDayMs;
  BOOST_TEST(RulesFor(ReviewWorkspace(b.state, kWs, now), "key_1") ==
             (Rules{"no_owner", "unused_30d", "full_access", "expiring_soon", "older_than_90d",
                    "vague_name"}));
  b.Revoke(now - kDayMs, "key_1");
  BOOST_TEST(ReviewWorkspace(b.state, kWs, now).empty());
  b.Use(now - kHourMs, "key_1", UseOutcome::kRevoked);
  BOOST_TEST(RulesFor(ReviewWorkspace(b.state, kWs, now), "key_1") ==
             Rules{"revoked_key_still_presented"});
}

BOOST_AUTO_TEST_CASE(other_workspaces_and_admin_keys_never_appear) {
  StateBuilder b;
  b.Add(kT0, "globex", "", WorkspaceCreated{"Globex", Plan::kPro, 365});
  KeyCreated theirs = CleanKey(kT0, "test");
  theirs.owner.clear();
  b.Add(kT0, "globex", "key_theirs", theirs);
  KeyCreated admin = CleanKey(kT0, "dashboard");
  admin.kind = KeyKind::kAdmin;
  admin.role = "admin";
  admin.owner.clear();
  admin.preset = Preset::kFullAccess;
  b.Create(kT0, "key_admin", admin);
  KeyCreated ours = CleanKey(kT0, "key");
  b.Create(kT0, "key_ours", ours);

  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + 100 * kDayMs);
  for (const ReviewFinding& f : findings) BOOST_TEST(f.key_id == "key_ours");
  BOOST_TEST(!findings.empty());
  const auto theirs_findings = ReviewWorkspace(b.state, "globex", kT0 + kHourMs);
  BOOST_TEST(RulesFor(theirs_findings, "key_theirs") == (Rules{"no_owner", "vague_name"}));
}

BOOST_AUTO_TEST_CASE(findings_follow_key_creation_order_then_rule_order) {
  StateBuilder b;
  // Ids sort the other way round from creation, so ordering by id would show.
  KeyCreated first = CleanKey(kT0, "tmp");
  first.owner = "";
  first.preset = Preset::kFullAccess;
  KeyCreated second = CleanKey(kT0 + kDayMs, "Zapier production");
  second.expires_at = kT0 + 20 * kDayMs;
  KeyCreated third = CleanKey(kT0 + 2 * kDayMs, "Reporting staging");
  b.Create(kT0, "key_z", first).Create(kT0 + kDayMs, "key_m", second);
  b.Create(kT0 + 2 * kDayMs, "key_a", third).Use(kT0 + 9 * kDayMs, "key_a");
  b.Revoke(kT0 + 9 * kDayMs, "key_a")
      .Use(kT0 + 9 * kDayMs + kHourMs, "key_a", UseOutcome::kRevoked);

  std::vector<std::string> got;
  for (const ReviewFinding& f : ReviewWorkspace(b.state, kWs, kT0 + 10 * kDayMs)) {
    got.push_back(f.key_id + " " + f.rule);
  }
  const std::vector<std::string> want = {"key_z no_owner",
                                         "key_z never_used",
                                         "key_z full_access",
                                         "key_z vague_name",
                                         "key_m never_used",
                                         "key_m expiring_soon",
                                         "key_a revoked_key_still_presented"};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_detail_names_the_key_by_name_and_prefix) {
  StateBuilder b;
  KeyCreated k = CleanKey(kT0, "temp");
  k.owner.clear();
  k.preset = Preset::kFullAccess;
  b.Create(kT0, "key_1", k).Use(kT0 + kDayMs, "key_1");
  const auto findings = ReviewWorkspace(b.state, kWs, kT0 + 360 * kDayMs);
  BOOST_TEST(findings.size() == 6u);
  for (const ReviewFinding& f : findings) {
    BOOST_TEST(f.detail.rfind("Key \"temp\" (" + k.prefix + ")", 0) == 0u, f.detail);
    BOOST_TEST(f.detail.back() == '.', f.detail);
  }
}

// A workspace whose keys draw different findings, with an admin key among them (never reviewed)
// and another workspace's key (never listed): nine entries in acme's key list, seven API keys.
StateBuilder MixedWorkspace() {
  StateBuilder b;
  b.Add(kT0, "globex", "", WorkspaceCreated{"Globex", Plan::kPro, 365});
  const char* names[] = {"test", "Invoice exporter", "key 1", "Reporting staging", "ab",
                         "Payments webhook", "asdf"};
  for (int i = 0; i < 7; ++i) {
    const TimeMs at = kT0 + i * kHourMs;
    KeyCreated k = CleanKey(at, names[i]);
    if (i % 2 == 0) k.owner.clear();
    if (i % 3 == 0) k.preset = Preset::kFullAccess;
    b.Create(at, "key_" + std::to_string(i), k);
    if (i == 3) {
      KeyCreated admin = CleanKey(at, "x");
      admin.kind = KeyKind::kAdmin;
      admin.role = "admin";
      b.Create(at, "key_admin", admin);
      b.Add(at, "globex", "key_globex", CleanKey(at, "test"));
      b.Create(at, "key_admin2", admin);
    }
  }
  b.Revoke(kT0 + 10 * kDayMs, "key_5").Use(kT0 + 11 * kDayMs, "key_5", UseOutcome::kRevoked);
  return b;
}

std::vector<std::string> Flatten(const std::vector<ReviewFinding>& findings) {
  std::vector<std::string> out;
  for (const ReviewFinding& f : findings) out.push_back(f.key_id + " " + f.rule + " " + f.detail);
  return out;
}

BOOST_AUTO_TEST_CASE(a_review_in_chunks_finds_what_the_whole_review_finds) {
  const StateBuilder b = MixedWorkspace();
  const TimeMs now = kT0 + 12 * kDayMs;
  const auto whole = Flatten(ReviewWorkspace(b.state, kWs, now));
  BOOST_TEST_REQUIRE(whole.size() >= 10u);  // every API key has a finding, some several
  const size_t listed = b.state.FindWorkspace(kWs)->keys.size();
  BOOST_TEST_REQUIRE(listed == 9u);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{4}, size_t{9}, size_t{100}}) {
    std::vector<ReviewFinding> findings;
    size_t next = 0, calls = 0;
    bool more = true;
    while (more && calls < 100) {
      const size_t before = next;
      more = ReviewWorkspaceChunk(b.state, kWs, now, chunk, next, findings);
      ++calls;
      BOOST_TEST(next == std::min(before + chunk, listed), "chunk " << chunk);
    }
    BOOST_TEST(!more);
    BOOST_TEST(calls == (listed + chunk - 1) / chunk, "chunk " << chunk);
    BOOST_TEST((Flatten(findings) == whole), "chunk " << chunk);
  }
}

BOOST_AUTO_TEST_CASE(keys_created_between_chunks_are_reviewed_as_their_chunk_finds_them) {
  StateBuilder b = MixedWorkspace();
  const TimeMs now = kT0 + 12 * kDayMs;
  std::vector<ReviewFinding> findings;
  size_t next = 0;
  BOOST_TEST(ReviewWorkspaceChunk(b.state, kWs, now, 2, next, findings));
  // key_0 was reviewed while active; revoked now, its findings stay those of its chunk. A key
  // created now joins the end of the list and is reached by a later chunk.
  b.Revoke(kT0 + 11 * kDayMs, "key_0");
  KeyCreated late = CleanKey(kT0 + 11 * kDayMs, "tmp");
  b.Create(kT0 + 11 * kDayMs, "key_late", late);
  while (ReviewWorkspaceChunk(b.state, kWs, now, 2, next, findings)) {
  }
  BOOST_TEST(next == 10u);
  BOOST_TEST((RulesFor(findings, "key_0") == Rules{"no_owner", "never_used", "full_access",
                                                        "vague_name"}));
  BOOST_TEST((RulesFor(findings, "key_late") == Rules{"vague_name"}));
  BOOST_TEST(RulesFor(findings, "key_admin").empty());
  BOOST_TEST(RulesFor(findings, "key_globex").empty());
}

BOOST_AUTO_TEST_CASE(a_chunk_of_an_unknown_workspace_finds_nothing_and_ends) {
  const StateBuilder b = MixedWorkspace();
  std::vector<ReviewFinding> findings;
  size_t next = 0;
  BOOST_TEST(!ReviewWorkspaceChunk(b.state, "initech", kT0, 4, next, findings));
  BOOST_TEST(next == 0u);
  BOOST_TEST(findings.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
