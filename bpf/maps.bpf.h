/* SPDX-License-Identifier: GPL-2.0 */
/* maps.bpf.h - maps and the counting/emitting helpers every program uses. */
#ifndef COWWATCH_MAPS_BPF_H
#define COWWATCH_MAPS_BPF_H

#include "compat.bpf.h"
#include "cowwatch.h"

/* Written by the loader before load (rodata): nothing is configurable after load. */
const volatile struct cw_bpf_config cw_cfg = {
	.event_mode = 0,
	.sample_every = 1000,
	.task_storage = 1,
	.task_btf = 1,
};

/* Host totals: exact, one slot per CPU, no locks. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_counters);
} cw_host SEC(".maps");

/*
 * Per-process counters keyed by (tgid, start_ns). A shared hash updated with atomic adds rather than
 * a per-CPU hash: its memory is value_size x max_entries instead of x nr_cpus too (232 B x 32768 =
 * 7.3 MiB, where a per-CPU hash would take 800 MiB on a 128-CPU host), and a hit costs a lookup and a
 * lock-free add (perf-facts.md: 52 vs 46 ns per event). Entries are inserted once (fork or first
 * sight, BPF_NOEXIST) and removed by the daemon at exit; max_entries is set by the loader.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct cw_proc_key);
	__type(value, struct cw_counters);
} cw_procs SEC(".maps");

/* Why detail or attribution was lost, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_DROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} cw_drops SEC(".maps");

/* Detail records (sampled or every event, per config). Submitted without wakeup: drained on a timer. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} cw_events SEC(".maps");

/* Lifecycle and anomaly records: small, must not be crowded out by detail records. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} cw_ctl SEC(".maps");

static const struct cw_counters cw_zero_counters;

static __always_inline void cw_drop(__u32 cause)
{
	__u64 *slot = bpf_map_lookup_elem(&cw_drops, &cause);

	if (slot)
		*slot += 1;
}

static __always_inline struct cw_counters *cw_host_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cw_host, &zero);
}

/* The counters of a process, inserted on first sight. NULL (and a drop) when the map is full. */
static __always_inline struct cw_counters *cw_proc_counters(const struct cw_proc_key *key)
{
	struct cw_counters *c = bpf_map_lookup_elem(&cw_procs, key);

	if (c)
		return c;
	bpf_map_update_elem(&cw_procs, key, &cw_zero_counters, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&cw_procs, key);
	if (!c)
		cw_drop(CW_DROP_PROC_MAP_FULL);
	return c;
}

static __always_inline void cw_count(struct cw_counters *host, struct cw_counters *proc, __u32 idx)
{
	if (idx >= CW_C_COUNT)
		return;
	if (host)
		host->c[idx] += 1;
	if (proc)
		__sync_fetch_and_add(&proc->c[idx], 1);
}

/* Identity of a task's thread group. btf (a compile-time constant): task is a BTF pointer, read with
 * plain loads; otherwise a pointer read from memory, read with probe reads. */
static __always_inline void cw_task_key(const struct task_struct *task, struct cw_proc_key *key, bool btf)
{
	key->tgid = CW_READ(btf, task, tgid);
	key->pad = 0;
	key->start_ns = CW_READ(btf, task, group_leader, start_time);
}

/*
 * The current task as a BTF pointer, whose fields are plain loads, or NULL before 5.11 (no
 * bpf_get_current_task_btf(): probe reads then). It is a helper call: a program fetches it once
 * and hands it to the readers below.
 */
static __always_inline const struct task_struct *cw_current_btf(void)
{
	if (!cw_cfg.task_btf)
		return 0;
	return (const struct task_struct *)bpf_get_current_task_btf();
}

/* Identity of the current thread group (cur: cw_current_btf()). */
static __always_inline void cw_current_key(const struct task_struct *cur, struct cw_proc_key *key)
{
	if (!cw_cfg.task_btf || !cur) {
		cw_task_key((const struct task_struct *)bpf_get_current_task(), key, false);
		return;
	}
	cw_task_key(cur, key, true);
}

/* A task's group leader's comm into dst (CW_COMM_LEN bytes, 8-aligned): two 8-byte loads through
 * BTF pointers. */
static __always_inline void cw_leader_comm_btf(char *dst, const struct task_struct *task)
{
	const __u64 *name = (const __u64 *)task->group_leader->comm;

	((__u64 *)dst)[0] = name[0];
	((__u64 *)dst)[1] = name[1];
}

/*
 * The current process's name (its group leader's comm, what /proc/PID/comm shows) into its
 * counters, at each of its own counted events: the counts then carry their name, even when the
 * fork, rename and exit records that also name it were lost or are read after the counts (7.2
 * runs tracepoint programs preemptibly: a preempted program makes the same program's runs in
 * other tasks on that CPU miss, and its reserved record holds back the ring's later records).
 * Two 8-byte loads through BTF pointers: no helper call on the fault path.
 */
static __always_inline void cw_note_comm(struct cw_counters *proc, const struct task_struct *cur)
{
	if (!cw_cfg.task_btf || !cur) { /* before 5.11: probe reads */
		const struct task_struct *t = (const struct task_struct *)bpf_get_current_task();

		BPF_CORE_READ_INTO(&proc->comm, t, group_leader, comm);
		return;
	}
	cw_leader_comm_btf(proc->comm, cur);
}

/*
 * A slot that only other tasks have counted on so far (remote faults, reclaim by another process)
 * learns its owner's name, the owner's group leader's comm: counts never reach the daemon nameless
 * when the owner's own records were lost and it is gone from /proc when they are read. btf: owner
 * is a BTF (or rdonly-cast) pointer, read with plain loads; otherwise probe reads.
 */
static __always_inline void cw_note_owner_comm(struct cw_counters *proc, const struct task_struct *owner, bool btf)
{
	if (proc->comm[0])
		return;
	if (btf)
		cw_leader_comm_btf(proc->comm, owner);
	else
		BPF_CORE_READ_INTO(&proc->comm, owner, group_leader, comm);
}

/* Should an ordinary (non-anomaly) event go to the detail ring? */
static __always_inline bool cw_want_detail(void)
{
	if (cw_cfg.event_mode == 2)
		return true;
	if (cw_cfg.event_mode == 1)
		return cw_cfg.sample_every <= 1 || bpf_get_prandom_u32() % cw_cfg.sample_every == 0;
	return false;
}

/* Reserves a record on the ring for anomalies (ctl) or detail (events); counts a drop on failure. */
static __always_inline struct cw_event *cw_reserve(bool ctl)
{
	struct cw_event *e;

	if (ctl)
		e = bpf_ringbuf_reserve(&cw_ctl, sizeof(*e), 0);
	else
		e = bpf_ringbuf_reserve(&cw_events, sizeof(*e), 0);
	if (!e) {
		cw_drop(ctl ? CW_DROP_CTL_RING_FULL : CW_DROP_RING_FULL);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->reason = CW_REASON_COUNT;
	return e;
}

/*
 * Anomalies wake the reader at once. Everything else waits for the timer drain (perf-facts.md:
 * a wakeup per record made COW faults 5.8x slower), unless the ring is filling faster than the
 * timer empties it: a record that leaves a quarter of the ring unread wakes the reader, so the
 * sustainable rate is the reader's, not ring size / drain interval.
 */
static __always_inline void cw_submit(struct cw_event *e, bool ctl)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (e->anomaly)
		flags = BPF_RB_FORCE_WAKEUP;
	else if (ctl ? (cw_cfg.ctl_wake_bytes && bpf_ringbuf_query(&cw_ctl, BPF_RB_AVAIL_DATA) >= cw_cfg.ctl_wake_bytes)
		     : (cw_cfg.wake_bytes && bpf_ringbuf_query(&cw_events, BPF_RB_AVAIL_DATA) >= cw_cfg.wake_bytes))
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

#endif /* COWWATCH_MAPS_BPF_H */
