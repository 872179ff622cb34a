/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* producer.h - load-time configuration of producer.bpf.c, shared with bench/consumer/producer.cpp. */
#ifndef COWWATCH_BENCH_PRODUCER_H
#define COWWATCH_BENCH_PRODUCER_H

#ifndef __bpf__
#include <linux/types.h>
#endif

struct prod_config {
	__u32 batch;		/* records per run (bpf_loop iterations) */
	__u32 nprocs;		/* distinct synthetic processes, tgid = tgid_base + i % nprocs */
	__u32 force_every;	/* 0: NO_WAKEUP; N: FORCE_WAKEUP every N-th record; ~0: adaptive (0) */
	__u32 wake_bytes;	/* with force_every 0: FORCE_WAKEUP when this much is unread (cowwatch's
				   policy, bpf/maps.bpf.h); 0: never */
	__u32 pad2;
	__u32 anomaly;		/* 1: records are anomalies (pinned copy) with FORCE_WAKEUP */
	__u32 tgid_base;	/* first synthetic tgid */
	__u32 pad;
};

#endif /* COWWATCH_BENCH_PRODUCER_H */
