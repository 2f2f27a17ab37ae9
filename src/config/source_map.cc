#include "config/source_map.h"

namespace llmpool::config {

void SourceMap::set(const std::string& path, int line, std::string origin) {
  auto& entry = entries_[path];
  entry.line = line;
  if (!origin.empty()) entry.origin = std::move(origin);
}

SourceLoc SourceMap::find(std::string_view path) const {
  // Try the path itself, then each prefix that ends just before a '.' or '[' (longest first), so
  // alias names containing dots ("gpt-3.5-turbo") still resolve to their own entry.
  for (size_t end = path.size();;) {
    const auto it = entries_.find(path.substr(0, end));
    if (it != entries_.end() && it->second.line > 0) return it->second;
    if (end == 0) break;
    const size_t cut = path.substr(0, end).find_last_of(".[");
    if (cut == std::string_view::npos || cut == 0) break;
    end = cut;
  }
  return {};
}

std::string SourceMap::display(std::string_view path) const {
  const auto it = entries_.find(path);
  if (it != entries_.end() && !it->second.origin.empty()) return it->second.origin;
  return std::string(path);
}

}  // namespace llmpool::config
