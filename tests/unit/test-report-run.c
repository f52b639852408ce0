/*
 * test-report-run.c - fl_metrics_set, the inverse of fl_metrics_foreach that
 * `faultlab report --run` uses to rebuild a model run's metrics from its rows:
 * every name foreach emits must set exactly the field it was read from.
 */
#include <string.h>

#include "report/metrics.h"
#include "tests/unit/test.h"

struct copy {
	struct fl_metrics *to;
	int unknown;
	int n;
};

static void put(void *arg, const char *name, double v)
{
	struct copy *c = arg;

	c->n++;
	if (fl_metrics_set(c->to, name, v))
		c->unknown++;
}

/* Distinct values in every field, so a name mapped to the wrong field shows. */
static void fill(struct fl_metrics *m)
{
	uint64_t k = 1;

	memset(m, 0, sizeof(*m));
	m->faults_user = k++; m->faults_kernel = k++; m->faults_major = k++;
	m->path_vma = k++; m->path_vma_retry_mmap = k++; m->path_vma_retry_vma = k++;
	m->path_mmap = k++; m->path_unknown = k++; m->retry_drop = k++; m->retry_io_miss = k++;
	m->miss_drop_pct = 12.5; m->mmap_read_acq = k++; m->mmap_write_acq = k++;
	m->mmap_read_wait_us = (struct fl_wait_stat){ 1.25, 2.5, 3.75, 4.5, 5.125 };
	m->mmap_write_wait_us = (struct fl_wait_stat){ 6.25, 7.5, 8.75, 9.5, 10.125 };
	for (int i = 0; i < FL_HIST_BINS; i++) {
		m->mmap_read_wait_hist[i] = 100 + i;
		m->mmap_write_wait_hist[i] = 200 + i;
	}
	m->io_wait_us = 11.5; m->io_wait_locked_us = 12.5;
	m->fault_latency_p50_us = 13.5; m->fault_latency_p99_us = 14.5;
	m->fault_latency_max_us = 15.5; m->fork_count = k++; m->fork_hold_us = 16.5;
	m->fork_blocked_us = 17.5; m->chained_waits = k++; m->max_chain = k++;
	m->inversions = k++; m->makespan_us = 3028121.25; m->anomalies = k++;
}

FL_TEST(metrics_set_inverts_foreach)
{
	struct fl_metrics a, b;
	struct copy c = { &b, 0, 0 };

	fill(&a);
	memset(&b, 0, sizeof(b));
	fl_metrics_foreach(&a, put, &c);
	CHECK(c.n > 40);
	CHECK_EQ_U64(c.unknown, 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
}

FL_TEST(metrics_set_rejects_other_names)
{
	struct fl_metrics m, z;

	memset(&m, 0, sizeof(m));
	memset(&z, 0, sizeof(z));
	CHECK(fl_metrics_set(&m, "retry_window.count", 3) == -1);
	CHECK(fl_metrics_set(&m, "model.evictions", 3) == -1);
	CHECK(fl_metrics_set(&m, "mmap_read_wait_us.p42", 3) == -1);
	CHECK(fl_metrics_set(&m, "mmap_read_wait_hist.7", 3) == -1);
	CHECK(fl_metrics_set(&m, "mmap_read_wait_hist.10", 3) == -1);
	CHECK(fl_metrics_set(&m, "faults_user.p50", 3) == -1);
	CHECK(fl_metrics_set(&m, "", 3) == -1);
	CHECK(!memcmp(&m, &z, sizeof(m)));
	CHECK(fl_metrics_set(&m, "mmap_write_wait_hist.6", 9) == 0);
	CHECK_EQ_U64(m.mmap_write_wait_hist[6], 9);
}
