# tests/t/lib.sh - sourced by every shell test (git t/ style).
#   ok "name"                  a passing check
#   not_ok "name" "why"        a failing check
#   skip "name" "reason"       only where the machine truly lacks the thing
#   check "name" cmd args...   ok if the command exits 0
#   need_tracefs "name"        returns 1 (after printing skip) unless root with tracefs
# Each test works in its own scratch directory $TMP (removed at exit).
set -u
: "${FAULTLAB:?run through make test}"
: "${WORKLOADS:?run through make test}"
T=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/faultlab-$T.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok - $T/$1"; }
not_ok() { echo "FAIL - $T/$1${2:+: $2}"; }
skip() { echo "skip - $T/$1: $2"; }
check() {
	local name=$1; shift
	if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else
		not_ok "$name" "command failed: $*"; sed 's/^/    /' "$TMP/check.out" | head -20; fi
}
need_tracefs() {
	if [ "$(id -u)" != 0 ]; then skip "$1" "not root"; return 1; fi
	if [ ! -d /sys/kernel/tracing/events ]; then
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	fi
	if [ ! -d /sys/kernel/tracing/events ]; then skip "$1" "tracefs unavailable"; return 1; fi
	return 0
}
