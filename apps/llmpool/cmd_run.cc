// `llmpool run`: the batch runner (docs/run.md). This file holds the command line, signal
// handling and the --demo set-up (two in-process mock providers); the work is in src/batch.

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch_runner.h"
#include "batch/demo.h"
#include "commands.h"
#include "config/config_loader.h"
#include "mock/duration_text.h"
#include "mock/fault_rule.h"
#include "mock/mock_provider.h"

namespace llmpool::cli {

namespace {

struct RunArgs {
  std::string input;
  std::string output;
  std::string errors;
  std::string config;
  std::string state;
  int concurrency = 0;
  bool demo = false;
  bool json = false;
  bool strict = false;
  bool quiet = false;
  std::string grace = "10s";
  std::string progress_every;  // empty: 5s, or 1s with --demo (it lasts a few seconds)
};

// Signals are counted by one thread that waits for them synchronously (they are blocked in every
// other thread): the first asks the runner to stop taking work, a second one quits at once. The
// state and the output files are crash-safe, so quitting at once loses nothing (docs/run.md).
std::atomic<int> g_interrupts{0};

void blockStopSignals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void startSignalThread(const sigset_t& set) {
  std::thread([set] {
    for (;;) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) != 0) continue;
      if (g_interrupts.fetch_add(1) >= 1) {
        const char message[] = "\nllmpool run: second interrupt: quitting now (state kept)\n";
        (void)!write(STDERR_FILENO, message, sizeof message - 1);
        _exit(batch::kExitInterrupted);
      }
    }
  }).detach();
}

bool stderrIsTerminal() {
  if (!isatty(STDERR_FILENO)) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::string(term) == "dumb");
}

/** The two mock providers of --demo, running in this process. */
struct DemoMocks {
  std::unique_ptr<mock::MockProvider> primary;
  std::unique_ptr<mock::MockProvider> backup;

  ~DemoMocks() {
    if (primary) primary->stop(std::chrono::milliseconds(100));
    if (backup) backup->stop(std::chrono::milliseconds(100));
  }
};

Result<std::unique_ptr<mock::MockProvider>> startMock(std::vector<std::string> faults,
                                                      uint64_t seed) {
  mock::MockOptions options;
  options.latency = std::chrono::milliseconds(40);
  options.latency_p99 = std::chrono::milliseconds(150);
  options.seed = seed;
  for (const auto& text : faults) {
    auto rule = mock::parseFaultRuleText(text);
    if (!rule) return std::unexpected(rule.error());
    options.faults.push_back(std::move(*rule));
  }
  auto provider = mock::MockProvider::create(std::move(options));
  if (!provider) return std::unexpected(provider.error());
  (*provider)->start();
  return std::move(*provider);
}

std::optional<std::string> makeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/llmpool-demo-XXXXXX";
  if (!mkdtemp(pattern.data())) return std::nullopt;
  return pattern;
}

int fail2(const std::string& message) {
  std::cerr << "llmpool run: " << message << "\n";
  return batch::kExitUsage;
}

// --demo: mocks, a sample batch in a temp dir (unless INPUT is given), a pool with a failover tier.
int prepareDemo(RunArgs& args, batch::RunOptions& options, PoolConfig& config, DemoMocks& mocks) {
  if (!args.quiet) {
    std::cerr << "llmpool run --demo: starting two mock providers in this process: \"primary\" "
                 "(faults injected: an outage, 429s with Retry-After, 503s, resets) and "
                 "\"backup\" (healthy, the failover tier)\n"
              << std::flush;
  }
  auto primary = startMock(batch::demoPrimaryFaults(), 7);
  if (!primary) return fail2("demo: cannot start the mock provider: " + primary.error().message);
  auto backup = startMock({}, 11);
  if (!backup) return fail2("demo: cannot start the mock provider: " + backup.error().message);
  mocks.primary = std::move(*primary);
  mocks.backup = std::move(*backup);

  auto dir = makeTempDir();
  if (!dir) return fail2("demo: cannot create a temporary directory");
  std::set<std::string> aliases{std::string(batch::kDemoModel)};
  if (args.input.empty()) {
    args.input = *dir + "/batch.jsonl";
    std::ofstream out(args.input);
    out << batch::demoBatchText(batch::kDemoTasks);
    if (!out.flush()) return fail2("demo: cannot write " + args.input);
  } else {
    for (auto& m : batch::modelsInBatchFile(args.input)) aliases.insert(m);
  }
  if (args.output.empty()) args.output = *dir + "/output.jsonl";
  if (args.errors.empty()) args.errors = *dir + "/errors.jsonl";
  if (args.state.empty()) args.state = *dir + "/state.db";
  config = batch::demoPoolConfig(mocks.primary->baseUrl(), mocks.backup->baseUrl(), aliases);
  options.default_model = std::string(batch::kDemoModel);
  if (!args.quiet) {
    std::cerr << "llmpool run --demo: primary " << mocks.primary->baseUrl() << ", backup "
              << mocks.backup->baseUrl() << "; batch " << args.input << "\n"
              << std::flush;
  }
  return batch::kExitOk;
}

int loadConfig(const RunArgs& args, PoolConfig& config) {
  config::ConfigDiagnostics diags;
  auto loaded = config::loadConfigFile(args.config, &diags);
  for (const auto& d : diags.items) {
    if (d.is_warning && !args.quiet) std::cerr << diags.format(d) << "\n";
  }
  if (!loaded) {
    std::cerr << (diags.hasErrors() ? diags.joinedErrors() : loaded.error().message) << "\n";
    std::cerr << "llmpool run: invalid config " << args.config << "; nothing was run\n";
    return batch::kExitUsage;
  }
  if (loaded->models.empty()) {
    return fail2(args.config + ": no model aliases configured (models: ...); nothing to route to");
  }
  config = std::move(*loaded);
  return batch::kExitOk;
}

int runRun(RunArgs args) {
  sigset_t stop_signals;
  blockStopSignals(stop_signals);  // before any thread starts: they all inherit the mask
  startSignalThread(stop_signals);

  batch::RunOptions options;
  PoolConfig config;
  DemoMocks mocks;  // outlives the run: the pool talks to it until runBatch returns
  if (args.demo) {
    if (!args.config.empty()) return fail2("--demo and --config cannot be combined");
    if (int code = prepareDemo(args, options, config, mocks); code != batch::kExitOk) return code;
  } else {
    if (args.input.empty()) return fail2("INPUT.jsonl is required (or try --demo)");
    if (args.output.empty()) return fail2("--output OUT.jsonl is required");
    if (args.config.empty()) {
      return fail2(
          "--config FILE is required (see docs/config.md and examples/); "
          "try --demo to run a sample batch against built-in mock providers");
    }
    if (int code = loadConfig(args, config); code != batch::kExitOk) return code;
  }
  auto grace = mock::parseDuration(args.grace);
  if (!grace) return fail2("--grace: " + grace.error().message);
  if (args.progress_every.empty()) args.progress_every = args.demo ? "1s" : "5s";
  auto every = mock::parseDuration(args.progress_every);
  if (!every || every->count() <= 0) return fail2("--progress-every: expected a duration, e.g. 5s");

  options.input = args.input;
  options.output = args.output;
  options.errors = args.errors;
  options.state = args.state;
  if (args.concurrency > 0) options.concurrency = args.concurrency;
  options.json = args.json;
  options.strict = args.strict;
  options.quiet = args.quiet;
  options.progress_bar = stderrIsTerminal();
  options.grace = *grace;
  options.progress_interval = *every;
  const int code = batch::runBatch(options, std::move(config), g_interrupts, std::cout, std::cerr);
  if (args.demo && !args.quiet && code != batch::kExitUsage) {
    std::cerr << "llmpool run --demo: results in " << options.output << " (failures also in "
              << options.errors << "); look at one with: head -1 " << options.output << "\n";
  }
  return code;
}

}  // namespace

void addRunCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run an OpenAI Batch JSONL file through the pool, resumably (docs/run.md)");
  cmd->add_option("INPUT", args->input, "Batch input (OpenAI Batch JSONL; optional with --demo)");
  cmd->add_option("-o,--output", args->output, "Output JSONL: one line per custom_id (appended)");
  cmd->add_option("--errors", args->errors, "Also write failed lines to this JSONL file");
  cmd->add_option("-c,--config", args->config, "Pool config YAML (docs/config.md)");
  cmd->add_option("--state", args->state,
                  "SQLite state for resuming (default: INPUT.llmpool-state)");
  cmd->add_option("--concurrency", args->concurrency,
                  "Tasks in flight (default: processor.concurrency of the config)")
      ->check(CLI::Range(1, 100'000));
  cmd->add_flag("--demo", args->demo,
                "No config needed: run a sample batch against two in-process mock providers");
  cmd->add_flag("--json", args->json, "Print the summary as JSON on stdout");
  cmd->add_flag("--strict", args->strict, "Refuse the whole file if any line is invalid (exit 2)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress and no summary table");
  cmd->add_option("--grace", args->grace,
                  "After Ctrl-C, how long in-flight tasks may finish (e.g. 10s)")
      ->capture_default_str();
  cmd->add_option("--progress-every", args->progress_every,
                  "Interval of plain progress lines when stderr is not a terminal (default 5s; "
                  "1s with --demo)");
  cmd->callback([args, &exit_code] { exit_code = runRun(*args); });
}

}  // namespace llmpool::cli
