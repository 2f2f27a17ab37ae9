// llmpool: one binary, one file per subcommand (see commands.h).

#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"llmpool: call LLM providers reliably and fast"};
  app.set_version_flag("--version", "llmpool 0.1.0");
  app.require_subcommand(1);
  int exit_code = 0;
  llmpool::cli::addMockCommand(app, exit_code);
  llmpool::cli::addCompleteCommand(app, exit_code);
  llmpool::cli::addCheckCommand(app, exit_code);
  llmpool::cli::addRunCommand(app, exit_code);
  llmpool::cli::addServeCommand(app, exit_code);
  llmpool::cli::addBenchCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with code 0; everything else is a usage error (exit 2).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
