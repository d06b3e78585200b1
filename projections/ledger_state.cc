#include "projections/ledger_state.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "projections/load_indexer.h"

namespace keyledger {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

uint64_t IdHash(std::string_view id) { return std::hash<std::string_view>()(id); }
uint64_t DigestHash64(const Digest& d) {
  uint64_t h;
  std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 digest is uniformly distributed already
  return h;
}

}  // namespace

std::string_view KeyStatusName(KeyStatus status) {
  switch (status) {
    case KeyStatus::kActive: return "active";
    case KeyStatus::kExpired: return "expired";
    case KeyStatus::kRevoked: return "revoked";
  }
  return "";
}

LedgerState::LedgerState() {
  strings_.Intern("");  // number 0: no workspace, no creator
  ability_sets_.emplace_back();  // number 0: no abilities
  ability_set_numbers_.emplace("", 0);
}
LedgerState::~LedgerState() = default;
LedgerState::LedgerState(LedgerState&&) noexcept = default;
LedgerState& LedgerState::operator=(LedgerState&&) noexcept = default;

void LedgerState::Apply(const Event& e) { ApplyHashed(e, IdHash(e.key_id)); }

void LedgerState::ApplyHashed(const Event& e, uint64_t id_hash) {
  applied_seq_ = e.seq;
  applied_ts_ = e.ts;
  std::optional<KeyIndex> index;
  if (!e.key_id.empty() && !std::holds_alternative<KeyCreated>(e.data)) {
    index = IndexOfKey(e.key_id, id_hash);
  }
  KeyRecord* key = index ? &keys_.Mutable(*index) : nullptr;

  std::visit(
      Overloaded{
          [&](const WorkspaceCreated& d) {
            WorkspaceState& ws = workspaces_[e.workspace];
            ws.id = e.workspace;
            ws.name = d.name;
            ws.plan = d.plan;
            ws.max_expiry_days = d.max_expiry_days;
            ws.created_at = ws.updated_at = e.ts;
          },
          [&](const WorkspaceUpdated& d) {
            auto it = workspaces_.find(e.workspace);
            if (it == workspaces_.end()) return;
            it->second.plan = d.plan;
            if (d.max_expiry_days != 0) it->second.max_expiry_days = d.max_expiry_days;
            it->second.updated_at = e.ts;
          },
          [&](const KeyCreated& d) { ApplyKeyCreated(e, d, id_hash); },
          [&](const KeyRotated& d) {
            if (!key) return;
            key->MutableExtra().SetText(text_, ExtraText::kRotatedTo, d.new_key_id);
            if (key->status == KeyStatus::kActive) {
              const TimeMs before = key->Deadline();
              key->extra->grace_until = d.grace_until;
              if (key->Deadline() != before && key->Deadline() != 0) deadlines_.Push(key->Deadline(), *index);
              TidyDeadlines();
            }
          },
          [&](const KeyRevoked& d) {
            if (!key) return;
            KeyExtra& extra = key->MutableExtra();
            extra.revoked_at = e.ts;
            extra.SetText(text_, ExtraText::kRevokeReason, d.reason);
            EndKey(*index, KeyStatus::kRevoked, e.ts);
          },
          [&](const KeyExpired&) {
            if (key) EndKey(*index, KeyStatus::kExpired, e.ts);
          },
          [&](const KeyUsed& d) {
            if (key) ApplyKeyUsed(*key, e, d);
          },
      },
      e.data);
}

void LedgerState::ApplyBatch(const Event* events, size_t count) {
  // Three stages ahead of the event being applied: the index slot is fetched 12 events ahead,
  // the record it names 8 ahead, the record's strings and usage block 4 ahead.
  constexpr size_t kSlotAhead = 12, kRecordAhead = 8, kTextAhead = 4;
  batch_hashes_.resize(count);
  batch_records_.assign(count, RecordIndex::kNone);
  for (size_t i = 0; i < count; ++i) {
    batch_hashes_[i] = IdHash(events[i].key_id);
  }
  for (size_t i = 0; i < count; ++i) {
    if (const size_t j = i + kSlotAhead; j < count && !events[j].key_id.empty()) {
      __builtin_prefetch(by_id_.SlotAddress(batch_hashes_[j]));
    }
    if (const size_t j = i + kRecordAhead; j < count && !events[j].key_id.empty()) {
      const uint32_t n = by_id_.FirstProbe(batch_hashes_[j]);
      if (n < keys_.size()) {
        batch_records_[j] = n;
        const char* record = reinterpret_cast<const char*>(&keys_[n]);
        __builtin_prefetch(record);
        __builtin_prefetch(record + 64);
      }
    }
    if (const size_t j = i + kTextAhead; j < count && batch_records_[j] != RecordIndex::kNone) {
      const KeyRecord& key = keys_[batch_records_[j]];
      __builtin_prefetch(text_.Resolve(key.text));
      __builtin_prefetch(key.usage.address());
    }
    ApplyHashed(events[i], batch_hashes_[i]);
  }
}

uint32_t LedgerState::InternAbilities(const Abilities& abilities) {
  std::string joined;
  for (const std::string& a : abilities.list()) {
    joined += a;
    joined += '\n';
  }
  auto [it, inserted] = ability_set_numbers_.try_emplace(std::move(joined), ability_sets_.size());
  if (inserted) ability_sets_.push_back(abilities);
  return it->second;
}

void LedgerState::ApplyKeyCreated(const Event& e, const KeyCreated& d, uint64_t id_hash) {
  KeyRecord key;
  key.digest = d.digest;
  key.text = text_.PackRef({e.key_id, d.name, d.prefix, d.description});
  key.owner = strings_.Intern(d.owner);
  key.kind = d.kind;
  key.workspace = strings_.Intern(e.workspace);
  key.preset = d.preset;
  auto abilities = Abilities::Parse(d.abilities);
  key.abilities = abilities.ok() ? InternAbilities(*abilities) : 0;
  key.created_at = e.ts;
  key.created_by = strings_.Intern(e.actor);
  key.expires_at = d.expires_at;
  if (!d.role.empty() || !d.metadata.empty() || !d.rotated_from.empty() || !d.idempotency_key.empty() ||
      d.request_digest != Digest{}) {
    const std::string metadata = EncodeMetadata(d.metadata);
    const std::string_view request_digest = d.request_digest != Digest{} ? AsBytes(d.request_digest) : "";
    key.MutableExtra().text =
        text_.Pack({d.role, d.rotated_from, "", d.idempotency_key, request_digest, "", metadata});
  }
  Insert(std::move(key), id_hash);
}

KeyIndex LedgerState::Insert(KeyRecord record, uint64_t id_hash) {
  const std::string_view id = IdOf(record);
  const uint32_t existing =
      by_id_.Find(id_hash, [&](uint32_t n) { return IdOf(keys_[n]) == id; });
  KeyIndex index;
  if (existing != RecordIndex::kNone) {
    // A second creation of the same id (never written by keyledger): the newer one wins.
    index = existing;
    if (keys_[index].status == KeyStatus::kActive) --active_keys_;
    keys_.Mutable(index) = std::move(record);
  } else {
    // Refused before anything changes, as TextArena refuses past its 4 GiB.
    if (keys_.size() >= RecordIndex::kMaxRecords) throw std::length_error("the ledger holds the most keys it can");
    index = static_cast<KeyIndex>(keys_.size());
    keys_.push_back(std::move(record));
    by_id_.Insert(id_hash, index, [&](uint32_t n) { return IdHash(IdOf(keys_[n])); });
    const std::string& ws_id = strings_[keys_[index].workspace];
    if (!ws_id.empty()) {
      auto ws = workspaces_.find(ws_id);
      if (ws != workspaces_.end()) ws->second.keys.push_back(index);
    }
  }
  const KeyRecord& key = keys_[index];
  const uint64_t digest_hash = DigestHash64(key.digest);
  const uint32_t same_digest =
      by_digest_.Find(digest_hash, [&](uint32_t n) { return keys_[n].digest == key.digest; });
  if (same_digest == RecordIndex::kNone) {
    by_digest_.Insert(digest_hash, index, [&](uint32_t n) { return DigestHash64(keys_[n].digest); });
  } else {
    by_digest_.Replace(digest_hash, same_digest, index);
  }
  IndexIdempotency(index);
  if (key.status == KeyStatus::kActive) {
    ++active_keys_;
    if (key.Deadline() != 0) deadlines_.Push(key.Deadline(), index);
  }
  return index;
}

void LedgerState::IndexIdempotency(KeyIndex index) {
  const KeyRecord& key = keys_[index];
  if (!key.extra) return;
  const std::string_view idempotency_key = key.extra->Text(ExtraText::kIdempotencyKey);
  if (!idempotency_key.empty()) idempotency_[{strings_[key.workspace], std::string(idempotency_key)}] = index;
}

void LedgerState::ApplyKeyUsed(KeyRecord& key, const Event& e, const KeyUsed& d) {
  const bool valid = d.outcome == UseOutcome::kValid;
  key.usage.Count(e.ts, valid);
  if (valid) {
    ++key.usage_count;
    key.last_used_at = e.ts;
  } else {
    KeyExtra& extra = key.MutableExtra();
    ++extra.rejected_count;
    extra.last_rejected_at = e.ts;
    extra.last_rejected_ip = strings_.Intern(d.source_ip);
  }
}

void LedgerState::EndKey(KeyIndex index, KeyStatus status, TimeMs at) {
  KeyRecord& key = keys_.Mutable(index);
  if (key.status != KeyStatus::kActive) return;
  key.status = status;
  key.MutableExtra().ended_at = at;
  --active_keys_;
  TidyDeadlines();
}

bool LedgerState::IsCurrentDeadline(const DeadlineQueue::Entry& e) const {
  const KeyRecord& key = keys_[e.key];
  return key.status == KeyStatus::kActive && key.Deadline() == e.at;
}

void LedgerState::TidyDeadlines() {
  deadlines_.DropStale([this](const DeadlineQueue::Entry& e) { return IsCurrentDeadline(e); });
  if (deadlines_.size() > 2 * active_keys_ + 1024) RebuildDeadlines();
}

void LedgerState::RebuildDeadlines() {
  std::vector<DeadlineQueue::Entry> live;
  live.reserve(active_keys_);
  for (KeyIndex i = 0; i < keys_.size(); ++i) {
    if (const TimeMs at = keys_[i].LiveDeadline(); at != 0) live.push_back({at, i});
  }
  deadlines_.Assign(std::move(live));
}

void LedgerState::AddLoaded(KeyRecord record, LoadIndexer& indexer) {
  if (record.status == KeyStatus::kActive) ++active_keys_;
  indexer.Add(IdHash(IdOf(record)), DigestHash64(record.digest), record.LiveDeadline());
  keys_.push_back(std::move(record));
  IndexIdempotency(keys_.size() - 1);
}

std::optional<KeyIndex> LedgerState::IndexOfKey(std::string_view id) const {
  return IndexOfKey(id, IdHash(id));
}

std::optional<KeyIndex> LedgerState::IndexOfKey(std::string_view id, uint64_t id_hash) const {
  const uint32_t n = by_id_.Find(id_hash, [&](uint32_t i) { return IdOf(keys_[i]) == id; });
  if (n == RecordIndex::kNone) return std::nullopt;
  return n;
}

std::optional<KeyIndex> LedgerState::IndexOfDigest(const Digest& digest) const {
  const uint32_t n =
      by_digest_.Find(DigestHash64(digest), [&](uint32_t i) { return keys_[i].digest == digest; });
  if (n == RecordIndex::kNone) return std::nullopt;
  return n;
}

KeyState LedgerState::Key(KeyIndex index, Usage usage) const {
  const KeyRecord& r = keys_[index];
  KeyState k;
  k.id = TextOf(r, KeyText::kId);
  k.kind = r.kind;
  k.workspace = strings_[r.workspace];
  k.name = TextOf(r, KeyText::kName);
  k.prefix = TextOf(r, KeyText::kPrefix);
  k.digest = r.digest;
  k.owner = strings_[r.owner];
  k.description = TextOf(r, KeyText::kDescription);
  k.preset = r.preset;
  k.abilities = ability_sets_[r.abilities];
  k.status = r.status;
  k.created_at = r.created_at;
  k.created_by = strings_[r.created_by];
  k.expires_at = r.expires_at;
  k.last_used_at = r.last_used_at;
  k.usage_count = r.usage_count;
  if (r.extra) {
    const KeyExtra& x = *r.extra;
    k.grace_until = x.grace_until;
    k.ended_at = x.ended_at;
    k.revoked_at = x.revoked_at;
    k.rejected_count = x.rejected_count;
    k.last_rejected_at = x.last_rejected_at;
    if (x.rejected_count > 0) k.last_rejected_ip = strings_[x.last_rejected_ip];
    k.role = x.Text(ExtraText::kRole);
    k.metadata = DecodeMetadata(x.Text(ExtraText::kMetadata));
    k.revoke_reason = x.Text(ExtraText::kRevokeReason);
    k.rotated_from = x.Text(ExtraText::kRotatedFrom);
    k.rotated_to = x.Text(ExtraText::kRotatedTo);
    k.idempotency_key = x.Text(ExtraText::kIdempotencyKey);
    const std::string_view request_digest = x.Text(ExtraText::kRequestDigest);
    if (request_digest.size() == k.request_digest.size()) {
      std::memcpy(k.request_digest.data(), request_digest.data(), request_digest.size());
    }
  }
  if (usage == Usage::kInclude) k.usage = r.usage.Buckets();
  return k;
}

std::optional<KeyState> LedgerState::FindKey(std::string_view id, Usage usage) const {
  auto index = IndexOfKey(id);
  if (!index) return std::nullopt;
  return Key(*index, usage);
}

std::optional<KeyState> LedgerState::FindByDigest(const Digest& digest) const {
  auto index = IndexOfDigest(digest);
  if (!index) return std::nullopt;
  return Key(*index);
}

const WorkspaceState* LedgerState::FindWorkspace(std::string_view id) const {
  auto it = workspaces_.find(std::string(id));
  return it == workspaces_.end() ? nullptr : &it->second;
}

std::optional<KeyState> LedgerState::FindIdempotent(std::string_view workspace,
                                                    std::string_view idempotency_key,
                                                    TimeMs now) const {
  auto it = idempotency_.find(std::pair<std::string, std::string>(workspace, idempotency_key));
  if (it == idempotency_.end()) return std::nullopt;
  if (now - keys_[it->second].created_at >= kIdempotencyWindowMs) return std::nullopt;
  return Key(it->second);
}

std::vector<std::string> LedgerState::DueForExpiry(TimeMs now, size_t max) const {
  std::vector<std::string> due;
  for (KeyIndex index : deadlines_.Due(now, max, [this](const DeadlineQueue::Entry& e) {
         return IsCurrentDeadline(e);
       })) {
    due.emplace_back(IdOf(keys_[index]));
  }
  return due;
}

}  // namespace keyledger
