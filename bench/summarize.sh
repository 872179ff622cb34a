#!/bin/bash
# The issue-8 table from the outputs of one `bench/run.sh` host run (model.txt, consumer.txt,
# storm.txt, scale.txt in DIR): each target, the figure measured for it in this run, met or not.
#   bench/summarize.sh DIR
set -euo pipefail
dir=$1
get() { # FILE AWK-PROGRAM: the program's output, or "?" when the file or the line is missing
  local out
  out=$( [ -f "$dir/$1" ] && awk "$2" "$dir/$1" 2>/dev/null || true)
  echo "${out:-?}"
}
# Kernel side (storm): slowdowns and ns per COW fault.
slow() { get storm.txt "index(\$0, \"$1\") == 1 { for (i = 1; i <= NF; i++) if (\$i ~ /^[0-9.]+x\$/) { sub(/x/, \"\", \$i); printf \"%.3f\", \$i; exit } }"; }
cw_slow=$(slow "cowwatch (daemon pipeline)")
floor_slow=$(slow "floor (empty program)")
count_slow=$(slow "counting floor")
cw_ratio=$(get storm.txt '$1 == "cowwatch" && $2 == "(all" { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) { sub(/x/, "", $i); print $i; exit } }')
cw_nsfault=$(get storm.txt '$1 == "cowwatch" && $2 == "(all" { print $4; exit }')
count_ratio=$(get storm.txt '$1 == "countfloor" && $2 == "(all" { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) { sub(/x/, "", $i); print $i; exit } }')
# Consumer.
reader=$(get consumer.txt 'index($0, "ring_buffer__consume + Aggregator") == 1 { print $(NF - 1); exit }')
policy=$(get consumer.txt 'index($0, "daemon:") == 1 { sub(/M$/, "", $(NF - 2)); print $(NF - 2), $NF; exit }')
lat=$(get consumer.txt 'index($0, "record (bpf_ktime_get_ns)") == 1 { printf "%.1f %.1f", $(NF - 2) / 1000, $(NF - 1) / 1000; exit }')
# Model.
agg=$(get model.txt '/^BM_AggregatorOnEvents256\/10000/ { for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { sub(/items_per_second=/, "", $i); sub(/M\/s/, "", $i); print $i; exit } }')
# The whole daemon.
rss=$(get scale.txt 'index($0, "daemon VmRSS with them") == 1 { for (i = 1; i <= NF; i++) if ($i == "median") { printf "%.1f", substr($(i + 3), 2) / 1024; exit } }')
scrape=$(get scale.txt 'index($0, "/metrics wall latency") == 1 { for (i = 1; i <= NF; i++) if ($i == "p99") { print $(i + 1); exit } }')

verdict() { # VALUE OP LIMIT
  [ "$1" = "?" ] && { echo "not measured"; return; }
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = op == "<=" ? v <= l : v >= l; print ok ? "met" : "missed" }'
}
pct() { [ "$1" = "?" ] && echo "?" || awk -v r="$1" 'BEGIN { printf "%+.1f", (r - 1) * 100 }'; }
read -r produced_drops_p drops <<<"${policy/\?/? ?}"
read -r lat_p50 lat_p99 <<<"${lat/\?/? ?}"
drops=${drops%\%}

echo "== issue 8 targets, this run (see docs/performance.md for what limits each) =="
printf '%-58s | %-58s | %s\n' "target" "measured" "verdict"
printf '%-58s | %-58s | %s\n' "BPF per COW fault <= 1.5x the empty program" \
  "${cw_ratio}x (${cw_nsfault} ns/COW fault); a bare count: ${count_ratio}x" "$(verdict "$cw_ratio" "<=" 1.5)"
printf '%-58s | %-58s | %s\n' "fork+write storm slowdown <= 4 %" \
  "$(pct "$cw_slow") % (empty program $(pct "$floor_slow") %, counting floor $(pct "$count_slow") %)" \
  "$(verdict "$cw_slow" "<=" 1.04)"
printf '%-58s | %-58s | %s\n' "drain + aggregation >= 10 M records/s on one core" "$reader M/s (CPU time)" \
  "$(verdict "$reader" ">=" 10)"
printf '%-58s | %-58s | %s\n' "zero drops at the producer's full rate (daemon policy)" \
  "${produced_drops_p} M/s produced, ${drops} % dropped" "$(verdict "${drops:-?}" "<=" 0)"
printf '%-58s | %-58s | %s\n' "aggregator >= 20 M records/s (10,000 processes)" "$agg M/s" "$(verdict "$agg" ">=" 20)"
printf '%-58s | %-58s | %s\n' "anomaly -> alert p99 <= 100 ms" "p50 $lat_p50 ms, p99 $lat_p99 ms" \
  "$(verdict "$lat_p99" "<=" 100)"
printf '%-58s | %-58s | %s\n' "daemon RSS <= 32 MiB at 10,000 tracked processes" "$rss MiB (median)" \
  "$(verdict "$rss" "<=" 32)"
printf '%-58s | %-58s | %s\n' "/metrics p99 <= 10 ms" "$scrape ms (loopback, real daemon)" "$(verdict "$scrape" "<=" 10)"
