#include "util/ratios.h"

#include "util/stats.h"

namespace cowwatch::bench {

std::vector<size_t> rotated_order(size_t modes, int round) {
  std::vector<size_t> order;
  for (size_t k = 0; k < modes; k++) order.push_back((k + size_t(round)) % modes);
  return order;
}

void RatioSeries::add(double value, double baseline) {
  values_.push_back(value);
  if (baseline > 0) ratios_.push_back(value / baseline);
}

double RatioSeries::median_value() const { return median(values_); }
double RatioSeries::median_ratio() const { return median(ratios_); }
double RatioSeries::min_ratio() const { return quantile(ratios_, 0); }
double RatioSeries::max_ratio() const { return quantile(ratios_, 1); }

}  // namespace cowwatch::bench
