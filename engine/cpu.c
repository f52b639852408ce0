/*
 * cpu.c - CPUs and the I/O device of the lock model.
 *
 * CPUs: ncpus identical CPUs and one run queue (FIFO, or ordered by the
 * caller's key: virtual runtime, fl_cpu_get_key), no preemption. A thread
 * calls fl_cpu_get when it becomes runnable (starts an op, is woken from an
 * I/O, lock or folio wait) and fl_cpu_put when it stops running; a thread
 * waiting for a CPU is what turns an I/O completion into a late retry
 * (kernel-semantics.md §6.1, "Eviction window": the window is the time to
 * re-acquire the fault lock plus the scheduling delay). Time slicing can be
 * modelled by the caller with put + get at slice ends. Invariant: busy <=
 * ncpus, and a thread is queued only while busy == ncpus.
 *
 * Affine mode (fl_cpu_set_affine): one FIFO run queue per CPU, as the
 * kernel's. A woken thread goes back to the CPU it last ran on
 * (select_task_rq_fair -> select_idle_sibling(p, prev, target)): if that CPU
 * is idle it runs; if not, the idle scan (select_idle_cpu, which SIS_UTIL
 * shortens to nothing when the LLC is busy) finds an idle CPU for
 * idle_permille of such wake-ups, else the thread waits on the busy CPU's
 * queue, with no wake-up preemption, until the running thread stops
 * (EEVDF with RUN_TO_PARITY does not preempt a thread inside its slice for a
 * woken one; slices are milliseconds, the loops this matters for tens of
 * microseconds). A CPU that goes idle with nothing queued pulls the longest
 * waiting thread of another CPU if that thread is not cache hot
 * (sched_balance_newidle -> can_migrate_task -> task_hot: it ran less than
 * sysctl_sched_migration_cost ago), or, hot or not, from a CPU where two or
 * more wait (the imbalance the periodic balancer would fix). The periodic
 * balancer itself is approximated at wake-ups: a thread whose busy home CPU
 * is overloaded (a thread waits there and it was busy more than 1/1.17 of
 * the recent time, util decaying as PELT's) and is home to at least two more
 * recently active threads (ran within 10 ms) than another CPU moves its home
 * there (stats.rehomed). And at a busy CPU's
 * tick an idle CPU pulls a waiting thread that is not cache hot (the nohz
 * idle balance, fl_cpu_idle_pull; the caller keeps the ticks).
 * Invariant: a thread is queued only on a busy CPU; rq_n counts all queued.
 *
 * I/O device: depth requests in service at once, the rest FIFO; each
 * request's latency is drawn when it enters service, from what the capture
 * measured (block_rq_issue→complete or fault I/O waits): a fixed value, a
 * list (uniform draw or in order) or a histogram. Draws use the seeded
 * fl_rng, so runs are reproducible.
 */
#include "engine/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fl_cpu_init(struct fl_cpu *cpu, uint32_t ncpus)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->ncpus = ncpus ? ncpus : 1;
}

void fl_cpu_release(struct fl_cpu *cpu)
{
	free(cpu->rq_tid);
	free(cpu->rq_t);
	free(cpu->rq_key);
	free(cpu->cur);
	free(cpu->util);
	cpu->util = NULL;
	free(cpu->qhead);
	free(cpu->qtail);
	free(cpu->thr);
	cpu->rq_tid = NULL;
	cpu->rq_t = NULL;
	cpu->rq_key = NULL;
	cpu->cur = cpu->qhead = cpu->qtail = NULL;
	cpu->thr = NULL;
	cpu->nthr = 0;
	cpu->rq_n = cpu->rq_cap = 0;
}

void fl_cpu_set_affine(struct fl_cpu *cpu, uint64_t migrate_ns, uint32_t idle_permille,
		       uint64_t seed)
{
	cpu->affine = true;
	cpu->migrate_ns = migrate_ns;
	cpu->idle_permille = idle_permille > 1000 ? 1000 : idle_permille;
	fl_rng_init(&cpu->rng, seed);
	cpu->cur = fl_malloc(cpu->ncpus * sizeof(*cpu->cur));
	cpu->util = fl_calloc(cpu->ncpus, sizeof(*cpu->util));
	cpu->qhead = fl_malloc(cpu->ncpus * sizeof(*cpu->qhead));
	cpu->qtail = fl_malloc(cpu->ncpus * sizeof(*cpu->qtail));
	for (uint32_t c = 0; c < cpu->ncpus; c++)
		cpu->cur[c] = cpu->qhead[c] = cpu->qtail[c] = FL_TID_NONE;
}

static struct fl_cpu_thr *thr_of(struct fl_cpu *cpu, uint32_t tid)
{
	if (tid >= cpu->nthr) {
		size_t n = cpu->nthr ? cpu->nthr : 16;

		while (n <= tid)
			n *= 2;
		cpu->thr = fl_realloc(cpu->thr, n * sizeof(*cpu->thr));
		for (size_t i = cpu->nthr; i < n; i++)
			cpu->thr[i] = (struct fl_cpu_thr){ UINT32_MAX, UINT32_MAX, FL_TID_NONE,
							   false, 0, 0 };
		cpu->nthr = n;
	}
	return &cpu->thr[tid];
}

#define PELT_HALFLIFE_NS 32768000.0	/* PELT: a contribution halves in 32 periods of 1024 us */

static void account(struct fl_cpu *cpu, uint64_t now)
{
	if (now <= cpu->t_last)
		return;
	cpu->stats.busy_ns += (now - cpu->t_last) * cpu->busy;
	if (cpu->util) {
		/* PELT: y^32 = 1/2 per 1024 us period; here continuous in ns */
		double keep = exp2(-(double)(now - cpu->t_last) / PELT_HALFLIFE_NS);

		for (uint32_t c = 0; c < cpu->ncpus; c++)
			cpu->util[c] = (cpu->cur[c] != FL_TID_NONE) +
				       (cpu->util[c] - (cpu->cur[c] != FL_TID_NONE)) * keep;
	}
	cpu->t_last = now;
}

static void run_on(struct fl_cpu *cpu, uint32_t c, uint32_t tid)
{
	struct fl_cpu_thr *t = thr_of(cpu, tid);

	cpu->cur[c] = tid;
	cpu->busy++;
	t->on = t->home = c;
}

#define BALANCE_ACTIVE_NS 10000000ULL	/* 10 ms: a thread that ran since counts as load */
#define BALANCE_CPUS	64		/* CPUs the wake-up balancing looks at (more: none) */
#define BALANCE_IMBALANCE_PCT 117.0	/* sd->imbalance_pct (sd_init) */

/* Threads waiting in CPU c's run queue. */
static uint32_t queue_len(const struct fl_cpu *cpu, uint32_t c)
{
	uint32_t n = 0;

	for (uint32_t x = cpu->qhead[c]; x != FL_TID_NONE; x = cpu->thr[x].qnext)
		n++;
	return n;
}

/*
 * group_is_overloaded for a one-CPU group: more tasks than CPUs (a thread waits)
 * and the CPU's utilization above capacity / imbalance_pct (117 %: sd_init's
 * default). The runnable_avg test (waiting time counted too) is not modelled.
 */
static bool overloaded(struct fl_cpu *cpu, uint32_t c, uint64_t now)
{
	account(cpu, now);
	return queue_len(cpu, c) > 0 && cpu->util[c] * BALANCE_IMBALANCE_PCT > 100.0;
}

static bool affine_get(struct fl_cpu *cpu, uint32_t tid, uint64_t now)
{
	struct fl_cpu_thr *t = thr_of(cpu, tid);
	uint32_t c = t->home;

	if (t->on != UINT32_MAX || t->queued) {
		cpu->stats.anomalies++;	/* already running or waiting */
		return t->on != UINT32_MAX;
	}
	if (c == UINT32_MAX) {
		/* never ran: an idle CPU, else the shortest queue (fork balancing) */
		uint32_t best = 0, bestn = UINT32_MAX;

		for (uint32_t k = 0; k < cpu->ncpus; k++) {
			uint32_t n = (cpu->cur[k] != FL_TID_NONE) + queue_len(cpu, k);

			if (n < bestn) {
				best = k;
				bestn = n;
			}
		}
		c = best;
	}
	if (cpu->cur[c] != FL_TID_NONE && cpu->ncpus > 1 && cpu->ncpus <= BALANCE_CPUS) {
		/*
		 * The periodic balancer (sched_balance_rq, every few ms on a busy CPU) moves
		 * threads from a CPU that more recently active threads call home to one that
		 * fewer do, hot or not once balancing keeps failing; the model does it at the
		 * wake-up: a thread whose busy home CPU has two or more active threads more
		 * than another CPU is rehomed there (active: ran within BALANCE_ACTIVE_NS).
		 * Only from an overloaded CPU (overloaded()): between groups with spare
		 * capacity a busy CPU does not pull, and an idle one pulls only from a CPU
		 * with a task waiting (find_busiest_group: out_balanced when the busiest is
		 * not overloaded and this CPU is not idle, or when it runs one task) -- the
		 * newidle and tick pulls here. So threads that mostly sleep stay piled where
		 * they are, as the kernel leaves them (3 + 1 and 4 + 0 workers of the
		 * default anonmix for hundreds of milliseconds).
		 */
		uint32_t homes[BALANCE_CPUS] = { 0 }, lo = c;

		for (size_t x = 0; x < cpu->nthr; x++) {
			const struct fl_cpu_thr *o = &cpu->thr[x];

			if (o->home < cpu->ncpus && (o->on != UINT32_MAX || o->queued || x == tid ||
						     (o->off_t && now - o->off_t < BALANCE_ACTIVE_NS)))
				homes[o->home]++;
		}
		for (uint32_t k = 0; k < cpu->ncpus; k++)
			if (homes[k] < homes[lo])
				lo = k;
		if (lo != c && homes[c] >= homes[lo] + 2 && overloaded(cpu, c, now)) {
			c = lo;
			t->home = lo;
			cpu->stats.rehomed++;
		}
	}
	if (cpu->cur[c] == FL_TID_NONE) {
		run_on(cpu, c, tid);
		return true;
	}
	if (cpu->idle_permille && fl_rng_below(&cpu->rng, 1000) < cpu->idle_permille) {
		/* select_idle_cpu found an idle CPU sharing the cache */
		for (uint32_t k = 0; k < cpu->ncpus; k++) {
			if (cpu->cur[k] == FL_TID_NONE) {
				run_on(cpu, k, tid);
				return true;
			}
		}
	}
	/* select_idle_sibling found nothing: wait on the previous CPU (enqueue_task_fair) */
	t->queued = true;
	t->home = c;
	t->q_t = now;
	t->qnext = FL_TID_NONE;
	if (cpu->qtail[c] != FL_TID_NONE)
		cpu->thr[cpu->qtail[c]].qnext = tid;
	else
		cpu->qhead[c] = tid;
	cpu->qtail[c] = tid;
	cpu->rq_n++;
	cpu->stats.waits++;
	if (cpu->rq_n > cpu->stats.max_runq)
		cpu->stats.max_runq = cpu->rq_n;
	return false;
}

/* Removes tid (queued on CPU c) from that queue. */
static void rq_unlink(struct fl_cpu *cpu, uint32_t c, uint32_t tid)
{
	uint32_t prev = FL_TID_NONE;

	for (uint32_t x = cpu->qhead[c]; x != FL_TID_NONE; prev = x, x = cpu->thr[x].qnext) {
		if (x != tid)
			continue;
		if (prev == FL_TID_NONE)
			cpu->qhead[c] = cpu->thr[x].qnext;
		else
			cpu->thr[prev].qnext = cpu->thr[x].qnext;
		if (cpu->qtail[c] == x)
			cpu->qtail[c] = prev;
		cpu->thr[x].qnext = FL_TID_NONE;
		cpu->thr[x].queued = false;
		cpu->rq_n--;
		return;
	}
}

/*
 * The longest waiting thread of any queue that is not cache hot
 * (can_migrate_task -> task_hot: it ran within sysctl_sched_migration_cost),
 * or, with pile, hot too from a queue where two or more wait.
 */
static uint32_t oldest_movable(const struct fl_cpu *cpu, uint64_t now, bool pile)
{
	uint64_t oldest = UINT64_MAX;
	uint32_t next = FL_TID_NONE;

	for (uint32_t k = 0; k < cpu->ncpus; k++) {
		bool two = pile && queue_len(cpu, k) >= 2;

		for (uint32_t x = cpu->qhead[k]; x != FL_TID_NONE; x = cpu->thr[x].qnext)
			if ((two || !cpu->thr[x].off_t ||
			     now - cpu->thr[x].off_t >= cpu->migrate_ns) &&
			    cpu->thr[x].q_t < oldest) {
				oldest = cpu->thr[x].q_t;
				next = x;
			}
	}
	return next;
}

/* Queued thread next leaves its queue and runs on the free CPU c; its wait in *waited. */
static uint32_t take(struct fl_cpu *cpu, uint32_t c, uint32_t next, uint64_t now,
		     uint64_t *waited)
{
	uint64_t w;

	rq_unlink(cpu, cpu->thr[next].home, next);
	w = now - cpu->thr[next].q_t;
	run_on(cpu, c, next);
	cpu->stats.wait_total_ns += w;
	if (w > cpu->stats.wait_max_ns)
		cpu->stats.wait_max_ns = w;
	if (waited)
		*waited = w;
	return next;
}

static uint32_t affine_put(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t *waited)
{
	struct fl_cpu_thr *t = thr_of(cpu, tid);
	uint32_t c = t->on, next;

	if (c == UINT32_MAX || cpu->cur[c] != tid) {
		cpu->stats.anomalies++;
		return FL_TID_NONE;
	}
	t->on = UINT32_MAX;
	t->off_t = now;
	cpu->cur[c] = FL_TID_NONE;
	cpu->busy--;
	/*
	 * Its own queue first; else the newidle balance: a thread of another CPU
	 * that is not cache hot, or hot from a CPU with two or more waiting: an
	 * imbalance the periodic balancer would fix (sched_balance_rq migrates hot
	 * tasks once balancing has failed cache_nice_tries times), and without
	 * which threads that started on one CPU would stay piled there for the
	 * whole run.
	 */
	next = cpu->qhead[c] != FL_TID_NONE ? cpu->qhead[c] : oldest_movable(cpu, now, true);
	return next == FL_TID_NONE ? FL_TID_NONE : take(cpu, c, next, now, waited);
}

bool fl_cpu_idle_and_queued(const struct fl_cpu *cpu)
{
	return cpu->affine && cpu->rq_n && cpu->busy < cpu->ncpus;
}

/*
 * The nohz idle balance: a busy CPU's scheduler tick with two or more runnable
 * threads kicks an idle CPU (sched_tick -> sched_balance_trigger ->
 * nohz_balancer_kick -> kick_ilb), which runs the balancer for itself
 * (_nohz_idle_balance -> sched_balance_rq) and pulls a waiting thread that is
 * not cache hot (can_migrate_task -> task_hot). Without it a thread woken onto
 * its busy previous CPU waits for the thread running there however long that
 * runs, while the other CPU idles; with it, until the next tick at most.
 */
uint32_t fl_cpu_idle_pull(struct fl_cpu *cpu, uint64_t now, uint64_t *waited)
{
	uint32_t idle = UINT32_MAX, next;

	if (!cpu->affine)
		return FL_TID_NONE;
	account(cpu, now);
	for (uint32_t k = 0; k < cpu->ncpus && idle == UINT32_MAX; k++)
		if (cpu->cur[k] == FL_TID_NONE)
			idle = k;
	if (idle == UINT32_MAX)
		return FL_TID_NONE;
	next = oldest_movable(cpu, now, false);
	return next == FL_TID_NONE ? FL_TID_NONE : take(cpu, idle, next, now, waited);
}

uint32_t fl_cpu_put_thread(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t *waited)
{
	if (!cpu->affine)
		return fl_cpu_put(cpu, now, waited);
	account(cpu, now);
	return affine_put(cpu, tid, now, waited);
}

bool fl_cpu_contended(const struct fl_cpu *cpu, uint32_t tid)
{
	if (!cpu->affine)
		return cpu->rq_n > 0;
	if (tid >= cpu->nthr || cpu->thr[tid].on == UINT32_MAX)
		return false;
	return cpu->qhead[cpu->thr[tid].on] != FL_TID_NONE;
}

static bool enqueue(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t key)
{
	size_t pos, i;

	account(cpu, now);
	cpu->stats.runs++;
	if (cpu->affine)
		return affine_get(cpu, tid, now);
	if (cpu->busy < cpu->ncpus) {
		cpu->busy++;
		return true;
	}
	if (cpu->rq_n == cpu->rq_cap) {
		size_t ncap = cpu->rq_cap ? 2 * cpu->rq_cap : 64;
		uint32_t *nt = fl_malloc(ncap * sizeof(*nt));
		uint64_t *ns = fl_malloc(ncap * sizeof(*ns));
		uint64_t *nk = fl_malloc(ncap * sizeof(*nk));

		for (size_t k = 0; k < cpu->rq_n; k++) {
			nt[k] = cpu->rq_tid[(cpu->rq_head + k) % cpu->rq_cap];
			ns[k] = cpu->rq_t[(cpu->rq_head + k) % cpu->rq_cap];
			nk[k] = cpu->rq_key[(cpu->rq_head + k) % cpu->rq_cap];
		}
		free(cpu->rq_tid);
		free(cpu->rq_t);
		free(cpu->rq_key);
		cpu->rq_tid = nt;
		cpu->rq_t = ns;
		cpu->rq_key = nk;
		cpu->rq_head = 0;
		cpu->rq_cap = ncap;
	}
	/* position: after every queued key not above this one */
	pos = cpu->rq_n;
	while (pos > 0 && cpu->rq_key[(cpu->rq_head + pos - 1) % cpu->rq_cap] > key)
		pos--;
	for (size_t k = cpu->rq_n; k > pos; k--) {
		size_t to = (cpu->rq_head + k) % cpu->rq_cap, from = (cpu->rq_head + k - 1) % cpu->rq_cap;

		cpu->rq_tid[to] = cpu->rq_tid[from];
		cpu->rq_t[to] = cpu->rq_t[from];
		cpu->rq_key[to] = cpu->rq_key[from];
	}
	i = (cpu->rq_head + pos) % cpu->rq_cap;
	cpu->rq_n++;
	cpu->rq_tid[i] = tid;
	cpu->rq_t[i] = now;
	cpu->rq_key[i] = key;
	cpu->stats.waits++;
	if (cpu->rq_n > cpu->stats.max_runq)
		cpu->stats.max_runq = cpu->rq_n;
	return false;
}

bool fl_cpu_get(struct fl_cpu *cpu, uint32_t tid, uint64_t now)
{
	return enqueue(cpu, tid, now, UINT64_MAX);
}

bool fl_cpu_get_key(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t key)
{
	return enqueue(cpu, tid, now, key);
}

uint64_t fl_cpu_head_key(const struct fl_cpu *cpu)
{
	return !cpu->affine && cpu->rq_n ? cpu->rq_key[cpu->rq_head] : UINT64_MAX;
}

uint32_t fl_cpu_put(struct fl_cpu *cpu, uint64_t now, uint64_t *waited)
{
	uint32_t tid;
	uint64_t w;

	account(cpu, now);
	if (!cpu->busy) {
		cpu->stats.anomalies++;
		return FL_TID_NONE;
	}
	if (!cpu->rq_n) {
		cpu->busy--;
		return FL_TID_NONE;
	}
	tid = cpu->rq_tid[cpu->rq_head];
	w = now - cpu->rq_t[cpu->rq_head];
	cpu->rq_head = (cpu->rq_head + 1) % cpu->rq_cap;
	cpu->rq_n--;
	cpu->stats.wait_total_ns += w;
	if (w > cpu->stats.wait_max_ns)
		cpu->stats.wait_max_ns = w;
	if (waited)
		*waited = w;
	return tid;
}

/* ---- I/O device ---- */

static void io_common(struct fl_io *io, uint32_t depth, uint64_t seed)
{
	memset(io, 0, sizeof(*io));
	io->depth = depth;
	fl_rng_init(&io->rng, seed);
}

void fl_io_init_fixed(struct fl_io *io, uint32_t depth, uint64_t fixed_ns)
{
	io_common(io, depth, 0);
	io->mode = FL_IO_FIXED;
	io->fixed_ns = fixed_ns;
}

int fl_io_init_samples(struct fl_io *io, uint32_t depth, enum fl_io_mode mode,
		       const uint64_t *lat_ns, size_t n, uint64_t seed, struct fl_err *err)
{
	io_common(io, depth, seed);
	if (!n || (mode != FL_IO_SAMPLES && mode != FL_IO_CYCLE))
		return fl_seterr(err, "cannot set up the I/O model: %s",
				 n ? "mode must be samples or cycle" :
				     "no latency samples (the capture has no block I/O; "
				     "give a fixed latency)");
	io->mode = mode;
	io->lat = fl_malloc(n * sizeof(*io->lat));
	memcpy(io->lat, lat_ns, n * sizeof(*io->lat));
	io->nlat = n;
	return 0;
}

int fl_io_init_hist(struct fl_io *io, uint32_t depth, const uint64_t *lo_ns, const uint64_t *hi_ns,
		    const uint64_t *count, size_t nbins, uint64_t seed, struct fl_err *err)
{
	uint64_t total = 0;

	io_common(io, depth, seed);
	for (size_t i = 0; i < nbins; i++) {
		if (hi_ns[i] < lo_ns[i])
			return fl_seterr(err, "cannot set up the I/O model: bin %zu has hi < lo",
					 i);
		total += count[i];
	}
	if (!total)
		return fl_seterr(err, "cannot set up the I/O model: "
				 "the latency histogram is empty");
	io->mode = FL_IO_HIST;
	io->lat = fl_malloc(nbins * sizeof(*io->lat));
	io->hi = fl_malloc(nbins * sizeof(*io->hi));
	io->cum = fl_malloc(nbins * sizeof(*io->cum));
	total = 0;
	for (size_t i = 0; i < nbins; i++) {
		io->lat[i] = lo_ns[i];
		io->hi[i] = hi_ns[i];
		total += count[i];
		io->cum[i] = total;
	}
	io->nlat = nbins;
	return 0;
}

void fl_io_release(struct fl_io *io)
{
	free(io->lat);
	free(io->hi);
	free(io->cum);
	free(io->q_tag);
	free(io->q_t);
	memset(io, 0, sizeof(*io));
}

uint64_t fl_io_draw(struct fl_io *io)
{
	uint64_t r;
	size_t lo, hi;

	switch (io->mode) {
	case FL_IO_SAMPLES:
		return io->lat[fl_rng_below(&io->rng, io->nlat)];
	case FL_IO_CYCLE:
		r = io->lat[io->next];
		io->next = (io->next + 1) % io->nlat;
		return r;
	case FL_IO_HIST:
		r = fl_rng_below(&io->rng, io->cum[io->nlat - 1]);
		lo = 0;
		hi = io->nlat - 1;
		while (lo < hi) {	/* first bin with cum > r */
			size_t mid = (lo + hi) / 2;

			if (io->cum[mid] > r)
				hi = mid;
			else
				lo = mid + 1;
		}
		return io->lat[lo] + fl_rng_below(&io->rng, io->hi[lo] - io->lat[lo]);
	case FL_IO_FIXED:
	default:
		return io->fixed_ns;
	}
}

void fl_io_set_rounds(struct fl_io *io, uint64_t gap_ns, uint32_t miss_ppm)
{
	io->rounds = true;
	io->gap_ns = gap_ns;
	io->miss_ppm = miss_ppm;
	io->depth = 0;
}

/* The completion time of a request submitted now to a device in rounds. */
static uint64_t round_join(struct fl_io *io, uint64_t now)
{
	int k = 0;

	while (io->r_done[0] && io->r_done[0] <= now) {	/* completed rounds go */
		io->r_done[0] = io->r_done[1];
		io->r_n[0] = io->r_n[1];
		io->r_done[1] = 0;
		io->r_n[1] = 0;
	}
	if (!io->r_done[0]) {
		io->r_done[0] = now + fl_io_draw(io);
	} else if (io->miss_ppm && fl_rng_below(&io->rng, 1000000) < io->miss_ppm) {
		if (!io->r_done[1])
			io->r_done[1] = io->r_done[0] + fl_io_draw(io);
		k = 1;
	}
	return io->r_done[k] + io->gap_ns * io->r_n[k]++;
}

static uint64_t start(struct fl_io *io, uint64_t now)
{
	uint64_t lat = io->rounds ? round_join(io, now) - now : fl_io_draw(io);

	io->inflight++;
	if (io->inflight > io->stats.max_inflight)
		io->stats.max_inflight = io->inflight;
	io->stats.service_ns += lat;
	return now + lat;
}

bool fl_io_submit(struct fl_io *io, uint64_t now, uint64_t tag, uint64_t *done_at)
{
	size_t i;

	io->stats.submitted++;
	if (!io->depth || io->inflight < io->depth) {
		*done_at = start(io, now);
		return true;
	}
	if (io->q_n == io->q_cap) {
		size_t ncap = io->q_cap ? 2 * io->q_cap : 64;
		uint64_t *nt = fl_malloc(ncap * sizeof(*nt)), *ns = fl_malloc(ncap * sizeof(*ns));

		for (size_t k = 0; k < io->q_n; k++) {
			nt[k] = io->q_tag[(io->q_head + k) % io->q_cap];
			ns[k] = io->q_t[(io->q_head + k) % io->q_cap];
		}
		free(io->q_tag);
		free(io->q_t);
		io->q_tag = nt;
		io->q_t = ns;
		io->q_head = 0;
		io->q_cap = ncap;
	}
	i = (io->q_head + io->q_n++) % io->q_cap;
	io->q_tag[i] = tag;
	io->q_t[i] = now;
	io->stats.queued++;
	return false;
}

bool fl_io_complete(struct fl_io *io, uint64_t now, uint64_t *tag, uint64_t *done_at)
{
	if (!io->inflight) {
		io->stats.anomalies++;
		return false;
	}
	io->inflight--;
	io->stats.completed++;
	if (!io->q_n)
		return false;
	*tag = io->q_tag[io->q_head];
	io->stats.queue_ns += now - io->q_t[io->q_head];
	io->q_head = (io->q_head + 1) % io->q_cap;
	io->q_n--;
	*done_at = start(io, now);
	return true;
}
