#!/bin/bash
# In-guest part of the fleethost tier: runs as root under systemd (fleet-test.service) on a fresh
# Debian boot with no network; /run/fleet holds this script, cowwatch.deb, the workload binary cwwl
# and tls/ (a CA, a server certificate and key, a password and its bcrypt hash). Output goes to the
# second serial port, read by fleethost.py:
#   @@FLEET CHECK <name> PASS|FAIL <detail>@@   one assertion
#   @@FLEET VALUE <name> <value>@@              a measurement
#   @@FLEET BEGIN <name>@@ ... @@FLEET END <name>@@   data the host compares (JSON, status)
# No fixed sleeps: every wait polls with a timeout.
set -u
U=cowwatch.service
CONF=/etc/cowwatch/cowwatch.yaml
DEB=/run/fleet/cowwatch.deb
CWWL=/run/fleet/cwwl
TLS=/run/fleet/tls
METRICS=http://127.0.0.1:9479/metrics
PROM=http://127.0.0.1:9090

mark() { echo "@@FLEET $*@@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
verdict() {  # verdict NAME DETAIL CMD...: PASS when CMD succeeds
  local name=$1 detail=$2
  shift 2
  if "$@"; then mark CHECK "$name" PASS "$detail"; else mark CHECK "$name" FAIL "$detail"; fi
}
data() {  # data NAME CMD...: the command's output as a named block for the host
  local name=$1
  shift
  mark BEGIN "$name"
  "$@" 2>&1
  mark END "$name"
}
wait_for() {  # wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds or time is up
  local deadline
  deadline=$(awk -v t="$(now)" -v s="$1" 'BEGIN { printf "%.3f", t + s }')
  shift
  until "$@"; do
    awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t < d) }' || return 1
    sleep 0.2
  done
}
prop() { systemctl show "$U" -p "$1" --value; }
# seconds (or ms with a 3rd argument 1e3) between two of the unit's *TimestampMonotonic properties
span() { awk -v a="$(prop "$1")" -v b="$(prop "$2")" -v u="${3:-1e6}" 'BEGIN { printf "%.1f", (b - a) / u }'; }
running() { [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
cw_progs() { bpftool prog show 2>/dev/null | awk -F: '/ name cw_/ { print $1 }' | sort -n; }
# Links whose program is one of the given ids (bpftool link show: "ID: TYPE  prog PROG_ID ...").
# exported NAME MATCHER...: sum of the daemon's /metrics samples of NAME whose labels contain every
# MATCHER (e.g. 'reason="shared"'); empty when there is none
exported() {
  local name=$1
  shift
  curl -sf "$METRICS" | awk -v n="$name{" -v m="$*" 'BEGIN { k = split(m, ms, " ") }
    index($0, n) == 1 || $1 == substr(n, 1, length(n) - 1) {
      for (i = 1; i <= k; i++) if (!index($0, ms[i])) next
      s += $NF; found = 1 }
    END { if (found) print s + 0 }'
}
# promq QUERY: the value of a one-sample instant query to the Prometheus in the guest ("" if none)
promq() { curl -sf "$PROM/api/v1/query" --data-urlencode "query=$1" | sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'; }
# field KEY LINE: KEY=value from a "cwwl result" line (the workload's own observation)
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
# lines of the unit's journal (this boot) after the first N: journal_after N
journal_after() { journalctl -b -u $U -o cat --no-pager | tail -n +$(($1 + 1)); }
journal_lines() { journalctl -b -u $U -o cat --no-pager | wc -l; }
links_of() { bpftool link show 2>/dev/null | awk -v ids=" $* " '/^[0-9]+:/ { for (i = 1; i < NF; i++) if ($i == "prog" && index(ids, " " $(i+1) " ")) print $1 }'; }

systemctl is-system-running --wait >/dev/null
mark VALUE boot "$(systemd-analyze | head -1)"
mark VALUE slowest_units "$(systemd-analyze blame --no-pager | head -4 | tr -s ' \n' ' ')"
mark VALUE guest "$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), $(systemctl --version | head -1)"

# --- install: dpkg -i with the runtime libraries already there (no network) ---
t=$(now)
dpkg -i "$DEB" >/tmp/dpkg.log 2>&1
rc=$?
mark VALUE install_s "$(since "$t")"
data dpkg_install cat /tmp/dpkg.log
verdict install "dpkg -i rc=$rc, status '$(dpkg-query -W -f='${Status}' cowwatch 2>&1)', dpkg --audit: '$(dpkg --audit 2>&1)'" \
  test "$rc" = 0 -a "$(dpkg-query -W -f='${Status}' cowwatch)" = "install ok installed" -a -z "$(dpkg --audit)"
verdict enabled "cowwatch.socket $(systemctl is-enabled cowwatch.socket), cowwatch.service $(systemctl is-enabled $U)" \
  systemctl -q is-enabled cowwatch.socket $U

# --- READY within 30 s ---
if wait_for 30 running; then ready=yes; else ready=no; fi
start=$(prop ExecMainStartTimestampMonotonic)
active=$(prop ActiveEnterTimestampMonotonic)
to_ready=$(awk -v a="$start" -v b="$active" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
mark VALUE exec_to_ready_s "$to_ready"
verdict ready_30s "active/running: READY=1 $to_ready s after ExecStart (postinst started it; $(since "$t") s since dpkg -i began); status '$(prop StatusText)'" \
  awk -v r="$to_ready" -v ok=$ready 'BEGIN { exit !(ok == "yes" && r > 0 && r <= 30) }'
data journal_start journalctl -b -u cowwatch.socket -u $U --no-pager -o short-monotonic
pid=$(prop MainPID)
data capabilities grep -E '^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$pid/status"
verdict capabilities_dropped "$(grep -E '^Cap(Eff|Prm|Amb)' "/proc/$pid/status" | tr -s '\t\n' '  ')" \
  test -z "$(grep -E '^Cap(Eff|Prm|Inh|Amb):' "/proc/$pid/status" | grep -v '0000000000000000')"
errs=$(journalctl -b -p err -u cowwatch.socket -u $U --no-pager -o cat)
verdict no_err_journal "journalctl -p err: '${errs}'" test -z "$errs"
eperm=$(journalctl -b -u $U --no-pager -o cat | grep -E 'Permission denied|Operation not permitted')
verdict no_eperm_journal "'${eperm}'" test -z "$eperm"

# --- hardening of the running unit: systemd-analyze security (online), every hook attached ---
systemd-analyze security $U --no-pager >/tmp/security.txt 2>&1
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' /tmp/security.txt)
mark VALUE exposure "$exposure"
data security grep -v '^✓' /tmp/security.txt
hooks=$(exported cowwatch_probe_info)
verdict security_exposure "systemd-analyze security $U (online): ${exposure:-none} (at most 2.0), with $hooks hooks attached (cowwatch_probe_info)" \
  awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.0) }'

# --- CLI: root and group cowwatch-cli through the socket systemd made; others refused ---
sock=$(stat -c '%U:%G %a' /run/cowwatch/cowwatch.sock 2>&1)
verdict socket_owner "/run/cowwatch/cowwatch.sock $sock" test "$sock" = "root:cowwatch-cli 660"
useradd -m -G cowwatch-cli member && useradd -m outsider
out=$(runuser -u member -- cowwatch status 2>&1)
rc=$?
verdict cli_member "cowwatch status as member of cowwatch-cli: rc=$rc: $(echo "$out" | head -2 | tr '\n' ' ')" test $rc = 0
out=$(runuser -u outsider -- cowwatch status 2>&1)
rc=$?
verdict cli_outsider_refused "cowwatch status as non-member: rc=$rc: $(echo "$out" | head -1)" \
  eval 'test $rc != 0 && echo "$out" | grep -qi "permission denied"'
# A member has no capabilities: this plan can only come from the daemon under the unit.
data plan_unit runuser -u member -- cowwatch probes --json
data plan_root cowwatchd --probes --json

# --- a real Prometheus (Debian's package) scrapes the unit; a workload's copies reach it ---
cat >/etc/prometheus/prometheus.yml <<'EOF'
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cowwatch
    static_configs:
      - targets: ["127.0.0.1:9479"]
EOF
t=$(now)
systemctl start prometheus
wait_for 120 curl -sf -o /dev/null "$PROM/-/ready"
mark VALUE prometheus_ready_s "$(since "$t")"
mark VALUE prometheus "$(prometheus --version 2>&1 | head -1)"
wl=$("$CWWL" cow_child 2>&1)
mark VALUE workload_cow_child "$wl"
n=$(field n "$wl")
Q='sum(cowwatch_comm_cow_copies_total{comm="wl_cow_child",reason="shared"})'
# Settled: Prometheus holds what the daemon exports now, and at least the n pages the child wrote.
copies_in_prometheus() {
  p=$(promq "$Q")
  d=$(exported cowwatch_comm_cow_copies_total 'comm="wl_cow_child"' 'reason="shared"')
  [ -n "$p" ] && [ "$p" = "$d" ] && [ "$p" -ge "${n:-1}" ] 2>/dev/null
}
t=$(now)
wait_for 60 copies_in_prometheus
mark VALUE prometheus_copies_s "$(since "$t")"
up=$(promq 'up{job="cowwatch"}')
verdict prometheus_copies "cwwl: '$wl'; Prometheus up=$up, $Q = ${p:-none}, the daemon's /metrics ${d:-none}; expected n..n+12 ($(since "$t") s after the workload)" \
  eval 'test "$up" = 1 -a -n "$p" -a "$p" = "$d" && test "$p" -ge "$n" -a "$p" -le $((n + 12))'
systemctl stop prometheus

# --- an alert reaches the journal with its structured fields (checked on the host) ---
wl=$("$CWWL" iouring_fork 2>&1)
mark VALUE workload_iouring_fork "$wl"
alert_logged() { journalctl -b -o json --no-pager COWWATCH_ALERT=fork_with_pins | grep -q '"COWWATCH_ALERT_STATE":"firing"'; }
t=$(now)
wait_for 30 alert_logged
mark VALUE alert_journal_s "$(since "$t")"
data alert_journal journalctl -b -o json --no-pager COWWATCH_ALERT=fork_with_pins

# --- systemctl reload with a bad file: the running configuration is kept ---
pid=$(prop MainPID)
cp "$CONF" /root/config.orig
echo "bogus_reload_key: 1" >>"$CONF"
lines=$(journal_lines)
systemctl reload $U
rc=$?
wait_for 20 eval 'journal_after $lines | grep -q bogus_reload_key'
said=$(journal_after "$lines" | grep bogus_reload_key | head -1)
reload_ok=$(exported cowwatch_config_last_reload_successful)
verdict reload_bad_keeps_old "systemctl reload rc=$rc; $(prop ActiveState)/$(prop SubState), MainPID $pid -> $(prop MainPID); journal: '$said'; cowwatch_config_last_reload_successful $reload_ok" \
  eval 'running && test "$(prop MainPID)" = "$pid" -a -n "$said" -a "$reload_ok" = 0'
mv /root/config.orig "$CONF"
systemctl reload $U
wait_for 20 eval 'test "$(exported cowwatch_config_last_reload_successful)" = 1'
verdict reload_good "reload of the fixed file: cowwatch_config_last_reload_successful $(exported cowwatch_config_last_reload_successful), MainPID $(prop MainPID)" \
  eval 'test "$(exported cowwatch_config_last_reload_successful)" = 1 -a "$(prop MainPID)" = "$pid"'

# --- restart: new programs and links, none of the old ones left ---
before=$(cw_progs | tr '\n' ' ')
t=$(now)
systemctl restart $U
wait_for 30 running
mark VALUE restart_s "$(since "$t")"
after=$(cw_progs | tr '\n' ' ')
left=$(for id in $before; do case " $after " in *" $id "*) echo "$id";; esac; done | tr '\n' ' ')
old_links=$(links_of $before | tr '\n' ' ')
verdict restart_no_leftover "cw_ programs before: [$before] after: [$after]; old programs left: [$left]; their links left: [$old_links]; links of the new ones: $(links_of $after | wc -l)" \
  test -n "$before" -a -z "$left" -a -z "$old_links" -a "$(echo $before | wc -w)" = "$(echo $after | wc -w)"

# --- a configuration that cannot work: fails once, stays failed, says why ---
cp "$CONF" /root/config.orig
echo "bogus_key: 1" >>"$CONF"
systemctl restart $U 2>/dev/null
rc=$?
# Watch for one restart delay and then some: a restart would have happened by then.
delay=$(prop RestartUSec)  # a time span: "5s", "1min 30s"
window=$(( $(systemd-analyze timespan "$delay" | awk '/μs:|us:/ { print int($2 / 1e6) }') + 5 ))
t=$(now)
restarted=no
while awk -v a="$t" -v b="$(now)" -v w="$window" 'BEGIN { exit !(b - a < w) }'; do
  case "$(prop ActiveState)" in activating|active|reloading) restarted=yes;; esac
  sleep 0.2
done
state="$(prop ActiveState)/$(prop Result) status=$(prop ExecMainStatus) NRestarts=$(prop NRestarts)"
data status_bad_config systemctl status $U --no-pager -l -n 5
verdict bad_config_fails_once "systemctl restart rc=$rc; after ${window} s: $state, reactivated: $restarted; StatusText '$(prop StatusText)'" \
  test $rc != 0 -a "$state" = "failed/exit-code status=2 NRestarts=0" -a $restarted = no
verdict bad_config_says_why "systemctl status names the key" \
  eval "systemctl status $U --no-pager -l -n 5 | grep -q \"unknown key 'bogus_key'\""
mv /root/config.orig "$CONF"
systemctl reset-failed $U
systemctl start $U
verdict recovers "fixed configuration: $(prop ActiveState)/$(prop SubState)" running

# --- kill -9: systemd restarts the daemon; READY again with every hook ---
pid=$(prop MainPID)
restarts=$(prop NRestarts)
nprogs=$(cw_progs | wc -l)
t=$(now)
kill -9 "$pid"
back() { running && [ "$(prop MainPID)" != "$pid" ] && [ "$(prop MainPID)" != 0 ]; }
wait_for 60 back
mark VALUE kill9_running_again_s "$(since "$t")"
mark VALUE kill9_exec_to_ready_s "$(span ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic)"
wait_for 10 eval 'test "$(cw_progs | wc -l)" = "$nprogs"'
verdict kill9_restarted "kill -9 $pid: $(prop ActiveState)/$(prop SubState) MainPID $(prop MainPID), NRestarts $restarts -> $(prop NRestarts), READY $(span ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic) s after ExecStart, $(since "$t") s after the kill; cw_ programs $nprogs -> $(cw_progs | wc -l)" \
  eval 'back && test "$(prop NRestarts)" = $((restarts + 1)) -a "$(cw_progs | wc -l)" = "$nprogs"'
data plan_after_kill runuser -u member -- cowwatch probes --json

# --- stop: SIGTERM -> exited (systemd's monotonic timestamps), with a scrape connection open ---
exec 3<>/dev/tcp/127.0.0.1/9479
printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n' >&3
read -r -t 10 answer <&3  # the scrape is served; the connection stays open (keep-alive, unread)
systemctl stop $U
exec 3<&-
# systemd sends SIGTERM just before it stamps ActiveExit, so the daemon's "signal Terminated:
# detaching and exiting" line (journald's receive time) can be earlier: the stop is timed from the
# earlier of the two to ExecMainExit (the main process was reaped).
active_exit=$(prop ActiveExitTimestampMonotonic)
main_exit=$(prop ExecMainExitTimestampMonotonic)
logged=$(journalctl -b -u $U -o json --no-pager | grep 'detaching and exiting' | tail -1 |
  sed -n 's/.*"__MONOTONIC_TIMESTAMP":"\([0-9]*\)".*/\1/p')
stop_ms=$(awk -v a="$active_exit" -v l="${logged:-$active_exit}" -v b="$main_exit" \
  'BEGIN { s = (l + 0 < a + 0) ? l : a; printf "%.1f", (b - s) / 1e3 }')
mark VALUE stop_ms "$stop_ms"
# The daemon times its own detach ("probes detached in X ms"): the kernel's part of a stop, one
# RCU-tasks wait per fentry target (docs/reliability.md), which TCG makes several times slower.
detach_ms=$(journalctl -b -u $U -o cat --no-pager | sed -n 's/^probes detached in \([0-9.]*\) ms$/\1/p' | tail -1)
rest_ms=$(awk -v s="$stop_ms" -v d="${detach_ms:-0}" 'BEGIN { printf "%.1f", s - d }')
mark VALUE stop_detach_ms "${detach_ms:-none}"
mark VALUE stop_split_ms "ActiveExit->logged $(awk -v a="$active_exit" -v b="$logged" 'BEGIN { printf "%.1f", (b - a) / 1e3 }'), logged->exited $(awk -v a="$logged" -v b="$main_exit" 'BEGIN { printf "%.1f", (b - a) / 1e3 }')"
data journal_stop journalctl -b -u $U --no-pager -o short-monotonic -n 6
verdict stop_time "SIGTERM (the earlier of ActiveExit and the daemon's log line) -> main process exited (ExecMainExit): $stop_ms ms, of which the kernel's detach ${detach_ms:-(not logged)} ms and the rest $rest_ms ms, with a keep-alive scrape connection open ('$(echo "$answer" | tr -d '\r')'); Result=$(prop Result), exit code $(prop ExecMainCode)/$(prop ExecMainStatus); fails when the rest is above 1000 ms or the whole above 3000 ms" \
  awk -v ms="$stop_ms" -v rest="$rest_ms" -v d="$detach_ms" -v r="$(prop Result)" 'BEGIN { exit !(r == "success" && d != "" && ms > 0 && rest <= 1000 && ms <= 3000) }'

# --- TLS with the key handed over by LoadCredential= (docs/deployment.md's recipe) ---
install -d -m 0755 /etc/cowwatch/tls
install -m 0644 "$TLS/server.crt" /etc/cowwatch/tls/server.crt
install -m 0600 "$TLS/server.key" /etc/cowwatch/tls/server.key
mkdir -p /etc/systemd/system/$U.d
printf '[Service]\nLoadCredential=server.key:/etc/cowwatch/tls/server.key\n' >/etc/systemd/system/$U.d/tls-key.conf
cat >/etc/cowwatch/web.yml <<EOF
tls_server_config:
  cert_file: /etc/cowwatch/tls/server.crt
  key_file: /run/credentials/cowwatch.service/server.key
basic_auth_users:
  prometheus: '$(cat "$TLS/hash")'
EOF
chmod 0644 /etc/cowwatch/web.yml
cp "$CONF" /root/config.orig
sed -i 's|^  web_config_file: ""|  web_config_file: /etc/cowwatch/web.yml|' "$CONF"
systemctl daemon-reload
systemctl start $U
wait_for 30 running
https() { curl -s --max-time 10 --cacert "$TLS/ca.crt" "$@" https://127.0.0.1:9479/metrics; }
wait_for 20 eval 'https -u "prometheus:$(cat "$TLS/password")" | grep -q "^cowwatch_probe_info"'
hooks_tls=$(https -u "prometheus:$(cat "$TLS/password")" | grep -c '^cowwatch_probe_info')
anon=$(https -o /dev/null -w '%{http_code}')
plain=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$METRICS")
verdict tls_load_credential "LoadCredential=server.key (key 0600 root), key_file /run/credentials/cowwatch.service/server.key: curl --cacert with basic auth: $hooks_tls probe_info lines; no password: HTTP $anon; plain HTTP: $plain; $(prop ActiveState)/$(prop SubState), LoadCredential '$(prop LoadCredential)'" \
  eval 'running && test "$hooks_tls" -ge 1 -a "$anon" = 401 -a "$plain" = 000'
data journal_tls eval 'journalctl -b -u $U --no-pager -o cat | tail -n 12'
mv /root/config.orig "$CONF"
rm -rf /etc/cowwatch/tls /etc/cowwatch/web.yml /etc/systemd/system/$U.d
systemctl daemon-reload

# --- purge: nothing left ---
t=$(now)
dpkg --purge cowwatch >/tmp/purge.log 2>&1
rc=$?
mark VALUE purge_s "$(since "$t")"
data dpkg_purge cat /tmp/purge.log
wait_for 10 test -z "$(cw_progs)"
files=$(find / -xdev -name '*cowwatch*' 2>/dev/null | tr '\n' ' ')
units=$(systemctl list-unit-files 'cowwatch*' --no-legend 2>/dev/null | tr '\n' ' ')
accounts=$(getent passwd | grep -i cowwatch; getent group | grep -i cowwatch)
verdict purge_clean "rc=$rc; files: [$files] units: [$units] users/groups: [$accounts] /run/cowwatch: $(test -e /run/cowwatch && echo present || echo gone); cw_ programs: [$(cw_progs | tr '\n' ' ')]" \
  test "$rc" = 0 -a -z "$files" -a -z "$units" -a -z "$accounts" -a ! -e /run/cowwatch -a -z "$(cw_progs)"
mark DONE
