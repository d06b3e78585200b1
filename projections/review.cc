#include "projections/review.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>

#include "core/time_format.h"
#include "projections/validation.h"

namespace keyledger {
namespace {

enum Rule : size_t {
  kNoOwner,
  kNeverUsed,
  kUnused30d,
  kFullAccess,
  kExpiringSoon,
  kOlderThan90d,
  kVagueName,
  kRevokedKeyStillPresented,
};

constexpr size_t kMinNameChars = 3;

// Placeholder names, in the normal form NormalizeName() produces. "key-1", "Test_Key" and
// "  NEW   KEY " all reach one of these.
const std::unordered_set<std::string_view>& PlaceholderNames() {
  static const std::unordered_set<std::string_view> names = {
      // The reviewers' own examples (API.md and the naming guides) ...
      "test", "testing", "test key", "new key", "new", "key", "key 1", "key1", "key 2", "my key",
      "mykey", "asdf", "qwerty", "temp", "tmp", "foo", "bar", "default", "api key", "apikey",
      "untitled", "xxx", "123",
      // ... and their obvious siblings.
      "key2", "key 3", "key3", "test1", "test 1", "test2", "test 2", "testkey", "newkey",
      "new api key", "my api key", "test api key", "temp key", "token", "api token", "secret",
      "demo", "example", "sample", "dummy", "placeholder", "changeme", "foobar", "abc", "aaa",
      "1234", "12345", "asdfgh", "untitled key"};
  return names;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Lower-case ASCII, with each run of white space, '-' and '_' read as one space.
// REQUIRES: `trimmed` has no leading or trailing white space.
std::string NormalizeName(std::string_view trimmed) {
  std::string out;
  bool gap = false;
  for (char c : trimmed) {
    if (IsAsciiSpace(c) || c == '-' || c == '_') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += ' ';
    gap = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string Date(TimeMs t) { return FormatRfc3339(t).substr(0, 10); }

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "114 days", "5 hours", "less than an hour": whole units, rounded down.
std::string Span(TimeMs ms) {
  if (ms >= kDayMs) return Plural(static_cast<uint64_t>(ms / kDayMs), "day", "days");
  if (ms >= kHourMs) return Plural(static_cast<uint64_t>(ms / kHourMs), "hour", "hours");
  return "less than an hour";
}

// `Key "billing export" (kl_AbCdEfGhI)`: how the console lists it.
std::string Label(const KeyState& key) { return "Key \"" + key.name + "\" (" + key.prefix + ")"; }

class FindingList {
 public:
  FindingList(std::vector<ReviewFinding>& out, const KeyState& key) : out_(out), key_(key) {}
  void Add(Rule rule, std::string detail) {
    out_.push_back({key_.id, std::string(kReviewRules[rule]), std::move(detail)});
  }

 private:
  std::vector<ReviewFinding>& out_;
  const KeyState& key_;
};

void ReviewActiveKey(const KeyState& key, TimeMs now, FindingList& findings) {
  const std::string label = Label(key);
  const TimeMs age = now - key.created_at;
  const std::string created = "created " + Date(key.created_at) + ", " + Span(age) + " ago";

  if (Trim(key.owner).empty()) {
    findings.Add(kNoOwner,
                 label +
                     " has no owner, so no one is accountable for it and it is a security "
                     "and maintenance risk; assign an owner, or create a replacement with "
                     "a clear owner, migrate the systems using this one and then revoke it.");
  }
  if (key.usage_count == 0 && age >= kReviewNeverUsedAfterMs) {
    findings.Add(kNeverUsed, label + " was " + created +
                                 ", and has never been used; confirm the external system still "
                                 "exists and revoke the key if nothing needs it.");
  }
  if (key.usage_count > 0 && now - key.last_used_at > kReviewUnusedAfterMs) {
    findings.Add(kUnused30d, label + " was last used " + Date(key.last_used_at) + ", " +
                                 Span(now - key.last_used_at) + " ago (" +
                                 Plural(key.usage_count, "use", "uses") +
                                 " in all); confirm the external system still exists and revoke "
                                 "the key if the vendor, script or job no longer needs it.");
  }
  const bool full_preset = key.preset == Preset::kFullAccess;
  if (full_preset || (key.abilities.Allows("*:read") && key.abilities.Allows("*:write"))) {
    const std::string what =
        full_preset ? " has the full_access preset (read and write on every resource)"
                    : " can read and write every resource (abilities *:read and *:write)";
    findings.Add(kFullAccess, label + what +
                                  "; confirm the integration truly needs to write data, and "
                                  "replace it with a read-only or narrower key if not.");
  }
  if (key.expires_at != 0 && key.expires_at - now <= kReviewExpiringWithinMs) {
    findings.Add(kExpiringSoon, label + " expires " + FormatRfc3339(key.expires_at) + ", in " +
                                    Span(key.expires_at - now) +
                                    "; create a replacement key, update the external system and "
                                    "revoke the old key before it expires to avoid an outage.");
  }
  if (age > kReviewOldAfterMs) {
    findings.Add(kOlderThan90d, label + " was " + created +
                                    "; old keys should be rotated: create a replacement, update "
                                    "the external system, then revoke this one.");
  }
  const std::string_view trimmed = Trim(key.name);
  const size_t chars = CharCount(trimmed);
  if (chars < kMinNameChars) {
    findings.Add(kVagueName, label + " has a name of only " +
                                 Plural(chars, "character", "characters") +
                                 ", which does not say which system or environment uses it; "
                                 "rotate it to a name such as \"Zapier production\" or \"Reporting "
                                 "staging\" so future admins know what it controls.");
  } else if (PlaceholderNames().count(NormalizeName(trimmed)) != 0) {
    findings.Add(kVagueName, label +
                                 " has a placeholder name that does not say which system or "
                                 "environment uses it; rotate it to a name such as \"Zapier "
                                 "production\" or \"Reporting staging\" so future admins know "
                                 "what it controls.");
  }
}

void ReviewEndedKey(const KeyState& key, KeyStatus status, TimeMs now, FindingList& findings) {
  // An active key past its deadline has ended even before the sweeper records it.
  const TimeMs ended = key.status != KeyStatus::kActive ? key.ended_at : key.Deadline();
  const TimeMs since = std::max(now - kReviewPresentedWithinMs, ended - ended % kHourMs);
  uint64_t attempts = 0;
  for (const UsageBucket& bucket : key.usage) {
    if (bucket.hour_start >= since) attempts += bucket.rejected;
  }
  // Usage is kept in hourly buckets, which cannot tell a use refused just before the end (a
  // missing ability, say) from one after it; the last refusal's time can: without one at or after
  // the end there is no finding. The count stays the buckets' (from the hour the key ended).
  if (attempts == 0 || key.last_rejected_at < ended) return;

  std::string how = "expired";
  if (status == KeyStatus::kRevoked) {
    how = "revoked";
  } else if (!key.rotated_to.empty()) {
    how = "replaced by rotation";
  }
  const std::string from =
      key.last_rejected_ip.empty() ? "an unrecorded address" : key.last_rejected_ip;
  findings.Add(kRevokedKeyStillPresented,
               Label(key) + ", " + how + " on " + Date(ended) + ", was still presented after that, most recently at " +
                   FormatRfc3339(key.last_rejected_at) + " from " + from + " (refused " +
                   Plural(attempts, "time", "times") + " in the last 7 days, counted from the hour it ended)" +
                   "; find the job, script or integration still using it, give it a current key "
                   "and document the dependency.");
}

}  // namespace

std::vector<ReviewFinding> ReviewWorkspace(const LedgerState& state, std::string_view workspace,
                                           TimeMs now) {
  std::vector<ReviewFinding> out;
  size_t next = 0;
  ReviewWorkspaceChunk(state, workspace, now, std::numeric_limits<size_t>::max(), next, out);
  return out;
}

bool ReviewWorkspaceChunk(const LedgerState& state, std::string_view workspace, TimeMs now,
                          size_t max_keys, size_t& next, std::vector<ReviewFinding>& out) {
  const WorkspaceState* ws = state.FindWorkspace(workspace);
  if (!ws) return false;
  const size_t end = next + std::min(max_keys, ws->keys.size() - std::min(next, ws->keys.size()));
  for (; next < end; ++next) {
    const KeyIndex index = ws->keys[next];
    if (state.Record(index).kind != KeyKind::kApi) continue;
    const KeyState key = state.Key(index);
    if (key.workspace != workspace) continue;
    FindingList findings(out, key);
    const KeyStatus status = key.EffectiveStatus(now);
    if (status == KeyStatus::kActive) {
      ReviewActiveKey(key, now, findings);
    } else {
      ReviewEndedKey(key, status, now, findings);
    }
  }
  return next < ws->keys.size();
}

}  // namespace keyledger
