// cw_bench_paths: what cowwatch costs processes that never copy (issue 17).
//   1. Interleaved rounds: each round attaches every mode (detached, cowwatch = the daemon's
//      pipeline in-process, programs = cowwatch's programs with no reader) once, in an order
//      rotated per round; under each attachment every path runs (warm-up discarded) `reps` times.
//      A path's figure per mode: the median over rounds of (its median / the same round's
//      detached median), with the range over rounds.
//   2. bpf_stats pass (kernel.bpf_stats_enabled=1 only here): every path once with cowwatch
//      attached; per program that ran: runs per op and ns per run, and all program time per op.
// The paths run in a worker process forked before any session opens (path_worker.h).
// Needs root. Exit 77 when cowwatch's BPF session cannot open (not root, no BTF).
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "paths/path.h"
#include "paths/path_worker.h"
#include "paths/plan_summary.h"
#include "storm/daemon_defaults.h"
#include "util/args.h"
#include "storm/rungs.h"
#include "util/ratios.h"
#include "util/stats.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

struct Args {
  int rounds = 7;
  int reps = 3;
  std::string modes = "detached,cowwatch,programs";
  std::string paths = "touch,fork,exit,reclaim-anon,reclaim-file,fileread,macro";
  size_t touch_mib = 1024, fork_mib = 1024, reclaim_mib = 256, file_mib = 256;
  size_t exits = 1000;
  std::string dir = "/var/tmp";  // scratch files (page cache of a real file system where possible)
  std::string macro, macro_label;
  int macro_reps = 1;
  bool stats = true;
  bool prefer_kprobe = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: cw_bench_paths [--rounds R] [--reps K] [--modes detached,cowwatch,programs]\n"
               "  [--paths touch,fork,exit,reclaim-anon,reclaim-file,fileread,macro]\n"
               "  [--touch-mib N] [--fork-mib N] [--exits N] [--reclaim-mib N] [--file-mib N] [--dir DIR]\n"
               "  [--macro 'SHELL COMMAND' [--macro-label TEXT] [--macro-reps N]] [--no-stats] [--prefer-kprobe]\n");
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    auto number = [&]() -> size_t { return size_t(std::atoll(value().c_str())); };
    if (arg == "--rounds") a->rounds = int(number());
    else if (arg == "--reps") a->reps = int(number());
    else if (arg == "--modes") a->modes = value();
    else if (arg == "--paths") a->paths = value();
    else if (arg == "--touch-mib") a->touch_mib = number();
    else if (arg == "--fork-mib") a->fork_mib = number();
    else if (arg == "--exits") a->exits = number();
    else if (arg == "--reclaim-mib") a->reclaim_mib = number();
    else if (arg == "--file-mib") a->file_mib = number();
    else if (arg == "--dir") a->dir = value();
    else if (arg == "--macro") a->macro = value();
    else if (arg == "--macro-label") a->macro_label = value();
    else if (arg == "--macro-reps") a->macro_reps = int(number());
    else if (arg == "--no-stats") a->stats = false;
    else if (arg == "--prefer-kprobe") a->prefer_kprobe = true;
    else {
      usage();
      return false;
    }
  }
  bool ok = a->rounds > 0 && a->reps > 0 && a->macro_reps > 0 && a->touch_mib && a->fork_mib && a->exits &&
            a->reclaim_mib && a->file_mib;
  if (!ok) usage();
  return ok;
}

bool contains(const std::vector<std::string>& list, const std::string& key) {
  for (const auto& k : list)
    if (k == key) return true;
  return false;
}

// The paths asked for, in the table's order; unavailable ones are named and left out.
std::vector<std::unique_ptr<Path>> make_paths(const Args& a, const std::string& scratch) {
  const size_t MiB = 1u << 20;
  std::vector<std::string> want = split_commas(a.paths);
  std::vector<std::unique_ptr<Path>> all;
  all.push_back(make_first_touch_path(a.touch_mib * MiB));
  all.push_back(make_fork_path(a.fork_mib * MiB));
  all.push_back(make_exit_path(a.exits));
  all.push_back(make_reclaim_anon_path(a.reclaim_mib * MiB));
  all.push_back(make_reclaim_file_path(a.reclaim_mib * MiB, scratch));
  all.push_back(make_file_read_path(a.file_mib * MiB, scratch));
  if (!a.macro.empty())
    all.push_back(make_macro_path(a.macro, a.macro_label.empty() ? a.macro : a.macro_label, a.macro_reps));
  else if (contains(want, "macro"))
    std::printf("path macro: not run (no --macro command given)\n");
  std::vector<std::unique_ptr<Path>> out;
  for (auto& p : all) {
    if (!contains(want, p->key())) continue;
    std::string why;
    if (!p->available(&why)) {
      std::printf("path %s: not run here: %s\n", p->key().c_str(), why.c_str());
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

struct Mode {
  std::string key;
  std::unique_ptr<Rung> rung;
  std::vector<RatioSeries> per_path;
};

// Under one attachment: every path, warm-ups discarded, the median of its timed runs (< 0 on failure).
std::vector<double> run_paths_under(Rung& rung, const std::vector<std::unique_ptr<Path>>& paths,
                                    PathWorker& worker, int reps, std::string* error) {
  std::vector<double> medians;
  if (!rung.attach(error)) return medians;
  settle_memory(64u << 20);  // the same for every mode after loading or freeing maps
  for (size_t k = 0; k < paths.size(); k++) {
    const Path* p = paths[k].get();
    std::vector<double> ns;
    for (int i = 0; i < p->warmups() + p->reps(reps); i++) {
      PathRun r = worker.run(k);
      if (!r.ok) {
        *error = p->key() + ": " + r.error;
        rung.detach();
        return {};
      }
      if (i >= p->warmups()) ns.push_back(r.ns_per_op);
    }
    medians.push_back(median(ns));
  }
  rung.detach();
  return medians;
}

void print_ratio_table(const std::vector<Mode>& modes, const std::vector<std::unique_ptr<Path>>& paths,
                       const PathWorker& worker) {
  std::printf("%-46s %6s %14s", "path", "op", "detached ns/op");
  for (size_t m = 1; m < modes.size(); m++) std::printf(" | %-26s", (modes[m].key + ": ratio (range)").c_str());
  std::printf("\n");
  for (size_t p = 0; p < paths.size(); p++) {
    std::printf("%-46s %6s %14.0f", paths[p]->title().c_str(), paths[p]->unit().c_str(),
                modes[0].per_path[p].median_value());
    for (size_t m = 1; m < modes.size(); m++) {
      const RatioSeries& s = modes[m].per_path[p];
      char cell[64];
      std::snprintf(cell, sizeof(cell), "%.3fx (%.3f-%.3f)", s.median_ratio(), s.min_ratio(), s.max_ratio());
      std::printf(" | %-26s", cell);
    }
    std::printf("\n");
  }
  for (size_t p = 0; p < paths.size(); p++)
    if (!worker.note(p).empty()) std::printf("  %s: %s\n", paths[p]->key().c_str(), worker.note(p).c_str());
  for (const Mode& m : modes)
    if (!m.rung->notes().empty()) std::printf("  %s: %s\n", m.key.c_str(), m.rung->notes().c_str());
}

// Program counters read at the start and end of a run's timed part.
class CostSpan final : public TimedSpan {
 public:
  explicit CostSpan(Rung& rung) : rung_(rung) {}
  void begin() override { before_ = rung_.costs(); }
  void end() override { after_ = rung_.costs(); }
  // Per program that ran in the span: its runs and run time there.
  std::vector<ProgCost> delta() const { return cost_delta(before_, after_); }

 private:
  Rung& rung_;
  std::vector<ProgCost> before_, after_;
};

// bpf_stats: which of cowwatch's programs run in each path's timed part, how often per op and at
// what cost.
void print_program_costs(Rung& cowwatch, const std::vector<std::unique_ptr<Path>>& paths, PathWorker& worker,
                         const std::vector<double>& detached_ns) {
  std::optional<std::string> stats_before = read_file_line("/proc/sys/kernel/bpf_stats_enabled");
  std::printf("\n== bpf_stats (kernel.bpf_stats_enabled=1, this pass only): each path once, cowwatch attached, "
              "programs that ran in the timed part ==\n");
  std::printf("%-14s %-34s %12s %12s %10s %12s\n", "path", "program", "runs", "runs/op", "ns/run", "ns/op");
  if (!write_file("/proc/sys/kernel/bpf_stats_enabled", "1")) std::printf("(could not enable bpf_stats)\n");
  std::string error;
  if (!cowwatch.attach(&error)) {
    std::printf("attach failed: %s\n", error.c_str());
    return;
  }
  for (size_t i = 0; i < paths.size(); i++) {
    const Path& path = *paths[i];
    CostSpan span(cowwatch);
    PathRun r = worker.run(i, &span);
    if (!r.ok || r.ops == 0) {
      std::printf("%-14s failed: %s\n", path.key().c_str(), r.error.c_str());
      continue;
    }
    uint64_t total_ns = 0;
    for (const ProgCost& c : span.delta()) {
      total_ns += c.run_time_ns;
      std::printf("%-14s %-34s %12llu %12.3f %10.1f %12.1f\n", path.key().c_str(), c.program.c_str(),
                  (unsigned long long)c.run_cnt, double(c.run_cnt) / double(r.ops),
                  double(c.run_time_ns) / double(c.run_cnt), double(c.run_time_ns) / double(r.ops));
    }
    double per_op = double(total_ns) / double(r.ops);
    std::printf("%-14s %-34s %12s %12s %10s %12.1f  = %.2f%% of detached %.0f ns/%s\n", path.key().c_str(),
                "(all programs)", "", "", "", per_op, detached_ns[i] > 0 ? 100.0 * per_op / detached_ns[i] : 0.0,
                detached_ns[i], path.unit().c_str());
  }
  cowwatch.detach();
  if (stats_before) write_file("/proc/sys/kernel/bpf_stats_enabled", *stats_before);
}

// A private directory under `dir` for the scratch files, removed with them at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& dir) {
    std::string tmpl = dir + "/cw_bench_paths.XXXXXX";
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    if (DIR* d = opendir(path_.c_str())) {
      while (struct dirent* e = readdir(d))
        if (e->d_name[0] != '.') unlink((path_ + "/" + e->d_name).c_str());
      closedir(d);
    }
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int run(const Args& a) {
  const int workload_cpu = 0;
  const int reader_cpu = online_cpus() > 1 ? 1 : 0;
  DaemonDefaults d = daemon_defaults(a.prefer_kprobe ? probe::RungPreference::kKprobe : probe::RungPreference::kAuto);

  std::printf("== paths that never copy: %s ==\n", machine_description().c_str());
  std::string error;
  if (!print_daemon_plan(d.options, &error)) {
    std::printf("SKIP: cowwatch's BPF session does not open here: %s\n", error.c_str());
    return 77;
  }
  ScratchDir scratch(a.dir);
  if (scratch.path().empty()) {
    std::printf("FAILED: cannot create a scratch directory under %s\n", a.dir.c_str());
    return 1;
  }
  pin_to_cpu(workload_cpu);
  std::vector<std::unique_ptr<Path>> paths = make_paths(a, scratch.path());
  if (paths.empty()) {
    std::printf("FAILED: no path to run\n");
    return 1;
  }
  // Before any session or ring exists in this process (path_worker.h).
  PathWorker worker(paths);
  if (!worker.ok(&error)) {
    std::printf("FAILED: path worker: %s\n", error.c_str());
    return 1;
  }
  std::vector<Mode> modes;
  for (const std::string& key : split_commas(a.modes)) {
    if (key == "detached") modes.push_back({key, make_detached_rung(), {}});
    else if (key == "cowwatch") modes.push_back({key, make_daemon_rung(d.options, d.drain_ns, d.poll_ns, reader_cpu), {}});
    else if (key == "programs")
      modes.push_back({key, make_daemon_rung(d.options, d.drain_ns, d.poll_ns, reader_cpu, false), {}});
    else {
      std::fprintf(stderr, "unknown mode %s (detached, cowwatch, programs)\n", key.c_str());
      return 2;
    }
  }
  if (modes.empty() || modes[0].key != "detached") {
    std::fprintf(stderr, "--modes must start with detached (the baseline)\n");
    return 2;
  }
  for (Mode& m : modes) m.per_path.resize(paths.size());
  std::printf("%d rounds x %d runs per path per mode (macro: %d), order rotated each round, first run under each "
              "attachment discarded (not for the macro); workload on CPU%d, readers on CPU%d; scratch files in %s; "
              "bpf_stats off\n",
              a.rounds, a.reps, a.macro_reps, workload_cpu, reader_cpu, scratch.path().c_str());
  write_file("/proc/sys/kernel/bpf_stats_enabled", "0");
  for (size_t k = 0; k < paths.size(); k++) {  // warm-up, not counted: page cache, binaries, allocator
    PathRun r = worker.run(k);
    if (!r.ok) {
      std::printf("FAILED: path %s: %s\n", paths[k]->key().c_str(), r.error.c_str());
      return 1;
    }
  }
  for (int round = 0; round < a.rounds; round++) {
    std::vector<std::vector<double>> medians(modes.size());
    for (size_t i : rotated_order(modes.size(), round)) {
      medians[i] = run_paths_under(*modes[i].rung, paths, worker, a.reps, &error);
      if (medians[i].empty()) {
        std::printf("FAILED: mode %s: %s\n", modes[i].key.c_str(), error.c_str());
        return 1;
      }
    }
    for (size_t m = 0; m < modes.size(); m++)
      for (size_t p = 0; p < paths.size(); p++) modes[m].per_path[p].add(medians[m][p], medians[0][p]);
    std::printf("round %d of %d done (%s)\n", round + 1, a.rounds, machine_description().c_str());
  }
  std::printf("\n");
  print_ratio_table(modes, paths, worker);

  if (a.stats) {
    std::vector<double> detached_ns;
    for (const RatioSeries& s : modes[0].per_path) detached_ns.push_back(s.median_value());
    auto cowwatch = make_daemon_rung(d.options, d.drain_ns, d.poll_ns, reader_cpu);
    print_program_costs(*cowwatch, paths, worker, detached_ns);
  }
  std::printf("\nend: %s\n", machine_description().c_str());
  return 0;
}

}  // namespace
}  // namespace cowwatch::bench

int main(int argc, char** argv) {
  cowwatch::bench::Args args;
  if (!cowwatch::bench::parse(argc, argv, &args)) return 2;
  if (geteuid() != 0) {
    std::printf("SKIP: cw_bench_paths needs root (BPF, bpf_stats)\n");
    return 77;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  return cowwatch::bench::run(args);
}
