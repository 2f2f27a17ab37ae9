// The server out of descriptors: accepting pauses (a bounded number of retries) instead of
// spinning on a listening socket that stays readable, and resumes once descriptors are free.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "server/server.h"

namespace llmpool::server {
namespace {

using namespace std::chrono_literals;

/** Lowers the soft RLIMIT_NOFILE for the test's duration and restores it after. */
class DescriptorLimit {
 public:
  explicit DescriptorLimit(rlim_t soft) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~DescriptorLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

/** Receives with a timeout; returns what arrived (empty on timeout or close). */
std::string receive(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

TEST(AcceptPauseTest, OutOfDescriptorsPausesAcceptingThenResumes) {
  auto created = Server::create(
      {}, [](Request&&, ResponseWriter w) { w.send(Status::ok, "served", "text/plain"); });
  ASSERT_TRUE(created.has_value());
  auto& server = *created;
  server->start();

  // The client socket exists before the table is filled: connecting needs no new descriptor.
  const int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);

  // Fill every free descriptor below a low limit, so the server's accept() fails with EMFILE.
  std::vector<int> fillers;
  {
    int highest = client;
    for (int fd = 0; fd < 4096; ++fd) {
      if (fcntl(fd, F_GETFD) != -1) highest = fd;
    }
    DescriptorLimit limit(static_cast<rlim_t>(highest + 16));
    ASSERT_TRUE(limit.ok());
    for (;;) {
      const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers.push_back(fd);
    }
    ASSERT_EQ(errno, EMFILE);

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // The kernel completes the handshake from the listen backlog; the server cannot accept it.
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(send(client, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));

    std::this_thread::sleep_for(350ms);
    // A retry per pause (about 4 in 350 ms), not thousands of failed accepts in a tight loop.
    const uint64_t pauses = server->stats().accept_pauses;
    EXPECT_GE(pauses, 1u);
    EXPECT_LE(pauses, 10u);
    EXPECT_EQ(server->stats().connections_accepted, 0u);

    for (int fd : fillers) close(fd);
  }

  // Descriptors are back: the waiting connection is accepted after at most one more pause.
  const std::string answer = receive(client, 3s);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("served"), std::string::npos);
  EXPECT_EQ(server->stats().connections_accepted, 1u);
  close(client);
}

}  // namespace
}  // namespace llmpool::server
