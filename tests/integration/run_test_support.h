#pragma once
// Shared helpers of the `llmpool run` integration tests (run_*_test.cc): a scratch directory,
// batch files, a config pointing at a mock, and readers for the output files.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "subprocess.h"

namespace llmpool::testing::run {

using Json = nlohmann::json;

/** A fresh directory under the test temp dir, removed at the end. */
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "/llmpool-run-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string chatLine(const std::string& id, const std::string& prompt,
                            const std::string& priority = "") {
  Json line = {{"custom_id", id},
               {"method", "POST"},
               {"url", "/v1/chat/completions"},
               {"body",
                {{"model", "m"},
                 {"max_tokens", 8},
                 {"messages", {{{"role", "user"}, {"content", prompt}}}}}}};
  if (!priority.empty()) line["priority"] = priority;
  return line.dump() + "\n";
}

/** `count` chat lines with ids task-0..task-(count-1). */
inline std::string chatBatch(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += chatLine("task-" + std::to_string(i), "prompt " + std::to_string(i));
  }
  return text;
}

/** A config with one alias "m" served by the mock at `base_url`. */
inline std::string mockConfig(const std::string& base_url, int max_concurrent = 64) {
  const std::string n = std::to_string(max_concurrent);
  return "pool:\n"
         "  max_concurrent_requests: " +
         n +
         "\n"
         "  max_connections_per_provider: " +
         n +
         "\n"
         "  health_checks: false\n"
         "  retry: {max_attempts: 3, initial_backoff: 20ms, max_backoff: 200ms}\n"
         "providers:\n"
         "  - {name: mock, kind: openai, base_url: \"" +
         base_url +
         "/v1\"}\n"
         "models:\n"
         "  m:\n"
         "    - {provider: mock, model: mock-model}\n";
}

/** Every parsed line of a JSONL file (an unparseable line fails the test). */
inline std::vector<Json> readLines(const std::string& path) {
  std::vector<Json> lines;
  std::istringstream in(readText(path));
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    Json line = Json::parse(text, nullptr, false);
    EXPECT_FALSE(line.is_discarded()) << "not JSON: " << text;
    if (!line.is_discarded()) lines.push_back(std::move(line));
  }
  return lines;
}

/** custom_id -> how many lines carry it. */
inline std::map<std::string, int> idCounts(const std::vector<Json>& lines) {
  std::map<std::string, int> counts;
  for (const auto& l : lines) {
    if (l.contains("custom_id") && l["custom_id"].is_string()) {
      ++counts[l["custom_id"].get<std::string>()];
    }
  }
  return counts;
}

/** Asserts the output holds ids task-0..task-(count-1) exactly once each, all successes. */
inline void expectExactlyOnce(const std::string& output, int count) {
  const auto lines = readLines(output);
  EXPECT_EQ(static_cast<size_t>(count), lines.size());
  const auto counts = idCounts(lines);
  EXPECT_EQ(static_cast<size_t>(count), counts.size());
  int missing = 0, duplicated = 0, failed = 0;
  for (int i = 0; i < count; ++i) {
    auto it = counts.find("task-" + std::to_string(i));
    if (it == counts.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  for (const auto& l : lines) {
    if (!l["response"].is_object() || l["response"]["status_code"] != 200) ++failed;
  }
  EXPECT_EQ(0, missing);
  EXPECT_EQ(0, duplicated);
  EXPECT_EQ(0, failed);
}

/** requests_total from the mock's /admin/stats (-1 when unreadable). */
inline long mockRequests(int port) {
  auto [status, body] = httpRequest(port, "GET", "/admin/stats");
  if (status != 200) return -1;
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return -1;
  return j.value("requests_total", -1L);
}

/** Waits until the mock has seen at least `n` requests (polling), or `timeout` passes. */
inline bool waitForRequests(int port, long n, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (mockRequests(port) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/** argv for `llmpool run`. */
inline std::vector<std::string> runArgs(const std::string& input, const std::string& output,
                                        const std::string& config,
                                        std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {llmpoolBinary(), "run",      input, "--output",
                                   output,          "--config", config};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

}  // namespace llmpool::testing::run
