// Small statistics for benchmark tables: medians and percentiles of samples.
#pragma once

#include <vector>

namespace cowwatch::bench {

// The q-quantile (0..1) by nearest rank; 0 for an empty input. Takes a copy: inputs stay in order.
double quantile(std::vector<double> samples, double q);
inline double median(const std::vector<double>& samples) { return quantile(samples, 0.5); }

}  // namespace cowwatch::bench
