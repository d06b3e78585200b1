// LedgerState's canonical serialization, stored in checkpoints (projections/checkpoint.h):
//
//   {"seq":N,"ts":MS,
//    "workspaces":[{"id","name","plan","max_expiry_days","created_at","updated_at","key_ids":[…]}…],
//    "keys":[{…every KeyState field…,"usage":[[hour_start,count,rejected]…]}…]}
//
// Workspaces and keys are sorted by id; times are integer milliseconds; digests are hex. The
// digest, idempotency and deadline indexes are not stored: they are rebuilt from the keys.

#include <simdjson.h>

#include <algorithm>

#include "core/json_writer.h"
#include "projections/ledger_state.h"

namespace keyledger {
namespace {

template <typename Map>
std::vector<const typename Map::mapped_type*> SortedById(const Map& map) {
  std::vector<const typename Map::mapped_type*> out;
  out.reserve(map.size());
  for (const auto& [id, value] : map) out.push_back(&value);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  return out;
}

void WriteKey(JsonWriter& w, const KeyState& k) {
  w.BeginObject();
  w.Field("id", k.id).Field("kind", KeyKindName(k.kind)).Field("workspace", k.workspace);
  w.Field("name", k.name).Field("prefix", k.prefix).Field("digest", ToHex(k.digest));
  w.Field("owner", k.owner).Field("description", k.description).Field("role", k.role);
  w.Field("preset", PresetName(k.preset)).StringArray("abilities", k.abilities.list());
  w.Key("metadata").BeginArray();
  for (const auto& [mk, mv] : k.metadata) w.BeginArray().String(mk).String(mv).EndArray();
  w.EndArray();
  w.Field("status", KeyStatusName(k.status));
  w.Field("created_at", k.created_at).Field("created_by", k.created_by);
  w.Field("expires_at", k.expires_at).Field("grace_until", k.grace_until);
  w.Field("revoked_at", k.revoked_at).Field("ended_at", k.ended_at);
  w.Field("revoke_reason", k.revoke_reason).Field("last_used_at", k.last_used_at);
  w.Key("usage_count").Uint(k.usage_count).Key("rejected_count").Uint(k.rejected_count);
  w.Field("last_rejected_at", k.last_rejected_at).Field("last_rejected_ip", k.last_rejected_ip);
  w.Field("rotated_from", k.rotated_from).Field("rotated_to", k.rotated_to);
  w.Field("idempotency_key", k.idempotency_key);
  w.Field("request_digest", ToHex(k.request_digest));
  w.Key("usage").BeginArray();
  for (const UsageBucket& b : k.usage) {
    w.BeginArray().Int(b.hour_start).Uint(b.count).Uint(b.rejected).EndArray();
  }
  w.EndArray();
  w.EndObject();
}

struct Bad {
  const char* what;
};

template <typename T>
T Need(std::optional<T> v, const char* what) {
  if (!v) throw Bad{what};
  return *v;
}

std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

KeyStatus ParseStatus(std::string_view s) {
  if (s == "active") return KeyStatus::kActive;
  if (s == "expired") return KeyStatus::kExpired;
  if (s == "revoked") return KeyStatus::kRevoked;
  throw Bad{"status"};
}

KeyState ReadKey(simdjson::dom::object o) {
  KeyState k;
  k.id = Str(o["id"]);
  k.kind = Need(ParseKeyKind(std::string_view(o["kind"])), "kind");
  k.workspace = Str(o["workspace"]);
  k.name = Str(o["name"]);
  k.prefix = Str(o["prefix"]);
  k.digest = Need(DigestFromHex(std::string_view(o["digest"])), "digest");
  k.owner = Str(o["owner"]);
  k.description = Str(o["description"]);
  k.role = Str(o["role"]);
  const std::string_view preset = o["preset"];
  k.preset = preset.empty() ? Preset::kNone : Need(ParsePreset(preset), "preset");
  std::vector<std::string> abilities;
  for (auto a : simdjson::dom::array(o["abilities"])) abilities.push_back(Str(a));
  if (!abilities.empty()) {
    auto parsed = Abilities::Parse(abilities);
    if (!parsed.ok()) throw Bad{"abilities"};
    k.abilities = std::move(parsed).value();
  }
  for (auto pair : simdjson::dom::array(o["metadata"])) {
    simdjson::dom::array kv = pair;
    k.metadata.emplace_back(Str(kv.at(0)), Str(kv.at(1)));
  }
  k.status = ParseStatus(o["status"]);
  k.created_at = int64_t(o["created_at"]);
  k.created_by = Str(o["created_by"]);
  k.expires_at = int64_t(o["expires_at"]);
  k.grace_until = int64_t(o["grace_until"]);
  k.revoked_at = int64_t(o["revoked_at"]);
  k.ended_at = int64_t(o["ended_at"]);
  k.revoke_reason = Str(o["revoke_reason"]);
  k.last_used_at = int64_t(o["last_used_at"]);
  k.usage_count = uint64_t(o["usage_count"]);
  k.rejected_count = uint64_t(o["rejected_count"]);
  k.last_rejected_at = int64_t(o["last_rejected_at"]);
  k.last_rejected_ip = Str(o["last_rejected_ip"]);
  k.rotated_from = Str(o["rotated_from"]);
  k.rotated_to = Str(o["rotated_to"]);
  k.idempotency_key = Str(o["idempotency_key"]);
  k.request_digest = Need(DigestFromHex(std::string_view(o["request_digest"])), "request_digest");
  for (auto b : simdjson::dom::array(o["usage"])) {
    simdjson::dom::array t = b;
    k.usage.push_back({int64_t(t.at(0)), uint64_t(t.at(1)), uint64_t(t.at(2))});
  }
  return k;
}

}  // namespace

std::string LedgerState::Serialize() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("seq").Uint(applied_seq_).Field("ts", applied_ts_);
  w.Key("workspaces").BeginArray();
  for (const WorkspaceState* ws : SortedById(workspaces_)) {
    w.BeginObject();
    w.Field("id", ws->id).Field("name", ws->name).Field("plan", PlanName(ws->plan));
    w.Field("max_expiry_days", ws->max_expiry_days);
    w.Field("created_at", ws->created_at).Field("updated_at", ws->updated_at);
    w.StringArray("key_ids", ws->key_ids);
    w.EndObject();
  }
  w.EndArray();
  w.Key("keys").BeginArray();
  for (const KeyState* key : SortedById(keys_)) WriteKey(w, *key);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

Result<LedgerState> LedgerState::Deserialize(std::string_view bytes) {
  LedgerState state;
  simdjson::dom::parser parser;
  try {
    simdjson::dom::object root = parser.parse(bytes.data(), bytes.size());
    state.applied_seq_ = uint64_t(root["seq"]);
    state.applied_ts_ = int64_t(root["ts"]);
    for (simdjson::dom::object o : simdjson::dom::array(root["workspaces"])) {
      WorkspaceState ws;
      ws.id = Str(o["id"]);
      ws.name = Str(o["name"]);
      ws.plan = Need(ParsePlan(std::string_view(o["plan"])), "plan");
      ws.max_expiry_days = int64_t(o["max_expiry_days"]);
      ws.created_at = int64_t(o["created_at"]);
      ws.updated_at = int64_t(o["updated_at"]);
      for (auto id : simdjson::dom::array(o["key_ids"])) ws.key_ids.push_back(Str(id));
      state.workspaces_.emplace(ws.id, std::move(ws));
    }
    for (simdjson::dom::object o : simdjson::dom::array(root["keys"])) {
      KeyState key = ReadKey(o);
      const std::string id = key.id;
      KeyState& stored = state.keys_[id] = std::move(key);
      state.by_digest_[stored.digest] = id;
      if (!stored.idempotency_key.empty()) {
        // Keys come in id order, not log order: when an Idempotency-Key was reused after its
        // window, the newer creation must win, as it does in Apply.
        auto [it, inserted] =
            state.idempotency_.try_emplace({stored.workspace, stored.idempotency_key}, id);
        if (!inserted && state.keys_.at(it->second).created_at < stored.created_at) it->second = id;
      }
      if (stored.status == KeyStatus::kActive && stored.Deadline() != 0) {
        state.deadlines_.insert({stored.Deadline(), id});
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    return Status::Internal(std::string("checkpoint state is malformed: ") + e.what());
  } catch (const Bad& b) {
    return Status::Internal(std::string("checkpoint state is malformed: ") + b.what);
  }
  return state;
}

Digest LedgerState::Fingerprint() const { return Sha256(Serialize()); }

}  // namespace keyledger
