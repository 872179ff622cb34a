/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gup_context.bpf.h - which tasks are inside GUP's slow path right now, so a do_wp_page fault can
 * tell a GUP unshare from a KSM unmerge.
 *
 * __get_user_pages() is the only caller of faultin_page() (mm/gup.c 6.1:1250, 6.12:1497,
 * 7.2:1428), the one place GUP turns gup_must_unshare() into a FAULT_FLAG_UNSHARE fault. KSM's
 * break_ksm() takes its own faults through handle_mm_fault() (mm/ksm.c 6.1:450 WRITE|REMOTE,
 * 6.12:649 and 7.2:706 UNSHARE|REMOTE), never from inside __get_user_pages. So a remote fault on
 * a KSM page (or any unshare fault) taken outside __get_user_pages is an unmerge. Cost: one map
 * update at entry and one delete at exit per __get_user_pages call (a call walks a whole range),
 * and one lookup only for unshare faults and remote faults on KSM pages.
 */
#ifndef COWWATCH_GUP_CONTEXT_BPF_H
#define COWWATCH_GUP_CONTEXT_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_tracing.h>

/* thread id -> the mm that thread's __get_user_pages call walks. LRU: a missed exit cannot
 * leak an entry for good; a stale entry only matters for faults on that same mm. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} cw_gup_active SEC(".maps");

static __always_inline void cw_gup_enter(const struct mm_struct *mm)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v = (__u64)mm;

	bpf_map_update_elem(&cw_gup_active, &tid, &v, BPF_ANY);
}

static __always_inline void cw_gup_leave(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&cw_gup_active, &tid);
}

/* True when the current task is inside __get_user_pages on mm. */
static __always_inline bool cw_in_gup(const struct mm_struct *mm)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&cw_gup_active, &tid);

	return v && *v == (__u64)mm;
}

/* long __get_user_pages(struct mm_struct *mm, ...): 6 arguments on 6.12/7.2 (fentry), 7 on 6.1,
 * where the trampoline refuses it (attach error 524) and the kprobe rung is used. */
SEC("?fentry/__get_user_pages")
int BPF_PROG(cw_fentry_get_user_pages, struct mm_struct *mm)
{
	cw_gup_enter(mm);
	return 0;
}

SEC("?fexit/__get_user_pages")
int BPF_PROG(cw_fexit_get_user_pages)
{
	cw_gup_leave();
	return 0;
}

SEC("?kprobe")
int BPF_KPROBE(cw_kprobe_get_user_pages, struct mm_struct *mm)
{
	cw_gup_enter(mm);
	return 0;
}

SEC("?kretprobe")
int BPF_KRETPROBE(cw_kretprobe_get_user_pages)
{
	cw_gup_leave();
	return 0;
}

#endif /* COWWATCH_GUP_CONTEXT_BPF_H */
