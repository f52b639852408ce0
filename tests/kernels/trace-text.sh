#!/bin/sh
# trace-text.sh - in a guest booted by run.sh: trace CMD with the page-fault and
# mmap_lock events in a scratch tracefs instance and save the text trace.
#
#   trace-text.sh OUT CMD [ARG...]
#
# Independent of faultlab (an oracle for tests, and a way to look at a kernel
# before `faultlab capture` runs on it). The instance follows only CMD's
# process tree (set_event_pid with event-fork), records
# exceptions:page_fault_{user,kernel} and mmap_lock:*, and writes its `trace`
# to OUT. Exit status: CMD's. Busybox sh only.
set -u
out=$1
shift
T=/sys/kernel/tracing
[ -d $T/instances ] || T=/sys/kernel/debug/tracing
I=$T/instances/trace-text.$$
mkdir "$I" || { echo "trace-text: cannot create an instance in '$T'" >&2; exit 125; }
echo 16384 > "$I/buffer_size_kb"
echo 1 > "$I/options/event-fork"
for e in exceptions/page_fault_user exceptions/page_fault_kernel mmap_lock; do
	echo 1 > "$I/events/$e/enable" || echo "trace-text: no event '$e'" >&2
done
# a child that waits for the go-ahead, so its pid is set before it runs CMD
fifo=/tmp/trace-text.$$
mkfifo "$fifo"
( read -r _ < "$fifo"; exec "$@" ) &
pid=$!
echo "$pid" > "$I/set_event_pid"
echo 1 > "$I/tracing_on"
echo go > "$fifo"
wait "$pid"
rc=$?
echo 0 > "$I/tracing_on"
cat "$I/per_cpu/cpu"*/stats |
	awk '/^overrun|^dropped/ {n += $2} END {print "lost=" n+0}' > "$out.lost"
cat "$I/trace" > "$out"
for e in exceptions/page_fault_user exceptions/page_fault_kernel mmap_lock; do
	echo 0 > "$I/events/$e/enable" 2>/dev/null
done
rmdir "$I"
rm -f "$fifo"
exit $rc
