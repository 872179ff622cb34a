/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup_move.bpf.h - a process moved to another cgroup v2: its counter slot takes the new cgroup
 * id at once (no fault needed after the move), and the daemon learns where its counts switch.
 *
 * TP_PROTO(struct cgroup *dst_cgrp, const char *path, struct task_struct *task, bool threadgroup)
 * (6.1-7.2, include/trace/events/cgroup.h), fired by cgroup_attach_task() after a successful
 * migration, on every hierarchy; `task` is the group leader for a cgroup.procs write. Only the v2
 * (default) hierarchy counts: there the migrated task's css_set names dst_cgrp as its dfl_cgrp.
 *
 * The counters at the move are kept in cw_moves under a sequence number the record carries, so
 * the daemon splits the process's counts exactly: up to the move under the old cgroup, after it
 * under the new one, whenever it reads them.
 */
#ifndef COWWATCH_CGROUP_MOVE_BPF_H
#define COWWATCH_CGROUP_MOVE_BPF_H

#include "owner.bpf.h"

/* Counters of a process at a move, until the daemon takes them (it drains the ring each tick). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct cw_counters);
} cw_moves SEC(".maps");

__u64 cw_move_seq;

/* Kernels without atomic fetch-and-add (before 5.12; 5.10 refuses the instruction in any program
 * that holds it): a per-CPU counter with the CPU in the top bits is as unique. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cw_move_seq_cpu SEC(".maps");

static __always_inline __u64 cw_next_move_seq(bool fetch)
{
	__u32 zero = 0;
	__u64 *n;

	if (fetch)
		return __sync_fetch_and_add(&cw_move_seq, 1) + 1;
	n = bpf_map_lookup_elem(&cw_move_seq_cpu, &zero);
	if (!n)
		return 0;
	*n += 1;
	return ((__u64)(bpf_get_smp_processor_id() + 1) << 40) | (*n & ((1ULL << 40) - 1));
}

static __always_inline int cw_cgroup_attach(struct cgroup *dst, struct task_struct *task, bool fetch)
{
	struct cw_counters *proc;
	struct cw_proc_key key;
	struct cw_event *e;
	__u64 new_id, old_id = 0, seq = 0;

	if (BPF_CORE_READ(task, cgroups, dfl_cgrp) != dst)
		return 0; /* a v1 hierarchy */
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0; /* one thread (cgroup.threads): the process's cgroup is its leader's */
	new_id = BPF_CORE_READ(dst, kn, id);
	cw_task_key(task, &key, false);
	proc = bpf_map_lookup_elem(&cw_procs, &key); /* not created: nothing to split yet */
	if (proc) {
		old_id = proc->cgroup_id;
		if (old_id == new_id)
			return 0;
		seq = cw_next_move_seq(fetch);
		if (!seq || bpf_map_update_elem(&cw_moves, &seq, proc, BPF_NOEXIST))
			seq = 0;
		proc->cgroup_id = new_id;
	}
	e = cw_reserve(true);
	if (!e) {
		if (seq) /* nobody will ask for it */
			bpf_map_delete_elem(&cw_moves, &seq);
		return 0;
	}
	e->type = CW_EV_CGROUP_MOVE;
	e->hook = CW_HOOK_FORK;
	e->tgid = key.tgid;
	e->start_ns = key.start_ns;
	e->pid = key.tgid;
	e->actor_tgid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup_id = new_id;
	e->aux0 = old_id;
	e->aux1 = seq;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	cw_submit(e, true);
	return 0;
}

SEC("?raw_tp/cgroup_attach_task")
int BPF_PROG(cw_cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task)
{
	return cw_cgroup_attach(dst, task, true);
}

SEC("?raw_tp/cgroup_attach_task")
int BPF_PROG(cw_cgroup_attach_task_nofetch, struct cgroup *dst, const char *path, struct task_struct *task)
{
	return cw_cgroup_attach(dst, task, false);
}

#endif /* COWWATCH_CGROUP_MOVE_BPF_H */
