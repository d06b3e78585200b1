#include <boost/test/unit_test.hpp>

#include "core/status.h"

#include <string>
#include <utility>
#include <vector>

namespace keyledger {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::Invalid("Must be even.", "n");
  return n / 2;
}

Result<std::vector<int>> Sequence(int n) {
  if (n < 0) return Status::Invalid("Negative.", "n");
  std::vector<int> out;
  for (int i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

BOOST_AUTO_TEST_SUITE(StatusTest)

BOOST_AUTO_TEST_CASE(default_status_is_ok) {
  const Status s;
  BOOST_TEST(s.ok());
  BOOST_TEST((s.code() == StatusCode::kOk));
  BOOST_TEST(s.message().empty());
  BOOST_TEST(s.field().empty());
  BOOST_TEST(Status::Ok().ok());
}

BOOST_AUTO_TEST_CASE(invalid_carries_message_and_field) {
  const Status s = Status::Invalid("Name is required.", "name");
  BOOST_TEST(!s.ok());
  BOOST_TEST((s.code() == StatusCode::kInvalidArgument));
  BOOST_TEST(s.message() == "Name is required.");
  BOOST_TEST(s.field() == "name");
  BOOST_TEST(Status::Invalid("Bad.").field().empty());
}

BOOST_AUTO_TEST_CASE(factories_map_to_their_codes) {
  BOOST_TEST((Status::NotFound("No such key.").code() == StatusCode::kNotFound));
  BOOST_TEST((Status::Conflict("Exists.").code() == StatusCode::kConflict));
  BOOST_TEST((Status::Forbidden().code() == StatusCode::kForbidden));
  BOOST_TEST((Status::Unauthorized().code() == StatusCode::kUnauthorized));
  BOOST_TEST((Status::UpgradeRequired().code() == StatusCode::kUpgradeRequired));
  BOOST_TEST((Status::Unavailable("Not ready.").code() == StatusCode::kUnavailable));
  BOOST_TEST((Status::Internal("Boom.").code() == StatusCode::kInternal));
  for (const Status& s : {Status::NotFound("a"), Status::Conflict("b"), Status::Forbidden(),
                          Status::Unauthorized(), Status::UpgradeRequired(),
                          Status::Unavailable("c"), Status::Internal("d")}) {
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.field().empty());
  }
  BOOST_TEST(Status::NotFound("No such key.").message() == "No such key.");
}

BOOST_AUTO_TEST_CASE(fixed_messages_match_api_md_bodies) {
  BOOST_TEST(Status::Unauthorized().message() == "Unauthorized.");
  BOOST_TEST(Status::Forbidden().message() == "Forbidden.");
  BOOST_TEST(Status::UpgradeRequired().message() == "Upgrade required.");
}

BOOST_AUTO_TEST_CASE(result_with_value) {
  Result<int> r = Half(8);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.status().ok());
  BOOST_TEST(r.value() == 4);
  BOOST_TEST(*r == 4);
  r.value() = 7;
  BOOST_TEST(*r == 7);
}

BOOST_AUTO_TEST_CASE(result_with_status_carries_field) {
  const Result<int> r = Half(3);
  BOOST_TEST(!r.ok());
  BOOST_TEST(!r.status().ok());
  BOOST_TEST((r.status().code() == StatusCode::kInvalidArgument));
  BOOST_TEST(r.status().message() == "Must be even.");
  BOOST_TEST(r.status().field() == "n");
}

BOOST_AUTO_TEST_CASE(result_member_access_and_move) {
  Result<std::string> r(std::string("hello"));
  BOOST_TEST(r->size() == 5u);
  r->append(" world");
  BOOST_TEST(*r == "hello world");
  const std::string moved = std::move(r).value();
  BOOST_TEST(moved == "hello world");

  const Result<std::string> failed(Status::NotFound("Gone."));
  BOOST_TEST(!failed.ok());
  BOOST_TEST(failed.status().message() == "Gone.");
}

BOOST_AUTO_TEST_CASE(result_value_is_mutable_in_place) {
  Result<std::vector<int>> v = Sequence(3);
  BOOST_REQUIRE(v.ok());
  v->push_back(4);
  BOOST_TEST(v->size() == 4u);
  BOOST_TEST(v.value().front() == 1);
  BOOST_TEST(v.value().back() == 4);
  BOOST_TEST(!Sequence(-1).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
