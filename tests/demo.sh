#!/bin/bash
# make demo: the embedded default. Captures the built-in workload (threads
# writing fresh anonymous pages, kernel-mode faults from pread, a fork) with
# faultlab itself, ingests it into a fresh database and shows what is there.
# Where tracing is unavailable (not root, no tracefs) it says so and uses the
# bundled capture tests/data/demo.flc instead. Then replays it through the
# lock model under every policy. DEMO_BUNDLED=1 uses the bundled capture even
# where tracing works (tests/t/t0100-demo.sh); DEMO_DIR sets the output folder.
set -eu
: "${FAULTLAB:?run through make demo}" "${WORKLOADS:?run through make demo}"
out=${DEMO_DIR:-demo-out}
mkdir -p "$out"
rm -f "$out/demo.db" "$out/demo.db-wal" "$out/demo.db-shm"

can_trace=1
if [ -n "${DEMO_BUNDLED:-}" ]; then
	echo "demo: DEMO_BUNDLED is set: using the bundled capture" >&2; can_trace=0
elif [ "$(id -u)" != 0 ]; then
	echo "demo: not root, so no live capture; using the bundled capture" >&2; can_trace=0
elif [ ! -d /sys/kernel/tracing/events ] && ! mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
	echo "demo: tracefs unavailable, so no live capture; using the bundled capture" >&2; can_trace=0
fi

if [ $can_trace = 1 ]; then
	echo "== faultlab capture -o $out/demo.flc -- faultwork 4 2000 64"
	"$FAULTLAB" capture -o "$out/demo.flc" -- "$WORKLOADS/faultwork" 4 2000 64
	cap=$out/demo.flc
else
	cap=tests/data/demo.flc
fi
echo
echo "== faultlab info $cap"
"$FAULTLAB" info "$cap"
echo
echo "== faultlab ingest $cap --db $out/demo.db"
"$FAULTLAB" ingest "$cap" --db "$out/demo.db"
echo
echo "== faultlab report --db $out/demo.db"
"$FAULTLAB" report --db "$out/demo.db"
echo
echo "== faultlab replay --model --db $out/demo.db   (every policy, the capture's arch and kernel)"
"$FAULTLAB" replay --model --db "$out/demo.db"
