#pragma once
// Turns a sequence of ChatChunks (from any provider) into the Responses API's streaming events
// for clients of /v1/responses: response.created, response.in_progress, then per output item
// response.output_item.added, its content or argument deltas and their .done events,
// response.output_item.done, and last response.completed (or response.incomplete) carrying the
// whole Response with its usage. Each event is `event: <type>` with a data object that repeats
// the type and a sequence_number counting from 0. There is no [DONE].

#include <string>
#include <vector>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/**
 * One per streamed response; not thread-safe. Text goes to a message item with one output_text
 * part, each tool call to a function_call item; starting another item closes the open one.
 * Argument fragments for a call whose item was already closed (interleaved parallel calls,
 * which OpenAI does not send) are dropped, as in the Anthropic encoder.
 */
class ResponsesStreamEncoder {
 public:
  /** `echo`: responsesEcho() of the request. */
  explicit ResponsesStreamEncoder(Json echo) : echo_(std::move(echo)) {}

  std::string encode(const ChatChunk& chunk);
  /** Closes the open item and writes response.completed (or response.incomplete when the reply
   *  was cut short); "" when already finished. */
  std::string finish();
  /** response.failed with error {code, message}, for a failure after the stream started;
   *  "" when already finished. */
  std::string fail(const Error& error);
  bool finished() const { return finished_; }

 private:
  struct Item {
    bool function_call = false;
    bool reasoning = false;  // a reasoning item (one reasoning_text part)
    std::string id;
    std::string call_id;
    std::string name;
    std::string text;  // the message's text, or the call's arguments
    bool done = false;
  };

  std::string event(std::string_view type, Json data);
  std::string start(const ChatChunk& chunk);
  std::string closeItem();
  std::string openMessage();
  std::string openReasoning();
  enum class Kind { Message, Reasoning };
  bool hasItem(Kind kind) const;  // an item of that kind was opened already
  std::string openFunctionCall(int tool_index, std::string call_id, std::string name);
  Json itemJson(const Item& item) const;
  Json response(std::string_view status) const;

  Json echo_;
  bool started_ = false;
  bool finished_ = false;
  int64_t sequence_ = 0;
  std::string id_;
  std::string message_id_;
  std::string reasoning_id_;
  std::string model_;
  int64_t created_ = 0;
  std::vector<Item> items_;
  int open_ = -1;                // index in items_ of the open item
  std::vector<int> tool_items_;  // tool_calls index -> items_ index (-1: none)
  std::string finish_reason_;
  Usage usage_;
  bool has_usage_ = false;
};

}  // namespace llmpool::providers
