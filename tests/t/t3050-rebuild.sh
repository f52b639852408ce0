#!/bin/bash
# The derived tables (fault, lock_wait, writer_op, io, vma, recon_anomaly) are
# rebuilt from the stored events by `faultlab ingest --rebuild`, and the
# rebuild gives exactly the rows ingest wrote while decoding.
. "$FL_ROOT/tests/t/lib.sh"

check "rebuild without a database fails" bash -c \
	"! '$FAULTLAB' ingest --rebuild --db '$TMP/none.db' 2>'$TMP/err' && grep -q 'no database' '$TMP/err'"
check "rebuild with a file is a usage error" bash -c \
	"'$FAULTLAB' ingest --rebuild x.flc --db '$TMP/x.db' 2>/dev/null; [ \$? = 2 ]"

need_tracefs "live capture" || exit 0
"$FAULTLAB" capture -o "$TMP/w.flc" -- "$WORKLOADS/faultwork" 3 3000 200 64 >/dev/null 2>&1
"$FAULTLAB" ingest -q "$TMP/w.flc" --db "$TMP/w.db" >/dev/null || not_ok "ingest" "failed"

q="select count(*), sum(id * 7 + tid + address % 1000 + start_ns % 1000 + end_ns % 997 + attempts
	+ retry_drop + retry_io_miss + major + io_wait_ns + mmap_wait_ns), group_concat(distinct path)
	from fault;
   select count(*), sum(start_ns % 10007 + coalesce(acquired_ns, 0) % 10007) from lock_wait;
   select count(*), sum(coalesce(write_hold_ns, 0) + coalesce(blocked_ns, 0) % 10007) from writer_op;
   select count(*) from io;
   select count(*), sum(start % 9973 + valid_from_ns % 9973 + coalesce(valid_to_ns, 1) % 9973),
	group_concat(distinct source) from vma;
   select kind, count from recon_anomaly order by kind;"
sqlite3 "$TMP/w.db" "$q" > "$TMP/before" 2>&1
faults=$(sqlite3 "$TMP/w.db" "select count(*) from fault")
if [ "${faults:-0}" -gt 3000 ]; then ok "ingest reconstructed $faults faults"; else
	not_ok "ingest reconstructed faults" "only ${faults:-0}"; fi
"$FAULTLAB" ingest --rebuild --db "$TMP/w.db" > "$TMP/out" 2>&1
if grep -q '^capture 1: reconstructed from [0-9]* events' "$TMP/out"; then ok "rebuild ran"; else
	not_ok "rebuild ran" "$(cat "$TMP/out")"; fi
sqlite3 "$TMP/w.db" "$q" > "$TMP/after" 2>&1
if grep -qi 'error' "$TMP/before" "$TMP/after"; then
	not_ok "comparison queries run" "$(grep -i error "$TMP/before" | head -3)"; fi
if cmp -s "$TMP/before" "$TMP/after"; then ok "rebuild gives the rows ingest wrote"; else
	not_ok "rebuild gives the rows ingest wrote" "$(diff "$TMP/before" "$TMP/after" | head -5)"; fi
