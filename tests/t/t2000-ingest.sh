#!/bin/bash
# t2000-ingest.sh - `faultlab ingest` and `faultlab info` from the command line:
# usage, files that are not captures (exit 1, database untouched), a trace-cmd
# trace.dat, and live (root + tracefs): a real capture of faultwork ingested,
# re-ingest idempotent, a failure injected mid-ingest rolls back, truncated
# files at several cut points and a flipped byte in a data frame ingest what
# is intact with a warning, and several files at once are each all-or-nothing.
. "$(dirname "$0")/lib.sh"

DB=$TMP/t.db
TRACEDAT=$FL_ROOT/tests/golden/tracedat-x86_64-6.18/trace.dat

# dump DB: the database's content as SQL text (what "unchanged" means).
dump() { sqlite3 "$1" .dump 2>&1; }
# q DB SQL: one value.
q() { sqlite3 "$1" "$2" 2>&1; }

# --- usage -------------------------------------------------------------------
"$FAULTLAB" ingest --help >"$TMP/out" 2>&1
[ $? = 0 ] && grep -q -- '--db' "$TMP/out" && ok "help" || not_ok "help"
"$FAULTLAB" ingest >/dev/null 2>&1
[ $? = 2 ] && ok "no file exits 2" || not_ok "no file exits 2"
"$FAULTLAB" ingest --bogus x >/dev/null 2>&1
[ $? = 2 ] && ok "bad option exits 2" || not_ok "bad option exits 2"

# --- not a capture: one line naming the file, exit 1, no database created ------
printf 'hello, I am text\n%.0s' $(seq 100) >"$TMP/notes.txt"
"$FAULTLAB" ingest "$TMP/notes.txt" --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "notes.txt" "$TMP/err" &&
   grep -q "not a faultlab capture" "$TMP/err"; then ok "not a capture: one-line error, exit 1"
else not_ok "not a capture: one-line error, exit 1" "rc=$rc: $(cat "$TMP/err")"; fi
[ ! -e "$DB" ] && ok "not a capture: no database created" ||
	not_ok "not a capture: no database created"
"$FAULTLAB" ingest "$TMP/missing.flc" --db "$DB" >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "missing.flc" "$TMP/err" && ok "missing file: exit 1" ||
	not_ok "missing file: exit 1" "$(cat "$TMP/err")"

# --- trace-cmd trace.dat (no tracing needed) ---------------------------------------
if [ -f "$TRACEDAT" ]; then
	"$FAULTLAB" ingest "$TRACEDAT" --db "$TMP/td.db" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	n=$(q "$TMP/td.db" "SELECT count(*) FROM event")
	pf=$(q "$TMP/td.db" "SELECT count(*) FROM ev_page_fault WHERE user")
	if [ $rc = 0 ] && [ "$n" -gt 100 ] && [ "$pf" -gt 0 ] &&
	   [ "$(q "$TMP/td.db" "SELECT format FROM capture")" = trace.dat ]; then
		ok "trace.dat ingests ($n events, $pf user faults)"
	else not_ok "trace.dat ingests" "rc=$rc n=$n pf=$pf: $(cat "$TMP/err")"; fi
	before=$(dump "$TMP/td.db")
	"$FAULTLAB" ingest "$TMP/notes.txt" --db "$TMP/td.db" >/dev/null 2>&1
	rc=$?
	[ $rc = 1 ] && [ "$before" = "$(dump "$TMP/td.db")" ] &&
		ok "not a capture: existing database unchanged" ||
		not_ok "not a capture: existing database unchanged" "rc=$rc"
	"$FAULTLAB" info "$TRACEDAT" >"$TMP/out" 2>&1
	[ $? = 0 ] && grep -q "trace-cmd trace.dat" "$TMP/out" && grep -q "^events *$n\$" "$TMP/out" &&
		ok "info on a trace.dat counts its events" ||
		not_ok "info on a trace.dat counts its events" "$(cat "$TMP/out")"
	"$FAULTLAB" info "$TMP/td.db" >"$TMP/out" 2>&1
	[ $? = 0 ] && grep -q "schema version" "$TMP/out" && grep -q "trace.dat" "$TMP/out" &&
		ok "info on a database" || not_ok "info on a database" "$(cat "$TMP/out")"
	"$FAULTLAB" info --format json "$TMP/td.db" >"$TMP/out" 2>&1
	python3 -m json.tool "$TMP/out" >/dev/null 2>&1 &&
		grep -q '"schema_version": 1' "$TMP/out" && ok "info json on a database parses" ||
		not_ok "info json on a database parses" "$(head -5 "$TMP/out")"
else
	not_ok "trace.dat ingests" "golden file $TRACEDAT missing"
fi
"$FAULTLAB" info "$TMP/notes.txt" >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "notes.txt" "$TMP/err" && ok "info: not a capture, exit 1" ||
	not_ok "info: not a capture, exit 1" "$(cat "$TMP/err")"
sqlite3 "$TMP/other.db" "CREATE TABLE t(x)"
"$FAULTLAB" info "$TMP/other.db" >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "not a faultlab database" "$TMP/err" &&
	ok "info: someone else's sqlite database, exit 1" ||
	not_ok "info: someone else's sqlite database, exit 1" "$(cat "$TMP/err")"

need_tracefs "live" || exit 0

# --- a real capture ----------------------------------------------------------------
"$FAULTLAB" capture -o "$TMP/fw.flc" -- "$WORKLOADS/faultwork" 2 20000 1000 200 \
	>"$TMP/fw.out" 2>"$TMP/fw.err"
if [ $? != 0 ] || [ ! -s "$TMP/fw.flc" ]; then
	not_ok "capture faultwork" "$(cat "$TMP/fw.err")"
	exit 0
fi
"$FAULTLAB" info "$TMP/fw.flc" >"$TMP/info" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "state *complete" "$TMP/info" && grep -q "^kernel *$(uname -r)" "$TMP/info" &&
   grep -q "command .*faultwork 2 20000" "$TMP/info"; then ok "info on a capture"
else not_ok "info on a capture" "$(cat "$TMP/info")"; fi
"$FAULTLAB" info --format json "$TMP/fw.flc" | python3 -m json.tool >/dev/null 2>&1 &&
	ok "info json on a capture parses" || not_ok "info json on a capture parses"

"$FAULTLAB" ingest "$TMP/fw.flc" --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
n=$(q "$DB" "SELECT events FROM capture WHERE id = 1")
rows=$(q "$DB" "SELECT count(*) FROM event")
if [ $rc = 0 ] && [ "$n" -gt 6000 ] && [ "$n" = "$rows" ] &&
   grep -qE "capture 1, $n events in [0-9.]+ s \([0-9.]+ M events/s\), 0 warnings" "$TMP/out"; then
	ok "ingest a real capture ($n events)"
else not_ok "ingest a real capture" "rc=$rc n=$n rows=$rows: $(cat "$TMP/out" "$TMP/err")"; fi
[ ! -s "$TMP/err" ] && ok "quiet on stderr when not a terminal" ||
	not_ok "quiet on stderr when not a terminal" "$(cat "$TMP/err")"
# The decoded fields are where the views say: user faults at user addresses.
bad=$(q "$DB" "SELECT count(*) FROM ev_page_fault WHERE user AND (address <= 0 OR
	address >= 0x800000000000 OR ip <= 0 OR (error_code & 4) = 0)")
[ "$bad" = 0 ] && ok "user faults: user addresses, user bit in error_code" ||
	not_ok "user faults: user addresses, user bit in error_code" "$bad bad rows"
[ "$(q "$DB" "SELECT count(*) FROM task WHERE followed AND comm = 'faultwork'")" -ge 1 ] &&
	ok "task table names the followed command" || not_ok "task table names the followed command"
[ "$(q "$DB" "SELECT count(*) FROM maps WHERE path LIKE '%faultwork'")" -ge 1 ] &&
	ok "maps rows parsed" || not_ok "maps rows parsed"
[ "$(q "$DB" "SELECT count(*) FROM ev_syscall WHERE name = 'mmap' AND phase = 'exit' AND
	ret > 0")" -ge 1 ] && ok "ev_syscall: mmap returns" || not_ok "ev_syscall: mmap returns"
[ "$(q "$DB" "PRAGMA journal_mode")" = wal ] && ok "database in WAL mode" ||
	not_ok "database in WAL mode"

# --- idempotent ----------------------------------------------------------------------
before=$(dump "$DB")
cp "$TMP/fw.flc" "$TMP/copy.flc"
"$FAULTLAB" ingest "$TMP/copy.flc" --db "$DB" >"$TMP/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "already ingested as capture 1" "$TMP/out" &&
   [ "$before" = "$(dump "$DB")" ]; then ok "re-ingest: already ingested, nothing added"
else not_ok "re-ingest: already ingested, nothing added" "rc=$rc: $(cat "$TMP/out")"; fi

# --- atomic: a failure injected mid-ingest leaves the database exactly as it was -------
head -c $(( $(stat -c %s "$TMP/fw.flc") * 9 / 10 )) "$TMP/fw.flc" >"$TMP/cut90.flc"
FAULTLAB_TEST_INGEST_FAIL_AFTER=3000 "$FAULTLAB" ingest "$TMP/cut90.flc" --db "$DB" \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 1 ] && grep -q "nothing of it was stored" "$TMP/err" &&
   [ "$before" = "$(dump "$DB")" ]; then ok "failure mid-ingest: rolled back, database unchanged"
else not_ok "failure mid-ingest: rolled back, database unchanged" "rc=$rc: $(cat "$TMP/err")"; fi

# --- several files: each all-or-nothing, exit 1 if any failed -------------------------
"$FAULTLAB" ingest "$TMP/notes.txt" "$TMP/cut90.flc" --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 1 ] && grep -q "notes.txt" "$TMP/err" && grep -q "cut90.flc: capture 2" "$TMP/out"; then
	ok "mixed files: the good one ingested, exit 1"
else not_ok "mixed files: the good one ingested, exit 1" "rc=$rc: $(cat "$TMP/out" "$TMP/err")"; fi

# --- truncated at several cut points: every complete record, a warning, exit 0 --------
# records FILE: "offset kind bytes" per record (skippable frame + 32-byte tag + zstd frame).
records() {
	python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], 'rb').read()
o = 0
while o + 40 <= len(b):
    kind = struct.unpack_from('<H', b, o + 12)[0]
    zsize = struct.unpack_from('<I', b, o + 24)[0]
    print(o, kind, 40 + zsize)
    o += 40 + zsize
EOF
}
records "$TMP/fw.flc" >"$TMP/recs"
first_data=$(awk '$2 == 2 { print $1, $3; exit }' "$TMP/recs")
last_data=$(awk '$2 == 2 { r = $1 " " $3 } END { print r }' "$TMP/recs")
end_rec=$(awk '$2 == 5 { print $1 }' "$TMP/recs")
set -- $first_data; fd_off=$1 fd_len=$2
set -- $last_data; ld_off=$1 ld_len=$2
size=$(stat -c %s "$TMP/fw.flc")
# cut point (bytes) and what must hold: some = fewer than all events but > 0; all = every event.
for spec in "$(( fd_off + fd_len / 2 )):any:inside the first data frame" \
	    "$(( fd_off + fd_len + 10 )):some:inside the tag after the first data record" \
	    "$(( ld_off + ld_len / 2 )):some:inside the last data frame" \
	    "$(( ld_off + ld_len )):all:at the record boundary after the last data record" \
	    "$(( size - 20 )):all:inside the END record"; do
	bytes=${spec%%:*}; rest=${spec#*:}; want=${rest%%:*}; name=${rest#*:}
	head -c "$bytes" "$TMP/fw.flc" >"$TMP/cut.flc"
	"$FAULTLAB" ingest "$TMP/cut.flc" --db "$TMP/cut.db" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	id=$(grep -o 'capture [0-9]*' "$TMP/out" | head -1 | cut -d' ' -f2)
	got=$(q "$TMP/cut.db" "SELECT events FROM capture WHERE id = ${id:-0}")
	trunc=$(q "$TMP/cut.db" "SELECT truncated FROM capture WHERE id = ${id:-0}")
	case $want in
	any) good=$([ "${got:-0}" -lt "$n" ] && echo 1) ;;
	some) good=$([ "${got:-0}" -gt 0 ] && [ "${got:-0}" -lt "$n" ] && echo 1) ;;
	all) good=$([ "${got:-0}" = "$n" ] && echo 1) ;;
	esac
	if [ $rc = 0 ] && grep -q "truncated" "$TMP/err" && [ "$trunc" = 1 ] && [ "$good" = 1 ]; then
		ok "truncated $name: $got of $n events, warned, exit 0"
	else not_ok "truncated $name" "rc=$rc got=$got of $n: $(cat "$TMP/out" "$TMP/err")"; fi
done
[ -n "$end_rec" ] && ok "capture ends with an END record" || not_ok "capture ends with an END record"

# --- a flipped byte in a data frame: that frame skipped with a warning, the rest in -----
# The middle of the 2nd DATA frame (or the only one).
off=$(awk '$2 == 2 { n++; o = $1 + 40 + int(($3 - 40) / 2); if (n == 2) { print o; exit } }
	   END { if (n == 1) print o }' "$TMP/recs")
if [ -n "$off" ]; then
	cp "$TMP/fw.flc" "$TMP/flip.flc"
	python3 -c "
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[o] ^= 0xff; open(p, 'wb').write(b)" "$TMP/flip.flc" "$off"
	"$FAULTLAB" info "$TMP/flip.flc" >"$TMP/info" 2>&1
	grep -q "state *damaged" "$TMP/info" && grep -q "damaged records *1" "$TMP/info" &&
		ok "info finds the damaged frame" || not_ok "info finds the damaged frame" "$(cat "$TMP/info")"
	"$FAULTLAB" ingest "$TMP/flip.flc" --db "$TMP/flip.db" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	got=$(q "$TMP/flip.db" "SELECT events FROM capture")
	if [ $rc = 0 ] && grep -q "warning" "$TMP/err" && [ "${got:-0}" -gt 0 ] &&
	   [ "${got:-0}" -lt "$n" ] && [ "$(q "$TMP/flip.db" "SELECT complete FROM capture")" = 0 ]; then
		ok "flipped byte in a data frame: warned, $got of $n events, exit 0"
	else not_ok "flipped byte in a data frame" "rc=$rc got=$got: $(cat "$TMP/out" "$TMP/err")"; fi
else
	not_ok "flipped byte in a data frame" "capture has fewer than 2 data records"
fi
