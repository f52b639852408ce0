#!/bin/bash
# run.sh - boot a kernel under QEMU, run one command in it, bring its files out.
#
#   tests/kernels/run.sh [options] KERNEL CMD [ARG...]
#
# KERNEL is a kernel image (bzImage/vmlinuz) or the name of a series cached by
# fetch-kernels.sh (6.1, 6.12). The guest is a busybox initramfs holding
# faultlab (/bin/faultlab), every test workload (/workloads, also on PATH), the
# shared libraries `ldd` lists for them, and whatever -f adds. CMD runs as root
# in /work (an ext4 scratch disk on NVMe, so file I/O is real block I/O) with
# tracefs mounted; what it writes to /out comes back in OUTDIR/out/.
#
# Options:
#   -o DIR       output directory (default ./kernel-run); it gets
#                  out/          the files CMD wrote to /out
#                  command.log   CMD's stdout and stderr
#                  console.log   the whole serial console (kernel and init messages)
#                  status        key=value: release, rc, timedout, boot_s, command_s,
#                                accel, wall_s
#   -t SEC       time limit of CMD in the guest (default 120); QEMU itself is
#                killed SEC+90 s after start
#   -f SRC[:DST] add a host file or directory to the guest at DST (default
#                /extra/NAME); ELF files get their shared libraries too (repeatable)
#   -m MODULE    insmod MODULE and its dependencies from the kernel's modules tree
#                before CMD (repeatable; the built-in NVMe and ext4 need none)
#   -M DIR       modules tree (default: modules/ next to a cached kernel)
#   -a ARGS      more kernel command-line arguments
#   -c N         guest CPUs (default 2)   -r MB  guest memory (default 1024)
#   -d MB        scratch disk size (default 512; 0 = /work is a tmpfs)
#   -T HOW       how files come out: disk (default; a raw NVMe disk holding a tar)
#                or serial (base64 on the second serial port, for kernels without
#                NVMe; slower); with disk, init falls back to serial by itself
#   -A ACCEL     kvm, tcg or auto (default): kvm only when a probe boot under
#                /dev/kvm succeeds on this host (remembered until the host reboots)
#   -v           show the console on stderr while it runs
# Environment: FAULTLAB (default ./faultlab), WORKLOADS (default build/tests/workloads),
# BUSYBOX (default /bin/busybox, must be static).
#
# Exit status: CMD's exit status; 124 when CMD or the guest timed out; 125 when
# the harness failed (boot failure, nothing came back), with a message.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$HERE/cache

usage() {
	sed -n '/^#   tests/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' | sed '$d' >&2
	exit 2
}
die() {
	echo "run.sh: $*" >&2
	exit 125
}

outdir=./kernel-run timeout=120 cpus=2 mem=1024 disk=512 transport=disk accel=auto verbose=0
append="" moddir="" extras=() modules=()
while getopts "o:t:f:m:M:a:c:r:d:T:A:vh" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	t) timeout=$OPTARG ;;
	f) extras+=("$OPTARG") ;;
	m) modules+=("$OPTARG") ;;
	M) moddir=$OPTARG ;;
	a) append="$append $OPTARG" ;;
	c) cpus=$OPTARG ;;
	r) mem=$OPTARG ;;
	d) disk=$OPTARG ;;
	T) transport=$OPTARG ;;
	A) accel=$OPTARG ;;
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
kernel=$1
shift
if [ ! -f "$kernel" ] && [ -f "$CACHE/$kernel/vmlinuz" ]; then
	[ -z "$moddir" ] && moddir=$CACHE/$kernel/modules
	kernel=$CACHE/$kernel/vmlinuz
fi
[ -f "$kernel" ] || die "no kernel image '$kernel' (run 'make deps' to fetch the Debian kernels)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run 'make deps')"
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || die "no busybox at '$BUSYBOX' (run 'make deps': busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 &&
	die "'$BUSYBOX' is dynamically linked (install busybox-static, or set BUSYBOX)"
FAULTLAB=${FAULTLAB:-$ROOT/faultlab}
WORKLOADS=${WORKLOADS:-$ROOT/build/tests/workloads}

work=$(mktemp -d /tmp/faultlab-kernel.XXXXXX)
qpid=""
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the initramfs -------------------------------------------------------------
st=$work/root
mkdir -p "$st"/{bin,sbin,proc,sys,dev,etc,lib,workloads,harness,modules,extra}
ln -s lib "$st/lib64"
cp "$BUSYBOX" "$st/bin/busybox"
cp "$HERE/guest-init.sh" "$st/init"
chmod 755 "$st/init"
echo "TIMEOUT=$timeout" > "$st/harness/config"
: > "$st/harness/modules"
echo "root:x:0:0:root:/:/bin/sh" > "$st/etc/passwd"
echo "root:x:0:" > "$st/etc/group"

elfs=()
add_file() {	# add_file SRC DST
	mkdir -p "$st$(dirname "$2")"
	cp -a "$1" "$st$2" || die "cannot copy '$1' into the initramfs"
	if [ -d "$1" ]; then
		while IFS= read -r f; do elfs+=("$f"); done < <(find "$1" -type f -perm -u+x)
	else
		elfs+=("$1")
	fi
}
if [ -x "$FAULTLAB" ]; then
	add_file "$FAULTLAB" /bin/faultlab
else
	echo "run.sh: no faultlab binary at '$FAULTLAB' (not copied)" >&2
fi
if [ -d "$WORKLOADS" ]; then
	for w in "$WORKLOADS"/*; do
		[ -f "$w" ] && [ -x "$w" ] && add_file "$w" "/workloads/$(basename "$w")"
	done
fi
for e in "${extras[@]+"${extras[@]}"}"; do
	src=${e%%:*}
	dst=/extra/$(basename "$src")
	[ "$src" != "$e" ] && dst=${e#*:}
	[ -e "$src" ] || die "no file '$src' to add with -f"
	add_file "$src" "$dst"
done
# every shared library (and the dynamic loader) the ELF files need, at the same path
for f in "${elfs[@]+"${elfs[@]}"}"; do
	head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
	ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while IFS= read -r lib; do
	[ -e "$st$lib" ] && continue
	mkdir -p "$st$(dirname "$lib")"
	cp -L "$lib" "$st$lib"
done

# modules and their dependencies, in load order
if [ ${#modules[@]} -gt 0 ]; then
	[ -f "$moddir/modules.dep" ] || die "no modules tree '$moddir' (give one with -M)"
	declare -A loaded=()
	load_mod() {	# load_mod PATH-IN-TREE (dependencies first)
		local p=$1 dep line
		[ -n "${loaded[$p]:-}" ] && return 0
		loaded[$p]=1
		line=$(grep -m1 "^$p:" "$moddir/modules.dep")
		for dep in ${line#*:}; do load_mod "$dep"; done
		local name
		name=$(basename "$p")
		case $p in
		*.xz) xz -dc "$moddir/$p" > "$st/modules/${name%.xz}"; name=${name%.xz} ;;
		*.zst) zstd -qdc "$moddir/$p" > "$st/modules/${name%.zst}"; name=${name%.zst} ;;
		*.gz) gzip -dc "$moddir/$p" > "$st/modules/${name%.gz}"; name=${name%.gz} ;;
		*) cp "$moddir/$p" "$st/modules/$name" ;;
		esac
		echo "$name" >> "$st/harness/modules"
	}
	for m in "${modules[@]}"; do
		m=${m//-/_}
		p=$(cut -d: -f1 "$moddir/modules.dep" | tr '-' '_' |
			grep -n -m1 -E "(^|/)$m\.ko(\.xz|\.zst|\.gz)?$" | cut -d: -f1)
		[ -n "$p" ] || die "no module '$m' in '$moddir'"
		load_mod "$(sed -n "${p}p" "$moddir/modules.dep" | cut -d: -f1)"
	done
fi

# the command, quoted word by word for the guest's shell
{
	printf 'exec'
	for a in "$@"; do printf " '%s'" "${a//\'/\'\\\'\'}"; done
	printf '\n'
} > "$st/harness/cmd"

# --- disks: a scratch ext4 for /work, a raw one for the tar of /xfer ------------
qargs=()
disks=""
case $transport in
disk)
	truncate -s 1G "$work/out.img"
	qargs+=(-drive "file=$work/out.img,if=none,id=out,format=raw"
		-device "nvme,serial=flout,drive=out")
	disks=out ;;
serial) ;;
*) die "unknown transport '$transport' (disk or serial)" ;;
esac
if [ "$disk" -gt 0 ]; then
	truncate -s "${disk}M" "$work/work.img"
	mkfs.ext4 -q -F -m 0 "$work/work.img" >/dev/null 2>&1 || die "mkfs.ext4 failed"
	qargs+=(-drive "file=$work/work.img,if=none,id=work,format=raw,cache=unsafe"
		-device "nvme,serial=flwork,drive=work")
	disks="$disks work"
fi
echo "$disks" > "$st/harness/disks"

(cd "$st" && find . | cpio -o -H newc --quiet) > "$work/initrd.cpio" ||
	die "cannot build the initramfs"

# --- accelerator -----------------------------------------------------------------
probe_kvm() {	# a boot that powers off at once must finish quickly under kvm
	local p=$work/probe
	mkdir -p "$p/bin"
	cp "$BUSYBOX" "$p/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox poweroff -f\n' > "$p/init"
	chmod 755 "$p/init"
	(cd "$p" && find . | cpio -o -H newc --quiet) > "$work/probe.cpio"
	timeout 8 qemu-system-x86_64 -accel kvm -m 256 -nodefaults -no-user-config \
		-display none -serial none -no-reboot -kernel "$kernel" -initrd "$work/probe.cpio" \
		-append "console=ttyS0 quiet panic=-1" >/dev/null 2>&1
}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
		mkdir -p "$CACHE"
		memo=$CACHE/accel.$boot_id
		if [ ! -f "$memo" ]; then
			rm -f "$CACHE"/accel.*
			if probe_kvm; then echo kvm > "$memo"; else echo tcg > "$memo"; fi
		fi
		accel=$(cat "$memo")
	fi
fi
case $accel in
kvm) qargs+=(-accel kvm) ;;
tcg) qargs+=(-accel tcg,thread=single) ;;
*) die "unknown accelerator '$accel' (kvm, tcg or auto)" ;;
esac

# --- boot ------------------------------------------------------------------------
mkdir -p "$outdir"
rm -rf "$outdir/out" "$outdir/command.log" "$outdir/console.log" "$outdir/status"
: > "$work/console.log"
start=$(date +%s.%N)
timeout -s KILL $((timeout + 90)) qemu-system-x86_64 -m "$mem" -smp "$cpus" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$kernel" -initrd "$work/initrd.cpio" \
	-append "console=ttyS0 quiet panic=-1 mitigations=off$append" \
	-serial "file:$work/console.log" -serial "file:$work/xfer.b64" \
	"${qargs[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
if [ $verbose = 1 ]; then
	tail -n +1 -f "$work/console.log" --pid=$qpid >&2 &
fi
wait $qpid
qrc=$?
qpid=""
end=$(date +%s.%N)
cp "$work/console.log" "$outdir/console.log"

# --- bring the files out -----------------------------------------------------------
x=$work/xfer
mkdir -p "$x"
if grep -q FAULTLAB-XFER-BEGIN "$work/xfer.b64" 2>/dev/null; then
	sed -n '/FAULTLAB-XFER-BEGIN/,/FAULTLAB-XFER-END/p' "$work/xfer.b64" | tr -d '\r' |
		sed '1d;$d' | base64 -d | tar -xf - -C "$x" 2>/dev/null
else
	[ -f "$work/out.img" ] && tar -xf "$work/out.img" -C "$x" 2>/dev/null
fi
if [ ! -f "$x/status" ] || ! grep -q '^rc=' "$x/status"; then
	if [ $qrc = 137 ]; then
		echo "run.sh: the guest did not finish within $((timeout + 90)) s" >&2
		rc=124
	else
		echo "run.sh: nothing came back from the guest (qemu exit $qrc); console tail:" >&2
		rc=125
	fi
	grep -m1 -E 'Kernel panic|BUG:|Oops' "$work/console.log" | sed 's/^/    first: /' >&2
	tail -n 15 "$work/console.log" | sed 's/^/    /' >&2
	grep -v '^$' "$work/qemu.log" | tail -n 5 | sed 's/^/    qemu: /' >&2
	exit $rc
fi
mkdir -p "$outdir/out"
cp -a "$x/out/." "$outdir/out/" 2>/dev/null
cp "$x/command.log" "$outdir/command.log" 2>/dev/null
{
	cat "$x/status"
	echo "accel=$accel"
	echo "wall_s=$(echo "$end $start" | awk '{printf "%.2f", $1 - $2}')"
} > "$outdir/status"
rc=$(sed -n 's/^rc=//p' "$outdir/status")
if grep -q '^timedout=1' "$outdir/status"; then
	echo "run.sh: '$*' did not finish within $timeout s in the guest" >&2
	exit 124
fi
exit "$rc"
