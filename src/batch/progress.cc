#include "batch/progress.h"

#include <cstdio>

namespace llmpool::batch {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

double percent(const ProgressSnapshot& s) {
  return s.total == 0 ? 100.0 : 100.0 * static_cast<double>(s.done) / static_cast<double>(s.total);
}

std::string formatRate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, rate >= 100 ? "%.0f/s" : "%.1f/s", rate);
  return buf;
}

}  // namespace

double progressRate(const ProgressSnapshot& s) {
  const double t = seconds(s.elapsed);
  return t <= 0 ? 0.0 : static_cast<double>(s.done) / t;
}

std::string formatEta(const ProgressSnapshot& s) {
  if (s.done >= s.total) return "0s";
  const double rate = progressRate(s);
  if (rate <= 0) return "-";
  const auto left = static_cast<int64_t>(static_cast<double>(s.total - s.done) / rate + 0.5);
  char buf[32];
  if (left < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(left));
  } else if (left < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(left / 60),
                  static_cast<long long>(left % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(left / 3600),
                  static_cast<long long>((left % 3600) / 60));
  }
  return buf;
}

std::string formatProgressBar(const ProgressSnapshot& s, int bar_width) {
  const double pct = percent(s);
  const int filled = static_cast<int>(pct / 100.0 * bar_width);
  std::string out = "[";
  for (int i = 0; i < bar_width; ++i) out += i < filled ? '#' : '.';
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "] %llu/%llu %5.1f%%  ok %llu  failed %llu  in-flight %llu  retries %llu  "
      "failovers %llu  breaker trips %llu  %s  ETA %s",
      static_cast<unsigned long long>(s.done), static_cast<unsigned long long>(s.total), pct,
      static_cast<unsigned long long>(s.done - s.failed), static_cast<unsigned long long>(s.failed),
      static_cast<unsigned long long>(s.in_flight), static_cast<unsigned long long>(s.retries),
      static_cast<unsigned long long>(s.failovers),
      static_cast<unsigned long long>(s.breaker_trips), formatRate(progressRate(s)).c_str(),
      formatEta(s).c_str());
  out += buf;
  return out;
}

std::string formatProgressLine(const ProgressSnapshot& s) {
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "progress: %llu/%llu done (%.1f%%), %llu failed, %llu in flight, %llu retries, "
      "%llu failovers, %llu breaker trips, %s, ETA %s",
      static_cast<unsigned long long>(s.done), static_cast<unsigned long long>(s.total), percent(s),
      static_cast<unsigned long long>(s.failed), static_cast<unsigned long long>(s.in_flight),
      static_cast<unsigned long long>(s.retries), static_cast<unsigned long long>(s.failovers),
      static_cast<unsigned long long>(s.breaker_trips), formatRate(progressRate(s)).c_str(),
      formatEta(s).c_str());
  return buf;
}

ProgressReporter::ProgressReporter(std::ostream& out, Mode mode, Duration line_interval)
    : out_(out), mode_(mode), line_interval_(line_interval) {}

void ProgressReporter::update(const ProgressSnapshot& s) {
  if (mode_ == Mode::Off) return;
  const Duration gap =
      mode_ == Mode::Bar ? Duration(std::chrono::milliseconds(100)) : line_interval_;
  if (last_ && s.elapsed - *last_ < gap) return;
  last_ = s.elapsed;
  if (mode_ == Mode::Bar) {
    out_ << "\r\033[2K" << formatProgressBar(s) << std::flush;
    bar_drawn_ = true;
  } else {
    out_ << formatProgressLine(s) << std::endl;
  }
}

void ProgressReporter::finish(const ProgressSnapshot& s) {
  if (mode_ == Mode::Off) return;
  if (mode_ == Mode::Bar) {
    out_ << "\r\033[2K" << formatProgressBar(s) << "\n" << std::flush;
    bar_drawn_ = false;
  } else {
    out_ << formatProgressLine(s) << std::endl;
  }
}

void ProgressReporter::clearLine() {
  if (!bar_drawn_) return;
  out_ << "\r\033[2K" << std::flush;
  bar_drawn_ = false;
}

}  // namespace llmpool::batch
