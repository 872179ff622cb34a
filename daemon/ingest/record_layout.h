// The C++ side of bpf/cowwatch.h's wire format: sizes and offsets pinned with static_assert, so a
// change on one side that the other does not follow fails the build instead of corrupting records.
// Keep in sync with bpf/cowwatch.h (and bump CW_SCHEMA_VERSION there when these change).
#pragma once

#include <cstddef>

#include "cowwatch.h"

namespace cowwatch::ingest {

static_assert(sizeof(cw_proc_key) == 16 && offsetof(cw_proc_key, start_ns) == 8);
static_assert(sizeof(cw_counters) == 8 * (CW_C_COUNT + 1) + CW_COMM_LEN);
static_assert(offsetof(cw_counters, cgroup_id) == 8 * CW_C_COUNT);
static_assert(offsetof(cw_counters, comm) == 8 * (CW_C_COUNT + 1));
static_assert(sizeof(cw_bpf_config) == 48);
static_assert(offsetof(cw_bpf_config, wake_bytes) == 28 && offsetof(cw_bpf_config, ctl_wake_bytes) == 32);
static_assert(offsetof(cw_bpf_config, task_storage) == 36 && offsetof(cw_bpf_config, swap_ret_arg) == 44);
static_assert(sizeof(cw_event) == 96);
static_assert(offsetof(cw_event, ts_ns) == 0 && offsetof(cw_event, start_ns) == 8);
static_assert(offsetof(cw_event, cgroup_id) == 16 && offsetof(cw_event, address) == 24);
static_assert(offsetof(cw_event, aux0) == 32 && offsetof(cw_event, aux1) == 40);
static_assert(offsetof(cw_event, tgid) == 48 && offsetof(cw_event, pid) == 52);
static_assert(offsetof(cw_event, actor_tgid) == 56 && offsetof(cw_event, aux2) == 60);
static_assert(offsetof(cw_event, refcount) == 64 && offsetof(cw_event, mapcount) == 68);
static_assert(offsetof(cw_event, type) == 72 && offsetof(cw_event, anomaly) == 79);
static_assert(offsetof(cw_event, comm) == 80);
static_assert(CW_SCHEMA_VERSION == 2, "layout pinned for schema 2 (counters KSM_UNMERGE_* appended, cw_counters.comm, CW_EV_CGROUP_MOVE)");

}  // namespace cowwatch::ingest
