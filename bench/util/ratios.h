// Interleaved A/B rounds: each round visits every mode once in an order rotated per round, and a
// mode's figure is the median over rounds of (its value / the same round's baseline value).
#pragma once

#include <cstddef>
#include <vector>

namespace cowwatch::bench {

// The order in which round `round` visits `modes` modes: 0..modes-1 rotated left by `round`.
std::vector<size_t> rotated_order(size_t modes, int round);

// One mode's figures for one measured quantity, one entry per round.
class RatioSeries {
 public:
  // `value` and `baseline` from the same round; a non-positive baseline records no ratio.
  void add(double value, double baseline);
  double median_value() const;
  double median_ratio() const;
  double min_ratio() const;
  double max_ratio() const;
  size_t rounds() const { return ratios_.size(); }

 private:
  std::vector<double> values_, ratios_;
};

}  // namespace cowwatch::bench
