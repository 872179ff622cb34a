/* SPDX-License-Identifier: GPL-2.0 */
/* page_state.bpf.h - the old page's state at do_wp_page entry, and the copy reason it implies. */
#ifndef COWWATCH_PAGE_STATE_BPF_H
#define COWWATCH_PAGE_STATE_BPF_H

#include "compat.bpf.h"
#include "cowwatch.h"

/* vmemmap_base exists with CONFIG_RANDOMIZE_MEMORY (all Debian kernels; KALLSYMS_ALL exports it). */
extern const void vmemmap_base __ksym __weak;
#define CW_VMEMMAP_DEFAULT 0xffffea0000000000UL /* x86-64 4-level paging, no KASLR of memory */

struct cw_page_state {
	__s32 refcount;
	__s32 mapcount;
	__u8 page_flags;	/* CW_PF_* */
	__u8 folio_order;
};

static __always_inline unsigned long cw_pte_pfn(unsigned long pte)
{
	return (pte & CW_PTE_PFN_MASK) >> 12;
}

/* vmemmap_base, read once per load: a global load per fault instead of a helper call. */
__u64 cw_vmemmap_cache = 0;

static __always_inline const struct page *cw_pfn_to_page(unsigned long pfn)
{
	unsigned long base = cw_vmemmap_cache;

	if (!base) {
		base = CW_VMEMMAP_DEFAULT;
		if (&vmemmap_base)
			bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base);
		cw_vmemmap_cache = base; /* racing writers store the same value */
	}
	return (const struct page *)(base + pfn * bpf_core_type_size(struct page));
}

static __always_inline __u8 cw_log2(unsigned int n)
{
	__u8 order = 0;

	for (int i = 0; i < 20 && n > 1; i++) {
		n >>= 1;
		order++;
	}
	return order;
}

/*
 * Reads the state of the page mapped by orig_pte; mirrors the checks of do_wp_page (6.1-7.2).
 * A small folio costs one read (cw_page_copy); a tail page one more for its head, and a large
 * folio's own fields (in its second page) one each.
 */
static __always_inline void cw_read_page_state(unsigned long orig_pte, struct cw_page_state *st)
{
	/* zeroed up front: 6.12's verifier hit "BUG backtracking" when fc's slots first appeared late */
	struct cw_page_copy pc = {}, fc = {};
	const struct cw_page_copy *f = &pc; /* the folio's head page: pc itself for a small folio */
	const struct page *page;
	const struct folio *folio;
	unsigned long pflags, fflags, mapping;
	bool large;

	if (orig_pte & CW_PTE_SPECIAL) { /* zero page or a special pfn: vm_normal_page() == NULL */
		st->page_flags |= CW_PF_ZERO_PAGE;
		return;
	}
	page = cw_pfn_to_page(cw_pte_pfn(orig_pte));
	if (bpf_probe_read_kernel(&pc, sizeof(pc), page))
		return;
	folio = cw_copy_folio(page, &pc);
	if ((const void *)folio != (const void *)page) {
		if (bpf_probe_read_kernel(&fc, sizeof(fc), folio))
			return;
		f = &fc;
	}
	pflags = cw_copy_flags(&pc);
	fflags = cw_copy_flags(f);
	mapping = (unsigned long)((const struct folio *)f)->mapping;
	large = cw_test_bit(fflags, bpf_core_enum_value(enum pageflags, PG_head));

	st->refcount = ((const struct folio *)f)->_refcount.counter;
	if (large) {
		unsigned int nr = cw_folio_nr_pages(folio);

		st->page_flags |= CW_PF_LARGE;
		st->folio_order = cw_log2(nr);
		st->mapcount = cw_large_mapcount(folio);
		if (BPF_CORE_READ(folio, _pincount.counter) > 0)
			st->page_flags |= CW_PF_MAYBE_PINNED;
	} else {
		st->mapcount = ((const struct page *)&pc)->_mapcount.counter + 1;
		if (st->refcount >= CW_GUP_PIN_COUNTING_BIAS)
			st->page_flags |= CW_PF_MAYBE_PINNED;
	}
	if (mapping & CW_MAPPING_ANON)
		st->page_flags |= CW_PF_ANON;
	if ((mapping & CW_MAPPING_FLAGS) == CW_MAPPING_FLAGS)
		st->page_flags |= CW_PF_KSM;
	if (cw_test_bit(fflags, bpf_core_enum_value(enum pageflags, PG_swapcache)) &&
	    cw_test_bit(fflags, bpf_core_enum_value(enum pageflags, PG_swapbacked)))
		st->page_flags |= CW_PF_SWAPCACHE;
	if (bpf_core_enum_value_exists(enum pageflags, PG_anon_exclusive) &&
	    cw_test_bit(pflags, bpf_core_enum_value(enum pageflags, PG_anon_exclusive)) &&
	    (mapping & CW_MAPPING_FLAGS) == CW_MAPPING_ANON)
		st->page_flags |= CW_PF_ANON_EXCLUSIVE;
}

/*
 * The reason a copy would be made, judged from the entry state (docs/copy-reasons.md). Precedence:
 * unshare, zero_page, file, ksm, pinned, shared, extra_ref, large_folio, other.
 */
static __always_inline __u8 cw_copy_reason(const struct cw_page_state *st, bool unshare)
{
	__s32 expected_refs;

	if (unshare)
		return CW_REASON_UNSHARE;
	if (st->page_flags & CW_PF_ZERO_PAGE)
		return CW_REASON_ZERO_PAGE;
	if (!(st->page_flags & CW_PF_ANON))
		return CW_REASON_FILE;
	if (st->page_flags & CW_PF_KSM)
		return CW_REASON_KSM;
	if (st->page_flags & CW_PF_MAYBE_PINNED)
		return CW_REASON_PINNED;
	if (st->mapcount > 1)
		return CW_REASON_SHARED;
	/* one reference per mapping, one for the swap cache (a large folio's swapcache holds nr) */
	expected_refs = st->mapcount + ((st->page_flags & CW_PF_SWAPCACHE) ? (1 << st->folio_order) : 0);
	if (st->refcount > expected_refs)
		return CW_REASON_EXTRA_REF;
	if (st->page_flags & CW_PF_LARGE)
		return CW_REASON_LARGE_FOLIO;
	return CW_REASON_OTHER;
}

#endif /* COWWATCH_PAGE_STATE_BPF_H */
