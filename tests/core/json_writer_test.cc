#include <boost/test/unit_test.hpp>

#include "core/json_writer.h"

#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyledger {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// True when simdjson's DOM parser (which validates the whole document, UTF-8 included) accepts it.
bool IsValidJson(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  return parser.parse(simdjson::padded_string(json)).get(element) == simdjson::SUCCESS;
}

bool HasRawControlCharacter(std::string_view json) {
  for (char c : json) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Writes {"v": value} and reads "v" back with simdjson On Demand; nullopt if it does not parse.
std::optional<std::string> RoundTripValue(std::string_view value) {
  JsonWriter w;
  w.BeginObject().Field("v", value).EndObject();
  const std::string json = w.Take();
  if (!IsValidJson(json) || HasRawControlCharacter(json)) return std::nullopt;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  std::string_view out;
  if (doc["v"].get_string().get(out) != simdjson::SUCCESS) return std::nullopt;
  return std::string(out);
}

// Writes {key: 1} and reads the key back with simdjson On Demand; nullopt if it does not parse.
std::optional<std::string> RoundTripKey(std::string_view key) {
  JsonWriter w;
  w.BeginObject().Key(key).Int(1).EndObject();
  const std::string json = w.Take();
  if (!IsValidJson(json) || HasRawControlCharacter(json)) return std::nullopt;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string> found;
  for (auto field : object) {
    std::string_view k;
    if (field.unescaped_key().get(k) != simdjson::SUCCESS) return std::nullopt;
    if (found) return std::nullopt;  // more than one key
    found = std::string(k);
  }
  return found;
}

std::string CollapseReplacementRuns(std::string s) {
  const std::string twice = std::string(kReplacement) + std::string(kReplacement);
  for (size_t pos; (pos = s.find(twice)) != std::string::npos;) s.erase(pos, kReplacement.size());
  return s;
}

size_t CountReplacements(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; (pos = s.find(kReplacement, pos)) != std::string_view::npos;
       pos += kReplacement.size()) {
    ++n;
  }
  return n;
}

std::vector<std::string> HostileStrings() {
  std::vector<std::string> v = {
      "",
      "\"",
      "\\",
      "\"\\\"",
      "\\\"",
      "\\u0041",  // a literal backslash-u, not an escape
      "\\n",
      "</script>",
      "<script>alert(1)</script>",
      "<!-- -->",
      "'single'",
      "a/b//c",
      "\x7f",
      "\xC2\x80",                  // U+0080, smallest 2-byte
      "\xC3\xA9t\xC3\xA9",         // "été"
      "\xDF\xBF",                  // U+07FF, largest 2-byte
      "\xE0\xA0\x80",              // U+0800, smallest 3-byte
      "\xE2\x82\xAC",              // U+20AC euro sign
      "\xE2\x80\xA8\xE2\x80\xA9",  // U+2028 U+2029
      "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
      "\xEE\x80\x80",              // U+E000, just above the surrogates
      "\xEF\xBF\xBD",              // U+FFFD itself
      "\xEF\xBF\xBF",              // U+FFFF
      "\xF0\x90\x80\x80",          // U+10000, smallest 4-byte
      "\xF0\x9F\x98\x80",          // U+1F600
      "\xF4\x8F\xBF\xBF",          // U+10FFFF, the largest code point
      std::string("a\0b", 3),
      std::string("\0", 1),
      std::string("\0\0\"\0", 4),
  };
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) {
    v.push_back(std::string(1, static_cast<char>(c)));
    v.push_back("x" + std::string(1, static_cast<char>(c)) + "y");
    all_controls.push_back(static_cast<char>(c));
  }
  all_controls.push_back('\x7f');
  v.push_back(all_controls);
  std::string ascii;
  for (int c = 0; c < 0x80; ++c) ascii.push_back(static_cast<char>(c));
  v.push_back(ascii);
  return v;
}

std::string Printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

struct InvalidCase {
  std::string input;
  std::string expected;  // with each run of bad bytes shown as a single U+FFFD
  size_t bad_bytes;
};

std::vector<InvalidCase> InvalidUtf8Cases() {
  const std::string r(kReplacement);
  return {
      {"\x80", r, 1},                                       // lone continuation byte
      {"a\x80" "b", "a" + r + "b", 1},
      {"\x80\x80\x80", r, 3},
      {"\xC0\xAF", r, 2},                                   // overlong '/'
      {"x\xC0\xAF" "y", "x" + r + "y", 2},
      {"\xC1\xBF", r, 2},                                   // overlong 2-byte
      {"\xE0\x80\xAF", r, 3},                               // overlong 3-byte
      {"\xF0\x80\x80\xAF", r, 4},                           // overlong 4-byte
      {"a\xE2\x82" "b", "a" + r + "b", 2},                  // truncated 3-byte sequence
      {"a\xE2\x82", "a" + r, 2},                            // truncated at the end
      {"\xE2\x82\xC3\xA9", r + "\xC3\xA9", 2},              // truncated, then a valid 2-byte
      {"\xF0\x9F\x98", r, 3},                               // truncated 4-byte
      {"\xF0\x9F\x98" "a", r + "a", 3},
      {"\xC2", r, 1},                                       // lead byte at the end
      {"\xC2" "a", r + "a", 1},
      {"\xED\xA0\x80", r, 3},                               // surrogate U+D800
      {"\xED\xBF\xBF", r, 3},                               // surrogate U+DFFF
      {"\xF4\x90\x80\x80", r, 4},                           // above U+10FFFF
      {"a\xF5" "b", "a" + r + "b", 1},                      // F5 never appears in UTF-8
      {"\xF5\x80\x80\x80", r, 4},                           // F5 lead with continuations
      {"\xF8\x88\x80\x80\x80", r, 5},                       // old 5-byte form
      {"\xFE\xFF", r, 2},
      {"\xFF", r, 1},
      {"\xC3\xA9\x80\xE2\x82\xAC", "\xC3\xA9" + r + "\xE2\x82\xAC", 1},  // valid on both sides
      {"\"\x80\\", "\"" + r + "\\", 1},                     // next to characters that need escaping
      {std::string("\0\x80\0", 3), std::string("\0", 1) + r + std::string("\0", 1), 1},
  };
}

BOOST_AUTO_TEST_SUITE(JsonWriterTest)

BOOST_AUTO_TEST_CASE(empty_containers) {
  BOOST_TEST(JsonWriter().BeginObject().EndObject().str() == "{}");
  BOOST_TEST(JsonWriter().BeginArray().EndArray().str() == "[]");
}

BOOST_AUTO_TEST_CASE(nested_objects_and_arrays_place_commas) {
  JsonWriter w;
  w.BeginObject()
      .Field("a", int64_t{1})
      .Key("b")
      .BeginArray()
      .Int(1)
      .Int(2)
      .BeginObject()
      .Key("c")
      .Null()
      .EndObject()
      .EndArray()
      .Key("d")
      .BeginObject()
      .EndObject()
      .Key("e")
      .BeginArray()
      .EndArray()
      .Key("f")
      .BeginObject()
      .Field("g", true)
      .Field("h", false)
      .EndObject()
      .EndObject();
  BOOST_TEST(w.str() == R"({"a":1,"b":[1,2,{"c":null}],"d":{},"e":[],"f":{"g":true,"h":false}})");
  BOOST_TEST(IsValidJson(w.str()));
}

BOOST_AUTO_TEST_CASE(arrays_of_containers) {
  JsonWriter w;
  w.BeginArray()
      .BeginObject()
      .EndObject()
      .BeginObject()
      .Field("a", int64_t{1})
      .EndObject()
      .BeginArray()
      .EndArray()
      .BeginArray()
      .BeginArray()
      .EndArray()
      .EndArray()
      .String("s")
      .Null()
      .Bool(true)
      .EndArray();
  BOOST_TEST(w.str() == R"([{},{"a":1},[],[[]],"s",null,true])");
  BOOST_TEST(IsValidJson(w.str()));
}

BOOST_AUTO_TEST_CASE(field_overloads) {
  const std::string owned = "owned";
  JsonWriter w;
  w.BeginObject()
      .Field("s", std::string_view("view"))
      .Field("c", "literal")
      .Field("o", owned)
      .Field("i", int64_t{-5})
      .Field("t", true)
      .Field("f", false)
      .EndObject();
  BOOST_TEST(w.str() == R"({"s":"view","c":"literal","o":"owned","i":-5,"t":true,"f":false})");
}

BOOST_AUTO_TEST_CASE(integer_extremes) {
  JsonWriter w;
  w.BeginObject()
      .Key("min").Int(std::numeric_limits<int64_t>::min())
      .Key("max").Int(std::numeric_limits<int64_t>::max())
      .Key("umax").Uint(std::numeric_limits<uint64_t>::max())
      .Key("zero").Int(0)
      .Key("uzero").Uint(0)
      .Key("neg").Int(-1)
      .EndObject();
  BOOST_TEST(w.str() ==
             R"({"min":-9223372036854775808,"max":9223372036854775807,)"
             R"("umax":18446744073709551615,"zero":0,"uzero":0,"neg":-1})");

  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(w.str());
  simdjson::ondemand::document doc;
  BOOST_REQUIRE(parser.iterate(padded).get(doc) == simdjson::SUCCESS);
  int64_t min = 0, max = 0;
  uint64_t umax = 0;
  BOOST_REQUIRE(doc["min"].get_int64().get(min) == simdjson::SUCCESS);
  BOOST_REQUIRE(doc["max"].get_int64().get(max) == simdjson::SUCCESS);
  BOOST_REQUIRE(doc["umax"].get_uint64().get(umax) == simdjson::SUCCESS);
  BOOST_TEST(min == std::numeric_limits<int64_t>::min());
  BOOST_TEST(max == std::numeric_limits<int64_t>::max());
  BOOST_TEST(umax == std::numeric_limits<uint64_t>::max());
}

BOOST_AUTO_TEST_CASE(string_array) {
  JsonWriter w;
  w.BeginObject()
      .StringArray("k", {"a", "b\"", "c"})
      .StringArray("e", {})
      .Field("n", int64_t{1})
      .EndObject();
  BOOST_TEST(w.str() == R"({"k":["a","b\"","c"],"e":[],"n":1})");
}

BOOST_AUTO_TEST_CASE(nullable_field_writes_null_for_empty) {
  JsonWriter w;
  w.BeginObject()
      .NullableField("a", "")
      .NullableField("b", "x")
      .NullableField("c", std::string_view())
      .EndObject();
  BOOST_TEST(w.str() == R"({"a":null,"b":"x","c":null})");
  BOOST_TEST(IsValidJson(w.str()));
}

BOOST_AUTO_TEST_CASE(raw_values_are_inserted_verbatim_with_commas) {
  JsonWriter w;
  w.BeginObject()
      .Key("x")
      .Raw(R"({"y":[1]})")
      .Field("z", int64_t{2})
      .Key("arr")
      .BeginArray()
      .Int(1)
      .Raw("{\"r\":true}")
      .Int(2)
      .EndArray()
      .EndObject();
  BOOST_TEST(w.str() == R"({"x":{"y":[1]},"z":2,"arr":[1,{"r":true},2]})");
}

// Plain keys and values take a one-append path, others the escaping one: every mix of them, at
// the start of a scope and after a sibling, must give the same punctuation.
BOOST_AUTO_TEST_CASE(plain_and_escaped_paths_punctuate_alike) {
  JsonWriter w;
  w.BeginObject()
      .Field("a", "x")
      .Field("b\n", "y")
      .Field("c", "z\"")
      .Field("d\t", "\x01")
      .Key("e")
      .BeginArray()
      .String("p")
      .String("q\\")
      .Int(-7)
      .Raw("{}")
      .Null()
      .EndArray()
      .Key("f\"")
      .String("")
      .NullableField("g", "")
      .NullableField("h", "v")
      .Field("i", std::string_view())
      .EndObject();
  BOOST_TEST(w.str() ==
             R"({"a":"x","b\n":"y","c":"z\"","d\t":"\u0001","e":["p","q\\",-7,{},null],"f\"":"",)"
             R"("g":null,"h":"v","i":""})");
}

BOOST_AUTO_TEST_CASE(take_returns_the_document) {
  JsonWriter w;
  w.BeginArray().Int(7).EndArray();
  BOOST_TEST(w.Take() == "[7]");
}

BOOST_AUTO_TEST_CASE(append_escaped_appends_a_quoted_string) {
  std::string out = "x";
  JsonWriter::AppendEscaped(out, "a");
  BOOST_TEST(out == "x\"a\"");
  JsonWriter::AppendEscaped(out, "");
  BOOST_TEST(out == "x\"a\"\"\"");
}

BOOST_AUTO_TEST_CASE(hostile_strings_round_trip_as_values) {
  for (const std::string& s : HostileStrings()) {
    const std::optional<std::string> back = RoundTripValue(s);
    BOOST_TEST(back.has_value(), Printable(s));
    if (back) BOOST_TEST(Printable(*back) == Printable(s));
  }
}

BOOST_AUTO_TEST_CASE(hostile_strings_round_trip_as_keys) {
  for (const std::string& s : HostileStrings()) {
    const std::optional<std::string> back = RoundTripKey(s);
    BOOST_TEST(back.has_value(), Printable(s));
    if (back) BOOST_TEST(Printable(*back) == Printable(s));
  }
}

// Plain runs are found sixteen bytes at a time: a byte that needs escaping (or UTF-8 checking)
// must be caught in every lane and in the tail, whatever the string's length.
BOOST_AUTO_TEST_CASE(every_special_byte_is_handled_at_every_position) {
  const std::string plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (const std::string& special : {std::string(1, '\0'), std::string("\x1f"), std::string("\x7f"),
                                    std::string("\""), std::string("\\"), std::string("\xC3\xA9")}) {
    // Every length through the short-string loads (4-15 bytes), the 16-byte steps and their
    // overlapping tails.
    for (size_t length = 0; length <= 40; ++length) {
      for (size_t at = 0; at < length; ++at) {
        const std::string s = plain.substr(0, at) + special + plain.substr(at, length - at);
        const std::optional<std::string> back = RoundTripValue(s);
        BOOST_TEST_REQUIRE(back.has_value(), Printable(s));
        BOOST_TEST(Printable(*back) == Printable(s));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(script_close_tag_survives_in_a_document) {
  JsonWriter w;
  w.BeginObject().Field("html", "</script><script>x()</script>").EndObject();
  BOOST_TEST(IsValidJson(w.str()));
  BOOST_TEST(RoundTripValue("</script>").value_or("<failed>") == "</script>");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_character) {
  for (const InvalidCase& c : InvalidUtf8Cases()) {
    JsonWriter w;
    w.BeginObject().Field("v", c.input).EndObject();
    const std::string json = w.str();
    BOOST_TEST(simdjson::validate_utf8(json.data(), json.size()), Printable(c.input));
    BOOST_TEST(IsValidJson(json), Printable(c.input));

    const std::optional<std::string> back = RoundTripValue(c.input);
    BOOST_TEST(back.has_value(), Printable(c.input));
    if (!back) continue;
    BOOST_TEST(Printable(CollapseReplacementRuns(*back)) == Printable(c.expected),
               "input " << Printable(c.input));
    const size_t n = CountReplacements(*back);
    BOOST_TEST(n >= 1u, Printable(c.input));
    BOOST_TEST(n <= c.bad_bytes, Printable(c.input));
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_keys_becomes_replacement_character) {
  for (const InvalidCase& c : InvalidUtf8Cases()) {
    const std::optional<std::string> back = RoundTripKey(c.input);
    BOOST_TEST(back.has_value(), Printable(c.input));
    if (!back) continue;
    BOOST_TEST(Printable(CollapseReplacementRuns(*back)) == Printable(c.expected),
               "input " << Printable(c.input));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
