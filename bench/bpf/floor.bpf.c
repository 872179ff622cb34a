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
