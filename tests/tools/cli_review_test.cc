// `keyledger review`: the report names the rule a key was made to trigger (the rules themselves are
// tested in tests/projections/review_test.cc); findings are the report, not a failure.

#include <boost/test/unit_test.hpp>

#include "tests/tools/cli_fixture.h"

namespace keyledger::cli_testing {
namespace {

bool HasFinding(const boost::json::object& doc, const std::string& key_id, const std::string& rule) {
  for (const auto& f : doc.at("findings").as_array()) {
    if (Str(f.at("key_id")) == key_id && Str(f.at("rule")) == rule) return !Str(f.at("detail")).empty();
  }
  return false;
}

BOOST_AUTO_TEST_SUITE(cli_review)

BOOST_AUTO_TEST_CASE(json_names_the_rules_a_vague_ownerless_key_triggers) {
  HistoryCopy copy;
  const History& h = copy.history();
  const TimeMs as_of = kT0 + 11 * kHourMs;
  RunResult r = RunCli({"review", "--data", copy.data_dir(), "--workspace", h.ws, "--format", "json",
                        "--as-of", At(as_of)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r);
  const auto doc = ParseJson(r.out).as_object();
  BOOST_TEST(Str(doc.at("workspace")) == h.ws);
  BOOST_TEST(Str(doc.at("as_of")) == At(as_of));
  BOOST_TEST(!Str(doc.at("generated_at")).empty());
  BOOST_TEST(HasFinding(doc, h.k3, "vague_name"), r);
  BOOST_TEST(HasFinding(doc, h.k3, "no_owner"), r);
  BOOST_TEST(HasFinding(doc, h.k3, "full_access"), r);
  BOOST_TEST(HasFinding(doc, h.k2, "revoked_key_still_presented"), r);
  BOOST_TEST(!HasFinding(doc, h.k1b, "no_owner"), "the rotated key inherited its owner: " << r);
}

BOOST_AUTO_TEST_CASE(table_for_people_and_exit_0_with_findings) {
  HistoryCopy copy;
  const History& h = copy.history();
  RunResult r = RunCli({"review", "--data", copy.data_dir(), "--workspace", h.ws, "--as-of", At(kT0 + 11 * kHourMs)});
  BOOST_TEST(r.exit_code == 0, r);
  BOOST_TEST(Contains(r.out, "KEY"), r);
  BOOST_TEST(Contains(r.out, "vague_name"), r);
  BOOST_TEST(Contains(r.out, " findings\n"), r);
}

BOOST_AUTO_TEST_CASE(a_workspace_that_did_not_exist_fails) {
  HistoryCopy copy;
  RunResult r = RunCli({"review", "--data", copy.data_dir(), "--workspace", "globex"});
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(Contains(r.err, "globex"), r);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
