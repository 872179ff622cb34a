#include "storm/rungs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "floor.skel.h"
#include "loader/kprobe_links.h"
#include "model/aggregator.h"
#include "naive.skel.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

ProgCost prog_cost(struct bpf_program* prog) {
  ProgCost c;
  c.program = bpf_program__name(prog);
  struct bpf_prog_info info {};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
    c.run_time_ns = info.run_time_ns;
    c.run_cnt = info.run_cnt;
  }
  return c;
}

struct bpf_link* attach_prog(struct bpf_program* prog, const HookSite& site, bool ret) {
  switch (site.kind) {
    case HookSite::Kind::kFentry: return bpf_program__attach_trace(prog);
    case HookSite::Kind::kKprobe:
      return loader::attach_kprobe(prog, site.target, ret, site.kprobe_multi);
    case HookSite::Kind::kTracepoint: return bpf_program__attach_raw_tracepoint(prog, site.target.c_str());
  }
  return nullptr;
}

// Programs of a skeleton chosen for a site, attached and detached together.
class ProgramSet {
 public:
  void add(struct bpf_program* prog, bool ret) { progs_.push_back({prog, ret}); }
  void enable_autoload(const HookSite& site) {
    for (auto& p : progs_) {
      bpf_program__set_autoload(p.prog, true);
      if (site.kind == HookSite::Kind::kFentry) bpf_program__set_attach_target(p.prog, 0, site.target.c_str());
      if (site.kind == HookSite::Kind::kKprobe) loader::prepare_kprobe(p.prog, site.kprobe_multi);
    }
  }
  bool attach(const HookSite& site, std::string* error) {
    for (auto& p : progs_) {
      struct bpf_link* link = attach_prog(p.prog, site, p.ret);
      if (!link) {
        *error = std::string("attach ") + bpf_program__name(p.prog) + ": " + strerror(errno);
        detach();
        return false;
      }
      links_.push_back(link);
    }
    return true;
  }
  void detach() {
    for (auto* l : links_) bpf_link__destroy(l);
    links_.clear();
  }
  std::vector<ProgCost> costs() const {
    std::vector<ProgCost> out;
    for (auto& p : progs_) out.push_back(prog_cost(p.prog));
    return out;
  }

 private:
  struct Entry {
    struct bpf_program* prog;
    bool ret;
  };
  std::vector<Entry> progs_;
  std::vector<struct bpf_link*> links_;
};

class DetachedRung final : public Rung {
 public:
  std::string name() const override { return "detached"; }
  bool attach(std::string*) override { return true; }
  void detach() override {}
  std::vector<ProgCost> costs() override { return {}; }
};

class FloorRung final : public Rung {
 public:
  ~FloorRung() override {
    set_.detach();
    floor__destroy(skel_);
  }
  explicit FloorRung(FloorKind kind) : kind_(kind) {}
  bool load(const HookSite& site, std::string* error) {
    site_ = site;
    if (kind_ == FloorKind::kEmptyPerfEvent) {
      if (site.kind != HookSite::Kind::kKprobe || !site.kprobe_multi) {
        *error = "the plan attaches no kprobe_multi links here";
        return false;
      }
      site_.kprobe_multi = false;
    }
    skel_ = floor__open();
    if (!skel_) {
      *error = "floor__open failed";
      return false;
    }
    // Every floor keeps the rung's shape (entry + exit programs); the counting ones count at exit.
    const bool count = kind_ == FloorKind::kCounting;
    const bool stash = kind_ == FloorKind::kTwoPhase;
    switch (site_.kind) {
      case HookSite::Kind::kFentry:
        set_.add(stash ? skel_->progs.floor_stash_fentry_do_wp_page : skel_->progs.floor_fentry_do_wp_page, false);
        set_.add(stash   ? skel_->progs.floor_stash_fexit_do_wp_page
                 : count ? skel_->progs.floor_count_fexit_do_wp_page
                         : skel_->progs.floor_fexit_do_wp_page,
                 true);
        break;
      case HookSite::Kind::kKprobe:
        set_.add(stash ? skel_->progs.floor_stash_kprobe_do_wp_page : skel_->progs.floor_kprobe_do_wp_page, false);
        set_.add(stash   ? skel_->progs.floor_stash_kretprobe_do_wp_page
                 : count ? skel_->progs.floor_count_kretprobe_do_wp_page
                         : skel_->progs.floor_kretprobe_do_wp_page,
                 true);
        break;
      case HookSite::Kind::kTracepoint:  // one program: no entry/exit pair to stash across
        set_.add(count || stash ? skel_->progs.floor_count_page_fault_user : skel_->progs.floor_page_fault_user,
                 false);
        break;
    }
    set_.enable_autoload(site_);
    if (int err = floor__load(skel_)) {
      *error = std::string("loading floor programs: ") + strerror(-err);
      return false;
    }
    return true;
  }
  std::string name() const override {
    switch (kind_) {
      case FloorKind::kEmpty: return "floor (empty program)";
      case FloorKind::kEmptyPerfEvent: return "floor (empty program, perf kprobe events)";
      case FloorKind::kCounting: return "counting floor (per-process count)";
      case FloorKind::kTwoPhase: return "two-phase floor (stash+page+count)";
    }
    return "?";
  }
  bool attach(std::string* error) override { return set_.attach(site_, error); }
  void detach() override { set_.detach(); }
  std::vector<ProgCost> costs() override { return set_.costs(); }

 private:
  FloorKind kind_;
  HookSite site_;
  struct floor* skel_ = nullptr;
  ProgramSet set_;
};

class NaiveRung final : public Rung {
 public:
  ~NaiveRung() override {
    detach();
    if (ring_) ring_buffer__free(ring_);
    naive__destroy(skel_);
  }
  bool load(const HookSite& site, int reader_cpu, std::string* error) {
    site_ = site;
    reader_cpu_ = reader_cpu;
    skel_ = naive__open();
    if (!skel_) {
      *error = "naive__open failed";
      return false;
    }
    switch (site.kind) {
      case HookSite::Kind::kFentry: set_.add(skel_->progs.naive_fexit_do_wp_page, true); break;
      case HookSite::Kind::kKprobe: set_.add(skel_->progs.naive_kretprobe_do_wp_page, true); break;
      case HookSite::Kind::kTracepoint: set_.add(skel_->progs.naive_page_fault_user, false); break;
    }
    set_.enable_autoload(site);
    if (int err = naive__load(skel_)) {
      *error = std::string("loading naive programs: ") + strerror(-err);
      return false;
    }
    ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.naive_events), &NaiveRung::on_record, this, nullptr);
    if (!ring_) {
      *error = std::string("ring_buffer__new: ") + strerror(errno);
      return false;
    }
    return true;
  }
  std::string name() const override { return "naive (ring, adaptive wakeups)"; }
  bool attach(std::string* error) override {
    stop_ = false;
    reader_ = std::thread([this] {
      pin_to_cpu(reader_cpu_);
      while (!stop_.load(std::memory_order_relaxed)) ring_buffer__poll(ring_, 100);
    });
    if (!set_.attach(site_, error)) {
      detach();
      return false;
    }
    return true;
  }
  void detach() override {
    set_.detach();
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    if (ring_) ring_buffer__consume(ring_);
  }
  std::vector<ProgCost> costs() override { return set_.costs(); }
  std::string notes() const override {
    return "records read " + std::to_string(records_) + ", ring drops " +
           std::to_string(skel_ ? skel_->bss->naive_drops : 0);
  }

 private:
  static int on_record(void* ctx, void*, size_t) {
    static_cast<NaiveRung*>(ctx)->records_++;
    return 0;
  }
  HookSite site_;
  int reader_cpu_ = -1;
  struct naive* skel_ = nullptr;
  struct ring_buffer* ring_ = nullptr;
  ProgramSet set_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  uint64_t records_ = 0;
};

class DaemonRung final : public Rung {
 public:
  DaemonRung(const loader::KernelOptions& options, uint64_t drain_ns, uint64_t poll_ns, int reader_cpu,
             bool with_loop)
      : options_(options), drain_ns_(drain_ns), poll_ns_(poll_ns), reader_cpu_(reader_cpu), with_loop_(with_loop) {}
  ~DaemonRung() override { detach(); }
  std::string name() const override {
    return with_loop_ ? "cowwatch (daemon pipeline)" : "cowwatch programs only (no reader)";
  }
  bool attach(std::string* error) override {
    session_ = loader::KernelSession::open(options_, error);
    if (!session_) return false;
    model::AggregatorOptions ao;
    aggregator_ = std::make_unique<model::Aggregator>(ao);
    stop_ = false;
    if (with_loop_) loop_ = std::thread([this] { run_loop(); });
    return true;
  }
  void detach() override {
    stop_ = true;
    if (loop_.joinable()) loop_.join();
    session_.reset();
    aggregator_.reset();
  }
  std::vector<ProgCost> costs() override {
    std::vector<ProgCost> out;
    if (!session_) return out;
    for (const auto& p : session_->sample().programs) out.push_back({p.name, p.run_time_ns, p.run_cnt});
    return out;
  }
  std::string notes() const override {
    return "records drained " + std::to_string(records_) + ", polls " + std::to_string(polls_);
  }

 private:
  // The daemon's loop (daemon/app/serve.cpp): drain on the ring fd and on a timer, poll on a timer.
  void run_loop() {
    pin_to_cpu(reader_cpu_);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    int fd = session_->event_fd();
    if (fd >= 0) epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    loader::EventSink sink = [this](const cw_event& e) {
      records_++;
      aggregator_->on_event(e);
      if (e.type == CW_EV_EXIT) {
        cw_proc_key key{e.tgid, 0, e.start_ns};
        cw_counters final_counters;
        if (session_->take_process(key, &final_counters)) aggregator_->on_exit(key, final_counters);
      }
    };
    uint64_t next_drain = monotonic_ns() + drain_ns_, next_poll = monotonic_ns();
    while (!stop_.load(std::memory_order_relaxed)) {
      uint64_t now = monotonic_ns();
      if (now >= next_poll) {
        session_->drain(sink);
        aggregator_->apply(session_->sample());
        polls_++;
        next_poll = now + poll_ns_;
      }
      if (now >= next_drain) {
        session_->drain(sink);
        next_drain = now + drain_ns_;
      }
      uint64_t wake = std::min(next_drain, next_poll);
      int timeout_ms = wake > now ? int((wake - now + 999999) / 1000000) : 0;
      if (epoll_wait(ep, &ev, 1, std::min(timeout_ms, 100)) > 0) session_->drain(sink);
    }
    session_->drain(sink);
    close(ep);
  }

  loader::KernelOptions options_;
  uint64_t drain_ns_, poll_ns_;
  int reader_cpu_;
  bool with_loop_;
  std::unique_ptr<loader::KernelSession> session_;
  std::unique_ptr<model::Aggregator> aggregator_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  uint64_t records_ = 0, polls_ = 0;
};

}  // namespace

const char* hook_kind_name(HookSite::Kind kind) {
  switch (kind) {
    case HookSite::Kind::kFentry: return "fentry/fexit";
    case HookSite::Kind::kKprobe: return "kprobe/kretprobe";
    case HookSite::Kind::kTracepoint: return "raw tracepoint";
  }
  return "?";
}

std::vector<ProgCost> cost_delta(const std::vector<ProgCost>& before, const std::vector<ProgCost>& after) {
  std::vector<ProgCost> out;
  for (ProgCost a : after) {
    for (const ProgCost& b : before)
      if (b.program == a.program) a.run_time_ns -= b.run_time_ns, a.run_cnt -= b.run_cnt;
    if (a.run_cnt) out.push_back(a);
  }
  return out;
}

std::unique_ptr<Rung> make_detached_rung() { return std::make_unique<DetachedRung>(); }

std::unique_ptr<Rung> make_floor_rung(const HookSite& site, std::string* error, FloorKind kind) {
  auto r = std::make_unique<FloorRung>(kind);
  if (!r->load(site, error)) return nullptr;
  return r;
}

std::unique_ptr<Rung> make_naive_rung(const HookSite& site, int reader_cpu, std::string* error) {
  auto r = std::make_unique<NaiveRung>();
  if (!r->load(site, reader_cpu, error)) return nullptr;
  return r;
}

std::unique_ptr<Rung> make_daemon_rung(const loader::KernelOptions& options, uint64_t drain_ns,
                                       uint64_t poll_ns, int reader_cpu, bool with_loop) {
  return std::make_unique<DaemonRung>(options, drain_ns, poll_ns, reader_cpu, with_loop);
}

bool daemon_hook_site(const loader::KernelOptions& options, HookSite* site, std::string* error) {
  auto session = loader::KernelSession::open(options, error);
  if (!session) return false;
  const probe::HookPlan& wp = session->plan().hooks[CW_HOOK_WP_FAULT];
  switch (wp.strategy) {
    case probe::Strategy::kFentry: site->kind = HookSite::Kind::kFentry; break;
    case probe::Strategy::kKprobe: site->kind = HookSite::Kind::kKprobe; break;
    case probe::Strategy::kTracepoint: site->kind = HookSite::Kind::kTracepoint; break;
    default:
      *error = std::string("wp_fault hook is ") + probe::strategy_name(wp.strategy) + " on this kernel";
      return false;
  }
  site->target = wp.target;
  site->kprobe_multi = site->kind == HookSite::Kind::kKprobe && session->plan().kprobe_multi;
  // Tracepoints are named "subsystem:event" in the plan; raw tracepoints attach by event name.
  if (site->kind == HookSite::Kind::kTracepoint && site->target.find(':') != std::string::npos)
    site->target = site->target.substr(site->target.find(':') + 1);
  return true;
}

}  // namespace cowwatch::bench
