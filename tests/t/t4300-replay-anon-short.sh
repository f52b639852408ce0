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
anonmix_validate "anonmix 4 2 8 100 300" 4 2 8 100 300 || exit 0
ok "captured ($(cat "$TMP/am.out")) and replayed"

# the capture shows the placement: woken threads stay on their busy previous CPU
"$FAULTLAB" replay --model --policy mainline --db "$TMP/am.db" >"$TMP/text" 2>"$TMP/err"
grep -q "^wake-ups: on the previous CPU" "$TMP/text" &&
	ok "wake-ups on the busy previous CPU measured ($(grep '^wake-ups' "$TMP/text"))" ||
	not_ok "wake-up placement" "$(grep '^wake' "$TMP/text"; tail -2 "$TMP/err")"

# ... and the costs the session-6 rules take from it: where the first write fault of a fresh
# region trylocks for its anon_vma (after the page-table allocation: 3-5 us here), and the
# wake-up latencies of timer wake-ups (local) and of wake-ups from the other CPU (remote:
# lock releases; ~2x the local one on this VM, the idle vCPU must be sent an IPI).
py_check "anon_vma trylock position and local/remote wake-up latencies measured" "
import json, re
t = open('$TMP/text').read()
ap = re.search(r'anon_vma (\d+) ns in \(measured: median of (\d+)\)', t)
lo = re.search(r'wake-up latency on an idle CPU (\d+) ns \(measured, (\d+) local samples\)', t)
re_ = re.search(r'woken from another CPU (\d+) ns \(measured, (\d+) samples', t)
assert ap and lo and re_, 'not measured: ' + ' / '.join(l for l in t.splitlines() if 'anon_vma' in l or 'wake' in l)
ap_ns, lo_ns, re_ns = int(ap.group(1)), int(lo.group(1)), int(re_.group(1))
print('    anon_vma trylock %d ns in (%s faults); wake-ups local %d ns (%s), remote %d ns (%s)' %
      (ap_ns, ap.group(2), lo_ns, lo.group(2), re_ns, re_.group(2)))
assert 500 <= ap_ns <= 50000, 'anon_vma trylock position out of range'
assert int(ap.group(2)) >= 1000, 'too few anon_vma trylocks'
c = json.load(open('$TMP/val.json'))['costs']
assert c['anon_prep_ns'] == {'ns': ap_ns, 'measured': True}, c['anon_prep_ns']
assert c['wake_ns'] == {'ns': lo_ns, 'measured': True} and c['wake_remote_ns'] == {'ns': re_ns, 'measured': True}, c
"

# The model's runs on such a capture are path dependent: which threads share a CPU decides how
# often their loops overlap, and a seed (the wake-up latency draws) now and then sends a run into
# a mostly serialised course (t43 runs: seeds 1-4 gave 574, 944, 852, 822 against 1038). So the
# model's figure is the median of three seeds. Bounds: the counts of the issue (25 %) on
# path_vma and the acquisitions; path_vma_retry_mmap at 50 %, the total write wait at 50 %.
# The kernel runs this workload in two modes from one run to the next: most captures retry
# 6.4-7.6 % of their fresh regions (the model's median -11 ... +9 %), some 3.5-5 % (652-869
# retries: session 2's c1 and three late-session-6 runs), which the model does not follow
# (+21 ... +39 %). Without the wake-up placement the model was at +172 ... +280 %.
for seed in 2 3; do
	"$FAULTLAB" replay --model --policy mainline --validate --seed $seed --db "$TMP/am.db" \
		--format json >"$TMP/val$seed.json" 2>"$TMP/err" ||
		not_ok "replay --validate --seed $seed" "$(tail -3 "$TMP/err")"
done
# The three --validate runs (seeds 1-3): seeds(block, k) is the capture's value of k and the
# model's of each seed, median() their median.
seeds_py="
import json, statistics
V = [json.load(open(f))['validate'] for f in ('$TMP/val.json', '$TMP/val2.json', '$TMP/val3.json')]
def seeds(block, k):
    return V[0][block][k]['capture'], [v[block][k]['model'] for v in V]
median = statistics.median
"

py_check "--validate (median of 3 seeds): path_vma_retry_mmap within 50 %, write wait within 50 %" "$seeds_py
bad = []
for k, bound in (('path_vma', 0.25), ('mmap_read_acq', 0.25), ('mmap_write_acq', 0.25),
                 ('path_vma_retry_mmap', 0.50), ('mmap_write_wait_us.total', 0.50)):
    c, ms = seeds('metrics', k)
    e = (median(ms) - c) / c if c else float('inf')
    print('    %-26s capture %12.1f model %12.1f (seeds %s) rel.err %+7.1f%%' %
          (k, c, median(ms), ' '.join('%.0f' % x for x in ms), 100 * e))
    if abs(e) > bound:
        bad.append(k)
assert seeds('metrics', 'path_vma_retry_mmap')[0] >= 100, 'too few fresh-region retries to compare'
assert not bad, bad
"

# The mmap_lock wait percentiles within the issue's factor of two. The read p99 is the
# fresh-region faults whose anon_vma trylock met a held write lock and whose blocking read then
# waited for it and for the wake-up from the writer's CPU: 15-31 us captured. It was 0.45-0.5 us
# before writers spun on a running owner, the trylock came where do_anonymous_page puts it and
# remote wake-ups took their measured latency (0.63-0.81x since). It sits where 1 % of the reads
# wait 10 us or more: compared when the capture's share is clearly above that (1.25 %); in the
# kernel's low-contention mode (0.6-0.9 %, p99 under 1 us) the share is compared instead, within
# 3x (the model's stays at 1.4-1.8 %, so its p99 lands among the slow reads: 16-19 us).
py_check "--validate (median of 3 seeds): mmap_lock wait p50/p99 within a factor of 2" "$seeds_py
def slow_share(who, v):
    h = [v['metrics']['mmap_read_wait_hist.%d' % i][who] for i in range(7)]
    return 100.0 * sum(h[2:]) / sum(h) if sum(h) else 0.0
cs, ms_ = slow_share('capture', V[0]), median(slow_share('model', v) for v in V)
print('    reads waiting 10 us or more: capture %.2f %%, model %.2f %%' % (cs, ms_))
bad = []
keys = ['mmap_read_wait_us.p50', 'mmap_write_wait_us.p50', 'mmap_write_wait_us.p99']
if cs >= 1.25:
    keys.append('mmap_read_wait_us.p99')
else:
    print('    mmap_read_wait_us.p99 not compared: the capture has too few slow reads (p99 %.2f us)' %
          seeds('metrics', 'mmap_read_wait_us.p99')[0])
    if not cs or not 1 / 3 <= ms_ / cs <= 3:
        bad.append('slow read share')
for k in keys:
    c, ms = seeds('metrics', k)
    r = median(ms) / c if c else (1.0 if median(ms) < 1 else float('inf'))
    print('    %-26s capture %8.2f model %8.2f us (seeds %s) ratio %.2f' %
          (k, c, median(ms), ' '.join('%.2f' % x for x in ms), r))
    if not 0.5 <= r <= 2.0:
        bad.append(k)
assert not bad, bad
"

# The writers that met a taken lock: taken spinning on a running owner (§3 W2), slept for, or
# stolen past the queue; the capture's from its reconstruction and switch-outs. Within 2x:
# the short loops' writers spin ~3x as often as they sleep.
py_check "--validate (median of 3 seeds): writers that spun / slept / stole within a factor of 2" "$seeds_py
bad = []
for k in ('write_spun', 'write_slept', 'write_stole'):
    c, ms = seeds('writers', k)
    print('    %-12s capture %7d model %7d ratio %.2f' %
          (k, c, median(ms), median(ms) / c if c else float('inf')))
    if not c or not 0.5 <= median(ms) / c <= 2.0:
        bad.append(k)
assert seeds('writers', 'write_spun')[0] > seeds('writers', 'write_slept')[0], 'writers did not spin'
assert not bad, bad
"
