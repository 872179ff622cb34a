/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap.bpf.h - the swap_add hook: a folio entered the swap cache.
 *   bool add_to_swap(struct folio *folio)                      6.1, 6.12
 *   int  folio_alloc_swap(struct folio *folio[, gfp_t gfp])    7.2, 6.18 (0 on success)
 *   swp_entry_t folio_alloc_swap(struct folio *folio)          6.1, 6.12 (kprobe only: struct return)
 * `current` is the reclaimer, not the owner. The folio is attributed to the current process only
 * when that process reclaims its own memory (MADV_PAGEOUT / process_madvise: a user task that is
 * neither a kernel thread nor in direct reclaim, PF_MEMALLOC); otherwise to the host alone.
 */
#ifndef COWWATCH_SWAP_BPF_H
#define COWWATCH_SWAP_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_tracing.h>

/* kprobe entry -> kretprobe: the folio in flight, per task. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} cw_swap_stash SEC(".maps");

static __always_inline bool cw_folio_maybe_pinned(const struct folio *folio)
{
	if (cw_test_bit(cw_folio_flags(folio), bpf_core_enum_value(enum pageflags, PG_head)))
		return BPF_CORE_READ(folio, _pincount.counter) > 0;
	return BPF_CORE_READ(folio, _refcount.counter) >= CW_GUP_PIN_COUNTING_BIAS;
}

static __always_inline void cw_swap_done(const struct folio *folio, long ret)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task_btf();
	struct cw_counters *host, *proc = 0;
	struct cw_proc_key key;
	struct cw_event *e;
	bool ok, pinned, owner;
	unsigned int tflags;

	ok = cw_cfg.swap_ret_errno ? ret == 0 : ret != 0;
	if (!ok || !folio)
		return;
	pinned = cw_folio_maybe_pinned(folio);
	tflags = BPF_CORE_READ(cur, flags);
	owner = !(tflags & (CW_PF_KTHREAD | CW_PF_MEMALLOC));
	host = cw_host_counters();
	if (owner) {
		cw_task_key(cur, &key);
		proc = cw_proc_counters(&key);
	}
	cw_count(host, proc, CW_C_SWAP_ADD);
	if (pinned)
		cw_count(host, proc, CW_C_SWAP_ADD_PINNED);

	if (!pinned && !cw_want_detail())
		return;
	e = cw_reserve(pinned);
	if (!e)
		return;
	e->type = CW_EV_SWAP_ADD;
	e->hook = CW_HOOK_SWAP_ADD;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->actor_tgid = bpf_get_current_pid_tgid() >> 32;
	if (owner) {
		e->tgid = key.tgid;
		e->start_ns = key.start_ns;
		e->cgroup_id = bpf_get_current_cgroup_id();
	}
	e->refcount = BPF_CORE_READ(folio, _refcount.counter);
	e->folio_order = cw_log2(cw_folio_nr_pages(folio));
	e->page_flags = pinned ? CW_PF_MAYBE_PINNED : 0;
	e->anomaly = pinned;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	cw_submit(e);
}

/* Rung: fexit on add_to_swap or folio_alloc_swap (the loader sets the target and ret semantics). */
SEC("?fexit/add_to_swap")
int BPF_PROG(cw_fexit_swap_add, struct folio *folio)
{
	long ret = 0;

	bpf_get_func_ret(ctx, (__u64 *)&ret);
	cw_swap_done(folio, ret);
	return 0;
}

/* Rung: kprobe/kretprobe on the same functions. */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_swap_add, struct folio *folio)
{
	__u64 *slot = bpf_task_storage_get(&cw_swap_stash, bpf_get_current_task_btf(), 0,
					   BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (slot)
		*slot = (__u64)folio;
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_swap_add, long ret)
{
	__u64 *slot = bpf_task_storage_get(&cw_swap_stash, bpf_get_current_task_btf(), 0, 0);
	const struct folio *folio;

	if (!slot || !*slot)
		return 0;
	folio = (const struct folio *)*slot;
	*slot = 0;
	cw_swap_done(folio, ret);
	return 0;
}

#endif /* COWWATCH_SWAP_BPF_H */
