#include "app/plan_text.h"

#include <sstream>

namespace cowwatch::app {

std::string plan_to_text(const probe::ProbePlan& plan, bool with_ladders) {
  std::ostringstream out;
  out << "kernel " << plan.kernel_release << "\n";
  for (const auto& hp : plan.hooks) {
    out << "  " << probe::hook_name(hp.hook);
    for (size_t n = std::string(probe::hook_name(hp.hook)).size(); n < 12; n++) out << ' ';
    out << probe::strategy_name(hp.strategy);
    if (!hp.target.empty()) out << " " << hp.target;
    out << (hp.exact ? "  [exact]" : hp.strategy == probe::Strategy::kUnavailable ? "" : "  [approximate]")
        << "\n";
    if (!with_ladders) continue;
    for (const auto& r : hp.ladder) {
      out << "      " << (r.chosen ? "* " : "- ") << probe::strategy_name(r.strategy);
      if (!r.target.empty()) out << " " << r.target;
      out << ": " << r.outcome << "\n";
    }
    if (!hp.accuracy.empty()) out << "      accuracy: " << hp.accuracy << "\n";
  }
  return out.str();
}

}  // namespace cowwatch::app
