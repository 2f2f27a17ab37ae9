#include "gateway/request_log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace llmpool::gateway {

namespace {

std::string millis(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view text) {
  if (text == "trace") return LogLevel::Trace;
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warn") return LogLevel::Warn;
  if (text == "error") return LogLevel::Error;
  if (text == "off") return LogLevel::Off;
  return std::nullopt;
}

std::string_view logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::Trace:
      return "trace";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Off:
      return "off";
  }
  return "info";
}

std::string Logger::quote(std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) bare = false;
  }
  if (bare) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += ' ';  // a log line stays one line
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Logger::formatRequest(const RequestRecord& r) {
  std::string out = "msg=request route=" + quote(r.route) + " status=" + std::to_string(r.status);
  if (!r.request_id.empty()) out += " request_id=" + quote(r.request_id);
  if (!r.key_name.empty()) out += " key=" + quote(r.key_name);
  if (!r.alias.empty()) out += " alias=" + quote(r.alias);
  if (!r.deployment.empty()) out += " deployment=" + quote(r.deployment);
  if (!r.upstream_request_id.empty()) out += " upstream_request_id=" + quote(r.upstream_request_id);
  out += " attempts=" + std::to_string(r.attempts);
  if (r.cache_hit) out += " cache=hit";
  out += r.stream ? " stream=true" : " stream=false";
  out += " duration_ms=" + millis(r.duration);
  if (r.ttft) out += " ttft_ms=" + millis(*r.ttft);
  out += " prompt_tokens=" + std::to_string(r.prompt_tokens);
  out += " completion_tokens=" + std::to_string(r.completion_tokens);
  if (!r.error_code.empty()) out += " error=" + quote(r.error_code);
  if (!r.remote.empty()) out += " remote=" + quote(r.remote);
  return out;
}

void Logger::request(const RequestRecord& record) {
  const LogLevel level = record.status >= 500 ? LogLevel::Warn : LogLevel::Info;
  if (!enabled(level)) return;
  write(level, formatRequest(record));
}

void Logger::event(LogLevel level, std::string_view msg, std::string_view fields) {
  if (!enabled(level)) return;
  std::string body = "msg=" + quote(msg);
  if (!fields.empty()) {
    body += ' ';
    body += fields;
  }
  write(level, body);
}

void Logger::write(LogLevel level, std::string_view body) {
  std::string line = "ts=" + timestamp() + " level=" + std::string(logLevelName(level)) + " ";
  line += body;
  line += '\n';
  // One write(2) per line: lines from different threads never interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // a broken stderr must not take the gateway down
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace llmpool::gateway
