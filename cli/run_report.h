// The report of `cowwatch run -- CMD`: the tree's totals and one row per process of the tree
// (identity, parent, name, cgroup, counters with copy reasons, fork cost as a parent), as JSON
// (docs/cli.md "run") and as text: the totals, then a table of the processes with the most
// copies, like `perf stat --per-thread`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/run_tree.h"

namespace cowwatch::cli {

// Bytes the forks each member started have cost so far (fork episodes' copied bytes, by parent).
using ForkCosts = std::map<model::ProcKey, uint64_t, KeyOrder>;

// One row per member, in start order (the command first).
nlohmann::json process_rows_json(const RunTree& tree, const ForkCosts& fork_costs);

// top_n: rows shown when !all (the processes with the most copies, then the most faults).
std::string render_run_report(const nlohmann::json& report, size_t top_n, bool all);

}  // namespace cowwatch::cli
