#include "batch/input_line_text.h"

#include "providers/json_reader.h"
#include "providers/openai_inbound.h"

namespace llmpool::batch {

std::optional<Task> parseInputLineText(std::string_view text, size_t line,
                                       const InputRules& rules) {
  providers::JsonReader r(text);
  if (!r.enterObject()) return std::nullopt;
  providers::SeenMembers seen;
  Task task;
  std::string value;
  std::string_view body;
  bool has_url = false;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "custom_id") {
      ok = seen.first(1 << 0) && r.readString(task.id) && !task.id.empty();
    } else if (name == "method") {
      ok = seen.first(1 << 1) && r.readString(value) && value == "POST";
    } else if (name == "url") {
      ok = seen.first(1 << 2) && r.readString(value) && value == kUrlChat;
      has_url = ok;
    } else if (name == "priority") {
      std::optional<Priority> priority;
      ok = seen.first(1 << 3) && r.readString(value) && (priority = parsePriority(value));
      if (ok) task.priority = *priority;
    } else if (name == "body") {
      ok =
          seen.first(1 << 4) && r.peek() == providers::JsonReader::Kind::Object && r.rawValue(body);
    }
    if (!ok) return std::nullopt;
    value.clear();
  }
  if (!r.atEnd() || task.id.empty() || !has_url || body.empty()) return std::nullopt;

  auto request = providers::parseOpenAIChatRequestText(body);
  if (!request || request->stream) return std::nullopt;
  if (!rules.routes(request->model)) return std::nullopt;
  task.request = std::move(*request);
  task.metadata[kUrlKey] = std::string(kUrlChat);
  task.metadata["batch.line"] = std::to_string(line);
  task.options.metadata[kUrlKey] = std::string(kUrlChat);
  return task;
}

}  // namespace llmpool::batch
