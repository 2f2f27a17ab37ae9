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

}  // namespace
}  // namespace llmpool::tasks
