// SPDX-License-Identifier: GPL-2.0
/*
 * naive.bpf.c - the design cowwatch rejected, kept to measure what it would cost: every hooked
 * event becomes a cw_event record on a ring buffer submitted with default (adaptive) wakeups,
 * consumed by a reader that epolls the ring (bench/storm). perf-facts.md §3(b): 5.8x on this host.
 */
#include "../../bpf/vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../../bpf/cowwatch.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} naive_events SEC(".maps");

__u64 naive_drops = 0; /* reserve failures */

static __always_inline void naive_emit(__u64 address, __u8 hook)
{
	struct cw_event *e = bpf_ringbuf_reserve(&naive_events, sizeof(*e), 0);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!e) {
		__sync_fetch_and_add(&naive_drops, 1);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = pid_tgid >> 32;
	e->pid = (__u32)pid_tgid;
	e->actor_tgid = e->tgid;
	e->address = address & ~4095UL;
	e->type = CW_EV_FAULT;
	e->hook = hook;
	e->reason = CW_REASON_COUNT;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0); /* adaptive: wakes the reader whenever it has caught up */
}

/* int do_wp_page(struct vm_fault *vmf) */
SEC("?fexit/do_wp_page")
int BPF_PROG(naive_fexit_do_wp_page, struct vm_fault *vmf, int ret)
{
	naive_emit(BPF_CORE_READ(vmf, address), CW_HOOK_WP_FAULT);
	return 0;
}

/* The same on the kprobe rung (kretprobe: the exit has no vmf; the address is not needed here). */
SEC("?kretprobe")
int BPF_KRETPROBE(naive_kretprobe_do_wp_page, int ret)
{
	naive_emit(0, CW_HOOK_WP_FAULT);
	return 0;
}

/* page_fault_user: write fault by user on a present page, as cowwatch's tracepoint rung filters */
SEC("?raw_tp/page_fault_user")
int BPF_PROG(naive_page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	if ((error_code & 7) != 7)
		return 0;
	naive_emit(address, CW_HOOK_WP_FAULT);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
