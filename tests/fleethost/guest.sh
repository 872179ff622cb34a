#!/bin/bash
# In-guest part of the fleethost tier: runs as root under systemd (fleet-test.service) on a fresh
# Debian boot with no network; /run/fleet holds this script and cowwatch.deb. Output goes to the
# second serial port, read by fleethost.py:
#   @@FLEET CHECK <name> PASS|FAIL <detail>@@   one assertion
#   @@FLEET VALUE <name> <value>@@              a measurement
#   @@FLEET BEGIN <name>@@ ... @@FLEET END <name>@@   data the host compares (JSON, status)
# No fixed sleeps: every wait polls with a timeout.
set -u
U=cowwatch.service
CONF=/etc/cowwatch/cowwatch.yaml
DEB=/run/fleet/cowwatch.deb

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
running() { [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
cw_progs() { bpftool prog show 2>/dev/null | awk -F: '/ name cw_/ { print $1 }' | sort -n; }
# Links whose program is one of the given ids (bpftool link show: "ID: TYPE  prog PROG_ID ...").
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
