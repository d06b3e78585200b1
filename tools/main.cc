// keyledger: one binary, one subcommand per job. main only wires the subcommands.

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "tools/audit_command.h"
#include "tools/backup_command.h"
#include "tools/replay_command.h"
#include "tools/review_command.h"
#include "tools/serve_command.h"
#include "tools/verify_log_command.h"

int main(int argc, char** argv) {
  CLI::App app{"keyledger: an event-sourced API key ledger"};
  app.require_subcommand(1);
  int exit_code = 0;
  keyledger::tools::AddServeCommand(app, exit_code);
  keyledger::tools::AddVerifyLogCommand(app, exit_code);
  keyledger::tools::AddReplayCommand(app, exit_code);
  keyledger::tools::AddAuditCommand(app, exit_code);
  keyledger::tools::AddReviewCommand(app, exit_code);
  keyledger::tools::AddBackupCommand(app, exit_code);
  // CLI11 reports a word that names no subcommand as a missing subcommand: name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    try {
      app.get_subcommand(argv[1]);
    } catch (const CLI::OptionNotFound&) {
      std::string names;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
      }
      std::cerr << "keyledger: unknown subcommand \"" << argv[1] << "\" (one of " << names
                << ")\nRun with --help for more information.\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // bad usage is exit 2
  }
  return exit_code;
}
