#pragma once
// JSON forms of the task types, for durable queues. The shapes are our own storage format (close
// to OpenAI's names where one exists), versioned by the queue schema, not a wire protocol.
// Readers are lenient about missing optional fields and strict about types.

#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"
#include "llmpool/task.h"

namespace llmpool::tasks {

Json chatRequestToJson(const ChatRequest& request);
Result<ChatRequest> chatRequestFromJson(const Json& json);

Json chatResponseToJson(const ChatResponse& response);
Result<ChatResponse> chatResponseFromJson(const Json& json);

Json errorToJson(const Error& error);
Result<Error> errorFromJson(const Json& json);

/** Inverse of errorCodeName(). */
std::optional<ErrorCode> parseErrorCode(std::string_view name);

Json taskToJson(const Task& task);
Result<Task> taskFromJson(const Json& json);

/** taskFromJson(Json::parse(text)) without the tree for the shape taskToJsonText() writes for an
 *  ordinary chat task (the durable queue reads one back at every lease); the same result. */
Result<Task> taskFromJsonText(std::string_view text);

Json taskResultToJson(const TaskResult& result);
Result<TaskResult> taskResultFromJson(const Json& json);

/**
 * The same JSON as taskToJson(t).dump() / taskResultToJson(r).dump() (up to member order), written
 * straight into a string: the durable queue encodes every task and every result, and building the
 * tree first costs an allocation per field. Invalid UTF-8 becomes U+FFFD instead of throwing.
 */
std::string taskToJsonText(const Task& task);
std::string taskResultToJsonText(const TaskResult& result);

/** Wall-clock time as integer milliseconds since the Unix epoch, and back. */
int64_t toUnixMillis(SystemTime t);
SystemTime fromUnixMillis(int64_t ms);

}  // namespace llmpool::tasks
