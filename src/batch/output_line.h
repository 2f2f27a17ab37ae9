#pragma once
// Lines of the output and error files, in the OpenAI Batch output shape (docs/run.md):
//   {"id","custom_id","response":{"status_code","request_id","body"}|null,"error":{code,message}|null}
// - success: status 200 and the endpoint's response body (chat.completion, embeddings list, an
//   Anthropic message for /v1/messages lines, a Response for /v1/responses lines);
// - a failure the provider answered with an HTTP status (4xx/5xx): that status and the error body
//   in the endpoint's dialect, "error": null;
// - any other failure (timeout, connection, deadline, circuit open, cancelled, invalid input):
//   "response": null and "error": {"code": errorCodeName, "message"}.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"
#include "llmpool/task.h"

namespace llmpool::batch {

/** "batch_req_" + 16 hex digits of a 64-bit FNV-1a hash of `key`: stable across runs, so a rerun
 *  recognises the lines it already wrote. */
std::string stableLineId(std::string_view key);

/** One line of JSONL text (no newline) with the keys in OpenAI's order: id, custom_id, response,
 *  error (then any others). Invalid UTF-8 is replaced, never fatal. */
std::string serializeLine(const Json& line);

/** The key of a line that has no usable custom_id (malformed, missing or duplicate). */
std::string lineKey(size_t line);

/** The line for a task's final result; the endpoint comes from its metadata (input_line.h). */
Json resultLine(const TaskResult& result);

/**
 * serializeLine(resultLine(result)), written without building the line's tree for the common case
 * (a successful chat or messages result); other results take the tree path. Same text either way.
 */
std::string resultLineText(const TaskResult& result);

/** The line for a successful response to `url`. For /v1/responses, `responses_echo` is the
 *  request's settings the Response repeats (the line's kResponsesEchoKey metadata). */
Json successLine(const std::string& custom_id, std::string_view url, const ChatResponse& response,
                 std::string_view responses_echo = {});

/** The line for a failed task. */
Json failureLine(const std::string& custom_id, std::string_view url, const Error& error);

/** The line for an input line that cannot run: error.code "invalid_input", error.message
 *  "line N: ...". `custom_id` empty: written as null. The line's id derives from the custom_id
 *  when the line owns it (`owns_id`), else from the line number (a duplicate's id belongs to an
 *  earlier line). */
Json invalidInputLine(const std::string& custom_id, size_t line, const std::string& message,
                      bool owns_id);

/** nullopt for a success line; else the failure kind: error.code, else the body's error code
 *  (OpenAI dialect) or type (Anthropic), else "http_<status>". */
std::optional<std::string> failureKind(const Json& line);

}  // namespace llmpool::batch
