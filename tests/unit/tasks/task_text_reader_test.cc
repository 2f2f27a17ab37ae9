// The tree-free task reader must read what taskToJsonText writes exactly like the tree reader,
// and leave everything else to it.

#include "tasks/task_text_reader.h"

#include <gtest/gtest.h>

#include "tasks/task_json.h"

namespace llmpool::tasks {
namespace {

void expectSameTask(const Task& a, const Task& b, const std::string& text) {
  // The tree form covers every field; comparing the re-encoded tasks compares them all.
  EXPECT_EQ(taskToJson(a), taskToJson(b)) << text;
}

// Whenever the fast reader answers, the tree reader must accept the text with the same task.
void checkAgreement(const std::string& text) {
  auto fast = readTaskText(text);
  if (!fast) return;
  auto json = Json::parse(text, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << "fast reader accepted invalid JSON: " << text;
  auto tree = taskFromJson(json);
  ASSERT_TRUE(tree.has_value()) << "fast reader accepted what the tree refuses (" << text
                                << "): " << tree.error().message;
  expectSameTask(*fast, *tree, text);
}

Task batchTask() {
  Task t;
  t.id = "t-17";
  t.priority = Priority::Critical;
  t.request.model = "m";
  t.request.messages = {{.role = "system", .content = "Be brief \"now\" \xc3\xa9"},
                        {.role = "user", .content = "hi", .name = "bob"}};
  t.request.temperature = 0.7;
  t.request.top_p = 1.0;
  t.request.max_tokens = 16;
  t.request.stop = {"END", "\n"};
  t.request.n = 2;
  t.request.seed = -5;
  t.request.presence_penalty = -0.5;
  t.request.frequency_penalty = 1.25;
  t.request.user = "u";
  t.request.include_usage = true;
  t.options.model = "alias";
  t.options.deadline = std::chrono::milliseconds(1500);
  t.options.attempt_timeout = std::chrono::milliseconds(700);
  t.options.ttft_timeout = std::chrono::milliseconds(300);
  t.options.max_attempts = 4;
  t.options.priority = 3;
  t.options.metadata = {{"batch.url", "/v1/chat/completions"}};
  t.expires_at = fromUnixMillis(1'900'000'000'123);
  t.max_attempts = 3;
  t.metadata = {{"batch.url", "/v1/chat/completions"}, {"batch.line", "7"}};
  return t;
}

TEST(TaskTextReaderTest, ReadsWhatTheWriterWritesLikeTheTree) {
  const Task t = batchTask();
  const std::string text = taskToJsonText(t);
  auto fast = readTaskText(text);
  ASSERT_TRUE(fast.has_value()) << text;  // the writer's shape really takes the fast path
  expectSameTask(*fast, t, text);
  checkAgreement(text);

  Task minimal;
  minimal.id = "x";
  minimal.request.model = "m";
  const std::string minimal_text = taskToJsonText(minimal);
  ASSERT_TRUE(readTaskText(minimal_text).has_value()) << minimal_text;
  checkAgreement(minimal_text);
}

TEST(TaskTextReaderTest, LeavesEverythingElseToTheTree) {
  Task tools = batchTask();
  tools.request.tools = Json::array({Json{{"type", "function"}}});
  Task parts = batchTask();
  parts.request.messages[0].content_parts = Json::array({Json{{"type", "text"}}});
  Task extra = batchTask();
  extra.request.extra = Json{{"logprobs", true}};
  const std::string texts[] = {
      taskToJsonText(tools),
      taskToJsonText(parts),
      taskToJsonText(extra),
      R"({"id":"a","id":"b","request":{"model":"m"}})",
      R"({"id":"a","request":{"model":"m"},"max_attempts":null})",
      R"({"id":"a","request":{"model":"m","n":1.0}})",
      R"({"id":"a","request":{"model":"m","n":3000000000}})",
      R"({"id":"a","priority":"urgent","request":{"model":"m"}})",
      R"({"id":"a","metadata":{"k":"1","k":"2"},"request":{"model":"m"}})",
      R"({"id":"a"})",
      R"({"request":{"model":"m"}})",
      R"({"id":"a","request":{"model":"m"}} trailing)",
  };
  for (const auto& text : texts) EXPECT_FALSE(readTaskText(text).has_value()) << text;
  // And the public reader still answers through the tree.
  auto with_tools = taskFromJsonText(texts[0]);
  ASSERT_TRUE(with_tools.has_value());
  EXPECT_EQ(with_tools->request.tools, tools.request.tools);
  EXPECT_FALSE(taskFromJsonText("not json").has_value());
}

TEST(TaskTextReaderTest, AgreesWithTheTreeOnEveryTruncationAndByteFlip) {
  const std::string text = taskToJsonText(batchTask());
  for (size_t n = 0; n <= text.size(); ++n) checkAgreement(text.substr(0, n));
  for (size_t i = 0; i < text.size(); ++i) {
    for (char c : {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'x', '1', '-', '.', '\xff'}) {
      std::string flipped = text;
      flipped[i] = c;
      checkAgreement(flipped);
    }
  }
}

}  // namespace
}  // namespace llmpool::tasks
