#include "metrics/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace llmpool::metrics {
namespace {

void appendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out += std::to_string(static_cast<long long>(v));
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    out += buf;
  }
}

void appendEscaped(std::string& out, std::string_view s, bool help) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && !help) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

PrometheusText& PrometheusText::family(std::string_view name, std::string_view type,
                                       std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendEscaped(out_, help, true);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
  return *this;
}

void PrometheusText::labelsTo(const Labels& labels, std::string_view extra_key,
                              std::string_view extra_value) {
  if (labels.empty() && extra_key.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    appendEscaped(out_, v, false);
    out_ += '"';
  }
  if (!extra_key.empty()) {
    if (!first) out_ += ',';
    out_ += extra_key;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

PrometheusText& PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  labelsTo(labels, {}, {});
  out_ += ' ';
  appendNumber(out_, value);
  out_ += '\n';
  return *this;
}

PrometheusText& PrometheusText::histogram(std::string_view name, const Labels& labels,
                                          const Histogram::Snapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < Histogram::kBounds; ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", Histogram::kBoundsSeconds[i]);
    out_ += bucket;
    labelsTo(labels, "le", le);
    out_ += ' ';
    appendNumber(out_, static_cast<double>(snapshot.cumulative(i)));
    out_ += '\n';
  }
  out_ += bucket;
  labelsTo(labels, "le", "+Inf");
  out_ += ' ';
  appendNumber(out_, static_cast<double>(snapshot.count));
  out_ += '\n';
  sample(std::string(name) + "_sum", labels, std::chrono::duration<double>(snapshot.sum).count());
  sample(std::string(name) + "_count", labels, static_cast<double>(snapshot.count));
  return *this;
}

}  // namespace llmpool::metrics
