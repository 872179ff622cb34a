// cw_bench_storm: kernel-side cost of cowwatch on a fork+write storm (issue 8 §1).
//   1. Interleaved rounds: each round runs every mode (detached, floor, countfloor, naive, cowwatch
//      [, stashfloor: the two-phase floor; programs: cowwatch's programs with no reader]) in a
//      rotated order, `reps` storms per attach; per round, each mode's median is divided by the
//      same round's detached median. Reported: median of those ratios and their range.
//   2. bpf_stats pass (kernel.bpf_stats_enabled=1 only here): ns per run per program, and all of a
//      mode's program time divided by the COW faults of its storms (ns per COW fault).
//   3. --overload: cowwatch with every event on a ring far smaller than one storm, no drain during
//      it: per-process counters must equal the same storm's counts with a ring that holds it.
// Needs root. Exit 77 when BPF cannot be loaded (not root, no BTF).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "storm/daemon_defaults.h"
#include "storm/overload.h"
#include "storm/rungs.h"
#include "storm/storm.h"
#include "util/args.h"
#include "util/ratios.h"
#include "util/stats.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

struct Args {
  size_t pages = 32768;
  int rounds = 9;
  int reps = 3;
  int stats_storms = 5;
  bool stats = true;
  bool overload = false;
  probe::RungPreference prefer = probe::RungPreference::kAuto;  // probes.prefer (--prefer-kprobe|fentry)
  std::string modes = "detached,floor,countfloor,naive,cowwatch";
};

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--quick") {
      a->pages = 8192;
      a->rounds = 3;
      a->reps = 3;
      a->stats_storms = 3;
    } else if (arg == "--pages") {
      a->pages = size_t(std::atol(value()));
    } else if (arg == "--rounds") {
      a->rounds = std::atoi(value());
    } else if (arg == "--reps") {
      a->reps = std::atoi(value());
    } else if (arg == "--modes") {
      a->modes = value();
    } else if (arg == "--no-stats") {
      a->stats = false;
    } else if (arg == "--overload") {
      a->overload = true;
    } else if (arg == "--prefer-kprobe") {
      a->prefer = probe::RungPreference::kKprobe;
    } else if (arg == "--prefer-fentry") {
      a->prefer = probe::RungPreference::kFentry;
    } else {
      std::fprintf(stderr,
                   "usage: cw_bench_storm [--quick] [--pages N] [--rounds R] [--reps K] "
                   "[--modes detached,floor,perffloor,countfloor,stashfloor,naive,cowwatch,programs] [--no-stats] [--overload] "
                   "[--prefer-kprobe|--prefer-fentry]\n");
      return false;
    }
  }
  return a->pages > 0 && a->rounds > 0 && a->reps > 0;
}

struct Mode {
  std::string key;
  std::unique_ptr<Rung> rung;
  RatioSeries wall;  // per round: ns per fault (wall clock) and its ratio to the detached one
  RatioSeries cpu;   // the same on the child's CPU time
};

struct Timing {
  double wall = -1, cpu = -1;  // median ns per fault over the reps
};

// `reps` storms under one attachment; wall < 0 on failure.
Timing storms_under(Rung& rung, const Args& a, int cpu, std::string* error) {
  Timing t;
  if (!rung.attach(error)) return t;
  settle_memory(a.pages * 4096 * 2 + (64u << 20));  // same for every mode
  run_storm(a.pages, cpu);  // the first storm after attach is not counted
  std::vector<double> wall, cpu_ns;
  for (int r = 0; r < a.reps; r++) {
    StormResult s = run_storm(a.pages, cpu);
    if (!s.ok) {
      *error = s.error;
      rung.detach();
      return t;
    }
    wall.push_back(s.ns_per_fault);
    cpu_ns.push_back(s.cpu_ns_per_fault);
  }
  rung.detach();
  t.wall = median(wall);
  t.cpu = median(cpu_ns);
  return t;
}

bool set_bpf_stats(bool on) { return write_file("/proc/sys/kernel/bpf_stats_enabled", on ? "1" : "0"); }

int run(const Args& a) {
  const int workload_cpu = 0;
  const int reader_cpu = online_cpus() > 1 ? 1 : 0;
  const DaemonDefaults d = daemon_defaults(a.prefer);
  const loader::KernelOptions& options = d.options;

  std::string error;
  HookSite site;
  if (!daemon_hook_site(options, &site, &error)) {
    std::printf("SKIP: cowwatch's BPF session does not open here: %s\n", error.c_str());
    return 77;
  }
  std::optional<std::string> stats_before = read_file_line("/proc/sys/kernel/bpf_stats_enabled");

  std::vector<Mode> modes;
  for (const std::string& key : split_commas(a.modes)) {
    Mode m{key, nullptr, {}, {}};
    if (key == "detached") m.rung = make_detached_rung();
    else if (key == "floor") m.rung = make_floor_rung(site, &error, FloorKind::kEmpty);
    else if (key == "perffloor") m.rung = make_floor_rung(site, &error, FloorKind::kEmptyPerfEvent);
    else if (key == "countfloor") m.rung = make_floor_rung(site, &error, FloorKind::kCounting);
    else if (key == "stashfloor") m.rung = make_floor_rung(site, &error, FloorKind::kTwoPhase);
    else if (key == "naive") m.rung = make_naive_rung(site, reader_cpu, &error);
    else if (key == "cowwatch") m.rung = make_daemon_rung(options, d.drain_ns, d.poll_ns, reader_cpu);
    else if (key == "programs") m.rung = make_daemon_rung(options, d.drain_ns, d.poll_ns, reader_cpu, false);
    else {
      std::fprintf(stderr, "unknown mode %s\n", key.c_str());
      return 2;
    }
    if (!m.rung) {
      std::printf("mode %s unavailable: %s\n", key.c_str(), error.c_str());
      continue;
    }
    modes.push_back(std::move(m));
  }
  auto detached = std::find_if(modes.begin(), modes.end(), [](const Mode& m) { return m.key == "detached"; });
  if (detached == modes.end()) {
    std::fprintf(stderr, "the detached mode is required (it is the baseline)\n");
    return 2;
  }

  std::printf("== fork+write storm: %s ==\n", machine_description().c_str());
  std::printf("hook: %s %s%s (cowwatch's plan); %zu pages (%zu MiB) per storm; %d rounds x %d storms per "
              "mode, order rotated each round; workload on CPU%d, readers on CPU%d; bpf_stats off\n",
              hook_kind_name(site.kind), site.target.c_str(), site.kprobe_multi ? " via kprobe_multi links" : "", a.pages, a.pages * 4096 >> 20, a.rounds,
              a.reps, workload_cpu, reader_cpu);
  std::fflush(stdout);
  set_bpf_stats(false);
  run_storm(a.pages, workload_cpu);  // warm-up, not counted
  for (int round = 0; round < a.rounds; round++) {
    std::vector<Timing> timings(modes.size());
    for (size_t i : rotated_order(modes.size(), round)) {
      timings[i] = storms_under(*modes[i].rung, a, workload_cpu, &error);
      if (timings[i].wall < 0) {
        std::printf("FAILED: mode %s: %s\n", modes[i].key.c_str(), error.c_str());
        return 1;
      }
    }
    const Timing base = timings[size_t(detached - modes.begin())];
    for (size_t i = 0; i < modes.size(); i++) {
      modes[i].wall.add(timings[i].wall, base.wall);
      modes[i].cpu.add(timings[i].cpu, base.cpu);
    }
  }
  // Wall clock includes time the hypervisor took the vCPU away (steal); the child's CPU time does
  // not (CONFIG_PARAVIRT_TIME_ACCOUNTING), so on a shared host the CPU-time ratio is the steadier.
  const double base_ns = detached->wall.median_value(), base_cpu = detached->cpu.median_value();
  std::printf("%-36s %9s %9s %15s %9s | %9s %9s %15s %9s\n", "mode", "wall ns", "slowdown", "range", "delta ns",
              "cpu ns", "slowdown", "range", "delta ns");
  for (const Mode& m : modes) {
    const double r = m.wall.median_ratio(), c = m.cpu.median_ratio();
    std::printf("%-36s %9.0f %8.3fx %7.3f-%-7.3f %+9.0f | %9.0f %8.3fx %7.3f-%-7.3f %+9.0f\n", m.rung->name().c_str(),
                m.wall.median_value(), r, m.wall.min_ratio(), m.wall.max_ratio(), (r - 1) * base_ns,
                m.cpu.median_value(), c, m.cpu.min_ratio(), m.cpu.max_ratio(), (c - 1) * base_cpu);
  }
  for (const Mode& m : modes)
    if (!m.rung->notes().empty()) std::printf("  %s: %s\n", m.key.c_str(), m.rung->notes().c_str());

  if (a.stats) {
    std::printf("\n== bpf_stats (kernel.bpf_stats_enabled=1, this pass only): %d storms x %zu COW faults per mode ==\n",
                a.stats_storms, a.pages);
    std::printf("%-12s %-34s %10s %12s %14s\n", "mode", "program", "ns/run", "runs", "ns/COW fault");
    if (!set_bpf_stats(true)) std::printf("(could not enable kernel.bpf_stats_enabled)\n");
    double floor_per_fault = 0, countfloor_per_fault = 0, stashfloor_per_fault = 0;
    for (Mode& m : modes) {
      if (m.key == "detached") continue;
      if (!m.rung->attach(&error)) {
        std::printf("%-12s attach failed: %s\n", m.key.c_str(), error.c_str());
        continue;
      }
      std::vector<ProgCost> before = m.rung->costs();
      for (int s = 0; s < a.stats_storms; s++) run_storm(a.pages, workload_cpu);
      std::vector<ProgCost> after = m.rung->costs();
      m.rung->detach();
      uint64_t total_ns = 0;
      for (const ProgCost& c : cost_delta(before, after)) {
        total_ns += c.run_time_ns;
        std::printf("%-12s %-34s %10.1f %12llu\n", m.key.c_str(), c.program.c_str(),
                    double(c.run_time_ns) / double(c.run_cnt), (unsigned long long)c.run_cnt);
      }
      double per_fault = double(total_ns) / double(a.pages * size_t(a.stats_storms));
      if (m.key == "floor") floor_per_fault = per_fault;
      if (m.key == "countfloor") countfloor_per_fault = per_fault;
      if (m.key == "stashfloor") stashfloor_per_fault = per_fault;
      std::printf("%-12s %-34s %10s %12s %14.1f", m.key.c_str(), "(all programs)", "", "", per_fault);
      if (m.key != "floor" && floor_per_fault > 0) std::printf("   %.2fx the floor", per_fault / floor_per_fault);
      if (m.key != "floor" && m.key != "countfloor" && countfloor_per_fault > 0)
        std::printf(", %.2fx the counting floor", per_fault / countfloor_per_fault);
      if (m.key != "floor" && m.key != "countfloor" && m.key != "stashfloor" && stashfloor_per_fault > 0)
        std::printf(", %.2fx the two-phase floor", per_fault / stashfloor_per_fault);
      std::printf("\n");
    }
  }
  if (stats_before) write_file("/proc/sys/kernel/bpf_stats_enabled", *stats_before);

  if (a.overload) {
    std::printf("\n");
    return run_overload_check(options, a.pages, workload_cpu) ? 0 : 1;
  }
  return 0;
}

}  // namespace
}  // namespace cowwatch::bench

int main(int argc, char** argv) {
  cowwatch::bench::Args args;
  if (!cowwatch::bench::parse(argc, argv, &args)) return 2;
  if (geteuid() != 0) {
    std::printf("SKIP: cw_bench_storm needs root (BPF, bpf_stats)\n");
    return 77;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  return cowwatch::bench::run(args);
}
