// API-key management for a workspace's admins; the GETs also for its auditors.

#include "core/json_writer.h"
#include "core/sha256.h"
#include "core/time_format.h"
#include "http/json_input.h"
#include "http/routes.h"
#include "http/views.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

// Idempotent retries match on the route and the exact body. Only a request with an
// Idempotency-Key is ever matched, so the others are not digested (a SHA-256 of the body per
// creation otherwise).
Digest RequestDigest(std::string_view idempotency_key, std::string_view route,
                     const ExchangePtr& ex) {
  return idempotency_key.empty() ? Digest{} : Sha256(route, ex->body());
}

// The answer to a creation or rotation, built while its fsync is still to come (Reply in
// projections/reply.h) and sent once the key is durable.
Reply<CreatedKey> ReplyCreated(const ExchangePtr& ex) {
  return [ex](Result<CreatedKey> r) -> Reply<CreatedKey>::Deliver {
    if (!r.ok()) return [ex, s = r.status()] { ex->Fail(s); };
    ex->Prepare(r->replayed ? 200 : 201, CreatedKeyJson(*r));
    return [ex] { ex->ReplyPrepared(); };
  };
}

// The preset and expires_at of a creation or rotation body, as given (absent stays absent).
Status ReadKeyChoices(const std::optional<std::string>& preset_text,
                      const std::optional<std::string>& expires_at_text, std::optional<Preset>& preset,
                      std::optional<TimeMs>& expires_at) {
  if (preset_text) {
    preset = ParsePreset(*preset_text);
    if (!preset) return Status::Invalid("preset must be full_access or read_only.", "preset");
  }
  if (expires_at_text) {
    expires_at = ParseRfc3339(*expires_at_text);
    if (!expires_at) return Status::Invalid("expires_at must be an RFC 3339 time.", "expires_at");
  }
  return Status::Ok();
}

void CreateKey(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kManageKeys, ex->param(0));
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(), {"name", "preset", "abilities", "owner", "description",
                                             "expires_at", "expires_in_days", "metadata"});
  if (!input.ok()) return ex->Fail(input.status());
  CreateKeyInput in;
  std::optional<std::string> name, preset, owner, description, expires_at;
  std::optional<Metadata> metadata;
  for (Status s : {input->String("name", name), input->String("preset", preset),
                   input->String("owner", owner), input->String("description", description),
                   input->String("expires_at", expires_at),
                   input->StringArray("abilities", in.abilities),
                   input->Int("expires_in_days", in.expires_in_days),
                   input->StringMap("metadata", metadata)}) {
    if (!s.ok()) return ex->Fail(s);
  }
  if (!name) return ex->Fail(Status::Invalid("name is required.", "name"));
  in.name = std::move(*name);
  in.owner = std::move(owner).value_or("");
  in.description = std::move(description).value_or("");
  in.metadata = std::move(metadata).value_or(Metadata{});
  if (Status s = ReadKeyChoices(preset, expires_at, in.preset, in.expires_at); !s.ok()) return ex->Fail(s);
  in.idempotency_key = std::string(ex->Header("Idempotency-Key"));
  in.request_digest = RequestDigest(in.idempotency_key, "create\n", ex);
  ledger.CreateApiKey(*p, ex->param(0), std::move(in), ReplyCreated(ex));
}

std::string KeyPageJson(const KeyPage& page) {
  JsonWriter w;
  w.BeginObject().Key("keys").BeginArray();
  for (const KeyState& key : page.keys) WriteKey(w, key);
  w.EndArray().NullableField("next_cursor", page.next_cursor);
  return w.EndObject().Take();
}

void ListKeys(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  const std::string status = ex->Query("status").value_or("active");
  KeyFilter filter;
  if (status == "active") filter = KeyFilter::kActive;
  else if (status == "expired") filter = KeyFilter::kExpired;
  else if (status == "revoked") filter = KeyFilter::kRevoked;
  else if (status == "all") filter = KeyFilter::kAll;
  else return ex->Fail(Status::Invalid("status must be active, expired, revoked or all.", "status"));
  auto as_of = TimeParam(*ex, "as_of");
  if (!as_of.ok()) return ex->Fail(as_of.status());
  auto limit = LimitParam(*ex);
  if (!limit.ok()) return ex->Fail(limit.status());
  ledger.ListKeys(*p, std::string(ex->param(0)), filter, *limit, ex->Query("cursor").value_or(""),
                  *as_of, [ex](Result<KeyPage> page) {  // here, or from the read thread
                    ReplyWith(ex, page, 200, KeyPageJson);
                  });
}

void GetKey(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  auto as_of = TimeParam(*ex, "as_of");
  if (!as_of.ok()) return ex->Fail(as_of.status());
  ledger.GetKey(*p, std::string(ex->param(0)), std::string(ex->param(1)), *as_of,
                [ex](Result<KeyState> key) {  // here, or from the read thread
                  ReplyWith(ex, key, 200, KeyJson);
                });
}

void RotateKey(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kManageKeys, ex->param(0));
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(),
                                {"grace_seconds", "name", "preset", "abilities", "owner", "description",
                                 "expires_at", "expires_in_days", "metadata"},
                                true);
  if (!input.ok()) return ex->Fail(input.status());
  RotateKeyInput in;
  std::optional<int64_t> grace;
  std::optional<std::string> preset, expires_at;
  for (Status s : {input->Int("grace_seconds", grace), input->String("name", in.name),
                   input->String("preset", preset), input->StringArray("abilities", in.abilities),
                   input->String("owner", in.owner), input->String("description", in.description),
                   input->String("expires_at", expires_at), input->Int("expires_in_days", in.expires_in_days),
                   input->StringMap("metadata", in.metadata)}) {
    if (!s.ok()) return ex->Fail(s);
  }
  if (Status s = ReadKeyChoices(preset, expires_at, in.preset, in.expires_at); !s.ok()) return ex->Fail(s);
  in.grace_seconds = grace.value_or(0);
  in.idempotency_key = std::string(ex->Header("Idempotency-Key"));
  in.request_digest = RequestDigest(in.idempotency_key, "rotate " + ex->param(1) + "\n", ex);
  ledger.RotateKey(*p, ex->param(0), ex->param(1), std::move(in), ReplyCreated(ex));
}

void RevokeKey(const ExchangePtr& ex, Ledger& ledger) {
  RevokeRoute(ex, ledger, Action::kManageKeys, &Ledger::RevokeKey);
}

void KeyUsage(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  auto range = TimeRangeParams(*ex);
  if (!range.ok()) return ex->Fail(range.status());
  UsageQuery q;
  q.from = range->from;
  q.to = range->to;
  const std::string bucket = ex->Query("bucket").value_or("hour");
  if (bucket != "hour" && bucket != "day") {
    return ex->Fail(Status::Invalid("bucket must be hour or day.", "bucket"));
  }
  q.daily = bucket == "day";
  ReplyWith(ex, ledger.Usage(*p, ex->param(0), ex->param(1), q), 200, UsageJson);
}

}  // namespace

void RevokeRoute(const ExchangePtr& ex, Ledger& ledger, Action action, RevokeCommand revoke) {
  auto p = AuthenticateAdmin(ex, ledger, action, ex->param(0));
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(), {"reason"}, true);
  if (!input.ok()) return ex->Fail(input.status());
  std::optional<std::string> reason;
  if (Status s = input->String("reason", reason); !s.ok()) return ex->Fail(s);
  (ledger.*revoke)(*p, ex->param(0), ex->param(1), reason.value_or(""),
                   [ex](Result<KeyState> r) { ReplyWith(ex, r, 200, KeyJson); });
}

void AddKeyRoutes(Router& router, Ledger& ledger) {
  const std::string keys = "/admin/v1/workspaces/{ws}/keys";
  router.Add(bh::verb::post, keys, Bind(ledger, CreateKey));
  router.Add(bh::verb::get, keys, Bind(ledger, ListKeys), {"status", "as_of", "limit", "cursor"});
  router.Add(bh::verb::get, keys + "/{id}", Bind(ledger, GetKey), {"as_of"});
  router.Add(bh::verb::post, keys + "/{id}/rotate", Bind(ledger, RotateKey));
  router.Add(bh::verb::post, keys + "/{id}/revoke", Bind(ledger, RevokeKey));
  router.Add(bh::verb::get, keys + "/{id}/usage", Bind(ledger, KeyUsage), {"from", "to", "bucket"});
}

}  // namespace keyledger::http
