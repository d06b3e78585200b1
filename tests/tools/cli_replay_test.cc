// `keyledger replay`: key state at instants of a hand-built timeline (ManualClock), as the keys
// were then, and the projection digest checked against the signed checkpoints.

#include <boost/test/unit_test.hpp>

#include "tests/tools/cli_fixture.h"

namespace keyledger::cli_testing {
namespace {

// Runs replay --format json (optionally --as-of) and returns the parsed document.
boost::json::object ReplayJson(const HistoryCopy& copy, std::optional<TimeMs> as_of, int expected_exit = 0) {
  std::vector<std::string> args = {"replay", "--data", copy.data_dir(), "--workspace", copy.history().ws,
                                   "--format", "json"};
  if (as_of) {
    args.push_back("--as-of");
    args.push_back(At(*as_of));
  }
  RunResult r = RunCli(args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == expected_exit, r);
  return ParseJson(r.out).as_object();
}

// The <Key> with `id` in a replay document, or nullptr.
const boost::json::object* FindKey(const boost::json::object& doc, const std::string& id) {
  for (const auto& key : doc.at("keys").as_array()) {
    if (Str(key.at("id")) == id) return &key.as_object();
  }
  return nullptr;
}

BOOST_AUTO_TEST_SUITE(cli_replay)

BOOST_AUTO_TEST_CASE(before_creation_the_key_is_absent) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto doc = ReplayJson(copy, kT0 + 30 * kMinuteMs);
  BOOST_TEST(Str(doc.at("as_of")) == At(kT0 + 30 * kMinuteMs));
  BOOST_TEST(FindKey(doc, h.k1) == nullptr);
  BOOST_TEST(doc.at("keys").as_array().empty(), "admin keys are not API keys: " << doc);
  BOOST_TEST(doc.at("checkpoint").is_null());
}

BOOST_AUTO_TEST_CASE(usage_is_as_it_was_at_the_instant) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto at_3h = ReplayJson(copy, kT0 + 3 * kHourMs);
  const auto* k1 = FindKey(at_3h, h.k1);
  BOOST_REQUIRE(k1);
  BOOST_TEST(Str(k1->at("status")) == "active");
  BOOST_TEST(k1->at("usage_count").to_number<uint64_t>() == 2u);
  BOOST_TEST(Str(k1->at("last_used_at")) == At(kT0 + 2 * kHourMs + kSecondMs));
  BOOST_TEST(Str(k1->at("preset")) == "read_only");
  BOOST_TEST(at_3h.at("seq").to_number<uint64_t>() == h.mid_seq);
  BOOST_TEST(at_3h.at("checkpoint").at("seq").to_number<uint64_t>() == h.mid_seq);
  BOOST_TEST(at_3h.at("checkpoint").at("projection_digest_matches").as_bool());

  auto at_4h = ReplayJson(copy, kT0 + 4 * kHourMs + 10 * kSecondMs);
  BOOST_TEST(FindKey(at_4h, h.k1)->at("usage_count").to_number<uint64_t>() == 5u);
  BOOST_TEST(Str(FindKey(at_4h, h.k1)->at("last_used_at")) == At(kT0 + 4 * kHourMs + 2 * kSecondMs));
}

BOOST_AUTO_TEST_CASE(between_rotation_and_grace_end_both_keys_are_active) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto doc = ReplayJson(copy, kT0 + 5 * kHourMs + 45 * kMinuteMs);
  const auto* old_key = FindKey(doc, h.k1);
  const auto* new_key = FindKey(doc, h.k1b);
  BOOST_REQUIRE(old_key && new_key);
  BOOST_TEST(Str(old_key->at("status")) == "active");
  BOOST_TEST(Str(old_key->at("grace_until")) == At(kT0 + 6 * kHourMs));
  BOOST_TEST(Str(old_key->at("rotated_to")) == h.k1b);
  BOOST_TEST(old_key->at("usage_count").to_number<uint64_t>() == 6u);
  BOOST_TEST(Str(new_key->at("status")) == "active");
  BOOST_TEST(Str(new_key->at("rotated_from")) == h.k1);
  BOOST_TEST(new_key->at("usage_count").to_number<uint64_t>() == 1u);

  // After the grace period the old key is expired, though no key.expired was recorded yet.
  auto later = ReplayJson(copy, kT0 + 6 * kHourMs + 30 * kMinuteMs);
  BOOST_TEST(Str(FindKey(later, h.k1)->at("status")) == "expired");
  BOOST_TEST(Str(FindKey(later, h.k1b)->at("status")) == "active");
}

BOOST_AUTO_TEST_CASE(after_revocation_the_key_is_revoked) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto before = ReplayJson(copy, kT0 + 8 * kHourMs - 1);
  BOOST_TEST(Str(FindKey(before, h.k2)->at("status")) == "active");
  auto after = ReplayJson(copy, kT0 + 8 * kHourMs + 30 * kMinuteMs);
  const auto* k2 = FindKey(after, h.k2);
  BOOST_TEST(Str(k2->at("status")) == "revoked");
  BOOST_TEST(Str(k2->at("revoked_at")) == At(kT0 + 8 * kHourMs));
  BOOST_TEST(k2->at("rejected_count").to_number<uint64_t>() == 0u);

  auto whole = ReplayJson(copy, std::nullopt);
  BOOST_TEST(whole.at("seq").to_number<uint64_t>() == h.head_seq);
  BOOST_TEST(FindKey(whole, h.k2)->at("rejected_count").to_number<uint64_t>() == 2u);
  BOOST_TEST(Str(FindKey(whole, h.k2)->at("name")) == h.k2_name);
}

BOOST_AUTO_TEST_CASE(table_output_and_digest_match_on_an_intact_log) {
  HistoryCopy copy;
  const History& h = copy.history();
  RunResult r = RunCli({"replay", "--data", copy.data_dir()});
  BOOST_TEST(r.exit_code == 0, r);
  BOOST_TEST(Contains(r.out, "projection digest matches the signed checkpoint at seq " + std::to_string(h.head_seq)), r);
  BOOST_TEST(Contains(r.out, "WORKSPACE  ID"), r);
  BOOST_TEST(Contains(r.out, "4 API keys"), r);
  BOOST_TEST(Contains(r.out, h.k2_name), r);
  BOOST_TEST(r.err.empty(), r);
}

BOOST_AUTO_TEST_CASE(an_altered_projection_digest_is_a_mismatch) {
  HistoryCopy copy;
  const History& h = copy.history();
  {
    auto store = OpenStore(copy.data_dir());
    // Re-signed with the right key: only the digest is wrong.
    PutSignedCheckpoint(*store, *h.signing_key, h.head_seq, Sha256("not the projection"));
  }
  RunResult r = RunCli({"replay", "--data", copy.data_dir()});
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(Contains(r.out, "projection digest does NOT match the signed checkpoint at seq " +
                                 std::to_string(h.head_seq)),
             r);
  BOOST_TEST(Contains(r.out, ToHex(Sha256("not the projection"))), r);
  RunResult json = RunCli({"replay", "--data", copy.data_dir(), "--format", "json"});
  BOOST_TEST(json.exit_code == 1, json);
  BOOST_TEST(!ParseJson(json.out).at("checkpoint").at("projection_digest_matches").as_bool());
  BOOST_TEST(Contains(json.err, "does NOT match"), json);
  // The chain itself is intact: only replay can tell.
  BOOST_TEST(RunCli({"verify-log", "--data", copy.data_dir(), "--public-key", copy.public_key_file()}).exit_code == 0);
  // At an instant before that checkpoint the older one is checked, and it matches.
  BOOST_TEST(ReplayJson(copy, kT0 + 3 * kHourMs).at("checkpoint").at("projection_digest_matches").as_bool());
}

BOOST_AUTO_TEST_CASE(a_cut_off_tail_fails_replay_too) {
  HistoryCopy copy;
  const History& h = copy.history();
  {
    RawDb db(copy.data_dir());
    db.Delete(db.events(), EncodeSeq(h.head_seq));
  }
  RunResult r = RunCli({"replay", "--data", copy.data_dir(), "--format", "json"});
  BOOST_TEST(r.exit_code == 1, r);
  const auto doc = ParseJson(r.out);
  BOOST_TEST(doc.at("seq").to_number<uint64_t>() == h.head_seq - 1);
  BOOST_REQUIRE_EQUAL(doc.at("problems").as_array().size(), 1u);
  BOOST_TEST(Contains(Str(doc.at("problems").as_array()[0]), "events were removed"), r);
}

BOOST_AUTO_TEST_CASE(an_unknown_workspace_fails) {
  HistoryCopy copy;
  RunResult r = RunCli({"replay", "--data", copy.data_dir(), "--workspace", "nope"});
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(Contains(r.err, "workspace nope did not exist"), r);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
