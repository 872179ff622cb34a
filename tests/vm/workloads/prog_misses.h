// prog_misses.h — the kernel's own count of skipped runs, per loaded BPF program (included by cwwl.c).
//
// `cwwl progmisses` prints one line per loaded program whose name starts with "cw_":
//   progmiss id=ID name=NAME misses=N
// NAME is the kernel's copy of the program name (BPF_OBJ_NAME_LEN: at most 15 characters), N its
// recursion_misses (runs the kernel skipped because the program, or on kprobes any BPF program, was
// already running on that CPU; 5.12+, 0 before). The VM tier snapshots it between workloads, so the
// runs skipped during one workload are known exactly, from the kernel and not from the daemon
// (whose copy is up to a poll interval old). Raw bpf(2) calls: the binary is static, without libbpf.
#include <linux/bpf.h>

static long cw_bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static int print_prog_misses(void) {
  __u32 id = 0;
  for (;;) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.start_id = id;
    if (cw_bpf(BPF_PROG_GET_NEXT_ID, &attr) != 0) {
      if (errno == ENOENT) return 0;
      fprintf(stderr, "cwwl progmisses: BPF_PROG_GET_NEXT_ID: %s\n", strerror(errno));
      return 1;
    }
    id = attr.next_id;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    int fd = (int)cw_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) continue;  // unloaded meanwhile
    struct bpf_prog_info info;
    memset(&info, 0, sizeof info);
    memset(&attr, 0, sizeof attr);
    attr.info.bpf_fd = fd;
    attr.info.info_len = sizeof info;
    attr.info.info = (__u64)(unsigned long)&info;
    long rc = cw_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
    close(fd);
    if (rc != 0 || strncmp(info.name, "cw_", 3) != 0) continue;
    printf("progmiss id=%u name=%.*s misses=%llu\n", id, (int)sizeof info.name, info.name,
           (unsigned long long)info.recursion_misses);
  }
}
