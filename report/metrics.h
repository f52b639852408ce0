/*
 * metrics.h - the shared metric vocabulary of DESIGN.md ("Fault reconstruction
 * and the shared metric vocabulary"), computed from reconstructed rows.
 *
 * report fills a struct fl_metrics from a capture's fault/lock_wait/writer_op
 * rows; the model (issue 4) fills the same struct from a simulated run; diff
 * compares them field by field through fl_metrics_foreach(), whose names are
 * the JSON names ("mmap_read_wait_us.p99", "mmap_read_wait_hist.3", ...).
 *
 * Definitions (same as engine/README.md "Metrics"): an acquisition is a
 * successful mmap_lock acquire; a downgrade counts as a zero-wait read
 * acquisition; failed trylocks are not acquisitions. Waits are
 * acquire_returned - start_locking. Percentiles are nearest-rank. Chained: a
 * wait with chain >= 2. fault_latency is end - start of faults that finished
 * inside the capture (a lower bound: stock kernels trace no fault exit).
 */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include "common/fl.h"
#include "db/reconstruct.h"

struct sqlite3;

#define FL_HIST_BINS 7	/* [0,1µs) [1,10µs) [10,100µs) [100µs,1ms) [1,10ms) [10,100ms) [100ms,∞) */

struct fl_wait_stat {
	double total, avg, p50, p99, max;	/* µs */
};

struct fl_metrics {
	int32_t tgid;				/* 0 = the whole capture */
	uint64_t faults_user, faults_kernel, faults_major;
	uint64_t path_vma, path_vma_retry_mmap, path_vma_retry_vma, path_mmap;
	uint64_t path_unknown;			/* faults whose path the events do not decide */
	uint64_t retry_drop, retry_io_miss;
	double miss_drop_pct;			/* 100 * retry_io_miss / retry_drop (0 if none) */
	uint64_t mmap_read_acq, mmap_write_acq;
	struct fl_wait_stat mmap_read_wait_us, mmap_write_wait_us;
	uint64_t mmap_read_wait_hist[FL_HIST_BINS], mmap_write_wait_hist[FL_HIST_BINS];
	double io_wait_us, io_wait_locked_us;
	double fault_latency_p50_us, fault_latency_p99_us, fault_latency_max_us;
	uint64_t fork_count;
	double fork_hold_us, fork_blocked_us;
	uint64_t chained_waits, max_chain, inversions;
	double makespan_us;			/* first to last event (capture), or run time (model) */
	uint64_t anomalies;			/* whole capture: all kinds; per process: rows flagged */
};

/* The histogram bin of a wait in ns. */
int fl_metrics_hist_bin(uint64_t wait_ns);
/* Counts one fault into m: mode, major, path (enum fl_fault_path; the model's paths share its
 * numbers), its dropped retries and retry misses. The reconstruction and the model both. */
void fl_metrics_count_fault(struct fl_metrics *m, bool user, bool major, int path,
			    uint64_t retry_drop, uint64_t retry_io_miss);

/* ---- computing from rows ---------------------------------------------- */

struct fl_metrics_acc;

struct fl_metrics_acc *fl_metrics_acc_new(void);
void fl_metrics_acc_fault(struct fl_metrics_acc *a, const struct fl_fault *f);
void fl_metrics_acc_lock_wait(struct fl_metrics_acc *a, const struct fl_lock_wait *w);
void fl_metrics_acc_writer_op(struct fl_metrics_acc *a, const struct fl_writer_op *op);
/* Whole-capture facts: event time span (ns) and the anomaly total. */
void fl_metrics_acc_capture(struct fl_metrics_acc *a, uint64_t first_ns, uint64_t last_ns,
			    uint64_t anomalies);
/* tgid 0 = whole capture; returns -1 if that process has no rows. */
int fl_metrics_acc_result(struct fl_metrics_acc *a, int32_t tgid, struct fl_metrics *m);
/* The processes seen (tgid != 0), ascending; *n set. The array belongs to a. */
const int32_t *fl_metrics_acc_tgids(struct fl_metrics_acc *a, size_t *n);
void fl_metrics_acc_free(struct fl_metrics_acc *a);

/* Reads the reconstruction tables of one capture into a new accumulator. */
struct fl_metrics_acc *fl_metrics_load_db(struct sqlite3 *db, int64_t capture,
					  struct fl_err *err);

/* ---- output ------------------------------------------------------------ */

/* Every metric as (name, value), in vocabulary order; stats as name.total/.avg/.p50/.p99/.max,
 * histograms as name.0 .. name.6. */
void fl_metrics_foreach(const struct fl_metrics *m,
			void (*fn)(void *arg, const char *name, double value), void *arg);
/*
 * The inverse of fl_metrics_foreach: sets the metric called name (a foreach name)
 * to v. Returns -1, leaving m alone, for a name outside the vocabulary. Used to
 * rebuild a model run's metrics from its stored rows (report --run).
 */
int fl_metrics_set(struct fl_metrics *m, const char *name, double v);
/* A JSON object with the vocabulary's names (stats as objects, histograms as arrays). */
void fl_metrics_json(const struct fl_metrics *m, struct fl_buf *out);
/*
 * Whether a metric (by its fl_metrics_foreach name) needs page-fault events:
 * a capture without them (arm64 has no exceptions:page_fault_*) cannot measure
 * it, and shows it as not available, never as 0.
 */
bool fl_metrics_needs_faults(const char *name);
/* fl_metrics_json, with every metric that needs page-fault events null when !faults. */
void fl_metrics_json_observed(const struct fl_metrics *m, bool faults, struct fl_buf *out);

#endif
