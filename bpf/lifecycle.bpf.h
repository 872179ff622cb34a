/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lifecycle.bpf.h - fork and exit (raw tracepoints: no tracefs, no BTF trampolines needed), and the
 * tracepoint approximation of write faults used where do_wp_page cannot be probed.
 */
#ifndef COWWATCH_LIFECYCLE_BPF_H
#define COWWATCH_LIFECYCLE_BPF_H

#include "cow.bpf.h"
#include "owner.bpf.h"
#include <bpf/bpf_tracing.h>

/*
 * Pinned pages copied at fork. copy_present_pte() cannot share a maybe-pinned exclusive anon
 * page with the child, so it copies it on the spot (copy_present_page, inlined everywhere): no
 * fault ever shows it. Every such copy allocates with vma_alloc_folio[_noprof] in the parent while
 * it is inside copy_page_range(), which nothing else there does; counting those allocations per
 * forking task gives the eager copies of this fork (kernel-facts.md §2.3: 512 pinned pages ->
 * 512 extra allocations). From 6.12 (read in 6.12 and 7.2) the copy itself goes through
 * copy_mc_user_highpage(), i.e. the arch's copy_mc_to_kernel() where it has one (x86), which runs
 * on page copies only, not on every page a process faults in: the loader counts there instead.
 */
struct cw_fork_copy {
	__u32 active;	/* inside copy_page_range */
	__u32 pages;	/* allocations seen while active */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* thread id of the forking task */
	__type(value, struct cw_fork_copy);
} cw_fork_copies SEC(".maps");

/* Tasks inside copy_page_range now: lets the allocation probe return at once otherwise. */
__s64 cw_forks_copying = 0;

static const struct cw_fork_copy cw_fork_copy_zero;

/*
 * int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma): entry.
 * Only a source mm that ever had a page pinned can have pages copied eagerly, so the fork of any
 * other process costs a flag read here and a global load at exit.
 */
static __always_inline void cw_fork_copy_enter(const struct vm_area_struct *src_vma)
{
	__u32 tid;
	struct cw_fork_copy *c;

	if (!src_vma || !cw_mm_has_pinned(BPF_CORE_READ(src_vma, vm_mm)))
		return;
	tid = (__u32)bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&cw_fork_copies, &tid);
	if (!c) {
		bpf_map_update_elem(&cw_fork_copies, &tid, &cw_fork_copy_zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&cw_fork_copies, &tid);
		if (!c)
			return;
	}
	if (!c->active)
		__sync_fetch_and_add(&cw_forks_copying, 1);
	c->active = 1;
}

/* The current task's fork-copy slot while any fork is copying a pinned mm, else NULL. */
static __always_inline struct cw_fork_copy *cw_fork_copy_active(void)
{
	__u32 tid;
	struct cw_fork_copy *c;

	if (cw_forks_copying <= 0)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&cw_fork_copies, &tid);
	return c && c->active ? c : 0;
}

/* copy_page_range: exit */
static __always_inline void cw_fork_copy_leave(void)
{
	struct cw_fork_copy *c = cw_fork_copy_active();

	if (c) {
		c->active = 0;
		__sync_fetch_and_add(&cw_forks_copying, -1);
	}
}

/* One page copied (or allocated for a copy) by the current task: counted while it is inside
 * copy_page_range for a pinned mm. */
static __always_inline void cw_fork_copy_page(void)
{
	struct cw_fork_copy *c = cw_fork_copy_active();

	if (c)
		c->pages++;
}

SEC("?fentry/copy_page_range")
int BPF_PROG(cw_fentry_copy_page_range, struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	cw_fork_copy_enter(src_vma);
	return 0;
}

SEC("?fexit/copy_page_range")
int BPF_PROG(cw_fexit_copy_page_range)
{
	cw_fork_copy_leave();
	return 0;
}

/* struct folio *vma_alloc_folio[_noprof](gfp_t gfp, int order, struct vm_area_struct *vma, ...) */
SEC("?fentry/vma_alloc_folio")
int BPF_PROG(cw_fentry_vma_alloc_folio)
{
	cw_fork_copy_page();
	return 0;
}

/* unsigned long copy_mc_to_kernel(void *dst, const void *src, unsigned len): 6.12+ */
SEC("?fentry/copy_mc_to_kernel")
int BPF_PROG(cw_fentry_copy_mc_to_kernel)
{
	cw_fork_copy_page();
	return 0;
}

/* The same on kprobes, where trampolines cannot attach (arm64 6.1: no direct-call ftrace). */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_copy_page_range, struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	cw_fork_copy_enter(src_vma);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_copy_page_range)
{
	cw_fork_copy_leave();
	return 0;
}

SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_vma_alloc_folio)
{
	cw_fork_copy_page();
	return 0;
}

/* TP_PROTO(struct task_struct *parent, struct task_struct *child) */
SEC("?raw_tp/sched_process_fork")
int BPF_PROG(cw_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct cw_proc_key pkey, ckey;
	struct cw_counters *host, *proc;
	struct mm_struct *mm;
	struct cw_event *e;
	__s64 pinned_vm = 0;
	bool has_pinned = false;

	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cw_fork_copy *fc = bpf_map_lookup_elem(&cw_fork_copies, &tid);
	__u32 eager = 0;

	if (fc) { /* copy_process() is over: the count belongs to this fork */
		eager = fc->pages;
		bpf_map_delete_elem(&cw_fork_copies, &tid);
	}
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0; /* a new thread, not a new process */
	cw_task_key(parent, &pkey, false);
	ckey.tgid = BPF_CORE_READ(child, tgid);
	ckey.pad = 0;
	ckey.start_ns = BPF_CORE_READ(child, start_time);
	/* insert the child now so its first fault finds its slot, in its own cgroup (the parent's,
	 * or the one clone3(CLONE_INTO_CGROUP) named) */
	struct cw_counters *cc;

	bpf_map_update_elem(&cw_procs, &ckey, &cw_zero_counters, BPF_NOEXIST);
	cc = bpf_map_lookup_elem(&cw_procs, &ckey);
	if (cc) {
		cc->cgroup_id = cw_task_cgroup_id(child);
		BPF_CORE_READ_STR_INTO(&cc->comm, child, comm); /* the parent's, until it renames */
	}

	mm = BPF_CORE_READ(parent, mm);
	if (mm) {
		has_pinned = cw_mm_has_pinned(mm);
		pinned_vm = BPF_CORE_READ(mm, pinned_vm.counter);
	}
	host = cw_host_counters();
	proc = cw_proc_counters(&pkey);
	if (proc) {
		const struct task_struct *cur = cw_current_btf();

		proc->cgroup_id = bpf_get_current_cgroup_id();
		cw_note_comm(proc, cur);
	}
	cw_count(host, proc, CW_C_FORK);
	/* long-term pins imply MMF_HAS_PINNED: keep LONGTERM a subset of MM_HAS_PINNED */
	if (has_pinned || pinned_vm > 0 || eager > 0)
		cw_count(host, proc, CW_C_FORK_MM_HAS_PINNED);
	if (pinned_vm > 0 || eager > 0)
		cw_count(host, proc, CW_C_FORK_LONGTERM_PINS);
	if (eager) {
		if (host)
			host->c[CW_C_FORK_PINNED_COPIES] += eager;
		if (proc)
			__sync_fetch_and_add(&proc->c[CW_C_FORK_PINNED_COPIES], eager);
	}

	e = cw_reserve(true);
	if (!e)
		return 0;
	e->type = CW_EV_FORK;
	e->hook = CW_HOOK_FORK;
	e->tgid = pkey.tgid;
	e->start_ns = pkey.start_ns;
	e->pid = BPF_CORE_READ(parent, pid);
	e->actor_tgid = pkey.tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->aux0 = ckey.start_ns;
	e->aux1 = pinned_vm > 0 ? pinned_vm : 0;
	e->aux2 = ckey.tgid;
	e->address = eager;
	e->page_flags = has_pinned ? CW_PF_MM_HAS_PINNED : 0;
	/* An anomaly when this fork really copied pinned pages: pins in regions marked
	 * MADV_DONTFORK cost the fork nothing. Where those copies cannot be seen, the parent's
	 * long-term pins are all there is (the alert then says so). */
	e->anomaly = eager > 0 || (!cw_cfg.fork_copies_seen && pinned_vm > 0);
	BPF_CORE_READ_STR_INTO(&e->comm, parent, comm);
	cw_submit(e, true);
	return 0;
}

/* TP_PROTO(struct task_struct *p[, bool group_dead]) */
/* p is current: read through bpf_get_current_task_btf() with plain loads where the kernel has it
 * (5.11+), with probe reads of the raw argument before. */
SEC("?raw_tp/sched_process_exit")
int BPF_PROG(cw_sched_process_exit, struct task_struct *p)
{
	const struct task_struct *cur = cw_current_btf();
	struct cw_event *e;
	int live;

	cw_stash_forget((__u32)bpf_get_current_pid_tgid());
	live = cur ? cur->signal->live.counter : BPF_CORE_READ(p, signal, live.counter);
	if (live != 0)
		return 0; /* other threads of the group still live */
	e = cw_reserve(true);
	if (!e)
		return 0;
	e->type = CW_EV_EXIT;
	e->hook = CW_HOOK_EXIT;
	if (cur) {
		e->tgid = cur->tgid;
		e->start_ns = cur->group_leader->start_time;
		e->pid = cur->pid;
		e->aux1 = (__u32)cur->exit_code;
		cw_leader_comm_btf(e->comm, cur);
	} else {
		e->tgid = BPF_CORE_READ(p, tgid);
		e->start_ns = BPF_CORE_READ(p, group_leader, start_time);
		e->pid = BPF_CORE_READ(p, pid);
		e->aux1 = (__u32)BPF_CORE_READ(p, exit_code);
		BPF_CORE_READ_STR_INTO(&e->comm, p, group_leader, comm);
	}
	e->actor_tgid = e->tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	cw_submit(e, true);
	return 0;
}

/*
 * TP_PROTO(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm): after the new image
 * is in place (p is current, with its new comm). The identity survives exec: de_thread() gives
 * the exec'ing thread the old leader's tgid and start time.
 */
SEC("?raw_tp/sched_process_exec")
int BPF_PROG(cw_sched_process_exec)
{
	const struct task_struct *cur = cw_current_btf();
	struct cw_proc_key key;
	struct cw_counters *proc;
	struct cw_event *e;

	cw_current_key(cur, &key);
	proc = bpf_map_lookup_elem(&cw_procs, &key);
	if (proc)
		cw_note_comm(proc, cur);
	e = cw_reserve(true);
	if (!e)
		return 0;
	e->type = CW_EV_EXEC;
	e->hook = CW_HOOK_FORK;
	e->tgid = key.tgid;
	e->start_ns = key.start_ns;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->actor_tgid = e->tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	cw_submit(e, true);
	return 0;
}

/*
 * TP_PROTO(struct task_struct *task, const char *comm): in __set_task_comm, before the new name
 * is copied in (so it is read from `comm`). Only the group leader's name is the process's name.
 */
SEC("?raw_tp/task_rename")
int BPF_PROG(cw_task_rename, struct task_struct *task, const char *comm)
{
	struct cw_proc_key key;
	struct cw_counters *proc;
	struct cw_event *e;

	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	cw_task_key(task, &key, false);
	proc = bpf_map_lookup_elem(&cw_procs, &key);
	if (proc)
		bpf_probe_read_kernel_str(proc->comm, sizeof(proc->comm), comm);
	e = cw_reserve(true);
	if (!e)
		return 0;
	e->type = CW_EV_RENAME;
	e->hook = CW_HOOK_FORK;
	e->tgid = key.tgid;
	e->start_ns = key.start_ns;
	e->pid = key.tgid;
	e->actor_tgid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	cw_submit(e, true);
	return 0;
}

/*
 * TP_PROTO(unsigned long address, struct pt_regs *regs, unsigned long error_code)
 * An approximation of do_wp_page: a user-mode write to a present page (error code P|W|U). It also
 * counts spurious and userfaultfd-wp faults and cannot tell copy from reuse; exported separately.
 * exceptions:page_fault_user and its error code bits exist on x86 only: not built elsewhere.
 */
#if defined(__TARGET_ARCH_x86)
#define CW_PF_ERR_PWU 0x7UL

SEC("?raw_tp/page_fault_user")
int BPF_PROG(cw_page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	const struct task_struct *cur;
	struct cw_proc_key key;
	struct cw_counters *proc;

	if ((error_code & CW_PF_ERR_PWU) != CW_PF_ERR_PWU)
		return 0;
	cur = cw_current_btf();
	cw_current_key(cur, &key);
	proc = cw_proc_counters(&key);
	if (proc)
		cw_note_comm(proc, cur);
	cw_count(cw_host_counters(), proc, CW_C_WP_APPROX);
	return 0;
}
#endif

#endif /* COWWATCH_LIFECYCLE_BPF_H */
