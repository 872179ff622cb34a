// SPDX-License-Identifier: GPL-2.0
/*
 * producer.bpf.c - a ring-buffer producer run by BPF_PROG_TEST_RUN (bench/consumer): each run's
 * bpf_loop emits prod_cfg.batch cw_event fault records for prod_cfg.nprocs synthetic processes,
 * and counts every record per process in a shared hash with atomic adds, as cowwatch does, so the
 * counts stay exact when the ring overflows.
 */
#include "../../bpf/vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../../bpf/cowwatch.h"
#include "producer.h"

const volatile struct prod_config prod_cfg = { .batch = 1000, .nprocs = 1000, .tgid_base = 1000 };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* set by the loader */
} prod_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cw_proc_key);
	__type(value, __u64);
} prod_counts SEC(".maps");

__u64 prod_emitted = 0;	/* records attempted */
__u64 prod_dropped = 0;	/* reserve failures */
__u64 prod_seq = 0;	/* record sequence, for FORCE every N */

static const __u64 zero_count;

static long emit_one(__u32 i, void *ctx)
{
	struct cw_proc_key key = {};
	struct cw_event *e;
	__u64 *count, seq, flags;

	seq = prod_seq++; /* one producer at a time: plain increments */
	/* anomalies: a new process each (an alert fires once per subject); else round robin */
	key.tgid = prod_cfg.tgid_base + (__u32)((prod_cfg.anomaly ? seq : i) % (prod_cfg.nprocs ? prod_cfg.nprocs : 1));
	key.start_ns = key.tgid; /* any stable value */
	count = bpf_map_lookup_elem(&prod_counts, &key);
	if (!count) {
		bpf_map_update_elem(&prod_counts, &key, &zero_count, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&prod_counts, &key);
	}
	if (count)
		__sync_fetch_and_add(count, 1);

	prod_emitted++;
	e = bpf_ringbuf_reserve(&prod_ring, sizeof(*e), 0);
	if (!e) {
		prod_dropped++;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = key.tgid;
	e->start_ns = key.start_ns;
	e->pid = key.tgid;
	e->actor_tgid = key.tgid;
	e->address = (__u64)i << 12;
	e->type = CW_EV_FAULT;
	e->hook = CW_HOOK_WP_FAULT;
	e->decision = CW_DECISION_COPY;
	e->reason = prod_cfg.anomaly ? CW_REASON_PINNED : CW_REASON_SHARED;
	e->fault_flags = CW_FF_WRITE;
	e->page_flags = CW_PF_ANON;
	e->refcount = 2;
	e->mapcount = 2;
	e->anomaly = prod_cfg.anomaly ? 1 : 0;
	e->comm[0] = 'p';
	e->comm[1] = 'r';
	e->comm[2] = 'o';
	e->comm[3] = 'd';
	if (prod_cfg.anomaly)
		flags = BPF_RB_FORCE_WAKEUP;
	else if (prod_cfg.force_every == 0)
		flags = prod_cfg.wake_bytes && bpf_ringbuf_query(&prod_ring, BPF_RB_AVAIL_DATA) >= prod_cfg.wake_bytes
				? BPF_RB_FORCE_WAKEUP
				: BPF_RB_NO_WAKEUP;
	else if (prod_cfg.force_every == 0xffffffff)
		flags = 0;
	else
		flags = (seq + 1) % prod_cfg.force_every == 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	return 0;
}

/* Never attached: run with BPF_PROG_TEST_RUN. */
SEC("raw_tp/cowwatch_bench_producer")
int prod_run(void *ctx)
{
	bpf_loop(prod_cfg.batch, emit_one, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
