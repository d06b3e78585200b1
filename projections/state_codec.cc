// LedgerState's canonical binary serialization, stored in checkpoints (projections/checkpoint.h)
// and digested into the signed chain checkpoints (its SHA-256 is the projection digest).
//
//   "KLS4"                         format tag
//   varint seq, i64 ts             the last applied event
//   pool of strings                varint n, then n-1 strings (number 0 is "": not stored)
//   pool of ability sets           varint n, then n-1 sets: varint count, strings
//   workspaces, sorted by id       varint n; each: id, name, u8 plan, i64 max_expiry_days,
//                                  i64 created_at, i64 updated_at, varint key count, key
//                                  numbers as varint deltas
//   keys, in creation order        varint n; each: 32-byte digest, id, name, prefix,
//                                  description, u8 kind, u8 preset, u8 status, varint workspace,
//                                  created_by, owner and ability-set numbers, i64 created_at,
//                                  expires_at, last_used_at, varint usage_count, u8 flags (1:
//                                  extra, 2: usage), then when flagged the extra fields (i64
//                                  grace_until, ended_at, revoked_at, varint rejected_count, i64
//                                  last_rejected_at, varint last_rejected_ip number, u8 has text,
//                                  its 7 strings) and the usage history's bytes (usage_history.h)
//
// Strings are varint length + bytes; integers little-endian. Pools and keys are in the order the
// log introduced them, so two states built from the same events serialize identically. The id,
// digest, idempotency and deadline indexes are not stored: loading rebuilds them.

#include <algorithm>
#include <cstring>

#include "projections/byte_codec.h"
#include "projections/ledger_state.h"
#include "projections/load_indexer.h"

namespace keyledger {
namespace {

constexpr std::string_view kFormatTag = "KLS4";
constexpr uint8_t kHasExtra = 1;
constexpr uint8_t kHasUsage = 2;

void WriteExtra(ByteWriter& w, const KeyExtra& x) {
  w.I64(x.grace_until);
  w.I64(x.ended_at);
  w.I64(x.revoked_at);
  w.Varint(x.rejected_count);
  w.I64(x.last_rejected_at);
  w.Varint(x.last_rejected_ip);
  w.U8(x.text ? 1 : 0);
  if (!x.text) return;
  for (size_t part = 0; part < static_cast<size_t>(ExtraText::kCount); ++part) {
    w.Str(x.Text(static_cast<ExtraText>(part)));
  }
}

std::unique_ptr<KeyExtra> ReadExtra(ByteReader& r, TextArena& arena) {
  auto x = std::make_unique<KeyExtra>();
  x->grace_until = r.I64();
  x->ended_at = r.I64();
  x->revoked_at = r.I64();
  x->rejected_count = r.Varint();
  x->last_rejected_at = r.I64();
  x->last_rejected_ip = static_cast<uint32_t>(r.Varint());
  const uint8_t has_text = r.U8();
  if (has_text > 1) r.Fail();
  if (has_text == 1) {
    std::string_view p[7];
    static_assert(static_cast<size_t>(ExtraText::kCount) == 7);
    for (std::string_view& part : p) part = r.Str();
    if (!r.failed()) x->text = arena.Pack({p[0], p[1], p[2], p[3], p[4], p[5], p[6]});
  }
  return x;
}

void WriteKey(ByteWriter& w, const KeyRecord& k, const TextArena::Snapshot& text) {
  w.Bytes(AsBytes(k.digest));
  const char* parts = text.Resolve(k.text);
  for (size_t part = 0; part <= static_cast<size_t>(KeyText::kDescription); ++part) {
    w.Str(TextArena::Part(parts, part));
  }
  w.U8(static_cast<uint8_t>(k.kind));
  w.U8(static_cast<uint8_t>(k.preset));
  w.U8(static_cast<uint8_t>(k.status));
  w.Varint(k.workspace);
  w.Varint(k.created_by);
  w.Varint(k.owner);
  w.Varint(k.abilities);
  w.I64(k.created_at);
  w.I64(k.expires_at);
  w.I64(k.last_used_at);
  w.Varint(k.usage_count);
  w.U8((k.extra ? kHasExtra : 0) | (k.usage.empty() ? 0 : kHasUsage));
  if (k.extra) WriteExtra(w, *k.extra);
  if (!k.usage.empty()) w.Str(k.usage.bytes());
}

template <typename Enum>
Enum ReadEnum(ByteReader& r, Enum last) {
  const uint8_t v = r.U8();
  if (v > static_cast<uint8_t>(last)) r.Fail();
  return static_cast<Enum>(v);
}

}  // namespace

FrozenLedgerState LedgerState::Freeze() const {
  FrozenLedgerState frozen;
  frozen.applied_seq_ = applied_seq_;
  frozen.applied_ts_ = applied_ts_;
  frozen.keys_ = keys_.TakeSnapshot();
  frozen.text_ = text_.TakeSnapshot();

  ByteWriter w(frozen.head_);
  w.Bytes(kFormatTag);
  w.Varint(applied_seq_);
  w.I64(applied_ts_);

  w.Varint(strings_.size());
  for (uint32_t i = 1; i < strings_.size(); ++i) w.Str(strings_[i]);
  w.Varint(ability_sets_.size());
  for (size_t i = 1; i < ability_sets_.size(); ++i) {
    w.Varint(ability_sets_[i].list().size());
    for (const std::string& a : ability_sets_[i].list()) w.Str(a);
  }

  std::vector<const WorkspaceState*> workspaces;
  for (const auto& [id, ws] : workspaces_) workspaces.push_back(&ws);
  std::sort(workspaces.begin(), workspaces.end(), [](auto* a, auto* b) { return a->id < b->id; });
  w.Varint(workspaces.size());
  for (const WorkspaceState* ws : workspaces) {
    w.Str(ws->id);
    w.Str(ws->name);
    w.U8(static_cast<uint8_t>(ws->plan));
    w.I64(ws->max_expiry_days);
    w.I64(ws->created_at);
    w.I64(ws->updated_at);
    w.Varint(ws->keys.size());
    w.VarintDeltas(ws->keys);
  }
  return frozen;
}

std::string FrozenLedgerState::Serialize() const {
  std::string out;
  out.reserve(head_.size() + 16 + keys_.size() * 160);
  out.append(head_);
  ByteWriter w(out);
  w.Varint(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) WriteKey(w, keys_[i], text_);
  return out;
}

bool FrozenLedgerState::SerializeInPieces(size_t piece_bytes,
                                          const std::function<bool(std::string_view)>& emit) && {
  std::string out = std::move(head_);
  ByteWriter w(out);
  // Hands over every whole piece made so far (and with `last`, the rest).
  auto hand_over = [&](bool last) {
    size_t at = 0;
    for (; at < out.size() && (last || out.size() - at >= piece_bytes); at += piece_bytes) {
      if (!emit(std::string_view(out).substr(at, piece_bytes))) return false;
    }
    out.erase(0, at);
    return true;
  };
  w.Varint(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    WriteKey(w, keys_[i], text_);
    if ((i + 1) % KeyRecords::kChunkSize == 0) keys_.ReleaseBelow(i + 1);
    if (out.size() >= piece_bytes && !hand_over(false)) return false;
  }
  keys_ = {};
  return hand_over(true);
}

std::string LedgerState::Serialize() const { return Freeze().Serialize(); }

Result<LedgerState> LedgerState::Deserialize(std::string_view bytes) {
  ByteReader r(bytes);
  return Deserialize(r, bytes.size());
}

Result<LedgerState> LedgerState::Deserialize(ArrivingBytes& bytes) {
  // However the decoding ends, an exception included, a writer waiting for room stops waiting.
  struct Abandon {
    ArrivingBytes& bytes;
    ~Abandon() { bytes.Abandon(); }
  } abandon{bytes};
  ByteReader r(bytes);
  return Deserialize(r, bytes.capacity());
}

Result<LedgerState> LedgerState::Deserialize(ByteReader& r, size_t size) {
  auto malformed = [](const std::string& what) {
    return Status::Internal("checkpoint state is malformed: " + what);
  };
  if (r.Bytes(kFormatTag.size()) != kFormatTag) return malformed("unknown format");
  LedgerState state;
  state.applied_seq_ = r.Varint();
  state.applied_ts_ = r.I64();

  const uint64_t string_count = r.Varint();
  for (uint64_t i = 1; i < string_count && !r.failed(); ++i) {
    r.ReleaseRead();
    if (state.strings_.Intern(r.Str()) != i) return malformed("a pool string repeats");
  }
  const uint64_t set_count = r.Varint();
  for (uint64_t i = 1; i < set_count && !r.failed(); ++i) {
    r.ReleaseRead();
    std::vector<std::string> list(std::min<uint64_t>(r.Varint(), 1000));
    for (std::string& a : list) a = r.Str();
    auto abilities = Abilities::Parse(list);
    if (!abilities.ok()) return malformed("ability set");
    if (state.InternAbilities(*abilities) != i) return malformed("an ability set repeats");
  }

  for (uint64_t n = r.Varint(); n > 0 && !r.failed(); --n) {
    r.ReleaseRead();
    WorkspaceState ws;
    ws.id = r.Str();
    ws.name = r.Str();
    ws.plan = ReadEnum(r, Plan::kPro);
    ws.max_expiry_days = r.I64();
    ws.created_at = r.I64();
    ws.updated_at = r.I64();
    const uint64_t key_count = r.Varint();
    if (key_count > size) return malformed("workspace key count");
    ws.keys.reserve(key_count);
    KeyIndex k = 0;
    for (uint64_t i = 0; i < key_count && !r.failed(); ++i) {
      r.ReleaseRead();  // the workspace's strings are copied: a list may outgrow the window
      ws.keys.push_back(k += r.Varint());
    }
    state.workspaces_.emplace(ws.id, std::move(ws));
  }

  const uint64_t key_count = r.Varint();
  if (key_count > size / 32) return malformed("key count");
  state.keys_.Reserve(key_count);
  LoadIndexer indexer(state.by_id_, state.by_digest_, state.deadlines_, key_count, state.keys_.SpareMemory());
  for (uint64_t i = 0; i < key_count && !r.failed(); ++i) {
    r.ReleaseRead();
    KeyRecord k;
    const std::string_view digest = r.Bytes(32);
    if (r.failed()) break;
    std::memcpy(k.digest.data(), digest.data(), 32);
    const std::string_view id = r.Str(), name = r.Str(), prefix = r.Str(), description = r.Str();
    k.text = state.text_.PackRef({id, name, prefix, description});
    k.kind = ReadEnum(r, KeyKind::kOperator);
    k.preset = ReadEnum(r, Preset::kReadOnly);
    k.status = ReadEnum(r, KeyStatus::kRevoked);
    k.workspace = static_cast<uint32_t>(r.Varint());
    k.created_by = static_cast<uint32_t>(r.Varint());
    k.owner = static_cast<uint32_t>(r.Varint());
    k.abilities = static_cast<uint32_t>(r.Varint());
    if (k.workspace >= state.strings_.size() || k.created_by >= state.strings_.size() ||
        k.owner >= state.strings_.size() || k.abilities >= state.ability_sets_.size()) {
      return malformed("pool number out of range");
    }
    k.created_at = r.I64();
    k.expires_at = r.I64();
    k.last_used_at = r.I64();
    k.usage_count = r.Varint();
    const uint8_t flags = r.U8();
    if (flags & ~(kHasExtra | kHasUsage)) return malformed("key flags");
    if (flags & kHasExtra) {
      k.extra = ReadExtra(r, state.text_);
      if (k.extra->last_rejected_ip >= state.strings_.size()) return malformed("pool number out of range");
    }
    if (flags & kHasUsage) {
      const std::string_view usage = r.Str();
      if (usage.empty() || !UsageHistory::FromBytes(usage, k.usage)) return malformed("usage");
    }
    state.AddLoaded(std::move(k), indexer);
  }
  if (r.failed()) return malformed("truncated");
  if (!r.at_end()) return malformed("trailing bytes");
  for (const auto& [id, ws] : state.workspaces_) {
    for (KeyIndex k : ws.keys) {
      if (k >= state.keys_.size()) return malformed("workspace key number out of range");
    }
  }
  indexer.Finish();
  return state;
}

Digest LedgerState::Fingerprint() const { return Sha256(Serialize()); }

}  // namespace keyledger
