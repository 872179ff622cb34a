/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap.bpf.h - the swap_add hook: a folio entered the swap cache.
 *   bool add_to_swap(struct folio *folio)                      6.1, 6.12
 *   int  folio_alloc_swap(struct folio *folio[, gfp_t gfp])    7.2, 6.18 (0 on success)
 *   swp_entry_t folio_alloc_swap(struct folio *folio)          6.1, 6.12 (kprobe only: struct return)
 * `current` is the reclaimer (kswapd, a task in direct or memcg reclaim, a process_madvise() caller),
 * not necessarily the owner. A swap add counts for the folio's owner (owner.bpf.h): the process
 * that maps the anonymous folio, with its memcg in the record (aux0); the reclaimer is the
 * record's pid/actor_tgid. A folio with no owning process (shmem on 7.2, whose folio_alloc_swap
 * also sees it; KSM) counts for the host alone. Where the kernel has bpf_rdonly_cast (6.2+) the
 * fexit program reads the folio, the chain to its owner and the owner's identity with plain loads
 * (cw_fexit_swap_add_cast) instead of eight probe reads per page.
 *
 * pinned_swap_skip: shrink_folio_list() keeps anon folios that are maybe DMA-pinned before it
 * would allocate swap (`goto keep_locked`, vmscan.c 5.10-7.2) and hands every folio it kept back on
 * the list it was given (list_splice(&ret_folios, folio_list)). Its exit walks that list, so the
 * walk is short when reclaim succeeds, and counts the anon, swap-backed folios not in the swap cache
 * that are maybe pinned and neither active nor mlocked (the keeps after the pin check activate or
 * leave the folio in the swap cache), each for its owner like a swap add. A pinned folio kept
 * before the pin check with its flags untouched (trylock lost, a reference keep under rmap
 * contention) counts too: rare, and the pin would have kept it next.
 */
#ifndef COWWATCH_SWAP_BPF_H
#define COWWATCH_SWAP_BPF_H

#include "owner.bpf.h"
#include <bpf/bpf_tracing.h>

/* kprobe entry -> kretprobe, per task: the folio in flight to the swap cache, and the list of
 * the reclaim pass around it. */
struct cw_swap_inflight {
	__u64 folio;
	__u64 list;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cw_swap_inflight);
} cw_swap_stash SEC(".maps");

/* The same keyed by thread id, where task storage does not exist (5.10; not created elsewhere). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cw_swap_inflight);
} cw_swap_stash_hash SEC(".maps");

static __always_inline struct cw_swap_inflight *cw_swap_slot(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cw_swap_inflight zero = {};

	if (cw_cfg.task_storage)
		return bpf_task_storage_get(&cw_swap_stash, bpf_get_current_task_btf(), 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (create)
		bpf_map_update_elem(&cw_swap_stash_hash, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&cw_swap_stash_hash, &tid);
}

/* page_maybe_dma_pinned() of a large folio: its pin count (5.10: a compound page of order > 1,
 * in its second tail page). */
static __always_inline bool cw_large_folio_pinned(const struct folio *folio)
{
	if (bpf_core_type_exists(struct folio))
		return BPF_CORE_READ(folio, _pincount.counter) > 0;
	if (cw_folio_nr_pages(folio) > 2)
		return BPF_CORE_READ((const struct page___510 *)((const struct page *)folio + 2),
				     hpage_pinned_refcount.counter) > 0;
	return CW_FOLIO_READ(folio, _refcount.counter) >= CW_GUP_PIN_COUNTING_BIAS;
}

/* What the reclaim hooks read of a folio, from one read of its head page (a large folio's pin
 * count, past the head page, costs one more). */
struct cw_folio_head {
	unsigned long flags;
	unsigned long mapping;
	struct list_head *next; /* folio->lru.next: the next entry of a reclaim list */
	bool maybe_pinned;	/* page_maybe_dma_pinned(), else the GUP_PIN_COUNTING_BIAS references */
};

static __always_inline bool cw_read_folio_head(const struct folio *folio, struct cw_folio_head *h)
{
	struct cw_page_copy pc = {};
	int refcount;

	if (bpf_probe_read_kernel(&pc, sizeof(pc), folio))
		return false;
	h->flags = cw_copy_flags(&pc);
	if (bpf_core_type_exists(struct folio)) {
		h->mapping = (unsigned long)((const struct folio *)&pc)->mapping;
		h->next = ((const struct folio *)&pc)->lru.next;
		refcount = ((const struct folio *)&pc)->_refcount.counter;
	} else { /* 5.10: the head struct page */
		h->mapping = (unsigned long)((const struct page *)&pc)->mapping;
		h->next = ((const struct page *)&pc)->lru.next;
		refcount = ((const struct page *)&pc)->_refcount.counter;
	}
	if (cw_test_bit(h->flags, bpf_core_enum_value(enum pageflags, PG_head)))
		h->maybe_pinned = cw_large_folio_pinned(folio);
	else
		h->maybe_pinned = refcount >= CW_GUP_PIN_COUNTING_BIAS;
	return true;
}

/* cw_read_folio_head with plain loads (6.2+, CW_CAST); the list link is not read. */
static __always_inline void cw_cast_folio_head(const struct folio *folio, struct cw_folio_head *h)
{
	const struct folio *f = CW_CAST(struct folio, folio);

	if (bpf_core_field_exists(((struct folio___memdesc *)0)->flags))
		h->flags = ((const struct folio___memdesc *)f)->flags.f;
	else
		h->flags = f->flags;
	h->mapping = cw_cast_value(f->mapping);
	if (cw_test_bit(h->flags, bpf_core_enum_value(enum pageflags, PG_head)))
		h->maybe_pinned = f->_pincount.counter > 0;
	else
		h->maybe_pinned = f->_refcount.counter >= CW_GUP_PIN_COUNTING_BIAS;
}

/* One folio entered the swap cache (ret: the function's return value). cast (a constant): read
 * the folio and its owner with plain loads (the *_cast programs, 6.2+) instead of probe reads:
 * 8 helper calls fewer per page. */
static __always_inline void cw_swap_done(const struct folio *folio, long ret, bool cast)
{
	struct cw_counters *host, *proc = 0;
	const struct task_struct *owner;
	struct cw_folio_head h = {};
	struct cw_proc_key key;
	struct cw_event *e;
	bool ok, pinned;

	ok = cw_cfg.swap_ret_errno ? ret == 0 : ret != 0;
	if (!ok || !folio)
		return;
	if (cast)
		cw_cast_folio_head(folio, &h);
	else
		cw_read_folio_head(folio, &h); /* unreadable: counted for the host alone */
	owner = cw_anon_owner(h.mapping, cast);
	if (owner)
		cw_task_key(owner, &key, cast);
	pinned = h.maybe_pinned;
	host = cw_host_counters();
	if (owner)
		proc = cw_proc_counters(&key);
	/* a slot made here (first sight) learns the owner's cgroup and name; moves keep the cgroup
	 * current after, the owner's own events the name */
	if (proc && !proc->cgroup_id) {
		proc->cgroup_id = cw_task_cgroup_id(owner);
		cw_note_owner_comm(proc, owner, cast);
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
	e->aux0 = cw_folio_memcg_id(folio);
	if (owner) {
		e->tgid = key.tgid;
		e->start_ns = key.start_ns;
		e->cgroup_id = proc ? proc->cgroup_id : cw_task_cgroup_id(owner);
		BPF_CORE_READ_STR_INTO(&e->comm, owner, group_leader, comm);
	} else {
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	e->refcount = CW_FOLIO_READ(folio, _refcount.counter);
	e->folio_order = cw_log2(cw_folio_nr_pages(folio));
	e->page_flags = pinned ? CW_PF_MAYBE_PINNED : 0;
	e->anomaly = pinned;
	cw_submit(e, pinned);
}

/*
 * Rung: fexit on add_to_swap or folio_alloc_swap (the loader sets the target and ret semantics).
 * Without bpf_get_func_ret() (before 5.17) the return value follows the function's arguments in
 * the context (cw_cfg.swap_ret_arg: 1 for 5.10's int add_to_swap(struct page *)).
 */
static __always_inline bool cw_fexit_swap_ret(unsigned long long *ctx, long *ret)
{
	*ret = 0;
	if (cw_cfg.swap_ret_arg == 0)
		bpf_get_func_ret(ctx, (__u64 *)ret);
	else if (cw_cfg.swap_ret_arg == 1)
		*ret = (long)ctx[1];
	else if (cw_cfg.swap_ret_arg == 2)
		*ret = (long)ctx[2];
	else
		return false;
	return true;
}

SEC("?fexit/add_to_swap")
int BPF_PROG(cw_fexit_swap_add, struct folio *folio)
{
	long ret;

	if (cw_fexit_swap_ret(ctx, &ret))
		cw_swap_done(folio, ret, false);
	return 0;
}

/* The same reading with plain loads: kernels with bpf_rdonly_cast (6.2+). */
SEC("?fexit/add_to_swap")
int BPF_PROG(cw_fexit_swap_add_cast, struct folio *folio)
{
	long ret;

	if (cw_fexit_swap_ret(ctx, &ret))
		cw_swap_done(folio, ret, true);
	return 0;
}

/* Rung: kprobe/kretprobe on the same functions. */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_swap_add, struct folio *folio)
{
	struct cw_swap_inflight *slot = cw_swap_slot(true);

	if (slot)
		slot->folio = (__u64)folio;
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_swap_add, long ret)
{
	struct cw_swap_inflight *slot = cw_swap_slot(false);
	const struct folio *folio;

	if (!slot || !slot->folio)
		return 0;
	folio = (const struct folio *)slot->folio;
	slot->folio = 0;
	cw_swap_done(folio, ret, false);
	return 0;
}

/* Counts maybe-pinned anon, swap-backed folios not yet in the swap cache on the list. */
#define CW_MAX_RECLAIM_WALK 4096

/* What the walk reads; constant during the loop, so the verifier's states converge. A folio kept
 * for its pin has, of the flags in mask, PG_swapbacked alone (want). */
struct cw_walk {
	struct list_head *head;
	unsigned long lru_off;
	unsigned long mask;
	unsigned long want;
};

/* The walk's moving parts live in a map value: the verifier does not track them per iteration. */
struct cw_walk_pos {
	struct list_head *pos;
	__u32 pinned;
	__u32 pad;
	const struct folio *first;	/* the first pinned folio, and its owner: named by the record */
	const struct task_struct *first_owner;
	struct cw_proc_key first_key;
};

/* One pinned folio kept by reclaim: counted for its owner. */
static __always_inline void cw_skip_for_owner(const struct folio *folio, unsigned long mapping,
					      struct cw_walk_pos *p)
{
	const struct task_struct *owner = cw_anon_owner(mapping, false);
	struct cw_counters *proc;
	struct cw_proc_key key;

	if (!p->first)
		p->first = folio;
	if (!owner)
		return;
	cw_task_key(owner, &key, false);
	proc = cw_proc_counters(&key);
	if (proc) {
		cw_note_owner_comm(proc, owner, false);
		__sync_fetch_and_add(&proc->c[CW_C_PINNED_SWAP_SKIP], 1);
	}
	if (!p->first_owner) {
		p->first_owner = owner;
		p->first_key = key;
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_walk_pos);
} cw_walk_scratch SEC(".maps");

/* One folio of the list (h: its head, read once): counted when reclaim keeps it for being maybe
 * pinned. */
static __always_inline void cw_walk_check(const struct cw_walk *w, struct cw_walk_pos *p, const struct folio *folio,
					  const struct cw_folio_head *h)
{
	if ((h->mapping & CW_MAPPING_FLAGS) == CW_MAPPING_ANON && (h->flags & w->mask) == w->want &&
	    h->maybe_pinned) {
		p->pinned++;
		cw_skip_for_owner(folio, h->mapping, p);
	}
}

/* bpf_loop callback: one folio of the list; returns 1 to stop at the list head. */
static long cw_walk_one(__u32 index, void *ctx)
{
	struct cw_walk *w = ctx;
	__u32 zero = 0;
	struct cw_walk_pos *p = bpf_map_lookup_elem(&cw_walk_scratch, &zero);
	struct cw_folio_head h = {};
	struct list_head *pos;
	const struct folio *folio;

	if (!p)
		return 1;
	pos = p->pos;
	if (!pos || pos == w->head)
		return 1;
	folio = (const struct folio *)((unsigned long)pos - w->lru_off);
	if (!cw_read_folio_head(folio, &h))
		return 1;
	cw_walk_check(w, p, folio, &h);
	p->pos = h.next;
	return 0;
}

/* Without bpf_loop (before 5.17): a bounded loop (5.3+), which the verifier walks iteration by
 * iteration, so it is shorter than the bpf_loop walk: a longer list is walked this far only.
 * 5.10 hands shrink_page_list SWAP_CLUSTER_MAX (32) pages at a time from kswapd and direct
 * reclaim, and at most one page table's (512) from MADV_PAGEOUT (mm/madvise.c, mm/vmscan.c). */
#define CW_MAX_RECLAIM_WALK_BOUNDED 1024

/* One page of the bounded walk: a global function, so the verifier checks it once rather than in
 * every iteration (whose branches would exceed 5.10's 8192-jump limit long before 1024). */
__noinline int cw_walk_page(__u64 folio, __u64 mask, __u64 want)
{
	__u32 zero = 0;
	struct cw_walk_pos *p = bpf_map_lookup_elem(&cw_walk_scratch, &zero);
	struct cw_walk w = {.mask = mask, .want = want};
	struct cw_folio_head h = {};

	if (!p || !cw_read_folio_head((const struct folio *)folio, &h))
		return 0;
	cw_walk_check(&w, p, (const struct folio *)folio, &h);
	return 0;
}

static __always_inline void cw_walk_bounded(const struct cw_walk *w, struct cw_walk_pos *p)
{
	struct list_head *pos = p->pos;

	for (int i = 0; i < CW_MAX_RECLAIM_WALK_BOUNDED; i++) {
		if (!pos || pos == w->head)
			return;
		cw_walk_page((unsigned long)pos - w->lru_off, w->mask, w->want);
		pos = BPF_CORE_READ(pos, next);
	}
}

static __always_inline void cw_reclaim_list(struct list_head *head, bool bounded)
{
	const struct task_struct *owner;
	const struct folio *first;
	struct cw_counters *host;
	struct cw_event *e;
	unsigned long swapbacked = 1UL << bpf_core_enum_value(enum pageflags, PG_swapbacked);
	struct cw_walk w = {
		.head = head,
		.lru_off = bpf_core_type_exists(struct folio) ? bpf_core_field_offset(struct folio, lru)
							      : bpf_core_field_offset(struct page, lru),
		.mask = swapbacked | 1UL << bpf_core_enum_value(enum pageflags, PG_swapcache) |
			1UL << bpf_core_enum_value(enum pageflags, PG_active),
		.want = swapbacked,
	};
	__u32 zero = 0, pinned;
	struct cw_walk_pos *p = bpf_map_lookup_elem(&cw_walk_scratch, &zero);

	if (!p || !head)
		return;
	if (bpf_core_enum_value_exists(enum pageflags, PG_mlocked))
		w.mask |= 1UL << bpf_core_enum_value(enum pageflags, PG_mlocked);
	__builtin_memset(p, 0, sizeof(*p));
	p->pos = BPF_CORE_READ(head, next);
	if (bounded)
		cw_walk_bounded(&w, p);
	else
		bpf_loop(CW_MAX_RECLAIM_WALK, cw_walk_one, &w, 0);
	pinned = p->pinned;
	if (!pinned)
		return;
	host = cw_host_counters();
	if (host)
		host->c[CW_C_PINNED_SWAP_SKIP] += pinned;
	e = cw_reserve(true);
	if (!e)
		return;
	e->type = CW_EV_PINNED_SWAP_SKIP;
	e->hook = CW_HOOK_SWAP_ADD;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->actor_tgid = bpf_get_current_pid_tgid() >> 32;
	first = p->first;
	owner = p->first_owner; /* a local: CO-RE macros must not relocate cw_walk_pos's fields */
	e->aux0 = first ? cw_folio_memcg_id(first) : 0;
	if (owner) {
		e->tgid = p->first_key.tgid;
		e->start_ns = p->first_key.start_ns;
		e->cgroup_id = cw_task_cgroup_id(owner);
		BPF_CORE_READ_STR_INTO(&e->comm, owner, group_leader, comm);
	} else {
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	e->aux1 = pinned;
	e->page_flags = CW_PF_MAYBE_PINNED;
	e->anomaly = 1;
	cw_submit(e, true);
}

/* unsigned int shrink_folio_list(struct list_head *folio_list, ...): at exit the list holds the
 * folios it kept. */
SEC("?fexit/shrink_folio_list")
int BPF_PROG(cw_fexit_shrink_folio_list, struct list_head *folio_list)
{
	cw_reclaim_list(folio_list, false);
	return 0;
}

/* The kprobe rung: the list from entry, walked at return. */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_shrink_list_enter, struct list_head *folio_list)
{
	struct cw_swap_inflight *slot = cw_swap_slot(true);

	if (slot)
		slot->list = (__u64)folio_list;
	return 0;
}

static __always_inline struct list_head *cw_shrink_list_leave(void)
{
	struct cw_swap_inflight *slot = cw_swap_slot(false);
	__u64 list;

	if (!slot)
		return 0;
	list = slot->list;
	slot->list = 0;
	return (struct list_head *)list;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_shrink_folio_list)
{
	cw_reclaim_list(cw_shrink_list_leave(), false);
	return 0;
}

/* The same walk without bpf_loop (separate programs: a bpf_loop callback is a subprogram that
 * kernels before 5.13 reject even where the call is never reached), for shrink_page_list (5.10,
 * struct page list) or shrink_folio_list. */
SEC("?fexit/shrink_page_list")
int BPF_PROG(cw_fexit_shrink_list_bounded, struct list_head *list)
{
	cw_reclaim_list(list, true);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_shrink_list_bounded)
{
	cw_reclaim_list(cw_shrink_list_leave(), true);
	return 0;
}

#endif /* COWWATCH_SWAP_BPF_H */
