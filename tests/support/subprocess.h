#pragma once
// Runs a child process for integration tests (the mock provider, the gateway, `llmpool run`),
// reading its stdout line by line with a time bound, and never leaving it behind: the destructor
// sends SIGTERM, waits briefly, then SIGKILLs and reaps it.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace llmpool::testing {

class Subprocess {
 public:
  /** Starts argv[0] with the given arguments; stdout is piped to us, stderr is inherited unless
   *  `stderr_path` is set (then it goes to that file). */
  explicit Subprocess(std::vector<std::string> argv, std::string stderr_path = "");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  /** Next stdout line (without '\n'), or nullopt on EOF or when `timeout` passes first. */
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);
  /** Everything the child writes to stdout until it exits (bounded by `timeout`). */
  std::string readAll(std::chrono::milliseconds timeout);
  /** Sends a signal. */
  void signal(int sig);
  /** Waits for exit; returns the exit status (128+N when killed by signal N), nullopt on timeout.
   */
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> exit_status_;
};

/** The `llmpool` binary under test (path set by CMake). */
std::string llmpoolBinary();

/** `llmpool mock --listen 127.0.0.1:0 <extra args>`: started, its port read from its first line. */
class MockProvider {
 public:
  explicit MockProvider(std::vector<std::string> extra_args = {});
  int port() const { return port_; }
  /** http://127.0.0.1:PORT */
  std::string baseUrl() const;
  /** GET /admin/stats parsed as JSON text (the raw body). */
  std::string statsJson() const;
  /** POST /admin/faults with a JSON body; returns the HTTP status. */
  int setFaults(const std::string& json) const;
  Subprocess& process() { return process_; }

 private:
  Subprocess process_;
  int port_ = 0;
};

/** Minimal blocking HTTP/1.1 request over loopback for test set-up (not the code under test).
 *  Returns {status, body}; status 0 when the connection failed. */
std::pair<int, std::string> httpRequest(int port, const std::string& method,
                                        const std::string& path, const std::string& body = "",
                                        const std::vector<std::string>& headers = {});

}  // namespace llmpool::testing
