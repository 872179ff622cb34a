/* SPDX-License-Identifier: GPL-2.0 */
/* page_state.bpf.h - the old page's state at do_wp_page entry, and the copy reason it implies. */
#ifndef COWWATCH_PAGE_STATE_BPF_H
#define COWWATCH_PAGE_STATE_BPF_H

#include "compat.bpf.h"
#include "cowwatch.h"

#if defined(__TARGET_ARCH_x86)
/* vmemmap_base exists with CONFIG_RANDOMIZE_MEMORY (all Debian kernels; KALLSYMS_ALL exports it). */
extern const void vmemmap_base __ksym __weak;
#define CW_HAVE_VMEMMAP_KSYM 1
#else
/* arm64 has no vmemmap_base (its vmemmap is VMEMMAP_START - (memstart_addr >> PAGE_SHIFT), with a
 * VA size chosen at boot under LPA2): only the run-time calibration below gives the base. */
#define CW_HAVE_VMEMMAP_KSYM 0
#endif

struct cw_page_state {
	__s32 refcount;		/* the folio's */
	__s32 mapcount;		/* this page's mappings: its own _mapcount + the folio's entire (PMD) ones */
	__s32 folio_mapcount;	/* large folio: mappings of any of its pages (6.12+); -1 unknown (6.1) */
	__u8 page_flags;	/* CW_PF_* */
	__u8 folio_order;
	__u8 mm_shared;		/* large folio mapped by more than one mm (7.2 _mm_ids) */
	__u8 known;		/* the state was read (else: no vmemmap base yet, or the read failed) */
};

static __always_inline unsigned long cw_pte_pfn(unsigned long pte)
{
	return (pte & CW_PTE_PFN_MASK) >> 12;
}

/*
 * Where struct page of pfn 0 would be (vmemmap_base), cached: a global load per fault instead of a
 * helper call. From the kernel's vmemmap_base when libbpf resolved it; that needs the symbol's
 * address in /proc/kallsyms, which a daemon without CAP_SYSLOG reads as 0 and which systemd's
 * ProtectKernelTunables= makes unreadable (the shipped unit). Otherwise calibrated at do_wp_page
 * exit from vmf->page and the pfn of vmf->orig_pte, the same page (cw_calibrate_vmemmap). Never
 * guessed: a randomized layout (CONFIG_RANDOMIZE_MEMORY) would make every page read garbage.
 * 0 until known: until then the old page's state is not read and copies count as `other`.
 */
__u64 cw_vmemmap_cache = 0;

static __always_inline const struct page *cw_pfn_to_page(unsigned long pfn)
{
	unsigned long base = cw_vmemmap_cache;

#if CW_HAVE_VMEMMAP_KSYM
	if (!base && &vmemmap_base) {
		bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base);
		cw_vmemmap_cache = base; /* racing writers store the same value */
	}
#endif
	if (!base)
		return 0;
	return (const struct page *)(base + pfn * bpf_core_type_size(struct page));
}

/* A (struct page *, pte) pair of the same page fixes the base; racing writers store the same. */
static __always_inline void cw_calibrate_vmemmap(const struct page *page, unsigned long pte)
{
	if (cw_vmemmap_cache || !page || !(pte & 1) || (pte & CW_PTE_SPECIAL))
		return;
	cw_vmemmap_cache = (unsigned long)page - cw_pte_pfn(pte) * bpf_core_type_size(struct page);
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
 * A small folio costs one read (cw_page_copy); a page of a large folio one more, of its head
 * and second page together (cw_folio_copy).
 */
static __always_inline void cw_read_page_state(unsigned long orig_pte, struct cw_page_state *st)
{
	/* zeroed up front: 6.12's verifier hit "BUG backtracking" when fc's slots first appeared late */
	struct cw_page_copy pc = {};
	struct cw_folio_copy fc = {};
	const void *f = &pc; /* the folio's head page: pc itself for a small folio */
	const struct page *page;
	const struct folio *folio;
	unsigned long pflags, fflags, mapping;
	bool large;

	st->folio_mapcount = -1;
	if (orig_pte & CW_PTE_SPECIAL) { /* zero page or a special pfn: vm_normal_page() == NULL */
		st->page_flags |= CW_PF_ZERO_PAGE;
		st->known = 1;
		return;
	}
	page = cw_pfn_to_page(cw_pte_pfn(orig_pte));
	if (!page || bpf_probe_read_kernel(&pc, sizeof(pc), page))
		return;
	st->known = 1;
	folio = cw_copy_folio(page, &pc);
	pflags = cw_copy_flags(&pc);
	large = (const void *)folio != (const void *)page ||
		cw_test_bit(pflags, bpf_core_enum_value(enum pageflags, PG_head));
	if (large) {
		if (bpf_probe_read_kernel(&fc, sizeof(fc), folio))
			return;
		f = &fc;
	}
	fflags = cw_copy_flags(f);
	if (bpf_core_type_exists(struct folio)) {
		mapping = (unsigned long)((const struct folio *)f)->mapping;
		st->refcount = ((const struct folio *)f)->_refcount.counter;
	} else { /* 5.10: the head page's own fields */
		mapping = (unsigned long)((const struct page *)f)->mapping;
		st->refcount = ((const struct page *)f)->_refcount.counter;
	}
	/* the page's own mappings: 6.12/7.2 folio_precise_page_mapcount() (fs/proc/internal.h),
	 * 6.1 __page_mapcount() (mm/util.c:787) */
	st->mapcount = ((const struct page *)&pc)->_mapcount.counter + 1;
	if (large) {
		struct cw_folio_counts c = {};

		if (bpf_core_type_exists(struct folio))
			cw_folio_counts(&fc, &c);
		else
			cw_compound_counts(&fc, (const struct page *)folio, &c);
		st->page_flags |= CW_PF_LARGE;
		st->folio_order = cw_log2(c.nr);
		st->mapcount += c.entire - (c.double_map ? 1 : 0);
		st->folio_mapcount = c.large;
		st->mm_shared = c.mm_shared;
		if (c.pincount > 0)
			st->page_flags |= CW_PF_MAYBE_PINNED;
	} else if (st->refcount >= CW_GUP_PIN_COUNTING_BIAS) {
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
 * Why the kernel declined to reuse a page of a large folio that no other process maps, by the
 * rule of the kernel running (told apart by the fields its folio has; docs/copy-reasons.md):
 *  - 6.1 (_total_mapcount): do_wp_page copies when folio_ref_count > 3, or > 1 + swapcache
 *    (mm/memory.c:3471, 3479). Every PTE mapping of any page of the folio holds a folio reference,
 *    so those are the other pages' mappings: large_folio (extra references cannot be told apart).
 *  - 6.12 (_large_mapcount, no _mm_ids): wp_can_reuse_anon_folio() returns false for any large
 *    folio (mm/memory.c:3596): large_folio.
 *  - 7.2 (_mm_ids): __wp_can_reuse_large_anon_folio() (mm/memory.c:4109) declines when only one
 *    page is mapped (large mapcount <= 1) or the folio is shared with another mm (large_folio),
 *    or when references exceed the mappings (extra_ref, swap cache counted); otherwise it reuses,
 *    so a copy from that state lost a race (other).
 */
static __always_inline __u8 cw_large_folio_reason(const struct cw_page_state *st)
{
	__s32 swap_refs = (st->page_flags & CW_PF_SWAPCACHE) ? (1 << st->folio_order) : 0;

	if (!bpf_core_field_exists(((struct folio___mmid *)0)->_mm_ids))
		return CW_REASON_LARGE_FOLIO;
	if (st->folio_mapcount <= 1 || st->mm_shared)
		return CW_REASON_LARGE_FOLIO;
	if (st->refcount > st->folio_mapcount + swap_refs)
		return CW_REASON_EXTRA_REF;
	return CW_REASON_OTHER;
}

/*
 * The reason a copy would be made, judged from the entry state (docs/copy-reasons.md). Precedence:
 * unshare, zero_page, file, ksm, pinned, shared, then large_folio/extra_ref by the kernel's rule
 * for large folios, extra_ref for small ones, other.
 */
static __always_inline __u8 cw_copy_reason(const struct cw_page_state *st, bool unshare)
{
	if (unshare)
		return CW_REASON_UNSHARE;
	if (!st->known)
		return CW_REASON_OTHER;
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
	if (st->page_flags & CW_PF_LARGE)
		return cw_large_folio_reason(st);
	/* a small folio: one reference for the mapping, one for the swap cache. Kernels without
	 * PG_anon_exclusive (5.10) reuse only at page_count == 1 (do_wp_page, the 5.9 rule) and never
	 * free the swap cache there: its reference is one more that blocks reuse. */
	if (st->refcount > st->mapcount + ((st->page_flags & CW_PF_SWAPCACHE) &&
					   bpf_core_enum_value_exists(enum pageflags, PG_anon_exclusive) ? 1 : 0))
		return CW_REASON_EXTRA_REF;
	return CW_REASON_OTHER;
}

#endif /* COWWATCH_PAGE_STATE_BPF_H */
