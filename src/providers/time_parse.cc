#include "providers/time_parse.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace llmpool::providers {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

/** Reads exactly `width` digits at `pos`, advancing it. */
std::optional<int> readFixed(std::string_view s, size_t& pos, size_t width) {
  if (pos + width > s.size()) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = s[pos + i];
    if (!isDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

/** Reads 1 or 2 digits (asctime pads the day with a space). */
std::optional<int> readUpTo2(std::string_view s, size_t& pos) {
  if (pos < s.size() && s[pos] == ' ') ++pos;
  if (pos >= s.size() || !isDigit(s[pos])) return std::nullopt;
  int value = s[pos++] - '0';
  if (pos < s.size() && isDigit(s[pos])) value = value * 10 + (s[pos++] - '0');
  return value;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<int> readMonth(std::string_view s, size_t& pos) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (pos + 3 > s.size()) return std::nullopt;
  std::string_view m = s.substr(pos, 3);
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (m == kMonths[i]) {
      pos += 3;
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

/** hh:mm:ss */
std::optional<seconds> readClock(std::string_view s, size_t& pos) {
  auto h = readFixed(s, pos, 2);
  if (!h || !expect(s, pos, ':')) return std::nullopt;
  auto m = readFixed(s, pos, 2);
  if (!m || !expect(s, pos, ':')) return std::nullopt;
  auto sec = readFixed(s, pos, 2);
  // 60 is allowed for a leap second.
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return hours(*h) + minutes(*m) + seconds(*sec);
}

std::optional<SystemTime> makeTime(int year, int month, int day, seconds time_of_day) {
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return SystemTime(std::chrono::sys_days(ymd).time_since_epoch() + time_of_day);
}

/** Skips the weekday name: everything up to `stop` (',' or ' '). */
bool skipWeekday(std::string_view s, size_t& pos, char stop) {
  size_t end = s.find(stop, pos);
  if (end == std::string_view::npos || end == pos || end - pos > 9) return false;
  for (size_t i = pos; i < end; ++i) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  pos = end + 1;
  return true;
}

std::optional<SystemTime> parseImfFixdate(std::string_view s) {
  size_t pos = 0;
  if (!skipWeekday(s, pos, ',') || !expect(s, pos, ' ')) return std::nullopt;
  auto day = readFixed(s, pos, 2);
  if (!day || !expect(s, pos, ' ')) return std::nullopt;
  auto month = readMonth(s, pos);
  if (!month || !expect(s, pos, ' ')) return std::nullopt;
  auto year = readFixed(s, pos, 4);
  if (!year || !expect(s, pos, ' ')) return std::nullopt;
  auto tod = readClock(s, pos);
  if (!tod || s.substr(pos) != " GMT") return std::nullopt;
  return makeTime(*year, *month, *day, *tod);
}

std::optional<SystemTime> parseRfc850(std::string_view s) {
  size_t pos = 0;
  if (!skipWeekday(s, pos, ',') || !expect(s, pos, ' ')) return std::nullopt;
  auto day = readFixed(s, pos, 2);
  if (!day || !expect(s, pos, '-')) return std::nullopt;
  auto month = readMonth(s, pos);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  auto yy = readFixed(s, pos, 2);
  if (!yy || !expect(s, pos, ' ')) return std::nullopt;
  auto tod = readClock(s, pos);
  if (!tod || s.substr(pos) != " GMT") return std::nullopt;
  // RFC 9110: a two-digit year more than 50 years in the future means the previous century;
  // with dates around now that is simply 70..99 -> 19xx.
  int year = *yy >= 70 ? 1900 + *yy : 2000 + *yy;
  return makeTime(year, *month, *day, *tod);
}

std::optional<SystemTime> parseAsctime(std::string_view s) {
  size_t pos = 0;
  if (!skipWeekday(s, pos, ' ')) return std::nullopt;
  auto month = readMonth(s, pos);
  if (!month || !expect(s, pos, ' ')) return std::nullopt;
  auto day = readUpTo2(s, pos);
  if (!day || !expect(s, pos, ' ')) return std::nullopt;
  auto tod = readClock(s, pos);
  if (!tod || !expect(s, pos, ' ')) return std::nullopt;
  auto year = readFixed(s, pos, 4);
  if (!year || pos != s.size()) return std::nullopt;
  return makeTime(*year, *month, *day, *tod);
}

}  // namespace

std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<double> parseDecimal(std::string_view text) {
  text = trimBlanks(text);
  if (text.empty()) return std::nullopt;
  // from_chars rejects a leading '+', which HTTP senders occasionally use.
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<SystemTime> parseHttpDate(std::string_view text) {
  text = trimBlanks(text);
  if (auto t = parseImfFixdate(text)) return t;
  if (auto t = parseRfc850(text)) return t;
  return parseAsctime(text);
}

std::optional<SystemTime> parseRfc3339(std::string_view text) {
  std::string_view s = trimBlanks(text);
  size_t pos = 0;
  auto year = readFixed(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  auto month = readFixed(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  auto day = readFixed(s, pos, 2);
  if (!day) return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  auto tod = readClock(s, pos);
  if (!tod || *month < 1 || *month > 12) return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    size_t digits = 0;
    while (pos < s.size() && isDigit(s[pos])) {
      fraction += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  seconds offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = readFixed(s, pos, 2);
    if (!oh || !expect(s, pos, ':')) return std::nullopt;
    auto om = readFixed(s, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = sign * (hours(*oh) + minutes(*om));
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  auto base = makeTime(*year, *month, *day, *tod);
  if (!base) return std::nullopt;
  // Local time = UTC + offset, so UTC = local - offset.
  return *base - offset + std::chrono::duration_cast<SystemTime::duration>(fraction);
}

std::optional<std::chrono::milliseconds> parseGoDuration(std::string_view text) {
  std::string_view s = trimBlanks(text);
  if (s.empty()) return std::nullopt;
  if (auto bare = parseDecimal(s)) {
    if (*bare < 0) return std::nullopt;
    if (*bare == 0 || s.find_first_not_of("0123456789.") == std::string_view::npos) {
      return std::chrono::milliseconds(std::llround(*bare * 1000.0));
    }
  }
  if (s.front() == '-') return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double total_ms = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t num_start = pos;
    while (pos < s.size() && (isDigit(s[pos]) || s[pos] == '.')) ++pos;
    if (pos == num_start) return std::nullopt;
    auto number = parseDecimal(s.substr(num_start, pos - num_start));
    if (!number) return std::nullopt;
    size_t unit_start = pos;
    while (pos < s.size() && !isDigit(s[pos]) && s[pos] != '.') ++pos;
    std::string_view unit = s.substr(unit_start, pos - unit_start);
    double scale_ms = 0;
    if (unit == "h") {
      scale_ms = 3'600'000.0;
    } else if (unit == "m") {
      scale_ms = 60'000.0;
    } else if (unit == "s") {
      scale_ms = 1000.0;
    } else if (unit == "ms") {
      scale_ms = 1.0;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // us, µs (two forms)
      scale_ms = 0.001;
    } else if (unit == "ns") {
      scale_ms = 0.000001;
    } else {
      return std::nullopt;
    }
    total_ms += *number * scale_ms;
  }
  if (!std::isfinite(total_ms)) return std::nullopt;
  return std::chrono::milliseconds(std::llround(total_ms));
}

}  // namespace llmpool::providers
