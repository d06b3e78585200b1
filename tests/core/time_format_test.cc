#include <boost/test/unit_test.hpp>

#include "core/time_format.h"

#include <cstdint>
#include <random>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace keyledger {
namespace {

// Expected instants computed with `date -u -d <time> +%s` (times 1000).
constexpr TimeMs k20261123T10 = 1795428000LL * 1000;  // 2026-11-23T10:00:00Z
constexpr TimeMs k20240229T123456 = 1709210096LL * 1000;  // 2024-02-29T12:34:56Z
constexpr TimeMs k20240301 = 1709251200LL * 1000;  // 2024-03-01T00:00:00Z
constexpr TimeMs k20000229 = 951782400LL * 1000;  // 2000-02-29T00:00:00Z
constexpr TimeMs k2038 = 2147483648LL * 1000;  // 2038-01-19T03:14:08Z (past 32-bit seconds)
constexpr TimeMs k99991231T235959 = 253402300799LL * 1000;  // 9999-12-31T23:59:59Z

// The parsed instant, or -1 for nullopt (no valid input maps to a negative instant).
TimeMs Parse(std::string_view s) { return ParseRfc3339(s).value_or(-1); }

BOOST_AUTO_TEST_SUITE(TimeFormatTest)

BOOST_AUTO_TEST_CASE(format_epoch) {
  BOOST_TEST(FormatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(FormatRfc3339(1) == "1970-01-01T00:00:00.001Z");
  BOOST_TEST(FormatRfc3339(999) == "1970-01-01T00:00:00.999Z");
  BOOST_TEST(FormatRfc3339(kDayMs - 1) == "1970-01-01T23:59:59.999Z");
  BOOST_TEST(FormatRfc3339(kDayMs) == "1970-01-02T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(format_known_instants) {
  BOOST_TEST(FormatRfc3339(k20261123T10) == "2026-11-23T10:00:00.000Z");
  BOOST_TEST(FormatRfc3339(k20261123T10 + 42) == "2026-11-23T10:00:00.042Z");
  BOOST_TEST(FormatRfc3339(k2038) == "2038-01-19T03:14:08.000Z");
  BOOST_TEST(FormatRfc3339(k99991231T235959 + 999) == "9999-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(format_leap_days) {
  BOOST_TEST(FormatRfc3339(k20240229T123456 + 789) == "2024-02-29T12:34:56.789Z");
  BOOST_TEST(FormatRfc3339(k20240301 - 1) == "2024-02-29T23:59:59.999Z");
  BOOST_TEST(FormatRfc3339(k20240301) == "2024-03-01T00:00:00.000Z");
  BOOST_TEST(FormatRfc3339(k20000229) == "2000-02-29T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(parse_known_instants) {
  BOOST_TEST(Parse("1970-01-01T00:00:00.000Z") == 0);
  BOOST_TEST(Parse("1970-01-01T00:00:00Z") == 0);
  BOOST_TEST(Parse("2026-11-23T10:00:00.000Z") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T10:00:00Z") == k20261123T10);
  BOOST_TEST(Parse("2024-02-29T12:34:56.789Z") == k20240229T123456 + 789);
  BOOST_TEST(Parse("2024-03-01T00:00:00.000Z") == k20240301);
  BOOST_TEST(Parse("2000-02-29T00:00:00.000Z") == k20000229);
  BOOST_TEST(Parse("2038-01-19T03:14:08.000Z") == k2038);
  BOOST_TEST(Parse("9999-12-31T23:59:59.999Z") == k99991231T235959 + 999);
}

BOOST_AUTO_TEST_CASE(parse_accepts_rfc3339_case_and_separator_variants) {
  BOOST_TEST(Parse("2026-11-23t10:00:00.000z") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23 10:00:00.000Z") == k20261123T10);
}

BOOST_AUTO_TEST_CASE(round_trip_many_values) {
  // Spread over 1970..9999 with a linear congruential walk, plus each field boundary.
  const TimeMs max = k99991231T235959 + 999;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const TimeMs t = static_cast<TimeMs>((x >> 11) % static_cast<uint64_t>(max + 1));
    const std::string s = FormatRfc3339(t);
    BOOST_TEST(s.size() == 24u, s);
    BOOST_TEST(Parse(s) == t, s);
  }
  for (TimeMs t : {TimeMs{0}, TimeMs{1}, kDayMs - 1, kDayMs, k20240301 - 1, k20240301, k2038, max}) {
    BOOST_TEST(Parse(FormatRfc3339(t)) == t, t);
  }
}

BOOST_AUTO_TEST_CASE(parse_then_format_is_identity_for_canonical_text) {
  for (std::string_view s :
       {"1970-01-01T00:00:00.000Z", "1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00.000Z",
        "2024-02-29T00:00:00.000Z", "2026-11-23T10:00:00.000Z", "2100-03-01T12:00:00.500Z",
        "9999-12-31T23:59:59.999Z"}) {
    BOOST_TEST(FormatRfc3339(Parse(s)) == s);
  }
}

BOOST_AUTO_TEST_CASE(parse_offsets_to_utc) {
  BOOST_TEST(Parse("2026-11-23T12:00:00+02:00") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T04:30:00-05:30") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T10:00:00+00:00") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T10:00:00-00:00") == k20261123T10);
  // Crossing midnight either way.
  BOOST_TEST(Parse("2026-11-22T23:00:00-11:00") == k20261123T10);
  BOOST_TEST(Parse("2026-11-24T09:00:00+23:00") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T12:00:00.250+02:00") == k20261123T10 + 250);
  // An offset landing on the leap day.
  BOOST_TEST(Parse("2024-03-01T01:00:00+01:00") == k20240301);
}

BOOST_AUTO_TEST_CASE(parse_fractions) {
  BOOST_TEST(Parse("2026-11-23T10:00:00.5Z") == k20261123T10 + 500);
  BOOST_TEST(Parse("2026-11-23T10:00:00.05Z") == k20261123T10 + 50);
  BOOST_TEST(Parse("2026-11-23T10:00:00.1Z") == k20261123T10 + 100);
  BOOST_TEST(Parse("2026-11-23T10:00:00.0Z") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T10:00:00.123Z") == k20261123T10 + 123);
  BOOST_TEST(Parse("2026-11-23T10:00:00.123456Z") == k20261123T10 + 123);  // truncated
  BOOST_TEST(Parse("2026-11-23T10:00:00.999999999Z") == k20261123T10 + 999);
  BOOST_TEST(Parse("2026-11-23T10:00:00.0009Z") == k20261123T10);
  BOOST_TEST(Parse("2026-11-23T10:00:00.12345678901234567890123Z") == k20261123T10 + 123);
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed) {
  for (std::string_view bad : {
           "",
           "garbage",
           "2026-11-23",
           "2026-11-23T10:00:00",          // missing zone
           "2026-11-23T10:00:00.000",      // missing zone after fraction
           "2026-11-23T10:00:00.Z",        // empty fraction
           "2026-11-23T10:00:00,5Z",       // comma fraction
           "2026-11-23T10:00:00ZX",        // trailing characters
           "2026-11-23T10:00:00Z ",        // trailing space
           "2026-11-23T10:00:00.000Zjunk",
           "2026-11-23T10:00:00+02:00x",
           "2026-11-23T10:00:00+02",       // short offset
           "2026-11-23T10:00:00+0200",     // offset without colon
           "2026-11-23T10:00:00+24:00",    // offset hour out of range
           "2026-11-23T10:00:00+02:60",    // offset minute out of range
           "2026-11-23T10:00:00UTC",
           " 2026-11-23T10:00:00Z",
           "2026-11-23X10:00:00Z",
           "2026/11/23T10:00:00Z",
           "2026-11-23T10-00-00Z",
           "26-11-23T10:00:00Z",
           "2026-1-23T10:00:00Z",
           "2026-11-23T1:00:00Z",
           "+2026-11-23T10:00:00Z",
           "2026-11-23T10:00:0aZ",
       }) {
    BOOST_TEST(!ParseRfc3339(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(a_lower_bound_rounds_a_sub_millisecond_fraction_up) {
  const TimeMs at = Parse("2026-12-05T04:46:46.050Z");
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T04:46:46.0509Z").value_or(-1) == at + 1);
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T04:46:46.050000001Z").value_or(-1) == at + 1);
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T04:46:46.0500Z").value_or(-1) == at);
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T04:46:46.050Z").value_or(-1) == at);
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T06:46:46.0501+02:00").value_or(-1) == at + 1);
  BOOST_TEST(ParseRfc3339LowerBound("2026-12-05T04:46:46Z").value_or(-1) == Parse("2026-12-05T04:46:46Z"));
  BOOST_TEST(!ParseRfc3339LowerBound("2026-12-05T04:46:46.05x9Z").has_value());
  BOOST_TEST(Parse("2026-12-05T04:46:46.0509Z") == at, "an instant, not a bound, truncates");
}

BOOST_AUTO_TEST_CASE(parse_rejects_out_of_range_fields) {
  for (std::string_view bad : {
           "2026-02-30T00:00:00Z",  // February never has 30 days
           "2025-02-29T00:00:00Z",  // 2025 is not a leap year
           "2100-02-29T00:00:00Z",  // divisible by 100, not by 400
           "2026-11-31T00:00:00Z",  // November has 30 days
           "2026-04-31T00:00:00Z",
           "2026-01-32T00:00:00Z",
           "2026-00-10T00:00:00Z",
           "2026-13-01T00:00:00Z",
           "2026-11-00T00:00:00Z",
           "2026-11-23T24:00:00Z",  // hour 24
           "2026-11-23T10:60:00Z",
           "2026-11-23T10:00:61Z",
       }) {
    BOOST_TEST(!ParseRfc3339(bad).has_value(), bad);
  }
  // Boundaries that are fine.
  BOOST_TEST(ParseRfc3339("2026-01-31T23:59:59Z").has_value());
  BOOST_TEST(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  BOOST_TEST(ParseRfc3339("2026-12-31T00:00:00Z").has_value());
}

BOOST_AUTO_TEST_CASE(parse_rejects_before_1970) {
  BOOST_TEST(!ParseRfc3339("1969-12-31T23:59:59Z").has_value());
  BOOST_TEST(!ParseRfc3339("1969-12-31T23:59:59.999Z").has_value());
  BOOST_TEST(!ParseRfc3339("1900-01-01T00:00:00Z").has_value());
  BOOST_TEST(!ParseRfc3339("0000-01-01T00:00:00Z").has_value());
  // 1970 local time, but 1969 in UTC.
  BOOST_TEST(!ParseRfc3339("1970-01-01T00:30:00+01:00").has_value());
  // Exactly the epoch, written with an offset.
  BOOST_TEST(Parse("1970-01-01T01:00:00+01:00") == 0);
}

BOOST_AUTO_TEST_CASE(parse_accepts_offsets_at_the_upper_boundary) {
  // An earlier instant than the last representable one.
  BOOST_TEST(Parse("9999-12-31T23:59:59.999+01:00") == k99991231T235959 + 999 - kHourMs);
}

// ParseRfc3339 checks the year before applying the offset and only bounds the result below
// (t < 0), so a local time in 9999 with a negative offset yields an instant in year 10000 UTC,
// which FormatRfc3339 writes as "10000-01-01T00:30:00.000Z" (25 characters, not parseable).
BOOST_AUTO_TEST_CASE(regression_parse_accepts_year_10000_via_negative_offset) {
  const std::optional<TimeMs> t = ParseRfc3339("9999-12-31T23:30:00-01:00");
  BOOST_TEST(!t.has_value());
  if (t) {
    BOOST_TEST(FormatRfc3339(*t).size() == 24u, FormatRfc3339(*t));
    BOOST_TEST(ParseRfc3339(FormatRfc3339(*t)).has_value());
  }
}

// The stream parser must answer exactly as ParseRfc3339 on any sequence: canonical stamps in the
// same minute (its shortcut), across minutes and days, and interleaved non-canonical and malformed
// ones that share a cached minute's prefix.
BOOST_AUTO_TEST_CASE(stream_parser_agrees_with_parse_on_any_sequence) {
  std::mt19937_64 rng(11);
  Rfc3339StreamParser stream;
  TimeMs t = k20240229T123456 - 3 * kSecondMs;
  const std::vector<std::string> odd = {
      "2024-02-29T12:34:60.000Z",  // leap second: clamped by ParseRfc3339
      "2024-02-29T12:34:5x.000Z", "2024-02-29T12:34:56.00xZ", "2024-02-29T12:34:56.000+00:00",
      "2024-02-29T12:34:56.0000", "2024-02-29T12:34:56Z", "2024-02-29t12:34:56.000z",
      "2024-02-30T12:34:56.000Z", "2024-02-29T12:34:99.000Z", "", "2024-02-29T12:34"};
  int shortcuts_possible = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (rng() % 10 == 0) {
      text = odd[rng() % odd.size()];
    } else {
      t += static_cast<TimeMs>(rng() % 4 == 0 ? rng() % (2 * kDayMs) : rng() % 700);
      text = FormatRfc3339(t);
      ++shortcuts_possible;
    }
    const std::optional<TimeMs> want = ParseRfc3339(text);
    const std::optional<TimeMs> got = stream.Parse(text);
    BOOST_REQUIRE_MESSAGE(got == want, text);
  }
  BOOST_TEST(shortcuts_possible > 10000);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
