#!/bin/bash
# t3200-noexceptions.sh - the CLI on a capture without a page-fault tracepoint.
#
# arm64 has no exceptions:page_fault_* (kernel-semantics.md §9.1). The unit test
# recon_golden_noexceptions encodes such a capture (header: arch and uname.machine
# aarch64, kernel 6.12, events.missing = the two exceptions events; mmap_lock, filemap,
# sched, block and syscall events in real ring-buffer sub-buffers) and writes it here.
# `faultlab ingest` and `faultlab report` must take it without a crash or an invented fault:
# no fault rows, the lock_wait, writer_op and io rows there; the report says first that
# page-fault events are missing and which metrics that costs (text: n/a; JSON: null, never
# 0), while the mmap_lock numbers are measured; `ingest --rebuild` gives the same rows.
. "$(dirname "$0")/lib.sh"

UNIT=${B:-build}/tests/unit-tests
DB=$TMP/a.db
q() { sqlite3 "$DB" "$@"; }

if ! (cd "${FL_ROOT:-.}" && FL_RECON_FLC_OUT=$TMP/arm64.flc "$UNIT" recon_golden_noexceptions) \
	>"$TMP/unit.out" 2>&1 || [ ! -s "$TMP/arm64.flc" ]; then
	not_ok "the unit test writes the capture" "$(tail -n 5 "$TMP/unit.out")"
	exit 0
fi
ok "the unit test writes the capture ($(stat -c %s "$TMP/arm64.flc") bytes)"

check "info shows the missing events" bash -c "'$FAULTLAB' info '$TMP/arm64.flc' >'$TMP/info' &&
	grep -q aarch64 '$TMP/info' && grep -q 'exceptions:page_fault_user' '$TMP/info'"
if "$FAULTLAB" ingest "$TMP/arm64.flc" --db "$DB" >"$TMP/in.out" 2>&1; then
	ok "ingest"
else
	not_ok "ingest" "$(cat "$TMP/in.out")"
	exit 0
fi
rows=$(q "SELECT (SELECT count(*) FROM fault), (SELECT count(*) FROM lock_wait),
	(SELECT count(*) FROM writer_op), (SELECT count(*) FROM io),
	(SELECT fault_tp FROM recon), (SELECT count(*) FROM recon_anomaly)")
[ "$rows" = "0|3|2|1|0|0" ] && ok "no fault rows; 3 lock waits, 2 writers, 1 block request, no anomaly" ||
	not_ok "rows (fault|lock_wait|writer_op|io|fault_tp|anomalies)" "$rows"

if "$FAULTLAB" report --db "$DB" >"$TMP/r.txt" 2>&1 &&
	"$FAULTLAB" report --db "$DB" --format json >"$TMP/r.json" 2>"$TMP/r.err"; then
	ok "report text and json"
else
	not_ok "report" "$(cat "$TMP/r.txt" "$TMP/r.err")"
	exit 0
fi
# the first warning, before the first section, names the missing events
first=$(grep -n 'WARNING' "$TMP/r.txt" | head -n 1)
sect=$(grep -n '^Faults$' "$TMP/r.txt" | head -n 1 | cut -d: -f1)
case $first in
*"page-fault events are missing"*)
	[ "${first%%:*}" -lt "${sect:-0}" ] && ok "text: first warning, before the sections" ||
		not_ok "text: warning before the sections" "line ${first%%:*}, Faults at ${sect:-none}" ;;
*) not_ok "text: first warning is about page-fault events" "$first" ;;
esac
tr -s ' \n' '  ' <"$TMP/r.txt" >"$TMP/r.flat"
grep -q 'exceptions:page_fault_user, exceptions:page_fault_kernel' "$TMP/r.flat" &&
	grep -q 'fault_latency_us are not available' "$TMP/r.flat" &&
	grep -Eq 'whole capture +n/a +n/a +n/a' "$TMP/r.txt" &&
	ok "text: the missing events, the unavailable metrics, n/a in the tables" ||
	not_ok "text: the missing events and n/a" "$(head -n 20 "$TMP/r.txt")"

cat >"$TMP/check.py" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
errs = []
NEED = ["faults_user", "faults_kernel", "faults_major", "path_vma", "path_vma_retry_mmap",
        "path_vma_retry_vma", "path_mmap", "path_unknown", "retry_drop", "retry_io_miss",
        "miss_drop_pct", "io_wait_us", "io_wait_locked_us"]
for scope, m in [("capture", j["metrics"])] + [("process %d" % p["tgid"], p["metrics"])
                                                 for p in j["processes"]]:
    for k in NEED:
        if m.get(k, 0) is not None:
            errs.append("%s: %s = %r, not null" % (scope, k, m.get(k)))
    if m.get("fault_latency_us") != {"p50": None, "p99": None, "max": None}:
        errs.append("%s: fault_latency_us = %r" % (scope, m.get("fault_latency_us")))
    if m.get("mmap_read_acq") != 2 or m.get("mmap_write_acq") != 2:
        errs.append("%s: acquisitions %r %r" % (scope, m.get("mmap_read_acq"),
                                                m.get("mmap_write_acq")))
    if sum(m["mmap_write_wait_hist"]) != 2 or m["mmap_write_wait_us"]["max"] <= 0:
        errs.append("%s: write waits not measured" % scope)
rc = j["reconstruction"]
if rc.get("fault_tp") is not False:
    errs.append("reconstruction.fault_tp %r" % rc.get("fault_tp"))
if rc.get("fault_events_missing") != "exceptions:page_fault_user, exceptions:page_fault_kernel":
    errs.append("fault_events_missing %r" % rc.get("fault_events_missing"))
if set(rc.get("unavailable_metrics", [])) != set(NEED) | {"fault_latency_us"}:
    errs.append("unavailable_metrics %r" % rc.get("unavailable_metrics"))
print("; ".join(errs))
PY
errs=$(python3 "$TMP/check.py" "$TMP/r.json" 2>&1)
[ -z "$errs" ] && ok "json: fault metrics null (whole capture and per process), mmap_lock measured" ||
	not_ok "json: fault metrics null, mmap_lock measured" "$errs"

before=$(q "SELECT count(*), sum(start_ns + coalesce(acquired_ns, 0)) FROM lock_wait")
"$FAULTLAB" ingest --rebuild --db "$DB" >"$TMP/rb.out" 2>&1 &&
	[ "$(q "SELECT count(*), sum(start_ns + coalesce(acquired_ns, 0)) FROM lock_wait")" = "$before" ] &&
	[ "$(q "SELECT count(*) FROM fault")" = 0 ] && ok "rebuild gives the same rows" ||
	not_ok "rebuild gives the same rows" "$(tail -n 2 "$TMP/rb.out")"
