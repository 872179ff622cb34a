/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.bpf.h - every kernel-version shim in one place. Each reader picks the layout the running
 * kernel has with bpf_core_field_exists() on a "___flavour" type (libbpf ignores the suffix when
 * matching names); nothing here is chosen by kernel version number. Layouts: kernel-facts.md §3.
 */
#ifndef COWWATCH_COMPAT_BPF_H
#define COWWATCH_COMPAT_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "cowwatch.h"

typedef struct { unsigned long f; } memdesc_flags_t;
typedef struct { unsigned long __mm_flags[1]; } mm_flags_t;

/* page->flags / folio->flags: unsigned long until 6.18's memdesc_flags_t (host 6.18, 7.2). */
struct page___memdesc { memdesc_flags_t flags; } __attribute__((preserve_access_index));
struct folio___memdesc { memdesc_flags_t flags; } __attribute__((preserve_access_index));
/* page->compound_head became compound_info in 7.2 (tail bit 0 kept; may hold a mask). */
struct page___info { unsigned long compound_info; } __attribute__((preserve_access_index));
/* 6.1 folio: _total_mapcount (PMD mappings only); 6.12 replaced it with _large_mapcount. */
struct folio___61 { atomic_t _total_mapcount; } __attribute__((preserve_access_index));
/* 7.2 (CONFIG_MM_ID): folio->_mm_ids, whose top bit says the folio is mapped by more than one mm. */
struct folio___mmid { unsigned long _mm_ids; } __attribute__((preserve_access_index));
/* folio->_folio_nr_pages was renamed _nr_pages (7.2, host 6.18). */
struct folio___nr { unsigned int _nr_pages; } __attribute__((preserve_access_index));
/*
 * folio->memcg_data of a charged folio: a struct mem_cgroup * (6.1-6.12) or, since the series that
 * reparents LRU folios through objcgs (7.2), a struct obj_cgroup * whose ->memcg is the memcg. The
 * same series gave struct obj_cgroup its is_root member (the root memcg got an objcg), which tells
 * the two layouts apart. Low bits are flags (MEMCG_DATA_KMEM/_OBJEXTS; none on an anon folio).
 */
struct obj_cgroup___root { bool is_root; } __attribute__((preserve_access_index));
#define CW_MEMCG_DATA_FLAGS 0x7UL
/* mm->flags: unsigned long until mm_flags_t (7.2, host 6.18). */
struct mm_struct___flagsarr { mm_flags_t flags; } __attribute__((preserve_access_index));

/*
 * 5.10 (no struct folio, bpf_core_type_exists() false): a compound page's own fields live in its
 * tail pages (5.10 mm_types.h: compound_order and compound_mapcount in the first,
 * hpage_pinned_refcount in the second), and the memcg is page->mem_cgroup.
 */
struct page___510 {
	unsigned char compound_order;
	atomic_t compound_mapcount;
	atomic_t hpage_pinned_refcount;
	struct mem_cgroup *mem_cgroup;
} __attribute__((preserve_access_index));
/* 5.10: mm->has_pinned (atomic_t) says a FOLL_PIN ever pinned a page of this mm; MMF_HAS_PINNED
 * replaced it later (bit 27 was MMF_MULTIPROCESS on 5.10). */
struct mm_struct___510 { atomic_t has_pinned; } __attribute__((preserve_access_index));

/* vm_fault->flags: unsigned int before enum fault_flag (5.19; 5.10 had #defines), which CO-RE
 * does not match with an enum. */
struct vm_fault___510 { unsigned int flags; } __attribute__((preserve_access_index));

/* MMF_HAS_PINNED: #define 27 in 6.1 (sched/coredump.h) through 7.2 (mm_types.h); not in BTF. */
#define CW_MMF_HAS_PINNED 27
/* GUP_PIN_COUNTING_BIAS (include/linux/mm.h), unchanged since 5.7. */
#define CW_GUP_PIN_COUNTING_BIAS 1024
/* PAGE_MAPPING_ANON / _KSM (6.x) == FOLIO_MAPPING_ANON / _KSM (7.x). */
#define CW_MAPPING_ANON 0x1UL
#define CW_MAPPING_FLAGS 0x3UL
/* vm_flags bits, stable: VM_SHARED 0x8, VM_MAYSHARE 0x80. */
#define CW_VM_SHARED 0x08UL
#define CW_VM_MAYSHARE 0x80UL
/* task_struct.flags */
#define CW_PF_MEMALLOC 0x00000800U
/* pte bits (4K pages). Present is bit 0 on both (x86 _PAGE_PRESENT, arm64 PTE_VALID). */
#if defined(__TARGET_ARCH_x86)
#define CW_PTE_RW (1UL << 1)			/* _PAGE_RW */
#define CW_PTE_SPECIAL (1UL << 9)		/* _PAGE_SPECIAL */
#define CW_PTE_PFN_MASK 0x000ffffffffff000UL
#elif defined(__TARGET_ARCH_arm64)
/* arch/arm64/include/asm/pgtable-hwdef.h, pgtable-prot.h (6.1, 6.12): pte_write() is PTE_WRITE
 * (== PTE_DBM, bit 51), PTE_SPECIAL is software bit 56. Output address bits 12-47 (48-bit PA) or
 * 12-49 (52-bit PA with LPA2, whose PA bits 50-51 sit in pte bits 8-9, where a 48-bit layout keeps
 * the shareability field): bits 12-49 are the pfn on both below 1 PiB of physical address. */
#define CW_PTE_RW (1UL << 51)
#define CW_PTE_SPECIAL (1UL << 56)
#define CW_PTE_PFN_MASK 0x0003fffffffff000UL
#endif

/*
 * A chain of field reads from a pointer, e.g. CW_READ(btf, vmf, vma, vm_mm) is vmf->vma->vm_mm.
 * btf (a compile-time constant): the pointer is BTF-typed (fentry/fexit arguments,
 * bpf_get_current_task_btf()), so each hop is a plain load the verifier checks against the
 * kernel's BTF and the JIT guards with an exception-table entry; otherwise (kprobe arguments,
 * pointers read from memory) each hop is a bpf_probe_read_kernel() call, several times dearer.
 */
#define ___cw_nth(_1, _2, _3, N, ...) N
#define ___cw_cat(a, b) a##b
#define ___cw_pick(n) ___cw_cat(___cw_direct, n)
#define ___cw_direct1(s, a) ((s)->a)
#define ___cw_direct2(s, a, b) ((s)->a->b)
#define ___cw_direct3(s, a, b, c) ((s)->a->b->c)
#define CW_READ(btf, src, ...) \
	((btf) ? ___cw_pick(___cw_nth(__VA_ARGS__, 3, 2, 1))(src, __VA_ARGS__) : BPF_CORE_READ(src, __VA_ARGS__))

/*
 * struct page (or a folio's head page) read once into a buffer: every field the COW decision
 * needs from a small folio sits in its first 64 bytes (flags, compound_head/info, mapping,
 * _mapcount, _refcount on 6.1-7.2), so one bpf_probe_read_kernel replaces one per field. Fields
 * are taken out of the copy with CO-RE offsets; an offset past the copy fails verification, so a
 * kernel that moved them would veto the program rather than read garbage.
 */
struct cw_page_copy {
	__u64 w[8];
};

static __always_inline bool cw_test_bit(unsigned long word, unsigned int bit)
{
	return (word >> bit) & 1;
}

static __always_inline unsigned long cw_copy_flags(const struct cw_page_copy *c)
{
	if (bpf_core_field_exists(((struct page___memdesc *)0)->flags))
		return ((const struct page___memdesc *)c)->flags.f;
	return ((const struct page *)c)->flags;
}

static __always_inline unsigned long cw_folio_flags(const struct folio *folio)
{
	if (!bpf_core_type_exists(struct folio))
		return BPF_CORE_READ((const struct page *)folio, flags);
	if (bpf_core_field_exists(((struct folio___memdesc *)0)->flags))
		return BPF_CORE_READ((struct folio___memdesc *)folio, flags.f);
	return BPF_CORE_READ(folio, flags);
}

/*
 * The folio a page belongs to, from the page's copy. Tail pages have bit 0 set in compound_head
 * (6.1-6.18) or compound_info (7.2). 7.2 with HUGETLB_PAGE_OPTIMIZE_VMEMMAP stores a mask
 * (~(size-1) | 1): head = page & info. A mask has all top bits set, a struct page pointer never
 * does (the vmemmap area sits far below 0xffffffff00000000), which tells the two encodings apart
 * without a Kconfig extern.
 */
static __always_inline const struct folio *cw_copy_folio(const struct page *page, const struct cw_page_copy *c)
{
	unsigned long info;

	if (bpf_core_field_exists(((struct page___info *)0)->compound_info))
		info = ((const struct page___info *)c)->compound_info;
	else
		info = ((const struct page *)c)->compound_head;
	if (!(info & 1))
		return (const struct folio *)page;
	if (info >= 0xffffffff00000000UL)
		return (const struct folio *)((unsigned long)page & info);
	return (const struct folio *)(info - 1);
}

static __always_inline unsigned int cw_folio_nr_pages(const struct folio *folio)
{
	if (!bpf_core_type_exists(struct folio)) { /* 5.10: a head page's order is in its first tail */
		const struct page *head = (const struct page *)folio;

		if (!cw_test_bit(BPF_CORE_READ(head, flags), bpf_core_enum_value(enum pageflags, PG_head)))
			return 1;
		return 1U << (BPF_CORE_READ((const struct page___510 *)(head + 1), compound_order) & 31);
	}
	if (bpf_core_field_exists(((struct folio___nr *)0)->_nr_pages))
		return BPF_CORE_READ((struct folio___nr *)folio, _nr_pages);
	if (bpf_core_field_exists(folio->_folio_nr_pages))
		return BPF_CORE_READ(folio, _folio_nr_pages);
	return 1;
}

/*
 * A large folio's head page and its second page read at once: the folio's own fields all live in
 * its second struct page on 6.1-7.2 (mm_types.h: 6.1 _total_mapcount/_pincount/_folio_nr_pages;
 * 6.12 _large_mapcount/_entire_mapcount/_pincount/_folio_nr_pages; 7.2 adds _mm_ids and renames
 * _nr_pages), so one 128-byte read gives them all. Fields are taken out with CO-RE offsets, as
 * from cw_page_copy.
 */
struct cw_folio_copy {
	__u64 w[16];
};

/* FOLIO_MM_IDS_SHARED_BITNUM = 2 * MM_ID_BITS + 1 (7.2 mm_types.h:355); MM_ID_BITS = 31 on 64-bit */
#define CW_MM_IDS_SHARED_BIT 63

struct cw_folio_counts {
	int entire;		/* mappings of the folio as a whole (PMD), +1 applied */
	int large;		/* mappings of any of its pages, +1 applied; -1: no such field (6.1) */
	int pincount;		/* _pincount */
	unsigned int nr;	/* pages */
	bool mm_shared;		/* 7.2: _mm_ids says more than one mm maps it */
	bool double_map;	/* 6.1: PG_double_map, every page's _mapcount carries +1 */
};

static __always_inline void cw_folio_counts(const struct cw_folio_copy *c, struct cw_folio_counts *fc)
{
	const struct folio *f = (const struct folio *)c;

	fc->pincount = f->_pincount.counter;
	if (bpf_core_field_exists(((struct folio___nr *)0)->_nr_pages))
		fc->nr = ((const struct folio___nr *)c)->_nr_pages;
	else
		fc->nr = f->_folio_nr_pages;
	fc->large = -1;
	if (bpf_core_field_exists(f->_large_mapcount))
		fc->large = f->_large_mapcount.counter + 1;
	if (bpf_core_field_exists(f->_entire_mapcount))
		fc->entire = f->_entire_mapcount.counter + 1;
	else if (bpf_core_field_exists(((struct folio___61 *)0)->_total_mapcount))
		fc->entire = ((const struct folio___61 *)c)->_total_mapcount.counter + 1;
	if (bpf_core_field_exists(((struct folio___mmid *)0)->_mm_ids))
		fc->mm_shared = cw_test_bit(((const struct folio___mmid *)c)->_mm_ids, CW_MM_IDS_SHARED_BIT);
	if (bpf_core_enum_value_exists(enum pageflags, PG_double_map))
		fc->double_map = cw_test_bit(f->_flags_1, bpf_core_enum_value(enum pageflags, PG_double_map));
}

/* Fields read from a folio pointer; where struct folio does not exist (5.10) the pointer is the
 * head struct page, whose first fields are the folio's. */
#define CW_FOLIO_READ(folio, field) \
	(bpf_core_type_exists(struct folio) ? BPF_CORE_READ((const struct folio *)(folio), field) \
					     : BPF_CORE_READ((const struct page *)(folio), field))

/* A compound page's counts from its head and first tail page (cw_folio_copy) on 5.10; the pin
 * count sits in the second tail page and is read on its own (5.10 compound_pincount_ptr()). */
static __always_inline void cw_compound_counts(const struct cw_folio_copy *c, const struct page *head,
					       struct cw_folio_counts *fc)
{
	const struct page___510 *p1 = (const struct page___510 *)((const char *)c + bpf_core_type_size(struct page));
	const struct page *t1 = (const struct page *)((const char *)c + bpf_core_type_size(struct page));
	unsigned int order = p1->compound_order & 31;
	int pin = 0;

	fc->nr = 1U << order;
	fc->large = -1;
	fc->entire = p1->compound_mapcount.counter + 1;
	if (order > 1)
		bpf_probe_read_kernel(&pin, sizeof(pin),
				      (const char *)head + 2 * bpf_core_type_size(struct page) +
					      bpf_core_field_offset(struct page___510, hpage_pinned_refcount));
	fc->pincount = pin;
	if (bpf_core_enum_value_exists(enum pageflags, PG_double_map))
		fc->double_map = cw_test_bit(t1->flags, bpf_core_enum_value(enum pageflags, PG_double_map));
}

static __always_inline unsigned long cw_mm_flags(const struct mm_struct *mm)
{
	if (bpf_core_field_exists(((struct mm_struct___flagsarr *)0)->flags))
		return BPF_CORE_READ((struct mm_struct___flagsarr *)mm, flags.__mm_flags[0]);
	return BPF_CORE_READ(mm, flags);
}

/* Has a FOLL_PIN ever pinned a page of mm? MMF_HAS_PINNED (5.10: mm->has_pinned): what fork's
 * page_needs_cow_for_dma() (5.10: copy_present_page()) tests before it looks at any page. */
static __always_inline bool cw_mm_has_pinned(const struct mm_struct *mm)
{
	if (bpf_core_field_exists(((struct mm_struct___510 *)0)->has_pinned))
		return BPF_CORE_READ((struct mm_struct___510 *)mm, has_pinned.counter) != 0;
	return cw_test_bit(cw_mm_flags(mm), CW_MMF_HAS_PINNED);
}

/*
 * 6.2+: bpf_rdonly_cast() makes a kernel address a read-only BTF pointer (the verifier turns the
 * call into a register move). Its fields are then plain loads, each guarded by the exception table
 * as a probe read is, instead of a helper call per read. Only the *_cast programs call it, and the
 * loader enables them only where the kernel has it (planner: Feature::kRdonlyCast), after turning
 * this placeholder helper call into the kfunc call (cowwatch.h, CW_RDONLY_CAST_PLACEHOLDER).
 */
static void *(*const cw_rdonly_cast)(const void *obj, __u32 btf_id) = (void *)CW_RDONLY_CAST_PLACEHOLDER;
#define CW_CAST(type, addr) \
	((const type *)cw_rdonly_cast((const void *)(unsigned long)(addr), bpf_core_type_id_kernel(type)))

/* An address as a typed pointer: with cast (a compile-time constant), a read-only BTF pointer whose
 * fields are plain loads (CW_READ(cast, ...)); otherwise a plain pointer for probe reads. */
#define CW_AS(cast, type, addr) \
	((cast) ? CW_CAST(type, addr) : (const type *)(unsigned long)(addr))

/* A BTF pointer's value as an integer, for the masks and bit tests the verifier refuses on
 * pointers: the difference of two pointers is a scalar to a privileged (CAP_PERFMON) verifier. */
static __always_inline unsigned long cw_cast_value(const void *p)
{
	return (unsigned long)p - (unsigned long)CW_CAST(struct folio, 0);
}

#endif /* COWWATCH_COMPAT_BPF_H */
