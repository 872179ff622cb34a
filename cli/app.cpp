#include "cli/app.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/kernel_commands.h"
#include "cli/replay.h"
#include "cli/streaming.h"
#include "cli/top_view.h"
#include "control/control_server.h"
#include "protocol/protocol_names.h"

namespace cowwatch::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

const char* kDescription =
    "cowwatch: who is copying pages on write, why, and is anything pinned dangerously.\n"
    "Talks to cowwatchd over its control socket; `probes --local`, `run` and `replay` work\n"
    "without the daemon.";

const char* kExamples = R"(
Examples:
  cowwatch status                          daemon health, probe plan, drops, active alerts
  cowwatch top --sort copied_bytes --by cgroup
  cowwatch query --pid 1234                counters, copy reasons, fork cost, alerts of a pid
  cowwatch query --comm redis-server --json
  cowwatch alerts --all
  cowwatch trace --pid 1234 --hook wp_fault --reason shared
  cowwatch record -o /tmp/cow.cwrec --duration 60s
  cowwatch replay /tmp/cow.cwrec --report top --by comm
  cowwatch run -- redis-cli bgsave          (as root, no daemon needed)
  cowwatch probes --local                   what this kernel supports, no daemon needed

Exit codes: 0 ok, 1 error, 2 usage, 3 daemon not running, 4 permission denied,
5 not found, 6 bad recording, 7 kernel side unavailable; run: the command's status.
)";

std::string default_socket() {
  const char* env = std::getenv("COWWATCH_SOCKET");
  return env != nullptr && *env != '\0' ? env : control::kDefaultSocketPath;
}

void add_top_options(CLI::App* cmd, TopArgs* args) {
  cmd->add_option("--sort,-s", args->sort, "copies|copied_bytes|unshares|swap_adds|faults")
      ->check(CLI::IsMember({"copies", "copied_bytes", "unshares", "swap_adds", "faults"}));
  cmd->add_option("--by,-b", args->by, "process|cgroup|comm")
      ->check(CLI::IsMember({"process", "cgroup", "comm"}));
  cmd->add_option("--limit,-n", args->limit, "rows (default 20)")->check(CLI::Range(1, 10000));
}

void add_query_options(CLI::App* cmd, QueryArgs* args) {
  auto* pid = cmd->add_option("--pid,-p", args->pid, "process id")->check(CLI::Range(1u, 4294967295u));
  auto* comm = cmd->add_option("--comm,-c", args->comm, "task name (15 chars)");
  auto* cgroup = cmd->add_option("--cgroup,-g", args->cgroup,
                                 "cgroup path below the cgroup2 root, e.g. system.slice/redis.service");
  pid->excludes(comm)->excludes(cgroup);
  comm->excludes(cgroup);
}

}  // namespace

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{kDescription, "cowwatch"};
  app.footer(kExamples);
  app.require_subcommand(1);
  app.set_version_flag("--version", "cowwatch " COWWATCH_CLI_VERSION);
  std::string socket_path = default_socket();
  app.add_option("--socket", socket_path, "control socket (env COWWATCH_SOCKET)")
      ->capture_default_str();
  bool json = false;
  auto add_json = [&](CLI::App* cmd) { cmd->add_flag("--json,-j", json, "print JSON"); };

  auto* status = app.add_subcommand("status", "daemon health, kernel, probe plan, rates, drops, alerts");
  add_json(status);

  bool probes_local = false;
  auto* probes = app.add_subcommand("probes", "the probe plan per hook with reasons");
  probes->add_flag("--local", probes_local,
                   "probe this kernel here instead of asking the daemon (root); "
                   "the default when no daemon runs");
  add_json(probes);

  TopArgs top_args;
  bool top_once = false;
  auto* top = app.add_subcommand("top", "live view of the most active processes/cgroups/comms; q quits");
  add_top_options(top, &top_args);
  top->add_flag("--once", top_once, "print one snapshot and exit (implied when stdout is not a terminal)");
  add_json(top);

  QueryArgs query_args;
  auto* query = app.add_subcommand("query", "counters, copy reasons, fork cost and alerts of one scope");
  add_query_options(query, &query_args);
  add_json(query);

  bool alerts_all = false;
  auto* alerts = app.add_subcommand("alerts", "active alerts (--all: and recent transitions)");
  alerts->add_flag("--all,-a", alerts_all, "include recently fired and resolved alerts");
  add_json(alerts);

  TraceArgs trace_args;
  auto* trace = app.add_subcommand("trace", "stream live events, one line each, until Ctrl-C");
  trace->add_option("--pid,-p", trace_args.pid, "only this process (owner or actor)");
  trace->add_option("--hook", trace_args.hook, "wp_fault|cow_copy|cow_reuse|gup_unshare|swap_add|fork|exit")
      ->check(CLI::IsMember({"wp_fault", "cow_copy", "cow_reuse", "gup_unshare", "swap_add", "fork", "exit"}));
  trace->add_option("--reason,-r", trace_args.reason,
                    "copy reason: unshare|zero_page|file|ksm|pinned|shared|extra_ref|large_folio|other")
      ->check(CLI::IsMember({"unshare", "zero_page", "file", "ksm", "pinned", "shared", "extra_ref",
                             "large_folio", "other"}));
  add_json(trace);

  std::string record_path, record_duration;
  auto* record = app.add_subcommand("record", "record events and counter samples to a file");
  record->add_option("-o,--output", record_path, "recording file ('-' for stdout)")->required();
  record->add_option("--duration,-d", record_duration, "stop after this long (30s, 5m, 1h); default: Ctrl-C");

  std::string replay_path, report = "top";
  auto* replay = app.add_subcommand("replay", "analyse a recording (from any host) like the live daemon");
  replay->add_option("file", replay_path, "recording made by cowwatch record")->required();
  replay->add_option("--report", report, "status|probes|top|query|alerts")
      ->check(CLI::IsMember({"status", "probes", "top", "query", "alerts"}))
      ->capture_default_str();
  TopArgs replay_top;
  QueryArgs replay_query;
  bool replay_all = false;
  add_top_options(replay, &replay_top);
  add_query_options(replay, &replay_query);
  replay->add_flag("--all", replay_all, "alerts report: include recent transitions");
  add_json(replay);

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "run a command and report its process tree's COW behaviour (root)");
  run->add_option("command", run_args.command, "CMD ARGS... (after --)")->required();
  run->add_option("-n,--top", run_args.top, "text report: list the N processes with the most copies")
      ->capture_default_str();
  run->add_flag("--all", run_args.all, "text report: list every process of the tree");
  add_json(run);
  run->positionals_at_end();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "cowwatch: " << e.what() << "\n";
    for (auto* sub : app.get_subcommands()) {
      err << "usage: see `cowwatch " << sub->get_name() << " --help`\n";
    }
    if (app.get_subcommands().empty()) err << "usage: see `cowwatch --help`\n";
    return kExitUsage;
  }

  Output o{out, err, json};
  g_stop = false;
  catch_interrupts();
  DaemonClient client(socket_path);

  if (status->parsed()) return cmd_status(client, o);
  if (probes->parsed()) {
    if (probes_local) return cmd_probes_local(o);
    std::ostringstream quiet_err;
    Output probe_out{out, quiet_err, json};
    int code = cmd_probes(client, probe_out);
    if (code != kExitNoDaemon) {
      err << quiet_err.str();
      return code;
    }
    return cmd_probes_local(o);  // no daemon: probe the kernel ourselves
  }
  if (top->parsed()) {
    if (top_once || json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
      return cmd_top_once(client, top_args, o);
    }
    return run_top_view(client, top_args, &g_stop);
  }
  if (query->parsed()) {
    if (!query_args.pid && !query_args.comm && !query_args.cgroup) {
      err << "cowwatch: query needs one of --pid, --comm, --cgroup\n";
      return kExitUsage;
    }
    return cmd_query(client, query_args, o);
  }
  if (alerts->parsed()) return cmd_alerts(client, alerts_all, o);
  if (trace->parsed()) return cmd_trace(client, trace_args, o, &g_stop);
  if (record->parsed()) {
    std::optional<std::chrono::milliseconds> duration;
    if (!record_duration.empty()) {
      duration = parse_duration(record_duration);
      if (!duration) {
        err << "cowwatch: bad --duration '" << record_duration << "' (use 30s, 5m, 1h)\n";
        return kExitUsage;
      }
    }
    return cmd_record(client, record_path, duration, o, &g_stop);
  }
  if (replay->parsed()) {
    LoadedRecording rec;
    std::string error;
    if (!load_recording(replay_path, &rec, &error)) {
      err << "cowwatch: " << error << "\n";
      return kExitBadRecording;
    }
    BackendSource source(rec.session->backend());
    if (report == "status") return cmd_status(source, o);
    if (report == "probes") return cmd_probes(source, o);
    if (report == "alerts") return cmd_alerts(source, replay_all, o);
    if (report == "query") {
      if (!replay_query.pid && !replay_query.comm && !replay_query.cgroup) {
        err << "cowwatch: --report query needs one of --pid, --comm, --cgroup\n";
        return kExitUsage;
      }
      return cmd_query(source, replay_query, o);
    }
    return cmd_top_once(source, replay_top, o);
  }
  if (run->parsed()) return cmd_run(run_args, o);
  return kExitUsage;
}

}  // namespace cowwatch::cli
