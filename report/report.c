/*
 * report.c - loading and rendering the report of one capture.
 *
 * The report is computed from the database only (never from the capture
 * file), so it describes exactly what was ingested. Its metrics follow the
 * vocabulary of DESIGN.md: this stage provides faults_user and faults_kernel,
 * the page-fault exceptions of the recorded processes. "Recorded" means:
 * events of the capture's main tracefs instance (event.inst = 0) from tasks
 * marked followed. In command mode the main instance is pid-filtered to the
 * followed process tree, and an extra unfiltered instance (inst 1) carries
 * other tasks' events, which never count; in system mode (and for a trace.dat,
 * whose buffers are all the user's) every event counts.
 *
 * Units: times in ns of the trace clock, sizes in bytes.
 */
#include <inttypes.h>
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
		struct fl_value *x;

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
		x = values_slot(&r->capture, name);
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

	fl_report_metric_int(r, "faults_user", (int64_t)r->faults_user);
	fl_report_metric_int(r, "faults_kernel", (int64_t)r->faults_kernel);
	fl_report_metric_int(r, "tasks", (int64_t)r->tasks_followed);
	fl_report_metric_int(r, "events", (int64_t)r->events);
	fl_report_metric_int(r, "events_lost", (int64_t)r->events_lost);
	return 0;
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
	if (load_capture(r, db, err) || load_counts(r, db, err)) {
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
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->lost_cpu);
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

void fl_report_json(const struct fl_report *r, struct fl_buf *out)
{
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
	json_object(out, &r->metrics, "  ");
	fl_buf_addstr(out, "\n}\n");
}

static const char *cap_str(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = values_get(&r->capture, name);

	return v && v->kind == FL_VAL_STR ? v->s : "?";
}

static int64_t cap_int(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = values_get(&r->capture, name);

	return v && v->kind == FL_VAL_INT ? v->i : -1;
}

void fl_report_text(const struct fl_report *r, struct fl_buf *out)
{
	int64_t dur = cap_int(r, "duration_ns");

	fl_buf_addf(out, "capture %" PRId64 ": %s\n", r->capture_id, cap_str(r, "path"));
	fl_buf_addf(out, "  kernel    %s %s, %" PRId64 " cpus, clock %s\n",
		    cap_str(r, "uname_release"), cap_str(r, "arch"), cap_int(r, "cpus"),
		    cap_str(r, "clock"));
	fl_buf_addf(out, "  mode      %s%s%s\n", cap_str(r, "mode"),
		    values_get(&r->capture, "cmdline") &&
		    values_get(&r->capture, "cmdline")->kind == FL_VAL_STR ? ": " : "",
		    values_get(&r->capture, "cmdline") &&
		    values_get(&r->capture, "cmdline")->kind == FL_VAL_STR
			    ? cap_str(r, "cmdline") : "");
	if (dur >= 0)
		fl_buf_addf(out, "  duration  %.3f s\n", dur / 1e9);
	fl_buf_addf(out, "  events    %" PRIu64 ", lost %" PRIu64 "%s\n", r->events,
		    r->events_lost, r->complete ? "" : r->truncated ? " (file truncated)"
									: " (file damaged)");
	for (size_t i = 0; i < r->nwarnings; i++)
		fl_buf_addf(out, "  warning   %s\n", r->warnings[i]);
	fl_buf_addstr(out, "\nevents by type\n");
	for (size_t i = 0; i < r->by_type.n; i++)
		fl_buf_addf(out, "  %-48s %12" PRId64 "\n", r->by_type.v[i].name,
			    r->by_type.v[i].i);
	if (r->events_lost) {
		fl_buf_addstr(out, "\nlost events per cpu\n");
		for (int c = 0; c < r->ncpus; c++)
			if (r->lost_cpu[c])
				fl_buf_addf(out, "  cpu %-4d %12" PRIu64 "\n", c, r->lost_cpu[c]);
	}
	fl_buf_addstr(out, "\nmetrics\n");
	for (size_t i = 0; i < r->metrics.n; i++) {
		const struct fl_value *v = &r->metrics.v[i];

		if (v->kind == FL_VAL_INT)
			fl_buf_addf(out, "  %-24s %12" PRId64 "\n", v->name, v->i);
		else if (v->kind == FL_VAL_REAL)
			fl_buf_addf(out, "  %-24s %12.3f\n", v->name, v->r);
		else if (v->kind == FL_VAL_STR)
			fl_buf_addf(out, "  %-24s %12s\n", v->name, v->s);
	}
}
