// cw_bench_consumer: the daemon's consumer side (issue 8 §2), producer = BPF_PROG_TEST_RUN.
//   capacity   records/s that ring_buffer__consume (the daemon's drain, daemon/loader) plus
//              Aggregator::on_event handle on one core, from a pre-filled ring (CPU time)
//   policies   producer at full rate on CPU0, reader on CPU1 with a wakeup policy: records/s
//              delivered and drops (the daemon's is a 50 ms timer drain with NO_WAKEUP records)
//   paced      the daemon's policy with the producer paced: the rate at which drops begin
//   overload   10x more records than the ring holds, nothing drained: per-process counters exact
//   latency    one FORCE_WAKEUP anomaly record at a time -> the daemon's loop (epoll + drain) ->
//              Aggregator + AlertFeed + AlertEngine::evaluate -> the firing transition: p50/p99
// Needs root (BPF). Exit 77 when the producer cannot be loaded.
#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alert_engine.h"
#include "app/alert_feed.h"
#include "config/config.h"
#include "consumer/producer.h"
#include "model/aggregator.h"
#include "util/stats.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

struct Args {
  bool quick = false;
  std::string only;  // run one section
};

uint64_t thread_cpu_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

model::AggregatorOptions model_options() {
  model::AggregatorOptions o;
  o.proc_root = "/nonexistent/proc";  // synthetic pids: no /proc or cgroupfs reads
  o.cgroup_root = "/nonexistent/cgroup";
  return o;
}

// A ring reader whose sink is the daemon's: copy the record out, hand it to Aggregator::on_event.
class Reader {
 public:
  Reader(int ring_fd, bool aggregate) : aggregate_(aggregate), aggregator_(model_options()) {
    ring_ = ring_buffer__new(ring_fd, &Reader::on_record, this, nullptr);
  }
  ~Reader() { ring_buffer__free(ring_); }
  bool ok() const { return ring_ != nullptr; }
  int consume() { return ring_buffer__consume(ring_); }
  int poll(int timeout_ms) { return ring_buffer__poll(ring_, timeout_ms); }
  uint64_t records() const { return records_; }

 private:
  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Reader*>(ctx);
    if (size < sizeof(cw_event)) return 0;
    cw_event e;
    std::memcpy(&e, data, sizeof(e));
    self->records_++;
    if (self->aggregate_) self->aggregator_.on_event(e);
    return 0;
  }
  bool aggregate_;
  model::Aggregator aggregator_;
  struct ring_buffer* ring_ = nullptr;
  uint64_t records_ = 0;
};

// ---- capacity --------------------------------------------------------------------------------
void capacity(const Args& a) {
  std::printf("== consumer capacity: drain a pre-filled ring on one core (CPU time) ==\n");
  std::printf("%-44s %14s %14s\n", "sink", "M records/s", "ns/record");
  const uint32_t runs = a.quick ? 100 : 500;  // x 1000 records of 104 B: fits a 64 MiB ring
  std::vector<double> produce_rates;
  for (bool aggregate : {false, true}) {
    std::vector<double> rates;
    for (int rep = 0; rep < (a.quick ? 2 : 5); rep++) {
      std::string error;
      ProducerConfig pc;
      pc.ring_bytes = 64u << 20;
      auto producer = Producer::load(pc, &error);
      if (!producer) return;
      uint64_t p0 = thread_cpu_ns();
      for (uint32_t i = 0; i < runs; i++) producer->run_once();
      produce_rates.push_back(double(runs) * pc.batch / (double(thread_cpu_ns() - p0) / 1e9));
      Reader reader(producer->ring_fd(), aggregate);
      uint64_t t0 = thread_cpu_ns();
      reader.consume();
      uint64_t dt = thread_cpu_ns() - t0;
      if (producer->dropped()) std::printf("(unexpected: %llu drops while pre-filling)\n",
                                           (unsigned long long)producer->dropped());
      rates.push_back(double(reader.records()) / (double(dt) / 1e9));
    }
    double r = median(rates);
    std::printf("%-44s %14.2f %14.1f\n",
                aggregate ? "ring_buffer__consume + Aggregator::on_event" : "ring_buffer__consume + copy (no model)",
                r / 1e6, 1e9 / r);
  }
  double p = median(produce_rates);
  std::printf("%-44s %14.2f %14.1f\n", "(producer: bpf_loop reserve+fill+submit+count)", p / 1e6, 1e9 / p);
}

// ---- policies --------------------------------------------------------------------------------
struct Policy {
  std::string name;
  uint32_t ring_bytes;
  uint64_t drain_ns;      // timer drain period; 0: epoll (ring_buffer__poll)
  uint32_t force_every;   // producer's wakeup policy
  uint32_t wake_bytes = 0;  // with force_every 0: wake once this much is unread (cowwatch: ring / 4)
};

struct FlowResult {
  double produced_per_s = 0, delivered_per_s = 0, drop_pct = 0;
  uint64_t emitted = 0, delivered = 0, dropped = 0;
};

// Producer on CPU0 for `total` records (paced at `rate` records/s when > 0), reader on CPU1.
FlowResult flow(const Policy& p, uint64_t total, double rate) {
  FlowResult r;
  std::string error;
  ProducerConfig pc;
  pc.ring_bytes = p.ring_bytes;
  pc.force_every = p.force_every;
  pc.wake_bytes = p.wake_bytes;
  auto producer = Producer::load(pc, &error);
  if (!producer) return r;
  Reader reader(producer->ring_fd(), true);
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    pin_to_cpu(online_cpus() > 1 ? 1 : 0);
    uint64_t next = monotonic_ns() + p.drain_ns;
    while (!done.load()) {
      if (p.drain_ns && p.wake_bytes) {  // the daemon's loop: epoll on the ring fd, timer as timeout
        uint64_t now = monotonic_ns();
        reader.poll(next > now ? int((next - now) / 1000000) : 0);
        if (monotonic_ns() >= next) {
          reader.consume();
          next = monotonic_ns() + p.drain_ns;
        }
      } else if (p.drain_ns) {
        struct timespec ts {time_t(next / 1000000000ull), long(next % 1000000000ull)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        reader.consume();
        next += p.drain_ns;
        uint64_t now = monotonic_ns();
        if (next < now) next = now + p.drain_ns;
      } else {
        reader.poll(100);
      }
    }
    reader.consume();
  });
  pin_to_cpu(0);
  uint64_t t0 = monotonic_ns(), runs = total / pc.batch;
  for (uint64_t i = 0; i < runs; i++) {
    if (rate > 0) {
      uint64_t due = t0 + uint64_t(double(i * pc.batch) / rate * 1e9);
      while (monotonic_ns() < due) {
      }
    }
    producer->run_once();
  }
  uint64_t dt = monotonic_ns() - t0;
  done = true;
  consumer.join();
  pin_to_cpu(-1);
  r.emitted = producer->emitted();
  r.dropped = producer->dropped();
  r.delivered = reader.records();
  r.produced_per_s = double(r.emitted) / (double(dt) / 1e9);
  r.delivered_per_s = double(r.delivered) / (double(dt) / 1e9);
  r.drop_pct = r.emitted ? 100.0 * double(r.dropped) / double(r.emitted) : 0;
  return r;
}

void unpin_all() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c = 0; c < online_cpus(); c++) CPU_SET(c, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

void policies(const Args& a) {
  const config::Config& d = config::default_config();
  const uint32_t ring = uint32_t(d.bpf.ring_buffer_size);
  const uint64_t drain = uint64_t(d.daemon.drain_interval.count());
  std::vector<Policy> list = {
      {"daemon: timer " + std::to_string(drain / 1000000) + " ms + wake at 1/4 full, " + std::to_string(ring >> 20) +
           " MiB",
       ring, drain, 0, ring / 4},
      {"timer " + std::to_string(drain / 1000000) + " ms, NO_WAKEUP only (before), same ring", ring, drain, 0},
      {"timer 10 ms, NO_WAKEUP, same ring", ring, 10000000, 0},
      {"timer 1 ms, NO_WAKEUP, same ring", ring, 1000000, 0},
      {"epoll, FORCE every 4096, same ring", ring, 0, 4096},
      {"epoll, adaptive wakeups (naive), same ring", ring, 0, UINT32_MAX},
  };
  const uint64_t total = a.quick ? 2000000 : 10000000;
  std::printf("\n== producer at full rate (CPU0) vs reader + Aggregator (CPU1): %llu records of %zu B ==\n",
              (unsigned long long)total, sizeof(cw_event) + 8);
  std::printf("%-46s %12s %12s %10s\n", "reader policy", "produced/s", "delivered/s", "drops");
  for (const Policy& p : list) {
    FlowResult r = flow(p, total, 0);
    unpin_all();
    std::printf("%-46s %11.2fM %11.2fM %9.2f%%\n", p.name.c_str(), r.produced_per_s / 1e6, r.delivered_per_s / 1e6,
                r.drop_pct);
  }
  std::printf("\n== the daemon's policy with a paced producer: where drops begin ==\n");
  const double record = double(sizeof(cw_event) + 8);  // + the ring's record header
  std::printf("timer alone would bound it at ring / record / drain interval = %u B / %.0f B / %.0f ms = %.2f M "
              "records/s; the 1/4-full wakeup lifts that to the reader's rate\n",
              ring, record, double(drain) / 1e6, double(ring) / record / (double(drain) / 1e9) / 1e6);
  std::printf("%-14s %12s %12s %10s\n", "target rate", "produced/s", "delivered/s", "drops");
  for (double rate : {1e6, 2e6, 4e6, 6e6, 8e6, 12e6}) {
    uint64_t n = uint64_t(rate * (a.quick ? 0.3 : 1.0));
    FlowResult r = flow(list[0], n - n % 1000, rate);
    unpin_all();
    std::printf("%11.1f M/s %11.2fM %11.2fM %9.2f%%\n", rate / 1e6, r.produced_per_s / 1e6, r.delivered_per_s / 1e6,
                r.drop_pct);
  }
}

// ---- overload --------------------------------------------------------------------------------
bool overload(const Args&) {
  std::printf("\n== per-process counters at 10x ring overload (nothing drained while producing) ==\n");
  ProducerConfig pc;
  pc.ring_bytes = 1u << 20;  // 10082 records of 104 B
  pc.nprocs = 1000;
  std::string error;
  auto producer = Producer::load(pc, &error);
  if (!producer) return false;
  const uint64_t runs = 90;  // 90,000 records
  for (uint64_t i = 0; i < runs; i++) producer->run_once();
  Reader reader(producer->ring_fd(), true);
  reader.consume();
  uint64_t total = 0, procs = 0, lo = 0, hi = 0;
  producer->counts(&total, &procs, &lo, &hi);
  uint64_t emitted = producer->emitted(), dropped = producer->dropped(), delivered = reader.records();
  std::printf("emitted %llu, delivered %llu (%.1fx overload), drops counted %llu; per-process counters: "
              "%llu processes, sum %llu, each %llu..%llu (expected %llu)\n",
              (unsigned long long)emitted, (unsigned long long)delivered,
              delivered ? double(emitted) / double(delivered) : 0.0, (unsigned long long)dropped,
              (unsigned long long)procs, (unsigned long long)total, (unsigned long long)lo, (unsigned long long)hi,
              (unsigned long long)(emitted / pc.nprocs));
  bool ok = total == emitted && lo == hi && hi == emitted / pc.nprocs && delivered + dropped == emitted && dropped > 0;
  std::printf("counts exact: %s; delivered + drops == emitted: %s\n", ok ? "yes" : "NO",
              delivered + dropped == emitted ? "yes" : "NO");
  return ok;
}

// ---- latency ---------------------------------------------------------------------------------
void latency(const Args& a) {
  const config::Config& d = config::default_config();
  const uint64_t drain = uint64_t(d.daemon.drain_interval.count());
  const int samples = a.quick ? 40 : 300;
  std::printf("\n== anomaly -> alert: FORCE_WAKEUP record -> epoll -> drain -> Aggregator -> AlertEngine ==\n");
  ProducerConfig pc;
  pc.batch = 1;
  pc.anomaly = true;
  pc.nprocs = 1000000;  // every anomaly from a new process: each fires its own alert
  pc.tgid_base = 2000000;
  pc.ring_bytes = uint32_t(d.bpf.control_ring_size);
  std::string error;
  auto producer = Producer::load(pc, &error);
  if (!producer) return;

  model::Aggregator aggregator(model_options());
  {  // 10,000 tracked processes in the model, as in the other figures
    ingest::KernelSample s;
    s.mono_ns = monotonic_ns();
    for (uint32_t i = 0; i < 10000; i++) {
      ingest::ProcessCounters p{};
      p.key = {100000 + i, 0, 1000ull * (i + 1)};
      p.counters.c[CW_C_WP_WRITE] = i;
      s.processes.push_back(p);
    }
    aggregator.apply(s);
  }
  alerts::SystemClock clock;
  alerts::AlertEngine engine(d.alerts.rules, clock);
  app::AlertFeed feed;
  engine.evaluate(feed.build(aggregator));  // the engine holds the 10,000 subjects, as in the daemon
  std::vector<double> latency_us, evaluate_us, build_cpu_us, engine_cpu_us;
  std::atomic<bool> done{false};
  std::atomic<int> fired{0};
  uint64_t full_ticks = 0;

  struct Ctx {
    model::Aggregator* aggregator;
    app::AlertFeed* feed;
    uint64_t last_ts = 0;
    bool pending = false;
  } ctx{&aggregator, &feed};
  auto on_record = [](void* c, void* data, size_t size) -> int {
    auto* x = static_cast<Ctx*>(c);
    if (size < sizeof(cw_event)) return 0;
    cw_event e;
    std::memcpy(&e, data, sizeof(e));
    x->aggregator->on_event(e);
    if (e.anomaly) {
      x->feed->add_anomaly(e, "");
      x->pending = true;
      x->last_ts = e.ts_ns;
    }
    return 0;
  };
  struct ring_buffer* ring = ring_buffer__new(producer->ring_fd(), on_record, &ctx, nullptr);
  // The daemon's loop (daemon/app/serve.cpp): wake on the ring fd or the drain timer; anomalies
  // just drained get an anomaly-only tick at once; every poll interval a full tick walks every
  // tracked process (an anomaly arriving during one waits for it).
  const uint64_t poll = uint64_t(d.daemon.poll_interval.count());
  std::thread loop([&] {
    pin_to_cpu(online_cpus() > 1 ? 1 : 0);
    uint64_t next_poll = monotonic_ns() + poll;
    while (!done.load()) {
      const uint64_t now = monotonic_ns();
      const uint64_t until_poll = next_poll > now ? next_poll - now : 0;
      ring_buffer__poll(ring, int(std::min(drain, until_poll) / 1000000));
      const bool full = monotonic_ns() >= next_poll;
      if (!ctx.pending && !full) continue;
      ctx.pending = false;
      uint64_t t0 = monotonic_ns(), c0 = thread_cpu_ns();
      alerts::AlertInput input = full ? feed.build(aggregator) : feed.build_anomalies_only();
      uint64_t c1 = thread_cpu_ns();
      auto transitions = engine.evaluate(input);
      uint64_t t1 = monotonic_ns(), c2 = thread_cpu_ns();
      if (full) {
        next_poll += poll;
        full_ticks++;
      }
      for (const auto& t : transitions) {
        if (t.state != alerts::AlertState::kFiring) continue;
        latency_us.push_back(double(t1 - ctx.last_ts) / 1e3);  // bpf_ktime_get_ns is CLOCK_MONOTONIC
        evaluate_us.push_back(double(t1 - t0) / 1e3);
        build_cpu_us.push_back(double(c1 - c0) / 1e3);
        engine_cpu_us.push_back(double(c2 - c1) / 1e3);
        fired++;
      }
    }
  });
  pin_to_cpu(0);
  for (int i = 0; i < samples; i++) {
    int before = fired.load();
    producer->run_once();
    uint64_t deadline = monotonic_ns() + 2000000000ull;
    while (fired.load() == before && monotonic_ns() < deadline) usleep(200);
    usleep(2000 + (i * 7919) % 8000);  // 2-10 ms apart, not phase-locked to anything
  }
  done = true;
  loop.join();
  unpin_all();
  ring_buffer__free(ring);
  std::printf("%d anomalies, %zu alerts fired (model: 10,000 tracked processes; %llu full ticks ran meanwhile)\n",
              samples, latency_us.size(), (unsigned long long)full_ticks);
  std::printf("%-52s %10s %10s %10s\n", "", "p50 us", "p99 us", "max us");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("%-52s %10.0f %10.0f %10.0f\n", name, quantile(v, 0.5), quantile(v, 0.99), quantile(v, 1));
  };
  row("record (bpf_ktime_get_ns) -> firing transition, wall", latency_us);
  row("  of which the alert tick that fired it, wall", evaluate_us);
  row("  AlertFeed::build[_anomalies_only], CPU", build_cpu_us);
  row("  AlertEngine::evaluate, CPU", engine_cpu_us);
}

}  // namespace
}  // namespace cowwatch::bench

int main(int argc, char** argv) {
  using namespace cowwatch::bench;
  Args a;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--quick") a.quick = true;
    else if (arg == "--only" && i + 1 < argc) a.only = argv[++i];
    else {
      std::fprintf(stderr, "usage: cw_bench_consumer [--quick] [--only capacity|policies|overload|latency]\n");
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::printf("SKIP: cw_bench_consumer needs root (BPF)\n");
    return 77;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string error;
  if (!Producer::load(ProducerConfig{}, &error)) {
    std::printf("SKIP: the BPF_PROG_TEST_RUN producer does not load here: %s\n", error.c_str());
    return 77;
  }
  std::printf("machine: %s\n", machine_description().c_str());
  bool ok = true;
  if (a.only.empty() || a.only == "capacity") capacity(a);
  if (a.only.empty() || a.only == "policies") policies(a);
  if (a.only.empty() || a.only == "overload") ok = overload(a) && ok;
  if (a.only.empty() || a.only == "latency") latency(a);
  return ok ? 0 : 1;
}
