// `llmpool mock`: the mock LLM provider (docs/mock.md). Prints the bound port alone on the first
// stdout line, serves until SIGINT/SIGTERM, then exits 0.

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "mock/duration_text.h"
#include "mock/fault_rule.h"
#include "mock/mock_provider.h"

namespace llmpool::cli {

namespace {

struct MockArgs {
  std::string listen = "127.0.0.1:8000";
  int threads = 1;
  std::string latency = "0";
  std::string latency_p99;
  double tokens_per_second = 0;
  std::vector<std::string> faults;
  std::string tls_cert;
  std::string tls_key;
  int embedding_dim = 8;
  uint64_t seed = 1;
  std::size_t max_connections = 10'000;
};

// "HOST:PORT", "[v6]:PORT" or ":PORT".
bool splitListen(const std::string& listen, std::string& host, uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

Result<mock::MockOptions> buildOptions(const MockArgs& args) {
  mock::MockOptions options;
  if (!splitListen(args.listen, options.server.host, options.server.port)) {
    return fail(ErrorCode::InvalidConfig,
                "--listen: expected HOST:PORT, got '" + args.listen + "'");
  }
  options.server.threads = args.threads;
  options.server.tls_cert_file = args.tls_cert;
  options.server.tls_key_file = args.tls_key;
  options.server.max_connections = args.max_connections;
  auto latency = mock::parseDuration(args.latency);
  if (!latency) return fail(ErrorCode::InvalidConfig, "--latency: " + latency.error().message);
  options.latency = *latency;
  if (!args.latency_p99.empty()) {
    auto p99 = mock::parseDuration(args.latency_p99);
    if (!p99) return fail(ErrorCode::InvalidConfig, "--latency-p99: " + p99.error().message);
    options.latency_p99 = *p99;
  }
  options.tokens_per_second = args.tokens_per_second;
  for (const auto& text : args.faults) {
    auto rule = mock::parseFaultRuleText(text);
    if (!rule) return fail(ErrorCode::InvalidConfig, "--fault: " + rule.error().message);
    options.faults.push_back(std::move(*rule));
  }
  options.embedding_dim = args.embedding_dim;
  options.seed = args.seed;
  return options;
}

int runMock(const MockArgs& args) {
  auto options = buildOptions(args);
  if (!options) {
    std::cerr << "llmpool mock: " << options.error().message << "\n";
    return 2;
  }
  // Block the stop signals in every thread (the I/O threads inherit this mask) and take them
  // synchronously below: no handler runs in an arbitrary thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto provider = mock::MockProvider::create(std::move(*options));
  if (!provider) {
    std::cerr << "llmpool mock: " << provider.error().message << "\n";
    return provider.error().code == ErrorCode::InvalidConfig ? 2 : 1;
  }
  (*provider)->start();
  std::cout << (*provider)->port() << std::endl;  // the first line: the port (flushed)
  std::cerr << "llmpool mock: serving on " << (*provider)->baseUrl() << "\n";

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*provider)->stop(std::chrono::milliseconds(250));
  return 0;
}

}  // namespace

void addMockCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MockArgs>();
  auto* cmd = app.add_subcommand("mock", "Run the mock OpenAI/Anthropic provider (docs/mock.md)");
  cmd->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--latency", args->latency,
                  "Delay before answering, e.g. 50ms (lognormal median "
                  "with --latency-p99)")
      ->capture_default_str();
  cmd->add_option("--latency-p99", args->latency_p99,
                  "99th percentile of a lognormal latency, e.g. 400ms");
  cmd->add_option("--tokens-per-second", args->tokens_per_second,
                  "Streaming pace in chunks per second (0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--fault", args->faults, "A fault rule as JSON (repeatable; first match wins)");
  cmd->add_option("--tls-cert", args->tls_cert, "PEM certificate chain: serve HTTPS")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", args->tls_key, "PEM private key for --tls-cert")
      ->check(CLI::ExistingFile);
  cmd->add_option("--embedding-dim", args->embedding_dim, "Dimension of embedding vectors")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--seed", args->seed, "Seed for fault rates and latency samples")
      ->capture_default_str();
  cmd->add_option("--max-connections", args->max_connections, "Open connections limit")
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = runMock(*args); });
}

}  // namespace llmpool::cli
