// `keyledger audit`: a key's full history (rejected uses of the revoked key included) in JSON lines
// and CSV, the workspace timeline's default types, and the --type, --actor, --from/--to filters.

#include <boost/test/unit_test.hpp>

#include "tests/tools/cli_fixture.h"

namespace keyledger::cli_testing {
namespace {

using Record = std::vector<std::string>;

// An RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks; records end
// with CRLF (a bare LF is accepted too).
std::vector<Record> ParseCsv(const std::string& text) {
  std::vector<Record> records;
  Record record;
  std::string field;
  bool quoted = false, in_quotes = false, field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = quoted = field_started = true;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      quoted = field_started = false;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      quoted = field_started = false;
    } else {
      BOOST_REQUIRE_MESSAGE(!quoted, "text after a closing quote");
      field.push_back(c);
      field_started = true;
    }
  }
  BOOST_REQUIRE_MESSAGE(!in_quotes, "unterminated quoted field");
  if (field_started || !record.empty()) {
    record.push_back(field);
    records.push_back(record);
  }
  return records;
}

RunResult Audit(const HistoryCopy& copy, std::vector<std::string> extra) {
  std::vector<std::string> args = {"audit", "--data", copy.data_dir(), "--workspace", copy.history().ws};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

std::vector<boost::json::value> AuditJsonl(const HistoryCopy& copy, std::vector<std::string> extra) {
  RunResult r = Audit(copy, std::move(extra));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r);
  return ParseJsonLines(r.out);
}

std::vector<std::string> Types(const std::vector<boost::json::value>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(Str(e.at("type")));
  return types;
}

BOOST_AUTO_TEST_SUITE(cli_audit)

BOOST_AUTO_TEST_CASE(a_revoked_keys_history_includes_its_rejected_uses) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto events = AuditJsonl(copy, {"--key", h.k2});
  const std::vector<std::string> expected = {"key.created", "key.revoked", "key.used", "key.used"};
  BOOST_TEST(Types(events) == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(events.size() == 4u);
  for (size_t i = 2; i < 4; ++i) {
    BOOST_TEST(Str(events[i].at("data").at("outcome")) == "revoked");
    BOOST_TEST(Str(events[i].at("data").at("source_ip")) == "203.0.113.7");
  }
  BOOST_TEST(Str(events[0].at("actor")) == h.weird_actor);
  BOOST_TEST(Str(events[1].at("data").at("reason")) == "exposed in chat");
  for (const auto& e : events) {
    BOOST_TEST(Str(e.at("hash")).size() == 64u);
    BOOST_TEST(Str(e.at("key_id")) == h.k2);
  }
}

BOOST_AUTO_TEST_CASE(csv_parses_back_with_quotes_commas_and_newlines) {
  HistoryCopy copy;
  const History& h = copy.history();
  RunResult r = Audit(copy, {"--key", h.k2, "--format", "csv"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r);
  BOOST_TEST(r.out.rfind("seq,ts,type,workspace,key_id,actor,outcome,ability,source_ip,data\r\n", 0) == 0u, r);
  auto records = ParseCsv(r.out);
  BOOST_REQUIRE_EQUAL(records.size(), 5u);
  for (const Record& record : records) BOOST_REQUIRE_EQUAL(record.size(), 10u);

  const Record& created = records[1];
  BOOST_TEST(created[0] == std::to_string(h.k2_created_seq));
  BOOST_TEST(created[1] == At(kT0 + kHourMs + kSecondMs));
  BOOST_TEST(created[2] == "key.created");
  BOOST_TEST(created[3] == h.ws);
  BOOST_TEST(created[4] == h.k2);
  // The actor's quote, comma and newline survive; its leading '=' is escaped with a quote mark,
  // so that a spreadsheet opening the export shows it instead of evaluating it (OWASP's advice).
  BOOST_TEST(created[5] == "'" + h.weird_actor);
  BOOST_TEST(created[6].empty());
  const auto data = ParseJson(created[9]);
  BOOST_TEST(Str(data.at("name")) == h.k2_name);

  const Record& used = records[3];
  BOOST_TEST(used[2] == "key.used");
  BOOST_TEST(used[5].empty(), "uses have no actor");
  BOOST_TEST(used[6] == "revoked");
  BOOST_TEST(used[7] == "invoices:read");
  BOOST_TEST(used[8] == "203.0.113.7");
  BOOST_TEST(Str(ParseJson(used[9]).at("outcome")) == "revoked");
}

BOOST_AUTO_TEST_CASE(the_workspace_timeline_leaves_out_uses_unless_asked) {
  HistoryCopy copy;
  auto timeline = AuditJsonl(copy, {});
  BOOST_TEST(!timeline.empty());
  for (const auto& type : Types(timeline)) BOOST_TEST(type != "key.used");
  auto uses = AuditJsonl(copy, {"--type", "key.used"});
  BOOST_TEST(uses.size() == 11u);
  for (const auto& type : Types(uses)) BOOST_TEST(type == "key.used");
}

BOOST_AUTO_TEST_CASE(type_filter_repeats) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto revoked = AuditJsonl(copy, {"--type", "key.revoked"});
  BOOST_REQUIRE_EQUAL(revoked.size(), 1u);
  BOOST_TEST(Str(revoked[0].at("key_id")) == h.k2);
  auto two = AuditJsonl(copy, {"--type", "key.revoked", "--type", "key.rotated"});
  const std::vector<std::string> expected = {"key.rotated", "key.revoked"};
  BOOST_TEST(Types(two) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(actor_filter) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto by_alice = AuditJsonl(copy, {"--actor", "alice"});
  BOOST_TEST(!by_alice.empty());
  bool revoked = false;
  for (const auto& e : by_alice) {
    BOOST_TEST(Str(e.at("actor")) == "alice");
    BOOST_TEST(!(Str(e.at("type")) == "key.created" && Str(e.at("key_id")) == h.k2));
    revoked = revoked || Str(e.at("type")) == "key.revoked";
  }
  BOOST_TEST(revoked);
  auto by_jane = AuditJsonl(copy, {"--actor", h.weird_actor});
  BOOST_REQUIRE_EQUAL(by_jane.size(), 1u);
  BOOST_TEST(Str(by_jane[0].at("key_id")) == h.k2);
}

BOOST_AUTO_TEST_CASE(from_and_to_are_inclusive) {
  HistoryCopy copy;
  const History& h = copy.history();
  auto window = AuditJsonl(copy, {"--key", h.k1, "--from", At(kT0 + 4 * kHourMs), "--to",
                                  At(kT0 + 5 * kHourMs)});
  // The three uses at T0+4h..+2s and the rotation at T0+5h.
  const std::vector<std::string> expected = {"key.used", "key.used", "key.used", "key.rotated"};
  BOOST_TEST(Types(window) == expected, boost::test_tools::per_element());
  for (const auto& e : window) {
    BOOST_TEST(Str(e.at("ts")) >= At(kT0 + 4 * kHourMs));
    BOOST_TEST(Str(e.at("ts")) <= At(kT0 + 5 * kHourMs));
  }
}

BOOST_AUTO_TEST_CASE(a_range_that_ends_before_it_starts_is_bad_usage) {
  HistoryCopy copy;
  RunResult r = Audit(copy, {"--from", At(kT0 + 5 * kHourMs), "--to", At(kT0 + 4 * kHourMs)});
  BOOST_TEST(r.exit_code == 2, r);
  BOOST_TEST(Contains(r.err, "--from must not be later than --to"), r);
  BOOST_TEST(r.out.empty(), r);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_or_workspace_is_not_an_empty_history) {
  HistoryCopy copy;
  RunResult unknown_key = Audit(copy, {"--key", "key_doesnotexist"});
  BOOST_TEST(unknown_key.exit_code == 1, unknown_key);
  BOOST_TEST(Contains(unknown_key.err, "has no key key_doesnotexist"), unknown_key);
  RunResult unknown_ws = RunCli({"audit", "--data", copy.data_dir(), "--workspace", "globex"});
  BOOST_TEST(unknown_ws.exit_code == 1, unknown_ws);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
