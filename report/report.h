/*
 * report.h - the report of one capture: what it is, what it holds, and the
 * metrics of DESIGN.md's vocabulary computed from the database.
 *
 * fl_report_load() fills a struct from the database; the writers render it.
 * Later stages add metrics with fl_report_metric() so that every format
 * carries them under the same names (the JSON "metrics" object).
 */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include "common/fl.h"
#include "db/db.h"
#include "report/doc.h"
#include "report/metrics.h"

/* A capture column or a metric: an integer, a real, a string, or null. */
enum fl_value_kind { FL_VAL_NULL, FL_VAL_INT, FL_VAL_REAL, FL_VAL_STR };

struct fl_value {
	char *name;
	enum fl_value_kind kind;
	int64_t i;
	double r;
	char *s;
};

struct fl_values {
	struct fl_value *v;
	size_t n, cap;
};

/* A thread in a "top" list: a waiter, or a blocker others waited behind. */
struct fl_report_thread {
	int32_t tid, tgid;
	char *comm;			/* from the trace (escape when rendering) */
	int prio;			/* kernel prio, -1 unknown */
	uint64_t n;			/* waits (waiter), or waits it caused (blocker) */
	uint64_t total_ns, max_ns;	/* wait time, summed and longest */
	bool write;			/* blocker: held or queued for write when it blocked */
	char *doing;			/* what the longest wait (or its blocker) was for */
};

struct fl_report_top {
	struct fl_report_thread *t;
	size_t n;
};

/* A fork (or vfork/clone without CLONE_VM) that write-locked its mm. */
struct fl_report_fork {
	int32_t tid, tgid, child;
	char *comm;
	uint64_t enter_ns;		/* trace clock */
	uint64_t wait_ns, hold_ns;	/* mmap_lock write wait and hold */
	uint64_t blocked_ns;		/* of the hold, waiting for the parent's faults */
	uint64_t waiters, waiters_ns;	/* lock waits that queued behind this hold, their time */
};

struct fl_report_proc {
	int32_t tgid;
	char *comm;			/* of the thread-group leader, else a thread of it */
	uint32_t threads;		/* followed threads seen */
	struct fl_metrics m;
	struct fl_report_top waiters, blockers;
};

/* One drawn interval of the per-thread timeline (HTML). */
enum fl_span_kind {
	FL_SPAN_FAULT,			/* fault under the VMA lock */
	FL_SPAN_FAULT_RETRY,		/* fault that dropped its lock and retried */
	FL_SPAN_FAULT_MMAP,		/* fault under mmap_lock */
	FL_SPAN_IO,			/* fault blocked on I/O (its io_wait, placed at its end) */
	FL_SPAN_WAIT_READ,		/* mmap_lock read wait */
	FL_SPAN_WAIT_WRITE,		/* mmap_lock write wait */
	FL_SPAN_WRITER,			/* write hold by a syscall (mmap, munmap, fork ...) */
	FL_SPAN__COUNT
};

struct fl_report_span {
	uint64_t start_ns, end_ns;	/* relative to the reconstruction's first event */
	uint8_t kind;			/* enum fl_span_kind */
};

struct fl_report_lane {
	int32_t tid, tgid;
	char *comm;
	struct fl_report_span *s;
	size_t n, cap;
};

/* Samples in ns, ascending (the CDF of mmap_lock wait). */
struct fl_report_samples {
	uint64_t *v;
	size_t n;
};

struct fl_report {
	int64_t capture_id;
	struct fl_values capture;	/* the capture row, column by column */
	struct fl_values by_type;	/* "system:name" -> events (INT) */
	struct fl_values metrics;	/* vocabulary name -> value */
	uint64_t *lost_cpu;		/* events lost per CPU */
	int ncpus;
	char **warnings;		/* the capture's warnings, one per entry */
	size_t nwarnings;
	/* Convenience copies of what the tests and the CLI look at. */
	uint64_t events, events_lost;
	uint64_t faults_user, faults_kernel;
	uint64_t tasks_followed;
	bool complete, truncated;

	/* The reconstruction (db/reconstruct.h) and the metric vocabulary. */
	bool recon;			/* a recon row exists */
	int kernel_major, kernel_minor;	/* 0.0 = unknown */
	bool vma_lock, filemap_fault_tp, fault_tp;
	char *fault_events_missing;	/* without fault_tp: the exceptions events the capture lacked,
					   comma-separated (events.missing, else the two x86 names) */
	uint64_t recon_first_ns, recon_last_ns;
	struct fl_metrics m;		/* whole capture */
	struct fl_report_proc *procs;	/* per process, by tgid */
	size_t nprocs;
	struct fl_values anomalies;	/* kind -> count */
	struct fl_report_top waiters, blockers;
	struct fl_report_fork *forks;	/* longest write hold first */
	size_t nforks, forks_total;	/* listed, and all forks */
	struct fl_report_samples read_waits, write_waits;
	struct fl_report_lane *lanes;	/* the top threads' timelines (HTML) */
	size_t nlanes;

	/*
	 * A model run (fl_report_load_run): run_id > 0, capture_id the capture it
	 * replayed, m rebuilt from the run's metric rows; no per-thread lists.
	 */
	int64_t run_id;
	struct fl_values run;		/* the replay_run row, column by column */
	struct fl_values run_extra;	/* the model's own metrics: "retry_window.*" (µs),
					   "model.*", by name */
};

/* capture 0 = the latest. -1 with err set when there is none or on SQL errors. */
int fl_report_load(struct fl_report *r, struct fl_db *db, int64_t capture, struct fl_err *err);
/*
 * One run of the lock model (replay/store.c: replay_run and its metric rows),
 * filled into the same struct as a capture so the same writers show it.
 * -1 with err set when the run does not exist or on SQL errors.
 */
int fl_report_load_run(struct fl_report *r, struct fl_db *db, int64_t run, struct fl_err *err);
void fl_report_release(struct fl_report *r);

/* The named value, NULL if absent. */
const struct fl_value *fl_values_get(const struct fl_values *vs, const char *name);

/* Adds or replaces a metric. */
void fl_report_metric_int(struct fl_report *r, const char *name, int64_t v);
void fl_report_metric_real(struct fl_report *r, const char *name, double v);

/*
 * JSON: {"capture": {...}, "events_by_type": {...}, "lost": {...}, "warnings": [...],
 * "metrics": {...}, "trace_complete": bool, "anomalies": {...}, "processes": [...],
 * "top_waiters": [...], "top_blockers": [...], "forks": [...]}; "metrics" holds the
 * DESIGN.md vocabulary (report/metrics.h) plus tasks, events, events_lost.
 * A model run: {"run": {...}, "capture": {...}, "metrics": {...}, "retry_window":
 * {...}, "model": {...}}, "metrics" the vocabulary only (the trace's counts do not
 * apply), each value as `faultlab replay --format json` prints it.
 * text, md and html render the same document (fl_report_doc).
 */
void fl_report_json(const struct fl_report *r, struct fl_buf *out);
void fl_report_text(const struct fl_report *r, struct fl_buf *out);
void fl_report_md(const struct fl_report *r, struct fl_buf *out);
void fl_report_html(const struct fl_report *r, struct fl_buf *out);
/* The human-readable report as a document (report/doc.h). */
void fl_report_doc(const struct fl_report *r, struct fl_doc *d);
/* Whether numbers are derived from an incomplete trace (lost events, damage, anomalies). */
bool fl_report_incomplete(const struct fl_report *r);
/*
 * Whether the capture has page-fault events. Without them (arm64) every metric
 * that fl_metrics_needs_faults() names is not available: JSON null, "n/a" in
 * the documents, never 0.
 */
bool fl_report_faults_observed(const struct fl_report *r);

/* JSON string escaping (shared by the writers of report/ and info). */
void fl_json_str(struct fl_buf *out, const char *s);

#endif
