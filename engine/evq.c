/*
 * evq.c - the discrete-event queue of the lock model.
 *
 * The engine is a discrete-event simulation in virtual time (kernel-semantics
 * .md §1, DESIGN.md "The lock model"): the simulator pops the earliest event,
 * changes model state (rwsem §3, VMA locks §4, folios §6), and pushes the
 * events that change causes. Determinism is the invariant everything else
 * relies on: events are ordered by (time ns, insertion sequence), exactly as
 * git's prio_queue breaks ties, so equal-time events come out in push order
 * and a run depends only on its input and seed. Nothing here reads a clock.
 *
 * The heap is a plain array binary heap: push and pop are O(log n) with no
 * allocation in the steady state (the array only grows). Expected load is a
 * few events per simulated thread (its next op, an I/O completion, a spin
 * timeout), so thousands, not millions, are queued at once.
 *
 * Randomness (I/O latency draws, random test programs) comes from
 * xoshiro256** seeded through splitmix64; the same seed gives the same
 * numbers everywhere.
 */
#include "engine/evq.h"

#include <stdlib.h>

#include "common/fl.h"

static inline int ev_before(const struct fl_event *a, const struct fl_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->seq < b->seq;
}

void fl_evq_init(struct fl_evq *q)
{
	q->heap = NULL;
	q->n = 0;
	q->cap = 0;
	q->next_seq = 0;
	q->now = 0;
	q->past_pushes = 0;
}

uint64_t fl_evq_push(struct fl_evq *q, uint64_t time, uint32_t kind, uint32_t tid, uint64_t arg)
{
	struct fl_event ev;
	size_t i;

	if (time < q->now) {
		time = q->now;
		q->past_pushes++;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 64;
		q->heap = fl_realloc(q->heap, q->cap * sizeof(*q->heap));
	}
	ev.time = time;
	ev.seq = q->next_seq++;
	ev.kind = kind;
	ev.tid = tid;
	ev.arg = arg;

	/* sift up */
	i = q->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!ev_before(&ev, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = ev;
	return ev.seq;
}

int fl_evq_pop(struct fl_evq *q, struct fl_event *ev)
{
	struct fl_event last;
	size_t i, n;

	if (!q->n)
		return 0;
	*ev = q->heap[0];
	q->now = ev->time;
	last = q->heap[--q->n];
	n = q->n;

	/* sift the last element down from the root */
	i = 0;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!ev_before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (n)
		q->heap[i] = last;
	return 1;
}

const struct fl_event *fl_evq_peek(const struct fl_evq *q)
{
	return q->n ? &q->heap[0] : NULL;
}

void fl_evq_release(struct fl_evq *q)
{
	free(q->heap);
	fl_evq_init(q);
}

uint64_t fl_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fl_rng_init(struct fl_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = fl_splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t fl_rng_next(struct fl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t fl_rng_below(struct fl_rng *r, uint64_t n)
{
	uint64_t x, limit;

	if (n == 0)
		return 0;
	/* reject the top partial range so every residue is equally likely */
	limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
	do
		x = fl_rng_next(r);
	while (x > limit);
	return x % n;
}

double fl_rng_double(struct fl_rng *r)
{
	return (fl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
