// `llmpool serve` as a process in front of `llmpool mock` processes, all on 127.0.0.1: metrics
// that promtool accepts, failover, cancellation on client disconnect, SIGHUP reload, graceful
// SIGTERM, the no-keys loopback rule, and slow clients. Every wait is bounded.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "subprocess.h"

namespace llmpool::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: we need response headers, and sockets we can close mid-stream.

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads from `fd` until `until(text)` holds, EOF, or the deadline. Returns false on timeout.
bool readUntil(int fd, std::string& text, std::chrono::milliseconds timeout,
               const std::function<bool(const std::string&)>& until) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  while (!until(text)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return until(text);  // closed
    text.append(buf, static_cast<size_t>(n));
  }
  return true;
}

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // raw (chunk framing kept)
};

Reply parseReply(const std::string& text) {
  Reply r;
  const auto end = text.find("\r\n\r\n");
  if (end == std::string::npos || text.size() < 12) return r;
  r.status = std::atoi(text.substr(9, 3).c_str());
  size_t pos = text.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = text.find("\r\n", pos);
    const std::string line = text.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = eol + 2;
  }
  r.body = text.substr(end + 4);
  return r;
}

std::string buildRequest(const std::string& method, const std::string& path,
                         const std::string& body, const std::vector<std::string>& headers) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return req + "\r\n" + body;
}

Reply request(int port, const std::string& method, const std::string& path,
              const std::string& body = "", const std::vector<std::string>& headers = {},
              std::chrono::milliseconds timeout = 10s) {
  int fd = connectTo(port);
  if (fd < 0) return {};
  const std::string req = buildRequest(method, path, body, headers);
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string text;
  readUntil(fd, text, timeout, [](const std::string&) { return false; });
  close(fd);
  return parseReply(text);
}

std::string chatBody(const std::string& model, const std::string& prompt, bool stream = false) {
  Json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", prompt}}}}};
  if (stream) body["stream"] = true;
  return body.dump();
}

// ---------------------------------------------------------------------------------------------
// Fixture pieces

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/llmpool-gw-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string providersYaml(const std::vector<std::pair<std::string, int>>& mocks) {
  std::string y = "providers:\n";
  for (const auto& [name, port] : mocks) {
    y += "  - {name: " + name +
         ", kind: openai, base_url: \"http://127.0.0.1:" + std::to_string(port) + "/v1\"}\n";
  }
  return y;
}

// The usual config: one mock as provider "m" behind the alias "chat".
std::string oneMockConfig(int port, const std::string& gateway_fields = "log_level: \"off\"") {
  return "pool: {health_checks: false}\n" + providersYaml({{"m", port}}) +
         "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
         "gateway: {listen: \"127.0.0.1:0\", " +
         gateway_fields + "}\n";
}

struct Gateway {
  Gateway(const std::string& config, const std::string& stderr_path,
          std::vector<std::string> extra = {})
      : process(makeArgv(config, std::move(extra)), stderr_path) {
    if (auto line = process.readLine(15s)) port = std::atoi(line->c_str());
  }
  static std::vector<std::string> makeArgv(const std::string& config,
                                           std::vector<std::string> extra) {
    std::vector<std::string> argv = {llmpoolBinary(), "serve", "--config", config};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  Subprocess process;
  int port = 0;
};

// A gateway over one mock with the usual config (oneMockConfig), its files in a temp dir; the
// config file stays, for a reload to rewrite.
struct OneMockGateway {
  explicit OneMockGateway(int mock_port) : OneMockGateway(oneMockConfig(mock_port)) {}
  explicit OneMockGateway(const std::string& config_text)
      : config(writtenFile(dir, "c.yaml", config_text)), gw(config, dir.file("gw.log")) {}
  static std::string writtenFile(const TempDir& d, const std::string& name,
                                 const std::string& text) {
    writeFile(d.file(name), text);
    return d.file(name);
  }
  TempDir dir;
  std::string config;
  Gateway gw;
};

Json mockStats(const MockProvider& mock) { return Json::parse(mock.statsJson()); }

// Polls `pred` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---------------------------------------------------------------------------------------------

TEST(GatewayTest, MetricsAfterTrafficPassPromtool) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, oneMockConfig(mock.port(), "keys: [sk-1], log_level: \"off\""));
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  const std::vector<std::string> auth = {"Authorization: Bearer sk-1"};
  EXPECT_EQ(200,
            request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "hi"), auth).status);
  Reply streamed =
      request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "a b c", true), auth);
  EXPECT_EQ(200, streamed.status);
  EXPECT_NE(std::string::npos, streamed.body.find("data: [DONE]"));
  EXPECT_EQ(404,
            request(gw.port, "POST", "/v1/chat/completions", chatBody("nope", "x"), auth).status);
  EXPECT_EQ(401, request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x")).status);
  EXPECT_EQ(200, request(gw.port, "GET", "/healthz").status);
  EXPECT_EQ(200, request(gw.port, "GET", "/readyz").status);

  Reply scrape = request(gw.port, "GET", "/metrics");
  ASSERT_EQ(200, scrape.status);
  EXPECT_EQ("text/plain; version=0.0.4; charset=utf-8", scrape.headers["content-type"]);
  // Chunk framing is absent: /metrics is a complete (Content-Length) response.
  EXPECT_NE(std::string::npos, scrape.body.find("llmpool_requests_total"));
  EXPECT_NE(std::string::npos,
            scrape.body.find(
                "llmpool_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2"));
  EXPECT_NE(std::string::npos,
            scrape.body.find("llmpool_gateway_auth_failures_total{reason=\"missing_key\"} 1"));
  const std::string file = dir.file("scrape.txt");
  writeFile(file, scrape.body);
  const std::string out = dir.file("promtool.txt");
  const int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  EXPECT_EQ(0, rc) << readText(out);
  EXPECT_EQ("", readText(out));  // not even lint warnings
}

// Counts the process's threads by name (/proc/PID/task/*/comm).
std::map<std::string, int> threadNames(pid_t pid) {
  std::map<std::string, int> names;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name = readText((task.path() / "comm").string());
    while (!name.empty() && name.back() == '\n') name.pop_back();
    ++names[name];
  }
  return names;
}

// Automatic settings: one server thread per core (at most 8), and the pool's transport loops run
// on them (thread-per-core) instead of threads of their own; an explicit pool.io_threads gives
// the loops their own threads again. Traffic goes through both, before and after a reload.
TEST(GatewayTest, AutomaticSettingsRunTheTransportOnTheServerThreads) {
  MockProvider mock;
  TempDir dir;
  const int cores =
      static_cast<int>(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
  for (const int io_threads : {0, 2}) {
    SCOPED_TRACE("io_threads " + std::to_string(io_threads));
    const std::string config = dir.file("c" + std::to_string(io_threads) + ".yaml");
    writeFile(config, "pool: {health_checks: false, io_threads: " + std::to_string(io_threads) +
                          "}\n" + providersYaml({{"m", mock.port()}}) +
                          "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                          "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n");
    Gateway gw(config, dir.file("gw" + std::to_string(io_threads) + ".log"));
    ASSERT_GT(gw.port, 0);
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(200,
                  request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "hi")).status);
      }
      // After a reload the old pool's loops go once it is retired: wait for that.
      std::map<std::string, int> names;
      EXPECT_TRUE(eventually([&] {
        names = threadNames(gw.process.pid());
        return names["llmpool-http"] == cores && names["llmpool-io"] == io_threads;
      })) << "llmpool-http "
          << names["llmpool-http"] << ", llmpool-io " << names["llmpool-io"];
      if (round == 0) {
        gw.process.signal(SIGHUP);  // a new pool, hosted the same way
        ASSERT_TRUE(eventually([&] {
          return request(gw.port, "GET", "/metrics")
                     .body.find("llmpool_gateway_config_reloads_total{result=\"success\"} 1") !=
                 std::string::npos;
        }));
      }
    }
  }
}

TEST(GatewayTest, FailoverWhenOneMockIsDown) {
  int dead_port = 0;
  {
    MockProvider doomed;
    dead_port = doomed.port();
  }  // stopped: its port now refuses connections
  MockProvider live;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, "pool: {health_checks: false}\n" +
                        providersYaml({{"down", dead_port}, {"up", live.port()}}) +
                        "models:\n  chat:\n"
                        "    - {provider: down, model: mock-model, priority: 0}\n"
                        "    - {provider: up, model: mock-model, priority: 1}\n"
                        "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  int ok = 0;
  bool saw_failover_trail = false;
  for (int i = 0; i < 10; ++i) {
    Reply r = request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x"));
    if (r.status == 200) ++ok;
    EXPECT_EQ("up/mock-model", r.headers["x-llmpool-deployment"]);
    if (r.headers["x-llmpool-attempts"] == "2") {
      saw_failover_trail = true;
      EXPECT_NE(std::string::npos, r.headers["x-llmpool-trail"].find("down/mock-model="));
    }
  }
  EXPECT_EQ(10, ok);
  EXPECT_TRUE(saw_failover_trail);
}

TEST(GatewayTest, ClientDisconnectMidStreamCancelsUpstream) {
  MockProvider mock({"--tokens-per-second", "5"});  // a 60-word reply takes ~12 s
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                        "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                        "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  std::string prompt;
  for (int i = 0; i < 60; ++i) prompt += "word ";
  int fd = connectTo(gw.port);
  ASSERT_GE(fd, 0);
  const std::string req =
      buildRequest("POST", "/v1/chat/completions", chatBody("chat", prompt, true), {});
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string text;
  // Two content chunks arrive: the stream is flowing through the gateway.
  ASSERT_TRUE(readUntil(fd, text, 10s, [](const std::string& t) {
    size_t n = 0;
    for (size_t p = t.find("data: "); p != std::string::npos; p = t.find("data: ", p + 1)) ++n;
    return n >= 3;
  }));
  EXPECT_EQ(1, mockStats(mock)["in_flight"].get<int>());
  const int open_during = mockStats(mock)["connections_open"].get<int>();
  close(fd);
  // The mock sees its connection closed long before the reply would have finished.
  EXPECT_TRUE(eventually([&] {
    const Json s = mockStats(mock);
    return s["in_flight"].get<int>() == 0 && s["connections_open"].get<int>() < open_during;
  }));
  EXPECT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/metrics")
               .body.find("llmpool_gateway_client_disconnects_total 1") != std::string::npos;
  }));
}

TEST(GatewayTest, SighupReloadAppliesValidConfigAndRejectsInvalid) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  const std::string head = "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}});
  const std::string tail = "gateway: {listen: \"127.0.0.1:0\", log_level: \"info\"}\n";
  writeFile(config, head + "models:\n  chat:\n    - {provider: m, model: mock-model}\n" + tail);
  const std::string log = dir.file("gw.log");
  Gateway gw(config, log);
  ASSERT_GT(gw.port, 0);
  EXPECT_EQ(404, request(gw.port, "POST", "/v1/chat/completions", chatBody("chat2", "x")).status);

  writeFile(config, head +
                        "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                        "  chat2:\n    - {provider: m, model: other-model}\n" +
                        tail);
  gw.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/v1/models").body.find("\"chat2\"") != std::string::npos;
  }));
  Reply r = request(gw.port, "POST", "/v1/chat/completions", chatBody("chat2", "x"));
  EXPECT_EQ(200, r.status);
  EXPECT_EQ("m/other-model", r.headers["x-llmpool-deployment"]);
  EXPECT_TRUE(
      eventually([&] { return readText(log).find("alias added: chat2") != std::string::npos; }));

  // An invalid file: refused with the reason, the running config stays.
  writeFile(config, head + "models:\n  chat:\n    - {provider: nosuch, model: x}\n" + tail);
  gw.process.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/metrics")
               .body.find("llmpool_gateway_config_reloads_total{result=\"failure\"} 1") !=
           std::string::npos;
  }));
  EXPECT_EQ(200, request(gw.port, "POST", "/v1/chat/completions", chatBody("chat2", "x")).status);
  const std::string text = readText(log);
  EXPECT_NE(std::string::npos, text.find("config reload refused"));
  EXPECT_NE(std::string::npos, text.find("nosuch"));
}

// Without pool limits in the file, the gateway does not hold clients to the library's defaults
// (10 requests in flight, 5 connections per provider): all 24 reach the provider at once, and
// still do after a reload.
TEST(GatewayTest, DefaultLimitsLetConcurrentClientsThroughToTheProvider) {
  MockProvider first({"--latency", "600ms"});
  MockProvider second({"--latency", "600ms"});
  OneMockGateway g(first.port());
  Gateway& gw = g.gw;
  ASSERT_GT(gw.port, 0);
  constexpr int kClients = 24;
  auto burst = [&] {
    std::vector<std::future<Reply>> pending;
    for (int i = 0; i < kClients; ++i) {
      pending.push_back(std::async(std::launch::async, [&gw] {
        return request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "together"));
      }));
    }
    for (auto& p : pending) EXPECT_EQ(200, p.get().status);
  };
  burst();
  EXPECT_EQ(kClients, mockStats(first)["in_flight_max"].get<int>());

  writeFile(g.config, oneMockConfig(second.port()));
  gw.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/metrics")
               .body.find("llmpool_gateway_config_reloads_total{result=\"success\"} 1") !=
           std::string::npos;
  }));
  burst();
  EXPECT_EQ(kClients, mockStats(second)["in_flight_max"].get<int>());
}

// A body nested 300,000 deep (600 KB, under the body limit) is refused with 400. It once
// overflowed a server thread's stack and took the whole gateway down.
TEST(GatewayTest, DeeplyNestedBodyIsRefusedAndTheGatewayKeepsServing) {
  MockProvider mock;
  OneMockGateway g(mock.port());
  const Gateway& gw = g.gw;
  ASSERT_GT(gw.port, 0);
  const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  const Reply r = request(
      gw.port, "POST", "/v1/chat/completions",
      R"({"model":"chat","extra":)" + deep + R"(,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(400, r.status);
  EXPECT_NE(std::string::npos, r.body.find("nested deeper than")) << r.body;
  EXPECT_EQ(200, request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x")).status);
}

// A provider reply of a few MiB takes many reads on the gateway's upstream connection, across
// passes of the transport loop hosted on a server thread: each pass takes one batch of events and
// leaves the rest to the host's readiness wait, so none may be lost between passes.
TEST(GatewayTest, ProviderReplyOfManyReadsArrivesWhole) {
  MockProvider mock({"--embedding-dim", "65536"});
  OneMockGateway g(mock.port());
  const Gateway& gw = g.gw;
  ASSERT_GT(gw.port, 0);
  for (int i = 0; i < 2; ++i) {
    const Reply r =
        request(gw.port, "POST", "/v1/embeddings", R"({"model":"chat","input":["a","b"]})");
    ASSERT_EQ(200, r.status) << r.body.substr(0, 300);
    EXPECT_GT(r.body.size(), 2'000'000u);  // ~45 reads of 64 KiB
    const Json j = Json::parse(r.body);
    ASSERT_EQ(2u, j["data"].size());
    for (const auto& item : j["data"]) EXPECT_EQ(65536u, item["embedding"].size());
  }
}

// A reload retires the old pool; requests it accepted, running or still waiting for a permit,
// are answered by it as usual (only new requests go to the new pool).
TEST(GatewayTest, ReloadLetsRequestsQueuedOnTheOldPoolFinish) {
  MockProvider mock({"--latency", "400ms"});
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  const std::string head =
      "pool: {health_checks: false, max_concurrent_requests: 1, max_queue: 10}\n" +
      providersYaml({{"m", mock.port()}}) + "models:\n  chat:\n    - {provider: m, model: x}\n";
  const std::string tail = "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n";
  writeFile(config, head + tail);
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  std::vector<std::future<Reply>> pending;
  for (int i = 0; i < 3; ++i) {
    pending.push_back(std::async(std::launch::async, [&gw, i] {
      return request(gw.port, "POST", "/v1/chat/completions",
                     chatBody("chat", "queued " + std::to_string(i)));
    }));
  }
  // One request runs on the mock, two wait for the pool's only permit.
  ASSERT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/metrics").body.find("\nllmpool_queue_depth 2\n") !=
           std::string::npos;
  }));
  writeFile(config, head + "  chat2:\n    - {provider: m, model: y}\n" + tail);
  gw.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return request(gw.port, "GET", "/v1/models").body.find("\"chat2\"") != std::string::npos;
  }));
  for (auto& p : pending) {
    const Reply r = p.get();
    EXPECT_EQ(200, r.status) << r.body;
    EXPECT_NE(std::string::npos, r.body.find("mock reply: queued")) << r.body;
  }
}

TEST(GatewayTest, SigtermLetsInFlightRequestFinishThenExitsZero) {
  MockProvider mock({"--latency", "1s"});
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config,
            "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                "gateway: {listen: \"127.0.0.1:0\", shutdown_grace: 10s, log_level: \"off\"}\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  auto pending = std::async(std::launch::async, [&] {
    return request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "slow"));
  });
  ASSERT_TRUE(eventually([&] { return mockStats(mock)["in_flight"].get<int>() == 1; }));
  gw.process.signal(SIGTERM);
  Reply r = pending.get();
  EXPECT_EQ(200, r.status);
  EXPECT_NE(std::string::npos, r.body.find("mock reply: slow"));
  EXPECT_EQ(0, gw.process.wait(15s).value_or(-1));
}

TEST(GatewayTest, WithoutKeysRefusesNonLoopbackUnlessAllowed) {
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, providersYaml({{"m", 1}}) +
                        "models:\n  chat:\n    - {provider: m, model: x}\n"
                        "gateway: {listen: \"0.0.0.0:0\"}\n");
  Subprocess refused({llmpoolBinary(), "serve", "--config", config}, dir.file("e.log"));
  EXPECT_EQ(2, refused.wait(10s).value_or(-1));
  EXPECT_NE(std::string::npos, readText(dir.file("e.log")).find("loopback"));
}

TEST(GatewayTest, SlowClientsCannotHoldConnectionSlots) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                        "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                        "gateway: {listen: \"127.0.0.1:0\", max_connections: 4, "
                        "read_timeout: 500ms, log_level: \"off\"}\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  // Four clients that send half a request head and then nothing (slowloris).
  std::vector<int> slow;
  for (int i = 0; i < 4; ++i) {
    int fd = connectTo(gw.port);
    ASSERT_GE(fd, 0);
    const std::string partial = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n";
    send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  // The read timeout closes them; then the gateway serves again.
  for (int fd : slow) {
    std::string text;
    readUntil(fd, text, 5s, [](const std::string&) { return false; });
    close(fd);
  }
  EXPECT_TRUE(eventually([&] {
    return request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x")).status == 200;
  }));
}

TEST(GatewayTest, AReplyInTheClientsDialectArrivesWithWhatTheCodecDoesNotModel) {
  // logprobs are not a ChatResponse field: only the provider's own body carries them through.
  MockProvider mock;
  OneMockGateway g(mock.port());
  ASSERT_GT(g.gw.port, 0);
  Json ask = Json::parse(chatBody("chat", "one two"));
  ask["logprobs"] = true;
  Reply r = request(g.gw.port, "POST", "/v1/chat/completions", ask.dump());
  ASSERT_EQ(200, r.status) << r.body;
  const Json body = Json::parse(r.body);
  const Json& choice = body["choices"][0];
  EXPECT_EQ("mock reply: one two", choice["message"]["content"]);
  ASSERT_TRUE(choice["logprobs"].is_object()) << r.body;
  std::string tokens;
  for (const Json& entry : choice["logprobs"]["content"]) tokens += entry["token"];
  EXPECT_EQ("mock reply: one two", tokens);
  EXPECT_EQ("m/mock-model", r.headers["x-llmpool-deployment"]);
  // Streamed too: every content chunk arrives with its logprobs. The client did not ask for
  // usage, so no chunk mentions it (the gateway asks the provider for usage regardless).
  ask["stream"] = true;
  Reply streamed = request(g.gw.port, "POST", "/v1/chat/completions", ask.dump());
  ASSERT_EQ(200, streamed.status) << streamed.body;
  std::string content, streamed_tokens;
  std::istringstream lines(streamed.body);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("data: {")) continue;
    const Json chunk = Json::parse(line.substr(6));
    EXPECT_FALSE(chunk.contains("usage")) << line;
    const Json& c = chunk["choices"][0];
    if (!c["delta"].contains("content") || c["delta"]["content"] == "") continue;
    content += c["delta"]["content"].get<std::string>();
    for (const Json& entry : c["logprobs"]["content"]) streamed_tokens += entry["token"];
  }
  EXPECT_EQ("mock reply: one two", content);
  EXPECT_EQ(content, streamed_tokens);
  // Across dialects the reply is translated: an Anthropic client gets a message.
  Reply translated = request(g.gw.port, "POST", "/v1/messages",
                             R"({"model":"chat","max_tokens":8,"messages":[)"
                             R"({"role":"user","content":"hey"}]})");
  ASSERT_EQ(200, translated.status) << translated.body;
  EXPECT_EQ("mock reply: hey", Json::parse(translated.body)["content"][0]["text"]);
}

// The body of a reply without its chunk framing (when it has some).
std::string unframed(const Reply& r) {
  if (r.headers.count("transfer-encoding") == 0) return r.body;
  std::string out;
  size_t pos = 0;
  while (pos < r.body.size()) {
    const size_t eol = r.body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const size_t size = std::stoul(r.body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    out += r.body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

struct SseEventText {
  std::string name;
  Json data;
};

// The events of an SSE body (comments skipped), each event's data parsed.
std::vector<SseEventText> sseEvents(const std::string& text) {
  std::vector<SseEventText> events;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    std::istringstream lines(text.substr(pos, end - pos));
    SseEventText event;
    std::string data;
    bool any = false;
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("event: ")) event.name = line.substr(7), any = true;
      if (line.starts_with("data: ")) data += line.substr(6), any = true;
    }
    if (any) {
      event.data = Json::parse(data, nullptr, false);  // discarded: [DONE]
      events.push_back(std::move(event));
    }
    pos = end + 2;
  }
  return events;
}

// A config with one Anthropic-dialect mock as provider "a" behind the alias "chat".
std::string anthropicMockConfig(int port) {
  return "pool: {health_checks: false}\nproviders:\n  - {name: a, kind: anthropic, "
         "base_url: \"http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\"}\nmodels:\n  chat:\n    - {provider: a, model: mock-model}\n"
         "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n";
}

TEST(GatewayTest, AnAnthropicStreamArrivesAsTheProviderSentIt) {
  // Thinking and signature deltas, block stops and pings have no place in a ChatChunk: only the
  // provider's own events carry them to an Anthropic client.
  MockProvider mock;
  OneMockGateway g(anthropicMockConfig(mock.port()));
  ASSERT_GT(g.gw.port, 0);
  Json ask = {{"model", "chat"},
              {"max_tokens", 64},
              {"stream", true},
              {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
              {"messages", {{{"role", "user"}, {"content", "one two"}}}}};
  Reply through = request(g.gw.port, "POST", "/v1/messages", ask.dump());
  ASSERT_EQ(200, through.status) << through.body;
  EXPECT_EQ("a/mock-model", through.headers["x-llmpool-deployment"]);
  ask["model"] = "mock-model";
  Reply direct = request(mock.port(), "POST", "/v1/messages", ask.dump(),
                         {"x-api-key: k", "anthropic-version: 2023-06-01"});
  ASSERT_EQ(200, direct.status) << direct.body;
  std::vector<SseEventText> got = sseEvents(unframed(through));
  std::vector<SseEventText> sent = sseEvents(unframed(direct));
  ASSERT_EQ(got.size(), sent.size()) << unframed(through);
  ASSERT_GT(sent.size(), 8u);
  bool thinking = false;
  for (size_t i = 0; i < sent.size(); ++i) {
    if (sent[i].name == "message_start") {  // every reply has an id of its own
      got[i].data["message"].erase("id");
      sent[i].data["message"].erase("id");
    }
    EXPECT_EQ(got[i].name, sent[i].name) << i;
    EXPECT_EQ(got[i].data, sent[i].data) << i;
    thinking = thinking || got[i].data.dump().find("signature_delta") != std::string::npos;
  }
  EXPECT_TRUE(thinking) << unframed(through);

  // An OpenAI client of the same deployment gets chunks translated from the events that make
  // one, and nothing for the others (no empty chunks for pings, block stops, thinking).
  Json openai = {{"model", "chat"},
                 {"stream", true},
                 {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                 {"messages", {{{"role", "user"}, {"content", "one two"}}}}};
  Reply translated = request(g.gw.port, "POST", "/v1/chat/completions", openai.dump());
  ASSERT_EQ(200, translated.status) << translated.body;
  std::string content;
  size_t chunks = 0;
  // Anthropic gives no creation time; the chunks all carry the one the pool gave them (not 0,
  // which a client would show as 1970).
  const int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::set<int64_t> created;
  for (const SseEventText& event : sseEvents(unframed(translated))) {
    if (!event.data.is_object()) continue;  // [DONE]
    ++chunks;
    created.insert(event.data.value("created", int64_t{0}));
    ASSERT_EQ("chat.completion.chunk", event.data["object"]);
    ASSERT_EQ(1u, event.data["choices"].size()) << event.data;
    const Json& choice = event.data["choices"][0];
    EXPECT_TRUE(choice["delta"].contains("role") || choice["delta"].contains("content") ||
                choice["delta"].contains("reasoning_content") || !choice["finish_reason"].is_null())
        << event.data;
    if (choice["delta"].contains("content")) content += choice["delta"]["content"];
  }
  EXPECT_EQ("mock reply: one two", content);
  EXPECT_GE(chunks, 6u);  // role, four words, finish
  ASSERT_EQ(1u, created.size());
  EXPECT_GE(*created.begin(), started - 5);
  EXPECT_LE(*created.begin(), started + 60);
  openai.erase("stream");
  Reply whole = request(g.gw.port, "POST", "/v1/chat/completions", openai.dump());
  ASSERT_EQ(200, whole.status) << whole.body;
  const int64_t whole_created = Json::parse(whole.body).value("created", int64_t{0});
  EXPECT_GE(whole_created, started - 5);
  EXPECT_LE(whole_created, started + 60);
}

TEST(GatewayTest, AConversationsEarlierThinkingReachesAnAnthropicProvider) {
  // With thinking on, a tool-use turn must hand the previous thinking block back (signature and
  // all); the mock's thinking says how many blocks came back. ChatRequest has no place for them:
  // only the client's own body carries them through.
  MockProvider mock;
  OneMockGateway g(anthropicMockConfig(mock.port()));
  ASSERT_GT(g.gw.port, 0);
  Json ask = Json::parse(R"({"model":"chat","max_tokens":64,
      "thinking":{"type":"enabled","budget_tokens":1024},
      "messages":[{"role":"user","content":"weather?"},
                  {"role":"assistant","content":[
                      {"type":"thinking","thinking":"look it up","signature":"c2ln"},
                      {"type":"tool_use","id":"toolu_1","name":"weather","input":{}}]},
                  {"role":"user","content":[
                      {"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]})");
  Reply r = request(g.gw.port, "POST", "/v1/messages", ask.dump(),
                    {"anthropic-beta: interleaved-thinking-2025-05-14"});
  ASSERT_EQ(200, r.status) << r.body;
  // Beta features are asked for in a header: it reaches the provider too.
  auto [log_status, log] = httpRequest(mock.port(), "GET", "/admin/requests");
  ASSERT_EQ(200, log_status);
  EXPECT_EQ("interleaved-thinking-2025-05-14",
            Json::parse(log)["requests"].back().value("anthropic_beta", ""))
      << log;
  const Json message = Json::parse(r.body);
  EXPECT_EQ("thinking", message["content"][0]["type"]) << r.body;
  EXPECT_EQ("mock thinking (earlier thinking blocks: 1)", message["content"][0]["thinking"]);
  EXPECT_FALSE(message["content"][0]["signature"].get<std::string>().empty());
  ask["stream"] = true;
  Reply streamed = request(g.gw.port, "POST", "/v1/messages", ask.dump());
  ASSERT_EQ(200, streamed.status) << streamed.body;
  std::string thinking;
  for (const SseEventText& event : sseEvents(unframed(streamed))) {
    if (event.data.contains("delta") && event.data["delta"].value("type", "") == "thinking_delta")
      thinking += event.data["delta"]["thinking"].get<std::string>();
  }
  EXPECT_EQ("mock thinking (earlier thinking blocks: 1)", thinking);
}

TEST(GatewayTest, TheProvidersRequestIdComesBackInAHeader) {
  // The serving provider's own id for the reply (the mock's x-request-id), streamed or not: what
  // its logs and support know the request by. The request's log line names it too.
  MockProvider mock;
  OneMockGateway g(oneMockConfig(mock.port(), "log_level: \"info\""));
  ASSERT_GT(g.gw.port, 0);
  Reply first = request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "a"));
  Reply second = request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "b", true));
  ASSERT_EQ(200, first.status) << first.body;
  ASSERT_EQ(200, second.status) << second.body;
  const std::string a = first.headers["x-llmpool-upstream-request-id"];
  const std::string b = second.headers["x-llmpool-upstream-request-id"];
  EXPECT_TRUE(a.starts_with("req_")) << a;
  EXPECT_TRUE(b.starts_with("req_")) << b;
  EXPECT_NE(a, b);
  // A stream the provider breaks off after its first chunk: the failure's log line still names
  // the reply it broke off.
  ASSERT_EQ(200, mock.setFaults(R"({"faults":[{"kind":"reset_mid_stream","after_chunks":1}]})"));
  Reply broken = request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "c", true));
  const std::string c = broken.headers["x-llmpool-upstream-request-id"];
  EXPECT_TRUE(c.starts_with("req_")) << c;
  const std::string log = g.dir.file("gw.log");
  EXPECT_TRUE(eventually([&] {
    const std::string text = readText(log);
    return text.find(" upstream_request_id=" + a + " ") != std::string::npos &&
           text.find(" upstream_request_id=" + b + " ") != std::string::npos &&
           text.find(" upstream_request_id=" + c + " ") != std::string::npos;
  })) << readText(log);
}

TEST(GatewayTest, AnthropicDialectEndToEnd) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  writeFile(config, "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                        "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                        "  other:\n    - {provider: m, model: mock-model}\n"
                        "gateway: {listen: \"127.0.0.1:0\", keys: [{key: sk-a, name: a, "
                        "models: [other]}, sk-b], log_level: \"off\"}\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  const std::string body =
      R"({"model":"chat","max_tokens":32,"messages":[{"role":"user","content":"hey"}]})";
  Reply ok = request(gw.port, "POST", "/v1/messages", body, {"x-api-key: sk-b"});
  ASSERT_EQ(200, ok.status);
  const Json msg = Json::parse(ok.body);
  EXPECT_EQ("message", msg["type"]);
  EXPECT_EQ("mock reply: hey", msg["content"][0]["text"]);
  // A key limited to other aliases: 403 in Anthropic's error shape.
  Reply forbidden = request(gw.port, "POST", "/v1/messages", body, {"x-api-key: sk-a"});
  EXPECT_EQ(403, forbidden.status);
  EXPECT_EQ("permission_error", Json::parse(forbidden.body)["error"]["type"]);
  Reply bad = request(gw.port, "POST", "/v1/messages", "{", {"x-api-key: sk-b"});
  EXPECT_EQ(400, bad.status);
  EXPECT_EQ("error", Json::parse(bad.body)["type"]);
}

TEST(GatewayTest, CountTokensIsAnsweredHereWithAnEstimate) {
  // Claude clients ask /v1/messages/count_tokens (with ?beta=true) before every turn; the
  // gateway answers without a provider call, with the key and model checks of /v1/messages.
  MockProvider mock;
  OneMockGateway g("pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                   "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                   "  other:\n    - {provider: m, model: mock-model}\n"
                   "gateway: {listen: \"127.0.0.1:0\", keys: [{key: sk-a, name: a, "
                   "models: [other]}, sk-b], log_level: \"off\"}\n");
  ASSERT_GT(g.gw.port, 0);
  const auto count = [&](const std::string& body, const std::string& key = "sk-b") {
    return request(g.gw.port, "POST", "/v1/messages/count_tokens?beta=true", body,
                   {"x-api-key: " + key, "anthropic-version: 2023-06-01"});
  };
  const std::string short_body =
      R"({"model":"chat","messages":[{"role":"user","content":"hello there"}]})";
  Reply shorter = count(short_body);
  ASSERT_EQ(200, shorter.status) << shorter.body;
  EXPECT_EQ("estimate", shorter.headers["x-llmpool-token-count"]);
  const int64_t few = Json::parse(shorter.body).value("input_tokens", int64_t{-1});
  EXPECT_GT(few, 0) << shorter.body;
  Reply longer = count(R"({"model":"chat","system":"You are a careful assistant.","messages":[)"
                       R"({"role":"user","content":"hello there, and a good deal more text"}]})");
  ASSERT_EQ(200, longer.status) << longer.body;
  EXPECT_GT(Json::parse(longer.body).value("input_tokens", int64_t{-1}), few) << longer.body;

  Reply unknown = count(R"({"model":"nope","messages":[]})");
  EXPECT_EQ(404, unknown.status);
  EXPECT_EQ("not_found_error", Json::parse(unknown.body)["error"].value("type", ""))
      << unknown.body;
  Reply forbidden = count(short_body, "sk-a");
  EXPECT_EQ(403, forbidden.status);
  EXPECT_EQ("permission_error", Json::parse(forbidden.body)["error"].value("type", ""));
  EXPECT_EQ(401, count(short_body, "sk-none").status);
  Reply malformed = count(R"({"model":"chat"})");
  EXPECT_EQ(400, malformed.status);
  EXPECT_EQ("error", Json::parse(malformed.body).value("type", ""));
  EXPECT_EQ(405,
            request(g.gw.port, "GET", "/v1/messages/count_tokens", "", {"x-api-key: sk-b"}).status);
  // Nothing went to the provider.
  EXPECT_EQ(0, mockStats(mock).value("requests_total", -1)) << mock.statsJson();
  const std::string metrics = request(g.gw.port, "GET", "/metrics").body;
  EXPECT_NE(std::string::npos, metrics.find(R"(route="/v1/messages/count_tokens",status="200"} 2)"))
      << metrics;
}

TEST(GatewayTest, ATranslatedStreamsMessageStartCarriesAnInputEstimate) {
  // An OpenAI-dialect provider reports usage only at the end; Claude clients read the input
  // figure from message_start, which carries the estimate count_tokens gives, and message_delta
  // the provider's count.
  MockProvider mock;
  OneMockGateway g(mock.port());
  ASSERT_GT(g.gw.port, 0);
  const std::string ask = R"({"model":"chat","max_tokens":32,"system":"be brief","messages":[)"
                          R"({"role":"user","content":"one two three"}]})";
  Json streamed = Json::parse(ask);
  streamed["stream"] = true;
  Reply r = request(g.gw.port, "POST", "/v1/messages", streamed.dump());
  ASSERT_EQ(200, r.status) << r.body;
  Reply counted = request(g.gw.port, "POST", "/v1/messages/count_tokens", ask);
  ASSERT_EQ(200, counted.status) << counted.body;
  const int64_t estimate = Json::parse(counted.body).value("input_tokens", int64_t{-1});
  std::vector<SseEventText> events = sseEvents(unframed(r));
  ASSERT_FALSE(events.empty());
  ASSERT_EQ("message_start", events.front().name);
  EXPECT_EQ(estimate, events.front().data["message"]["usage"].value("input_tokens", int64_t{-2}));
  EXPECT_GT(estimate, 0);
}

TEST(GatewayTest, TheResponsesApiIsServedThroughTheChatPath) {
  // OpenAI's Responses API, statelessly: the provider is asked for a chat completion and the
  // client gets a Response object, or the Responses stream events.
  MockProvider mock;
  OneMockGateway g(mock.port());
  ASSERT_GT(g.gw.port, 0);
  Reply whole = request(g.gw.port, "POST", "/v1/responses",
                        R"({"model":"chat","instructions":"be brief","input":"hello there"})");
  ASSERT_EQ(200, whole.status) << whole.body;
  EXPECT_EQ("m/mock-model", whole.headers["x-llmpool-deployment"]);
  const Json response = Json::parse(whole.body);
  EXPECT_EQ("response", response.value("object", ""));
  EXPECT_EQ("completed", response.value("status", ""));
  EXPECT_EQ("mock reply: hello there", response["output"][0]["content"][0].value("text", ""));
  EXPECT_EQ("be brief", response.value("instructions", ""));
  EXPECT_GT(response["usage"].value("output_tokens", 0), 0) << whole.body;
  const Json asked = mockStats(mock)["requests"];
  EXPECT_EQ(1, asked["/v1/chat/completions"].value("200", 0)) << asked.dump();

  Reply streamed = request(g.gw.port, "POST", "/v1/responses",
                           R"({"model":"chat","input":"one two","stream":true})");
  ASSERT_EQ(200, streamed.status) << streamed.body;
  EXPECT_EQ("text/event-stream", streamed.headers["content-type"]);
  std::vector<SseEventText> events = sseEvents(unframed(streamed));
  ASSERT_GE(events.size(), 8u) << unframed(streamed);
  EXPECT_EQ("response.created", events.front().name);
  EXPECT_EQ("response.completed", events.back().name);
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].name, events[i].data.value("type", "")) << i;
    EXPECT_EQ(static_cast<int64_t>(i), events[i].data.value("sequence_number", int64_t{-1})) << i;
    if (events[i].name == "response.output_text.delta") text += events[i].data.value("delta", "");
  }
  EXPECT_EQ("mock reply: one two", text);
  EXPECT_EQ("mock reply: one two",
            events.back().data["response"]["output"][0]["content"][0].value("text", ""));

  // A stream the provider breaks off after its first chunk ends in response.failed.
  ASSERT_EQ(200, mock.setFaults(R"({"faults":[{"kind":"reset_mid_stream","after_chunks":1}]})"));
  Reply broken = request(g.gw.port, "POST", "/v1/responses",
                         R"({"model":"chat","input":"one two three","stream":true})");
  ASSERT_EQ(200, broken.status) << broken.body;
  std::vector<SseEventText> cut = sseEvents(unframed(broken));
  ASSERT_FALSE(cut.empty());
  EXPECT_EQ("response.failed", cut.back().name) << unframed(broken);
  EXPECT_EQ("failed", cut.back().data["response"].value("status", ""));
  ASSERT_EQ(200, mock.setFaults(R"({"faults":[]})"));

  // What a stateless gateway cannot do is refused by name, in OpenAI's error shape.
  Reply stateful = request(g.gw.port, "POST", "/v1/responses",
                           R"({"model":"chat","input":"x","previous_response_id":"resp_1"})");
  EXPECT_EQ(400, stateful.status);
  EXPECT_EQ("previous_response_id", Json::parse(stateful.body)["error"].value("param", ""))
      << stateful.body;
  EXPECT_EQ(404,
            request(g.gw.port, "POST", "/v1/responses", R"({"model":"nope","input":"x"})").status);
  Reply stored = request(g.gw.port, "GET", "/v1/responses/resp_1");
  EXPECT_EQ(404, stored.status);
  EXPECT_NE(std::string::npos, stored.body.find("not stored by this gateway")) << stored.body;
  const std::string metrics = request(g.gw.port, "GET", "/metrics").body;
  EXPECT_NE(std::string::npos, metrics.find(R"(route="/v1/responses",status="200"} 3)")) << metrics;
  EXPECT_NE(std::string::npos,
            metrics.find(R"(llmpool_gateway_streams_total{route="/v1/responses"} 2)"))
      << metrics;
}

TEST(GatewayTest, RepeatedRequestsAreAnsweredFromTheCache) {
  MockProvider mock;
  OneMockGateway g("pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                   "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                   "gateway: {listen: \"127.0.0.1:0\", keys: [{key: sk-a, name: a}, "
                   "{key: sk-b, name: b}], log_level: \"off\", cache: {ttl: 1m}}\n");
  ASSERT_GT(g.gw.port, 0);
  const auto provider_calls = [&] { return mockStats(mock).value("requests_total", -1); };
  const auto chat = [&](const std::string& key, const std::string& prompt,
                        std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + key);
    return request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", prompt), headers);
  };
  Reply first = chat("sk-a", "hello");
  ASSERT_EQ(200, first.status) << first.body;
  EXPECT_EQ("miss", first.headers["x-llmpool-cache"]);
  Reply again = chat("sk-a", "hello");
  ASSERT_EQ(200, again.status) << again.body;
  EXPECT_EQ("hit", again.headers["x-llmpool-cache"]);
  EXPECT_EQ("0", again.headers["x-llmpool-attempts"]);
  EXPECT_EQ("m/mock-model", again.headers["x-llmpool-deployment"]);
  EXPECT_EQ(first.body, again.body);
  EXPECT_EQ(1, provider_calls());

  // Another key, another prompt, a stream: each goes to the provider.
  EXPECT_EQ("miss", chat("sk-b", "hello").headers["x-llmpool-cache"]);
  EXPECT_EQ("miss", chat("sk-a", "hello!").headers["x-llmpool-cache"]);
  Reply streamed = request(g.gw.port, "POST", "/v1/chat/completions",
                           chatBody("chat", "hello", true), {"Authorization: Bearer sk-a"});
  EXPECT_EQ(200, streamed.status);
  EXPECT_EQ(0u, streamed.headers.count("x-llmpool-cache"));
  EXPECT_EQ(4, provider_calls());
  // no-cache asks for a fresh reply (and stores it); no-store leaves the cache alone.
  EXPECT_EQ("miss", chat("sk-a", "hello", {"Cache-Control: no-cache"}).headers["x-llmpool-cache"]);
  EXPECT_EQ(0u, chat("sk-a", "new", {"Cache-Control: No-Store"}).headers.count("x-llmpool-cache"));
  EXPECT_EQ("miss", chat("sk-a", "new").headers["x-llmpool-cache"]);
  EXPECT_EQ(7, provider_calls());
  // The other dialects too.
  const std::string message =
      R"({"model":"chat","max_tokens":16,"messages":[{"role":"user","content":"hey"}]})";
  for (int i = 0; i < 2; ++i) {
    Reply m = request(g.gw.port, "POST", "/v1/messages", message, {"x-api-key: sk-a"});
    EXPECT_EQ(i == 0 ? "miss" : "hit", m.headers["x-llmpool-cache"]) << i;
    Reply r = request(g.gw.port, "POST", "/v1/responses", R"({"model":"chat","input":"hey"})",
                      {"x-api-key: sk-a"});
    EXPECT_EQ(i == 0 ? "miss" : "hit", r.headers["x-llmpool-cache"]) << i;
  }
  // Embeddings, whose replies a model gives alike every time, are the surest hits.
  for (int i = 0; i < 2; ++i) {
    Reply e = request(g.gw.port, "POST", "/v1/embeddings", R"({"model":"chat","input":["a","b"]})",
                      {"x-api-key: sk-a"});
    ASSERT_EQ(200, e.status) << e.body;
    EXPECT_EQ(i == 0 ? "miss" : "hit", e.headers["x-llmpool-cache"]) << i;
    EXPECT_EQ(2u, Json::parse(e.body)["data"].size());
  }
  EXPECT_EQ(10, provider_calls());
  const std::string metrics = request(g.gw.port, "GET", "/metrics").body;
  EXPECT_NE(std::string::npos,
            metrics.find(R"(llmpool_gateway_cache_lookups_total{result="hit"} 4)"))
      << metrics;
  EXPECT_NE(std::string::npos, metrics.find("llmpool_gateway_cache_entries 7")) << metrics;
}

TEST(GatewayTest, AKeysBudgetIsEnforcedAndOutlivesARestart) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  // $1 a prompt token: one request spends a's whole budget of $1.
  writeFile(config, "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                        "models:\n  chat:\n    - {provider: m, model: mock-model, "
                        "input_price_per_mtok: 1000000}\n"
                        "gateway:\n  listen: \"127.0.0.1:0\"\n  log_level: \"info\"\n"
                        "  state_file: " +
                        dir.file("spend.db") +
                        "\n  keys:\n"
                        "    - {key: sk-a, name: a, max_budget: 1, budget_period: month}\n"
                        "    - {key: sk-b, name: b}\n"
                        "    - {key: sk-c, name: c, max_budget: 1000000}\n");
  const auto chat = [](int port, const std::string& key) {
    return request(port, "POST", "/v1/chat/completions", chatBody("chat", "hello"),
                   {"Authorization: Bearer " + key});
  };
  {
    Gateway gw(config, dir.file("gw.log"));
    ASSERT_GT(gw.port, 0);
    Reply first = chat(gw.port, "sk-a");
    ASSERT_EQ(200, first.status) << first.body;
    ASSERT_GT(Json::parse(first.body)["usage"]["prompt_tokens"].get<int>(), 0);

    Reply refused = chat(gw.port, "sk-a");
    EXPECT_EQ(429, refused.status) << refused.body;
    const Json error = Json::parse(refused.body)["error"];
    EXPECT_EQ("insufficient_quota", error["code"]) << refused.body;
    EXPECT_NE(std::string::npos, error["message"].get<std::string>().find("budget"));
    EXPECT_EQ("false", refused.headers["x-should-retry"]);            // the SDKs must not retry it
    EXPECT_GT(std::atol(refused.headers["retry-after"].c_str()), 0);  // until the month ends
    // The Anthropic dialect is refused alike; other keys are not affected.
    Reply message =
        request(gw.port, "POST", "/v1/messages",
                R"({"model":"chat","max_tokens":8,"messages":[{"role":"user","content":"x"}]})",
                {"x-api-key: sk-a"});
    EXPECT_EQ(429, message.status) << message.body;
    EXPECT_EQ(200, chat(gw.port, "sk-b").status);
    EXPECT_EQ(2, mockStats(mock).value("requests_total", -1));

    const std::string metrics = request(gw.port, "GET", "/metrics").body;
    EXPECT_NE(std::string::npos, metrics.find(R"(llmpool_gateway_key_budget_usd{key="a"} 1)"))
        << metrics;
    EXPECT_NE(std::string::npos, metrics.find(R"(llmpool_gateway_key_spend_usd{key="a"} )"));
    EXPECT_EQ(std::string::npos, metrics.find(R"(llmpool_gateway_key_spend_usd{key="b"})"));
    EXPECT_NE(std::string::npos,
              metrics.find(R"(llmpool_gateway_auth_failures_total{reason="key_budget"} 2)"))
        << metrics;
    EXPECT_EQ(std::string::npos, metrics.find("sk-a"));

    // Streams and embeddings are charged too.
    const auto spend_of_c = [&] {
      const std::string text = request(gw.port, "GET", "/metrics").body;
      const std::string name = R"(llmpool_gateway_key_spend_usd{key="c"} )";
      const size_t at = text.find(name);
      return at == std::string::npos ? -1.0 : std::atof(text.c_str() + at + name.size());
    };
    EXPECT_EQ(0.0, spend_of_c());
    Reply streamed = request(gw.port, "POST", "/v1/chat/completions",
                             chatBody("chat", "hello", true), {"Authorization: Bearer sk-c"});
    ASSERT_EQ(200, streamed.status);
    const double after_stream = spend_of_c();
    EXPECT_GE(after_stream, 1.0);
    Reply embedded = request(gw.port, "POST", "/v1/embeddings",
                             R"({"model":"chat","input":["a","b"]})", {"x-api-key: sk-c"});
    ASSERT_EQ(200, embedded.status) << embedded.body;
    EXPECT_GE(spend_of_c(), after_stream + 1.0);
    gw.process.signal(SIGTERM);
    ASSERT_EQ(0, gw.process.wait(15s).value_or(-1));
    const std::string log = readText(dir.file("gw.log"));
    EXPECT_NE(std::string::npos, log.find("error=key_budget")) << log;
    EXPECT_EQ(std::string::npos, log.find("sk-a"));
  }
  // A restart does not hand the key a fresh budget.
  Gateway again(config, dir.file("gw2.log"));
  ASSERT_GT(again.port, 0);
  EXPECT_EQ(429, chat(again.port, "sk-a").status);
  EXPECT_EQ(200, chat(again.port, "sk-b").status);
}

// A reload that brings the first budget opens the state file then; spend stays with the key's
// name when the budget is raised by a later reload.
TEST(GatewayTest, AReloadAddsAndRaisesABudget) {
  MockProvider mock;
  TempDir dir;
  const std::string config = dir.file("c.yaml");
  const std::string head = "pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                           "models:\n  chat:\n    - {provider: m, model: mock-model, "
                           "input_price_per_mtok: 1000000}\n"
                           "gateway:\n  listen: \"127.0.0.1:0\"\n  log_level: \"off\"\n";
  const auto withBudget = [&](const std::string& usd) {
    return head + "  state_file: " + dir.file("spend.db") +
           "\n  keys: [{key: sk-a, name: a, max_budget: " + usd + "}]\n";
  };
  writeFile(config, head + "  keys: [{key: sk-a, name: a}]\n");
  Gateway gw(config, dir.file("gw.log"));
  ASSERT_GT(gw.port, 0);
  const auto chat = [&] {
    return request(gw.port, "POST", "/v1/chat/completions", chatBody("chat", "hello"),
                   {"Authorization: Bearer sk-a"});
  };
  ASSERT_EQ(200, chat().status);  // no budget yet: not counted
  const auto generation = [&](int n) {
    return eventually([&] {
      return request(gw.port, "GET", "/metrics")
                 .body.find("llmpool_gateway_config_generation " + std::to_string(n) + "\n") !=
             std::string::npos;
    });
  };
  writeFile(config, withBudget("1"));
  gw.process.signal(SIGHUP);
  ASSERT_TRUE(generation(2));
  EXPECT_EQ(200, chat().status);  // spends the $1
  EXPECT_EQ(429, chat().status);
  EXPECT_TRUE(std::filesystem::exists(dir.file("spend.db")));

  writeFile(config, withBudget("1000000"));
  gw.process.signal(SIGHUP);
  ASSERT_TRUE(generation(3));
  EXPECT_EQ(200, chat().status);
}

// One alias for every model of a provider: the client names the model, the pattern routes it.
TEST(GatewayTest, AnAliasPatternServesEveryModelItMatches) {
  MockProvider mock;
  OneMockGateway g("pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                   "models:\n"
                   "  chat:\n    - {provider: m, model: mock-model}\n"
                   "  \"m/*\":\n    - {provider: m, model: \"*\"}\n"
                   "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\", keys: ["
                   "{key: sk-all, name: all}, {key: sk-m, name: m-only, models: [\"m/*\"]}]}\n");
  ASSERT_GT(g.gw.port, 0);
  const auto chat = [&](const std::string& model, const std::string& key = "sk-all") {
    return request(g.gw.port, "POST", "/v1/chat/completions", chatBody(model, "hi"),
                   {"Authorization: Bearer " + key});
  };
  Reply r = chat("m/gpt-4.1-mini");
  ASSERT_EQ(200, r.status) << r.body;
  EXPECT_EQ("gpt-4.1-mini", Json::parse(r.body)["model"]);  // what reached the provider
  EXPECT_EQ("m/*", r.headers["x-llmpool-deployment"]);
  Reply streamed = request(g.gw.port, "POST", "/v1/chat/completions",
                           chatBody("m/other-model", "hi", true), {"x-api-key: sk-all"});
  ASSERT_EQ(200, streamed.status);
  EXPECT_NE(std::string::npos, streamed.body.find(R"("model":"other-model")")) << streamed.body;
  Reply message = request(
      g.gw.port, "POST", "/v1/messages",
      R"({"model":"m/claude-x","max_tokens":8,"messages":[{"role":"user","content":"hi"}]})",
      {"x-api-key: sk-all"});
  ASSERT_EQ(200, message.status) << message.body;
  EXPECT_EQ("claude-x", Json::parse(message.body)["model"]);
  EXPECT_EQ(404, chat("n/gpt-4o").status);  // no pattern takes it
  EXPECT_EQ(404, chat("m/").status);        // the '*' stands for something

  // A key allowed the pattern may use any name it takes, and nothing else.
  EXPECT_EQ(200, chat("m/anything", "sk-m").status);
  EXPECT_EQ(403, chat("chat", "sk-m").status);

  // /v1/models lists the aliases clients can pick, not the pattern; a name the pattern takes
  // can still be looked up, and counted.
  const Json models =
      Json::parse(request(g.gw.port, "GET", "/v1/models", "", {"x-api-key: sk-all"}).body)["data"];
  ASSERT_EQ(1u, models.size()) << models.dump();
  EXPECT_EQ("chat", models[0]["id"]);
  EXPECT_EQ(200, request(g.gw.port, "GET", "/v1/models/m/gpt-4o", "", {"x-api-key: sk-m"}).status);
  EXPECT_EQ(404, request(g.gw.port, "GET", "/v1/models/q/gpt-4o", "", {"x-api-key: sk-m"}).status);
  EXPECT_EQ(200, request(g.gw.port, "POST", "/v1/messages/count_tokens",
                         R"({"model":"m/x","messages":[{"role":"user","content":"hi"}]})",
                         {"x-api-key: sk-m"})
                     .status);
}

// A request can be followed from the client through the gateway to the provider: its id comes
// back in every answer and reaches the provider, with the client's trace context.
TEST(GatewayTest, EveryAnswerCarriesTheRequestIdThatReachedTheProvider) {
  MockProvider mock;
  OneMockGateway g("pool: {health_checks: false}\n" + providersYaml({{"m", mock.port()}}) +
                   "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
                   "gateway: {listen: \"127.0.0.1:0\", log_level: \"info\", keys: [sk-a]}\n");
  ASSERT_GT(g.gw.port, 0);
  const auto lastAtProvider = [&] {
    return Json::parse(httpRequest(mock.port(), "GET", "/admin/requests").second)["requests"]
        .back();
  };
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  Reply mine = request(
      g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "one"),
      {"Authorization: Bearer sk-a", "X-Request-Id: client-req-42", "traceparent: " + traceparent});
  ASSERT_EQ(200, mine.status);
  EXPECT_EQ("client-req-42", mine.headers["x-request-id"]);
  EXPECT_EQ("client-req-42", lastAtProvider().value("client_request_id", ""));
  EXPECT_EQ(traceparent, lastAtProvider().value("traceparent", ""));

  // Without one, the gateway makes one; streams, embeddings and errors carry theirs too.
  Reply made = request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "two"),
                       {"Authorization: Bearer sk-a"});
  ASSERT_EQ(200, made.status);
  ASSERT_EQ(36u, made.headers["x-request-id"].size()) << made.headers["x-request-id"];
  EXPECT_EQ(made.headers["x-request-id"], lastAtProvider().value("client_request_id", ""));
  EXPECT_EQ("", lastAtProvider().value("traceparent", ""));
  Reply streamed = request(g.gw.port, "POST", "/v1/chat/completions",
                           chatBody("chat", "three", true), {"Authorization: Bearer sk-a"});
  EXPECT_EQ(36u, streamed.headers["x-request-id"].size());
  EXPECT_EQ(streamed.headers["x-request-id"], lastAtProvider().value("client_request_id", ""));
  Reply embedded = request(g.gw.port, "POST", "/v1/embeddings", R"({"model":"chat","input":"x"})",
                           {"Authorization: Bearer sk-a", "x-request-id: emb-1"});
  EXPECT_EQ("emb-1", embedded.headers["x-request-id"]);
  EXPECT_EQ("emb-1", lastAtProvider().value("client_request_id", ""));
  for (Reply error : {request(g.gw.port, "POST", "/v1/chat/completions", chatBody("nope", "x"),
                              {"Authorization: Bearer sk-a", "x-request-id: err-404"}),
                      request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x"),
                              {"Authorization: Bearer wrong", "x-request-id: err-401"})}) {
    EXPECT_EQ("err-" + std::to_string(error.status), error.headers["x-request-id"]);
  }
  EXPECT_TRUE(eventually([&] {
    const std::string log = readText(g.dir.file("gw.log"));
    return log.find("request_id=client-req-42") != std::string::npos &&
           log.find("request_id=err-401") != std::string::npos;
  })) << readText(g.dir.file("gw.log"));
}

// A failing readiness probe says which aliases have no usable deployment.
TEST(GatewayTest, ReadyzNamesTheAliasesWithoutAUsableDeployment) {
  MockProvider failing;
  MockProvider fine;
  OneMockGateway g(
      "pool:\n  health_checks: false\n  retry: {max_attempts: 1}\n"
      "  circuit_breaker: {failure_threshold: 1, failure_threshold_min_rate: 0, "
      "recovery_timeout: 1m}\n" +
      providersYaml({{"bad", failing.port()}, {"good", fine.port()}}) +
      "models:\n  chat:\n    - {provider: bad, model: m}\n"
      "  other:\n    - {provider: good, model: m}\n"
      "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n");
  ASSERT_GT(g.gw.port, 0);
  EXPECT_EQ(200, request(g.gw.port, "GET", "/readyz").status);
  ASSERT_EQ(200, failing.setFaults(R"({"faults":[{"kind":"status","status":500}]})"));
  EXPECT_EQ(502, request(g.gw.port, "POST", "/v1/chat/completions", chatBody("chat", "x")).status);
  Reply ready = request(g.gw.port, "GET", "/readyz");
  EXPECT_EQ(503, ready.status);
  const Json body = Json::parse(ready.body);
  EXPECT_EQ("not_ready", body["status"]);
  EXPECT_EQ(Json::array({"chat"}), body["aliases"]) << ready.body;
}

// Reasoning crosses dialects: an Anthropic client of an OpenAI-compatible reasoning server gets
// thinking blocks, an OpenAI client of Claude gets reasoning_content; streamed or not.
TEST(GatewayTest, ReasoningReachesClientsOfTheOtherDialect) {
  MockProvider mock;
  const std::string thinking_text = "mock thinking (earlier thinking blocks: 0)";
  {
    OneMockGateway g(mock.port());  // an OpenAI-dialect provider
    ASSERT_GT(g.gw.port, 0);
    Json ask = {{"model", "chat"},
                {"max_tokens", 64},
                {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                {"messages", {{{"role", "user"}, {"content", "one two"}}}}};
    Reply whole = request(g.gw.port, "POST", "/v1/messages", ask.dump());
    ASSERT_EQ(200, whole.status) << whole.body;
    const Json message = Json::parse(whole.body);
    ASSERT_EQ(2u, message["content"].size()) << whole.body;
    EXPECT_EQ("thinking", message["content"][0]["type"]);
    EXPECT_EQ(thinking_text, message["content"][0]["thinking"]);
    EXPECT_EQ("text", message["content"][1]["type"]);

    ask["stream"] = true;
    Reply streamed = request(g.gw.port, "POST", "/v1/messages", ask.dump());
    ASSERT_EQ(200, streamed.status);
    std::string thought;
    int thinking_index = -1;
    int text_index = -1;
    for (const auto& e : sseEvents(unframed(streamed))) {
      if (e.name == "content_block_start" && e.data["content_block"]["type"] == "thinking")
        thinking_index = e.data["index"];
      if (e.name == "content_block_start" && e.data["content_block"]["type"] == "text")
        text_index = e.data["index"];
      if (e.name == "content_block_delta" && e.data["delta"]["type"] == "thinking_delta")
        thought += e.data["delta"]["thinking"].get<std::string>();
    }
    EXPECT_EQ(thinking_text, thought) << unframed(streamed);
    EXPECT_EQ(0, thinking_index);
    EXPECT_EQ(1, text_index);
  }
  {
    OneMockGateway g(anthropicMockConfig(mock.port()));  // Claude behind an OpenAI client
    ASSERT_GT(g.gw.port, 0);
    Json ask = {{"model", "chat"},
                {"max_tokens", 64},
                {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                {"messages", {{{"role", "user"}, {"content", "one two"}}}}};
    Reply whole = request(g.gw.port, "POST", "/v1/chat/completions", ask.dump());
    ASSERT_EQ(200, whole.status) << whole.body;
    const Json message = Json::parse(whole.body)["choices"][0]["message"];
    EXPECT_EQ(thinking_text, message.value("reasoning_content", "")) << whole.body;
    EXPECT_FALSE(message["content"].get<std::string>().empty());

    ask["stream"] = true;
    Reply streamed = request(g.gw.port, "POST", "/v1/chat/completions", ask.dump());
    ASSERT_EQ(200, streamed.status);
    std::string thought;
    for (const auto& e : sseEvents(unframed(streamed))) {
      if (!e.data.is_object() || !e.data.contains("choices") || e.data["choices"].empty()) continue;
      thought += e.data["choices"][0]["delta"].value("reasoning_content", "");
    }
    EXPECT_EQ(thinking_text, thought) << unframed(streamed);
  }
}

// A client may ask for tighter limits than the configuration's, per request, never looser.
TEST(GatewayTest, AClientMayTightenItsRequestsLimitsInHeaders) {
  MockProvider mock;
  MockProvider slow({"--latency", "1s"});
  OneMockGateway g(
      "pool:\n  health_checks: false\n  deadline: 30s\n"
      "  retry: {max_attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}\n"
      "  circuit_breaker: {enabled: false}\n" +
      providersYaml({{"m", mock.port()}, {"s", slow.port()}}) +
      "models:\n  chat:\n    - {provider: m, model: mock-model}\n"
      "  slow:\n    - {provider: s, model: mock-model}\n"
      "gateway: {listen: \"127.0.0.1:0\", log_level: \"off\"}\n");
  ASSERT_GT(g.gw.port, 0);
  const auto chat = [&](std::vector<std::string> headers, const std::string& model = "chat") {
    return request(g.gw.port, "POST", "/v1/chat/completions", chatBody(model, "x"), headers);
  };
  // The deadline: a 1 s provider, a 200 ms request.
  const auto started = std::chrono::steady_clock::now();
  Reply late = chat({"x-llmpool-timeout: 200ms"}, "slow");
  EXPECT_EQ(504, late.status) << late.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms);

  // Attempts: a failing provider is tried three times, or once when the client says so.
  ASSERT_EQ(200, mock.setFaults(R"({"faults":[{"kind":"status","status":500}]})"));
  const auto calls = [&] { return mockStats(mock).value("requests_total", -1); };
  const int before = calls();
  EXPECT_EQ(502, chat({"X-LLMPool-Max-Attempts: 1"}).status);
  EXPECT_EQ(before + 1, calls());
  EXPECT_EQ(502, chat({"x-llmpool-max-attempts: 50"}).status);  // capped at the config's 3
  EXPECT_EQ(before + 4, calls());

  for (std::string bad : {"x-llmpool-timeout: soon", "x-llmpool-timeout: 0",
                          "x-llmpool-max-attempts: 0", "x-llmpool-max-attempts: 2.5"}) {
    Reply r = chat({bad});
    EXPECT_EQ(400, r.status) << bad;
    EXPECT_NE(std::string::npos, r.body.find(bad.substr(0, bad.find(':')))) << r.body;
  }
  EXPECT_EQ(before + 4, calls());
}

}  // namespace
}  // namespace llmpool::testing
