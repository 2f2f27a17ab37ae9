#include "batch/input_line.h"
#include "batch/input_line_text.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

namespace llmpool::batch {
namespace {

InputRules rules() {
  InputRules r;
  r.aliases = {"gpt-4o-mini", "claude"};
  return r;
}

InputError errorOf(const std::string& line, const InputRules& r = rules()) {
  auto parsed = parseInputLine(line, 7, r);
  EXPECT_FALSE(parsed.has_value()) << line;
  if (parsed) return {};
  EXPECT_EQ(7u, parsed.error().line);
  return parsed.error();
}

TEST(InputLineTest, ChatCompletionLineBecomesTaskWithPriorityAndUrl) {
  auto task = parseInputLine(
      R"({"custom_id":"r1","method":"POST","url":"/v1/chat/completions","priority":"high",)"
      R"("body":{"model":"gpt-4o-mini","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}})",
      3, rules());
  ASSERT_TRUE(task.has_value()) << task.error().message;
  EXPECT_EQ("r1", task->id);
  EXPECT_EQ(Priority::High, task->priority);
  EXPECT_EQ("gpt-4o-mini", task->request.model);
  ASSERT_EQ(1u, task->request.messages.size());
  EXPECT_EQ("hi", task->request.messages[0].content);
  EXPECT_EQ(9, task->request.max_tokens.value_or(0));
  EXPECT_EQ("/v1/chat/completions", task->metadata.at(kUrlKey));
  EXPECT_EQ("/v1/chat/completions", task->options.metadata.at(kUrlKey));
  EXPECT_EQ("3", task->metadata.at("batch.line"));
}

TEST(InputLineTest, AModelAnAliasPatternTakesIsRouted) {
  InputRules r;
  r.aliases = {"claude", "openai/*"};
  const std::string line =
      R"({"custom_id":"r1","url":"/v1/chat/completions",)"
      R"("body":{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hi"}]}})";
  auto task = parseInputLine(line, 1, r);
  ASSERT_TRUE(task.has_value()) << task.error().message;
  EXPECT_EQ("openai/gpt-4.1", task->request.model);
  auto fast = parseInputLineText(line, 1, r);  // the fast reader agrees
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ("openai/gpt-4.1", fast->request.model);
  EXPECT_FALSE(parseInputLine(R"({"custom_id":"r2","url":"/v1/chat/completions",)"
                              R"("body":{"model":"openai/","messages":[]}})",
                              2, r)
                   .has_value());
}

TEST(InputLineTest, PriorityDefaultsToNormal) {
  auto task = parseInputLine(
      R"({"custom_id":"r1","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"x"}]}})",
      1, rules());
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(Priority::Normal, task->priority);
}

TEST(InputLineTest, AnthropicMessagesLineIsParsedInItsDialect) {
  auto task = parseInputLine(
      R"({"custom_id":"a","method":"POST","url":"/v1/messages","body":{"model":"claude",)"
      R"("max_tokens":50,"system":"be brief","messages":[{"role":"user","content":"hello"}]}})",
      1, rules());
  ASSERT_TRUE(task.has_value()) << task.error().message;
  ASSERT_EQ(2u, task->request.messages.size());
  EXPECT_EQ("system", task->request.messages[0].role);
  EXPECT_EQ("/v1/messages", task->metadata.at(kUrlKey));
}

TEST(InputLineTest, ResponsesLineIsReadIntoTheChatModelAndKeepsItsSettings) {
  auto task = parseInputLine(
      R"({"custom_id":"r","method":"POST","url":"/v1/responses","body":{"model":"claude",)"
      R"("instructions":"be brief","input":"hello","max_output_tokens":20,"metadata":{"k":"v"}}})",
      1, rules());
  ASSERT_TRUE(task.has_value()) << task.error().message;
  ASSERT_EQ(2u, task->request.messages.size());
  EXPECT_EQ("system", task->request.messages[0].role);
  EXPECT_EQ("hello", task->request.messages[1].content);
  EXPECT_EQ(20, task->request.max_tokens.value_or(0));
  EXPECT_EQ("/v1/responses", task->metadata.at(kUrlKey));
  const Json echo = Json::parse(task->metadata.at(kResponsesEchoKey));
  EXPECT_EQ("be brief", echo.value("instructions", ""));
  EXPECT_EQ(Json::parse(R"({"k":"v"})"), echo["metadata"]);
  // Its problems are named like any body's.
  EXPECT_EQ(
      "body.previous_response_id: not supported: this gateway keeps no responses; send the whole "
      "conversation in `input`",
      errorOf(R"({"custom_id":"r","url":"/v1/responses","body":{"model":"claude","input":"x",)"
              R"("previous_response_id":"resp_1"}})")
          .message);
}

TEST(InputLineTest, EmbeddingsLineKeepsItsBodyForTheAdapter) {
  auto task = parseInputLine(
      R"({"custom_id":"e","url":"/v1/embeddings","body":{"model":"gpt-4o-mini","input":["a","b"]}})",
      1, rules());
  ASSERT_TRUE(task.has_value()) << task.error().message;
  EXPECT_EQ("gpt-4o-mini", task->request.model);
  EXPECT_EQ(Json::array({"a", "b"}), task->request.extra.at("input"));
  EXPECT_EQ("/v1/embeddings", task->options.metadata.at(kUrlKey));
}

TEST(InputLineTest, EnhancementFormUsesTheTemplateAndDefaultModel) {
  InputRules r = rules();
  r.default_model = "claude";
  auto task = parseInputLine(
      R"({"custom_id":"x","content":"raw text","instruction":"fix it","priority":"low"})", 1, r);
  ASSERT_TRUE(task.has_value()) << task.error().message;
  EXPECT_EQ("claude", task->request.model);
  EXPECT_EQ(Priority::Low, task->priority);
  ASSERT_EQ(2u, task->request.messages.size());
  EXPECT_NE(std::string::npos, task->request.messages[1].content.find("raw text"));
  EXPECT_EQ("enhancement", task->metadata.at(kUrlKey));
  EXPECT_EQ("enhancement", task->metadata.at("kind"));
}

TEST(InputLineTest, EnhancementWithoutModelNeedsADefault) {
  auto e = errorOf(R"({"custom_id":"x","content":"c","instruction":"i"})");
  EXPECT_EQ("x", e.custom_id.value_or(""));
  EXPECT_NE(std::string::npos, e.message.find("model: required")) << e.message;
}

TEST(InputLineTest, EveryProblemIsNamed) {
  struct Case {
    std::string line;
    std::string message_part;
    bool has_id;
  };
  const std::vector<Case> cases = {
      {R"({"custom_id":"a",)", "malformed JSON", false},
      {R"([1,2])", "expected a JSON object", false},
      {R"({"url":"/v1/chat/completions","body":{}})", "custom_id: missing", false},
      {R"({"custom_id":5,"url":"/v1/chat/completions","body":{}})",
       "custom_id: expected a non-empty string", false},
      {R"({"custom_id":"","url":"/v1/chat/completions","body":{}})",
       "custom_id: expected a non-empty string", false},
      {R"({"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{}})",
       "method: expected \"POST\"", true},
      {R"({"custom_id":"a","url":"/v1/completions","body":{}})",
       "url: unknown endpoint '/v1/completions'", true},
      {R"({"custom_id":"a","body":{"model":"claude"}})", "url: missing", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions"})", "body: missing", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions","body":[]})",
       "body: expected a JSON object", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions","body":{"messages":[]}})",
       "body.model: missing", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"gpt-5","messages":[{"role":"user","content":"x"}]}})",
       "body.model: unknown model alias 'gpt-5' (configured: claude, gpt-4o-mini)", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"wizard","content":"x"}]}})",
       "body.messages[0].role", true},
      {R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}})",
       "body.stream: streaming is not supported", true},
      {R"({"custom_id":"a","priority":"urgent","url":"/v1/chat/completions","body":{}})",
       "priority: expected one of critical, high, normal, low", true},
      {R"({"custom_id":"a"})", "expected url and body", true},
      {R"({"custom_id":"a","content":"c","url":"/v1/chat/completions"})", "not both", true},
      {R"({"custom_id":"a","content":7,"instruction":"i","model":"claude"})",
       "content: expected a string", true},
  };
  for (const auto& c : cases) {
    auto e = errorOf(c.line);
    EXPECT_NE(std::string::npos, e.message.find(c.message_part))
        << c.line << "\n  got: " << e.message;
    EXPECT_EQ(c.has_id, e.custom_id.has_value()) << c.line;
  }
}

TEST(InputLineTest, MalformedJsonNamesTheColumn) {
  auto e = errorOf(R"({"custom_id": oops})");
  EXPECT_NE(std::string::npos, e.message.find("column 15")) << e.message;
}

TEST(InputLineTest, AnyModelIsAcceptedWithoutAliases) {
  auto task = parseInputLine(
      R"({"custom_id":"r","url":"/v1/chat/completions","body":{"model":"whatever","messages":[{"role":"user","content":"x"}]}})",
      1, InputRules{});
  EXPECT_TRUE(task.has_value());
}

TEST(ScanInputTest, ReportsLineNumbersSkipsBlanksAndFlagsDuplicates) {
  const std::string text =
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"1"}]}})"
      "\n\n"
      "not json\n"
      R"({"custom_id":"b","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"2"}]}})"
      "\r\n"
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"3"}]}})"
      "\n   \n"
      R"({"custom_id":"c","url":"/v1/nope","body":{}})";  // no final newline
  std::vector<std::string> ids;
  std::vector<size_t> lines;
  std::vector<InputError> errors;
  auto counts = scanInput(
      text, rules(),
      [&](const ValidLine& t, const LineRef& ref) {
        ids.push_back(t.id);
        lines.push_back(ref.line);
      },
      [&](const InputError& e) { errors.push_back(e); });
  EXPECT_EQ(5u, counts.lines);
  EXPECT_EQ(2u, counts.valid);
  EXPECT_EQ(3u, counts.invalid);
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), ids);
  EXPECT_EQ((std::vector<size_t>{1, 4}), lines);
  ASSERT_EQ(3u, errors.size());
  EXPECT_EQ(3u, errors[0].line);
  EXPECT_NE(std::string::npos, errors[0].message.find("malformed JSON"));
  EXPECT_EQ(5u, errors[1].line);
  EXPECT_TRUE(errors[1].duplicate);
  EXPECT_EQ("custom_id: 'a' duplicates line 1", errors[1].message);
  EXPECT_EQ(7u, errors[2].line);
  EXPECT_FALSE(errors[2].duplicate);
  EXPECT_EQ("c", errors[2].custom_id.value_or(""));
}

TEST(ScanInputTest, AnInvalidFirstLineStillOwnsItsId) {
  // The first line with an id owns the id's output line, even when that line is invalid; the
  // later valid line with the same id is the duplicate.
  const std::string text =
      R"({"custom_id":"a","url":"/v1/bad","body":{}})"
      "\n"
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"x"}]}})"
      "\n";
  std::vector<InputError> errors;
  size_t valid = 0;
  scanInput(
      text, rules(), [&](const ValidLine&, const LineRef&) { ++valid; },
      [&](const InputError& e) { errors.push_back(e); });
  EXPECT_EQ(0u, valid);
  ASSERT_EQ(2u, errors.size());
  EXPECT_FALSE(errors[0].duplicate);
  EXPECT_TRUE(errors[1].duplicate);
  EXPECT_EQ(2u, errors[1].line);
}

// The scan parses slices of the file on several threads; what the callbacks see (order, line
// numbers, duplicates across slices) must not depend on how many.
TEST(ScanInputTest, ThreadCountDoesNotChangeTheOutcome) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "id-" + std::to_string(i % 29);  // ids 0..10 come back as duplicates
    if (i % 7 == 3) {
      text += "not json at all";
    } else if (i % 11 == 5) {
      text += "   ";
    } else {
      text +=
          R"({"custom_id":")" + id +
          R"(","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"x"}]}})";
    }
    text += i % 5 == 0 ? "\r\n" : "\n";
  }
  text +=
      R"({"custom_id":"last","url":"/v1/chat/completions","body":{"model":"claude","messages":[{"role":"user","content":"x"}]}})";
  auto transcript = [&](size_t threads) {
    std::vector<std::string> events;
    auto counts = scanInput(
        text, rules(),
        [&](const ValidLine& v, const LineRef& ref) {
          events.push_back("ok " + v.id + " @" + std::to_string(ref.line));
        },
        [&](const InputError& e) {
          events.push_back("error @" + std::to_string(e.line) + " " + e.message +
                           (e.duplicate ? " (dup)" : ""));
        },
        threads);
    events.push_back(std::to_string(counts.lines) + "/" + std::to_string(counts.valid) + "/" +
                     std::to_string(counts.invalid));
    return events;
  };
  const auto one = transcript(1);
  EXPECT_EQ("ok last @41", one[one.size() - 2]);
  EXPECT_NE(
      std::find(one.begin(), one.end(), "error @30 custom_id: 'id-0' duplicates line 1 (dup)"),
      one.end());
  for (size_t threads : {2u, 3u, 4u, 7u, 64u}) EXPECT_EQ(one, transcript(threads)) << threads;
}

}  // namespace
}  // namespace llmpool::batch
