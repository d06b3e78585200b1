#include "tools/review_command.h"

#include <iostream>
#include <memory>

#include "core/json_writer.h"
#include "core/time_format.h"
#include "projections/point_in_time.h"
#include "projections/review.h"
#include "tools/cli_support.h"

namespace keyledger::tools {
namespace {

constexpr std::string_view kCommand = "review";
constexpr int kReviewAttempts = 3;

struct ReviewFlags {
  std::string data_dir;
  std::string workspace;
  std::string format = "table";
  std::string as_of;
};

std::string ReviewJson(TimeMs generated_at, TimeMs as_of, uint64_t seq, const std::string& workspace,
                       const std::vector<ReviewFinding>& findings) {
  JsonWriter w;
  w.BeginObject().Field("generated_at", FormatRfc3339(generated_at)).Field("as_of", FormatRfc3339(as_of));
  w.Key("seq").Uint(seq).Field("workspace", workspace).Key("findings").BeginArray();
  for (const ReviewFinding& f : findings) {
    w.BeginObject().Field("key_id", f.key_id).Field("rule", f.rule).Field("detail", f.detail).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

// The state as of `as_of` (the whole log without it) over a fresh read-only view.
Result<LedgerState> StateFrom(const std::string& data_dir, std::optional<TimeMs> as_of) {
  auto store = OpenReadOnly(data_dir);
  if (!store.ok()) return store.status();
  Progress progress;
  progress.Show("replaying the log");
  return as_of ? StateAsOf(**store, *as_of) : StateAtSeq(**store, 0);
}

int Review(const ReviewFlags& flags) {
  const TimeMs generated_at = SystemClock().Now();
  const std::optional<TimeMs> as_of_flag = ParseTimeFlag(flags.as_of);
  const TimeMs as_of = as_of_flag.value_or(generated_at);
  // A log that cannot be replayed is tried again on a fresh view before it is reported, in case
  // the view was torn by a flush of a live server (tools/cli_support.h, OpenReadOnly).
  auto state = StateFrom(flags.data_dir, as_of_flag);
  for (int attempt = 2; attempt <= kReviewAttempts && !state.ok() &&
                        state.status().code() == StatusCode::kInternal;
       ++attempt) {
    state = StateFrom(flags.data_dir, as_of_flag);
  }
  if (!state.ok()) return Fail(kCommand, state.status());
  if (!state->FindWorkspace(flags.workspace)) {
    return Fail(kCommand, Status::NotFound("workspace " + flags.workspace + " did not exist as of " +
                                           FormatRfc3339(as_of)));
  }
  const std::vector<ReviewFinding> findings = ReviewWorkspace(*state, flags.workspace, as_of);

  if (flags.format == "json") {
    std::cout << ReviewJson(generated_at, as_of, state->applied_seq(), flags.workspace, findings) << "\n";
    return kExitOk;
  }
  std::cout << "key review of " << flags.workspace << " as of " << FormatRfc3339(as_of) << " (events 1.."
            << state->applied_seq() << ")\n";
  if (findings.empty()) {
    std::cout << "no findings\n";
    return kExitOk;
  }
  Table table({"KEY", "NAME", "RULE", "DETAIL"}, {0, 40, 0, 0});
  for (const ReviewFinding& f : findings) {
    const std::optional<KeyState> key = state->FindKey(f.key_id);
    table.AddRow({f.key_id, key ? key->name : "", f.rule, f.detail});
  }
  table.Print(std::cout);
  std::cout << findings.size() << (findings.size() == 1 ? " finding\n" : " findings\n");
  return kExitOk;
}

}  // namespace

void AddReviewCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReviewFlags>();
  CLI::App* cmd = app.add_subcommand("review", "Review a workspace's API keys against the audit checklist.");
  AddDataOption(*cmd, flags->data_dir);
  cmd->add_option("--workspace", flags->workspace, "Workspace id")->required()->check(WorkspaceIdValidator());
  cmd->add_option("--format", flags->format, "table for people, json for scripts")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("--as-of", flags->as_of, "Review the state at this RFC 3339 instant (default: now)")
      ->check(PastRfc3339Validator());
  cmd->callback([flags, &exit_code] { exit_code = Review(*flags); });
}

}  // namespace keyledger::tools
