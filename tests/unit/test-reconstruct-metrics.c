/*
 * test-reconstruct-metrics.c - the metric vocabulary computed from the rows of
 * the golden writer-chain case (values worked out by hand from its input.txt),
 * the histogram bin edges, the JSON form, and the same metrics read back from
 * a database that fl_recon_run_db() filled from an ingested event stream.
 */
#include "tests/unit/test.h"
#include "tests/unit/test-reconstruct.h"
#include "report/metrics.h"
#include "db/db.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

static int load_case(const char *name, struct recon_input *in, struct recon_out *o)
{
	char path[256];
	struct fl_buf b = { 0 };
	struct fl_err err;

	snprintf(path, sizeof(path), "%s", fl_test_path("golden/"));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "recon-%s/input.txt", name);
	if (fl_buf_read_file(&b, path, &err) < 0 || recon_input_parse(in, b.data, &err) < 0 ||
	    recon_run(in, in->ev, in->inst, in->n, o, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: %s", path, err.msg);
		fl_buf_release(&b);
		return -1;
	}
	fl_buf_release(&b);
	return 0;
}

FL_TEST(metrics_hist_bins)
{
	CHECK(fl_metrics_hist_bin(0) == 0);
	CHECK(fl_metrics_hist_bin(999) == 0);
	CHECK(fl_metrics_hist_bin(1000) == 1);
	CHECK(fl_metrics_hist_bin(99999) == 2);
	CHECK(fl_metrics_hist_bin(100000) == 3);
	CHECK(fl_metrics_hist_bin(9999999) == 4);
	CHECK(fl_metrics_hist_bin(10000000) == 5);
	CHECK(fl_metrics_hist_bin(100000000) == 6);
	CHECK(fl_metrics_hist_bin(UINT64_MAX) == 6);
}

FL_TEST(metrics_writer_chain)
{
	struct recon_input in;
	struct recon_out o;
	struct fl_metrics_acc *a;
	struct fl_metrics m;
	struct fl_buf json = { 0 };
	uint64_t sum = 0;

	if (load_case("writer-chain", &in, &o) < 0)
		return;
	a = fl_metrics_acc_new();
	for (size_t i = 0; i < o.nfaults; i++)
		fl_metrics_acc_fault(a, &o.faults[i]);
	for (size_t i = 0; i < o.nwaits; i++)
		fl_metrics_acc_lock_wait(a, &o.waits[i]);
	for (size_t i = 0; i < o.nops; i++)
		fl_metrics_acc_writer_op(a, &o.ops[i]);
	fl_metrics_acc_capture(a, 100000, 900400, 0);
	CHECK(fl_metrics_acc_result(a, 0, &m) == 0);
	CHECK_EQ_U64(m.faults_user, 3);
	CHECK_EQ_U64(m.faults_kernel, 0);
	CHECK_EQ_U64(m.faults_major, 1);
	CHECK_EQ_U64(m.path_mmap, 3);
	CHECK_EQ_U64(m.retry_drop, 1);
	CHECK_EQ_U64(m.retry_io_miss, 1);
	CHECK(near(m.miss_drop_pct, 100.0));
	/* reads: 1001 x3 (0.1 µs each), 1003 blocking (345.1 µs), munmap's downgrade (0) */
	CHECK_EQ_U64(m.mmap_read_acq, 5);
	CHECK_EQ_U64(m.mmap_write_acq, 1);
	CHECK(near(m.mmap_read_wait_us.total, 0.3 + 345.1));
	CHECK(near(m.mmap_read_wait_us.max, 345.1));
	CHECK(near(m.mmap_read_wait_us.p50, 0.1));	/* nearest rank: 3rd of 0,0.1,0.1,0.1,345.1 */
	CHECK(near(m.mmap_write_wait_us.total, 351.2));
	CHECK_EQ_U64(m.mmap_read_wait_hist[0], 4);
	CHECK_EQ_U64(m.mmap_read_wait_hist[3], 1);
	CHECK_EQ_U64(m.mmap_write_wait_hist[3], 1);
	for (int i = 0; i < FL_HIST_BINS; i++)
		sum += m.mmap_read_wait_hist[i];
	CHECK_EQ_U64(sum, m.mmap_read_acq);
	CHECK(near(m.io_wait_us, 698.0));
	CHECK(near(m.io_wait_locked_us, 399.0));
	CHECK(near(m.fault_latency_max_us, 701.0));
	CHECK_EQ_U64(m.chained_waits, 1);
	CHECK_EQ_U64(m.max_chain, 2);
	CHECK_EQ_U64(m.inversions, 1);
	CHECK_EQ_U64(m.fork_count, 0);
	CHECK(near(m.makespan_us, 800.4));
	/* per process: everything is tgid 1000 */
	{
		struct fl_metrics p;
		size_t n;
		const int32_t *t = fl_metrics_acc_tgids(a, &n);
		CHECK(n == 1 && t[0] == 1000);
		CHECK(fl_metrics_acc_result(a, 1000, &p) == 0 && p.faults_user == 3);
		CHECK(fl_metrics_acc_result(a, 4242, &p) < 0);
	}
	fl_metrics_json(&m, &json);
	CHECKF(strstr(json.data, "\"retry_io_miss\": 1") != NULL, "%s", json.data);
	CHECKF(strstr(json.data, "\"mmap_read_wait_hist\": [4, 0, 0, 1, 0, 0, 0]") != NULL, "%s",
	       json.data);
	CHECKF(strstr(json.data, "\"fault_latency_us\": {\"p50\": ") != NULL, "%s", json.data);
	fl_buf_release(&json);
	fl_metrics_acc_free(a);
	recon_out_release(&o);
	recon_input_release(&in);
}

/* Synthetic ingest of the fork case, then fl_recon_run_db's tables give the same metrics. */
struct syn {
	const struct recon_input *in;
	size_t i;
};

static int syn_next(void *arg, struct fl_event *ev, struct fl_err *err)
{
	struct syn *s = arg;

	if (s->i == s->in->n)
		return 0;
	*ev = s->in->ev[s->i++];
	return 1;
}

static int syn_inst(void *arg)
{
	struct syn *s = arg;

	return s->i ? s->in->inst[s->i - 1] : 0;
}

FL_TEST(metrics_from_db_match_rows)
{
	struct recon_input in;
	struct recon_out o;
	char path[] = "/tmp/faultlab-recon-XXXXXX";
	struct fl_err err = { "" };
	struct fl_db *db;
	int fd = mkstemp(path);

	if (fd < 0 || load_case("fork", &in, &o) < 0)
		return;
	close(fd);
	unlink(path);
	db = fl_db_open(path, FL_DB_WRITE, &err);
	CHECKF(db != NULL, "%s", err.msg);
	if (db) {
		struct syn s = { &in, 0 };
		const struct fl_kv *snaps[1] = { &in.snap };
		struct fl_ingest_src src = {
			.path = "fork-case", .format = "synthetic", .content_hash = 0x1234,
			.header = &in.header, .snapshots = snaps, .nsnapshots = 1,
			.complete = true, .arg = &s, .next = syn_next, .instance = syn_inst,
		};
		struct fl_ingest_stats st;
		struct fl_metrics_acc *a, *b;
		struct fl_metrics m1, m2;

		CHECKF(fl_db_ingest(db, &src, NULL, &st, &err) == 0, "%s", err.msg);
		fl_buf_release(&st.warnings);
		a = fl_metrics_load_db(fl_db_sqlite(db), st.capture_id, &err);
		CHECKF(a != NULL, "%s", err.msg);
		b = fl_metrics_acc_new();
		for (size_t i = 0; i < o.nfaults; i++)
			fl_metrics_acc_fault(b, &o.faults[i]);
		for (size_t i = 0; i < o.nwaits; i++)
			fl_metrics_acc_lock_wait(b, &o.waits[i]);
		for (size_t i = 0; i < o.nops; i++)
			fl_metrics_acc_writer_op(b, &o.ops[i]);
		if (a) {
			fl_metrics_acc_result(a, 0, &m1);
			fl_metrics_acc_result(b, 0, &m2);
			CHECK_EQ_U64(m1.path_vma_retry_mmap, m2.path_vma_retry_mmap);
			CHECK_EQ_U64(m1.retry_io_miss, 1);
			CHECK_EQ_U64(m1.mmap_read_acq, m2.mmap_read_acq);
			CHECK_EQ_U64(m1.mmap_write_acq, 2);	/* parent's and child's mm */
			CHECK(near(m1.mmap_read_wait_us.total, m2.mmap_read_wait_us.total));
			CHECK_EQ_U64(m1.fork_count, 1);
			CHECK(near(m1.fork_hold_us, 99.0) && near(m1.fork_blocked_us, 30.0));
			CHECK_EQ_U64(m1.inversions, m2.inversions);
			CHECK(near(m1.io_wait_locked_us, m2.io_wait_locked_us));
		}
		fl_metrics_acc_free(a);
		fl_metrics_acc_free(b);
		fl_db_close(db);
	}
	unlink(path);
	{
		char wal[64];
		snprintf(wal, sizeof(wal), "%s-wal", path);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", path);
		unlink(wal);
	}
	recon_out_release(&o);
	recon_input_release(&in);
}
