#pragma once
// Semantic rules of a PoolConfig (ranges, references, enums, formats), reported with the paths and
// lines of a SourceMap when the config came from a document.

#include "config/config_loader.h"
#include "config/source_map.h"

namespace llmpool::config {

/** @return true when no error was added. `map` may be null (config built in code). */
bool validateConfig(const PoolConfig& config, ConfigDiagnostics& diags, const SourceMap* map);

/** Splits "host:port" / "[v6]:port"; nullopt when malformed or the port is not 0..65535. */
struct HostPort {
  std::string host;
  int port = 0;
};
std::optional<HostPort> parseHostPort(std::string_view text);

}  // namespace llmpool::config
