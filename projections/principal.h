#pragma once
// Who is calling, once their bearer token has been checked, and what each kind may do.

#include <string>
#include <string_view>

#include "core/status.h"
#include "events/event.h"

namespace keyledger {

struct Principal {
  KeyKind kind = KeyKind::kApi;
  std::string key_id;
  std::string workspace;  // admin keys: the one workspace they act in
  std::string role;       // admin keys: "admin" | "auditor"
  std::string actor;      // recorded in events: X-Actor when given, else the key id
};

enum class Action {
  kManageWorkspaces,  // create workspaces, change plans, create admin keys (operator)
  kReadWorkspace,     // GET /workspaces/{ws}
  kManageKeys,        // create, rotate, revoke API keys (role admin)
  kReadKeys,          // list, get, history, usage, audit, review (roles admin and auditor)
  kReadLedger,        // the raw event stream and checkpoints (operator)
};

// Ok, or Forbidden. `workspace` is the one named by the route (empty for operator-wide routes).
// Workspace isolation lives here: an admin key acts only in its own workspace.
Status Authorize(const Principal& principal, Action action, std::string_view workspace);

}  // namespace keyledger
