// Latency at a fixed request rate (open loop), several HTTP servers side by side.
//
// wrk is a closed loop: each connection sends its next request when the previous answer arrives,
// so the rate is whatever the connections and the latency give, and requests that a busy moment
// delays also delay the ones behind them without being counted ("coordinated omission"). Here
// requests are due at times fixed in advance, whatever the server does; each goes out on an idle
// keep-alive connection when due (or waits for one, still counted from when it was due), and its
// latency runs from the due time to the last byte of the answer. That is latency "at 5,000 RPS"
// in the sense of wrk2's -R. The due times are a Poisson process by default (independent clients:
// gaps drawn from an exponential distribution, so requests sometimes come close together), or
// evenly spaced with `--arrivals even` (wrk2's schedule, the gentler of the two).
//
//   rate_load --target NAME=PORT [--target NAME=PORT ...] [--baseline NAME] [--rate 5000]
//             [--arrivals poisson|even] [--window 2] [--warmup 0.3] [--rounds 4]
//             [--connections 400] [--host 127.0.0.1]
//
// Each round gives every target one window of `--window` seconds, in a new random order, and
// waits for a window's last answers before the next target's starts, so only one target is under
// load at a time while all share the same stretch of machine noise. The first `--warmup` seconds
// of a window are sent but not counted, and so is a whole first round. A connection its server
// closes while idle (a keep-alive timeout) is opened again. Prints per target the latency
// percentiles over all its windows, and the median over rounds of (target − baseline) of each
// window's p50 and p99 (baseline: the last target; "added p50/p99"), with the p99 difference of
// every round. Bounded: every window ends within its length plus 10 s, or the run fails; exit 1 on
// any failed request.

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "load_client.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "rate_load: %s\n", what.c_str());
  std::exit(1);
}

struct Connection {
  int fd = -1;
  std::string in;         // bytes received, not yet a whole response
  Clock::time_point due;  // of the request in flight
  bool counted = false;   // whether that request is past the window's warm-up
  bool busy = false;      // a request is in flight
};

struct Window {
  std::vector<double> latency_us;
  size_t max_waiting = 0;  // requests that were due while every connection was busy
};

struct Target {
  std::string name;
  int port = 0;
  std::vector<Connection> connections;
  std::vector<Window> windows;  // one per round
};

struct Options {
  std::string host = "127.0.0.1";
  std::string baseline;
  double rate = 5000;
  double window_s = 2;
  double warmup_s = 0.3;
  int rounds = 4;
  int connections = 400;
  bool poisson = true;
};

class Runner {
 public:
  Runner(const Options& options, const std::string& request)
      : options_(options),
        request_(request),
        epoll_(::epoll_create1(EPOLL_CLOEXEC)),
        gap_s_(options.rate) {
    if (epoll_ < 0) fail("epoll_create1 failed");
  }

  void connect(std::vector<Target>& targets) {
    targets_ = &targets;
    for (size_t k = 0; k < targets.size(); ++k) {
      Target& t = targets[k];
      t.connections.resize(static_cast<size_t>(options_.connections));
      for (size_t i = 0; i < t.connections.size(); ++i) open(k, i);
    }
  }

  // One window of load on target `index`; returns when its last answer is in.
  Window run(size_t index) {
    Target& t = (*targets_)[index];
    Window w;
    idle_.clear();
    for (size_t i = t.connections.size(); i-- > 0;) idle_.push_back(i);
    waiting_.clear();
    in_flight_ = 0;
    const auto start = Clock::now();
    count_from_ = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options_.warmup_s));
    const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options_.window_s));
    const auto give_up = end + std::chrono::seconds(10);
    auto next_due = start;
    epoll_event events[256];
    for (;;) {
      auto now = Clock::now();
      for (; next_due <= now && next_due < end; next_due += nextGap()) {
        if (idle_.empty()) {
          waiting_.push_back(next_due);
          w.max_waiting = std::max(w.max_waiting, waiting_.size());
        } else {
          const size_t i = idle_.back();
          idle_.pop_back();
          send(t, t.connections[i], next_due, next_due >= count_from_);
        }
      }
      if (next_due >= end && in_flight_ == 0 && waiting_.empty()) break;
      if (now > give_up) fail(t.name + ": answers still outstanding 10 s after the window");
      const auto wake = next_due < end ? next_due : now + std::chrono::milliseconds(100);
      const auto wait_ns = std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count());
      timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), wait_ns % 1'000'000'000};
      const int n = ::epoll_pwait2(epoll_, events, 256, &ts, nullptr);
      if (n < 0 && errno != EINTR) fail("epoll_pwait2 failed");
      for (int k = 0; k < n; ++k) {
        receive(events[k].data.u64 >> 32, events[k].data.u64 & 0xffffffffu, w);
      }
    }
    return w;
  }

 private:
  // Opens (or reopens) connection `i` of target `k`.
  void open(size_t k, size_t i) {
    Target& t = (*targets_)[k];
    Connection& c = t.connections[i];
    if (c.fd >= 0) ::close(c.fd);  // also takes it out of the epoll set
    std::string error;
    c = Connection{bench::connectTo(options_.host, t.port, O_NONBLOCK, error)};
    if (c.fd < 0) fail(t.name + ": " + error);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = (static_cast<uint64_t>(k) << 32) | i;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) fail("epoll_ctl failed");
  }

  Clock::duration nextGap() {
    const double seconds = options_.poisson ? gap_s_(random_) : 1.0 / options_.rate;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  void send(Target& t, Connection& c, Clock::time_point due, bool counted) {
    c.due = due;
    c.counted = counted;
    c.busy = true;
    const ssize_t n = ::send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(request_.size())) fail(t.name + ": send failed or was short");
    ++in_flight_;
  }

  // Readiness of connection `i` of target `k`; only the target of the window has requests out.
  void receive(size_t k, size_t i, Window& w) {
    Target& t = (*targets_)[k];
    Connection& c = t.connections[i];
    char buffer[65536];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0 && !c.busy) return open(k, i);  // an idle keep-alive connection the server closed
    if (n == 0) fail(t.name + ": the server closed a connection with a request in flight");
    if (n < 0) fail(t.name + ": recv: " + std::strerror(errno));
    if (!c.busy) fail(t.name + ": bytes on a connection with no request in flight");
    c.in.append(buffer, static_cast<size_t>(n));
    const bench::ResponseSpan r = bench::scanResponse(c.in);
    if (r.length == 0) return;
    if (r.length != c.in.size()) fail(t.name + ": more bytes than one response");
    const auto now = Clock::now();
    if (r.status != 200) fail(t.name + ": status " + std::to_string(r.status));
    c.in.clear();
    c.busy = false;
    --in_flight_;
    if (c.counted) {
      w.latency_us.push_back(std::chrono::duration<double, std::micro>(now - c.due).count());
    }
    if (!waiting_.empty()) {
      const auto due = waiting_.front();
      waiting_.pop_front();
      send(t, c, due, due >= count_from_);
    } else {
      idle_.push_back(i);
    }
  }

  const Options& options_;
  const std::string& request_;
  int epoll_;
  std::vector<Target>* targets_ = nullptr;
  std::vector<size_t> idle_;
  std::deque<Clock::time_point> waiting_;
  size_t in_flight_ = 0;
  Clock::time_point count_from_;                 // requests due before it are not counted
  std::exponential_distribution<double> gap_s_;  // Poisson arrivals: mean gap 1 / rate
  std::mt19937_64 random_{42};
};

double parseNumber(const std::string& option, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(v > 0)) {
    fail(option + " wants a positive number, got '" + value + "'");
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Target> targets;
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) fail("missing value after " + arg);
    const std::string value = argv[++i];
    if (arg == "--target") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos) fail("--target wants NAME=PORT, got " + value);
      Target t;
      t.name = value.substr(0, eq);
      t.port = static_cast<int>(parseNumber(arg, value.substr(eq + 1)));
      targets.push_back(std::move(t));
    } else if (arg == "--baseline") {
      options.baseline = value;
    } else if (arg == "--rate") {
      options.rate = parseNumber(arg, value);
    } else if (arg == "--arrivals") {
      if (value != "poisson" && value != "even") fail("--arrivals wants poisson or even");
      options.poisson = value == "poisson";
    } else if (arg == "--window") {
      options.window_s = parseNumber(arg, value);
    } else if (arg == "--warmup") {
      options.warmup_s = value == "0" ? 0 : parseNumber(arg, value);
    } else if (arg == "--rounds") {
      options.rounds = static_cast<int>(parseNumber(arg, value));
    } else if (arg == "--connections") {
      options.connections = static_cast<int>(parseNumber(arg, value));
    } else if (arg == "--host") {
      options.host = value;
    } else {
      fail("unknown option " + arg);
    }
  }
  if (targets.empty()) fail("no --target");
  if (options.warmup_s >= options.window_s) fail("--warmup must be shorter than --window");
  if (options.baseline.empty()) options.baseline = targets.back().name;
  const auto base = std::find_if(targets.begin(), targets.end(),
                                 [&](const Target& t) { return t.name == options.baseline; });
  if (base == targets.end()) fail("--baseline " + options.baseline + " is not a target");

  const std::string request = bench::chatRequest(options.host);
  Runner runner(options, request);
  runner.connect(targets);

  // A new random order every round, as latency_probe does: no target always follows the same one.
  std::mt19937 random(12345);
  std::vector<size_t> order(targets.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Round 0 warms up and is not reported: a server's first load opens its upstream connections
  // and grows its buffers, which showed as a first window 1-2 ms worse at p99 than the rest.
  for (int r = 0; r <= options.rounds; ++r) {
    std::shuffle(order.begin(), order.end(), random);
    for (size_t k : order) {
      Window w = runner.run(k);
      if (r > 0) targets[k].windows.push_back(std::move(w));
    }
  }

  std::printf(
      "%.0f requests/s, %s arrivals, %d rounds of %.1f s windows (first %.1f s not counted), "
      "%d connections per target; latency from each request's due time, in µs\n\n",
      options.rate, options.poisson ? "Poisson" : "evenly spaced", options.rounds, options.window_s,
      options.warmup_s, options.connections);
  std::printf(
      "| target | counted | p50 | p90 | p99 | p99.9 | max | most waiting for a connection "
      "| added p50 | added p99 | added p99 by round |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (const auto& t : targets) {
    std::vector<double> all;
    size_t most_waiting = 0;
    std::vector<double> added_p50, added_p99;
    for (int r = 0; r < options.rounds; ++r) {
      const Window& w = t.windows[static_cast<size_t>(r)];
      const Window& b = base->windows[static_cast<size_t>(r)];
      all.insert(all.end(), w.latency_us.begin(), w.latency_us.end());
      most_waiting = std::max(most_waiting, w.max_waiting);
      added_p50.push_back(bench::quantile(w.latency_us, 0.50) -
                          bench::quantile(b.latency_us, 0.50));
      added_p99.push_back(bench::quantile(w.latency_us, 0.99) -
                          bench::quantile(b.latency_us, 0.99));
    }
    std::string rounds;
    for (double d : added_p99) {
      char cell[32];
      std::snprintf(cell, sizeof cell, "%s%+.0f", rounds.empty() ? "" : " ", d);
      rounds += cell;
    }
    std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %zu | %+.0f | %+.0f | %s |\n",
                t.name.c_str(), all.size(), bench::quantile(all, 0.50), bench::quantile(all, 0.90),
                bench::quantile(all, 0.99), bench::quantile(all, 0.999), bench::quantile(all, 1.0),
                most_waiting, bench::quantile(added_p50, 0.5), bench::quantile(added_p99, 0.5),
                rounds.c_str());
  }
  for (auto& t : targets) {
    for (auto& c : t.connections) ::close(c.fd);
  }
  return 0;
}
