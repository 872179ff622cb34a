#include "cli/kernel_commands.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <fcntl.h>

#include "cli/exit_codes.h"
#include "cli/local_session.h"
#include "cli/render.h"
#include "config/config.h"
#include "export/protocol_codec.h"
#include "export/protocol_names.h"
#include "loader/kernel_session.h"
#include "model/json_views.h"

namespace cowwatch::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

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

// The observed tree: the command and every process it forked, transitively.
class ProcessTree {
 public:
  explicit ProcessTree(uint32_t root) { members_.insert(root); }
  bool contains(uint32_t tgid) const { return members_.count(tgid) != 0; }
  void add(uint32_t tgid) { members_.insert(tgid); }
  size_t size() const { return members_.size(); }

 private:
  std::set<uint32_t> members_;
};

struct RunState {
  ProcessTree tree;
  std::map<std::pair<uint32_t, uint64_t>, cw_counters> live;    // latest absolute counters
  std::map<std::pair<uint32_t, uint64_t>, cw_counters> flushed;  // final counters at exit
};

cw_counters tree_totals(const RunState& s) {
  cw_counters sum{};
  auto add = [&](const cw_counters& c) {
    for (int i = 0; i < CW_C_COUNT; ++i) sum.c[i] += c.c[i];
  };
  for (const auto& [k, c] : s.flushed) add(c);
  for (const auto& [k, c] : s.live) {
    if (!s.flushed.count(k)) add(c);
  }
  return sum;
}

void handle_event(loader::KernelSession& kernel, LocalSession& session, RunState& s,
                  const cw_event& e) {
  cw_counters at_move;
  const bool moved = e.type == CW_EV_CGROUP_MOVE && kernel.take_move(e.aux1, &at_move);  // always taken
  if (e.type == CW_EV_FORK && s.tree.contains(e.tgid)) s.tree.add(e.aux2);
  if (!s.tree.contains(e.tgid)) return;
  if (moved)
    session.on_cgroup_move(e, at_move);
  else
    session.on_event(e);
  if (e.type == CW_EV_EXIT) {
    cw_proc_key key{e.tgid, 0, e.start_ns};
    cw_counters final_counters{};
    if (kernel.take_process(key, &final_counters)) {
      s.flushed[{key.tgid, key.start_ns}] = final_counters;
      session.on_exit_flush(key, final_counters);
    }
  }
}

void take_sample(loader::KernelSession& kernel, LocalSession& session, RunState& s) {
  ingest::KernelSample sample = kernel.sample();
  std::vector<ingest::ProcessCounters> mine;
  for (const auto& p : sample.processes) {
    if (!s.tree.contains(p.key.tgid)) continue;
    mine.push_back(p);
    s.live[{p.key.tgid, p.key.start_ns}] = p.counters;
  }
  sample.processes = std::move(mine);
  sample.host = tree_totals(s);  // the report's "host" is the command's tree
  session.on_sample(sample);
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

std::string render_run_report(const json& r) {
  std::ostringstream o;
  o << "cowwatch run: " << r["command_line"].get<std::string>() << " (pid " << r["pid"]
    << ") exited with status " << r["exit_status"] << " after "
    << human_duration(r["duration_s"].get<double>()) << "; " << r["processes"]
    << " process(es) in its tree\n";
  json q = {{"scope", "tree"}, {"tree", "command"}, {"counters", r["counters"]}};
  std::string body = render_query(q);
  o << body.substr(body.find('\n') + 1);  // skip the scope line
  for (const auto& e : r["fork_episodes"]) {
    o << "fork cost     " << e["parent"]["pid"] << " -> " << e["child"]["pid"] << ": copied "
      << human_bytes(e["copied_bytes"].get<uint64_t>()) << "\n";
  }
  if (r["anomalies"].empty()) {
    o << "anomalies     none\n";
  } else {
    o << "anomalies     " << r["anomalies"].size() << "\n";
    for (const auto& e : r["anomalies"]) o << "  " << render_event(e) << "\n";
  }
  const auto& recent = r["alerts"].value("recent", json::array());
  for (const auto& a : recent) {
    o << "alert         [" << a.value("severity", "?") << "] " << a.value("rule", "?") << " "
      << a.value("state", "") << ": " << a["annotations"].value("summary", a.value("subject", ""))
      << "\n";
  }
  for (const auto& w : r["probe_warnings"]) {
    o << "note: hook " << w["hook"].get<std::string>() << " is "
      << (w["strategy"] == "unavailable" ? "unavailable on this kernel: it reports nothing"
                                         : "approximate (" + w["strategy"].get<std::string>() + ")")
      << "\n";
  }
  return o.str();
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
  options.rules = config::default_config().alerts.rules;
  LocalSession session(options, kernel->plan());
  RunState state{ProcessTree(static_cast<uint32_t>(child)), {}, {}};
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
      {"counters", model::tallies_json(model::tallies_from_counters(tree_totals(state)))},
      {"fork_episodes", model::to_json(session.aggregator().fork_episodes(true))},
      {"anomalies", anomalies},
      {"kernel_release", kernel->plan().kernel_release},
      {"probe_warnings", plan_warnings(kernel->plan())},
      {"alerts", session.backend().alerts(true)},
  };
  if (o.json) {
    o.out << report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    o.out << render_run_report(report);
  }
  return exit_status;
}

}  // namespace cowwatch::cli
