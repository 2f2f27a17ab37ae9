// `llmpool run` end to end against `llmpool mock`: a full batch, priority order, invalid lines,
// --strict and config errors. Real processes on 127.0.0.1.

#include <gtest/gtest.h>

#include "run_test_support.h"

namespace llmpool::testing::run {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs `input` against a mock with the usual config; the output lines by custom_id.
std::map<std::string, Json> runToCompletion(const ScratchDir& dir, const MockProvider& mock,
                                            const std::string& input) {
  writeText(dir.file("in.jsonl"), input);
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  Subprocess run(runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml")),
                 dir.file("stderr.txt"));
  EXPECT_EQ(0, run.wait(seconds(30))) << readText(dir.file("stderr.txt"));
  std::map<std::string, Json> by_id;
  for (const Json& l : readLines(dir.file("out.jsonl"))) by_id[l["custom_id"]] = l;
  return by_id;
}

TEST(RunBatchTest, TwoThousandTasksCompleteWithEveryIdOnce) {
  ScratchDir dir;
  MockProvider mock({"--latency", "2ms", "--threads", "2"});
  writeText(dir.file("in.jsonl"), chatBatch(2000));
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  Subprocess run(runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml"),
                         {"--concurrency", "64", "--json"}),
                 dir.file("stderr.txt"));
  const std::string summary_text = run.readAll(seconds(30));
  ASSERT_EQ(0, run.wait(seconds(30))) << readText(dir.file("stderr.txt"));
  expectExactlyOnce(dir.file("out.jsonl"), 2000);

  Json summary = Json::parse(summary_text, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << summary_text;
  EXPECT_EQ(2000, summary["tasks"]);
  EXPECT_EQ(2000, summary["succeeded"]);
  EXPECT_EQ(0, summary["failed"]);
  EXPECT_EQ(2000, summary["run_now"]);
  EXPECT_GT(summary["tokens"]["total"].get<int>(), 0);
  EXPECT_GT(summary["latency_s"]["p50"].get<double>(), 0.0);
  EXPECT_EQ(2000, mockRequests(mock.port()));

  // The reply is the mock's answer to this very line.
  const auto lines = readLines(dir.file("out.jsonl"));
  for (const auto& l : lines) {
    if (l["custom_id"] == "task-17") {
      EXPECT_EQ("mock reply: prompt 17", l["response"]["body"]["choices"][0]["message"]["content"]);
    }
  }

  // Running the same command again sends nothing and changes nothing.
  Subprocess again(runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml")),
                   dir.file("stderr2.txt"));
  ASSERT_EQ(0, again.wait(seconds(30))) << readText(dir.file("stderr2.txt"));
  expectExactlyOnce(dir.file("out.jsonl"), 2000);
  EXPECT_EQ(2000, mockRequests(mock.port()));
  EXPECT_NE(std::string::npos, readText(dir.file("stderr2.txt")).find("nothing to run"));
}

TEST(RunBatchTest, PriorityOrderIsObservedAtTheMockWithConcurrencyOne) {
  ScratchDir dir;
  MockProvider mock;
  const char* priorities[] = {"low", "normal", "high", "critical"};
  // More lines than one submission chunk (2048), so the order also holds while the file is
  // still being submitted as the first tasks run.
  constexpr int kTasks = 2500;
  std::string text;
  for (int i = 0; i < kTasks; ++i) {
    const std::string p = priorities[(i * 7) % 4];
    text += chatLine("t" + std::to_string(i), p + " " + std::to_string(i), p);
  }
  writeText(dir.file("in.jsonl"), text);
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl(), 1));
  Subprocess run(runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml"),
                         {"--concurrency", "1", "-q"}),
                 dir.file("stderr.txt"));
  ASSERT_EQ(0, run.wait(seconds(30))) << readText(dir.file("stderr.txt"));

  auto [status, body] = httpRequest(mock.port(), "GET", "/admin/requests");
  ASSERT_EQ(200, status);
  Json log = Json::parse(body);
  ASSERT_EQ(static_cast<size_t>(kTasks), log["requests"].size());
  int last_rank = 4;
  int last_index = -1;
  for (const auto& r : log["requests"]) {
    const std::string prompt = r["prompt"];
    const auto space = prompt.find(' ');
    const std::string p = prompt.substr(0, space);
    const int index = std::stoi(prompt.substr(space + 1));
    int rank = 0;
    while (priorities[rank] != p) ++rank;
    ASSERT_LE(rank, last_rank) << "priority order broken at " << prompt;
    if (rank == last_rank) {
      EXPECT_GT(index, last_index) << "FIFO within " << p << " broken at " << prompt;
    }
    last_rank = rank;
    last_index = index;
  }
}

TEST(RunBatchTest, ALineAskingForLogprobsGetsThemInItsOutput) {
  // The output body is the provider's own reply, as in OpenAI's Batch output: what the decoded
  // reply does not model (logprobs) is there.
  ScratchDir dir;
  MockProvider mock;
  std::map<std::string, Json> by_id = runToCompletion(
      dir, mock,
      R"({"custom_id":"lp","method":"POST","url":"/v1/chat/completions","body":)"
      R"({"model":"m","logprobs":true,"messages":[{"role":"user","content":"a b"}]}})"
      "\n" +
          chatLine("plain", "c"));
  ASSERT_EQ(2u, by_id.size());
  const Json& choice = by_id["lp"]["response"]["body"]["choices"][0];
  EXPECT_EQ("mock reply: a b", choice["message"]["content"]);
  std::string tokens;
  for (const Json& entry : choice["logprobs"]["content"]) tokens += entry["token"];
  EXPECT_EQ("mock reply: a b", tokens);
  EXPECT_TRUE(by_id["plain"]["response"]["body"]["choices"][0]["logprobs"].is_null());
}

TEST(RunBatchTest, ResponsesLinesGetAResponseBody) {
  // OpenAI's Batch API takes /v1/responses lines; they run through the chat path, as the
  // gateway serves them, and their output body is a Response.
  ScratchDir dir;
  MockProvider mock;
  std::map<std::string, Json> by_id =
      runToCompletion(dir, mock,
                      R"({"custom_id":"resp","method":"POST","url":"/v1/responses","body":)"
                      R"({"model":"m","instructions":"be brief","input":"a b"}})"
                      "\n" +
                          chatLine("plain", "c"));
  ASSERT_EQ(2u, by_id.size());
  const Json& body = by_id["resp"]["response"]["body"];
  EXPECT_EQ("response", body.value("object", "")) << body.dump();
  EXPECT_EQ("be brief", body.value("instructions", ""));
  EXPECT_EQ("mock reply: a b", body["output"][0]["content"][0].value("text", ""));
  EXPECT_EQ("chat.completion", by_id["plain"]["response"]["body"].value("object", ""));
}

TEST(RunBatchTest, InvalidLinesAreReportedWithLineNumbersAndTheRestRuns) {
  ScratchDir dir;
  MockProvider mock;
  std::string text;
  for (int i = 1; i <= 16; ++i) {
    if (i == 3) {
      text += "{\"custom_id\": \"broken\", \n";  // line 3: malformed
    } else if (i == 7) {
      text += R"({"url":"/v1/chat/completions","body":{}})"
              "\n";  // line 7: no custom_id
    } else if (i == 10) {
      text += chatLine("id-2", "again");  // line 10: duplicate of line 2
    } else if (i == 15) {
      text += R"({"custom_id":"id-15","url":"/v1/images","body":{}})"
              "\n";  // unknown url
    } else {
      text += chatLine("id-" + std::to_string(i), "p" + std::to_string(i));
    }
  }
  const std::string input = dir.file("in.jsonl");
  writeText(input, text);
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  Subprocess run(runArgs(input, dir.file("out.jsonl"), dir.file("cfg.yaml"),
                         {"--errors", dir.file("err.jsonl"), "--json"}),
                 dir.file("stderr.txt"));
  const std::string summary_text = run.readAll(seconds(30));
  ASSERT_EQ(1, run.wait(seconds(30)));
  const std::string err = readText(dir.file("stderr.txt"));
  EXPECT_NE(std::string::npos, err.find(input + ":3: malformed JSON")) << err;
  EXPECT_NE(std::string::npos, err.find(input + ":7: custom_id: missing")) << err;
  EXPECT_NE(std::string::npos, err.find(input + ":10: custom_id: 'id-2' duplicates line 2")) << err;
  EXPECT_NE(std::string::npos, err.find(input + ":15: url: unknown endpoint '/v1/images'")) << err;

  // 12 valid lines ran; the invalid line with its own id has an output line too.
  const auto out = readLines(dir.file("out.jsonl"));
  EXPECT_EQ(13u, out.size());
  const auto counts = idCounts(out);
  EXPECT_EQ(13u, counts.size());
  EXPECT_EQ(1, counts.at("id-15"));
  EXPECT_EQ(12, mockRequests(mock.port()));
  for (const auto& l : out) {
    if (l["custom_id"] == "id-15") {
      EXPECT_TRUE(l["response"].is_null());
      EXPECT_EQ("invalid_input", l["error"]["code"]);
      EXPECT_EQ(
          "line 15: url: unknown endpoint '/v1/images' (expected /v1/chat/completions, "
          "/v1/embeddings, /v1/messages or /v1/responses)",
          l["error"]["message"]);
    }
  }
  // Every invalid line is in the error file, with its line number.
  const auto errors = readLines(dir.file("err.jsonl"));
  ASSERT_EQ(4u, errors.size());
  for (const auto& l : errors) EXPECT_EQ("invalid_input", l["error"]["code"]);

  Json summary = Json::parse(summary_text);
  EXPECT_EQ(16, summary["tasks"]);
  EXPECT_EQ(12, summary["succeeded"]);
  EXPECT_EQ(4, summary["failed"]);
  EXPECT_EQ(4, summary["failed_by_kind"]["invalid_input"]);

  // A rerun neither duplicates the invalid lines' entries nor resends anything.
  Subprocess again(runArgs(input, dir.file("out.jsonl"), dir.file("cfg.yaml"),
                           {"--errors", dir.file("err.jsonl"), "-q"}),
                   dir.file("stderr2.txt"));
  ASSERT_EQ(1, again.wait(seconds(30)));
  EXPECT_EQ(13u, readLines(dir.file("out.jsonl")).size());
  EXPECT_EQ(4u, readLines(dir.file("err.jsonl")).size());
  EXPECT_EQ(12, mockRequests(mock.port()));
}

TEST(RunBatchTest, StrictRefusesTheWholeFile) {
  ScratchDir dir;
  MockProvider mock;
  writeText(dir.file("in.jsonl"), chatBatch(5) + "oops\n");
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  Subprocess run(
      runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml"), {"--strict"}),
      dir.file("stderr.txt"));
  ASSERT_EQ(2, run.wait(seconds(30)));
  const std::string err = readText(dir.file("stderr.txt"));
  EXPECT_NE(std::string::npos, err.find("in.jsonl:6: malformed JSON")) << err;
  EXPECT_NE(std::string::npos, err.find("nothing was run")) << err;
  EXPECT_EQ(0, mockRequests(mock.port()));
  EXPECT_TRUE(readLines(dir.file("out.jsonl")).empty());
}

TEST(RunBatchTest, MissingOrInvalidConfigIsAUsageError) {
  ScratchDir dir;
  writeText(dir.file("in.jsonl"), chatBatch(1));
  {
    Subprocess run({llmpoolBinary(), "run", dir.file("in.jsonl"), "--output", dir.file("o.jsonl")},
                   dir.file("e1.txt"));
    ASSERT_EQ(2, run.wait(seconds(10)));
    EXPECT_NE(std::string::npos, readText(dir.file("e1.txt")).find("--config FILE is required"));
  }
  writeText(dir.file("bad.yaml"), "pool:\n  max_concurent_requests: 5\n");
  Subprocess run(runArgs(dir.file("in.jsonl"), dir.file("o.jsonl"), dir.file("bad.yaml")),
                 dir.file("e2.txt"));
  ASSERT_EQ(2, run.wait(seconds(10)));
  const std::string err = readText(dir.file("e2.txt"));
  EXPECT_NE(std::string::npos, err.find("bad.yaml:2")) << err;
  EXPECT_NE(std::string::npos, err.find("invalid config")) << err;
}

}  // namespace
}  // namespace llmpool::testing::run
