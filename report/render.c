/*
 * render.c - the human-readable report: one document (report/doc.h) built
 * from a loaded struct fl_report, rendered as text, markdown or HTML.
 *
 * Reading order: what the capture is; what makes its numbers doubtful (lost
 * events, a damaged file, reconstruction anomalies, events the kernel lacks),
 * stated before any number; faults and the ioretry retry table; the mmap_lock
 * table in the form of REFERENCE-RESULTS.md §2; contention (top waiters and
 * blockers, chains, inversions); forks; per-process detail; then every metric
 * of the vocabulary by its exact name, and the raw event counts.
 *
 * Every string that comes from the trace (comm, paths, cmdline, warnings) is
 * passed to the document raw; the renderers escape it.
 */
#include "report/report.h"
#include "report/svg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROCS_SHOWN	16	/* processes with a section of their own (all are in JSON) */

static const char *const bin_names[FL_HIST_BINS] = {
	"[0, 1 µs)", "[1, 10 µs)", "[10, 100 µs)", "[100 µs, 1 ms)", "[1, 10 ms)",
	"[10, 100 ms)", "[100 ms, ∞)",
};

const char *fl_report_bin_name(int i)
{
	return i >= 0 && i < FL_HIST_BINS ? bin_names[i] : "?";
}

static const char *cap_str(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = fl_values_get(&r->capture, name);

	return v && v->kind == FL_VAL_STR ? v->s : NULL;
}

static int64_t cap_int(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = fl_values_get(&r->capture, name);

	return v && v->kind == FL_VAL_INT ? v->i : -1;
}

static const char *or(const char *s, const char *def)
{
	return s ? s : def;
}

static void scope_cell(struct fl_table *t, const struct fl_report *r,
		       const struct fl_report_proc *p)
{
	if (p)
		fl_table_cell(t, "%d %s", p->tgid, p->comm);
	else
		fl_table_cell(t, r->run_id ? "whole run" : "whole capture");
}

/* ---- the sections ------------------------------------------------------ */

static void head(const struct fl_report *r, struct fl_doc *d)
{
	const char *cmd = cap_str(r, "cmdline");
	int64_t dur = cap_int(r, "duration_ns"), lim = cap_int(r, "memcg_limit_bytes");
	struct fl_buf b = { 0 };

	d->title = fl_asprintf("faultlab report: capture %" PRId64 " (%s)", r->capture_id,
			       or(cap_str(r, "path"), "?"));
	fl_doc_heading(d, 1, "top", "faultlab report: capture %" PRId64, r->capture_id);
	fl_doc_para(d, "file %s (%s), kernel %s %s, %" PRId64 " cpus, trace clock %s",
		    or(cap_str(r, "path"), "?"), or(cap_str(r, "format"), "?"),
		    or(cap_str(r, "uname_release"), "?"), or(cap_str(r, "arch"), "?"),
		    cap_int(r, "cpus"), or(cap_str(r, "clock"), "?"));
	fl_doc_para(d, "mode %s%s%s", or(cap_str(r, "mode"), "?"), cmd ? ": " : "", cmd ? cmd : "");
	if (dur >= 0)
		fl_buf_addf(&b, "duration %.3f s, ", dur / 1e9);
	fl_buf_addf(&b, "%" PRIu64 " events, %" PRIu64 " lost, %" PRIu64 " tasks followed, "
		    "%zu process%s with faults or lock activity", r->events, r->events_lost,
		    r->tasks_followed, r->nprocs, r->nprocs == 1 ? "" : "es");
	if (lim > 0)
		fl_buf_addf(&b, ", memory cgroup limit %.1f MiB", lim / 1048576.0);
	fl_doc_para(d, "%s", b.data);
	fl_buf_release(&b);
}

static const char *run_str(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = fl_values_get(&r->run, name);

	return v && v->kind == FL_VAL_STR ? v->s : NULL;
}

static int64_t run_int(const struct fl_report *r, const char *name)
{
	const struct fl_value *v = fl_values_get(&r->run, name);

	return v && v->kind == FL_VAL_INT ? v->i : -1;
}

/* A model run: what was simulated, under which rules, from which capture. */
static void head_run(const struct fl_report *r, struct fl_doc *d)
{
	const char *cmd = cap_str(r, "cmdline");
	int64_t cap = run_int(r, "capacity_pages");

	d->title = fl_asprintf("faultlab report: model run %" PRId64 " (%s, capture %" PRId64 ")",
			       r->run_id, or(run_str(r, "policy"), "?"), r->capture_id);
	fl_doc_heading(d, 1, "top", "faultlab report: model run %" PRId64 " (policy %s)",
		       r->run_id, or(run_str(r, "policy"), "?"));
	fl_doc_para(d, "A run of the lock model (faultlab replay --model), not a trace: every "
		    "number below was simulated from the op streams of capture %" PRId64 " under "
		    "policy %s, with the fault handler of architecture %s at kernel %s, seed "
		    "%" PRId64 ", %" PRId64 " cpus, page cache %s.", r->capture_id,
		    or(run_str(r, "policy"), "?"), or(run_str(r, "arch"), "?"),
		    or(run_str(r, "kernel"), "?"), run_int(r, "seed"), run_int(r, "cpus"),
		    cap > 0 ? "limited" : "unlimited");
	if (cap > 0)
		fl_doc_para(d, "page-cache capacity %" PRId64 " pages", cap);
	fl_doc_para(d, "replayed capture %" PRId64 ": file %s, kernel %s %s, %" PRId64 " cpus; "
		    "mode %s%s%s", r->capture_id, or(cap_str(r, "path"), "?"),
		    or(cap_str(r, "uname_release"), "?"), or(cap_str(r, "arch"), "?"),
		    cap_int(r, "cpus"), or(cap_str(r, "mode"), "?"), cmd ? ": " : "",
		    cmd ? cmd : "");
	fl_doc_para(d, "The model knows when each fault ends, so fault latencies are exact, not "
		    "lower bounds; makespan is the end of the last simulated thread. Per-thread "
		    "lists (top waiters, blockers, single forks) are not stored for model runs: "
		    "'faultlab report --capture %" PRId64 "' shows them for the capture.",
		    r->capture_id);
}

static void warnings(const struct fl_report *r, struct fl_doc *d)
{
	const struct fl_metrics *m = &r->m;

	if (!fl_report_faults_observed(r))
		fl_doc_warn(d, "page-fault events are missing in this capture (%s: the kernel of "
			    "architecture %s has no page-fault tracepoint). Faults cannot be "
			    "observed, so there are no fault rows, and faults_user, faults_kernel, "
			    "faults_major, path_vma, path_vma_retry_mmap, path_vma_retry_vma, "
			    "path_mmap, path_unknown, retry_drop, retry_io_miss, miss_drop_pct, "
			    "io_wait_us, io_wait_locked_us and fault_latency_us are not available "
			    "(n/a here, null in JSON). The mmap_lock, contention, writer, fork and "
			    "block I/O numbers still hold; an mmap_lock hold taken by a fault belongs "
			    "to no fault (owner none).",
			    r->fault_events_missing ? r->fault_events_missing : "?",
			    or(cap_str(r, "arch"), "?"));
	if (r->events_lost) {
		struct fl_buf b = { 0 };

		for (int c = 0; c < r->ncpus; c++)
			if (r->lost_cpu[c])
				fl_buf_addf(&b, "%scpu %d: %" PRIu64, b.len ? ", " : "", c,
					    r->lost_cpu[c]);
		fl_doc_warn(d, "incomplete trace: the ring buffer dropped %" PRIu64 " events (%s). "
			    "Every count below is a lower bound, and waits, holds and fault "
			    "latencies that span a gap may be wrong.", r->events_lost,
			    b.len ? b.data : "per-CPU counts unknown");
		fl_buf_release(&b);
	}
	if (!r->complete)
		fl_doc_warn(d, "incomplete trace: the capture file is %s (%" PRId64 " bytes lost); "
			    "the numbers cover only the part that survived.",
			    r->truncated ? "truncated" : "damaged", cap_int(r, "bytes_lost"));
	if (!r->recon)
		fl_doc_warn(d, "this capture has no reconstruction (no recon row): the fault and "
			    "lock metrics below are empty; re-ingest it with this faultlab.");
	if (r->anomalies.n) {
		struct fl_buf b = { 0 };
		uint64_t total = 0;

		for (size_t i = 0; i < r->anomalies.n; i++) {
			fl_buf_addf(&b, "%s%s %" PRId64, i ? ", " : "", r->anomalies.v[i].name,
				    r->anomalies.v[i].i);
			total += (uint64_t)r->anomalies.v[i].i;
		}
		fl_doc_warn(d, "the reconstruction met %" PRIu64 " anomalies (%s): events it "
			    "could not explain, counted and never fatal. Rows touched by one are "
			    "flagged (column 'anomalies' of fault, lock_wait, writer_op); numbers "
			    "derived from them may be wrong.", total, b.data);
		fl_buf_release(&b);
	}
	if (r->recon && r->fault_tp && !r->filemap_fault_tp)
		fl_doc_warn(d, "filemap:mm_filemap_fault is missing (kernel %d.%d, added in 6.12): "
			    "retry_io_miss counts any page-cache insert during a retry and may "
			    "overcount.", r->kernel_major, r->kernel_minor);
	if (r->recon && r->fault_tp &&
	    (m->faults_user != r->faults_user || m->faults_kernel != r->faults_kernel))
		fl_doc_warn(d, "the reconstruction has %" PRIu64 " user and %" PRIu64 " kernel "
			    "fault rows but the capture holds %" PRIu64 " and %" PRIu64
			    " page-fault events of followed tasks.", m->faults_user,
			    m->faults_kernel, r->faults_user, r->faults_kernel);
	if (m->path_unknown)
		fl_doc_warn(d, "%" PRIu64 " faults have a path the events do not decide "
			    "(path_unknown), e.g. the capture began inside them.", m->path_unknown);
	for (size_t i = 0; i < r->nwarnings; i++)
		fl_doc_warn(d, "ingest: %s", r->warnings[i]);
	if (r->recon && !r->vma_lock)
		fl_doc_para(d, "Kernel %d.%d has no per-VMA locks: every fault takes mmap_lock "
			    "(path_mmap).", r->kernel_major, r->kernel_minor);
}

/* A cell of a metric that needs page-fault events: n/a when the capture has none. */
static void cell_count(struct fl_table *t, bool ok, uint64_t v)
{
	if (ok)
		fl_table_count(t, v);
	else
		fl_table_cell(t, "n/a");
}

static void cell_us(struct fl_table *t, bool ok, double v)
{
	if (ok)
		fl_table_us(t, v);
	else
		fl_table_cell(t, "n/a");
}

static void faults(const struct fl_report *r, struct fl_doc *d)
{
	struct fl_table *t;
	bool ok = fl_report_faults_observed(r);

	fl_doc_heading(d, 2, "faults", "Faults");
	if (r->run_id)
		fl_doc_para(d, "Fault latency is from a simulated fault's start to its end. I/O "
			    "blocked time is the time waiting for the simulated device; 'locked' "
			    "is the part spent holding mmap_lock or a VMA lock.");
	else
		fl_doc_para(d, "Fault latency is the fault's window in the trace (page_fault event "
			    "to its last attributable event): a lower bound, since stock kernels "
			    "trace no fault exit. I/O blocked time is D-state time outside "
			    "mmap_lock waits; 'locked' is the part spent holding mmap_lock or a "
			    "VMA lock.");
	t = fl_doc_table(d, NULL, 10, "<scope", "faults_user", "faults_kernel", "faults_major",
			 "io_wait_us", "io_wait_locked_us", "latency p50 µs", "p99 µs", "max µs",
			 "makespan_us");
	for (size_t i = 0; i <= r->nprocs; i++) {
		const struct fl_report_proc *p = i ? &r->procs[i - 1] : NULL;
		const struct fl_metrics *m = p ? &p->m : &r->m;

		fl_table_row(t);
		scope_cell(t, r, p);
		cell_count(t, ok, m->faults_user);
		cell_count(t, ok, m->faults_kernel);
		cell_count(t, ok, m->faults_major);
		cell_us(t, ok, m->io_wait_us);
		cell_us(t, ok, m->io_wait_locked_us);
		cell_us(t, ok, m->fault_latency_p50_us);
		cell_us(t, ok, m->fault_latency_p99_us);
		cell_us(t, ok, m->fault_latency_max_us);
		fl_table_us(t, m->makespan_us);
	}

	fl_doc_heading(d, 2, "retry", "Retries (ioretry form)");
	fl_doc_para(d, "retry_drop = the ioretry RETRY_MMAP_DROP (attempts that dropped the fault "
		    "lock and returned RETRY); retry_io_miss = RETRY_IO_MISS (retried attempts "
		    "that missed the page cache again); miss_drop_pct = 100 × retry_io_miss / "
		    "retry_drop. Faults by path: vma (per-VMA lock only), vma_retry_mmap (VMA "
		    "attempt returned RETRY, finished under mmap_lock), vma_retry_vma, mmap "
		    "(started under mmap_lock).");
	t = fl_doc_table(d, NULL, 10, "<scope", "faults", "retry_drop", "retry_io_miss",
			 "miss_drop_pct", "path_vma", "path_vma_retry_mmap", "path_vma_retry_vma",
			 "path_mmap", "path_unknown");
	for (size_t i = 0; i <= r->nprocs; i++) {
		const struct fl_report_proc *p = i ? &r->procs[i - 1] : NULL;
		const struct fl_metrics *m = p ? &p->m : &r->m;

		fl_table_row(t);
		scope_cell(t, r, p);
		cell_count(t, ok, m->faults_user + m->faults_kernel);
		cell_count(t, ok, m->retry_drop);
		cell_count(t, ok, m->retry_io_miss);
		if (ok)
			fl_table_pct(t, m->miss_drop_pct);
		else
			fl_table_cell(t, "n/a");
		cell_count(t, ok, m->path_vma);
		cell_count(t, ok, m->path_vma_retry_mmap);
		cell_count(t, ok, m->path_vma_retry_vma);
		cell_count(t, ok, m->path_mmap);
		cell_count(t, ok, m->path_unknown);
	}
}

/* The published mmap_lock table (REFERENCE-RESULTS.md §2) of one scope. */
static void lock_table(struct fl_doc *d, const char *caption, const struct fl_metrics *m)
{
	struct fl_table *t = fl_doc_table(d, caption, 3, "<mmap_lock", "read", "write");
	const struct fl_wait_stat *s[2] = { &m->mmap_read_wait_us, &m->mmap_write_wait_us };
	static const char *const rows[] = {
		"wait total (µs)", "wait average (µs)", "wait p50 (µs)", "wait p99 (µs)",
		"wait max (µs)",
	};

	fl_table_row(t);
	fl_table_cell(t, "acquisitions");
	fl_table_count(t, m->mmap_read_acq);
	fl_table_count(t, m->mmap_write_acq);
	for (int k = 0; k < 5; k++) {
		fl_table_row(t);
		fl_table_cell(t, "%s", rows[k]);
		for (int w = 0; w < 2; w++) {
			const double v[5] = {
				s[w]->total, s[w]->avg, s[w]->p50, s[w]->p99, s[w]->max,
			};

			fl_table_us(t, v[k]);
		}
	}
	for (int i = 0; i < FL_HIST_BINS; i++) {
		fl_table_row(t);
		fl_table_cell(t, "waits in %s", bin_names[i]);
		fl_table_count(t, m->mmap_read_wait_hist[i]);
		fl_table_count(t, m->mmap_write_wait_hist[i]);
	}
}

static void mmap_lock(const struct fl_report *r, struct fl_doc *d)
{
	fl_doc_heading(d, 2, "mmap_lock", "mmap_lock");
	fl_doc_para(d, "Wait = start_locking to acquire_returned. An acquisition is a successful "
		    "acquire; a downgrade counts as a read acquisition with no wait; failed "
		    "trylocks are not acquisitions. Percentiles are nearest-rank.");
	lock_table(d, r->run_id ? "whole run" : "whole capture", &r->m);
	fl_doc_figure(d, FL_FIG_HIST);
	fl_doc_figure(d, FL_FIG_CDF);
}

static void top_table(struct fl_doc *d, const char *caption, const struct fl_report_top *top,
		      bool blockers)
{
	struct fl_table *t;

	if (!top->n) {
		fl_doc_para(d, "%s: none (no mmap_lock wait longer than 0).", caption);
		return;
	}
	if (blockers)
		t = fl_doc_table(d, caption, 7, "tid", "<comm", "tgid", "waits caused",
				 "wait caused µs", "max µs", "<holding or queued for");
	else
		t = fl_doc_table(d, caption, 7, "tid", "<comm", "tgid", "waits", "wait total µs",
				 "max µs", "<longest wait was for");
	for (size_t i = 0; i < top->n; i++) {
		const struct fl_report_thread *x = &top->t[i];

		fl_table_row(t);
		fl_table_cell(t, "%d", x->tid);
		fl_table_cell(t, "%s", x->comm);
		fl_table_cell(t, "%d", x->tgid);
		fl_table_count(t, x->n);
		fl_table_us(t, x->total_ns / 1000.0);
		fl_table_us(t, x->max_ns / 1000.0);
		fl_table_cell(t, "%s", x->doing);
	}
}

static void contention(const struct fl_report *r, struct fl_doc *d)
{
	struct fl_table *t;

	fl_doc_heading(d, 2, "contention", "Contention");
	fl_doc_para(d, "A chained wait queued behind a writer that was itself waiting (chain >= "
		    "2); an inversion is a wait whose waiter had a higher priority than the "
		    "thread it waited for. A blocker is the nearest queued writer, else the write "
		    "holder, else the reader holder; only traced tasks can be seen.");
	t = fl_doc_table(d, NULL, 4, "<scope", "chained_waits", "max_chain", "inversions");
	for (size_t i = 0; i <= r->nprocs; i++) {
		const struct fl_report_proc *p = i ? &r->procs[i - 1] : NULL;
		const struct fl_metrics *m = p ? &p->m : &r->m;

		fl_table_row(t);
		scope_cell(t, r, p);
		fl_table_count(t, m->chained_waits);
		fl_table_count(t, m->max_chain);
		fl_table_count(t, m->inversions);
	}
	if (r->run_id)
		return;
	top_table(d, "top waiters (mmap_lock wait time)", &r->waiters, false);
	top_table(d, "top blockers (wait time of the threads queued behind them)", &r->blockers,
		  true);
}

static void forks(const struct fl_report *r, struct fl_doc *d)
{
	struct fl_table *t;

	fl_doc_heading(d, 2, "forks", "Forks");
	fl_doc_para(d, "fork_hold_us: fork's mmap_lock write hold (dup_mmap); fork_blocked_us: the "
		    "part of it spent waiting (for the parent's faults in vma_start_write, or in D "
		    "sleep). 'Queued behind' counts the lock waits whose blocker was the fork.");
	t = fl_doc_table(d, NULL, 4, "<scope", "fork_count", "fork_hold_us", "fork_blocked_us");
	for (size_t i = 0; i <= r->nprocs; i++) {
		const struct fl_report_proc *p = i ? &r->procs[i - 1] : NULL;
		const struct fl_metrics *m = p ? &p->m : &r->m;

		if (p && !m->fork_count)
			continue;
		fl_table_row(t);
		scope_cell(t, r, p);
		fl_table_count(t, m->fork_count);
		fl_table_us(t, m->fork_hold_us);
		fl_table_us(t, m->fork_blocked_us);
	}
	if (!r->nforks)
		return;
	t = fl_doc_table(d, r->forks_total > r->nforks ? "fork stalls (longest write holds)" :
			 "fork stalls", 9, "tid", "<comm", "child", "at s", "write wait µs",
			 "write hold µs", "blocked µs", "queued behind", "their wait µs");
	for (size_t i = 0; i < r->nforks; i++) {
		const struct fl_report_fork *f = &r->forks[i];

		fl_table_row(t);
		fl_table_cell(t, "%d", f->tid);
		fl_table_cell(t, "%s", f->comm);
		fl_table_cell(t, "%d", f->child);
		fl_table_cell(t, "%.6f", f->enter_ns > r->recon_first_ns ?
			      (f->enter_ns - r->recon_first_ns) / 1e9 : 0.0);
		fl_table_us(t, f->wait_ns / 1000.0);
		fl_table_us(t, f->hold_ns / 1000.0);
		fl_table_us(t, f->blocked_ns / 1000.0);
		fl_table_count(t, f->waiters);
		fl_table_us(t, f->waiters_ns / 1000.0);
	}
}

static uint64_t activity(const struct fl_report_proc *p)
{
	return p->m.faults_user + p->m.faults_kernel + p->m.mmap_read_acq + p->m.mmap_write_acq;
}

static int cmp_activity(const void *a, const void *b)
{
	const struct fl_report_proc *x = *(const struct fl_report_proc *const *)a;
	const struct fl_report_proc *y = *(const struct fl_report_proc *const *)b;
	uint64_t ax = activity(x), ay = activity(y);

	return ax > ay ? -1 : ax < ay ? 1 : x->tgid - y->tgid;
}

static void proc_summary(struct fl_doc *d, const struct fl_report_proc *p, bool faults_ok)
{
	const struct fl_metrics *m = &p->m;
	char l50[32], l99[32], lmax[32], io[32], iol[32];

	if (!faults_ok) {
		fl_doc_para(d, "faults n/a (no page-fault events); forks %" PRIu64 "; chained waits "
			    "%" PRIu64 ", inversions %" PRIu64 ".", m->fork_count, m->chained_waits,
			    m->inversions);
		return;
	}

	fl_fmt_us(l50, sizeof(l50), m->fault_latency_p50_us);
	fl_fmt_us(l99, sizeof(l99), m->fault_latency_p99_us);
	fl_fmt_us(lmax, sizeof(lmax), m->fault_latency_max_us);
	fl_fmt_us(io, sizeof(io), m->io_wait_us);
	fl_fmt_us(iol, sizeof(iol), m->io_wait_locked_us);
	fl_doc_para(d, "faults %" PRIu64 " user, %" PRIu64 " kernel, %" PRIu64 " major; "
		    "retry_drop %" PRIu64 ", retry_io_miss %" PRIu64 " (%.2f%%); fault latency "
		    "p50 %s µs, p99 %s µs, max %s µs; I/O blocked %s µs (%s µs holding a "
		    "lock); forks %" PRIu64 "; chained waits %" PRIu64 ", inversions %" PRIu64 ".",
		    m->faults_user, m->faults_kernel, m->faults_major, m->retry_drop,
		    m->retry_io_miss, m->miss_drop_pct, l50, l99, lmax, io, iol, m->fork_count,
		    m->chained_waits, m->inversions);
}

static void processes(const struct fl_report *r, struct fl_doc *d)
{
	const struct fl_report_proc **order;
	size_t n = r->nprocs < PROCS_SHOWN ? r->nprocs : PROCS_SHOWN;

	if (!r->nprocs)
		return;
	order = fl_calloc(r->nprocs, sizeof(*order));
	for (size_t i = 0; i < r->nprocs; i++)
		order[i] = &r->procs[i];
	qsort(order, r->nprocs, sizeof(*order), cmp_activity);
	fl_doc_heading(d, 2, "processes", "Per process");
	if (n < r->nprocs)
		fl_doc_para(d, "The %zu most active of %zu processes (all are in the JSON report).",
			    n, r->nprocs);
	for (size_t i = 0; i < n; i++) {
		const struct fl_report_proc *p = order[i];
		char *cap;

		fl_doc_heading(d, 3, NULL, "process %d %s (%u thread%s)", p->tgid, p->comm,
			       p->threads, p->threads == 1 ? "" : "s");
		proc_summary(d, p, fl_report_faults_observed(r));
		cap = fl_asprintf("mmap_lock of process %d", p->tgid);
		lock_table(d, cap, &p->m);
		free(cap);
		top_table(d, "top waiters", &p->waiters, false);
		top_table(d, "top blockers of its waits", &p->blockers, true);
	}
	free(order);
}

struct mrow {
	struct fl_table *t;
	bool faults;			/* page-fault events observed */
};

static void metric_row(void *arg, const char *name, double v)
{
	struct mrow *m = arg;

	fl_table_row(m->t);
	fl_table_cell(m->t, "%s", name);
	if (!m->faults && fl_metrics_needs_faults(name))
		fl_table_cell(m->t, "n/a");
	else if (v == (double)(int64_t)v)
		fl_table_cell(m->t, "%" PRId64, (int64_t)v);
	else
		fl_table_cell(m->t, "%.3f", v);
}

static void vocabulary(const struct fl_report *r, struct fl_doc *d)
{
	struct mrow m;

	fl_doc_heading(d, 2, "metrics", "Metrics");
	fl_doc_para(d, "The whole %s in the shared vocabulary (DESIGN.md), by the names of "
		    "the JSON report; times in µs.", r->run_id ? "run" : "capture");
	m.t = fl_doc_table(d, NULL, 2, "<metric", "value");
	m.faults = fl_report_faults_observed(r);
	fl_metrics_foreach(&r->m, metric_row, &m);
	for (size_t i = 0; i < r->metrics.n; i++) {
		const struct fl_value *v = &r->metrics.v[i];

		fl_table_row(m.t);
		fl_table_cell(m.t, "%s", v->name);
		if (v->kind == FL_VAL_INT)
			fl_table_cell(m.t, "%" PRId64, v->i);
		else if (v->kind == FL_VAL_REAL)
			fl_table_cell(m.t, "%.3f", v->r);
		else
			fl_table_cell(m.t, "%s", v->kind == FL_VAL_STR ? v->s : "");
	}
}

static void events(const struct fl_report *r, struct fl_doc *d)
{
	struct fl_table *t;

	fl_doc_heading(d, 2, "events", "Events by type");
	t = fl_doc_table(d, NULL, 2, "<event", "events");
	for (size_t i = 0; i < r->by_type.n; i++) {
		fl_table_row(t);
		fl_table_cell(t, "%s", r->by_type.v[i].name);
		fl_table_cell(t, "%" PRId64, r->by_type.v[i].i);
	}
	if (r->events_lost) {
		t = fl_doc_table(d, "lost events per cpu", 2, "cpu", "lost");
		for (int c = 0; c < r->ncpus; c++) {
			if (!r->lost_cpu[c])
				continue;
			fl_table_row(t);
			fl_table_cell(t, "%d", c);
			fl_table_count(t, r->lost_cpu[c]);
		}
	}
}

/* The model's own numbers: the retry window decomposed, and the engine's counters. */
static void model(const struct fl_report *r, struct fl_doc *d)
{
	struct fl_table *t;

	fl_doc_heading(d, 2, "model", "Model");
	fl_doc_para(d, "retry_window.*: from a retried fault's I/O completing to its retry's "
		    "page-cache lookup (count, then µs): cpu_wait runnable without a CPU, "
		    "mmap_wait queued on mmap_lock, vma_wait queued because a writer held the VMA, "
		    "run the rest. model.*: the engine's own counters.");
	t = fl_doc_table(d, NULL, 2, "<metric", "value");
	for (size_t i = 0; i < r->run_extra.n; i++) {
		const struct fl_value *v = &r->run_extra.v[i];

		fl_table_row(t);
		fl_table_cell(t, "%s", v->name);
		if (v->r == (double)(int64_t)v->r)
			fl_table_cell(t, "%" PRId64, (int64_t)v->r);
		else
			fl_table_cell(t, "%.3f", v->r);
	}
}

/* A model run: the capture's sections that apply to a simulation, same tables. */
static void run_doc(const struct fl_report *r, struct fl_doc *d)
{
	head_run(r, d);
	faults(r, d);
	mmap_lock(r, d);
	contention(r, d);
	forks(r, d);
	model(r, d);
	vocabulary(r, d);
}

void fl_report_doc(const struct fl_report *r, struct fl_doc *d)
{
	if (r->run_id) {
		run_doc(r, d);
		return;
	}
	head(r, d);
	warnings(r, d);
	faults(r, d);
	mmap_lock(r, d);
	contention(r, d);
	forks(r, d);
	fl_doc_figure(d, FL_FIG_TIMELINE);
	processes(r, d);
	vocabulary(r, d);
	events(r, d);
}

void fl_report_text(const struct fl_report *r, struct fl_buf *out)
{
	struct fl_doc d = { 0 };

	fl_report_doc(r, &d);
	fl_doc_text(&d, out);
	fl_doc_release(&d);
}

void fl_report_md(const struct fl_report *r, struct fl_buf *out)
{
	struct fl_doc d = { 0 };

	fl_report_doc(r, &d);
	fl_doc_md(&d, out);
	fl_doc_release(&d);
}

void fl_report_html(const struct fl_report *r, struct fl_buf *out)
{
	struct fl_doc d = { 0 };

	fl_report_doc(r, &d);
	fl_doc_html(&d, fl_report_figure, (void *)r, out);
	fl_doc_release(&d);
}
