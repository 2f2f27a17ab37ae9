#include "tasks/task_queue.h"

#include <string>

#include "tasks/memory_task_queue.h"
#include "tasks/sqlite_task_queue.h"

namespace llmpool::tasks {

Result<std::unique_ptr<TaskQueue>> openTaskQueue(std::string_view spec,
                                                 const QueueOptions& options) {
  if (spec.empty() || spec == "memory") {
    return std::unique_ptr<TaskQueue>(std::make_unique<MemoryTaskQueue>(options));
  }
  constexpr std::string_view kSqlite = "sqlite:";
  if (spec.starts_with(kSqlite)) {
    std::string_view rest = spec.substr(kSqlite.size());
    SqliteTaskQueue::Settings settings;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      const std::string_view query = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (query == "sync=full") {
        settings.full_sync = true;
      } else if (query != "sync=normal") {
        return fail(ErrorCode::InvalidConfig, "processor.queue: unknown sqlite option '" +
                                                  std::string(query) +
                                                  "' (expected sync=normal or sync=full)");
      }
    }
    if (rest.empty()) {
      return fail(ErrorCode::InvalidConfig, "processor.queue: 'sqlite:' needs a file path");
    }
    settings.path = std::string(rest);
    auto q = SqliteTaskQueue::open(settings, options);
    if (!q) return std::unexpected(q.error());
    return std::unique_ptr<TaskQueue>(std::move(*q));
  }
  if (spec.starts_with("redis://")) {
    return fail(ErrorCode::InvalidConfig,
                "processor.queue: the redis queue backend is not available in this build");
  }
  return fail(ErrorCode::InvalidConfig, "processor.queue: unknown queue '" + std::string(spec) +
                                            "' (expected memory or sqlite:PATH)");
}

}  // namespace llmpool::tasks
