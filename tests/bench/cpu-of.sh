#!/bin/bash
# cpu-of.sh OUT CMD ARGS... - runs CMD and writes "USER SYS WALL" (seconds) to OUT:
# the user and system CPU time of CMD and of every descendant it waited for
# (getrusage RUSAGE_CHILDREN of this shell, via the `times` builtin), and the
# wall time from start to exit. Writes CMD's pid to OUT.pid as soon as it runs,
# so that a caller can signal CMD itself. Exits with CMD's status.
#
# make bench uses it on both sides of a recorder: around the recorder (its own
# time plus, in command mode, the workload's) and around the workload inside
# it (the workload's alone), so that the recorder's CPU is the difference.
set -u
if [ $# -lt 2 ]; then
	echo "usage: cpu-of.sh OUT CMD ARGS..." >&2
	exit 2
fi
out=$1; shift
t0=$(date +%s.%N)
"$@" &
pid=$!
echo "$pid" > "$out.pid"
while :; do
	wait "$pid"
	rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
t1=$(date +%s.%N)
# `times`: line 1 this shell, line 2 its children, each "XmY.YYYs XmY.YYYs".
# (Not in a pipeline: a subshell would report its own, empty, children.)
times > "$out"
sed -n 2p "$out" | awk -v t0="$t0" -v t1="$t1" '
	function secs(s) { sub(/s$/, "", s); split(s, p, "m"); return p[1] * 60 + p[2] }
	{ printf "%.3f %.3f %.3f\n", secs($1), secs($2), t1 - t0 }' > "$out.tmp"
mv "$out.tmp" "$out"
exit $rc
