/*
 * cpu.h - a pool of CPUs with one run queue (FIFO, or by key) or per-CPU
 * queues, and an I/O device with a queue depth and latencies taken from the
 * capture (kernel-semantics.md §6: the retry window includes waiting for a
 * CPU after the I/O wake-up).
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
	uint64_t rehomed;		/* affine: wake-ups moved to a less loaded CPU */
	uint64_t anomalies;
};

/* Per-thread state of the affine mode, indexed by tid. */
struct fl_cpu_thr {
	uint32_t home;			/* CPU it last ran on (wakes there); UINT32_MAX none */
	uint32_t on;			/* CPU it runs on now; UINT32_MAX none */
	uint32_t qnext;			/* next in its CPU's run queue; FL_TID_NONE last */
	bool queued;			/* in a run queue */
	uint64_t q_t;			/* ns: entered the run queue */
	uint64_t off_t;			/* ns: last stopped running (task_hot), 0 never ran */
};

struct fl_cpu {
	uint32_t ncpus;			/* CPUs (capture header or --cpus) */
	uint32_t busy;			/* CPUs running a thread */
	uint32_t *rq_tid;		/* ring buffer: waiting threads (pool mode) */
	uint64_t *rq_t;			/* ns: when each started waiting */
	uint64_t *rq_key;		/* pool mode: the queue's order, smallest first, FIFO
					   among equals */
	size_t rq_head, rq_n, rq_cap;	/* ring head, length, size; rq_n counts the
					   waiting threads of all CPUs in either mode */
	uint64_t t_last;		/* ns: last accounting point */
	/* affine mode (fl_cpu_set_affine): one run queue per CPU */
	bool affine;
	uint64_t migrate_ns;		/* ns: sysctl_sched_migration_cost (task_hot) */
	uint32_t idle_permille;		/* wake-ups onto a busy CPU sent to an idle one, per mille */
	struct fl_rng rng;		/* draws for idle_permille */
	uint32_t *cur;			/* [ncpus] tid running on each CPU, FL_TID_NONE idle */
	double *util;			/* [ncpus] share of recent time busy, decaying as PELT's
					   util_avg does (32 ms half-life) */
	uint32_t *qhead, *qtail;	/* [ncpus] FIFO run queues (links in thr[].qnext) */
	struct fl_cpu_thr *thr;		/* [nthr] by tid */
	size_t nthr;
	struct fl_cpu_stats stats;
};

void fl_cpu_init(struct fl_cpu *cpu, uint32_t ncpus);
void fl_cpu_release(struct fl_cpu *cpu);
/* A thread wants to run: true = it has a CPU now; false = queued FIFO. */
bool fl_cpu_get(struct fl_cpu *cpu, uint32_t tid, uint64_t now);
/*
 * As fl_cpu_get, queued by key (smallest first, after equal keys) in pool
 * mode: the caller's virtual runtime, as the fair scheduler orders its run
 * queue (kernel/sched/fair.c). fl_cpu_get is the FIFO of equal keys. Affine
 * mode ignores the key (each CPU's queue is FIFO).
 */
bool fl_cpu_get_key(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t key);
/* Pool mode: the key of the first queued thread, UINT64_MAX if none waits. */
uint64_t fl_cpu_head_key(const struct fl_cpu *cpu);
/* A thread stops running (sleeps, ends): the CPU goes to the next queued thread, whose tid
 * is returned with *waited its queueing time in ns, else FL_TID_NONE. */
uint32_t fl_cpu_put(struct fl_cpu *cpu, uint64_t now, uint64_t *waited);
/*
 * Affine mode, the kernel's wake-up placement when select_idle_sibling finds no
 * idle CPU sharing a cache with the previous one (each CPU its own LLC): a
 * woken thread goes to the CPU it last ran on and waits there, FIFO, while
 * that CPU runs another thread, even if another CPU is idle; no wake-up
 * preemption. A CPU that goes idle with an empty queue pulls the longest
 * waiting thread of another CPU unless that thread is cache hot (it stopped
 * running less than migrate_ns ago: task_hot, sched_balance_newidle). A thread
 * that never ran takes any idle CPU (fork balancing). idle_permille: the share
 * of wake-ups onto a busy previous CPU that go to an idle CPU instead (the
 * idle scan succeeded), drawn from an fl_rng seeded with seed; 0 = never,
 * 1000 = always when one is idle. Call before any get.
 */
void fl_cpu_set_affine(struct fl_cpu *cpu, uint64_t migrate_ns, uint32_t idle_permille,
		       uint64_t seed);
/* fl_cpu_put of thread tid (the CPU it runs on, in affine mode). */
uint32_t fl_cpu_put_thread(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t *waited);
/* Affine mode: a CPU is idle while a thread waits on another's queue. */
bool fl_cpu_idle_and_queued(const struct fl_cpu *cpu);
/* Affine mode, the nohz idle balance at a busy CPU's tick: an idle CPU takes the longest waiting
 * thread that is not cache hot; its tid (running there now), else FL_TID_NONE. */
uint32_t fl_cpu_idle_pull(struct fl_cpu *cpu, uint64_t now, uint64_t *waited);
/* Others wait for the CPU thread tid runs on (a time slice should end). */
bool fl_cpu_contended(const struct fl_cpu *cpu, uint32_t tid);

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
	/* rounds (fl_io_set_rounds): the device completes what it took in together */
	bool rounds;
	uint64_t gap_ns;		/* spacing of the completions within a round */
	uint32_t miss_ppm;		/* requests per million that miss the open round */
	uint64_t r_done[2];		/* first completion of the open round, of the next; 0 none */
	uint32_t r_n[2];		/* requests in each */
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
/*
 * Rounds: a device that completes requests in batches (this machine's virtio
 * disk: 16 reads completed within ~50 us every ~1.2 ms, replay/README.md
 * "Measured in session 7"). A request that finds no round open opens one whose
 * first completion comes a latency draw later; requests submitted before then
 * join it and complete after it in submission order, gap_ns apart, except
 * miss_ppm per million, which complete with the round after (opened when the
 * first of them misses, a draw after the open one). The depth limit does not
 * apply: the rounds are what limit the device.
 */
void fl_io_set_rounds(struct fl_io *io, uint64_t gap_ns, uint32_t miss_ppm);

#endif
