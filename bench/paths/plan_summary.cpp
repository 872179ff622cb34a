#include "paths/plan_summary.h"

#include <cstdio>

namespace cowwatch::bench {

bool print_daemon_plan(const loader::KernelOptions& options, std::string* error) {
  auto session = loader::KernelSession::open(options, error);
  if (!session) return false;
  const probe::ProbePlan& plan = session->plan();
  std::printf("cowwatch's plan on %s:", plan.kernel_release.c_str());
  for (const probe::HookPlan& h : plan.hooks) {
    std::printf(" %s=%s", probe::hook_name(h.hook), probe::strategy_name(h.strategy));
    if (!h.target.empty()) std::printf("(%s)", h.target.c_str());
  }
  std::printf("; fork pinned copies seen: %s\n", plan.fork_pinned_copies_seen ? "yes" : "no");
  std::string names;
  size_t count = 0;
  for (const auto& p : session->sample().programs) {
    names += (names.empty() ? "" : " ") + p.name;
    count++;
  }
  std::printf("attached programs (%zu): %s\n", count, names.c_str());
  return true;
}

}  // namespace cowwatch::bench
