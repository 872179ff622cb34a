#include "metrics/metrics_collector.h"

#include <array>

namespace cowwatch::metrics {
namespace {

using model::Tallies;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = FamilyBuilder::Labels;

// One series of a family: its label value and how to read it from Tallies.
struct Series {
  const char* label_value;
  uint64_t (*read)(const Tallies&, size_t);
  size_t arg;
};

uint64_t tally_at(const Tallies& t, size_t index) { return t[index]; }
uint64_t decision_at(const Tallies& t, size_t decision) { return model::decision_count(t, decision); }
uint64_t copied_bytes_of(const Tallies& t, size_t) { return model::copied_bytes(t); }

// A family rendered from Tallies at every aggregation level: name suffix (after the level's
// prefix), help, the label that tells series apart ("" for one series) and the series.
struct TallyFamily {
  const char* suffix;
  const char* help;
  const char* label;
  std::vector<Series> series;
};

std::vector<Series> copy_reason_series() {
  std::vector<Series> series;
  for (int r = 0; r < CW_REASON_COUNT; ++r)
    series.push_back({model::copy_reason_name(r), tally_at, model::copy_tally(r)});
  return series;
}

const TallyFamily kWpFaults{"wp_faults_total", "Write-protect faults on present ptes (do_wp_page)",
                            "kind", {{"write", tally_at, model::kWpWrite},
                                     {"unshare", tally_at, model::kWpUnshare}}};
const TallyFamily kCopies{"cow_copies_total", "COW copies by reason", "reason", copy_reason_series()};
const TallyFamily kCopiedBytes{"cow_copied_bytes_total", "Bytes copied by COW (copies x page size)", "",
                               {{"", copied_bytes_of, 0}}};
const TallyFamily kReuses{"cow_reuses_total", "Pages reused in place by a write-protect fault", "path",
                          {{"exclusive", tally_at, model::kReuseExclusive},
                           {"sole_ref", tally_at, model::kReuseSoleRef}}};
const TallyFamily kGupUnshares{"gup_unshares_total", "Unshare faults forced by read-only pins", "result",
                               {{"copy", tally_at, model::copy_tally(CW_REASON_UNSHARE)},
                                {"noop", tally_at, model::kUnshareNoop}}};
const TallyFamily kKsmUnmerges{"ksm_unmerges_total",
                                "KSM unmerge faults (MADV_UNMERGEABLE, ksm run=2, PR_SET_MEMORY_MERGE off); "
                                "copies are also cow_copies_total{reason=\"ksm\"}, never GUP unshares",
                                "result",
                                {{"copy", tally_at, model::kKsmUnmergeCopy},
                                 {"noop", tally_at, model::kKsmUnmergeNoop}}};
const TallyFamily kSwapAdds{"swap_adds_total", "Folios added to the swap cache", "pinned",
                            {{"true", tally_at, model::kSwapAddPinned},
                             {"false", tally_at, model::kSwapAddUnpinned}}};
const TallyFamily kForks{"forks_total", "New thread groups, by the parent mm's pin state", "pins",
                         {{"none", tally_at, model::kForkNoPins},
                          {"mm_has_pinned", tally_at, model::kForkMmHasPinned},
                          {"longterm", tally_at, model::kForkLongterm}}};

std::vector<Series> decision_series() {
  std::vector<Series> series;
  for (size_t d = 0; d < model::kDecisionNames.size(); ++d)
    series.push_back({model::kDecisionNames[d], decision_at, d});
  return series;
}

const TallyFamily kDecisions{"wp_fault_decisions_total", "What do_wp_page decided", "decision",
                             decision_series()};
const TallyFamily kRemote{"wp_faults_remote_total",
                          "Write-protect faults taken by another task on a process's mm", "",
                          {{"", tally_at, model::kWpRemote}}};
const TallyFamily kApprox{"wp_faults_approx_total",
                          "Tracepoint approximation of write-protect faults where do_wp_page cannot be "
                          "probed (not exact)",
                          "", {{"", tally_at, model::kWpApprox}}};
const TallyFamily kForkPinnedCopies{"fork_pinned_copies_total",
                                    "Pages copied eagerly at fork because they were maybe DMA-pinned "
                                    "(counted for the forking parent)",
                                    "", {{"", tally_at, model::kForkPinnedCopies}}};
const TallyFamily kPinnedSwapSkips{"pinned_swap_skips_total",
                                   "Reclaim kept a maybe-DMA-pinned anonymous folio", "",
                                   {{"", tally_at, model::kPinnedSwapSkip}}};

const std::array<const TallyFamily*, 13> kHostFamilies = {
    &kWpFaults, &kDecisions,   &kRemote,      &kApprox,   &kCopies,          &kCopiedBytes, &kReuses,
    &kGupUnshares, &kKsmUnmerges, &kSwapAdds, &kPinnedSwapSkips, &kForks,       &kForkPinnedCopies};
const std::array<const TallyFamily*, 9> kGroupFamilies = {
    &kWpFaults, &kCopies, &kCopiedBytes, &kReuses, &kGupUnshares, &kKsmUnmerges, &kSwapAdds, &kForks,
    &kForkPinnedCopies};
const std::array<const TallyFamily*, 7> kProcessFamilies = {
    &kWpFaults, &kCopies, &kCopiedBytes, &kReuses, &kGupUnshares, &kKsmUnmerges, &kSwapAdds};

// Adds one entity's series (its identifying labels first) to a family.
void add_series(FamilyBuilder& builder, const TallyFamily& family, const Labels& identity,
                const Tallies& tallies) {
  for (const Series& series : family.series) {
    Labels labels = identity;
    if (*family.label) labels.push_back({family.label, series.label_value});
    builder.add(std::move(labels), double(series.read(tallies, series.arg)));
  }
}

void render_host(const model::MetricsSnapshot& snapshot, std::vector<MetricFamily>& out) {
  for (const TallyFamily* family : kHostFamilies) {
    FamilyBuilder builder(std::string("cowwatch_") + family->suffix, family->help, MetricType::Counter);
    add_series(builder, *family, {}, snapshot.host);
    out.push_back(builder.take());
  }
}

void render_groups(const char* level, const char* label, const std::vector<model::GroupRow>& rows,
                   std::vector<MetricFamily>& out) {
  for (const TallyFamily* family : kGroupFamilies) {
    FamilyBuilder builder(std::string("cowwatch_") + level + "_" + family->suffix,
                          std::string(family->help) + ", per " + label, MetricType::Counter);
    for (const model::GroupRow& row : rows) add_series(builder, *family, {{label, row.name}}, row.totals);
    out.push_back(builder.take());
  }
}

void render_comm_fork_bytes(const std::vector<model::GroupRow>& rows, std::vector<MetricFamily>& out) {
  FamilyBuilder builder("cowwatch_comm_fork_copied_bytes_total",
                        "Bytes copied by forks whose parent had this comm: parent and child copies of "
                        "shared pages while the child lived",
                        MetricType::Counter);
  for (const model::GroupRow& row : rows) builder.add({{"comm", row.name}}, double(row.fork_copied_bytes));
  out.push_back(builder.take());
}

void render_processes(const std::vector<model::ProcessRow>& rows, std::vector<MetricFamily>& out) {
  std::vector<Labels> identities;
  identities.reserve(rows.size());
  for (const model::ProcessRow& row : rows)
    identities.push_back({{"pid", std::to_string(row.pid)}, {"comm", row.comm}, {"cgroup", row.cgroup}});
  for (const TallyFamily* family : kProcessFamilies) {
    FamilyBuilder builder(std::string("cowwatch_process_") + family->suffix,
                          std::string(family->help) + ", per top-K process", MetricType::Counter);
    for (size_t i = 0; i < rows.size(); ++i) add_series(builder, *family, identities[i], rows[i].totals);
    out.push_back(builder.take());
  }
  FamilyBuilder copied("cowwatch_process_fork_copied_bytes",
                       "Bytes copied since this process's most recent fork, while a child of it lives",
                       MetricType::Gauge);
  FamilyBuilder projected("cowwatch_process_fork_projected_copy_bytes",
                          "Projected bytes the most recent fork will copy at the current rate, bounded "
                          "by the parent's anonymous RSS at fork",
                          MetricType::Gauge);
  for (size_t i = 0; i < rows.size(); ++i) {
    copied.add(identities[i], double(rows[i].fork_copied_bytes));
    projected.add(identities[i], double(rows[i].fork_projected_bytes));
  }
  out.push_back(copied.take());
  out.push_back(projected.take());
}

}  // namespace

FamilyBuilder::FamilyBuilder(std::string name, std::string help, MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

void FamilyBuilder::add(Labels labels, double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  switch (family_.type) {
    case MetricType::Counter: metric.counter.value = value; break;
    case MetricType::Gauge: metric.gauge.value = value; break;
    default: metric.untyped.value = value; break;
  }
  family_.metric.push_back(std::move(metric));
}

MetricsCollector::MetricsCollector(std::shared_ptr<const model::Aggregator> aggregator)
    : aggregator_(std::move(aggregator)) {}

std::vector<MetricFamily> MetricsCollector::Collect() const {
  return render(*aggregator_->metrics_snapshot());
}

std::vector<MetricFamily> MetricsCollector::render(const model::MetricsSnapshot& snapshot) {
  std::vector<MetricFamily> out;
  out.reserve(kHostFamilies.size() + 2 * kGroupFamilies.size() + kProcessFamilies.size() + 3);
  render_host(snapshot, out);
  render_groups("cgroup", "cgroup", snapshot.cgroups, out);
  render_groups("comm", "comm", snapshot.comms, out);
  render_comm_fork_bytes(snapshot.comms, out);
  render_processes(snapshot.top_processes, out);
  return out;
}

}  // namespace cowwatch::metrics
