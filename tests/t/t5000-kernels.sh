#!/bin/bash
# t5000-kernels.sh - captures on other kernels: boot Debian's 6.1 and 6.12
# cloud kernels under QEMU (tests/kernels/), run `faultlab capture` inside,
# bring the .flc out and check on the host that it is a capture of that kernel
# with page-fault and mmap_lock events, and that the locking differs the way
# the kernels do: 6.1 has no per-VMA lock, so every user fault takes
# mmap_lock; 6.12 handles most user faults under the VMA lock, and the faults
# that fall back to mmap_lock are the ones that dropped the VMA lock for I/O.
#
# Two captures per kernel (tests/kernels/capture.sh):
#   faultwork  taken afresh on every run (this is the harness's own test)
#   thrash     page-cache thrash with block I/O; made when missing, then reused
# The events are read by tests/kernels/flcevents.py, a reader independent of
# faultlab's decoder, and compared with what `faultlab ingest` stores. The
# captures stay in tests/kernels/cache/captures/ for the reconstruction tests.
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

# kv NAME KEY: a value of the independent reader's summary of capture NAME
kv() { sed -n "s/^$2=//p" "$TMP/$1.sum"; }
pct_ok() { awk -v p="$1" -v op="$2" -v lim="$3" \
	'BEGIN { exit !((op == ">=" && p >= lim) || (op == "<=" && p <= lim)) }'; }

# capture NAME SERIES [-f] [KIND]: make or reuse the capture, sets $flc
capture() {
	local name=$1 s=$2 t0 t1 st
	shift 2
	t0=$(date +%s.%N)
	if ! flc=$($K/capture.sh "$@" 2>"$TMP/$name.err"); then
		not_ok "$name/boot-capture" "$(head -n 1 "$TMP/$name.err")"
		sed 's/^/    /' "$TMP/$name.err" | head -n 20
		return 1
	fi
	t1=$(date +%s.%N)
	st=${flc%.flc}.status
	ok "$name/boot-capture ($(echo "$t1 $t0" | awk '{printf "%.1f", $1 - $2}') s here; when\
 made: boot $(sed -n 's/^boot_s=//p' "$st") s, command $(sed -n 's/^command_s=//p' "$st") s,\
 $(sed -n 's/^accel=//p' "$st"))"
}

# common NAME SERIES: what every capture of that kernel must show
common() {
	local name=$1 s=$2 release got n said pfu pfk start acq rel want
	release=$(cat $K/cache/$s/release)
	if ! python3 $K/flcevents.py "$flc" >"$TMP/$name.sum" 2>"$TMP/$name.err"; then
		not_ok "$name/read" "$(tail -n 1 "$TMP/$name.err")"
		return 1
	fi
	got=$(kv $name release)
	case $got in
	"$s".*) if [ "$got" = "$release" ]; then ok "$name/header-release ($got)"; else
			not_ok "$name/header-release" "header says '$got', the kernel is '$release'"; fi ;;
	*) not_ok "$name/header-release" "header says '$got', expected $s.*" ;;
	esac
	if "$FAULTLAB" info "$flc" >"$TMP/$name.info" 2>&1; then
		if grep -qF "$release" "$TMP/$name.info"; then ok "$name/info-release"; else
			not_ok "$name/info-release" "'faultlab info' does not mention '$release'"; fi
	else
		not_ok "$name/info" "'faultlab info $flc' failed: $(tail -n 1 "$TMP/$name.info")"
	fi

	# faultlab's own event count (its closing line) against the independent reader's
	n=$(kv $name events)
	said=$(grep -oE '[0-9]+ events' "${flc%.flc}.log" | head -n 1 | cut -d' ' -f1)
	if [ -n "$said" ] && [ "$said" = "$n" ]; then ok "$name/event-count ($n)"; else
		not_ok "$name/event-count" "faultlab capture said '${said:-?}' events, the file holds $n"; fi
	[ "$(kv $name lost)" = 0 ] && ok "$name/no-lost-events" ||
		not_ok "$name/no-lost-events" "$(kv $name lost) sub-buffers lost events"

	pfu=$(kv $name pf_user) pfk=$(kv $name pf_kernel)
	start=$(kv $name event.mmap_lock_start_locking) acq=$(kv $name event.mmap_lock_acquire_returned)
	rel=$(kv $name event.mmap_lock_released)
	[ "${pfu:-0}" -ge 1000 ] && ok "$name/page-faults ($pfu user, $pfk kernel)" ||
		not_ok "$name/page-faults" "only ${pfu:-0} page_fault_user events"
	[ "${start:-0}" -gt 0 ] && [ "${acq:-0}" -gt 0 ] && [ "${rel:-0}" -gt 0 ] &&
		ok "$name/mmap-lock-events ($start start, $acq acquired, $rel released)" ||
		not_ok "$name/mmap-lock-events" "start ${start:-0}, acquired ${acq:-0}, released ${rel:-0}"
	# kernel-mode faults are never handled under the VMA lock (x86 do_user_addr_fault)
	if [ "${pfk:-0}" -gt 0 ]; then
		[ "$(kv $name pf_kernel_mmap)" = "$pfk" ] && ok "$name/kernel-faults-take-mmap-lock ($pfk)" ||
			not_ok "$name/kernel-faults-take-mmap-lock" \
				"$(kv $name pf_kernel_mmap) of $pfk kernel faults took mmap_lock"
	fi

	# faultlab's decoder, through ingest, must see the same events in the same order
	if ! "$FAULTLAB" ingest --db "$TMP/$name.db" "$flc" >"$TMP/$name.ingest" 2>&1; then
		not_ok "$name/ingest" "$(tail -n 1 "$TMP/$name.ingest")"
		return 0
	fi
	dbn=$(sqlite3 "$TMP/$name.db" "SELECT count(*) FROM event")
	[ "$dbn" = "$n" ] && ok "$name/ingest-events ($dbn)" ||
		not_ok "$name/ingest-events" "the database holds $dbn events, the file $n"
	sqlite3 -separator ' ' "$TMP/$name.db" "
		WITH s AS (SELECT type, LEAD(type) OVER (PARTITION BY tid ORDER BY seq) AS nxt FROM ev
			WHERE type IN ('page_fault_user', 'page_fault_kernel', 'mmap_lock_start_locking'))
		SELECT type, count(*), total(nxt = 'mmap_lock_start_locking') FROM s
		WHERE type LIKE 'page_fault_%' GROUP BY type ORDER BY type" >"$TMP/$name.sql" 2>&1
	want=$( { [ "$pfk" -gt 0 ] && echo "page_fault_kernel $pfk $(kv $name pf_kernel_mmap).0"
		echo "page_fault_user $pfu $(kv $name pf_user_mmap).0"; } )
	[ "$(cat "$TMP/$name.sql")" = "$want" ] && ok "$name/ingest-fault-locking" ||
		not_ok "$name/ingest-fault-locking" "database: $(tr '\n' ';' < "$TMP/$name.sql")\
 independent reader: $(echo "$want" | tr '\n' ';')"
}

for s in 6.1 6.12; do
	capture $s $s -f $s || continue
	common $s $s
	# the per-fault locking: % of user faults followed (same tid) by mmap_lock_start_locking
	pct=$(kv $s pf_user_mmap_pct)
	case $s in
	6.1)	# no per-VMA lock: every user fault takes mmap_lock
		pct_ok "$pct" ">=" 98 && ok "$s/every-fault-takes-mmap-lock ($pct%)" ||
			not_ok "$s/every-fault-takes-mmap-lock" "only $pct% of user faults took mmap_lock" ;;
	6.12)	# per-VMA lock: most user faults never touch mmap_lock
		pct_ok "$pct" "<=" 30 && ok "$s/most-faults-under-vma-lock ($pct% took mmap_lock)" ||
			not_ok "$s/most-faults-under-vma-lock" "$pct% of user faults took mmap_lock" ;;
	esac
done

for s in 6.1 6.12; do
	n=$s-thrash
	capture $n $s $s thrash || continue
	common $n $s
	issue=$(kv $n event.block_rq_issue) del=$(kv $n event.mm_filemap_delete_from_page_cache)
	[ "${issue:-0}" -gt 0 ] && [ "${del:-0}" -gt 0 ] &&
		ok "$n/block-io-and-eviction ($issue requests, $del folios evicted)" ||
		not_ok "$n/block-io-and-eviction" "${issue:-0} block requests, ${del:-0} evictions"
	pct=$(kv $n pf_user_mmap_pct) took=$(kv $n pf_user_mmap)
	after=$(kv $n pf_user_mmap_after_filemap) ff=$(kv $n event.mm_filemap_fault)
	case $s in
	6.1)
		pct_ok "$pct" ">=" 98 && ok "$n/every-fault-takes-mmap-lock ($pct%)" ||
			not_ok "$n/every-fault-takes-mmap-lock" "only $pct% of user faults took mmap_lock"
		# mm_filemap_fault appeared in 6.12
		[ -z "$ff" ] && ok "$n/no-filemap-fault-event" ||
			not_ok "$n/no-filemap-fault-event" "$ff mm_filemap_fault events on 6.1" ;;
	6.12)
		# file faults start under the VMA lock; one that must wait for I/O drops it and
		# retries under mmap_lock, so mmap_lock follows a filemap_fault attempt
		[ "${ff:-0}" -gt 0 ] && [ "${took:-0}" -gt 0 ] &&
			[ "$took" -lt "$(kv $n pf_user)" ] &&
			ok "$n/some-faults-fall-back ($pct% of user faults took mmap_lock)" ||
			not_ok "$n/some-faults-fall-back" "$ff filemap faults, ${took:-0} faults took mmap_lock"
		pct_ok "$(awk -v a="$after" -v t="$took" 'BEGIN { print t ? 100 * a / t : 0 }')" ">=" 80 &&
			ok "$n/fallbacks-follow-io ($after of $took after mm_filemap_fault)" ||
			not_ok "$n/fallbacks-follow-io" "only $after of $took after mm_filemap_fault" ;;
	esac
done
