#!/bin/bash
# make demo's script, both ways: a live capture of the built-in workload, and
# the bundled capture used where tracing is unavailable.
. "$FL_ROOT/tests/t/lib.sh"

demo() {	# demo NAME [ENV...]: runs tests/demo.sh into $TMP/NAME, checks each stage's output
	local name=$1; shift
	if env "$@" DEMO_DIR="$TMP/$name" bash "$FL_ROOT/tests/demo.sh" >"$TMP/$name.out" 2>&1 &&
		grep -q '^capture 1: ' "$TMP/$name.out" &&
		grep -q 'faults_user' "$TMP/$name.out" &&
		grep -q '^path_vma ' "$TMP/$name.out" &&
		grep -q 'change against mainline' "$TMP/$name.out"; then
		ok "$name: info, ingest, report and replay ran"
	else
		not_ok "$name" "$(tail -5 "$TMP/$name.out")"
	fi
}
demo bundled DEMO_BUNDLED=1
need_tracefs "live demo" || exit 0
demo live
