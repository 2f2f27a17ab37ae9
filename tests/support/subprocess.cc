#include "subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

namespace llmpool::testing {

using namespace std::chrono_literals;

Subprocess::Subprocess(std::vector<std::string> argv, std::string stderr_path) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test that aborts (a failed sanitizer check) never runs this object's destructor; the
    // child must not outlive it, or it keeps ctest's output pipe open until ctest times out.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    if (!stderr_path.empty()) {
      int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) dup2(err, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_status_) {
    kill(pid_, SIGTERM);
    if (!wait(3000ms)) {
      kill(pid_, SIGKILL);
      wait(5000ms);
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::optional<std::string> Subprocess::readLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms || stdout_fd_ < 0) return std::nullopt;
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);
      buffer_.clear();
      return line;
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string Subprocess::readAll(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(buffer_);
  buffer_.clear();
  while (stdout_fd_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void Subprocess::signal(int sig) {
  if (pid_ > 0 && !exit_status_) kill(pid_, sig);
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);  // polling a child's exit, not ordering events
  }
}

std::string llmpoolBinary() { return LLMPOOL_BINARY_PATH; }

MockProvider::MockProvider(std::vector<std::string> extra_args)
    : process_([&] {
        std::vector<std::string> argv{llmpoolBinary(), "mock", "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        return argv;
      }()) {
  auto line = process_.readLine(10s);
  if (!line) throw std::runtime_error("mock provider did not print its port");
  port_ = std::stoi(*line);
}

std::string MockProvider::baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string MockProvider::statsJson() const {
  return httpRequest(port_, "GET", "/admin/stats").second;
}

int MockProvider::setFaults(const std::string& json) const {
  return httpRequest(port_, "POST", "/admin/faults", json, {"Content-Type: application/json"})
      .first;
}

std::pair<int, std::string> httpRequest(int port, const std::string& method,
                                        const std::string& path, const std::string& body,
                                        const std::vector<std::string>& headers) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {0, ""};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, ""};
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  if (resp.size() < 12) return {0, ""};
  int status = std::atoi(resp.c_str() + 9);
  auto header_end = resp.find("\r\n\r\n");
  std::string payload = header_end == std::string::npos ? "" : resp.substr(header_end + 4);
  // De-chunk if needed (the mock may use chunked encoding).
  if (resp.substr(0, header_end).find("chunked") != std::string::npos) {
    std::string out;
    size_t pos = 0;
    while (pos < payload.size()) {
      size_t eol = payload.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::stoul(payload.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      out += payload.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    payload = out;
  }
  return {status, payload};
}

}  // namespace llmpool::testing
