#include "projections/principal.h"

namespace keyledger {

Status Authorize(const Principal& p, Action action, std::string_view workspace) {
  const bool is_operator = p.kind == KeyKind::kOperator;
  const bool in_workspace = p.kind == KeyKind::kAdmin && !workspace.empty() && p.workspace == workspace;
  bool allowed = false;
  switch (action) {
    case Action::kManageWorkspaces:
    case Action::kReadLedger:
      allowed = is_operator;
      break;
    case Action::kReadWorkspace:
      allowed = is_operator || in_workspace;
      break;
    case Action::kManageKeys:
      allowed = in_workspace && p.role == "admin";
      break;
    case Action::kReadKeys:
      allowed = in_workspace && (p.role == "admin" || p.role == "auditor");
      break;
  }
  return allowed ? Status::Ok() : Status::Forbidden();
}

}  // namespace keyledger
