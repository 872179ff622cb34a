// KernelProbe for the running kernel: vmlinux BTF, /proc/kallsyms, and trial attaches of a
// two-instruction program (r0 = 0; exit) through the raw bpf() and perf_event_open() interfaces.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "probe/kernel_probe.h"

namespace cowwatch::probe {
namespace {

std::string errno_text(int err) {
  std::string name;
  switch (err) {
    case EPERM: name = "EPERM"; break;
    case EINVAL: name = "EINVAL"; break;
    case ENOENT: name = "ENOENT"; break;
    case EBUSY: name = "EBUSY"; break;
    case ESRCH: name = "ESRCH"; break;
    case EOPNOTSUPP: name = "EOPNOTSUPP"; break;
    case 524: name = "ENOTSUPP"; break;
    case EACCES: name = "EACCES"; break;
    default: name = "errno " + std::to_string(err);
  }
  return name;
}

int read_int_file(const std::string& path) {
  std::ifstream f(path);
  int v = -1;
  f >> v;
  return f ? v : -1;
}

class SystemProbe final : public KernelProbe {
 public:
  SystemProbe() { btf_ = btf__load_vmlinux_btf(); }
  ~SystemProbe() override { btf__free(btf_); }

  std::string kernel_release() override {
    struct utsname u {};
    uname(&u);
    return u.release;
  }

  // debugfs names the mode in force in parentheses ("none (voluntary) full"); without debugfs,
  // the build's default (/boot/config-<release>) unless the command line chose (preempt=).
  std::string preemption_model() override {
    std::ifstream dbg("/sys/kernel/debug/sched/preempt");
    std::string line;
    if (dbg && std::getline(dbg, line)) {
      auto open = line.find('('), close = line.find(')');
      if (open != std::string::npos && close > open) return line.substr(open + 1, close - open - 1);
    }
    std::ifstream cmdline("/proc/cmdline");
    std::string word;
    while (cmdline >> word)
      if (word.rfind("preempt=", 0) == 0) return word.substr(8);
    std::ifstream config("/boot/config-" + kernel_release());
    std::string model;
    while (std::getline(config, line)) {
      if (line == "CONFIG_PREEMPT_RT=y") return "rt";
      if (line == "CONFIG_PREEMPT_LAZY=y") model = "lazy";
      if (line == "CONFIG_PREEMPT=y" && model.empty()) model = "full";
      if (line == "CONFIG_PREEMPT_VOLUNTARY=y" && model.empty()) model = "voluntary";
      if (line == "CONFIG_PREEMPT_NONE=y" && model.empty()) model = "none";
    }
    return model;
  }

  bool has_btf_func(const std::string& name) override { return func_id(name) > 0; }

  bool has_vmlinux_btf() override { return btf_ != nullptr; }

  // Map types by a trial creation (libbpf_probe_bpf_map_type); helpers by a trial load of a kprobe
  // program calling them (libbpf_probe_bpf_helper). bpf_get_func_ret exists for tracing programs
  // only, which libbpf cannot probe without a target: the kernel's own enum bpf_func_id (BTF)
  // lists every helper it knows. A probe that cannot run (no permission) falls back to BTF too.
  bool has_feature(Feature f) override {
    auto it = features_.find(f);
    if (it != features_.end()) return it->second;
    bool found = false;
    auto helper = [&](enum bpf_func_id id, const char* name) {
      int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, id, nullptr);
      return r >= 0 ? r == 1 : btf_enum_has("bpf_func_id", name);
    };
    auto map_type = [&](enum bpf_map_type type, const char* name) {
      int r = libbpf_probe_bpf_map_type(type, nullptr);
      return r >= 0 ? r == 1 : btf_enum_has("bpf_map_type", name);
    };
    switch (f) {
      case Feature::kRingbuf: found = map_type(BPF_MAP_TYPE_RINGBUF, "BPF_MAP_TYPE_RINGBUF"); break;
      case Feature::kTaskStorage: found = map_type(BPF_MAP_TYPE_TASK_STORAGE, "BPF_MAP_TYPE_TASK_STORAGE"); break;
      case Feature::kCurrentTaskBtf:
        found = helper(BPF_FUNC_get_current_task_btf, "BPF_FUNC_get_current_task_btf");
        break;
      case Feature::kLoop: found = helper(BPF_FUNC_loop, "BPF_FUNC_loop"); break;
      case Feature::kFuncRet: found = btf_enum_has("bpf_func_id", "BPF_FUNC_get_func_ret"); break;
      case Feature::kAtomicFetch: found = loads_atomic_fetch(); break;
      case Feature::kRdonlyCast: found = func_id("bpf_rdonly_cast") > 0; break;  // a kfunc: a BTF FUNC
      case Feature::kKprobeMulti:  // the link type, and fprobe under it (6.1 Debian: no CONFIG_FPROBE)
        found = btf_enum_has("bpf_attach_type", "BPF_TRACE_KPROBE_MULTI") && func_id("register_fprobe") > 0;
        break;
    }
    features_[f] = found;
    return found;
  }

  int btf_func_param_count(const std::string& name) override {
    int id = func_id(name);
    if (id <= 0) return -1;
    const struct btf_type* proto = btf__type_by_id(btf_, btf__type_by_id(btf_, id)->type);
    return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
  }

  std::string btf_func_return_kind(const std::string& name) override {
    int id = func_id(name);
    if (id <= 0) return "";
    const struct btf_type* func = btf__type_by_id(btf_, id);
    const struct btf_type* proto = btf__type_by_id(btf_, func->type);
    if (!proto || !proto->type) return "void";
    const struct btf_type* ret = btf__type_by_id(btf_, proto->type);
    while (ret && (btf_is_typedef(ret) || btf_is_mod(ret))) ret = btf__type_by_id(btf_, ret->type);
    if (!ret) return "";
    if (btf_is_int(ret)) {
      return (btf_int_encoding(ret) & BTF_INT_BOOL) ? "bool" : "int";
    }
    if (btf_is_composite(ret)) return "struct";
    if (btf_is_ptr(ret)) return "ptr";
    if (btf_is_enum(ret)) return "int";
    return "other";
  }

  bool btf_enum_has(const std::string& enum_name, const std::string& value) override {
    if (!btf_) return false;
    int id = btf__find_by_name_kind(btf_, enum_name.c_str(), BTF_KIND_ENUM);
    if (id <= 0) return false;
    const struct btf_type* t = btf__type_by_id(btf_, id);
    const struct btf_enum* e = btf_enum(t);
    for (int i = 0; i < btf_vlen(t); i++, e++) {
      if (value == btf__name_by_offset(btf_, e->name_off)) return true;
    }
    return false;
  }

  std::vector<std::string> kallsyms_candidates(const std::string& base) override {
    load_kallsyms();
    // Unreadable or empty here (systemd's ProtectKernelTunables= makes /proc/kallsyms
    // inaccessible): the kernel resolves the name itself at the trial attach, which then decides
    // (clones are not found this way).
    if (!kallsyms_readable_) return {base};
    std::vector<std::string> exact, isra, constprop, part;
    auto range = kallsyms_by_base_.equal_range(base);
    for (auto it = range.first; it != range.second; ++it) {
      const std::string& s = it->second;
      if (s == base) exact.push_back(s);
      else if (s.find(".isra.") != std::string::npos) isra.push_back(s);
      else if (s.find(".constprop.") != std::string::npos) constprop.push_back(s);
      else if (s.find(".part.") != std::string::npos) part.push_back(s);
    }
    std::vector<std::string> out;
    for (auto* v : {&exact, &isra, &constprop, &part}) out.insert(out.end(), v->begin(), v->end());
    return out;
  }

  TrialResult trial_fentry(const std::string& func, bool fexit) override {
    int id = func_id(func);
    if (id <= 0) return {-ESRCH, "no BTF FUNC record"};
    LIBBPF_OPTS(bpf_prog_load_opts, opts);
    opts.expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY;
    opts.attach_btf_id = id;
    char log[512] = {};
    opts.log_buf = log;
    opts.log_size = sizeof(log);
    opts.log_level = 1;
    int fd = load_trivial(BPF_PROG_TYPE_TRACING, &opts);
    if (fd < 0) {
      int err = errno;
      std::string why = std::string(fexit ? "fexit" : "fentry") + " refused at load (" +
                        errno_text(err) + ")";
      std::string first_line = first_log_line(log);
      if (!first_line.empty()) why += ": " + first_line;
      return {-err, why};
    }
    int link = bpf_raw_tracepoint_open(nullptr, fd);
    int err = link < 0 ? errno : 0;
    if (link >= 0) close(link);
    close(fd);
    if (err) {
      std::string why = std::string(fexit ? "fexit" : "fentry") + " attach failed (" + errno_text(err) + ")";
      if (err == EBUSY) why += ": no ftrace site (notrace)";
      return {-err, why};
    }
    return {};
  }

  TrialResult trial_kprobe(const std::string& symbol, bool retprobe) override {
    if (via_multi_) return trial_kprobe_multi(symbol, retprobe);
    TrialResult perf = trial_kprobe_perf(symbol, retprobe);
    if ((perf.error != -EACCES && perf.error != -EPERM) || !has_feature(Feature::kKprobeMulti)) return perf;
    // perf events refused: kprobe_multi links need no perf event (measured on 7.2: their dispatch
    // costs ~40 % more than a perf kprobe's, so they are the second choice, not the first)
    TrialResult multi = trial_kprobe_multi(symbol, retprobe);
    if (multi.ok()) {
      via_multi_ = true;
      return multi;
    }
    perf.reason += "; " + multi.reason;
    return perf;
  }

  bool kprobes_via_multi() override { return via_multi_; }

  TrialResult trial_kprobe_perf(const std::string& symbol, bool retprobe) {
    int type = read_int_file("/sys/bus/event_source/devices/kprobe/type");
    if (type < 0) return {-EOPNOTSUPP, "no kprobe PMU (kernel built without CONFIG_KPROBES)"};
    int fd = load_trivial(BPF_PROG_TYPE_KPROBE, nullptr);
    if (fd < 0) {
      int err = errno;
      return {-err, "kprobe program refused at load (" + errno_text(err) + ")"};
    }
    struct perf_event_attr attr {};
    attr.size = sizeof(attr);
    attr.type = type;
    if (retprobe) attr.config |= 1ULL << retprobe_bit();
    attr.config1 = reinterpret_cast<uint64_t>(symbol.c_str());
    attr.config2 = 0;
    int pfd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
    int err = pfd < 0 ? errno : 0;
    if (pfd >= 0 && ioctl_set_bpf(pfd, fd) < 0) err = errno;
    if (pfd >= 0) close(pfd);
    close(fd);
    if (err) {
      std::string why = std::string(retprobe ? "kretprobe" : "kprobe") + " attach failed (" + errno_text(err) + ")";
      if (err == EINVAL) why += ": notrace or not probeable";
      if (err == ENOENT) why += ": no such symbol";
      if (err == EACCES && perf_event_paranoid() > 2)
        why += ": kernel.perf_event_paranoid=" + std::to_string(perf_event_paranoid()) +
               " (Debian) opens perf events, and so kprobes, only with CAP_SYS_ADMIN";
      return {-err, why};
    }
    return {};
  }

  // A kprobe_multi link (fprobe: the function's ftrace site) on one symbol. Needs no perf event,
  // so no CAP_SYS_ADMIN where kernel.perf_event_paranoid=3 (Debian); the handler runs with
  // preemption off, as a kprobe's does.
  TrialResult trial_kprobe_multi(const std::string& symbol, bool retprobe) {
    const char* kind = retprobe ? "kretprobe" : "kprobe";
    LIBBPF_OPTS(bpf_prog_load_opts, load);
    load.expected_attach_type = BPF_TRACE_KPROBE_MULTI;
    int fd = load_trivial(BPF_PROG_TYPE_KPROBE, &load);
    if (fd < 0) {
      int err = errno;
      return {-err, std::string(kind) + " (kprobe_multi) program refused at load (" + errno_text(err) + ")"};
    }
    const char* syms[] = {symbol.c_str()};
    LIBBPF_OPTS(bpf_link_create_opts, opts);
    opts.kprobe_multi.syms = syms;
    opts.kprobe_multi.cnt = 1;
    opts.kprobe_multi.flags = retprobe ? BPF_F_KPROBE_MULTI_RETURN : 0;
    int link = bpf_link_create(fd, 0, BPF_TRACE_KPROBE_MULTI, &opts);
    int err = link < 0 ? errno : 0;
    if (link >= 0) close(link);
    close(fd);
    if (err) {
      std::string why = std::string(kind) + " (kprobe_multi link) attach failed (" + errno_text(err) + ")";
      if (err == EINVAL) why += ": notrace or not probeable";
      if (err == ENOENT) why += ": no such symbol";
      if (err == ESRCH) why += ": not among ftrace's functions (notrace), where kprobe_multi links attach";
      return {-err, why};
    }
    return {};
  }

  TrialResult trial_raw_tracepoint(const std::string& name) override {
    int fd = load_trivial(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr);
    if (fd < 0) {
      int err = errno;
      return {-err, "raw tracepoint program refused at load (" + errno_text(err) + ")"};
    }
    int link = bpf_raw_tracepoint_open(name.c_str(), fd);
    int err = link < 0 ? errno : 0;
    if (link >= 0) close(link);
    close(fd);
    if (err) return {-err, "raw tracepoint attach failed (" + errno_text(err) + ")"};
    return {};
  }

 private:
  bool via_multi_ = false;  // perf kprobe events refused, kprobe_multi links work
  int func_id(const std::string& name) {
    if (!btf_) return -1;
    return btf__find_by_name_kind(btf_, name.c_str(), BTF_KIND_FUNC);
  }

  static std::string first_log_line(const char* log) {
    std::string s(log);
    auto nl = s.find('\n');
    if (nl != std::string::npos) s.resize(nl);
    return s;
  }

  static int load_trivial(enum bpf_prog_type type, struct bpf_prog_load_opts* opts) {
    struct bpf_insn insns[2] = {};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
    insns[1].code = BPF_JMP | BPF_EXIT;
    return bpf_prog_load(type, "cw_trial", "GPL", insns, 2, opts);
  }

  // A kprobe program doing an atomic fetch-and-add on its stack (BPF_ATOMIC | BPF_FETCH, 5.12):
  // older kernels refuse the instruction (EINVAL). Any other refusal (no permission) says nothing.
  static bool loads_atomic_fetch() {
    struct bpf_insn insns[6] = {};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r1 = 0
    insns[0].dst_reg = 1;
    insns[1].code = BPF_STX | BPF_MEM | BPF_DW;  // *(u64 *)(r10 - 8) = r1
    insns[1].dst_reg = 10;
    insns[1].src_reg = 1;
    insns[1].off = -8;
    insns[2].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r1 = 1
    insns[2].dst_reg = 1;
    insns[2].imm = 1;
    insns[3].code = BPF_STX | 0xc0 /* BPF_ATOMIC */ | BPF_DW;  // r1 = atomic_fetch_add(r10 - 8, r1)
    insns[3].dst_reg = 10;
    insns[3].src_reg = 1;
    insns[3].off = -8;
    insns[3].imm = BPF_ADD | 0x01 /* BPF_FETCH */;
    insns[4].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
    insns[5].code = BPF_JMP | BPF_EXIT;
    int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "cw_trial", "GPL", insns, 6, nullptr);
    if (fd >= 0) close(fd);
    return fd >= 0 || errno != EINVAL;
  }

  static int perf_event_paranoid() {
    std::ifstream f("/proc/sys/kernel/perf_event_paranoid");
    int level = 2;
    f >> level;
    return level;
  }

  static int retprobe_bit() {
    std::ifstream f("/sys/bus/event_source/devices/kprobe/format/retprobe");
    std::string s;
    f >> s;  // "config:0"
    auto colon = s.find(':');
    return colon == std::string::npos ? 0 : std::atoi(s.c_str() + colon + 1);
  }

  static int ioctl_set_bpf(int pfd, int prog_fd);

  void load_kallsyms() {
    if (kallsyms_loaded_) return;
    kallsyms_loaded_ = true;
    std::ifstream f("/proc/kallsyms");
    std::string line;
    while (std::getline(f, line)) {
      // "ffffffff81234560 t do_wp_page" or "... t name [module]"
      std::istringstream in(line);
      std::string addr, type, name;
      if (!(in >> addr >> type >> name)) continue;
      if (type != "t" && type != "T") continue;
      auto dot = name.find('.');
      std::string base = dot == std::string::npos ? name : name.substr(0, dot);
      kallsyms_by_base_.emplace(base, name);
    }
    kallsyms_readable_ = !kallsyms_by_base_.empty();
  }

  struct btf* btf_ = nullptr;
  std::map<Feature, bool> features_;
  bool kallsyms_loaded_ = false;
  bool kallsyms_readable_ = false;
  std::multimap<std::string, std::string> kallsyms_by_base_;
};

}  // namespace
}  // namespace cowwatch::probe

#include <sys/ioctl.h>

namespace cowwatch::probe {
namespace {
int SystemProbe::ioctl_set_bpf(int pfd, int prog_fd) { return ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd); }
}  // namespace

std::unique_ptr<KernelProbe> make_system_probe() { return std::make_unique<SystemProbe>(); }

}  // namespace cowwatch::probe
