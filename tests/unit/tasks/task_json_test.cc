#include "tasks/task_json.h"

#include <gtest/gtest.h>

namespace llmpool::tasks {
namespace {

TEST(TaskJsonTest, TaskRoundTrip) {
  Task t = makeEnhancementTask("t-1", "some text", "fix typos", "gpt-4o-mini");
  t.priority = Priority::High;
  t.request.temperature = 0.25;
  t.request.max_tokens = 64;
  t.request.stop = {"END"};
  t.request.response_format = Json{{"type", "json_object"}};
  t.options.deadline = std::chrono::milliseconds(1500);
  t.options.model = "alias";
  t.expires_at = fromUnixMillis(1'900'000'000'123);
  t.max_attempts = 3;
  t.metadata = {{"line", "7"}};

  auto back = taskFromJson(Json::parse(taskToJson(t).dump()));
  ASSERT_TRUE(back.has_value()) << back.error().describe();
  EXPECT_EQ(back->id, "t-1");
  EXPECT_EQ(back->priority, Priority::High);
  ASSERT_EQ(back->request.messages.size(), 2u);
  EXPECT_EQ(back->request.messages[1].content, t.request.messages[1].content);
  EXPECT_EQ(back->request.temperature, 0.25);
  EXPECT_EQ(back->request.max_tokens, 64);
  EXPECT_EQ(back->request.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(back->request.response_format, t.request.response_format);
  EXPECT_EQ(back->options.deadline, std::chrono::milliseconds(1500));
  EXPECT_EQ(back->options.model, "alias");
  EXPECT_EQ(back->expires_at, t.expires_at);
  EXPECT_EQ(back->max_attempts, 3);
  EXPECT_EQ(back->metadata, t.metadata);
}

TEST(TaskJsonTest, SuccessResultRoundTrip) {
  TaskResult r;
  r.task_id = "a";
  ChatResponse resp;
  resp.id = "x";
  resp.choices.push_back(ChatChoice{
      .index = 0, .role = "assistant", .content = "hi", .tool_calls = {}, .finish_reason = "stop"});
  resp.usage = {.prompt_tokens = 1, .completion_tokens = 2, .total_tokens = 3};
  resp.deployment = "p/m";
  r.outcome = resp;
  r.attempts = 2;
  r.queue_wait = std::chrono::milliseconds(5);
  auto back = taskResultFromJson(taskResultToJson(r));
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->ok());
  EXPECT_EQ(back->outcome->text(), "hi");
  EXPECT_EQ(back->outcome->usage.total_tokens, 3);
  EXPECT_EQ(back->outcome->deployment, "p/m");
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->queue_wait, std::chrono::milliseconds(5));
}

TEST(TaskJsonTest, TheProvidersReplyBodyIsKeptWithItsDialect) {
  // A result written before its output line is recovered from the store: it must still carry
  // the provider's own body (what the output line is made of).
  TaskResult r;
  r.task_id = "a";
  ChatResponse resp;
  resp.id = "x";
  resp.provider_body = "{\n  \"id\": \"x\",\n  \"system_fingerprint\": \"fp\"\n}";
  resp.provider_dialect = WireDialect::Anthropic;
  r.outcome = resp;
  for (const Json& stored : {taskResultToJson(r), Json::parse(taskResultToJsonText(r))}) {
    auto back = taskResultFromJson(stored);
    ASSERT_TRUE(back.has_value() && back->ok()) << stored.dump();
    EXPECT_EQ(back->outcome->provider_body, resp.provider_body);
    EXPECT_EQ(back->outcome->provider_dialect, WireDialect::Anthropic);
  }
  EXPECT_EQ(Json::parse(taskResultToJsonText(r)), taskResultToJson(r));
  // Without one, nothing is stored for it.
  resp.provider_body.clear();
  resp.provider_dialect = WireDialect::None;
  r.outcome = resp;
  EXPECT_FALSE(taskResultToJson(r).dump().contains("provider_"));
  EXPECT_FALSE(taskResultToJsonText(r).contains("provider_"));
}

TEST(TaskJsonTest, ErrorResultRoundTripStaysAFailure) {
  TaskResult r;
  r.task_id = "b";
  Error e(ErrorCode::RateLimited, "slow down");
  e.http_status = 429;
  e.retry_after = std::chrono::milliseconds(1200);
  e.attempts.push_back(Attempt{.deployment = "p/m", .error = ErrorCode::RateLimited});
  r.outcome = std::unexpected(e);
  auto back = taskResultFromJson(taskResultToJson(r));
  ASSERT_TRUE(back.has_value());
  ASSERT_FALSE(back->ok());
  EXPECT_EQ(back->outcome.error().code, ErrorCode::RateLimited);
  EXPECT_EQ(back->outcome.error().http_status, 429);
  EXPECT_EQ(back->outcome.error().retry_after, std::chrono::milliseconds(1200));
  ASSERT_EQ(back->outcome.error().attempts.size(), 1u);
  EXPECT_EQ(back->outcome.error().attempts[0].error, ErrorCode::RateLimited);
}

TEST(TaskJsonTest, DefaultTaskResultIsNotASuccess) {
  TaskResult r;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.outcome.error().code, ErrorCode::Internal);
}

TEST(TaskJsonTest, MalformedInputIsAnErrorNotAnException) {
  EXPECT_FALSE(taskFromJson(Json::parse(R"({"id": 5})")).has_value());
  EXPECT_FALSE(taskFromJson(Json::array()).has_value());
  EXPECT_FALSE(taskResultFromJson(Json::parse(R"({"task_id":"x"})")).has_value());
  EXPECT_FALSE(chatRequestFromJson(Json::parse(R"({"messages":[{"content":"no role"}]})")));
}

TEST(TaskJsonTest, ErrorCodeNamesParseBack) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    EXPECT_EQ(parseErrorCode(errorCodeName(code)), code);
  }
  EXPECT_FALSE(parseErrorCode("nope").has_value());
}

// The direct text encoders (what the SQLite queue stores) must write exactly the tree builders'
// JSON: every optional field set, tool calls, raw JSON members, an error with its attempt trail.
TEST(TaskJsonTest, TextEncodersAgreeWithTheTreeBuilders) {
  Task t = makeEnhancementTask("t-\"2\"", "line\nwith \x01 control", "fix", "gpt-4o-mini");
  t.priority = Priority::Critical;
  t.request.temperature = 0.1;
  t.request.top_p = 0.9;
  t.request.max_tokens = 64;
  t.request.n = 2;
  t.request.seed = -7;
  t.request.presence_penalty = 0.5;
  t.request.frequency_penalty = -0.25;
  t.request.stop = {"END", "STOP"};
  t.request.tools = Json::array({Json{{"type", "function"}, {"function", {{"name", "f"}}}}});
  t.request.tool_choice = "auto";
  t.request.response_format = Json{{"type", "json_object"}};
  t.request.user = "u";
  t.request.stream = true;
  t.request.include_usage = true;
  t.request.extra = Json{{"logprobs", true}};
  t.request.messages.push_back(ChatMessage{
      .role = "assistant",
      .content = "",
      .content_parts = Json::array({"p"}),
      .name = "n",
      .tool_call_id = "c1",
      .tool_calls = {ToolCall{.id = "c1", .type = "function", .name = "f", .arguments = "{}"}}});
  t.options.model = "alias";
  t.options.deadline = std::chrono::milliseconds(1500);
  t.options.attempt_timeout = std::chrono::milliseconds(500);
  t.options.ttft_timeout = std::chrono::milliseconds(200);
  t.options.max_attempts = 4;
  t.options.priority = 3;
  t.options.metadata = {{"k", "v"}};
  t.expires_at = fromUnixMillis(1'900'000'000'123);
  t.max_attempts = 3;
  t.metadata = {{"line", "7"}, {"url", "/v1/chat/completions"}};
  EXPECT_EQ(Json::parse(taskToJsonText(t)), taskToJson(t));
  EXPECT_EQ(Json::parse(taskToJsonText(Task{})), taskToJson(Task{}));

  TaskResult ok;
  ok.task_id = "a";
  ok.priority = Priority::Low;
  ChatResponse resp;
  resp.id = "x";
  resp.model = "m";
  resp.created = 1'700'000'000;
  resp.choices.push_back(ChatChoice{.index = 1,
                                    .role = "assistant",
                                    .content = "h\u00e9",
                                    .tool_calls = {ToolCall{.id = "c", .name = "g"}},
                                    .finish_reason = "tool_calls"});
  resp.usage = {.prompt_tokens = 1, .completion_tokens = 2, .total_tokens = 3};
  resp.deployment = "p/m";
  resp.attempts = 2;
  resp.cost_usd = 0.00125;
  resp.attempt_trail.push_back(Attempt{.deployment = "p/m",
                                       .skipped = false,
                                       .succeeded = false,
                                       .error = ErrorCode::RateLimited,
                                       .http_status = 429,
                                       .start_offset = std::chrono::milliseconds(0),
                                       .duration = std::chrono::milliseconds(30),
                                       .reason = "429"});
  ok.outcome = resp;
  ok.attempts = 2;
  ok.queue_wait = std::chrono::milliseconds(5);
  ok.run_time = std::chrono::milliseconds(80);
  ok.metadata = {{"m", "1"}};
  EXPECT_EQ(Json::parse(taskResultToJsonText(ok)), taskResultToJson(ok));

  TaskResult failed;
  failed.task_id = "b";
  Error e(ErrorCode::ServerError, "upstream said no");
  e.http_status = 503;
  e.retry_after = std::chrono::milliseconds(2000);
  e.provider = "p";
  e.attempts = resp.attempt_trail;
  failed.outcome = std::unexpected(e);
  EXPECT_EQ(Json::parse(taskResultToJsonText(failed)), taskResultToJson(failed));
  auto back = taskResultFromJson(Json::parse(taskResultToJsonText(failed)));
  ASSERT_TRUE(back.has_value());
  ASSERT_FALSE(back->ok());
  EXPECT_EQ(back->outcome.error().code, ErrorCode::ServerError);
  EXPECT_EQ(back->outcome.error().retry_after, std::chrono::milliseconds(2000));
}

TEST(TaskTest, PriorityNamesParse) {
  EXPECT_EQ(parsePriority("CRITICAL"), Priority::Critical);
  EXPECT_EQ(parsePriority("low"), Priority::Low);
  EXPECT_EQ(priorityName(Priority::High), "high");
  EXPECT_FALSE(parsePriority("urgent").has_value());
}

TEST(TaskTest, EnhancementTemplate) {
  Task t = makeEnhancementTask("e1", "The cat sat.", "Make it formal.", "m");
  EXPECT_EQ(t.request.model, "m");
  ASSERT_EQ(t.request.messages.size(), 2u);
  EXPECT_EQ(t.request.messages[0].role, "system");
  EXPECT_EQ(t.request.messages[0].content, kEnhancementSystemPrompt);
  EXPECT_EQ(t.request.messages[1].role, "user");
  EXPECT_EQ(t.request.messages[1].content,
            "Instruction:\nMake it formal.\n\nContent:\nThe cat sat.");
  EXPECT_EQ(t.metadata.at("kind"), "enhancement");
}

// Stored text may carry any integer: far-off times saturate instead of overflowing the clock.
TEST(TaskJsonTest, OutOfRangeUnixMillisSaturate) {
  EXPECT_EQ(fromUnixMillis(INT64_MAX), SystemTime::max());
  EXPECT_EQ(fromUnixMillis(19'000'000'001'231), SystemTime::max());
  EXPECT_EQ(fromUnixMillis(INT64_MIN), SystemTime::min());
  EXPECT_EQ(toUnixMillis(fromUnixMillis(1'900'000'000'123)), 1'900'000'000'123);
}

}  // namespace
}  // namespace llmpool::tasks
