#pragma once
// Each subcommand lives in its own file and registers itself on the root app. A subcommand's
// callback stores the process exit code in `exit_code`:
//   0 success, 1 the work failed (some requests/tasks failed), 2 usage or config error,
//   130 interrupted (SIGINT/SIGTERM).

#include <CLI/CLI.hpp>

namespace llmpool::cli {

void addMockCommand(CLI::App& app, int& exit_code);
void addCompleteCommand(CLI::App& app, int& exit_code);
void addCheckCommand(CLI::App& app, int& exit_code);
void addRunCommand(CLI::App& app, int& exit_code);
void addServeCommand(CLI::App& app, int& exit_code);
void addBenchCommand(CLI::App& app, int& exit_code);

}  // namespace llmpool::cli
