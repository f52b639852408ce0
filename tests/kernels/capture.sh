#!/bin/bash
# capture.sh - a faultlab capture of the test workload taken on a Debian kernel
# under QEMU, cached for the tests that need captures from other kernels.
#
#   tests/kernels/capture.sh [-f] SERIES [KIND]   (SERIES: 6.1 or 6.12)
#
# KIND says what is captured:
#   faultwork (default)  build/tests/workloads/faultwork (4 threads writing fresh
#                        anonymous pages, pread kernel faults, a fork), in /work
#                        (ext4); falls back to a busybox awk run while faultwork
#                        is not built. -> SERIES.flc
#   thrash               workloads/thrash: 4 threads mmap-reading 32 MiB files
#                        of real data on ext4 for 2 s in a 192 MiB guest, so the
#                        page cache thrashes (block I/O, reclaim, faults that
#                        drop their lock for I/O and retry). -> SERIES-thrash.flc
# Prints the path of tests/kernels/cache/captures/SERIES[-KIND].flc. The capture is
# made (with run.sh) when it is missing, when the faultlab binary cannot read
# it any more (`faultlab info` fails), or always with -f. Next to it:
#   .status    run.sh's status (release, boot_s, command_s, wall_s, accel)
#   .log       the command's output in the guest
#   .workload  what was captured
# Environment: FAULTLAB, WORKLOADS as for run.sh. Exit status 0 when the
# capture is there, else run.sh's status, with its messages on stderr.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export FAULTLAB=${FAULTLAB:-$ROOT/faultlab}
export WORKLOADS=${WORKLOADS:-$ROOT/build/tests/workloads}
force=0
[ "${1:-}" = -f ] && { force=1; shift; }
[ $# = 1 ] || [ $# = 2 ] || { echo "usage: capture.sh [-f] SERIES [faultwork|thrash]" >&2; exit 2; }
s=$1
kind=${2:-faultwork}
# a sanitizer build (make SANITIZE=..., B=build-san) keeps its own captures:
# its faultwork faults differently (shadow memory)
dir=$HERE/cache/captures
[ -n "${B:-}" ] && [ "$B" != build ] && dir=$HERE/cache/captures-$(basename "$B")
name=$s
[ "$kind" = faultwork ] || name=$s-$kind
flc=$dir/$name.flc

if [ $force = 0 ] && [ -s "$flc" ] && "$FAULTLAB" info "$flc" >/dev/null 2>&1; then
	echo "$flc"
	exit 0
fi
"$HERE/fetch-kernels.sh" >&2 || exit 125
mkdir -p "$dir"

mem=1024
case $kind in
faultwork)
	if [ -x "$WORKLOADS/faultwork" ]; then
		workload="/workloads/faultwork"
	else
		workload="/work/bb awk 'BEGIN { for (i = 0; i < 100000; i++) a[i] = i; print length(a) }'"
	fi
	script="cp /bin/busybox /work/bb && sync && echo 3 > /proc/sys/vm/drop_caches &&
		faultlab capture -o /out/capture.flc -- $workload" ;;
thrash)
	[ -x "$WORKLOADS/thrash" ] || { echo "capture.sh: no '$WORKLOADS/thrash'" >&2; exit 125; }
	mem=192
	workload="/workloads/thrash -t 4 -s 32 -d 2 -D /work"
	# A sanitizer build's faultlab keeps freed buffers in ASan's quarantine
	# (256 MB by default): more than this 192 MiB guest has. Ignored otherwise.
	script="thrash -t 4 -s 32 -D /work -p &&
		ASAN_OPTIONS=quarantine_size_mb=8 \\
		faultlab capture -b 8192 -o /out/capture.flc -- $workload" ;;
*)
	echo "capture.sh: unknown kind '$kind' (faultwork or thrash)" >&2
	exit 2 ;;
esac

out=$(mktemp -d /tmp/faultlab-kcap.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$HERE/run.sh" -o "$out" -t 120 -r "$mem" "$s" sh -c "$script"
rc=$?
cp "$out/command.log" "$dir/$name.log" 2>/dev/null
if [ $rc != 0 ] || [ ! -s "$out/out/capture.flc" ]; then
	echo "capture.sh: capturing $kind on $s failed (status $rc); guest output:" >&2
	sed 's/^/    /' "$out/command.log" 2>/dev/null | tail -n 20 >&2
	[ $rc = 0 ] && rc=1
	exit $rc
fi
cp "$out/status" "$dir/$name.status"
echo "$workload" > "$dir/$name.workload"
mv "$out/out/capture.flc" "$flc.tmp" && mv "$flc.tmp" "$flc"
echo "$flc"
