#!/bin/bash
# fetch-kernels.sh - make the Debian kernels the QEMU harness boots available
# in tests/kernels/cache/ (called by `make deps`; safe to run again).
#
# For each kernel series (6.1, 6.12) it picks the newest
# linux-image-<series>*-cloud-amd64-unsigned package the apt lists know,
# downloads it with `apt-get download` into cache/debs/ and extracts into
# cache/<series>/:
#   vmlinuz   config   System.map   release (uname -r)   package (name=version)
#   modules/  the package's /lib/modules/<release> tree (6.12's .ko.xz kept as is)
#             with modules.dep made by depmod (the package leaves that to its postinst)
# A series already extracted is left alone and nothing is printed, so the
# test inputs stay stable; --refresh re-picks the newest package.
# It also installs the host tools the harness needs (qemu-system-x86,
# busybox-static, cpio, e2fsprogs, kmod for depmod, xz-utils) when missing.
# apt-get update runs only when apt does not know a package it needs.
# Exit status 0 when every series is ready, 1 otherwise (with a message
# saying what failed).
set -u
cd "$(dirname "$0")"
CACHE=$PWD/cache
SERIES="6.1 6.12"
refresh=0
[ "${1:-}" = --refresh ] && refresh=1

updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	updated=1
	apt-get update -qq >/dev/null 2>&1
}

need_tools() {
	local p missing=""
	for p in qemu-system-x86 busybox-static cpio e2fsprogs kmod xz-utils; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "fetch-kernels: installing$missing"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || {
			echo "fetch-kernels: cannot install '$missing' with apt-get" >&2
			return 1
		}
	fi
}

# newest package name for a series: 6.1 -> linux-image-6.1.0-N-cloud-amd64-unsigned,
# 6.12 -> linux-image-6.12.N+debNN-cloud-amd64-unsigned
pick() {
	local re
	case $1 in
	6.1) re='^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
	*) re="^linux-image-${1//./\\.}[.-][^ ]*-cloud-amd64-unsigned\$" ;;
	esac
	apt-cache search --names-only "$re" 2>/dev/null | awk '{print $1}' | sort -V | tail -n 1
}

fetch() {
	local s=$1 pkg ver deb tmp rel
	pkg=$(pick "$s")
	if [ -z "$pkg" ]; then
		apt_update
		pkg=$(pick "$s")
	fi
	if [ -z "$pkg" ]; then
		echo "fetch-kernels: no 'linux-image-$s*-cloud-amd64-unsigned' package in the apt lists" >&2
		return 1
	fi
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	if [ -f "$CACHE/$s/package" ] && [ "$(cat "$CACHE/$s/package")" = "$pkg=$ver" ]; then
		return 0
	fi
	mkdir -p "$CACHE/debs"
	deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | tail -n 1)
	if [ -z "$deb" ]; then
		echo "fetch-kernels: downloading $pkg ($ver)"
		(cd "$CACHE/debs" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver") || {
			echo "fetch-kernels: 'apt-get download $pkg' failed" >&2
			return 1
		}
		deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | tail -n 1)
	fi
	tmp=$(mktemp -d "$CACHE/.extract.XXXXXX")
	if ! dpkg-deb -x "$deb" "$tmp"; then
		echo "fetch-kernels: cannot extract '$deb' (remove it and run again)" >&2
		rm -rf "$tmp"
		return 1
	fi
	rel=$(ls "$tmp/lib/modules" | head -n 1)
	if [ -z "$rel" ] || [ ! -f "$tmp/boot/vmlinuz-$rel" ]; then
		echo "fetch-kernels: '$deb' has no vmlinuz-$rel" >&2
		rm -rf "$tmp"
		return 1
	fi
	# the package leaves modules.dep to its postinst; run.sh -m needs it
	depmod -b "$tmp" "$rel" 2>/dev/null ||
		echo "fetch-kernels: depmod failed for $rel (run.sh -m will not work)" >&2
	mkdir -p "$tmp/out"
	mv "$tmp/boot/vmlinuz-$rel" "$tmp/out/vmlinuz"
	mv "$tmp/boot/config-$rel" "$tmp/out/config"
	mv "$tmp/boot/System.map-$rel" "$tmp/out/System.map"
	mv "$tmp/lib/modules/$rel" "$tmp/out/modules"
	echo "$rel" > "$tmp/out/release"
	echo "$pkg=$ver" > "$tmp/out/package"
	rm -rf "$CACHE/$s"
	mv "$tmp/out" "$CACHE/$s"
	rm -rf "$tmp"
	# captures taken on the previous kernel of this series are stale now
	rm -f "$CACHE"/captures*/"$s".{flc,log,status,workload} "$CACHE"/captures*/"$s"-*
	echo "fetch-kernels: $s is $rel ($pkg $ver)"
}

# modules.dep for a tree extracted before fetch-kernels.sh ran depmod
moddep() {
	local b
	b=$(mktemp -d "$CACHE/.depmod.XXXXXX")
	mkdir -p "$b/lib/modules"
	ln -s "$CACHE/$1/modules" "$b/lib/modules/$(cat "$CACHE/$1/release")"
	depmod -b "$b" "$(cat "$CACHE/$1/release")" 2>/dev/null ||
		echo "fetch-kernels: depmod failed for $1 (run.sh -m will not work)" >&2
	rm -rf "$b"
}

need_tools || exit 1
rc=0
for s in $SERIES; do
	if [ $refresh = 0 ] && [ -f "$CACHE/$s/vmlinuz" ] && [ -f "$CACHE/$s/release" ]; then
		[ -f "$CACHE/$s/modules/modules.dep" ] || moddep "$s"
		continue
	fi
	fetch "$s" || rc=1
done
exit $rc
