#pragma once
// Turns a sequence of ChatChunks (from any provider) into the Anthropic streaming event sequence
// for clients that speak /v1/messages: message_start, content_block_start/delta/stop,
// message_delta (stop_reason, usage), message_stop.

#include <map>
#include <string>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/**
 * One per streamed response; not thread-safe. encode() returns zero or more complete SSE events
 * ("event: X\ndata: {...}\n\n"), ready to write. Text goes to a text block, tool-call deltas to
 * tool_use blocks (input_json_delta); switching kind closes the open block. Tool-argument
 * fragments for a tool block that was already closed (interleaved parallel calls, which OpenAI
 * does not send) cannot be expressed in Anthropic's sequential blocks and are dropped. The
 * finish reason and usage are remembered and written by finish().
 */
class AnthropicStreamEncoder {
 public:
  std::string encode(const ChatChunk& chunk);
  /** Closes the open block and writes message_delta + message_stop; "" when already finished. */
  std::string finish();
  bool finished() const { return finished_; }
  /** The input tokens message_start reports when the first chunk has no usage (OpenAI streams
   *  report it only at the end): an estimate, which the real count in message_delta replaces.
   *  Anthropic clients read the input figure from message_start. */
  void setInputTokensEstimate(int64_t tokens) { input_estimate_ = tokens; }

  /** `event: error` with anthropicErrorBody(error), for failures after the stream started. */
  static std::string errorEvent(const Error& error);
  static std::string pingEvent();

 private:
  enum class Block { None, Text, Tool, Thinking };

  std::string start(const ChatChunk& chunk);
  std::string closeBlock();
  std::string openTextBlock();
  std::string openThinkingBlock();
  std::string openToolBlock(int tool_index, const std::string& id, const std::string& name);

  bool started_ = false;
  bool finished_ = false;
  Block block_ = Block::None;
  int block_index_ = -1;            // index of the open (or last) content block
  int open_tool_ = -1;              // tool_calls index of the open tool block
  std::map<int, int> tool_blocks_;  // tool_calls index -> content block index
  std::string stop_reason_;
  Usage usage_;
  bool has_usage_ = false;
  int64_t input_estimate_ = 0;
};

}  // namespace llmpool::providers
