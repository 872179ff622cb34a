// Human text of an alert: the summary and description annotations, per rule kind.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "alerts/alert_input.h"
#include "config/alert_rule.h"

namespace cowwatch::alerts {

// What a rule measured for one subject on one evaluation.
struct Measurement {
  double value = 0;          // compared with the threshold (unit: threshold_unit(kind))
  double window_count = 0;   // events / faults / extra_ref copies in the window
  double window_total = 0;   // extra_ref_copies: all copies in the window
  ForkEpisode episode;       // fork_cow_blowup: the episode with the largest estimate
  bool approximate = false;  // fork_with_pins: value counts forks of an mm holding long-term
                             // pins, because the copies at fork are not observable here
};

// {"summary", "description", "value"}.
std::map<std::string, std::string> describe(const RuleConfig& rule, const std::string& subject,
                                            const Measurement& m);

// "1.5GiB", "512MiB", "100B".
std::string human_bytes(double bytes);

}  // namespace cowwatch::alerts
