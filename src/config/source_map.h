#pragma once
// Where each config path came from: its line and, for documents that were translated (LiteLLM),
// the path as the user wrote it. Validation runs on the translated structs and uses this map to
// point at the user's own lines.

#include <map>
#include <string>
#include <string_view>

namespace llmpool::config {

struct SourceLoc {
  int line = 0;        // 1-based; 0 unknown
  std::string origin;  // the path in the user's document when it differs from the native path
};

class SourceMap {
 public:
  void set(const std::string& path, int line, std::string origin = "");
  /** The entry of `path`, else of its nearest registered ancestor (by `.` and `[` boundaries). */
  SourceLoc find(std::string_view path) const;
  /** The path to show the user: the exact origin when registered, else `path`. */
  std::string display(std::string_view path) const;

 private:
  std::map<std::string, SourceLoc, std::less<>> entries_;
};

}  // namespace llmpool::config
