// Responses sent from a thread other than the connection's I/O thread go straight to the socket
// ("direct responses", connection.cc): they must arrive while the I/O thread is busy, keep the
// connection usable, keep pipelined answers in order, survive a short write, and not count as a
// disconnect when the client closes afterwards.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "raw_client.h"
#include "server/server.h"

namespace llmpool::server {
namespace {

using namespace std::chrono_literals;

using Client = llmpool::testing::RawClient;

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

std::unique_ptr<Server> startServer(Handler handler) {
  auto server = Server::create(ServerOptions{}, std::move(handler));
  EXPECT_TRUE(server.has_value()) << server.error().describe();
  (*server)->start();
  return std::move(*server);
}

// Hands each request's writer to the test thread, which answers it from there.
struct WriterQueue {
  std::mutex mu;
  std::vector<std::promise<ResponseWriter>> slots{8};
  std::size_t next = 0;
  Handler handler() {
    return [this](Request&&, ResponseWriter w) {
      std::lock_guard lock(mu);
      slots.at(next++).set_value(std::move(w));
    };
  }
  ResponseWriter take(std::size_t i) {
    auto f = slots.at(i).get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }
};

TEST(DirectResponseTest, ArrivesWhileTheIoThreadIsBusyAndKeepsTheConnection) {
  WriterQueue writers;
  auto server = startServer(writers.handler());
  Client client(server->port());
  ASSERT_TRUE(client.connected());

  client.send(get("/one"));
  ResponseWriter w = writers.take(0);
  // Occupy the connection's (only) I/O thread: a response posted to it could not go out now.
  std::promise<void> blocked;
  std::promise<void> release;
  boost::asio::post(w.executor(), [&] {
    blocked.set_value();
    release.get_future().wait();
  });
  blocked.get_future().wait();
  w.send(Status::ok, "first", "text/plain");
  const std::string first = client.readUntil("first");
  release.set_value();
  EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos) << first;
  EXPECT_NE(first.find("Content-Length: 5"), std::string::npos) << first;
  EXPECT_EQ(first.find("Connection: close"), std::string::npos) << first;

  // The same connection serves the next request (the I/O thread took note of the answer).
  client.send(get("/two"));
  writers.take(1).send(Status::created, "second", "text/plain");
  const std::string second = client.readUntil("second");
  EXPECT_NE(second.find("HTTP/1.1 201 Created"), std::string::npos) << second;
  EXPECT_EQ(server->stats().connections_accepted, 1u);
  EXPECT_EQ(server->stats().connections_open, 1u);
}

TEST(DirectResponseTest, PipelinedAnswersFromAnotherThreadStayInOrder) {
  WriterQueue writers;
  auto server = startServer(writers.handler());
  Client client(server->port());
  client.send(get("/a") + get("/b") + get("/c"));
  writers.take(0).send(Status::ok, "body-a", "text/plain");
  writers.take(1).send(Status::ok, "body-b", "text/plain");
  writers.take(2).send(Status::ok, "body-c", "text/plain");
  const std::string all = client.readUntil("body-c");
  const auto a = all.find("body-a");
  const auto b = all.find("body-b");
  ASSERT_NE(a, std::string::npos) << all;
  ASSERT_NE(b, std::string::npos) << all;
  EXPECT_LT(a, b);
}

TEST(DirectResponseTest, ShortWriteHandsTheRestToTheIoThread) {
  WriterQueue writers;
  auto server = startServer(writers.handler());
  Client client(server->port());
  client.send(get("/big"));
  // Far more than the socket buffers hold while the client is not reading yet.
  std::string body(32u << 20, 'x');
  body.back() = 'E';
  writers.take(0).send(Status::ok, body, "application/octet-stream");
  const std::string head = client.readUntil("\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 33554432"), std::string::npos) << head;
  const std::string got = client.readBytes(body.size());
  ASSERT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);
  // Still usable afterwards.
  client.send(get("/after"));
  writers.take(1).send(Status::ok, "after", "text/plain");
  EXPECT_NE(client.readUntil("after").find("200 OK"), std::string::npos);
}

TEST(DirectResponseTest, ClientClosingAfterTheAnswerIsNotADisconnect) {
  std::atomic<int> fired{0};
  std::promise<ResponseWriter> handed;
  auto server = startServer([&](Request&&, ResponseWriter w) {
    w.onDisconnect([&] { fired.fetch_add(1); });
    handed.set_value(std::move(w));
  });
  {
    Client client(server->port());
    client.send(get("/x"));
    auto f = handed.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    ResponseWriter w = f.get();
    w.send(Status::ok, "done", "text/plain");
    EXPECT_NE(client.readUntil("done").find("200 OK"), std::string::npos);
  }                  // the client closes
  server->stop(1s);  // every connection is closed and its events processed
  EXPECT_EQ(fired.load(), 0);
}

}  // namespace
}  // namespace llmpool::server
