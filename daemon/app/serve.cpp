// The running daemon: kernel session → aggregator → {metrics, alerts, control socket}, driven by
// one event loop (ring-buffer fd, drain and poll timers, watchdog, signals). Start-up is the list
// of steps in serve(); teardown is the destructors of Runtime's members, in reverse order.
#include <bpf/libbpf.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <chrono>
#include <cstring>

#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>

#include "alerts/alert_engine.h"
#include "alerts/alert_log.h"
#include "alerts/clock.h"
#include "app/alert_feed.h"
#include "app/daemon.h"
#include "app/config_mapping.h"
#include "app/event_loop.h"
#include "app/log.h"
#include "app/model_backend.h"
#include "app/plan_text.h"
#include "app/system.h"
#include "config/config.h"
#include "cowwatch_version.h"
#include "metrics/alert_metrics.h"
#include "alertmanager/alertmanager_client.h"
#include "control/control_server.h"
#include "metrics/metrics_collector.h"
#include "metrics/metrics_server.h"
#include "metrics/self_metrics.h"
#include "loader/kernel_session.h"
#include "model/proc_reader.h"

namespace cowwatch::app {
namespace {

using std::chrono::nanoseconds;


model::AggregatorOptions aggregator_options(const config::Config& c) {
  model::AggregatorOptions o;
  o.max_processes = c.limits.max_tracked_processes;
  o.max_comms = c.metrics.max_comms;
  o.max_cgroups = c.metrics.max_cgroups;
  o.top_k_processes = c.metrics.top_k_processes;
  return o;
}


double unix_now() { return static_cast<double>(std::time(nullptr)); }


// Everything the running daemon holds. Members are destroyed in reverse order: the control
// socket and the exporter stop before the kernel session detaches the probes.
struct Runtime {
  config::Config config;
  std::optional<std::string> config_path;
  std::unique_ptr<loader::KernelSession> session;
  std::shared_ptr<model::Aggregator> aggregator;
  alerts::SystemClock clock;
  std::unique_ptr<alerts::AlertEngine> engine;
  std::unique_ptr<exporter::AlertmanagerClient> alertmanager;
  std::shared_ptr<metrics::MetricsCollector> metrics;
  std::shared_ptr<metrics::SelfMetrics> self;
  std::shared_ptr<exporter::AlertMetrics> alert_metrics;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  std::optional<std::string> web_config_override;  // --web.config.file
  std::unique_ptr<ModelBackend> backend;
  std::unique_ptr<control::ControlServer> control;
  AlertFeed feed;
  EventLoop loop;
  bool anomaly_pending = false;
  uint64_t polls = 0;
  std::vector<cw_event> fault_batch;  // ordinary fault records not yet handed to the aggregator

  ~Runtime() {
    if (control) control->stop();
  }
};

bool start_alertmanager(Runtime& rt, std::string* error) {
  rt.alertmanager.reset();
  if (rt.config.alertmanager.url.empty()) return true;
  exporter::AlertmanagerOptions o;
  o.url = rt.config.alertmanager.url;
  o.timeout = rt.config.alertmanager.timeout;
  o.resend_interval = rt.config.alertmanager.resend_interval;
  o.generator_url = rt.metrics_server->url();
  auto client = exporter::AlertmanagerClient::create(o);
  if (!client) {
    *error = client.error();
    return false;
  }
  rt.alertmanager = std::move(client).value();
  return true;
}

void publish_transitions(Runtime& rt, const std::vector<alerts::AlertTransition>& transitions) {
  for (const auto& t : transitions) {
    std::string msg = std::string("alert ") + alerts::alert_state_name(t.state) + ": " + t.alert.rule + " " +
                      t.alert.subject;
    auto it = t.alert.annotations.find("summary");
    if (it != t.alert.annotations.end()) msg += ": " + it->second;
    Level level = t.state == alerts::AlertState::kFiring && t.alert.severity == alerts::Severity::kCritical
                      ? Level::kError
                      : Level::kWarning;
    log_structured(level, msg, alerts::journal_fields(t));
  }
  if (rt.alertmanager && !transitions.empty()) rt.alertmanager->submit(transitions);
  rt.alert_metrics->publish(rt.engine->totals(), rt.engine->active(), rt.engine->stats());
  rt.backend->publish_alerts(rt.engine->active(), transitions);
}

void evaluate_alerts(Runtime& rt) {
  publish_transitions(rt, rt.engine->evaluate(rt.feed.build(*rt.aggregator)));
}

// Ordinary fault records are handed to the aggregator in runs (one lock per run); anything
// else first flushes the run, so the model sees records in ring order.
constexpr size_t kFaultBatch = 256;

void flush_faults(Runtime& rt) {
  if (rt.fault_batch.empty()) return;
  rt.aggregator->on_events(rt.fault_batch.data(), rt.fault_batch.size());
  rt.fault_batch.clear();
}

void handle_event(Runtime& rt, const cw_event& e) {
  if (e.type == CW_EV_FAULT && !e.anomaly) {
    rt.fault_batch.push_back(e);
    if (rt.fault_batch.size() >= kFaultBatch) flush_faults(rt);
    rt.backend->dispatch_event(e);
    return;
  }
  flush_faults(rt);
  if (e.type == CW_EV_CGROUP_MOVE) {
    cw_counters at_move;
    rt.aggregator->on_cgroup_move(e, rt.session->take_move(e.aux1, &at_move) ? &at_move : nullptr);
  } else {
    rt.aggregator->on_event(e);
  }
  if (e.type == CW_EV_EXIT) {
    cw_proc_key key{e.tgid, 0, e.start_ns};
    cw_counters final_counters;
    if (rt.session->take_process(key, &final_counters)) {
      rt.aggregator->on_exit(key, final_counters);
      rt.backend->dispatch_exit_flush(key, final_counters);
    }
  }
  if (e.anomaly) {
    std::string cgroup;
    if (auto row = rt.aggregator->process({e.tgid, e.start_ns})) cgroup = row->cgroup;
    rt.feed.add_anomaly(e, cgroup);
    rt.anomaly_pending = true;
  }
  rt.backend->dispatch_event(e);
}

void drain(Runtime& rt) {
  rt.session->drain([&rt](const cw_event& e) { handle_event(rt, e); });
  flush_faults(rt);
  if (rt.anomaly_pending) {  // anomalies wake the reader at once: alert without waiting for a poll
    rt.anomaly_pending = false;
    publish_transitions(rt, rt.engine->evaluate(rt.feed.build_anomalies_only()));
  }
}

// Processes whose exit record was lost (control ring full) keep their kernel map entry: every
// kReapEvery polls, entries whose process is gone from /proc (or whose pid now names another
// process) are read, deleted and folded as if their exit record had arrived.
constexpr uint64_t kReapEvery = 10;

void reap_dead_entries(Runtime& rt, const ingest::KernelSample& sample) {
  if (++rt.polls % kReapEvery != 0) return;
  model::ProcReader proc("/proc");
  for (const auto& entry : sample.processes) {
    if (proc.liveness(model::ProcKey::from(entry.key)) == model::Liveness::kSame) continue;
    cw_counters final_counters;
    if (rt.session->take_process(entry.key, &final_counters)) {
      rt.aggregator->on_exit(entry.key, final_counters);
      rt.backend->dispatch_exit_flush(entry.key, final_counters);
    }
  }
}

void poll(Runtime& rt) {
  // The sample is read before the ring is drained and applied after it: every exit flush and
  // cgroup move (with the counters at the move) recorded up to the read is folded first, and one
  // recorded after the read carries counters at least as new as the sample's, so a move splits a
  // process's counts at the move whatever the timing.
  ingest::KernelSample sample = rt.session->sample();
  drain(rt);
  // Self-monitoring first: a scrape between these steps must never show the model's new counts
  // (e.g. forks) with the drops and records that came with them still at their old values.
  rt.self->update_from_sample(sample);
  rt.self->set_events_received(rt.aggregator->events_received());
  rt.aggregator->apply(sample);
  reap_dead_entries(rt, sample);
  if (std::string error; !rt.metrics_server->reload_if_changed(&error)) log_error("metrics web config: " + error);
  rt.self->set_tracked_processes(rt.aggregator->tracked_processes());
  rt.self->set_vmstat(model::ProcReader("/proc").selfcheck_vmstat());
  rt.backend->publish_sample_stats(sample);
  rt.backend->dispatch_sample(sample);
  evaluate_alerts(rt);
  // Each tick builds and drops per-process snapshots (samples, alert input, scrape bodies); glibc
  // keeps such freed pages scattered in its arenas. Returning them every poll kept the daemon at
  // 10,000 processes near its live size (docs/performance.md); it costs well under a millisecond.
  malloc_trim(0);
}

void reload(Runtime& rt) {
  notify_reloading();
  auto loaded = rt.config_path ? config::load_config_file(*rt.config_path)
                               : config::Result<config::Config>::success(config::default_config());
  if (!loaded) {
    log_error("reload failed, keeping the running configuration: " + loaded.error());
    rt.self->set_config_reload(false, unix_now());
    notify_ready("reload failed; running with the previous configuration");
    return;
  }
  config::Config next = loaded.value();
  if (rt.web_config_override) next.metrics.web_config_file = *rt.web_config_override;
  auto restart_needed = [&](bool changed, const char* section) {
    if (changed) log_warning(std::string("configuration section '") + section +
                             "' changed: it takes effect after a restart");
  };
  restart_needed(!(next.bpf == rt.config.bpf), "bpf");
  restart_needed(!(next.limits == rt.config.limits), "limits");
  restart_needed(!(next.probes == rt.config.probes), "probes");
  restart_needed(!(next.metrics == rt.config.metrics), "metrics");
  restart_needed(!(next.control_socket == rt.config.control_socket), "control_socket");
  restart_needed(next.daemon.poll_interval != rt.config.daemon.poll_interval ||
                     next.daemon.drain_interval != rt.config.daemon.drain_interval,
                 "daemon.poll_interval/drain_interval");
  set_log_level(to_level(next.daemon.log_level));
  rt.config.daemon.log_level = next.daemon.log_level;
  if (!(next.alertmanager == rt.config.alertmanager)) {
    rt.config.alertmanager = next.alertmanager;
    std::string error;
    if (!start_alertmanager(rt, &error)) log_error("alertmanager: " + error);
  }
  if (!(next.alerts == rt.config.alerts)) {
    rt.config.alerts = next.alerts;
    publish_transitions(rt, rt.engine->set_rules(next.alerts.rules));
  }
  rt.self->set_config_reload(true, unix_now());
  log_info("configuration reloaded" + (rt.config_path ? " from " + *rt.config_path : std::string()));
  notify_ready("running; configuration reloaded");
}

}  // namespace

int serve(const Options& options, const config::Config& config, const std::optional<std::string>& config_path) {
  // Before any thread exists: the exposer's worker threads would otherwise each get an arena of
  // their own, and every arena keeps its own freed pages.
  mallopt(M_ARENA_MAX, 2);
  Runtime rt;
  rt.config = config;
  rt.config_path = config_path;
  rt.web_config_override = options.web_config;
  if (!rt.loop.ok()) return start_failed(kExitFailure, "cannot set up the event loop (epoll/signalfd)");
  std::string error;
  int activation_fd = -1;  // before any thread: it edits the environment
  if (!take_activation_socket(&activation_fd, &error)) return start_failed(kExitUsage, error);

  // Step: probe the kernel, load and attach.
  rt.session = loader::KernelSession::open(kernel_options(config), &error);
  if (!rt.session) return start_failed(kExitFailure, error);
  const probe::ProbePlan& plan = rt.session->plan();
  for (const auto& hp : plan.hooks) {
    std::string line = std::string("hook ") + probe::hook_name(hp.hook) + ": " + probe::strategy_name(hp.strategy);
    if (!hp.target.empty()) line += " " + hp.target;
    if (hp.strategy == probe::Strategy::kUnavailable) {
      std::string why;
      for (const auto& r : hp.ladder) why += (why.empty() ? "" : "; ") + r.target + ": " + r.outcome;
      log_warning(line + " (" + why + ")");
    } else {
      log_info(line + (hp.exact ? "" : " (approximate)"));
    }
  }

  // Step: --strict.
  if (options.strict) {
    for (cw_hook h : config.probes.required) {
      const auto& hp = plan.hooks[h];
      if (hp.strategy == probe::Strategy::kUnavailable || !hp.exact) {
        return start_failed(kExitStrict, std::string("--strict: required hook ") + probe::hook_name(h) +
                                             " has no exact rung on this kernel");
      }
    }
  }

  // Step: give up every capability, before any thread starts (capabilities are per thread and
  // threads inherit them): from here on only open fds, /proc, /sys and unprivileged sockets are
  // used. A metrics port below 1024 or a control-socket group the daemon is not a member of would
  // need capabilities it no longer has.
  if (!drop_all_capabilities(&error)) log_warning("could not drop capabilities: " + error);
  log_info("capabilities after attach: CapEff=" + capability_set("CapEff") + " CapBnd=" + capability_set("CapBnd"));

  // Step: model, alerts, exporters.
  rt.aggregator = std::make_shared<model::Aggregator>(aggregator_options(config));
  alerts::EngineOptions engine_options;
  engine_options.fork_pinned_copies_seen = rt.session->plan().fork_pinned_copies_seen;
  rt.engine = std::make_unique<alerts::AlertEngine>(config.alerts.rules, rt.clock, engine_options);
  rt.metrics = std::make_shared<metrics::MetricsCollector>(rt.aggregator);
  rt.self = std::make_shared<metrics::SelfMetrics>();
  rt.self->set_build_info({COWWATCH_VERSION, COWWATCH_REVISION,
                           std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version()),
                           plan.kernel_release});
  rt.self->set_probe_plan(plan);
  rt.self->set_config_reload(true, unix_now());
  rt.alert_metrics = std::make_shared<exporter::AlertMetrics>();
  rt.backend = std::make_unique<ModelBackend>(rt.aggregator, plan);
  rt.alert_metrics->publish(rt.engine->totals(), rt.engine->active(), rt.engine->stats());

  // Step: Prometheus endpoint (plain HTTP, or TLS / basic auth per the web config).
  rt.metrics_server = std::make_unique<metrics::MetricsServer>(
      config.metrics.listen, config.metrics.web_config_file,
      std::vector<std::weak_ptr<prometheus::Collectable>>{rt.metrics, rt.self, rt.alert_metrics});
  if (!rt.metrics_server->start(&error)) {
    return start_failed(config.metrics.web_config_file.empty() ? kExitFailure : kExitUsage, "metrics: " + error);
  }
  log_info("metrics on " + rt.metrics_server->url());
  if (!start_alertmanager(rt, &error)) {
    return start_failed(kExitUsage, "alertmanager: " + error);
  }

  // Step: control socket: the one the service manager passed (cowwatch.socket chose its path,
  // group and mode), else one of its own from control_socket.*.
  control::ServerOptions so;
  so.max_request_bytes = config.control_socket.max_request_bytes;
  so.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.control_socket.client_timeout);
  so.inherited_fd = activation_fd;
  if (activation_fd < 0) {
    so.socket_path = config.control_socket.path;
    if (!config.control_socket.group.empty()) {
      struct group* g = getgrnam(config.control_socket.group.c_str());
      if (!g) return start_failed(kExitUsage, "control_socket.group: no such group '" + config.control_socket.group + "'");
      so.group = g->gr_gid;
    }
  }
  rt.control = std::make_unique<control::ControlServer>(so, *rt.backend);
  if (!rt.control->start(&error)) return start_failed(kExitFailure, "control socket " + so.socket_path + ": " + error);
  const control::ServerOptions& bound = rt.control->options();
  if (activation_fd >= 0 && (!config.control_socket.group.empty() || config.control_socket.path != bound.socket_path)) {
    log_warning("control_socket.path/group are not used: the service manager passed the socket "
                "(its ListenStream=/SocketGroup=/SocketMode= decide where and who may connect)");
  }
  std::string who = "root";
  if (bound.group) {
    struct group* g = getgrgid(*bound.group);
    who += " and group " + (g ? std::string(g->gr_name) : std::to_string(*bound.group));
  }
  log_info("control socket " + bound.socket_path + (activation_fd >= 0 ? " (passed by the service manager)" : "") +
           ", for " + who);

  // Step: the loop.
  int ring_fd = rt.session->event_fd();
  if (ring_fd >= 0) rt.loop.watch(ring_fd, [&rt] { drain(rt); });
  rt.loop.every(config.daemon.drain_interval, [&rt] { drain(rt); });
  rt.loop.every(config.daemon.poll_interval, [&rt] { poll(rt); });
  if (auto wd = watchdog_interval(); wd.count() > 0)
    rt.loop.every(std::chrono::duration_cast<nanoseconds>(wd) / 2, [] { notify_watchdog(); });
  rt.loop.on_signal([&rt](int sig) {
    if (sig == SIGHUP) {
      reload(rt);
    } else {
      log_info(std::string("signal ") + strsignal(sig) + ": detaching and exiting");
      notify_stopping();
      rt.loop.stop();
    }
  });
  poll(rt);
  notify_ready("running");
  log_info("running");
  rt.loop.run();
  rt.control->stop();
  rt.metrics_server->stop();  // at once, even with a scrape connection open
  // Detach here, timed. Taking the last program off a traced function ends its trampoline, and the
  // kernel waits for RCU-tasks grace periods before it returns (one function after another): on
  // kernels with fentry hooks that is most of a stop (docs/reliability.md). The line lets a stop
  // be told apart into the kernel's detach and the rest.
  const auto detach_start = std::chrono::steady_clock::now();
  rt.session.reset();
  const auto detach_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - detach_start).count();
  log_info("probes detached in " + std::to_string(detach_us / 1000) + "." + std::to_string(detach_us % 1000 / 100) +
           " ms");
  return kExitOk;
}

}  // namespace cowwatch::app
