// The OpenAI-compatible stream dialect: `data: {chat.completion.chunk}` events ended by
// `data: [DONE]`; errors arrive as `data: {"error":...}` or an event named `error`.

#include <string>

#include "common/json_depth.h"
#include "providers/chat_stream_decoder.h"
#include "providers/endpoint.h"
#include "providers/error_classifier.h"
#include "providers/openai_codec.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

std::string preview(std::string_view data) {
  std::string out(data.substr(0, 120));
  if (data.size() > 120) out += "...";
  return redactSecrets(out);
}

class OpenAIStreamDecoder final : public ChatStreamDecoder {
 public:
  explicit OpenAIStreamDecoder(ProviderKind kind) : ChatStreamDecoder(kind) {}

 protected:
  std::string_view endMarker() const override { return "[DONE]"; }

  Result<void> onEvent(const SseEvent& event, const Emit& emit) override {
    std::string_view data = trimmed(event.data);
    if (data == "[DONE]") {
      markDone();
      return {};
    }
    Json json = parseJsonBounded(data);
    if (event.event == "error") {
      if (json.is_discarded() || !json.is_object()) {
        return fail(ErrorCode::ServerError,
                    std::string(providerKindName(kind_)) + ": stream error: " + preview(data));
      }
      return std::unexpected(classifyErrorBody(kind_, json));
    }
    if (json.is_discarded() || !json.is_object()) {
      return fail(ErrorCode::Protocol, std::string(providerKindName(kind_)) +
                                           ": malformed stream chunk: " + preview(data));
    }
    if (json.contains("error")) return std::unexpected(classifyErrorBody(kind_, json));

    std::string id = stringOr(json, "id");
    std::string model = stringOr(json, "model");
    int64_t created = 0;
    if (auto c = json.find("created"); c != json.end() && c->is_number()) {
      created = c->is_number_float() ? static_cast<int64_t>(c->get<double>()) : c->get<int64_t>();
    }
    std::optional<Usage> usage;
    if (auto u = json.find("usage"); u != json.end() && u->is_object()) {
      usage = openai::parseUsage(*u);
    }
    auto make = [&](int index) {
      ChatChunk chunk;
      chunk.id = id;
      chunk.model = model;
      chunk.created = created;
      chunk.index = index;
      return chunk;
    };

    std::vector<ChatChunk> chunks;
    if (auto choices = json.find("choices"); choices != json.end() && choices->is_array()) {
      for (const auto& c : *choices) {
        if (!c.is_object()) continue;
        ChatChunk chunk = make(0);
        if (auto idx = c.find("index"); idx != c.end() && idx->is_number_integer()) {
          chunk.index = idx->get<int>();
        }
        if (auto delta = c.find("delta"); delta != c.end() && delta->is_object()) {
          chunk.role = stringOr(*delta, "role");
          chunk.content = stringOr(*delta, "content");
          chunk.reasoning = reasoningOf(*delta);
          if (auto tc = delta->find("tool_calls"); tc != delta->end() && tc->is_array()) {
            chunk.tool_calls = *tc;
          }
        }
        if (auto fr = c.find("finish_reason"); fr != c.end() && fr->is_string()) {
          chunk.finish_reason = fr->get<std::string>();
        }
        if (chunk.hasDelta()) chunks.push_back(std::move(chunk));
      }
    }
    if (usage) {
      // Usage rides on the last chunk of the event; alone (choices:[]) it is the usage chunk.
      if (chunks.empty()) chunks.push_back(make(0));
      chunks.back().usage = usage;
    }
    // An event that is one chunk can be handed on as it came; one that several choices share
    // cannot (each chunk is one choice).
    if (chunks.size() == 1 && keepingEvents()) {
      chunks.front().provider_data = data;
      chunks.front().provider_dialect = WireDialect::OpenAI;
    }
    for (auto& chunk : chunks) emit(std::move(chunk));
    return {};
  }

 private:
  static std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
    return s;
  }
};

}  // namespace

std::unique_ptr<ChatStreamDecoder> makeOpenAIStreamDecoder(ProviderKind kind) {
  return std::make_unique<OpenAIStreamDecoder>(kind);
}

}  // namespace llmpool::providers
