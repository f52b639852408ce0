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

# anonmix_validate LABEL ARGS... - captures tests/workloads/anonmix ARGS into $TMP/am.flc and
# replays mainline with --validate into $TMP/val.json (capture stdout in $TMP/am.out). The
# workload is a plain build even under `make SANITIZE=...`: the sanitizer's runtime (a large
# library, shadow mappings) changes what is measured; faultlab itself stays sanitized.
# Prints FAIL and returns 1 if a step fails.
anonmix_validate() {
	local label=$1 am=$WORKLOADS/anonmix
	shift
	if ldd "$am" 2>/dev/null | grep -Eq 'lib(asan|ubsan)'; then
		am=$TMP/anonmix
		cc -O2 -pthread -o "$am" "$FL_ROOT/tests/workloads/anonmix.c" ||
			{ not_ok "build a plain anonmix"; return 1; }
	fi
	if ! "$FAULTLAB" capture -o "$TMP/am.flc" -- "$am" "$@" >"$TMP/am.out" 2>"$TMP/am.err"; then
		not_ok "capture $label" "$(tail -5 "$TMP/am.err")"
		return 1
	fi
	if ! "$FAULTLAB" replay --model --policy mainline --validate --db "$TMP/am.db" \
		--format json "$TMP/am.flc" >"$TMP/val.json" 2>"$TMP/err"; then
		not_ok "$label: replay --validate" "$(tail -5 "$TMP/err")"
		return 1
	fi
}

# py_check NAME SCRIPT - runs python3 -c SCRIPT: ok NAME followed by what it printed, else FAIL
# NAME with what it printed and its error.
py_check() {
	if python3 -c "$2" >"$TMP/fid" 2>"$TMP/py"; then
		ok "$1"
		cat "$TMP/fid"
	else
		not_ok "$1" "$(cat "$TMP/fid"; tail -2 "$TMP/py")"
	fi
}
