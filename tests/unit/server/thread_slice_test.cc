// The scheduler slice request of the server's I/O threads (server/thread_slice.h), on the real
// kernel: it keeps an operator's nice value and policy, the kernels that honour a slice (Linux
// 6.12+) report the one asked for, and the server's threads ask for it only while busy.

#include "server/thread_slice.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "server/server.h"
#include "server/worker.h"
#include "subprocess.h"

namespace llmpool::server {
namespace {

using namespace std::chrono_literals;

bool kernelHonoursSlices() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

template <class Fn>
auto onFreshThread(Fn fn) {  // scheduling attributes are per thread: keep the test's own clean
  auto task = std::async(std::launch::async, fn);
  return task.get();
}

TEST(ThreadSliceTest, KeepsNiceValueAndReportsTheSlice) {
  const auto [ok, nice_after, slice] = onFreshThread([] {
    const int tid = static_cast<int>(::gettid());
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 3);  // raising nice needs no privilege
    const bool set = requestSchedulerSlice(300us);
    return std::tuple{set, ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid)),
                      currentSchedulerSlice()};
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(3, nice_after);
  if (kernelHonoursSlices()) {
    EXPECT_EQ(300us, slice);
  }
  const auto [restored, nice_restored, default_slice] = onFreshThread([] {
    const int tid = static_cast<int>(::gettid());
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 3);
    requestSchedulerSlice(300us);
    const bool back = restoreDefaultSchedulerSlice();
    return std::tuple{back, ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid)),
                      currentSchedulerSlice()};
  });
  EXPECT_TRUE(restored);
  EXPECT_EQ(3, nice_restored);
  EXPECT_NE(300us, default_slice);
}

TEST(ThreadSliceTest, LeavesOtherPoliciesAlone) {
  const auto [ok, policy] = onFreshThread([] {
    sched_param param{};
    ::sched_setscheduler(0, SCHED_IDLE, &param);  // lowering the policy needs no privilege
    return std::pair{requestSchedulerSlice(300us), ::sched_getscheduler(0)};
  });
  EXPECT_FALSE(ok);
  EXPECT_EQ(SCHED_IDLE, policy);
  EXPECT_FALSE(onFreshThread([] { return requestSchedulerSlice(0us); }));
}

// The slice is asked for only while the thread answers several requests at once
// (Worker::adaptSlice): at one request at a time it would cost latency, not save it.
TEST(ThreadSliceTest, ServerThreadsAskForTheSliceOnlyWhileBusy) {
  ServerOptions options;
  options.threads = 1;
  options.thread_slice = 400us;
  options.read_timeout = 100ms;  // the sweep that samples the load runs every 25 ms
  std::mutex mu;
  std::vector<ResponseWriter> held;
  auto server = Server::create(options, [&](Request&& request, ResponseWriter w) {
    if (request.target() == "/hold") {
      std::lock_guard lock(mu);
      held.push_back(std::move(w));
      return;
    }
    w.send(Status::ok, std::to_string(currentSchedulerSlice().count()), "text/plain");
  });
  ASSERT_TRUE(server) << server.error().message;
  (*server)->start();
  const int port = (*server)->port();
  auto sliceNow = [&] { return testing::httpRequest(port, "GET", "/slice").second; };
  // Polls until the thread reports `want` (or not `want`), for at most 3 s.
  auto waitForSlice = [&](const std::string& want, bool equal) {
    std::string body;
    for (int i = 0; i < 150; ++i) {
      body = sliceNow();
      if ((body == want) == equal) break;
      std::this_thread::sleep_for(20ms);
    }
    return body;
  };

  // One request at a time, sampled by many sweeps: the kernel's default slice.
  std::this_thread::sleep_for(100ms);
  const std::string idle = sliceNow();
  // Worker::kBusyForShortSlice requests in progress: the configured slice.
  std::vector<std::thread> clients;
  for (size_t i = 0; i < Worker::kBusyForShortSlice; ++i) {
    clients.emplace_back([port] { testing::httpRequest(port, "GET", "/hold"); });
  }
  const std::string busy = waitForSlice("400", true);
  // The held requests answered: back to the default.
  {
    std::lock_guard lock(mu);
    for (auto& w : held) w.send(Status::ok, "done", "text/plain");
    held.clear();
  }
  for (auto& c : clients) c.join();
  const std::string after = waitForSlice("400", false);
  (*server)->stop(0ms);
  if (kernelHonoursSlices()) {
    EXPECT_NE("400", idle);
    EXPECT_EQ("400", busy);
    EXPECT_NE("400", after);
  }
}

}  // namespace
}  // namespace llmpool::server
