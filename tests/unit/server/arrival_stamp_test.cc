// ResponseWriter::arrivedAt(): with ServerOptions::receive_timestamps it is when the request's
// bytes reached the socket (the kernel's stamp), even when the I/O thread was busy and read them
// much later; without, it is when the server began reading them. The mock counts its latency
// from it, so a burst of requests is answered `latency` after each one arrived.

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "raw_client.h"
#include "server/server.h"

namespace llmpool::server {
namespace {

using namespace std::chrono_literals;
using Client = llmpool::testing::RawClient;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

// Answers every request at once and records, per path, when it arrived and when the handler ran.
struct Recorder {
  std::mutex mu;
  std::vector<std::tuple<std::string, SteadyTime, SteadyTime>> seen;
  std::promise<boost::asio::any_io_executor> executor;
  bool have_executor = false;

  Handler handler() {
    return [this](Request&& request, ResponseWriter w) {
      const SteadyTime handled = std::chrono::steady_clock::now();
      {
        std::lock_guard lock(mu);
        seen.emplace_back(std::string(request.target()), w.arrivedAt(), handled);
        if (!have_executor) {
          have_executor = true;
          executor.set_value(w.executor());
        }
      }
      w.send(Status::ok, "ok", "text/plain");
    };
  }
  std::pair<SteadyTime, SteadyTime> times(const std::string& path) {
    std::lock_guard lock(mu);
    for (const auto& [p, arrived, handled] : seen) {
      if (p == path) return {arrived, handled};
    }
    ADD_FAILURE() << path << " was not handled";
    return {};
  }
};

// Two connections on one I/O thread; the second sends while the thread is blocked for 300 ms.
// Returns how long before its handler ran the second request is said to have arrived.
std::chrono::milliseconds waitOfARequestReadLate(bool stamps) {
  Recorder recorder;
  ServerOptions options;
  options.threads = 1;
  options.receive_timestamps = stamps;
  auto server = Server::create(options, recorder.handler());
  EXPECT_TRUE(server.has_value()) << server.error().describe();
  (*server)->start();
  Client first((*server)->port());
  Client second((*server)->port());
  EXPECT_TRUE(first.connected() && second.connected());
  first.send(get("/first"));
  EXPECT_NE(first.readUntil("ok").find("200 OK"), std::string::npos);
  second.send(get("/warm"));  // accepted and set up before the thread is blocked
  EXPECT_NE(second.readUntil("ok").find("200 OK"), std::string::npos);

  auto executor = recorder.executor.get_future().get();
  std::promise<void> blocked;
  boost::asio::post(executor, [&blocked] {
    blocked.set_value();
    std::this_thread::sleep_for(300ms);  // the I/O thread is busy elsewhere
  });
  blocked.get_future().wait();
  const SteadyTime sent = std::chrono::steady_clock::now();
  second.send(get("/late"));
  EXPECT_NE(second.readUntil("ok").find("200 OK"), std::string::npos);
  const auto [arrived, handled] = recorder.times("/late");
  EXPECT_GE(handled - sent, 250ms);  // the block really delayed the read
  EXPECT_GE(arrived, sent - 5ms);    // never before the client sent it
  (*server)->stop(0ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(handled - arrived);
}

TEST(ArrivalStampTest, ARequestReadLateKeepsTheTimeItArrived) {
  EXPECT_GE(waitOfARequestReadLate(true), 250ms);
}

TEST(ArrivalStampTest, WithoutStampsArrivalIsWhenTheServerBeganReading) {
  EXPECT_LT(waitOfARequestReadLate(false), 150ms);
}

}  // namespace
}  // namespace llmpool::server
