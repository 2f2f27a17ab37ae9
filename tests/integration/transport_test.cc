// CurlTransport against `llmpool mock` over real loopback sockets: connection reuse and limits
// (checked on both sides of the socket), timeouts, cancellation, streaming, resets, TLS, and the
// executor timers that share the loop.

#include <gtest/gtest.h>

#include <stdlib.h>
#include <csignal>
#include <thread>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "descriptor_exhaustion.h"
#include "http/curl_transport.h"
#include "subprocess.h"

namespace llmpool::http {
namespace {

using namespace std::chrono_literals;
using llmpool::testing::MockProvider;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 15s;  // upper bound for anything a test waits on

// Which client carries plain http:// in the current test: the built-in HTTP/1.1 client (the
// default) or libcurl. TransportTest runs every test with both (see INSTANTIATE below).
bool g_native_http1 = true;

std::unique_ptr<CurlTransport> makeTransport(CurlTransportOptions options = {}) {
  options.native_http1 = g_native_http1;
  auto made = CurlTransport::create(std::move(options));
  if (!made) ADD_FAILURE() << made.error().message;
  return made ? std::move(*made) : nullptr;
}

HttpRequest chatRequest(const std::string& base_url, const std::string& prompt,
                        bool stream = false) {
  HttpRequest r;
  r.method = "POST";
  r.url = base_url + "/v1/chat/completions";
  r.headers = {{"Content-Type", "application/json"}};
  nlohmann::json body = {{"model", "mock-model"},
                         {"messages", {{{"role", "user"}, {"content", prompt}}}},
                         {"stream", stream}};
  r.body = body.dump();
  r.timeouts.total = 10s;
  return r;
}

nlohmann::json mockStats(const MockProvider& mock) {
  return nlohmann::json::parse(mock.statsJson());
}

std::thread::id myId() { return std::this_thread::get_id(); }

/** Sends one request and waits (bounded) for its completion. */
Result<HttpResponse> sendAndWait(Transport& transport, HttpRequest request,
                                 ResponseCallbacks callbacks = {}) {
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  auto future = promise->get_future();
  callbacks.on_complete = [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); };
  transport.send(std::move(request), std::move(callbacks));
  if (future.wait_for(kWait) != std::future_status::ready) {
    return fail(ErrorCode::Internal, "test: request did not complete in time");
  }
  return future.get();
}

/** Counts completions of many concurrent requests. */
class Completions {
 public:
  explicit Completions(size_t expected) : expected_(expected) {}
  std::function<void(Result<HttpResponse>)> callback() {
    return [this](Result<HttpResponse> r) {
      std::lock_guard lock(mu_);
      results_.push_back(std::move(r));
      if (results_.size() == expected_) cv_.notify_all();
    };
  }
  bool waitAll() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [this] { return results_.size() == expected_; });
  }
  const std::vector<Result<HttpResponse>>& results() const { return results_; }

 private:
  size_t expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Result<HttpResponse>> results_;
};

/** Waits (bounded) until the mock reports `in_flight` model requests. */
bool waitForMockInFlight(const MockProvider& mock, int in_flight) {
  const auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    if (mockStats(mock)["in_flight"].get<int>() == in_flight) return true;
    std::this_thread::sleep_for(5ms);  // polling an observable condition, not ordering events
  }
  return false;
}

/** A loopback server whose every connection runs a scripted handler on its own thread: for the
 *  wire behaviours `llmpool mock` has no fault for (closing a kept-alive connection just as it is
 *  reused, answering with bytes that are not HTTP). Reads and writes time out after kWait. */
class ScriptedServer {
 public:
  /** `handler(fd, connection_index)` serves one accepted connection; the fd is closed after. */
  explicit ScriptedServer(std::function<void(int, int)> handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] {
      for (int index = 0;; ++index) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;  // shutdown() below
        const timeval timeout{static_cast<time_t>(kWait.count()), 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        connections_.fetch_add(1);
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, fd, index] {
          handler_(fd, index);
          ::close(fd);
        });
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mu_);
    for (auto& w : workers_) w.join();
  }
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }

  /** Reads one request (head and Content-Length body); false when the peer closed first. */
  static bool readRequest(int fd) {
    std::string data;
    char buffer[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || data.size() < need) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<size_t>(n));
      const size_t end = data.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        size_t body = 0;
        const size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < end) body = std::stoul(data.substr(at + 16));
        need = end + 4 + body;
      }
    }
    return true;
  }
  static void reply(int fd, std::string_view body) {
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  }

 private:
  std::function<void(int, int)> handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

/** Every test of this suite runs twice: plain http:// through the built-in HTTP/1.1 client, and
 *  through libcurl. Both must keep the same contract. */
class TransportTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { g_native_http1 = GetParam(); }
  void TearDown() override { g_native_http1 = true; }
};

INSTANTIATE_TEST_SUITE_P(Clients, TransportTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Native" : "Curl";
                         });

TEST_P(TransportTest, SequentialRequestsReuseOneConnection) {
  MockProvider mock;
  auto transport = makeTransport({.max_connections_per_host = 2});
  ASSERT_TRUE(transport);
  int reused = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = sendAndWait(*transport, chatRequest(mock.baseUrl(), "hello " + std::to_string(i)));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(200, r->status);
    ASSERT_NE(std::string::npos, r->body.find("mock reply: hello " + std::to_string(i)));
    if (r->reused_connection) ++reused;
  }
  const auto stats = mockStats(mock);
  EXPECT_LE(stats["connections_accepted"].get<int>(), 2);
  EXPECT_GE(stats["connections_accepted"].get<int>(), 1);
  const TransportStats ours = transport->stats();
  EXPECT_LE(ours.connections_opened, 2u);
  EXPECT_GE(ours.connections_reused, 198u);
  EXPECT_EQ(static_cast<int>(ours.connections_reused), reused);
  EXPECT_EQ(200u, ours.requests_completed);
  EXPECT_EQ(0u, ours.in_flight);
}

TEST_P(TransportTest, ConcurrentRequestsNeverOpenMoreThanMaxConnections) {
  MockProvider mock({"--latency", "10ms"});
  auto transport = makeTransport({.max_connections_per_host = 4});
  ASSERT_TRUE(transport);
  Completions done(100);
  for (int i = 0; i < 100; ++i) {
    transport->send(chatRequest(mock.baseUrl(), "p" + std::to_string(i)),
                    {.on_complete = done.callback()});
  }
  ASSERT_TRUE(done.waitAll());
  for (const auto& r : done.results()) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(200, r->status);
  }
  const auto stats = mockStats(mock);
  EXPECT_LE(stats["connections_accepted"].get<int>(), 4);
  EXPECT_LE(stats["in_flight_max"].get<int>(), 4);
  EXPECT_GE(stats["in_flight_max"].get<int>(), 2);  // the requests really ran concurrently
  EXPECT_LE(transport->stats().connections_opened, 4u);
  EXPECT_GE(transport->stats().connections_reused, 96u);
}

TEST_P(TransportTest, HungRequestTimesOutAtItsTotalTimeout) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request = chatRequest(mock.baseUrl(), "hang");
  request.headers.emplace_back("x-mock-fault", R"({"kind":"hang"})");
  request.timeouts.total = 300ms;
  const auto start = Clock::now();
  auto r = sendAndWait(*transport, request);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Timeout, r.error().code) << r.error().message;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_P(TransportTest, FirstByteTimeoutFiresBeforeTheTotalTimeout) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request = chatRequest(mock.baseUrl(), "hang");
  request.headers.emplace_back("x-mock-fault", R"({"kind":"hang"})");
  request.timeouts.total = 10s;
  request.timeouts.first_byte = 200ms;
  const auto start = Clock::now();
  auto r = sendAndWait(*transport, request);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Timeout, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("first-byte")) << r.error().message;
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 3s);
  // The abandoned connection was closed, and the transport still works.
  auto ok = sendAndWait(*transport, chatRequest(mock.baseUrl(), "after"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(200, ok->status);
}

TEST_P(TransportTest, StalledStreamEndsWithIdleTimeout) {
  // 2 tokens per second: a gap of about 500 ms between chunks.
  MockProvider mock({"--tokens-per-second", "2"});
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request = chatRequest(mock.baseUrl(), "one two three four five six", true);
  request.timeouts.idle = 150ms;
  int chunks = 0;
  auto r = sendAndWait(*transport, request, {.on_data = [&](std::string_view) {
    ++chunks;
    return true;
  }});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Timeout, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("idle")) << r.error().message;
}

TEST_P(TransportTest, CancellingAHungRequestFreesItsConnectionSlot) {
  MockProvider mock;
  auto transport = makeTransport({.max_connections_per_host = 1});
  ASSERT_TRUE(transport);
  HttpRequest hung = chatRequest(mock.baseUrl(), "hang");
  hung.headers.emplace_back("x-mock-fault", R"({"kind":"hang"})");
  std::promise<Result<HttpResponse>> hung_done;
  const RequestId hung_id = transport->send(
      hung, {.on_complete = [&](Result<HttpResponse> r) { hung_done.set_value(std::move(r)); }});
  ASSERT_TRUE(waitForMockInFlight(mock, 1));  // the hung request holds the only connection

  std::promise<Result<HttpResponse>> second_done;
  transport->send(
      chatRequest(mock.baseUrl(), "second"),
      {.on_complete = [&](Result<HttpResponse> r) { second_done.set_value(std::move(r)); }});
  auto second = second_done.get_future();
  // The second request waits for the slot instead of opening a second connection.
  EXPECT_EQ(std::future_status::timeout, second.wait_for(200ms));
  EXPECT_EQ(1, mockStats(mock)["connections_accepted"].get<int>());

  transport->cancel(hung_id);
  auto hung_future = hung_done.get_future();
  ASSERT_EQ(std::future_status::ready, hung_future.wait_for(kWait));
  auto hung_result = hung_future.get();
  ASSERT_FALSE(hung_result.has_value());
  EXPECT_EQ(ErrorCode::Cancelled, hung_result.error().code);

  ASSERT_EQ(std::future_status::ready, second.wait_for(kWait));
  auto second_result = second.get();
  ASSERT_TRUE(second_result.has_value()) << second_result.error().message;
  EXPECT_EQ(200, second_result->status);
  EXPECT_EQ(2, mockStats(mock)["connections_accepted"].get<int>());
  EXPECT_GE(transport->stats().connections_closed, 1u);
  transport->cancel(hung_id);  // after completion: a no-op
}

TEST_P(TransportTest, RequestWaitingForASlotStillHonoursItsTotalTimeout) {
  MockProvider mock;
  auto transport = makeTransport({.max_connections_per_host = 1});
  ASSERT_TRUE(transport);
  HttpRequest hung = chatRequest(mock.baseUrl(), "hang");
  hung.headers.emplace_back("x-mock-fault", R"({"kind":"hang"})");
  const RequestId hung_id = transport->send(hung, {});
  ASSERT_TRUE(waitForMockInFlight(mock, 1));
  HttpRequest waiting = chatRequest(mock.baseUrl(), "queued");
  waiting.timeouts.total = 300ms;
  const auto start = Clock::now();
  auto r = sendAndWait(*transport, waiting);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Timeout, r.error().code) << r.error().message;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(1, mockStats(mock)["connections_accepted"].get<int>());
  transport->cancel(hung_id);
}

TEST_P(TransportTest, StreamingDeliversChunksBeforeTheStreamEnds) {
  MockProvider mock({"--tokens-per-second", "50"});
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  std::vector<Clock::time_point> chunk_times;
  std::string streamed;
  int heads = 0;
  HttpResponseHead head;
  auto r = sendAndWait(
      *transport,
      chatRequest(mock.baseUrl(), "alpha beta gamma delta epsilon zeta eta theta", true),
      {.on_head =
           [&](const HttpResponseHead& h) {
             ++heads;
             head = h;
             EXPECT_TRUE(chunk_times.empty());  // the head comes before any body byte
           },
       .on_data =
           [&](std::string_view data) {
             chunk_times.push_back(Clock::now());
             streamed.append(data);
             return true;
           }});
  const auto completed_at = Clock::now();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(200, r->status);
  EXPECT_TRUE(r->body.empty());  // streamed bodies are not accumulated
  EXPECT_EQ(1, heads);
  EXPECT_EQ(200, head.status);
  EXPECT_NE(std::string::npos,
            std::string(findHeader(head.headers, "content-type")).find("text/event-stream"));
  for (const auto& [name, value] : head.headers) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
  ASSERT_GE(chunk_times.size(), 3u);
  // At 50 tokens/s the eight words take ~160 ms: the first chunk arrived well before the end.
  EXPECT_GE(completed_at - chunk_times.front(), 80ms);
  EXPECT_NE(std::string::npos, streamed.find("[DONE]"));
  EXPECT_NE(std::string::npos, streamed.find("theta"));
}

TEST_P(TransportTest, OnDataReturningFalseCancelsTheStream) {
  MockProvider mock({"--tokens-per-second", "50"});
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  int chunks = 0;
  auto r = sendAndWait(*transport, chatRequest(mock.baseUrl(), "a b c d e f g h", true),
                       {.on_data = [&](std::string_view) { return ++chunks < 2; }});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Cancelled, r.error().code);
  EXPECT_EQ(2, chunks);
}

TEST_P(TransportTest, ResetMidStreamIsATypedError) {
  // Paced, so the first chunks are read before the reset (a RST discards unread data).
  MockProvider mock({"--tokens-per-second", "50"});
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request = chatRequest(mock.baseUrl(), "one two three four five six", true);
  request.headers.emplace_back("x-mock-fault", R"({"kind":"reset_mid_stream","after_chunks":2})");
  int chunks = 0;
  auto r = sendAndWait(*transport, request, {.on_data = [&](std::string_view) {
    ++chunks;
    return true;
  }});
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().code == ErrorCode::ConnectFailed || r.error().code == ErrorCode::Protocol)
      << errorCodeName(r.error().code) << ": " << r.error().message;
  EXPECT_GE(chunks, 1);  // the failure came after data had been streamed
}

TEST_P(TransportTest, ResetBeforeResponseIsConnectFailed) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request = chatRequest(mock.baseUrl(), "x");
  request.headers.emplace_back("x-mock-fault", R"({"kind":"reset"})");
  auto r = sendAndWait(*transport, request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::ConnectFailed, r.error().code) << r.error().message;
}

TEST_P(TransportTest, BodyOverMaxResponseBytesFailsAndTheConnectionCarriesOn) {
  MockProvider mock({"--embedding-dim", "4096"});  // an embedding reply of ~40 KB
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest big = chatRequest(mock.baseUrl(), "x");
  big.url = mock.baseUrl() + "/v1/embeddings";
  big.body = R"({"model":"mock-model","input":"a long vector"})";
  big.max_response_bytes = 16 * 1024;
  auto r = sendAndWait(*transport, big);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Protocol, r.error().code) << r.error().message;
  EXPECT_NE(std::string::npos, r.error().message.find("max_response_bytes")) << r.error().message;
  HttpRequest small = chatRequest(mock.baseUrl(), "small");
  small.max_response_bytes = 16 * 1024;
  auto ok = sendAndWait(*transport, small);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(200, ok->status);
}

TEST_P(TransportTest, RefusedConnectionIsConnectFailed) {
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:1/health";  // nothing listens on port 1
  auto r = sendAndWait(*transport, request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::ConnectFailed, r.error().code) << r.error().message;
  // A refusal is the provider's side: not taken for a local shortage.
  EXPECT_EQ(0u, transport->stats().local_resource_failures);
}

class TlsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/llmpool-tls-XXXXXX";
    ASSERT_NE(nullptr, ::mkdtemp(dir_template));
    dir_ = dir_template;
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(0, std::system(command.c_str()));
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsTransportTest, SelfSignedServerFailsVerificationAndPassesWithItsCaFile) {
  MockProvider mock({"--tls-cert", cert_, "--tls-key", key_});
  const std::string base = "https://127.0.0.1:" + std::to_string(mock.port());

  auto strict = makeTransport();
  ASSERT_TRUE(strict);
  auto refused = sendAndWait(*strict, chatRequest(base, "tls"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(ErrorCode::TlsError, refused.error().code) << refused.error().message;

  auto trusting = makeTransport({.ca_file = cert_});
  ASSERT_TRUE(trusting);
  auto ok = sendAndWait(*trusting, chatRequest(base, "tls"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(200, ok->status);
  EXPECT_NE(std::string::npos, ok->body.find("mock reply: tls"));

  // A per-request CA bundle (a provider's own) works on the strict transport too.
  HttpRequest with_ca = chatRequest(base, "per request");
  with_ca.ca_file = cert_;
  auto ok_again = sendAndWait(*strict, with_ca);
  ASSERT_TRUE(ok_again.has_value()) << ok_again.error().message;
  EXPECT_EQ(200, ok_again->status);
}

TEST(TransportExecutorTest, TimersFireInDeadlineOrderOnTheLoopThread) {
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  EXPECT_FALSE(transport->inExecutorThread());
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> all_done;
  bool all_on_loop = true;
  auto record = [&](std::string name) {
    return [&, name] {
      std::lock_guard lock(mu);
      all_on_loop = all_on_loop && transport->inExecutorThread();
      order.push_back(name);
      if (name == "last") all_done.set_value();
    };
  };
  const MonotonicTime now = transport->clock().now();
  transport->runAt(now + 60ms, record("c"));
  transport->runAt(now + 20ms, record("a"));
  transport->runAt(now + 40ms, record("b1"));
  transport->runAt(now + 40ms, record("b2"));  // same deadline: insertion order
  const TimerId cancelled = transport->runAt(now + 50ms, record("cancelled"));
  transport->cancelTimer(cancelled);
  transport->post(record("posted"));
  transport->runAt(now + 80ms, record("last"));
  ASSERT_EQ(std::future_status::ready, all_done.get_future().wait_for(kWait));
  EXPECT_GE(transport->clock().now() - now, 80ms);
  std::lock_guard lock(mu);
  EXPECT_EQ((std::vector<std::string>{"posted", "a", "b1", "b2", "c", "last"}), order);
  EXPECT_TRUE(all_on_loop);
}

TEST_P(TransportTest, DestructionCompletesInFlightRequestsWithCancelled) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  HttpRequest hung = chatRequest(mock.baseUrl(), "hang");
  hung.headers.emplace_back("x-mock-fault", R"({"kind":"hang"})");
  std::promise<Result<HttpResponse>> done;
  transport->send(hung,
                  {.on_complete = [&](Result<HttpResponse> r) { done.set_value(std::move(r)); }});
  ASSERT_TRUE(waitForMockInFlight(mock, 1));
  transport.reset();
  auto future = done.get_future();
  ASSERT_EQ(std::future_status::ready, future.wait_for(0s));  // completed before the join
  auto r = future.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Cancelled, r.error().code);
}

TEST_P(TransportTest, ShardsSplitEachHostsConnectionLimitExactly) {
  // Three connections over two loops: shares 2 + 1. Both loops carry the host (three
  // connections are opened, more than either share) and together never exceed the limit.
  MockProvider mock({"--latency", "20ms"});
  auto transport = makeTransport({.shards = 2, .max_connections_per_host = 3});
  ASSERT_TRUE(transport);
  ASSERT_EQ(2u, transport->shardCount());
  Completions done(60);
  for (int i = 0; i < 60; ++i) {
    transport->send(chatRequest(mock.baseUrl(), "s" + std::to_string(i)),
                    {.on_complete = done.callback()});
  }
  ASSERT_TRUE(done.waitAll());
  for (const auto& r : done.results()) ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto stats = mockStats(mock);
  EXPECT_EQ(3, stats["connections_accepted"].get<int>());
  EXPECT_LE(stats["in_flight_max"].get<int>(), 3);
  EXPECT_EQ(3, stats["in_flight_max"].get<int>());  // both shares were in use at once
  EXPECT_EQ(0, transport->shardLoad(0));
  EXPECT_EQ(0, transport->shardLoad(1));
}

TEST_P(TransportTest, FollowUpsOfACompletionStayOnItsLoop) {
  // Two loops: two requests in flight at once go one to each (least loaded). What each
  // completion posts or arms runs on the loop that completed it, not on shard 0; the timers it
  // arms carry their loop in their id and are cancelled from this thread. Executor work from
  // outside the loops runs on shard 0.
  MockProvider mock({"--latency", "100ms"});
  auto transport = makeTransport({.shards = 2, .max_connections_per_host = 2});
  ASSERT_TRUE(transport);
  ASSERT_EQ(2u, transport->shardCount());
  struct Seen {
    std::thread::id completion, posted, timer;
    bool in_executor = false;
    TimerId cancelled_timer = 0;
  };
  std::mutex mu;
  std::condition_variable cv;
  Seen seen[2];
  int events = 0;  // per request: completion, post, timer
  int cancelled_ran = 0;
  auto note = [&](auto&& fn) {
    std::lock_guard lock(mu);
    fn();
    ++events;
    cv.notify_all();
  };
  for (int i = 0; i < 2; ++i) {
    transport->send(chatRequest(mock.baseUrl(), "r" + std::to_string(i)),
                    {.on_complete = [&, i](Result<HttpResponse> r) {
                      EXPECT_TRUE(r.has_value()) << r.error().message;
                      const MonotonicTime now = transport->clock().now();
                      transport->post([&, i] { note([&] { seen[i].posted = myId(); }); });
                      transport->runAt(now + 1ms,
                                       [&, i] { note([&] { seen[i].timer = myId(); }); });
                      const TimerId later = transport->runAt(now + 300ms, [&] {
                        std::lock_guard lock(mu);
                        ++cancelled_ran;
                      });
                      note([&] {
                        seen[i].completion = myId();
                        seen[i].in_executor = transport->inExecutorThread();
                        seen[i].cancelled_timer = later;
                      });
                    }});
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return events == 6; }));
  }
  for (const Seen& s : seen) {
    EXPECT_TRUE(s.in_executor);
    EXPECT_EQ(s.completion, s.posted);
    EXPECT_EQ(s.completion, s.timer);
    transport->cancelTimer(s.cancelled_timer);
  }
  EXPECT_NE(seen[0].completion, seen[1].completion);  // one request on each loop
  std::set<TimerId> timer_loops = {seen[0].cancelled_timer % 2, seen[1].cancelled_timer % 2};
  EXPECT_EQ(2u, timer_loops.size());
  // From outside: shard 0, the loop that holds the timer ids = 0 mod 2.
  std::promise<std::thread::id> outside;
  transport->post([&] { outside.set_value(myId()); });
  auto outside_future = outside.get_future();
  ASSERT_EQ(std::future_status::ready, outside_future.wait_for(kWait));
  const std::thread::id shard0 = outside_future.get();
  for (const Seen& s : seen) EXPECT_EQ(s.cancelled_timer % 2 == 0, s.completion == shard0);
  EXPECT_FALSE(transport->inExecutorThread());
  // The cancelled timers never run: wait past their deadline.
  std::promise<void> last;
  transport->runAt(transport->clock().now() + 600ms, [&] { last.set_value(); });
  ASSERT_EQ(std::future_status::ready, last.get_future().wait_for(kWait));
  std::lock_guard lock(mu);
  EXPECT_EQ(0, cancelled_ran);
}

TEST_P(TransportTest, NeverMoreShardsThanConnectionsPerHost) {
  MockProvider mock;
  auto transport = makeTransport({.shards = 4, .max_connections_per_host = 1});
  ASSERT_TRUE(transport);
  EXPECT_EQ(1u, transport->shardCount());
  Completions done(20);
  for (int i = 0; i < 20; ++i) {
    transport->send(chatRequest(mock.baseUrl(), "one"), {.on_complete = done.callback()});
  }
  ASSERT_TRUE(done.waitAll());
  for (const auto& r : done.results()) ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(1, mockStats(mock)["connections_accepted"].get<int>());
}

// Many long streams started at once must all reach the server promptly. With HTTP/2 allowed,
// libcurl 7.88 parks the requests that arrive while the first connection to a host is being set
// up (CURLOPT_PIPEWAIT: "the server may multiplex, wait"), and for a plain-http connection it
// re-examines parked requests only when some transfer completes: with streams lasting many
// seconds they started only when the first stream ended.
void expectSlowStreamsAllStart(const std::function<nlohmann::json()>& mock_stats,
                               const std::string& base_url, CurlTransportOptions options) {
  constexpr int kStreams = 40;
  options.max_connections_per_host = kStreams + 10;
  auto transport = makeTransport(std::move(options));
  ASSERT_TRUE(transport);
  Completions done(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    HttpRequest r = chatRequest(base_url, "a b c d e f g h i j", true);
    r.timeouts.total = 60s;
    transport->send(std::move(r), {.on_data = [](std::string_view) { return true; },
                                   .on_complete = done.callback()});
  }
  // Generous: on an idle machine all of them are in flight within a few tens of milliseconds,
  // while one stream lasts about 12 s.
  constexpr auto kStartBound = 5s;
  const auto deadline = Clock::now() + kStartBound;
  int in_flight = 0;
  while (Clock::now() < deadline) {
    in_flight = mock_stats()["in_flight"].get<int>();
    if (in_flight == kStreams) break;
    std::this_thread::sleep_for(20ms);  // polling an observable condition
  }
  EXPECT_EQ(kStreams, in_flight) << "streams still waiting for a connection after "
                                 << kStartBound.count() << " s";
  // Nothing completed yet: the streams were really concurrent, not run one after another.
  EXPECT_EQ(0u, transport->stats().requests_completed);
  transport.reset();  // cancels the streams instead of waiting for them
  ASSERT_TRUE(done.waitAll());
  for (const auto& r : done.results()) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(ErrorCode::Cancelled, r.error().code) << r.error().message;
  }
}

TEST_P(TransportTest, ConcurrentSlowStreamsAllStartWithoutWaitingForACompletion) {
  // One word a second: each stream lasts about 12 s.
  MockProvider mock({"--tokens-per-second", "1"});
  expectSlowStreamsAllStart([&] { return mockStats(mock); }, mock.baseUrl(), {});
}

TEST_F(TlsTransportTest, ConcurrentSlowStreamsOverHttpsAllStart) {
  // An HTTP/1.1-only TLS server: ALPN settles "no multiplexing" during the first handshake.
  MockProvider mock({"--tokens-per-second", "1", "--tls-cert", cert_, "--tls-key", key_});
  const std::string base = "https://127.0.0.1:" + std::to_string(mock.port());
  // The test's own helper speaks plain HTTP only: read the mock's counters through a second
  // transport.
  auto reader = makeTransport({.ca_file = cert_});
  ASSERT_TRUE(reader);
  auto stats = [&] {
    HttpRequest get;
    get.method = "GET";
    get.url = base + "/admin/stats";
    auto r = sendAndWait(*reader, get);
    if (!r) return nlohmann::json{{"in_flight", -1}};
    return nlohmann::json::parse(r->body);
  };
  expectSlowStreamsAllStart(stats, base, {.ca_file = cert_});
}

const HostConnectionStats* hostStats(const TransportStats& s, const std::string& base_url) {
  for (const auto& h : s.hosts) {
    if (h.host == hostKey(base_url)) return &h;
  }
  return nullptr;
}

TEST_P(TransportTest, ConnectionsAreCountedPerHostOpenBusyIdle) {
  MockProvider first({"--latency", "300ms"});
  MockProvider second;
  // HTTP/1.1 only: without PIPEWAIT the two concurrent requests open two connections at once.
  auto transport = makeTransport({.max_connections_per_host = 4, .http2 = false});
  ASSERT_TRUE(transport);
  // Two slow requests in flight to the first host while the second host's connection sits idle.
  ASSERT_TRUE(sendAndWait(*transport, chatRequest(second.baseUrl(), "warm")).has_value());
  Completions slow(2);
  for (int i = 0; i < 2; ++i) {
    transport->send(chatRequest(first.baseUrl(), "slow"), {.on_complete = slow.callback()});
  }
  bool both_busy = false;
  for (int i = 0; i < 200 && !both_busy; ++i) {  // bounded: at most 2 s
    const TransportStats now = transport->stats();
    const auto* h = hostStats(now, first.baseUrl());
    both_busy = h && h->busy == 2;
    if (!both_busy) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(both_busy);
  TransportStats during = transport->stats();
  const auto* b = hostStats(during, second.baseUrl());
  ASSERT_NE(nullptr, b);
  EXPECT_EQ(1u, b->open);
  EXPECT_EQ(0u, b->busy);
  EXPECT_EQ(1u, b->idle);
  ASSERT_TRUE(slow.waitAll());
  TransportStats after = transport->stats();
  const auto* a = hostStats(after, first.baseUrl());
  ASSERT_NE(nullptr, a);
  EXPECT_EQ(2u, a->open);
  EXPECT_EQ(0u, a->busy);
  EXPECT_EQ(2u, a->idle);
  EXPECT_EQ(2u, a->opened);
  // The second host goes away: its dead connection is closed and counted against it, not the
  // first host.
  second.process().signal(SIGKILL);
  second.process().wait(std::chrono::seconds(5));
  EXPECT_FALSE(sendAndWait(*transport, chatRequest(second.baseUrl(), "gone")).has_value());
  TransportStats end = transport->stats();
  EXPECT_EQ(0u, hostStats(end, second.baseUrl())->open);
  EXPECT_EQ(2u, hostStats(end, first.baseUrl())->open);
  EXPECT_EQ(end.connections_opened - end.connections_closed, 2u);
}

// A request larger than the socket's send buffer goes out in pieces (the rest when the socket is
// writable again), and a reply larger than one read comes back whole.
TEST_P(TransportTest, LargeRequestAndReplyCrossManyWritesAndReads) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  const std::string prompt(4u << 20, 'a');
  auto r = sendAndWait(*transport, chatRequest(mock.baseUrl(), prompt));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(200, r->status);
  EXPECT_NE(std::string::npos, r->body.find("mock reply: aaaa"));  // the mock read it all
  // The connection is clean afterwards: the next request reuses it.
  auto next = sendAndWait(*transport, chatRequest(mock.baseUrl(), "small"));
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_TRUE(next->reused_connection);

  const std::string big(3u << 20, 'z');
  ScriptedServer server([&big](int fd, int) {
    if (!ScriptedServer::readRequest(fd)) return;
    ScriptedServer::reply(fd, big);
  });
  auto large = sendAndWait(*transport, chatRequest(server.baseUrl(), "x"));
  ASSERT_TRUE(large.has_value()) << large.error().message;
  EXPECT_EQ(200, large->status);
  EXPECT_EQ(big.size(), large->body.size());
  EXPECT_EQ(big, large->body);
}

// A connection idle for longer than connection_idle_timeout is not reused (real time: the
// transport's own clock). libcurl compares whole seconds of idleness ("1 s" admits up to 1.99 s),
// so the test waits 2.2 s.
TEST_P(TransportTest, ConnectionIdleBeyondItsTimeoutIsNotReused) {
  MockProvider mock;
  auto transport = makeTransport({.connection_idle_timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(transport);
  ASSERT_TRUE(sendAndWait(*transport, chatRequest(mock.baseUrl(), "one")).has_value());
  auto soon = sendAndWait(*transport, chatRequest(mock.baseUrl(), "two"));
  ASSERT_TRUE(soon.has_value()) << soon.error().message;
  EXPECT_TRUE(soon->reused_connection);
  std::this_thread::sleep_for(2200ms);
  auto later = sendAndWait(*transport, chatRequest(mock.baseUrl(), "three"));
  ASSERT_TRUE(later.has_value()) << later.error().message;
  EXPECT_FALSE(later->reused_connection);
  EXPECT_EQ(2, mockStats(mock)["connections_accepted"].get<int>());
}

// max_total_connections bounds a shard over all hosts: two busy hosts share it, an idle
// connection of one makes room for the other's waiting requests, and every request completes.
TEST_P(TransportTest, TotalConnectionLimitHoldsAcrossHosts) {
  MockProvider first({"--latency", "20ms"});
  MockProvider second({"--latency", "20ms"});
  auto transport = makeTransport({.max_connections_per_host = 3, .max_total_connections = 3});
  ASSERT_TRUE(transport);
  constexpr int kRequests = 30;
  Completions done(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    const std::string& base = i % 2 == 0 ? first.baseUrl() : second.baseUrl();
    transport->send(chatRequest(base, "p" + std::to_string(i)), {.on_complete = done.callback()});
  }
  uint64_t most_open = 0;
  const auto deadline = Clock::now() + kWait;
  while (transport->stats().requests_completed < kRequests && Clock::now() < deadline) {
    const TransportStats now = transport->stats();
    most_open = std::max(most_open, now.connections_opened - now.connections_closed);
    std::this_thread::sleep_for(1ms);  // sampling an observable bound, not ordering events
  }
  ASSERT_TRUE(done.waitAll());
  for (const auto& r : done.results()) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(200, r->status);
  }
  EXPECT_LE(most_open, 3u);
  EXPECT_GE(most_open, 1u);
  EXPECT_EQ(kRequests / 2, mockStats(first)["requests_total"].get<int>());
  EXPECT_EQ(kRequests / 2, mockStats(second)["requests_total"].get<int>());
  EXPECT_LE(
      mockStats(first)["in_flight_max"].get<int>() + mockStats(second)["in_flight_max"].get<int>(),
      6);
}

// A server may close a kept-alive connection at the moment the client reuses it (its keep-alive
// timeout racing the next request). The request never reached it, so it must go again on a fresh
// connection, once, instead of failing.
TEST_P(TransportTest, RequestOnAConnectionClosedAsItIsReusedGoesAgainOnAFreshOne) {
  std::atomic<int> requests{0};
  ScriptedServer server([&](int fd, int index) {
    if (index == 0) {
      if (!ScriptedServer::readRequest(fd)) return;
      requests.fetch_add(1);
      ScriptedServer::reply(fd, "first");
      // The second request arrives on this connection: read it and close without an answer.
      if (ScriptedServer::readRequest(fd)) requests.fetch_add(1);
      return;
    }
    while (ScriptedServer::readRequest(fd)) {
      requests.fetch_add(1);
      ScriptedServer::reply(fd, "again");
    }
  });
  auto transport = makeTransport({.max_connections_per_host = 1});
  ASSERT_TRUE(transport);
  auto first = sendAndWait(*transport, chatRequest(server.baseUrl(), "one"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ("first", first->body);
  auto second = sendAndWait(*transport, chatRequest(server.baseUrl(), "two"));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(200, second->status);
  EXPECT_EQ("again", second->body);
  EXPECT_EQ(2, server.connections());
  EXPECT_EQ(3, requests.load());
}

// Only once: a server that keeps dropping requests on fresh connections is a failure, not a loop.
TEST_P(TransportTest, EmptyReplyOnAFreshConnectionIsConnectFailed) {
  ScriptedServer server([](int fd, int) { (void)ScriptedServer::readRequest(fd); });
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  auto r = sendAndWait(*transport, chatRequest(server.baseUrl(), "dropped"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::ConnectFailed, r.error().code) << r.error().message;
  EXPECT_EQ(1, server.connections());
}

TEST(NativeTransportTest, BytesThatAreNotHttpAreAProtocolError) {
  ScriptedServer server([](int fd, int) {
    if (!ScriptedServer::readRequest(fd)) return;
    const std::string_view garbage = "SMTP ready\r\n\r\n";
    (void)::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
  });
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  auto r = sendAndWait(*transport, chatRequest(server.baseUrl(), "x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Protocol, r.error().code) << r.error().message;
  EXPECT_NE(std::string::npos, r.error().message.find("invalid HTTP response"))
      << r.error().message;
}

// Chunked framing, a body split over many reads, and headers as the provider sent them.
TEST_P(TransportTest, ChunkedResponseSplitAcrossWritesIsReassembled) {
  ScriptedServer server([](int fd, int) {
    if (!ScriptedServer::readRequest(fd)) return;
    const std::string parts[] = {
        "HTTP/1.1 200 OK\r\nX-Request-Id: abc\r\nTransfer-Encoding: chunked", "\r\n\r\n5\r\nhel",
        "lo\r\n6;ext=1\r\n world\r\n0\r\n", "Trailer-Field: x\r\n\r\n"};
    for (const auto& p : parts) {
      (void)::send(fd, p.data(), p.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(2ms);  // separate segments, so the client reads in pieces
    }
  });
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  auto r = sendAndWait(*transport, chatRequest(server.baseUrl(), "x"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(200, r->status);
  EXPECT_EQ("hello world", r->body);
  EXPECT_EQ("abc", r->header("x-request-id"));
}

// Out of descriptors, socket() fails locally: that says nothing about the provider. It must come
// back as a local overload naming the limit, not as ConnectFailed (which the pool counts against
// the provider's breaker and fails over on).
TEST_P(TransportTest, OutOfDescriptorsIsALocalOverloadNotAConnectFailure) {
  MockProvider mock;
  auto transport = makeTransport();
  ASSERT_TRUE(transport);
  Result<HttpResponse> r;
  {
    llmpool::testing::DescriptorExhaustion exhausted;
    ASSERT_TRUE(exhausted.exhausted());
    r = sendAndWait(*transport, chatRequest(mock.baseUrl(), "no descriptors"));
  }
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, r.error().code) << r.error().describe();
  EXPECT_NE(std::string::npos, r.error().message.find("open-file limit")) << r.error().message;
  EXPECT_EQ(1u, transport->stats().local_resource_failures);
  EXPECT_EQ(0, mockStats(mock)["requests_total"].get<int>());  // nothing reached the provider
  // With descriptors back, the same transport connects as usual.
  auto ok = sendAndWait(*transport, chatRequest(mock.baseUrl(), "descriptors back"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(200, ok->status);
  EXPECT_EQ(1u, transport->stats().local_resource_failures);
}

}  // namespace
}  // namespace llmpool::http
