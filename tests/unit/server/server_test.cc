// The shared server over real loopback sockets: keep-alive, answers from other threads,
// streaming, disconnect detection, limits, timeouts and graceful stop.

#include "server/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "raw_client.h"
#include "subprocess.h"

namespace llmpool::server {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

using llmpool::testing::RawClient;

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

std::unique_ptr<Server> startServer(Handler handler, ServerOptions options = {}) {
  auto server = Server::create(std::move(options), std::move(handler));
  EXPECT_TRUE(server.has_value()) << server.error().describe();
  (*server)->start();
  return std::move(*server);
}

TEST(ServerTest, AnswersAndReusesKeepAliveConnection) {
  auto server = startServer([](Request&& req, ResponseWriter w) {
    w.send(Status::ok, "path=" + std::string(req.target()), "text/plain");
  });
  ASSERT_GT(server->port(), 0);
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    client.send(get("/p" + std::to_string(i)));
    std::string response = client.readUntil("path=/p" + std::to_string(i));
    EXPECT_NE(response.find("HTTP/1.1 200 OK"), std::string::npos);
    EXPECT_NE(response.find("Content-Length: 8"), std::string::npos);
  }
  EXPECT_EQ(server->stats().connections_accepted, 1u);
  EXPECT_EQ(server->stats().connections_open, 1u);
}

TEST(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = startServer([](Request&& req, ResponseWriter w) {
    w.send(Status::ok, std::string(req.target()), "text/plain");
  });
  RawClient client(server->port());
  client.send(get("/a") + get("/b"));
  std::string both = client.readUntil("/b");
  auto a = both.find("\r\n\r\n/a");
  auto b = both.find("\r\n\r\n/b");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
}

// A request's first bytes are read into a small buffer of the connection's own (2 KiB) and the
// rest through the read buffer: whatever the split, the handler sees every request whole, once,
// in order.
TEST(ServerTest, RequestsOfAnySizeAndSplitAreReadWhole) {
  auto server = startServer([](Request&& req, ResponseWriter w) {
    const std::string& body = req.body();
    w.send(Status::ok,
           std::string(req.target()) + " " + std::to_string(body.size()) + " " +
               std::to_string(std::hash<std::string>{}(body)) + ";",
           "text/plain");
  });
  auto post = [](const std::string& path, const std::string& body) {
    return "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
  };
  auto bodyOf = [](std::size_t n) {
    std::string b(n, ' ');
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
    return b;
  };
  auto expected = [&](const std::string& path, std::size_t n) {
    const std::string body = bodyOf(n);
    return path + " " + std::to_string(n) + " " + std::to_string(std::hash<std::string>{}(body)) +
           ";";
  };
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  // One segment each, around the 2 KiB boundary (the head is ~60 bytes) and well past it.
  for (std::size_t n : {0u, 1u, 1980u, 1990u, 2048u, 2049u, 5000u, 70000u}) {
    const std::string path = "/s" + std::to_string(n);
    client.send(post(path, bodyOf(n)));
    EXPECT_NE(client.readUntil(expected(path, n)).find(expected(path, n)), std::string::npos)
        << "body of " << n << " bytes";
  }
  // A head split in two writes, then its body.
  const std::string split = post("/split", bodyOf(3000));
  client.send(split.substr(0, 20));
  std::this_thread::sleep_for(5ms);  // separate segments, not a timing assertion
  client.send(split.substr(20, 40));
  std::this_thread::sleep_for(5ms);
  client.send(split.substr(60));
  EXPECT_NE(client.readUntil(expected("/split", 3000)).find(expected("/split", 3000)),
            std::string::npos);
  // Pipelined: the second request starts inside the first read and ends past it; the third is
  // whole in what follows.
  client.send(post("/p1", bodyOf(1000)) + post("/p2", bodyOf(4000)) + post("/p3", bodyOf(10)));
  const std::string all = client.readUntil(expected("/p3", 10));
  const auto p1 = all.find(expected("/p1", 1000));
  const auto p2 = all.find(expected("/p2", 4000));
  const auto p3 = all.find(expected("/p3", 10));
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_EQ(server->stats().connections_accepted, 1u);
}

TEST(ServerTest, AnswerFromAnotherThreadLater) {
  std::vector<std::thread> producers;
  std::mutex mu;
  auto server = startServer([&](Request&&, ResponseWriter w) {
    std::lock_guard lock(mu);
    producers.emplace_back([w]() mutable {
      std::this_thread::sleep_for(20ms);  // the "upstream" takes a while
      w.send(Status::created, "late", "text/plain");
    });
  });
  auto [status, body] = testing::httpRequest(server->port(), "GET", "/");
  EXPECT_EQ(status, 201);
  EXPECT_EQ(body, "late");
  server->stop(1s);
  for (auto& t : producers) t.join();
}

TEST(ServerTest, StreamsChunksFromAnotherThread) {
  std::vector<std::thread> producers;  // handler runs on the single I/O thread
  auto server = startServer([&](Request&&, ResponseWriter w) {
    producers.emplace_back([w]() mutable {
      ResponseHead head;
      head.result(Status::ok);
      head.set(http::field::content_type, "text/event-stream");
      w.startStream(std::move(head));
      for (int i = 0; i < 3; ++i) w.writeChunk("data: " + std::to_string(i) + "\n\n");
      w.finish();
    });
  });
  RawClient client(server->port());
  client.send(get("/stream"));
  std::string response = client.readUntil("0\r\n\r\n");
  EXPECT_NE(response.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(response.find("9\r\ndata: 0\n\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"),
            std::string::npos)
      << response;
  // The connection stays usable after a finished stream.
  client.send(get("/again"));
  EXPECT_NE(client.readUntil("data: 2").find("HTTP/1.1 200"), std::string::npos);
  server->stop(1s);
  for (auto& t : producers) t.join();
}

// A client that stops reading a stream is dropped once max_buffered_bytes are waiting for it,
// and the producer hears of it, instead of the server buffering the rest of the stream. The
// producer writes on the I/O thread holding the lock its disconnect callback takes, as the
// gateway does: the drop must not call back into it from inside writeChunk.
struct TickingProducer : std::enable_shared_from_this<TickingProducer> {
  TickingProducer(ResponseWriter w) : writer(std::move(w)), timer(writer.executor()) {}
  void tick() {
    {
      std::lock_guard lock(mu);
      if (ticks == 0) {
        ResponseHead head;
        head.result(Status::ok);
        writer.startStream(std::move(head));
      }
      // Bounded: 64 MiB at most, far past what the socket buffers and the limit hold.
      if (disconnected || ++ticks > 1024) return writer.finish();
      writer.writeChunk(std::string(64u << 10, 'x'));
    }
    timer.expires_after(1ms);
    timer.async_wait([self = shared_from_this()](boost::system::error_code) { self->tick(); });
  }
  ResponseWriter writer;
  boost::asio::steady_timer timer;
  std::mutex mu;
  int ticks = 0;              // guarded by mu
  bool disconnected = false;  // guarded by mu
};

TEST(ServerTest, StreamNobodyReadsIsCutAtMaxBufferedBytes) {
  ServerOptions options;
  options.max_buffered_bytes = 1u << 20;
  std::promise<std::shared_ptr<TickingProducer>> started;
  std::atomic<int> fired{0};
  auto server = startServer(
      [&](Request&&, ResponseWriter w) {
        auto producer = std::make_shared<TickingProducer>(w);
        w.onDisconnect([&fired, weak = std::weak_ptr<TickingProducer>(producer)] {
          if (auto p = weak.lock()) {
            std::lock_guard lock(p->mu);
            p->disconnected = true;
          }
          fired.fetch_add(1);
        });
        producer->tick();
        started.set_value(producer);
      },
      options);
  RawClient client(server->port());
  client.send(get("/stream"));  // and never reads
  auto producer = started.get_future().get();
  for (int i = 0; i < 2500 && fired.load() == 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(fired.load(), 1);
  {
    std::lock_guard lock(producer->mu);
    EXPECT_LT(producer->ticks, 1024);
  }
  server->stop(1s);
}

TEST(ServerTest, ClientDisconnectFiresCallbackAndMarksWriterGone) {
  std::promise<ResponseWriter> held;
  std::atomic<int> fired{0};
  auto server = startServer([&](Request&&, ResponseWriter w) {
    w.onDisconnect([&] { fired.fetch_add(1); });
    held.set_value(w);  // never answers
  });
  auto future = held.get_future();
  {
    RawClient client(server->port());
    client.send(get("/hang"));
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  }  // client closes
  ResponseWriter writer = future.get();
  for (int i = 0; i < 500 && !writer.clientGone(); ++i) std::this_thread::sleep_for(2ms);
  EXPECT_TRUE(writer.clientGone());
  for (int i = 0; i < 500 && fired.load() == 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(fired.load(), 1);
  writer.send(Status::ok, "too late", "text/plain");  // harmless no-op
  EXPECT_EQ(server->stats().connections_open, 0u);
}

TEST(ServerTest, DroppedWriterGivesFiveHundred) {
  auto server = startServer([](Request&&, ResponseWriter) {});
  auto [status, body] = testing::httpRequest(server->port(), "GET", "/");
  EXPECT_EQ(status, 500);
}

TEST(ServerTest, AbortResetsConnection) {
  auto server = startServer([](Request&&, ResponseWriter w) { w.abort(); });
  auto [status, body] = testing::httpRequest(server->port(), "GET", "/");
  EXPECT_EQ(status, 0);
}

TEST(ServerTest, OversizedBodyAndHeaderAreRefused) {
  ServerOptions options;
  options.max_body_bytes = 100;
  options.max_header_bytes = 512;
  auto server =
      startServer([](Request&&, ResponseWriter w) { w.send(Status::ok, "", "x"); }, options);
  EXPECT_EQ(testing::httpRequest(server->port(), "POST", "/", std::string(101, 'x')).first, 413);
  EXPECT_EQ(testing::httpRequest(server->port(), "POST", "/", std::string(100, 'x')).first, 200);
  EXPECT_EQ(
      testing::httpRequest(server->port(), "GET", "/", "", {"X-Big: " + std::string(600, 'h')})
          .first,
      431);
}

TEST(ServerTest, SlowClientIsClosedAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout = 100ms;
  auto server =
      startServer([](Request&&, ResponseWriter w) { w.send(Status::ok, "", "x"); }, options);
  RawClient client(server->port());
  client.send("GET / HTTP/1.1\r\nHost:");  // and never finishes
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server->stats().connections_open, 0u);
}

TEST(ServerTest, MaxConnectionsRejectsExcess) {
  ServerOptions options;
  options.max_connections = 1;
  auto server =
      startServer([](Request&&, ResponseWriter w) { w.send(Status::ok, "", "x"); }, options);
  RawClient first(server->port());
  first.send(get("/"));
  first.readUntil("\r\n\r\n");  // the first connection is surely open now
  RawClient second(server->port());
  EXPECT_TRUE(second.closedByPeer());
  EXPECT_EQ(server->stats().connections_rejected, 1u);
}

TEST(ServerTest, StopLetsInFlightFinishWithinGrace) {
  auto server = startServer([](Request&&, ResponseWriter w) {
    auto timer = std::make_shared<boost::asio::steady_timer>(w.executor(), 100ms);
    timer->async_wait([timer, w](boost::system::error_code) mutable {
      w.send(Status::ok, "finished", "text/plain");
    });
  });
  RawClient idle(server->port());
  auto result = std::async(std::launch::async,
                           [&] { return testing::httpRequest(server->port(), "GET", "/"); });
  std::this_thread::sleep_for(30ms);  // let the request arrive before stopping
  server->stop(2s);
  auto [status, body] = result.get();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "finished");
  EXPECT_TRUE(idle.closedByPeer());
  EXPECT_EQ(server->stats().connections_open, 0u);
}

TEST(ServerTest, BindFailureIsAnError) {
  auto first = startServer([](Request&&, ResponseWriter) {});
  ServerOptions options;
  options.port = first->port();
  auto second = Server::create(options, [](Request&&, ResponseWriter) {});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::ConnectFailed);
  options.host = "not an address";
  EXPECT_EQ(Server::create(options, {}).error().code, ErrorCode::InvalidConfig);
}

}  // namespace
}  // namespace llmpool::server
