#!/bin/bash
# t2100-report.sh - `faultlab report`: usage and errors, JSON that parses, the
# latest capture by default, and live (root + tracefs): faults_user +
# faults_kernel of a faultwork capture equal the workload's own getrusage
# count (minflt + majflt, self and children) within 0.5%.
. "$(dirname "$0")/lib.sh"

TRACEDAT=$FL_ROOT/tests/golden/tracedat-x86_64-6.18/trace.dat
DB=$TMP/r.db

# metric FILE NAME: a number from the report JSON's metrics object.
metric() {
	python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['metrics'][sys.argv[2]])" \
		"$1" "$2" 2>/dev/null
}

# --- usage and errors ------------------------------------------------------------------
"$FAULTLAB" report --help >"$TMP/out" 2>&1
[ $? = 0 ] && grep -q -- '--capture' "$TMP/out" && ok "help" || not_ok "help"
"$FAULTLAB" report --format xml --db "$DB" >/dev/null 2>&1
[ $? = 2 ] && ok "unknown format exits 2" || not_ok "unknown format exits 2"
"$FAULTLAB" report --db "$TMP/none.db" >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "none.db" "$TMP/err" && [ ! -e "$TMP/none.db" ] &&
	ok "missing database: exit 1, not created" || not_ok "missing database: exit 1, not created"
echo "not a database" >"$TMP/text.db"
"$FAULTLAB" report --db "$TMP/text.db" >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "not a faultlab database" "$TMP/err" && ok "not a database: exit 1" ||
	not_ok "not a database: exit 1" "$(cat "$TMP/err")"

# --- a trace.dat (no tracing needed): every fault counts, the JSON parses ----------------
if "$FAULTLAB" ingest "$TRACEDAT" --db "$DB" >/dev/null 2>&1; then
	"$FAULTLAB" report --db "$DB" --format json >"$TMP/td.json" 2>"$TMP/err"
	if [ $? = 0 ] && python3 -m json.tool "$TMP/td.json" >/dev/null 2>&1; then
		ok "report json parses"
	else not_ok "report json parses" "$(cat "$TMP/err"; head -5 "$TMP/td.json")"; fi
	want_u=$(sqlite3 "$DB" "SELECT count(*) FROM ev_page_fault WHERE user")
	want_k=$(sqlite3 "$DB" "SELECT count(*) FROM ev_page_fault WHERE NOT user")
	got_u=$(metric "$TMP/td.json" faults_user)
	got_k=$(metric "$TMP/td.json" faults_kernel)
	[ "$got_u" = "$want_u" ] && [ "$got_k" = "$want_k" ] && [ "$got_u" -gt 0 ] &&
		ok "trace.dat: faults_user $got_u, faults_kernel $got_k (every task)" ||
		not_ok "trace.dat: fault counts" "got $got_u/$got_k want $want_u/$want_k"
	"$FAULTLAB" report --db "$DB" >"$TMP/text" 2>&1
	[ $? = 0 ] && grep -q "faults_user *$want_u" "$TMP/text" &&
		grep -q "exceptions:page_fault_user" "$TMP/text" && ok "report text" ||
		not_ok "report text" "$(head -20 "$TMP/text")"
	"$FAULTLAB" report --db "$DB" --capture 7 >/dev/null 2>"$TMP/err"
	[ $? = 1 ] && grep -q "no capture 7" "$TMP/err" && ok "unknown capture: exit 1" ||
		not_ok "unknown capture: exit 1" "$(cat "$TMP/err")"
else
	not_ok "report json parses" "cannot ingest $TRACEDAT"
fi

need_tracefs "live" || exit 0

# --- faultwork: faults_user + faults_kernel = getrusage within 0.5% -------------------------
"$FAULTLAB" capture -o "$TMP/fw.flc" -- "$WORKLOADS/faultwork" >"$TMP/fw.out" 2>"$TMP/fw.err"
rusage=$(sed -n 's/^rusage_faults=//p' "$TMP/fw.out")
if [ -z "$rusage" ]; then
	not_ok "capture faultwork" "$(cat "$TMP/fw.out" "$TMP/fw.err")"
	exit 0
fi
"$FAULTLAB" ingest "$TMP/fw.flc" --db "$DB" >/dev/null 2>"$TMP/err" ||
	not_ok "ingest faultwork" "$(cat "$TMP/err")"
# No --capture: the latest, i.e. faultwork's (the trace.dat is capture 1).
"$FAULTLAB" report --db "$DB" --format json >"$TMP/fw.json" 2>"$TMP/err"
python3 -m json.tool "$TMP/fw.json" >/dev/null 2>&1 && ok "faultwork report json parses" ||
	not_ok "faultwork report json parses" "$(cat "$TMP/err")"
cid=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['capture']['id'])" \
	"$TMP/fw.json" 2>/dev/null)
[ "$cid" = 2 ] && ok "default capture is the latest" || not_ok "default capture is the latest" \
	"capture id $cid"
u=$(metric "$TMP/fw.json" faults_user)
k=$(metric "$TMP/fw.json" faults_kernel)
lost=$(metric "$TMP/fw.json" events_lost)
if [ -n "$u" ] && [ -n "$k" ] && python3 -c "
import sys
u, k, r = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.exit(0 if r > 0 and abs(u + k - r) <= 0.005 * r else 1)" "$u" "$k" "$rusage"; then
	ok "faults_user $u + faults_kernel $k = rusage $rusage within 0.5%"
else not_ok "faults = rusage within 0.5%" "user=$u kernel=$k rusage=$rusage"; fi
[ "$lost" = 0 ] && ok "no lost events" || not_ok "no lost events" "lost=$lost"
# faultwork's kernel-mode faults come from its pread into fresh memory: KPAGES (1000) of them.
[ "${k:-0}" -ge 1000 ] && ok "kernel-mode faults counted ($k >= 1000)" ||
	not_ok "kernel-mode faults counted" "faults_kernel=$k"
# The same capture by id, in text.
"$FAULTLAB" report --db "$DB" --capture 2 >"$TMP/text" 2>&1
grep -q "faults_user *$u" "$TMP/text" && grep -q "mode *command: .*faultwork" "$TMP/text" &&
	ok "report --capture 2 text" || not_ok "report --capture 2 text" "$(head -8 "$TMP/text")"
