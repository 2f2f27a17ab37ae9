#include "providers/stream_assembler.h"

#include <algorithm>
#include <string>

namespace llmpool::providers {

ChatChoice& StreamAssembler::choice(int index) {
  for (auto& c : response_.choices) {
    if (c.index == index) return c;
  }
  ChatChoice c;
  c.index = index;
  response_.choices.push_back(std::move(c));
  return response_.choices.back();
}

void StreamAssembler::add(const ChatChunk& chunk) {
  if (response_.id.empty()) response_.id = chunk.id;
  if (response_.model.empty()) response_.model = chunk.model;
  if (response_.created == 0) response_.created = chunk.created;
  if (chunk.usage) {
    response_.usage = *chunk.usage;
    has_usage_ = true;
  }
  if (!chunk.hasDelta()) return;  // usage alone
  ChatChoice& c = choice(chunk.index);
  if (!chunk.role.empty()) c.role = chunk.role;
  if (!chunk.content.empty()) {
    c.content += chunk.content;
    has_output_ = true;
  }
  if (!chunk.reasoning.empty()) {
    c.reasoning += chunk.reasoning;
    has_output_ = true;
  }
  if (chunk.tool_calls.is_array()) {
    for (const auto& delta : chunk.tool_calls) {
      if (!delta.is_object()) continue;
      size_t slot = c.tool_calls.size();
      if (auto idx = delta.find("index"); idx != delta.end() && idx->is_number_integer()) {
        slot = static_cast<size_t>(std::max<int64_t>(0, idx->get<int64_t>()));
      }
      if (slot > 1024) continue;  // a nonsense index must not allocate without bound
      if (c.tool_calls.size() <= slot) c.tool_calls.resize(slot + 1);
      ToolCall& call = c.tool_calls[slot];
      if (auto id = delta.find("id"); id != delta.end() && id->is_string()) {
        call.id = id->get<std::string>();
      }
      if (auto type = delta.find("type"); type != delta.end() && type->is_string()) {
        call.type = type->get<std::string>();
      }
      if (auto fn = delta.find("function"); fn != delta.end() && fn->is_object()) {
        if (auto name = fn->find("name"); name != fn->end() && name->is_string()) {
          const auto& n = name->get_ref<const std::string&>();
          // Servers send the name once; if one repeats it whole, do not double it.
          if (call.name.empty()) {
            call.name = n;
          } else if (n != call.name) {
            call.name += n;
          }
        }
        if (auto args = fn->find("arguments"); args != fn->end() && args->is_string()) {
          call.arguments += args->get_ref<const std::string&>();
        }
      }
      has_output_ = true;
    }
  }
  if (chunk.finish_reason) {
    c.finish_reason = *chunk.finish_reason;
    has_output_ = true;
  }
}

ChatResponse StreamAssembler::response() const {
  ChatResponse out = response_;
  std::stable_sort(out.choices.begin(), out.choices.end(),
                   [](const ChatChoice& a, const ChatChoice& b) { return a.index < b.index; });
  if (has_usage_ && out.usage.total_tokens == 0) {
    out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens;
  }
  return out;
}

ChatResponse assembleChunks(const std::vector<ChatChunk>& chunks) {
  StreamAssembler assembler;
  for (const auto& chunk : chunks) assembler.add(chunk);
  return assembler.response();
}

}  // namespace llmpool::providers
