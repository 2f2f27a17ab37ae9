// The comparison baseline for the pool benchmark: a minimal raw libcurl multi load client, with
// none of llmpool in it. One thread, one multi handle, C easy handles reused for keep-alive POSTs
// of the same ~180 B OpenAI chat body. Prints RPS, exact p50/p99 and client CPU per request
// (getrusage of this process over the measured window). Method: docs/benchmarks.md, "Pool".
//
//   raw_curl_load --url http://127.0.0.1:PORT/v1/chat/completions [--concurrency 64]
//                 [--seconds 10] [--warmup 2] [--loop epoll|poll]
//
// --loop epoll (default): curl_multi_socket_action driven by epoll, the design CurlTransport uses.
// --loop poll: curl_multi_perform + curl_multi_poll, the simplest loop (cheaper at small C with an
// instant upstream, slower with many connections; see shared performance notes).

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string url;
  int concurrency = 64;
  double seconds = 10;
  double warmup = 2;
  bool epoll_loop = true;
};

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--url") {
      a.url = value;
    } else if (key == "--concurrency") {
      a.concurrency = std::atoi(value.c_str());
    } else if (key == "--seconds") {
      a.seconds = std::atof(value.c_str());
    } else if (key == "--warmup") {
      a.warmup = std::atof(value.c_str());
    } else if (key == "--loop" && (value == "epoll" || value == "poll")) {
      a.epoll_loop = value == "epoll";
    } else {
      std::fprintf(stderr, "unknown option %s %s\n", key.c_str(), value.c_str());
      std::exit(2);
    }
  }
  if (a.url.empty() || a.concurrency <= 0 || a.seconds <= 0) {
    std::fprintf(stderr, "usage: raw_curl_load --url URL [--concurrency C] [--seconds S]\n");
    std::exit(2);
  }
  return a;
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

size_t discardBody(char*, size_t size, size_t n, void*) { return size * n; }

/** Per-transfer state, reachable from the easy handle through CURLOPT_PRIVATE. */
struct Transfer {
  CURL* easy = nullptr;
  Clock::time_point started;
};

class Load {
 public:
  explicit Load(const Args& args) : args_(args) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(args.concurrency));
    if (args.epoll_loop) {
      epfd_ = epoll_create1(EPOLL_CLOEXEC);
      curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Load::onSocket);
      curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
      curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Load::onTimer);
      curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    }
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Authorization: Bearer bench");
    transfers_.resize(static_cast<size_t>(args.concurrency));
    for (auto& t : transfers_) {
      t.easy = curl_easy_init();
      curl_easy_setopt(t.easy, CURLOPT_URL, args.url.c_str());
      curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, headers_);
      curl_easy_setopt(t.easy, CURLOPT_POSTFIELDS, kBody);
      curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(sizeof(kBody) - 1));
      curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, &discardBody);
      curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
      curl_easy_setopt(t.easy, CURLOPT_TIMEOUT_MS, 30000L);
      curl_easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(t.easy, CURLOPT_TCP_NODELAY, 1L);
    }
  }

  ~Load() {
    for (auto& t : transfers_) {
      curl_multi_remove_handle(multi_, t.easy);
      curl_easy_cleanup(t.easy);
    }
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
    if (epfd_ >= 0) close(epfd_);
  }

  /** Runs warm-up then the measured window; returns false if any request failed. */
  bool run() {
    for (auto& t : transfers_) start(t);
    const auto warm_end = Clock::now() + toDuration(args_.warmup);
    const auto end = warm_end + toDuration(args_.seconds);
    double cpu_before = 0;
    Clock::time_point wall_before;
    bool measuring = false;
    while (true) {
      const auto now = Clock::now();
      if (!measuring && now >= warm_end) {
        measuring = measuring_ = true;
        cpu_before = cpuSeconds();
        wall_before = now;
      }
      if (now >= end) break;
      step();
    }
    measuring_ = false;
    const double cpu = cpuSeconds() - cpu_before;
    const double wall = std::chrono::duration<double>(Clock::now() - wall_before).count();
    std::sort(latencies_us_.begin(), latencies_us_.end());
    const auto n = latencies_us_.size();
    std::printf("loop=%s concurrency=%d seconds=%.2f\n", args_.epoll_loop ? "epoll" : "poll",
                args_.concurrency, wall);
    std::printf("requests=%zu failed=%llu rps=%.1f\n", n, failed_, static_cast<double>(n) / wall);
    std::printf("latency_ms p50=%.3f p99=%.3f\n", percentileMs(0.50), percentileMs(0.99));
    std::printf("cpu_us_per_request=%.1f cpu_cores=%.2f\n",
                n ? cpu * 1e6 / static_cast<double>(n) : 0.0, cpu / wall);
    return failed_ == 0;
  }

 private:
  static constexpr char kBody[] =
      R"({"model":"mock-model","messages":[{"role":"system","content":"You are terse."},)"
      R"({"role":"user","content":"Say hello to the benchmark, please."}],"max_tokens":16})";

  static Clock::duration toDuration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  double percentileMs(double p) const {
    if (latencies_us_.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(latencies_us_.size())));
    rank = std::clamp<size_t>(rank, 1, latencies_us_.size());
    return static_cast<double>(latencies_us_[rank - 1]) / 1000.0;
  }

  void start(Transfer& t) {
    t.started = Clock::now();
    curl_multi_add_handle(multi_, t.easy);
  }

  // One wait for I/O and the resulting callbacks; waits at most 100 ms so the window ends on time.
  void step() {
    if (args_.epoll_loop) {
      epoll_event events[256];
      int wait_ms = 100;
      if (timer_armed_) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(timer_at_ - Clock::now());
        wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 100));
      }
      const int n = epoll_wait(epfd_, events, 256, wait_ms);
      int running = 0;
      for (int i = 0; i < n; ++i) {
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi_, events[i].data.fd, mask, &running);
      }
      if (timer_armed_ && Clock::now() >= timer_at_) {
        timer_armed_ = false;
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
    } else {
      int running = 0;
      curl_multi_perform(multi_, &running);
      curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
      curl_multi_perform(multi_, &running);
    }
    drainDone();
  }

  void drainDone() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      const bool ok = msg->data.result == CURLE_OK && status == 200;
      curl_multi_remove_handle(multi_, t->easy);
      if (measuring_) {
        if (ok) {
          latencies_us_.push_back(
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t->started)
                  .count());
        } else {
          ++failed_;
        }
      }
      start(*t);  // re-adding the same easy handle keeps its connection in the multi's cache
    }
  }

  static int onSocket(CURL*, curl_socket_t fd, int what, void* self_ptr, void* registered) {
    auto* self = static_cast<Load*>(self_ptr);
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self->epfd_, EPOLL_CTL_DEL, fd, nullptr);
      curl_multi_assign(self->multi_, fd, nullptr);
      return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (registered) {
      epoll_ctl(self->epfd_, EPOLL_CTL_MOD, fd, &ev);
    } else {
      epoll_ctl(self->epfd_, EPOLL_CTL_ADD, fd, &ev);
      curl_multi_assign(self->multi_, fd, self);  // any non-null marker: "already in epoll"
    }
    return 0;
  }

  // libcurl asks for one timer: -1 cancels it, otherwise it is due in timeout_ms (0 = now; it
  // must not be acted on from inside this callback, the loop does it).
  static int onTimer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<Load*>(self_ptr);
    self->timer_armed_ = timeout_ms >= 0;
    self->timer_at_ = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0L));
    return 0;
  }

  const Args& args_;
  CURLM* multi_ = nullptr;
  int epfd_ = -1;
  bool timer_armed_ = false;
  Clock::time_point timer_at_;
  curl_slist* headers_ = nullptr;
  std::vector<Transfer> transfers_;
  std::vector<int64_t> latencies_us_;
  unsigned long long failed_ = 0;
  bool measuring_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bool ok = false;
  {
    Load load(args);
    ok = load.run();
  }
  curl_global_cleanup();
  return ok ? 0 : 1;
}
