/*
 * evq.h - the engine's event queue and its seeded random numbers.
 *
 * Virtual time only: every time is in nanoseconds of simulated time, never a
 * wall-clock reading. Events pop in (time, insertion sequence) order, so two
 * events at the same instant come out in the order they were pushed and a run
 * is a pure function of its input and seed (kernel-semantics.md §1; DESIGN.md
 * "The lock model").
 */
#ifndef FL_ENGINE_EVQ_H
#define FL_ENGINE_EVQ_H

#include <stddef.h>
#include <stdint.h>

#define FL_TIME_NONE UINT64_MAX		/* "no time": not yet / never */
#define FL_TID_NONE UINT32_MAX		/* "no thread" */

/* One scheduled event; kind, tid and arg mean whatever the simulator says. */
struct fl_event {
	uint64_t time;		/* ns of virtual time */
	uint64_t seq;		/* insertion sequence: breaks ties, FIFO */
	uint32_t kind;		/* caller's event type */
	uint32_t tid;		/* caller's subject (usually a thread index) */
	uint64_t arg;		/* caller's payload, e.g. a generation for lazy cancel */
};

/*
 * A binary min-heap of events. Cancelling is lazy: put a generation number in
 * arg and drop popped events whose generation is stale.
 */
struct fl_evq {
	struct fl_event *heap;	/* heap[0] is the earliest */
	size_t n;		/* events queued */
	size_t cap;		/* events allocated */
	uint64_t next_seq;	/* sequence the next push gets */
	uint64_t now;		/* ns: time of the last popped event */
	uint64_t past_pushes;	/* pushes with time < now, clamped to now (caller bugs) */
};

void fl_evq_init(struct fl_evq *q);
/* Queues an event; a time before q->now is clamped to q->now and counted. Returns its seq. */
uint64_t fl_evq_push(struct fl_evq *q, uint64_t time, uint32_t kind, uint32_t tid, uint64_t arg);
/* Removes the earliest event into *ev and advances q->now; returns 0 when empty. */
int fl_evq_pop(struct fl_evq *q, struct fl_event *ev);
/* The earliest event without removing it, or NULL. */
const struct fl_event *fl_evq_peek(const struct fl_evq *q);
void fl_evq_release(struct fl_evq *q);

/*
 * Seeded pseudo-random numbers: xoshiro256** with its state filled by
 * splitmix64 from one 64-bit seed. The same seed gives the same sequence on
 * every machine.
 */
struct fl_rng {
	uint64_t s[4];		/* generator state, never all zero */
};

void fl_rng_init(struct fl_rng *r, uint64_t seed);
uint64_t fl_rng_next(struct fl_rng *r);
/* Uniform in [0, n); n == 0 gives 0. Unbiased (rejection). */
uint64_t fl_rng_below(struct fl_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double fl_rng_double(struct fl_rng *r);
/* One splitmix64 step: advances *x and returns a well-mixed value. */
uint64_t fl_splitmix64(uint64_t *x);

#endif
