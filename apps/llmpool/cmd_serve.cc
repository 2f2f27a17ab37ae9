// `llmpool serve --config FILE [--listen HOST:PORT] [--log-level LEVEL]`: the OpenAI- and
// Anthropic-compatible gateway (docs/gateway.md). Prints the bound port alone on the first
// stdout line. SIGHUP reloads the config file (validated first; an invalid file changes
// nothing); SIGTERM/SIGINT stop gracefully (in-flight requests get gateway.shutdown_grace),
// then exit 0.

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "config/config_loader.h"
#include "gateway/gateway.h"

namespace llmpool::cli {

namespace {

struct ServeArgs {
  std::string config_path;
  std::string listen;
  std::string log_level;
};

// A proxied stream holds two descriptors (the client's connection and the upstream one), plus a
// few for listening, event loops and logs. Like nginx (worker_rlimit_nofile) and HAProxy, take
// the whole hard limit at start: the soft default (often 1024) would cap the gateway far below
// gateway.max_connections. Returns the soft limit in force afterwards.
rlim_t raiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

constexpr rlim_t kSpareDescriptors = 64;

int runServe(const ServeArgs& args) {
  if (args.config_path.empty()) {
    std::cerr << "llmpool serve: no config file given (use --config FILE)\n";
    return 2;
  }
  gateway::GatewayOptions options;
  if (!args.log_level.empty()) {
    options.log_level = gateway::parseLogLevel(args.log_level);
    if (!options.log_level) {
      std::cerr << "llmpool serve: --log-level: expected trace, debug, info, warn, error or off\n";
      return 2;
    }
  }
  config::ConfigDiagnostics diags;
  auto loaded = config::loadConfigFile(args.config_path, &diags, config::ConfigDefaults::Gateway);
  for (const auto& d : diags.items) std::cerr << diags.format(d) << '\n';
  if (!loaded) return 2;
  options.config = std::move(*loaded);
  const auto max_connections = static_cast<rlim_t>(options.config.gateway.max_connections);
  options.config_path = args.config_path;
  if (!args.listen.empty()) options.listen = args.listen;

  // Block the control signals in every thread (the server and pool threads inherit the mask)
  // and take them synchronously below, so no handler runs in an arbitrary thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const rlim_t open_files = raiseDescriptorLimit();
  auto gw = gateway::Gateway::create(std::move(options));
  if (!gw) {
    std::cerr << "llmpool serve: " << gw.error().message << "\n";
    return gw.error().code == ErrorCode::InvalidConfig ? 2 : 1;
  }
  gateway::Gateway& g = **gw;
  g.start();
  std::cout << g.port() << std::endl;  // the first line: the port (flushed)
  g.shared().logger.event(gateway::LogLevel::Info, "listening", "port=" + std::to_string(g.port()));
  if (open_files != RLIM_INFINITY && open_files < 2 * max_connections + kSpareDescriptors) {
    g.shared().logger.event(
        gateway::LogLevel::Warn, "open-file limit is below what gateway.max_connections needs",
        "limit=" + std::to_string(open_files) + " needed=" +
            std::to_string(2 * max_connections + kSpareDescriptors) + " proxied_streams_about=" +
            std::to_string(open_files > kSpareDescriptors ? (open_files - kSpareDescriptors) / 2
                                                          : 0) +
            " hint=" + gateway::Logger::quote("raise the hard limit (ulimit -Hn, LimitNOFILE=)"));
  }

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      auto result = g.reload();
      if (result) {
        g.shared().logger.event(gateway::LogLevel::Info, "config reloaded",
                                "changes=" + gateway::Logger::quote(*result));
      } else {
        g.shared().logger.event(gateway::LogLevel::Error,
                                "config reload refused; the running config is unchanged",
                                "reason=" + gateway::Logger::quote(result.error().message));
      }
      continue;
    }
    const auto grace = g.shutdownGrace();
    g.shared().logger.event(gateway::LogLevel::Info, "shutting down",
                            "grace_ms=" + std::to_string(grace.count()));
    g.stop(grace);
    g.shared().logger.event(gateway::LogLevel::Info, "stopped");
    return 0;
  }
}

}  // namespace

void addServeCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve", "Run the OpenAI/Anthropic-compatible gateway over the pool (docs/gateway.md)");
  cmd->add_option("--config,-c", args->config_path, "YAML config file (native or LiteLLM)")
      ->required();
  cmd->add_option("--listen", args->listen,
                  "HOST:PORT to listen on (overrides gateway.listen; port 0: any free port)");
  cmd->add_option("--log-level", args->log_level,
                  "trace, debug, info, warn, error or off (overrides gateway.log_level)");
  cmd->callback([args, &exit_code] { exit_code = runServe(*args); });
}

}  // namespace llmpool::cli
