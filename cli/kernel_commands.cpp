#include "cli/kernel_commands.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <fcntl.h>

#include "cli/exit_codes.h"
#include "cli/local_session.h"
#include "cli/render.h"
#include "cli/run_report.h"
#include "cli/run_tree.h"
#include "config/config.h"
#include "protocol/protocol_codec.h"
#include "protocol/protocol_names.h"
#include "loader/kernel_session.h"
#include "model/cgroup_resolver.h"
#include "model/json_views.h"

namespace cowwatch::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Fork episodes `run` keeps after they end, for every parent's fork cost (the daemon keeps 64).
constexpr size_t kMaxRunForkEpisodes = 1 << 20;

std::unique_ptr<loader::KernelSession> open_kernel(uint32_t event_mode, const Output& o) {
  loader::KernelOptions options;
  options.event_mode = event_mode;
  std::string error;
  auto session = loader::KernelSession::open(options, &error);
  if (!session) {
    o.err << "cowwatch: cannot observe this kernel: " << error
          << (geteuid() != 0 ? " (run as root)" : "") << "\n";
  }
  return session;
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

struct RunState {
  RunTree tree;
  model::CgroupResolver cgroups;
};

// A member's new counters, and its cgroup's path named while the cgroup exists (a cgroup
// removed later keeps the path it had).
void take_counters(RunState& s, const cw_proc_key& kernel_key, const cw_counters& counters, bool final) {
  const model::ProcKey key = model::ProcKey::from(kernel_key);
  s.tree.on_counters(key, counters, final);
  auto it = s.tree.members().find(key);
  if (it == s.tree.members().end() || !it->second.cgroup_id) return;
  if (auto path = s.cgroups.resolve(it->second.cgroup_id)) it->second.cgroup = *path;
}

void handle_event(loader::KernelSession& kernel, LocalSession& session, RunState& s,
                  const cw_event& e) {
  cw_counters at_move;
  const bool moved = e.type == CW_EV_CGROUP_MOVE && kernel.take_move(e.aux1, &at_move);  // always taken
  if (!s.tree.on_event(e)) return;
  if (moved)
    session.on_cgroup_move(e, at_move);
  else
    session.on_event(e);
  if (e.type == CW_EV_EXIT) {
    cw_proc_key key{e.tgid, 0, e.start_ns};
    cw_counters final_counters{};
    if (kernel.take_process(key, &final_counters)) {
      take_counters(s, key, final_counters, true);
      session.on_exit_flush(key, final_counters);
    }
  }
}

void take_sample(loader::KernelSession& kernel, LocalSession& session, RunState& s) {
  ingest::KernelSample sample = kernel.sample();
  std::vector<ingest::ProcessCounters> mine;
  s.cgroups.new_poll();
  for (const auto& p : sample.processes) {
    if (!s.tree.contains(model::ProcKey::from(p.key))) continue;
    mine.push_back(p);
    take_counters(s, p.key, p.counters, false);
  }
  sample.processes = std::move(mine);
  sample.host = s.tree.totals();  // the report's "host" is the command's tree
  session.on_sample(sample);
}

ForkCosts fork_costs(const model::Aggregator& aggregator) {
  ForkCosts costs;
  for (const auto& view : aggregator.fork_episodes(true)) costs[view.episode.parent] += view.episode.copied_bytes();
  return costs;
}

json plan_warnings(const probe::ProbePlan& plan) {
  json out = json::array();
  for (const auto& h : plan.hooks) {
    if (h.strategy == probe::Strategy::kUnavailable || !h.exact) {
      out.push_back({{"hook", std::string(control::hook_label(h.hook))},
                     {"strategy", std::string(control::strategy_label(h.strategy))},
                     {"accuracy", h.accuracy}});
    }
  }
  return out;
}

}  // namespace

int cmd_probes_local(const Output& o) {
  auto kernel = open_kernel(0, o);
  if (!kernel) return kExitKernel;
  print_plan(control::plan_to_json(kernel->plan()), o);
  return kExitOk;
}

int cmd_run(const RunArgs& args, const Output& o) {
  if (args.command.empty()) {
    o.err << "cowwatch: run needs a command: cowwatch run -- CMD ARGS...\n";
    return kExitUsage;
  }
  auto kernel = open_kernel(args.event_mode, o);
  if (!kernel) return kExitKernel;

  // The child waits on a pipe until it is known to us, then execs.
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    o.err << "cowwatch: pipe: " << std::strerror(errno) << "\n";
    return kExitError;
  }
  auto started = Clock::now();
  const uint64_t forked_after_ns = monotonic_ns();
  pid_t child = fork();
  if (child < 0) {
    o.err << "cowwatch: fork: " << std::strerror(errno) << "\n";
    return kExitError;
  }
  if (child == 0) {
    close(go[1]);
    // The command gets default signal dispositions (we ignore SIGPIPE and catch SIGINT).
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    char byte;
    if (read(go[0], &byte, 1) != 1) _exit(127);
    std::vector<char*> argv;
    for (const auto& a : args.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "cowwatch: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  close(go[0]);
  // Ctrl-C goes to the command (same process group); we report when it is done.
  struct sigaction ignore {}, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);

  LocalSessionOptions options;
  options.source = "run";
  options.aggregator.max_ended_fork_episodes = kMaxRunForkEpisodes;
  options.rules = config::default_config().alerts.rules;
  LocalSession session(options, kernel->plan());
  RunState state{RunTree(static_cast<uint32_t>(child), forked_after_ns), model::CgroupResolver()};
  [[maybe_unused]] ssize_t w = write(go[1], "g", 1);
  close(go[1]);

  int status = 0;
  auto next_sample = Clock::now();
  auto drain = [&] {
    kernel->drain([&](const cw_event& e) { handle_event(*kernel, session, state, e); });
  };
  for (;;) {
    pollfd p{kernel->event_fd(), POLLIN, 0};
    poll(&p, 1, 50);
    drain();
    if (Clock::now() >= next_sample) {
      take_sample(*kernel, session, state);
      next_sample = Clock::now() + std::chrono::seconds(1);
    }
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) break;
  }
  double duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  drain();  // exit records of the command and anything that exited with it
  take_sample(*kernel, session, state);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);

  int exit_status = WIFEXITED(status) ? WEXITSTATUS(status)
                                      : (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1);
  std::string command_line;
  for (const auto& a : args.command) command_line += (command_line.empty() ? "" : " ") + a;
  json anomalies = json::array();
  for (const auto& e : session.anomalies()) anomalies.push_back(control::event_to_json(e));
  json report = {
      {"command", args.command},
      {"command_line", command_line},
      {"pid", child},
      {"exit_status", exit_status},
      {"duration_s", duration_s},
      {"processes", state.tree.size()},
      {"counters", model::tallies_json(model::tallies_from_counters(state.tree.totals()))},
      {"per_process", process_rows_json(state.tree, fork_costs(session.aggregator()))},
      {"fork_episodes", model::to_json(session.aggregator().fork_episodes(true))},
      {"anomalies", anomalies},
      {"kernel_release", kernel->plan().kernel_release},
      {"probe_warnings", plan_warnings(kernel->plan())},
      {"alerts", session.backend().alerts(true)},
  };
  if (o.json) {
    o.out << report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    o.out << render_run_report(report, args.top, args.all);
  }
  return exit_status;
}

}  // namespace cowwatch::cli
