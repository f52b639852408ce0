/*
 * metrics.c - the DESIGN.md metric vocabulary from reconstructed rows.
 *
 * An accumulator keeps one bucket for the whole capture and one per process
 * (tgid); each row updates the whole-capture bucket and its process's. Wait
 * and latency samples are kept (as ns) for the nearest-rank percentiles, so
 * memory is 8 bytes per acquisition and per fault in each of the two buckets
 * it lands in. Results are in µs as doubles; counts are exact.
 */
#include "report/metrics.h"
#include "db/recon-map.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct samples {
	uint64_t *v;
	size_t n, cap;
};

struct bucket {
	int32_t tgid;
	struct fl_metrics m;
	struct samples rw, ww, lat;		/* read waits, write waits, fault latencies (ns) */
	uint64_t io_ns, io_locked_ns, fork_hold_ns, fork_blocked_ns;
	uint64_t first_ns, last_ns;		/* span of its rows */
	bool any;
};

struct fl_metrics_acc {
	struct bucket **b;			/* b[0] = whole capture */
	size_t n, cap;
	struct fl_u64map idx;			/* tgid -> index */
	int32_t *tgids;
	bool span_set;
};

int fl_metrics_hist_bin(uint64_t ns)
{
	static const uint64_t edge[FL_HIST_BINS - 1] = {
		1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
	};
	int i = 0;

	while (i < FL_HIST_BINS - 1 && ns >= edge[i])
		i++;
	return i;
}

static void push(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = fl_realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = v;
}

static struct bucket *bucket_new(int32_t tgid)
{
	struct bucket *b = fl_calloc(1, sizeof(*b));

	b->tgid = tgid;
	b->m.tgid = tgid;
	return b;
}

struct fl_metrics_acc *fl_metrics_acc_new(void)
{
	struct fl_metrics_acc *a = fl_calloc(1, sizeof(*a));

	a->cap = 16;
	a->b = fl_calloc(a->cap, sizeof(*a->b));
	a->b[a->n++] = bucket_new(0);
	return a;
}

static struct bucket *proc(struct fl_metrics_acc *a, int32_t tgid)
{
	bool created;
	uint64_t *slot;

	if (tgid <= 0)
		return NULL;
	slot = fl_u64map_put(&a->idx, (uint64_t)tgid, &created);
	if (!created)
		return a->b[*slot];
	if (a->n == a->cap) {
		a->cap *= 2;
		a->b = fl_realloc(a->b, a->cap * sizeof(*a->b));
	}
	a->b[a->n] = bucket_new(tgid);
	*slot = a->n;
	return a->b[a->n++];
}

static void span(struct bucket *b, uint64_t s, uint64_t e)
{
	if (!b->any || s < b->first_ns)
		b->first_ns = s;
	if (!b->any || e > b->last_ns)
		b->last_ns = e;
	b->any = true;
}

void fl_metrics_count_fault(struct fl_metrics *m, bool user, bool major, int path,
			    uint64_t retry_drop, uint64_t retry_io_miss)
{
	if (user)
		m->faults_user++;
	else
		m->faults_kernel++;
	m->faults_major += major;
	switch (path) {
	case FL_PATH_VMA: m->path_vma++; break;
	case FL_PATH_VMA_RETRY_MMAP: m->path_vma_retry_mmap++; break;
	case FL_PATH_VMA_RETRY_VMA: m->path_vma_retry_vma++; break;
	case FL_PATH_MMAP: m->path_mmap++; break;
	default: m->path_unknown++; break;
	}
	m->retry_drop += retry_drop;
	m->retry_io_miss += retry_io_miss;
}

static void add_fault(struct bucket *b, const struct fl_fault *f)
{
	fl_metrics_count_fault(&b->m, f->user, f->major, f->path, f->retry_drop,
			       f->retry_io_miss);
	b->io_ns += f->io_wait_ns;
	b->io_locked_ns += f->io_wait_locked_ns;
	if (!(f->flags & FL_FF_UNFINISHED))
		push(&b->lat, f->end_ns - f->start_ns);
	if (f->anomalies)
		b->m.anomalies++;
	span(b, f->start_ns, f->end_ns);
}

void fl_metrics_acc_fault(struct fl_metrics_acc *a, const struct fl_fault *f)
{
	struct bucket *p = proc(a, f->tgid);

	add_fault(a->b[0], f);
	if (p)
		add_fault(p, f);
}

static void add_wait(struct bucket *b, const struct fl_lock_wait *w)
{
	struct fl_metrics *m = &b->m;

	if (w->anomalies)
		m->anomalies++;
	span(b, w->start_ns, w->released_ns ? w->released_ns : w->acquired_ns);
	if (!w->success || !w->acquired_ns)
		return;
	if (w->write) {
		m->mmap_write_acq++;
		push(&b->ww, w->acquired_ns - w->start_ns);
	} else {
		m->mmap_read_acq++;
		push(&b->rw, w->acquired_ns - w->start_ns);
	}
	if (w->downgraded) {
		/* the downgrade is a read acquisition that did not wait (engine/README.md) */
		m->mmap_read_acq++;
		push(&b->rw, 0);
	}
	if (w->chain >= 2)
		m->chained_waits++;
	if (w->chain > m->max_chain)
		m->max_chain = w->chain;
	m->inversions += w->inversion;
}

void fl_metrics_acc_lock_wait(struct fl_metrics_acc *a, const struct fl_lock_wait *w)
{
	struct bucket *p = proc(a, w->tgid);

	add_wait(a->b[0], w);
	if (p)
		add_wait(p, w);
}

static bool is_fork(const struct fl_writer_op *op)
{
	return op->sys == FL_SYS_CLONE || op->sys == FL_SYS_CLONE3 || op->sys == FL_SYS_FORK ||
	       op->sys == FL_SYS_VFORK;
}

static void add_op(struct bucket *b, const struct fl_writer_op *op)
{
	/* a fork copies the address space under the parent's write lock (dup_mmap);
	 * a thread-creating clone shares the mm and takes no write lock */
	if (is_fork(op) && op->wrote) {
		b->m.fork_count++;
		b->fork_hold_ns += op->write_hold_ns;
		b->fork_blocked_ns += op->blocked_ns;
	}
	if (op->anomalies)
		b->m.anomalies++;
	span(b, op->enter_ns, op->exit_ns ? op->exit_ns : op->enter_ns);
}

void fl_metrics_acc_writer_op(struct fl_metrics_acc *a, const struct fl_writer_op *op)
{
	struct bucket *p = proc(a, op->tgid);

	add_op(a->b[0], op);
	if (p)
		add_op(p, op);
}

void fl_metrics_acc_capture(struct fl_metrics_acc *a, uint64_t first_ns, uint64_t last_ns,
			    uint64_t anomalies)
{
	a->b[0]->first_ns = first_ns;
	a->b[0]->last_ns = last_ns;
	a->b[0]->any = true;
	a->span_set = true;
	a->b[0]->m.anomalies = anomalies;
}

/* Nearest rank: the smallest value with at least q of the samples at or below it. */
static double rank_us(const struct samples *s, double q)
{
	size_t k;

	if (!s->n)
		return 0;
	k = (size_t)(q * (double)s->n + 0.999999999);
	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return (double)s->v[k - 1] / 1000.0;
}

static void wait_stat(struct samples *s, struct fl_wait_stat *st, uint64_t *hist)
{
	uint64_t total = 0;

	memset(st, 0, sizeof(*st));
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), fl_cmp_u64);
	for (size_t i = 0; i < s->n; i++) {
		total += s->v[i];
		if (hist)
			hist[fl_metrics_hist_bin(s->v[i])]++;
	}
	st->total = (double)total / 1000.0;
	st->avg = st->total / (double)s->n;
	st->p50 = rank_us(s, 0.50);
	st->p99 = rank_us(s, 0.99);
	st->max = (double)s->v[s->n - 1] / 1000.0;
}

int fl_metrics_acc_result(struct fl_metrics_acc *a, int32_t tgid, struct fl_metrics *out)
{
	struct bucket *b;
	struct fl_wait_stat lat;
	uint64_t *slot;

	if (tgid > 0) {
		slot = fl_u64map_get(&a->idx, (uint64_t)tgid);
		if (!slot)
			return -1;
		b = a->b[*slot];
	} else {
		b = a->b[0];
	}
	*out = b->m;
	memset(out->mmap_read_wait_hist, 0, sizeof(out->mmap_read_wait_hist));
	memset(out->mmap_write_wait_hist, 0, sizeof(out->mmap_write_wait_hist));
	wait_stat(&b->rw, &out->mmap_read_wait_us, out->mmap_read_wait_hist);
	wait_stat(&b->ww, &out->mmap_write_wait_us, out->mmap_write_wait_hist);
	wait_stat(&b->lat, &lat, NULL);
	out->fault_latency_p50_us = lat.p50;
	out->fault_latency_p99_us = lat.p99;
	out->fault_latency_max_us = lat.max;
	out->miss_drop_pct = out->retry_drop ? 100.0 * (double)out->retry_io_miss /
						       (double)out->retry_drop : 0;
	out->io_wait_us = (double)b->io_ns / 1000.0;
	out->io_wait_locked_us = (double)b->io_locked_ns / 1000.0;
	out->fork_hold_us = (double)b->fork_hold_ns / 1000.0;
	out->fork_blocked_us = (double)b->fork_blocked_ns / 1000.0;
	out->makespan_us = b->any ? (double)(b->last_ns - b->first_ns) / 1000.0 : 0;
	return 0;
}

static int cmp_i32(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;

	return a < b ? -1 : a > b;
}

const int32_t *fl_metrics_acc_tgids(struct fl_metrics_acc *a, size_t *n)
{
	free(a->tgids);
	a->tgids = fl_calloc(a->n, sizeof(*a->tgids));
	for (size_t i = 1; i < a->n; i++)
		a->tgids[i - 1] = a->b[i]->tgid;
	*n = a->n - 1;
	qsort(a->tgids, *n, sizeof(*a->tgids), cmp_i32);
	return a->tgids;
}

void fl_metrics_acc_free(struct fl_metrics_acc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->b[i]->rw.v);
		free(a->b[i]->ww.v);
		free(a->b[i]->lat.v);
		free(a->b[i]);
	}
	free(a->b);
	free(a->tgids);
	fl_u64map_release(&a->idx);
	free(a);
}

/* ---- from the database ------------------------------------------------- */

static int path_of(const char *s)
{
	for (int p = 0; p < FL_PATH__COUNT; p++)
		if (s && !strcmp(s, fl_fault_path_name(p)))
			return p;
	return FL_PATH_UNKNOWN;
}

static int sys_of(const char *s)
{
	for (int i = 1; i < FL_SYS__COUNT; i++)
		if (s && !strcmp(s, fl_sys_name(i)))
			return i;
	return FL_SYS_NONE;
}

struct fl_metrics_acc *fl_metrics_load_db(sqlite3 *db, int64_t capture, struct fl_err *err)
{
	struct fl_metrics_acc *a = fl_metrics_acc_new();
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT tgid, user, major, path, retry_drop, retry_io_miss, "
			       "io_wait_ns, io_wait_locked_ns, start_ns, end_ns, unfinished, "
			       "anomalies IS NOT NULL FROM fault WHERE capture = ?", -1, &q, NULL))
		goto sqlfail;
	sqlite3_bind_int64(q, 1, capture);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fl_fault f = { 0 };
		f.tgid = sqlite3_column_int(q, 0);
		f.user = sqlite3_column_int(q, 1);
		f.major = sqlite3_column_int(q, 2);
		f.path = (uint8_t)path_of((const char *)sqlite3_column_text(q, 3));
		f.retry_drop = (uint16_t)sqlite3_column_int(q, 4);
		f.retry_io_miss = (uint16_t)sqlite3_column_int(q, 5);
		f.io_wait_ns = (uint64_t)sqlite3_column_int64(q, 6);
		f.io_wait_locked_ns = (uint64_t)sqlite3_column_int64(q, 7);
		f.start_ns = (uint64_t)sqlite3_column_int64(q, 8);
		f.end_ns = (uint64_t)sqlite3_column_int64(q, 9);
		if (sqlite3_column_int(q, 10))
			f.flags |= FL_FF_UNFINISHED;
		f.anomalies = sqlite3_column_int(q, 11);
		fl_metrics_acc_fault(a, &f);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	if (sqlite3_prepare_v2(db, "SELECT tgid, write, success, downgraded, start_ns, "
			       "coalesce(acquired_ns, 0), coalesce(released_ns, 0), chain, inversion, "
			       "anomalies IS NOT NULL FROM lock_wait WHERE capture = ?", -1, &q, NULL))
		goto sqlfail;
	sqlite3_bind_int64(q, 1, capture);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fl_lock_wait w = { 0 };
		w.tgid = sqlite3_column_int(q, 0);
		w.write = sqlite3_column_int(q, 1);
		w.success = sqlite3_column_int(q, 2);
		w.downgraded = sqlite3_column_int(q, 3);
		w.start_ns = (uint64_t)sqlite3_column_int64(q, 4);
		w.acquired_ns = (uint64_t)sqlite3_column_int64(q, 5);
		w.released_ns = (uint64_t)sqlite3_column_int64(q, 6);
		w.chain = (uint16_t)sqlite3_column_int(q, 7);
		w.inversion = sqlite3_column_int(q, 8);
		w.anomalies = sqlite3_column_int(q, 9);
		fl_metrics_acc_lock_wait(a, &w);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	if (sqlite3_prepare_v2(db, "SELECT tgid, sys, wrote, write_hold_ns, blocked_ns, enter_ns, "
			       "coalesce(exit_ns, 0), anomalies IS NOT NULL FROM writer_op "
			       "WHERE capture = ?", -1, &q, NULL))
		goto sqlfail;
	sqlite3_bind_int64(q, 1, capture);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fl_writer_op op = { 0 };
		op.tgid = sqlite3_column_int(q, 0);
		op.sys = (uint16_t)sys_of((const char *)sqlite3_column_text(q, 1));
		op.wrote = sqlite3_column_int(q, 2);
		op.write_hold_ns = (uint64_t)sqlite3_column_int64(q, 3);
		op.blocked_ns = (uint64_t)sqlite3_column_int64(q, 4);
		op.enter_ns = (uint64_t)sqlite3_column_int64(q, 5);
		op.exit_ns = (uint64_t)sqlite3_column_int64(q, 6);
		op.anomalies = sqlite3_column_int(q, 7);
		fl_metrics_acc_writer_op(a, &op);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(r.first_ns, 0), coalesce(r.last_ns, 0), "
			       "(SELECT coalesce(sum(count), 0) FROM recon_anomaly WHERE capture = ?1) "
			       "FROM recon r WHERE r.capture = ?1", -1, &q, NULL))
		goto sqlfail;
	sqlite3_bind_int64(q, 1, capture);
	if (sqlite3_step(q) == SQLITE_ROW)
		fl_metrics_acc_capture(a, (uint64_t)sqlite3_column_int64(q, 0),
				       (uint64_t)sqlite3_column_int64(q, 1),
				       (uint64_t)sqlite3_column_int64(q, 2));
	sqlite3_finalize(q);
	return a;
sqlfail:
	fl_seterr(err, "cannot read the reconstruction of capture %lld: %s (re-ingest it with "
		  "this faultlab)", (long long)capture, sqlite3_errmsg(db));
	fl_metrics_acc_free(a);
	return NULL;
}

/* ---- output -------------------------------------------------------------- */

struct emit {
	void (*fn)(void *arg, const char *name, double value);
	void *arg;
};

static void stat_items(const struct emit *e, const char *name, const struct fl_wait_stat *s)
{
	char key[64];
	const char *sub[5] = { "total", "avg", "p50", "p99", "max" };
	const double v[5] = { s->total, s->avg, s->p50, s->p99, s->max };

	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "%s.%s", name, sub[i]);
		e->fn(e->arg, key, v[i]);
	}
}

static void hist_items(const struct emit *e, const char *name, const uint64_t *h)
{
	char key[64];

	for (int i = 0; i < FL_HIST_BINS; i++) {
		snprintf(key, sizeof(key), "%s.%d", name, i);
		e->fn(e->arg, key, (double)h[i]);
	}
}

void fl_metrics_foreach(const struct fl_metrics *m,
			void (*fn)(void *arg, const char *name, double value), void *arg)
{
	const struct emit e = { fn, arg };

	fn(arg, "faults_user", (double)m->faults_user);
	fn(arg, "faults_kernel", (double)m->faults_kernel);
	fn(arg, "faults_major", (double)m->faults_major);
	fn(arg, "path_vma", (double)m->path_vma);
	fn(arg, "path_vma_retry_mmap", (double)m->path_vma_retry_mmap);
	fn(arg, "path_vma_retry_vma", (double)m->path_vma_retry_vma);
	fn(arg, "path_mmap", (double)m->path_mmap);
	fn(arg, "path_unknown", (double)m->path_unknown);
	fn(arg, "retry_drop", (double)m->retry_drop);
	fn(arg, "retry_io_miss", (double)m->retry_io_miss);
	fn(arg, "miss_drop_pct", m->miss_drop_pct);
	fn(arg, "mmap_read_acq", (double)m->mmap_read_acq);
	fn(arg, "mmap_write_acq", (double)m->mmap_write_acq);
	stat_items(&e, "mmap_read_wait_us", &m->mmap_read_wait_us);
	stat_items(&e, "mmap_write_wait_us", &m->mmap_write_wait_us);
	hist_items(&e, "mmap_read_wait_hist", m->mmap_read_wait_hist);
	hist_items(&e, "mmap_write_wait_hist", m->mmap_write_wait_hist);
	fn(arg, "io_wait_us", m->io_wait_us);
	fn(arg, "io_wait_locked_us", m->io_wait_locked_us);
	fn(arg, "fault_latency_us.p50", m->fault_latency_p50_us);
	fn(arg, "fault_latency_us.p99", m->fault_latency_p99_us);
	fn(arg, "fault_latency_us.max", m->fault_latency_max_us);
	fn(arg, "fork_count", (double)m->fork_count);
	fn(arg, "fork_hold_us", m->fork_hold_us);
	fn(arg, "fork_blocked_us", m->fork_blocked_us);
	fn(arg, "chained_waits", (double)m->chained_waits);
	fn(arg, "max_chain", (double)m->max_chain);
	fn(arg, "inversions", (double)m->inversions);
	fn(arg, "makespan_us", m->makespan_us);
	fn(arg, "anomalies", (double)m->anomalies);
}

/* ---- setting by name (the inverse of fl_metrics_foreach) -------------------- */

static bool set_stat(struct fl_wait_stat *s, const char *sub, double v)
{
	double *f = !strcmp(sub, "total") ? &s->total : !strcmp(sub, "avg") ? &s->avg :
		    !strcmp(sub, "p50") ? &s->p50 : !strcmp(sub, "p99") ? &s->p99 :
		    !strcmp(sub, "max") ? &s->max : NULL;

	if (f)
		*f = v;
	return f != NULL;
}

static bool set_hist(uint64_t *h, const char *sub, double v)
{
	if (sub[0] < '0' || sub[0] >= '0' + FL_HIST_BINS || sub[1])
		return false;
	h[sub[0] - '0'] = v > 0 ? (uint64_t)v : 0;
	return true;
}

static uint64_t count_of(double v)
{
	return v > 0 ? (uint64_t)(v + 0.5) : 0;
}

int fl_metrics_set(struct fl_metrics *m, const char *name, double v)
{
	static const struct {
		const char *name;
		size_t off;
		bool real;
	} scalars[] = {
#define C(f) { #f, offsetof(struct fl_metrics, f), false }
#define R(f) { #f, offsetof(struct fl_metrics, f), true }
		C(faults_user), C(faults_kernel), C(faults_major), C(path_vma),
		C(path_vma_retry_mmap), C(path_vma_retry_vma), C(path_mmap), C(path_unknown),
		C(retry_drop), C(retry_io_miss), R(miss_drop_pct), C(mmap_read_acq),
		C(mmap_write_acq), R(io_wait_us), R(io_wait_locked_us), C(fork_count),
		R(fork_hold_us), R(fork_blocked_us), C(chained_waits), C(max_chain),
		C(inversions), R(makespan_us), C(anomalies),
		{ "fault_latency_us.p50", offsetof(struct fl_metrics, fault_latency_p50_us), true },
		{ "fault_latency_us.p99", offsetof(struct fl_metrics, fault_latency_p99_us), true },
		{ "fault_latency_us.max", offsetof(struct fl_metrics, fault_latency_max_us), true },
#undef C
#undef R
	};
	const char *dot = strchr(name, '.');

	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		char *f = (char *)m + scalars[i].off;

		if (strcmp(name, scalars[i].name))
			continue;
		if (scalars[i].real)
			*(double *)f = v;
		else
			*(uint64_t *)f = count_of(v);
		return 0;
	}
	if (!dot)
		return -1;
#define PREFIX(p) ((size_t)(dot - name) == strlen(p) && !strncmp(name, p, strlen(p)))
	if (PREFIX("mmap_read_wait_us"))
		return set_stat(&m->mmap_read_wait_us, dot + 1, v) ? 0 : -1;
	if (PREFIX("mmap_write_wait_us"))
		return set_stat(&m->mmap_write_wait_us, dot + 1, v) ? 0 : -1;
	if (PREFIX("mmap_read_wait_hist"))
		return set_hist(m->mmap_read_wait_hist, dot + 1, v) ? 0 : -1;
	if (PREFIX("mmap_write_wait_hist"))
		return set_hist(m->mmap_write_wait_hist, dot + 1, v) ? 0 : -1;
#undef PREFIX
	return -1;
}

static void num(struct fl_buf *b, double v)
{
	if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
		fl_buf_addf(b, "%lld", (long long)v);
	else
		fl_buf_addf(b, "%.3f", v);
}

/*
 * JSON nesting follows the names: "a.b" keys become {"a": {"b": ...}} and
 * histogram "h.N" keys an array "h": [...]. Keys arrive grouped by prefix.
 */
struct jstate {
	struct fl_buf *b;
	char group[64];
	bool array, first, gfirst;
	bool no_faults;			/* null for the metrics that need page-fault events */
};

static void jclose(struct jstate *j)
{
	if (j->group[0])
		fl_buf_addstr(j->b, j->array ? "]" : "}");
	j->group[0] = 0;
}

static void jitem(void *arg, const char *name, double v)
{
	struct jstate *j = arg;
	const char *dot = strchr(name, '.');
	size_t glen = dot ? (size_t)(dot - name) : 0;

	if (j->group[0] && (!dot || strncmp(j->group, name, glen) || j->group[glen]))
		jclose(j);
	if (dot && !j->group[0]) {
		snprintf(j->group, sizeof(j->group), "%.*s", (int)glen, name);
		j->array = dot[1] >= '0' && dot[1] <= '9';
		fl_buf_addf(j->b, "%s\"%s\": %s", j->first ? "" : ", ", j->group, j->array ? "[" : "{");
		j->first = false;
		j->gfirst = true;
	}
	if (dot) {
		if (!j->gfirst)
			fl_buf_addstr(j->b, ", ");
		if (!j->array)
			fl_buf_addf(j->b, "\"%s\": ", dot + 1);
		j->gfirst = false;
	} else {
		fl_buf_addf(j->b, "%s\"%s\": ", j->first ? "" : ", ", name);
		j->first = false;
	}
	if (j->no_faults && fl_metrics_needs_faults(name))
		fl_buf_addstr(j->b, "null");
	else
		num(j->b, v);
}

bool fl_metrics_needs_faults(const char *name)
{
	static const char *const names[] = {
		"faults_user", "faults_kernel", "faults_major", "path_vma", "path_vma_retry_mmap",
		"path_vma_retry_vma", "path_mmap", "path_unknown", "retry_drop", "retry_io_miss",
		"miss_drop_pct", "io_wait_us", "io_wait_locked_us", "fault_latency_us",
	};
	size_t n = strcspn(name, ".");

	for (size_t i = 0; i < FL_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !strncmp(names[i], name, n))
			return true;
	return false;
}

void fl_metrics_json_observed(const struct fl_metrics *m, bool faults, struct fl_buf *out)
{
	struct jstate j = { .b = out, .first = true, .no_faults = !faults };

	fl_buf_addstr(out, "{");
	fl_metrics_foreach(m, jitem, &j);
	jclose(&j);
	fl_buf_addstr(out, "}");
}

void fl_metrics_json(const struct fl_metrics *m, struct fl_buf *out)
{
	fl_metrics_json_observed(m, true, out);
}
