#include "providers/responses_stream_encoder.h"

#include "providers/responses_inbound.h"
#include "providers/sse_decoder.h"
#include "providers/wire_util.h"

namespace llmpool::providers {

std::string ResponsesStreamEncoder::event(std::string_view type, Json data) {
  data["type"] = type;
  data["sequence_number"] = sequence_++;
  return sseEventText(type, dumpJson(data));
}

Json ResponsesStreamEncoder::itemJson(const Item& item) const {
  const char* status = item.done ? "completed" : "in_progress";
  if (item.reasoning) {
    if (item.done) return reasoningItem(item.id, item.text);
    return {{"type", "reasoning"},
            {"id", item.id},
            {"summary", Json::array()},
            {"content", Json::array()},
            {"status", status}};
  }
  if (item.function_call) {
    return {{"type", "function_call"}, {"id", item.id},          {"call_id", item.call_id},
            {"name", item.name},       {"arguments", item.text}, {"status", status}};
  }
  Json content = Json::array();
  if (item.done) {
    content.push_back(
        {{"type", "output_text"}, {"text", item.text}, {"annotations", Json::array()}});
  }
  return {{"type", "message"},
          {"id", item.id},
          {"status", status},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

Json ResponsesStreamEncoder::response(std::string_view status) const {
  Json r = responseSkeleton(id_, created_, model_, echo_);
  r["status"] = status;
  Json& output = r["output"];
  for (const Item& item : items_) {
    if (item.done) output.push_back(itemJson(item));
  }
  return r;
}

std::string ResponsesStreamEncoder::start(const ChatChunk& chunk) {
  started_ = true;
  id_ = responseIdFor(chunk.id);
  message_id_ = messageItemIdFor(chunk.id);
  reasoning_id_ = reasoningItemIdFor(chunk.id);
  model_ = chunk.model;
  created_ = chunk.created;
  std::string out = event("response.created", {{"response", response("in_progress")}});
  out += event("response.in_progress", {{"response", response("in_progress")}});
  return out;
}

std::string ResponsesStreamEncoder::closeItem() {
  if (open_ < 0) return {};
  Item& item = items_[static_cast<size_t>(open_)];
  const int index = open_;
  open_ = -1;
  item.done = true;
  std::string out;
  if (item.function_call) {
    out += event("response.function_call_arguments.done",
                 {{"item_id", item.id}, {"output_index", index}, {"arguments", item.text}});
  } else if (item.reasoning) {
    out += event(
        "response.reasoning_text.done",
        {{"item_id", item.id}, {"output_index", index}, {"content_index", 0}, {"text", item.text}});
    out += event("response.content_part.done",
                 {{"item_id", item.id},
                  {"output_index", index},
                  {"content_index", 0},
                  {"part", {{"type", "reasoning_text"}, {"text", item.text}}}});
  } else {
    Json part = {{"type", "output_text"}, {"text", item.text}, {"annotations", Json::array()}};
    out += event("response.output_text.done", {{"item_id", item.id},
                                               {"output_index", index},
                                               {"content_index", 0},
                                               {"text", item.text},
                                               {"logprobs", Json::array()}});
    out += event("response.content_part.done", {{"item_id", item.id},
                                                {"output_index", index},
                                                {"content_index", 0},
                                                {"part", std::move(part)}});
  }
  out += event("response.output_item.done", {{"output_index", index}, {"item", itemJson(item)}});
  return out;
}

bool ResponsesStreamEncoder::hasItem(Kind kind) const {
  for (const Item& item : items_) {
    const bool message = !item.function_call && !item.reasoning;
    if ((kind == Kind::Message && message) || (kind == Kind::Reasoning && item.reasoning)) {
      return true;
    }
  }
  return false;
}

std::string ResponsesStreamEncoder::openMessage() {
  std::string out = closeItem();
  Item item;
  // A second message item (text after a tool call) needs an id of its own.
  item.id = message_id_ + (hasItem(Kind::Message) ? "_" + std::to_string(items_.size()) : "");
  items_.push_back(std::move(item));
  open_ = static_cast<int>(items_.size()) - 1;
  out += event("response.output_item.added",
               {{"output_index", open_}, {"item", itemJson(items_.back())}});
  out += event("response.content_part.added",
               {{"item_id", items_.back().id},
                {"output_index", open_},
                {"content_index", 0},
                {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", Json::array()}}}});
  return out;
}

std::string ResponsesStreamEncoder::openReasoning() {
  std::string out = closeItem();
  Item item;
  item.reasoning = true;
  item.id = reasoning_id_ + (hasItem(Kind::Reasoning) ? "_" + std::to_string(items_.size()) : "");
  items_.push_back(std::move(item));
  open_ = static_cast<int>(items_.size()) - 1;
  out += event("response.output_item.added",
               {{"output_index", open_}, {"item", itemJson(items_.back())}});
  out +=
      event("response.content_part.added", {{"item_id", items_.back().id},
                                            {"output_index", open_},
                                            {"content_index", 0},
                                            {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
  return out;
}

std::string ResponsesStreamEncoder::openFunctionCall(int tool_index, std::string call_id,
                                                     std::string name) {
  std::string out = closeItem();
  Item item;
  item.function_call = true;
  item.id = functionCallItemIdFor(call_id);
  item.call_id = std::move(call_id);
  item.name = std::move(name);
  items_.push_back(std::move(item));
  open_ = static_cast<int>(items_.size()) - 1;
  if (tool_items_.size() <= static_cast<size_t>(tool_index)) {
    tool_items_.resize(static_cast<size_t>(tool_index) + 1, -1);
  }
  tool_items_[static_cast<size_t>(tool_index)] = open_;
  out += event("response.output_item.added",
               {{"output_index", open_}, {"item", itemJson(items_.back())}});
  return out;
}

std::string ResponsesStreamEncoder::encode(const ChatChunk& chunk) {
  if (finished_) return {};
  std::string out;
  if (!started_) out += start(chunk);
  if (!chunk.reasoning.empty()) {
    if (open_ < 0 || !items_[static_cast<size_t>(open_)].reasoning) out += openReasoning();
    Item& item = items_[static_cast<size_t>(open_)];
    item.text += chunk.reasoning;
    out += event("response.reasoning_text.delta", {{"item_id", item.id},
                                                   {"output_index", open_},
                                                   {"content_index", 0},
                                                   {"delta", chunk.reasoning}});
  }
  if (!chunk.content.empty()) {
    const Item* open = open_ < 0 ? nullptr : &items_[static_cast<size_t>(open_)];
    if (!open || open->function_call || open->reasoning) out += openMessage();
    Item& item = items_[static_cast<size_t>(open_)];
    item.text += chunk.content;
    out += event("response.output_text.delta", {{"item_id", item.id},
                                                {"output_index", open_},
                                                {"content_index", 0},
                                                {"delta", chunk.content},
                                                {"logprobs", Json::array()}});
  }
  if (chunk.tool_calls.is_array()) {
    for (const auto& element : chunk.tool_calls) {
      auto delta = readToolCallDelta(element);
      if (!delta) continue;
      const int tool = delta->index;
      if (tool < 0 || tool > 1024) continue;  // not a call index a model makes
      const bool known = static_cast<size_t>(tool) < tool_items_.size() &&
                         tool_items_[static_cast<size_t>(tool)] >= 0;
      if (!known) out += openFunctionCall(tool, std::move(delta->id), std::move(delta->name));
      const std::string& args = delta->arguments;
      const int index = tool_items_[static_cast<size_t>(tool)];
      if (!args.empty() && index == open_) {
        Item& item = items_[static_cast<size_t>(open_)];
        item.text += args;
        out += event("response.function_call_arguments.delta",
                     {{"item_id", item.id}, {"output_index", open_}, {"delta", args}});
      }
    }
  }
  if (chunk.finish_reason) finish_reason_ = *chunk.finish_reason;
  if (chunk.usage) {
    usage_ = *chunk.usage;
    has_usage_ = true;
  }
  if (!chunk.model.empty() && model_.empty()) model_ = chunk.model;
  return out;
}

std::string ResponsesStreamEncoder::finish() {
  if (finished_) return {};
  std::string out;
  if (!started_) out += start(ChatChunk{});
  out += closeItem();
  ResponseStatus status = responseStatusFor(finish_reason_);
  Json r = response(status.status);
  r["incomplete_details"] = std::move(status.incomplete_details);
  r["usage"] = responsesUsage(usage_);
  const std::string type =
      status.status == "completed" ? "response.completed" : "response.incomplete";
  out += event(type, {{"response", std::move(r)}});
  finished_ = true;
  return out;
}

std::string ResponsesStreamEncoder::fail(const Error& error) {
  if (finished_) return {};
  std::string out;
  if (!started_) out += start(ChatChunk{});
  Json r = response("failed");
  r["error"] = {{"code", "server_error"}, {"message", error.message}};
  if (has_usage_) r["usage"] = responsesUsage(usage_);
  out += event("response.failed", {{"response", std::move(r)}});
  finished_ = true;
  return out;
}

}  // namespace llmpool::providers
