#!/bin/bash
# t3100-report.sh - `faultlab report` on real captures of this kernel, all four formats.
#
# Live (root + tracefs, this machine):
# - faultwork run under the name <script>&'" (a copy of the binary: the kernel takes
#   comm from the file name): the JSON names that process exactly; its kernel-mode faults
#   (pread into fresh anonymous memory) are all path 'mmap' in the database and counted
#   in path_mmap; its threads' writes to fresh anonymous pages are almost all path_vma;
#   HTML, markdown and text carry the name escaped for each (no <script> element in the
#   page, parsed by Python and, when installed, by headless chromium).
# - thrash (4 threads, real file data) in a memory cgroup far below its files: the
#   process's faults_major equals thrash's own getrusage majflt within 10%, retry_drop > 0,
#   miss_drop_pct = 100 * retry_io_miss / retry_drop, the histogram bins sum to the
#   acquisition counts (whole capture and per process), and the text and markdown tables
#   show the JSON's figures.
# Both: the JSON metrics keys are exactly DESIGN.md's vocabulary (plus the documented
# extras) with the documented shapes; the HTML page is self-contained (no external URL,
# no script) and draws its three figures; -o writes the file.
. "$(dirname "$0")/lib.sh"

DB=$TMP/r.db
q() { sqlite3 "$DB" "$@"; }

cat >"$TMP/check.py" <<'EOF'
import html.parser, json, os, re, sys

VOCAB = {
    "faults_user": "n", "faults_kernel": "n", "path_vma": "n", "path_vma_retry_mmap": "n",
    "path_vma_retry_vma": "n", "path_mmap": "n", "retry_drop": "n", "retry_io_miss": "n",
    "miss_drop_pct": "n", "mmap_read_acq": "n", "mmap_write_acq": "n",
    "mmap_read_wait_us": "stat", "mmap_write_wait_us": "stat",
    "mmap_read_wait_hist": "hist", "mmap_write_wait_hist": "hist",
    "io_wait_us": "n", "io_wait_locked_us": "n", "fault_latency_us": "lat",
    "fork_count": "n", "fork_hold_us": "n", "fork_blocked_us": "n", "chained_waits": "n",
    "max_chain": "n", "inversions": "n", "makespan_us": "n",
}
# Documented additions (report/metrics.h, report/report.h).
EXTRA = {"faults_major", "path_unknown", "anomalies"}
EXTRA_CAPTURE = {"tasks", "events", "events_lost"}

def design_names(path):
    """Metric names of the vocabulary table of DESIGN.md."""
    names, on = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("## "):
            on = "metric vocabulary" in line
        if on and line.startswith("| `"):
            first = line.split("|")[1]
            names |= set(re.findall(r"`([a-z_]+)`", first))
            if "same for write" in first and "mmap_read_wait_us" in names:
                names.add("mmap_write_wait_us")
    return names

def shape_ok(kind, v):
    num = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)
    if kind == "n":
        return num(v)
    if kind == "stat":
        return isinstance(v, dict) and set(v) == {"total", "avg", "p50", "p99", "max"} and \
            all(num(x) for x in v.values())
    if kind == "lat":
        return isinstance(v, dict) and set(v) == {"p50", "p99", "max"}
    if kind == "hist":
        return isinstance(v, list) and len(v) == 7 and all(isinstance(x, int) for x in v)

def vocab(jpath, design):
    j = json.load(open(jpath))
    errs = []
    if os.path.exists(design):
        d = design_names(design)
        if d != set(VOCAB):
            errs.append("DESIGN.md vocabulary differs from the test's: %s" %
                        sorted(d ^ set(VOCAB)))
    objs = [("metrics", j["metrics"], EXTRA | EXTRA_CAPTURE)]
    objs += [("process %d" % p["tgid"], p["metrics"], EXTRA) for p in j["processes"]]
    for name, m, extra in objs:
        keys = set(m)
        if keys != set(VOCAB) | extra:
            errs.append("%s: missing %s, unexpected %s" % (name, sorted(set(VOCAB) - keys),
                        sorted(keys - set(VOCAB) - extra)))
        for k, kind in VOCAB.items():
            if k in m and not shape_ok(kind, m[k]):
                errs.append("%s: %s has the wrong shape: %r" % (name, k, m[k]))
    print("; ".join(errs) if errs else "%d objects" % len(objs))
    return not errs

def get(jpath, expr):
    j = json.load(open(jpath))
    print(eval(expr, {"j": j, "os": os, "proc": lambda c: [p for p in j["processes"]
                                                            if p["comm"] == c][0]}))
    return True

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.bad = [], [], []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("script", "iframe", "object", "embed", "link", "img"):
            self.bad.append("<%s>" % tag)
        for a, v in attrs:
            if a.startswith("on") or (v and re.match(r"\s*(https?:|//|javascript:)", v)
                                      and a != "xmlns"):
                self.bad.append("%s=%s on <%s>" % (a, v, tag))
    def handle_data(self, d):
        self.text.append(d)

def page(path, *needles):
    src = open(path, encoding="utf-8").read()
    p = Page()
    p.feed(src)
    text = "".join(p.text)
    errs = list(p.bad)
    if re.search(r"url\(|@import", src):
        errs.append("CSS loads a resource")
    for n in needles:
        if n not in text:
            errs.append("text lacks %r" % n)
    print("; ".join(errs) if errs else "%d tags, %d svg, %d figures" % (
        len(p.tags), p.tags.count("svg"), p.tags.count("figure")))
    return not errs

sys.exit(0 if globals()[sys.argv[1]](*sys.argv[2:]) else 1)
EOF
chk() { python3 "$TMP/check.py" "$@"; }
DESIGN=$FL_ROOT/../shared/DESIGN.md

# --- usage --------------------------------------------------------------------------------
"$FAULTLAB" report --help >"$TMP/help" 2>&1
grep -q -- "--format text|md|json|html" "$TMP/help" && grep -q -- "--output" "$TMP/help" &&
	ok "help names the formats and -o" || not_ok "help names the formats and -o"
"$FAULTLAB" report --format pdf --db "$DB" >/dev/null 2>"$TMP/err"
[ $? = 2 ] && grep -q "text, md, json or html" "$TMP/err" && ok "unknown format: exit 2" ||
	not_ok "unknown format: exit 2" "$(cat "$TMP/err")"

# --- a capture from Debian's 6.1 (tests/kernels cache): the report says what that kernel lacks --
if flc=$("$FL_ROOT/tests/kernels/capture.sh" 6.1 thrash 2>"$TMP/k.err") &&
   "$FAULTLAB" ingest "$flc" --db "$TMP/k.db" >"$TMP/k.out" 2>&1; then
	"$FAULTLAB" report --db "$TMP/k.db" >"$TMP/k.txt" 2>&1
	"$FAULTLAB" report --db "$TMP/k.db" --format json >"$TMP/k.json" 2>&1
	m=$(chk get "$TMP/k.json" "(j['metrics']['path_vma'], j['metrics']['path_mmap'] > 0)")
	w=$(sed -n '/^Faults$/q;p' "$TMP/k.txt")	# everything before the first number table
	echo "$w" | grep -q "Kernel 6.1 has no per-VMA locks: every fault takes mmap_lock" &&
		echo "$w" | grep -q "WARNING: filemap:mm_filemap_fault is missing (kernel 6.1" &&
		[ "$m" = "(0, True)" ] &&
		ok "6.1 capture: no per-VMA lock and no mm_filemap_fault, said first" ||
		not_ok "6.1 capture: what the kernel lacks" "$m; $(echo "$w" | tail -n 6)"
else
	not_ok "6.1 capture" "$(tail -n 3 "$TMP/k.err" "$TMP/k.out" 2>/dev/null)"
fi

need_tracefs "live" || exit 0

# --- faultwork under a hostile name ----------------------------------------------------------
NAME='<script>&'"'"'"'
THREADS=4 PAGES=2000 KPAGES=1000
export FLNAME=$NAME
cp "$WORKLOADS/faultwork" "$TMP/$NAME"
if ! (cd "$TMP" && "$FAULTLAB" capture -o "$TMP/fw.flc" -- "./$NAME" $THREADS $PAGES $KPAGES 500 \
	>"$TMP/fw.out" 2>&1) || ! "$FAULTLAB" ingest "$TMP/fw.flc" --db "$DB" >"$TMP/in.out" 2>&1
then
	not_ok "faultwork capture and ingest" "$(tail -n 3 "$TMP/fw.out" "$TMP/in.out")"
else
	fw=$(q "SELECT max(id) FROM capture")
	"$FAULTLAB" report --db "$DB" --capture "$fw" --format json -o "$TMP/fw.json" 2>"$TMP/err"
	r=$(chk vocab "$TMP/fw.json" "$DESIGN")
	[ $? = 0 ] && ok "faultwork: metrics keys are the vocabulary ($r)" ||
		not_ok "faultwork: metrics keys are the vocabulary" "$r $(cat "$TMP/err")"
	tgid=$(chk get "$TMP/fw.json" "proc(os.environ['FLNAME'])['tgid']" 2>/dev/null)
	[ -n "$tgid" ] && ok "faultwork: the JSON names the process '$NAME' ($tgid)" ||
		not_ok "faultwork: the JSON names the process" \
			"$(chk get "$TMP/fw.json" "[p['comm'] for p in j['processes']]")"
	tgid=${tgid:-0}
	kdb=$(q "SELECT count(*) FROM fault WHERE capture = $fw AND tgid = $tgid AND NOT user")
	kbad=$(q "SELECT count(*) FROM fault WHERE capture = $fw AND tgid = $tgid AND NOT user
		  AND path != 'mmap'")
	kj=$(chk get "$TMP/fw.json" "proc(os.environ['FLNAME'])['metrics']['faults_kernel']")
	mj=$(chk get "$TMP/fw.json" "proc(os.environ['FLNAME'])['metrics']['path_mmap']")
	[ "${kdb:-0}" -ge $KPAGES ] && [ "$kbad" = 0 ] && [ "$kj" = "$kdb" ] &&
		[ "$mj" -ge "$kj" ] &&
		ok "faultwork: kernel-mode faults all mmap ($kdb; path_mmap $mj >= $kj)" ||
		not_ok "faultwork: kernel-mode faults all mmap" \
			"db $kdb ($kbad not mmap), json $kj, path_mmap $mj"
	vj=$(chk get "$TMP/fw.json" "proc(os.environ['FLNAME'])['metrics']['path_vma']")
	ua=$(q "SELECT count(*) FROM fault WHERE capture = $fw AND tgid = $tgid AND user AND write
		AND vma_kind = 'anon'")
	uav=$(q "SELECT count(*) FROM fault WHERE capture = $fw AND tgid = $tgid AND user AND write
		 AND vma_kind = 'anon' AND path = 'vma'")
	want=$((THREADS * PAGES))
	[ "${ua:-0}" -ge "$want" ] && [ $((uav * 100)) -ge $((ua * 95)) ] &&
		[ "${vj:-0}" -ge $((want * 9 / 10)) ] &&
		ok "faultwork: fresh anonymous writes almost all vma ($uav of $ua; path_vma $vj)" ||
		not_ok "faultwork: fresh anonymous writes almost all vma" \
			"$uav of $ua, path_vma $vj"

	# The hostile name in each format.
	"$FAULTLAB" report --db "$DB" --capture "$fw" --format html -o "$TMP/fw.html" 2>"$TMP/err"
	r=$(chk page "$TMP/fw.html" "$NAME" "process $tgid $NAME")
	[ $? = 0 ] && ! grep -q "<script>&" "$TMP/fw.html" &&
		grep -q '&lt;script&gt;&amp;&#39;&quot;' \
		"$TMP/fw.html" && ok "faultwork html: the name is escaped text ($r)" ||
		not_ok "faultwork html: the name is escaped text" "$r $(cat "$TMP/err")"
	if command -v chromium >/dev/null; then
		timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom \
			"file://$TMP/fw.html" >"$TMP/dom" 2>/dev/null
		n=$(grep -c "<script" "$TMP/dom")
		[ -s "$TMP/dom" ] && [ "$n" = 0 ] && grep -q "&lt;script&gt;" "$TMP/dom" &&
			ok "faultwork html: chromium parses no script element" ||
			not_ok "faultwork html: chromium parses no script element" \
				"$n script tags, $(wc -c <"$TMP/dom") bytes of DOM"
	fi
	"$FAULTLAB" report --db "$DB" --capture "$fw" --format md >"$TMP/fw.md" 2>&1
	grep -q "| $tgid &lt;script&gt;&amp;'\"" "$TMP/fw.md" && ! grep -q "<script" "$TMP/fw.md" &&
		ok "faultwork md: the name is escaped" ||
		not_ok "faultwork md: the name is escaped" "$(grep -m2 "$tgid" "$TMP/fw.md")"
	"$FAULTLAB" report --db "$DB" --capture "$fw" >"$TMP/fw.txt" 2>&1
	grep -q "^  $tgid $NAME " "$TMP/fw.txt" && ok "faultwork text: the name as is" ||
		not_ok "faultwork text: the name as is" "$(grep -m2 "$tgid" "$TMP/fw.txt")"
fi

# --- thrash in a memory cgroup: major faults, retries, the published tables ------------------
DIR="$TMP/<i>data&"	# the command line is trace data too: escaped in the page
mkdir -p "$DIR"
"$WORKLOADS/thrash" -t 4 -s 16 -D "$DIR" -p >/dev/null || not_ok "thrash: prepare files"
"$FAULTLAB" capture -o "$TMP/th.flc" -- "$FL_ROOT/tests/workloads/run-in-memcg.sh" 24M \
	"$WORKLOADS/thrash" -t 4 -s 16 -d 2 -D "$DIR" >"$TMP/th.out" 2>&1
majflt=$(sed -n 's/.*majflt=\([0-9]*\).*/\1/p' "$TMP/th.out")
if [ -z "$majflt" ] || ! "$FAULTLAB" ingest "$TMP/th.flc" --db "$DB" >"$TMP/in.out" 2>&1; then
	not_ok "thrash capture and ingest" "$(tail -n 3 "$TMP/th.out" "$TMP/in.out")"
	exit 0
fi
th=$(q "SELECT max(id) FROM capture")
"$FAULTLAB" report --db "$DB" --capture "$th" --format json >"$TMP/th.json" 2>"$TMP/err"
r=$(chk vocab "$TMP/th.json" "$DESIGN")
[ $? = 0 ] && ok "thrash: metrics keys are the vocabulary ($r)" ||
	not_ok "thrash: metrics keys are the vocabulary" "$r $(cat "$TMP/err")"
P="proc('thrash')['metrics']"
maj=$(chk get "$TMP/th.json" "$P['faults_major']")
if [ -n "$maj" ] && [ "$majflt" -gt 0 ] &&
   [ $(( (maj - majflt) * 100 )) -le $((majflt * 10)) ] &&
   [ $(( (majflt - maj) * 100 )) -le $((majflt * 10)) ]; then
	ok "thrash: faults_major $maj = getrusage majflt $majflt within 10%"
else
	not_ok "thrash: faults_major = getrusage majflt within 10%" \
		"faults_major $maj, majflt $majflt"
fi
drop=$(chk get "$TMP/th.json" "$P['retry_drop']")
miss=$(chk get "$TMP/th.json" "$P['retry_io_miss']")
pct=$(chk get "$TMP/th.json" "$P['miss_drop_pct']")
[ "${drop:-0}" -gt 0 ] && ok "thrash: retry_drop $drop > 0 (retry_io_miss $miss)" ||
	not_ok "thrash: retry_drop > 0" "retry_drop '$drop'"
chk get "$TMP/th.json" "abs($pct - 100.0 * $miss / max($drop, 1)) < 0.01 or 1/0" >/dev/null 2>&1 &&
	ok "thrash: miss_drop_pct $pct = 100 * $miss / $drop" ||
	not_ok "thrash: miss_drop_pct" "$pct vs $miss / $drop"
r=$(chk get "$TMP/th.json" "[(s, w, sum(m['mmap_%s_wait_hist' % w]), m['mmap_%s_acq' % w])
	for s, m in [('whole', j['metrics'])] + [(p['tgid'], p['metrics']) for p in j['processes']]
	for w in ('read', 'write') if sum(m['mmap_%s_wait_hist' % w]) != m['mmap_%s_acq' % w]]")
racq=$(chk get "$TMP/th.json" "j['metrics']['mmap_read_acq']")
wacq=$(chk get "$TMP/th.json" "j['metrics']['mmap_write_acq']")
dbacq=$(q "SELECT sum(success AND acquired_ns > 0) + sum(success AND acquired_ns > 0 AND downgraded)
	   FROM lock_wait
	   WHERE capture = $th")
[ "$r" = "[]" ] && [ "$((racq + wacq))" = "$dbacq" ] && [ "$racq" -gt 0 ] && [ "$wacq" -gt 0 ] &&
	ok "thrash: histogram bins sum to the acquisitions ($racq read, $wacq write)" ||
	not_ok "thrash: histogram bins sum to the acquisitions" "$r; $racq + $wacq vs db $dbacq"

# The text and markdown tables show the JSON's numbers.
"$FAULTLAB" report --db "$DB" --capture "$th" >"$TMP/th.txt" 2>&1
"$FAULTLAB" report --db "$DB" --capture "$th" --format md >"$TMP/th.md" 2>&1
tgid=$(chk get "$TMP/th.json" "proc('thrash')['tgid']")
c() { python3 -c "import sys; print(f'{int(float(sys.argv[1])):,}')" "$1"; }
row="^  $tgid thrash +[0-9,]+ +$(c "$drop") +$(c "$miss") +[0-9]+\.[0-9]{2}% "
grep -Eq "$row" "$TMP/th.txt" && ok "thrash text: retry table row" ||
	not_ok "thrash text: retry table row" "want /$row/: $(grep -m3 "thrash" "$TMP/th.txt")"
grep -Eq "^  acquisitions +$(c "$racq") +$(c "$wacq")$" "$TMP/th.txt" &&
	grep -q "^  waits in \[100 ms, ∞) " "$TMP/th.txt" &&
	grep -q "^  wait p99 (µs) " "$TMP/th.txt" &&
	ok "thrash text: mmap_lock table" ||
	not_ok "thrash text: mmap_lock table" "$(grep -A4 "^  mmap_lock " "$TMP/th.txt" | head -5)"
grep -q "^| mmap_lock | read | write |$" "$TMP/th.md" && grep -q "^|---|---:|---:|$" "$TMP/th.md" &&
	grep -q "^| acquisitions | $(c "$racq") | $(c "$wacq") |$" "$TMP/th.md" &&
	grep -q "^| $tgid thrash | [0-9,]* | $(c "$drop") | $(c "$miss") |" "$TMP/th.md" &&
	ok "thrash md: GitHub tables with the same figures" ||
	not_ok "thrash md: GitHub tables" "$(grep -m3 "acquisitions\|thrash |" "$TMP/th.md")"
for s in "top waiters" "top blockers" "fork stalls" "Retries (ioretry form)" "Per process"; do
	grep -q "$s" "$TMP/th.txt" || not_ok "thrash text: section '$s'"
done
# Each listed thread says what its wait (or its blocking hold) was for; blockers may be none.
doing="  (read|write): ((user|kernel) (read|write) fault at 0x[0-9a-f]+"
doing="$doing|munmap\(0x[0-9a-f]+, |mmap\()"
sed -n '/^  top waiters/,/^$/p' "$TMP/th.txt" | grep -Eq "$doing" &&
	{ sed -n '/^  top blockers/,/^$/p' "$TMP/th.txt" | grep -Eq "$doing" ||
	  grep -q "^  top blockers (wait time of the threads queued behind them): none" \
		"$TMP/th.txt"; } &&
	ok "thrash text: blockers and waiters say what they were doing" ||
	not_ok "thrash text: blockers and waiters say what they were doing" \
		"$(grep -A4 "top blockers\|top waiters" "$TMP/th.txt")"

"$FAULTLAB" report --db "$DB" --capture "$th" --format html -o "$TMP/th.html" 2>"$TMP/err"
r=$(chk page "$TMP/th.html" "mmap_lock wait histogram" "CDF of mmap_lock wait" \
	"faults and mmap_lock waits per thread" "$DIR")
rc=$?
n=$(grep -c "<figure>" "$TMP/th.html")
[ $rc = 0 ] && [ "$n" = 3 ] && grep -q "<polyline\|<path" "$TMP/th.html" &&
	ok "thrash html: self-contained, three figures ($r)" ||
	not_ok "thrash html: self-contained, three figures" "$n figures; $r $(cat "$TMP/err")"
if command -v chromium >/dev/null; then
	timeout 60 chromium --headless --no-sandbox --disable-gpu --window-size=1280,3000 \
		--screenshot="$TMP/th.png" "file://$TMP/th.html" >/dev/null 2>&1
	sz=$(stat -c %s "$TMP/th.png" 2>/dev/null || echo 0)
	[ "$sz" -gt 50000 ] && ok "thrash html: chromium renders it ($sz-byte screenshot)" ||
		not_ok "thrash html: chromium renders it" "screenshot $sz bytes"
fi

# -o into something that is not a regular file writes through it and never replaces it.
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/fifo.out" &
"$FAULTLAB" report --db "$DB" --capture "$th" --format md -o "$TMP/fifo" 2>"$TMP/err"
rc=$?
wait
[ $rc = 0 ] && [ -p "$TMP/fifo" ] && cmp -s "$TMP/fifo.out" "$TMP/th.md" &&
	ok "-o FIFO: written through, still a FIFO" ||
	not_ok "-o FIFO: written through, still a FIFO" "rc=$rc $(cat "$TMP/err")"
