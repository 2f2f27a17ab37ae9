#pragma once
// Field readers for inbound request parsing: each returns an InvalidRequest error whose message
// starts with the field's path, so clients learn exactly what to fix.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers::validation {

inline std::unexpected<Error> invalid(std::string_view path, std::string_view problem) {
  return fail(ErrorCode::InvalidRequest, std::string(path) + ": " + std::string(problem));
}

inline std::string child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

inline std::string element(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

/** The member `key` of `object`, or nullptr when absent or null. */
inline const Json* member(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

inline Result<std::optional<std::string>> optString(const Json& object, const char* key,
                                                    std::string_view path) {
  const Json* v = member(object, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return invalid(child(path, key), "expected a string");
  return std::optional<std::string>(v->get<std::string>());
}

inline Result<std::optional<double>> optNumber(const Json& object, const char* key,
                                               std::string_view path, double lo, double hi) {
  const Json* v = member(object, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return invalid(child(path, key), "expected a number");
  double d = v->get<double>();
  if (d < lo || d > hi) {
    char text[96];
    std::snprintf(text, sizeof text, "must be between %g and %g", lo, hi);
    return invalid(child(path, key), text);
  }
  return std::optional<double>(d);
}

inline Result<std::optional<int64_t>> optInteger(const Json& object, const char* key,
                                                 std::string_view path, int64_t lo, int64_t hi) {
  const Json* v = member(object, key);
  if (!v) return std::optional<int64_t>();
  int64_t i = 0;
  if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX)) {
    i = v->get<int64_t>();
  } else if (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    i = static_cast<int64_t>(v->get<double>());  // 5.0 is an integer to JSON clients
  } else {
    bool integral_but_huge =
        v->is_number_unsigned() ||
        (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>());
    return invalid(child(path, key), integral_but_huge ? "out of range" : "expected an integer");
  }
  if (i < lo || i > hi) {
    return invalid(child(path, key),
                   "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return std::optional<int64_t>(i);
}

inline Result<std::optional<bool>> optBool(const Json& object, const char* key,
                                           std::string_view path) {
  const Json* v = member(object, key);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return invalid(child(path, key), "expected true or false");
  return std::optional<bool>(v->get<bool>());
}

}  // namespace llmpool::providers::validation
