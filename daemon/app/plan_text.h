// The probe plan as text for people (cowwatchd --probes, cowwatch probes).
#pragma once

#include <string>

#include "probe/plan.h"

namespace cowwatch::app {
std::string plan_to_text(const probe::ProbePlan& plan, bool with_ladders);
}  // namespace cowwatch::app
