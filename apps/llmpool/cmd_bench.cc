// `llmpool bench`: drives a ClientPool built from a config file at a fixed concurrency and reports
// what users need to size it for their own providers.
//   llmpool bench --config FILE --model ALIAS --requests N --concurrency C [--stream] [--json]
//                 [--prompt TEXT] [--warmup N] [--max-seconds S]
// C requests are kept in flight without a thread per request: each completion callback starts the
// next request. Latency percentiles are exact (computed from every recorded duration), CPU is
// getrusage(RUSAGE_SELF) of this process over the measured window (see Phase). Exit 0 when every
// request succeeded, 1 when any failed, 2 for usage or config errors.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "config/config_loader.h"
#include "llmpool/pool.h"

namespace llmpool::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string config_path;
  std::string model;
  std::string prompt = "Say hello to the benchmark, please.";
  int64_t requests = 1000;
  int concurrency = 8;
  int64_t warmup = 0;
  double max_seconds = 300;
  bool stream = false;
  bool json = false;
};

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/** Attempts actually sent (skips of open breakers or rate-limited deployments don't count). */
int sentAttempts(const Error& e) {
  int n = 0;
  for (const auto& a : e.attempts) n += a.skipped ? 0 : 1;
  return n;
}

/**
 * The load of one benchmark run. C requests are kept in flight; requests are numbered by an atomic
 * ticket. Tickets [0, warmup) warm up, the next `requests` are measured (ticket i writes its
 * duration into slot i - warmup, so the hot path takes no lock; the error map's lock is only taken
 * on failures). With a warm-up the load runs on without a pause into the measured requests and,
 * until the last of them completes, on into unmeasured trailing ones: the measured window (from
 * the first measured start to the last measured completion) sees steady load, never the ramp-up
 * of an empty pipeline or the drain at the end. Without a warm-up exactly `requests` are sent and
 * the window is the whole run.
 */
class Phase {
 public:
  /** One end of the measured window: wall time, this process's CPU, pool statistics. */
  struct Mark {
    Clock::time_point at{};
    double cpu = 0;
    int64_t completions = 0;  // all requests so far, measured or not
    PoolStats stats;
    bool taken = false;
  };
  struct Window {
    Mark start, end;
    double seconds() const { return std::chrono::duration<double>(end.at - start.at).count(); }
  };

  Phase(ClientPool& pool, const BenchArgs& args)
      : pool_(pool),
        args_(args),
        warmup_(args.warmup),
        measured_(args.requests),
        durations_us_(static_cast<size_t>(args.requests), -1) {
    request_.model = args.model;
    ChatMessage system;
    system.role = "system";
    system.content = "You are terse.";
    ChatMessage user;
    user.role = "user";
    user.content = args.prompt;
    request_.messages = {system, user};
    request_.max_tokens = 16;
  }

  /** Runs until the measured requests completed or `stop_at` passed (then waits for what is in
   *  flight). */
  void run(Clock::time_point stop_at) {
    stop_at_ = stop_at;
    if (warmup_ == 0) mark(/*start=*/true);
    const int64_t limit =
        warmup_ > 0 ? args_.concurrency : std::min<int64_t>(args_.concurrency, measured_);
    outstanding_.store(limit);
    for (int64_t i = 0; i < limit; ++i) launch();
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return finished_; });
    lock.unlock();
    mark(/*start=*/true);  // no-op unless stopped by the time limit during the warm-up
    mark(/*start=*/false);
  }

  const Window& window() const { return window_; }
  int64_t succeeded() const { return succeeded_.load(); }
  int64_t failed() const { return failed_.load(); }
  int64_t attempts() const { return attempts_.load(); }
  bool timedOut() const { return timed_out_.load(); }
  std::map<std::string, int64_t> errorsByKind() const {
    std::lock_guard lock(mu_);
    return errors_by_kind_;
  }
  std::vector<int64_t> sortedDurationsUs() const {
    std::vector<int64_t> out;
    out.reserve(durations_us_.size());
    for (int64_t d : durations_us_) {
      if (d >= 0) out.push_back(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  // Starts the next ticket's request while one is due; otherwise this slot of concurrency ends.
  void launch() {
    const int64_t ticket = next_.fetch_add(1);
    const bool more = warmup_ > 0 ? measured_done_.load() < measured_ : ticket < measured_;
    if (!more || Clock::now() >= stop_at_) {
      if (more) timed_out_.store(true);
      slotDone();
      return;
    }
    if (warmup_ > 0 && ticket == warmup_) mark(/*start=*/true);
    const auto start = Clock::now();
    auto done = [this, ticket, start](Result<ChatResponse> r) { onDone(ticket, start, r); };
    if (args_.stream) {
      pool_.stream(
          request_, {}, [](const ChatChunk&) { return true; }, std::move(done));
    } else {
      pool_.complete(request_, {}, std::move(done));
    }
  }

  void onDone(int64_t ticket, Clock::time_point start, const Result<ChatResponse>& r) {
    completions_.fetch_add(1);
    const int64_t slot = ticket - warmup_;
    if (slot >= 0 && slot < measured_) {
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
      durations_us_[static_cast<size_t>(slot)] = us;
      if (r) {
        succeeded_.fetch_add(1);
        attempts_.fetch_add(r->attempts);
      } else {
        failed_.fetch_add(1);
        attempts_.fetch_add(sentAttempts(r.error()));
        std::lock_guard lock(mu_);
        ++errors_by_kind_[std::string(errorCodeName(r.error().code))];
      }
      if (measured_done_.fetch_add(1) + 1 == measured_) mark(/*start=*/false);
    }
    launch();
  }

  void mark(bool start) {
    std::lock_guard lock(window_mu_);
    Mark& m = start ? window_.start : window_.end;
    if (m.taken) return;
    m.stats = pool_.stats();
    m.completions = completions_.load();
    m.cpu = cpuSeconds();
    m.at = Clock::now();
    m.taken = true;
  }

  void slotDone() {
    if (outstanding_.fetch_sub(1) == 1) {
      std::lock_guard lock(mu_);
      finished_ = true;
      done_cv_.notify_all();
    }
  }

  ClientPool& pool_;
  const BenchArgs& args_;
  const int64_t warmup_;
  const int64_t measured_;
  ChatRequest request_;
  Clock::time_point stop_at_;
  std::vector<int64_t> durations_us_;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<int64_t> completions_{0};
  std::atomic<int64_t> measured_done_{0};
  std::atomic<int64_t> succeeded_{0}, failed_{0}, attempts_{0};
  std::atomic<bool> timed_out_{false};
  std::mutex window_mu_;
  Window window_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  bool finished_ = false;
  std::map<std::string, int64_t> errors_by_kind_;
};

/** Exact percentile (nearest rank) of sorted values, in milliseconds. */
double percentileMs(const std::vector<int64_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const auto n = static_cast<double>(sorted_us.size());
  auto rank = static_cast<size_t>(std::ceil(p * n));
  rank = std::clamp<size_t>(rank, 1, sorted_us.size());
  return static_cast<double>(sorted_us[rank - 1]) / 1000.0;
}

int runBench(const BenchArgs& args) {
  if (args.requests <= 0 || args.concurrency <= 0 || args.warmup < 0 || args.max_seconds <= 0) {
    std::cerr << "llmpool bench: --requests, --concurrency and --max-seconds must be positive\n";
    return 2;
  }
  config::ConfigDiagnostics diags;
  auto loaded = config::loadConfigFile(args.config_path, &diags);
  for (const auto& d : diags.items) std::cerr << diags.format(d) << "\n";
  if (!loaded) {
    if (diags.items.empty()) std::cerr << "llmpool bench: " << loaded.error().message << "\n";
    return 2;
  }
  PoolConfig config = std::move(*loaded);
  BenchArgs effective = args;
  if (effective.model.empty()) {
    if (config.models.size() != 1) {
      std::cerr << "llmpool bench: --model ALIAS is required (the config defines "
                << config.models.size() << " aliases)\n";
      return 2;
    }
    effective.model = config.models.begin()->first;
  } else if (!config.models.contains(effective.model)) {
    std::cerr << "llmpool bench: the config has no model alias \"" << effective.model << "\"\n";
    return 2;
  }
  if (effective.concurrency > config.pool.max_concurrent_requests) {
    // Not an error: the pool queues the excess. Said once, because it caps what is measured.
    std::cerr << "llmpool bench: note: pool.max_concurrent_requests is "
              << config.pool.max_concurrent_requests << ", below --concurrency "
              << effective.concurrency << "; the rest wait in the admission queue\n";
  }
  auto pool = ClientPool::create(config);
  if (!pool) {
    std::cerr << "llmpool bench: " << pool.error().describe() << "\n";
    return 2;
  }

  const auto hard_stop = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(effective.max_seconds));
  Phase phase(**pool, effective);
  phase.run(hard_stop);
  (*pool)->stop(std::chrono::milliseconds(1000));
  const Phase::Window& window = phase.window();
  const double wall = window.seconds();
  const double cpu = window.end.cpu - window.start.cpu;
  const PoolStats& before = window.start.stats;
  const PoolStats& after = window.end.stats;
  // Every completion inside the window counts for throughput (in steady state as many requests
  // complete in it as were measured); CPU is per measured request.
  const int64_t window_completions = window.end.completions - window.start.completions;

  const std::vector<int64_t> lat = phase.sortedDurationsUs();
  const int64_t completed = phase.succeeded() + phase.failed();
  double mean_ms = 0;
  for (int64_t v : lat) mean_ms += static_cast<double>(v) / 1000.0;
  if (!lat.empty()) mean_ms /= static_cast<double>(lat.size());

  nlohmann::ordered_json out;
  out["model"] = effective.model;
  out["stream"] = effective.stream;
  out["concurrency"] = effective.concurrency;
  out["requests"] = effective.requests;
  out["completed"] = completed;
  out["succeeded"] = phase.succeeded();
  out["failed"] = phase.failed();
  out["stopped_by_time_limit"] = phase.timedOut();
  out["seconds"] = wall;
  out["throughput_rps"] = wall > 0 ? static_cast<double>(window_completions) / wall : 0.0;
  out["latency_ms"] = {{"mean", mean_ms},
                       {"p50", percentileMs(lat, 0.50)},
                       {"p95", percentileMs(lat, 0.95)},
                       {"p99", percentileMs(lat, 0.99)},
                       {"max", lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1000.0}};
  out["attempts_per_request"] =
      completed > 0 ? static_cast<double>(phase.attempts()) / static_cast<double>(completed) : 0.0;
  out["errors_by_kind"] = nlohmann::ordered_json::object();
  for (const auto& [kind, n] : phase.errorsByKind()) out["errors_by_kind"][kind] = n;
  out["breaker_trips"] = after.breaker_trips - before.breaker_trips;
  out["retries"] = after.retries - before.retries;
  out["failovers"] = after.failovers - before.failovers;
  out["pool_hits"] = after.pool_hits - before.pool_hits;
  out["pool_misses"] = after.pool_misses - before.pool_misses;
  out["cpu_seconds"] = cpu;
  out["cpu_us_per_request"] = completed > 0 ? cpu * 1e6 / static_cast<double>(completed) : 0.0;

  if (effective.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("model %s, %s, concurrency %d: %lld of %lld requests in %.2f s%s\n",
                effective.model.c_str(), effective.stream ? "streaming" : "non-streaming",
                effective.concurrency, static_cast<long long>(completed),
                static_cast<long long>(effective.requests), wall,
                phase.timedOut() ? " (stopped by --max-seconds)" : "");
    std::printf("  throughput     %.1f requests/s\n", out["throughput_rps"].get<double>());
    std::printf("  succeeded      %lld, failed %lld\n", static_cast<long long>(phase.succeeded()),
                static_cast<long long>(phase.failed()));
    std::printf("  latency ms     mean %.3f  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", mean_ms,
                percentileMs(lat, 0.50), percentileMs(lat, 0.95), percentileMs(lat, 0.99),
                out["latency_ms"]["max"].get<double>());
    std::printf("  attempts/req   %.3f  (retries %llu, failovers %llu)\n",
                out["attempts_per_request"].get<double>(),
                static_cast<unsigned long long>(after.retries - before.retries),
                static_cast<unsigned long long>(after.failovers - before.failovers));
    std::printf("  errors         ");
    if (phase.errorsByKind().empty()) std::printf("none");
    for (const auto& [kind, n] : phase.errorsByKind()) {
      std::printf("%s=%lld ", kind.c_str(), static_cast<long long>(n));
    }
    std::printf("\n  breaker trips  %llu\n",
                static_cast<unsigned long long>(after.breaker_trips - before.breaker_trips));
    std::printf("  connections    pool hits %llu, misses %llu\n",
                static_cast<unsigned long long>(after.pool_hits - before.pool_hits),
                static_cast<unsigned long long>(after.pool_misses - before.pool_misses));
    std::printf("  client CPU     %.1f µs/request (%.2f cores)\n",
                out["cpu_us_per_request"].get<double>(), wall > 0 ? cpu / wall : 0.0);
  }
  std::fflush(stdout);
  return phase.failed() > 0 ? 1 : 0;
}

}  // namespace

void addBenchCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Load-test the pool of a config at fixed concurrency");
  cmd->add_option("--config", args->config_path, "Config file (YAML)")->required();
  cmd->add_option("--model", args->model, "Model alias (optional when the config has one)");
  cmd->add_option("--requests", args->requests, "Requests to complete (measured)");
  cmd->add_option("--concurrency", args->concurrency, "Requests kept in flight");
  cmd->add_option("--warmup", args->warmup,
                  "Unmeasured requests sent first; the load then runs on through the measured "
                  "ones, and unmeasured ones continue until the last measured one completes "
                  "(steady load in the measured window)");
  cmd->add_option("--max-seconds", args->max_seconds,
                  "Stop starting requests after this many seconds");
  cmd->add_option("--prompt", args->prompt, "The user message of every request");
  cmd->add_flag("--stream", args->stream, "Use streaming requests");
  cmd->add_flag("--json", args->json, "Print the results as one JSON object");
  cmd->callback([args, &exit_code] { exit_code = runBench(*args); });
}

}  // namespace llmpool::cli
