#!/bin/bash
# capture.sh - a faultlab capture of the test workload taken on a Debian kernel
# under QEMU, cached for the tests that need captures from other kernels.
#
#   tests/kernels/capture.sh [-f] SERIES      (SERIES: 6.1 or 6.12)
#
# Prints the path of tests/kernels/cache/captures/SERIES.flc. The capture is
# made (with run.sh) when it is missing, when the faultlab binary cannot read
# it any more (`faultlab info` fails), or always with -f. Next to it:
#   SERIES.status    run.sh's status (release, boot_s, command_s, wall_s, accel)
#   SERIES.log       the command's output in the guest
#   SERIES.workload  what was captured
# The workload is build/tests/workloads/faultwork when it exists (threads,
# anonymous faults, pread kernel faults, a fork; run in /work on ext4), else a
# busybox program copied to the ext4 disk with the page cache dropped (file
# faults with block I/O, and anonymous faults from a large awk array).
# Environment: FAULTLAB, WORKLOADS as for run.sh. Exit status 0 when the
# capture is there, else run.sh's status, with its messages on stderr.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export FAULTLAB=${FAULTLAB:-$ROOT/faultlab}
export WORKLOADS=${WORKLOADS:-$ROOT/build/tests/workloads}
force=0
[ "${1:-}" = -f ] && { force=1; shift; }
[ $# = 1 ] || { echo "usage: capture.sh [-f] SERIES" >&2; exit 2; }
s=$1
# a sanitizer build (make SANITIZE=..., B=build-san) keeps its own captures:
# its faultwork faults differently (shadow memory)
dir=$HERE/cache/captures
[ -n "${B:-}" ] && [ "$B" != build ] && dir=$HERE/cache/captures-$(basename "$B")
flc=$dir/$s.flc

if [ $force = 0 ] && [ -s "$flc" ] && "$FAULTLAB" info "$flc" >/dev/null 2>&1; then
	echo "$flc"
	exit 0
fi
"$HERE/fetch-kernels.sh" >&2 || exit 125
mkdir -p "$dir"

if [ -x "$WORKLOADS/faultwork" ]; then
	workload="/workloads/faultwork"
else
	workload="/work/bb awk 'BEGIN { for (i = 0; i < 100000; i++) a[i] = i; print length(a) }'"
fi
script="cp /bin/busybox /work/bb && sync && echo 3 > /proc/sys/vm/drop_caches &&
faultlab capture -o /out/capture.flc -- $workload"

out=$(mktemp -d /tmp/faultlab-kcap.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$HERE/run.sh" -o "$out" -t 120 "$s" sh -c "$script"
rc=$?
cp "$out/command.log" "$dir/$s.log" 2>/dev/null
if [ $rc != 0 ] || [ ! -s "$out/out/capture.flc" ]; then
	echo "capture.sh: capturing on $s failed (status $rc); guest output:" >&2
	sed 's/^/    /' "$out/command.log" 2>/dev/null | tail -n 20 >&2
	[ $rc = 0 ] && rc=1
	exit $rc
fi
cp "$out/status" "$dir/$s.status"
echo "$workload" > "$dir/$s.workload"
mv "$out/out/capture.flc" "$flc.tmp" && mv "$flc.tmp" "$flc"
echo "$flc"
