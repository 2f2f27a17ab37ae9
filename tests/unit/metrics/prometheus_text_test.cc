#include "metrics/prometheus_text.h"

#include <gtest/gtest.h>

namespace llmpool::metrics {
namespace {

using namespace std::chrono_literals;

TEST(PrometheusTextTest, FamilyHeaderAndEscapedLabels) {
  PrometheusText p;
  p.family("x_total", "counter", "Help with \\ and\nnewline.");
  p.sample("x_total", {{"k", "a\"b\\c\nd"}}, 3);
  EXPECT_EQ(p.text(),
            "# HELP x_total Help with \\\\ and\\nnewline.\n# TYPE x_total counter\n"
            "x_total{k=\"a\\\"b\\\\c\\nd\"} 3\n");
}

TEST(PrometheusTextTest, HistogramIsCumulativeEndsAtInfAndMatchesCount) {
  Histogram h;
  h.observe(3ms);
  h.observe(200ms);
  h.observe(2h);  // beyond the last bound: only in +Inf
  PrometheusText p;
  p.family("lat_seconds", "histogram", "Latency.");
  p.histogram("lat_seconds", {{"d", "x"}}, h.snapshot());
  const std::string& t = p.text();
  EXPECT_NE(t.find("lat_seconds_bucket{d=\"x\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{d=\"x\",le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{d=\"x\",le=\"600\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{d=\"x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_count{d=\"x\"} 3\n"), std::string::npos);
  EXPECT_LT(t.find("le=\"600\""), t.find("le=\"+Inf\""));
}

TEST(PrometheusTextTest, NonIntegerValuesKeepPrecision) {
  PrometheusText p;
  p.sample("g", {}, 0.125);
  EXPECT_EQ(p.text(), "g 0.125\n");
}

}  // namespace
}  // namespace llmpool::metrics
