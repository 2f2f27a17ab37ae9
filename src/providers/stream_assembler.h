#pragma once
// Accumulates streamed ChatChunks into the ChatResponse the same request would have returned
// without streaming.

#include <vector>

#include "llmpool/chat.h"

namespace llmpool::providers {

/** Builds a complete ChatResponse from a stream's chunks (content and tool-call arguments
 *  concatenated per choice, the last finish_reason and usage kept). The pool and the batch runner
 *  use it to serve a streamed attempt as a whole response. */
class StreamAssembler {
 public:
  void add(const ChatChunk& chunk);
  /** The response so far (choices ordered by index). */
  ChatResponse response() const;
  /** True when no chunk carried any content, tool call or finish reason yet. */
  bool empty() const { return !has_output_; }

 private:
  ChatChoice& choice(int index);

  ChatResponse response_;
  bool has_output_ = false;
  bool has_usage_ = false;
};

/** Convenience over StreamAssembler. */
ChatResponse assembleChunks(const std::vector<ChatChunk>& chunks);

}  // namespace llmpool::providers
