// `llmpool check` (placeholder until its issue lands).

#include <iostream>

#include "commands.h"

namespace llmpool::cli {

void addCheckCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "not implemented yet");
  cmd->callback([&exit_code] {
    std::cerr << "llmpool check: not implemented yet\n";
    exit_code = 2;
  });
}

}  // namespace llmpool::cli
