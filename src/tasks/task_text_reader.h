#pragma once
// The tree-free half of taskFromJsonText() (task_json.h), visible for its tests.

#include <optional>
#include <string_view>

#include "llmpool/task.h"

namespace llmpool::tasks {

/** The task taskFromJson() would read from `text`, or nullopt when the text needs the tree. */
std::optional<Task> readTaskText(std::string_view text);

}  // namespace llmpool::tasks
