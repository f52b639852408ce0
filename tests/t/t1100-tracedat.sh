#!/bin/bash
# t1100-tracedat.sh - a trace-cmd trace.dat, made live with `trace-cmd extract`
# (trace-cmd record does not work on the project's machines), ingests like a
# capture: faultlab's page-fault counts equal those `trace-cmd report` prints
# from the same file, and lie between faultwork's designed minimum and its
# getrusage count.
. "$(dirname "$0")/lib.sh"

need_tracefs "tracedat" || exit 0
command -v trace-cmd >/dev/null || { not_ok "trace-cmd" "trace-cmd is needed (make deps)"; exit 0; }

name=faultlab-t1100-$$
inst=/sys/kernel/tracing/instances/$name
cleanup() {
	if [ -d "$inst" ]; then
		echo 0 >"$inst/tracing_on"
		rmdir "$inst"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# --- a trace.dat of faultwork, from a scratch instance ---
if ! mkdir "$inst"; then not_ok "instance" "cannot create '$inst'"; exit 0; fi
echo 0 >"$inst/tracing_on"
echo 8192 >"$inst/buffer_size_kb"
echo 1 >"$inst/options/event-fork"
for e in exceptions/page_fault_user exceptions/page_fault_kernel sched/sched_process_fork \
	 mmap_lock/mmap_lock_start_locking mmap_lock/mmap_lock_acquire_returned \
	 mmap_lock/mmap_lock_released syscalls/sys_enter_mmap syscalls/sys_exit_mmap; do
	echo 1 >"$inst/events/$e/enable"
done
# The shell that becomes faultwork sets the filter on itself, then execs.
bash -c "echo \$\$ >$inst/set_event_pid && echo 1 >$inst/tracing_on &&
	exec '$WORKLOADS/faultwork' 2 500 200 100" >"$TMP/fw.out" 2>&1
echo 0 >"$inst/tracing_on"
# extract's stdout must not be a pipe (trace-cmd 3.1.6 then writes a broken file).
if trace-cmd extract -B "$name" -o "$TMP/fw.dat" >"$TMP/extract.log" 2>&1 && [ -s "$TMP/fw.dat" ]
then ok "trace-cmd extract"; else
	not_ok "trace-cmd extract" "$(tail -3 "$TMP/extract.log")"; exit 0; fi
[ -d "$inst" ] && { echo 0 >"$inst/tracing_on"; rmdir "$inst"; }
[ ! -d "$inst" ] && ok "no instance left" || not_ok "no instance left"

trace-cmd report -N -i "$TMP/fw.dat" >"$TMP/report.txt" 2>/dev/null
tc_user=$(grep -c ' page_fault_user: ' "$TMP/report.txt")
tc_kernel=$(grep -c ' page_fault_kernel: ' "$TMP/report.txt")
rusage=$(sed -n 's/^rusage_faults=//p' "$TMP/fw.out")
expmin=$(sed -n 's/^expected_min=//p' "$TMP/fw.out")
if [ -n "$rusage" ] && [ -n "$expmin" ] && [ "$tc_user" -gt 0 ]; then ok "faultwork ran"; else
	not_ok "faultwork ran" "$(cat "$TMP/fw.out")"; exit 0; fi

# --- faultlab reads it ---
"$FAULTLAB" ingest "$TMP/fw.dat" --db "$TMP/fw.db" >"$TMP/ingest.out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q 'not a faultlab capture' "$TMP/ingest.out"; then
	skip "ingest" "faultlab ingest does not take trace.dat yet (fl_decoder_open_tracedat)"
	exit 0
fi
[ $rc = 0 ] && ok "ingest a trace.dat" || not_ok "ingest a trace.dat" "$(cat "$TMP/ingest.out")"
"$FAULTLAB" report --db "$TMP/fw.db" --format json >"$TMP/report.json" 2>&1
fl_user=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"]["faults_user"])' < "$TMP/report.json" 2>/dev/null)
fl_kernel=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"]["faults_kernel"])' < "$TMP/report.json" 2>/dev/null)
if [ "$fl_user" = "$tc_user" ] && [ "$fl_kernel" = "$tc_kernel" ]; then
	ok "fault counts equal trace-cmd report's"; else
	not_ok "fault counts equal trace-cmd report's" \
		"faultlab user=$fl_user kernel=$fl_kernel," \
		"trace-cmd user=$tc_user kernel=$tc_kernel"; fi
total=$(( ${fl_user:-0} + ${fl_kernel:-0} ))
if [ "$total" -ge "$expmin" ] && [ "$total" -le "$rusage" ]; then
	ok "fault count within faultwork's bounds"; else
	not_ok "fault count within faultwork's bounds" "$expmin <= $total <= $rusage"; fi
"$FAULTLAB" ingest "$TMP/fw.dat" --db "$TMP/fw.db" >/dev/null 2>&1 &&
	[ "$(sqlite3 "$TMP/fw.db" 'SELECT count(*) FROM capture')" = 1 ] &&
	ok "ingest twice keeps one capture" || not_ok "ingest twice keeps one capture"
