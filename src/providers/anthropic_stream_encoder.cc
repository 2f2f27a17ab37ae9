#include "providers/anthropic_stream_encoder.h"

#include "providers/anthropic_codec.h"
#include "providers/anthropic_inbound.h"
#include "providers/sse_decoder.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

std::string event(std::string_view name, const Json& data) {
  return sseEventText(name, dumpJson(data));
}

}  // namespace

std::string AnthropicStreamEncoder::errorEvent(const Error& error) {
  return event("error", anthropicErrorBody(error));
}

std::string AnthropicStreamEncoder::pingEvent() { return event("ping", {{"type", "ping"}}); }

std::string AnthropicStreamEncoder::start(const ChatChunk& chunk) {
  started_ = true;
  Json message = {{"id", chunk.id},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"content", Json::array()},
                  {"model", chunk.model},
                  {"stop_reason", nullptr},
                  {"stop_sequence", nullptr},
                  {"usage",
                   {{"input_tokens", chunk.usage ? chunk.usage->prompt_tokens : input_estimate_},
                    {"output_tokens", 0}}}};
  return event("message_start", {{"type", "message_start"}, {"message", std::move(message)}});
}

std::string AnthropicStreamEncoder::closeBlock() {
  if (block_ == Block::None) return {};
  block_ = Block::None;
  open_tool_ = -1;
  return event("content_block_stop", {{"type", "content_block_stop"}, {"index", block_index_}});
}

std::string AnthropicStreamEncoder::openTextBlock() {
  std::string out = closeBlock();
  block_ = Block::Text;
  ++block_index_;
  out += event("content_block_start", {{"type", "content_block_start"},
                                       {"index", block_index_},
                                       {"content_block", {{"type", "text"}, {"text", ""}}}});
  return out;
}

std::string AnthropicStreamEncoder::openThinkingBlock() {
  std::string out = closeBlock();
  block_ = Block::Thinking;
  ++block_index_;
  // No signature: the reasoning comes from a provider of another dialect, which signs nothing.
  out += event("content_block_start",
               {{"type", "content_block_start"},
                {"index", block_index_},
                {"content_block", {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}}});
  return out;
}

std::string AnthropicStreamEncoder::openToolBlock(int tool_index, const std::string& id,
                                                  const std::string& name) {
  std::string out = closeBlock();
  block_ = Block::Tool;
  ++block_index_;
  open_tool_ = tool_index;
  tool_blocks_[tool_index] = block_index_;
  out += event("content_block_start",
               {{"type", "content_block_start"},
                {"index", block_index_},
                {"content_block",
                 {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", Json::object()}}}});
  return out;
}

std::string AnthropicStreamEncoder::encode(const ChatChunk& chunk) {
  if (finished_) return {};
  std::string out;
  if (!started_) out += start(chunk);
  if (!chunk.reasoning.empty()) {
    if (block_ != Block::Thinking) out += openThinkingBlock();
    out += event("content_block_delta",
                 {{"type", "content_block_delta"},
                  {"index", block_index_},
                  {"delta", {{"type", "thinking_delta"}, {"thinking", chunk.reasoning}}}});
  }
  if (!chunk.content.empty()) {
    if (block_ != Block::Text) out += openTextBlock();
    out += event("content_block_delta",
                 {{"type", "content_block_delta"},
                  {"index", block_index_},
                  {"delta", {{"type", "text_delta"}, {"text", chunk.content}}}});
  }
  if (chunk.tool_calls.is_array()) {
    for (const auto& element : chunk.tool_calls) {
      auto delta = readToolCallDelta(element);
      if (!delta) continue;
      const int tool = delta->index;
      if (!tool_blocks_.contains(tool)) out += openToolBlock(tool, delta->id, delta->name);
      const std::string& args = delta->arguments;
      if (!args.empty() && block_ == Block::Tool && open_tool_ == tool) {
        out += event("content_block_delta",
                     {{"type", "content_block_delta"},
                      {"index", block_index_},
                      {"delta", {{"type", "input_json_delta"}, {"partial_json", args}}}});
      }
    }
  }
  if (chunk.finish_reason)
    stop_reason_ = anthropic::stopReasonFromFinishReason(*chunk.finish_reason);
  if (chunk.usage) {
    usage_ = *chunk.usage;
    has_usage_ = true;
  }
  return out;
}

std::string AnthropicStreamEncoder::finish() {
  if (finished_) return {};
  std::string out;
  if (!started_) out += start(ChatChunk{});
  out += closeBlock();
  Json usage = {{"output_tokens", usage_.completion_tokens}};
  if (has_usage_) usage["input_tokens"] = usage_.prompt_tokens;
  out += event("message_delta",
               {{"type", "message_delta"},
                {"delta",
                 {{"stop_reason", stop_reason_.empty() ? Json(nullptr) : Json(stop_reason_)},
                  {"stop_sequence", nullptr}}},
                {"usage", std::move(usage)}});
  out += event("message_stop", {{"type", "message_stop"}});
  finished_ = true;
  return out;
}

}  // namespace llmpool::providers
