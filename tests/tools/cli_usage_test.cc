// Bad usage of the offline subcommands is exit 2 with a message, never a partial result.

#include <boost/test/unit_test.hpp>

#include "tests/tools/cli_fixture.h"

namespace keyledger::cli_testing {
namespace {

void ExpectUsageError(const std::vector<std::string>& args, std::string_view message) {
  RunResult r = RunCli(args);
  BOOST_TEST(r.exit_code == 2, r);
  BOOST_TEST(r.out.empty(), r);
  BOOST_TEST(Contains(r.err, message), r);
}

BOOST_AUTO_TEST_SUITE(cli_usage)

BOOST_AUTO_TEST_CASE(unknown_flags_and_missing_data_are_exit_2) {
  HistoryCopy copy;
  const std::string data = copy.data_dir();
  ExpectUsageError({"verify-log", "--data", data, "--bogus"}, "--bogus");
  ExpectUsageError({"verify-log"}, "--data is required");
  ExpectUsageError({"replay"}, "--data is required");
  ExpectUsageError({"audit", "--data", data}, "--workspace is required");
  ExpectUsageError({"review", "--workspace", "acme"}, "--data is required");
  ExpectUsageError({"backup", "--data", data}, "--to is required");
  ExpectUsageError({"verify-log", "--data", copy.Path("absent")}, "does not exist");
  ExpectUsageError({"replay", "--data", copy.root()}, "holds no keyledger database");
  ExpectUsageError({"no-such-command"}, "unknown subcommand \"no-such-command\" (one of serve, verify-log");
  ExpectUsageError({}, "A subcommand is required");
}

BOOST_AUTO_TEST_CASE(a_bad_time_is_exit_2_with_a_clear_message) {
  HistoryCopy copy;
  const std::string data = copy.data_dir();
  ExpectUsageError({"replay", "--data", data, "--as-of", "yesterday"}, "'yesterday' is not an RFC 3339 time");
  ExpectUsageError({"replay", "--data", data, "--as-of", "2026-13-01T00:00:00Z"}, "--as-of");
  ExpectUsageError({"audit", "--data", data, "--workspace", "acme", "--from", "2026-03-02"}, "--from");
  ExpectUsageError({"audit", "--data", data, "--workspace", "acme", "--to", "soon"}, "--to");
  ExpectUsageError({"review", "--data", data, "--workspace", "acme", "--as-of", "x"}, "--as-of");
  // The future is not in the log; the service's ?as_of= refuses it too.
  ExpectUsageError({"replay", "--data", data, "--as-of", "2999-01-01T00:00:00.000Z"}, "is in the future");
  ExpectUsageError({"review", "--data", data, "--workspace", "acme", "--as-of", "2999-01-01T00:00:00Z"},
                   "is in the future");
}

BOOST_AUTO_TEST_CASE(bad_choices_are_exit_2) {
  HistoryCopy copy;
  const std::string data = copy.data_dir();
  ExpectUsageError({"replay", "--data", data, "--format", "xml"}, "--format");
  ExpectUsageError({"audit", "--data", data, "--workspace", "acme", "--format", "json"}, "--format");
  ExpectUsageError({"audit", "--data", data, "--workspace", "acme", "--type", "key.deleted"}, "--type");
  for (const char* command : {"audit", "review", "replay"}) {
    ExpectUsageError({command, "--data", data, "--workspace", ""}, "'' is not a workspace id");
    ExpectUsageError({command, "--data", data, "--workspace", "Acme Inc"}, "'Acme Inc' is not a workspace id");
  }
  ExpectUsageError({"serve", "--data", copy.Path("serve"), "--background-priority", "high"},
                   "--background-priority");
}

BOOST_AUTO_TEST_CASE(help_is_exit_0) {
  for (const char* command : {"verify-log", "replay", "audit", "review", "backup"}) {
    RunResult r = RunCli({command, "--help"});
    BOOST_TEST(r.exit_code == 0, r);
    BOOST_TEST(Contains(r.out, "--data"), r);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
