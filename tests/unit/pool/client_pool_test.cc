// ClientPoolImpl on a fake clock, executor and transport: every retry, backoff, deadline and
// breaker decision is checked in exact fake time, without sockets or sleeps.

#include "pool/client_pool_impl.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_executor.h"
#include "fake_random.h"
#include "fake_transport.h"

namespace llmpool::pool {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeExecutor;
using testing::FakeRandom;
using testing::FakeReply;
using testing::FakeTransport;

std::string okBody(const std::string& text = "hi", int prompt = 3, int completion = 1) {
  return nlohmann::json{{"id", "chatcmpl-1"},
                        {"object", "chat.completion"},
                        {"created", 1},
                        {"model", "m"},
                        {"choices",
                         {{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", text}}},
                           {"finish_reason", "stop"}}}},
                        {"usage",
                         {{"prompt_tokens", prompt},
                          {"completion_tokens", completion},
                          {"total_tokens", prompt + completion}}}}
      .dump();
}

std::string errorBody(const std::string& message) {
  return nlohmann::json{
      {"error", {{"message", message}, {"type", "x"}, {"param", nullptr}, {"code", nullptr}}}}
      .dump();
}

FakeReply reply(int status, std::string body = "", http::Headers headers = {},
                Duration delay = 10ms) {
  FakeReply r;
  r.status = status;
  r.body = body.empty() ? (status == 200 ? okBody() : errorBody("failure")) : std::move(body);
  r.headers = std::move(headers);
  r.delay = delay;
  return r;
}

bool toHost(const http::HttpRequest& r, const std::string& host) {
  return r.url.find("//" + host + "/") != std::string::npos;
}

ChatRequest hello(const std::string& alias = "chat") {
  ChatRequest r;
  r.model = alias;
  r.messages.push_back({.role = "user", .content = "hello"});
  return r;
}

// One OpenAI stream event for choice 0 with `delta` (a JSON object) and `finish` (JSON), ended by
// its blank line.
std::string openAIEvent(const std::string& delta, const std::string& finish = "null") {
  return R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",)"
         R"("choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + finish + "}]}\n\n";
}

// What a stream handed its caller: every chunk, then the result.
struct StreamOutcome {
  std::vector<ChatChunk> chunks;
  std::optional<Result<ChatResponse>> result;
};

class ClientPoolTest : public ::testing::Test {
 protected:
  ClientPoolTest() {
    config_.providers.push_back(
        {.name = "primary", .kind = ProviderKind::OpenAI, .base_url = "http://primary/v1"});
    config_.providers.push_back(
        {.name = "backup", .kind = ProviderKind::OpenAI, .base_url = "http://backup/v1"});
    config_.pool.health_checks = false;
    config_.pool.retry.max_attempts = 3;
    config_.pool.retry.budget_min_per_second = 1000;  // budget tests set their own
    random_.setFallbackUniform(0.5);
  }

  void useRoute(std::vector<DeploymentConfig> route) { config_.models["chat"] = std::move(route); }

  void build() {
    auto created = ClientPoolImpl::create(config_, transport_, executor_, random_);
    ASSERT_TRUE(created.has_value()) << created.error().describe();
    pool_ = std::move(*created);
  }

  /** Runs one request to completion in fake time (bounded). */
  Result<ChatResponse> run(ChatRequest request, RequestOptions options = {},
                           Duration limit = 10min) {
    std::optional<Result<ChatResponse>> out;
    pool_->complete(std::move(request), std::move(options),
                    [&](Result<ChatResponse> r) { out = std::move(r); });
    const MonotonicTime until = clock_.now() + limit;
    while (!out && clock_.now() < until) executor_.advance(5ms);
    if (!out) return fail(ErrorCode::Internal, "test: no result in time");
    return std::move(*out);
  }

  /** Streams one request to completion in fake time (1 s), recording every chunk. */
  StreamOutcome runStream(RequestOptions options = {}) {
    StreamOutcome out;
    pool_->stream(
        hello(), std::move(options),
        [&](const ChatChunk& c) {
          EXPECT_FALSE(out.result.has_value()) << "a chunk after the call finished";
          out.chunks.push_back(c);
          return true;
        },
        [&](Result<ChatResponse> r) { out.result = std::move(r); });
    executor_.advance(1s);
    return out;
  }

  size_t sentTo(const std::string& host) const {
    size_t n = 0;
    for (const auto& r : transport_.sent()) n += toHost(r, host);
    return n;
  }

  FakeClock clock_;
  FakeExecutor executor_{clock_};
  FakeTransport transport_{executor_};
  FakeRandom random_;
  PoolConfig config_;
  std::unique_ptr<ClientPoolImpl> pool_;
};

TEST_F(ClientPoolTest, SendsTheUpstreamModelNotTheAliasAndReportsTheDeployment) {
  useRoute({{.provider = "primary",
             .model = "gpt-upstream",
             .input_price_per_mtok = 1000,
             .output_price_per_mtok = 2000}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200, okBody("hi", 10, 5)); });
  auto r = run(hello());
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->text(), "hi");
  EXPECT_EQ(r->deployment, "primary/gpt-upstream");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_DOUBLE_EQ(r->cost_usd, (10 * 1000.0 + 5 * 2000.0) / 1e6);
  ASSERT_EQ(transport_.sent().size(), 1u);
  auto body = nlohmann::json::parse(transport_.sent()[0].body);
  EXPECT_EQ(body["model"], "gpt-upstream");
  auto s = pool_->stats();
  EXPECT_EQ(s.successes, 1u);
  EXPECT_EQ(s.tokens_in, 10u);
  EXPECT_EQ(s.tokens_out, 5u);
  EXPECT_NEAR(s.cost_usd, 0.02, 1e-9);
}

TEST_F(ClientPoolTest, TheProviderReplyBodyComesWithTheResponseInItsDialect) {
  config_.providers.push_back(
      {.name = "claude", .kind = ProviderKind::Anthropic, .base_url = "http://claude/v1"});
  useRoute({{.provider = "primary", .model = "m"}});
  config_.models["anthropic"] = {{.provider = "claude", .model = "c"}};
  build();
  // A field ChatResponse has no member for, which only the body keeps.
  const std::string openai_body =
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1,)"
      R"("model":"m","system_fingerprint":"fp_1","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"hi"},"logprobs":null,)"
      R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3,)"
      R"("completion_tokens":1,"total_tokens":4}})";
  const std::string anthropic_body =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"c","content":[)"
      R"({"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"hi"}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,)"
      R"("output_tokens":1,"cache_read_input_tokens":2}})";
  transport_.setScript([&](const http::HttpRequest& request) {
    return reply(200, toHost(request, "claude") ? anthropic_body : openai_body);
  });
  auto openai = run(hello());
  ASSERT_TRUE(openai.has_value()) << openai.error().describe();
  EXPECT_EQ(openai->provider_body, openai_body);
  EXPECT_EQ(openai->provider_dialect, WireDialect::OpenAI);
  auto anthropic = run(hello("anthropic"));
  ASSERT_TRUE(anthropic.has_value()) << anthropic.error().describe();
  EXPECT_EQ(anthropic->text(), "hi");
  EXPECT_EQ(anthropic->provider_body, anthropic_body);
  EXPECT_EQ(anthropic->provider_dialect, WireDialect::Anthropic);
}

TEST_F(ClientPoolTest, AReplyWithoutACreationTimeIsGivenTheTimeItArrived) {
  config_.providers.push_back(
      {.name = "claude", .kind = ProviderKind::Anthropic, .base_url = "http://claude/v1"});
  useRoute({{.provider = "primary", .model = "m"}});
  config_.models["anthropic"] = {{.provider = "claude", .model = "c"}};
  build();
  // Anthropic's messages carry no time; OpenAI's do (okBody's "created":1), and it is kept.
  transport_.setScript([](const http::HttpRequest& request) {
    return reply(200, toHost(request, "claude")
                          ? R"({"id":"msg_1","type":"message","role":"assistant","model":"c",)"
                            R"("content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",)"
                            R"("usage":{"input_tokens":3,"output_tokens":1}})"
                          : okBody());
  });
  auto openai = run(hello());
  ASSERT_TRUE(openai.has_value()) << openai.error().describe();
  EXPECT_EQ(openai->created, 1);
  auto anthropic = run(hello("anthropic"));
  ASSERT_TRUE(anthropic.has_value()) << anthropic.error().describe();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.systemNow().time_since_epoch())
          .count();
  EXPECT_GE(anthropic->created, now - 1);  // received the reply a few fake ms ago
  EXPECT_LE(anthropic->created, now);
}

TEST_F(ClientPoolTest, UnknownAliasIsNotFoundAndNothingIsSent) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  auto r = run(hello("nope"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_TRUE(transport_.sent().empty());
}

TEST_F(ClientPoolTest, AnAliasPatternSendsWhatItsStarMatched) {
  config_.models["primary/*"] = {{.provider = "primary", .model = "*"}};
  config_.models["primary/fixed-*"] = {{.provider = "primary", .model = "vendor-*-v2"}};
  config_.models["*"] = {{.provider = "backup", .model = "*"}};
  config_.models["primary/exact"] = {{.provider = "primary", .model = "exact-upstream"}};
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200, okBody("hi", 1, 1)); });
  const auto upstream = [&](const std::string& model) {
    auto r = run(hello(model));
    EXPECT_TRUE(r.has_value()) << model << ": " << r.error().describe();
    const auto& sent = transport_.sent().back();
    return std::make_pair(nlohmann::json::parse(sent.body)["model"].get<std::string>(),
                          r ? r->deployment : std::string());
  };
  EXPECT_EQ(std::make_pair(std::string("gpt-4o"), std::string("primary/*")),
            upstream("primary/gpt-4o"));
  // The longest prefix wins, and the '*' may sit inside the upstream name.
  EXPECT_EQ(std::make_pair(std::string("vendor-x-v2"), std::string("primary/vendor-*-v2")),
            upstream("primary/fixed-x"));
  // An alias of the exact name beats every pattern; "*" takes the rest, whole.
  EXPECT_EQ(std::make_pair(std::string("exact-upstream"), std::string("primary/exact-upstream")),
            upstream("primary/exact"));
  EXPECT_EQ(std::make_pair(std::string("llama3:8b"), std::string("backup/*")),
            upstream("llama3:8b"));
  EXPECT_EQ(4u, transport_.sent().size());
}

TEST_F(ClientPoolTest, APatternNeedsSomethingAfterItsPrefix) {
  config_.models["primary/*"] = {{.provider = "primary", .model = "*"}};
  build();
  auto r = run(hello("primary/"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_TRUE(transport_.sent().empty());
}

TEST_F(ClientPoolTest, ServerErrorIsRetriedUpToMaxAttemptsWithBackoff) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(503); });
  auto r = run(hello());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::ServerError);
  EXPECT_EQ(transport_.sent().size(), 3u);
  EXPECT_EQ(r.error().attempts.size(), 3u);
  for (const auto& a : r.error().attempts) EXPECT_EQ(a.http_status, 503);
  // Full jitter at u = 0.5: the retries wait half of 100 ms, then half of 200 ms.
  const auto& at = transport_.sentAt();
  EXPECT_EQ(at[1] - at[0], 10ms + 50ms);
  EXPECT_EQ(at[2] - at[1], 10ms + 100ms);
  EXPECT_EQ(pool_->stats().retries, 2u);
}

TEST_F(ClientPoolTest, BadRequestIsNeverRetried) {
  useRoute({{.provider = "primary", .model = "m"}, {.provider = "backup", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(400); });
  auto r = run(hello());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(ClientPoolTest, FailsOverImmediatelyToTheNextTier) {
  useRoute({{.provider = "primary", .model = "m", .priority = 0},
            {.provider = "backup", .model = "m", .priority = 1}});
  build();
  transport_.setScript(
      [](const http::HttpRequest& r) { return toHost(r, "primary") ? reply(500) : reply(200); });
  auto r = run(hello());
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->deployment, "backup/m");
  EXPECT_EQ(r->attempts, 2);
  const auto& at = transport_.sentAt();
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[1] - at[0], 10ms);  // no backoff when another deployment can take it
  EXPECT_EQ(pool_->stats().failovers, 1u);
}

TEST_F(ClientPoolTest, LowerTierIsNotUsedWhileThePrimaryIsHealthy) {
  useRoute({{.provider = "primary", .model = "m", .priority = 0},
            {.provider = "backup", .model = "m", .priority = 1}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200); });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(run(hello()).has_value());
  EXPECT_EQ(sentTo("primary"), 20u);
  EXPECT_EQ(sentTo("backup"), 0u);
}

TEST_F(ClientPoolTest, BreakerOpensAndThePrimaryGetsNoMoreThanTheBreakerAllows) {
  config_.pool.circuit_breaker.failure_threshold = 3;
  config_.pool.circuit_breaker.recovery_timeout = 30s;
  config_.pool.circuit_breaker.max_recovery_timeout = 30s;
  useRoute({{.provider = "primary", .model = "m", .priority = 0},
            {.provider = "backup", .model = "m", .priority = 1}});
  build();
  transport_.setScript(
      [](const http::HttpRequest& r) { return toHost(r, "primary") ? reply(503) : reply(200); });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(run(hello()).has_value());
  EXPECT_EQ(sentTo("primary"), 3u);  // then open: every request goes straight to the backup
  EXPECT_EQ(sentTo("backup"), 50u);
  EXPECT_EQ(pool_->stats().breaker_trips, 1u);
  // After the recovery timeout one probe goes to the primary; it has recovered and closes.
  transport_.setScript([](const http::HttpRequest&) { return reply(200); });
  executor_.advance(31s);
  auto r = run(hello());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deployment, "primary/m");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run(hello())->deployment, "primary/m");
}

TEST_F(ClientPoolTest, AllBreakersOpenFailsFastWithWhenTheNextProbeIsDue) {
  config_.pool.circuit_breaker.failure_threshold = 1;
  config_.pool.circuit_breaker.recovery_timeout = 30s;
  config_.pool.circuit_breaker.max_recovery_timeout = 30s;
  config_.pool.retry.max_attempts = 1;
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(500); });
  ASSERT_FALSE(run(hello()).has_value());
  executor_.advance(10s);
  auto r = run(hello());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::CircuitOpen);
  ASSERT_TRUE(r.error().retry_after.has_value());
  EXPECT_NEAR(static_cast<double>(r.error().retry_after->count()), 20'000 - 10, 20);
  EXPECT_EQ(transport_.sent().size(), 1u);
  EXPECT_FALSE(pool_->ready());
}

TEST_F(ClientPoolTest, PanicModeTriesTheLeastBadDeploymentAndSaysSo) {
  config_.pool.circuit_breaker.failure_threshold = 1;
  config_.pool.retry.max_attempts = 1;
  config_.pool.panic_mode = true;
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(500); });
  ASSERT_FALSE(run(hello()).has_value());
  transport_.setScript([](const http::HttpRequest&) { return reply(200); });
  auto r = run(hello());
  ASSERT_TRUE(r.has_value());
  bool marked = false;
  for (const auto& a : r->attempt_trail) marked = marked || a.reason == "panic_mode";
  EXPECT_TRUE(marked);
}

TEST_F(ClientPoolTest, RetryAfterIsHonouredBeforeTheSameDeploymentIsTriedAgain) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  int n = 0;
  transport_.setScript([&](const http::HttpRequest&) {
    return ++n == 1 ? reply(429, errorBody("slow down"), {{"retry-after", "1"}}) : reply(200);
  });
  auto r = run(hello());
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  const auto& at = transport_.sentAt();
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1] - at[0], 1s);
}

TEST_F(ClientPoolTest, RetryAfterLongerThanTheDeadlineEndsTheRequestAtOnce) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) {
    return reply(429, errorBody("slow down"), {{"retry-after", "30"}});
  });
  RequestOptions options;
  options.deadline = 5s;
  const MonotonicTime start = clock_.now();
  auto r = run(hello(), options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::RateLimited);
  EXPECT_LT(clock_.now() - start, 1s);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(ClientPoolTest, EachAttemptGetsOnlyTheTimeLeftBeforeTheDeadline) {
  config_.pool.request_timeout = 4s;
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    r.hang = true;
    return r;
  });
  RequestOptions options;
  options.deadline = 6s;
  const MonotonicTime start = clock_.now();
  auto r = run(hello(), options);
  ASSERT_FALSE(r.has_value());
  ASSERT_GE(transport_.sent().size(), 1u);
  EXPECT_EQ(transport_.sent()[0].timeouts.total, 4s);
  if (transport_.sent().size() > 1) {
    EXPECT_LE(transport_.sent()[1].timeouts.total, 2s);
  }
  EXPECT_EQ(r.error().code, ErrorCode::DeadlineExceeded);
  EXPECT_LE(clock_.now() - start, 6s + 10ms);
  EXPECT_EQ(transport_.inFlight(), 0u);  // the hung attempt was cancelled
}

TEST_F(ClientPoolTest, AdmissionQueueFullIsOverloadedAndNothingIsSent) {
  config_.pool.max_concurrent_requests = 1;
  config_.pool.max_queue = 1;
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200, "", {}, 1s); });
  std::vector<std::optional<Result<ChatResponse>>> out(3);
  for (int i = 0; i < 3; ++i) {
    pool_->complete(hello(), {}, [&out, i](Result<ChatResponse> r) { out[i] = std::move(r); });
  }
  executor_.advance(5ms);
  ASSERT_TRUE(out[2].has_value());
  ASSERT_FALSE(out[2]->has_value());
  EXPECT_EQ(out[2]->error().code, ErrorCode::Overloaded);
  executor_.advance(3s);
  EXPECT_TRUE(out[0].has_value() && out[0]->has_value());
  EXPECT_TRUE(out[1].has_value() && out[1]->has_value());
  EXPECT_EQ(transport_.sent().size(), 2u);
  EXPECT_EQ(pool_->stats().admission_rejections, 1u);
}

TEST_F(ClientPoolTest, CancelCompletesWithCancelledAndCancelsTheTransfer) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    r.hang = true;
    return r;
  });
  std::optional<Result<ChatResponse>> out;
  auto handle = pool_->complete(hello(), {}, [&](Result<ChatResponse> r) { out = std::move(r); });
  executor_.advance(100ms);
  EXPECT_EQ(transport_.inFlight(), 1u);
  handle.cancel();
  executor_.advance(5ms);
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(out->has_value());
  EXPECT_EQ(out->error().code, ErrorCode::Cancelled);
  EXPECT_EQ(transport_.inFlight(), 0u);
}

TEST_F(ClientPoolTest, RetryBudgetStopsARetryStorm) {
  config_.pool.retry.budget_percent = 10;
  config_.pool.retry.budget_min_per_second = 0;
  config_.pool.retry.max_attempts = 5;
  useRoute({{.provider = "primary", .model = "m"}});
  config_.pool.circuit_breaker.enabled = false;
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(503, "", {}, 0ms); });
  for (int i = 0; i < 20; ++i) (void)run(hello());
  const auto s = pool_->stats();
  EXPECT_LE(s.retries, 2u + 1u);  // 10 % of 20 requests
  EXPECT_GT(s.retry_budget_exhausted, 0u);
}

TEST_F(ClientPoolTest, ABusyDeploymentWithOccasionalFailuresStaysInService) {
  // One request in five fails (no retry): the breaker's five failures come within the first 25
  // requests, but among four times as many successes; the deployment keeps serving. (Counting the
  // failures alone, it opened there and every later request failed fast.)
  useRoute({{.provider = "primary", .model = "m"}});
  config_.pool.retry.max_attempts = 1;
  build();
  int n = 0;
  transport_.setScript([&](const http::HttpRequest&) { return reply(++n % 5 == 0 ? 503 : 200); });
  int ok = 0;
  for (int i = 0; i < 100; ++i) ok += run(hello()).has_value() ? 1 : 0;
  EXPECT_EQ(80, ok);
  EXPECT_EQ(100u, transport_.sent().size());
  EXPECT_EQ(0u, pool_->stats().breaker_trips);
}

TEST_F(ClientPoolTest, StreamDeliversChunksAndAssemblesTheResponse) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    r.chunks = {openAIEvent(R"({"role":"assistant","content":"Hel"})"),
                openAIEvent(R"({"content":"lo"})", R"("stop")") + "data: [DONE]\n\n"};
    r.chunk_gap = 5ms;
    return r;
  });
  StreamOutcome streamed = runStream();
  auto& out = streamed.result;
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->has_value()) << out->error().describe();
  EXPECT_EQ((*out)->text(), "Hello");
  EXPECT_GE(streamed.chunks.size(), 2u);
  // An assembled stream has no single body to hand on.
  EXPECT_TRUE((*out)->provider_body.empty());
  EXPECT_EQ((*out)->provider_dialect, WireDialect::None);
}

TEST_F(ClientPoolTest, StreamHandsOnALastEventThatEndedTheBodyWithoutItsBlankLine) {
  config_.providers.push_back(
      {.name = "claude", .kind = ProviderKind::Anthropic, .base_url = "http://claude/v1"});
  useRoute({{.provider = "claude", .model = "c"}});
  build();
  // Anthropic's stream, its final event cut off after its data line: the body's end completes it.
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    r.chunks = {
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
        "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],"
        "\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}"};
    r.chunk_gap = 5ms;
    return r;
  });
  RequestOptions options;
  options.provider_events = true;
  StreamOutcome streamed = runStream(options);
  const auto& chunks = streamed.chunks;
  auto& out = streamed.result;
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->has_value()) << out->error().describe();
  EXPECT_EQ((*out)->text(), "hi");
  ASSERT_FALSE(chunks.empty());
  // Anthropic's events carry no time: every chunk gets the first one's arrival, as OpenAI's
  // chunks all carry the same "created".
  const int64_t created = chunks.front().created;
  EXPECT_GT(created, 1'800'000'000);
  for (const auto& c : chunks) EXPECT_EQ(c.created, created);
  EXPECT_EQ((*out)->created, created);
  // The last event reached the caller as it came, and with it the stream's final usage.
  EXPECT_EQ(chunks.back().provider_event, "message_stop");
  EXPECT_EQ(chunks.back().provider_data, R"({"type":"message_stop"})");
  ASSERT_TRUE(chunks.back().usage.has_value());
  EXPECT_EQ(chunks.back().usage->prompt_tokens, 3);
  EXPECT_EQ(chunks.back().usage->completion_tokens, 1);
}

TEST_F(ClientPoolTest, StreamWhoseLastEventIsCutOffIsNotHandedOnAndFails) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  // The stream's only chunk arrives unterminated and no [DONE] follows: truncated. The half
  // event is not delivered, so nothing reached the caller and the call may not pretend success.
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    std::string event = openAIEvent(R"({"content":"partial"})");
    event.resize(event.size() - 2);  // no blank line after it
    r.chunks = {event};
    return r;
  });
  StreamOutcome streamed = runStream();
  ASSERT_TRUE(streamed.result.has_value());
  ASSERT_FALSE(streamed.result->has_value());
  EXPECT_EQ(streamed.result->error().code, ErrorCode::Protocol);
  EXPECT_TRUE(streamed.chunks.empty());
}

TEST_F(ClientPoolTest, StreamIsNotRetriedAfterItsFirstChunkReachedTheCaller) {
  useRoute({{.provider = "primary", .model = "m"}, {.provider = "backup", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) {
    FakeReply r;
    r.chunks = {openAIEvent(R"({"content":"partial"})")};  // no [DONE]: truncated
    return r;
  });
  auto out = runStream().result;
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(out->has_value());
  EXPECT_EQ(out->error().code, ErrorCode::Protocol);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(ClientPoolTest, StreamFailsOverBeforeTheFirstChunk) {
  useRoute({{.provider = "primary", .model = "m", .priority = 0},
            {.provider = "backup", .model = "m", .priority = 1}});
  build();
  transport_.setScript([](const http::HttpRequest& r) {
    if (toHost(r, "primary")) return reply(503);
    FakeReply ok;
    ok.chunks = {openAIEvent(R"({"content":"ok"})", R"("stop")") + "data: [DONE]\n\n"};
    return ok;
  });
  StreamOutcome streamed = runStream();
  const auto& chunks = streamed.chunks;
  auto& out = streamed.result;
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->has_value()) << out->error().describe();
  EXPECT_EQ((*out)->deployment, "backup/m");
  EXPECT_EQ((*out)->text(), "ok");
  // The caller learns who streams (and after how many attempts) with the first chunk.
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().deployment, "backup/m");
  EXPECT_EQ(chunks.front().attempts, 2);
}

TEST_F(ClientPoolTest, RateLimitedDeploymentIsSkippedForAnotherOne) {
  useRoute({{.provider = "primary", .model = "m", .rpm = 1},
            {.provider = "backup", .model = "m", .priority = 1}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200); });
  EXPECT_EQ(run(hello())->deployment, "primary/m");
  EXPECT_EQ(run(hello())->deployment, "backup/m");  // primary's minute budget is spent
  auto s = pool_->stats();
  EXPECT_EQ(s.skips_by_reason["rate_limited"], 1u);
}

}  // namespace
}  // namespace llmpool::pool

namespace llmpool::pool {
namespace {

TEST_F(ClientPoolTest, MetricsTextHasEveryFamilyOnceWithDeploymentLabels) {
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  transport_.setScript([](const http::HttpRequest&) { return reply(200); });
  ASSERT_TRUE(run(hello()).has_value());
  std::string text;
  pool_->writeMetrics(text);
  EXPECT_NE(text.find("llmpool_requests_total{outcome=\"success\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("llmpool_deployment_state{deployment=\"primary/m\",provider=\"primary\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("llmpool_request_duration_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
  // Each family is declared exactly once.
  size_t pos = 0, count = 0;
  while ((pos = text.find("# TYPE llmpool_tokens_total ", pos)) != std::string::npos) {
    ++count;
    ++pos;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace llmpool::pool

namespace llmpool::pool {
namespace {

TEST_F(ClientPoolTest, StartWarmsConnectionsWithZeroTokenProbesOnce) {
  config_.pool.warm_connections = 2;
  useRoute({{.provider = "primary", .model = "m"}});
  build();
  ASSERT_TRUE(pool_->start().has_value());
  ASSERT_TRUE(pool_->start().has_value());  // idempotent
  // Only providers that serve a route are warmed, with GETs of their models list.
  ASSERT_EQ(transport_.sent().size(), 2u);
  for (const auto& r : transport_.sent()) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.url, "http://primary/v1/models");
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(ClientPoolTest, HealthProbesMarkADeadProviderUnhealthyAndRoutingSkipsIt) {
  config_.pool.health_checks = true;
  config_.pool.health_check_interval = 10s;
  useRoute({{.provider = "primary", .model = "m", .weight = 1},
            {.provider = "backup", .model = "m", .weight = 1}});
  build();
  ASSERT_TRUE(pool_->start().has_value());
  transport_.setScript([](const http::HttpRequest& r) {
    if (toHost(r, "primary")) {
      FakeReply down;
      down.error = Error(ErrorCode::ConnectFailed, "refused");
      return down;
    }
    return reply(200);
  });
  executor_.advance(11s);  // one probe round
  const size_t probes = transport_.sent().size();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(run(hello())->deployment, "backup/m");
  EXPECT_EQ(sentTo("primary"), 1u);  // only its probe
  EXPECT_EQ(transport_.sent().size(), probes + 10);
  auto s = pool_->stats();
  bool primary_unhealthy = false;
  for (const auto& d : s.deployments) primary_unhealthy |= d.name == "primary/m" && !d.healthy;
  EXPECT_TRUE(primary_unhealthy);
}

}  // namespace
}  // namespace llmpool::pool
