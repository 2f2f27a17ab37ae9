#include "mock/fault_rule.h"

#include <cmath>

#include "common/json_depth.h"
#include "mock/json_text.h"

namespace llmpool::mock {

namespace {

struct KindName {
  FaultKind kind;
  std::string_view name;
};
constexpr KindName KindNames[] = {
    {FaultKind::Status, "status"},
    {FaultKind::Reset, "reset"},
    {FaultKind::ResetMidStream, "reset_mid_stream"},
    {FaultKind::Hang, "hang"},
    {FaultKind::SlowFirstByte, "slow_first_byte"},
    {FaultKind::Malformed, "malformed"},
    {FaultKind::Truncate, "truncate"},
};

constexpr std::string_view KnownFields[] = {"kind", "status",       "retry_after", "retry_after_ms",
                                            "rate", "first_n",      "after_s",     "until_s",
                                            "path", "after_chunks", "delay_ms"};

std::unexpected<Error> bad(std::string_view where, std::string_view field, std::string_view what) {
  return fail(ErrorCode::InvalidRequest,
              std::string(where) + "." + std::string(field) + ": " + std::string(what));
}

// A non-negative number field; nullopt when absent, an error when present but not a number.
Result<std::optional<double>> number(const Json& rule, std::string_view where,
                                     std::string_view field) {
  auto it = rule.find(field);
  if (it == rule.end() || it->is_null()) return std::optional<double>{};
  if (!it->is_number()) return bad(where, field, "must be a number");
  const double value = it->get<double>();
  if (value < 0 || !std::isfinite(value)) return bad(where, field, "must be >= 0");
  return std::optional<double>{value};
}

std::string headerNumber(double value) {
  std::string out;
  if (value == std::floor(value) && value < 1e15) {
    appendInt(out, static_cast<int64_t>(value));
  } else {
    appendDouble(out, value);
  }
  return out;
}

}  // namespace

std::string_view faultKindName(FaultKind kind) {
  for (const auto& k : KindNames) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

Result<FaultRule> parseFaultRule(const Json& rule, std::string_view where) {
  if (!rule.is_object())
    return fail(ErrorCode::InvalidRequest, std::string(where) + ": must be a JSON object");
  for (const auto& [key, value] : rule.items()) {
    bool known = false;
    for (auto field : KnownFields) known = known || key == field;
    if (!known) return bad(where, key, "unknown field");
  }
  FaultRule out;
  auto kind = rule.find("kind");
  if (kind == rule.end() || !kind->is_string()) return bad(where, "kind", "is required (a string)");
  bool kind_known = false;
  for (const auto& k : KindNames) {
    if (*kind == k.name) {
      out.kind = k.kind;
      kind_known = true;
    }
  }
  if (!kind_known) {
    return bad(
        where, "kind",
        "unknown kind '" + kind->get<std::string>() +
            "' (status, reset, reset_mid_stream, hang, slow_first_byte, malformed, truncate)");
  }
  if (auto it = rule.find("status"); it != rule.end()) {
    if (!it->is_number_integer() || *it < 100 || *it > 599) {
      return bad(where, "status", "must be an integer in 100..599");
    }
    out.status = it->get<int>();
  }
  for (auto field : {"retry_after", "retry_after_ms"}) {
    auto it = rule.find(field);
    if (it == rule.end() || it->is_null()) continue;
    std::string value;
    if (it->is_string()) {
      value = it->get<std::string>();
    } else if (it->is_number() && it->get<double>() >= 0) {
      value = headerNumber(it->get<double>());
    } else {
      return bad(where, field, "must be a non-negative number or a string");
    }
    (std::string_view(field) == "retry_after" ? out.retry_after : out.retry_after_ms) = value;
  }
  auto rate = number(rule, where, "rate");
  if (!rate) return std::unexpected(rate.error());
  if (*rate) {
    if (**rate > 1) return bad(where, "rate", "must be in [0, 1]");
    out.rate = **rate;
  }
  if (auto it = rule.find("first_n"); it != rule.end() && !it->is_null()) {
    if (!it->is_number_integer() || *it < 0)
      return bad(where, "first_n", "must be an integer >= 0");
    out.first_n = it->get<uint64_t>();
  }
  if (auto it = rule.find("after_chunks"); it != rule.end() && !it->is_null()) {
    if (!it->is_number_integer() || *it < 0) {
      return bad(where, "after_chunks", "must be an integer >= 0");
    }
    out.after_chunks = it->get<uint64_t>();
  }
  auto toMs = [](double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1e3)));
  };
  auto after = number(rule, where, "after_s");
  if (!after) return std::unexpected(after.error());
  if (*after) out.after = toMs(**after);
  auto until = number(rule, where, "until_s");
  if (!until) return std::unexpected(until.error());
  if (*until) out.until = toMs(**until);
  auto delay = number(rule, where, "delay_ms");
  if (!delay) return std::unexpected(delay.error());
  if (*delay) out.delay = std::chrono::milliseconds(static_cast<int64_t>(std::llround(**delay)));
  if (auto it = rule.find("path"); it != rule.end() && !it->is_null()) {
    if (!it->is_string()) return bad(where, "path", "must be a string");
    auto endpoint = endpointForPath(it->get<std::string>());
    if (!endpoint) {
      return bad(where, "path",
                 "unknown model endpoint '" + it->get<std::string>() +
                     "' (/v1/chat/completions, /v1/messages, /v1/embeddings, /v1/models)");
    }
    out.path = endpoint;
  }
  return out;
}

Result<FaultRule> parseFaultRuleText(std::string_view text) {
  Json rule = parseJsonBounded(text);
  if (rule.is_discarded()) return fail(ErrorCode::InvalidRequest, "fault: not valid JSON");
  return parseFaultRule(rule, "fault");
}

Result<std::vector<FaultRule>> parseFaultList(std::string_view text) {
  Json body = parseJsonBounded(text);
  if (body.is_discarded()) return fail(ErrorCode::InvalidRequest, "body: not valid JSON");
  if (!body.is_object() || !body.contains("faults") || !body["faults"].is_array()) {
    return fail(ErrorCode::InvalidRequest, "faults: required, an array of fault rules");
  }
  std::vector<FaultRule> rules;
  for (std::size_t i = 0; i < body["faults"].size(); ++i) {
    auto rule = parseFaultRule(body["faults"][i], "faults[" + std::to_string(i) + "]");
    if (!rule) return std::unexpected(rule.error());
    rules.push_back(std::move(*rule));
  }
  return rules;
}

FaultSet::FaultSet(std::vector<FaultRule> rules, MonotonicTime installed)
    : rules_(std::move(rules)),
      matched_(std::make_unique<std::atomic<uint64_t>[]>(rules_.size())),
      installed_(installed) {}

const FaultRule* FaultSet::match(Endpoint endpoint, MonotonicTime now, MockRandom& random) {
  const auto age = now - installed_;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& rule = rules_[i];
    if (rule.path && *rule.path != endpoint) continue;
    if (rule.after && age < *rule.after) continue;
    if (rule.until && age >= *rule.until) continue;
    if (rule.first_n) {
      // Take a unit of budget; once spent the rule stays off (the counter only grows).
      if (matched_[i].fetch_add(1, std::memory_order_relaxed) >= *rule.first_n) continue;
    }
    if (rule.rate < 1.0 && random.uniform() >= rule.rate) continue;
    return &rule;
  }
  return nullptr;
}

}  // namespace llmpool::mock
