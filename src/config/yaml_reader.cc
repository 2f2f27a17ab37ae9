#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>

#include "config/duration.h"
#include "config/env_expand.h"

namespace llmpool::config {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string_view kindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a value";
  }
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string stripUnderscores(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c != '_') out += c;
  }
  return out;
}

}  // namespace

std::string closestMatch(std::string_view word, const std::set<std::string, std::less<>>& options) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& option : options) {
    const size_t d = editDistance(word, option);
    if (d < best_distance) {
      best_distance = d;
      best = option;
    }
  }
  // A third of the word, at least 1 and at most 3 edits: catches typos, not unrelated words.
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  return best_distance <= limit ? best : std::string();
}

// ---------------------------------------------------------------------------------------------
// YamlContext

int YamlContext::lineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

void YamlContext::error(const std::string& path, int line, std::string message) {
  diags_.error(path, line, std::move(message));
}

void YamlContext::warning(const std::string& path, int line, std::string message) {
  diags_.warning(path, line, std::move(message));
}

// No message below repeats a value (only the raw source text of non-secret scalars elsewhere), so
// `secret` needs no special handling here; it documents the caller's intent.
std::optional<std::string> YamlContext::text(const YAML::Node& node, const std::string& path,
                                             bool /*secret*/) {
  const int line = lineOf(node);
  if (!node.IsScalar()) {
    error(path, line, "expected a value, got " + std::string(kindOf(node)));
    return std::nullopt;
  }
  const std::string& raw = node.Scalar();
  if (litellm_env_ && raw.starts_with("os.environ/")) {
    const std::string name = raw.substr(std::string_view("os.environ/").size());
    if (!isEnvName(name)) {
      error(path, line, "invalid variable name in " + quoted(raw));
      return std::nullopt;
    }
    auto value = env_ ? env_(name) : std::nullopt;
    if (!value) {
      error(path, line,
            "environment variable " + name + " is not set (referenced as os.environ/" + name + ")");
      return std::nullopt;
    }
    return value;
  }
  if (raw.find('$') == std::string::npos) return raw;
  auto expanded = expandEnv(raw, env_);
  if (!expanded) {
    error(path, line, expanded.error().message);
    return std::nullopt;
  }
  if (!expanded->missing.empty()) {
    for (const auto& name : expanded->missing) {
      error(path, line,
            "environment variable " + name + " is not set (referenced as ${" + name +
                "}; write ${" + name + ":-default} to allow it to be unset)");
    }
    return std::nullopt;
  }
  return std::move(expanded->text);
}

std::optional<long long> YamlContext::integer(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  const std::string digits = stripUnderscores(*raw);
  long long value = 0;
  const char* begin = digits.data();
  if (!digits.empty() && digits.front() == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    error(path, lineOf(node), "expected a whole number, got " + quoted(node.Scalar()));
    return std::nullopt;
  }
  return value;
}

std::optional<double> YamlContext::number(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  const std::string digits = stripUnderscores(*raw);
  double value = 0;
  const char* begin = digits.data();
  if (!digits.empty() && digits.front() == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      !std::isfinite(value)) {
    error(path, lineOf(node), "expected a number, got " + quoted(node.Scalar()));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlContext::boolean(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  std::string lower = *raw;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  error(path, lineOf(node), "expected true or false, got " + quoted(node.Scalar()));
  return std::nullopt;
}

std::optional<Millis> YamlContext::duration(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  auto parsed = parseDuration(*raw);
  if (!parsed) {
    error(path, lineOf(node), parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<Millis> YamlContext::seconds(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
  if (ec == std::errc() && end == raw->data() + raw->size()) {
    if (!std::isfinite(value) || value < 0 || value > 365.0 * 24 * 3600) {
      error(path, lineOf(node), "expected a number of seconds, got " + quoted(node.Scalar()));
      return std::nullopt;
    }
    return Millis{static_cast<Millis::rep>(std::llround(value * 1000.0))};
  }
  return duration(node, path);
}

std::optional<size_t> YamlContext::byteSize(const YAML::Node& node, const std::string& path) {
  auto raw = text(node, path);
  if (!raw) return std::nullopt;
  std::string_view s = *raw;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + digits, value);
  std::string_view unit = s.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  unsigned long long scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KB" || unit == "kB") {
    scale = 1000;
  } else if (unit == "KiB") {
    scale = 1024;
  } else if (unit == "MB") {
    scale = 1000 * 1000;
  } else if (unit == "MiB") {
    scale = 1024 * 1024;
  } else if (unit == "GB") {
    scale = 1000ULL * 1000 * 1000;
  } else if (unit == "GiB") {
    scale = 1024ULL * 1024 * 1024;
  }
  if (digits == 0 || ec != std::errc() || end != s.data() + digits || scale == 0 ||
      value > (1ULL << 40) / scale) {
    error(path, lineOf(node),
          "expected a size such as 8MiB, 512KiB or 1048576, got " + quoted(node.Scalar()));
    return std::nullopt;
  }
  return static_cast<size_t>(value * scale);
}

// ---------------------------------------------------------------------------------------------
// MapReader

MapReader::MapReader(YamlContext& ctx, const YAML::Node& node, std::string path)
    : ctx_(ctx), path_(std::move(path)), line_(YamlContext::lineOf(node)) {
  if (!node.IsDefined() || node.IsNull()) {
    is_map_ = true;  // an empty section: every knob takes its default
    return;
  }
  if (!node.IsMap()) {
    ctx_.error(path_, line_, "expected a mapping (key: value), got " + std::string(kindOf(node)));
    return;
  }
  is_map_ = true;
  std::vector<YAML::Node> merges;
  for (const auto& kv : node) {
    const int key_line = YamlContext::lineOf(kv.first);
    if (!kv.first.IsScalar()) {
      ctx_.error(path_, key_line, "keys must be plain names");
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (key == "<<") {  // YAML merge key: pull in an anchored mapping (explicit keys win)
      merges.push_back(kv.second);
      continue;
    }
    if (has(key)) {
      ctx_.error(childPath(key), key_line, "duplicate key");
      continue;
    }
    entries_.push_back({key, key_line, kv.second});
  }
  for (const auto& merge : merges) {
    std::vector<YAML::Node> sources;
    if (merge.IsSequence()) {
      for (const auto& item : merge) sources.push_back(item);
    } else {
      sources.push_back(merge);
    }
    for (const auto& source : sources) {
      if (!source.IsMap()) {
        ctx_.error(childPath("<<"), YamlContext::lineOf(source), "a merge (<<) needs a mapping");
        continue;
      }
      for (const auto& kv : source) {
        if (!kv.first.IsScalar() || has(kv.first.Scalar())) continue;
        entries_.push_back({kv.first.Scalar(), YamlContext::lineOf(kv.first), kv.second});
      }
    }
  }
}

std::string MapReader::childPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool MapReader::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.key == key; });
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.key);
  return out;
}

std::optional<YAML::Node> MapReader::take(std::string_view key) {
  known_.emplace(key);
  for (const auto& e : entries_) {
    if (e.key == key) {
      const int value_line = YamlContext::lineOf(e.value);
      ctx_.sourceMap().set(childPath(key), value_line > 0 ? value_line : e.line);
      return e.value;
    }
  }
  return std::nullopt;
}

bool MapReader::get(std::string_view key, int& out) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.integer(*node, childPath(key));
  if (!value) return false;
  if (*value < INT_MIN || *value > INT_MAX) {
    ctx_.error(childPath(key), YamlContext::lineOf(*node), "number out of range");
    return false;
  }
  out = static_cast<int>(*value);
  return true;
}

bool MapReader::get(std::string_view key, double& out) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.number(*node, childPath(key));
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::get(std::string_view key, bool& out) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.boolean(*node, childPath(key));
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::get(std::string_view key, Millis& out) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.duration(*node, childPath(key));
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::get(std::string_view key, std::string& out, bool secret) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.text(*node, childPath(key), secret);
  if (!value) return false;
  out = std::move(*value);
  return true;
}

bool MapReader::get(std::string_view key, std::optional<int>& out) {
  int value = 0;
  if (!get(key, value)) return false;
  out = value;
  return true;
}

bool MapReader::get(std::string_view key, std::optional<double>& out) {
  double value = 0;
  if (!get(key, value)) return false;
  out = value;
  return true;
}

bool MapReader::get(std::string_view key, std::optional<Millis>& out) {
  Millis value{};
  if (!get(key, value)) return false;
  out = value;
  return true;
}

bool MapReader::getBytes(std::string_view key, size_t& out) {
  auto node = take(key);
  if (!node) return false;
  auto value = ctx_.byteSize(*node, childPath(key));
  if (!value) return false;
  out = *value;
  return true;
}

void MapReader::finish() {
  for (const auto& e : entries_) {
    if (known_.contains(e.key)) continue;
    std::string message = "unknown key \"" + e.key + "\"";
    const std::string suggestion = closestMatch(e.key, known_);
    if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
    ctx_.error(childPath(e.key), e.line, std::move(message));
  }
}

}  // namespace llmpool::config
