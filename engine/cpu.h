/*
 * cpu.h - a pool of CPUs with one FIFO run queue, and an I/O device with a
 * queue depth and latencies taken from the capture (kernel-semantics.md §6:
 * the retry window includes waiting for a CPU after the I/O wake-up).
 */
#ifndef FL_ENGINE_CPU_H
#define FL_ENGINE_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fl.h"
#include "engine/evq.h"

struct fl_cpu_stats {
	uint64_t runs;			/* fl_cpu_get calls */
	uint64_t waits;			/* ... that had to queue */
	uint64_t wait_total_ns;		/* ns in the run queue */
	uint64_t wait_max_ns;		/* ns */
	uint64_t max_runq;		/* threads */
	uint64_t busy_ns;		/* ns × CPUs busy, integrated up to the last call */
	uint64_t anomalies;
};

struct fl_cpu {
	uint32_t ncpus;			/* CPUs (capture header or --cpus) */
	uint32_t busy;			/* CPUs running a thread */
	uint32_t *rq_tid;		/* ring buffer: waiting threads */
	uint64_t *rq_t;			/* ns: when each started waiting */
	uint64_t *rq_key;		/* the order of the queue: smallest first, FIFO among equals */
	size_t rq_head, rq_n, rq_cap;	/* ring head, length, size */
	uint64_t t_last;		/* ns: last accounting point */
	struct fl_cpu_stats stats;
};

void fl_cpu_init(struct fl_cpu *cpu, uint32_t ncpus);
void fl_cpu_release(struct fl_cpu *cpu);
/* A thread wants to run: true = it has a CPU now; false = queued FIFO. */
bool fl_cpu_get(struct fl_cpu *cpu, uint32_t tid, uint64_t now);
/*
 * As fl_cpu_get, queued by key (smallest first, after equal keys): the caller's
 * virtual runtime, as the fair scheduler orders its run queue
 * (kernel/sched/fair.c, the task with the earliest eligible deadline runs).
 * fl_cpu_get is the FIFO of equal keys.
 */
bool fl_cpu_get_key(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t key);
/* The key of the first queued thread, UINT64_MAX if none waits. */
uint64_t fl_cpu_head_key(const struct fl_cpu *cpu);
/* A thread stops running (sleeps, ends): the CPU goes to the next queued thread, whose tid
 * is returned with *waited its queueing time in ns, else FL_TID_NONE. */
uint32_t fl_cpu_put(struct fl_cpu *cpu, uint64_t now, uint64_t *waited);

enum fl_io_mode {
	FL_IO_FIXED,			/* every request takes fixed_ns */
	FL_IO_SAMPLES,			/* uniform draw from a list of latencies */
	FL_IO_CYCLE,			/* the list in order, repeating */
	FL_IO_HIST,			/* draw a bin by count, then uniform in [lo, hi) */
};

struct fl_io_stats {
	uint64_t submitted, completed;
	uint64_t queued;		/* requests that waited for a slot */
	uint64_t queue_ns;		/* ns: total wait for a slot */
	uint64_t service_ns;		/* ns: total latency drawn */
	uint64_t max_inflight;
	uint64_t anomalies;
};

struct fl_io {
	enum fl_io_mode mode;
	uint32_t depth;			/* requests in service at once; 0 = unlimited */
	uint32_t inflight;
	uint64_t fixed_ns;		/* ns (FIXED) */
	uint64_t *lat;			/* ns: samples, or bin lower bounds (HIST) */
	uint64_t *hi;			/* ns: bin upper bounds (HIST) */
	uint64_t *cum;			/* cumulative counts (HIST) */
	size_t nlat;			/* samples or bins */
	size_t next;			/* next sample (CYCLE) */
	uint64_t *q_tag, *q_t;		/* ring: queued requests and their submit times */
	size_t q_head, q_n, q_cap;
	struct fl_rng rng;
	struct fl_io_stats stats;
};

void fl_io_init_fixed(struct fl_io *io, uint32_t depth, uint64_t fixed_ns);
/* lat_ns[n] latencies in ns (copied); mode FL_IO_SAMPLES or FL_IO_CYCLE. */
int fl_io_init_samples(struct fl_io *io, uint32_t depth, enum fl_io_mode mode,
		       const uint64_t *lat_ns, size_t n, uint64_t seed, struct fl_err *err);
/* Histogram: bin i covers [lo_ns[i], hi_ns[i]) with count[i] requests (copied). */
int fl_io_init_hist(struct fl_io *io, uint32_t depth, const uint64_t *lo_ns, const uint64_t *hi_ns,
		    const uint64_t *count, size_t nbins, uint64_t seed, struct fl_err *err);
void fl_io_release(struct fl_io *io);
/* Submits a request: true = in service, completes at *done_at; false = queued. */
bool fl_io_submit(struct fl_io *io, uint64_t now, uint64_t tag, uint64_t *done_at);
/* A request completed: if a queued one starts, true with its tag and completion time. */
bool fl_io_complete(struct fl_io *io, uint64_t now, uint64_t *tag, uint64_t *done_at);
/* One latency draw (ns) as the next request would get it. */
uint64_t fl_io_draw(struct fl_io *io);

#endif
