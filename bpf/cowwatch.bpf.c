// SPDX-License-Identifier: GPL-2.0
/*
 * cowwatch.bpf.c - one BPF object, so every program shares the counter maps and rings. Each
 * program is a rung of a hook's ladder and is not loaded unless the loader chooses it ("?" sections).
 */
#include "cow.bpf.h"
#include "swap.bpf.h"
#include "lifecycle.bpf.h"
#include "cgroup_move.bpf.h"

char LICENSE[] SEC("license") = "GPL";
