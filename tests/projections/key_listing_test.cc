// Listing a workspace's keys from an I/O thread (Ledger::ListKeys with a callback): a page that a
// bounded read completes is answered at once; one that needs more of the workspace, or more keys
// built than a chunk allows, is finished on the read thread, and gives exactly the page the
// synchronous listing gives.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "projections/ledger.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::LedgerEnv;
using testing::ParkReadThread;

constexpr auto kPatience = std::chrono::seconds(10);  // a bound on waits that must not hang

std::vector<std::string> IdsOf(const KeyPage& page) {
  std::vector<std::string> ids;
  for (const KeyState& key : page.keys) ids.push_back(key.id);
  return ids;
}

// ListKeys with a callback, while the read thread is parked: the answer if it came at once, else
// the answer once the read thread is released (and `handed_over` is set).
struct Listing {
  Result<KeyPage> page = Status::Internal("no answer");
  bool handed_over = false;
};

Listing ListWhileParked(LedgerEnv& env, const Principal& p, const std::string& ws, KeyFilter filter,
                        size_t limit, const std::string& cursor = "",
                        std::optional<TimeMs> as_of = std::nullopt) {
  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  std::promise<Result<KeyPage>> answer;
  auto future = answer.get_future();
  env.ledger->ListKeys(p, ws, filter, limit, cursor, as_of,
                       [&answer](Result<KeyPage> r) { answer.set_value(std::move(r)); });
  Listing listing;
  listing.handed_over = future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout;
  release.set_value();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  listing.page = future.get();
  return listing;
}

BOOST_AUTO_TEST_SUITE(KeyListingTest)

BOOST_AUTO_TEST_CASE(pages_of_a_small_workspace_are_answered_at_once) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const std::vector<std::string> ids = env.MustCreateKeys(acme.admin, "acme", 120);
  std::vector<std::string> listed;
  std::string cursor;
  int pages = 0;
  do {
    Listing listing = ListWhileParked(env, acme.admin, "acme", KeyFilter::kActive, 50, cursor);
    BOOST_TEST_REQUIRE(listing.page.ok(), listing.page.status().message());
    BOOST_TEST(!listing.handed_over);
    for (const std::string& id : IdsOf(*listing.page)) listed.push_back(id);
    cursor = listing.page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  BOOST_TEST(pages == 3);
  auto expected = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 1000, "");
  BOOST_TEST_REQUIRE(expected.ok());
  BOOST_TEST(listed.size() == ids.size());
  BOOST_TEST((listed == IdsOf(*expected)));
}

BOOST_AUTO_TEST_CASE(a_rare_status_in_a_large_workspace_is_listed_on_the_read_thread) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  // More keys than one bounded read covers; the first and the last revoked.
  const std::vector<std::string> ids =
      env.MustCreateKeys(acme.admin, "acme", Ledger::kListKeysChunkReads + 50);
  BOOST_TEST_REQUIRE(env.Revoke(acme.admin, "acme", ids.front()).ok());
  BOOST_TEST_REQUIRE(env.Revoke(acme.admin, "acme", ids.back()).ok());

  Listing listing = ListWhileParked(env, acme.admin, "acme", KeyFilter::kRevoked, 50);
  BOOST_TEST(listing.handed_over);
  BOOST_TEST_REQUIRE(listing.page.ok(), listing.page.status().message());
  BOOST_TEST((IdsOf(*listing.page) == std::vector<std::string>{ids.front(), ids.back()}));
  BOOST_TEST(listing.page->next_cursor.empty());
  for (const KeyState& key : listing.page->keys) BOOST_TEST((key.status == KeyStatus::kRevoked));

  // A page of one: the second revoked key is past the first bounded read, so the cursor to it
  // comes from the read thread, and is the synchronous listing's.
  Listing first = ListWhileParked(env, acme.admin, "acme", KeyFilter::kRevoked, 1);
  auto expected = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kRevoked, 1, "");
  BOOST_TEST_REQUIRE(first.page.ok());
  BOOST_TEST_REQUIRE(expected.ok());
  BOOST_TEST(first.handed_over);
  BOOST_TEST((IdsOf(*first.page) == std::vector<std::string>{ids.front()}));
  BOOST_TEST(!first.page->next_cursor.empty());
  BOOST_TEST(first.page->next_cursor == expected->next_cursor);
  Listing second = ListWhileParked(env, acme.admin, "acme", KeyFilter::kRevoked, 1, first.page->next_cursor);
  BOOST_TEST_REQUIRE(second.page.ok());
  BOOST_TEST(!second.handed_over);  // the cursor points at it: found at once
  BOOST_TEST((IdsOf(*second.page) == std::vector<std::string>{ids.back()}));
  BOOST_TEST(second.page->next_cursor.empty());
}

BOOST_AUTO_TEST_CASE(a_page_of_more_keys_than_a_chunk_builds_is_built_across_chunks) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const size_t limit = Ledger::kListKeysChunkViews * 2 + 30;
  env.MustCreateKeys(acme.admin, "acme", limit + 20);
  auto expected = env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kAll, limit, "");
  BOOST_TEST_REQUIRE(expected.ok());
  BOOST_TEST_REQUIRE(expected->keys.size() == limit);

  Listing listing = ListWhileParked(env, acme.admin, "acme", KeyFilter::kAll, limit);
  BOOST_TEST(listing.handed_over);
  BOOST_TEST_REQUIRE(listing.page.ok(), listing.page.status().message());
  BOOST_TEST((IdsOf(*listing.page) == IdsOf(*expected)));
  BOOST_TEST(listing.page->next_cursor == expected->next_cursor);
  // Keys are built as a page of the synchronous listing builds them.
  BOOST_TEST(listing.page->keys.back().name == expected->keys.back().name);
  BOOST_TEST(listing.page->keys.back().prefix == expected->keys.back().prefix);

  Listing rest = ListWhileParked(env, acme.admin, "acme", KeyFilter::kAll, limit, listing.page->next_cursor);
  BOOST_TEST_REQUIRE(rest.page.ok());
  BOOST_TEST(!rest.handed_over);
  BOOST_TEST(rest.page->keys.size() == 20u);
  BOOST_TEST(rest.page->next_cursor.empty());
}

BOOST_AUTO_TEST_CASE(a_listing_handed_over_behind_a_review_does_not_wait_for_all_of_it) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const std::vector<std::string> ids =
      env.MustCreateKeys(acme.admin, "acme", Ledger::kListKeysChunkReads + 50);
  BOOST_TEST_REQUIRE(env.Revoke(acme.admin, "acme", ids.back()).ok());
  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  std::mutex mutex;
  std::vector<std::string> answered;
  std::promise<void> both;
  auto answer = [&](std::string what, bool ok) {
    std::lock_guard lock(mutex);
    answered.push_back(what + (ok ? "" : " failed"));
    if (answered.size() == 2) both.set_value();
  };
  // The review takes a step per kReviewChunkKeys keys (65 here); the listing one step.
  env.ledger->Review(acme.admin, "acme", [&](Result<WorkspaceReview> r) { answer("review", r.ok()); });
  env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kRevoked, 50, "", std::nullopt,
                       [&](Result<KeyPage> r) { answer("listing", r.ok() && r->keys.size() == 1); });
  release.set_value();
  BOOST_TEST_REQUIRE((both.get_future().wait_for(kPatience) == std::future_status::ready));
  std::lock_guard lock(mutex);
  BOOST_TEST((answered == std::vector<std::string>{"listing", "review"}));
}

BOOST_AUTO_TEST_CASE(refusals_and_bad_input_are_answered_at_once) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  env.MustSetUpWorkspace("globex");
  struct Case {
    const char* what;
    const Principal* who;
    std::string ws;
    size_t limit;
    std::string cursor;
    std::optional<TimeMs> as_of;
    StatusCode code;
  };
  const TimeMs now = env.clock.Now();
  const std::vector<Case> cases = {
      {"another workspace's admin", &acme.admin, "globex", 50, "", {}, StatusCode::kForbidden},
      {"the operator reads no keys", &env.op, "acme", 50, "", {}, StatusCode::kForbidden},
      {"limit 0", &acme.admin, "acme", 0, "", {}, StatusCode::kInvalidArgument},
      {"a cursor this service never issued", &acme.admin, "acme", 50, "x1", {}, StatusCode::kInvalidArgument},
      {"another workspace's admin, in the past", &acme.admin, "globex", 50, "", now - 1, StatusCode::kForbidden},
      {"the future", &acme.admin, "acme", 50, "", now + 1, StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      Listing listing = ListWhileParked(env, *c.who, c.ws, KeyFilter::kActive, c.limit, c.cursor, c.as_of);
      BOOST_TEST(!listing.handed_over);
      BOOST_TEST_REQUIRE(!listing.page.ok());
      BOOST_TEST((listing.page.status().code() == c.code), listing.page.status().message());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
