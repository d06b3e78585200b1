#include <boost/test/unit_test.hpp>

#include "core/abilities.h"

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace keyledger {
namespace {

using List = std::vector<std::string>;

// The parsed list, or {"<error>"} when Parse fails.
List ParsedList(const List& input) {
  const Result<Abilities> r = Abilities::Parse(input);
  if (!r.ok()) return {"<error>"};
  return r->list();
}

void CheckRejected(const List& input) {
  const Result<Abilities> r = Abilities::Parse(input);
  BOOST_TEST(!r.ok());
  if (r.ok()) return;
  BOOST_TEST((r.status().code() == StatusCode::kInvalidArgument));
  BOOST_TEST(r.status().field() == "abilities");
  BOOST_TEST(!r.status().message().empty());
}

Abilities Explicit(const List& input) {
  Result<Abilities> r = Abilities::Parse(input);
  BOOST_REQUIRE(r.ok());
  return std::move(r).value();
}

BOOST_AUTO_TEST_SUITE(AbilitiesTest)

BOOST_AUTO_TEST_CASE(parse_preset_and_name) {
  BOOST_TEST((ParsePreset("full_access") == Preset::kFullAccess));
  BOOST_TEST((ParsePreset("read_only") == Preset::kReadOnly));
  for (std::string_view bad : {"", "none", "Full_Access", "full-access", "READ_ONLY", "read_only ",
                               " full_access", "read"}) {
    BOOST_TEST(!ParsePreset(bad).has_value(), bad);
  }
  BOOST_TEST(!ParsePreset(std::string_view("read_only\0", 10)).has_value());
  BOOST_TEST(PresetName(Preset::kFullAccess) == "full_access");
  BOOST_TEST(PresetName(Preset::kReadOnly) == "read_only");
  BOOST_TEST(PresetName(Preset::kNone) == "");
  for (Preset p : {Preset::kFullAccess, Preset::kReadOnly}) {
    BOOST_TEST((ParsePreset(PresetName(p)) == p));
  }
}

BOOST_AUTO_TEST_CASE(presets_expand_as_in_api_md) {
  BOOST_TEST((Abilities::ForPreset(Preset::kFullAccess).list() == List{"*:read", "*:write"}));
  BOOST_TEST((Abilities::ForPreset(Preset::kReadOnly).list() == List{"*:read"}));
  BOOST_TEST(Abilities::ForPreset(Preset::kNone).list().empty());
  BOOST_TEST(Abilities().list().empty());
}

BOOST_AUTO_TEST_CASE(read_only_allows_reads_only) {
  const Abilities a = Abilities::ForPreset(Preset::kReadOnly);
  BOOST_TEST(a.Allows("invoices:read"));
  BOOST_TEST(a.Allows("customers:read"));
  BOOST_TEST(!a.Allows("invoices:write"));
}

BOOST_AUTO_TEST_CASE(full_access_allows_everything) {
  const Abilities a = Abilities::ForPreset(Preset::kFullAccess);
  BOOST_TEST(a.Allows("invoices:read"));
  BOOST_TEST(a.Allows("invoices:write"));
  BOOST_TEST(a.Allows("x:write"));
}

BOOST_AUTO_TEST_CASE(empty_abilities_allow_nothing) {
  BOOST_TEST(!Abilities().Allows("invoices:read"));
  BOOST_TEST(!Abilities::ForPreset(Preset::kNone).Allows("invoices:write"));
}

BOOST_AUTO_TEST_CASE(write_does_not_imply_read) {
  BOOST_TEST(!Explicit({"invoices:write"}).Allows("invoices:read"));
  BOOST_TEST(!Explicit({"*:write"}).Allows("invoices:read"));
  BOOST_TEST(Explicit({"*:write"}).Allows("invoices:write"));
  BOOST_TEST(!Explicit({"invoices:read"}).Allows("invoices:write"));
}

BOOST_AUTO_TEST_CASE(resources_match_exactly) {
  const Abilities a = Explicit({"invoices:read", "in:write"});
  BOOST_TEST(a.Allows("invoices:read"));
  BOOST_TEST(!a.Allows("invoice:read"));    // a prefix of the grant
  BOOST_TEST(!a.Allows("invoicesx:read"));  // the grant is a prefix of it
  BOOST_TEST(!a.Allows("customers:read"));
  BOOST_TEST(a.Allows("in:write"));
  BOOST_TEST(!a.Allows("invoices:write"));  // "in" is a prefix, not a match
  BOOST_TEST(!a.Allows("i:write"));
  // A grant for one resource does not satisfy a requirement on all of them.
  BOOST_TEST(!a.Allows("*:read"));
  BOOST_TEST(Explicit({"*:read"}).Allows("*:read"));
}

BOOST_AUTO_TEST_CASE(is_valid_ability) {
  const std::string r64 = "a" + std::string(63, 'b');
  const std::string r65 = "a" + std::string(64, 'b');
  for (const std::string& ok : {std::string("invoices:read"), std::string("invoices:write"),
                                std::string("*:read"), std::string("*:write"),
                                std::string("a:read"), std::string("a-b_c9:write"),
                                std::string("z0:read"), r64 + ":read"}) {
    BOOST_TEST(IsValidAbility(ok), ok);
  }
  for (const std::string& bad :
       {std::string(""), std::string(":"), std::string("invoices"), std::string("invoices:"),
        std::string(":read"), std::string("invoices:Read"), std::string("invoices:delete"),
        std::string("invoices:readwrite"), std::string("Invoices:read"), std::string("iNvoices:read"),
        std::string("1invoices:read"), std::string("-a:read"), std::string("_a:read"),
        std::string("**:read"), std::string("*a:read"), std::string("a*:read"),
        std::string("inv oices:read"), std::string("invoices:read "), std::string(" invoices:read"),
        std::string("invoices:read:write"), std::string("a.b:read"), std::string("a/b:read"),
        std::string("invoices;read"), r65 + ":read", std::string("inv\0:read", 9)}) {
    BOOST_TEST(!IsValidAbility(bad), bad);
  }
}

BOOST_AUTO_TEST_CASE(parse_keeps_order_and_removes_duplicates) {
  BOOST_TEST((ParsedList({"b:read", "a:read", "b:read", "*:write", "a:read", "b:write"}) ==
              List{"b:read", "a:read", "*:write", "b:write"}));
  BOOST_TEST((ParsedList({"invoices:read"}) == List{"invoices:read"}));
  BOOST_TEST((ParsedList({"x:read", "x:read", "x:read"}) == List{"x:read"}));
}

BOOST_AUTO_TEST_CASE(parse_accepts_64_char_resource) {
  const std::string r64 = "a" + std::string(63, '9');
  BOOST_TEST((ParsedList({r64 + ":write"}) == List{r64 + ":write"}));
}

BOOST_AUTO_TEST_CASE(parse_rejects_invalid_lists_with_field_abilities) {
  CheckRejected({});
  CheckRejected({"invoices:delete"});             // bad action
  CheckRejected({"Invoices:read"});               // uppercase resource
  CheckRejected({"a" + std::string(64, 'b') + ":read"});  // 65-char resource
  CheckRejected({"invoicesread"});                // missing colon
  CheckRejected({""});
  CheckRejected({"invoices:read", "invoices:admin"});  // one bad entry spoils the list
  CheckRejected({"*:read", "*"});
}

BOOST_AUTO_TEST_CASE(parse_limits_entries_to_100) {
  List hundred;
  for (int i = 0; i < 100; ++i) hundred.push_back("r" + std::to_string(i) + ":read");
  const Result<Abilities> ok = Abilities::Parse(hundred);
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->list().size() == 100u);
  BOOST_TEST(ok->Allows("r99:read"));
  BOOST_TEST(!ok->Allows("r100:read"));

  List hundred_one = hundred;
  hundred_one.push_back("r100:read");
  CheckRejected(hundred_one);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
