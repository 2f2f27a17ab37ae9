#include "gateway/stream_usage.h"

#include <string_view>

#include "common/json_depth.h"
#include "providers/wire_util.h"

namespace llmpool::gateway {

std::string withoutUsage(std::string_view event_data) {
  if (event_data.find("\"usage\"") == std::string_view::npos) return std::string(event_data);
  // An object whose text ends so ends with its own usage member (OpenAI's place for it): cut
  // it without a parse.
  constexpr std::string_view kTrailingNull = R"(,"usage":null})";
  if (event_data.ends_with(kTrailingNull)) {
    std::string cut(event_data.substr(0, event_data.size() - kTrailingNull.size()));
    cut.push_back('}');
    return cut;
  }
  nlohmann::json event = parseJsonBounded(event_data);
  if (event.is_discarded() || !event.is_object()) return {};
  event.erase("usage");
  return providers::dumpJson(event);
}

}  // namespace llmpool::gateway
