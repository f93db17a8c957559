#include "common/metrics.hpp"

#include <gtest/gtest.h>

namespace conclave::metrics {
namespace {

TEST(Metrics, RendersPrometheusTextFormat) {
  Registry r;
  auto& c = r.counter("conclave_things_total", "Things.");
  auto& g = r.gauge("conclave_open", "Open things.");
  auto& fam = r.counter_family("conclave_requests_total", "Requests.", {"route", "status"});
  c.inc(3);
  g.add(2);
  g.add(-1);
  fam.with({"healthz", "200"}).inc();
  fam.with({"healthz", "200"}).inc();
  fam.with({"x\"y\\z\n", "404"}).inc();
  const auto text = r.render();
  EXPECT_NE(text.find("# HELP conclave_things_total Things.\n# TYPE conclave_things_total counter\n"
                      "conclave_things_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE conclave_open gauge\nconclave_open 1\n"), std::string::npos);
  EXPECT_NE(text.find("conclave_requests_total{route=\"healthz\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("conclave_requests_total{route=\"x\\\"y\\\\z\\n\",status=\"404\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, DuplicateNamesAndWrongLabelCountsAreBugs) {
  Registry r;
  r.counter("conclave_a_total", "A.");
  EXPECT_THROW(r.gauge("conclave_a_total", "A again."), std::logic_error);
  auto& fam = r.counter_family("conclave_b_total", "B.", {"x"});
  EXPECT_THROW(fam.with({"1", "2"}), std::logic_error);
}

TEST(Metrics, ProcessMetricsReadProc) {
  Registry r;
  register_process_metrics(r);
  const auto text = r.render();
  for (const char* name : {"conclave_process_cpu_seconds_total ", "conclave_process_open_fds ",
                           "conclave_process_resident_memory_bytes ",
                           "conclave_process_start_time_seconds ", "conclave_build_info{"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  const auto pos = text.find("\nconclave_process_resident_memory_bytes ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GT(std::stod(text.substr(pos + 40)), 1e5);  // some hundreds of kB at least
}

}  // namespace
}  // namespace conclave::metrics
