/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cowwatch.h - the binary contract between the BPF programs and the daemon.
 *
 * Everything here is a wire format: fixed-width fields, explicit padding, a comment per
 * field. The C++ side checks sizes and offsets with static_assert
 * (daemon/ingest/record_layout.h). Bump CW_SCHEMA_VERSION when a layout or an enum changes;
 * recordings (cowwatch record) carry it in their header.
 */
#ifndef COWWATCH_H
#define COWWATCH_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define CW_SCHEMA_VERSION 2
#define CW_COMM_LEN 16
#define CW_PAGE_SIZE 4096

/* Logical hooks. Keep names in sync with daemon/probe/plan.cpp hook_name(). */
enum cw_hook {
	CW_HOOK_WP_FAULT = 0,	/* write-protect fault on a present pte (do_wp_page) */
	CW_HOOK_COW_COPY,	/* the kernel copied the page (wp_page_copy) */
	CW_HOOK_COW_REUSE,	/* the kernel reused the page in place (wp_page_reuse) */
	CW_HOOK_GUP_UNSHARE,	/* a read-only pin forced an unshare (gup_must_unshare) */
	CW_HOOK_SWAP_ADD,	/* a folio entered the swap cache (add_to_swap / folio_alloc_swap) */
	CW_HOOK_FORK,		/* process creation (sched_process_fork) */
	CW_HOOK_EXIT,		/* thread-group exit (sched_process_exit) */
	CW_HOOK_COUNT,
};

/* Why a COW fault copied. Precedence is top to bottom; see docs/copy-reasons.md. */
enum cw_copy_reason {
	CW_REASON_UNSHARE = 0,	/* FAULT_FLAG_UNSHARE: a R/O pin (GUP) needs an exclusive page */
	CW_REASON_ZERO_PAGE,	/* old pte mapped the shared zero page (write after read) */
	CW_REASON_FILE,		/* old page is a page-cache page: first write to MAP_PRIVATE file */
	CW_REASON_KSM,		/* old page is a KSM-merged page */
	CW_REASON_PINNED,	/* old page maybe DMA-pinned (refcount >= 1024 or _pincount > 0) */
	CW_REASON_SHARED,	/* mapcount > 1: really shared with another mm (fork COW) */
	CW_REASON_EXTRA_REF,	/* mapcount <= 1 but refcount > mapcount + swapcache: avoidable */
	CW_REASON_LARGE_FOLIO,	/* page of a large folio the kernel declined to reuse */
	CW_REASON_OTHER,	/* none of the above at entry (lost trylock, raced) */
	CW_REASON_COUNT,
};

/* What do_wp_page decided. */
enum cw_decision {
	CW_DECISION_COPY = 0,		/* a new page was mapped (includes unshare copies) */
	CW_DECISION_REUSE,		/* same page, now writable */
	CW_DECISION_UNSHARE_NOOP,	/* unshare fault on a page already exclusive */
	CW_DECISION_SHARED_MAPPING,	/* write-notify on a MAP_SHARED mapping: not COW */
	CW_DECISION_INCOMPLETE,		/* fault returned without a change (retry, OOM, race) */
	CW_DECISION_COUNT,
};

/* Per-process (and host) counters. Index into cw_counters.c[]. */
enum cw_counter {
	CW_C_WP_WRITE = 0,		/* do_wp_page for a write (no FAULT_FLAG_UNSHARE) */
	CW_C_WP_UNSHARE,		/* do_wp_page with FAULT_FLAG_UNSHARE, on this process's memory */
	CW_C_WP_SHARED_MAPPING,		/* decision SHARED_MAPPING */
	CW_C_WP_INCOMPLETE,		/* decision INCOMPLETE */
	CW_C_WP_REMOTE,			/* faults taken by another task on this process's mm */
	CW_C_COPY_FIRST,		/* CW_C_COPY_FIRST + enum cw_copy_reason: copies by reason */
	CW_C_REUSE_EXCLUSIVE = CW_C_COPY_FIRST + CW_REASON_COUNT, /* PageAnonExclusive fast path */
	CW_C_REUSE_SOLE_REF,		/* reused after the refcount check */
	CW_C_UNSHARE_NOOP,		/* unshare fault, page already exclusive */
	CW_C_SWAP_ADD,			/* folios added to swap (attributed to owner where known) */
	CW_C_SWAP_ADD_PINNED,		/* ... of which maybe DMA-pinned (should never happen) */
	CW_C_PINNED_SWAP_SKIP,		/* reclaim met a pinned anon folio and had to keep it */
	CW_C_FORK,			/* forks (new thread groups) made by this process */
	CW_C_FORK_MM_HAS_PINNED,	/* ... of an mm with MMF_HAS_PINNED (sticky flag) */
	CW_C_FORK_LONGTERM_PINS,	/* ... of an mm with pinned_vm > 0 (long-term pins now) */
	CW_C_WP_APPROX,			/* tracepoint approximation of wp faults (page_fault_user) */
	CW_C_FORK_PINNED_COPIES,	/* pages copied eagerly at fork because they were maybe pinned */
	CW_C_SELFCHECK_COPY_MISMATCH,	/* host only: the pfn compare disagreed with the exact
					   wp_page_copy probe (measures the derived rung's accuracy) */
	CW_C_KSM_UNMERGE_COPY,		/* KSM unmerge (break_ksm) copied a KSM page: also counted
					   as a copy with reason ksm, never as a GUP unshare */
	CW_C_KSM_UNMERGE_NOOP,		/* KSM unmerge fault that copied nothing (raced) */
	CW_C_COUNT,
};

struct cw_counters {
	__u64 c[CW_C_COUNT];
	__u64 cgroup_id;	/* not a counter: cgroup v2 id of the process, set at fork, at
				   its own events and at each move (CW_EV_CGROUP_MOVE) */
	char comm[CW_COMM_LEN];	/* not a counter: the process's name (its group leader's comm)
				   at its latest own event, fork, rename or exec; when only other
				   tasks counted on it, its name when they first did. Names it
				   even when its lifecycle records were lost or arrive after the
				   counts */
};

/* Causes of lost detail or lost attribution, counted per CPU in the cw_drops map. */
enum cw_drop_cause {
	CW_DROP_RING_FULL = 0,		/* event ring buffer full: a detail record was lost */
	CW_DROP_CTL_RING_FULL,		/* control ring full: fork/exit/anomaly record lost */
	CW_DROP_PROC_MAP_FULL,		/* per-process map full: event counted for the host only */
	CW_DROP_STASH_MISS,		/* do_wp_page exit without this fault's entry state:
					   classified OTHER, or (kretprobe) not counted */
	CW_DROP_COUNT,
};

/* Key of the per-process counter map: identity is (tgid, start time), never a bare pid. */
struct cw_proc_key {
	__u32 tgid;	/* thread-group id */
	__u32 pad;	/* zero */
	__u64 start_ns;	/* group leader's start_time (CLOCK_MONOTONIC ns since boot) */
};

enum cw_event_type {
	CW_EV_FAULT = 0,	/* a classified do_wp_page (sampled, or an anomaly) */
	CW_EV_FORK,		/* a new thread group: aux0 = child start_ns, aux2 = child tgid,
				   aux1 = parent's pinned_vm pages, address = pages the kernel
				   copied eagerly at this fork because they were maybe pinned */
	CW_EV_EXIT,		/* thread group exited: flush its counters */
	CW_EV_SWAP_ADD,		/* folio added to swap; aux0 = memcg cgroup id */
	CW_EV_PINNED_SWAP_SKIP,	/* reclaim kept a pinned folio; aux0 = memcg cgroup id */
	CW_EV_EXEC,		/* the thread group exec'd: its old memory (and every fork episode
				   sharing it) is gone; comm is the new one */
	CW_EV_RENAME,		/* the group leader's comm changed (prctl PR_SET_NAME, exec,
				   /proc/PID/comm): comm is the new name */
	CW_EV_CGROUP_MOVE,	/* the thread group moved to another cgroup v2 (cgroup.procs):
				   cgroup_id = new, aux0 = old (0: not known), aux1 = key in the
				   cw_moves map of its counters at the move (0: none kept) */
	CW_EV_TYPE_COUNT,
};

/* fault_flags bits */
#define CW_FF_WRITE	0x01	/* FAULT_FLAG_WRITE */
#define CW_FF_UNSHARE	0x02	/* FAULT_FLAG_UNSHARE */
#define CW_FF_REMOTE	0x04	/* taken by a task whose mm is not the faulting mm */
#define CW_FF_KSM_UNMERGE 0x08	/* KSM unmerge (break_ksm), not a GUP pin: needs gup_context */

/* page_flags bits: state of the old page at decision time (do_wp_page entry) */
#define CW_PF_ANON		0x01	/* anonymous */
#define CW_PF_KSM		0x02	/* KSM page */
#define CW_PF_SWAPCACHE		0x04	/* in the swap cache */
#define CW_PF_ANON_EXCLUSIVE	0x08	/* PageAnonExclusive */
#define CW_PF_MAYBE_PINNED	0x10	/* folio_maybe_dma_pinned() */
#define CW_PF_LARGE		0x20	/* part of a large folio (order in folio_order) */
#define CW_PF_ZERO_PAGE		0x40	/* the pte mapped the zero page / a special pfn */
#define CW_PF_MM_HAS_PINNED	0x80	/* the mm has MMF_HAS_PINNED */

/*
 * The helper number the *_cast programs call in place of the bpf_rdonly_cast kfunc. The loader
 * rewrites each such call into the kfunc call (daemon/loader/kfunc_calls.cpp) before loading them,
 * only where the kernel has the kfunc. Not a ksym extern: libbpf 1.1 resolves every extern of the
 * object, loaded program or not, and where the kfunc is missing its search of module BTFs needs
 * CAP_SYS_ADMIN, which the systemd unit does not grant; the whole object would fail to load.
 */
#define CW_RDONLY_CAST_PLACEHOLDER 0x7c57

/* One ring-buffer record: 96 bytes (104 in the ring with its 8-byte header). */
struct cw_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 start_ns;		/* owner's start time (identity with tgid) */
	__u64 cgroup_id;	/* cgroup v2 id of the owner (fault) or of the current task */
	__u64 address;		/* faulting user address, page aligned; 0 when not a fault */
	__u64 aux0;		/* per type: see enum cw_event_type */
	__u64 aux1;		/* fork: parent's pinned_vm pages; exit: exit_code */
	__u32 tgid;		/* owner: whose memory (fault), the parent (fork), the exiting group */
	__u32 pid;		/* the thread that ran the hook (current) */
	__u32 actor_tgid;	/* current's tgid: differs from tgid for remote faults / reclaim */
	__u32 aux2;		/* fork: child tgid */
	__s32 refcount;		/* old folio's refcount at entry */
	__s32 mapcount;		/* old page's mapcount at entry: its own mappings plus its folio's
				   entire (PMD) mappings, as /proc/kpagecount shows it */
	__u8 type;		/* enum cw_event_type */
	__u8 hook;		/* enum cw_hook that produced it */
	__u8 decision;		/* enum cw_decision (faults) */
	__u8 reason;		/* enum cw_copy_reason (copies), else CW_REASON_COUNT */
	__u8 fault_flags;	/* CW_FF_* */
	__u8 page_flags;	/* CW_PF_* */
	__u8 folio_order;	/* log2 pages of the old folio */
	__u8 anomaly;		/* non-zero: pinned copy, fork with pins, pinned swap */
	char comm[CW_COMM_LEN];	/* owner's comm when the owner ran the hook, else current's */
};

/* Load-time configuration (BPF rodata), written by the loader before load. */
struct cw_bpf_config {
	__u32 event_mode;	/* 0: anomalies only, 1: sample 1/sample_every, 2: every event */
	__u32 sample_every;	/* for event_mode 1; >= 1 */
	__u32 copy_exact;	/* 1: a wp_page_copy probe marks copies (else pfn compare) */
	__u32 reuse_exact;	/* 1: a wp_page_reuse probe marks reuses */
	__u32 swap_ret_errno;	/* 1: swap hook returns int 0 on success; 0: bool/entry != 0 */
	__u32 fork_copies_seen;	/* 1: pinned pages copied at fork are counted (copy_page_range) */
	__u32 gup_context;	/* 1: __get_user_pages is probed (gup_context.bpf.h), so faults
				   outside GUP are told apart: KSM unmerges are not GUP unshares */
	__u32 wake_bytes;	/* a record that leaves this much unread in the detail ring wakes
				   the reader (0: never; else the timer drain alone) */
	__u32 ctl_wake_bytes;	/* the same for the control ring */
	/* Kernel features some programs use, probed by the loader (0 on kernels before 5.11/5.17,
	 * e.g. 5.10): the programs then take the branch that does without (dead branches are never
	 * verified, so a helper the kernel does not know is never seen by its verifier). */
	__u32 task_storage;	/* 1: task storage maps exist (5.11+); 0: stash in tid-keyed hashes */
	__u32 task_btf;		/* 1: bpf_get_current_task_btf() (5.11+); 0: bpf_get_current_task()
				   and probe reads */
	__u32 swap_ret_arg;	/* fexit swap hook: 0 bpf_get_func_ret() (5.17+); N: the return value
				   is the context's argument N (the function's N parameters first) */
};

#endif /* COWWATCH_H */
