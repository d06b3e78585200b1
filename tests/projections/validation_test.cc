#include <boost/test/unit_test.hpp>

#include "projections/validation.h"

#include <string>

#include "core/status.h"
#include "core/token.h"
#include "events/event.h"

namespace keyledger {
namespace {

bool TextOk(std::string_view value, size_t min_chars, size_t max_chars) {
  return CheckText(value, "name", min_chars, max_chars).ok();
}

std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(unit);
  return out;
}

BOOST_AUTO_TEST_SUITE(ValidationTest)

BOOST_AUTO_TEST_CASE(workspace_id_boundaries) {
  BOOST_TEST(IsValidWorkspaceId("ab"));
  BOOST_TEST(IsValidWorkspaceId("a1"));
  BOOST_TEST(IsValidWorkspaceId("0a"));
  BOOST_TEST(IsValidWorkspaceId("acme-inc"));
  BOOST_TEST(IsValidWorkspaceId("a-"));
  BOOST_TEST(IsValidWorkspaceId(std::string(63, 'a')));
  BOOST_TEST(!IsValidWorkspaceId(std::string(64, 'a')));
  BOOST_TEST(!IsValidWorkspaceId(""));
  BOOST_TEST(!IsValidWorkspaceId("a"));
  BOOST_TEST(!IsValidWorkspaceId("-a"));
  BOOST_TEST(!IsValidWorkspaceId("Acme"));
  BOOST_TEST(!IsValidWorkspaceId("acme_inc"));
  BOOST_TEST(!IsValidWorkspaceId("acme inc"));
  BOOST_TEST(!IsValidWorkspaceId("acme/inc"));
  BOOST_TEST(!IsValidWorkspaceId("acme."));
  BOOST_TEST(!IsValidWorkspaceId(std::string("ac\0me", 5)));
  BOOST_TEST(!IsValidWorkspaceId("äcme"));
}

BOOST_AUTO_TEST_CASE(char_count_counts_utf8_sequences_as_one) {
  BOOST_TEST(CharCount("") == 0u);
  BOOST_TEST(CharCount("abc") == 3u);
  BOOST_TEST(CharCount("é") == 1u);         // 2 bytes
  BOOST_TEST(CharCount("日本") == 2u);      // 3 bytes each
  BOOST_TEST(CharCount("🔑") == 1u);        // 4 bytes
  BOOST_TEST(CharCount("a🔑é日") == 4u);
}

BOOST_AUTO_TEST_CASE(check_text_limits_count_characters_not_bytes) {
  BOOST_TEST(TextOk("a", 1, 100));
  BOOST_TEST(!TextOk("", 1, 100));
  BOOST_TEST(TextOk("", 0, 100));
  BOOST_TEST(TextOk(std::string(100, 'x'), 1, 100));
  BOOST_TEST(!TextOk(std::string(101, 'x'), 1, 100));
  BOOST_TEST(TextOk(Repeat("é", 100), 1, 100));   // 200 bytes, 100 characters
  BOOST_TEST(!TextOk(Repeat("é", 101), 1, 100));
  BOOST_TEST(TextOk(Repeat("🔑", 100), 1, 100));  // 400 bytes
  BOOST_TEST(!TextOk(Repeat("日", 101), 1, 100));

  Status too_long = CheckText(std::string(201, 'o'), "owner", 0, 200);
  BOOST_TEST(!too_long.ok());
  BOOST_TEST((too_long.code() == StatusCode::kInvalidArgument));
  BOOST_TEST(too_long.field() == "owner");
  BOOST_TEST(too_long.message() == "Owner must be at most 200 characters.");
  Status empty = CheckText("", "name", 1, 100);
  BOOST_TEST(empty.field() == "name");
  BOOST_TEST(empty.message() == "Name must be 1 to 100 characters.");
}

BOOST_AUTO_TEST_CASE(check_text_rejects_control_characters) {
  for (std::string bad : {std::string("a\nb"), std::string("a\tb"), std::string("a\rb"), std::string("\x1f"),
                          std::string("a\x7f"), std::string("a\0b", 3), std::string("\x01")}) {
    Status s = CheckText(bad, "description", 0, 1000);
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.field() == "description");
  }
  BOOST_TEST(TextOk("spaces and punctuation: !\"#$%&'()*+,-./ ~", 1, 100));
  BOOST_TEST(TextOk("Ünïcødé — “quotes” ✓", 1, 100));
}

// Regression: CheckText counted characters as non-continuation bytes without checking that the
// text is UTF-8, so 1000 stray continuation bytes counted as 0 characters and passed a 200-character
// limit; the log then recorded each as U+FFFD — a value longer than the limit, and different from
// what the live projection held until a restart.
BOOST_AUTO_TEST_CASE(regression_check_text_rejects_invalid_utf8) {
  const std::string continuation_bytes(1000, '\x80');
  BOOST_TEST(!CheckText(continuation_bytes, "owner", 0, 200).ok());
  BOOST_TEST(CheckText(continuation_bytes, "owner", 0, 200).field() == "owner");
  BOOST_TEST(!TextOk("abc\xff", 1, 100));
  BOOST_TEST(!TextOk("\xc3", 1, 100));             // truncated sequence
  BOOST_TEST(!TextOk("\xc0\xaf", 1, 100));         // overlong '/'
  BOOST_TEST(!TextOk("\xed\xa0\x80", 1, 100));     // a surrogate
  BOOST_TEST(!TextOk("\xf4\x90\x80\x80", 1, 100)); // above U+10FFFF
  BOOST_TEST(TextOk("\xf4\x8f\xbf\xbf", 1, 100));  // U+10FFFF itself
  BOOST_TEST(TextOk("\xe2\x82\xac", 1, 100));      // €
  Metadata bad_value = {{"k", "v\xff"}};
  BOOST_TEST(!CheckMetadata(bad_value).ok());
  Metadata bad_key = {{std::string(70, '\x80'), "v"}};
  BOOST_TEST(!CheckMetadata(bad_key).ok());
}

BOOST_AUTO_TEST_CASE(check_text_rejects_invisible_names_and_reordering_controls) {
  // Only blank or invisible: no-break space, zero-width space, ideographic space, soft hyphen.
  for (std::string blank : {std::string("\u00a0"), std::string("\u200b\u200b"), std::string("\u3000"),
                            std::string(" \u00ad "), std::string("\ufeff")}) {
    Status s = CheckText(blank, "name", 1, 100);
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.field() == "name");
    BOOST_TEST(CheckText(blank, "description", 0, 100).ok(), "optional text may be blank");
  }
  BOOST_TEST(TextOk("billing\u00a0reader", 1, 100));
  // C1 controls and the bidirectional overrides and isolates.
  for (std::string bad : {std::string("a\u0085b"), std::string("\u202eevil"), std::string("a\u2066b\u2069")}) {
    BOOST_TEST(!CheckText(bad, "owner", 0, 200).ok());
  }
  BOOST_TEST(TextOk("\u05e9\u05dc\u05d5\u05dd", 1, 100));  // right-to-left text itself is fine
}

BOOST_AUTO_TEST_CASE(text_and_metadata_never_hold_a_token) {
  const std::string token = GenerateToken("kl");
  Status in_name = CheckText("ci job " + token, "name", 1, 100);
  BOOST_TEST(!in_name.ok());
  BOOST_TEST(in_name.field() == "name");
  BOOST_TEST(in_name.message().find(token) == std::string::npos);
  BOOST_TEST(!CheckText(GenerateToken("kla"), "X-Actor", 1, 200).ok());
  BOOST_TEST(!CheckMetadata({{"token", token}}).ok());
  BOOST_TEST(!CheckMetadata({{token, "v"}}).ok());
  BOOST_TEST(CheckMetadata({{"prefix", token.substr(0, 12)}}).ok(), "the display prefix is not secret");
  BOOST_TEST(TextOk(token.substr(0, 12), 1, 100));
}

BOOST_AUTO_TEST_CASE(check_metadata_limits) {
  BOOST_TEST(CheckMetadata({}).ok());
  BOOST_TEST(CheckMetadata({{"team", "billing"}, {"env", ""}}).ok());
  Metadata fifty, fifty_one;
  for (int i = 0; i < 51; ++i) {
    if (i < 50) fifty.emplace_back("k" + std::to_string(i), "v");
    fifty_one.emplace_back("k" + std::to_string(i), "v");
  }
  BOOST_TEST(CheckMetadata(fifty).ok());
  Status too_many = CheckMetadata(fifty_one);
  BOOST_TEST(!too_many.ok());
  BOOST_TEST(too_many.field() == "metadata");

  BOOST_TEST(!CheckMetadata({{"", "v"}}).ok());
  BOOST_TEST(CheckMetadata({{std::string(64, 'k'), "v"}}).ok());
  BOOST_TEST(!CheckMetadata({{std::string(65, 'k'), "v"}}).ok());
  BOOST_TEST(CheckMetadata({{Repeat("é", 64), "v"}}).ok());  // characters, not bytes
  BOOST_TEST(CheckMetadata({{"k", std::string(500, 'v')}}).ok());
  BOOST_TEST(!CheckMetadata({{"k", std::string(501, 'v')}}).ok());
  BOOST_TEST(CheckMetadata({{"k", Repeat("日", 500)}}).ok());
  // Controls: none in keys; in values only tabs and line breaks.
  BOOST_TEST(CheckMetadata({{"notes", "line one\r\nline\ttwo\n"}}).ok());
  for (const std::string& bad : std::vector<std::string>{"\x1b[2J", std::string("a\0b", 3), "\x7f", "\u0085", "\u202e"}) {
    BOOST_TEST(!CheckMetadata({{"k", "x" + bad}}).ok(), "value with " << bad.size() << " bytes");
    BOOST_TEST(!CheckMetadata({{"k" + bad, "v"}}).ok());
  }
  BOOST_TEST(!CheckMetadata({{"a\tb", "v"}}).ok());
  BOOST_TEST(CheckMetadata({{"k", "\u05e9\u05dc\u05d5\u05dd"}}).ok());
  Status duplicate = CheckMetadata({{"team", "a"}, {"env", "b"}, {"team", "c"}});
  BOOST_TEST(!duplicate.ok());
  BOOST_TEST(duplicate.field() == "metadata");
}

BOOST_AUTO_TEST_CASE(check_idempotency_key_is_printable_ascii) {
  BOOST_TEST(CheckIdempotencyKey("a").ok());
  BOOST_TEST(CheckIdempotencyKey("req-42_ABC.x:y/z~!").ok());
  BOOST_TEST(CheckIdempotencyKey(std::string(255, 'k')).ok());
  BOOST_TEST(!CheckIdempotencyKey(std::string(256, 'k')).ok());
  BOOST_TEST(!CheckIdempotencyKey("").ok());
  BOOST_TEST(!CheckIdempotencyKey("has space").ok());
  BOOST_TEST(!CheckIdempotencyKey("tab\t").ok());
  BOOST_TEST(!CheckIdempotencyKey("del\x7f").ok());
  BOOST_TEST(!CheckIdempotencyKey("ünï").ok());
  BOOST_TEST(CheckIdempotencyKey("x y").field() == "Idempotency-Key");
  BOOST_TEST(!CheckIdempotencyKey("retry-" + GenerateToken("kla")).ok());  // stored in the log
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
