#pragma once
// Builder for the Prometheus text exposition format 0.0.4: one HELP/TYPE header per family,
// samples grouped under it, escaped label values, histograms with cumulative `le` buckets in
// increasing order ending at +Inf, then _sum and _count.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace llmpool::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class PrometheusText {
 public:
  /** Starts a family; call once per metric name, before its samples. type: counter|gauge|histogram
   */
  PrometheusText& family(std::string_view name, std::string_view type, std::string_view help);
  PrometheusText& sample(std::string_view name, const Labels& labels, double value);
  /** All series of a histogram family (name without suffixes); the family header must be written.
   */
  PrometheusText& histogram(std::string_view name, const Labels& labels,
                            const Histogram::Snapshot& snapshot);
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labelsTo(const Labels& labels, std::string_view extra_key, std::string_view extra_value);
  std::string out_;
};

}  // namespace llmpool::metrics
