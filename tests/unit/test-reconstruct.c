/*
 * test-reconstruct.c - golden and semantic tests of the fault reconstruction.
 *
 * Each tests/golden/recon-<case>/input.txt (format: test-reconstruct-input.c)
 * is encoded into a real capture of this machine's ring buffer
 * (test-reconstruct-encode.c), decoded with the real decoder, reconstructed,
 * and its rows compared with expected.txt, which was checked by hand against
 * kernel-semantics.md; FL_UPDATE_GOLDEN=1 rewrites it. The same capture file,
 * ingested into a database, must hold the same fault, lock_wait and anomaly
 * rows, and the text events fed directly must give the same rows. Beside
 * the text comparison every case asserts the facts it exists for, so a golden
 * file regenerated carelessly still cannot hide a wrong path or count.
 */
#include "tests/unit/test.h"
#include "tests/unit/test-reconstruct.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "replay/model.h"
#include "replay/opstream.h"
#include "replay/run-metrics.h"
#include "report/report.h"

static char *slurp(const char *path)
{
	struct fl_buf b = { 0 };
	struct fl_err err;

	if (fl_buf_read_file(&b, path, &err) < 0)
		return NULL;
	return b.data ? b.data : fl_strdup("");
}

/* Compares text with DIR/NAME, or writes it when FL_UPDATE_GOLDEN=1. */
static void golden_compare(const char *dir, const char *name, const char *text)
{
	char path[512];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (getenv("FL_UPDATE_GOLDEN") && !strcmp(getenv("FL_UPDATE_GOLDEN"), "1")) {
		FILE *f = fopen(path, "w");
		CHECKF(f != NULL, "cannot write %s", path);
		if (f) {
			fputs(text, f);
			fclose(f);
		}
		return;
	}
	want = slurp(path);
	CHECKF(want != NULL, "missing %s (run with FL_UPDATE_GOLDEN=1 and read it)", path);
	if (!want)
		return;
	if (strcmp(want, text)) {
		const char *a = want, *b = text;
		int line = 1;
		while (*a && *a == *b) {
			if (*a == '\n')
				line++;
			a++, b++;
		}
		fl_test_fail(__FILE__, __LINE__, "%s differs at line %d:\n  want: %.300s\n  got:  %.300s",
			     path, line, a, b);
	}
	free(want);
}

static const struct fl_fault *fault_by_id(const struct recon_out *o, int64_t id)
{
	for (size_t i = 0; i < o->nfaults; i++)
		if (o->faults[i].id == id)
			return &o->faults[i];
	return NULL;
}

static const struct fl_lock_wait *wait_by_id(const struct recon_out *o, int64_t id)
{
	for (size_t i = 0; i < o->nwaits; i++)
		if (o->waits[i].id == id)
			return &o->waits[i];
	return NULL;
}

static const struct fl_lock_wait *wait_of(const struct recon_out *o, int32_t tid, int nth)
{
	for (size_t i = 0; i < o->nwaits; i++)
		if (o->waits[i].tid == tid && nth-- == 0)
			return &o->waits[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * faultlab ingest of the same capture file: the database's fault, lock_wait
 * and recon_anomaly rows are the reconstruction's rows (the path a user's
 * capture takes: file -> ingest source -> decoder -> reconstruction -> SQLite).
 */
static void ingest_compare(const char *name, const struct fl_buf *flc, const struct recon_out *o)
{
	char dir[] = "/tmp/faultlab-recon-XXXXXX", cap[300], dbp[300];
	struct fl_err err = { "" };
	struct fl_ingest_src src = { 0 };
	struct fl_ingest_stats st = { 0 };
	struct fl_db *db = NULL;
	sqlite3_stmt *q = NULL;
	struct fl_buf got = { 0 }, want = { 0 };
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECKF(0, "mkdtemp failed");
		return;
	}
	snprintf(cap, sizeof(cap), "%s/%s.flc", dir, name);
	snprintf(dbp, sizeof(dbp), "%s/faultlab.db", dir);
	f = fopen(cap, "wb");
	CHECK(f && fwrite(flc->data, 1, flc->len, f) == flc->len);
	if (f)
		fclose(f);
	if (fl_ingest_src_open(&src, cap, &err) < 0) {
		CHECKF(0, "%s: ingest source: %s", name, err.msg);
		goto out;
	}
	db = fl_db_open(dbp, FL_DB_WRITE, &err);
	CHECKF(db, "%s: %s", name, err.msg);
	if (!db || fl_db_ingest(db, &src, NULL, &st, &err) < 0) {
		CHECKF(!db, "%s: ingest: %s", name, err.msg);
		goto out;
	}
	for (int64_t id = 1; id <= (int64_t)o->nfaults; id++) {
		const struct fl_fault *x = fault_by_id(o, id);

		if (!x)
			continue;
		fl_buf_addf(&want, "f %lld %d %s %u %u %u %d %llu %llu %llu %llu %llu %llu\n",
			    (long long)x->id, x->tid, fl_fault_path_name(x->path), x->attempts,
			    x->retry_drop, x->retry_io_miss, x->major,
			    (unsigned long long)x->start_ns, (unsigned long long)x->end_ns,
			    (unsigned long long)x->io_wait_ns,
			    (unsigned long long)x->io_wait_locked_ns,
			    (unsigned long long)x->mmap_wait_ns, (unsigned long long)x->mmap_hold_ns);
	}
	for (int64_t id = 1; id <= (int64_t)o->nwaits; id++) {
		const struct fl_lock_wait *w = wait_by_id(o, id);

		if (!w)
			continue;
		fl_buf_addf(&want, "w %lld %d %d %d %d %llu %llu %llu %u %d\n", (long long)w->id,
			    w->tid, w->write, w->trylock, w->success,
			    (unsigned long long)w->start_ns, (unsigned long long)w->acquired_ns,
			    (unsigned long long)w->released_ns, w->chain, w->blocker_tid);
	}
	{
		/* anomalies by name, as the query orders them */
		const char *names[FL_AN__COUNT];
		int na = 0;

		for (int a = 0; a < FL_AN__COUNT; a++)
			if (o->anomalies[a])
				names[na++] = fl_anomaly_name(a);
		qsort(names, na, sizeof(*names), cmp_str);
		for (int k = 0; k < na; k++)
			for (int a = 0; a < FL_AN__COUNT; a++)
				if (o->anomalies[a] && !strcmp(fl_anomaly_name(a), names[k]))
					fl_buf_addf(&want, "a %s %llu\n", names[k],
						    (unsigned long long)o->anomalies[a]);
	}
	CHECK(sqlite3_prepare_v2(fl_db_sqlite(db),
		"SELECT 'f', id, tid, path, attempts, retry_drop, retry_io_miss, major, start_ns, "
		"end_ns, io_wait_ns, io_wait_locked_ns, mmap_wait_ns, mmap_hold_ns, 1 "
		"FROM fault WHERE capture = ?1 "
		"UNION ALL SELECT 'w', id, tid, write, trylock, success, start_ns, "
		"coalesce(acquired_ns, 0), coalesce(released_ns, 0), chain, "
		"coalesce(blocker_tid, 0), 0, 0, 0, 2 FROM lock_wait WHERE capture = ?1 "
		"UNION ALL SELECT 'a', kind, count, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 "
		"FROM recon_anomaly WHERE capture = ?1 AND count > 0 ORDER BY 15, 2",
		-1, &q, NULL) == SQLITE_OK);
	if (!q)
		goto out;
	sqlite3_bind_int64(q, 1, st.capture_id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int ncol = *sqlite3_column_text(q, 0) == 'f' ? 14 :
			   *sqlite3_column_text(q, 0) == 'w' ? 11 : 3;

		for (int c = 0; c < ncol; c++)
			fl_buf_addf(&got, "%s%s", c ? " " : "", sqlite3_column_text(q, c));
		fl_buf_addstr(&got, "\n");
	}
	CHECKF(got.data && want.data && !strcmp(got.data, want.data),
	       "%s: the database after ingest differs from the rows:\n%s--- rows:\n%s", name,
	       got.data ? got.data : "", want.data ? want.data : "");
	sqlite3_finalize(q);
	q = NULL;
	/* the vma rows, with the perms text the database derives */
	fl_buf_reset(&got);
	fl_buf_reset(&want);
	for (int64_t id = 1; id <= (int64_t)o->nvmas; id++) {
		for (size_t i = 0; i < o->nvmas; i++) {
			const struct fl_vma_row *v = &o->vmas[i];

			if (v->id != id)
				continue;
			fl_buf_addf(&want, "%lld %d %lld %lld %c%c%c%c %s %lld %lld %s %lld\n",
				    (long long)v->id, v->tgid, (long long)v->start, (long long)v->end,
				    (v->prot & 1) ? 'r' : '-', (v->prot & 2) ? 'w' : '-',
				    (v->prot & 4) ? 'x' : '-', v->shared ? 's' : 'p',
				    fl_vma_kind_name(v->kind), (long long)v->valid_from_ns,
				    (long long)v->valid_to_ns, fl_vma_source_name(v->source),
				    (long long)v->op);
		}
	}
	CHECK(sqlite3_prepare_v2(fl_db_sqlite(db),
		"SELECT id, tgid, start, end, perms, kind, valid_from_ns, coalesce(valid_to_ns, 0), "
		"source, coalesce(writer_op, 0) FROM vma WHERE capture = ? ORDER BY id",
		-1, &q, NULL) == SQLITE_OK);
	if (!q)
		goto out;
	sqlite3_bind_int64(q, 1, st.capture_id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (int c = 0; c < 10; c++)
			fl_buf_addf(&got, "%s%s", c ? " " : "", sqlite3_column_text(q, c));
		fl_buf_addstr(&got, "\n");
	}
	CHECKF(!strcmp(got.data ? got.data : "", want.data ? want.data : ""),
	       "%s: the database's vma rows differ from the reconstruction's:\n%s--- rows:\n%s",
	       name, got.data ? got.data : "", want.data ? want.data : "");
out:
	if (q)
		sqlite3_finalize(q);
	fl_buf_release(&st.warnings);
	if (db)
		fl_db_close(db);
	fl_ingest_src_close(&src);
	fl_buf_release(&got);
	fl_buf_release(&want);
	unlink(cap);
	snprintf(cap, sizeof(cap), "%s-wal", dbp);
	unlink(cap);
	snprintf(cap, sizeof(cap), "%s-shm", dbp);
	unlink(cap);
	unlink(dbp);
	rmdir(dir);
}

/*
 * Loads a case and runs it as ingest would see it: the text events are
 * encoded into this machine's ring-buffer sub-buffers (4 events to a
 * sub-buffer, 2 sub-buffers to a DATA record, so that the case spans many of
 * each), written as a capture, decoded by the real decoder (which must give
 * back exactly the events of the text, in the same order), reconstructed,
 * and the rows compared with expected.txt. The text events fed directly, and
 * faultlab ingest of the capture file, must give the same rows.
 */
/* When set, run_case() copies the case's capture file here. */
static struct fl_buf *keep_flc;

static int run_case(const char *name, struct recon_input *in, struct recon_out *o)
{
	char dir[256], path[300];
	char *text;
	struct fl_err err = { "" };
	struct fl_buf flc = { 0 };
	struct recon_capture c = { 0 };
	struct recon_out direct = { 0 };
	int ret = -1;

	memset(o, 0, sizeof(*o));
	snprintf(dir, sizeof(dir), "%s", fl_test_path("golden/"));
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "recon-%s", name);
	snprintf(path, sizeof(path), "%s/input.txt", dir);
	text = slurp(path);
	CHECKF(text != NULL, "cannot read %s", path);
	if (!text)
		return -1;
	if (recon_input_parse(in, text, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: %s", path, err.msg);
		free(text);
		return -1;
	}
	free(text);
	if (recon_capture_encode(in, 4, 2, &flc, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: encode: %s", name, err.msg);
		goto out;
	}
	if (recon_capture_decode(&flc, &c, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: decode: %s", name, err.msg);
		goto out;
	}
	recon_check_decoded(in, &c, name);
	if (keep_flc) {
		fl_buf_reset(keep_flc);
		fl_buf_add(keep_flc, flc.data, flc.len);
	}
	if (recon_capture_run(&c, o, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: %s", name, err.msg);
		goto out;
	}
	golden_compare(dir, "expected.txt", o->text.data ? o->text.data : "");
	/* the layout's versions, for the cases that check them */
	snprintf(path, sizeof(path), "%s/vma.txt", dir);
	if (access(path, F_OK) == 0)
		golden_compare(dir, "vma.txt", o->vtext.data ? o->vtext.data : "");
	CHECKF(recon_run(in, in->ev, in->inst, in->n, &direct, &err) == 0, "%s: %s", name,
	       err.msg);
	CHECKF(direct.text.data && o->text.data && !strcmp(direct.text.data, o->text.data),
	       "%s: the decoded capture and the text events give different rows", name);
	CHECKF(!strcmp(direct.vtext.data ? direct.vtext.data : "",
		       o->vtext.data ? o->vtext.data : ""),
	       "%s: the decoded capture and the text events give different vma rows", name);
	ingest_compare(name, &flc, o);
	ret = 0;
out:
	recon_out_release(&direct);
	recon_capture_release(&c);
	fl_buf_release(&flc);
	return ret;
}

/* A case's capture file written to a fresh directory and ingested, as a user's would be. */
struct case_db {
	char dir[64], cap[300], dbp[300];
	struct fl_ingest_src src;
	struct fl_ingest_stats st;
	struct fl_db *db;
};

/* run_case(), then its capture ingested into c (its bytes also in *keep if not NULL). */
static int run_case_ingested(const char *name, struct recon_input *in, struct recon_out *o,
			     struct case_db *c, struct fl_buf *keep)
{
	struct fl_buf flc = { 0 };
	struct fl_err err = { "" };
	FILE *f;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	keep_flc = &flc;
	ret = run_case(name, in, o);
	keep_flc = NULL;
	if (ret < 0)
		goto out;
	ret = -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/faultlab-%s-XXXXXX", name);
	if (!mkdtemp(c->dir)) {
		CHECKF(0, "mkdtemp failed");
		c->dir[0] = 0;
		goto out;
	}
	snprintf(c->cap, sizeof(c->cap), "%s/%s.flc", c->dir, name);
	snprintf(c->dbp, sizeof(c->dbp), "%s/faultlab.db", c->dir);
	f = fopen(c->cap, "wb");
	CHECK(f && fwrite(flc.data, 1, flc.len, f) == flc.len);
	if (f)
		fclose(f);
	if (fl_ingest_src_open(&c->src, c->cap, &err) < 0 ||
	    !(c->db = fl_db_open(c->dbp, FL_DB_WRITE, &err)) ||
	    fl_db_ingest(c->db, &c->src, NULL, &c->st, &err) < 0) {
		CHECKF(0, "%s: ingest: %s", name, err.msg);
		goto out;
	}
	ret = 0;
out:
	if (keep)
		fl_buf_add(keep, flc.data, flc.len);
	fl_buf_release(&flc);
	return ret;
}

static void case_db_close(struct case_db *c)
{
	char path[320];

	fl_buf_release(&c->st.warnings);
	if (c->db)
		fl_db_close(c->db);
	fl_ingest_src_close(&c->src);
	if (!c->dir[0])
		return;
	unlink(c->cap);
	snprintf(path, sizeof(path), "%s-wal", c->dbp);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", c->dbp);
	unlink(path);
	unlink(c->dbp);
	rmdir(c->dir);
}

FL_TEST(recon_golden_vma_only)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("vma-only", &in, &o) == 0) {
		CHECK_EQ_U64(o.nfaults, 4);
		CHECK_EQ_U64(o.nwaits, 0);
		for (size_t i = 0; i < o.nfaults; i++) {
			CHECK(o.faults[i].path == FL_PATH_VMA);
			CHECK(o.faults[i].attempts == 1);
			CHECK(!o.faults[i].major);
			CHECK(o.faults[i].tgid == 1000);
		}
		CHECK(fault_by_id(&o, 1)->vma_kind == FL_VMA_ANON);
		CHECK(fault_by_id(&o, 3)->vma_kind == FL_VMA_FILE);
		CHECK(fault_by_id(&o, 3)->ino == 5678 && fault_by_id(&o, 3)->index == 3);
		CHECK(fault_by_id(&o, 3)->end_ns == 110400);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_mmap_fallback)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("mmap-fallback", &in, &o) == 0) {
		const struct fl_fault *f2 = fault_by_id(&o, 2), *f3 = fault_by_id(&o, 3);
		const struct fl_lock_wait *w;

		CHECK(f2 && f2->path == FL_PATH_MMAP && f2->attempts == 1 && f2->retry_drop == 0);
		CHECK(f2 && f2->mmap_wait_ns == 100 + 8200);
		CHECK(f2 && f2->io_wait_ns == 0);	/* the D sleep was a lock wait */
		CHECK(f3 && !f3->user && f3->path == FL_PATH_MMAP);
		w = wait_of(&o, 1001, 0);
		CHECK(w && w->trylock && !w->success && w->holders == 1 && w->blocker_tid == 1002);
		w = wait_of(&o, 1001, 1);
		CHECK(w && !w->trylock && w->success && w->chain == 1);
		CHECK(o.nops == 1 && o.ops[0].wrote && o.ops[0].write_hold_ns == 9000);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_retry_mmap)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("retry-mmap", &in, &o) == 0) {
		const struct fl_fault *f = fault_by_id(&o, 1);

		CHECK(f && f->path == FL_PATH_VMA_RETRY_MMAP);
		CHECK(f && f->attempts == 2 && f->retry_drop == 1 && f->retry_io_miss == 0);
		CHECK(f && f->major);
		CHECK(f && f->io_wait_ns == 900200 - 502000 && f->io_wait_locked_ns == 0);
		CHECK(o.nios == 1 && o.ios[0].waiters == 1 && o.ios[0].first_waiter == 1);
		CHECK(o.nios == 1 && o.ios[0].issue_fault == 1);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

/*
 * The kernel here emits no sched_switch when CPU 1 leaves its idle task: a
 * fault's I/O sleep there ends at its wake-up all the same (the thread's next
 * own event shows it ran), with the io_wait, waiter and path the recorded
 * switch-in gives on CPU 0.
 */
FL_TEST(recon_golden_missed_switch_in)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("missed-switch-in", &in, &o) == 0) {
		const struct fl_fault *f1 = fault_by_id(&o, 1), *f2 = fault_by_id(&o, 2);
		const struct fl_fault *f3 = fault_by_id(&o, 3);

		CHECK(f1 && f1->tid == 1001 && f1->path == FL_PATH_VMA_RETRY_MMAP);
		CHECK(f1 && f1->retry_drop == 1 && f1->major);
		CHECK(f1 && f1->io_wait_ns == 900200 - 502000 && f1->io_wait_locked_ns == 0);
		CHECK(f2 && f2->tid == 1002 && f2->path == FL_PATH_VMA_RETRY_MMAP);
		CHECK(f2 && f2->io_wait_ns == 1300200 - 1002000);
		CHECK(o.nios == 2 && o.ios[0].waiters == 1 && o.ios[0].first_waiter == 1);
		CHECK(o.nios == 2 && o.ios[1].waiters == 1 && o.ios[1].first_waiter == 2);
		/* the later S sleep, outside any fault, is nobody's I/O wait */
		CHECK(f3 && f3->tid == 1001 && f3->io_wait_ns == 0 && !f3->major);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_io_miss)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("io-miss", &in, &o) == 0) {
		const struct fl_fault *f = fault_by_id(&o, 1);

		CHECK(f && f->path == FL_PATH_VMA_RETRY_MMAP);
		CHECK(f && f->retry_drop == 1 && f->retry_io_miss == 1 && f->major);
		CHECK(f && (f->flags & FL_FF_EVICTED));
		CHECK(f && f->io_wait_locked_ns == 1300200 - 902000);
		CHECK(f && f->io_wait_ns == (900200 - 502000) + (1300200 - 902000));
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_writer_chain)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("writer-chain", &in, &o) == 0) {
		const struct fl_fault *f1 = fault_by_id(&o, 1), *f2 = fault_by_id(&o, 2);
		const struct fl_lock_wait *w;

		/* 6.1: no VMA lock, every fault is path mmap */
		CHECK(f1 && f1->path == FL_PATH_MMAP && f1->attempts == 2 && f1->retry_drop == 1);
		CHECK(f1 && f1->retry_io_miss == 1 && f1->major);
		CHECK(f1 && f1->io_wait_locked_ns == 800200 - 401200);
		CHECK(f2 && f2->tid == 1003 && f2->path == FL_PATH_MMAP);
		w = wait_of(&o, 1002, 0);	/* munmap's write wait behind 1001's read hold */
		CHECK(w && w->write && w->holders == 1 && w->blocker_tid == 1001 && w->chain == 1);
		CHECK(w && w->downgraded && w->released_ns == 830000);
		w = wait_of(&o, 1003, 1);	/* 1003 behind the queued writer */
		CHECK(w && !w->write && w->writers_ahead == 1 && w->blocker_tid == 1002);
		CHECK(w && w->chain == 2 && w->inversion);
		CHECK(o.nops == 1 && o.ops[0].write_wait_ns == 801400 - 450200);
		CHECK(o.nops == 1 && o.ops[0].write_hold_ns == 805000 - 801400);
		CHECK(o.nops == 1 && o.ops[0].read_hold_ns == 830000 - 805000);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_fork)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("fork", &in, &o) == 0) {
		const struct fl_fault *f1 = fault_by_id(&o, 1), *f2 = fault_by_id(&o, 2);
		const struct fl_writer_op *op = o.nops ? &o.ops[0] : NULL;

		/* VMA attempt missed (case C, MAJOR), the folio was evicted, the TRIED mmap
		 * attempt missed again and waited holding mmap_lock */
		CHECK(f1 && f1->path == FL_PATH_VMA_RETRY_MMAP && f1->retry_drop == 1);
		CHECK(f1 && f1->retry_io_miss == 1 && f1->io_wait_locked_ns == 600200 - 151200);
		CHECK(f1 && f1->major && (f1->flags & FL_FF_EVICTED));
		/* a kernel-mode fault behind the queued fork: trylock fails, then chain 2 */
		CHECK(f2 && f2->tid == 1003 && f2->path == FL_PATH_MMAP && !f2->user);
		CHECK(f2 && f2->mmap_wait_ns == 100 + (700900 - 210300));
		{
			const struct fl_lock_wait *w = wait_of(&o, 1003, 0);

			CHECK(w && w->trylock && !w->success && w->writers_ahead == 1);
			w = wait_of(&o, 1003, 1);
			CHECK(w && w->blocker_tid == 1002 && w->chain == 2 && w->inversion);
			w = wait_by_id(&o, 2);	/* fork's write wait behind 1001's I/O hold */
			CHECK(w && w->tid == 1002 && w->write && w->blocker_tid == 1001 &&
			      w->chain == 1);
		}
		CHECK(op && op->sys == FL_SYS_CLONE && op->child == 2000 && op->wrote);
		CHECK(op && op->write_wait_ns == 601400 - 200200);
		CHECK(op && op->write_hold_ns == 700400 - 601400);
		CHECK(op && op->blocked_ns == 650000 - 620000);
		CHECK(op && op->mm == 0xffff888100000000ULL);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_mid_fault)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("mid-fault", &in, &o) == 0) {
		CHECK(o.anomalies[FL_AN_MID_FAULT] == 1);
		CHECK(o.anomalies[FL_AN_MID_HOLD] == 1);
		CHECK(o.anomalies[FL_AN_SYSEXIT_NO_ENTER] == 1);
		CHECK(o.anomalies[FL_AN_OPEN_AT_END] >= 1);
		CHECK(o.anomalies[FL_AN_LOST_EVENTS] == 3);	/* from the sub-buffer header */
		CHECK(o.nfaults == 2);
		CHECK(fault_by_id(&o, 1) && fault_by_id(&o, 1)->path == FL_PATH_VMA);
		CHECK(fault_by_id(&o, 2) && (fault_by_id(&o, 2)->flags & FL_FF_UNFINISHED));
		CHECK(fault_by_id(&o, 2) && fault_by_id(&o, 2)->anomalies);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

/*
 * 6.1 (no per-VMA locks): every fault with lock events is path mmap, each
 * lock_mm_and_find_vma trylock a try; a fault without any is an anomaly, not
 * a VMA-lock fault. The 5 s gap crosses a ring-buffer time extend.
 */
FL_TEST(recon_golden_kernel_6_1)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("kernel-6.1", &in, &o) == 0) {
		CHECK_EQ_U64(o.nfaults, 7);
		for (int64_t id = 1; id <= 6; id++) {
			const struct fl_fault *f = fault_by_id(&o, id);

			CHECKF(f && f->path == FL_PATH_MMAP && f->attempts == 1 && !f->major,
			       "fault %lld", (long long)id);
			CHECKF(f && f->mmap_hold_ns > 0 && f->mmap_wait_ns == 100, "fault %lld",
			       (long long)id);
		}
		CHECK(fault_by_id(&o, 3) && !fault_by_id(&o, 3)->user);
		/* in the mapping 1002's mmap created: anonymous, from the syscall */
		CHECK(fault_by_id(&o, 4) && fault_by_id(&o, 4)->vma_kind == FL_VMA_ANON &&
		      fault_by_id(&o, 4)->vma_start == 0x7f2000000000ULL);
		CHECK(fault_by_id(&o, 5) && fault_by_id(&o, 5)->vma_kind == FL_VMA_FILE);
		CHECK(fault_by_id(&o, 6) && fault_by_id(&o, 6)->start_ns == 5000150000ULL);
		CHECK(fault_by_id(&o, 7) && fault_by_id(&o, 7)->path == FL_PATH_UNKNOWN);
		CHECK(o.anomalies[FL_AN_FAULT_NO_LOCK] == 1);
		CHECK_EQ_U64(o.nwaits, 7);
		for (size_t i = 0; i < o.nwaits; i++)
			CHECK(o.waits[i].write || o.waits[i].trylock);
		CHECK(o.nops == 1 && o.ops[0].sys == FL_SYS_MMAP && o.ops[0].write_hold_ns == 1700);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

/* Kernel version rules decide from the release string alone. */
FL_TEST(recon_kernel_rules)
{
	int ma = 0, mi = 0;

	CHECK(fl_recon_parse_release("6.1.0-31-cloud-amd64", &ma, &mi) == 0 && ma == 6 && mi == 1);
	CHECK(fl_recon_parse_release("6.12.43+deb12-amd64", &ma, &mi) == 0 && ma == 6 && mi == 12);
	CHECK(fl_recon_parse_release("garbage", &ma, &mi) < 0);
	{
		struct fl_kv h = { 0 };
		struct fl_err err;
		struct fl_recon_opts opts = { .header = &h };
		struct fl_recon *r;

		fl_kv_addstr(&h, "uname.release", "6.1.0-31-cloud-amd64");
		fl_kv_addstr(&h, "arch", "x86_64");
		r = fl_recon_new(&opts, &err);
		CHECK(!fl_recon_kernel(r)->vma_lock && !fl_recon_kernel(r)->filemap_fault_tp);
		fl_recon_free(r);
		opts.kernel_release = "6.5.3";
		r = fl_recon_new(&opts, &err);
		CHECK(fl_recon_kernel(r)->vma_lock && !fl_recon_kernel(r)->file_vma_lock);
		CHECK(!fl_recon_kernel(r)->anon_prepare_trylock);
		fl_recon_free(r);
		opts.kernel_release = "6.12.43";
		r = fl_recon_new(&opts, &err);
		CHECK(fl_recon_kernel(r)->vma_lock && fl_recon_kernel(r)->filemap_fault_tp);
		fl_recon_free(r);
		fl_kv_release(&h);
	}
}

/* The same faults on 6.1 and 6.18: a user fault without mmap_lock is an anomaly on 6.1 only. */
FL_TEST(recon_fault_without_lock_by_kernel)
{
	const char *text = "@arch x86_64\n"
			   "100.0 1001 pf_user address=0x1000 ip=0x1 error_code=0x6\n"
			   "200.0 1001 pf_user address=0x2000 ip=0x1 error_code=0x6\n";
	const char *rel[2] = { "6.1.0", "6.18.0" };

	for (int i = 0; i < 2; i++) {
		struct recon_input in;
		struct recon_out o;
		struct fl_err err;

		CHECK(recon_input_parse(&in, text, &err) == 0);
		fl_kv_addstr(&in.header, "uname.release", rel[i]);
		CHECK(recon_run(&in, in.ev, in.inst, in.n, &o, &err) == 0);
		CHECK(o.nfaults == 2);
		if (i == 0) {
			CHECK(o.anomalies[FL_AN_FAULT_NO_LOCK] == 2);
			CHECK(o.faults[0].path == FL_PATH_UNKNOWN);
		} else {
			CHECK(o.anomalies[FL_AN_FAULT_NO_LOCK] == 0);
			CHECK(o.faults[0].path == FL_PATH_VMA);
		}
		recon_out_release(&o);
		recon_input_release(&in);
	}
}

/* anon_vma trylock (§6.3): a first write to a fresh mapping stays on the VMA path on 6.18,
 * is an mmap fallback on 6.5 (lock_vma_under_rcu refused the VMA). */
FL_TEST(recon_anon_prepare)
{
	const char *text = "@arch x86_64\n"
		"@tasks\n1001 1000 120 0 w\n@end\n"
		"@maps 1000\n7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n@end\n"
		"10.0 1001 sys_enter sys=mmap a0=0 a1=0x100000 a2=3 a3=0x22 a4=-1 a5=0\n"
		"10.1 1001 start mm=0xa write=1\n10.2 1001 acq mm=0xa write=1 success=1\n"
		"10.5 1001 rel mm=0xa write=1\n"
		"10.6 1001 sys_exit sys=mmap ret=0x7f2000000000\n"
		"20.0 1001 pf_user address=0x7f2000000000 ip=0x1 error_code=0x6\n"
		"20.1 1001 start mm=0xa write=0\n20.2 1001 acq mm=0xa write=0 success=1\n"
		"20.4 1001 rel mm=0xa write=0\n"
		"30.0 1001 pf_user address=0x7f2000001000 ip=0x1 error_code=0x6\n"
		"40.0 1001 pf_user address=0x7f2000002000 ip=0x1 error_code=0x6\n";
	const char *rel[2] = { "6.5.0", "6.18.0" };

	for (int i = 0; i < 2; i++) {
		struct recon_input in;
		struct recon_out o;
		struct fl_err err;

		CHECK(recon_input_parse(&in, text, &err) == 0);
		fl_kv_addstr(&in.header, "uname.release", rel[i]);
		CHECK(recon_run(&in, in.ev, in.inst, in.n, &o, &err) == 0);
		CHECK(o.nfaults == 3 && o.nops == 1);
		if (o.nfaults == 3) {
			CHECK(o.faults[0].vma_kind == FL_VMA_ANON);
			CHECK(o.faults[0].path == (i ? FL_PATH_VMA : FL_PATH_MMAP));
			CHECK(!!(o.faults[0].flags & FL_FF_ANON_PREPARE) == !!i);
			CHECK(o.faults[1].path == FL_PATH_VMA);
		}
		recon_out_release(&o);
		recon_input_release(&in);
	}
}

/* An mmap_lock taken long after a fault's release, after an S sleep, is not a retry. */
FL_TEST(recon_not_a_retry)
{
	const char *text = "@arch x86_64\n@kernel 6.18.0\n"
		"10.0 1001 pf_kernel address=0x1000 ip=0x1 error_code=0x0\n"
		"10.1 1001 start mm=0xa write=0\n10.2 1001 acq mm=0xa write=0 success=1\n"
		"10.4 1001 rel mm=0xa write=0\n"
		"11.0 1001 switch prev_pid=1001 prev_prio=120 prev_state=1 next_pid=0 next_prio=120\n"
		"90.0 0 switch prev_pid=0 prev_prio=120 prev_state=0 next_pid=1001 next_prio=120\n"
		"90.1 1001 start mm=0xa write=0\n90.2 1001 acq mm=0xa write=0 success=1\n"
		"90.4 1001 rel mm=0xa write=0\n";
	struct recon_input in;
	struct recon_out o;
	struct fl_err err;

	CHECK(recon_input_parse(&in, text, &err) == 0);
	CHECK(recon_run(&in, in.ev, in.inst, in.n, &o, &err) == 0);
	CHECK(o.nfaults == 1 && o.faults[0].attempts == 1 && o.faults[0].retry_drop == 0);
	CHECK(o.nfaults == 1 && o.faults[0].end_ns == 10400);
	CHECK(o.nwaits == 2 && o.waits[1].owner_kind == FL_OWNER_NONE);
	recon_out_release(&o);
	recon_input_release(&in);
}

static const struct fl_vma_row *vma_by_id(const struct recon_out *o, int64_t id)
{
	for (size_t i = 0; i < o->nvmas; i++)
		if (o->vmas[i].id == id)
			return &o->vmas[i];
	return NULL;
}

/* The versions valid at ts that cover addr (there must be exactly one). */
static int vmas_at(const struct recon_out *o, int32_t tgid, uint64_t addr, uint64_t ts,
		   const struct fl_vma_row **which)
{
	int n = 0;

	for (size_t i = 0; i < o->nvmas; i++) {
		const struct fl_vma_row *v = &o->vmas[i];

		if (v->tgid == tgid && v->start <= addr && addr < v->end && v->valid_from_ns <= ts &&
		    (!v->valid_to_ns || ts < v->valid_to_ns)) {
			*which = v;
			n++;
		}
	}
	return n;
}

/*
 * mmap -> mprotect (split in three) -> munmap (cuts two pieces) -> an
 * mprotect that changes nothing -> mremap in place: one row per version,
 * each with the syscall that made it, and every fault inside exactly one
 * version valid at its time, the one whose range the fault row names.
 */
FL_TEST(recon_golden_vma_layout)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("vma-layout", &in, &o) == 0) {
		const struct fl_vma_row *v;
		const uint64_t base = 0x7f2000000000ULL;

		CHECK_EQ_U64(o.nvmas, 10);
		CHECK_EQ_U64(o.nops, 5);
		v = vma_by_id(&o, 4);	/* mmap's result, ended by the mprotect */
		CHECK(v && v->source == FL_VSRC_MMAP && v->start == base && v->end == base + 0x10000 &&
		      v->prot == 3 && v->valid_from_ns == 101000 && v->valid_to_ns == 201000 &&
		      v->op == 1 && v->kind == FL_VMA_ANON && v->mm == 0xffff888100000000ULL);
		v = vma_by_id(&o, 6);	/* the protected middle, cut by munmap */
		CHECK(v && v->source == FL_VSRC_MPROTECT && v->start == base + 0x4000 &&
		      v->end == base + 0x8000 && v->prot == 1 && v->op == 2 &&
		      v->valid_to_ns == 301000);
		v = vma_by_id(&o, 5);	/* the left piece of the mprotect, there at the end */
		CHECK(v && v->source == FL_VSRC_MPROTECT && v->prot == 3 && v->end == base + 0x4000 &&
		      v->valid_to_ns == 0);
		v = vma_by_id(&o, 8);	/* what munmap left of the middle */
		CHECK(v && v->source == FL_VSRC_MUNMAP_SPLIT && v->start == base + 0x4000 &&
		      v->end == base + 0x6000 && v->prot == 1 && v->op == 3 && v->valid_to_ns == 0);
		v = vma_by_id(&o, 10);	/* mremap grew the right piece in place */
		CHECK(v && v->source == FL_VSRC_MREMAP && v->start == base + 0xa000 &&
		      v->end == base + 0x12000 && v->op == 5 && v->valid_from_ns == 501000);
		/* the mprotect that changed nothing (op 4) made no version */
		for (size_t i = 0; i < o.nvmas; i++)
			CHECK(o.vmas[i].op != 4);
		/* maps-start rows count from the first event and are still there */
		v = vma_by_id(&o, 1);
		CHECK(v && v->source == FL_VSRC_MAPS_START && v->valid_from_ns == 100000 &&
		      !v->valid_to_ns && v->ino == 1234 && v->kind == FL_VMA_FILE);
		for (size_t i = 0; i < o.nfaults; i++) {
			const struct fl_fault *f = &o.faults[i];

			CHECKF(vmas_at(&o, 1000, f->address, f->start_ns, &v) == 1 &&
			       v->start == f->vma_start && v->end == f->vma_end,
			       "fault %lld at %#llx", (long long)f->id,
			       (unsigned long long)f->address);
		}
		/* nothing covers the unmapped hole at any time after the munmap */
		CHECK(vmas_at(&o, 1000, base + 0x7000, 310000, &v) == 0);
		CHECK(vmas_at(&o, 1000, base + 0x7000, 250000, &v) == 1 && v->id == 6);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/*
 * arm64, 6.12, no exceptions:page_fault_* (the capture lists them as
 * missing): ingest and reconstruction neither crash nor invent faults, the
 * lock waits, writers and block request are still rows, and the report says
 * first that page-fault events are missing and which metrics that costs:
 * "n/a" in text, null in JSON, while the mmap_lock numbers are measured.
 * FL_RECON_FLC_OUT=PATH writes the capture there (t3200 runs the CLI on it).
 */
FL_TEST(recon_golden_noexceptions)
{
	struct recon_input in;
	struct recon_out o;
	struct fl_buf flc = { 0 }, text = { 0 }, json = { 0 };
	struct fl_err err = { "" };
	struct case_db c;
	struct fl_report rep;
	bool loaded = false;

	memset(&in, 0, sizeof(in));
	memset(&o, 0, sizeof(o));
	if (run_case_ingested("noexceptions", &in, &o, &c, &flc) < 0)
		goto out;
	CHECK_EQ_U64(o.nfaults, 0);
	CHECK_EQ_U64(o.nwaits, 3);
	CHECK_EQ_U64(o.nops, 2);
	CHECK_EQ_U64(o.nios, 1);
	for (int a = 0; a < FL_AN__COUNT; a++)
		CHECKF(!o.anomalies[a], "anomaly %s", fl_anomaly_name(a));
	{
		const struct fl_lock_wait *w = wait_of(&o, 1001, 0), *m = wait_of(&o, 1002, 1);

		/* the invisible fault's hold: measured, owned by nothing */
		CHECK(w && !w->write && w->success && w->owner_kind == FL_OWNER_NONE &&
		      w->released_ns == 501000);
		/* munmap queued behind it */
		CHECK(m && m->write && m->blocker_tid == 1001 && m->chain == 1 && m->downgraded &&
		      m->acquired_ns - m->start_ns == 501400 - 210200);
		CHECK(o.ios[0].issue_tid == 1001 && !o.ios[0].issue_fault && !o.ios[0].waiters);
		CHECK(o.nops == 2 && o.ops[1].sys == FL_SYS_MUNMAP &&
		      o.ops[1].write_wait_ns == 501400 - 210200);
	}
	if (getenv("FL_RECON_FLC_OUT")) {
		FILE *f = fopen(getenv("FL_RECON_FLC_OUT"), "wb");

		CHECKF(f && fwrite(flc.data, 1, flc.len, f) == flc.len, "cannot write %s",
		       getenv("FL_RECON_FLC_OUT"));
		if (f)
			fclose(f);
	}

	/* the report of the ingested capture, as a user would see it */
	if (fl_report_load(&rep, c.db, c.st.capture_id, &err) < 0) {
		CHECKF(0, "report: %s", err.msg);
		goto out;
	}
	loaded = true;
	CHECK(rep.recon && !rep.fault_tp && !fl_report_faults_observed(&rep));
	CHECK(rep.vma_lock && rep.kernel_major == 6 && rep.kernel_minor == 12);
	fl_report_text(&rep, &text);
	fl_report_json(&rep, &json);
	/* one space for every run of white space: the text wraps its paragraphs */
	if (text.data) {
		char *w = text.data;

		for (const char *p = text.data; *p; p++)
			if (!(*p == ' ' || *p == '\n') || (w > text.data && w[-1] != ' '))
				*w++ = *p == '\n' ? ' ' : *p;
		*w = 0;
		text.len = (size_t)(w - text.data);
	}
	{
		/* the first warning, before any section, says what is missing and what it costs */
		const char *w = text.data ? strstr(text.data, "page-fault events are missing") : NULL;
		const char *faults = text.data ? strstr(text.data, "Faults Fault latency") : NULL;
		const char *first = text.data ? strstr(text.data, "WARNING: ") : NULL;

		CHECKF(w && faults && w < faults && first && first + 9 == w, "%.600s",
		       text.data ? text.data : "");
		CHECK(has(w, "exceptions:page_fault_user, exceptions:page_fault_kernel"));
		CHECK(has(w, "aarch64") && has(w, "fault_latency_us are not available"));
		CHECK(!has(text.data, "anomalies ("));
	}
	CHECK(has(text.data, "n/a"));
	CHECKF(has(json.data, "\"faults_user\": null") && has(json.data, "\"path_vma\": null") &&
	       has(json.data, "\"retry_drop\": null") && has(json.data, "\"miss_drop_pct\": null") &&
	       has(json.data, "\"io_wait_us\": null") &&
	       has(json.data, "\"fault_latency_us\": {\"p50\": null, \"p99\": null, \"max\": null}"),
	       "%.2000s", json.data ? json.data : "");
	/* measured: one read acquisition, two writes (mmap, munmap; the downgrade is a read) */
	CHECKF(has(json.data, "\"mmap_read_acq\": 2") && has(json.data, "\"mmap_write_acq\": 2") &&
	       has(json.data, "\"fork_count\": 0"), "%.2000s", json.data ? json.data : "");
	CHECK(has(json.data, "\"fault_tp\": false") &&
	      has(json.data, "\"fault_events_missing\": \"exceptions:page_fault_user, "
		  "exceptions:page_fault_kernel\"") &&
	      has(json.data, "\"unavailable_metrics\": [\"faults_user\", \"faults_kernel\", "
		  "\"faults_major\", \"path_vma\""));
	{
		sqlite3_stmt *q = NULL;

		CHECK(sqlite3_prepare_v2(fl_db_sqlite(c.db),
			"SELECT (SELECT count(*) FROM fault WHERE capture = ?1), "
			"(SELECT count(*) FROM lock_wait WHERE capture = ?1), "
			"(SELECT count(*) FROM writer_op WHERE capture = ?1), "
			"(SELECT count(*) FROM io WHERE capture = ?1), "
			"(SELECT fault_tp FROM recon WHERE capture = ?1), "
			"(SELECT uname_machine FROM capture WHERE id = ?1)", -1, &q, NULL) == SQLITE_OK);
		if (q) {
			sqlite3_bind_int64(q, 1, c.st.capture_id);
			CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 0 &&
			      sqlite3_column_int(q, 1) == 3 && sqlite3_column_int(q, 2) == 2 &&
			      sqlite3_column_int(q, 3) == 1 && sqlite3_column_int(q, 4) == 0 &&
			      !strcmp((const char *)sqlite3_column_text(q, 5), "aarch64"));
			sqlite3_finalize(q);
		}
	}
out:
	if (loaded)
		fl_report_release(&rep);
	case_db_close(&c);
	fl_buf_release(&flc);
	fl_buf_release(&text);
	fl_buf_release(&json);
	recon_out_release(&o);
	recon_input_release(&in);
}

/*
 * The layout over an exec and at the end: the start snapshot was taken after
 * the exec (command mode), so the layout before it is not that snapshot's
 * (no row covers the time before the exec) and after it is (maps-start from
 * the exec). brk grows a heap that maps did not show yet. The TRAILER's maps
 * name the file mmap'd during the capture (same range: no new version) and
 * add what only they show (maps-end, from the last event).
 */
FL_TEST(recon_vma_exec_and_end)
{
	const char *text = "@arch x86_64\n@kernel 6.18.0\n"
		"@tasks\n1001 1001 120 0 w\n@end\n"
		"10.0 1001 pf_user address=0x7f0000001000 ip=0x1 error_code=0x6\n"
		"20.0 1001 exec pid=1001 old_pid=1001\n"
		"30.0 1001 sys_enter sys=brk a0=0\n30.1 1001 sys_exit sys=brk ret=0x555555600000\n"
		"31.0 1001 sys_enter sys=brk a0=0x555555621000\n"
		"31.1 1001 sys_exit sys=brk ret=0x555555621000\n"
		"40.0 1001 sys_enter sys=mmap a0=0 a1=0x2000 a2=1 a3=0x2 a4=3 a5=0x3000\n"
		"40.1 1001 sys_exit sys=mmap ret=0x7f5000000000\n"
		"50.0 1001 pf_user address=0x7f0000001000 ip=0x1 error_code=0x6\n"
		"60.0 1001 pf_user address=0x555555610000 ip=0x1 error_code=0x6\n";
	struct recon_input in;
	struct recon_out o;
	struct fl_err err;
	struct fl_kv snap = { 0 }, trailer = { 0 };
	const struct fl_kv *snaps[2] = { &snap, &trailer };

	CHECK(recon_input_parse(&in, text, &err) == 0);
	fl_kv_addstr(&snap, "time.trace_ns", "25000");
	fl_kv_addstr(&snap, "maps/1001", "7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n");
	fl_kv_add(&snap, "tasks", "1001 1001 120 0 w\n", 18);
	fl_kv_addstr(&trailer, "end.trace_ns", "70000");
	fl_kv_addstr(&trailer, "maps/1001",
		     "555555600000-555555621000 rw-p 00000000 00:00 0 [heap]\n"
		     "7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n"
		     "7f4000000000-7f4000001000 rw-p 00000000 00:00 0\n"
		     "7f5000000000-7f5000002000 r--p 00003000 fe:01 777 /data/f\n");
	CHECK(recon_run_kv(&in.header, snaps, 2, in.ev, in.inst, in.n, 0, &o, &err) == 0);
	{
		const struct fl_vma_row *v;

		/* before the exec nothing covers the fault: the snapshot shows the new program */
		CHECK(vmas_at(&o, 1001, 0x7f0000001000ULL, 10000, &v) == 0);
		CHECK(vmas_at(&o, 1001, 0x7f0000001000ULL, 50000, &v) == 1 &&
		      v->source == FL_VSRC_MAPS_START && v->valid_from_ns == 20000 && !v->valid_to_ns);
		/* brk made the heap */
		CHECK(vmas_at(&o, 1001, 0x555555610000ULL, 60000, &v) == 1 &&
		      v->source == FL_VSRC_BRK && v->heap && v->end == 0x555555621000ULL &&
		      v->valid_from_ns == 31100);
		/* the file mapping got its name from the TRAILER, as one version */
		CHECK(vmas_at(&o, 1001, 0x7f5000000000ULL, 60000, &v) == 1 &&
		      v->source == FL_VSRC_MMAP && v->ino == 777 && v->pgoff == 3 && v->prot == 1);
		CHECK(has(o.vtext.data, "path=/data/f"));
		/* only the TRAILER shows this one */
		CHECK(vmas_at(&o, 1001, 0x7f4000000000ULL, 59999, &v) == 0);
		CHECK(vmas_at(&o, 1001, 0x7f4000000000ULL, 60000, &v) == 1 &&
		      v->source == FL_VSRC_MAPS_END && v->valid_from_ns == 60000);
		CHECK_EQ_U64(o.nvmas, 4);
	}
	fl_kv_release(&snap);
	fl_kv_release(&trailer);
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_exec)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("exec", &in, &o) == 0) {
		const struct fl_fault *f = fault_by_id(&o, 2), *k = fault_by_id(&o, 3);
		const struct fl_fault *s = fault_by_id(&o, 4), *u = fault_by_id(&o, 5);

		/* exec's write locks of the new mm are not retries of the last fault */
		CHECK(f && f->path == FL_PATH_VMA && f->attempts == 1 && f->retry_drop == 0);
		CHECK(f && f->end_ns == 100000);
		/* exec's kernel fault ends at its read release */
		CHECK(k && !k->user && k->path == FL_PATH_MMAP && k->attempts == 1 &&
		      k->retry_drop == 0 && k->end_ns == 143200);
		CHECK(k && k->mm == 0xffff888100200000ULL);
		/* stack expansion: read, release, write, downgrade, release: one attempt */
		CHECK(s && s->path == FL_PATH_MMAP && s->attempts == 1 && s->retry_drop == 0);
		CHECK(s && s->end_ns == 205000 && s->mmap_hold_ns == 500 + 3700);
		/* an untraced syscall's write lock after a VMA fault ends the fault */
		CHECK(u && u->path == FL_PATH_VMA && u->attempts == 1 && u->end_ns == 300000);
		CHECK(o.nfaults == 5);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

FL_TEST(recon_golden_anon_trylock)
{
	struct recon_input in;
	struct recon_out o;

	if (run_case("anon-trylock", &in, &o) == 0) {
		const struct fl_fault *a = fault_by_id(&o, 1), *b = fault_by_id(&o, 2);
		const struct fl_fault *c = fault_by_id(&o, 3);

		/* anon_prepare's trylock failed, lock_mm_and_find_vma's succeeded at once:
		 * the VMA attempt happened (RETRY), not a failed lock_vma_under_rcu */
		CHECK(a && a->path == FL_PATH_VMA_RETRY_MMAP && a->attempts == 2 &&
		      a->retry_drop == 0 && a->end_ns == 16000);
		/* both trylocks failed, the blocking read waited for the writer */
		CHECK(b && b->path == FL_PATH_VMA_RETRY_MMAP && b->attempts == 2 &&
		      b->retry_drop == 0 && b->end_ns == 38000);
		CHECK(b && b->mmap_wait_ns == 100 + 100 + 2600);
		/* no writer: the trylock is anon_prepare's own and the fault stays on the VMA */
		CHECK(c && c->path == FL_PATH_VMA && c->attempts == 1 &&
		      (c->flags & FL_FF_ANON_PREPARE));
		CHECK(o.nfaults == 3);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}

/* Golden case name ingested as a user's capture would be, and its op streams loaded into mi
 * (initialised here, released by the caller). */
static int case_opstream(const char *name, struct recon_input *in, struct recon_out *o,
			 struct case_db *c, struct fl_model_input *mi, struct fl_opstream_info *info)
{
	struct fl_err err = { "" };

	fl_model_input_init(mi);
	if (run_case_ingested(name, in, o, c, NULL) < 0)
		return -1;
	if (fl_opstream_load(fl_db_sqlite(c->db), c->st.capture_id, mi, info, &err) < 0) {
		CHECKF(0, "%s: opstream: %s", name, err.msg);
		return -1;
	}
	return 0;
}

/*
 * The op streams the model replays (replay/opstream.c) from the same capture,
 * ingested as a user's would be: 6002 starts at its fork (5 us after the
 * capture's first event) with its first CPU 20 us later left to the model,
 * reclaim costs 30 us of CPU over 1,000 folios scanned = 30 ns a folio, and
 * readahead windows are split into the mean readahead request.
 */
FL_TEST(recon_golden_opstream)
{
	struct recon_input in;
	struct recon_out o;
	struct case_db c;
	struct fl_model_input mi;
	struct fl_opstream_info info;

	if (case_opstream("opstream", &in, &o, &c, &mi, &info) < 0)
		goto out;
	CHECK_EQ_U64(o.nfaults, 3);
	{
		const struct fl_model_thread *ch = NULL, *p = NULL;

		for (size_t i = 0; i < mi.nthreads; i++) {
			if (mi.threads[i].tid == 6002)
				ch = &mi.threads[i];
			if (mi.threads[i].tid == 6001)
				p = &mi.threads[i];
		}
		CHECK(p && p->start_ns == 0);
		/* born at 10 us, the capture's first event at 5: it starts at 5 us, not
		 * at its first fault (30 us), and its first op's think time is the 5 us
		 * on a CPU before it (less the fault's own cost), not the 20 us it
		 * waited for a CPU */
		CHECK(ch && ch->start_ns == 5000);
		CHECK(ch && ch->nops >= 1 && ch->ops[0].sleep_ns == 0 &&
		      ch->ops[0].cpu_ns <= 5000);
	}
	/* windows split at the mean readahead request, 128 pages, not the largest (256) */
	CHECK_EQ_U64(info.io_split_pages, 128);
	CHECK_EQ_U64(mi.io_max_pages, 128);
	CHECK_EQ_U64(info.ra_inferred_pages, 256);
	CHECK_EQ_U64(info.reclaim_scanned, 1000);
	CHECK_EQ_U64(info.reclaim_scan_ns, 30);
	{
		/* --validate's page-cache block: the batches' 1,000 folios scanned, 32 freed */
		struct fl_pc_activity a;
		struct fl_err err = { "" };

		CHECK(fl_opstream_pc_activity(fl_db_sqlite(c.db), c.st.capture_id, &a, &err) == 0);
		CHECK_EQ_U64(a.reclaim_scanned, 1000);
		CHECK_EQ_U64(a.reclaim_freed, 32);
	}
	CHECK_EQ_U64(mi.costs.reclaim_scan_ns, 30);
out:
	fl_model_input_release(&mi);
	case_db_close(&c);
	recon_out_release(&o);
	recon_input_release(&in);
}

/*
 * --validate's page-cache block from a capture (replay/opstream.c
 * fl_opstream_pc_activity), on recon-io-miss: the fault of 1001 inserts an
 * order-4 folio at 501 us and, after kswapd (the extra instance) deleted it,
 * the page again at 901.4 us: one window of 17 pages built in 400.4 us; 16
 * pages deleted; both reads complete within the first 10 ms tick.
 */
FL_TEST(recon_golden_pc_activity)
{
	struct recon_input in;
	struct recon_out o;
	struct fl_err err = { "" };
	struct case_db c;
	struct fl_pc_activity a;

	if (run_case_ingested("io-miss", &in, &o, &c, NULL) < 0)
		goto out;
	if (fl_opstream_pc_activity(fl_db_sqlite(c.db), c.st.capture_id, &a, &err) < 0) {
		CHECKF(0, "pc activity: %s", err.msg);
		goto out;
	}
	CHECK_EQ_U64(a.inserted, 17);
	CHECK_EQ_U64(a.evicted, 16);
	CHECK_EQ_U64(a.reclaim_scanned, 0);	/* no reclaim batches in this case */
	CHECK_EQ_U64(a.reclaim_freed, 0);
	CHECK_EQ_U64(a.windows, 1);
	CHECK_EQ_U64(a.window_pages_p50, 17);
	CHECK_EQ_U64(a.window_build_ns_p50, 400400);
	CHECK_EQ_U64(a.read_ticks, 1);
	CHECK_EQ_U64(a.read_idle_ticks, 0);
out:
	case_db_close(&c);
	recon_out_release(&o);
	recon_input_release(&in);
}

/*
 * mmap_lock rounds that no traced syscall or fault owns are replayed as bare
 * holds (opstream.c LOCK_ROUND, FL_OP_LOCK), on recon-exec: execve's three
 * write locks of 1001's new mm (held 1.6, 5.6 and 2.1 us) and 1002's untraced
 * syscall's (0.8 us). The stack expansion's write lock belongs to its fault,
 * and the model, which does not grow stacks, does not take it: it takes those
 * four write locks.
 */
FL_TEST(recon_golden_lock_rounds)
{
	struct recon_input in;
	struct recon_out o;
	struct fl_err err = { "" };
	struct case_db c;
	struct fl_model_input mi;
	struct fl_opstream_info info;
	struct fl_model_run r;
	struct fl_metrics m;
	uint64_t holds[2][4] = { { 0 } };
	size_t n[2] = { 0, 0 };

	if (case_opstream("exec", &in, &o, &c, &mi, &info) < 0)
		goto out;
	for (size_t i = 0; i < mi.nthreads; i++) {
		const struct fl_model_thread *t = &mi.threads[i];
		size_t k = t->tid == 1001 ? 0 : 1;

		for (size_t j = 0; j < t->nops; j++) {
			if (t->ops[j].kind != FL_OP_LOCK)
				continue;
			CHECK(t->ops[j].arg == 1);
			if (n[k] < 4)
				holds[k][n[k]] = t->ops[j].kcpu_ns;
			n[k]++;
		}
	}
	CHECK_EQ_U64(n[0], 3);
	CHECK_EQ_U64(n[1], 1);
	CHECK_EQ_U64(holds[0][0], 1600);
	CHECK_EQ_U64(holds[0][1], 5600);
	CHECK_EQ_U64(holds[0][2], 2100);
	CHECK_EQ_U64(holds[1][0], 800);
	mi.arch = "x86_64";
	if (fl_model_run(&mi, 0, 1, &r, &err) < 0) {
		CHECKF(0, "model: %s", err.msg);
		goto out;
	}
	fl_model_metrics(&r, &m);
	CHECK_EQ_U64(m.mmap_write_acq, 4);
	CHECK_EQ_U64(r.anomalies, 0);
	fl_model_run_release(&r);
out:
	fl_model_input_release(&mi);
	case_db_close(&c);
	recon_out_release(&o);
	recon_input_release(&in);
}
