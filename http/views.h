#pragma once
// The JSON objects of API.md: `<Key>`, `<Workspace>`, usage reports. Never a token, never a digest.

#include <string>

#include "core/json_writer.h"
#include "projections/ledger.h"

namespace keyledger::http {

void WriteKey(JsonWriter& w, const KeyState& key);
std::string KeyJson(const KeyState& key);
void WriteWorkspace(JsonWriter& w, const WorkspaceState& ws);
// {"key": <Key>, "token": "...", ["replayed": true,] ["replaced": <Key>]}
std::string CreatedKeyJson(const CreatedKey& created);
std::string UsageJson(const UsageReport& report);

}  // namespace keyledger::http
