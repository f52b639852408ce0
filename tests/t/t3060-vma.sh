#!/bin/bash
# t3060-vma.sh - the vma table (the address-space layout over time) on a live capture.
#
# faultwork (4 threads, anonymous and file faults, pread into fresh memory, a fork) under
# `faultlab capture`: every fault of the command lies in exactly one vma row of its process
# valid at the fault's time, and that row is the VMA the fault row names. The only faults
# allowed outside are those before the command's exec: they ran in faultlab's own child
# before it became the command, an address space no maps snapshot describes (counted and
# shown). Versions of one process never overlap in both address and time; rows made by a
# syscall name its writer_op of the same kind; a database made before the vma table existed
# gets it from `ingest --rebuild`, with the same rows.
. "$(dirname "$0")/lib.sh"

DB=$TMP/v.db
q() { sqlite3 "$DB" "$@"; }

need_tracefs "live-vma" || exit 0
if ! "$FAULTLAB" capture -o "$TMP/fw.flc" -- "$WORKLOADS/faultwork" 4 2000 1000 500 \
	>"$TMP/cap.out" 2>&1 || ! "$FAULTLAB" ingest -q "$TMP/fw.flc" --db "$DB" >"$TMP/in.out" 2>&1; then
	not_ok "capture and ingest" "$(tail -n 3 "$TMP/cap.out" "$TMP/in.out" 2>/dev/null)"
	exit 0
fi

# the exec of each process, if the capture has it (0: none)
EXEC="(SELECT coalesce(min(e.ts), 0) FROM event e JOIN ev_type n ON n.type = e.type
	WHERE n.name = 'sched_process_exec' AND e.tid = f.tgid)"
IN_VMA="EXISTS (SELECT 1 FROM vma v WHERE v.capture = f.capture AND v.tgid = f.tgid
	AND v.start <= f.address AND f.address < v.end AND v.valid_from_ns <= f.start_ns
	AND (v.valid_to_ns IS NULL OR f.start_ns < v.valid_to_ns))"
nf=$(q "SELECT count(*) FROM fault")
rows=$(q "SELECT count(*) FROM vma")
out_after=$(q "SELECT count(*) FROM fault f WHERE NOT $IN_VMA AND f.start_ns >= $EXEC")
out_before=$(q "SELECT count(*) FROM fault f WHERE NOT $IN_VMA AND f.start_ns < $EXEC")
if [ "$nf" -ge 10000 ] && [ "$rows" -ge 30 ] && [ "$out_after" = 0 ]; then
	ok "every fault lies in a vma row valid at its time ($nf faults, $rows rows; $out_before before the exec, outside)"
else
	not_ok "every fault lies in a vma row valid at its time" "$nf faults, $rows rows, \
$out_after outside after the exec: $(q "SELECT id, tid, printf('%x', address), start_ns, vma_kind
	FROM fault f WHERE NOT $IN_VMA AND f.start_ns >= $EXEC LIMIT 5")"
fi
[ "$out_before" -le 10 ] && ok "faults before the exec, outside any row: $out_before" ||
	not_ok "faults before the exec are few" "$out_before"

# exactly one row, and the one the fault row names
multi=$(q "SELECT count(*) FROM fault f WHERE (SELECT count(*) FROM vma v WHERE v.tgid = f.tgid
	AND v.start <= f.address AND f.address < v.end AND v.valid_from_ns <= f.start_ns
	AND (v.valid_to_ns IS NULL OR f.start_ns < v.valid_to_ns)) > 1")
named=$(q "SELECT count(*) FROM fault f WHERE $IN_VMA AND NOT EXISTS (SELECT 1 FROM vma v
	WHERE v.tgid = f.tgid AND v.start = f.vma_start AND v.end = f.vma_end
	AND v.valid_from_ns <= f.start_ns AND (v.valid_to_ns IS NULL OR f.start_ns < v.valid_to_ns))")
[ "$multi" = 0 ] && [ "$named" = 0 ] && ok "the row is unique and is the fault's vma" ||
	not_ok "the row is unique and is the fault's vma" "$multi in several, $named elsewhere"

overlap=$(q "SELECT count(*) FROM vma a JOIN vma b ON a.capture = b.capture AND a.tgid = b.tgid
	AND a.id < b.id AND a.start < b.end AND b.start < a.end
	AND a.valid_from_ns < coalesce(b.valid_to_ns, 9e18) AND b.valid_from_ns < coalesce(a.valid_to_ns, 9e18)")
[ "$overlap" = 0 ] && ok "versions never overlap in address and time" ||
	not_ok "versions never overlap" "$overlap pairs: $(q "SELECT a.id, b.id FROM vma a JOIN vma b
	ON a.tgid = b.tgid AND a.id < b.id AND a.start < b.end AND b.start < a.end
	AND a.valid_from_ns < coalesce(b.valid_to_ns, 9e18)
	AND b.valid_from_ns < coalesce(a.valid_to_ns, 9e18) LIMIT 5")"

sources=$(q "SELECT group_concat(source, ' ') FROM (SELECT DISTINCT source FROM vma ORDER BY 1)")
missing=
for want in maps-start mmap mprotect munmap-split; do
	case " $sources " in *" $want "*) ;; *) missing="$missing $want" ;; esac
done
[ -z "$missing" ] && ok "sources: $sources" ||
	not_ok "sources maps-start, mmap, mprotect and munmap-split" "$sources (lacks$missing)"
bad=$(q "SELECT count(*) FROM vma v LEFT JOIN writer_op o ON o.capture = v.capture
	AND o.id = v.writer_op WHERE v.source IN ('mmap', 'mprotect', 'mremap', 'brk')
	AND (o.sys IS NULL OR o.sys != v.source)")
[ "$bad" = 0 ] && ok "rows made by a syscall name its writer_op" ||
	not_ok "rows made by a syscall name its writer_op" "$bad rows do not"

sum="SELECT count(*), sum(start % 9973 + end % 9973 + valid_from_ns % 9973
	+ coalesce(valid_to_ns, 1) % 9973 + prot), group_concat(DISTINCT source) FROM vma"
before=$(q "$sum")
q "DROP TABLE vma"
if "$FAULTLAB" ingest --rebuild --db "$DB" >"$TMP/rb.out" 2>&1 && [ "$(q "$sum")" = "$before" ]; then
	ok "a database without the vma table gets it from --rebuild ($before)"
else
	not_ok "a database without the vma table gets it from --rebuild" \
		"$before vs $(q "$sum" 2>&1): $(tail -n 2 "$TMP/rb.out")"
fi
