/* SPDX-License-Identifier: GPL-2.0 */
/*
 * owner.bpf.h - whose memory a folio is, whoever touches it: the process that maps an anonymous
 * folio and the memcg it is charged to. Pointers read from memory: every hop is a probe read.
 *
 * Process: folio->mapping of an anonymous folio is its anon_vma | PAGE_MAPPING_ANON (KSM folios,
 * | 3, and file folios have no owning process here). The anon_vma's interval tree (rb_root, keyed
 * by each VMA's pgoff) holds one anon_vma_chain per VMA that may map its folios: the VMA that
 * created the anon_vma and, after fork, the children's copies, inserted later and so to the right
 * of an equal key. The leftmost chain's vma->vm_mm->owner (CONFIG_MEMCG) is the process that
 * allocated the folio: exact when one process maps it (the common case; a page written after fork
 * lives in the writer's own anon_vma), the creating process when several share it. 4 probe reads
 * after the folio's own (plain loads through bpf_rdonly_cast on 6.2+).
 *
 * memcg: folio->memcg_data (compat.bpf.h: a mem_cgroup, or on 7.2 an obj_cgroup), then
 * memcg->css.cgroup->kn->id, the cgroup v2 id user space sees as the directory's inode. 4-5 reads.
 */
#ifndef COWWATCH_OWNER_BPF_H
#define COWWATCH_OWNER_BPF_H

#include "maps.bpf.h"

/* The task's cgroup in the v2 hierarchy (what bpf_get_current_cgroup_id() returns for current). */
static __always_inline __u64 cw_task_cgroup_id(const struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* A task of the process owning an anonymous folio (see above), or NULL; mapping: the folio's
 * ->mapping, already read. cast (a compile-time constant, 6.2+): every hop a plain load through
 * bpf_rdonly_cast (CW_AS) and the result a BTF pointer; otherwise probe reads. */
static __always_inline const struct task_struct *cw_anon_owner(unsigned long mapping, bool cast)
{
	const struct anon_vma *av;
	const struct anon_vma_chain *avc;
	const struct rb_node *leftmost;
	const struct mm_struct *mm;

	if ((mapping & CW_MAPPING_FLAGS) != CW_MAPPING_ANON || !bpf_core_field_exists(struct mm_struct, owner))
		return 0;
	av = CW_AS(cast, struct anon_vma, mapping & ~CW_MAPPING_FLAGS);
	leftmost = CW_READ(cast, av, rb_root.rb_leftmost);
	if (!leftmost)
		return 0;
	avc = CW_AS(cast, struct anon_vma_chain,
		    (unsigned long)leftmost - bpf_core_field_offset(struct anon_vma_chain, rb));
	mm = CW_READ(cast, avc, vma, vm_mm);
	if (!mm)
		return 0;
	return CW_READ(cast, mm, owner);
}

/* cgroup v2 id of the memcg the folio is charged to; 0 when uncharged. */
static __always_inline __u64 cw_folio_memcg_id(const struct folio *folio)
{
	unsigned long data;
	const struct mem_cgroup *memcg;

	if (!bpf_core_type_exists(struct folio)) /* 5.10: page->mem_cgroup */
		data = (unsigned long)BPF_CORE_READ((const struct page___510 *)folio, mem_cgroup);
	else
		data = BPF_CORE_READ(folio, memcg_data);
	data &= ~CW_MEMCG_DATA_FLAGS;
	memcg = (const struct mem_cgroup *)data;
	if (data && bpf_core_field_exists(((struct obj_cgroup___root *)0)->is_root))
		memcg = BPF_CORE_READ((const struct obj_cgroup *)data, memcg);
	if (!memcg)
		return 0;
	return BPF_CORE_READ(memcg, css.cgroup, kn, id);
}

#endif /* COWWATCH_OWNER_BPF_H */
