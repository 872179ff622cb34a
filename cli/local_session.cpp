#include "cli/local_session.h"

namespace cowwatch::cli {

namespace {
constexpr size_t kMaxAnomalies = 1000;
}

void DataClock::advance_to(uint64_t mono_ns) {
  if (first_ns_ == 0) first_ns_ = mono_ns;
  if (mono_ns > now_ns_) now_ns_ = mono_ns;
}

std::chrono::steady_clock::time_point DataClock::now() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now_ns_));
}

std::chrono::system_clock::time_point DataClock::wall_now() const {
  return wall_base_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                          std::chrono::nanoseconds(now_ns_ - first_ns_));
}

double DataClock::elapsed_s() const { return static_cast<double>(now_ns_ - first_ns_) / 1e9; }

namespace {
alerts::EngineOptions engine_options(const probe::ProbePlan& plan) {
  alerts::EngineOptions options;
  options.fork_pinned_copies_seen = plan.fork_pinned_copies_seen;
  return options;
}
}  // namespace

LocalSession::LocalSession(LocalSessionOptions options, probe::ProbePlan plan)
    : options_(std::move(options)),
      aggregator_(std::make_shared<model::Aggregator>(options_.aggregator)),
      clock_(options_.wall_at_first),
      engine_(options_.rules, clock_, engine_options(plan)),
      model_backend_(aggregator_, std::move(plan)) {}

void LocalSession::evaluate_alerts() {
  auto transitions = engine_.evaluate(feed_.build(*aggregator_));
  model_backend_.publish_alerts(engine_.active(), transitions);
}

void LocalSession::on_event(const cw_event& event) {
  aggregator_->on_event(event);
  if (event.anomaly) {
    if (anomalies_.size() < kMaxAnomalies) anomalies_.push_back(event);
    std::string cgroup;
    if (auto d = aggregator_->query_pid(event.tgid)) cgroup = d->row.cgroup;
    feed_.add_anomaly(event, cgroup);
    // Like the daemon: an anomaly is evaluated at once, at the time of the latest sample.
    if (samples_ > 0) evaluate_alerts();
  }
}

void LocalSession::on_cgroup_move(const cw_event& event, const cw_counters& counters_at_move) {
  aggregator_->on_cgroup_move(event, &counters_at_move);
}

void LocalSession::on_exit_flush(const cw_proc_key& key, const cw_counters& final_counters) {
  aggregator_->on_exit(key, final_counters);
}

void LocalSession::on_sample(const ingest::KernelSample& sample) {
  clock_.advance_to(sample.mono_ns);
  aggregator_->apply(sample);
  model_backend_.publish_sample_stats(sample);
  ++samples_;
  evaluate_alerts();
}

nlohmann::json LocalSession::Backend::status() {
  nlohmann::json j = s_.model_backend_.status();
  j.erase("pid");
  j.erase("revision");
  j["source"] = s_.options_.source;
  j["uptime_s"] = s_.clock_.elapsed_s();
  j["samples"] = s_.samples_;
  j["lost"] = s_.lost_;
  return j;
}

}  // namespace cowwatch::cli
