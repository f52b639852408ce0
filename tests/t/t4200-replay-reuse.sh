#!/bin/bash
# Threads that unmap and map same-sized regions: the kernel gives one thread's
# freed range to another thread's next mmap. The replay must order layout
# changes by when each writer took mmap_lock, not by syscall entry, or it maps
# over a VMA that is still there ("overlaps the VMA").
. "$FL_ROOT/tests/t/lib.sh"
need_tracefs "live capture" || exit 0

"$FAULTLAB" capture -o "$TMP/r.flc" -- "$WORKLOADS/mmapreuse" 4 1000 256 >/dev/null 2>"$TMP/cap.err" ||
	not_ok "capture mmapreuse" "$(tail -3 "$TMP/cap.err")"
reused=$("$FAULTLAB" ingest -q "$TMP/r.flc" --db "$TMP/r.db" >/dev/null 2>&1 &&
	sqlite3 "$TMP/r.db" "SELECT count(*) FROM (SELECT ret FROM writer_op WHERE sys = 'mmap'
		GROUP BY ret HAVING count(DISTINCT tid) > 1)")
if [ "${reused:-0}" -gt 0 ]; then ok "ranges reused across threads ($reused addresses)"; else
	not_ok "ranges reused across threads" "none this run: the test proves nothing"; fi
if "$FAULTLAB" replay --model --policy mainline --validate --format json --db "$TMP/r.db" \
	>"$TMP/v.json" 2>"$TMP/err"; then ok "replay succeeds"; else
	not_ok "replay succeeds" "$(tail -3 "$TMP/err")"; fi
python3 - "$TMP/v.json" >"$TMP/py" 2>&1 <<'PY' && ok "path_vma within 5% ($(cat "$TMP/py"))" ||
import json, sys
v = json.load(open(sys.argv[1]))['validate']['metrics']['path_vma']
print('capture %d model %d' % (v['capture'], v['model']))
assert v['capture'] > 0 and abs(v['rel_err']) <= 0.05
PY
	not_ok "path_vma within 5%" "$(cat "$TMP/py")"
