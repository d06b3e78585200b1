// Reading the log: a workspace's audit timeline and a key's history (admins and auditors), the
// raw event stream (operator), and the service's own health.

#include <charconv>

#include "core/json_writer.h"
#include "core/token.h"
#include "core/time_format.h"
#include "http/routes.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

std::string EventPageJson(const EventPage& page, std::string_view cursor_name, std::string cursor) {
  std::string out = "{\"events\":[";
  for (size_t i = 0; i < page.events.size(); ++i) {
    if (i) out.push_back(',');
    out.append(page.events[i]);
  }
  out.append("],\"").append(cursor_name).append("\":");
  out.append(cursor.empty() ? "null" : "\"" + cursor + "\"");
  out.push_back('}');
  return out;
}

std::string AuditPageJson(const EventPage& page) {
  return EventPageJson(page, "next_cursor", page.next_cursor);
}

// Fills the filters every event listing shares; answers 400 and returns false on bad input.
bool ReadEventQuery(const ExchangePtr& ex, EventQuery& q) {
  auto limit = LimitParam(*ex);
  auto range = TimeRangeParams(*ex);
  for (const Status& s : {limit.status(), range.status()}) {
    if (!s.ok()) {
      ex->Fail(s);
      return false;
    }
  }
  q.limit = *limit;
  q.from = range->from;
  q.to = range->to;
  q.cursor = ex->Query("cursor").value_or("");
  const std::string order = ex->Query("order").value_or("asc");
  if (order != "asc" && order != "desc") {
    ex->Fail(Status::Invalid("order must be asc or desc.", "order"));
    return false;
  }
  q.descending = order == "desc";
  for (const std::string& type : ex->QueryAll("type")) {
    auto t = ParseEventType(type);
    if (!t) {
      ex->Fail(Status::Invalid(ContainsToken(type) ? std::string("Unknown event type.")
                                                    : "Unknown event type \"" + type + "\".",
                               "type"));
      return false;
    }
    q.types.push_back(*t);
  }
  q.actor = ex->Query("actor").value_or("");
  return true;
}

void WorkspaceAudit(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  EventQuery q;
  if (!ReadEventQuery(ex, q)) return;
  q.key_id = ex->Query("key_id").value_or("");
  ledger.Audit(*p, std::string(ex->param(0)), std::move(q), [ex](Result<EventPage> page) {
    ReplyWith(ex, page, 200, AuditPageJson);  // here, or from the read thread
  });
}

void KeyHistory(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  EventQuery q;
  if (!ReadEventQuery(ex, q)) return;
  q.key_id = ex->param(1);
  if (q.types.empty()) q.types = AllEventTypes();  // a key's history: its whole timeline, uses included
  ledger.Audit(*p, std::string(ex->param(0)), std::move(q), [ex](Result<EventPage> page) {
    ReplyWith(ex, page, 200, AuditPageJson);  // here, or from the read thread
  });
}

void EventStream(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadLedger, "");
  if (!p) return;
  auto limit = LimitParam(*ex);
  if (!limit.ok()) return ex->Fail(limit.status());
  uint64_t after = 0;
  const std::string text = ex->Query("after").value_or("0");
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), after);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return ex->Fail(Status::Invalid("after must be a sequence number.", "after"));
  }
  ReplyWith(ex, ledger.Events(*p, after, *limit), 200, [](const EventPage& page) {
    std::string out = EventPageJson(page, "next_after", "");
    out.replace(out.size() - 5, 4, std::to_string(page.last_seq));  // "null}" → "<seq>}"
    return out;
  });
}

std::string ReviewJson(const WorkspaceReview& review) {
  JsonWriter w;
  w.BeginObject().Field("generated_at", FormatRfc3339(review.generated_at)).Key("findings").BeginArray();
  for (const ReviewFinding& f : review.findings) {
    w.BeginObject().Field("key_id", f.key_id).Field("rule", f.rule).Field("detail", f.detail).EndObject();
  }
  return w.EndArray().EndObject().Take();
}

void Review(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadKeys, ex->param(0));
  if (!p) return;
  ledger.Review(*p, std::string(ex->param(0)),  // answered from the read thread
                [ex](Result<WorkspaceReview> r) { ReplyWith(ex, r, 200, ReviewJson); });
}

void Checkpoint(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadLedger, "");
  if (!p) return;
  ledger.SignedHead(*p, [ex](Result<ChainCheckpoint> head) {  // here, or from the checkpoint thread
    ReplyWith(ex, head, 200, [](const ChainCheckpoint& c) { return c.ToJson(); });
  });
}

void Healthz(const ExchangePtr& ex, Ledger&) { ex->Reply(200, "{\"status\":\"ok\"}"); }

void Readyz(const ExchangePtr& ex, Ledger& ledger) {
  if (!ledger.ready()) return ex->Fail(Status::Unavailable("Projections are not caught up yet."));
  if (Status s = ledger.health(); !s.ok()) return ex->Fail(s);
  ex->Reply(200, "{\"status\":\"ready\",\"seq\":" + std::to_string(ledger.head_seq()) + "}");
}

void Metrics(const ExchangePtr& ex, Ledger& ledger, const LatencyHistogram* request_durations) {
  const LedgerStats& s = ledger.stats();
  std::string out;
  auto metric = [&](const char* name, const char* help, const char* type, uint64_t value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name);
    out.append(" ").append(type).append("\n").append(name).append(" ");
    out.append(std::to_string(value)).append("\n");
  };
  metric("keyledger_verify_unknown_total", "Verifications of unknown or malformed tokens.", "counter",
         s.verifies_unknown.load());
  metric("keyledger_verify_known_total", "Verifications of known API keys.", "counter",
         s.verifies_known.load());
  metric("keyledger_events_appended_total", "Events appended to the log.", "counter",
         s.events_appended.load());
  metric("keyledger_batches_total", "Group-commit batches written.", "counter", s.batches.load());
  metric("keyledger_wal_fsyncs_total", "Write-ahead log fsyncs, each covering every write before it.",
         "counter", ledger.wal_fsyncs());
  metric("keyledger_log_head_seq", "Sequence number of the last event.", "gauge", ledger.head_seq());
  if (request_durations) {
    request_durations->AppendPrometheus(
        out, "keyledger_http_request_duration_seconds",
        "HTTP requests answered, by the time from their first byte read to their response's last byte written.");
  }
  ex->response().set(bh::field::content_type, "text/plain; version=0.0.4");
  ex->response().result(200);
  ex->response().body() = std::move(out);
  ex->response().prepare_payload();
  ex->ReplyPrepared();
}

}  // namespace

void AddLedgerRoutes(Router& router, Ledger& ledger) {
  router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}/audit", Bind(ledger, WorkspaceAudit),
             {"limit", "from", "to", "cursor", "order", "type", "actor", "key_id"});
  router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}/keys/{id}/history", Bind(ledger, KeyHistory),
             {"limit", "from", "to", "cursor", "order", "type", "actor"});
  router.Add(bh::verb::get, "/admin/v1/events", Bind(ledger, EventStream), {"limit", "after"});
  router.Add(bh::verb::get, "/admin/v1/checkpoint", Bind(ledger, Checkpoint));
  router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}/review", Bind(ledger, Review));
}

void AddServiceRoutes(Router& router, Ledger& ledger, const LatencyHistogram* request_durations) {
  router.Add(bh::verb::get, "/healthz", BindAlways(ledger, Healthz));
  router.Add(bh::verb::get, "/readyz", BindAlways(ledger, Readyz));
  router.Add(bh::verb::get, "/metrics",
             [&ledger, request_durations](const ExchangePtr& ex) { Metrics(ex, ledger, request_durations); });
}

}  // namespace keyledger::http
