// One-connection latency of several HTTP servers, measured side by side: one keep-alive
// connection per target, one request at a time, the targets taken in turn (every round sends one
// request to each target, in a random order). Interleaving puts every
// target under the same machine noise, which on a shared VM moves a 4-second wrk run's median by
// more than the differences being measured. Method and results: docs/benchmarks.md.
//
//   latency_probe --target NAME=PORT [--target NAME=PORT ...] [--baseline NAME]
//                 [--rounds 400] [--seconds 120] [--warmup 10] [--host 127.0.0.1]
//
// Every target gets the same small OpenAI chat completion request (bench/chat_post.lua's).
// Prints, per target, the latency percentiles (µs) and its paired difference with the baseline
// (default: the last target): the median and quartiles over rounds of (target − baseline) in the
// same round. Bounded by --rounds and --seconds; exit 1 on any failed request.

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "load_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string name;
  int port = 0;
  int fd = -1;
  std::string buffer;              // bytes read past the last response
  std::vector<double> latency_us;  // one per round
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "latency_probe: %s\n", what.c_str());
  std::exit(1);
}

int connectTo(const std::string& host, int port) {
  std::string error;
  const int fd = bench::connectTo(host, port, 0, error);
  if (fd < 0) fail(error);
  return fd;
}

// Reads until `buffer` holds a whole response; removes it from the buffer and returns its
// status.
int readResponse(Target& t) {
  char chunk[16384];
  for (;;) {
    if (const bench::ResponseSpan r = bench::scanResponse(t.buffer); r.length != 0) {
      t.buffer.erase(0, r.length);
      return r.status;
    }
    const ssize_t n = ::recv(t.fd, chunk, sizeof chunk, 0);
    if (n <= 0) fail(t.name + ": connection closed or failed while reading a response");
    t.buffer.append(chunk, static_cast<size_t>(n));
  }
}

double exchange(Target& t, const std::string& request) {
  const auto start = Clock::now();
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(t.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) fail(t.name + ": send failed");
    sent += static_cast<size_t>(n);
  }
  const int status = readResponse(t);
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  if (status != 200) fail(t.name + ": status " + std::to_string(status));
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Target> targets;
  std::string host = "127.0.0.1";
  std::string baseline;
  int rounds = 400;
  int warmup = 10;
  double seconds = 120;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) fail("missing value after " + std::string(arg));
    const std::string value = argv[++i];
    if (arg == "--target") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos) fail("--target wants NAME=PORT, got " + value);
      targets.push_back(Target{value.substr(0, eq), std::atoi(value.c_str() + eq + 1)});
    } else if (arg == "--baseline") {
      baseline = value;
    } else if (arg == "--rounds") {
      rounds = std::atoi(value.c_str());
    } else if (arg == "--warmup") {
      warmup = std::atoi(value.c_str());
    } else if (arg == "--seconds") {
      seconds = std::atof(value.c_str());
    } else if (arg == "--host") {
      host = value;
    } else {
      fail("unknown option " + std::string(arg));
    }
  }
  if (targets.empty()) fail("no --target");
  if (baseline.empty()) baseline = targets.back().name;
  const auto base = std::find_if(targets.begin(), targets.end(),
                                 [&](const Target& t) { return t.name == baseline; });
  if (base == targets.end()) fail("--baseline " + baseline + " is not a target");

  const std::string request = bench::chatRequest(host);
  for (auto& t : targets) t.fd = connectTo(host, t.port);
  for (int i = 0; i < warmup; ++i) {
    for (auto& t : targets) exchange(t, request);
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int done = 0;
  // A new random order every round: with a fixed cycle each target would always follow the same
  // one, and what the previous request left warm or cold (in the client, the kernel, the mock)
  // showed up as a steady 20-30 µs between identical servers.
  std::mt19937 random(12345);
  std::vector<size_t> order(targets.size());
  std::iota(order.begin(), order.end(), size_t{0});
  for (; done < rounds && Clock::now() < deadline; ++done) {
    std::shuffle(order.begin(), order.end(), random);
    for (size_t k : order) targets[k].latency_us.push_back(exchange(targets[k], request));
  }
  std::printf("%d rounds, baseline %s; latencies in µs\n\n", done, baseline.c_str());
  std::printf("| target | p10 | p50 | p90 | p99 | paired vs %s: p25 | p50 | p75 |\n",
              baseline.c_str());
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& t : targets) {
    std::vector<double> diff;
    for (int r = 0; r < done; ++r) diff.push_back(t.latency_us[r] - base->latency_us[r]);
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f | %+.0f | %+.0f | %+.0f |\n", t.name.c_str(),
                bench::quantile(t.latency_us, 0.10), bench::quantile(t.latency_us, 0.50),
                bench::quantile(t.latency_us, 0.90), bench::quantile(t.latency_us, 0.99),
                bench::quantile(diff, 0.25), bench::quantile(diff, 0.50),
                bench::quantile(diff, 0.75));
  }
  for (auto& t : targets) ::close(t.fd);
  return 0;
}
