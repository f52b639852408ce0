#!/bin/bash
# run-in-memcg.sh LIMIT CMD ARGS... - runs CMD inside a fresh cgroup v1 memory
# cgroup limited to LIMIT (bytes, or with a K/M/G suffix), then removes it.
#
# The cgroup is created below the caller's own memory cgroup, named
# faultlab-<pid of this script>, so that outer limits still apply. The script
# moves itself in, runs CMD (not exec: it must clean up afterwards), moves
# itself back out and removes the cgroup. It exits with CMD's status;
# SIGINT/SIGTERM/SIGHUP are passed on to CMD. Needs root and
# /sys/fs/cgroup/memory (cgroup v1).
set -u
if [ $# -lt 2 ]; then
	echo "usage: run-in-memcg.sh LIMIT CMD ARGS..." >&2
	exit 2
fi
limit=$1; shift
root=/sys/fs/cgroup/memory
if [ ! -w "$root/cgroup.procs" ]; then
	echo "run-in-memcg.sh: '$root' is not a writable cgroup v1 memory hierarchy (need root)" >&2
	exit 1
fi
case $limit in
*[kK]) bytes=$(( ${limit%?} * 1024 )) ;;
*[mM]) bytes=$(( ${limit%?} * 1024 * 1024 )) ;;
*[gG]) bytes=$(( ${limit%?} * 1024 * 1024 * 1024 )) ;;
*[!0-9]*|'') echo "run-in-memcg.sh: bad LIMIT '$limit'" >&2; exit 2 ;;
*) bytes=$limit ;;
esac

parent=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
parent=${parent%/}
cg="$root$parent/faultlab-$$"
home="$root$parent"

cleanup() {
	echo $$ > "$home/cgroup.procs" 2>/dev/null
	# Tasks left behind by CMD would keep the cgroup alive: move them out too.
	if [ -d "$cg" ]; then
		while read -r p; do echo "$p" > "$home/cgroup.procs" 2>/dev/null; done < "$cg/cgroup.procs"
		rmdir "$cg" 2>/dev/null || sleep 0.2
		[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	fi
}
trap cleanup EXIT

mkdir "$cg" || { echo "run-in-memcg.sh: cannot create '$cg'" >&2; exit 1; }
if ! echo "$bytes" > "$cg/memory.limit_in_bytes"; then
	echo "run-in-memcg.sh: cannot set the limit $bytes on '$cg'" >&2
	exit 1
fi
echo $$ > "$cg/cgroup.procs" || exit 1

child=0
forward() { [ "$child" != 0 ] && kill -"$1" "$child" 2>/dev/null; }
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP
"$@" &
child=$!
while :; do
	wait "$child"
	rc=$?
	# wait returns >128 when a trapped signal interrupted it; the child may still run.
	kill -0 "$child" 2>/dev/null || break
done
# Failcnt and peak usage, for whoever wants to see that the limit bit.
echo "memcg: limit=$bytes max_usage=$(cat "$cg/memory.max_usage_in_bytes") failcnt=$(cat "$cg/memory.failcnt")" >&2
exit $rc
