#include "projections/key_record.h"

#include <array>

#include "projections/byte_codec.h"

namespace keyledger {

void KeyExtra::SetText(TextArena& arena, ExtraText part, std::string_view value) {
  constexpr size_t n = static_cast<size_t>(ExtraText::kCount);
  static_assert(n == 7, "Pack below lists every part");
  std::array<std::string, n> parts;
  for (size_t i = 0; i < n; ++i) parts[i] = Text(static_cast<ExtraText>(i));
  parts[static_cast<size_t>(part)] = value;
  text = arena.Pack({parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]});
}

KeyRecord KeyRecord::Clone() const {
  static_assert(sizeof(KeyRecord) == 104, "a field added to KeyRecord must be copied here");
  KeyRecord copy;
  copy.digest = digest;
  if (extra) copy.extra = std::make_unique<KeyExtra>(*extra);
  copy.usage = usage.Clone();
  copy.created_at = created_at;
  copy.expires_at = expires_at;
  copy.last_used_at = last_used_at;
  copy.usage_count = usage_count;
  copy.text = text;
  copy.workspace = workspace;
  copy.created_by = created_by;
  copy.owner = owner;
  copy.abilities = abilities;
  copy.kind = kind;
  copy.preset = preset;
  copy.status = status;
  return copy;
}

std::string EncodeMetadata(const Metadata& metadata) {
  std::string out;
  ByteWriter w(out);
  for (const auto& [k, v] : metadata) {
    w.Str(k);
    w.Str(v);
  }
  return out;
}

Metadata DecodeMetadata(std::string_view packed) {
  Metadata out;
  ByteReader r(packed);
  while (!r.at_end() && !r.failed()) {
    std::string k(r.Str());
    std::string v(r.Str());
    if (!r.failed()) out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

}  // namespace keyledger
