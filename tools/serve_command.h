#pragma once
// `keyledger serve`: opens the data directory, brings the projections up to date, and serves the
// HTTP API until SIGTERM or SIGINT, then finishes in-flight requests, flushes and exits 0.

#include <CLI/CLI.hpp>

namespace keyledger::tools {

// Adds the subcommand; `exit_code` receives the result when it runs.
void AddServeCommand(CLI::App& app, int& exit_code);

}  // namespace keyledger::tools
