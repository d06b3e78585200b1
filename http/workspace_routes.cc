// Operator routes: workspaces, plans, admin keys. Plus the admin authentication every /admin
// route starts with.

#include "core/json_writer.h"
#include "http/json_input.h"
#include "http/routes.h"
#include "http/views.h"
#include "projections/validation.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

std::string WorkspaceJson(const WorkspaceState& ws) {
  JsonWriter w;
  WriteWorkspace(w, ws);
  return w.Take();
}

Result<std::optional<Plan>> PlanField(const JsonInput& input) {
  std::optional<std::string> text;
  if (Status s = input.String("plan", text); !s.ok()) return s;
  if (!text) return std::optional<Plan>();
  auto plan = ParsePlan(*text);
  if (!plan) return Status::Invalid("plan must be free or pro.", "plan");
  return std::optional<Plan>(*plan);
}

void CreateWorkspace(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kManageWorkspaces, "");
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(), {"id", "name", "plan", "max_expiry_days"});
  if (!input.ok()) return ex->Fail(input.status());
  std::optional<std::string> id, name;
  WorkspaceInput in;
  for (Status s : {input->String("id", id), input->String("name", name),
                   input->Int("max_expiry_days", in.max_expiry_days)}) {
    if (!s.ok()) return ex->Fail(s);
  }
  auto plan = PlanField(*input);
  if (!plan.ok()) return ex->Fail(plan.status());
  if (!id) return ex->Fail(Status::Invalid("id is required.", "id"));
  in.id = *id;
  in.name = name.value_or("");
  in.plan = *plan;
  ledger.CreateWorkspace(*p, std::move(in),
                         [ex](Result<WorkspaceState> r) { ReplyWith(ex, r, 201, WorkspaceJson); });
}

void UpdateWorkspace(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kManageWorkspaces, ex->param(0));
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(), {"plan", "max_expiry_days"});
  if (!input.ok()) return ex->Fail(input.status());
  WorkspaceUpdate update;
  if (Status s = input->Int("max_expiry_days", update.max_expiry_days); !s.ok()) return ex->Fail(s);
  auto plan = PlanField(*input);
  if (!plan.ok()) return ex->Fail(plan.status());
  update.plan = *plan;
  ledger.UpdateWorkspace(*p, ex->param(0), update,
                         [ex](Result<WorkspaceState> r) { ReplyWith(ex, r, 200, WorkspaceJson); });
}

void GetWorkspace(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kReadWorkspace, ex->param(0));
  if (!p) return;
  ReplyWith(ex, ledger.GetWorkspace(*p, ex->param(0)), 200, WorkspaceJson);
}

void CreateAdminKey(const ExchangePtr& ex, Ledger& ledger) {
  auto p = AuthenticateAdmin(ex, ledger, Action::kManageWorkspaces, ex->param(0));
  if (!p) return;
  auto input = JsonInput::Parse(ex->body(), {"name", "role"});
  if (!input.ok()) return ex->Fail(input.status());
  std::optional<std::string> name, role;
  if (Status s = input->String("name", name); !s.ok()) return ex->Fail(s);
  if (Status s = input->String("role", role); !s.ok()) return ex->Fail(s);
  if (!name) return ex->Fail(Status::Invalid("name is required.", "name"));
  // Required, as API.md writes it: a key that manages a workspace is never made by default.
  if (!role) return ex->Fail(Status::Invalid("role is required: admin or auditor.", "role"));
  ledger.CreateAdminKey(*p, ex->param(0), *name, *role,
                        [ex](Result<CreatedKey> r) { ReplyWith(ex, r, 201, CreatedKeyJson); });
}

void RevokeAdminKey(const ExchangePtr& ex, Ledger& ledger) {
  RevokeRoute(ex, ledger, Action::kManageWorkspaces, &Ledger::RevokeAdminKey);
}

}  // namespace

std::optional<Principal> AuthenticateAdmin(const ExchangePtr& ex, const Ledger& ledger, Action action,
                                           std::string_view workspace) {
  const std::string_view actor = ex->Header("X-Actor");
  if (!actor.empty()) {
    if (Status s = CheckText(actor, "X-Actor", 1, 200); !s.ok()) {
      ex->Fail(s);
      return std::nullopt;
    }
  }
  auto principal = ledger.Authenticate(ex->BearerToken(), actor);
  if (!principal.ok()) {
    ex->response().set(bh::field::www_authenticate, "Bearer");
    ex->Fail(principal.status());
    return std::nullopt;
  }
  if (Status allowed = Authorize(*principal, action, workspace); !allowed.ok()) {
    ex->Fail(allowed);
    return std::nullopt;
  }
  return std::move(principal).value();
}

void AddWorkspaceRoutes(Router& router, Ledger& ledger) {
  router.Add(bh::verb::post, "/admin/v1/workspaces", Bind(ledger, CreateWorkspace));
  router.Add(bh::verb::patch, "/admin/v1/workspaces/{ws}", Bind(ledger, UpdateWorkspace));
  router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}", Bind(ledger, GetWorkspace));
  router.Add(bh::verb::post, "/admin/v1/workspaces/{ws}/admin-keys", Bind(ledger, CreateAdminKey));
  router.Add(bh::verb::post, "/admin/v1/workspaces/{ws}/admin-keys/{id}/revoke",
             Bind(ledger, RevokeAdminKey));
}

}  // namespace keyledger::http
