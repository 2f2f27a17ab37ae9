#include "llmpool/task.h"

#include <cctype>
#include <string>

namespace llmpool {

std::string_view priorityName(Priority priority) {
  switch (priority) {
    case Priority::Low:
      return "low";
    case Priority::Normal:
      return "normal";
    case Priority::High:
      return "high";
    case Priority::Critical:
      return "critical";
  }
  return "normal";
}

std::optional<Priority> parsePriority(std::string_view name) {
  std::string lower;
  lower.reserve(name.size());
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (Priority p : {Priority::Low, Priority::Normal, Priority::High, Priority::Critical}) {
    if (lower == priorityName(p)) return p;
  }
  return std::nullopt;
}

Task makeEnhancementTask(std::string id, std::string_view content, std::string_view instruction,
                         std::string model) {
  Task task;
  task.id = std::move(id);
  task.request.model = std::move(model);
  ChatMessage system;
  system.role = "system";
  system.content = std::string(kEnhancementSystemPrompt);
  ChatMessage user;
  user.role = "user";
  user.content.reserve(instruction.size() + content.size() + 32);
  user.content.append("Instruction:\n").append(instruction);
  user.content.append("\n\nContent:\n").append(content);
  task.request.messages.push_back(std::move(system));
  task.request.messages.push_back(std::move(user));
  task.metadata["kind"] = "enhancement";
  return task;
}

}  // namespace llmpool
