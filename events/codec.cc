#include "events/codec.h"

#include <simdjson.h>

#include <cstring>

#include "core/hex.h"
#include "core/json_writer.h"
#include "events/codec_fast_path.h"
#include "core/time_format.h"

namespace keyledger {
namespace {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

struct DataWriter {
  JsonWriter& w;
  void operator()(const WorkspaceCreated& d) {
    w.Field("name", d.name).Field("plan", PlanName(d.plan));
    w.Field("max_expiry_days", d.max_expiry_days);
  }
  void operator()(const WorkspaceUpdated& d) {
    w.Field("plan", PlanName(d.plan));
    if (d.max_expiry_days != 0) w.Field("max_expiry_days", d.max_expiry_days);
  }
  void operator()(const KeyCreated& d) {
    w.Field("kind", KeyKindName(d.kind)).Field("name", d.name).Field("prefix", d.prefix);
    char digest[2 * sizeof(Digest)];
    BytesToHexInto(AsBytes(d.digest), digest);
    w.Field("digest", std::string_view(digest, sizeof digest));
    if (!d.owner.empty()) w.Field("owner", d.owner);
    if (!d.description.empty()) w.Field("description", d.description);
    if (!d.role.empty()) w.Field("role", d.role);
    if (d.preset != Preset::kNone) w.Field("preset", PresetName(d.preset));
    w.StringArray("abilities", d.abilities);
    if (!d.metadata.empty()) {
      w.Key("metadata").BeginObject();
      for (const auto& [k, v] : d.metadata) w.Field(k, v);
      w.EndObject();
    }
    if (d.expires_at != 0) {
      char expires_at[kRfc3339MaxChars];
      const size_t n = FormatRfc3339Into(d.expires_at, expires_at);
      w.Field("expires_at", std::string_view(expires_at, n));
    }
    if (!d.rotated_from.empty()) w.Field("rotated_from", d.rotated_from);
    if (!d.idempotency_key.empty()) {
      w.Field("idempotency_key", d.idempotency_key);
      w.Field("request_digest", ToHex(d.request_digest));
    }
  }
  void operator()(const KeyRotated& d) {
    w.Field("new_key_id", d.new_key_id).Field("grace_until", FormatRfc3339(d.grace_until));
  }
  void operator()(const KeyRevoked& d) {
    if (!d.reason.empty()) w.Field("reason", d.reason);
  }
  void operator()(const KeyExpired& d) { w.Field("reason", d.reason); }
  void operator()(const KeyUsed& d) {
    w.Field("outcome", UseOutcomeName(d.outcome));
    if (!d.ability.empty()) w.Field("ability", d.ability);
    if (!d.source_ip.empty()) w.Field("source_ip", d.source_ip);
  }
};

// Decoding throws simdjson_error on a type mismatch; DecodeBody turns that into a Status.
struct Malformed {
  const char* what;
};

std::string Str(value v) { return std::string(std::string_view(v.get_string())); }

TimeMs Time(value v) {
  auto t = ParseRfc3339(std::string_view(v.get_string()));
  if (!t) throw Malformed{"bad timestamp"};
  return *t;
}

template <typename T>
T Required(std::optional<T> v, const char* what) {
  if (!v) throw Malformed{what};
  return *v;
}

void DecodeData(EventType type, object obj, EventData& out) {
  switch (type) {
    case EventType::kWorkspaceCreated: {
      WorkspaceCreated d;
      for (auto f : obj) {
        std::string_view k = f.unescaped_key();
        if (k == "name") d.name = Str(f.value());
        else if (k == "plan") d.plan = Required(ParsePlan(f.value().get_string()), "plan");
        else if (k == "max_expiry_days") d.max_expiry_days = f.value().get_int64();
      }
      out = std::move(d);
      return;
    }
    case EventType::kWorkspaceUpdated: {
      WorkspaceUpdated d;
      for (auto f : obj) {
        std::string_view k = f.unescaped_key();
        if (k == "plan") d.plan = Required(ParsePlan(f.value().get_string()), "plan");
        else if (k == "max_expiry_days") d.max_expiry_days = f.value().get_int64();
      }
      out = std::move(d);
      return;
    }
    case EventType::kKeyCreated: {
      KeyCreated d;
      for (auto f : obj) {
        std::string_view k = f.unescaped_key();
        if (k == "kind") d.kind = Required(ParseKeyKind(f.value().get_string()), "kind");
        else if (k == "name") d.name = Str(f.value());
        else if (k == "prefix") d.prefix = Str(f.value());
        else if (k == "digest")
          d.digest = Required(DigestFromHex(f.value().get_string()), "digest");
        else if (k == "owner") d.owner = Str(f.value());
        else if (k == "description") d.description = Str(f.value());
        else if (k == "role") d.role = Str(f.value());
        else if (k == "preset") d.preset = Required(ParsePreset(f.value().get_string()), "preset");
        else if (k == "abilities") {
          for (auto a : f.value().get_array()) d.abilities.emplace_back(Str(a.value()));
        } else if (k == "metadata") {
          for (auto m : f.value().get_object()) {
            std::string mk(std::string_view(m.unescaped_key()));
            d.metadata.emplace_back(std::move(mk), Str(m.value()));
          }
        } else if (k == "expires_at") d.expires_at = Time(f.value());
        else if (k == "rotated_from") d.rotated_from = Str(f.value());
        else if (k == "idempotency_key") d.idempotency_key = Str(f.value());
        else if (k == "request_digest")
          d.request_digest = Required(DigestFromHex(f.value().get_string()), "request_digest");
      }
      out = std::move(d);
      return;
    }
    case EventType::kKeyRotated: {
      KeyRotated d;
      for (auto f : obj) {
        std::string_view k = f.unescaped_key();
        if (k == "new_key_id") d.new_key_id = Str(f.value());
        else if (k == "grace_until") d.grace_until = Time(f.value());
      }
      out = std::move(d);
      return;
    }
    case EventType::kKeyRevoked: {
      KeyRevoked d;
      for (auto f : obj) {
        if (std::string_view(f.unescaped_key()) == "reason") d.reason = Str(f.value());
      }
      out = std::move(d);
      return;
    }
    case EventType::kKeyExpired: {
      KeyExpired d;
      for (auto f : obj) {
        if (std::string_view(f.unescaped_key()) == "reason") d.reason = Str(f.value());
      }
      out = std::move(d);
      return;
    }
    case EventType::kKeyUsed: {
      KeyUsed d;
      for (auto f : obj) {
        std::string_view k = f.unescaped_key();
        if (k == "outcome") d.outcome = Required(ParseUseOutcome(f.value().get_string()), "outcome");
        else if (k == "ability") d.ability = Str(f.value());
        else if (k == "source_ip") d.source_ip = Str(f.value());
      }
      out = std::move(d);
      return;
    }
  }
}

std::string NullableStr(value v) { return v.is_null() ? std::string() : Str(v); }

}  // namespace

std::string EncodeBody(const Event& e) {
  JsonWriter w;
  w.BeginObject();
  w.Key("seq").Uint(e.seq);
  char ts[kRfc3339MaxChars];
  w.Field("ts", std::string_view(ts, FormatRfc3339Into(e.ts, ts)));
  w.Field("type", EventTypeName(e.type()));
  w.NullableField("workspace", e.workspace);
  w.NullableField("key_id", e.key_id);
  w.NullableField("actor", e.actor);
  w.Key("data").BeginObject();
  std::visit(DataWriter{w}, e.data);
  w.EndObject();
  char prev_hash[2 * sizeof(Digest)];
  BytesToHexInto(AsBytes(e.prev_hash), prev_hash);
  w.Field("prev_hash", std::string_view(prev_hash, sizeof prev_hash));
  w.EndObject();
  return w.Take();
}

std::string EncodeStoredValue(const Digest& hash, std::string_view body) {
  std::string value;
  value.reserve(kStoredHeaderSize + body.size());
  value.push_back(static_cast<char>(kEventFormatVersion));
  value.append(AsBytes(hash));
  value.append(body);
  return value;
}

Result<StoredParts> SplitStoredValue(std::string_view value) {
  if (value.size() < kStoredHeaderSize + 2) return Status::Invalid("stored event too short");
  if (static_cast<uint8_t>(value[0]) != kEventFormatVersion) {
    return Status::Invalid("unknown event format version");
  }
  StoredParts parts;
  std::memcpy(parts.hash.data(), value.data() + 1, parts.hash.size());
  parts.body = value.substr(kStoredHeaderSize);
  return parts;
}

Result<Event> DecodeBody(std::string_view body, const Digest& hash) {
  {
    Event e;
    if (DecodeCanonicalKeyUsed(body, e)) {
      e.hash = hash;
      return e;
    }
  }
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(body);
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  Event e;
  e.hash = hash;
  try {
    auto doc = parser.iterate(padded.data(), body.size(), padded.capacity());
    std::optional<EventType> type;
    bool have_seq = false, have_prev = false, have_ts = false, have_data = false;
    for (auto f : doc.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "seq") {
        e.seq = f.value().get_uint64();
        have_seq = true;
      } else if (k == "ts") {
        e.ts = Time(f.value());
        have_ts = true;
      } else if (k == "type") {
        type = ParseEventType(f.value().get_string());
        if (!type) throw Malformed{"unknown event type"};
      } else if (k == "workspace") {
        e.workspace = NullableStr(f.value());
      } else if (k == "key_id") {
        e.key_id = NullableStr(f.value());
      } else if (k == "actor") {
        e.actor = NullableStr(f.value());
      } else if (k == "data") {
        // "type" precedes "data" in the canonical encoding.
        if (!type) throw Malformed{"data before type"};
        DecodeData(*type, f.value().get_object(), e.data);
        have_data = true;
      } else if (k == "prev_hash") {
        e.prev_hash = Required(DigestFromHex(f.value().get_string()), "prev_hash");
        have_prev = true;
      }
    }
    if (!type || !have_seq || !have_prev || !have_ts) throw Malformed{"missing field"};
    // A default-constructed EventData is a WorkspaceCreated, so the index alone cannot tell a
    // workspace.created without data from one with it.
    if (!have_data || static_cast<EventType>(e.data.index()) != *type) throw Malformed{"missing data"};
    // On Demand stops at the end of the object; anything after it is not one JSON document.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      throw Malformed{"trailing content"};
    }
  } catch (const simdjson::simdjson_error& err) {
    return Status::Invalid(std::string("malformed event: ") + err.what());
  } catch (const Malformed& m) {
    return Status::Invalid(std::string("malformed event: ") + m.what);
  }
  return e;
}

Result<Event> DecodeStoredValue(std::string_view value) {
  auto parts = SplitStoredValue(value);
  if (!parts.ok()) return parts.status();
  return DecodeBody(parts->body, parts->hash);
}

std::string EventToApiJson(std::string_view body, const Digest& hash) {
  std::string out;
  out.reserve(body.size() + 80);
  out.append(body.substr(0, body.size() - 1));  // drop the closing brace
  out.append(",\"hash\":\"").append(ToHex(hash)).append("\"}");
  return out;
}

}  // namespace keyledger
