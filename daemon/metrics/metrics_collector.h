// MetricsCollector: the Prometheus collectable for the model's counters (docs/metrics.md, the
// host, per-cgroup, per-comm and top-K per-process sections). Collect() takes the aggregator's
// shared snapshot (a pointer copy under its lock) and renders families from it; it never walks
// the process table. Host series exist for every label value even when zero; per-cgroup and
// per-comm series exist for every label value of every name in the (capped) tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "model/aggregator.h"

namespace cowwatch::metrics {

// Builds one MetricFamily series by series. Shared by the collectables in this directory.
class FamilyBuilder {
 public:
  using Labels = std::vector<prometheus::ClientMetric::Label>;
  FamilyBuilder(std::string name, std::string help, prometheus::MetricType type);
  // Adds a series; `labels` are the series' labels in order.
  void add(Labels labels, double value);
  prometheus::MetricFamily take() { return std::move(family_); }

 private:
  prometheus::MetricFamily family_;
};

class MetricsCollector : public prometheus::Collectable {
 public:
  explicit MetricsCollector(std::shared_ptr<const model::Aggregator> aggregator);
  std::vector<prometheus::MetricFamily> Collect() const override;

  // Renders a snapshot (what Collect() does after taking one); for tests and benchmarks.
  static std::vector<prometheus::MetricFamily> render(const model::MetricsSnapshot& snapshot);

 private:
  std::shared_ptr<const model::Aggregator> aggregator_;
};

}  // namespace cowwatch::metrics
