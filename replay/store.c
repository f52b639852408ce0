/*
 * store.c - writes model runs to the database: one replay_run row, every
 * metric by its vocabulary name (fl_metrics_foreach) plus the model's extras
 * (fl_model_extras_foreach), and one replay_fault row per simulated fault,
 * in one transaction per run (prepared statements, bind/step/reset).
 *
 * The tables are defined in db/schema.sql between "-- ==== replay" and
 * "-- ==== end of replay"; a database created before that section existed
 * gets it here, from the same embedded text (CREATE TABLE IF NOT EXISTS).
 */
#include "replay/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/kver.h"
#include "replay/run-metrics.h"

extern const char fl_db_schema_sql[];

int fl_replay_store_init(sqlite3 *db, struct fl_err *err)
{
	const char *a = strstr(fl_db_schema_sql, "-- ==== replay");
	const char *b = a ? strstr(a, "-- ==== end of replay") : NULL;
	char *sql, *msg = NULL;

	if (!a || !b)
		return fl_seterr(err, "the embedded schema has no replay section (rebuild faultlab)");
	sql = fl_malloc((size_t)(b - a) + 1);
	memcpy(sql, a, (size_t)(b - a));
	sql[b - a] = 0;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_seterr(err, "cannot create the replay tables: %s", msg ? msg : "?");
		sqlite3_free(msg);
		free(sql);
		return -1;
	}
	free(sql);
	return 0;
}

struct mctx {
	sqlite3_stmt *st;
	int64_t run;
	int rc;
};

static void put_metric(void *arg, const char *name, double v)
{
	struct mctx *m = arg;

	if (m->rc != SQLITE_DONE)
		return;
	sqlite3_bind_int64(m->st, 1, m->run);
	sqlite3_bind_text(m->st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(m->st, 3, v);
	m->rc = sqlite3_step(m->st);
	sqlite3_reset(m->st);
}

static const char *path_name(int p)
{
	switch (p) {
	case FL_MPATH_VMA: return "vma";
	case FL_MPATH_VMA_RETRY_MMAP: return "vma_retry_mmap";
	case FL_MPATH_VMA_RETRY_VMA: return "vma_retry_vma";
	default: return "mmap";
	}
}

int fl_replay_store_run(sqlite3 *db, int64_t capture, const struct fl_model_run *r,
			const struct fl_model_input *in, uint64_t elapsed_ns, int64_t *id,
			struct fl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct fl_metrics m;
	struct mctx mc;
	struct timespec now;
	char pn[128], kv[16];
	bool own = sqlite3_get_autocommit(db);
	int ret = -1;

	if (own && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fl_seterr(err, "cannot store the run: %s", sqlite3_errmsg(db));
	clock_gettime(CLOCK_REALTIME, &now);
	if (sqlite3_prepare_v2(db, "INSERT INTO replay_run (capture, policy, arch, kernel, seed, "
			       "cpus, capacity_pages, created_realtime_ns, elapsed_ns) VALUES "
			       "(?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(st, 1, capture);
	sqlite3_bind_text(st, 2, fl_policy_name(r->policy, pn), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->arch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, fl_kver_str(r->kver, kv), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (int64_t)r->seed);
	sqlite3_bind_int64(st, 6, in->ncpus);
	sqlite3_bind_int64(st, 7, (int64_t)in->capacity_pages);
	sqlite3_bind_int64(st, 8, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec);
	sqlite3_bind_int64(st, 9, (int64_t)elapsed_ns);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	*id = sqlite3_last_insert_rowid(db);

	if (sqlite3_prepare_v2(db, "INSERT INTO metric (run, name, value) VALUES (?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlfail;
	mc.st = st;
	mc.run = *id;
	mc.rc = SQLITE_DONE;
	fl_model_metrics(r, &m);
	fl_metrics_foreach(&m, put_metric, &mc);
	fl_model_extras_foreach(r, put_metric, &mc);
	if (mc.rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(db, "INSERT INTO replay_fault (run, id, fault, tid, address, user, "
			       "path, outcome, attempts, retry_drop, retry_io_miss, major, "
			       "start_ns, end_ns, io_wait_ns, io_wait_locked_ns, mmap_wait_ns) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0; i < r->nfaults; i++) {
		const struct fl_model_fault *f = &r->faults[i];

		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, (int64_t)i + 1);
		if (f->ref)
			sqlite3_bind_int64(st, 3, f->ref);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, f->thread < in->nthreads ? in->threads[f->thread].tid : 0);
		sqlite3_bind_int64(st, 5, (int64_t)f->addr);
		sqlite3_bind_int(st, 6, f->user);
		sqlite3_bind_text(st, 7, path_name(f->path), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, f->outcome == FL_OUT_SEGV ? "segv" : "ok", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int(st, 9, f->attempts);
		sqlite3_bind_int(st, 10, f->retry_drop);
		sqlite3_bind_int(st, 11, f->retry_io_miss);
		sqlite3_bind_int(st, 12, f->major);
		sqlite3_bind_int64(st, 13, (int64_t)f->start_ns);
		sqlite3_bind_int64(st, 14, (int64_t)f->end_ns);
		sqlite3_bind_int64(st, 15, (int64_t)f->io_wait_ns);
		sqlite3_bind_int64(st, 16, (int64_t)f->io_wait_locked_ns);
		sqlite3_bind_int64(st, 17, (int64_t)f->mmap_wait_ns);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (own && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlfail;
	return 0;
sqlfail:
	fl_seterr(err, "cannot store the run: %s", sqlite3_errmsg(db));
	if (st)
		sqlite3_finalize(st);
	if (own)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
