/*
 * The engine's rwsem against a brute-force reference on random programs,
 * determinism, and a throughput floor.
 *
 * A program is a few threads, each a short list of ops {think ticks, read,
 * write or write-then-downgrade, hold ticks, and sometimes a deadline after
 * which a waiter gives up (a fatal signal in a killable wait)}; writers that
 * are woken run after L ticks; a spinning writer's window is S ticks; HANDOFF
 * after H ticks (0: off). Instants are keys ((tick * 6 + class) * 4 + tid)
 * with classes release < downgrade < cancel < woken writer runs < spin ends <
 * requests, so simultaneous happenings have one order both models follow.
 *
 * The engine side drives fl_rwsem through fl_evq like the replay will. The
 * reference is a separate, deliberately naive model: it steps through every
 * key, keeps the queue in an array and re-derives the §3 rules from
 * kernel-semantics.md. Both log (key, tid, op) for every grant; the logs must
 * be identical. A broken reference (readers ignore queued writers) must be
 * caught on some program, proving the comparison can fail. Both models were
 * written by the same author from the same spec: the check finds
 * implementation errors (queue surgery, wake lists, stale timers, event
 * ordering), not misreadings of the spec.
 */
#include "tests/unit/test.h"

#include <stdlib.h>

#include "common/fl.h"
#include "engine/evq.h"
#include "engine/rwsem.h"

#define MAXT 4
#define MAXOPS 6
#define NCLASS 6
#define K (NCLASS * MAXT)		/* keys per tick */
enum { CL_REL, CL_DG, CL_CANCEL, CL_WAKE, CL_SPIN, CL_REQ };

struct op {
	int think;			/* ticks before the request */
	int write;			/* 1: write; 2: write, downgraded after dg ticks */
	int hold;			/* ticks held in all */
	int dg;				/* ticks before the downgrade (1..hold) */
	int cancel;			/* gives up waiting after this many ticks; 0 never */
};

struct prog {
	int nt, nops[MAXT];
	struct op ops[MAXT][MAXOPS];
	int wake_lat;			/* L ticks */
	int spin;			/* S ticks, 0 = writers do not spin */
	int spin_on_writer;		/* spin on a write-owned lock too */
	int handoff;			/* H ticks, 0 = off */
};

struct grant {
	uint64_t key;
	int tid, op;
};

struct log {
	struct grant g[MAXT * MAXOPS];
	int n;
};

static uint64_t key(uint64_t tick, int cls, int tid)
{
	return (tick * NCLASS + cls) * MAXT + tid;
}

static void gen(struct prog *p, struct fl_rng *r)
{
	p->nt = 2 + fl_rng_below(r, MAXT - 1);
	for (int t = 0; t < p->nt; t++) {
		p->nops[t] = 1 + fl_rng_below(r, MAXOPS);
		for (int i = 0; i < p->nops[t]; i++) {
			struct op *o = &p->ops[t][i];
			int k = fl_rng_below(r, 100);

			o->think = fl_rng_below(r, 5);
			o->write = k < 25 ? 1 : k < 35 ? 2 : 0;
			o->hold = 1 + fl_rng_below(r, 6);
			o->dg = 1 + fl_rng_below(r, o->hold);
			o->cancel = fl_rng_below(r, 100) < 15 ? 1 + fl_rng_below(r, 4) : 0;
		}
	}
	p->wake_lat = fl_rng_below(r, 3);
	p->spin = fl_rng_below(r, 2) ? 1 + fl_rng_below(r, 3) : 0;
	p->spin_on_writer = p->spin && fl_rng_below(r, 2);
	p->handoff = fl_rng_below(r, 2) ? 2 + fl_rng_below(r, 6) : 0;
}

/* ---- the engine side ---- */

struct ethread {
	struct fl_rwsem_waiter w;
	int op;
	uint64_t gen;		/* spin-timer generation */
};

static void e_hold(struct fl_evq *q, const struct prog *p, struct ethread *th, struct log *lg,
		   uint64_t now)
{
	int tid = th->w.tid;
	struct grant *g = &lg->g[lg->n++];

	const struct op *o = &p->ops[tid][th->op];

	g->key = now;
	g->tid = tid;
	g->op = th->op;
	if (o->write == 2)
		fl_evq_push(q, key(now / K + o->dg, CL_DG, tid), CL_DG, tid, 0);
	else
		fl_evq_push(q, key(now / K + o->hold, CL_REL, tid), CL_REL, tid, 0);
}

/* The op ends (released or given up): the next request, if any. */
static void e_next(struct fl_evq *q, const struct prog *p, struct ethread *me, uint64_t now)
{
	int tid = me->w.tid;

	if (++me->op < p->nops[tid])
		fl_evq_push(q, key(now / K + p->ops[tid][me->op].think, CL_REQ, tid), CL_REQ,
			    tid, 0);
}

static void e_drain(struct fl_rwsem *sem, struct fl_evq *q, const struct prog *p,
		    struct ethread *th, struct log *lg, uint64_t now)
{
	for (struct fl_rwsem_waiter *w = fl_rwsem_woken(sem); w; w = w->wake_next) {
		if (w->state == FL_RWS_WOKEN)
			fl_evq_push(q, key(now / K + p->wake_lat, CL_WAKE, w->tid), CL_WAKE, w->tid,
				    th[w->tid].op + 1);
		else
			e_hold(q, p, &th[w->tid], lg, now);
	}
}

/* What the generated programs exercised, summed over engine runs. */
static struct fl_lock_stats covered;
static uint64_t covered_downgrades;

/* Runs p through engine/rwsem; returns a hash of the grant log and of the records. */
static uint64_t run_engine(const struct prog *p, struct log *lg)
{
	struct fl_rwsem sem;
	struct fl_rwsem_cfg cfg;
	struct fl_evq q;
	struct fl_event ev;
	struct ethread th[MAXT];
	uint64_t h = FL_HASH64_INIT;

	fl_rwsem_cfg_default(&cfg);
	cfg.writer_spin = p->spin > 0;
	cfg.spin_on_writer_ns = p->spin_on_writer ? 1 : 0;
	cfg.handoff_timeout_ns = (uint64_t)p->handoff * K;
	fl_rwsem_init(&sem, &cfg);
	fl_evq_init(&q);
	lg->n = 0;
	for (int t = 0; t < p->nt; t++) {
		fl_rwsem_waiter_init(&th[t].w, t, 120);
		th[t].op = 0;
		th[t].gen = 0;
		fl_evq_push(&q, key(p->ops[t][0].think, CL_REQ, t), CL_REQ, t, 0);
	}
	while (fl_evq_pop(&q, &ev)) {
		struct ethread *me = &th[ev.tid];
		const struct op *o = &p->ops[ev.tid][me->op];
		enum fl_rwsem_res res;
		uint64_t now = ev.time;

		switch (ev.kind) {
		case CL_REQ:
			res = o->write ? fl_rwsem_down_write(&sem, &me->w, now, me->op)
				       : fl_rwsem_down_read(&sem, &me->w, now, me->op);
			if (res == FL_RWSEM_ACQUIRED)
				e_hold(&q, p, me, lg, now);
			else if (res == FL_RWSEM_SPINNING)
				fl_evq_push(&q, key(now / K + p->spin, CL_SPIN, ev.tid), CL_SPIN,
					    ev.tid, ++me->gen);
			if (res != FL_RWSEM_ACQUIRED && o->cancel)
				fl_evq_push(&q, key(now / K + o->cancel, CL_CANCEL, ev.tid),
					    CL_CANCEL, ev.tid, me->op + 1);
			break;
		case CL_DG:
			fl_rwsem_downgrade(&sem, &me->w, now);
			covered_downgrades++;
			fl_evq_push(&q, key(now / K + o->hold - o->dg + 1, CL_REL, ev.tid), CL_REL,
				    ev.tid, 0);
			break;
		case CL_REL:
			if (me->w.state == FL_RWS_HOLD_WRITE)
				fl_rwsem_up_write(&sem, &me->w, now);
			else
				fl_rwsem_up_read(&sem, &me->w, now);
			e_next(&q, p, me, now);
			break;
		case CL_CANCEL:
			if (ev.arg != (uint64_t)me->op + 1 || me->w.state == FL_RWS_IDLE ||
			    me->w.state == FL_RWS_HOLD_READ || me->w.state == FL_RWS_HOLD_WRITE)
				break;	/* got the lock in time */
			fl_rwsem_cancel(&sem, &me->w, now);
			lg->g[lg->n].key = now;
			lg->g[lg->n].tid = ev.tid;
			lg->g[lg->n++].op = -1 - me->op;
			e_next(&q, p, me, now);
			break;
		case CL_WAKE:
			if (ev.arg != (uint64_t)me->op + 1 || me->w.state != FL_RWS_WOKEN)
				break;	/* gave up meanwhile */
			if (fl_rwsem_write_wakeup(&sem, &me->w, now) == FL_RWSEM_ACQUIRED)
				e_hold(&q, p, me, lg, now);
			break;
		case CL_SPIN:
			if (ev.arg != me->gen || me->w.state != FL_RWS_SPINNING)
				break;	/* stale: it got the lock while spinning */
			if (fl_rwsem_spin_end(&sem, &me->w, now) == FL_RWSEM_ACQUIRED)
				e_hold(&q, p, me, lg, now);
			break;
		}
		e_drain(&sem, &q, p, th, lg, now);
	}
	h = fl_hash64(h, lg->g, lg->n * sizeof(lg->g[0]));
	h = fl_hash64(h, sem.recs, sem.nrecs * sizeof(sem.recs[0]));
	h = fl_hash64(h, &sem.stats, sizeof(sem.stats));
	CHECK_EQ_U64(sem.stats.anomalies, 0);
	CHECK(!fl_rwsem_is_locked(&sem) && sem.nq == 0);
	covered.steals += sem.stats.steals;
	covered.cancelled += sem.stats.cancelled;
	covered.handoffs += sem.stats.handoffs;
	covered.spins += sem.stats.spins;
	covered.spin_wins += sem.stats.spin_wins;
	covered.chained += sem.stats.chained;
	covered.queued[0] += sem.stats.queued[0];
	covered.queued[1] += sem.stats.queued[1];
	fl_rwsem_release(&sem);
	fl_evq_release(&q);
	return h;
}

/* ---- the reference: array state, every key stepped ---- */

enum { P_THINK, P_SPIN, P_QUEUED, P_WOKEN, P_HOLD, P_HOLD_DG, P_DONE };

struct ref {
	const struct prog *p;
	bool broken;
	int phase[MAXT], op[MAXT];
	uint64_t at[MAXT];		/* tick of the thread's next step */
	uint64_t cancel_at[MAXT];	/* tick it gives up waiting, or UINT64_MAX */
	bool reader[MAXT];		/* holds for read (after a downgrade too) */
	uint64_t qkey[MAXT];		/* key it entered the queue */
	int queue[MAXT], nq;
	int spinners[MAXT], ns;
	int owner, readers, handoff;
	bool nonspin;
	struct log *lg;
};

static bool wants_write(const struct ref *r, int t)
{
	return r->p->ops[t][r->op[t]].write;
}

static void r_hold(struct ref *r, int t, uint64_t k)
{
	struct grant *g = &r->lg->g[r->lg->n++];
	const struct op *o = &r->p->ops[t][r->op[t]];

	if (wants_write(r, t)) {
		r->owner = t;
		r->nonspin = false;
	} else {
		r->readers++;
	}
	r->reader[t] = !wants_write(r, t);
	r->cancel_at[t] = UINT64_MAX;
	r->phase[t] = o->write == 2 ? P_HOLD_DG : P_HOLD;
	r->at[t] = k / K + (o->write == 2 ? o->dg : o->hold);
	g->key = k;
	g->tid = t;
	g->op = r->op[t];
}

static void r_dequeue(struct ref *r, int i)
{
	for (int j = i; j + 1 < r->nq; j++)
		r->queue[j] = r->queue[j + 1];
	r->nq--;
}

static void r_enqueue(struct ref *r, int t, uint64_t k)
{
	r->queue[r->nq++] = t;
	r->phase[t] = P_QUEUED;
	r->qkey[t] = k;
}

static bool r_timed_out(const struct ref *r, int t, uint64_t k)
{
	return r->p->handoff && k - r->qkey[t] >= (uint64_t)r->p->handoff * K;
}

/* every queued reader, in order, skipping writers (at most 256: never reached here) */
static void r_grant_readers(struct ref *r, uint64_t k)
{
	int i = 0;

	if (r->handoff >= 0 && !wants_write(r, r->handoff))
		r->handoff = -1;
	while (i < r->nq) {
		int t = r->queue[i];

		if (wants_write(r, t)) {
			i++;
			continue;
		}
		r_dequeue(r, i);
		r_hold(r, t, k);
	}
}

static void r_wake_head_writer(struct ref *r, int t, uint64_t k)
{
	if (r->phase[t] == P_QUEUED) {
		r->phase[t] = P_WOKEN;
		r->at[t] = k / K + r->p->wake_lat;
	}
}

static void r_released(struct ref *r, uint64_t k)
{
	if (r->owner >= 0 || r->readers)
		return;
	if (r->ns && r->handoff < 0) {
		int s = r->spinners[0];

		for (int j = 0; j + 1 < r->ns; j++)
			r->spinners[j] = r->spinners[j + 1];
		r->ns--;
		r_hold(r, s, k);
		if (r->nq && wants_write(r, r->queue[0]))
			r_wake_head_writer(r, r->queue[0], k);
		else if (r->nq && r_timed_out(r, r->queue[0], k) && r->handoff < 0)
			r->handoff = r->queue[0];
		return;
	}
	if (!r->nq)
		return;
	if (wants_write(r, r->queue[0]))
		r_wake_head_writer(r, r->queue[0], k);
	else
		r_grant_readers(r, k);
}

static void r_next(struct ref *r, int t, uint64_t tick, int *done)
{
	r->cancel_at[t] = UINT64_MAX;
	if (++r->op[t] < r->p->nops[t]) {
		r->phase[t] = P_THINK;
		r->at[t] = tick + r->p->ops[t][r->op[t]].think;
	} else {
		r->phase[t] = P_DONE;
		(*done)++;
	}
}

static void r_request(struct ref *r, int t, uint64_t k)
{
	const struct prog *p = r->p;

	if (p->ops[t][r->op[t]].cancel)
		r->cancel_at[t] = k / K + p->ops[t][r->op[t]].cancel;

	if (!wants_write(r, t)) {
		if (r->broken) {
			/* BROKEN: readers only look at the write owner */
			if (r->owner < 0)
				r_hold(r, t, k);
			else
				r_enqueue(r, t, k);
			return;
		}
		if (r->owner < 0 && !r->nq && r->handoff < 0) {
			r_hold(r, t, k);			/* R1 */
		} else if (r->readers) {
			r_enqueue(r, t, k);			/* other readers own it */
		} else if (r->owner < 0 && r->handoff < 0) {
			r_hold(r, t, k);			/* steal */
			if (r->nq && !wants_write(r, r->queue[0]))
				r_grant_readers(r, k);
		} else {
			r_enqueue(r, t, k);
		}
		return;
	}
	if (r->owner < 0 && !r->readers && r->handoff < 0) {
		r_hold(r, t, k);				/* W1 or writer steal */
	} else if (p->spin && r->handoff < 0 &&
		   ((r->owner >= 0 && p->spin_on_writer) || (r->owner < 0 && !r->nonspin))) {
		r->phase[t] = P_SPIN;
		r->at[t] = k / K + p->spin;
		r->spinners[r->ns++] = t;
	} else {
		r_enqueue(r, t, k);
	}
}

static void run_ref(const struct prog *p, bool broken, struct log *lg)
{
	struct ref r = { .p = p, .broken = broken, .owner = -1, .handoff = -1, .lg = lg };
	int done = 0;

	lg->n = 0;
	for (int t = 0; t < p->nt; t++) {
		r.phase[t] = P_THINK;
		r.at[t] = p->ops[t][0].think;
		r.cancel_at[t] = UINT64_MAX;
	}
	for (uint64_t tick = 0; done < p->nt && tick < 100000; tick++) {
		for (int cls = 0; cls < NCLASS; cls++) {
			for (int t = 0; t < p->nt; t++) {
				uint64_t k = key(tick, cls, t);

				if (cls == CL_CANCEL && r.cancel_at[t] == tick &&
				    (r.phase[t] == P_SPIN || r.phase[t] == P_QUEUED ||
				     r.phase[t] == P_WOKEN)) {
					bool head = r.nq && r.queue[0] == t;
					struct grant *g = &lg->g[lg->n++];

					g->key = k;
					g->tid = t;
					g->op = -1 - r.op[t];
					for (int i = 0; i < r.nq; i++)
						if (r.queue[i] == t)
							r_dequeue(&r, i);
					for (int i = 0; i < r.ns; i++) {
						if (r.spinners[i] != t)
							continue;
						for (int j = i; j + 1 < r.ns; j++)
							r.spinners[j] = r.spinners[j + 1];
						r.ns--;
						break;
					}
					if (r.handoff == t)
						r.handoff = -1;
					r_next(&r, t, tick, &done);
					/* the new head may go if no writer owns the lock */
					if (head && r.nq && r.owner < 0) {
						if (!r.readers)
							r_released(&r, k);
						else if (!wants_write(&r, r.queue[0]))
							r_grant_readers(&r, k);
					}
					continue;
				}
				if (r.at[t] != tick)
					continue;
				if (cls == CL_DG && r.phase[t] == P_HOLD_DG) {
					const struct op *o = &p->ops[t][r.op[t]];

					r.owner = -1;
					r.readers++;
					r.reader[t] = true;
					r.phase[t] = P_HOLD;
					r.at[t] = tick + o->hold - o->dg + 1;
					if (r.nq && !wants_write(&r, r.queue[0]))
						r_grant_readers(&r, k);
				} else if (cls == CL_REL && r.phase[t] == P_HOLD) {
					if (r.reader[t])
						r.readers--;
					else
						r.owner = -1;
					r_next(&r, t, tick, &done);
					r_released(&r, k);
				} else if (cls == CL_WAKE && r.phase[t] == P_WOKEN) {
					if (r.owner < 0 && !r.readers &&
					    (r.handoff < 0 || r.handoff == t)) {
						for (int i = 0; i < r.nq; i++)
							if (r.queue[i] == t)
								r_dequeue(&r, i);
						if (r.handoff == t)
							r.handoff = -1;
						r_hold(&r, t, k);
					} else {
						if (r.queue[0] == t && r.handoff < 0 &&
						    r_timed_out(&r, t, k))
							r.handoff = t;
						r.phase[t] = P_QUEUED;
					}
				} else if (cls == CL_SPIN && r.phase[t] == P_SPIN) {
					for (int i = 0; i < r.ns; i++) {
						if (r.spinners[i] != t)
							continue;
						for (int j = i; j + 1 < r.ns; j++)
							r.spinners[j] = r.spinners[j + 1];
						r.ns--;
						break;
					}
					if (r.owner < 0 && !r.readers && r.handoff < 0) {
						r_hold(&r, t, k);
					} else {
						if (r.owner < 0)
							r.nonspin = true;
						r_enqueue(&r, t, k);
					}
				} else if (cls == CL_REQ && r.phase[t] == P_THINK) {
					r_request(&r, t, k);
				}
			}
		}
	}
}

static bool same(const struct log *a, const struct log *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (a->g[i].key != b->g[i].key || a->g[i].tid != b->g[i].tid ||
		    a->g[i].op != b->g[i].op)
			return false;
	return true;
}

static void dump(const struct prog *p, const struct log *e, const struct log *r)
{
	printf("  program: L=%d S=%d sow=%d H=%d\n", p->wake_lat, p->spin, p->spin_on_writer,
	       p->handoff);
	for (int t = 0; t < p->nt; t++) {
		printf("   t%d:", t);
		for (int i = 0; i < p->nops[t]; i++)
			printf(" [%d %c %d]", p->ops[t][i].think, p->ops[t][i].write ? 'W' : 'R',
			       p->ops[t][i].hold);
		printf("\n");
	}
	for (int i = 0; i < e->n || i < r->n; i++)
		printf("   %2d engine %s ref %s\n", i,
		       i < e->n ? fl_asprintf("t%d.%d@%llu", e->g[i].tid, e->g[i].op,
					       (unsigned long long)e->g[i].key / K) : "-",
		       i < r->n ? fl_asprintf("t%d.%d@%llu", r->g[i].tid, r->g[i].op,
					       (unsigned long long)r->g[i].key / K) : "-");
}

FL_TEST(engine_model_matches_reference)
{
	struct fl_rng rng;
	struct prog p;
	struct log le, lr, lb;
	int mismatches = 0, broken_caught = 0, programs = 3000;

	fl_rng_init(&rng, 20261125);
	memset(&covered, 0, sizeof(covered));
	covered_downgrades = 0;
	for (int i = 0; i < programs; i++) {
		gen(&p, &rng);
		run_engine(&p, &le);
		run_ref(&p, false, &lr);
		if (!same(&le, &lr)) {
			if (mismatches++ < 2)
				dump(&p, &le, &lr);
		}
		run_ref(&p, true, &lb);
		if (!same(&le, &lb))
			broken_caught++;
		int total = 0;
		for (int t = 0; t < p.nt; t++)
			total += p.nops[t];
		CHECKF(le.n == total, "program %d: %d of %d ops granted or given up", i, le.n,
		       total);
	}
	CHECKF(mismatches == 0, "%d of %d programs differ from the reference", mismatches,
	       programs);
	CHECKF(broken_caught > 0, "the broken reference was never caught");
	/* the programs must reach every rule, or the agreement says little */
	CHECK(covered.steals > 0);
	CHECK(covered.handoffs > 0);
	CHECK(covered.spins > 0 && covered.spin_wins > 0 && covered.spin_wins < covered.spins);
	CHECK(covered.chained > 0);
	CHECK(covered.queued[0] > 0 && covered.queued[1] > 0);
	CHECK(covered.cancelled > 0 && covered_downgrades > 0);
	printf("  %d programs, %d differ from the reference (steals %llu, handoffs %llu, "
	       "spins %llu/%llu won, chained waits %llu, cancels %llu, downgrades %llu); "
	       "the broken reference differs on %d\n", programs, mismatches,
	       (unsigned long long)covered.steals, (unsigned long long)covered.handoffs,
	       (unsigned long long)covered.spin_wins, (unsigned long long)covered.spins,
	       (unsigned long long)covered.chained, (unsigned long long)covered.cancelled,
	       (unsigned long long)covered_downgrades, broken_caught);
}

FL_TEST(engine_model_deterministic)
{
	struct fl_rng rng;
	struct prog p;
	struct log l1, l2;
	uint64_t h1 = FL_HASH64_INIT, h2 = FL_HASH64_INIT;
	int differ = 0;
	uint64_t prev = 0;

	fl_rng_init(&rng, 7);
	for (int i = 0; i < 200; i++) {
		uint64_t a, b;

		gen(&p, &rng);
		a = run_engine(&p, &l1);
		b = run_engine(&p, &l2);
		h1 = fl_hash64(h1, &a, sizeof(a));
		h2 = fl_hash64(h2, &b, sizeof(b));
		differ += a != prev;
		prev = a;
	}
	CHECK_EQ_U64(h1, h2);
	CHECKF(differ > 150, "only %d distinct consecutive hashes: the hash ignores the trace",
	       differ);
}
