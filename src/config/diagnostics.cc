#include <algorithm>

#include "config/config_loader.h"

namespace llmpool::config {

void ConfigDiagnostics::error(std::string path, int line, std::string message) {
  items.push_back({std::move(path), line, std::move(message), false});
}

void ConfigDiagnostics::warning(std::string path, int line, std::string message) {
  items.push_back({std::move(path), line, std::move(message), true});
}

bool ConfigDiagnostics::hasErrors() const { return errorCount() > 0; }

size_t ConfigDiagnostics::errorCount() const {
  return static_cast<size_t>(
      std::count_if(items.begin(), items.end(), [](const auto& d) { return !d.is_warning; }));
}

size_t ConfigDiagnostics::warningCount() const { return items.size() - errorCount(); }

std::string ConfigDiagnostics::format(const ConfigDiagnostic& d) const {
  std::string out = source.empty() ? std::string("config") : source;
  if (d.line > 0) out += ":" + std::to_string(d.line);
  out += ": ";
  if (d.is_warning) out += "warning: ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  return out;
}

std::string ConfigDiagnostics::joinedErrors() const {
  std::string out;
  for (const auto& d : items) {
    if (d.is_warning) continue;
    if (!out.empty()) out += '\n';
    out += format(d);
  }
  return out;
}

}  // namespace llmpool::config
