#include <boost/test/unit_test.hpp>

#include "http/json_input.h"

namespace keyledger::http {

BOOST_AUTO_TEST_SUITE(JsonInputTest)

BOOST_AUTO_TEST_CASE(reads_known_fields_of_each_type) {
  auto in = JsonInput::Parse(R"({"name":"a\"b","days":30,"list":["x:read"],"meta":{"k":"v"}})",
                             {"name", "days", "list", "meta"});
  BOOST_REQUIRE(in.ok());
  std::optional<std::string> name;
  std::optional<int64_t> days;
  std::optional<std::vector<std::string>> list;
  std::optional<Metadata> meta;
  BOOST_TEST(in->String("name", name).ok());
  BOOST_TEST(in->Int("days", days).ok());
  BOOST_TEST(in->StringArray("list", list).ok());
  BOOST_TEST(in->StringMap("meta", meta).ok());
  BOOST_TEST(*name == "a\"b");
  BOOST_TEST(*days == 30);
  BOOST_TEST(list->size() == 1u);
  BOOST_TEST(meta->size() == 1u);
  BOOST_TEST((*meta)[0].first == "k");
}

BOOST_AUTO_TEST_CASE(absent_and_null_fields_stay_unset) {
  auto in = JsonInput::Parse(R"({"name":null})", {"name", "days"});
  BOOST_REQUIRE(in.ok());
  std::optional<std::string> name;
  std::optional<int64_t> days;
  BOOST_TEST(in->String("name", name).ok());
  BOOST_TEST(in->Int("days", days).ok());
  BOOST_TEST(!name.has_value());
  BOOST_TEST(!days.has_value());
}

BOOST_AUTO_TEST_CASE(unknown_field_is_named) {
  auto in = JsonInput::Parse(R"({"name":"x","expires_in_day":3})", {"name", "expires_in_days"});
  BOOST_REQUIRE(!in.ok());
  BOOST_TEST(in.status().field() == "expires_in_day");
  BOOST_TEST(in.status().code() == StatusCode::kInvalidArgument);
}

BOOST_AUTO_TEST_CASE(a_field_given_twice_is_named) {
  auto in = JsonInput::Parse(R"({"token":"kl_a","ability":"x:read","token":"kl_b"})", {"ability", "token"});
  BOOST_REQUIRE(!in.ok());
  BOOST_TEST(in.status().field() == "token");
  BOOST_TEST(in.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(JsonInput::Parse(R"({"token":"kl_a","ability":"x:read"})", {"ability", "token"}).ok());
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_field) {
  auto in = JsonInput::Parse(R"({"name":5,"days":"3","list":[1],"meta":{"k":1}})",
                             {"name", "days", "list", "meta"});
  BOOST_REQUIRE(in.ok());
  std::optional<std::string> name;
  std::optional<int64_t> days;
  std::optional<std::vector<std::string>> list;
  std::optional<Metadata> meta;
  BOOST_TEST(in->String("name", name).field() == "name");
  BOOST_TEST(in->Int("days", days).field() == "days");
  BOOST_TEST(in->StringArray("list", list).field() == "list");
  BOOST_TEST(in->StringMap("meta", meta).field() == "meta");
}

BOOST_AUTO_TEST_CASE(fractional_number_is_not_an_integer) {
  auto in = JsonInput::Parse(R"({"days":1.5})", {"days"});
  BOOST_REQUIRE(in.ok());
  std::optional<int64_t> days;
  BOOST_TEST(!in->Int("days", days).ok());
}

BOOST_AUTO_TEST_CASE(malformed_or_non_object_bodies_are_refused) {
  for (std::string_view body : {"{", "[]", "\"x\"", "nul", "{\"a\":1}garbage", "{\"a\":\"\\ud800\"}"}) {
    auto in = JsonInput::Parse(body, {"a"});
    BOOST_TEST(!in.ok(), body);
  }
}

BOOST_AUTO_TEST_CASE(empty_body_only_where_allowed) {
  BOOST_TEST(!JsonInput::Parse("", {"reason"}).ok());
  BOOST_TEST(JsonInput::Parse("", {"reason"}, true).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::http
