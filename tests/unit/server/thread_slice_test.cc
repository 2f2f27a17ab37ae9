// The scheduler slice request of the server's I/O threads (server/thread_slice.h), on the real
// kernel: it keeps an operator's nice value and policy, and the kernels that honour a slice
// (Linux 6.12+) report the one asked for, also on the server's own threads.

#include "server/thread_slice.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "server/server.h"
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

TEST(ThreadSliceTest, ServerThreadsAskForTheConfiguredSlice) {
  ServerOptions options;
  options.threads = 2;
  options.thread_slice = 400us;
  auto server = Server::create(options, [](Request&&, ResponseWriter w) {
    w.send(Status::ok, std::to_string(currentSchedulerSlice().count()), "text/plain");
  });
  ASSERT_TRUE(server) << server.error().message;
  (*server)->start();
  const auto [status, body] = testing::httpRequest((*server)->port(), "GET", "/");
  EXPECT_EQ(200, status);
  if (kernelHonoursSlices()) {
    EXPECT_EQ("400", body);
  }
  (*server)->stop(0ms);
}

}  // namespace
}  // namespace llmpool::server
