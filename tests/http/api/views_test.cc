#include <boost/test/unit_test.hpp>
#include <simdjson.h>

#include "core/token.h"
#include "http/views.h"

namespace keyledger::http {
namespace {

KeyState SampleKey(const std::string& token) {
  KeyState k;
  k.id = "key_abc";
  k.kind = KeyKind::kApi;
  k.workspace = "acme";
  k.name = "Zapier \"production\"";
  k.prefix = DisplayPrefix(token);
  k.digest = TokenDigest(token);
  k.preset = Preset::kReadOnly;
  k.abilities = Abilities::ForPreset(Preset::kReadOnly);
  k.metadata = {{"team", "data"}};
  k.created_at = 1795428000000;
  k.expires_at = 1795428000000 + 90 * kDayMs;
  k.usage_count = 3;
  return k;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element e;
  BOOST_REQUIRE(parser.parse(json).get(e) == simdjson::SUCCESS);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ViewsTest)

BOOST_AUTO_TEST_CASE(key_object_has_every_api_field) {
  const std::string token = GenerateToken("kl");
  simdjson::dom::parser parser;
  auto key = Parse(parser, KeyJson(SampleKey(token)));
  for (const char* field : {"id", "kind", "workspace", "name", "prefix", "owner", "description", "role",
                            "preset", "abilities", "metadata", "status", "created_at", "created_by",
                            "expires_at", "grace_until", "revoked_at", "last_used_at", "usage_count",
                            "rotated_from", "rotated_to"}) {
    BOOST_TEST(key[field].error() == simdjson::SUCCESS, field);
  }
  BOOST_TEST(std::string_view(key["name"]) == "Zapier \"production\"");
  BOOST_TEST(std::string_view(key["expires_at"]) == "2027-02-21T10:00:00.000Z");
  BOOST_TEST(key["owner"].is_null());
  BOOST_TEST(key["revoked_at"].is_null());
  BOOST_TEST(std::string_view(key["preset"]) == "read_only");
  BOOST_TEST(std::string_view(key["metadata"]["team"]) == "data");
  BOOST_TEST(int64_t(key["usage_count"]) == 3);
}

BOOST_AUTO_TEST_CASE(key_object_never_holds_token_or_digest) {
  const std::string token = GenerateToken("kl");
  const KeyState k = SampleKey(token);
  const std::string json = KeyJson(k);
  BOOST_TEST(json.find(token) == std::string::npos);
  BOOST_TEST(json.find(ToHex(k.digest)) == std::string::npos);
  BOOST_TEST(json.find(token.substr(0, 12)) != std::string::npos);  // the display prefix is shown
}

BOOST_AUTO_TEST_CASE(replayed_creation_has_null_token) {
  CreatedKey replay{SampleKey(GenerateToken("kl")), "", true, std::nullopt};
  simdjson::dom::parser parser;
  auto body = Parse(parser, CreatedKeyJson(replay));
  BOOST_TEST(body["token"].is_null());
  BOOST_TEST(bool(body["replayed"]));
  BOOST_TEST(body["replaced"].error() == simdjson::NO_SUCH_FIELD);
}

BOOST_AUTO_TEST_CASE(rotation_shows_the_replaced_key) {
  KeyState old_key = SampleKey(GenerateToken("kl"));
  old_key.id = "key_old";
  const std::string token = GenerateToken("kl");
  CreatedKey rotated{SampleKey(token), token, false, old_key};
  simdjson::dom::parser parser;
  auto body = Parse(parser, CreatedKeyJson(rotated));
  BOOST_TEST(std::string_view(body["token"]) == token);
  BOOST_TEST(std::string_view(body["replaced"]["id"]) == "key_old");
  BOOST_TEST(body["replayed"].error() == simdjson::NO_SUCH_FIELD);
}

BOOST_AUTO_TEST_CASE(usage_report_buckets) {
  UsageReport r{5, 2, 1795428000000, {{1795428000000, 5, 2}}};
  simdjson::dom::parser parser;
  auto body = Parse(parser, UsageJson(r));
  BOOST_TEST(int64_t(body["total"]) == 5);
  BOOST_TEST(int64_t(body["rejected"]) == 2);
  BOOST_TEST(std::string_view(body["buckets"].at(0)["start"]) == "2026-11-23T10:00:00.000Z");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::http
