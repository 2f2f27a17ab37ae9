#include "batch/output_line.h"

#include <gtest/gtest.h>

#include "batch/input_line.h"

namespace llmpool::batch {
namespace {

ChatResponse reply(std::string text) {
  ChatResponse r;
  r.id = "chatcmpl-1";
  r.model = "mock-model";
  r.created = 1700000000;
  ChatChoice c;
  c.content = std::move(text);
  c.finish_reason = "stop";
  r.choices.push_back(c);
  r.usage = {.prompt_tokens = 3, .completion_tokens = 4, .total_tokens = 7};
  return r;
}

void expectShape(const Json& line) {
  ASSERT_TRUE(line.is_object());
  EXPECT_EQ(4u, line.size()) << line.dump();
  EXPECT_TRUE(line.at("id").is_string());
  EXPECT_TRUE(line.at("id").get<std::string>().starts_with("batch_req_"));
  EXPECT_TRUE(line.contains("custom_id"));
  EXPECT_TRUE(line.contains("response"));
  EXPECT_TRUE(line.contains("error"));
}

TEST(OutputLineTest, SuccessCarriesStatus200AndAChatCompletionBody) {
  Json line = successLine("req-1", kUrlChat, reply("4"));
  expectShape(line);
  EXPECT_EQ("req-1", line["custom_id"]);
  EXPECT_TRUE(line["error"].is_null());
  const Json& response = line["response"];
  EXPECT_EQ(200, response["status_code"]);
  EXPECT_TRUE(response["request_id"].get<std::string>().starts_with("req_"));
  EXPECT_EQ("chat.completion", response["body"]["object"]);
  EXPECT_EQ("4", response["body"]["choices"][0]["message"]["content"]);
  EXPECT_EQ(7, response["body"]["usage"]["total_tokens"]);
  EXPECT_EQ(std::nullopt, failureKind(line));
}

TEST(OutputLineTest, MessagesLinesAnswerInTheAnthropicShape) {
  Json line = successLine("m", kUrlMessages, reply("hello"));
  EXPECT_EQ("message", line["response"]["body"]["type"]);
  EXPECT_EQ("hello", line["response"]["body"]["content"][0]["text"]);
}

TEST(OutputLineTest, ResponsesLinesAnswerWithAResponseRepeatingTheirSettings) {
  Json line = successLine("r", kUrlResponses, reply("hello"), R"({"instructions":"be brief"})");
  const Json& body = line["response"]["body"];
  EXPECT_EQ("response", body["object"]);
  EXPECT_EQ("completed", body["status"]);
  EXPECT_EQ("be brief", body["instructions"]);
  EXPECT_EQ("hello", body["output"][0]["content"][0]["text"]);
  EXPECT_EQ(7, body["usage"]["total_tokens"]);
  // Through the result path, the settings come from the task's metadata.
  TaskResult result;
  result.task_id = "r";
  result.outcome = reply("hello");
  result.metadata = {{kUrlKey, std::string(kUrlResponses)},
                     {kResponsesEchoKey, R"({"instructions":"be brief"})"}};
  EXPECT_EQ(serializeLine(line), resultLineText(result));
}

TEST(OutputLineTest, EmbeddingsBodyIsTheStoredObject) {
  ChatResponse r =
      reply(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}]})");
  Json line = successLine("e", kUrlEmbeddings, r);
  EXPECT_EQ("list", line["response"]["body"]["object"]);
  EXPECT_EQ(0.5, line["response"]["body"]["data"][0]["embedding"][0]);
}

TEST(OutputLineTest, HttpFailureHasStatusAndOpenAIErrorBody) {
  Error e(ErrorCode::RateLimited, "slow down");
  e.http_status = 429;
  Json line = failureLine("r", kUrlChat, e);
  expectShape(line);
  EXPECT_TRUE(line["error"].is_null());
  EXPECT_EQ(429, line["response"]["status_code"]);
  const Json& err = line["response"]["body"]["error"];
  EXPECT_EQ("slow down", err["message"]);
  EXPECT_EQ("rate_limit_error", err["type"]);
  EXPECT_TRUE(err["param"].is_null());
  EXPECT_EQ("rate_limited", err["code"]);
  EXPECT_EQ("rate_limited", failureKind(line));
}

TEST(OutputLineTest, HttpFailureOfAMessagesLineUsesTheAnthropicErrorBody) {
  Error e(ErrorCode::ServerError, "boom");
  e.http_status = 503;
  Json line = failureLine("m", kUrlMessages, e);
  EXPECT_EQ(503, line["response"]["status_code"]);
  EXPECT_EQ("error", line["response"]["body"]["type"]);
  EXPECT_TRUE(failureKind(line).has_value());
}

TEST(OutputLineTest, NonHttpFailureHasNullResponseAndCodeMessage) {
  Json line = failureLine("r", kUrlChat, Error(ErrorCode::Timeout, "attempt timed out"));
  expectShape(line);
  EXPECT_TRUE(line["response"].is_null());
  EXPECT_EQ("timeout", line["error"]["code"]);
  EXPECT_EQ("attempt timed out", line["error"]["message"]);
  EXPECT_EQ("timeout", failureKind(line));
}

TEST(OutputLineTest, ResultLineFollowsTheTaskUrl) {
  TaskResult ok;
  ok.task_id = "t";
  ok.outcome = reply("x");
  ok.metadata[kUrlKey] = std::string(kUrlMessages);
  EXPECT_EQ("message", resultLine(ok)["response"]["body"]["type"]);

  TaskResult bad;
  bad.task_id = "t2";
  bad.outcome = std::unexpected(Error(ErrorCode::ConnectFailed, "refused"));
  Json line = resultLine(bad);
  EXPECT_EQ("t2", line["custom_id"]);
  EXPECT_EQ("connect_failed", line["error"]["code"]);
}

// The runner writes resultLineText(); it must be the tree path's line for every endpoint and for
// failures: the same JSON value (a chat body's members may come in another order, which JSON
// readers ignore), on one line, with the envelope's members in the tree path's order.
TEST(OutputLineTest, ResultLineTextIsTheSerializedResultLine) {
  std::vector<TaskResult> results;
  for (std::string_view url : {kUrlChat, kUrlMessages}) {
    TaskResult ok;
    ok.task_id = "id \"quoted\" \xC3\xA9";
    ok.outcome = reply("line\nbreak \x01 and invalid \xFF utf-8");
    ok.metadata[kUrlKey] = std::string(url);
    results.push_back(ok);
  }
  TaskResult embeddings;
  embeddings.task_id = "e";
  embeddings.outcome = reply(R"({"object":"list","data":[]})");
  embeddings.metadata[kUrlKey] = std::string(kUrlEmbeddings);
  results.push_back(embeddings);
  TaskResult http_failure;
  http_failure.task_id = "h";
  Error e(ErrorCode::RateLimited, "slow down");
  e.http_status = 429;
  http_failure.outcome = std::unexpected(e);
  results.push_back(http_failure);
  TaskResult no_url;
  no_url.task_id = "n";
  no_url.outcome = reply("plain");
  results.push_back(no_url);
  for (const auto& r : results) {
    const std::string text = resultLineText(r);
    const std::string tree = serializeLine(resultLine(r));
    EXPECT_EQ(Json::parse(tree), Json::parse(text)) << r.task_id;
    EXPECT_EQ(tree.substr(0, tree.find("\"body\"")), text.substr(0, text.find("\"body\"")));
    EXPECT_EQ(tree.substr(tree.find(",\"request_id\"")), text.substr(text.find(",\"request_id\"")));
    EXPECT_EQ(std::string::npos, text.find('\n'));
  }
}

TEST(OutputLineTest, TheProvidersOwnBodyIsTheLineBodyInItsDialect) {
  // What the reply's fields do not model (logprobs, system_fingerprint) is in the line, as in
  // OpenAI's Batch output; the provider's indentation is not (one line per result).
  ChatResponse r = reply("4");
  r.provider_body =
      "{\n  \"id\": \"chatcmpl-1\",\r\n  \"object\": \"chat.completion\",\n"
      "  \"system_fingerprint\": \"fp_1\",\n  \"choices\": [{\"index\": 0, \"message\": "
      "{\"role\": \"assistant\", \"content\": \"a\\nb\"}, \"logprobs\": {\"content\": []}, "
      "\"finish_reason\": \"stop\"}]\n}";
  r.provider_dialect = WireDialect::OpenAI;
  TaskResult result;
  result.task_id = "t";
  result.outcome = r;
  result.metadata[kUrlKey] = std::string(kUrlChat);
  const std::string text = resultLineText(result);
  EXPECT_EQ(std::string::npos, text.find('\n'));
  EXPECT_EQ(std::string::npos, text.find('\r'));
  const Json line = Json::parse(text);
  EXPECT_EQ(Json::parse(r.provider_body), line["response"]["body"]);
  EXPECT_EQ("a\nb", line["response"]["body"]["choices"][0]["message"]["content"]);
  EXPECT_EQ(line, Json::parse(serializeLine(resultLine(result))));
  // A line asking for the other dialect gets the translation.
  result.metadata[kUrlKey] = std::string(kUrlMessages);
  const Json translated = Json::parse(resultLineText(result));
  EXPECT_EQ("message", translated["response"]["body"]["type"]);
  EXPECT_EQ(translated, Json::parse(serializeLine(resultLine(result))));
}

TEST(OutputLineTest, InvalidInputLines) {
  Json owned = invalidInputLine("a", 4, "url: missing", true);
  expectShape(owned);
  EXPECT_EQ("a", owned["custom_id"]);
  EXPECT_EQ(stableLineId("a"), owned["id"]);
  EXPECT_EQ("invalid_input", owned["error"]["code"]);
  EXPECT_EQ("line 4: url: missing", owned["error"]["message"]);

  Json anonymous = invalidInputLine("", 9, "malformed JSON at column 2", false);
  EXPECT_TRUE(anonymous["custom_id"].is_null());
  EXPECT_EQ(stableLineId(lineKey(9)), anonymous["id"]);

  // A duplicate keeps its custom_id for the reader but not the id of the line that owns it.
  Json duplicate = invalidInputLine("a", 12, "custom_id: 'a' duplicates line 4", false);
  EXPECT_EQ("a", duplicate["custom_id"]);
  EXPECT_NE(owned["id"], duplicate["id"]);
}

TEST(OutputLineTest, LineIdsAreStable) {
  EXPECT_EQ(stableLineId("abc"), stableLineId("abc"));
  EXPECT_NE(stableLineId("abc"), stableLineId("abd"));
  EXPECT_EQ(26u, stableLineId("abc").size());
}

TEST(OutputLineTest, FailureKindOfForeignLines) {
  EXPECT_EQ("http_500",
            failureKind(Json::parse(R"({"response":{"status_code":500,"body":{}},"error":null})")));
  EXPECT_EQ("batch_expired",
            failureKind(Json::parse(
                R"({"response":null,"error":{"code":"batch_expired","message":"x"}})")));
}

}  // namespace
}  // namespace llmpool::batch
