#include "http/views.h"

#include "core/time_format.h"

namespace keyledger::http {
namespace {

void TimeOrNull(JsonWriter& w, std::string_view key, TimeMs t) {
  w.Key(key);
  if (t == 0) {
    w.Null();
  } else {
    char text[kRfc3339MaxChars];
    w.String(std::string_view(text, FormatRfc3339Into(t, text)));
  }
}

}  // namespace

void WriteKey(JsonWriter& w, const KeyState& k) {
  w.BeginObject();
  w.Field("id", k.id).Field("kind", KeyKindName(k.kind));
  w.NullableField("workspace", k.workspace).Field("name", k.name).Field("prefix", k.prefix);
  w.NullableField("owner", k.owner).NullableField("description", k.description);
  w.NullableField("role", k.role).NullableField("preset", PresetName(k.preset));
  w.StringArray("abilities", k.abilities.list());
  w.Key("metadata").BeginObject();
  for (const auto& [mk, mv] : k.metadata) w.Field(mk, mv);
  w.EndObject();
  w.Field("status", KeyStatusName(k.status));
  TimeOrNull(w, "created_at", k.created_at);
  w.NullableField("created_by", k.created_by);
  TimeOrNull(w, "expires_at", k.expires_at);
  TimeOrNull(w, "grace_until", k.grace_until);
  TimeOrNull(w, "revoked_at", k.revoked_at);
  TimeOrNull(w, "last_used_at", k.last_used_at);
  w.Key("usage_count").Uint(k.usage_count);
  w.Key("rejected_count").Uint(k.rejected_count);
  w.NullableField("rotated_from", k.rotated_from).NullableField("rotated_to", k.rotated_to);
  w.EndObject();
}

std::string KeyJson(const KeyState& key) {
  JsonWriter w;
  WriteKey(w, key);
  return w.Take();
}

void WriteWorkspace(JsonWriter& w, const WorkspaceState& ws) {
  w.BeginObject();
  w.Field("id", ws.id).Field("name", ws.name).Field("plan", PlanName(ws.plan));
  w.Field("api_access", PlanHasApiAccess(ws.plan)).Field("max_expiry_days", ws.max_expiry_days);
  TimeOrNull(w, "created_at", ws.created_at);
  TimeOrNull(w, "updated_at", ws.updated_at);
  w.EndObject();
}

std::string CreatedKeyJson(const CreatedKey& created) {
  JsonWriter w;
  w.BeginObject().Key("key");
  WriteKey(w, created.key);
  w.NullableField("token", created.token);
  if (created.replayed) w.Field("replayed", true);
  if (created.replaced) {
    w.Key("replaced");
    WriteKey(w, *created.replaced);
  }
  w.EndObject();
  return w.Take();
}

std::string UsageJson(const UsageReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("total").Uint(r.total).Key("rejected").Uint(r.rejected);
  TimeOrNull(w, "last_used_at", r.last_used_at);
  w.Key("buckets").BeginArray();
  for (const UsageBucket& b : r.buckets) {
    w.BeginObject().Field("start", FormatRfc3339(b.hour_start));
    w.Key("count").Uint(b.count).Key("rejected").Uint(b.rejected).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace keyledger::http
