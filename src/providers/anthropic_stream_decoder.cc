// The Anthropic stream dialect: named events (message_start, content_block_*, message_delta,
// message_stop, ping, error) mapped onto OpenAI-shaped ChatChunks.

#include <map>
#include <string>

#include "common/json_depth.h"
#include "providers/anthropic_codec.h"
#include "providers/chat_stream_decoder.h"
#include "providers/error_classifier.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

class AnthropicStreamDecoder final : public ChatStreamDecoder {
 public:
  AnthropicStreamDecoder() : ChatStreamDecoder(ProviderKind::Anthropic) {}

 protected:
  std::string_view endMarker() const override { return "message_stop"; }

  Result<void> onEvent(const SseEvent& event, const Emit& emit) override {
    if (!keepingEvents()) return decode(event, emit);
    // Every event goes on exactly one chunk: the one it made (it makes at most one), or one of
    // its own. An event that fails the stream is not handed on: the stream ends with the error.
    struct Tagging {
      const SseEvent& event;
      const Emit& emit;
      bool made = false;
    } tagging{event, emit};
    auto made = decode(event, [t = &tagging](ChatChunk&& chunk) {
      t->made = true;
      tag(chunk, t->event);
      t->emit(std::move(chunk));
    });
    if (made && !tagging.made) {
      ChatChunk carrier = make();
      carrier.only_event = true;
      tag(carrier, event);
      emit(std::move(carrier));
    }
    return made;
  }

 private:
  static void tag(ChatChunk& chunk, const SseEvent& event) {
    chunk.provider_data = event.data;
    chunk.provider_event = event.event;
    chunk.provider_dialect = WireDialect::Anthropic;
  }

  Result<void> decode(const SseEvent& event, const Emit& emit) {
    Json json = parseJsonBounded(event.data);
    if (json.is_discarded() || !json.is_object()) {
      if (event.event == "ping") return {};
      std::string head = event.data.substr(0, 120);
      return fail(event.event == "error" ? ErrorCode::ServerError : ErrorCode::Protocol,
                  "anthropic: malformed " + (event.event.empty() ? "stream" : event.event) +
                      " event: " + redactSecrets(head));
    }
    std::string type = stringOr(json, "type");
    if (type.empty()) type = event.event;

    if (type == "error") return std::unexpected(classifyErrorBody(ProviderKind::Anthropic, json));
    if (type == "message_start") {
      auto message = json.find("message");
      if (message == json.end() || !message->is_object()) {
        return fail(ErrorCode::Protocol, "anthropic: message_start without a message");
      }
      id_ = stringOr(*message, "id");
      model_ = stringOr(*message, "model");
      if (auto u = message->find("usage"); u != message->end()) mergeUsage(*u);
      ChatChunk chunk = make();
      chunk.role = "assistant";
      emit(std::move(chunk));
      return {};
    }
    if (type == "content_block_start") {
      int block = indexOf(json);
      auto cb = json.find("content_block");
      if (cb == json.end() || !cb->is_object()) return {};
      std::string block_type = stringOr(*cb, "type");
      if (block_type == "tool_use") {
        int tool = next_tool_++;
        tool_of_block_[block] = tool;
        ChatChunk chunk = make();
        chunk.tool_calls =
            Json::array({{{"index", tool},
                          {"id", stringOr(*cb, "id")},
                          {"type", "function"},
                          {"function", {{"name", stringOr(*cb, "name")}, {"arguments", ""}}}}});
        emit(std::move(chunk));
      } else if (block_type == "text") {
        std::string text = stringOr(*cb, "text");
        if (!text.empty()) emitText(std::move(text), emit);
      } else if (block_type == "thinking") {
        if (std::string thinking = stringOr(*cb, "thinking"); !thinking.empty()) {
          ChatChunk chunk = make();
          chunk.reasoning = std::move(thinking);
          emit(std::move(chunk));
        }
      }
      return {};
    }
    if (type == "content_block_delta") {
      auto delta = json.find("delta");
      if (delta == json.end() || !delta->is_object()) return {};
      std::string delta_type = stringOr(*delta, "type");
      if (delta_type == "text_delta") {
        std::string text = stringOr(*delta, "text");
        if (!text.empty()) emitText(std::move(text), emit);
      } else if (delta_type == "input_json_delta") {
        auto tool = tool_of_block_.find(indexOf(json));
        if (tool == tool_of_block_.end()) return {};  // a server-tool block we did not surface
        ChatChunk chunk = make();
        chunk.tool_calls =
            Json::array({{{"index", tool->second},
                          {"function", {{"arguments", stringOr(*delta, "partial_json")}}}}});
        emit(std::move(chunk));
      } else if (delta_type == "thinking_delta") {
        std::string thinking = stringOr(*delta, "thinking");
        if (!thinking.empty()) {
          ChatChunk chunk = make();
          chunk.reasoning = std::move(thinking);
          emit(std::move(chunk));
        }
      }
      // signature_delta, citations_delta: no OpenAI equivalent.
      return {};
    }
    if (type == "message_delta") {
      if (auto u = json.find("usage"); u != json.end()) mergeUsage(*u);
      auto delta = json.find("delta");
      if (delta != json.end() && delta->is_object()) {
        std::string stop = stringOr(*delta, "stop_reason");
        if (!stop.empty()) {
          ChatChunk chunk = make();
          chunk.finish_reason = anthropic::finishReasonFromStopReason(stop);
          emit(std::move(chunk));
        }
      }
      return {};
    }
    if (type == "message_stop") {
      ChatChunk chunk = make();
      chunk.usage = anthropic::parseUsage(usage_);
      emit(std::move(chunk));
      markDone();
      return {};
    }
    return {};  // ping, content_block_stop and event types added later
  }

  ChatChunk make() const {
    ChatChunk chunk;
    chunk.id = id_;
    chunk.model = model_;
    return chunk;
  }

  void emitText(std::string text, const Emit& emit) const {
    ChatChunk chunk = make();
    chunk.content = std::move(text);
    emit(std::move(chunk));
  }

  static int indexOf(const Json& json) {
    auto it = json.find("index");
    return it != json.end() && it->is_number_integer() ? it->get<int>() : -1;
  }

  /** message_start carries the input side; message_delta usage is cumulative and may repeat or
   *  add fields, so later values replace earlier ones key by key. */
  void mergeUsage(const Json& usage) {
    if (!usage.is_object()) return;
    for (const auto& [key, value] : usage.items()) {
      if (value.is_number()) usage_[key] = value;
    }
  }

  std::string id_;
  std::string model_;
  Json usage_ = Json::object();
  std::map<int, int> tool_of_block_;  // content block index -> OpenAI tool_calls index
  int next_tool_ = 0;
};

}  // namespace

std::unique_ptr<ChatStreamDecoder> makeAnthropicStreamDecoder() {
  return std::make_unique<AnthropicStreamDecoder>();
}

}  // namespace llmpool::providers
