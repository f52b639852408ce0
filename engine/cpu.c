/*
 * cpu.c - CPUs and the I/O device of the lock model.
 *
 * CPUs: ncpus identical CPUs and one FIFO run queue, no preemption. A thread
 * calls fl_cpu_get when it becomes runnable (starts an op, is woken from an
 * I/O, lock or folio wait) and fl_cpu_put when it stops running; a thread
 * waiting for a CPU is what turns an I/O completion into a late retry
 * (kernel-semantics.md §6.1, "Eviction window": the window is the time to
 * re-acquire the fault lock plus the scheduling delay). Time slicing can be
 * modelled by the caller with put + get at slice ends. Invariant: busy <=
 * ncpus, and a thread is queued only while busy == ncpus.
 *
 * I/O device: depth requests in service at once, the rest FIFO; each
 * request's latency is drawn when it enters service, from what the capture
 * measured (block_rq_issue→complete or fault I/O waits): a fixed value, a
 * list (uniform draw or in order) or a histogram. Draws use the seeded
 * fl_rng, so runs are reproducible.
 */
#include "engine/cpu.h"

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
	cpu->rq_tid = NULL;
	cpu->rq_t = NULL;
	cpu->rq_key = NULL;
	cpu->rq_n = cpu->rq_cap = 0;
}

static void account(struct fl_cpu *cpu, uint64_t now)
{
	if (now > cpu->t_last)
		cpu->stats.busy_ns += (now - cpu->t_last) * cpu->busy;
	if (now > cpu->t_last)
		cpu->t_last = now;
}

static bool enqueue(struct fl_cpu *cpu, uint32_t tid, uint64_t now, uint64_t key)
{
	size_t pos, i;

	account(cpu, now);
	cpu->stats.runs++;
	if (cpu->busy < cpu->ncpus) {
		cpu->busy++;
		return true;
	}
	if (cpu->rq_n == cpu->rq_cap) {
		size_t ncap = cpu->rq_cap ? 2 * cpu->rq_cap : 64;
		uint32_t *nt = fl_malloc(ncap * sizeof(*nt));
		uint64_t *ns = fl_malloc(ncap * sizeof(*ns));
		uint64_t *nw = fl_malloc(ncap * sizeof(*nw));

		for (size_t k = 0; k < cpu->rq_n; k++) {
			nt[k] = cpu->rq_tid[(cpu->rq_head + k) % cpu->rq_cap];
			ns[k] = cpu->rq_t[(cpu->rq_head + k) % cpu->rq_cap];
			nw[k] = cpu->rq_key[(cpu->rq_head + k) % cpu->rq_cap];
		}
		free(cpu->rq_tid);
		free(cpu->rq_t);
		free(cpu->rq_key);
		cpu->rq_tid = nt;
		cpu->rq_t = ns;
		cpu->rq_key = nw;
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
	return cpu->rq_n ? cpu->rq_key[cpu->rq_head] : UINT64_MAX;
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

static uint64_t start(struct fl_io *io, uint64_t now)
{
	uint64_t lat = fl_io_draw(io);

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
