#pragma once
// `${NAME}` and `${NAME:-default}` expansion in config strings. `$$` is a literal `$`; a `$` not
// followed by `{` or `$` is kept as is. The default applies when NAME is unset or empty (shell
// semantics of `:-`).

#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"

namespace llmpool::config {

struct Expansion {
  std::string text;
  std::vector<std::string> missing;  // referenced without a default and not set
  bool used_env = false;             // at least one ${...} was present
};

/** @return the expanded text and the missing variables, or an InvalidConfig Error for malformed
 *  references (unterminated `${`, invalid variable name). The message never repeats the text. */
Result<Expansion> expandEnv(std::string_view text, const EnvLookup& env);

/** True when `name` is a valid variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool isEnvName(std::string_view name);

}  // namespace llmpool::config
