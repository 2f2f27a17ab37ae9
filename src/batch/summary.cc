#include "batch/summary.h"

#include <cstdio>

namespace llmpool::batch {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

std::string row(const char* label, const std::string& value, const std::string& note = "") {
  char buf[128];
  std::snprintf(buf, sizeof buf, "  %-14s %10s", label, value.c_str());
  std::string out = buf;
  if (!note.empty()) out += "   " + note;
  out += "\n";
  return out;
}

std::string num(uint64_t v) { return std::to_string(v); }

}  // namespace

double RunSummary::throughput() const {
  const double t = seconds(wall_time);
  return t <= 0 ? 0.0 : static_cast<double>(run_now) / t;
}

std::string formatDuration(Duration d) {
  const double s = seconds(d);
  char buf[32];
  if (s < 1.0) {
    std::snprintf(buf, sizeof buf, "%.0fms", s * 1000.0);
  } else if (s < 60.0) {
    std::snprintf(buf, sizeof buf, "%.2fs", s);
  } else {
    const auto whole = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lldm%02llds", whole / 60, whole % 60);
  }
  return buf;
}

Json summaryToJson(const RunSummary& s) {
  Json kinds = Json::object();
  for (const auto& [kind, n] : s.failed_by_kind) kinds[kind] = n;
  return {
      {"input", s.input},
      {"output", s.output},
      {"errors", s.errors.empty() ? Json(nullptr) : Json(s.errors)},
      {"state", s.state},
      {"tasks", s.tasks},
      {"succeeded", s.succeeded},
      {"failed", s.failed},
      {"failed_by_kind", std::move(kinds)},
      {"not_finished", s.notFinished()},
      {"invalid_lines", s.invalid_lines},
      {"already_done", s.already_done},
      {"resumed", s.resumed},
      {"run_now", s.run_now},
      {"retries", s.pool_retries + s.task_retries},
      {"pool_retries", s.pool_retries},
      {"task_retries", s.task_retries},
      {"failovers", s.failovers},
      {"breaker_trips", s.breaker_trips},
      {"tokens",
       {{"prompt", s.tokens_in},
        {"completion", s.tokens_out},
        {"total", s.tokens_in + s.tokens_out}}},
      {"cost_usd", s.cost_usd},
      {"wall_time_s", seconds(s.wall_time)},
      {"throughput_per_s", s.throughput()},
      {"latency_s",
       {{"p50", seconds(s.latency_p50)},
        {"p99", seconds(s.latency_p99)},
        {"mean", seconds(s.latency_mean)}}},
      {"interrupted", s.interrupted},
      {"exit_code", s.exit_code},
  };
}

std::string formatSummaryTable(const RunSummary& s) {
  std::string out = s.interrupted ? "llmpool run: interrupted; state kept, rerun to resume\n"
                                  : "llmpool run: summary\n";
  std::string note;
  if (s.already_done > 0 || s.resumed > 0) {
    note = num(s.run_now) + " finished now, " + num(s.already_done) + " already done";
    if (s.resumed > 0) note += ", " + num(s.resumed) + " resumed";
  }
  out += row("tasks", num(s.tasks), note);
  out += row("succeeded", num(s.succeeded));
  std::string kinds;
  for (const auto& [kind, n] : s.failed_by_kind) {
    if (!kinds.empty()) kinds += ", ";
    kinds += kind + " " + num(n);
  }
  out += row("failed", num(s.failed), kinds);
  if (s.notFinished() > 0) out += row("not finished", num(s.notFinished()));
  out += row("retries", num(s.pool_retries + s.task_retries),
             "pool " + num(s.pool_retries) + ", task " + num(s.task_retries));
  out += row("failovers", num(s.failovers));
  out += row("breaker trips", num(s.breaker_trips));
  out += row("tokens", num(s.tokens_in + s.tokens_out),
             "prompt " + num(s.tokens_in) + ", completion " + num(s.tokens_out));
  char buf[64];
  std::snprintf(buf, sizeof buf, "$%.4f", s.cost_usd);
  out += row("cost", buf);
  out += row("wall time", formatDuration(s.wall_time));
  std::snprintf(buf, sizeof buf, "%.1f/s", s.throughput());
  out += row("throughput", buf);
  out += row("latency p50", formatDuration(s.latency_p50));
  out += row("latency p99", formatDuration(s.latency_p99));
  out += "  output         " + s.output + "\n";
  if (!s.errors.empty()) out += "  errors         " + s.errors + "\n";
  out += "  state          " + s.state + "\n";
  return out;
}

}  // namespace llmpool::batch
