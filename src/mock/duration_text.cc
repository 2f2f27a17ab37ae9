#include "mock/duration_text.h"

#include <charconv>
#include <cmath>
#include <string>

namespace llmpool::mock {

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  auto invalid = [&] {
    return fail(ErrorCode::InvalidConfig,
                "invalid duration '" + std::string(text) + "' (expected e.g. 250ms, 2s, 1m)");
  };
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0 || !std::isfinite(value)) return invalid();
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double ms = 0;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1e3;
  } else if (unit == "m") {
    ms = value * 60e3;
  } else if (unit == "h") {
    ms = value * 3600e3;
  } else if (unit.empty() && value == 0) {
    ms = 0;
  } else {
    return invalid();
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}

}  // namespace llmpool::mock
