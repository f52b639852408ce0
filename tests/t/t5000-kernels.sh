#!/bin/bash
# t5000-kernels.sh - captures on other kernels: boot Debian's 6.1 and 6.12
# cloud kernels under QEMU (tests/kernels/), run `faultlab capture` of the test
# workload inside, bring the .flc out and check on the host that it is a
# capture of that kernel with page-fault and mmap_lock events, and that the
# locking differs the way the kernels do: 6.1 has no per-VMA lock, so every
# user fault takes mmap_lock; 6.12 handles most user faults under the VMA lock.
# The events are read by tests/kernels/flcevents.py, a reader independent of
# faultlab's decoder. The captures stay in tests/kernels/cache/captures/ for
# the reconstruction tests (tests/kernels/capture.sh SERIES gives the path).
. tests/t/lib.sh

K=tests/kernels
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v python3 >/dev/null; then
	not_ok "tools" "qemu-system-x86_64 or python3 missing: run 'make deps'"
	exit 0
fi
if ! $K/fetch-kernels.sh >"$TMP/fetch.out" 2>&1; then
	not_ok "fetch-kernels" "$(tail -n 1 "$TMP/fetch.out") (run 'make deps')"
	exit 0
fi

# summary of a capture by the independent reader: sets $TMP/$1.sum
kv() { sed -n "s/^$2=//p" "$TMP/$1.sum"; }

for s in 6.1 6.12; do
	release=$(cat $K/cache/$s/release)
	t0=$(date +%s.%N)
	if ! flc=$($K/capture.sh -f "$s" 2>"$TMP/$s.err"); then
		not_ok "$s/boot-capture" "$(head -n 1 "$TMP/$s.err")"
		sed 's/^/    /' "$TMP/$s.err" | head -n 20
		continue
	fi
	t1=$(date +%s.%N)
	st=${flc%.flc}.status
	get() { sed -n "s/^$1=//p" "$st"; }
	ok "$s/boot-capture ($(echo "$t1 $t0" | awk '{printf "%.1f", $1 - $2}') s: boot $(get boot_s) s,\
 command $(get command_s) s, $(get accel))"

	if ! python3 $K/flcevents.py "$flc" >"$TMP/$s.sum" 2>"$TMP/$s.err"; then
		not_ok "$s/read" "$(tail -n 1 "$TMP/$s.err")"
		continue
	fi
	got=$(kv $s release)
	case $got in
	"$s".*) if [ "$got" = "$release" ]; then ok "$s/header-release ($got)"; else
			not_ok "$s/header-release" "header says '$got', the kernel is '$release'"; fi ;;
	*) not_ok "$s/header-release" "header says '$got', expected $s.*" ;;
	esac
	if "$FAULTLAB" info "$flc" >"$TMP/$s.info" 2>&1; then
		if grep -qF "$release" "$TMP/$s.info"; then ok "$s/info-release"; else
			not_ok "$s/info-release" "'faultlab info' does not mention '$release'"; fi
	else
		not_ok "$s/info" "'faultlab info $flc' failed: $(tail -n 1 "$TMP/$s.info")"
	fi

	# faultlab's own event count (its closing line) against the independent reader's
	n=$(kv $s events)
	said=$(grep -oE '[0-9]+ events' "${flc%.flc}.log" | head -n 1 | cut -d' ' -f1)
	if [ -n "$said" ] && [ "$said" = "$n" ]; then ok "$s/event-count ($n)"; else
		not_ok "$s/event-count" "faultlab capture said '${said:-?}' events, the file holds $n"; fi
	[ "$(kv $s lost)" = 0 ] && ok "$s/no-lost-events" ||
		not_ok "$s/no-lost-events" "$(kv $s lost) sub-buffers lost events"

	pfu=$(kv $s pf_user) pfk=$(kv $s pf_kernel)
	start=$(kv $s event.mmap_lock_start_locking) acq=$(kv $s event.mmap_lock_acquire_returned)
	rel=$(kv $s event.mmap_lock_released)
	[ "${pfu:-0}" -ge 1000 ] && ok "$s/page-faults ($pfu user, $pfk kernel)" ||
		not_ok "$s/page-faults" "only ${pfu:-0} page_fault_user events"
	[ "${start:-0}" -gt 0 ] && [ "${acq:-0}" -gt 0 ] && [ "${rel:-0}" -gt 0 ] &&
		ok "$s/mmap-lock-events ($start start, $acq acquired, $rel released)" ||
		not_ok "$s/mmap-lock-events" "start ${start:-0}, acquired ${acq:-0}, released ${rel:-0}"

	# the per-fault locking: % of user faults followed (same tid) by mmap_lock_start_locking
	pct=$(kv $s pf_user_mmap_pct)
	case $s in
	6.1)	# no per-VMA lock: every user fault takes mmap_lock
		awk -v p="$pct" 'BEGIN { exit !(p >= 98) }' &&
			ok "$s/every-fault-takes-mmap-lock ($pct%)" ||
			not_ok "$s/every-fault-takes-mmap-lock" "only $pct% of user faults took mmap_lock" ;;
	6.12)	# per-VMA lock: most user faults never touch mmap_lock
		awk -v p="$pct" 'BEGIN { exit !(p <= 30) }' &&
			ok "$s/most-faults-under-vma-lock ($pct% took mmap_lock)" ||
			not_ok "$s/most-faults-under-vma-lock" "$pct% of user faults took mmap_lock" ;;
	esac
	# kernel-mode faults are never handled under the VMA lock (x86 do_user_addr_fault)
	if [ "${pfk:-0}" -gt 0 ]; then
		[ "$(kv $s pf_kernel_mmap)" = "$pfk" ] && ok "$s/kernel-faults-take-mmap-lock ($pfk)" ||
			not_ok "$s/kernel-faults-take-mmap-lock" \
				"$(kv $s pf_kernel_mmap) of $pfk kernel faults took mmap_lock"
	fi

	# faultlab's decoder, through ingest, must see the same events in the same order
	if ! "$FAULTLAB" ingest --db "$TMP/$s.db" "$flc" >"$TMP/$s.ingest" 2>&1; then
		not_ok "$s/ingest" "$(tail -n 1 "$TMP/$s.ingest")"
		continue
	fi
	dbn=$(sqlite3 "$TMP/$s.db" "SELECT count(*) FROM event")
	[ "$dbn" = "$n" ] && ok "$s/ingest-events ($dbn)" ||
		not_ok "$s/ingest-events" "the database holds $dbn events, the file $n"
	sqlite3 -separator ' ' "$TMP/$s.db" "
		WITH s AS (SELECT type, LEAD(type) OVER (PARTITION BY tid ORDER BY seq) AS nxt FROM ev
			WHERE type IN ('page_fault_user', 'page_fault_kernel', 'mmap_lock_start_locking'))
		SELECT type, count(*), total(nxt = 'mmap_lock_start_locking') FROM s
		WHERE type LIKE 'page_fault_%' GROUP BY type ORDER BY type" >"$TMP/$s.sql" 2>&1
	want=$( { [ "$pfk" -gt 0 ] && echo "page_fault_kernel $pfk $(kv $s pf_kernel_mmap).0"
		echo "page_fault_user $pfu $(kv $s pf_user_mmap).0"; } )
	[ "$(cat "$TMP/$s.sql")" = "$want" ] && ok "$s/ingest-fault-locking" ||
		not_ok "$s/ingest-fault-locking" "database: $(tr '\n' ';' < "$TMP/$s.sql")\
 independent reader: $(echo "$want" | tr '\n' ';')"
done
