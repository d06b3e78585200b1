// The verify path: every decision on a known API key is made by the appender's single writer (the
// appender thread, or in `serve` the I/O thread holding the writer role: events/appender.h) at the
// moment its key.used event is sequenced, so no valid use can land after that key's revocation or
// end. The lookup before it reads only the compact record: no copy, no allocation.

#include <openssl/crypto.h>

#include "core/token.h"
#include "projections/ledger.h"

namespace keyledger {
namespace {

UseOutcome Decide(const KeyRecord& key, const WorkspaceState* ws, const Abilities& abilities,
                  std::string_view ability, TimeMs now) {
  switch (key.EffectiveStatus(now)) {
    case KeyStatus::kRevoked: return UseOutcome::kRevoked;
    case KeyStatus::kExpired: return UseOutcome::kExpired;
    case KeyStatus::kActive: break;
  }
  if (!ws || !PlanHasApiAccess(ws->plan)) return UseOutcome::kUpgradeRequired;
  if (!ability.empty() && !abilities.Allows(ability)) return UseOutcome::kForbidden;
  return UseOutcome::kValid;
}

VerifyCode CodeFor(UseOutcome outcome) {
  switch (outcome) {
    case UseOutcome::kValid: return VerifyCode::kValid;
    case UseOutcome::kForbidden: return VerifyCode::kForbidden;
    case UseOutcome::kExpired: return VerifyCode::kExpired;
    case UseOutcome::kRevoked: return VerifyCode::kRevoked;
    case UseOutcome::kUpgradeRequired: return VerifyCode::kUpgradeRequired;
    case UseOutcome::kUsageExceeded:
    case UseOutcome::kRateLimited: break;  // not produced: no usage or rate limits yet
  }
  return VerifyCode::kForbidden;
}

}  // namespace

void Ledger::Verify(VerifyInput in, Callback<VerifyResult> done) {
  if (!CheckToken(in.token)) {
    stats_.verifies_unknown.fetch_add(1, std::memory_order_relaxed);
    return done(VerifyResult{VerifyCode::kNotFound, std::nullopt});
  }
  const Digest digest = TokenDigest(in.token);
  std::optional<KeyIndex> index;
  {
    std::shared_lock lock(state_mutex_);
    index = state_.IndexOfDigest(digest);
    if (index) {
      const KeyRecord& key = state_.Record(*index);
      if (key.kind != KeyKind::kApi ||
          CRYPTO_memcmp(key.digest.data(), digest.data(), digest.size()) != 0) {
        index.reset();
      }
    }
  }
  if (!index) {
    stats_.verifies_unknown.fetch_add(1, std::memory_order_relaxed);
    return done(VerifyResult{VerifyCode::kNotFound, std::nullopt});
  }
  stats_.verifies_known.fetch_add(1, std::memory_order_relaxed);

  struct Decision {
    UseOutcome outcome = UseOutcome::kValid;
    TimeMs at = 0;
  };
  auto decision = std::make_shared<Decision>();
  AppendRequest request;
  request.durability = options_.use_durability;
  request.prepare = [this, index = *index, ability = std::move(in.ability),
                     ip = std::move(in.source_ip), decision](AppendContext& c)
      -> Result<std::vector<PendingEvent>> {
    const KeyRecord& key = state_.Record(index);  // keys are never removed
    const std::string& ws = state_.WorkspaceOf(key);
    decision->outcome = Decide(key, state_.FindWorkspace(ws), state_.AbilitiesOf(key), ability, c.now);
    decision->at = c.now;
    std::vector<PendingEvent> events;
    events.push_back({ws, std::string(state_.IdOf(key)), "", KeyUsed{decision->outcome, ability, ip}});
    return events;
  };
  request.done = [this, index = *index, decision, done = std::move(done)](const Status& s, uint64_t,
                                                                          uint64_t) {
    if (!s.ok()) return done(s);
    // The key as the decision saw it: its status at the instant its use was sequenced.
    done(VerifyResult{CodeFor(decision->outcome), ViewKey(state_.Key(index, LedgerState::Usage::kOmit), decision->at)});
  };
  appender_->Submit(std::move(request));
}

}  // namespace keyledger
