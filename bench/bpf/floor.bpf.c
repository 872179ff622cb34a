// SPDX-License-Identifier: GPL-2.0
/*
 * floor.bpf.c - empty programs on the hooks cowwatch uses: the floor any program on the same hook
 * costs (dispatch + trampoline/tracepoint + an empty body). bench/storm attaches one rung at a time.
 */
#include "../../bpf/vmlinux_min.h" /* bpf_skeleton() adds no -I for bpf/: path relative to here */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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
