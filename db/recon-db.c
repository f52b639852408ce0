/*
 * recon-db.c - running the reconstruction over a capture already in the
 * database, and storing its rows (db/schema.sql, "reconstruction").
 *
 * The input is only what ingest stored: the capture's header, snapshot and
 * trailer items (capture_kv), its event rows (one contiguous id range in
 * merge order, capture.event_first_id .. event_last_id) and its per-CPU lost
 * counts (cpu_stat). So the derived tables can be rebuilt at any time, by a
 * newer faultlab, from the database alone. Rows are written with prepared
 * statements inside one transaction (the caller's, e.g. ingest's, when one is
 * open); earlier rows of the same capture are deleted first.
 */
#include "db/reconstruct.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_ROWS	32	/* rows per multi-row INSERT (as ingest does for events) */

struct dbsink;
typedef void (*bind_row_fn)(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row);

/*
 * Rows of one derived table on their way in: copied into rows[] and inserted
 * BATCH_ROWS at a time by one prepared multi-row statement; the remainder is
 * inserted row by row at the end. Row order, and so every id, is unchanged.
 */
struct batch {
	const char *table;
	int ncols;			/* columns of the table */
	size_t rowsize;			/* bytes of one struct in rows[] */
	bind_row_fn bind;		/* binds a struct at columns c0+1 .. c0+ncols */
	sqlite3_stmt *one, *many;
	char *rows;			/* BATCH_ROWS structs */
	int n;				/* structs waiting in rows[] */
	uint64_t total;			/* rows added */
};

struct dbsink {
	sqlite3 *db;
	int64_t capture;
	struct batch fault, wait, op, io, vma;
};

static int sqlfail(sqlite3 *db, struct fl_err *err, const char *what)
{
	return fl_seterr(err, "cannot %s: %s", what, sqlite3_errmsg(db));
}

static void bind_anomalies(sqlite3_stmt *st, int col, uint32_t bits)
{
	char buf[512] = "";
	size_t n = 0;

	if (!bits) {
		sqlite3_bind_null(st, col);
		return;
	}
	for (int a = 0; a < FL_AN__COUNT; a++)
		if (bits & (1u << a))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "", fl_anomaly_name(a));
	sqlite3_bind_text(st, col, buf, -1, SQLITE_TRANSIENT);
}

static void bind_nz(sqlite3_stmt *st, int col, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, col, v);
	else
		sqlite3_bind_null(st, col);
}

static int step(struct dbsink *s, sqlite3_stmt *st, struct fl_err *err, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlfail(s->db, err, what);
	return 0;
}

/* Binds one fault row at columns c0+1 .. c0+FAULT_COLS of st. */
static void bind_fault(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row)
{
	const struct fl_fault *f = row;
	int c = c0 + 1;
	bool file = f->flags & FL_FF_FILE_ID || f->ino;

	sqlite3_bind_int64(st, c++, s->capture);
	sqlite3_bind_int64(st, c++, f->id);
	sqlite3_bind_int64(st, c++, f->tid);
	bind_nz(st, c++, f->tgid);
	bind_nz(st, c++, (int64_t)f->mm);
	sqlite3_bind_int64(st, c++, (int64_t)f->address);
	sqlite3_bind_int64(st, c++, (int64_t)f->ip);
	sqlite3_bind_int64(st, c++, (int64_t)f->error_code);
	sqlite3_bind_int(st, c++, f->user);
	sqlite3_bind_int(st, c++, !!(f->flags & FL_FF_WRITE));
	sqlite3_bind_int(st, c++, !!(f->flags & FL_FF_INSTR));
	sqlite3_bind_text(st, c++, fl_vma_kind_name(f->vma_kind), -1, SQLITE_STATIC);
	bind_nz(st, c++, (int64_t)f->vma_start);
	bind_nz(st, c++, (int64_t)f->vma_end);
	if (file) {
		sqlite3_bind_int64(st, c++, f->dev);
		sqlite3_bind_int64(st, c++, (int64_t)f->ino);
		sqlite3_bind_int64(st, c++, (int64_t)f->index);
	} else {
		sqlite3_bind_null(st, c++);
		sqlite3_bind_null(st, c++);
		sqlite3_bind_null(st, c++);
	}
	sqlite3_bind_int64(st, c++, (int64_t)f->start_ns);
	sqlite3_bind_int64(st, c++, (int64_t)f->end_ns);
	sqlite3_bind_text(st, c++, fl_fault_path_name(f->path), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, c++, f->attempts);
	sqlite3_bind_int(st, c++, f->retry_drop);
	sqlite3_bind_int(st, c++, f->retry_io_miss);
	sqlite3_bind_int(st, c++, f->major);
	sqlite3_bind_int64(st, c++, (int64_t)f->io_wait_ns);
	sqlite3_bind_int64(st, c++, (int64_t)f->io_wait_locked_ns);
	sqlite3_bind_int64(st, c++, (int64_t)f->mmap_wait_ns);
	sqlite3_bind_int64(st, c++, (int64_t)f->mmap_hold_ns);
	sqlite3_bind_int(st, c++, !!(f->flags & FL_FF_ANON_PREPARE));
	sqlite3_bind_int(st, c++, !!(f->flags & FL_FF_EVICTED));
	sqlite3_bind_int(st, c++, !!(f->flags & FL_FF_UNFINISHED));
	bind_anomalies(st, c++, f->anomalies);
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct fl_err *err);

static void batch_init(struct batch *b, const char *table, int ncols, size_t rowsize,
		       bind_row_fn bind)
{
	b->table = table;
	b->ncols = ncols;
	b->rowsize = rowsize;
	b->bind = bind;
	b->rows = fl_malloc(BATCH_ROWS * rowsize);
}

/* "INSERT INTO table VALUES (?,...),..." for rows rows of b's columns. */
static void insert_sql(const struct batch *b, int rows, struct fl_buf *sql)
{
	fl_buf_reset(sql);
	fl_buf_addf(sql, "INSERT INTO %s VALUES ", b->table);
	for (int r = 0; r < rows; r++) {
		fl_buf_addstr(sql, r ? ",(" : "(");
		for (int c = 0; c < b->ncols; c++)
			fl_buf_addstr(sql, c ? ",?" : "?");
		fl_buf_addstr(sql, ")");
	}
}

/* Prepares the one-row and the BATCH_ROWS-row statements. */
static int batch_prepare(sqlite3 *db, struct batch *b, struct fl_err *err)
{
	struct fl_buf sql = { 0 };
	int ret;

	insert_sql(b, 1, &sql);
	ret = prep(db, sql.data, &b->one, err);
	if (!ret) {
		insert_sql(b, BATCH_ROWS, &sql);
		ret = prep(db, sql.data, &b->many, err);
	}
	fl_buf_release(&sql);
	return ret;
}

/* Inserts the waiting rows: one multi-row statement when full, else row by row. */
static int batch_flush(struct dbsink *s, struct batch *b, struct fl_err *err)
{
	char what[48];
	int ret = 0;

	snprintf(what, sizeof(what), "insert %s", b->table);
	if (b->n == BATCH_ROWS) {
		for (int i = 0; i < BATCH_ROWS; i++)
			b->bind(s, b->many, i * b->ncols, b->rows + i * b->rowsize);
		ret = step(s, b->many, err, what);
	} else {
		for (int i = 0; i < b->n && !ret; i++) {
			b->bind(s, b->one, 0, b->rows + i * b->rowsize);
			ret = step(s, b->one, err, what);
		}
	}
	b->n = 0;
	return ret;
}

static int batch_add(struct dbsink *s, struct batch *b, const void *row, struct fl_err *err)
{
	memcpy(b->rows + b->n++ * b->rowsize, row, b->rowsize);
	b->total++;
	return b->n == BATCH_ROWS ? batch_flush(s, b, err) : 0;
}

static void batch_release(struct batch *b)
{
	sqlite3_finalize(b->one);
	sqlite3_finalize(b->many);
	free(b->rows);
	memset(b, 0, sizeof(*b));
}

static int put_fault(void *arg, const struct fl_fault *f, struct fl_err *err)
{
	struct dbsink *s = arg;

	return batch_add(s, &s->fault, f, err);
}

static int put_wait(void *arg, const struct fl_lock_wait *w, struct fl_err *err)
{
	struct dbsink *s = arg;

	return batch_add(s, &s->wait, w, err);
}

static int put_op(void *arg, const struct fl_writer_op *op, struct fl_err *err)
{
	struct dbsink *s = arg;

	return batch_add(s, &s->op, op, err);
}

static int put_io(void *arg, const struct fl_io *io, struct fl_err *err)
{
	struct dbsink *s = arg;

	return batch_add(s, &s->io, io, err);
}

static void bind_wait(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row)
{
	const struct fl_lock_wait *w = row;
	int c = c0 + 1;

	sqlite3_bind_int64(st, c++, s->capture);
	sqlite3_bind_int64(st, c++, w->id);
	sqlite3_bind_int64(st, c++, w->tid);
	bind_nz(st, c++, w->tgid);
	sqlite3_bind_int64(st, c++, (int64_t)w->mm);
	sqlite3_bind_int(st, c++, w->write);
	sqlite3_bind_int(st, c++, w->trylock);
	sqlite3_bind_int(st, c++, w->success);
	sqlite3_bind_int(st, c++, w->downgraded);
	sqlite3_bind_int64(st, c++, (int64_t)w->start_ns);
	bind_nz(st, c++, (int64_t)w->acquired_ns);
	bind_nz(st, c++, (int64_t)w->released_ns);
	if (w->acquired_ns)
		sqlite3_bind_int64(st, c++, (int64_t)(w->acquired_ns - w->start_ns));
	else
		sqlite3_bind_null(st, c++);
	sqlite3_bind_text(st, c++, fl_owner_kind_name(w->owner_kind), -1, SQLITE_STATIC);
	bind_nz(st, c++, w->owner_id);
	sqlite3_bind_int(st, c++, w->holders);
	sqlite3_bind_int(st, c++, w->writers_ahead);
	sqlite3_bind_int(st, c++, w->readers_ahead);
	bind_nz(st, c++, w->blocker_tid);
	bind_nz(st, c++, w->blocker_wait);
	sqlite3_bind_int(st, c++, w->chain);
	sqlite3_bind_int(st, c++, w->inversion);
	if (w->prio >= 0)
		sqlite3_bind_int(st, c++, w->prio);
	else
		sqlite3_bind_null(st, c++);
	bind_anomalies(st, c++, w->anomalies);
}


static void bind_op(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row)
{
	const struct fl_writer_op *op = row;
	int c = c0 + 1;

	sqlite3_bind_int64(st, c++, s->capture);
	sqlite3_bind_int64(st, c++, op->id);
	sqlite3_bind_int64(st, c++, op->tid);
	bind_nz(st, c++, op->tgid);
	bind_nz(st, c++, (int64_t)op->mm);
	sqlite3_bind_text(st, c++, fl_sys_name(op->sys), -1, SQLITE_STATIC);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_int64(st, c++, op->args[i]);
	if (op->exit_ns)
		sqlite3_bind_int64(st, c++, op->ret);
	else
		sqlite3_bind_null(st, c++);
	sqlite3_bind_int64(st, c++, (int64_t)op->enter_ns);
	bind_nz(st, c++, (int64_t)op->exit_ns);
	sqlite3_bind_int(st, c++, op->wrote);
	sqlite3_bind_int64(st, c++, (int64_t)op->write_wait_ns);
	bind_nz(st, c++, (int64_t)op->acquired_ns);
	sqlite3_bind_int64(st, c++, (int64_t)op->write_hold_ns);
	bind_nz(st, c++, (int64_t)op->downgrade_ns);
	sqlite3_bind_int64(st, c++, (int64_t)op->read_hold_ns);
	sqlite3_bind_int64(st, c++, (int64_t)op->blocked_ns);
	bind_nz(st, c++, op->child);
	bind_anomalies(st, c++, op->anomalies);
}


static int put_vma(void *arg, const struct fl_vma_row *v, struct fl_err *err)
{
	struct dbsink *s = arg;

	return batch_add(s, &s->vma, v, err);
}

static void bind_vma(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row)
{
	const struct fl_vma_row *v = row;
	char perms[5] = {
		(v->prot & 1) ? 'r' : '-', (v->prot & 2) ? 'w' : '-', (v->prot & 4) ? 'x' : '-',
		v->shared ? 's' : 'p', 0,
	};
	bool file = v->ino || v->path;
	int c = c0 + 1;

	sqlite3_bind_int64(st, c++, s->capture);
	sqlite3_bind_int64(st, c++, v->id);
	sqlite3_bind_int64(st, c++, v->tgid);
	bind_nz(st, c++, (int64_t)v->mm);
	sqlite3_bind_int64(st, c++, (int64_t)v->start);
	sqlite3_bind_int64(st, c++, (int64_t)v->end);
	sqlite3_bind_text(st, c++, perms, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, c++, v->prot);
	sqlite3_bind_int(st, c++, v->shared);
	sqlite3_bind_text(st, c++, fl_vma_kind_name(v->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, c++, v->heap);
	if (file && v->ino) {
		sqlite3_bind_int64(st, c++, v->dev);
		sqlite3_bind_int64(st, c++, (int64_t)v->ino);
	} else {
		sqlite3_bind_null(st, c++);
		sqlite3_bind_null(st, c++);
	}
	if (file || v->kind == FL_VMA_FILE)
		sqlite3_bind_int64(st, c++, (int64_t)v->pgoff);
	else
		sqlite3_bind_null(st, c++);
	if (v->path)
		sqlite3_bind_text(st, c++, v->path, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, c++);
	sqlite3_bind_int64(st, c++, (int64_t)v->valid_from_ns);
	bind_nz(st, c++, (int64_t)v->valid_to_ns);
	sqlite3_bind_text(st, c++, fl_vma_source_name(v->source), -1, SQLITE_STATIC);
	bind_nz(st, c++, v->op);
}

static void bind_io(struct dbsink *s, sqlite3_stmt *st, int c0, const void *row)
{
	const struct fl_io *io = row;
	int c = c0 + 1;

	sqlite3_bind_int64(st, c++, s->capture);
	sqlite3_bind_int64(st, c++, io->id);
	sqlite3_bind_int64(st, c++, io->dev);
	sqlite3_bind_int64(st, c++, (int64_t)io->sector);
	sqlite3_bind_int64(st, c++, (int64_t)io->nr_sector);
	bind_nz(st, c++, (int64_t)io->bytes);
	sqlite3_bind_text(st, c++, io->rwbs, -1, SQLITE_TRANSIENT);
	bind_nz(st, c++, io->issue_tid);
	bind_nz(st, c++, io->issue_fault);
	bind_nz(st, c++, (int64_t)io->issue_ns);
	bind_nz(st, c++, (int64_t)io->complete_ns);
	sqlite3_bind_int64(st, c++, io->error);
	sqlite3_bind_int(st, c++, (int)io->waiters);
	bind_nz(st, c++, io->first_waiter);
}


/* Rebuilds one section of capture_kv as a struct fl_kv. */
static int load_section(sqlite3 *db, int64_t capture, const char *section, struct fl_kv *kv,
			struct fl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT key, value FROM capture_kv WHERE capture = ? AND section = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "read capture_kv");
	sqlite3_bind_int64(st, 1, capture);
	sqlite3_bind_text(st, 2, section, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const void *val = sqlite3_column_type(st, 1) == SQLITE_BLOB ?
					  sqlite3_column_blob(st, 1) :
					  (const void *)sqlite3_column_text(st, 1);
		int len = sqlite3_column_bytes(st, 1);

		fl_kv_add(kv, key, val ? val : "", val ? (size_t)len : 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(db, err, "read capture_kv");
	return 0;
}

static int exec(sqlite3 *db, const char *sql, struct fl_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_seterr(err, "cannot run '%.40s...': %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct fl_err *err)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return fl_seterr(err, "cannot prepare '%.40s...': %s (is the database schema older "
				 "than this faultlab? re-ingest the capture)", sql, sqlite3_errmsg(db));
	return 0;
}

/*
 * The vma table came after the first databases: create it (from the embedded
 * schema's own text, so there is one definition) where it is missing.
 */
static int ensure_vma_table(sqlite3 *db, struct fl_err *err)
{
	extern const char fl_db_schema_sql[];
	const char *a = strstr(fl_db_schema_sql, "-- @@ vma:");
	const char *b = a ? strstr(a, "-- @@ end of vma") : NULL;
	char *sql;
	int ret;

	if (!a || !b)
		return fl_seterr(err, "the embedded schema has no vma section (rebuild faultlab)");
	sql = fl_malloc((size_t)(b - a) + 1);
	memcpy(sql, a, (size_t)(b - a));
	sql[b - a] = 0;
	ret = exec(db, sql, err);
	free(sql);
	return ret;
}

/*
 * A reconstruction writing into the database: the capture's metadata comes
 * from capture_kv (so ingest must have stored it first), events are fed in
 * merge order — by ingest as it decodes them, or by fl_recon_run_db() from
 * the event table — and fl_recon_db_end() stores anomalies and the recon row.
 */
struct fl_recon_db {
	struct dbsink s;
	struct fl_recon *r;
	struct fl_kv header, trailer;
	struct fl_kv *snaps;
	const struct fl_kv **snapp;
	size_t nsnaps;
	uint64_t t0;		/* fl_now_ns() at begin, for recon.elapsed_ns */
};

void fl_recon_db_abort(struct fl_recon_db *rd)
{
	if (!rd)
		return;
	batch_release(&rd->s.fault);
	batch_release(&rd->s.wait);
	batch_release(&rd->s.op);
	batch_release(&rd->s.io);
	batch_release(&rd->s.vma);
	fl_recon_free(rd->r);
	fl_kv_release(&rd->header);
	fl_kv_release(&rd->trailer);
	for (size_t i = 0; i < rd->nsnaps; i++)
		fl_kv_release(&rd->snaps[i]);
	free(rd->snaps);
	free(rd->snapp);
	free(rd);
}

struct fl_recon_db *fl_recon_db_begin(sqlite3 *db, int64_t capture_id, struct fl_err *err)
{
	static const char *const tables[] = { "fault", "lock_wait", "writer_op", "io", "vma",
					      "recon_anomaly", "recon" };
	struct fl_recon_db *rd = fl_calloc(1, sizeof(*rd));
	char sec[32];

	rd->s.db = db;
	rd->s.capture = capture_id;
	rd->t0 = fl_now_ns();
	if (load_section(db, capture_id, "header", &rd->header, err) < 0)
		goto fail;
	for (;;) {
		struct fl_kv kv = { 0 };

		snprintf(sec, sizeof(sec), "snapshot.%zu", rd->nsnaps);
		if (load_section(db, capture_id, sec, &kv, err) < 0)
			goto fail;
		if (!kv.n)
			break;
		rd->snaps = fl_realloc(rd->snaps, (rd->nsnaps + 1) * sizeof(*rd->snaps));
		rd->snaps[rd->nsnaps++] = kv;
	}
	if (load_section(db, capture_id, "trailer", &rd->trailer, err) < 0)
		goto fail;
	rd->snapp = fl_calloc(rd->nsnaps + 1, sizeof(*rd->snapp));
	for (size_t i = 0; i < rd->nsnaps; i++)
		rd->snapp[i] = &rd->snaps[i];
	rd->snapp[rd->nsnaps] = &rd->trailer;

	if (ensure_vma_table(db, err) < 0)
		goto fail;
	/* replace earlier rows of this capture */
	for (size_t i = 0; i < FL_ARRAY_SIZE(tables); i++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE capture = %lld", tables[i],
			 (long long)capture_id);
		if (exec(db, sql, err) < 0)
			goto fail;
	}
	batch_init(&rd->s.fault, "fault", 32, sizeof(struct fl_fault), bind_fault);
	batch_init(&rd->s.wait, "lock_wait", 24, sizeof(struct fl_lock_wait), bind_wait);
	batch_init(&rd->s.op, "writer_op", 21, sizeof(struct fl_writer_op), bind_op);
	batch_init(&rd->s.io, "io", 14, sizeof(struct fl_io), bind_io);
	batch_init(&rd->s.vma, "vma", 19, sizeof(struct fl_vma_row), bind_vma);
	if (batch_prepare(db, &rd->s.fault, err) < 0 || batch_prepare(db, &rd->s.wait, err) < 0 ||
	    batch_prepare(db, &rd->s.op, err) < 0 || batch_prepare(db, &rd->s.io, err) < 0 ||
	    batch_prepare(db, &rd->s.vma, err) < 0)
		goto fail;
	{
		struct fl_recon_opts opts = {
			.header = &rd->header, .snapshots = rd->snapp, .nsnapshots = rd->nsnaps + 1,
			.sink = { &rd->s, put_fault, put_wait, put_op, put_io, put_vma },
		};
		rd->r = fl_recon_new(&opts, err);
		if (!rd->r)
			goto fail;
	}
	return rd;
fail:
	fl_recon_db_abort(rd);
	return NULL;
}

int fl_recon_db_feed(struct fl_recon_db *rd, const struct fl_event *ev, int inst,
		     struct fl_err *err)
{
	return fl_recon_feed(rd->r, ev, inst, err);
}

int fl_recon_db_end(struct fl_recon_db *rd, uint64_t lost, uint64_t *events_out,
		    struct fl_err *err)
{
	sqlite3 *db = rd->s.db;
	int64_t capture_id = rd->s.capture;
	sqlite3_stmt *q = NULL;
	int ret = -1;

	if (lost)
		fl_recon_note_lost(rd->r, lost);
	if (fl_recon_finish(rd->r, err) < 0 || batch_flush(&rd->s, &rd->s.fault, err) < 0 ||
	    batch_flush(&rd->s, &rd->s.wait, err) < 0 || batch_flush(&rd->s, &rd->s.op, err) < 0 ||
	    batch_flush(&rd->s, &rd->s.io, err) < 0 || batch_flush(&rd->s, &rd->s.vma, err) < 0)
		goto out;
	/* anomalies and the run's own row */
	if (sqlite3_prepare_v2(db, "INSERT INTO recon_anomaly VALUES (?, ?, ?)", -1, &q, NULL) !=
	    SQLITE_OK) {
		sqlfail(db, err, "insert recon_anomaly");
		goto out;
	}
	for (int a = 0; a < FL_AN__COUNT; a++) {
		uint64_t n = fl_recon_anomalies(rd->r)[a];

		if (!n)
			continue;
		sqlite3_bind_int64(q, 1, capture_id);
		sqlite3_bind_text(q, 2, fl_anomaly_name(a), -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)n);
		if (step(&rd->s, q, err, "insert recon_anomaly") < 0)
			goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO recon VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &q, NULL) !=
	    SQLITE_OK) {
		sqlfail(db, err, "insert recon");
		goto out;
	}
	{
		const struct fl_recon_kernel *k = fl_recon_kernel(rd->r);
		uint64_t f0, f1;

		fl_recon_span(rd->r, &f0, &f1);
		sqlite3_bind_int64(q, 1, capture_id);
		bind_nz(q, 2, k->major);
		bind_nz(q, 3, k->major ? k->minor : 0);
		sqlite3_bind_int(q, 4, k->vma_lock);
		sqlite3_bind_int(q, 5, k->filemap_fault_tp);
		sqlite3_bind_int(q, 6, k->fault_tp);
		sqlite3_bind_int64(q, 7, (int64_t)fl_recon_events(rd->r));
		bind_nz(q, 8, (int64_t)f0);
		bind_nz(q, 9, (int64_t)f1);
		sqlite3_bind_int64(q, 10, (int64_t)(fl_now_ns() - rd->t0));
		if (step(&rd->s, q, err, "insert recon") < 0)
			goto out;
	}
	if (events_out)
		*events_out = fl_recon_events(rd->r);
	ret = 0;
out:
	if (q)
		sqlite3_finalize(q);
	fl_recon_db_abort(rd);
	return ret;
}

int fl_recon_run_db(sqlite3 *db, int64_t capture_id, uint64_t *events_out, struct fl_err *err)
{
	struct fl_recon_db *rd = NULL;
	sqlite3_stmt *q = NULL;
	int64_t first = 0, last = -1;
	bool own_tx = sqlite3_get_autocommit(db);
	uint64_t lost = 0;
	bool system_mode;
	int rc, ret = -1;

	if (own_tx && exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/* the capture's id range */
	if (sqlite3_prepare_v2(db, "SELECT event_first_id, event_last_id, mode IS NOT 'command' "
			       "FROM capture WHERE id = ?", -1, &q, NULL) != SQLITE_OK) {
		sqlfail(db, err, "read capture");
		goto out;
	}
	sqlite3_bind_int64(q, 1, capture_id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		fl_seterr(err, "no capture %lld in the database", (long long)capture_id);
		goto out;
	}
	if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
		first = sqlite3_column_int64(q, 0);
		last = sqlite3_column_int64(q, 1);
	}
	/* as ingest: in system mode (and a trace.dat) every buffer holds recorded tasks */
	system_mode = sqlite3_column_int(q, 2);
	sqlite3_finalize(q);
	q = NULL;
	rd = fl_recon_db_begin(db, capture_id, err);
	if (!rd)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(lost), 0) FROM cpu_stat WHERE capture = ?", -1,
			       &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, capture_id);
		if (sqlite3_step(q) == SQLITE_ROW)
			lost = (uint64_t)sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		q = NULL;
	}
	if (sqlite3_prepare_v2(db, "SELECT ts, cpu, tid, inst, type, sys, a0, a1, a2, a3, a4, a5, "
			       "comm, comm2 FROM event WHERE id BETWEEN ? AND ? ORDER BY id", -1, &q,
			       NULL) != SQLITE_OK) {
		sqlfail(db, err, "read events");
		goto out;
	}
	sqlite3_bind_int64(q, 1, first);
	sqlite3_bind_int64(q, 2, last);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fl_event ev;
		const unsigned char *c;
		int inst;

		ev.ts = (uint64_t)sqlite3_column_int64(q, 0);
		ev.cpu = (uint16_t)sqlite3_column_int(q, 1);
		ev.tid = sqlite3_column_int(q, 2);
		inst = system_mode ? 0 : sqlite3_column_int(q, 3);
		ev.type = (uint16_t)sqlite3_column_int(q, 4);
		ev.sys = (uint16_t)sqlite3_column_int(q, 5);
		ev.tep_id = 0;
		for (int i = 0; i < 6; i++)
			ev.a[i] = sqlite3_column_int64(q, 6 + i);
		c = sqlite3_column_text(q, 12);
		snprintf(ev.comm, sizeof(ev.comm), "%s", c ? (const char *)c : "");
		c = sqlite3_column_text(q, 13);
		snprintf(ev.comm2, sizeof(ev.comm2), "%s", c ? (const char *)c : "");
		if (fl_recon_db_feed(rd, &ev, inst, err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		sqlfail(db, err, "read events");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	ret = fl_recon_db_end(rd, lost, events_out, err);
	rd = NULL;
	if (!ret && own_tx && exec(db, "COMMIT", err) < 0)
		ret = -1;
out:
	if (q)
		sqlite3_finalize(q);
	fl_recon_db_abort(rd);
	if (ret < 0 && own_tx && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
