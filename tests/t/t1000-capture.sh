#!/bin/bash
# t1000-capture.sh - `faultlab capture` from the command line, live (root +
# tracefs): usage errors, a capture of faultwork, the command's exit status,
# clear errors that leave no instance and no file, SIGINT/SIGTERM/SIGHUP,
# a SIGKILLed capture's instance removed by the next capture, -a --duration.
. "$(dirname "$0")/lib.sh"

INST=/sys/kernel/tracing/instances

# no_instance PID: the capture with that pid left no instance behind.
no_instance() {
	! ls "$INST" 2>/dev/null | grep -qE "^faultlab-$1(-g)?\$"
}

# ends_with_end FILE: the last 40 bytes are the END record (skippable frame, "FLC1", kind 5).
ends_with_end() {
	local hex
	hex=$(tail -c 40 "$1" | od -An -tx1 | tr -d ' \n')
	[ "${hex:0:8}" = 5e2a4d18 ] && [ "${hex:16:8}" = 464c4331 ] && [ "${hex:24:4}" = 0500 ]
}

# header_has FILE STRING: STRING appears in the decompressed records (header keys are plain text).
header_has() {
	zstd -dc "$1" 2>/dev/null | grep -aqF -- "$2"
}

# --- usage (no tracefs needed) ---
"$FAULTLAB" capture --help >"$TMP/help" 2>&1
if [ $? = 0 ] && grep -q -- '--buffer-kb' "$TMP/help"; then ok "help"; else not_ok "help"; fi
"$FAULTLAB" capture --no-such-option >/dev/null 2>&1
[ $? = 2 ] && ok "bad option exits 2" || not_ok "bad option exits 2"
"$FAULTLAB" capture -o "$TMP/x.flc" >/dev/null 2>"$TMP/err"
[ $? = 2 ] && grep -q 'nothing to record' "$TMP/err" && ok "no command exits 2" ||
	not_ok "no command exits 2"
"$FAULTLAB" capture --duration abc -a >/dev/null 2>&1
[ $? = 2 ] && ok "bad duration exits 2" || not_ok "bad duration exits 2"

need_tracefs "live" || exit 0
command -v zstd >/dev/null || { not_ok "zstd" "the zstd program is needed (make deps)"; exit 0; }

# --- a capture of faultwork ---
"$FAULTLAB" capture -o "$TMP/fw.flc" -- "$WORKLOADS/faultwork" 2 500 200 100 >"$TMP/fw.out" \
	2>"$TMP/fw.err" &
pid=$!
wait $pid
rc=$?
if [ $rc = 0 ] && grep -q '^rusage_faults=' "$TMP/fw.out"; then ok "faultwork capture exits 0"; else
	not_ok "faultwork capture exits 0" "rc=$rc: $(cat "$TMP/fw.err")"; fi
no_instance $pid && ok "no instance after a capture" || not_ok "no instance after a capture"
zstd -tq "$TMP/fw.flc" 2>/dev/null && ok "zstd -t accepts the capture" ||
	not_ok "zstd -t accepts the capture"
if header_has "$TMP/fw.flc" "exceptions:page_fault_user" &&
   header_has "$TMP/fw.flc" "format/mmap_lock/mmap_lock_start_locking" &&
   header_has "$TMP/fw.flc" "events.missing"; then ok "header lists the events"; else
	not_ok "header lists the events"; fi
ends_with_end "$TMP/fw.flc" && ok "capture ends with END" || not_ok "capture ends with END"
grep -q "0 lost events" "$TMP/fw.err" && ok "summary: 0 lost events" ||
	not_ok "summary: 0 lost events" "$(cat "$TMP/fw.err")"

# --- not root: a clear error before anything is created ---
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FAULTLAB" capture -o "$TMP/nr.flc" \
		-- true 2>"$TMP/err"
	rc=$?
	if [ $rc = 1 ] && grep -q "not root" "$TMP/err" && [ ! -e "$TMP/nr.flc" ]; then
		ok "not root"; else not_ok "not root" "rc=$rc $(cat "$TMP/err")"; fi
fi

# --- the command's memory cgroup, followed when it moves (run-in-memcg.sh) ---
if [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
	"$FAULTLAB" capture -o "$TMP/mc.flc" --events sched:sched_process_exit -- \
		"$FL_ROOT/tests/workloads/run-in-memcg.sh" 48M sleep 0.5 2>"$TMP/err"
	rc=$?
	lim=$(zstd -dc "$TMP/mc.flc" 2>/dev/null | grep -ac 'memcg.limit_bytes.\{4\}50331648')
	left=$(find /sys/fs/cgroup/memory -maxdepth 4 -type d -name 'faultlab-[0-9]*' 2>/dev/null |
		while read -r d; do p=${d##*faultlab-}; kill -0 "$p" 2>/dev/null || echo "$d"; done)
	if [ $rc = 0 ] && [ "$lim" -ge 1 ] && [ -z "$left" ]; then ok "memcg limit recorded, cgroup removed"
	else not_ok "memcg limit recorded, cgroup removed" "rc=$rc lim=$lim left=$left"; fi
fi

# --- exit status of the command ---
"$FAULTLAB" capture -o "$TMP/st.flc" -- sh -c 'exit 7' 2>/dev/null
[ $? = 7 ] && ok "command exit status returned" || not_ok "command exit status returned"
"$FAULTLAB" capture -o "$TMP/st.flc" -- sh -c 'kill -USR1 $$' 2>/dev/null
[ $? = $((128 + 10)) ] && ok "killed command gives 128+signal" ||
	not_ok "killed command gives 128+signal"

# --- clear errors: status, message, no instance, no file ---
"$FAULTLAB" capture -o "$TMP/e1.flc" --events 'sched:sched_switch,nosuch:event' -- true \
	2>"$TMP/err" &
pid=$!; wait $pid; rc=$?
if [ $rc = 1 ] && grep -q "unknown event 'nosuch:event'" "$TMP/err" && no_instance $pid &&
   [ ! -e "$TMP/e1.flc" ]; then ok "unknown event"; else
	not_ok "unknown event" "rc=$rc $(cat "$TMP/err")"; fi
"$FAULTLAB" capture -o "$TMP/e1.flc" --events 'nosuchsystem:*' -- true 2>"$TMP/err"
[ $? = 1 ] && grep -q "unknown event system 'nosuchsystem'" "$TMP/err" &&
	ok "unknown event system" || not_ok "unknown event system" "$(cat "$TMP/err")"
"$FAULTLAB" capture -o "$TMP/ok.flc" --events 'sched:*,exceptions:page_fault_user' -- true \
	2>/dev/null
[ $? = 0 ] && header_has "$TMP/ok.flc" "sched:sched_switch" && ok "--events sys:* expands" ||
	not_ok "--events sys:* expands"

"$FAULTLAB" capture -o "$TMP/e2.flc" -- no-such-command-faultlab 2>"$TMP/err" &
pid=$!; wait $pid; rc=$?
if [ $rc = 127 ] && grep -q "cannot run 'no-such-command-faultlab': command not found" "$TMP/err" &&
   no_instance $pid && [ ! -e "$TMP/e2.flc" ]; then ok "command not found"; else
	not_ok "command not found" "rc=$rc $(cat "$TMP/err")"; fi
# exec fails only in the child (a directory passes the access check): still cleaned up
"$FAULTLAB" capture -o "$TMP/e3.flc" -- /tmp 2>"$TMP/err" &
pid=$!; wait $pid; rc=$?
if [ $rc = 127 ] && grep -q "cannot run '/tmp'" "$TMP/err" && no_instance $pid &&
   [ ! -e "$TMP/e3.flc" ]; then ok "exec failure"; else
	not_ok "exec failure" "rc=$rc $(cat "$TMP/err")"; fi
"$FAULTLAB" capture -o /nonexistent-dir/x.flc -- true 2>"$TMP/err" &
pid=$!; wait $pid; rc=$?
if [ $rc = 1 ] && grep -q "cannot create '/nonexistent-dir/x.flc'" "$TMP/err" && no_instance $pid
then ok "output not writable"; else not_ok "output not writable" "rc=$rc $(cat "$TMP/err")"; fi

# --- signals: the capture stops, forwards the signal, leaves a complete file ---
for sig in INT TERM HUP; do
	"$FAULTLAB" capture -o "$TMP/sig.flc" -- sleep 30 2>"$TMP/err" &
	pid=$!
	sleep 1
	kill -$sig $pid
	wait $pid; rc=$?
	want=$((128 + $(kill -l $sig)))
	if [ $rc = $want ] && no_instance $pid && zstd -tq "$TMP/sig.flc" 2>/dev/null &&
	   ends_with_end "$TMP/sig.flc" && header_has "$TMP/sig.flc" "end.realtime_ns"; then
		ok "SIG$sig: no instance, complete file"; else
		not_ok "SIG$sig: no instance, complete file" "rc=$rc $(cat "$TMP/err")"; fi
	rm -f "$TMP/sig.flc"
done

# --- a SIGKILLed capture leaves its instance; the next capture removes it ---
# (in a subshell, whose "Killed" notice goes to /dev/null)
( "$FAULTLAB" capture -o "$TMP/kill.flc" -- sleep 30 2>/dev/null & echo $! >"$TMP/kpid"; wait ) \
	2>/dev/null &
outer=$!
sleep 1
pid=$(cat "$TMP/kpid")
child=$(cat "$INST/faultlab-$pid/set_event_pid" 2>/dev/null | head -1)
kill -KILL $pid
wait $outer
[ -n "$child" ] && kill "$child" 2>/dev/null
if [ -d "$INST/faultlab-$pid" ]; then
	"$FAULTLAB" capture -o "$TMP/next.flc" --events sched:sched_process_exit -- true 2>/dev/null
	no_instance $pid && ok "stale instance removed by the next capture" ||
		not_ok "stale instance removed by the next capture"
else
	not_ok "stale instance removed by the next capture" "SIGKILLed capture left no instance?"
fi
# The killed capture's file: readable up to where it stopped (no END).
zstd -tq "$TMP/kill.flc" 2>/dev/null; true

# --- whole system for a while ---
start=$(date +%s%N)
"$FAULTLAB" capture -a --duration 1 -o "$TMP/sys.flc" --events 'sched:sched_switch' \
	2>"$TMP/err" &
pid=$!; wait $pid; rc=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc = 0 ] && [ $elapsed -ge 1000 ] && [ $elapsed -lt 6000 ] && no_instance $pid &&
   zstd -tq "$TMP/sys.flc" && header_has "$TMP/sys.flc" "system" && ends_with_end "$TMP/sys.flc"
then ok "-a --duration 1"; else not_ok "-a --duration 1" "rc=$rc ${elapsed}ms $(cat "$TMP/err")"; fi
# -a stopped by SIGINT
"$FAULTLAB" capture -a -o "$TMP/sys2.flc" --events 'sched:sched_switch' 2>/dev/null &
pid=$!
sleep 1
kill -INT $pid
wait $pid; rc=$?
[ $rc = 0 ] && no_instance $pid && ends_with_end "$TMP/sys2.flc" && ok "-a stopped by SIGINT" ||
	not_ok "-a stopped by SIGINT" "rc=$rc"
