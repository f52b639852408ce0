#!/bin/bash
# Runs every test program given as arguments and every tests/t/t*.sh, echoes
# their "ok - / FAIL - / skip - " lines, and ends with "N passed, N failed".
# Each program or script may print its own count line; only the final one
# here counts. FAULTLAB, WORKLOADS and B come from the Makefile.
set -u
cd "$(dirname "$0")/.."
export FL_ROOT=$PWD
log=$(mktemp /tmp/faultlab-test.XXXXXX)
trap 'rm -f "$log"' EXIT

run() {
	local name=$1; shift
	local out rc
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^(ok|FAIL|skip) - ' >> "$log"
	printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed' 
	# A program that died without reporting a failure still fails.
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL - '; then
		echo "FAIL - $name: exited with status $rc" | tee -a "$log"
	fi
}

for prog in "$@"; do
	case $prog in
	*-replay) run "$(basename "$prog")" "$prog" tests/fuzz/corpus/"$(basename "$prog" -replay | sed 's/^fuzz-//')" ;;
	*) run "$(basename "$prog")" "$prog" ;;
	esac
done
for t in tests/t/t[0-9]*.sh; do
	[ -e "$t" ] || continue
	run "$t" bash "$t"
done

passed=$(grep -c '^ok - ' "$log")
failed=$(grep -c '^FAIL - ' "$log")
skipped=$(grep -c '^skip - ' "$log")
echo
grep '^FAIL - ' "$log" | sed 's/^/failed: /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
