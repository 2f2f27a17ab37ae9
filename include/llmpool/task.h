#pragma once
// Background tasks: what the BackgroundProcessor runs and what it hands back. See
// docs/task_processor.md for ordering, retries, durability and the enhancement prompt template.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/clock.h"
#include "llmpool/completer.h"
#include "llmpool/error.h"

namespace llmpool {

/** Where a task is in its life: waiting (or waiting to retry), sent, or with a stored result. */
enum class TaskState { Queued, Running, Finished };

/** Task priority classes, lowest first (so `Priority::Critical > Priority::Low`). */
enum class Priority { Low = 0, Normal = 1, High = 2, Critical = 3 };

inline constexpr int kPriorityCount = 4;

/** "low" | "normal" | "high" | "critical". */
std::string_view priorityName(Priority priority);

/** Parses a priority name (case-insensitive); std::nullopt for anything else. */
std::optional<Priority> parsePriority(std::string_view name);

/**
 * One unit of background work: a chat request plus how to schedule it.
 *
 * The expiry is wall-clock time (system_clock), not a monotonic deadline, because a task stored in
 * a durable queue outlives the process: a steady_clock time point means nothing after a restart.
 */
struct Task {
  /** Unique id (the batch runner's custom_id). A queue refuses a second task with the same id. */
  std::string id;
  Priority priority = Priority::Normal;
  ChatRequest request;
  /** Passed to the completer. `deadline` unset: ProcessorConfig::task_timeout applies. */
  RequestOptions options;
  /** A task still queued at this time completes with DeadlineExceeded without being sent. */
  std::optional<SystemTime> expires_at;
  /** Task-level attempts (each one a full pool request); unset: ProcessorConfig. */
  std::optional<int> max_attempts;
  /** Free-form; copied into the TaskResult. */
  std::map<std::string, std::string> metadata;
};

/** The system prompt of the content-enhancement template (docs/task_processor.md). */
inline constexpr std::string_view kEnhancementSystemPrompt =
    "You are a content enhancement assistant. Apply the instruction to the content. "
    "Reply with the enhanced content only, without preamble or commentary.";

/**
 * Builds the seed's content-enhancement task: a system message (kEnhancementSystemPrompt) and a
 * user message "Instruction:\n<instruction>\n\nContent:\n<content>". The metadata gets
 * kind=enhancement.
 * @param model the model alias (pool) or upstream model name (legacy provider).
 * Thread-safe (pure function).
 */
Task makeEnhancementTask(std::string id, std::string_view content, std::string_view instruction,
                         std::string model);

/** What happened to one task. Every accepted task produces exactly one TaskResult. */
struct TaskResult {
  std::string task_id;
  Priority priority = Priority::Normal;
  /** The response, or why there is none. Defaults to an Internal error, never to a success. */
  Result<ChatResponse> outcome =
      std::unexpected(Error(ErrorCode::Internal, "task produced no result"));
  /** How many times the task was sent (0 when it expired, was cancelled or dropped unsent). */
  int attempts = 0;
  /** From submission to the first send (or to completion, when never sent). */
  Duration queue_wait{};
  /** From the first send to completion, including task-level retry backoff. */
  Duration run_time{};
  std::map<std::string, std::string> metadata;

  bool ok() const { return outcome.has_value(); }
};

}  // namespace llmpool
