#include "tools/replay_command.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "core/json_writer.h"
#include "core/time_format.h"
#include "events/chain_checkpoint.h"
#include "events/codec.h"
#include "http/views.h"
#include "projections/checkpoint.h"
#include "tools/cli_support.h"

namespace keyledger::tools {
namespace {

constexpr std::string_view kCommand = "replay";
constexpr uint64_t kReplayChunk = 100000;  // events between progress updates
constexpr int kReplayAttempts = 3;

struct ReplayFlags {
  std::string data_dir;
  std::string as_of;
  std::string workspace;
  std::string format = "table";
};

struct DigestCheck {
  std::optional<uint64_t> checkpoint_seq;  // nullopt: no signed checkpoint at or before the seq
  bool signature_valid = false;
  bool matches = false;
  Digest replayed{};
  Digest signed_digest{};

  bool ok() const { return !checkpoint_seq || (signature_valid && matches); }
};

std::string DigestSentence(const DigestCheck& check, uint64_t seq) {
  if (!check.checkpoint_seq) {
    return "no signed checkpoint at or before seq " + std::to_string(seq) +
           ": the projection digest was not checked";
  }
  const std::string at = std::to_string(*check.checkpoint_seq);
  if (!check.signature_valid) {
    return "the signed checkpoint at seq " + at + " has an invalid signature: run keyledger verify-log";
  }
  if (!check.matches) {
    return "projection digest does NOT match the signed checkpoint at seq " + at + ": replaying events 1.." +
           at + " gives " + ToHex(check.replayed) + ", the checkpoint signs " + ToHex(check.signed_digest);
  }
  return "projection digest matches the signed checkpoint at seq " + at;
}

Result<TimeMs> EventTime(const EventStore& store, uint64_t seq) {
  auto row = store.Get(Cf::kEvents, EncodeSeq(seq));
  if (!row.ok()) return row.status();
  if (!row->has_value()) {
    return Status::Internal("event " + std::to_string(seq) + " is missing: run keyledger verify-log");
  }
  auto event = DecodeStoredValue(**row);
  if (!event.ok()) {
    return Status::Internal("event " + std::to_string(seq) + " cannot be read: run keyledger verify-log");
  }
  return event->ts;
}

// The last seq whose event has ts <= as_of (0 when none), by binary search: ts never decreases
// along the log.
Result<uint64_t> LastSeqAtOrBefore(const EventStore& store, uint64_t head, TimeMs as_of) {
  uint64_t lo = 0, hi = head;  // invariant: ts(lo) <= as_of (seq 0: before everything)
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    auto ts = EventTime(store, mid);
    if (!ts.ok()) return ts.status();
    if (*ts <= as_of) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Replays the log into `state` up to `target` in chunks, showing progress.
Status ReplayTo(const EventStore& store, LedgerState& state, uint64_t target, Progress& progress) {
  while (state.applied_seq() < target) {
    const uint64_t before = state.applied_seq();
    const uint64_t to = std::min(target, before + kReplayChunk);
    if (Status s = ReplayInto(store, state, to); !s.ok()) {
      return Status::Internal("the log cannot be replayed (" + s.message() + "): run keyledger verify-log");
    }
    if (state.applied_seq() == before) {
      return Status::Internal("the log ends at seq " + std::to_string(before) + ", before seq " +
                              std::to_string(target) + ": run keyledger verify-log");
    }
    progress.Show("replayed " + std::to_string(state.applied_seq()) + " events");
  }
  return Status::Ok();
}

// The newest checkpoint that parses and whose row names its seq, at or before `seq`.
std::optional<ChainCheckpoint> NewestCheckpointAtOrBefore(const std::vector<StoredChainCheckpoint>& all,
                                                          uint64_t seq) {
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!it->checkpoint.ok()) continue;
    const ChainCheckpoint& c = *it->checkpoint;
    if (c.seq == it->row_seq && c.seq >= 1 && c.seq <= seq) return c;
  }
  return std::nullopt;
}

std::string AbilitiesText(const KeyState& key) {
  if (key.preset != Preset::kNone) return std::string(PresetName(key.preset));
  std::string out;
  for (const std::string& a : key.abilities.list()) out += (out.empty() ? "" : ",") + a;
  return out;
}

// The API keys to show, each with its status as of `as_of`, in workspace order then creation order.
Result<std::vector<KeyState>> KeysAsOf(const LedgerState& state, const std::string& workspace, TimeMs as_of) {
  std::vector<const WorkspaceState*> workspaces;
  if (!workspace.empty()) {
    const WorkspaceState* ws = state.FindWorkspace(workspace);
    if (!ws) {
      return Status::NotFound("workspace " + workspace + " did not exist as of " + FormatRfc3339(as_of));
    }
    workspaces.push_back(ws);
  } else {
    state.ForEachWorkspace([&](const WorkspaceState& ws) { workspaces.push_back(&ws); });
    std::sort(workspaces.begin(), workspaces.end(),
              [](const WorkspaceState* a, const WorkspaceState* b) { return a->id < b->id; });
  }
  std::vector<KeyState> keys;
  for (const WorkspaceState* ws : workspaces) {
    for (KeyIndex index : ws->keys) {
      if (state.Record(index).kind != KeyKind::kApi) continue;
      KeyState view = state.Key(index);
      view.usage.clear();
      view.status = view.EffectiveStatus(as_of);
      keys.push_back(std::move(view));
    }
  }
  return keys;
}

void PrintTable(std::ostream& out, const std::vector<KeyState>& keys, bool with_workspace) {
  std::vector<std::string> headers = {"ID", "NAME", "STATUS", "ABILITIES", "EXPIRES_AT", "GRACE_UNTIL",
                                      "USES", "REJECTED", "LAST_USED"};
  if (with_workspace) headers.insert(headers.begin(), "WORKSPACE");
  Table table(std::move(headers));
  for (const KeyState& k : keys) {
    std::vector<std::string> row = {k.id,
                                    k.name,
                                    std::string(KeyStatusName(k.status)),
                                    AbilitiesText(k),
                                    TimeOrDash(k.expires_at),
                                    TimeOrDash(k.grace_until),
                                    std::to_string(k.usage_count),
                                    std::to_string(k.rejected_count),
                                    TimeOrDash(k.last_used_at)};
    if (with_workspace) row.insert(row.begin(), k.workspace);
    table.AddRow(std::move(row));
  }
  table.Print(out);
}

// A signed checkpoint past the head means the tail of the log was cut off: what replay shows
// would then be a history someone shortened.
std::optional<std::string> CutShortSentence(const std::vector<StoredChainCheckpoint>& all, uint64_t head) {
  uint64_t newest = 0;
  for (const auto& stored : all) {
    if (stored.checkpoint.ok()) newest = std::max(newest, stored.checkpoint->seq);
  }
  if (newest <= head) return std::nullopt;
  return "the log ends at seq " + std::to_string(head) + " but a signed checkpoint vouches for seq " +
         std::to_string(newest) + ": events were removed; run keyledger verify-log";
}

std::string ReplayJson(TimeMs as_of, uint64_t seq, uint64_t head, const std::vector<KeyState>& keys,
                       const DigestCheck& check, const std::vector<std::string>& problems) {
  JsonWriter w;
  w.BeginObject().Field("as_of", FormatRfc3339(as_of)).Key("seq").Uint(seq).Key("head_seq").Uint(head);
  w.Key("keys").BeginArray();
  for (const KeyState& k : keys) http::WriteKey(w, k);
  w.EndArray().Key("checkpoint");
  if (check.checkpoint_seq) {
    w.BeginObject().Key("seq").Uint(*check.checkpoint_seq).Field("signature_valid", check.signature_valid);
    w.Field("projection_digest_matches", check.signature_valid && check.matches).EndObject();
  } else {
    w.Null();
  }
  w.StringArray("problems", problems);
  w.EndObject();
  return w.Take();
}

// What one replay over one read-only view found.
struct Replayed {
  LedgerState state;
  uint64_t head = 0;
  DigestCheck check;
  std::optional<std::string> cut_short;
};

Result<Replayed> ReplayOnce(const std::string& data_dir, std::optional<TimeMs> as_of) {
  auto store = OpenReadOnly(data_dir);
  if (!store.ok()) return store.status();
  const EventStore& db = **store;
  auto last = db.LastEvent();
  if (!last.ok()) return last.status();
  Replayed r;
  r.head = last->first;
  uint64_t target = r.head;
  if (as_of) {
    auto seq = LastSeqAtOrBefore(db, r.head, *as_of);
    if (!seq.ok()) return seq.status();
    target = *seq;
  }
  auto checkpoints = ReadChainCheckpoints(db);
  if (!checkpoints.ok()) return checkpoints.status();

  Progress progress;
  if (auto c = NewestCheckpointAtOrBefore(*checkpoints, target)) {
    if (Status s = ReplayTo(db, r.state, c->seq, progress); !s.ok()) return s;
    r.check.checkpoint_seq = c->seq;
    r.check.signature_valid = c->VerifiedBy(c->public_key);
    r.check.replayed = r.state.Fingerprint();
    r.check.signed_digest = c->projection_digest;
    r.check.matches = r.check.replayed == r.check.signed_digest;
  }
  if (Status s = ReplayTo(db, r.state, target, progress); !s.ok()) return s;
  r.cut_short = CutShortSentence(*checkpoints, r.head);
  return r;
}

int Replay(const ReplayFlags& flags) {
  const std::optional<TimeMs> as_of_flag = ParseTimeFlag(flags.as_of);
  const TimeMs as_of = as_of_flag ? *as_of_flag : SystemClock().Now();
  // A log that cannot be replayed, or looks cut short, is tried again on a fresh view before it
  // is reported: the view may have been torn by a flush of the live server (tools/cli_support.h,
  // OpenReadOnly). Tampering stays put; a torn view does not.
  auto suspect = [](const Result<Replayed>& r) {
    return r.ok() ? r->cut_short.has_value() : r.status().code() == StatusCode::kInternal;
  };
  auto replayed = ReplayOnce(flags.data_dir, as_of_flag);
  for (int attempt = 2; attempt <= kReplayAttempts && suspect(replayed); ++attempt) {
    replayed = ReplayOnce(flags.data_dir, as_of_flag);
  }
  if (!replayed.ok()) return Fail(kCommand, replayed.status());
  const LedgerState& state = replayed->state;
  const DigestCheck& check = replayed->check;

  auto keys = KeysAsOf(state, flags.workspace, as_of);
  if (!keys.ok()) return Fail(kCommand, keys.status());
  std::vector<std::string> sentences = {DigestSentence(check, state.applied_seq())};
  std::vector<std::string> problems;
  if (!check.ok()) problems.push_back(sentences.front());
  if (replayed->cut_short) {
    sentences.push_back(*replayed->cut_short);
    problems.push_back(*replayed->cut_short);
  }
  if (flags.format == "json") {
    std::cout << ReplayJson(as_of, state.applied_seq(), replayed->head, *keys, check, problems) << "\n";
    for (const std::string& sentence : sentences) std::cerr << sentence << "\n";
  } else {
    std::cout << "key state as of " << FormatRfc3339(as_of) << " (events 1.." << state.applied_seq()
              << " of " << replayed->head << ")\n";
    PrintTable(std::cout, *keys, flags.workspace.empty());
    std::cout << keys->size() << (keys->size() == 1 ? " API key\n" : " API keys\n");
    for (const std::string& sentence : sentences) std::cout << sentence << "\n";
  }
  std::cout.flush();
  return problems.empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void AddReplayCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand("replay", "Key state at an instant, replayed from the log.");
  AddDataOption(*cmd, flags->data_dir);
  cmd->add_option("--as-of", flags->as_of,
                  "RFC 3339 instant, such as 2026-11-23T10:00:00.000Z (default: now, whole log)")
      ->check(PastRfc3339Validator());
  cmd->add_option("--workspace", flags->workspace, "Only this workspace's keys")->check(WorkspaceIdValidator());
  cmd->add_option("--format", flags->format, "table for people, json for scripts")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([flags, &exit_code] { exit_code = Replay(*flags); });
}

}  // namespace keyledger::tools
