/*
 * run-metrics.c - a model run's numbers in the DESIGN.md vocabulary.
 *
 * Same definitions as report/metrics.c computes from reconstructed rows
 * (engine/README.md "Metrics"): acquisitions are successful mmap_lock
 * acquisitions including trylock successes, downgrades are zero-wait reads,
 * waits are acquire - start, percentiles nearest-rank, fault latency from the
 * fault's start (after its think time) to its completion, makespan the end of
 * the last thread. Unlike a capture, a model knows when each fault ends, so
 * its latencies are exact rather than lower bounds.
 */
#include "replay/run-metrics.h"

#include <stdlib.h>
#include <string.h>

#include "arch/kver.h"
#include "db/reconstruct.h"

_Static_assert((int)FL_MPATH_VMA == (int)FL_PATH_VMA, "path numbers");
_Static_assert((int)FL_MPATH_VMA_RETRY_MMAP == (int)FL_PATH_VMA_RETRY_MMAP, "path numbers");
_Static_assert((int)FL_MPATH_VMA_RETRY_VMA == (int)FL_PATH_VMA_RETRY_VMA, "path numbers");
_Static_assert((int)FL_MPATH_MMAP == (int)FL_PATH_MMAP, "path numbers");

static double rank_us(const uint64_t *v, size_t n, double q)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(q * (double)n + 0.999999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

/* Sorted copy statistics; hist may be NULL. */
static void wait_stat(const uint64_t *src, size_t n, struct fl_wait_stat *st, uint64_t *hist)
{
	uint64_t total = 0, *v;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	v = fl_malloc(n * sizeof(*v));
	memcpy(v, src, n * sizeof(*v));
	qsort(v, n, sizeof(*v), fl_cmp_u64);
	for (size_t i = 0; i < n; i++) {
		total += v[i];
		if (hist)
			hist[fl_metrics_hist_bin(v[i])]++;
	}
	st->total = (double)total / 1000.0;
	st->avg = st->total / (double)n;
	st->p50 = rank_us(v, n, 0.50);
	st->p99 = rank_us(v, n, 0.99);
	st->max = (double)v[n - 1] / 1000.0;
	free(v);
}

void fl_model_metrics(const struct fl_model_run *r, struct fl_metrics *m)
{
	uint64_t io = 0, iol = 0, *lat;
	size_t nlat = 0;
	struct fl_wait_stat st;

	memset(m, 0, sizeof(*m));
	lat = fl_malloc((r->nfaults + 1) * sizeof(*lat));
	for (size_t i = 0; i < r->nfaults; i++) {
		const struct fl_model_fault *f = &r->faults[i];

		/* the model's faults always have a path; none falls back to mmap */
		fl_metrics_count_fault(m, f->user, f->major, f->path ? f->path : FL_PATH_MMAP,
				       f->retry_drop, f->retry_io_miss);
		io += f->io_wait_ns;
		iol += f->io_wait_locked_ns;
		lat[nlat++] = f->end_ns - f->start_ns;
	}
	m->miss_drop_pct = m->retry_drop ? 100.0 * (double)m->retry_io_miss /
						   (double)m->retry_drop : 0;
	m->io_wait_us = (double)io / 1000.0;
	m->io_wait_locked_us = (double)iol / 1000.0;
	wait_stat(lat, nlat, &st, NULL);
	m->fault_latency_p50_us = st.p50;
	m->fault_latency_p99_us = st.p99;
	m->fault_latency_max_us = st.max;
	free(lat);
	m->mmap_read_acq = r->nread_waits;
	m->mmap_write_acq = r->nwrite_waits;
	wait_stat(r->read_waits, r->nread_waits, &m->mmap_read_wait_us, m->mmap_read_wait_hist);
	wait_stat(r->write_waits, r->nwrite_waits, &m->mmap_write_wait_us,
		  m->mmap_write_wait_hist);
	m->fork_count = r->fork_count;
	m->fork_hold_us = (double)r->fork_hold_ns / 1000.0;
	m->fork_blocked_us = (double)r->fork_blocked_ns / 1000.0;
	m->chained_waits = r->chained_waits;
	m->max_chain = r->max_chain;
	m->inversions = r->inversions;
	m->makespan_us = (double)r->makespan_ns / 1000.0;
	m->anomalies = r->anomalies;
}

struct jctx {
	struct fl_buf *b;
	const char *prefix;
	bool first;
};

static void jnum(struct fl_buf *b, double v)
{
	if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
		fl_buf_addf(b, "%lld", (long long)v);
	else
		fl_buf_addf(b, "%.3f", v);
}

static void jextra(void *arg, const char *name, double v)
{
	struct jctx *j = arg;
	size_t n = strlen(j->prefix);

	if (strncmp(name, j->prefix, n))
		return;
	fl_buf_addf(j->b, "%s\"%s\": ", j->first ? "" : ", ", name + n);
	jnum(j->b, v);
	j->first = false;
}

void fl_model_run_json(const struct fl_model_run *r, int64_t id, struct fl_buf *b)
{
	char pn[128], kv[16];
	struct jctx j = { b, "retry_window.", true };
	struct fl_metrics m;

	fl_model_metrics(r, &m);
	fl_buf_addf(b, "{\"id\": %lld, \"policy\": \"%s\", \"arch\": \"%s\", \"kernel\": \"%s\", "
		    "\"seed\": %llu, \"metrics\": ", (long long)id, fl_policy_name(r->policy, pn),
		    r->arch, fl_kver_str(r->kver, kv), (unsigned long long)r->seed);
	fl_metrics_json(&m, b);
	fl_buf_addstr(b, ", \"retry_window\": {");
	fl_model_extras_foreach(r, jextra, &j);
	fl_buf_addstr(b, "}, \"model\": {");
	j.prefix = "model.";
	j.first = true;
	fl_model_extras_foreach(r, jextra, &j);
	fl_buf_addstr(b, "}}");
}
