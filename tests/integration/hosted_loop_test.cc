// Thread-per-core: CurlTransport loops run by the shared server's threads (AsioLoopHost) instead
// of threads of their own, against `llmpool mock` over loopback. A request sent from a server
// thread is carried, answered and timed on that thread; timers armed there wake the host for an
// earlier deadline; and shutting the transport down answers every request whether the host
// threads run, have not started, or have already stopped.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http/curl_transport.h"
#include "server/server.h"
#include "subprocess.h"

namespace llmpool {
namespace {

using namespace std::chrono_literals;
using llmpool::testing::MockProvider;

constexpr auto kWait = 15s;  // upper bound for anything a test waits on

size_t processThreads() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

http::HttpRequest chatRequest(const std::string& base_url) {
  http::HttpRequest r;
  r.url = base_url + "/v1/chat/completions";
  r.headers = {{"Content-Type", "application/json"}};
  r.body =
      nlohmann::json{{"model", "mock-model"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}
          .dump();
  r.timeouts.total = 10s;
  return r;
}

/** A started server with `threads` threads whose handler is set per test. */
struct HostServer {
  explicit HostServer(int threads, bool start = true) {
    server::ServerOptions options;
    options.threads = threads;
    auto made =
        server::Server::create(options, [this](server::Request&& r, server::ResponseWriter w) {
          std::function<void(server::Request&, server::ResponseWriter&)> h;
          {
            std::lock_guard lock(mu);
            h = handler;
          }
          if (h) return h(r, w);
          w.send(server::Status::not_found, "{}", "application/json");
        });
    if (!made) ADD_FAILURE() << made.error().message;
    server = std::move(*made);
    if (start) server->start();
  }
  void setHandler(std::function<void(server::Request&, server::ResponseWriter&)> h) {
    std::lock_guard lock(mu);
    handler = std::move(h);
  }
  std::mutex mu;
  std::function<void(server::Request&, server::ResponseWriter&)> handler;
  std::unique_ptr<server::Server> server;
};

std::unique_ptr<http::CurlTransport> hostedTransport(server::Server& server) {
  http::CurlTransportOptions options;
  options.hosts = server.loopHosts();
  options.shards = options.hosts.size();
  options.max_connections_per_host = 8;
  auto made = http::CurlTransport::create(options);
  if (!made) ADD_FAILURE() << made.error().message;
  return made ? std::move(*made) : nullptr;
}

bool onAnyHost(server::Server& server) {
  for (LoopHost* h : server.loopHosts()) {
    if (h->inHostThread()) return true;
  }
  return false;
}

TEST(HostedLoopTest, ARequestSentFromAServerThreadStaysOnThatThread) {
  MockProvider mock;
  HostServer host(2);
  const size_t threads_before = processThreads();
  auto transport = hostedTransport(*host.server);
  ASSERT_TRUE(transport);
  EXPECT_EQ(2u, transport->shardCount());
  // The loops got no threads of their own.
  EXPECT_EQ(threads_before, processThreads());

  std::mutex mu;
  int same_thread = 0, other_thread = 0;
  host.setHandler([&](server::Request&, server::ResponseWriter& w) {
    const auto handler_thread = std::this_thread::get_id();
    http::ResponseCallbacks cbs;
    cbs.on_complete = [&, w, handler_thread](Result<http::HttpResponse> r) mutable {
      {
        std::lock_guard lock(mu);
        ++(std::this_thread::get_id() == handler_thread ? same_thread : other_thread);
      }
      w.send(r && r->status == 200 ? server::Status::ok : server::Status::bad_gateway, "{}",
             "application/json");
    };
    transport->send(chatRequest(mock.baseUrl()), std::move(cbs));
  });

  // Several client connections, so both server threads get some.
  std::vector<std::future<int>> replies;
  for (int i = 0; i < 8; ++i) {
    replies.push_back(std::async(std::launch::async, [&] {
      return testing::httpRequest(host.server->port(), "POST", "/", "{}").first;
    }));
  }
  for (auto& f : replies) {
    ASSERT_EQ(std::future_status::ready, f.wait_for(kWait));
    EXPECT_EQ(200, f.get());
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(8, same_thread);
  EXPECT_EQ(0, other_thread);
}

TEST(HostedLoopTest, ExecutorWorkFromElsewhereRunsOnAHostThread) {
  HostServer host(2);
  auto transport = hostedTransport(*host.server);
  ASSERT_TRUE(transport);
  EXPECT_FALSE(transport->inExecutorThread());
  std::promise<bool> posted, timed;
  transport->post(
      [&] { posted.set_value(onAnyHost(*host.server) && transport->inExecutorThread()); });
  transport->runAt(MonotonicClock::now() + 5ms, [&] { timed.set_value(onAnyHost(*host.server)); });
  auto p = posted.get_future(), t = timed.get_future();
  ASSERT_EQ(std::future_status::ready, p.wait_for(kWait));
  ASSERT_EQ(std::future_status::ready, t.wait_for(kWait));
  EXPECT_TRUE(p.get());
  EXPECT_TRUE(t.get());
}

// The host waits for the loop's next deadline; a timer armed on the host thread outside the
// loop's own work (a server handler arming a request deadline) must bring that wait forward.
TEST(HostedLoopTest, AnEarlierTimerArmedOnTheHostThreadWakesTheHost) {
  HostServer host(1);
  auto transport = hostedTransport(*host.server);
  ASSERT_TRUE(transport);
  // A far deadline first, armed on the loop: the host now waits up to a minute.
  std::promise<void> far_armed;
  transport->post([&] {
    transport->runAt(MonotonicClock::now() + 60s, [] {});
    far_armed.set_value();
  });
  ASSERT_EQ(std::future_status::ready, far_armed.get_future().wait_for(kWait));

  std::promise<void> fired;
  host.setHandler([&](server::Request&, server::ResponseWriter& w) {
    transport->runAt(MonotonicClock::now() + 20ms, [&fired] { fired.set_value(); });
    w.send(server::Status::ok, "{}", "application/json");
  });
  EXPECT_EQ(200, testing::httpRequest(host.server->port(), "POST", "/", "{}").first);
  EXPECT_EQ(std::future_status::ready, fired.get_future().wait_for(kWait));
}

// Destroying the transport answers what is in flight with Cancelled, on the host thread, and the
// server goes on serving.
TEST(HostedLoopTest, ShutdownWithTheHostRunningCancelsInFlightRequests) {
  MockProvider mock({"--latency", "20s"});
  HostServer host(2);
  auto transport = hostedTransport(*host.server);
  ASSERT_TRUE(transport);
  std::promise<std::pair<ErrorCode, bool>> done;
  http::ResponseCallbacks cbs;
  cbs.on_complete = [&](Result<http::HttpResponse> r) {
    done.set_value({r ? ErrorCode::Internal : r.error().code, onAnyHost(*host.server)});
  };
  transport->send(chatRequest(mock.baseUrl()), std::move(cbs));
  // Wait until the mock holds it, so the cancel ends a real exchange.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (nlohmann::json::parse(mock.statsJson())["in_flight"].get<int>() < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);  // polling an observable condition
  }
  transport.reset();
  auto f = done.get_future();
  ASSERT_EQ(std::future_status::ready, f.wait_for(0s));  // answered before the destructor returned
  const auto [code, on_host] = f.get();
  EXPECT_EQ(ErrorCode::Cancelled, code);
  EXPECT_TRUE(on_host);
  host.setHandler({});
  EXPECT_EQ(404, testing::httpRequest(host.server->port(), "GET", "/", "").first);
}

// A transport outliving its host's threads, or created before they start, still answers every
// request when it is destroyed (on the destroying thread: no host thread runs any more).
TEST(HostedLoopTest, ShutdownWithoutRunningHostThreadsStillAnswers) {
  MockProvider mock({"--latency", "20s"});
  for (const bool started : {true, false}) {
    SCOPED_TRACE(started ? "host stopped" : "host never started");
    HostServer host(2, started);
    auto transport = hostedTransport(*host.server);
    ASSERT_TRUE(transport);
    std::promise<ErrorCode> done;
    http::ResponseCallbacks cbs;
    cbs.on_complete = [&](Result<http::HttpResponse> r) {
      done.set_value(r ? ErrorCode::Internal : r.error().code);
    };
    transport->send(chatRequest(mock.baseUrl()), std::move(cbs));
    if (started) host.server->stop(0ms);
    transport.reset();
    auto f = done.get_future();
    ASSERT_EQ(std::future_status::ready, f.wait_for(0s));
    EXPECT_EQ(ErrorCode::Cancelled, f.get());
  }
}

}  // namespace
}  // namespace llmpool
