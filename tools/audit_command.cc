#include "tools/audit_command.h"

#include <simdjson.h>

#include <iostream>
#include <memory>

#include "core/time_format.h"
#include "events/codec.h"
#include "projections/audit_query.h"
#include "tools/cli_support.h"

namespace keyledger::tools {
namespace {

constexpr std::string_view kCommand = "audit";
constexpr size_t kPageSize = 1000;

struct AuditFlags {
  std::string data_dir;
  std::string workspace;
  std::string key_id;
  std::vector<std::string> types;
  std::string actor;
  std::string from;
  std::string to;
  std::string format = "jsonl";
};

std::vector<std::string> EventTypeNames() {
  std::vector<std::string> names;
  for (EventType t : AllEventTypes()) names.emplace_back(EventTypeName(t));
  return names;
}

// RFC 4180: quoted when it holds a quote, a comma or a line break; quotes doubled. A field that a
// spreadsheet would evaluate as a formula (it starts with = + - @, a tab or a carriage return:
// an X-Actor of =HYPERLINK(...), say) gets a leading ' that shows it as text instead (OWASP's
// advice for CSV injection).
void AppendCsvField(std::string& out, std::string_view value, bool always_quote = false) {
  const bool formula = !value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos;
  if (!always_quote && !formula && value.find_first_of("\",\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

constexpr std::string_view kCsvHeader = "seq,ts,type,workspace,key_id,actor,outcome,ability,source_ip,data\r\n";

// One CSV record from an `<Event>` JSON object.
Result<std::string> CsvRecord(simdjson::dom::parser& parser, const std::string& event_json) {
  simdjson::dom::element doc;
  if (parser.parse(event_json).get(doc) != simdjson::SUCCESS) {
    return Status::Internal("an event in the audit index is not valid JSON");
  }
  auto text = [&](simdjson::dom::element parent, const char* field) -> std::string {
    simdjson::dom::element v;
    std::string_view s;
    if (parent[field].get(v) != simdjson::SUCCESS || v.get_string().get(s) != simdjson::SUCCESS) return {};
    return std::string(s);
  };
  uint64_t seq = 0;
  simdjson::dom::element data;
  if (doc["seq"].get_uint64().get(seq) != simdjson::SUCCESS || doc["data"].get(data) != simdjson::SUCCESS) {
    return Status::Internal("an event in the audit index lacks seq or data");
  }
  std::string out = std::to_string(seq);
  for (const char* field : {"ts", "type", "workspace", "key_id", "actor"}) {
    out.push_back(',');
    AppendCsvField(out, text(doc, field));
  }
  for (const char* field : {"outcome", "ability", "source_ip"}) {
    out.push_back(',');
    AppendCsvField(out, text(data, field));
  }
  out.push_back(',');
  AppendCsvField(out, simdjson::minify(data), /*always_quote=*/true);
  out += "\r\n";
  return out;
}

// Fails unless the workspace has events and, with a key, the key is one of its keys: a typo must
// not look like an empty history.
Status CheckScope(const EventStore& store, const std::string& workspace, const std::string& key_id) {
  const std::string& owner = key_id.empty() ? workspace : key_id;
  const std::string prefix = owner + '\0';
  std::optional<uint64_t> first_seq;
  Status scanned = store.Scan(key_id.empty() ? Cf::kByWorkspace : Cf::kByKey, prefix, owner + '\1',
                              [&](std::string_view key, std::string_view) {
                                if (key.size() == prefix.size() + 8) first_seq = DecodeSeq(key.substr(prefix.size()));
                                return false;
                              });
  if (!scanned.ok()) return scanned;
  if (key_id.empty()) {
    if (!first_seq) return Status::NotFound("workspace " + workspace + " has no events in this log");
    return Status::Ok();
  }
  const Status not_found = Status::NotFound("workspace " + workspace + " has no key " + key_id);
  if (!first_seq) return not_found;
  auto row = store.Get(Cf::kEvents, EncodeSeq(*first_seq));
  if (!row.ok()) return row.status();
  if (!row->has_value()) return Status::Internal("the audit index names a missing event");
  auto event = DecodeStoredValue(**row);
  if (!event.ok()) return Status::Internal("event " + std::to_string(*first_seq) + " cannot be read");
  return event->workspace == workspace ? Status::Ok() : not_found;
}

int Audit(const AuditFlags& flags) {
  EventQuery query;
  query.key_id = flags.key_id;
  for (const std::string& name : flags.types) query.types.push_back(*ParseEventType(name));
  if (query.types.empty() && !flags.key_id.empty()) query.types = AllEventTypes();
  query.actor = flags.actor;
  if (!flags.from.empty()) query.from = ParseRfc3339LowerBound(flags.from);
  query.to = ParseTimeFlag(flags.to);
  if (query.from && query.to && *query.from > *query.to) {
    return Fail(kCommand, Status::Invalid("--from must not be later than --to"));
  }
  query.limit = kPageSize;
  const bool csv = flags.format == "csv";

  auto store = OpenReadOnly(flags.data_dir);
  if (!store.ok()) return Fail(kCommand, store.status());
  if (Status s = CheckScope(**store, flags.workspace, flags.key_id); !s.ok()) return Fail(kCommand, s);

  Progress progress;
  simdjson::dom::parser parser;
  std::string out;
  if (csv) out = kCsvHeader;
  uint64_t exported = 0;
  while (true) {
    auto page = QueryEvents(**store, flags.workspace, query);
    if (!page.ok()) return Fail(kCommand, page.status());
    for (const std::string& event : page->events) {
      if (csv) {
        auto record = CsvRecord(parser, event);
        if (!record.ok()) return Fail(kCommand, record.status());
        out += *record;
      } else {
        out += event;
        out += '\n';
      }
    }
    std::cout << out;
    out.clear();
    exported += page->events.size();
    progress.Show("exported " + std::to_string(exported) + " events");
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
  }
  progress.Clear();
  std::cout.flush();
  if (!std::cout) return Fail(kCommand, Status::Internal("writing to standard output failed"));
  return kExitOk;
}

}  // namespace

void AddAuditCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* cmd = app.add_subcommand("audit", "A workspace's audit timeline or a key's full history.");
  AddDataOption(*cmd, flags->data_dir);
  cmd->add_option("--workspace", flags->workspace, "Workspace id")->required()->check(WorkspaceIdValidator());
  cmd->add_option("--key", flags->key_id, "Only this key's history (default types: all)");
  cmd->add_option("--type", flags->types,
                  "Event type, repeatable (default: all with --key, else all but key.used)")
      ->check(CLI::IsMember(EventTypeNames()));
  cmd->add_option("--actor", flags->actor, "Only events by this actor");
  cmd->add_option("--from", flags->from, "RFC 3339, inclusive")->check(Rfc3339Validator());
  cmd->add_option("--to", flags->to, "RFC 3339, inclusive")->check(Rfc3339Validator());
  cmd->add_option("--format", flags->format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->callback([flags, &exit_code] { exit_code = Audit(*flags); });
}

}  // namespace keyledger::tools
