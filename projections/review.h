#pragma once
// The key review (API.md "Audit and review"): the findings a compliance reviewer would write down
// when walking a workspace's API keys against the audit checklist: does each key have an owner
// and a clear name, is the system behind it still there, is its access still needed, is it old
// or about to expire, and is anything still presenting a key that has ended.
//
// A pure function of the state and `now`: no I/O, no clock. It reads `state` only; the caller
// keeps `state` unchanged for the duration of the call (projections/ledger.h: under its lock).

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "projections/ledger_state.h"

namespace keyledger {

struct ReviewFinding {
  std::string key_id;
  std::string rule;    // one of kReviewRules
  std::string detail;  // one sentence a reviewer can paste into a report
};

// A review as the API answers it: the instant it judged against, and what it found.
struct WorkspaceReview {
  TimeMs generated_at = 0;
  std::vector<ReviewFinding> findings;
};

// The rules, in the order findings for one key are listed. All but the last look only at keys
// that are active at `now` (KeyState::EffectiveStatus); the last looks only at keys that have
// ended (revoked or expired), so an ended key never gets any other finding.
//   no_owner          the owner is empty or only white space.
//   never_used        no valid use, and created at least kReviewNeverUsedAfterMs (7 days) before
//                     `now`. A key made this morning is not a finding yet: its integration has
//                     not had time to be wired up.
//   unused_30d        used at least once, but the last valid use is more than
//                     kReviewUnusedAfterMs (30 days) before `now`.
//   full_access       the full_access preset, or explicit abilities that allow both `*:read` and
//                     `*:write`.
//   expiring_soon     expires_at is set and at most kReviewExpiringWithinMs (14 days) after
//                     `now`. Only expires_at counts: the end of a rotation's grace period is a
//                     planned switchover, not an expiry to prepare for.
//   older_than_90d    created more than kReviewOldAfterMs (90 days) before `now`.
//   vague_name        the name, trimmed, case-folded (ASCII) and with runs of white space, `-`
//                     and `_` read as one space, is a placeholder (test, new key, key 1, my key,
//                     asdf, ...; the list is in review.cc), or has fewer than 3 characters
//                     (UTF-8 sequences count as one).
//   revoked_key_still_presented
//                     rejected uses in the last kReviewPresentedWithinMs (7 days) after the key
//                     ended, counted from the hourly usage buckets whose hour_start is at or
//                     after max(now - 7 days, the start of the hour the key ended in). A key
//                     past its deadline that the sweeper has not yet recorded ended at that
//                     deadline.
inline constexpr std::array<std::string_view, 8> kReviewRules = {
    "no_owner",      "never_used",     "unused_30d", "full_access",
    "expiring_soon", "older_than_90d", "vague_name", "revoked_key_still_presented"};

inline constexpr TimeMs kReviewNeverUsedAfterMs = 7 * kDayMs;
inline constexpr TimeMs kReviewUnusedAfterMs = 30 * kDayMs;
inline constexpr TimeMs kReviewExpiringWithinMs = 14 * kDayMs;
inline constexpr TimeMs kReviewOldAfterMs = 90 * kDayMs;
inline constexpr TimeMs kReviewPresentedWithinMs = 7 * kDayMs;

// Findings for the API keys (kind api) of `workspace` as of `now`, ordered by key creation order,
// then by rule in the order of kReviewRules. Admin and operator keys and other workspaces' keys
// never appear. An unknown workspace, or one without findings, gives an empty list.
std::vector<ReviewFinding> ReviewWorkspace(const LedgerState& state, std::string_view workspace,
                                           TimeMs now);

// The same review a part at a time, for a caller that must not hold `state` still for a whole
// workspace (the ledger reviews a chunk under its lock, then lets writers in): reviews the keys
// at positions [next, next + max_keys) of the workspace's key list (creation order; keys created
// later are appended to it), appends their findings to `out` and advances `next` past them.
// Returns whether keys remain after `next`. Chunks run one after another over an unchanged
// state give exactly ReviewWorkspace's findings; over a changing one, each key is reviewed as it
// was when its chunk ran. REQUIRES: max_keys > 0.
bool ReviewWorkspaceChunk(const LedgerState& state, std::string_view workspace, TimeMs now,
                          size_t max_keys, size_t& next, std::vector<ReviewFinding>& out);

}  // namespace keyledger
