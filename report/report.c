/*
 * report.c - loading the report of one capture from the database, and its JSON.
 *
 * The report is computed from the database only (never from the capture
 * file), so it describes exactly what was ingested: the capture row, events by
 * type, lost events, and the reconstruction of db/reconstruct.c (fault,
 * lock_wait, writer_op, recon_anomaly) turned into DESIGN.md's metric
 * vocabulary by report/metrics.c, for the whole capture and per process, plus
 * the lists a reader looks at first: top waiters, top blockers, forks, the
 * wait samples of the CDF and the timelines of the top threads.
 *
 * faults_user/faults_kernel of struct fl_report are counted from the events of
 * the recorded processes: events of the capture's main tracefs instance
 * (event.inst = 0) from tasks marked followed (in command mode the main
 * instance is pid-filtered to the followed process tree, and an extra
 * unfiltered instance carries other tasks' events, which never count; in
 * system mode every event counts). The metrics' counts come from the fault
 * rows; the two are compared and a difference is a warning.
 *
 * Lists are bounded (TOP_N threads, FORKS_N forks, LANES_N timelines of at most
 * LANE_SPANS intervals) so that a report of a system-wide capture stays small;
 * the wait samples are 8 bytes per acquisition.
 *
 * Units: times in ns of the trace clock, sizes in bytes; metrics in µs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "report/report.h"

static struct fl_value *values_slot(struct fl_values *vs, const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name)) {
			free(vs->v[i].s);
			vs->v[i].s = NULL;
			return &vs->v[i];
		}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? 2 * vs->cap : 16;
		vs->v = fl_realloc(vs->v, vs->cap * sizeof(*vs->v));
	}
	memset(&vs->v[vs->n], 0, sizeof(vs->v[0]));
	vs->v[vs->n].name = fl_strdup(name);
	return &vs->v[vs->n++];
}

static void values_int(struct fl_values *vs, const char *name, int64_t v)
{
	struct fl_value *x = values_slot(vs, name);

	x->kind = FL_VAL_INT;
	x->i = v;
}

static void values_release(struct fl_values *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].s);
	}
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static const struct fl_value *values_get(const struct fl_values *vs, const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

const struct fl_value *fl_values_get(const struct fl_values *vs, const char *name)
{
	return values_get(vs, name);
}

void fl_report_metric_int(struct fl_report *r, const char *name, int64_t v)
{
	values_int(&r->metrics, name, v);
}

void fl_report_metric_real(struct fl_report *r, const char *name, double v)
{
	struct fl_value *x = values_slot(&r->metrics, name);

	x->kind = FL_VAL_REAL;
	x->r = v;
}

static int sqlfail(struct fl_db *db, struct fl_err *err, const char *what)
{
	return fl_seterr(err, "database '%s': %s: %s", fl_db_path(db), what,
			 sqlite3_errmsg(fl_db_sqlite(db)));
}

/* Column c of the current row of st into vs, under the column's name. */
static void column_value(struct fl_values *vs, sqlite3_stmt *st, int c)
{
	struct fl_value *x = values_slot(vs, sqlite3_column_name(st, c));

	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER:
		x->kind = FL_VAL_INT;
		x->i = sqlite3_column_int64(st, c);
		break;
	case SQLITE_FLOAT:
		x->kind = FL_VAL_REAL;
		x->r = sqlite3_column_double(st, c);
		break;
	case SQLITE_TEXT:
		x->kind = FL_VAL_STR;
		x->s = fl_strdup((const char *)sqlite3_column_text(st, c));
		break;
	default:
		x->kind = FL_VAL_NULL;
	}
}

static int load_capture(struct fl_report *r, struct fl_db *db, struct fl_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(fl_db_sqlite(db), "SELECT * FROM capture WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return sqlfail(db, err, "read capture");
	sqlite3_bind_int64(st, 1, r->capture_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return fl_seterr(err, "database '%s' has no capture %" PRId64
					 ": 'faultlab info %s' lists them", fl_db_path(db),
					 r->capture_id, fl_db_path(db));
		return sqlfail(db, err, "read capture");
	}
	for (int c = 0; c < sqlite3_column_count(st); c++) {
		const char *name = sqlite3_column_name(st, c);

		if (!strcmp(name, "warnings")) {
			const char *w = (const char *)sqlite3_column_text(st, c);

			while (w && *w) {
				const char *eol = strchr(w, '\n');
				size_t len = eol ? (size_t)(eol - w) : strlen(w);

				r->warnings = fl_realloc(r->warnings,
							 (r->nwarnings + 1) * sizeof(char *));
				r->warnings[r->nwarnings++] = fl_asprintf("%.*s", (int)len, w);
				w = eol ? eol + 1 : NULL;
			}
			continue;
		}
		column_value(&r->capture, st, c);
	}
	sqlite3_finalize(st);
	{
		const struct fl_value *a = values_get(&r->capture, "first_event_ns");
		const struct fl_value *b = values_get(&r->capture, "last_event_ns");
		const struct fl_value *s = values_get(&r->capture, "start_trace_ns");
		const struct fl_value *e = values_get(&r->capture, "end_trace_ns");

		/* The capture's own span if it has one, else the events'. */
		if (s && e && s->kind == FL_VAL_INT && e->kind == FL_VAL_INT && e->i >= s->i)
			values_int(&r->capture, "duration_ns", e->i - s->i);
		else if (a && b && a->kind == FL_VAL_INT && b->kind == FL_VAL_INT)
			values_int(&r->capture, "duration_ns", b->i - a->i);
	}
	const struct fl_value *v;
	if ((v = values_get(&r->capture, "events")))
		r->events = (uint64_t)v->i;
	if ((v = values_get(&r->capture, "events_lost")))
		r->events_lost = (uint64_t)v->i;
	if ((v = values_get(&r->capture, "complete")))
		r->complete = v->i;
	if ((v = values_get(&r->capture, "truncated")))
		r->truncated = v->i;
	return 0;
}

static int load_counts(struct fl_report *r, struct fl_db *db, struct fl_err *err)
{
	sqlite3 *sql = fl_db_sqlite(db);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(sql, "SELECT system || ':' || name, events FROM capture_event_type "
			       "WHERE capture = ?1 AND enabled ORDER BY events DESC, system, name",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "read event types");
	sqlite3_bind_int64(st, 1, r->capture_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		values_int(&r->by_type, (const char *)sqlite3_column_text(st, 0),
			   sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(db, err, "read event types");

	if (sqlite3_prepare_v2(sql, "SELECT cpu, lost FROM cpu_stat WHERE capture = ? ORDER BY cpu",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "read cpu_stat");
	sqlite3_bind_int64(st, 1, r->capture_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int cpu = sqlite3_column_int(st, 0);

		if (cpu < 0 || cpu > 65535)
			continue;
		if (cpu >= r->ncpus) {
			r->lost_cpu = fl_realloc(r->lost_cpu, (cpu + 1) * sizeof(*r->lost_cpu));
			memset(r->lost_cpu + r->ncpus, 0,
			       (cpu + 1 - r->ncpus) * sizeof(*r->lost_cpu));
			r->ncpus = cpu + 1;
		}
		r->lost_cpu[cpu] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(db, err, "read cpu_stat");

	/* Page-fault exceptions of the recorded tasks (see the top). */
	if (sqlite3_prepare_v2(sql, "SELECT e.type, count(*) FROM capture c JOIN event e "
			       "ON e.id BETWEEN c.event_first_id AND c.event_last_id "
			       "WHERE c.id = ?1 AND e.type IN (1, 2) AND "
			       "(c.mode IS NOT 'command' OR (e.inst = 0 AND e.tid IN "
			       "(SELECT tid FROM task WHERE capture = ?1 AND followed))) "
			       "GROUP BY e.type", -1, &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "count faults");
	sqlite3_bind_int64(st, 1, r->capture_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 0) == FL_EV_PF_USER)
			r->faults_user = (uint64_t)sqlite3_column_int64(st, 1);
		else
			r->faults_kernel = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(db, err, "count faults");

	if (sqlite3_prepare_v2(sql, "SELECT count(*) FROM task WHERE capture = ? AND followed", -1,
			       &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "count tasks");
	sqlite3_bind_int64(st, 1, r->capture_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r->tasks_followed = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);

	fl_report_metric_int(r, "tasks", (int64_t)r->tasks_followed);
	fl_report_metric_int(r, "events", (int64_t)r->events);
	fl_report_metric_int(r, "events_lost", (int64_t)r->events_lost);
	return 0;
}

/* ---- the reconstruction ------------------------------------------------- */

#define TOP_N		10	/* threads in a top list of the whole capture */
#define TOP_PROC_N	5	/* ... of one process */
#define FORKS_N		10
#define LANES_N		8
#define LANE_SPANS	200000	/* intervals read per timeline lane */

/* Prepared statements shared by the loaders of one report. */
struct ctx {
	struct fl_report *r;
	struct fl_db *db;
	sqlite3 *sql;
	sqlite3_stmt *lw, *fault, *op, *file;
};

static sqlite3_stmt *prep(struct ctx *c, const char *q, struct fl_err *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->sql, q, -1, &st, NULL) != SQLITE_OK) {
		sqlfail(c->db, err, "read the reconstruction (re-ingest the capture with this "
			    "faultlab)");
		return NULL;
	}
	sqlite3_bind_int64(st, 1, c->r->capture_id);
	return st;
}

static char *col_str(sqlite3_stmt *st, int c)
{
	const char *s = (const char *)sqlite3_column_text(st, c);

	return fl_strdup(s ? s : "?");
}

static void add_size(struct fl_buf *b, int64_t bytes)
{
	if (bytes >= (1 << 20) && !(bytes & ((1 << 20) - 1)))
		fl_buf_addf(b, "%" PRId64 " MiB", bytes >> 20);
	else if (bytes >= 1024 && !(bytes & 1023))
		fl_buf_addf(b, "%" PRId64 " KiB", bytes >> 10);
	else
		fl_buf_addf(b, "%" PRId64 " B", bytes);
}

/* "user read fault at 0x7f.. in /path page 12 (vma_retry_mmap)" for fault id. */
static void describe_fault(struct ctx *c, int64_t id, struct fl_buf *b)
{
	sqlite3_stmt *st = c->fault;

	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fl_buf_addf(b, "fault %" PRId64, id);
		goto out;
	}
	fl_buf_addf(b, "%s %s fault at 0x%" PRIx64, sqlite3_column_int(st, 1) ? "user" : "kernel",
		    sqlite3_column_int(st, 2) ? "write" : "read",
		    (uint64_t)sqlite3_column_int64(st, 0));
	const char *kind = (const char *)sqlite3_column_text(st, 3);

	if (kind && !strcmp(kind, "file")) {
		const char *path = NULL;

		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			sqlite3_bind_int64(c->file, 2, sqlite3_column_int64(st, 4));
			if (sqlite3_step(c->file) == SQLITE_ROW)
				path = (const char *)sqlite3_column_text(c->file, 0);
		}
		if (path)
			fl_buf_addf(b, " in %s", path);
		else if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			fl_buf_addf(b, " in file ino %lld", (long long)sqlite3_column_int64(st, 4));
		else
			fl_buf_addstr(b, " in a file");
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			fl_buf_addf(b, " page %lld", (long long)sqlite3_column_int64(st, 5));
		sqlite3_reset(c->file);
	} else if (kind) {
		fl_buf_addf(b, " (%s)", kind);
	}
	fl_buf_addf(b, ", path %s", (const char *)sqlite3_column_text(st, 6));
	if (sqlite3_column_int(st, 7))
		fl_buf_addf(b, ", %d lock drops", sqlite3_column_int(st, 7));
out:
	sqlite3_reset(st);
}

/* "munmap(0x7f.., 16 MiB)", "fork (child 941)" for writer_op id. */
static void describe_op(struct ctx *c, int64_t id, struct fl_buf *b)
{
	sqlite3_stmt *st = c->op;
	const char *sys;

	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fl_buf_addf(b, "syscall %" PRId64, id);
		goto out;
	}
	sys = (const char *)sqlite3_column_text(st, 0);
	sys = sys ? sys : "?";
	if (!strncmp(sys, "clone", 5) || !strcmp(sys, "fork") || !strcmp(sys, "vfork")) {
		fl_buf_addf(b, "%s", sys);
		if (sqlite3_column_int(st, 3) > 0)
			fl_buf_addf(b, " (child %d)", sqlite3_column_int(st, 3));
	} else if (!strcmp(sys, "mmap")) {
		fl_buf_addstr(b, "mmap(");
		add_size(b, sqlite3_column_int64(st, 2));
		fl_buf_addstr(b, ")");
	} else if (!strcmp(sys, "munmap") || !strcmp(sys, "mprotect") ||
		   !strcmp(sys, "madvise") || !strcmp(sys, "mremap")) {
		fl_buf_addf(b, "%s(0x%" PRIx64 ", ", sys, (uint64_t)sqlite3_column_int64(st, 1));
		add_size(b, sqlite3_column_int64(st, 2));
		fl_buf_addstr(b, ")");
	} else {
		fl_buf_addf(b, "%s", sys);
	}
out:
	sqlite3_reset(st);
}

/* What the acquisition lock_wait id was for: "<mode> for <owner>". */
static char *describe_wait(struct ctx *c, int64_t id, bool *write)
{
	sqlite3_stmt *st = c->lw;
	struct fl_buf b = { 0 };
	const char *kind;

	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return fl_strdup("(acquisition not traced)");
	}
	if (write)
		*write = sqlite3_column_int(st, 0);
	kind = (const char *)sqlite3_column_text(st, 1);
	fl_buf_addf(&b, "%s: ", sqlite3_column_int(st, 0) ? "write" : "read");
	if (kind && !strcmp(kind, "fault"))
		describe_fault(c, sqlite3_column_int64(st, 2), &b);
	else if (kind && !strcmp(kind, "syscall"))
		describe_op(c, sqlite3_column_int64(st, 2), &b);
	else if (!fl_report_faults_observed(c->r))
		fl_buf_addstr(&b, "no traced owner (a fault: this capture has no page-fault "
			      "events; or a /proc read, GUP, ...)");
	else
		fl_buf_addstr(&b, "untraced (a /proc read, GUP, ...)");
	sqlite3_reset(st);
	return b.data;
}

static int load_recon(struct ctx *c, struct fl_err *err)
{
	struct fl_report *r = c->r;
	sqlite3_stmt *st;
	struct fl_metrics_acc *acc;
	size_t n;
	const int32_t *tgids;
	int rc;

	st = prep(c, "SELECT coalesce(kernel_major, 0), coalesce(kernel_minor, 0), vma_lock, "
		  "filemap_fault_tp, fault_tp, coalesce(first_ns, 0), coalesce(last_ns, 0) "
		  "FROM recon WHERE capture = ?", err);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->recon = true;
		r->kernel_major = sqlite3_column_int(st, 0);
		r->kernel_minor = sqlite3_column_int(st, 1);
		r->vma_lock = sqlite3_column_int(st, 2);
		r->filemap_fault_tp = sqlite3_column_int(st, 3);
		r->fault_tp = sqlite3_column_int(st, 4);
		r->recon_first_ns = (uint64_t)sqlite3_column_int64(st, 5);
		r->recon_last_ns = (uint64_t)sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (r->recon && !r->fault_tp) {
		struct fl_buf b = { 0 };

		st = prep(c, "SELECT system || ':' || name FROM capture_event_type WHERE capture = ? "
			  "AND system = 'exceptions' AND NOT enabled ORDER BY name DESC", err);
		if (!st)
			return -1;
		while (sqlite3_step(st) == SQLITE_ROW)
			fl_buf_addf(&b, "%s%s", b.len ? ", " : "", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		r->fault_events_missing = b.len ? b.data :
			fl_strdup("exceptions:page_fault_user, exceptions:page_fault_kernel");
		if (!b.len)
			fl_buf_release(&b);
	}

	acc = fl_metrics_load_db(c->sql, r->capture_id, err);
	if (!acc)
		return -1;
	fl_metrics_acc_result(acc, 0, &r->m);
	tgids = fl_metrics_acc_tgids(acc, &n);
	r->procs = fl_calloc(n ? n : 1, sizeof(*r->procs));
	st = prep(c, "SELECT (SELECT comm FROM task WHERE capture = ?1 AND tgid = ?2 "
		  "ORDER BY tid != ?2, tid LIMIT 1), "
		  "(SELECT count(*) FROM task WHERE capture = ?1 AND tgid = ?2 AND followed)", err);
	if (!st) {
		fl_metrics_acc_free(acc);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct fl_report_proc *p = &r->procs[r->nprocs++];

		p->tgid = tgids[i];
		fl_metrics_acc_result(acc, tgids[i], &p->m);
		sqlite3_bind_int(st, 2, tgids[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			p->comm = col_str(st, 0);
			p->threads = (uint32_t)sqlite3_column_int(st, 1);
		} else {
			p->comm = fl_strdup("?");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	fl_metrics_acc_free(acc);

	st = prep(c, "SELECT kind, count FROM recon_anomaly WHERE capture = ? AND count > 0 "
		  "ORDER BY count DESC, kind", err);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		values_int(&r->anomalies, (const char *)sqlite3_column_text(st, 0),
			   sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlfail(c->db, err, "read recon_anomaly");
}

/* Top waiters (blockers = false) or blockers of the whole capture (tgid 0) or a process. */
static int load_top(struct ctx *c, struct fl_report_top *top, int32_t tgid, int limit,
		    bool blockers, struct fl_err *err)
{
	static const char qw[] =
		"SELECT w.tid, coalesce(w.tgid, t.tgid, 0), count(*), sum(w.wait_ns), "
		"max(w.wait_ns), w.id, t.comm, coalesce(t.prio, -1) FROM lock_wait w "
		"LEFT JOIN task t ON t.capture = w.capture AND t.tid = w.tid "
		"WHERE w.capture = ?1 AND w.wait_ns IS NOT NULL AND (?2 = 0 OR w.tgid = ?2) "
		"GROUP BY w.tid HAVING sum(w.wait_ns) > 0 ORDER BY 4 DESC, 1 LIMIT ?3";
	static const char qb[] =
		"SELECT w.blocker_tid, coalesce(t.tgid, 0), count(*), sum(w.wait_ns), "
		"max(w.wait_ns), w.blocker_wait, t.comm, coalesce(t.prio, -1) FROM lock_wait w "
		"LEFT JOIN task t ON t.capture = w.capture AND t.tid = w.blocker_tid "
		"WHERE w.capture = ?1 AND w.blocker_tid > 0 AND w.wait_ns IS NOT NULL "
		"AND (?2 = 0 OR w.tgid = ?2) "
		"GROUP BY w.blocker_tid HAVING sum(w.wait_ns) > 0 ORDER BY 4 DESC, 1 LIMIT ?3";
	sqlite3_stmt *st = prep(c, blockers ? qb : qw, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 2, tgid);
	sqlite3_bind_int(st, 3, limit);
	top->t = fl_calloc((size_t)limit, sizeof(*top->t));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && top->n < (size_t)limit) {
		struct fl_report_thread *t = &top->t[top->n++];

		t->tid = sqlite3_column_int(st, 0);
		t->tgid = sqlite3_column_int(st, 1);
		t->n = (uint64_t)sqlite3_column_int64(st, 2);
		t->total_ns = (uint64_t)sqlite3_column_int64(st, 3);
		t->max_ns = (uint64_t)sqlite3_column_int64(st, 4);
		t->comm = col_str(st, 6);
		t->prio = sqlite3_column_int(st, 7);
		t->doing = describe_wait(c, sqlite3_column_int64(st, 5), &t->write);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlfail(c->db, err, "read lock_wait");
}

static int load_forks(struct ctx *c, struct fl_err *err)
{
	struct fl_report *r = c->r;
	sqlite3_stmt *st, *bw;
	int rc;

	st = prep(c, "SELECT count(*) FROM writer_op WHERE capture = ? AND wrote AND "
		  "sys IN ('clone', 'clone3', 'fork', 'vfork')", err);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		r->forks_total = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	bw = prep(c, "SELECT count(*), coalesce(sum(w.wait_ns), 0) FROM lock_wait w "
		  "JOIN lock_wait b ON b.capture = w.capture AND b.id = w.blocker_wait "
		  "WHERE w.capture = ?1 AND b.owner_kind = 'syscall' AND b.owner_id = ?2", err);
	st = prep(c, "SELECT o.id, o.tid, coalesce(o.tgid, 0), coalesce(o.child, 0), t.comm, "
		  "o.enter_ns, o.write_wait_ns, o.write_hold_ns, o.blocked_ns FROM writer_op o "
		  "LEFT JOIN task t ON t.capture = o.capture AND t.tid = o.tid "
		  "WHERE o.capture = ?1 AND o.wrote AND o.sys IN ('clone', 'clone3', 'fork', "
		  "'vfork') ORDER BY o.write_hold_ns DESC, o.id LIMIT ?2", err);
	if (!st || !bw) {
		sqlite3_finalize(st);
		sqlite3_finalize(bw);
		return -1;
	}
	sqlite3_bind_int(st, 2, FORKS_N);
	r->forks = fl_calloc(FORKS_N, sizeof(*r->forks));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->nforks < FORKS_N) {
		struct fl_report_fork *f = &r->forks[r->nforks++];

		f->tid = sqlite3_column_int(st, 1);
		f->tgid = sqlite3_column_int(st, 2);
		f->child = sqlite3_column_int(st, 3);
		f->comm = col_str(st, 4);
		f->enter_ns = (uint64_t)sqlite3_column_int64(st, 5);
		f->wait_ns = (uint64_t)sqlite3_column_int64(st, 6);
		f->hold_ns = (uint64_t)sqlite3_column_int64(st, 7);
		f->blocked_ns = (uint64_t)sqlite3_column_int64(st, 8);
		sqlite3_bind_int64(bw, 2, sqlite3_column_int64(st, 0));
		if (sqlite3_step(bw) == SQLITE_ROW) {
			f->waiters = (uint64_t)sqlite3_column_int64(bw, 0);
			f->waiters_ns = (uint64_t)sqlite3_column_int64(bw, 1);
		}
		sqlite3_reset(bw);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(bw);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlfail(c->db, err, "read writer_op");
}

/* Wait samples as metrics.c counts them: successful acquisitions, a downgrade = a 0 read wait. */
static int load_samples(struct ctx *c, struct fl_err *err)
{
	struct fl_report *r = c->r;
	sqlite3_stmt *st;
	size_t cap[2] = { 0, 0 };
	int rc;

	st = prep(c, "SELECT write, acquired_ns - start_ns, downgraded FROM lock_wait "
		  "WHERE capture = ? AND success AND acquired_ns IS NOT NULL AND acquired_ns != 0",
		  err);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int k = 0; k < 1 + sqlite3_column_int(st, 2); k++) {
			bool w = k == 0 && sqlite3_column_int(st, 0);
			struct fl_report_samples *s = w ? &r->write_waits : &r->read_waits;
			size_t *cp = &cap[w];
			int64_t v = k ? 0 : sqlite3_column_int64(st, 1);

			if (s->n == *cp) {
				*cp = *cp ? 2 * *cp : 1024;
				s->v = fl_realloc(s->v, *cp * sizeof(*s->v));
			}
			s->v[s->n++] = v > 0 ? (uint64_t)v : 0;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(c->db, err, "read lock_wait");
	if (r->read_waits.n)
		qsort(r->read_waits.v, r->read_waits.n, sizeof(uint64_t), fl_cmp_u64);
	if (r->write_waits.n)
		qsort(r->write_waits.v, r->write_waits.n, sizeof(uint64_t), fl_cmp_u64);
	return 0;
}

static void lane_add(struct fl_report *r, struct fl_report_lane *l, uint64_t s, uint64_t e,
		     enum fl_span_kind k)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->s = fl_realloc(l->s, l->cap * sizeof(*l->s));
	}
	l->s[l->n].start_ns = s > r->recon_first_ns ? s - r->recon_first_ns : 0;
	l->s[l->n].end_ns = e > s ? e - r->recon_first_ns : l->s[l->n].start_ns;
	l->s[l->n++].kind = (uint8_t)k;
}

/* Timelines of the top waiters, then of the threads with the most fault time. */
static int load_lanes(struct ctx *c, struct fl_err *err)
{
	struct fl_report *r = c->r;
	sqlite3_stmt *st, *qf, *qw, *qo;
	int rc;

	r->lanes = fl_calloc(LANES_N, sizeof(*r->lanes));
	for (size_t i = 0; i < r->waiters.n && r->nlanes < LANES_N; i++) {
		r->lanes[r->nlanes].tid = r->waiters.t[i].tid;
		r->lanes[r->nlanes].tgid = r->waiters.t[i].tgid;
		r->lanes[r->nlanes++].comm = fl_strdup(r->waiters.t[i].comm);
	}
	st = prep(c, "SELECT f.tid, coalesce(f.tgid, 0), t.comm, sum(f.end_ns - f.start_ns) FROM "
		  "fault f LEFT JOIN task t ON t.capture = f.capture AND t.tid = f.tid WHERE "
		  "f.capture = ? GROUP BY f.tid ORDER BY 4 DESC, 1 LIMIT 32", err);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->nlanes < LANES_N) {
		int32_t tid = sqlite3_column_int(st, 0);
		bool dup = false;

		for (size_t i = 0; i < r->nlanes; i++)
			dup |= r->lanes[i].tid == tid;
		if (dup)
			continue;
		r->lanes[r->nlanes].tid = tid;
		r->lanes[r->nlanes].tgid = sqlite3_column_int(st, 1);
		r->lanes[r->nlanes++].comm = col_str(st, 2);
	}
	sqlite3_finalize(st);

	qf = prep(c, "SELECT start_ns, end_ns, path FROM fault WHERE capture = ?1 AND tid = ?2 "
		  "ORDER BY id LIMIT ?3", err);
	qw = prep(c, "SELECT start_ns, acquired_ns, write FROM lock_wait WHERE capture = ?1 "
		  "AND tid = ?2 AND acquired_ns IS NOT NULL ORDER BY id LIMIT ?3", err);
	qo = prep(c, "SELECT acquired_ns, acquired_ns + write_hold_ns FROM writer_op "
		  "WHERE capture = ?1 AND tid = ?2 AND wrote AND acquired_ns IS NOT NULL "
		  "ORDER BY id LIMIT ?3", err);
	rc = -1;
	if (!qf || !qw || !qo)
		goto out;
	for (size_t i = 0; i < r->nlanes; i++) {
		struct fl_report_lane *l = &r->lanes[i];

		sqlite3_bind_int(qf, 2, l->tid);
		sqlite3_bind_int(qf, 3, LANE_SPANS);
		while (sqlite3_step(qf) == SQLITE_ROW) {
			const char *p = (const char *)sqlite3_column_text(qf, 2);
			enum fl_span_kind k = FL_SPAN_FAULT_MMAP;

			if (p && !strcmp(p, "vma"))
				k = FL_SPAN_FAULT;
			else if (p && !strncmp(p, "vma_retry", 9))
				k = FL_SPAN_FAULT_RETRY;
			lane_add(r, l, (uint64_t)sqlite3_column_int64(qf, 0),
				 (uint64_t)sqlite3_column_int64(qf, 1), k);
		}
		sqlite3_reset(qf);
		sqlite3_bind_int(qw, 2, l->tid);
		sqlite3_bind_int(qw, 3, LANE_SPANS);
		while (sqlite3_step(qw) == SQLITE_ROW) {
			bool w = sqlite3_column_int(qw, 2);

			lane_add(r, l, (uint64_t)sqlite3_column_int64(qw, 0),
				 (uint64_t)sqlite3_column_int64(qw, 1),
				 w ? FL_SPAN_WAIT_WRITE : FL_SPAN_WAIT_READ);
		}
		sqlite3_reset(qw);
		sqlite3_bind_int(qo, 2, l->tid);
		sqlite3_bind_int(qo, 3, LANE_SPANS);
		while (sqlite3_step(qo) == SQLITE_ROW)
			lane_add(r, l, (uint64_t)sqlite3_column_int64(qo, 0),
				 (uint64_t)sqlite3_column_int64(qo, 1), FL_SPAN_WRITER);
		sqlite3_reset(qo);
	}
	rc = 0;
out:
	sqlite3_finalize(qf);
	sqlite3_finalize(qw);
	sqlite3_finalize(qo);
	return rc;
}

static int load_reconstruction(struct fl_report *r, struct fl_db *db, struct fl_err *err)
{
	struct ctx c = { .r = r, .db = db, .sql = fl_db_sqlite(db) };
	int ret = -1;

	c.lw = prep(&c, "SELECT write, owner_kind, owner_id FROM lock_wait WHERE capture = ?1 "
		    "AND id = ?2", err);
	c.fault = prep(&c, "SELECT address, user, write, vma_kind, ino, page_index, path, "
		       "retry_drop FROM fault WHERE capture = ?1 AND id = ?2", err);
	c.op = prep(&c, "SELECT sys, arg0, arg1, child FROM writer_op WHERE capture = ?1 AND id = "
		    "?2",
		    err);
	c.file = prep(&c, "SELECT path FROM maps WHERE capture = ?1 AND inode = ?2 AND path "
		      "IS NOT NULL LIMIT 1", err);
	if (!c.lw || !c.fault || !c.op || !c.file)
		goto out;
	if (load_recon(&c, err) ||
	    load_top(&c, &r->waiters, 0, TOP_N, false, err) ||
	    load_top(&c, &r->blockers, 0, TOP_N, true, err))
		goto out;
	for (size_t i = 0; i < r->nprocs; i++)
		if (load_top(&c, &r->procs[i].waiters, r->procs[i].tgid, TOP_PROC_N, false, err) ||
		    load_top(&c, &r->procs[i].blockers, r->procs[i].tgid, TOP_PROC_N, true, err))
			goto out;
	if (load_forks(&c, err) || load_samples(&c, err) || load_lanes(&c, err))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(c.lw);
	sqlite3_finalize(c.fault);
	sqlite3_finalize(c.op);
	sqlite3_finalize(c.file);
	return ret;
}

static void top_release(struct fl_report_top *top)
{
	for (size_t i = 0; i < top->n; i++) {
		free(top->t[i].comm);
		free(top->t[i].doing);
	}
	free(top->t);
	memset(top, 0, sizeof(*top));
}

bool fl_report_faults_observed(const struct fl_report *r)
{
	return !r->recon || r->fault_tp;
}

bool fl_report_incomplete(const struct fl_report *r)
{
	return r->events_lost || !r->complete || r->m.anomalies || !r->recon;
}

int fl_report_load(struct fl_report *r, struct fl_db *db, int64_t capture, struct fl_err *err)
{
	memset(r, 0, sizeof(*r));
	if (capture <= 0) {
		capture = fl_db_latest_capture(db, err);
		if (capture < 0)
			return -1;
		if (capture == 0)
			return fl_seterr(err, "database '%s' holds no capture yet: "
					 "run 'faultlab ingest FILE --db %s' first",
					 fl_db_path(db), fl_db_path(db));
	}
	r->capture_id = capture;
	if (load_capture(r, db, err) || load_counts(r, db, err) ||
	    load_reconstruction(r, db, err)) {
		fl_report_release(r);
		return -1;
	}
	return 0;
}

/* ---- a model run ---------------------------------------------------------- */

/*
 * The replay_run row, then its capture's row (what was replayed), then the
 * metric rows: vocabulary names into r->m (fl_metrics_set), the model's own
 * into r->run_extra. A run with no vocabulary row is an error, not zeros.
 */
static int load_run(struct fl_report *r, struct fl_db *db, struct fl_err *err)
{
	sqlite3 *sql = fl_db_sqlite(db);
	sqlite3_stmt *st = NULL;
	const struct fl_value *v;
	size_t vocab = 0;
	int rc;

	if (sqlite3_prepare_v2(sql, "SELECT * FROM replay_run WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return fl_seterr(err, "database '%s' has no model runs (%s): 'faultlab replay "
				 "--model --db %s CAPTURE' makes them", fl_db_path(db),
				 sqlite3_errmsg(sql), fl_db_path(db));
	sqlite3_bind_int64(st, 1, r->run_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return fl_seterr(err, "database '%s' has no model run %" PRId64
					 ": 'sqlite3 %s \"SELECT id, policy FROM replay_run\"' "
					 "lists them",
					 fl_db_path(db), r->run_id, fl_db_path(db));
		return sqlfail(db, err, "read replay_run");
	}
	for (int c = 0; c < sqlite3_column_count(st); c++)
		column_value(&r->run, st, c);
	sqlite3_finalize(st);
	v = values_get(&r->run, "capture");
	r->capture_id = v && v->kind == FL_VAL_INT ? v->i : 0;
	if (load_capture(r, db, err))
		return -1;

	if (sqlite3_prepare_v2(sql, "SELECT name, value FROM metric WHERE run = ? ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlfail(db, err, "read metric");
	sqlite3_bind_int64(st, 1, r->run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		double x = sqlite3_column_double(st, 1);

		if (!name)
			continue;
		if (!fl_metrics_set(&r->m, name, x)) {
			vocab++;
		} else {
			struct fl_value *e = values_slot(&r->run_extra, name);

			e->kind = FL_VAL_REAL;
			e->r = x;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlfail(db, err, "read metric");
	if (!vocab)
		return fl_seterr(err, "model run %" PRId64 " in '%s' has no metric rows (an "
				 "interrupted replay?): run 'faultlab replay --model' again",
				 r->run_id, fl_db_path(db));

	/* What the writers ask of a capture, answered for a simulation. */
	r->recon = true;
	r->fault_tp = true;
	r->filemap_fault_tp = true;
	r->complete = true;
	r->faults_user = r->m.faults_user;
	r->faults_kernel = r->m.faults_kernel;
	r->forks_total = r->m.fork_count;
	v = values_get(&r->run, "kernel");
	if (v && v->kind == FL_VAL_STR &&
	    sscanf(v->s, "%d.%d", &r->kernel_major, &r->kernel_minor) != 2)
		r->kernel_major = r->kernel_minor = 0;
	r->vma_lock = r->m.path_vma + r->m.path_vma_retry_mmap + r->m.path_vma_retry_vma > 0;
	return 0;
}

int fl_report_load_run(struct fl_report *r, struct fl_db *db, int64_t run, struct fl_err *err)
{
	memset(r, 0, sizeof(*r));
	if (run <= 0)
		return fl_seterr(err, "'%" PRId64 "' is not a model run id (a positive number)",
				 run);
	r->run_id = run;
	if (load_run(r, db, err)) {
		fl_report_release(r);
		return -1;
	}
	return 0;
}

void fl_report_release(struct fl_report *r)
{
	values_release(&r->capture);
	values_release(&r->by_type);
	values_release(&r->metrics);
	values_release(&r->run);
	values_release(&r->run_extra);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->lost_cpu);
	for (size_t i = 0; i < r->nprocs; i++) {
		free(r->procs[i].comm);
		top_release(&r->procs[i].waiters);
		top_release(&r->procs[i].blockers);
	}
	free(r->procs);
	values_release(&r->anomalies);
	top_release(&r->waiters);
	top_release(&r->blockers);
	for (size_t i = 0; i < r->nforks; i++)
		free(r->forks[i].comm);
	free(r->forks);
	free(r->read_waits.v);
	free(r->write_waits.v);
	for (size_t i = 0; i < r->nlanes; i++) {
		free(r->lanes[i].comm);
		free(r->lanes[i].s);
	}
	free(r->lanes);
	free(r->fault_events_missing);
	memset(r, 0, sizeof(*r));
}

/* ---- writers ------------------------------------------------------------- */

void fl_json_str(struct fl_buf *out, const char *s)
{
	fl_buf_addstr(out, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fl_buf_addstr(out, "\\\""); break;
		case '\\': fl_buf_addstr(out, "\\\\"); break;
		case '\n': fl_buf_addstr(out, "\\n"); break;
		case '\t': fl_buf_addstr(out, "\\t"); break;
		case '\r': fl_buf_addstr(out, "\\r"); break;
		default:
			/* Control bytes escaped; bytes >= 0x80 that are not UTF-8 too. */
			if (*p < 0x20 || *p == 0x7f) {
				fl_buf_addf(out, "\\u%04x", *p);
			} else if (*p >= 0x80) {
				/* Valid UTF-8 passes; a stray byte becomes U+FFFD. */
				int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
					: (*p & 0xf8) == 0xf0 ? 4 : 0;
				int k = 1;

				while (n && k < n && (p[k] & 0xc0) == 0x80)
					k++;
				if (n && k == n) {
					fl_buf_add(out, p, n);
					p += n - 1;
				} else {
					fl_buf_addstr(out, "\\ufffd");
				}
			} else {
				fl_buf_add(out, p, 1);
			}
		}
	}
	fl_buf_addstr(out, "\"");
}

static void json_value(struct fl_buf *out, const struct fl_value *v)
{
	switch (v->kind) {
	case FL_VAL_INT: fl_buf_addf(out, "%" PRId64, v->i); break;
	case FL_VAL_REAL: fl_buf_addf(out, "%.6g", v->r); break;
	case FL_VAL_STR: fl_json_str(out, v->s); break;
	default: fl_buf_addstr(out, "null");
	}
}

static void json_object(struct fl_buf *out, const struct fl_values *vs, const char *indent)
{
	fl_buf_addstr(out, "{");
	for (size_t i = 0; i < vs->n; i++) {
		fl_buf_addf(out, "%s\n%s  ", i ? "," : "", indent);
		fl_json_str(out, vs->v[i].name);
		fl_buf_addstr(out, ": ");
		json_value(out, &vs->v[i]);
	}
	fl_buf_addf(out, "%s}", vs->n ? "\n  " : "");
}

/* The vocabulary (report/metrics.h) and then the extras, as one object. */
static void json_metrics(struct fl_buf *out, const struct fl_metrics *m,
			 const struct fl_values *extra, bool faults)
{
	struct fl_buf b = { 0 };

	fl_metrics_json_observed(m, faults, &b);
	/* fl_metrics_json gives {...}: open it up to append the extras */
	if (b.len >= 2 && b.data[b.len - 1] == '}')
		b.data[--b.len] = 0;
	fl_buf_addstr(out, b.data);
	for (size_t i = 0; extra && i < extra->n; i++) {
		fl_buf_addstr(out, ", ");
		fl_json_str(out, extra->v[i].name);
		fl_buf_addstr(out, ": ");
		json_value(out, &extra->v[i]);
	}
	fl_buf_addstr(out, "}");
	fl_buf_release(&b);
}

static void json_top(struct fl_buf *out, const struct fl_report_top *top, bool blockers)
{
	fl_buf_addstr(out, "[");
	for (size_t i = 0; i < top->n; i++) {
		const struct fl_report_thread *t = &top->t[i];

		fl_buf_addf(out, "%s\n    {\"tid\": %d, \"tgid\": %d, \"comm\": ", i ? "," : "",
			    t->tid, t->tgid);
		fl_json_str(out, t->comm);
		fl_buf_addf(out, ", \"prio\": %d, \"%s\": %" PRIu64 ", \"wait_us\": %.3f, "
			    "\"max_wait_us\": %.3f, ", t->prio, blockers ? "waits_caused" : "waits",
			    t->n, t->total_ns / 1000.0, t->max_ns / 1000.0);
		if (blockers)
			fl_buf_addf(out, "\"mode\": \"%s\", ", t->write ? "write" : "read");
		fl_buf_addstr(out, "\"doing\": ");
		fl_json_str(out, t->doing);
		fl_buf_addstr(out, "}");
	}
	fl_buf_addstr(out, top->n ? "\n  ]" : "]");
}

struct unavail {
	struct fl_buf *b;
	bool first;
};

/* Lists the base names (before any '.') of the metrics that need page-fault events, once. */
static void unavailable_name(void *arg, const char *name, double v)
{
	struct unavail *u = arg;
	size_t n = strcspn(name, ".");
	char last[64] = "";
	const char *q;

	(void)v;
	if (!fl_metrics_needs_faults(name))
		return;
	/* the previous entry written: skip the .p50/.p99/.max repeats */
	q = u->b->len ? strrchr(u->b->data, '"') : NULL;
	if (!u->first && q) {
		const char *o = q - 1;
		while (o > u->b->data && *o != '"')
			o--;
		snprintf(last, sizeof(last), "%.*s", (int)(q - o - 1), o + 1);
	}
	if (strlen(last) == n && !strncmp(last, name, n))
		return;
	fl_buf_addf(u->b, "%s\"%.*s\"", u->first ? "" : ", ", (int)n, name);
	u->first = false;
}

/* The extras under prefix ("retry_window.", "model.") as one object, prefix stripped. */
static void json_extras(struct fl_buf *out, const struct fl_values *vs, const char *prefix)
{
	size_t n = strlen(prefix);
	bool first = true;

	fl_buf_addstr(out, "{");
	for (size_t i = 0; i < vs->n; i++) {
		double v = vs->v[i].r;

		if (strncmp(vs->v[i].name, prefix, n))
			continue;
		fl_buf_addstr(out, first ? "" : ", ");
		fl_json_str(out, vs->v[i].name + n);
		/* as replay/run-metrics.c prints them */
		if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
			fl_buf_addf(out, ": %lld", (long long)v);
		else
			fl_buf_addf(out, ": %.3f", v);
		first = false;
	}
	fl_buf_addstr(out, "}");
}

static void run_json(const struct fl_report *r, struct fl_buf *out)
{
	fl_buf_addstr(out, "{\n  \"run\": ");
	json_object(out, &r->run, "  ");
	fl_buf_addstr(out, ",\n  \"capture\": ");
	json_object(out, &r->capture, "  ");
	fl_buf_addstr(out, ",\n  \"metrics\": ");
	fl_metrics_json(&r->m, out);
	fl_buf_addstr(out, ",\n  \"retry_window\": ");
	json_extras(out, &r->run_extra, "retry_window.");
	fl_buf_addstr(out, ",\n  \"model\": ");
	json_extras(out, &r->run_extra, "model.");
	fl_buf_addstr(out, "\n}\n");
}

void fl_report_json(const struct fl_report *r, struct fl_buf *out)
{
	if (r->run_id) {
		run_json(r, out);
		return;
	}
	fl_buf_addstr(out, "{\n  \"capture\": ");
	json_object(out, &r->capture, "  ");
	fl_buf_addstr(out, ",\n  \"events_by_type\": ");
	json_object(out, &r->by_type, "  ");
	fl_buf_addf(out, ",\n  \"lost\": {\"events\": %" PRIu64 ", \"per_cpu\": [", r->events_lost);
	for (int c = 0; c < r->ncpus; c++)
		fl_buf_addf(out, "%s%" PRIu64, c ? ", " : "", r->lost_cpu[c]);
	fl_buf_addstr(out, "]},\n  \"warnings\": [");
	for (size_t i = 0; i < r->nwarnings; i++) {
		fl_buf_addstr(out, i ? ", " : "");
		fl_json_str(out, r->warnings[i]);
	}
	fl_buf_addstr(out, "],\n  \"metrics\": ");
	json_metrics(out, &r->m, &r->metrics, fl_report_faults_observed(r));
	fl_buf_addf(out, ",\n  \"trace_complete\": %s", fl_report_incomplete(r) ? "false" : "true");
	fl_buf_addf(out, ",\n  \"reconstruction\": {\"kernel\": \"%d.%d\", \"vma_lock\": %s, "
		    "\"filemap_fault_tp\": %s, \"fault_tp\": %s}", r->kernel_major, r->kernel_minor,
		    r->vma_lock ? "true" : "false", r->filemap_fault_tp ? "true" : "false",
		    r->fault_tp ? "true" : "false");
	if (!fl_report_faults_observed(r)) {
		/* what is missing and what it costs, for a reader of the JSON alone */
		struct unavail u = { out, true };

		out->len -= 1;	/* reopen the object */
		out->data[out->len] = 0;
		fl_buf_addstr(out, ",\n    \"fault_events_missing\": ");
		fl_json_str(out, r->fault_events_missing ? r->fault_events_missing : "");
		fl_buf_addstr(out, ",\n    \"unavailable_metrics\": [");
		fl_metrics_foreach(&r->m, unavailable_name, &u);
		fl_buf_addstr(out, "]}");
	}
	fl_buf_addstr(out, ",\n  \"anomalies\": ");
	json_object(out, &r->anomalies, "  ");
	fl_buf_addstr(out, ",\n  \"processes\": [");
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct fl_report_proc *p = &r->procs[i];

		fl_buf_addf(out, "%s\n    {\"tgid\": %d, \"comm\": ", i ? "," : "", p->tgid);
		fl_json_str(out, p->comm);
		fl_buf_addf(out, ", \"threads\": %u,\n     \"metrics\": ", p->threads);
		json_metrics(out, &p->m, NULL, fl_report_faults_observed(r));
		fl_buf_addstr(out, ",\n     \"top_waiters\": ");
		json_top(out, &p->waiters, false);
		fl_buf_addstr(out, ",\n     \"top_blockers\": ");
		json_top(out, &p->blockers, true);
		fl_buf_addstr(out, "}");
	}
	fl_buf_addstr(out, r->nprocs ? "\n  ]" : "]");
	fl_buf_addstr(out, ",\n  \"top_waiters\": ");
	json_top(out, &r->waiters, false);
	fl_buf_addstr(out, ",\n  \"top_blockers\": ");
	json_top(out, &r->blockers, true);
	fl_buf_addf(out, ",\n  \"forks_total\": %zu,\n  \"forks\": [", r->forks_total);
	for (size_t i = 0; i < r->nforks; i++) {
		const struct fl_report_fork *f = &r->forks[i];

		fl_buf_addf(out, "%s\n    {\"tid\": %d, \"tgid\": %d, \"comm\": ", i ? "," : "",
			    f->tid, f->tgid);
		fl_json_str(out, f->comm);
		fl_buf_addf(out, ", \"child\": %d, \"time_ns\": %" PRIu64 ", "
			    "\"write_wait_us\": %.3f, \"write_hold_us\": %.3f, "
			    "\"blocked_us\": %.3f, \"waiters\": %" PRIu64 ", "
			    "\"waiters_wait_us\": %.3f}", f->child,
			    f->enter_ns, f->wait_ns / 1000.0, f->hold_ns / 1000.0,
			    f->blocked_ns / 1000.0, f->waiters, f->waiters_ns / 1000.0);
	}
	fl_buf_addstr(out, r->nforks ? "\n  ]\n}\n" : "]\n}\n");
}
