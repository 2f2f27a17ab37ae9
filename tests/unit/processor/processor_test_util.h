#pragma once
// Helpers for the processor tests: task builders, a result collector with a bounded wait, and a
// temporary directory.

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "llmpool/processor.h"

namespace llmpool::testing {

inline Task makeTask(std::string id, Priority priority = Priority::Normal) {
  Task t;
  t.id = std::move(id);
  t.priority = priority;
  t.request.model = "test-model";
  t.request.messages.push_back(ChatMessage{.role = "user", .content = t.id});
  return t;
}

/** A ResultSink that records every result; waits are bounded safety nets, not ordering. */
class ResultCollector {
 public:
  ResultSink sink() {
    return [this](const TaskResult& r) {
      std::lock_guard lock(mu_);
      results_.push_back(r);
      cv_.notify_all();
    };
  }
  bool waitFor(size_t n, std::chrono::seconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return results_.size() >= n; });
  }
  std::vector<TaskResult> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::map<std::string, TaskResult> byId() const {
    std::lock_guard lock(mu_);
    std::map<std::string, TaskResult> out;
    for (const auto& r : results_) out.emplace(r.task_id, r);
    return out;
  }
  /** How many results each id got (every accepted task must get exactly one). */
  std::map<std::string, int> countsById() const {
    std::lock_guard lock(mu_);
    std::map<std::string, int> out;
    for (const auto& r : results_) ++out[r.task_id];
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TaskResult> results_;
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/llmpool-proc-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace llmpool::testing
