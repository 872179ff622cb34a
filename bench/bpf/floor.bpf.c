// SPDX-License-Identifier: GPL-2.0
/*
 * floor.bpf.c - empty programs on the hooks cowwatch uses: the floor any program on the same hook
 * costs (dispatch + trampoline/tracepoint + an empty body). bench/storm attaches one rung at a time.
 */
#include "../../bpf/vmlinux_min.h" /* bpf_skeleton() adds no -I for bpf/: path relative to here */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/*
 * The counting floor: the least a program can do and still count per process, as cowwatch must:
 * the current thread group's identity (tgid, leader start time; direct BTF loads), one lookup in a
 * hash keyed by it, one atomic add. No decision, no page state, no owner. Nothing cheaper can
 * attribute a fault to a process, so it bounds how close to the empty program cowwatch can get.
 */
struct floor_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct floor_key);
	__type(value, __u64);
} floor_counts SEC(".maps");

static __always_inline void floor_count(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct floor_key key = {.tgid = t->tgid, .start_ns = t->group_leader->start_time};
	static const __u64 zero;
	__u64 *n = bpf_map_lookup_elem(&floor_counts, &key);

	if (!n) {
		bpf_map_update_elem(&floor_counts, &key, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&floor_counts, &key);
		if (!n)
			return;
	}
	__sync_fetch_and_add(n, 1);
}

SEC("?fexit/do_wp_page")
int BPF_PROG(floor_count_fexit_do_wp_page, struct vm_fault *vmf, int ret)
{
	floor_count();
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(floor_count_kretprobe_do_wp_page, int ret)
{
	floor_count();
	return 0;
}

SEC("?raw_tp/page_fault_user")
int BPF_PROG(floor_count_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if ((error_code & 7) == 7) /* user write to a present page, as cowwatch filters */
		floor_count();
	return 0;
}

/*
 * The two-phase floor: the least any design pays that judges a fault by the old page's state
 * before it (entry) and the outcome after it (exit), as cowwatch must to say why it copied: at
 * entry a per-thread slot (task storage, else a thread-id hash as cowwatch falls back to) and one
 * 64-byte read of the old page's struct page; at exit the slot read back, then the counting floor.
 * No decision, no reason, no owner: what cowwatch costs above this is its own logic.
 */
struct floor_stash {
	__u64 vmf;
	__u64 page[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_stash);
} floor_stash_task SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct floor_stash);
} floor_stash_tid SEC(".maps");

extern const void vmemmap_base __ksym __weak;
__u64 floor_vmemmap = 0;

/* task: try task storage first (fentry); the kprobe rung is chosen where task storage refuses
 * (7.2), and cowwatch then stops asking it, so the kprobe floor goes straight to the hash. */
static __always_inline struct floor_stash *floor_stash(bool create, bool task)
{
	static const struct floor_stash empty;
	struct floor_stash *s;
	__u32 tid;

	if (task) {
		s = bpf_task_storage_get(&floor_stash_task, bpf_get_current_task_btf(), 0,
					 create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
		if (s)
			return s;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	s = bpf_map_lookup_elem(&floor_stash_tid, &tid);
	if (s || !create)
		return s;
	bpf_map_update_elem(&floor_stash_tid, &tid, &empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(&floor_stash_tid, &tid);
}

static __always_inline void floor_stash_enter(__u64 vmf, unsigned long orig_pte, bool task)
{
	struct floor_stash *s = floor_stash(true, task);
	unsigned long base = floor_vmemmap;

	if (!s)
		return;
	s->vmf = vmf;
	if (!base && &vmemmap_base) {
		bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base);
		floor_vmemmap = base;
	}
	bpf_probe_read_kernel(s->page, sizeof(s->page),
			      (const void *)(base + ((orig_pte & 0x000ffffffffff000UL) >> 12) *
							    bpf_core_type_size(struct page)));
}

static __always_inline void floor_stash_leave(__u64 vmf, bool task)
{
	struct floor_stash *s = floor_stash(false, task);

	if (!s || (vmf && s->vmf != vmf))
		return;
	s->vmf = 0;
	floor_count();
}

SEC("?fentry/do_wp_page")
int BPF_PROG(floor_stash_fentry_do_wp_page, struct vm_fault *vmf)
{
	floor_stash_enter((__u64)vmf, vmf->orig_pte.pte, true);
	return 0;
}

SEC("?fexit/do_wp_page")
int BPF_PROG(floor_stash_fexit_do_wp_page, struct vm_fault *vmf, int ret)
{
	floor_stash_leave((__u64)vmf, true);
	return 0;
}

SEC("?kprobe")
int BPF_KPROBE(floor_stash_kprobe_do_wp_page, struct vm_fault *vmf)
{
	floor_stash_enter((__u64)vmf, BPF_CORE_READ(vmf, orig_pte.pte), false);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(floor_stash_kretprobe_do_wp_page, int ret)
{
	floor_stash_leave(0, false);
	return 0;
}

/* int do_wp_page(struct vm_fault *vmf) */
SEC("?fentry/do_wp_page")
int BPF_PROG(floor_fentry_do_wp_page, struct vm_fault *vmf)
{
	return 0;
}

SEC("?fexit/do_wp_page")
int BPF_PROG(floor_fexit_do_wp_page, struct vm_fault *vmf, int ret)
{
	return 0;
}

/* The kprobe rung's floor: the loader passes the same target the daemon's plan chose. */
SEC("?kprobe")
int BPF_KPROBE(floor_kprobe_do_wp_page, struct vm_fault *vmf)
{
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(floor_kretprobe_do_wp_page, int ret)
{
	return 0;
}

/* TRACE_EVENT(page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code) */
SEC("?raw_tp/page_fault_user")
int BPF_PROG(floor_page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
