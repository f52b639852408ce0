/*
 * test-db.c - the database: schema creation, typed round trip of a synthetic
 * event stream, atomic rollback on a failure injected mid-ingest, idempotent
 * re-ingest, and the followed-task fault counts of report.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

#include "tests/unit/test.h"
#include "db/db.h"
#include "report/report.h"

/* ---- a synthetic source -------------------------------------------------- */

struct synth {
	struct fl_event *ev;
	uint8_t *inst;
	size_t n, i;
	size_t fail_at;		/* next() fails when i reaches it (0 = never) */
	uint64_t lost[4];
	struct fl_kv header, trailer, snap;
	const struct fl_kv *snaps[1];
};

static int synth_next(void *arg, struct fl_event *ev, struct fl_err *err)
{
	struct synth *s = arg;

	if (s->fail_at && s->i == s->fail_at)
		return fl_seterr(err, "synthetic decode failure at event %zu", s->i);
	if (s->i == s->n)
		return 0;
	*ev = s->ev[s->i++];
	return 1;
}

static int synth_instance(void *arg)
{
	struct synth *s = arg;

	return s->i ? s->inst[s->i - 1] : 0;
}

static uint64_t synth_lost(void *arg, int cpu)
{
	struct synth *s = arg;

	return cpu < 4 ? s->lost[cpu] : 0;
}

static size_t synth_nwarn(void *arg)
{
	return 1;
}

static const char *synth_warn(void *arg, size_t i)
{
	return "synthetic warning";
}

static void synth_add(struct synth *s, uint64_t ts, int cpu, int tid, int inst, int type,
		      int sys, int64_t a0, int64_t a1, int64_t a2, int64_t a3, int64_t a4,
		      const char *comm, const char *comm2)
{
	struct fl_event *e;

	s->ev = fl_realloc(s->ev, (s->n + 1) * sizeof(*s->ev));
	s->inst = fl_realloc(s->inst, s->n + 1);
	e = &s->ev[s->n];
	memset(e, 0, sizeof(*e));
	e->ts = ts;
	e->cpu = cpu;
	e->tid = tid;
	e->type = type;
	e->sys = sys;
	e->tep_id = 100 + type;
	e->a[0] = a0;
	e->a[1] = a1;
	e->a[2] = a2;
	e->a[3] = a3;
	e->a[4] = a4;
	if (comm)
		snprintf(e->comm, sizeof(e->comm), "%s", comm);
	if (comm2)
		snprintf(e->comm2, sizeof(e->comm2), "%s", comm2);
	s->inst[s->n] = inst;
	s->n++;
}

/*
 * A command-mode capture of tgid 100 (threads 100, 101; 101 forks 102) on two
 * CPUs, with an extra global instance where an unrelated task 555 faults.
 */
static void synth_init(struct synth *s, uint64_t hash, struct fl_ingest_src *src)
{
	memset(s, 0, sizeof(*s));
	fl_kv_addu64(&s->header, "flc.version", 1);
	fl_kv_addstr(&s->header, "uname.release", "6.18.0-test");
	fl_kv_addstr(&s->header, "uname.machine", "x86_64");
	fl_kv_addstr(&s->header, "arch", "x86_64");
	fl_kv_addu64(&s->header, "cpus", 2);
	fl_kv_addu64(&s->header, "page_size", 4096);
	fl_kv_addstr(&s->header, "clock", "mono");
	fl_kv_addstr(&s->header, "mode", "command");
	fl_kv_add(&s->header, "cmdline", "faultwork\0-t\0002", 15);
	fl_kv_addu64(&s->header, "start.trace_ns", 1000);
	fl_kv_addstr(&s->header, "events.enabled",
		     "exceptions:page_fault_user\nexceptions:page_fault_kernel\n");
	fl_kv_addstr(&s->header, "events.missing", "filemap:mm_filemap_fault\n");
	fl_kv_addstr(&s->header, "format/exceptions/page_fault_user",
		     "name: page_fault_user\nID: 101\nformat:\n");
	fl_kv_addstr(&s->header, "format/exceptions/page_fault_kernel",
		     "name: page_fault_kernel\nID: 102\nformat:\n");
	fl_kv_addstr(&s->header, "tasks", "100 100 120 0 faultwork\n");
	fl_kv_addstr(&s->header, "maps/100",
		     "55d0c0000000-55d0c0001000 r-xp 00000000 fd:01 1234   /usr/bin/faultwork\n"
		     "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                  [stack]\n"
		     "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n");
	fl_kv_addu64(&s->trailer, "end.trace_ns", 100000);
	fl_kv_addu64(&s->trailer, "lost/1", 7);
	fl_kv_addu64(&s->snap, "time.trace_ns", 5000);
	fl_kv_addstr(&s->snap, "maps/100",
		     "55d0c0000000-55d0c0001000 r-xp 00000000 fd:01 1234   /usr/bin/faultwork\n");
	fl_kv_addstr(&s->snap, "maps/102",
		     "55d0c0000000-55d0c0001000 r-xp 00000000 fd:01 1234   /usr/bin/faultwork\n");
	fl_kv_addstr(&s->snap, "tasks", "100 100 120 0 faultwork\n101 100 110 0 worker one\n");
	s->snaps[0] = &s->snap;
	s->lost[0] = 3;

	synth_add(s, 2000, 0, 100, 0, FL_EV_PF_USER, 0, 0x7f0000001000, 0x401000, 6, 0, 0, 0, 0);
	synth_add(s, 2100, 1, 101, 0, FL_EV_PF_KERNEL, 0, (int64_t)0xffff888000001000ULL,
		  (int64_t)0xffffffff81234567ULL, 2, 0, 0, 0, 0);
	synth_add(s, 2200, 0, 100, 0, FL_EV_MMAP_LOCK_START, 0, 0x1234, 0, 77, 0, 0, 0, 0);
	synth_add(s, 2300, 0, 100, 0, FL_EV_MMAP_LOCK_ACQUIRED, 0, 0x1234, 0, 1, 77, 0, 0, 0);
	synth_add(s, 2400, 0, 100, 0, FL_EV_MMAP_LOCK_RELEASED, 0, 0x1234, 0, 77, 0, 0, 0, 0);
	synth_add(s, 2500, 1, 101, 0, FL_EV_SCHED_SWITCH, 0, 101, 110, 2, 0, 120, "worker one",
		  "swapper/1");
	synth_add(s, 2600, 1, 101, 0, FL_EV_SCHED_FORK, 0, 101, 102, 0, 0, 0, "worker one",
		  "child");
	synth_add(s, 2700, 0, 102, 0, FL_EV_PF_USER, 0, 0x7f0000002000, 0x401010, 7, 0, 0, 0, 0);
	synth_add(s, 2800, 0, 100, 0, FL_EV_SYS_ENTER, FL_SYS_MMAP, 0, 4096, 3, 0x22, -1, 0, 0);
	synth_add(s, 2900, 0, 100, 0, FL_EV_SYS_EXIT, FL_SYS_MMAP, 0x7f0000003000, 0, 0, 0, 0, 0,
		  0);
	/* The global instance: task 555 is not followed, its fault must not count. */
	synth_add(s, 3000, 1, 555, 1, FL_EV_PF_USER, 0, 0x1000, 0x2000, 4, 0, 0, 0, 0);
	synth_add(s, 3100, 1, 555, 1, FL_EV_FILEMAP_DELETE, 0, 0x800001, 42, 9, 0, 12345, 0, 0);
	/* sched_switch in the main instance run by an unfollowed task switching to 100. */
	synth_add(s, 3200, 1, 666, 0, FL_EV_SCHED_SWITCH, 0, 666, 120, 0, 100, 120, "other",
		  "faultwork");

	memset(src, 0, sizeof(*src));
	src->path = "synthetic.flc";
	src->format = "synthetic";
	src->size = 4096;
	src->content_hash = hash;
	src->header = &s->header;
	src->trailer = &s->trailer;
	src->snapshots = s->snaps;
	src->nsnapshots = 1;
	src->complete = true;
	src->arg = s;
	src->next = synth_next;
	src->instance = synth_instance;
	src->lost = synth_lost;
	src->nwarnings = synth_nwarn;
	src->warning = synth_warn;
}

static void synth_release(struct synth *s)
{
	free(s->ev);
	free(s->inst);
	fl_kv_release(&s->header);
	fl_kv_release(&s->trailer);
	fl_kv_release(&s->snap);
}

static char *tmp_db(void)
{
	char dir[] = "/tmp/faultlab-test-db.XXXXXX";

	if (!mkdtemp(dir))
		return NULL;
	return fl_asprintf("%s/t.db", dir);
}

static void rm_db(char *path)
{
	char *s;

	s = fl_asprintf("rm -rf '%.*s'", (int)(strrchr(path, '/') - path), path);
	if (system(s))
		fprintf(stderr, "cannot remove %s\n", path);
	free(s);
	free(path);
}

static int64_t q1(struct fl_db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -999;

	if (sqlite3_prepare_v2(fl_db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stdout, "  sql error: %s: %s\n", sql, sqlite3_errmsg(fl_db_sqlite(db)));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *qs(struct fl_db *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(fl_db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
		return fl_strdup("<sql error>");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = fl_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v ? v : fl_strdup("<null>");
}

#define CHECK_STR(db, sql, want)                                                        \
	do { char *_v = qs(db, sql);                                                    \
	     CHECKF(!strcmp(_v, want), "%s: '%s' != '%s'", sql, _v, want); free(_v); } while (0)

/* ---- tests ----------------------------------------------------------------- */

FL_TEST(db_schema_creates)
{
	char *path = tmp_db();
	struct fl_err err = { { 0 } };
	struct fl_db *db;

	CHECK(path);
	/* Reading a database that does not exist is an error, and creates nothing. */
	CHECK(!fl_db_open(path, FL_DB_READ, &err));
	CHECK(access(path, F_OK) != 0);
	db = fl_db_open(path, FL_DB_WRITE, &err);
	CHECKF(db, "%s", err.msg);
	if (!db)
		return;
	CHECK_EQ_U64(q1(db, "PRAGMA user_version"), FL_DB_SCHEMA_VERSION);
	CHECK_STR(db, "PRAGMA journal_mode", "wal");
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
			"name IN ('capture', 'capture_kv', 'capture_event_type', 'cpu_stat', "
			"'task', 'event', 'maps', 'ev_type', 'sys_name')"), 9);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
			"sql NOT LIKE '%STRICT%'"), 0);
	/* The views' hard-coded type numbers agree with decode.h's names. */
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM ev_type"), FL_EV__COUNT);
	CHECK_STR(db, "SELECT name FROM ev_type WHERE type = 1", fl_ev_name(FL_EV_PF_USER));
	CHECK_STR(db, "SELECT name FROM ev_type WHERE type = 10", fl_ev_name(FL_EV_SCHED_SWITCH));
	CHECK_STR(db, "SELECT name FROM ev_type WHERE type = 21", fl_ev_name(FL_EV_SYS_ENTER));
	CHECK_STR(db, "SELECT name FROM ev_type WHERE type = 24",
		  fl_ev_name(FL_EV_LOCK_CONTENTION_END));
	CHECK_EQ_U64(FL_EV_LOCK_CONTENTION_END, 24);
	CHECK_EQ_U64(FL_EV_SHRINK_INACTIVE, 25);
	CHECK_EQ_U64(FL_EV__COUNT, 26);
	fl_db_close(db);

	/* Re-opening keeps it; read-only open works. */
	db = fl_db_open(path, FL_DB_READ, &err);
	CHECKF(db, "%s", err.msg);
	fl_db_close(db);

	/* Someone else's SQLite database is refused, and left alone. */
	{
		sqlite3 *s;
		char *other = fl_asprintf("%s.other", path);

		sqlite3_open(other, &s);
		sqlite3_exec(s, "CREATE TABLE t(x)", NULL, NULL, NULL);
		sqlite3_close(s);
		CHECK(!fl_db_open(other, FL_DB_WRITE, &err));
		CHECKF(strstr(err.msg, "not a faultlab database"), "%s", err.msg);
		free(other);
	}
	/* A text file is not a database. */
	{
		char *txt = fl_asprintf("%s.txt", path);
		FILE *f = fopen(txt, "w");

		fputs("hello, this is not sqlite\n", f);
		fclose(f);
		CHECK(!fl_db_open(txt, FL_DB_READ, &err));
		CHECKF(strstr(err.msg, "not a faultlab database"), "%s", err.msg);
		CHECK(!fl_db_open(txt, FL_DB_WRITE, &err));
		CHECKF(strstr(err.msg, "not a faultlab database"), "%s", err.msg);
		free(txt);
	}
	rm_db(path);
}

FL_TEST(db_ingest_roundtrip)
{
	char *path = tmp_db();
	struct fl_err err = { { 0 } };
	struct fl_ingest_stats st;
	struct fl_ingest_src src;
	struct synth s;
	struct fl_db *db = fl_db_open(path, FL_DB_WRITE, &err);

	CHECKF(db, "%s", err.msg);
	if (!db)
		return;
	synth_init(&s, 0x1122334455667788ULL, &src);
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	CHECK(!st.already);
	CHECK_EQ_U64(st.capture_id, 1);
	CHECK_EQ_U64(st.events, s.n);
	CHECK_EQ_U64(st.nwarnings, 1);
	CHECK(strstr(st.warnings.data ? st.warnings.data : "", "synthetic warning"));
	/* Lost: max(trailer, decoder) per CPU: cpu0 3, cpu1 7. */
	CHECK_EQ_U64(st.events_lost, 10);
	fl_buf_release(&st.warnings);

	CHECK_STR(db, "SELECT content_hash FROM capture", "1122334455667788");
	CHECK_STR(db, "SELECT cmdline FROM capture", "faultwork -t 2");
	CHECK_STR(db, "SELECT uname_release || ' ' || arch || ' ' || mode FROM capture",
		  "6.18.0-test x86_64 command");
	CHECK_EQ_U64(q1(db, "SELECT events FROM capture"), s.n);
	CHECK_EQ_U64(q1(db, "SELECT event_last_id - event_first_id + 1 FROM capture"), s.n);
	CHECK_EQ_U64(q1(db, "SELECT first_event_ns FROM capture"), 2000);
	CHECK_EQ_U64(q1(db, "SELECT end_trace_ns FROM capture"), 100000);
	CHECK_EQ_U64(q1(db, "SELECT events_lost FROM capture"), 10);
	CHECK_EQ_U64(q1(db, "SELECT lost FROM cpu_stat WHERE cpu = 1"), 7);
	CHECK_EQ_U64(q1(db, "SELECT events FROM cpu_stat WHERE cpu = 0"), 7);
	CHECK_STR(db, "SELECT warnings FROM capture", "synthetic warning\n");

	/* Typed views: real field names, values as given. */
	CHECK_EQ_U64(q1(db, "SELECT address FROM ev_page_fault WHERE tid = 100"), 0x7f0000001000);
	CHECK_EQ_U64(q1(db, "SELECT error_code FROM ev_page_fault WHERE tid = 100"), 6);
	CHECK_EQ_U64(q1(db, "SELECT user FROM ev_page_fault WHERE tid = 100"), 1);
	CHECK_EQ_U64(q1(db, "SELECT user FROM ev_page_fault WHERE tid = 101"), 0);
	CHECK_STR(db, "SELECT printf('%x', ip) FROM ev_page_fault WHERE tid = 101",
		  "ffffffff81234567");
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM ev_mmap_lock WHERE mm = 4660"), 3);
	CHECK_EQ_U64(q1(db, "SELECT success FROM ev_mmap_lock WHERE kind = 'acquire_returned'"), 1);
	CHECK_EQ_U64(q1(db, "SELECT memcg_id FROM ev_mmap_lock WHERE kind = 'acquire_returned'"),
		     77);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM ev_mmap_lock WHERE success IS NULL"), 2);
	CHECK_STR(db, "SELECT prev_comm || '>' || next_comm FROM ev_sched_switch WHERE tid = 101",
		  "worker one>swapper/1");
	CHECK_EQ_U64(q1(db, "SELECT prev_state FROM ev_sched_switch WHERE tid = 101"), 2);
	CHECK_EQ_U64(q1(db, "SELECT child_pid FROM ev_sched_fork"), 102);
	CHECK_STR(db, "SELECT name || ' ' || phase FROM ev_syscall ORDER BY ts LIMIT 1",
		  "mmap enter");
	CHECK_EQ_U64(q1(db, "SELECT arg3 FROM ev_syscall WHERE phase = 'enter'"), 0x22);
	CHECK_EQ_U64(q1(db, "SELECT arg4 FROM ev_syscall WHERE phase = 'enter'"), (uint64_t)-1);
	CHECK_EQ_U64(q1(db, "SELECT ret FROM ev_syscall WHERE phase = 'exit'"), 0x7f0000003000);
	CHECK_EQ_U64(q1(db, "SELECT pfn FROM ev_filemap WHERE kind = 'delete_from_page_cache'"),
		     12345);
	CHECK_EQ_U64(q1(db, "SELECT inst FROM ev_filemap"), 1);
	/* Absent fields are NULL, not 0; comm only where the type has one. */
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM event WHERE type = 1 AND a3 IS NULL AND "
			"comm IS NULL"), 3);
	CHECK_STR(db, "SELECT type || ' ' || seq FROM ev WHERE tid = 102", "page_fault_user 7");

	/* Tasks: snapshot, fork, followed only from the main instance's own events. */
	CHECK_STR(db, "SELECT comm FROM task WHERE tid = 101", "worker one");
	CHECK_EQ_U64(q1(db, "SELECT tgid FROM task WHERE tid = 101"), 100);
	CHECK_EQ_U64(q1(db, "SELECT parent FROM task WHERE tid = 102"), 101);
	CHECK_EQ_U64(q1(db, "SELECT followed FROM task WHERE tid = 102"), 1);
	CHECK_EQ_U64(q1(db, "SELECT followed FROM task WHERE tid = 555"), 0);
	CHECK_EQ_U64(q1(db, "SELECT followed FROM task WHERE tid = 666"), 0);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM task WHERE followed"), 3);

	/* Maps, including an address above 2^63. */
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM maps WHERE pid = 100 AND taken = 'start'"), 3);
	/* A later snapshot of 100 is a 'snapshot'; 102's first is its 'start'. */
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM maps WHERE pid = 100 AND taken = 'snapshot' "
			"AND time_ns = 5000"), 1);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM maps WHERE pid = 102 AND taken = 'start'"), 1);
	CHECK_STR(db, "SELECT DISTINCT path FROM maps WHERE perms = 'r-xp'", "/usr/bin/faultwork");
	CHECK_STR(db, "SELECT printf('%x', start) FROM maps WHERE path = '[vsyscall]'",
		  "ffffffffff600000");
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM maps WHERE path IS NULL"), 0);
	CHECK_EQ_U64(q1(db, "SELECT DISTINCT inode FROM maps WHERE perms = 'r-xp'"), 1234);

	/* Event types: enabled with their format id and counts, missing ones too. */
	CHECK_EQ_U64(q1(db, "SELECT events FROM capture_event_type WHERE name = 'page_fault_user'"),
		     3);
	CHECK_EQ_U64(q1(db, "SELECT tep_id FROM capture_event_type WHERE "
			"name = 'page_fault_kernel'"), 102);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM capture_event_type WHERE NOT enabled AND "
			"name = 'mm_filemap_fault' AND tep_id IS NULL"), 1);
	/* The header is kept verbatim, cmdline with its NULs as a blob. */
	CHECK_EQ_U64(q1(db, "SELECT length(value) FROM capture_kv WHERE key = 'cmdline'"), 15);
	CHECK_STR(db, "SELECT typeof(value) FROM capture_kv WHERE key = 'cmdline'", "blob");
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM capture_kv WHERE section = 'snapshot.0'"), 4);
	/* Indexes were built after the load. */
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
			"name = 'maps_by_pid'"), 1);

	synth_release(&s);
	fl_db_close(db);
	rm_db(path);
}

static int64_t total_rows(struct fl_db *db)
{
	return q1(db, "SELECT (SELECT count(*) FROM capture) + (SELECT count(*) FROM capture_kv) + "
		  "(SELECT count(*) FROM capture_event_type) + (SELECT count(*) FROM cpu_stat) + "
		  "(SELECT count(*) FROM task) + (SELECT count(*) FROM event) + "
		  "(SELECT count(*) FROM maps)");
}

FL_TEST(db_ingest_atomic_and_idempotent)
{
	char *path = tmp_db();
	struct fl_err err = { { 0 } };
	struct fl_ingest_opts opts = { 0 };
	struct fl_ingest_stats st;
	struct fl_ingest_src src;
	struct synth s;
	struct fl_db *db = fl_db_open(path, FL_DB_WRITE, &err);
	int64_t before;

	CHECKF(db, "%s", err.msg);
	if (!db)
		return;
	synth_init(&s, 1, &src);
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	fl_buf_release(&st.warnings);
	before = total_rows(db);
	CHECK(before > (int64_t)s.n);

	/* Same content again: no new rows, says which capture it is. */
	s.i = 0;
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	CHECK(st.already);
	CHECK_EQ_U64(st.capture_id, 1);
	CHECK_EQ_U64(total_rows(db), before);
	fl_buf_release(&st.warnings);

	/* A second capture whose decoding fails late: rolled back entirely. */
	s.i = 0;
	s.fail_at = s.n - 1;
	src.content_hash = 2;
	CHECK(fl_db_ingest(db, &src, NULL, &st, &err) == -1);
	CHECKF(strstr(err.msg, "synthetic decode failure"), "%s", err.msg);
	CHECK_EQ_U64(total_rows(db), before);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM capture"), 1);
	fl_buf_release(&st.warnings);

	/* The test hook: fail after 5 events, with more than a batch of events buffered. */
	for (int k = 0; k < 200; k++)
		synth_add(&s, 4000 + k, k & 1, 100, 0, FL_EV_PF_USER, 0, 0x1000 * k, 0, 6, 0, 0,
			  0, 0);
	s.i = 0;
	s.fail_at = 0;
	opts.fail_after = 150;
	CHECK(fl_db_ingest(db, &src, &opts, &st, &err) == -1);
	CHECKF(strstr(err.msg, "fail_after"), "%s", err.msg);
	CHECK_EQ_U64(total_rows(db), before);
	fl_buf_release(&st.warnings);

	/* And the database still takes that capture afterwards, with the next ids. */
	s.i = 0;
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	CHECK_EQ_U64(st.capture_id, 2);
	CHECK_EQ_U64(q1(db, "SELECT event_first_id FROM capture WHERE id = 2"), 13 + 1);
	CHECK_EQ_U64(q1(db, "SELECT count(*) FROM event WHERE capture = 2"), s.n);
	CHECK_EQ_U64(fl_db_latest_capture(db, &err), 2);
	fl_buf_release(&st.warnings);

	synth_release(&s);
	fl_db_close(db);
	rm_db(path);
}

FL_TEST(report_counts_followed_faults)
{
	char *path = tmp_db();
	struct fl_err err = { { 0 } };
	struct fl_ingest_stats st;
	struct fl_ingest_src src;
	struct fl_report rep;
	struct fl_buf json = { 0 };
	struct synth s;
	struct fl_db *db = fl_db_open(path, FL_DB_WRITE, &err);

	CHECKF(db, "%s", err.msg);
	if (!db)
		return;
	synth_init(&s, 3, &src);
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	fl_buf_release(&st.warnings);
	CHECKF(!fl_report_load(&rep, db, 0, &err), "%s", err.msg);
	CHECK_EQ_U64(rep.capture_id, 1);
	/* 100 and 102 user faults in the main instance; 555's global one does not count. */
	CHECK_EQ_U64(rep.faults_user, 2);
	CHECK_EQ_U64(rep.faults_kernel, 1);
	CHECK_EQ_U64(rep.events, s.n);
	CHECK_EQ_U64(rep.events_lost, 10);
	fl_report_json(&rep, &json);
	CHECKF(strstr(json.data, "\"faults_user\": 2"), "%s", json.data);
	CHECKF(strstr(json.data, "\"exceptions:page_fault_user\": 3"), "%s", json.data);
	CHECKF(strstr(json.data, "\"cmdline\": \"faultwork -t 2\""), "%s", json.data);
	fl_buf_release(&json);
	fl_report_release(&rep);

	/* The same capture in system mode counts every fault. */
	synth_release(&s);
	synth_init(&s, 4, &src);
	for (size_t i = 0; i < s.header.n; i++)
		if (!strcmp(s.header.items[i].key, "mode")) {
			free(s.header.items[i].val);
			s.header.items[i].val = fl_strdup("system");
			s.header.items[i].len = 6;
		}
	for (size_t i = 0; i < s.n; i++)
		s.inst[i] = 0;
	CHECKF(!fl_db_ingest(db, &src, NULL, &st, &err), "%s", err.msg);
	fl_buf_release(&st.warnings);
	CHECKF(!fl_report_load(&rep, db, 0, &err), "%s", err.msg);
	CHECK_EQ_U64(rep.capture_id, 2);
	CHECK_EQ_U64(rep.faults_user, 3);
	fl_report_release(&rep);
	CHECK(fl_report_load(&rep, db, 99, &err) == -1);
	CHECKF(strstr(err.msg, "99"), "%s", err.msg);

	synth_release(&s);
	fl_db_close(db);
	rm_db(path);
}
