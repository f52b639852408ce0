#!/bin/busybox sh
# guest-init.sh - /init of the initramfs that tests/kernels/run.sh boots.
#
# Runs as PID 1 in the guest. It mounts proc, sys, devtmpfs, tracefs (at
# /sys/kernel/tracing, or debugfs's tracing/ on kernels that only have that),
# a memory cgroup, and the scratch disk at /work; loads the modules listed in
# /harness/modules; runs /harness/cmd (a shell script written by run.sh) in
# /work with a watchdog; then packs /xfer (status, command.log, out/) as a tar
# onto the output disk (the NVMe namespace with serial "flout"), or as base64
# on the second serial port when that disk is missing, and powers off.
#
# /harness/config sets TIMEOUT (s, for the command) and nothing else.
# The command writes the files it wants brought out to /out (= /xfer/out).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/workloads HOME=/ TERM=dumb
TIMEOUT=120
. /harness/config

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm /tmp
mount -t tmpfs tmp /tmp
mount -t tmpfs shm /dev/shm
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
if ! mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
	echo "init: no tracefs mount point; tracing is at /sys/kernel/debug/tracing"
fi
if mount -t tmpfs cgroup /sys/fs/cgroup 2>/dev/null; then
	mkdir -p /sys/fs/cgroup/memory
	mount -t cgroup -o memory memory /sys/fs/cgroup/memory 2>/dev/null ||
		{ rmdir /sys/fs/cgroup/memory; umount /sys/fs/cgroup;
		  mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; }
fi
hostname faultlab-guest

if [ -s /harness/modules ]; then
	while read -r m; do
		insmod "/modules/$m" || echo "init: cannot load module '$m'"
	done < /harness/modules
fi

# find the NVMe namespace whose controller has serial $1
disk_by_serial() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -r "$c/serial" ] || continue
		if [ "$(cat "$c/serial" | tr -d ' ')" = "$1" ]; then
			ls "$c" | grep -m1 "^nvme[0-9]*n1$"
			return 0
		fi
	done
	return 1
}
# NVMe probing is asynchronous; give it a moment when the disks were asked for
work_dev="" out_dev=""
if [ -e /harness/disks ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		work_dev=$(disk_by_serial flwork)
		out_dev=$(disk_by_serial flout)
		{ [ -n "$out_dev" ] || ! grep -q out /harness/disks; } &&
			{ [ -n "$work_dev" ] || ! grep -q work /harness/disks; } && break
		sleep 0.1
	done
fi
mkdir -p /work /xfer/out
ln -s /xfer/out /out
if [ -n "$work_dev" ] && mount -t ext4 "/dev/$work_dev" /work 2>/dev/null; then
	:
else
	[ -e /harness/disks ] && grep -q work /harness/disks &&
		echo "init: no scratch disk; /work is a tmpfs (no block I/O)"
	mount -t tmpfs work /work
fi

{
	echo "release=$(uname -r)"
	echo "work=${work_dev:-tmpfs}"
	echo "out=${out_dev:-ttyS1}"
} > /xfer/status

echo "init: running command (timeout ${TIMEOUT}s)"
t0=$(cut -d' ' -f1 /proc/uptime)
setsid sh -c '( cd /work && sh /harness/cmd; echo $? > /xfer/rc ) 2>&1 |
	tee /xfer/command.log' < /dev/null &
pid=$!
( sleep "$TIMEOUT"; echo 1 > /xfer/timedout; kill -KILL -"$pid" ) &
wd=$!
wait "$pid"
kill "$wd" 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
{
	echo "rc=$(cat /xfer/rc 2>/dev/null || echo 124)"
	echo "timedout=$(cat /xfer/timedout 2>/dev/null || echo 0)"
	echo "boot_s=$t0"
	echo "command_s=$(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}')"
} >> /xfer/status
rm -f /xfer/rc /xfer/timedout

sync
umount /work 2>/dev/null
if [ -n "$out_dev" ]; then
	tar -cf "/dev/$out_dev" -C /xfer . && sync
else
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	{ echo "FAULTLAB-XFER-BEGIN"; tar -cf - -C /xfer . | base64; echo "FAULTLAB-XFER-END"; } \
		> /dev/ttyS1
fi
echo "init: done"
poweroff -f
