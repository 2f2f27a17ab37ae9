// `llmpool check --config FILE [--serve]`: validates a config (native or LiteLLM) and prints the
// resolved routing table. Exit 0 when valid (warnings allowed), 2 when the file is missing or
// invalid; every problem goes to stderr, one per line, as `file:line: path: message`.

#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "config/config_loader.h"

namespace llmpool::cli {

namespace {

int runCheck(const std::string& path, bool serve) {
  if (path.empty()) {
    std::cerr << "llmpool check: no config file given (use --config FILE)\n";
    return 2;
  }
  config::ConfigDiagnostics diags;
  auto loaded = config::loadConfigFile(
      path, &diags, serve ? config::ConfigDefaults::Gateway : config::ConfigDefaults::Library);
  for (const auto& d : diags.items) std::cerr << diags.format(d) << '\n';
  if (!loaded) {
    const size_t errors = diags.errorCount();
    if (errors > 1) {
      std::cerr << "llmpool check: " << errors << " problems in " << path << '\n';
    }
    return 2;
  }
  std::cout << config::describeRoutingTable(*loaded) << "\n" << config::describeSettings(*loaded);
  std::cout << path << ": OK";
  if (diags.warningCount() > 0) std::cout << " (" << diags.warningCount() << " warning(s))";
  std::cout << '\n';
  return 0;
}

}  // namespace

void addCheckCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "check",
      "Validate a config file (native or LiteLLM config.yaml) and print its routing table");
  auto path = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *path, "Config file (YAML)");
  cmd->add_option("file", *path, "Config file (same as --config)");
  auto serve = std::make_shared<bool>(false);
  cmd->add_flag("--serve", *serve, "Resolve unset settings as `llmpool serve` does");
  cmd->callback([&exit_code, path, serve] { exit_code = runCheck(*path, *serve); });
}

}  // namespace llmpool::cli
