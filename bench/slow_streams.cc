// Many concurrent slow streams against the gateway (or any OpenAI-compatible server): opens N
// TCP connections at a bounded rate, sends one streaming `POST /v1/chat/completions` on each,
// reads every SSE stream until `data: [DONE]` and the end of the chunked body, then closes it.
// Plain non-blocking sockets and one epoll loop on one thread: the client must cost far less
// than the server it measures, and 10,000 libcurl easy handles would not. Method and results:
// docs/benchmarks.md, "Slow streams"; driven by bench/slow_streams_bench.sh.
//
//   slow_streams --port PORT [--host 127.0.0.1] [--streams 1000] [--ramp 1000] [--seconds 60]
//                [--key KEY] [--model mock-model] [--words 20] [--progress 1]
//
// --ramp: new connections per second. --seconds: the whole run's limit; streams still open then
// count as timeouts. --words: the prompt's length (the mock echoes it, one chunk per word).
// Progress lines go to stderr; the result table to stdout. Exit 0 when every stream completed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Args {
  std::string host = "127.0.0.1";
  int port = 0;
  int streams = 1000;
  double ramp = 1000;  // connections per second
  double seconds = 60;
  std::string key;
  std::string model = "mock-model";
  int words = 20;
  double progress = 1;  // seconds between progress lines; 0 = none
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "slow_streams: %s\nusage: slow_streams --port PORT [--host H] [--streams N] "
               "[--ramp PER_S] [--seconds S] [--key K] [--model M] [--words W] [--progress S]\n",
               why);
  std::exit(2);
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + key).c_str());
    const std::string value = argv[i + 1];
    if (key == "--host") {
      a.host = value;
    } else if (key == "--port") {
      a.port = std::atoi(value.c_str());
    } else if (key == "--streams") {
      a.streams = std::atoi(value.c_str());
    } else if (key == "--ramp") {
      a.ramp = std::atof(value.c_str());
    } else if (key == "--seconds") {
      a.seconds = std::atof(value.c_str());
    } else if (key == "--key") {
      a.key = value;
    } else if (key == "--model") {
      a.model = value;
    } else if (key == "--words") {
      a.words = std::atoi(value.c_str());
    } else if (key == "--progress") {
      a.progress = std::atof(value.c_str());
    } else {
      usage(("unknown option " + key).c_str());
    }
  }
  if (a.port <= 0 || a.port > 65535) usage("--port is required");
  if (a.streams <= 0 || a.ramp <= 0 || a.seconds <= 0 || a.words < 0) usage("bad value");
  return a;
}

std::string buildRequest(const Args& a) {
  std::string prompt;
  for (int i = 0; i < a.words; ++i) prompt += (i ? " w" : "w") + std::to_string(i);
  const std::string body = R"({"model":")" + a.model +
                           R"(","stream":true,"messages":[{"role":"user","content":")" + prompt +
                           R"("}]})";
  std::string r = "POST /v1/chat/completions HTTP/1.1\r\nHost: " + a.host + ":" +
                  std::to_string(a.port) + "\r\nContent-Type: application/json\r\n";
  if (!a.key.empty()) r += "Authorization: Bearer " + a.key + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

enum class Outcome { Ok, ConnectFailed, BadStatus, ClosedEarly, Timeout };

/** One connection carrying one stream. The body is decoded from chunked transfer encoding (or
 *  read to a Content-Length / close), then split into SSE events at blank lines. */
struct Stream {
  enum class Phase { Connecting, Sending, Head, Body };
  int fd = -1;
  Phase phase = Phase::Connecting;
  std::size_t sent = 0;
  std::string in;   // received, not yet parsed (head or chunk framing)
  std::string sse;  // decoded body, not yet split into events
  int status = 0;
  bool chunked = false;
  long long body_left = -1;  // Content-Length bodies: bytes still expected; -1 = to close
  long long chunk_left = 0;  // chunked: data bytes left in the current chunk
  bool chunk_crlf = false;   // chunked: the CRLF after a chunk's data is due
  bool done_seen = false;    // `data: [DONE]` arrived
  bool body_ended = false;
};

class Runner {
 public:
  explicit Runner(const Args& args) : args_(args), request_(buildRequest(args)) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      std::perror("epoll_create1");
      std::exit(1);
    }
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(args.port));
    if (inet_pton(AF_INET, args.host.c_str(), &addr_.sin_addr) != 1) usage("--host: IPv4 only");
    streams_.resize(static_cast<std::size_t>(args.streams));
  }
  ~Runner() {
    for (auto& s : streams_) {
      if (s.fd >= 0) close(s.fd);
    }
    close(epfd_);
  }

  int run() {
    start_ = Clock::now();
    const auto end = start_ + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(args_.seconds));
    double next_progress = args_.progress;
    std::vector<epoll_event> events(1024);
    while (finished_ < args_.streams) {
      const auto now = Clock::now();
      if (now >= end) break;
      openMore();
      const int timeout_ms = launched_ < args_.streams ? 5 : 100;
      const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0 && errno != EINTR) {
        std::perror("epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; ++i) onEvent(streams_[events[i].data.u32], events[i].events);
      if (args_.progress > 0 && secondsSince(start_) >= next_progress) {
        printProgress();
        next_progress += args_.progress;
      }
    }
    wall_ = secondsSince(start_);
    for (auto& s : streams_) {
      if (s.fd >= 0) finish(s, Outcome::Timeout);
    }
    timeouts_ += args_.streams - launched_;  // never started within the limit
    printTable();
    return counts_[Outcome::Ok] == args_.streams ? 0 : 1;
  }

 private:
  void openMore() {
    const double allowed = 1 + args_.ramp * secondsSince(start_);
    while (launched_ < args_.streams && launched_ < allowed) {
      Stream& s = streams_[static_cast<std::size_t>(launched_)];
      const uint32_t index = static_cast<uint32_t>(launched_++);
      s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (s.fd < 0) {
        noteErrno("socket");
        finish(s, Outcome::ConnectFailed);
        continue;
      }
      if (connect(s.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0 &&
          errno != EINPROGRESS) {
        noteErrno("connect");
        finish(s, Outcome::ConnectFailed);
        continue;
      }
      ++connections_open_;
      peak_connections_ = std::max(peak_connections_, connections_open_);
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u32 = index;
      epoll_ctl(epfd_, EPOLL_CTL_ADD, s.fd, &ev);
    }
    if (launched_ == args_.streams && all_launched_ < 0) all_launched_ = secondsSince(start_);
  }

  void onEvent(Stream& s, uint32_t events) {
    if (s.fd < 0) return;
    if (s.phase == Stream::Phase::Connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        errno = err;
        noteErrno("connect");
        return finish(s, Outcome::ConnectFailed);
      }
      s.phase = Stream::Phase::Sending;
      ++started_;
    }
    if (s.phase == Stream::Phase::Sending) {
      while (s.sent < request_.size()) {
        const ssize_t n =
            send(s.fd, request_.data() + s.sent, request_.size() - s.sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) return finish(s, Outcome::ClosedEarly);
        s.sent += static_cast<std::size_t>(n);
      }
      s.phase = Stream::Phase::Head;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u32 = static_cast<uint32_t>(&s - streams_.data());
      epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
      return;
    }
    char buf[16384];
    for (;;) {
      const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // closed or reset
        if (s.phase == Stream::Phase::Body && s.body_left < 0 && !s.chunked) s.body_ended = true;
        return finish(s, s.done_seen ? Outcome::Ok : Outcome::ClosedEarly);
      }
      s.in.append(buf, static_cast<std::size_t>(n));
      if (!parse(s)) return;  // finished (either way)
    }
  }

  /** Consumes s.in; returns false once the stream was finished. */
  bool parse(Stream& s) {
    if (s.phase == Stream::Phase::Head) {
      const auto end = s.in.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      const std::string head = s.in.substr(0, end);
      s.in.erase(0, end + 4);
      if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
        finish(s, Outcome::ClosedEarly);
        return false;
      }
      s.status = std::atoi(head.c_str() + 9);
      if (s.status != 200) {
        ++statuses_[s.status];
        finish(s, Outcome::BadStatus);
        return false;
      }
      std::string lower(head);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      s.chunked = lower.find("transfer-encoding: chunked") != std::string::npos;
      if (const auto cl = lower.find("content-length:"); cl != std::string::npos) {
        s.body_left = std::atoll(lower.c_str() + cl + 15);
      }
      s.phase = Stream::Phase::Body;
      ++streams_open_;
      peak_streams_ = std::max(peak_streams_, streams_open_);
      if (++heads_ == args_.streams) all_open_ = secondsSince(start_);
    }
    if (s.chunked) {
      decodeChunks(s);
    } else {
      std::size_t take = s.in.size();
      if (s.body_left >= 0) take = std::min<std::size_t>(take, static_cast<size_t>(s.body_left));
      s.sse.append(s.in, 0, take);
      s.in.clear();
      if (s.body_left >= 0) {
        s.body_left -= static_cast<long long>(take);
        s.body_ended = s.body_left == 0;
      }
    }
    readEvents(s);
    if (s.body_ended) {
      finish(s, s.done_seen ? Outcome::Ok : Outcome::ClosedEarly);
      return false;
    }
    return true;
  }

  void decodeChunks(Stream& s) {
    std::size_t pos = 0;
    while (!s.body_ended) {
      if (s.chunk_left > 0) {
        const std::size_t take =
            std::min<std::size_t>(s.in.size() - pos, static_cast<size_t>(s.chunk_left));
        if (take == 0) break;
        s.sse.append(s.in, pos, take);
        pos += take;
        s.chunk_left -= static_cast<long long>(take);
        if (s.chunk_left == 0) s.chunk_crlf = true;
        continue;
      }
      const auto eol = s.in.find("\r\n", pos);
      if (eol == std::string::npos) break;
      if (s.chunk_crlf) {  // the CRLF closing a chunk's data
        s.chunk_crlf = false;
        pos = eol + 2;
        continue;
      }
      const long long size = std::strtoll(s.in.c_str() + pos, nullptr, 16);
      pos = eol + 2;
      if (size == 0) {
        s.body_ended = true;  // trailers, if any, are ignored
        break;
      }
      s.chunk_left = size;
    }
    s.in.erase(0, pos);
  }

  void readEvents(Stream& s) {
    std::size_t start = 0;
    for (;;) {
      const auto end = s.sse.find("\n\n", start);
      if (end == std::string::npos) break;
      const std::string_view event(s.sse.data() + start, end - start);
      if (event.starts_with("data: [DONE]") || event.starts_with("data:[DONE]")) {
        s.done_seen = true;
      } else if (event.find("data:") != std::string_view::npos) {
        ++chunks_;
      }
      start = end + 2;
    }
    s.sse.erase(0, start);
  }

  void finish(Stream& s, Outcome outcome) {
    if (s.fd >= 0) {
      close(s.fd);  // also removes it from the epoll set
      s.fd = -1;
      --connections_open_;
    }
    if (s.phase == Stream::Phase::Body) --streams_open_;
    ++counts_[outcome];
    ++finished_;
    s.in.clear();
    s.in.shrink_to_fit();
    s.sse.clear();
    s.sse.shrink_to_fit();
  }

  void noteErrno(const char* what) { ++errnos_[std::string(what) + ": " + std::strerror(errno)]; }

  void printProgress() const {
    std::fprintf(stderr,
                 "t=%.1fs launched=%d connections=%d streams_open=%d ok=%d errors=%d chunks=%lld\n",
                 secondsSince(start_), launched_, connections_open_, streams_open_,
                 count(Outcome::Ok), finished_ - count(Outcome::Ok), chunks_);
  }

  int count(Outcome o) const { return counts_.count(o) ? counts_.at(o) : 0; }

  void printTable() const {
    std::string statuses;
    for (const auto& [code, n] : statuses_) {
      statuses +=
          (statuses.empty() ? " (" : ", ") + std::to_string(code) + ": " + std::to_string(n);
    }
    if (!statuses.empty()) statuses += ")";
    auto seconds = [](double s) {
      if (s < 0) return std::string("not reached");
      char b[32];
      std::snprintf(b, sizeof b, "%.2f s", s);
      return std::string(b);
    };
    std::printf("| slow streams | value |\n|---|---:|\n");
    std::printf("| streams asked | %d |\n", args_.streams);
    std::printf("| started (connected, request sent) | %d |\n", started_);
    std::printf("| completed ok (`data: [DONE]`) | %d |\n", count(Outcome::Ok));
    std::printf("| errors: connect failed | %d |\n", count(Outcome::ConnectFailed));
    std::printf("| errors: non-200 status | %d%s |\n", count(Outcome::BadStatus), statuses.c_str());
    std::printf("| errors: closed before [DONE] | %d |\n", count(Outcome::ClosedEarly));
    std::printf("| errors: timeout (open or not started at %.0f s) | %d |\n", args_.seconds,
                count(Outcome::Timeout) + timeouts_);
    std::printf("| peak streams open at once (200 received, not done) | %d |\n", peak_streams_);
    std::printf("| peak connections open at once | %d |\n", peak_connections_);
    std::printf("| time to launch all connections | %s |\n", seconds(all_launched_).c_str());
    std::printf("| time until every stream had its 200 | %s |\n", seconds(all_open_).c_str());
    std::printf("| SSE chunks received (excl. [DONE]) | %lld |\n", chunks_);
    std::printf("| wall time | %.2f s |\n", wall_);
    for (const auto& [what, n] : errnos_) std::printf("| %s | %d |\n", what.c_str(), n);
    // One line for scripts.
    std::printf(
        "RESULT streams=%d started=%d ok=%d connect_failed=%d bad_status=%d closed_early=%d "
        "timeout=%d peak_open=%d all_open_s=%.2f chunks=%lld wall_s=%.2f\n",
        args_.streams, started_, count(Outcome::Ok), count(Outcome::ConnectFailed),
        count(Outcome::BadStatus), count(Outcome::ClosedEarly), count(Outcome::Timeout) + timeouts_,
        peak_streams_, all_open_, chunks_, wall_);
  }

  const Args args_;
  const std::string request_;
  int epfd_ = -1;
  sockaddr_in addr_{};
  std::vector<Stream> streams_;
  Clock::time_point start_;
  int launched_ = 0;  // sockets created (the ramp's count)
  int started_ = 0;   // connected, request being sent
  int finished_ = 0;
  int timeouts_ = 0;  // never launched before the limit
  int heads_ = 0;     // 200 heads received
  int connections_open_ = 0;
  int peak_connections_ = 0;
  int streams_open_ = 0;
  int peak_streams_ = 0;
  long long chunks_ = 0;
  double all_launched_ = -1;
  double all_open_ = -1;
  double wall_ = 0;
  std::map<Outcome, int> counts_;
  std::map<int, int> statuses_;
  std::map<std::string, int> errnos_;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  return Runner(args).run();
}
