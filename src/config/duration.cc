#include "config/duration.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace llmpool::config {

namespace {

// Longest accepted duration: a year is already far past any sane timeout, and the bound keeps the
// millisecond arithmetic well inside int64.
constexpr double MaxMillis = 365.0 * 24 * 3600 * 1000;

std::unexpected<Error> bad(std::string_view text, std::string_view why) {
  return fail(ErrorCode::InvalidConfig, "invalid duration \"" + std::string(text) +
                                            "\": " + std::string(why) +
                                            " (examples: 100ms, 30s, 1.5s, 5m, 1h)");
}

}  // namespace

Result<Millis> parseDuration(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
    rest.remove_suffix(1);
  }
  if (rest.empty()) return bad(text, "empty");
  if (rest == "0") return Millis{0};

  double total = 0.0;
  while (!rest.empty()) {
    // from_chars accepts no sign by itself for doubles only when we do not pass one; reject signs
    // explicitly so "-5s" reads as garbage rather than a negative timeout.
    if (!std::isdigit(static_cast<unsigned char>(rest.front())) && rest.front() != '.') {
      return bad(text, "expected a number followed by a unit");
    }
    double number = 0.0;
    const auto [end, ec] =
        std::from_chars(rest.data(), rest.data() + rest.size(), number, std::chars_format::fixed);
    if (ec != std::errc() || !std::isfinite(number)) return bad(text, "not a number");
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    double scale = 0.0;
    if (rest.starts_with("ms")) {
      scale = 1.0;
      rest.remove_prefix(2);
    } else if (rest.starts_with("s")) {
      scale = 1000.0;
      rest.remove_prefix(1);
    } else if (rest.starts_with("m")) {
      scale = 60'000.0;
      rest.remove_prefix(1);
    } else if (rest.starts_with("h")) {
      scale = 3'600'000.0;
      rest.remove_prefix(1);
    } else if (rest.empty()) {
      return bad(text, "missing unit (ms, s, m or h)");
    } else {
      return bad(text, "unknown unit (use ms, s, m or h)");
    }
    total += number * scale;
    if (total > MaxMillis) return bad(text, "longer than a year");
  }
  const double rounded = std::round(total);
  if (rounded == 0.0 && total > 0.0) return bad(text, "shorter than 1ms");
  return Millis{static_cast<Millis::rep>(rounded)};
}

std::string formatDuration(Millis value) {
  const auto ms = value.count();
  if (ms == 0) return "0";
  if (ms < 0) return "-" + formatDuration(Millis{-ms});
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  auto seconds = ms / 1000;
  std::string out;
  if (seconds >= 3600) {
    out += std::to_string(seconds / 3600) + "h";
    seconds %= 3600;
  }
  if (seconds >= 60) {
    out += std::to_string(seconds / 60) + "m";
    seconds %= 60;
  }
  if (seconds != 0) out += std::to_string(seconds) + "s";
  return out;
}

}  // namespace llmpool::config
