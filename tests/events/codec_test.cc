#define BOOST_TEST_MODULE events
#include <boost/test/unit_test.hpp>

#include "events/codec.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"
#include "core/time_format.h"
#include "events/codec_fast_path.h"
#include "events/event.h"

namespace keyledger {
namespace {

using namespace std::string_literals;

// A key.created event is recorded without its token: only the digest and the display prefix.
template <typename T>
constexpr bool kHasToken = requires(const T& t) {
  t.token;
};
static_assert(!kHasToken<KeyCreated>);

constexpr TimeMs kTs = 1795428000123;  // 2026-11-23T10:00:00.123Z

Digest PatternDigest(uint8_t seed) {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(seed + 7 * i);
  return d;
}

// Printable, unambiguous rendering of a string for diagnostics (hostile strings include NUL).
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Every field of an event, written independently of the codec, so that two events compare equal
// exactly when every field does.
struct Describer {
  std::string& o;
  void S(std::string_view name, std::string_view v) {
    o += " " + std::string(name) + "=" + Quote(v);
  }
  void I(std::string_view name, int64_t v) {
    o += " " + std::string(name) + "=" + std::to_string(v);
  }
  void operator()(const WorkspaceCreated& d) {
    o += "WorkspaceCreated";
    S("name", d.name);
    S("plan", PlanName(d.plan));
    I("max_expiry_days", d.max_expiry_days);
  }
  void operator()(const WorkspaceUpdated& d) {
    o += "WorkspaceUpdated";
    S("plan", PlanName(d.plan));
    I("max_expiry_days", d.max_expiry_days);
  }
  void operator()(const KeyCreated& d) {
    o += "KeyCreated";
    S("kind", KeyKindName(d.kind));
    S("name", d.name);
    S("prefix", d.prefix);
    S("digest", ToHex(d.digest));
    S("owner", d.owner);
    S("description", d.description);
    S("role", d.role);
    I("preset", static_cast<int>(d.preset));
    o += " abilities=[";
    for (const auto& a : d.abilities) o += Quote(a) + ",";
    o += "] metadata={";
    for (const auto& [k, v] : d.metadata) o += Quote(k) + ":" + Quote(v) + ",";
    o += "}";
    I("expires_at", d.expires_at);
    S("rotated_from", d.rotated_from);
    S("idempotency_key", d.idempotency_key);
    S("request_digest", ToHex(d.request_digest));
  }
  void operator()(const KeyRotated& d) {
    o += "KeyRotated";
    S("new_key_id", d.new_key_id);
    I("grace_until", d.grace_until);
  }
  void operator()(const KeyRevoked& d) {
    o += "KeyRevoked";
    S("reason", d.reason);
  }
  void operator()(const KeyExpired& d) {
    o += "KeyExpired";
    S("reason", d.reason);
  }
  void operator()(const KeyUsed& d) {
    o += "KeyUsed";
    S("outcome", UseOutcomeName(d.outcome));
    S("ability", d.ability);
    S("source_ip", d.source_ip);
  }
};

std::string Describe(const Event& e) {
  std::string o = "seq=" + std::to_string(e.seq) + " ts=" + std::to_string(e.ts);
  Describer d{o};
  d.S("workspace", e.workspace);
  d.S("key_id", e.key_id);
  d.S("actor", e.actor);
  d.S("prev_hash", ToHex(e.prev_hash));
  d.S("hash", ToHex(e.hash));
  o += " data=";
  std::visit(d, e.data);
  return o;
}

Event MakeEvent(EventData data) {
  Event e;
  e.seq = 42;
  e.ts = kTs;
  e.workspace = "ws_acme";
  e.key_id = "key_0123456789";
  e.actor = "key_admin";
  e.data = std::move(data);
  e.prev_hash = PatternDigest(3);
  e.hash = PatternDigest(9);
  return e;
}

// Encodes `e`, decodes it with e.hash and checks every field came back, and that encoding the
// decoded event gives the same bytes.
void CheckRoundTrip(const Event& e) {
  const std::string body = EncodeBody(e);
  const Result<Event> decoded = DecodeBody(body, e.hash);
  BOOST_TEST_REQUIRE(decoded.ok(), decoded.status().message() << " in " << body);
  BOOST_TEST(Describe(*decoded) == Describe(e));
  BOOST_TEST((decoded->type() == e.type()));
  BOOST_TEST(EncodeBody(*decoded) == body);
}

// simdjson's DOM parser validates the whole document, UTF-8 included.
bool IsValidJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  return parser.parse(simdjson::padded_string(json)).get(element) == simdjson::SUCCESS;
}

// `json` without insignificant white space (simdjson's minifier).
std::string Minified(std::string_view json) {
  std::string out(json.size(), '\0');
  size_t len = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), len) != simdjson::SUCCESS)
    return "<bad>";
  out.resize(len);
  return out;
}

std::vector<std::string> TopLevelKeys(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::vector<std::string> keys;
  if (parser.parse(simdjson::padded_string(json)).get(root) != simdjson::SUCCESS) return {"<bad>"};
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return {"<not an object>"};
  for (auto field : object) keys.emplace_back(field.key);
  return keys;
}

std::vector<std::string> DataKeys(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::vector<std::string> keys;
  if (parser.parse(simdjson::padded_string(json)).get(root) != simdjson::SUCCESS) return {"<bad>"};
  simdjson::dom::object data;
  if (root["data"].get_object().get(data) != simdjson::SUCCESS) return {"<no data>"};
  for (auto field : data) keys.emplace_back(field.key);
  return keys;
}

KeyCreated FullKeyCreated() {
  KeyCreated d;
  d.kind = KeyKind::kAdmin;
  d.name = "billing exporter";
  d.prefix = "kl_live_abcd";
  d.digest = PatternDigest(11);
  d.owner = "alice@example.com";
  d.description = "nightly export";
  d.role = "auditor";
  d.preset = Preset::kReadOnly;
  d.abilities = {"invoices:read", "*:read"};
  d.metadata = {{"team", "billing"}, {"cost_center", "42"}, {"a", ""}};
  d.expires_at = kTs + 30 * kDayMs;
  d.rotated_from = "key_old";
  d.idempotency_key = "idem-1";
  d.request_digest = PatternDigest(200);
  return d;
}

// Strings that must survive the JSON encoding byte for byte.
std::vector<std::string> HostileStrings() {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  return {
      "\"quoted\" \"\"",
      "back\\slash\\\\ \\u0041 \\n",
      controls,
      "\0"s,
      "embedded\0nul\0"s,
      "</script><script>alert(1)</script>",
      "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xE2\x80\xA8\xE2\x80\xA9",
      "del\x7F",
      "{\"seq\":1,\"type\":\"key.used\"}",
      "mixed \"\\\n\t\r\b\f\x01\x1F\0 \xC3\xA9</script>"s,
  };
}

void CheckRejected(std::string_view body, std::string_view why) {
  const Result<Event> r = DecodeBody(body, Digest{});
  BOOST_TEST(!r.ok(), why << ": accepted " << body);
  if (!r.ok()) BOOST_TEST((r.status().code() == StatusCode::kInvalidArgument), why);
}

// `body` with the one occurrence of `from` replaced by `to`.
std::string Replaced(std::string body, std::string_view from, std::string_view to) {
  const size_t at = body.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, "no " << from << " in " << body);
  BOOST_TEST_REQUIRE(body.find(from, at + 1) == std::string::npos, from << " twice in " << body);
  return body.replace(at, from.size(), to);
}

std::string EvpSha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  BOOST_TEST_REQUIRE(
      EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1);
  BOOST_TEST_REQUIRE(len == 32u);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(CodecTest)

BOOST_AUTO_TEST_CASE(GoldenBodyHasTheDocumentedBytes) {
  Event e = MakeEvent(KeyRevoked{"leaked"});
  e.seq = 7;
  e.actor = "";
  e.prev_hash = Digest{};
  e.prev_hash[31] = 0xAB;
  BOOST_TEST(
      EncodeBody(e) ==
      R"({"seq":7,"ts":"2026-11-23T10:00:00.123Z","type":"key.revoked","workspace":"ws_acme",)"
      R"("key_id":"key_0123456789","actor":null,"data":{"reason":"leaked"},)"
      R"("prev_hash":"00000000000000000000000000000000000000000000000000000000000000ab"})");
}

BOOST_AUTO_TEST_CASE(BodyIsValidJsonWithTheDocumentedFieldOrder) {
  const std::vector<EventData> all = {
      WorkspaceCreated{"Acme", Plan::kPro, 90},
      WorkspaceUpdated{Plan::kFree, 30},
      FullKeyCreated(),
      KeyRotated{"key_new", kTs + kHourMs},
      KeyRevoked{"leaked"},
      KeyExpired{"expired"},
      KeyUsed{UseOutcome::kForbidden, "invoices:write", "10.0.0.1"}};
  const std::vector<std::string> expected = {"seq",    "ts",    "type", "workspace",
                                             "key_id", "actor", "data", "prev_hash"};
  for (const EventData& data : all) {
    const Event e = MakeEvent(data);
    const std::string body = EncodeBody(e);
    BOOST_TEST(IsValidJson(body), body);
    BOOST_TEST(TopLevelKeys(body) == expected, body);
    BOOST_TEST(Minified(body) == body, "insignificant white space in " << body);

    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(simdjson::padded_string(body));
    BOOST_TEST(uint64_t(root["seq"]) == 42u);
    BOOST_TEST(std::string_view(root["ts"]) == "2026-11-23T10:00:00.123Z");
    BOOST_TEST(std::string_view(root["type"]) == EventTypeName(e.type()));
    BOOST_TEST(std::string_view(root["prev_hash"]) == ToHex(e.prev_hash));
  }
}

BOOST_AUTO_TEST_CASE(DataFieldsFollowTheStructOrderAndOmitUnsetOptionals) {
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(FullKeyCreated()))) ==
             (std::vector<std::string>{"kind", "name", "prefix", "digest", "owner", "description",
                                       "role", "preset", "abilities", "metadata", "expires_at",
                                       "rotated_from", "idempotency_key", "request_digest"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(KeyCreated{}))) ==
             (std::vector<std::string>{"kind", "name", "prefix", "digest", "abilities"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(WorkspaceCreated{"Acme", Plan::kPro, 30}))) ==
             (std::vector<std::string>{"name", "plan", "max_expiry_days"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "::1"}))) ==
             (std::vector<std::string>{"outcome", "ability", "source_ip"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(KeyUsed{}))) == (std::vector<std::string>{"outcome"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(WorkspaceUpdated{Plan::kPro, 0}))) ==
             (std::vector<std::string>{"plan"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(WorkspaceUpdated{Plan::kPro, 30}))) ==
             (std::vector<std::string>{"plan", "max_expiry_days"}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(KeyRevoked{}))) == (std::vector<std::string>{}));
  BOOST_TEST(DataKeys(EncodeBody(MakeEvent(KeyRotated{"key_n", 0}))) ==
             (std::vector<std::string>{"new_key_id", "grace_until"}));
}

BOOST_AUTO_TEST_CASE(WorkspaceEventsRoundTrip) {
  for (Plan plan : {Plan::kFree, Plan::kPro}) {
    for (int64_t days : {int64_t{0}, int64_t{1}, int64_t{365}, int64_t{-5}, int64_t{1} << 40}) {
      CheckRoundTrip(MakeEvent(WorkspaceCreated{"Acme Corp", plan, days}));
    }
    CheckRoundTrip(MakeEvent(WorkspaceCreated{"", plan, 365}));
    CheckRoundTrip(MakeEvent(WorkspaceUpdated{plan, 0}));  // lifetime unchanged
    CheckRoundTrip(MakeEvent(WorkspaceUpdated{plan, 90}));
    CheckRoundTrip(MakeEvent(WorkspaceUpdated{plan, 3650}));
  }
}

BOOST_AUTO_TEST_CASE(KeyCreatedRoundTripsWithEveryCombinationOfOptionalFields) {
  const KeyCreated full = FullKeyCreated();
  constexpr int kOptionals = 8;
  for (int mask = 0; mask < (1 << kOptionals); ++mask) {
    KeyCreated d;
    d.kind = static_cast<KeyKind>(mask % 3);
    d.name = full.name;
    d.prefix = full.prefix;
    d.digest = full.digest;
    if (mask & 1) d.owner = full.owner;
    if (mask & 2) d.description = full.description;
    if (mask & 4) d.role = full.role;
    if (mask & 8) d.preset = (mask & 64) ? Preset::kFullAccess : Preset::kReadOnly;
    if (mask & 16) d.abilities = full.abilities;
    if (mask & 32) d.metadata = full.metadata;
    if (mask & 64) d.expires_at = full.expires_at;
    if (mask & 128) d.rotated_from = full.rotated_from;
    if (mask & 1) {  // idempotency_key and request_digest are written together
      d.idempotency_key = full.idempotency_key;
      d.request_digest = full.request_digest;
    }
    BOOST_TEST_CONTEXT("mask " << mask) { CheckRoundTrip(MakeEvent(d)); }
  }
  CheckRoundTrip(MakeEvent(KeyCreated{}));
}

BOOST_AUTO_TEST_CASE(KeyLifecycleEventsRoundTrip) {
  CheckRoundTrip(MakeEvent(KeyRotated{"key_new", kTs + 7 * kDayMs}));
  CheckRoundTrip(MakeEvent(KeyRotated{"key_new", 0}));
  CheckRoundTrip(MakeEvent(KeyRevoked{"leaked in CI logs"}));
  CheckRoundTrip(MakeEvent(KeyRevoked{""}));
  CheckRoundTrip(MakeEvent(KeyExpired{"expired"}));
  CheckRoundTrip(MakeEvent(KeyExpired{"rotated"}));
  CheckRoundTrip(MakeEvent(KeyExpired{""}));
}

BOOST_AUTO_TEST_CASE(KeyUsedRoundTripsForEveryOutcome) {
  for (int o = 0; o < 7; ++o) {
    const auto outcome = static_cast<UseOutcome>(o);
    CheckRoundTrip(MakeEvent(KeyUsed{outcome, "", ""}));
    CheckRoundTrip(MakeEvent(KeyUsed{outcome, "invoices:read", ""}));
    CheckRoundTrip(MakeEvent(KeyUsed{outcome, "", "2001:db8::1"}));
    CheckRoundTrip(MakeEvent(KeyUsed{outcome, "*:write", "203.0.113.9"}));
  }
}

BOOST_AUTO_TEST_CASE(NullableEnvelopeFieldsRoundTrip) {
  for (int mask = 0; mask < 8; ++mask) {
    Event e = MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "10.1.1.1"});
    if (!(mask & 1)) e.workspace.clear();
    if (!(mask & 2)) e.key_id.clear();
    if (!(mask & 4)) e.actor.clear();
    BOOST_TEST_CONTEXT("mask " << mask) { CheckRoundTrip(e); }
  }
  Event first = MakeEvent(WorkspaceCreated{"Acme", Plan::kFree, 365});
  first.seq = 1;
  first.prev_hash = Digest{};
  first.ts = 0;
  CheckRoundTrip(first);
  Event last = MakeEvent(KeyRevoked{"x"});
  last.seq = UINT64_MAX;
  last.ts = 253402300799999;  // 9999-12-31T23:59:59.999Z
  CheckRoundTrip(last);
}

BOOST_AUTO_TEST_CASE(HostileStringsRoundTripExactly) {
  for (const std::string& s : HostileStrings()) {
    BOOST_TEST_CONTEXT("string " << Quote(s)) {
      Event envelope = MakeEvent(KeyRevoked{s});
      envelope.workspace = s;
      envelope.key_id = s;
      envelope.actor = s;
      CheckRoundTrip(envelope);

      KeyCreated created = FullKeyCreated();
      created.name = s;
      created.owner = s;
      created.description = s;
      created.prefix = s;
      created.abilities = {s};
      created.metadata = {{s, s}, {"plain", s}, {s + "2", "plain"}};
      created.rotated_from = s;
      created.idempotency_key = s;
      CheckRoundTrip(MakeEvent(created));

      CheckRoundTrip(MakeEvent(WorkspaceCreated{s, Plan::kPro, 7}));
      CheckRoundTrip(MakeEvent(KeyExpired{s}));
      CheckRoundTrip(MakeEvent(KeyRotated{s, kTs}));
      CheckRoundTrip(MakeEvent(KeyUsed{UseOutcome::kRateLimited, s, s}));

      for (const Event& e : {envelope, MakeEvent(created), MakeEvent(KeyUsed{{}, s, s})}) {
        const std::string body = EncodeBody(e);
        BOOST_TEST(IsValidJson(body));
        bool raw_control = false;
        for (unsigned char c : body) raw_control = raw_control || c < 0x20;
        BOOST_TEST(!raw_control, "raw control character in " << Quote(body));
        BOOST_TEST(TopLevelKeys(body).size() == 8u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(EncodingIsDeterministic) {
  const Event a = MakeEvent(FullKeyCreated());
  const Event b = MakeEvent(FullKeyCreated());  // built separately
  const std::string body = EncodeBody(a);
  BOOST_TEST(EncodeBody(a) == body);
  BOOST_TEST(EncodeBody(b) == body);
  // The hash is not part of the body, so it cannot change it.
  Event c = a;
  c.hash = PatternDigest(77);
  BOOST_TEST(EncodeBody(c) == body);
  // Metadata order is the insertion order and is part of the canonical bytes.
  KeyCreated swapped = FullKeyCreated();
  std::swap(swapped.metadata[0], swapped.metadata[1]);
  BOOST_TEST(EncodeBody(MakeEvent(swapped)) != body);
  // Any field change changes the bytes.
  Event d = a;
  d.seq += 1;
  BOOST_TEST(EncodeBody(d) != body);
  d = a;
  d.ts += 1;
  BOOST_TEST(EncodeBody(d) != body);
  d = a;
  d.prev_hash[0] ^= 1;
  BOOST_TEST(EncodeBody(d) != body);
}

BOOST_AUTO_TEST_CASE(ChainHashIsSha256OfPrevHashThenBody) {
  for (const Event& e :
       {MakeEvent(FullKeyCreated()), MakeEvent(KeyUsed{}), MakeEvent(KeyRevoked{})}) {
    const std::string body = EncodeBody(e);
    const std::string prev(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size());
    const Digest chained = ChainHash(e.prev_hash, body);
    BOOST_TEST(std::string(AsBytes(chained)) == EvpSha256(prev + body));
    BOOST_TEST(std::string(AsBytes(chained)) != EvpSha256(body + prev));
    BOOST_TEST(std::string(AsBytes(ChainHash(Digest{}, body))) ==
               EvpSha256(std::string(32, '\0') + body));
  }
  // Fixed vector: SHA-256 of 32 zero bytes.
  BOOST_TEST(ToHex(ChainHash(Digest{}, "")) ==
             "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

BOOST_AUTO_TEST_CASE(StoredValueLayoutIsVersionHashBody) {
  const Event e = MakeEvent(FullKeyCreated());
  const std::string body = EncodeBody(e);
  const Digest hash = ChainHash(e.prev_hash, body);
  const std::string value = EncodeStoredValue(hash, body);
  BOOST_TEST_REQUIRE(value.size() == 1 + 32 + body.size());
  BOOST_TEST(static_cast<uint8_t>(value[0]) == 1u);
  BOOST_TEST(value.substr(1, 32) == std::string(AsBytes(hash)));
  BOOST_TEST(value.substr(33) == body);

  const Result<StoredParts> parts = SplitStoredValue(value);
  BOOST_TEST_REQUIRE(parts.ok());
  BOOST_TEST(ToHex(parts->hash) == ToHex(hash));
  BOOST_TEST(parts->body == body);

  Event expected = e;
  expected.hash = hash;
  const Result<Event> decoded = DecodeStoredValue(value);
  BOOST_TEST_REQUIRE(decoded.ok(), decoded.status().message());
  BOOST_TEST(Describe(*decoded) == Describe(expected));
}

BOOST_AUTO_TEST_CASE(StoredValueWithWrongVersionOrTooShortIsRejected) {
  const Event e = MakeEvent(KeyUsed{});
  const std::string body = EncodeBody(e);
  const std::string value = EncodeStoredValue(e.hash, body);
  for (uint8_t version : {0, 2, 0x7F, 0xFF}) {
    std::string bad = value;
    bad[0] = static_cast<char>(version);
    BOOST_TEST(!SplitStoredValue(bad).ok(), "version " << int(version));
    const Result<Event> r = DecodeStoredValue(bad);
    BOOST_TEST(!r.ok());
    if (!r.ok()) BOOST_TEST((r.status().code() == StatusCode::kInvalidArgument));
  }
  for (size_t size : {size_t{0}, size_t{1}, size_t{32}, size_t{33}, size_t{34}}) {
    const Result<StoredParts> r = SplitStoredValue(value.substr(0, size));
    BOOST_TEST(!r.ok(), "size " << size);
    if (!r.ok()) BOOST_TEST((r.status().code() == StatusCode::kInvalidArgument));
    BOOST_TEST(!DecodeStoredValue(value.substr(0, size)).ok(), "size " << size);
  }
  // A header with a body that is not an event.
  BOOST_TEST(!DecodeStoredValue(EncodeStoredValue(e.hash, "{}")).ok());
  // Truncating the body of a real value.
  BOOST_TEST(!DecodeStoredValue(value.substr(0, value.size() - 1)).ok());
}

BOOST_AUTO_TEST_CASE(MalformedJsonIsRejected) {
  const std::string body = EncodeBody(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "1.2.3.4"}));
  BOOST_TEST_REQUIRE(DecodeBody(body, Digest{}).ok());
  CheckRejected("", "empty");
  CheckRejected("not json", "not json");
  CheckRejected("[]", "an array");
  CheckRejected("42", "a number");
  CheckRejected("null", "null");
  CheckRejected(body.substr(0, body.size() - 1), "missing closing brace");
  CheckRejected(body.substr(0, body.size() / 2), "truncated in the middle");
  CheckRejected(Replaced(body, "\"seq\":42,", "\"seq\":42"), "missing comma");
  CheckRejected(Replaced(body, "\"ts\":", "\"ts\" "), "missing colon");
  CheckRejected(Replaced(body, "\"1.2.3.4\"", "\"1.2.3.4"), "unterminated string");
  CheckRejected(Replaced(body, "1.2.3.4", "1.2.3.4\xFF"), "invalid UTF-8");
  CheckRejected(Replaced(body, "1.2.3.4", "1\\q"), "bad escape");
  CheckRejected(body + "}", "extra closing brace");
  CheckRejected(body + "{\"seq\":1}", "a second document after the event");
  CheckRejected(body + "garbage", "trailing garbage");
}

BOOST_AUTO_TEST_CASE(UnknownTypeIsRejected) {
  const std::string body = EncodeBody(MakeEvent(KeyRevoked{"r"}));
  CheckRejected(Replaced(body, "\"key.revoked\"", "\"key.deleted\""), "unknown type");
  CheckRejected(Replaced(body, "\"key.revoked\"", "\"\""), "empty type");
  CheckRejected(Replaced(body, "\"key.revoked\"", "\"KEY.REVOKED\""), "type in capitals");
  CheckRejected(Replaced(body, "\"key.revoked\"", "3"), "type as a number");
  CheckRejected(Replaced(body, "\"key.revoked\"", "null"), "type null");
}

BOOST_AUTO_TEST_CASE(MissingRequiredFieldsAreRejected) {
  for (const EventData& data : {EventData{WorkspaceCreated{"Acme", Plan::kPro, 30}},
                                EventData{KeyUsed{UseOutcome::kValid, "a:read", ""}}}) {
    const Event e = MakeEvent(data);
    const std::string body = EncodeBody(e);
    const std::string type = "\"type\":\"" + std::string(EventTypeName(e.type())) + "\",";
    BOOST_TEST_CONTEXT(body) {
      CheckRejected(Replaced(body, "\"seq\":42,", ""), "missing seq");
      CheckRejected(Replaced(body, "\"ts\":\"2026-11-23T10:00:00.123Z\",", ""), "missing ts");
      CheckRejected(Replaced(body, ",\"prev_hash\":\"" + ToHex(e.prev_hash) + "\"", ""),
                    "missing prev_hash");
      CheckRejected(Replaced(body, type, ""), "missing type");
      const size_t data_at = body.find(",\"data\":");
      const size_t prev_at = body.find(",\"prev_hash\":");
      BOOST_TEST_REQUIRE((data_at != std::string::npos && prev_at != std::string::npos));
      CheckRejected(std::string(body).erase(data_at, prev_at - data_at), "missing data");
    }
  }
}

BOOST_AUTO_TEST_CASE(EnvelopeFieldsOfTheWrongTypeAreRejected) {
  const Event e = MakeEvent(KeyRevoked{"r"});
  const std::string body = EncodeBody(e);
  CheckRejected(Replaced(body, "\"seq\":42", "\"seq\":\"42\""), "seq as a string");
  CheckRejected(Replaced(body, "\"seq\":42", "\"seq\":-42"), "negative seq");
  CheckRejected(Replaced(body, "\"seq\":42", "\"seq\":4.2"), "fractional seq");
  CheckRejected(Replaced(body, "\"seq\":42", "\"seq\":null"), "null seq");
  CheckRejected(Replaced(body, "2026-11-23T10:00:00.123Z", "yesterday"), "ts not a time");
  CheckRejected(Replaced(body, "\"2026-11-23T10:00:00.123Z\"", "1795428000123"), "ts as a number");
  CheckRejected(Replaced(body, "\"ws_acme\"", "7"), "workspace as a number");
  CheckRejected(Replaced(body, "\"key_admin\"", "[]"), "actor as an array");
  CheckRejected(Replaced(body, ToHex(e.prev_hash), ToHex(e.prev_hash).substr(2)),
                "short prev_hash");
  CheckRejected(Replaced(body, ToHex(e.prev_hash), "zz" + ToHex(e.prev_hash).substr(2)),
                "prev_hash not hex");
  CheckRejected(Replaced(body, "{\"reason\":\"r\"}", "\"r\""), "data as a string");
  CheckRejected(Replaced(body, "{\"reason\":\"r\"}", "null"), "data null");
}

BOOST_AUTO_TEST_CASE(DataFieldsOfTheWrongTypeAreRejected) {
  const std::string ws = EncodeBody(MakeEvent(WorkspaceCreated{"Acme", Plan::kPro, 30}));
  CheckRejected(Replaced(ws, "\"Acme\"", "5"), "workspace name as a number");
  CheckRejected(Replaced(ws, "\"max_expiry_days\":30", "\"max_expiry_days\":\"30\""),
                "days as a string");
  CheckRejected(Replaced(ws, "\"max_expiry_days\":30", "\"max_expiry_days\":1.5"),
                "fractional days");
  CheckRejected(Replaced(ws, "\"pro\"", "\"gold\""), "unknown plan");
  CheckRejected(Replaced(ws, "\"pro\"", "true"), "plan as a bool");
  const std::string upd = EncodeBody(MakeEvent(WorkspaceUpdated{Plan::kPro, 30}));
  CheckRejected(Replaced(upd, "\"pro\"", "\"platinum\""), "unknown plan in update");
  CheckRejected(Replaced(upd, "\"max_expiry_days\":30", "\"max_expiry_days\":\"30\""),
                "days as a string in update");

  const KeyCreated full = FullKeyCreated();
  const std::string key = EncodeBody(MakeEvent(full));
  CheckRejected(Replaced(key, "\"admin\"", "\"root\""), "unknown kind");
  CheckRejected(Replaced(key, "\"billing exporter\"", "{}"), "name as an object");
  CheckRejected(Replaced(key, ToHex(full.digest), "abc"), "short digest");
  CheckRejected(Replaced(key, "\"read_only\"", "\"everything\""), "unknown preset");
  CheckRejected(Replaced(key, "[\"invoices:read\",\"*:read\"]", "\"invoices:read\""),
                "abilities as a string");
  CheckRejected(Replaced(key, "[\"invoices:read\",\"*:read\"]", "[1,2]"), "abilities of numbers");
  CheckRejected(Replaced(key, "\"billing\"", "1"), "metadata value as a number");
  CheckRejected(
      Replaced(key, "{\"team\":\"billing\",\"cost_center\":\"42\",\"a\":\"\"}", "[\"team\"]"),
      "metadata as an array");
  CheckRejected(Replaced(key, FormatRfc3339(full.expires_at), "soon"), "bad expires_at");
  CheckRejected(Replaced(key, ToHex(full.request_digest), "x"), "bad request_digest");
  CheckRejected(Replaced(key, "\"owner\":\"alice@example.com\"", "\"owner\":false"),
                "owner as a bool");

  const std::string rotated = EncodeBody(MakeEvent(KeyRotated{"key_new", kTs + kHourMs}));
  CheckRejected(Replaced(rotated, "\"2026-11-23T11:00:00.123Z\"", "17"), "grace_until as a number");
  CheckRejected(Replaced(rotated, "2026-11-23T11:00:00.123Z", "2026-13-01T00:00:00.000Z"),
                "grace_until out of range");
  CheckRejected(Replaced(rotated, "\"key_new\"", "null"), "new_key_id null");

  const std::string used = EncodeBody(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "::1"}));
  CheckRejected(Replaced(used, "\"valid\"", "\"ok\""), "unknown outcome");
  CheckRejected(Replaced(used, "\"::1\"", "[]"), "source_ip as an array");
  CheckRejected(Replaced(used, "\"a:read\"", "0"), "ability as a number");

  const std::string expired = EncodeBody(MakeEvent(KeyExpired{"expired"}));
  CheckRejected(Replaced(expired, "\"reason\":\"expired\"", "\"reason\":1"), "reason as a number");
}

// The key.used fast path (codec_fast_path.h) takes exactly the canonical plain-ASCII bodies and
// gives the event the general decoder gives; everything else falls through to that decoder.
BOOST_AUTO_TEST_CASE(FastPathDecodesCanonicalUsesLikeTheGeneralDecoder) {
  std::vector<Event> events;
  for (UseOutcome outcome : {UseOutcome::kValid, UseOutcome::kForbidden, UseOutcome::kRevoked}) {
    for (const char* ability : {"", "invoices:read", "*:write"}) {
      for (const char* ip : {"", "10.1.2.3", "2001:db8::1"}) {
        Event e = MakeEvent(KeyUsed{outcome, ability, ip});
        e.actor = "";  // uses have no actor: null
        events.push_back(e);
      }
    }
  }
  Event no_workspace = MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "1.2.3.4"});
  no_workspace.workspace = "";
  events.push_back(no_workspace);
  for (const Event& e : events) {
    const std::string body = EncodeBody(e);
    Event fast;
    fast.data = KeyCreated{};  // a reused slot holding another type
    BOOST_TEST_REQUIRE(DecodeCanonicalKeyUsed(body, fast), body);
    fast.hash = e.hash;
    BOOST_TEST(Describe(fast) == Describe(e));
    // A reused slot that held a use is overwritten completely.
    Event reused = MakeEvent(KeyUsed{UseOutcome::kExpired, "other:read", "192.0.2.200"});
    BOOST_TEST_REQUIRE(DecodeCanonicalKeyUsed(body, reused));
    reused.hash = e.hash;
    BOOST_TEST(Describe(reused) == Describe(e));
  }
}

BOOST_AUTO_TEST_CASE(FastPathDeclinesWhatItDoesNotFullyUnderstand) {
  const Event e = MakeEvent(KeyUsed{UseOutcome::kValid, "invoices:read", "10.0.0.1"});
  const std::string body = EncodeBody(e);
  Event out;
  BOOST_TEST_REQUIRE(DecodeCanonicalKeyUsed(body, out));
  const std::vector<std::string> declined = {
      EncodeBody(MakeEvent(KeyRevoked{"r"})),                   // another type
      EncodeBody(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "caf\xC3\xA9"})),  // non-ASCII
      EncodeBody(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "q\"uote"})),      // an escape
      Replaced(body, "{\"seq\":42,", "{ \"seq\":42,"),          // white space
      Replaced(body, "\"seq\":42", "\"seq\":042"),               // not canonical
      Replaced(body, "\"seq\":42", "\"seq\":99999999999999999999"),  // overflow
      Replaced(body, "\"outcome\":\"valid\"", "\"outcome\":\"maybe\""),
      Replaced(body, "\"source_ip\":\"10.0.0.1\"", "\"source_ip\":\"10.0.0.1\",\"x\":1"),
      Replaced(body, "2026-11-23T10:00:00.123Z", "2026-11-23T25:00:00.123Z"),
      body.substr(0, body.size() - 1),                           // truncated
      body + " ",                                                 // trailing
      Replaced(body, ToHex(e.prev_hash), ToHex(e.prev_hash).substr(2) + "zz"),
  };
  for (const std::string& b : declined) {
    Event slot;
    BOOST_TEST(!DecodeCanonicalKeyUsed(b, slot), "took " << b);
  }
  // Declined bodies still decode (or fail) through the general decoder, unchanged.
  CheckRoundTrip(MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", "q\"uote"}));
  CheckRejected(Replaced(body, "\"outcome\":\"valid\"", "\"outcome\":\"maybe\""), "unknown outcome");
  CheckRejected(body + " x", "trailing content");
}

// The fast path scans strings many bytes at a time: every length must be taken whole, and an
// unplain byte (control, DEL, non-ASCII, quote, backslash) declined at every position.
BOOST_AUTO_TEST_CASE(FastPathChecksEveryByteOfEveryStringLength) {
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789 !#$%&'()*+,-./:;<=>?@[]^_`{|}~";
  for (size_t length = 0; length <= plain.size(); ++length) {
    const std::string ip = plain.substr(0, length);
    const Event e = MakeEvent(KeyUsed{UseOutcome::kValid, "a:read", ip});
    const std::string body = EncodeBody(e);
    Event out;
    BOOST_TEST_REQUIRE(DecodeCanonicalKeyUsed(body, out), body);
    BOOST_TEST(std::get<KeyUsed>(out.data).source_ip == ip);
    for (size_t at = 0; at < length; ++at) {
      for (const char bad : {'\x00', '\x1f', '\x7f', '\x80', '\xff', '"', '\\'}) {
        std::string raw_ip = ip;
        raw_ip[at] = bad;
        const std::string tampered = Replaced(body, "\"source_ip\":\"" + ip + "\"", "\"source_ip\":\"" + raw_ip + "\"");
        Event slot;
        BOOST_TEST(!DecodeCanonicalKeyUsed(tampered, slot), "length " << length << " at " << at << " byte "
                                                                    << static_cast<int>(static_cast<unsigned char>(bad)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ApiJsonIsTheBodyWithTheHashAppended) {
  const Event e = MakeEvent(FullKeyCreated());
  const std::string body = EncodeBody(e);
  const Digest hash = ChainHash(e.prev_hash, body);
  const std::string api = EventToApiJson(body, hash);
  BOOST_TEST(api == body.substr(0, body.size() - 1) + ",\"hash\":\"" + ToHex(hash) + "\"}");
  BOOST_TEST(IsValidJson(api));
  BOOST_TEST(TopLevelKeys(api) ==
             (std::vector<std::string>{"seq", "ts", "type", "workspace", "key_id", "actor", "data",
                                       "prev_hash", "hash"}));
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(simdjson::padded_string(api));
  BOOST_TEST(std::string_view(root["hash"]) == ToHex(hash));
  BOOST_TEST(std::string_view(root["data"]["owner"]) == "alice@example.com");
}

BOOST_AUTO_TEST_CASE(KeyCreatedCarriesOnlyTheDigestAndPrefixOfItsToken) {
  const std::string token = "kl_live_0123456789abcdefghijklmnopqrstuvwxyzABCD";
  KeyCreated d;
  d.name = "ci";
  d.prefix = token.substr(0, 12);
  d.digest = Sha256(token);
  d.abilities = {"builds:write"};
  const Event e = MakeEvent(d);
  const std::string body = EncodeBody(e);
  BOOST_TEST(body.find(token) == std::string::npos);
  BOOST_TEST(body.find(token.substr(12)) == std::string::npos);
  BOOST_TEST(body.find(ToHex(Sha256(token))) != std::string::npos);
  BOOST_TEST(body.find("\"prefix\":\"" + token.substr(0, 12) + "\"") != std::string::npos);
  CheckRoundTrip(e);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger
