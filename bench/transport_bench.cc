// CurlTransport throughput at a fixed concurrency against `llmpool mock` (instant replies):
// requests per second and client CPU per request (getrusage of this process only; the mock runs
// in its own process). Method and results: docs/benchmarks.md, section "Transport".
//
//   transport_bench [--concurrency 64] [--seconds 10] [--warmup 2] [--shards 1]
//                   [--connections 64] [--mock-threads 1] [--url http://127.0.0.1:PORT]

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/curl_transport.h"

namespace {

using namespace std::chrono_literals;
using llmpool::Result;
using llmpool::http::CurlTransport;
using llmpool::http::HttpRequest;
using llmpool::http::HttpResponse;

struct Args {
  int concurrency = 64;
  double seconds = 10;
  double warmup = 2;
  size_t shards = 1;
  int connections = 64;
  int mock_threads = 1;
  std::string url;
};

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--concurrency")
      a.concurrency = std::atoi(value);
    else if (key == "--seconds")
      a.seconds = std::atof(value);
    else if (key == "--warmup")
      a.warmup = std::atof(value);
    else if (key == "--shards")
      a.shards = static_cast<size_t>(std::atoi(value));
    else if (key == "--connections")
      a.connections = std::atoi(value);
    else if (key == "--mock-threads")
      a.mock_threads = std::atoi(value);
    else if (key == "--url")
      a.url = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return a;
}

/** `llmpool mock --listen 127.0.0.1:0` as a child process; killed on destruction. */
class MockProcess {
 public:
  explicit MockProcess(int threads) {
    int fds[2];
    if (pipe(fds) != 0) std::exit(1);
    const std::string thread_arg = std::to_string(threads);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execl(LLMPOOL_BINARY_PATH, LLMPOOL_BINARY_PATH, "mock", "--listen", "127.0.0.1:0",
            "--threads", thread_arg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c = 0;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(fds[0]);
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      std::fprintf(stderr, "mock did not print its port\n");
      std::exit(1);
    }
  }
  ~MockProcess() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/** Keeps `concurrency` requests in flight: each completion sends the next one. */
class Driver {
 public:
  Driver(CurlTransport& transport, HttpRequest request)
      : transport_(transport), request_(std::move(request)) {}

  void start(int concurrency) {
    for (int i = 0; i < concurrency; ++i) sendOne();
  }
  void setMeasuring(bool on) { measuring_ = on; }
  void stop() { stopping_ = true; }
  bool drained() const { return outstanding_.load() == 0; }
  uint64_t completed() const { return completed_.load(); }
  uint64_t failed() const { return failed_.load(); }
  std::vector<int64_t> latenciesUs() {
    std::lock_guard lock(mu_);
    return latencies_;
  }

 private:
  void sendOne() {
    outstanding_.fetch_add(1);
    transport_.send(request_, {.on_complete = [this](Result<HttpResponse> r) { onDone(r); }});
  }
  void onDone(const Result<HttpResponse>& r) {
    if (measuring_) {
      if (r && r->status == 200) {
        completed_.fetch_add(1);
        std::lock_guard lock(mu_);
        latencies_.push_back(r->total_time.count());
      } else {
        failed_.fetch_add(1);
      }
    }
    if (!stopping_) sendOne();
    outstanding_.fetch_sub(1);
  }

  CurlTransport& transport_;
  const HttpRequest request_;
  std::atomic<bool> measuring_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> failed_{0};
  std::mutex mu_;
  std::vector<int64_t> latencies_;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  std::unique_ptr<MockProcess> mock;
  std::string base = args.url;
  if (base.empty()) {
    mock = std::make_unique<MockProcess>(args.mock_threads);
    base = "http://127.0.0.1:" + std::to_string(mock->port());
  }

  auto made =
      CurlTransport::create({.shards = args.shards, .max_connections_per_host = args.connections});
  if (!made) {
    std::fprintf(stderr, "transport: %s\n", made.error().message.c_str());
    return 1;
  }
  CurlTransport& transport = **made;

  // ~180 B OpenAI chat request, as in the reference measurements.
  HttpRequest request;
  request.method = "POST";
  request.url = base + "/v1/chat/completions";
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer bench"}};
  request.body =
      R"({"model":"mock-model","messages":[{"role":"system","content":"You are terse."},)"
      R"({"role":"user","content":"Say hello to the benchmark, please."}],"max_tokens":16})";
  request.timeouts.total = 10s;

  Driver driver(transport, request);
  driver.start(args.concurrency);
  std::this_thread::sleep_for(std::chrono::duration<double>(args.warmup));

  const auto stats_before = transport.stats();
  const double cpu_before = cpuSeconds();
  const auto wall_before = std::chrono::steady_clock::now();
  driver.setMeasuring(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  driver.setMeasuring(false);
  const double cpu = cpuSeconds() - cpu_before;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const auto stats_after = transport.stats();

  driver.stop();
  const auto drain_deadline = std::chrono::steady_clock::now() + 10s;
  while (!driver.drained() && std::chrono::steady_clock::now() < drain_deadline) {
    std::this_thread::sleep_for(1ms);
  }

  const uint64_t done = driver.completed();
  std::vector<int64_t> lat = driver.latenciesUs();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[static_cast<size_t>(p * (lat.size() - 1))] / 1000.0;
  };
  std::printf("concurrency=%d shards=%zu connections<=%d seconds=%.1f\n", args.concurrency,
              args.shards, args.connections, wall);
  std::printf("requests=%llu failed=%llu rps=%.0f\n", static_cast<unsigned long long>(done),
              static_cast<unsigned long long>(driver.failed()), done / wall);
  std::printf("client_cpu_us_per_request=%.1f client_cpu_cores=%.2f\n",
              done ? cpu * 1e6 / done : 0.0, cpu / wall);
  std::printf("latency_ms p50=%.3f p99=%.3f\n", pct(0.50), pct(0.99));
  std::printf("connections_opened_during_run=%llu reused_during_run=%llu\n",
              static_cast<unsigned long long>(stats_after.connections_opened -
                                              stats_before.connections_opened),
              static_cast<unsigned long long>(stats_after.connections_reused -
                                              stats_before.connections_reused));
  const bool ok = driver.failed() == 0;
  made->reset();  // the transport (and its callbacks into the driver) goes before the driver
  return ok ? 0 : 1;
}
