// The lifecycle commands. Each validates what it can up front, then decides against the
// projections on the appender thread (prepare), so that the decision and the events it appends
// are ordered with every other change.

#include <openssl/crypto.h>

#include "core/random.h"
#include "core/token.h"
#include "projections/ledger.h"
#include "projections/validation.h"

namespace keyledger {
namespace {

using Prepare = std::function<Result<std::vector<PendingEvent>>(AppendContext&)>;

// Submits `prepare`; `finish` (in the writer role, or on the thread about to fsync) builds the
// result handed to `reply` once the events are durable. Where the appender stages the request
// (AppendRequest::stage), the result, and with a preparing reply the answer, are built before the
// fsync, and only the delivery waits for it.
template <typename T>
void Submit(Appender& appender, Durability durability, Prepare prepare,
            std::function<Result<T>()> finish, Reply<T> reply) {
  struct Answer {
    std::function<Result<T>()> finish;
    Reply<T> reply;
    std::optional<Result<T>> result;       // staged, for a plain callback
    typename Reply<T>::Deliver deliver;    // staged, for a preparing reply
  };
  auto answer = std::make_shared<Answer>(Answer{std::move(finish), std::move(reply), {}, {}});
  AppendRequest request;
  request.durability = durability;
  request.prepare = std::move(prepare);
  request.stage = [answer](uint64_t, uint64_t) {
    if (answer->reply.prepares()) {
      answer->deliver = answer->reply.Prepare(answer->finish());
    } else {
      answer->result = answer->finish();
    }
  };
  request.done = [answer](const Status& s, uint64_t, uint64_t) {
    if (!s.ok()) return answer->reply(s);  // a preparing reply prepares the failure instead
    if (answer->deliver) return answer->deliver();
    answer->reply(answer->result ? std::move(*answer->result) : answer->finish());
  };
  appender.Submit(std::move(request));
}

std::vector<PendingEvent> One(PendingEvent e) {
  std::vector<PendingEvent> events;
  events.push_back(std::move(e));
  return events;
}

// The fields of a new key that a creation or a rotation gives (null or absent: not given), checked
// before anything is submitted. At most one of preset and abilities, of expires_at and
// expires_in_days.
Status CheckKeyFields(const std::string* name, const std::string* owner, const std::string* description,
                      const Metadata* metadata, const std::optional<Preset>& preset,
                      const std::optional<std::vector<std::string>>& abilities,
                      const std::optional<TimeMs>& expires_at, const std::optional<int64_t>& expires_in_days,
                      std::string_view idempotency_key) {
  const struct {
    const std::string* value;
    const char* field;
    size_t min_chars, max_chars;
  } texts[] = {{name, "name", 1, kMaxNameChars},
               {owner, "owner", 0, kMaxOwnerChars},
               {description, "description", 0, kMaxDescriptionChars}};
  for (const auto& text : texts) {
    if (!text.value) continue;
    if (Status s = CheckText(*text.value, text.field, text.min_chars, text.max_chars); !s.ok()) return s;
  }
  if (metadata) {
    if (Status s = CheckMetadata(*metadata); !s.ok()) return s;
  }
  if (preset && abilities) return Status::Invalid("Give either preset or abilities.", "preset");
  if (abilities) {
    if (auto parsed = Abilities::Parse(*abilities); !parsed.ok()) return parsed.status();
  }
  if (expires_at && expires_in_days) {
    return Status::Invalid("Give either expires_at or expires_in_days.", "expires_at");
  }
  return idempotency_key.empty() ? Status::Ok() : CheckIdempotencyKey(idempotency_key);
}

struct NewKey {
  explicit NewKey(std::string id) : id(std::move(id)) {}
  std::string id;
  std::string token;
  bool replayed = false;
  std::string replay_id;
};

}  // namespace

void Ledger::CreateWorkspace(const Principal& p, WorkspaceInput in, Reply<WorkspaceState> done) {
  if (Status s = Authorize(p, Action::kManageWorkspaces, ""); !s.ok()) return done(s);
  if (!IsValidWorkspaceId(in.id)) {
    return done(Status::Invalid("Workspace id must match [a-z0-9][a-z0-9-]{1,62}.", "id"));
  }
  if (in.name.empty()) in.name = in.id;
  if (Status s = CheckText(in.name, "name", 1, 200); !s.ok()) return done(s);
  if (Status s = CheckMaxExpiryDays(in.max_expiry_days); !s.ok()) return done(s);
  const std::string id = in.id;
  Submit<WorkspaceState>(
      *appender_, Durability::kSync,
      [this, p, in](AppendContext&) -> Result<std::vector<PendingEvent>> {
        if (state_.FindWorkspace(in.id)) {
          return Status::Conflict("A workspace with this id already exists.");
        }
        return One({in.id, "", p.actor,
                    WorkspaceCreated{in.name, in.plan.value_or(Plan::kFree),
                                     in.max_expiry_days.value_or(kDefaultMaxExpiryDays)}});
      },
      [this, id]() -> Result<WorkspaceState> { return WorkspaceView(*state_.FindWorkspace(id)); },
      std::move(done));
}

void Ledger::UpdateWorkspace(const Principal& p, std::string ws, WorkspaceUpdate update,
                             Reply<WorkspaceState> done) {
  if (Status s = Authorize(p, Action::kManageWorkspaces, ""); !s.ok()) return done(s);
  if (!update.plan && !update.max_expiry_days) {
    return done(Status::Invalid("Give plan or max_expiry_days to change.", "plan"));
  }
  if (Status s = CheckMaxExpiryDays(update.max_expiry_days); !s.ok()) return done(s);
  Submit<WorkspaceState>(
      *appender_, Durability::kSync,
      [this, p, ws, update](AppendContext&) -> Result<std::vector<PendingEvent>> {
        const WorkspaceState* current = state_.FindWorkspace(ws);
        if (!current) return Status::NotFound("Workspace not found.");
        return One({ws, "", p.actor,
                    WorkspaceUpdated{update.plan.value_or(current->plan), update.max_expiry_days.value_or(0)}});
      },
      [this, ws]() -> Result<WorkspaceState> { return WorkspaceView(*state_.FindWorkspace(ws)); },
      std::move(done));
}

void Ledger::CreateAdminKey(const Principal& p, std::string ws, std::string name, std::string role,
                            Reply<CreatedKey> done) {
  if (Status s = Authorize(p, Action::kManageWorkspaces, ""); !s.ok()) return done(s);
  if (Status s = CheckText(name, "name", 1, kMaxNameChars); !s.ok()) return done(s);
  if (role != "admin" && role != "auditor") {
    return done(Status::Invalid("Role must be admin or auditor.", "role"));
  }
  auto key = std::make_shared<NewKey>(key_ids_.Next(clock_.Now()));
  key->token = GenerateToken(kAdminTokenPrefix);
  Submit<CreatedKey>(
      *appender_, Durability::kSync,
      [this, p, ws, name, role, key](AppendContext&) -> Result<std::vector<PendingEvent>> {
        if (!state_.FindWorkspace(ws)) return Status::NotFound("Workspace not found.");
        KeyCreated created;
        created.kind = KeyKind::kAdmin;
        created.name = name;
        created.prefix = DisplayPrefix(key->token);
        created.digest = TokenDigest(key->token);
        created.role = role;
        return One({ws, key->id, p.actor, std::move(created)});
      },
      [this, key]() -> Result<CreatedKey> {
        return CreatedKey{ViewKey(*state_.FindKey(key->id, LedgerState::Usage::kOmit)), key->token,
                          false, std::nullopt};
      },
      std::move(done));
}

Result<std::vector<PendingEvent>> Ledger::PrepareCreate(const std::string& actor,
                                                        const std::string& ws, CreateKeyInput&& in,
                                                        TimeMs now, const std::string& key_id,
                                                        const std::string& token, bool* replayed,
                                                        std::string* replay_id) const {
  const WorkspaceState* workspace = state_.FindWorkspace(ws);
  if (!workspace) return Status::NotFound("Workspace not found.");
  if (!in.idempotency_key.empty()) {
    if (const std::optional<KeyState> prior = state_.FindIdempotent(ws, in.idempotency_key, now)) {
      if (CRYPTO_memcmp(prior->request_digest.data(), in.request_digest.data(),
                        in.request_digest.size()) != 0) {
        return Status::Conflict("This Idempotency-Key was already used with a different request.");
      }
      *replayed = true;
      *replay_id = prior->id;
      return std::vector<PendingEvent>();
    }
  }
  if (!PlanHasApiAccess(workspace->plan)) return Status::UpgradeRequired();

  const TimeMs max_expiry = now + workspace->max_expiry_days * kDayMs;
  TimeMs expires_at = now + kDefaultExpiryDays * kDayMs;
  if (in.expires_in_days) {
    if (*in.expires_in_days < 1 || *in.expires_in_days > workspace->max_expiry_days) {
      return Status::Invalid("expires_in_days must be 1 to " +
                                 std::to_string(workspace->max_expiry_days) + ".",
                             "expires_in_days");
    }
    expires_at = now + *in.expires_in_days * kDayMs;
  } else if (in.expires_at) {
    if (*in.expires_at <= now) return Status::Invalid("expires_at must be in the future.", "expires_at");
    if (*in.expires_at > max_expiry) {
      return Status::Invalid("expires_at is beyond the workspace's maximum key lifetime of " +
                                 std::to_string(workspace->max_expiry_days) + " days.",
                             "expires_at");
    }
    expires_at = *in.expires_at;
  }
  expires_at = std::min(expires_at, max_expiry);

  KeyCreated created;
  created.kind = KeyKind::kApi;
  created.name = std::move(in.name);
  created.prefix = DisplayPrefix(token);
  created.digest = TokenDigest(token);
  created.owner = std::move(in.owner);
  created.description = std::move(in.description);
  if (in.preset) {
    created.preset = *in.preset;
    created.abilities = Abilities::ForPreset(*in.preset).list();
  } else {
    auto abilities = Abilities::Parse(*in.abilities);
    if (!abilities.ok()) return abilities.status();
    created.abilities = abilities->list();
  }
  created.metadata = std::move(in.metadata);
  created.expires_at = expires_at;
  // The digest is recorded only with an idempotency key (events/codec.cc writes it only then);
  // anything the live projection keeps must be in the event, or a replay would differ from it.
  if (!in.idempotency_key.empty()) {
    created.idempotency_key = std::move(in.idempotency_key);
    created.request_digest = in.request_digest;
  }
  return One({ws, key_id, actor, std::move(created)});
}

void Ledger::CreateApiKey(const Principal& p, std::string ws, CreateKeyInput in,
                          Reply<CreatedKey> done) {
  if (Status s = Authorize(p, Action::kManageKeys, ws); !s.ok()) return done(s);
  if (Status s = CheckKeyFields(&in.name, &in.owner, &in.description, &in.metadata, in.preset, in.abilities,
                                in.expires_at, in.expires_in_days, in.idempotency_key);
      !s.ok()) {
    return done(s);
  }
  if (!in.preset && !in.abilities) return done(Status::Invalid("Give either preset or abilities.", "preset"));
  auto key = std::make_shared<NewKey>(key_ids_.Next(clock_.Now()));
  key->token = GenerateToken(options_.api_token_prefix);
  Submit<CreatedKey>(
      *appender_, Durability::kSync,
      // Only the actor of the principal is recorded; `in` is consumed (prepare runs once).
      [this, actor = p.actor, ws = std::move(ws), in = std::move(in),
       key](AppendContext& c) mutable {
        return PrepareCreate(actor, ws, std::move(in), c.now, key->id, key->token, &key->replayed,
                             &key->replay_id);
      },
      [this, key]() -> Result<CreatedKey> {
        if (key->replayed) {
          return CreatedKey{ViewKey(*state_.FindKey(key->replay_id, LedgerState::Usage::kOmit)), "",
                            true, std::nullopt};
        }
        return CreatedKey{ViewKey(*state_.FindKey(key->id, LedgerState::Usage::kOmit)), key->token,
                          false, std::nullopt};
      },
      std::move(done));
}

void Ledger::RotateKey(const Principal& p, std::string ws, std::string key_id, RotateKeyInput in,
                       Reply<CreatedKey> done) {
  if (Status s = Authorize(p, Action::kManageKeys, ws); !s.ok()) return done(s);
  if (in.grace_seconds < 0 || in.grace_seconds > kMaxGraceSeconds) {
    return done(Status::Invalid("grace_seconds must be 0 to 604800.", "grace_seconds"));
  }
  const auto given = [](const auto& field) { return field ? &*field : nullptr; };
  if (Status s = CheckKeyFields(given(in.name), given(in.owner), given(in.description), given(in.metadata),
                                in.preset, in.abilities, in.expires_at, in.expires_in_days,
                                in.idempotency_key);
      !s.ok()) {
    return done(s);
  }
  auto key = std::make_shared<NewKey>(key_ids_.Next(clock_.Now()));
  key->token = GenerateToken(options_.api_token_prefix);
  auto old_id = std::make_shared<std::string>(key_id);
  Submit<CreatedKey>(
      *appender_, Durability::kSync,
      [this, p, ws, key_id, in, key](AppendContext& c) -> Result<std::vector<PendingEvent>> {
        auto old = FindApiKey(ws, key_id);
        if (!old.ok()) return old.status();
        const KeyState& prior = *old;
        CreateKeyInput create;
        create.name = in.name.value_or(prior.name);
        if (in.preset || in.abilities) {
          create.preset = in.preset;
          create.abilities = in.abilities;
        } else if (prior.preset != Preset::kNone) {
          create.preset = prior.preset;
        } else {
          create.abilities = prior.abilities.list();
        }
        create.owner = in.owner.value_or(prior.owner);
        create.description = in.description.value_or(prior.description);
        create.metadata = in.metadata.value_or(prior.metadata);
        create.expires_at = in.expires_at;
        create.expires_in_days = in.expires_in_days;
        create.idempotency_key = in.idempotency_key;
        create.request_digest = in.request_digest;
        // An idempotent retry answers before the state checks: the first attempt changed it.
        if (!in.idempotency_key.empty() && state_.FindIdempotent(ws, in.idempotency_key, c.now)) {
          return PrepareCreate(p.actor, ws, std::move(create), c.now, key->id, key->token,
                               &key->replayed, &key->replay_id);
        }
        if (prior.EffectiveStatus(c.now) != KeyStatus::kActive || !prior.rotated_to.empty()) {
          return Status::Conflict("Only an active key that has not been rotated can be rotated.");
        }
        auto events = PrepareCreate(p.actor, ws, std::move(create), c.now, key->id, key->token,
                                    &key->replayed, &key->replay_id);
        if (!events.ok()) return events;
        events->back().data = [&] {
          KeyCreated created = std::get<KeyCreated>(events->back().data);
          created.rotated_from = prior.id;
          return created;
        }();
        const TimeMs grace_until = c.now + in.grace_seconds * kSecondMs;
        events->push_back({ws, prior.id, p.actor, KeyRotated{key->id, grace_until}});
        if (in.grace_seconds == 0) {
          events->push_back({ws, prior.id, p.actor, KeyExpired{"rotated"}});
        }
        return events;
      },
      [this, key, old_id]() -> Result<CreatedKey> {
        const std::string& new_id = key->replayed ? key->replay_id : key->id;
        std::optional<KeyState> created = state_.FindKey(new_id, LedgerState::Usage::kOmit);
        std::optional<KeyState> replaced = state_.FindKey(
            created->rotated_from.empty() ? *old_id : created->rotated_from, LedgerState::Usage::kOmit);
        CreatedKey out{ViewKey(*created), key->replayed ? "" : key->token, key->replayed,
                       ViewKey(*replaced)};
        return out;
      },
      std::move(done));
}

void Ledger::RevokeKey(const Principal& p, std::string ws, std::string key_id, std::string reason,
                       Reply<KeyState> done) {
  Revoke(p, Action::kManageKeys, KeyKind::kApi, std::move(ws), std::move(key_id), std::move(reason),
         std::move(done));
}

void Ledger::RevokeAdminKey(const Principal& p, std::string ws, std::string key_id, std::string reason,
                            Reply<KeyState> done) {
  Revoke(p, Action::kManageWorkspaces, KeyKind::kAdmin, std::move(ws), std::move(key_id),
         std::move(reason), std::move(done));
}

void Ledger::Revoke(const Principal& p, Action action, KeyKind kind, std::string ws, std::string key_id,
                    std::string reason, Reply<KeyState> done) {
  if (Status s = Authorize(p, action, ws); !s.ok()) return done(s);
  if (Status s = CheckText(reason, "reason", 0, kMaxReasonChars); !s.ok()) return done(s);
  Submit<KeyState>(
      *appender_, Durability::kSync,
      [this, p, kind, ws, key_id, reason](AppendContext& c) -> Result<std::vector<PendingEvent>> {
        const std::optional<KeyState> key = state_.FindKey(key_id, LedgerState::Usage::kOmit);
        if (!key || key->kind != kind || key->workspace != ws) return Status::NotFound("Key not found.");
        if (key->EffectiveStatus(c.now) != KeyStatus::kActive) {
          return Status::Conflict("Only an active key can be revoked.");
        }
        return One({ws, key_id, p.actor, KeyRevoked{reason}});
      },
      [this, key_id]() -> Result<KeyState> {
        return ViewKey(*state_.FindKey(key_id, LedgerState::Usage::kOmit));
      },
      std::move(done));
}

void Ledger::SweepExpired(std::function<void(Status)> done) {
  AppendRequest request;
  request.prepare = [this](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    std::vector<PendingEvent> events;
    for (const std::string& id : state_.DueForExpiry(c.now, 1000)) {
      const KeyRecord& key = state_.Record(*state_.IndexOfKey(id));
      const TimeMs grace_until = key.grace_until();
      const bool grace_ended = grace_until != 0 && grace_until <= c.now &&
                               (key.expires_at == 0 || grace_until <= key.expires_at);
      events.push_back({state_.WorkspaceOf(key), id, "system", KeyExpired{grace_ended ? "rotated" : "expired"}});
    }
    return events;
  };
  request.done = [done = std::move(done)](const Status& s, uint64_t, uint64_t) { done(s); };
  appender_->Submit(std::move(request));
}

}  // namespace keyledger
