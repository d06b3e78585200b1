#pragma once
// Every route of API.md, grouped by who calls it. Each Add*Routes registers its handlers on the
// router; handlers parse, call one Ledger function, and answer.

#include <optional>

#include "core/latency_histogram.h"
#include "http/router.h"
#include "projections/ledger.h"

namespace keyledger::http {

void AddVerifyRoutes(Router& router, Ledger& ledger);     // /v1/keys/verify, /v1/authz, /public/v1/me
void AddWorkspaceRoutes(Router& router, Ledger& ledger);  // workspaces and admin keys (operator)
void AddKeyRoutes(Router& router, Ledger& ledger);        // API keys (admins, auditors)
void AddLedgerRoutes(Router& router, Ledger& ledger);     // audit timeline, event stream
// healthz, readyz, metrics; /metrics also shows `request_durations` when given (the server's
// ServerOptions::request_durations: it must outlive the router).
void AddServiceRoutes(Router& router, Ledger& ledger, const LatencyHistogram* request_durations = nullptr);

inline void AddAllRoutes(Router& router, Ledger& ledger, const LatencyHistogram* request_durations = nullptr) {
  AddVerifyRoutes(router, ledger);
  AddWorkspaceRoutes(router, ledger);
  AddKeyRoutes(router, ledger);
  AddLedgerRoutes(router, ledger);
  AddServiceRoutes(router, ledger, request_durations);
}

// The admin or operator behind `Authorization: Bearer`, allowed `action` in `workspace` (the
// route's; empty for operator-wide routes), or nullopt after answering 401, 403 (before the
// request's body or parameters are read: who may not act gets the same answer whatever they
// sent) or 400 for an unusable X-Actor header. The ledger checks the right again.
std::optional<Principal> AuthenticateAdmin(const ExchangePtr& ex, const Ledger& ledger, Action action,
                                           std::string_view workspace);

// A handler function bound to the ledger it serves. Until the ledger is ready (projections caught
// up at start-up) and after it closes, the route answers 503 not_ready.
inline Handler Bind(Ledger& ledger, void (*fn)(const ExchangePtr&, Ledger&)) {
  return [fn, &ledger](const ExchangePtr& ex) {
    if (!ledger.ready()) {
      return ex->Fail(Status::Unavailable("The service is starting or stopping; try again shortly."));
    }
    fn(ex, ledger);
  };
}
// The same, for the service routes that must answer whatever the ledger's state.
inline Handler BindAlways(Ledger& ledger, void (*fn)(const ExchangePtr&, Ledger&)) {
  return [fn, &ledger](const ExchangePtr& ex) { fn(ex, ledger); };
}

// The revoke routes of API keys and admin keys: an optional {"reason"} body, then `revoke`.
using RevokeCommand = void (Ledger::*)(const Principal&, std::string, std::string, std::string,
                                       Reply<KeyState>);
void RevokeRoute(const ExchangePtr& ex, Ledger& ledger, Action action, RevokeCommand revoke);

// Answers a Result: the JSON that `render` makes of its value with `status`, or the error.
template <typename T, typename Render>
void ReplyWith(const ExchangePtr& ex, const Result<T>& result, unsigned status, Render&& render) {
  if (!result.ok()) return ex->Fail(result.status());
  ex->Reply(status, render(result.value()));
}

}  // namespace keyledger::http
