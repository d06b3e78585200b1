#include "projections/ledger_state.h"

#include <algorithm>

namespace keyledger {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void CountUse(KeyState& key, TimeMs ts, bool valid) {
  const TimeMs hour = ts - ts % kHourMs;
  if (key.usage.empty() || key.usage.back().hour_start != hour) key.usage.push_back({hour, 0, 0});
  UsageBucket& bucket = key.usage.back();
  ++bucket.count;
  if (!valid) ++bucket.rejected;
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

void LedgerState::Apply(const Event& e) {
  applied_seq_ = e.seq;
  applied_ts_ = e.ts;
  auto key_it = keys_.end();
  if (!e.key_id.empty()) key_it = keys_.find(e.key_id);
  KeyState* key = key_it == keys_.end() ? nullptr : &key_it->second;

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
          [&](const KeyCreated& d) { ApplyKeyCreated(e, d); },
          [&](const KeyRotated& d) {
            if (!key) return;
            key->rotated_to = d.new_key_id;
            if (key->status == KeyStatus::kActive) {
              deadlines_.erase({key->Deadline(), key->id});
              key->grace_until = d.grace_until;
              if (key->Deadline() != 0) deadlines_.insert({key->Deadline(), key->id});
            }
          },
          [&](const KeyRevoked& d) {
            if (!key) return;
            key->revoked_at = e.ts;
            key->revoke_reason = d.reason;
            EndKey(*key, KeyStatus::kRevoked, e.ts);
          },
          [&](const KeyExpired&) {
            if (key) EndKey(*key, KeyStatus::kExpired, e.ts);
          },
          [&](const KeyUsed& d) {
            if (key) ApplyKeyUsed(*key, e, d);
          },
      },
      e.data);
}

void LedgerState::ApplyKeyCreated(const Event& e, const KeyCreated& d) {
  KeyState& key = keys_[e.key_id];
  key.id = e.key_id;
  key.kind = d.kind;
  key.workspace = e.workspace;
  key.name = d.name;
  key.prefix = d.prefix;
  key.digest = d.digest;
  key.owner = d.owner;
  key.description = d.description;
  key.role = d.role;
  key.preset = d.preset;
  auto abilities = Abilities::Parse(d.abilities);
  key.abilities = abilities.ok() ? std::move(abilities).value() : Abilities();
  key.metadata = d.metadata;
  key.created_at = e.ts;
  key.created_by = e.actor;
  key.expires_at = d.expires_at;
  key.rotated_from = d.rotated_from;
  key.idempotency_key = d.idempotency_key;
  key.request_digest = d.request_digest;
  Index(key);
}

void LedgerState::Index(KeyState& key) {
  by_digest_[key.digest] = key.id;
  if (!key.workspace.empty()) {
    auto ws = workspaces_.find(key.workspace);
    if (ws != workspaces_.end()) ws->second.key_ids.push_back(key.id);
  }
  if (!key.idempotency_key.empty()) {
    idempotency_[{key.workspace, key.idempotency_key}] = key.id;
  }
  if (key.status == KeyStatus::kActive && key.Deadline() != 0) {
    deadlines_.insert({key.Deadline(), key.id});
  }
}

void LedgerState::ApplyKeyUsed(KeyState& key, const Event& e, const KeyUsed& d) {
  const bool valid = d.outcome == UseOutcome::kValid;
  CountUse(key, e.ts, valid);
  if (valid) {
    ++key.usage_count;
    key.last_used_at = e.ts;
  } else {
    ++key.rejected_count;
    key.last_rejected_at = e.ts;
    key.last_rejected_ip = d.source_ip;
  }
}

void LedgerState::EndKey(KeyState& key, KeyStatus status, TimeMs at) {
  if (key.status != KeyStatus::kActive) return;
  deadlines_.erase({key.Deadline(), key.id});
  key.status = status;
  key.ended_at = at;
}

const KeyState* LedgerState::FindKey(std::string_view id) const {
  auto it = keys_.find(std::string(id));
  return it == keys_.end() ? nullptr : &it->second;
}

const KeyState* LedgerState::FindByDigest(const Digest& digest) const {
  auto it = by_digest_.find(digest);
  return it == by_digest_.end() ? nullptr : FindKey(it->second);
}

const WorkspaceState* LedgerState::FindWorkspace(std::string_view id) const {
  auto it = workspaces_.find(std::string(id));
  return it == workspaces_.end() ? nullptr : &it->second;
}

const KeyState* LedgerState::FindIdempotent(std::string_view workspace,
                                            std::string_view idempotency_key, TimeMs now) const {
  auto it = idempotency_.find(std::pair<std::string, std::string>(workspace, idempotency_key));
  if (it == idempotency_.end()) return nullptr;
  const KeyState* key = FindKey(it->second);
  if (!key || now - key->created_at >= kIdempotencyWindowMs) return nullptr;
  return key;
}

std::vector<std::string> LedgerState::DueForExpiry(TimeMs now, size_t max) const {
  std::vector<std::string> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now && due.size() < max;
       ++it) {
    due.push_back(it->second);
  }
  return due;
}

TimeMs LedgerState::NextDeadline() const {
  return deadlines_.empty() ? 0 : deadlines_.begin()->first;
}

}  // namespace keyledger
