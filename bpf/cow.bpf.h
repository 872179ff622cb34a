/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cow.bpf.h - the wp_fault, cow_copy, cow_reuse and gup_unshare hooks.
 *
 * Entry of do_wp_page stashes the old page's state (the decision's inputs) in task-local storage;
 * exit decides what happened by comparing the pfn of vmf->orig_pte with the pte now at *vmf->pte
 * (kernel-facts.md §4: matched wp_page_copy exactly on 6.1), or, where a wp_page_copy probe is
 * attached (cw_cfg.copy_exact), by what that probe saw. Each fault is attributed to the owner of
 * vmf->vma->vm_mm: unshare faults are taken by the pinning task on another process's mm.
 * Where __get_user_pages is probed (cw_cfg.gup_context), a remote fault taken outside GUP on a KSM
 * page, or an unshare fault outside GUP, is KSM unmerging (gup_context.bpf.h): a ksm copy, never
 * a GUP unshare.
 */
#ifndef COWWATCH_COW_BPF_H
#define COWWATCH_COW_BPF_H

#include "gup_context.bpf.h"
#include "maps.bpf.h"
#include "page_state.bpf.h"
#include "vmf_view.bpf.h"
#include <bpf/bpf_tracing.h>

struct cw_wp_stash {
	__u64 vmf;		/* struct vm_fault * in flight; 0 when none */
	__u64 orig_pte;		/* its orig_pte at entry: the exit knows the stash is its own */
	struct cw_page_state st;
	__u8 copy_seen;		/* wp_page_copy succeeded inside this fault (copy_exact) */
	__u8 reuse_seen;	/* wp_page_reuse ran inside this fault (reuse_exact) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cw_wp_stash);
} cw_wp_stash_map SEC(".maps");

/*
 * Fallback for kernels whose task storage refuses to create entries in this context (measured:
 * 7.2 returns NULL at do_wp_page entry), and the only stash on kernels without task storage
 * (5.10: the loader does not create cw_wp_stash_map there). Keyed by thread id. An entry lives as
 * long as its thread (removed at exit, lifecycle.bpf.h), so a fault costs two lookups, not an
 * insert and a delete; LRU: an exit missed cannot leak an entry for good.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct cw_wp_stash);
} cw_wp_stash_hash SEC(".maps");

/* Set once task storage refused to create a stash: later faults go straight to the hash. */
__u32 cw_stash_in_hash = 0;

static const struct cw_wp_stash cw_empty_stash;

static __always_inline struct cw_wp_stash *cw_stash_task(const struct task_struct *cur, bool create)
{
	if (!cw_cfg.task_storage || !cw_cfg.task_btf || !cur)
		return 0;
	return bpf_task_storage_get(&cw_wp_stash_map, (struct task_struct *)cur, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * The current thread's stash (cur: cw_current_btf()). create: at do_wp_page entry; otherwise the
 * one entry made, wherever it lives (the hash may have taken over since).
 */
static __always_inline struct cw_wp_stash *cw_stash(const struct task_struct *cur, bool create)
{
	struct cw_wp_stash *s;
	__u32 tid;

	if (!cw_stash_in_hash) {
		s = cw_stash_task(cur, create);
		if (s)
			return s;
		if (create && cw_cfg.task_storage)
			cw_stash_in_hash = 1;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	s = bpf_map_lookup_elem(&cw_wp_stash_hash, &tid);
	if (s)
		return s;
	if (!create)
		return cw_stash_in_hash ? cw_stash_task(cur, false) : 0;
	bpf_map_update_elem(&cw_wp_stash_hash, &tid, &cw_empty_stash, BPF_NOEXIST);
	return bpf_map_lookup_elem(&cw_wp_stash_hash, &tid);
}

/* Thread exit: its fallback stash goes with it (only where the fallback is in use). */
static __always_inline void cw_stash_forget(__u32 tid)
{
	if ((!cw_cfg.task_storage || cw_stash_in_hash) && bpf_map_lookup_elem(&cw_wp_stash_hash, &tid))
		bpf_map_delete_elem(&cw_wp_stash_hash, &tid);
}

/*
 * int do_wp_page(struct vm_fault *vmf) — entry. btf: vmf is a BTF-typed argument (fentry), read
 * with plain loads; otherwise (kprobe) with probe reads (CW_READ).
 */
static __always_inline void cw_wp_entry(const struct vm_fault *vmf, bool btf)
{
	struct cw_wp_stash *s = cw_stash(cw_current_btf(), true);
	unsigned long orig_pte;

	if (!s)
		return;
	__builtin_memset(&s->st, 0, sizeof(s->st));
	s->copy_seen = 0;
	s->reuse_seen = 0;
	s->vmf = (__u64)vmf;
	orig_pte = CW_READ(btf, vmf, orig_pte.pte);
	s->orig_pte = orig_pte;
	cw_read_page_state(orig_pte, &s->st);
}

/* The owner of the faulting mm: current, or (remote fault) mm->owner. */
static __always_inline bool cw_fault_owner(const struct mm_struct *mm, const struct task_struct *cur,
					   struct cw_proc_key *key, char *comm, bool *have_comm)
{
	const struct task_struct *owner;
	bool own;

	if (cw_cfg.task_btf && cur)
		own = cur->mm == mm;
	else
		own = BPF_CORE_READ((const struct task_struct *)bpf_get_current_task(), mm) == mm;
	if (own) {
		cw_current_key(cur, key);
		*have_comm = true;
		return false;
	}
	owner = bpf_core_field_exists(mm->owner) ? BPF_CORE_READ(mm, owner) : 0;
	if (owner) {
		cw_task_key(owner, key, false);
		BPF_CORE_READ_STR_INTO((char(*)[CW_COMM_LEN])comm, owner, group_leader, comm);
	} else {
		cw_current_key(cur, key);
	}
	*have_comm = false;
	return true;
}

/*
 * True when this fault is KSM unmerging rather than GUP or a user write: a remote fault (break_ksm
 * passes FAULT_FLAG_REMOTE on 6.1, 6.12 and 7.2) taken outside __get_user_pages, with
 * FAULT_FLAG_UNSHARE (6.12+: only GUP and break_ksm set it) or on a KSM page (6.1 unmerges with
 * FAULT_FLAG_WRITE). Only such faults pay the lookup. Without the GUP probe: never (the plan says so).
 */
static __always_inline bool cw_ksm_unmerge(const struct cw_vmf_view *v, bool unshare, const struct cw_page_state *st)
{
	if (!cw_cfg.gup_context || !(v->flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_REMOTE)))
		return false;
	if (!unshare && !(st->page_flags & CW_PF_KSM))
		return false;
	return !cw_in_gup(v->mm);
}

/* do_wp_page exit: decide, count, maybe emit. btf: as for cw_wp_entry (vmf is 0 on kretprobes);
 * cast: a kretprobe reading the stashed vmf with plain loads (bpf_rdonly_cast, 6.2+). */
static __always_inline void cw_wp_exit(const struct vm_fault *vmf, bool btf, bool cast)
{
	const struct task_struct *cur = cw_current_btf();
	struct cw_wp_stash *s = cw_stash(cur, false);
	struct cw_page_state st = {};
	struct cw_vmf_view v = {};
	struct cw_proc_key key;
	struct cw_counters *host, *proc;
	struct cw_event *e;
	char owner_comm[CW_COMM_LEN] = {};
	unsigned long new_pte = 0;
	const pte_t *ptep;
	bool unshare, remote, have_comm, copied, pfn_changed, exact, anomaly, unmerge, have_stash = false;
	const bool plain = btf || cast;
	__u8 copy_seen = 0, reuse_seen = 0;
	__u8 decision, reason = CW_REASON_COUNT, ff = 0;
	__u64 stash_pte = 0;

	if (!btf && !vmf && s) /* kretprobe: the fault in flight, from the stash */
		vmf = (const struct vm_fault *)s->vmf;
	if (!vmf)
		return;
	if (s && s->vmf == (__u64)vmf) {
		st = s->st;
		copy_seen = s->copy_seen;
		reuse_seen = s->reuse_seen;
		stash_pte = s->orig_pte;
		have_stash = true;
		s->vmf = 0;
	} else {
		cw_drop(CW_DROP_STASH_MISS);
	}
	if (cast)
		vmf = CW_CAST(struct vm_fault, vmf);

	cw_vmf_view(vmf, plain, &v);
	/* The stash is this fault's only if its entry saw this fault's page: where the kernel skipped
	 * an exit run (7.2 skips kprobe and kretprobe runs separately), an earlier fault's stash is
	 * left, whose page state would give this fault a wrong reason. A kretprobe took vmf itself
	 * from that stash: nothing of this fault is known, it is not counted (its entry run was
	 * skipped, and counted). */
	if (have_stash && cw_pte_pfn(stash_pte) != cw_pte_pfn(v.orig_pte)) {
		cw_drop(CW_DROP_STASH_MISS);
		if (!btf)
			return;
		__builtin_memset(&st, 0, sizeof(st));
		copy_seen = 0;
		reuse_seen = 0;
		have_stash = false;
	}
	unshare = bpf_core_enum_value_exists(enum fault_flag, FAULT_FLAG_UNSHARE) &&
		  (v.flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_UNSHARE));
	ff = unshare ? CW_FF_UNSHARE : CW_FF_WRITE;
	unmerge = cw_ksm_unmerge(&v, unshare, &st);
	if (unmerge)
		ff |= CW_FF_KSM_UNMERGE;
	if (!cw_vmemmap_cache) /* vmf->page: vm_normal_page() of orig_pte (do_wp_page sets it); */
		cw_calibrate_vmemmap(BPF_CORE_READ(vmf, page), v.orig_pte); /* read as a value, not a pointer */
	ptep = v.pte; /* a local: CO-RE must not see the view's own field in the access chain */
	if (ptep)
		new_pte = CW_READ(plain, ptep, pte);

	pfn_changed = ptep && (new_pte & 1) && cw_pte_pfn(new_pte) != cw_pte_pfn(v.orig_pte);
	/* wp_page_copy (6.1) returns VM_FAULT_WRITE only for a completed write copy; an unshare copy
	 * and a raced no-op both return 0, so unshare faults are always judged by the pfn compare. */
	exact = cw_cfg.copy_exact && have_stash && !unshare;
	copied = exact ? copy_seen : pfn_changed;

	if (v.vm_flags & (CW_VM_SHARED | CW_VM_MAYSHARE))
		decision = CW_DECISION_SHARED_MAPPING;
	else if (copied)
		decision = CW_DECISION_COPY;
	else if (unshare)
		decision = CW_DECISION_UNSHARE_NOOP;
	else if ((cw_cfg.reuse_exact && have_stash) ? reuse_seen : (ptep && (new_pte & CW_PTE_RW)))
		decision = CW_DECISION_REUSE;
	else
		decision = CW_DECISION_INCOMPLETE;

	remote = cw_fault_owner(v.mm, cur, &key, owner_comm, &have_comm);
	if (remote)
		ff |= CW_FF_REMOTE;
	host = cw_host_counters();
	proc = cw_proc_counters(&key);

	if (exact && copied != pfn_changed && host)
		host->c[CW_C_SELFCHECK_COPY_MISMATCH] += 1;
	if (proc && !remote) {
		proc->cgroup_id = bpf_get_current_cgroup_id();
		cw_note_comm(proc, cur);
	} else if (proc && !proc->comm[0]) { /* only other tasks counted on it: its owner's name */
		__builtin_memcpy(proc->comm, owner_comm, sizeof(proc->comm));
	}
	cw_count(host, proc, unshare ? CW_C_WP_UNSHARE : CW_C_WP_WRITE);
	if (remote)
		cw_count(host, proc, CW_C_WP_REMOTE);
	switch (decision) {
	case CW_DECISION_COPY:
		if (unmerge) /* a KSM page (or a KSM-placed zero page, 6.12+) broken by unmerging */
			reason = (st.page_flags & CW_PF_ZERO_PAGE) ? CW_REASON_ZERO_PAGE : CW_REASON_KSM;
		else if (have_stash)
			reason = cw_copy_reason(&st, unshare);
		else
			reason = unshare ? CW_REASON_UNSHARE : CW_REASON_OTHER;
		cw_count(host, proc, CW_C_COPY_FIRST + reason);
		if (unmerge)
			cw_count(host, proc, CW_C_KSM_UNMERGE_COPY);
		break;
	case CW_DECISION_REUSE:
		cw_count(host, proc, (st.page_flags & CW_PF_ANON_EXCLUSIVE) ? CW_C_REUSE_EXCLUSIVE
									     : CW_C_REUSE_SOLE_REF);
		break;
	case CW_DECISION_UNSHARE_NOOP:
		cw_count(host, proc, unmerge ? CW_C_KSM_UNMERGE_NOOP : CW_C_UNSHARE_NOOP);
		break;
	case CW_DECISION_SHARED_MAPPING:
		cw_count(host, proc, CW_C_WP_SHARED_MAPPING);
		break;
	default:
		cw_count(host, proc, CW_C_WP_INCOMPLETE);
		break;
	}

	anomaly = decision == CW_DECISION_COPY && reason == CW_REASON_PINNED;
	if (!anomaly && !cw_want_detail())
		return;
	e = cw_reserve(anomaly);
	if (!e)
		return;
	e->type = CW_EV_FAULT;
	e->hook = CW_HOOK_WP_FAULT;
	e->tgid = key.tgid;
	e->start_ns = key.start_ns;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->actor_tgid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup_id = remote ? 0 : bpf_get_current_cgroup_id();
	e->address = v.address & ~4095UL;
	e->decision = decision;
	e->reason = reason;
	e->fault_flags = ff;
	e->page_flags = st.page_flags;
	e->folio_order = st.folio_order;
	e->refcount = st.refcount;
	e->mapcount = st.mapcount;
	e->anomaly = anomaly;
	if (have_comm)
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	else
		__builtin_memcpy(e->comm, owner_comm, sizeof(e->comm));
	cw_submit(e, anomaly);
}

/* Rung: fentry/fexit on do_wp_page. */
SEC("?fentry/do_wp_page")
int BPF_PROG(cw_fentry_do_wp_page, struct vm_fault *vmf)
{
	cw_wp_entry(vmf, true);
	return 0;
}

SEC("?fexit/do_wp_page")
int BPF_PROG(cw_fexit_do_wp_page, struct vm_fault *vmf)
{
	cw_wp_exit(vmf, true, false);
	return 0;
}

/* Rung: kprobe/kretprobe on do_wp_page (or a clone; the loader picks the symbol). */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_do_wp_page, struct vm_fault *vmf)
{
	cw_wp_entry(vmf, false);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_do_wp_page)
{
	cw_wp_exit(0, false, false);
	return 0;
}

/* The same rung reading vmf with plain loads: kernels with bpf_rdonly_cast (6.2+). */
SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_do_wp_page_cast, struct vm_fault *vmf)
{
	cw_wp_entry(CW_CAST(struct vm_fault, vmf), true);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_do_wp_page_cast)
{
	cw_wp_exit(0, false, true);
	return 0;
}

/* vm_fault_t wp_page_copy(struct vm_fault *vmf) (6.1; inlined since 6.12): exact copy marker for
 * write faults: `(page_copied && !unshare) ? VM_FAULT_WRITE : 0` (6.1 mm/memory.c). */
static __always_inline void cw_mark_copy(long ret)
{
	struct cw_wp_stash *s = cw_stash(cw_current_btf(), false);

	if (s && s->vmf && bpf_core_enum_value_exists(enum vm_fault_reason, VM_FAULT_WRITE) &&
	    (ret & bpf_core_enum_value(enum vm_fault_reason, VM_FAULT_WRITE)))
		s->copy_seen = 1;
}

SEC("?fexit/wp_page_copy")
int BPF_PROG(cw_fexit_wp_page_copy, struct vm_fault *vmf, long ret)
{
	cw_mark_copy(ret);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_wp_page_copy, long ret)
{
	cw_mark_copy(ret);
	return 0;
}

/* void wp_page_reuse(struct vm_fault *vmf[, struct folio *folio]): exact reuse marker. notrace on
 * every kernel measured (fentry EBUSY, kprobe EINVAL), so normally the derived rung is used. */
static __always_inline void cw_mark_reuse(void)
{
	struct cw_wp_stash *s = cw_stash(cw_current_btf(), false);

	if (s && s->vmf)
		s->reuse_seen = 1;
}

SEC("?fentry/wp_page_reuse")
int BPF_PROG(cw_fentry_wp_page_reuse)
{
	cw_mark_reuse();
	return 0;
}

SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_wp_page_reuse)
{
	cw_mark_reuse();
	return 0;
}

#endif /* COWWATCH_COW_BPF_H */
