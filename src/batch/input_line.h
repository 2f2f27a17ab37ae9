#pragma once
// One line of a batch input file (docs/run.md): an OpenAI Batch request line
//   {"custom_id","method":"POST",
//    "url":"/v1/chat/completions"|"/v1/embeddings"|"/v1/messages"|"/v1/responses",
//    "body":{...},"priority"?:"critical"|"high"|"normal"|"low"}
// or the content-enhancement form {"custom_id","content","instruction","model"?,"priority"?},
// turned into a Task whose id is the custom_id. Pure functions; thread-safe.

#include <cstddef>
#include <expected>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "llmpool/task.h"

namespace llmpool::batch {

/** Metadata key (in Task::metadata and RequestOptions::metadata) naming the line's endpoint:
 *  one of the kUrl* values below. The output writer and the embeddings adapter read it. */
inline constexpr const char* kUrlKey = "batch.url";
inline constexpr std::string_view kUrlChat = "/v1/chat/completions";
inline constexpr std::string_view kUrlEmbeddings = "/v1/embeddings";
inline constexpr std::string_view kUrlMessages = "/v1/messages";
inline constexpr std::string_view kUrlResponses = "/v1/responses";
/** Task::metadata key of a /v1/responses line: the request settings its Response repeats
 *  (providers::responsesEcho() as JSON text), for the output writer. */
inline constexpr const char* kResponsesEchoKey = "batch.responses_echo";
/** The enhancement form; its output is a chat completion. */
inline constexpr std::string_view kUrlEnhancement = "enhancement";

/** Why a line cannot run. `custom_id` is set when the line had a readable one. */
struct InputError {
  size_t line = 0;
  std::optional<std::string> custom_id;
  std::string message;  // "<field path>: <problem>", without the "INPUT:LINE: " prefix
  /** The custom_id belongs to an earlier line: this line must not take over its output line. */
  bool duplicate = false;
};

/** What a valid line must refer to. */
struct InputRules {
  /** Model aliases the pool routes (alias patterns included); empty = any model
   *  is accepted. */
  std::set<std::string> aliases;
  /** True when the pool routes `model`: an alias, or a name a pattern takes. */
  bool routes(const std::string& model) const;
  /** Model of enhancement-form lines that name none; empty = "model" is required there. */
  std::string default_model;
};

/**
 * Parses one line (without its newline). Duplicates across lines are the caller's concern.
 * @param line 1-based line number, copied into errors.
 * @return the Task (id, priority, request, options.metadata and metadata carry kUrlKey), or why
 *         the line is invalid.
 */
std::expected<Task, InputError> parseInputLine(std::string_view text, size_t line,
                                               const InputRules& rules);

/** parseInputLine() through the JSON tree only: the reference the fast path is tested against. */
std::expected<Task, InputError> parseInputLineJson(std::string_view text, size_t line,
                                                   const InputRules& rules);

/** True for a line holding only whitespace (skipped: not a request, not an error). */
bool isBlankLine(std::string_view text);

/** Where a valid line is in the scanned text (for a second look at it). */
struct LineRef {
  size_t line = 0;        // 1-based
  std::string_view text;  // the line, without its line ending
};

/** What the scan keeps of a valid line (the Task itself is rebuilt from the text when needed). */
struct ValidLine {
  std::string id;
  Priority priority = Priority::Normal;
};

struct ScanCounts {
  size_t lines = 0;  // non-blank lines
  size_t valid = 0;
  size_t invalid = 0;
};

/**
 * Parses a whole JSONL text line by line (1-based numbers; blank lines skipped; a missing final
 * newline is fine) and reports duplicates of a custom_id as errors of the later lines. Each valid
 * line goes to `on_task`, each invalid one to `on_error`, in file order, on the calling thread.
 * @param threads how many threads parse (the file is cut at line ends; the callbacks still run
 *        in file order); 0 = one per core for a large text, one for a small one.
 */
ScanCounts scanInput(std::string_view text, const InputRules& rules,
                     const std::function<void(const ValidLine&, const LineRef&)>& on_task,
                     const std::function<void(const InputError&)>& on_error, size_t threads = 0);

}  // namespace llmpool::batch
