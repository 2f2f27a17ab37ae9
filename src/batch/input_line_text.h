#pragma once
// The DOM-free reading of the common batch line: an OpenAI chat completion request
//   {"custom_id":"…","method":"POST","url":"/v1/chat/completions","priority":"…","body":{…}}
// whose body the provider codec's fast reader understands. `llmpool run` reads every line twice
// (validation, then submission), so this is the shape worth reading without building a tree.
// Anything else — another endpoint, the enhancement form, an unknown or repeated member, a null,
// a model alias the rules do not route, a streaming body, or any error — is left to the DOM path
// in parseInputLine(), whose result and messages are the ones users see. Both paths must produce
// the same Task (tests/unit/batch/input_line_text_test.cc checks that).

#include <optional>
#include <string_view>

#include "batch/input_line.h"

namespace llmpool::batch {

/** The Task parseInputLine() would return, or nullopt when the line needs the DOM path. */
std::optional<Task> parseInputLineText(std::string_view text, size_t line, const InputRules& rules);

}  // namespace llmpool::batch
