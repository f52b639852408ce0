#!/bin/bash
# t3000-reconstruct.sh - the fault reconstruction on real captures from three kernels.
#
# Live on this machine (6.18, per-VMA locks): faultwork's pread kernel-mode faults
# are all path 'mmap' (kernel-mode faults never use the VMA lock); its threads'
# writes to fresh anonymous pages are almost all 'vma'; its fork is a writer_op
# holding the write lock; the reconstruction read every event ingest stored.
# Debian 6.1 under QEMU (tests/kernels, cached captures): no per-VMA lock, so
# every user fault is 'mmap'. Debian 6.12: user faults under the VMA lock, and
# the page-cache thrash shows VMA attempts that dropped for I/O and retried under
# mmap_lock (vma_retry_mmap, retry_drop > 0). Histogram bins add up to the
# acquisition counts; the reconstruction can be rerun from the database alone.
. "$(dirname "$0")/lib.sh"

DB=$TMP/r.db
q() { sqlite3 "$DB" "$@"; }

# common ID NAME: checks that hold for every capture
common() {
	local id=$1 name=$2 ev rec
	ev=$(q "SELECT events FROM capture WHERE id = $id")
	rec=$(q "SELECT events FROM recon WHERE capture = $id")
	[ -n "$ev" ] && [ "$ev" = "$rec" ] && ok "$name/recon read every event ($rec)" ||
		not_ok "$name/recon read every event" "capture has '$ev', recon read '$rec'"
	local nf npf
	nf=$(q "SELECT count(*) FROM fault WHERE capture = $id")
	npf=$(q "SELECT count(*) FROM event e JOIN capture c ON c.id = $id
		 WHERE e.id BETWEEN c.event_first_id AND c.event_last_id AND e.type IN (1, 2) AND e.inst = 0")
	[ "$nf" = "$npf" ] && [ "$nf" -gt 0 ] && ok "$name/one fault row per page_fault event ($nf)" ||
		not_ok "$name/one fault row per page_fault event" "$nf rows, $npf events"
}

# --- live: faultwork on this kernel ---------------------------------------------------------
if need_tracefs "live-faultwork"; then
	if "$FAULTLAB" capture -o "$TMP/fw.flc" -- "$WORKLOADS/faultwork" 4 2000 1000 500 \
		>"$TMP/cap.out" 2>&1 && "$FAULTLAB" ingest "$TMP/fw.flc" --db "$DB" >"$TMP/in.out" 2>&1; then
		id=$(q "SELECT max(id) FROM capture")
		common "$id" live
		k=$(q "SELECT count(*) FROM fault WHERE capture = $id AND NOT user")
		kbad=$(q "SELECT count(*) FROM fault WHERE capture = $id AND NOT user AND path != 'mmap'")
		[ "$k" -ge 1000 ] && [ "$kbad" = 0 ] && ok "live/kernel-mode faults all mmap ($k)" ||
			not_ok "live/kernel-mode faults all mmap" "$k kernel faults, $kbad not mmap: \
$(q "SELECT path, count(*) FROM fault WHERE capture = $id AND NOT user GROUP BY 1")"
		u=$(q "SELECT count(*) FROM fault WHERE capture = $id AND user AND write AND vma_kind = 'anon'")
		uv=$(q "SELECT count(*) FROM fault WHERE capture = $id AND user AND write AND vma_kind = 'anon'
			AND path = 'vma'")
		[ "$u" -ge 8000 ] && [ $((uv * 100)) -ge $((u * 90)) ] &&
			ok "live/anonymous write faults mostly vma ($uv of $u)" ||
			not_ok "live/anonymous write faults mostly vma" "$uv of $u: \
$(q "SELECT path, count(*) FROM fault WHERE capture = $id AND user GROUP BY 1")"
		f=$(q "SELECT count(*) FROM writer_op WHERE capture = $id AND sys IN ('clone', 'clone3', 'fork')
		       AND wrote AND write_hold_ns > 0 AND child > 0")
		[ "$f" -ge 1 ] && ok "live/fork holds the write lock ($f)" ||
			not_ok "live/fork holds the write lock" "$(q "SELECT sys, wrote, child FROM writer_op
				WHERE capture = $id AND sys LIKE 'clone%'")"
	else
		not_ok "live-faultwork" "$(tail -n 3 "$TMP/cap.out" "$TMP/in.out" 2>/dev/null)"
	fi
fi

# --- other kernels: cached captures from tests/kernels ---------------------------------------
K=$FL_ROOT/tests/kernels
for kind in faultwork thrash; do
	for s in 6.1 6.12; do
		name=$s-$kind
		if ! command -v qemu-system-x86_64 >/dev/null; then
			not_ok "$name" "qemu-system-x86_64 missing: run 'make deps'"
			continue
		fi
		if ! flc=$($K/capture.sh $s $kind 2>"$TMP/$name.err"); then
			not_ok "$name/capture" "$(head -n 3 "$TMP/$name.err")"
			continue
		fi
		if ! "$FAULTLAB" ingest "$flc" --db "$DB" >"$TMP/$name.in" 2>&1; then
			not_ok "$name/ingest" "$(tail -n 2 "$TMP/$name.in")"
			continue
		fi
		id=$(q "SELECT id FROM capture WHERE path = '$flc'")
		common "$id" "$name"
		rel=$(q "SELECT kernel_major || '.' || kernel_minor || ' vma_lock=' || vma_lock FROM recon
			 WHERE capture = $id")
		paths=$(q "SELECT group_concat(path || '=' || n, ' ') FROM (SELECT path, count(*) n FROM fault
			   WHERE capture = $id AND user GROUP BY 1)")
		if [ $s = 6.1 ]; then
			bad=$(q "SELECT count(*) FROM fault WHERE capture = $id AND path != 'mmap'")
			[ "$rel" = "6.1 vma_lock=0" ] && [ "$bad" = 0 ] &&
				ok "$name/no per-VMA lock: every fault mmap ($paths)" ||
				not_ok "$name/no per-VMA lock: every fault mmap" "$rel; $paths"
		else
			v=$(q "SELECT count(*) FROM fault WHERE capture = $id AND user AND path = 'vma'")
			u=$(q "SELECT count(*) FROM fault WHERE capture = $id AND user")
			[ "$rel" = "6.12 vma_lock=1" ] && [ $((v * 2)) -ge "$u" ] &&
				ok "$name/user faults under the VMA lock ($paths)" ||
				not_ok "$name/user faults under the VMA lock" "$rel; $paths"
			if [ $kind = thrash ]; then
				r=$(q "SELECT count(*), coalesce(sum(retry_drop), 0) FROM fault WHERE capture = $id
				       AND path = 'vma_retry_mmap'")
				[ "${r%|*}" -gt 0 ] && [ "${r#*|}" -gt 0 ] &&
					ok "$name/VMA attempts dropped for I/O and retried under mmap_lock ($r)" ||
					not_ok "$name/retries" "vma_retry_mmap|retry_drop = $r"
			fi
		fi
		if [ $kind = thrash ]; then
			io=$(q "SELECT count(*) FROM io WHERE capture = $id AND waiters > 0")
			iw=$(q "SELECT count(*) FROM fault WHERE capture = $id AND io_wait_ns > 0")
			[ "$io" -gt 0 ] && [ "$iw" -gt 0 ] &&
				ok "$name/faults waited for block I/O ($iw faults, $io requests with waiters)" ||
				not_ok "$name/faults waited for block I/O" "io with waiters $io, faults $iw"
		fi
	done
done
