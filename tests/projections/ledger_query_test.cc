// The read side: ListKeys filters and cursors, the audit timeline, the raw event stream and usage.

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include <rocksdb/write_batch.h>

#include "core/sha256.h"
#include "projections/audit_query.h"
#include "projections/ledger.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::ApiEvent;
using testing::KeyInput;
using testing::kStartMs;
using testing::LedgerEnv;
using testing::ParseApiEvents;


std::vector<std::string> Ids(const std::vector<KeyState>& keys) {
  std::vector<std::string> ids;
  for (const KeyState& k : keys) ids.push_back(k.id);
  return ids;
}

std::vector<uint64_t> Seqs(const std::vector<ApiEvent>& events) {
  std::vector<uint64_t> seqs;
  for (const ApiEvent& e : events) seqs.push_back(e.seq);
  return seqs;
}

std::vector<ApiEvent> MustAudit(LedgerEnv& env, const Principal& p, const EventQuery& q) {
  auto page = env.ledger->Audit(p, "acme", q);
  BOOST_REQUIRE_MESSAGE(page.ok(), page.status().message());
  return ParseApiEvents(page->events);
}

// Walks every page of an audit query; checks each page's size and that only the last page ends.
std::vector<ApiEvent> WalkAudit(LedgerEnv& env, const Principal& p, EventQuery q, size_t limit) {
  q.limit = limit;
  std::vector<ApiEvent> all;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = env.ledger->Audit(p, "acme", q);
    BOOST_REQUIRE_MESSAGE(page.ok(), page.status().message());
    BOOST_TEST(page->events.size() <= limit);
    for (const ApiEvent& e : ParseApiEvents(page->events)) all.push_back(e);
    if (page->next_cursor.empty()) return all;
    BOOST_TEST(page->events.size() == limit);
    q.cursor = page->next_cursor;
  }
  BOOST_FAIL("audit pagination does not end");
  return all;
}

BOOST_AUTO_TEST_SUITE(LedgerQueryTest)

BOOST_AUTO_TEST_CASE(list_keys_filters_by_effective_status) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const Principal& admin = acme.admin;
  auto k1 = env.MustCreateKey(admin, "acme", KeyInput("k1"));
  auto k2 = env.MustCreateKey(admin, "acme", KeyInput("k2"));
  CreateKeyInput short_lived = KeyInput("k3");
  short_lived.expires_in_days = 1;
  auto k3 = env.MustCreateKey(admin, "acme", short_lived);
  auto k4 = env.MustCreateKey(admin, "acme", KeyInput("k4"));
  BOOST_REQUIRE(env.Revoke(admin, "acme", k2.key.id).ok());
  auto k5 = env.RotateWithGrace(admin, "acme", k4.key.id, 0);
  BOOST_REQUIRE(k5.ok());
  auto k6 = env.MustCreateKey(admin, "acme", KeyInput("k6"));

  auto list = [&](KeyFilter filter) {
    auto page = env.ledger->ListKeys(admin, "acme", filter, 50, "");
    BOOST_REQUIRE_MESSAGE(page.ok(), page.status().message());
    BOOST_TEST(page->next_cursor.empty());
    return page->keys;
  };
  using V = std::vector<std::string>;
  BOOST_TEST((Ids(list(KeyFilter::kActive)) == V{k1.key.id, k3.key.id, k5->key.id, k6.key.id}));
  BOOST_TEST((Ids(list(KeyFilter::kRevoked)) == V{k2.key.id}));
  BOOST_TEST((Ids(list(KeyFilter::kExpired)) == V{k4.key.id}));

  env.clock.Advance(kDayMs);  // k3 ends by time; no sweep needed to list it as expired
  BOOST_TEST((Ids(list(KeyFilter::kActive)) == V{k1.key.id, k5->key.id, k6.key.id}));
  const auto expired = list(KeyFilter::kExpired);
  BOOST_TEST((Ids(expired) == V{k3.key.id, k4.key.id}));
  for (const KeyState& k : expired) BOOST_TEST((k.status == KeyStatus::kExpired));
  BOOST_TEST((Ids(list(KeyFilter::kAll)) ==
              V{k1.key.id, k2.key.id, k3.key.id, k4.key.id, k5->key.id, k6.key.id}));  // no admin keys
  // The listing shows no secrets.
  for (const KeyState& k : list(KeyFilter::kAll)) {
    BOOST_TEST((k.digest == Digest{}));
    BOOST_TEST(k.idempotency_key.empty());
  }
}

BOOST_AUTO_TEST_CASE(list_keys_paginates_with_cursors) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(env.MustCreateKey(acme.admin, "acme", KeyInput("k" + std::to_string(i))).key.id);
  }

  std::vector<std::string> walked;
  std::vector<size_t> sizes;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = env.ledger->ListKeys(acme.auditor, "acme", KeyFilter::kActive, 2, cursor);
    BOOST_REQUIRE(page.ok());
    sizes.push_back(page->keys.size());
    for (const KeyState& k : page->keys) walked.push_back(k.id);
    if (page->next_cursor.empty()) break;
    cursor = page->next_cursor;
  }
  BOOST_TEST((sizes == std::vector<size_t>{2, 2, 1}));
  BOOST_TEST((walked == ids));

  auto whole = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 5, "");
  BOOST_REQUIRE(whole.ok());
  BOOST_TEST(whole->keys.size() == 5u);
  BOOST_TEST(whole->next_cursor.empty());

  // With a filter, pages skip what does not match and still end exactly.
  BOOST_REQUIRE(env.Revoke(acme.admin, "acme", ids[1]).ok());
  BOOST_REQUIRE(env.Revoke(acme.admin, "acme", ids[4]).ok());
  auto first = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 2, "");
  BOOST_REQUIRE(first.ok());
  BOOST_TEST((Ids(first->keys) == std::vector<std::string>{ids[0], ids[2]}));
  BOOST_REQUIRE(!first->next_cursor.empty());
  auto second = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 2, first->next_cursor);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST((Ids(second->keys) == std::vector<std::string>{ids[3]}));
  BOOST_TEST(second->next_cursor.empty());
  auto revoked = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kRevoked, 1, "");
  BOOST_REQUIRE(revoked.ok());
  BOOST_TEST((Ids(revoked->keys) == std::vector<std::string>{ids[1]}));
  BOOST_REQUIRE(!revoked->next_cursor.empty());
  auto revoked2 = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kRevoked, 1, revoked->next_cursor);
  BOOST_REQUIRE(revoked2.ok());
  BOOST_TEST((Ids(revoked2->keys) == std::vector<std::string>{ids[4]}));
  BOOST_TEST(revoked2->next_cursor.empty());

  for (const char* bad : {"abc", "-1", "1x", " 1", "99999999999999999999999"}) {
    auto r = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kAll, 2, bad);
    CHECK_CODE(r, StatusCode::kInvalidArgument);
    BOOST_TEST(r.status().field() == "cursor");
  }
}

// acme's timeline: set-up by "ops" at 10:00, alice creates k1 at 11:00 (one use), bob creates k2
// at 12:00 (two uses), alice revokes k1 at 13:00.
struct AuditScene {
  explicit AuditScene(LedgerEnv& env) {
    acme = env.MustSetUpWorkspace("acme");
    alice = *env.ledger->Authenticate(acme.admin_token, "alice");
    bob = *env.ledger->Authenticate(acme.admin_token, "bob");
    env.clock.Set(kStartMs + kHourMs);
    k1 = env.MustCreateKey(alice, "acme", KeyInput("k1"));
    BOOST_REQUIRE((env.VerifyCodeOf(k1.token) == VerifyCode::kValid));
    env.clock.Set(kStartMs + 2 * kHourMs);
    k2 = env.MustCreateKey(bob, "acme", KeyInput("k2"));
    BOOST_REQUIRE((env.VerifyCodeOf(k2.token) == VerifyCode::kValid));
    BOOST_REQUIRE((env.VerifyCodeOf(k2.token, "invoices:read") == VerifyCode::kValid));
    env.clock.Set(kStartMs + 3 * kHourMs);
    BOOST_REQUIRE(env.Revoke(alice, "acme", k1.key.id).ok());
    // Noise in another workspace must never show up.
    auto other = env.MustSetUpWorkspace("acme-2");
    env.MustCreateKey(other.admin, "acme-2", KeyInput("noise"));
  }
  testing::WorkspaceActors acme;
  Principal alice, bob;
  CreatedKey k1, k2;
};

BOOST_AUTO_TEST_CASE(audit_filters_by_type_and_excludes_uses_by_default) {
  LedgerEnv env;
  AuditScene s(env);
  const auto all = MustAudit(env, s.acme.auditor, EventQuery{});
  std::vector<std::string> types;
  for (const ApiEvent& e : all) {
    types.push_back(e.type);
    BOOST_TEST(e.workspace == "acme");
    BOOST_TEST(e.hash.size() == 64u);
  }
  BOOST_TEST((types == std::vector<std::string>{"workspace.created", "key.created", "key.created", "key.created",
                                                "key.created", "key.revoked"}));
  auto seqs = Seqs(all);
  BOOST_TEST(std::is_sorted(seqs.begin(), seqs.end()));

  EventQuery uses;
  uses.types = {EventType::kKeyUsed};
  const auto used = MustAudit(env, s.acme.admin, uses);
  BOOST_TEST(used.size() == 3u);
  for (const ApiEvent& e : used) BOOST_TEST(e.type == "key.used");

  EventQuery mixed;
  mixed.types = {EventType::kKeyRevoked, EventType::kKeyUsed};
  const auto both = MustAudit(env, s.acme.admin, mixed);
  BOOST_TEST(both.size() == 4u);
  BOOST_TEST(both.back().type == "key.revoked");

  EventQuery per_key;
  per_key.key_id = s.k1.key.id;
  const auto k1_events = MustAudit(env, s.acme.admin, per_key);
  BOOST_REQUIRE(k1_events.size() == 2u);
  BOOST_TEST(k1_events[0].type == "key.created");
  BOOST_TEST(k1_events[1].type == "key.revoked");
  for (const ApiEvent& e : k1_events) BOOST_TEST(e.key_id == s.k1.key.id);
  per_key.types = {EventType::kKeyUsed};
  BOOST_TEST(MustAudit(env, s.acme.admin, per_key).size() == 1u);
}

BOOST_AUTO_TEST_CASE(audit_filters_by_actor_and_time) {
  LedgerEnv env;
  AuditScene s(env);
  EventQuery by_alice;
  by_alice.actor = "alice";
  const auto alice = MustAudit(env, s.acme.admin, by_alice);
  BOOST_REQUIRE(alice.size() == 2u);
  BOOST_TEST(alice[0].type == "key.created");
  BOOST_TEST(alice[0].key_id == s.k1.key.id);
  BOOST_TEST(alice[1].type == "key.revoked");
  for (const ApiEvent& e : alice) BOOST_TEST(e.actor == "alice");
  EventQuery by_bob;
  by_bob.actor = "bob";
  BOOST_TEST(MustAudit(env, s.acme.admin, by_bob).size() == 1u);
  by_bob.actor = "nobody";
  BOOST_TEST(MustAudit(env, s.acme.admin, by_bob).empty());

  EventQuery window;
  window.from = kStartMs + kHourMs;
  window.to = kStartMs + 2 * kHourMs;
  const auto middle = MustAudit(env, s.acme.admin, window);
  BOOST_REQUIRE(middle.size() == 2u);
  BOOST_TEST(middle[0].key_id == s.k1.key.id);
  BOOST_TEST(middle[1].key_id == s.k2.key.id);
  BOOST_TEST(middle[0].ts == "2026-03-02T11:00:00.000Z");
  BOOST_TEST(middle[1].ts == "2026-03-02T12:00:00.000Z");

  window.descending = true;
  const auto middle_desc = MustAudit(env, s.acme.admin, window);
  BOOST_REQUIRE(middle_desc.size() == 2u);
  BOOST_TEST(middle_desc[0].key_id == s.k2.key.id);

  EventQuery from_only;
  from_only.from = kStartMs + 2 * kHourMs;
  const auto late = MustAudit(env, s.acme.admin, from_only);
  BOOST_REQUIRE(late.size() == 2u);
  BOOST_TEST(late[1].type == "key.revoked");
  EventQuery to_only;
  to_only.to = kStartMs + kHourMs - 1;
  BOOST_TEST(MustAudit(env, s.acme.admin, to_only).size() == 3u);  // the set-up at 10:00
  to_only.descending = true;
  BOOST_TEST(MustAudit(env, s.acme.admin, to_only).size() == 3u);

  EventQuery uses_at_noon;
  uses_at_noon.types = {EventType::kKeyUsed};
  uses_at_noon.from = kStartMs + 2 * kHourMs;
  uses_at_noon.actor = "";
  BOOST_TEST(MustAudit(env, s.acme.admin, uses_at_noon).size() == 2u);
}

BOOST_AUTO_TEST_CASE(audit_with_a_row_bound_stops_there_and_says_so) {
  LedgerEnv env;
  AuditScene s(env);
  const auto all = MustAudit(env, s.acme.admin, EventQuery{});
  BOOST_TEST_REQUIRE(all.size() >= 5u);
  EventQuery nobody;
  nobody.actor = "nobody";
  nobody.max_rows = 3;  // fewer rows than the workspace's lifecycle events
  auto cut = QueryEvents(*env.store, "acme", nobody);
  BOOST_TEST_REQUIRE(cut.ok());
  BOOST_TEST(cut->cut_short);
  BOOST_TEST(cut->events.empty());
  nobody.max_rows = all.size();  // enough for every row
  auto whole = QueryEvents(*env.store, "acme", nobody);
  BOOST_TEST_REQUIRE(whole.ok());
  BOOST_TEST(!whole->cut_short);
  // A page filled within the bound is not cut short, whatever lies beyond.
  EventQuery two;
  two.limit = 2;
  two.max_rows = 3;
  auto page = QueryEvents(*env.store, "acme", two);
  BOOST_TEST_REQUIRE(page.ok());
  BOOST_TEST(!page->cut_short);
  BOOST_TEST(page->events.size() == 2u);
  BOOST_TEST(!page->next_cursor.empty());
}

// The read thread runs a far-reaching audit max_rows at a time (Ledger::Audit): every page, in
// either order, with any filter, must come out as one unbounded scan gives it.
BOOST_AUTO_TEST_CASE(a_query_continued_step_by_step_gives_the_unbounded_page) {
  LedgerEnv env;
  AuditScene s(env);
  std::vector<std::pair<std::string, EventQuery>> queries;
  auto add = [&](std::string what, auto&& set) {
    EventQuery q;
    set(q);
    queries.emplace_back(std::move(what), q);
  };
  add("timeline", [](EventQuery&) {});
  add("everything", [](EventQuery& q) { q.types = AllEventTypes(); });
  add("uses", [](EventQuery& q) { q.types = {EventType::kKeyUsed}; });
  add("alice", [](EventQuery& q) { q.actor = "alice"; });
  add("nobody", [](EventQuery& q) { q.actor = "nobody"; });
  add("second hour on", [](EventQuery& q) { q.from = kStartMs + 2 * kHourMs; q.types = AllEventTypes(); });
  add("until the second hour", [](EventQuery& q) { q.to = kStartMs + 2 * kHourMs; q.types = AllEventTypes(); });
  add("k2's history", [&](EventQuery& q) { q.key_id = s.k2.key.id; q.types = AllEventTypes(); });
  for (auto& [what, base] : queries) {
    for (bool descending : {false, true}) {
      for (size_t limit : {size_t{1}, size_t{2}, size_t{50}}) {
        for (size_t max_rows : {size_t{1}, size_t{2}, size_t{3}}) {
          BOOST_TEST_CONTEXT(what << (descending ? ", desc" : ", asc") << ", limit " << limit
                                  << ", max_rows " << max_rows) {
            EventQuery q = base;
            q.descending = descending;
            q.limit = limit;
            for (int page_number = 0; page_number < 20; ++page_number) {  // every page of the walk
              EventQuery whole_query = q;
              whole_query.max_rows = 0;
              auto whole = QueryEvents(*env.store, "acme", whole_query);
              BOOST_TEST_REQUIRE(whole.ok());
              EventQuery bounded = q;
              bounded.max_rows = max_rows;
              auto page = QueryEvents(*env.store, "acme", bounded);
              BOOST_TEST_REQUIRE(page.ok());
              int steps = 0;
              while (page->cut_short && steps < 1000) {
                BOOST_TEST_REQUIRE(ContinueQuery(*env.store, "acme", bounded, *page).ok());
                ++steps;
              }
              BOOST_TEST(!page->cut_short);
              BOOST_TEST((page->events == whole->events));
              BOOST_TEST(page->next_cursor == whole->next_cursor);
              if (whole->next_cursor.empty()) break;
              q.cursor = whole->next_cursor;
            }
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(audit_orders_descending_and_paginates_both_ways) {
  LedgerEnv env;
  AuditScene s(env);
  EventQuery everything;
  everything.types = {EventType::kWorkspaceCreated, EventType::kWorkspaceUpdated, EventType::kKeyCreated,
                      EventType::kKeyRotated,       EventType::kKeyRevoked,       EventType::kKeyExpired,
                      EventType::kKeyUsed};
  const auto asc = MustAudit(env, s.acme.admin, everything);
  BOOST_REQUIRE(asc.size() == 9u);
  everything.descending = true;
  const auto desc = MustAudit(env, s.acme.admin, everything);
  auto reversed = Seqs(asc);
  std::reverse(reversed.begin(), reversed.end());
  BOOST_TEST((Seqs(desc) == reversed));

  for (size_t limit : {size_t{1}, size_t{2}, size_t{4}, size_t{9}, size_t{50}}) {
    everything.descending = false;
    everything.cursor.clear();
    BOOST_TEST((Seqs(WalkAudit(env, s.acme.admin, everything, limit)) == Seqs(asc)), "limit " << limit);
    everything.descending = true;
    BOOST_TEST((Seqs(WalkAudit(env, s.acme.admin, everything, limit)) == reversed), "limit " << limit);
  }
  // Pagination composes with the filters.
  EventQuery alice;
  alice.actor = "alice";
  BOOST_TEST(WalkAudit(env, s.acme.admin, alice, 1).size() == 2u);

  EventQuery bad;
  bad.cursor = "not-a-cursor";
  auto r = env.ledger->Audit(s.acme.admin, "acme", bad);
  CHECK_CODE(r, StatusCode::kInvalidArgument);
  BOOST_TEST(r.status().field() == "cursor");
}

// An owner's rows in an audit index, as (kind byte after the owner, seq, type byte).
struct IndexRow {
  char kind;
  uint64_t seq;
  char type;
};
std::vector<IndexRow> IndexRows(const EventStore& store, Cf index, const std::string& owner) {
  std::vector<IndexRow> rows;
  Status s = store.Scan(index, owner + '\0', owner + '\2', [&](std::string_view k, std::string_view v) {
    BOOST_TEST(k.size() == owner.size() + 1 + 8);
    BOOST_TEST(v.size() == 1u);
    rows.push_back({k[owner.size()], DecodeSeq(k.substr(owner.size() + 1)), v[0]});
    return true;
  });
  BOOST_TEST(s.ok(), s.message());
  return rows;
}

// Every page of `q` in both orders and at three page sizes, one after the other.
std::vector<uint64_t> AllSeqs(LedgerEnv& env, const Principal& p, EventQuery q) {
  std::vector<uint64_t> seqs;
  for (bool descending : {false, true}) {
    q.descending = descending;
    for (size_t limit : {size_t{1}, size_t{2}, size_t{50}}) {
      q.cursor.clear();
      const auto page = Seqs(WalkAudit(env, p, q, limit));
      seqs.insert(seqs.end(), page.begin(), page.end());
    }
  }
  return seqs;
}

BOOST_AUTO_TEST_CASE(audit_indexes_uses_apart_from_lifecycle_events) {
  LedgerEnv env;
  AuditScene s(env);
  const char used = static_cast<char>(EventType::kKeyUsed);
  const std::vector<std::pair<Cf, std::string>> owners = {
      {Cf::kByWorkspace, "acme"}, {Cf::kByKey, s.k1.key.id}, {Cf::kByKey, s.k2.key.id}};
  const std::vector<std::pair<size_t, size_t>> expected = {{6, 3}, {2, 1}, {1, 2}};  // lifecycle, uses
  for (size_t i = 0; i < owners.size(); ++i) {
    size_t uses = 0, lifecycle = 0;
    for (const IndexRow& row : IndexRows(*env.store, owners[i].first, owners[i].second)) {
      if (row.kind == '\1') {
        BOOST_TEST(row.type == used);
        ++uses;
      } else {
        BOOST_TEST(row.kind == '\0');
        BOOST_TEST(row.type != used);  // what a query without uses reads: never a use
        ++lifecycle;
      }
    }
    BOOST_TEST(lifecycle == expected[i].first, owners[i].second);
    BOOST_TEST(uses == expected[i].second, owners[i].second);
  }
}

BOOST_AUTO_TEST_CASE(audit_reads_uses_indexed_before_they_had_their_own_rows) {
  // A log written before uses had rows of their own indexed them among the lifecycle events:
  // moving the use rows there must change no query's answer, in either index.
  LedgerEnv env;
  AuditScene s(env);
  EventQuery uses, mixed, timeline, everything, k2_uses, k2_all, k2_created;
  uses.types = {EventType::kKeyUsed};
  mixed.types = {EventType::kKeyCreated, EventType::kKeyUsed};
  everything.types = AllEventTypes();
  k2_uses = uses;
  k2_uses.key_id = s.k2.key.id;
  k2_all = everything;
  k2_all.key_id = s.k2.key.id;
  k2_created.types = {EventType::kKeyCreated};
  k2_created.key_id = s.k2.key.id;
  const std::vector<EventQuery> queries = {uses, mixed, timeline, everything, k2_uses, k2_all, k2_created};
  std::vector<std::vector<uint64_t>> before;
  for (const EventQuery& q : queries) before.push_back(AllSeqs(env, s.acme.admin, q));
  BOOST_TEST(before[0].size() == 2 * 3 * 3u);  // both orders, three page sizes, three uses
  BOOST_TEST(before[3].size() == 2 * 3 * 9u);
  BOOST_TEST(before[5].size() == 2 * 3 * 3u);  // k2: created, used twice

  rocksdb::WriteBatch batch;
  size_t moved = 0;
  for (const auto& [index, owner] : std::vector<std::pair<Cf, std::string>>{{Cf::kByWorkspace, "acme"},
                                                                          {Cf::kByKey, s.k2.key.id}}) {
    for (const IndexRow& row : IndexRows(*env.store, index, owner)) {
      if (row.kind != '\1') continue;
      BOOST_TEST_REQUIRE(batch.Delete(env.store->cf(index), owner + '\1' + EncodeSeq(row.seq)).ok());
      BOOST_TEST_REQUIRE(batch.Put(env.store->cf(index), owner + '\0' + EncodeSeq(row.seq), std::string(1, row.type)).ok());
      ++moved;
    }
  }
  BOOST_TEST_REQUIRE(moved == 3u + 2u);
  BOOST_TEST_REQUIRE(env.store->Write(batch, true).ok());
  for (size_t i = 0; i < queries.size(); ++i) {
    BOOST_TEST((AllSeqs(env, s.acme.admin, queries[i]) == before[i]), "query " << i);
  }
}

BOOST_AUTO_TEST_CASE(events_stream_the_log_in_order) {
  LedgerEnv env;
  AuditScene s(env);
  const auto log = env.Log();
  BOOST_REQUIRE(log.size() == env.ledger->head_seq());

  auto all = env.ledger->Events(env.op, 0, 1000);
  BOOST_REQUIRE(all.ok());
  const auto events = ParseApiEvents(all->events);
  BOOST_REQUIRE(events.size() == log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    BOOST_TEST(events[i].seq == i + 1);
    BOOST_TEST(events[i].type == EventTypeName(log[i].type()));
    BOOST_TEST(events[i].hash == ToHex(log[i].hash));
  }
  BOOST_TEST(all->last_seq == log.size());

  auto page = env.ledger->Events(env.op, 3, 2);
  BOOST_REQUIRE(page.ok());
  BOOST_TEST((Seqs(ParseApiEvents(page->events)) == std::vector<uint64_t>{4, 5}));
  BOOST_TEST(page->last_seq == 5u);
  // Catch-up: following last_seq visits every event exactly once.
  std::vector<uint64_t> followed;
  uint64_t after = 0;
  for (int i = 0; i < 100; ++i) {
    auto next = env.ledger->Events(env.op, after, 4);
    BOOST_REQUIRE(next.ok());
    if (next->events.empty()) break;
    for (uint64_t seq : Seqs(ParseApiEvents(next->events))) followed.push_back(seq);
    after = next->last_seq;
  }
  BOOST_TEST(followed.size() == log.size());
  BOOST_TEST(followed.back() == log.size());

  auto tail = env.ledger->Events(env.op, log.size(), 10);
  BOOST_REQUIRE(tail.ok());
  BOOST_TEST(tail->events.empty());
  BOOST_TEST(tail->last_seq == log.size());
  auto none = env.ledger->Events(env.op, 0, 0);
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(none->events.empty());
}

// Regression: Events(after = UINT64_MAX) scanned from seq after + 1, which wrapped to 0, and sent
// the whole log from seq 1 again (with next_after going backwards) instead of nothing.
BOOST_AUTO_TEST_CASE(regression_events_after_the_last_possible_seq_is_empty) {
  LedgerEnv env;
  env.MustSetUpWorkspace("acme");
  auto page = env.ledger->Events(env.op, UINT64_MAX, 10);
  BOOST_REQUIRE(page.ok());
  BOOST_TEST(page->events.empty());
  BOOST_TEST(page->last_seq == UINT64_MAX);
}

BOOST_AUTO_TEST_CASE(usage_reports_totals_rejections_and_buckets) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k", Preset::kReadOnly));
  const std::string& id = key.key.id;
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE((env.VerifyCodeOf(key.token, "invoices:read") == VerifyCode::kValid));
  BOOST_REQUIRE((env.VerifyCodeOf(key.token, "invoices:write") == VerifyCode::kForbidden));
  env.clock.Set(kStartMs + kHourMs + 59 * 60 * kSecondMs);
  for (int i = 0; i < 2; ++i) BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  env.clock.Set(kStartMs + kDayMs + 5);
  BOOST_REQUIRE((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_REQUIRE((env.VerifyCodeOf(key.token, "invoices:write") == VerifyCode::kForbidden));

  auto hourly = env.ledger->Usage(acme.auditor, "acme", id, UsageQuery{});
  BOOST_REQUIRE(hourly.ok());
  BOOST_TEST(hourly->total == 8u);
  BOOST_TEST(hourly->rejected == 2u);
  BOOST_TEST(hourly->last_used_at == kStartMs + kDayMs + 5);
  BOOST_REQUIRE(hourly->buckets.size() == 3u);
  BOOST_TEST(hourly->buckets[0].hour_start == kStartMs);
  BOOST_TEST(hourly->buckets[0].count == 4u);
  BOOST_TEST(hourly->buckets[0].rejected == 1u);
  BOOST_TEST(hourly->buckets[1].hour_start == kStartMs + kHourMs);
  BOOST_TEST(hourly->buckets[1].count == 2u);
  BOOST_TEST(hourly->buckets[1].rejected == 0u);
  BOOST_TEST(hourly->buckets[2].hour_start == kStartMs + kDayMs);
  BOOST_TEST(hourly->buckets[2].count == 2u);
  BOOST_TEST(hourly->buckets[2].rejected == 1u);

  UsageQuery daily_q;
  daily_q.daily = true;
  auto daily = env.ledger->Usage(acme.admin, "acme", id, daily_q);
  BOOST_REQUIRE(daily.ok());
  const TimeMs midnight = kStartMs - 10 * kHourMs;  // kStartMs is 10:00 UTC
  BOOST_REQUIRE(daily->buckets.size() == 2u);
  BOOST_TEST(daily->buckets[0].hour_start == midnight);
  BOOST_TEST(daily->buckets[0].count == 6u);
  BOOST_TEST(daily->buckets[0].rejected == 1u);
  BOOST_TEST(daily->buckets[1].hour_start == midnight + kDayMs);
  BOOST_TEST(daily->buckets[1].count == 2u);
  BOOST_TEST(daily->total == 8u);

  UsageQuery from_q;
  from_q.from = kStartMs + kHourMs;
  auto from = env.ledger->Usage(acme.admin, "acme", id, from_q);
  BOOST_REQUIRE(from.ok());
  BOOST_TEST(from->buckets.size() == 2u);
  BOOST_TEST(from->total == 4u);
  BOOST_TEST(from->rejected == 1u);
  UsageQuery to_q;
  to_q.to = kStartMs + kHourMs;
  auto to = env.ledger->Usage(acme.admin, "acme", id, to_q);
  BOOST_REQUIRE(to.ok());
  BOOST_TEST(to->buckets.size() == 1u);
  BOOST_TEST(to->total == 4u);

  const KeyState view = env.MustGetKey(acme.admin, "acme", id);
  BOOST_TEST(view.usage_count == 6u);
  BOOST_TEST(view.rejected_count == 2u);
  CHECK_CODE(env.ledger->Usage(acme.admin, "acme", "key_doesnotexist0000000", UsageQuery{}), StatusCode::kNotFound);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
