#include "util/stats.h"

#include <algorithm>
#include <cmath>

namespace cowwatch::bench {

double quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  double rank = std::ceil(q * double(samples.size()));
  size_t index = rank < 1 ? 0 : size_t(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

}  // namespace cowwatch::bench
