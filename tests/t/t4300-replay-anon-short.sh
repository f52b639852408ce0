#!/bin/bash
# t4300-replay-anon-short.sh - live (root + tracefs): anonmix with short loops (8 pages, 300 µs
# pause: ~8 k fresh regions a second, mmap_lock write-held ~20 % of the time) captured and
# replayed with --validate. Every path_vma_retry_mmap here is a fresh region's first write fault
# whose __vmf_anon_prepare mmap_read_trylock failed; how often depends on whether another
# thread's loop runs beside it. The kernel puts a thread woken from its pause back on its busy
# previous CPU (no idle CPU found, no wake-up preemption), which serialises the loops; the model
# follows that when the capture shows it (replay/opstream.c "Wake-up placement"). Before that the
# model retried 2.7-3.8x as often (3299 vs 869, 3502 vs 1289); after it +20 % and -5 % on the same
# two captures (replay/README.md "Short-loop anonmix").
. "$(dirname "$0")/lib.sh"

py() { python3 -c "$@"; }

need_tracefs "anonmix short loops" || exit 0
# a plain workload even under `make SANITIZE=...` (see t4100)
AM=$WORKLOADS/anonmix
if ldd "$AM" 2>/dev/null | grep -Eq 'lib(asan|ubsan)'; then
	AM=$TMP/anonmix
	cc -O2 -pthread -o "$AM" "$FL_ROOT/tests/workloads/anonmix.c" ||
		{ not_ok "build a plain anonmix"; exit 0; }
fi
if ! "$FAULTLAB" capture -o "$TMP/am.flc" -- "$AM" 4 2 8 100 300 >"$TMP/am.out" \
	2>"$TMP/am.err"; then
	not_ok "capture anonmix 4 2 8 100 300" "$(tail -5 "$TMP/am.err")"
	exit 0
fi
if ! "$FAULTLAB" replay --model --policy mainline --validate --db "$TMP/am.db" --format json \
	"$TMP/am.flc" >"$TMP/val.json" 2>"$TMP/err"; then
	not_ok "replay --validate" "$(tail -5 "$TMP/err")"
	exit 0
fi
ok "captured ($(cat "$TMP/am.out")) and replayed"

# the capture shows the placement: woken threads stay on their busy previous CPU
"$FAULTLAB" replay --model --policy mainline --db "$TMP/am.db" >"$TMP/text" 2>"$TMP/err"
grep -q "^wake-ups: on the previous CPU" "$TMP/text" &&
	ok "wake-ups on the busy previous CPU measured ($(grep '^wake-ups' "$TMP/text"))" ||
	not_ok "wake-up placement" "$(grep '^wake' "$TMP/text"; tail -2 "$TMP/err")"

# Bounds: the counts of the issue (25 %) on path_vma and the acquisitions; path_vma_retry_mmap
# at 40 % (two captures gave +20 % and -5 %; the model without the placement +172..+280 %), the
# total write wait at 50 % (-8 %, -16 %; it was +21..+49 %).
if py "
import json
v = json.load(open('$TMP/val.json'))['validate']['metrics']
bad = []
for k, bound in (('path_vma', 0.25), ('mmap_read_acq', 0.25), ('mmap_write_acq', 0.25),
                 ('path_vma_retry_mmap', 0.40), ('mmap_write_wait_us.total', 0.50)):
    c, m = v[k]['capture'], v[k]['model']
    e = (m - c) / c if c else float('inf')
    print('    %-26s capture %12.1f model %12.1f rel.err %+7.1f%%' % (k, c, m, 100 * e))
    if abs(e) > bound:
        bad.append(k)
assert v['path_vma_retry_mmap']['capture'] >= 100, 'too few fresh-region retries to compare'
assert not bad, bad
" >"$TMP/fid" 2>"$TMP/py"; then
	ok "--validate: path_vma_retry_mmap within 40 %, write wait within 50 %"
	cat "$TMP/fid"
else
	not_ok "--validate fidelity" "$(cat "$TMP/fid"; tail -2 "$TMP/py")"
fi
