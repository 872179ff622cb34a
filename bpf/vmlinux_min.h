/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmlinux_min.h - the few kernel types cowwatch's BPF programs read, declared by hand.
 *
 * Why not a generated vmlinux.h: the build must not depend on the build host's kernel. Every
 * struct here carries preserve_access_index, so each field access is a CO-RE relocation that
 * libbpf resolves against the running kernel's BTF at load time; only the names and the kinds of
 * the fields matter, not their offsets or the struct sizes. Fields whose type changed across
 * kernels are read through the flavours in compat.bpf.h.
 */
#ifndef COWWATCH_VMLINUX_MIN_H
#define COWWATCH_VMLINUX_MIN_H

#define __VMLINUX_H__ /* tells bpf_tracing.h to use the kernel's pt_regs field names */

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int pid_t;
typedef unsigned int gfp_t;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* kprobe context: bpf_tracing.h reads arguments and return values through these names per
 * architecture (__TARGET_ARCH_*, set by cmake/bpf.cmake from the build's target processor). */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {		/* bpf_tracing.h casts a kprobe's ctx to it on arm64 */
	u64 regs[31];
	u64 sp;
	u64 pc;
	u64 pstate;
};
struct pt_regs {
	struct user_pt_regs user_regs;
};
#else
#error "cowwatch's BPF object: no pt_regs layout for this target (define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64)"
#endif

typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
typedef atomic64_t atomic_long_t;

struct list_head {
	struct list_head *next, *prev;
};

typedef struct { unsigned long pte; } pte_t;

struct address_space;

/* struct page: only the members we read. flags/compound_head moved in 7.2 (compat.bpf.h). */
struct page {
	unsigned long flags;
	unsigned long compound_head;
	struct address_space *mapping;
	atomic_t _mapcount;
	atomic_t _refcount;
	struct list_head lru;		/* read only where struct folio does not exist (5.10) */
};

struct folio {
	unsigned long flags;
	struct address_space *mapping;
	atomic_t _mapcount;
	atomic_t _refcount;
	unsigned long memcg_data;
	unsigned long _flags_1;		/* the second page's flags (6.1 PG_double_map) */
	atomic_t _pincount;
	atomic_t _large_mapcount;	/* 6.12+; 6.1 has _total_mapcount (compat.bpf.h) */
	atomic_t _entire_mapcount;	/* 6.12+; 6.1: _total_mapcount is the entire mapcount */
	unsigned int _folio_nr_pages;	/* 6.1-6.x; 7.2 renamed it _nr_pages (compat.bpf.h) */
	struct list_head lru;
};

struct kernfs_node {
	u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

struct mem_cgroup {
	struct cgroup_subsys_state css;
};

struct obj_cgroup {
	struct mem_cgroup *memcg;
};

struct css_set {
	struct cgroup *dfl_cgrp;	/* the task's cgroup in the v2 (default) hierarchy */
};

struct rb_node {
	unsigned long __rb_parent_color;
	struct rb_node *rb_right;
	struct rb_node *rb_left;
};

struct rb_root {
	struct rb_node *rb_node;
};

struct rb_root_cached {
	struct rb_root rb_root;
	struct rb_node *rb_leftmost;
};

/* folio->mapping of an anonymous folio (low bit set): its VMAs' anon_vma_chains, by pgoff. */
struct anon_vma {
	struct rb_root_cached rb_root;
};

struct vm_area_struct;

struct anon_vma_chain {
	struct vm_area_struct *vma;
	struct rb_node rb;
};

struct task_struct;

struct mm_struct {
	unsigned long flags;		/* 7.2: mm_flags_t (compat.bpf.h) */
	struct task_struct *owner;	/* CONFIG_MEMCG */
	atomic64_t pinned_vm;
};

struct vm_area_struct {
	struct mm_struct *vm_mm;
	unsigned long vm_flags;
};

enum fault_flag {
	FAULT_FLAG_WRITE = 1,
	FAULT_FLAG_REMOTE = 128,
	FAULT_FLAG_UNSHARE = 1024,
};

struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;
	enum fault_flag flags;
	pte_t orig_pte;
	struct page *page;
	pte_t *pte;
};

/* 6.1 only (removed in 6.2): what wp_page_copy returns for a completed write copy. */
enum vm_fault_reason {
	VM_FAULT_WRITE = 8,
};

/* Local values are placeholders: read with bpf_core_enum_value(). */
enum pageflags {
	PG_locked = 0,
	PG_lru = 1,
	PG_head = 2,
	PG_swapcache = 3,
	PG_swapbacked = 4,
	PG_anon_exclusive = 5,
	PG_double_map = 6,	/* 6.1 only (== PG_workingset, on the folio's second page) */
	PG_active = 7,
	PG_mlocked = 8,	/* CONFIG_MMU */
};

struct signal_struct {
	atomic_t live;
};

struct task_struct {
	unsigned int flags;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	u64 start_time;
	char comm[16];
	struct signal_struct *signal;
	int exit_code;
	struct css_set *cgroups;
};

#pragma clang attribute pop

#endif /* COWWATCH_VMLINUX_MIN_H */
