// KernelSession over the cowwatch BPF object: plan → open → configure (rodata, map sizes,
// autoload, attach targets) → load → attach. A program the kernel refuses is vetoed and the plan is
// rebuilt without it, so the hook falls to its next rung instead of failing the daemon.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "cowwatch.h"
#include "cowwatch_bpf.skel.h"
#include "ingest/record_layout.h"
#include "loader/kernel_session.h"
#include "loader/kfunc_calls.h"
#include "loader/kprobe_links.h"
#include "loader/libbpf_log.h"
#include "probe/planner.h"

namespace cowwatch::loader {
namespace {

using probe::Attachment;

uint64_t monotonic_ns() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

struct bpf_program* find_program(struct cowwatch_bpf* skel, const std::string& name) {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    if (name == bpf_program__name(prog)) return prog;
  }
  return nullptr;
}

class BpfSession final : public KernelSession {
 public:
  ~BpfSession() override { close(); }

  bool start(const KernelOptions& options, std::string* error) {
    capture_libbpf_messages();
    bool ok = load_planned(options, error);
    // Probing built large short-lived indexes (every text symbol of /proc/kallsyms, the vmlinux
    // BTF): ~20 MiB of heap that is free now but scattered between long-lived allocations, so
    // glibc would keep it; hand those pages back.
    malloc_trim(0);
    return ok;
  }

  bool load_planned(const KernelOptions& options, std::string* error) {
    std::unique_ptr<probe::KernelProbe> kernel = probe::make_system_probe();
    probe::PlannerOptions planner_options;
    planner_options.disabled = options.disabled_hooks;
    planner_options.prefer = options.prefer;
    // Each round vetoes at least one program, so this ends; 16 is far above the program count.
    for (int round = 0; round < 16; round++) {
      realization_ = probe::make_plan(*kernel, planner_options);
      if (!realization_.unsupported.empty()) {
        *error = realization_.unsupported;
        return false;
      }
      std::string veto_program, veto_reason;
      if (try_load(options, &veto_program, &veto_reason, error)) return true;
      close();
      if (veto_program.empty()) return false;
      planner_options.vetoed[veto_program] = veto_reason;
    }
    *error = "could not find a loadable set of BPF programs";
    return false;
  }

  const probe::ProbePlan& plan() const override { return realization_.plan; }

  int event_fd() const override { return rings_ ? ring_buffer__epoll_fd(rings_) : -1; }

  int drain(const EventSink& sink) override {
    if (!rings_) return 0;
    sink_ = &sink;
    int n = ring_buffer__consume(rings_);
    sink_ = nullptr;
    return n < 0 ? 0 : n;
  }

  ingest::KernelSample sample() override {
    ingest::KernelSample s;
    s.mono_ns = monotonic_ns();
    read_host(&s.host);
    read_drops(&s.drops);
    read_processes(&s.processes);
    s.process_map_capacity = bpf_map__max_entries(skel_->maps.cw_procs);
    read_program_stats(&s.programs);
    return s;
  }

  // One syscall where hash maps have lookup-and-delete (5.14+), which also leaves no window for
  // an add between the read and the delete; a lookup and a delete before.
  bool take_process(const cw_proc_key& key, cw_counters* out) override {
    int fd = bpf_map__fd(skel_->maps.cw_procs);
    if (take_atomically_) {
      if (bpf_map_lookup_and_delete_elem(fd, &key, out) == 0) return true;
      if (errno == ENOENT) return false;
      take_atomically_ = false;  // EINVAL/ENOTSUPP: this kernel's hash maps lack it
    }
    if (bpf_map_lookup_elem(fd, &key, out) != 0) return false;
    bpf_map_delete_elem(fd, &key);
    return true;
  }

  bool take_move(uint64_t sequence, cw_counters* out) override {
    if (sequence == 0) return false;
    int fd = bpf_map__fd(skel_->maps.cw_moves);
    if (bpf_map_lookup_elem(fd, &sequence, out) != 0) return false;
    bpf_map_delete_elem(fd, &sequence);
    return true;
  }

 private:
  static bool is_kprobe(Attachment::Kind kind) {
    return kind == Attachment::Kind::kKprobe || kind == Attachment::Kind::kKretprobe;
  }

  bool try_load(const KernelOptions& options, std::string* veto_program, std::string* veto_reason,
                std::string* error) {
    take_libbpf_messages();
    skel_ = cowwatch_bpf__open();
    if (!skel_) {
      *error = std::string("opening the BPF object failed: ") + strerror(errno);
      return false;
    }
    skel_->rodata->cw_cfg.event_mode = options.event_mode;
    skel_->rodata->cw_cfg.sample_every = options.sample_every ? options.sample_every : 1;
    skel_->rodata->cw_cfg.copy_exact = realization_.copy_exact;
    skel_->rodata->cw_cfg.reuse_exact = realization_.reuse_exact;
    skel_->rodata->cw_cfg.swap_ret_errno = realization_.swap_ret_errno;
    skel_->rodata->cw_cfg.fork_copies_seen = realization_.plan.fork_pinned_copies_seen;
    skel_->rodata->cw_cfg.gup_context = realization_.gup_context;
    skel_->rodata->cw_cfg.task_storage = realization_.task_storage;
    skel_->rodata->cw_cfg.task_btf = realization_.task_btf;
    skel_->rodata->cw_cfg.swap_ret_arg = realization_.swap_ret_arg;
    // Maps of a type this kernel lacks (task storage before 5.11) are not created; the programs
    // that would use them take their fallback (cw_cfg above) and never reach them.
    struct bpf_map* map;
    bpf_object__for_each_map(map, skel_->obj) {
      if (bpf_map__type(map) == BPF_MAP_TYPE_TASK_STORAGE && !realization_.task_storage)
        bpf_map__set_autocreate(map, false);
    }
    // A quarter of each ring unread wakes the reader early (bpf/maps.bpf.h cw_submit).
    skel_->rodata->cw_cfg.wake_bytes = options.event_mode == 0 ? 0 : options.ring_bytes / 4;
    skel_->rodata->cw_cfg.ctl_wake_bytes = options.ctl_ring_bytes / 4;
    bpf_map__set_max_entries(skel_->maps.cw_procs, options.max_processes);
    // With events: anomalies nothing is ever reserved on the detail ring (anomalies go to the
    // control ring), so it is one page instead of ring_bytes of kernel memory that libbpf would
    // also map into this process twice (the ring's wrap-around mapping).
    const uint32_t page = uint32_t(sysconf(_SC_PAGESIZE));
    bpf_map__set_max_entries(skel_->maps.cw_events, options.event_mode == 0 ? page : options.ring_bytes);
    bpf_map__set_max_entries(skel_->maps.cw_ctl, options.ctl_ring_bytes);

    for (const Attachment& a : realization_.attachments) {
      struct bpf_program* prog = find_program(skel_, a.program);
      if (!prog) {
        *error = "BPF object has no program " + a.program;
        return false;
      }
      bpf_program__set_autoload(prog, true);
      if (a.kind == Attachment::Kind::kTracing) bpf_program__set_attach_target(prog, 0, a.target.c_str());
      if (is_kprobe(a.kind)) prepare_kprobe(prog, realization_.plan.kprobe_multi);
      std::string why;
      if (calls_rdonly_cast(a.program) && !link_rdonly_cast(prog, &why)) {
        *veto_program = a.program;
        *veto_reason = why;
        return false;
      }
    }
    if (int err = cowwatch_bpf__load(skel_); err) {
      auto messages = take_libbpf_messages();
      auto failed = failed_programs(messages);
      if (!failed.empty()) {
        *veto_program = failed.front();
        std::string why = program_failure(messages, failed.front());
        *veto_reason = why.empty() ? "verifier or relocation failure (" + std::string(strerror(-err)) + ")" : why;
        return false;
      }
      *error = std::string("loading the BPF object failed: ") + strerror(-err);
      if (std::string map_name = map_not_created(messages); !map_name.empty()) {
        struct bpf_map* m = bpf_object__find_map_by_name(skel_->obj, map_name.c_str());
        const char* type = m ? libbpf_bpf_map_type_str(bpf_map__type(m)) : nullptr;
        *error += ": the kernel refused to create map " + map_name +
                  (type ? std::string(" (type ") + type + ")" : std::string()) +
                  ": this kernel lacks that map type or one of its flags";
      } else if (err == -EPERM || err == -EACCES) {
        *error += " (needs root or CAP_BPF+CAP_PERFMON)";
      }
      return false;
    }
    for (const Attachment& a : realization_.attachments) {
      struct bpf_program* prog = find_program(skel_, a.program);
      struct bpf_link* link = nullptr;
      switch (a.kind) {
        case Attachment::Kind::kTracing: link = bpf_program__attach_trace(prog); break;
        case Attachment::Kind::kKprobe:
        case Attachment::Kind::kKretprobe:
          link = attach_kprobe(prog, a.target, a.kind == Attachment::Kind::kKretprobe, realization_.plan.kprobe_multi);
          break;
        case Attachment::Kind::kRawTracepoint:
          link = bpf_program__attach_raw_tracepoint(prog, a.target.c_str());
          break;
      }
      if (!link) {
        *veto_program = a.program;
        *veto_reason = std::string("attach failed after a successful trial: ") + strerror(errno);
        return false;
      }
      links_.push_back(link);
      attached_.push_back(prog);
    }
    rings_ = ring_buffer__new(bpf_map__fd(skel_->maps.cw_ctl), &BpfSession::on_record, this, nullptr);
    if (!rings_ || ring_buffer__add(rings_, bpf_map__fd(skel_->maps.cw_events), &BpfSession::on_record, this)) {
      *error = std::string("creating the ring-buffer reader failed: ") + strerror(errno);
      return false;
    }
    ncpus_ = libbpf_num_possible_cpus();
    return true;
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<BpfSession*>(ctx);
    if (size < sizeof(cw_event) || !self->sink_) return 0;
    cw_event e;
    std::memcpy(&e, data, sizeof(e));
    (*self->sink_)(e);
    return 0;
  }

  void read_host(cw_counters* out) {
    std::vector<cw_counters> per_cpu(ncpus_);
    uint32_t zero = 0;
    *out = {};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.cw_host), &zero, per_cpu.data())) return;
    for (const auto& c : per_cpu)
      for (int i = 0; i < CW_C_COUNT; i++) out->c[i] += c.c[i];
  }

  void read_drops(std::array<uint64_t, CW_DROP_COUNT>* out) {
    std::vector<uint64_t> per_cpu(ncpus_);
    for (uint32_t cause = 0; cause < CW_DROP_COUNT; cause++) {
      (*out)[cause] = 0;
      if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.cw_drops), &cause, per_cpu.data())) continue;
      for (uint64_t v : per_cpu) (*out)[cause] += v;
    }
  }

  void read_processes(std::vector<ingest::ProcessCounters>* out) {
    int fd = bpf_map__fd(skel_->maps.cw_procs);
    // Sized from the last poll: growing by doubling held up to twice the table at every poll.
    out->reserve(last_process_count_ + last_process_count_ / 8 + 64);
    const uint32_t chunk = 1024;
    std::vector<cw_proc_key> keys(chunk);
    std::vector<cw_counters> values(chunk);
    cw_proc_key in_batch{}, out_batch{};
    bool first = true;
    for (;;) {
      uint32_t count = chunk;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                     values.data(), &count, &opts);
      int saved = errno;
      for (uint32_t i = 0; i < count; i++) out->push_back({keys[i], values[i]});
      last_process_count_ = out->size();
      if (err) {
        if (saved == ENOENT) return;  // end of map
        if (first && (saved == EINVAL || saved == ENOTSUP)) break;  // no batch ops: iterate
        return;
      }
      in_batch = out_batch;
      first = false;
    }
    cw_proc_key key{}, next{};
    const cw_proc_key* cursor = nullptr;
    while (bpf_map_get_next_key(fd, cursor, &next) == 0) {
      cw_counters value;
      if (bpf_map_lookup_elem(fd, &next, &value) == 0) out->push_back({next, value});
      key = next;
      cursor = &key;
    }
  }

  void read_program_stats(std::vector<ingest::ProgramStats>* out) {
    for (struct bpf_program* prog : attached_) {
      struct bpf_prog_info info {};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) continue;
      out->push_back({bpf_program__name(prog), info.run_time_ns, info.run_cnt, info.recursion_misses});
    }
  }

  void close() {
    if (rings_) ring_buffer__free(rings_);
    rings_ = nullptr;
    for (auto* l : links_) bpf_link__destroy(l);
    links_.clear();
    attached_.clear();
    if (skel_) cowwatch_bpf__destroy(skel_);
    skel_ = nullptr;
  }

  probe::Realization realization_;
  struct cowwatch_bpf* skel_ = nullptr;
  size_t last_process_count_ = 0;  // entries read by the last sample(), to size the next
  struct ring_buffer* rings_ = nullptr;
  std::vector<struct bpf_link*> links_;
  std::vector<struct bpf_program*> attached_;
  const EventSink* sink_ = nullptr;
  int ncpus_ = 1;
  std::atomic<bool> take_atomically_{true};  // until the kernel refuses BPF_MAP_LOOKUP_AND_DELETE_ELEM
};

}  // namespace

std::unique_ptr<KernelSession> KernelSession::open(const KernelOptions& options, std::string* error) {
  auto session = std::make_unique<BpfSession>();
  if (!session->start(options, error)) return nullptr;
  return session;
}

}  // namespace cowwatch::loader
