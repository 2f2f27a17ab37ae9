#pragma once
// Path-aware reading of yaml-cpp nodes: every conversion failure becomes a diagnostic with its path
// and line, and MapReader reports keys nobody asked for (typos must not pass silently).

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"
#include "config/source_map.h"

namespace llmpool::config {

/** Shared state of one parse: where findings go, the source map, how variables resolve. */
class YamlContext {
 public:
  YamlContext(ConfigDiagnostics& diags, SourceMap& map, const EnvLookup& env)
      : diags_(diags), map_(map), env_(env) {}

  /** 1-based line of a node; 0 when yaml-cpp has no mark for it. */
  static int lineOf(const YAML::Node& node);

  void error(const std::string& path, int line, std::string message);
  void warning(const std::string& path, int line, std::string message);
  SourceMap& sourceMap() { return map_; }
  ConfigDiagnostics& diags() { return diags_; }

  /** LiteLLM documents also resolve values written as `os.environ/NAME`. */
  void setLiteLlmEnvSyntax(bool on) { litellm_env_ = on; }

  // Scalar conversions. Each reports its own problem and returns nullopt on failure. A `secret`
  // value is never repeated in a message.
  std::optional<std::string> text(const YAML::Node& node, const std::string& path,
                                  bool secret = false);
  std::optional<long long> integer(const YAML::Node& node, const std::string& path);
  std::optional<double> number(const YAML::Node& node, const std::string& path);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  std::optional<Millis> duration(const YAML::Node& node, const std::string& path);
  /** LiteLLM style: a bare number is seconds; a string with a unit is also accepted. */
  std::optional<Millis> seconds(const YAML::Node& node, const std::string& path);
  std::optional<size_t> byteSize(const YAML::Node& node, const std::string& path);

 private:
  ConfigDiagnostics& diags_;
  SourceMap& map_;
  const EnvLookup& env_;
  bool litellm_env_ = false;
};

/**
 * Reads one YAML mapping. Each key the code asks for (take/get) becomes "known"; finish() reports
 * the rest as unknown keys, with a suggestion when one is close. Duplicate keys are reported.
 * A null node reads as an empty mapping (an empty section means "all defaults").
 */
class MapReader {
 public:
  MapReader(YamlContext& ctx, const YAML::Node& node, std::string path);
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  bool isMap() const { return is_map_; }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  std::string childPath(std::string_view key) const;

  /** Marks `key` known; returns its value when present (and records its line). */
  std::optional<YAML::Node> take(std::string_view key);
  /** Marks keys known without reading them (used by importers that warn instead). */
  void allow(std::string_view key) { known_.emplace(key); }
  bool has(std::string_view key) const;
  /** Keys present in the document, in order. */
  std::vector<std::string> keys() const;

  // Typed reads: leave `out` untouched when the key is absent or invalid; true when it was set.
  bool get(std::string_view key, int& out);
  bool get(std::string_view key, double& out);
  bool get(std::string_view key, bool& out);
  bool get(std::string_view key, Millis& out);
  bool get(std::string_view key, std::string& out, bool secret = false);
  bool get(std::string_view key, std::optional<int>& out);
  bool get(std::string_view key, std::optional<double>& out);
  bool get(std::string_view key, std::optional<Millis>& out);
  bool getBytes(std::string_view key, size_t& out);

  /** Reports every present key that was never asked for. Call once, after all reads. */
  void finish();

 private:
  struct Entry {
    std::string key;
    int line = 0;
    YAML::Node value;
  };
  YamlContext& ctx_;
  std::string path_;
  int line_ = 0;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::set<std::string, std::less<>> known_;
};

/** Closest candidate within a small edit distance, for "did you mean" hints; empty if none. */
std::string closestMatch(std::string_view word, const std::set<std::string, std::less<>>& options);

}  // namespace llmpool::config
