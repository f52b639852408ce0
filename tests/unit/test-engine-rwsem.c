/*
 * Unit tests of the mmap_lock rwsem model (engine/rwsem.c), each against
 * times and orders worked out by hand from kernel-semantics.md §3.
 */
#include "tests/unit/test.h"

#include "engine/rwsem.h"

#define US 1000ULL
#define MS 1000000ULL

static void init_sem(struct fl_rwsem *sem, bool spin, uint64_t handoff)
{
	struct fl_rwsem_cfg cfg;

	fl_rwsem_cfg_default(&cfg);
	cfg.writer_spin = spin;
	cfg.handoff_timeout_ns = handoff;
	fl_rwsem_init(sem, &cfg);
}

/* Collects the wake list into arrays: tids and states, returns the count. */
static int woken(struct fl_rwsem *sem, uint32_t *tids, int *states, int max)
{
	int n = 0;

	for (struct fl_rwsem_waiter *w = fl_rwsem_woken(sem); w; w = w->wake_next) {
		if (n < max) {
			tids[n] = w->tid;
			states[n] = w->state;
		}
		n++;
	}
	return n;
}

FL_TEST(engine_rwsem_hist_bins)
{
	CHECK_EQ_U64(fl_wait_hist_bin(0), 0);
	CHECK_EQ_U64(fl_wait_hist_bin(999), 0);
	CHECK_EQ_U64(fl_wait_hist_bin(1000), 1);
	CHECK_EQ_U64(fl_wait_hist_bin(9999), 1);
	CHECK_EQ_U64(fl_wait_hist_bin(10 * US), 2);
	CHECK_EQ_U64(fl_wait_hist_bin(100 * US), 3);
	CHECK_EQ_U64(fl_wait_hist_bin(MS - 1), 3);
	CHECK_EQ_U64(fl_wait_hist_bin(MS), 4);
	CHECK_EQ_U64(fl_wait_hist_bin(10 * MS), 5);
	CHECK_EQ_U64(fl_wait_hist_bin(100 * MS - 1), 5);
	CHECK_EQ_U64(fl_wait_hist_bin(100 * MS), 6);
	CHECK_EQ_U64(fl_wait_hist_bin(UINT64_MAX), 6);
}

FL_TEST(engine_rwsem_readers_share)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter a, b;

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&a, 1, 120);
	fl_rwsem_waiter_init(&b, 2, 120);
	CHECK(fl_rwsem_down_read(&sem, &a, 0, 0) == FL_RWSEM_ACQUIRED);
	CHECK(fl_rwsem_down_read(&sem, &b, 5, 0) == FL_RWSEM_ACQUIRED);
	CHECK_EQ_U64(sem.readers, 2);
	fl_rwsem_up_read(&sem, &a, 10);
	fl_rwsem_up_read(&sem, &b, 20);
	CHECK(!fl_rwsem_is_locked(&sem));
	CHECK_EQ_U64(sem.stats.acq[0], 2);
	CHECK_EQ_U64(sem.stats.wait_total_ns[0], 0);
	CHECK_EQ_U64(sem.nrecs, 2);
	CHECK_EQ_U64(sem.recs[1].start, 5);
	CHECK_EQ_U64(sem.recs[1].released, 20);
	CHECK_EQ_U64(sem.stats.anomalies, 0);
	fl_rwsem_release(&sem);
}

/* R1 holds; W queues; R2 arriving behind the queued writer must wait (R1, writer preference). */
FL_TEST(engine_rwsem_reader_waits_behind_queued_writer)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter r1, w, r2;
	uint32_t tids[8];
	int st[8];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&r1, 1, 120);
	fl_rwsem_waiter_init(&w, 2, 120);
	fl_rwsem_waiter_init(&r2, 3, 120);
	CHECK(fl_rwsem_down_read(&sem, &r1, 0, 0) == FL_RWSEM_ACQUIRED);
	CHECK(fl_rwsem_down_write(&sem, &w, 2, 0) == FL_RWSEM_QUEUED);
	CHECK(fl_rwsem_down_read(&sem, &r2, 5, 0) == FL_RWSEM_QUEUED);
	CHECK_EQ_U64(sem.nq, 2);
	/* trylock fails too, although the lock is only reader-owned (R2) */
	struct fl_rwsem_waiter t;
	fl_rwsem_waiter_init(&t, 9, 120);
	CHECK(fl_rwsem_down_read_trylock(&sem, &t, 6, 0) == FL_RWSEM_FAILED);
	CHECK_EQ_U64(sem.stats.trylock_fail[0], 1);

	fl_rwsem_up_read(&sem, &r1, 10);
	CHECK_EQ_U64(woken(&sem, tids, st, 8), 1);
	CHECK_EQ_U64(tids[0], 2);
	CHECK(st[0] == FL_RWS_WOKEN);	/* woken, not yet owner */
	CHECK(!fl_rwsem_is_locked(&sem));
	CHECK(fl_rwsem_write_wakeup(&sem, &w, 12) == FL_RWSEM_ACQUIRED);
	CHECK(sem.owner == &w);
	fl_rwsem_up_write(&sem, &w, 20);
	CHECK_EQ_U64(woken(&sem, tids, st, 8), 1);
	CHECK_EQ_U64(tids[0], 3);
	CHECK(st[0] == FL_RWS_HOLD_READ);	/* readers are granted by the waker */

	/* records: W waited 2..12 behind R1 (chain 1); R2 waited 5..20 behind queued W (chain 2) */
	const struct fl_lock_acq *rw = &sem.recs[1], *rr = &sem.recs[2];
	CHECK(rw->flags & FL_ACQ_WRITE);
	CHECK_EQ_U64(rw->granted - rw->start, 10);
	CHECK_EQ_U64(rw->blocker, 1);
	CHECK_EQ_U64(rw->chain, 1);
	CHECK_EQ_U64(rr->granted - rr->start, 15);
	CHECK_EQ_U64(rr->blocker, 2);
	CHECK_EQ_U64(rr->chain, 2);
	CHECK_EQ_U64(rr->ahead, 1);
	CHECK_EQ_U64(sem.stats.chained, 1);
	CHECK_EQ_U64(sem.stats.max_chain, 2);
	CHECK_EQ_U64(sem.recs[3].flags & FL_ACQ_FAILED, FL_ACQ_FAILED);
	fl_rwsem_up_read(&sem, &r2, 30);
	CHECK_EQ_U64(sem.stats.anomalies, 0);
	fl_rwsem_release(&sem);
}

/* W1 holds; queue R1 W2 R2 R3; release grants R1 R2 R3 in one batch, W2 keeps waiting. */
FL_TEST(engine_rwsem_reader_batch_skips_writers)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter w1, r1, w2, r2, r3;
	uint32_t tids[8];
	int st[8];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&w1, 1, 120);
	fl_rwsem_waiter_init(&r1, 2, 120);
	fl_rwsem_waiter_init(&w2, 3, 120);
	fl_rwsem_waiter_init(&r2, 4, 120);
	fl_rwsem_waiter_init(&r3, 5, 120);
	CHECK(fl_rwsem_down_write(&sem, &w1, 0, 0) == FL_RWSEM_ACQUIRED);
	CHECK(fl_rwsem_down_read(&sem, &r1, 1, 0) == FL_RWSEM_QUEUED);
	CHECK(fl_rwsem_down_write(&sem, &w2, 2, 0) == FL_RWSEM_QUEUED);
	CHECK(fl_rwsem_down_read(&sem, &r2, 3, 0) == FL_RWSEM_QUEUED);
	CHECK(fl_rwsem_down_read(&sem, &r3, 4, 0) == FL_RWSEM_QUEUED);
	fl_rwsem_up_write(&sem, &w1, 10);
	CHECK_EQ_U64(woken(&sem, tids, st, 8), 3);
	CHECK(tids[0] == 2 && tids[1] == 4 && tids[2] == 5);
	CHECK_EQ_U64(sem.readers, 3);
	CHECK(sem.qhead == &w2 && sem.nq == 1);
	CHECK(w2.state == FL_RWS_QUEUED);
	/* the readers leave one by one; only the last wakes W2 */
	fl_rwsem_up_read(&sem, &r1, 11);
	fl_rwsem_up_read(&sem, &r3, 12);
	CHECK_EQ_U64(woken(&sem, tids, st, 8), 0);
	fl_rwsem_up_read(&sem, &r2, 13);
	CHECK_EQ_U64(woken(&sem, tids, st, 8), 1);
	CHECK(tids[0] == 3 && st[0] == FL_RWS_WOKEN);
	CHECK(fl_rwsem_write_wakeup(&sem, &w2, 13) == FL_RWSEM_ACQUIRED);
	fl_rwsem_up_write(&sem, &w2, 14);
	CHECK_EQ_U64(sem.stats.acq[0], 3);
	CHECK_EQ_U64(sem.stats.acq[1], 2);
	/* R1 waited 9, R2 7, R3 6; W2 11 */
	CHECK_EQ_U64(sem.stats.wait_total_ns[0], 9 + 7 + 6);
	CHECK_EQ_U64(sem.stats.wait_total_ns[1], 11);
	fl_rwsem_release(&sem);
}

FL_TEST(engine_rwsem_batch_at_most_256)
{
	struct fl_rwsem sem;
	static struct fl_rwsem_waiter r[300];
	struct fl_rwsem_waiter w;
	uint32_t tids[1];
	int st[1];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&w, 1000, 120);
	CHECK(fl_rwsem_down_write(&sem, &w, 0, 0) == FL_RWSEM_ACQUIRED);
	for (int i = 0; i < 300; i++) {
		fl_rwsem_waiter_init(&r[i], i, 120);
		CHECK(fl_rwsem_down_read(&sem, &r[i], 1 + i, 0) == FL_RWSEM_QUEUED);
	}
	fl_rwsem_up_write(&sem, &w, 1000);
	CHECK_EQ_U64(woken(&sem, tids, st, 1), 256);
	CHECK_EQ_U64(sem.readers, 256);
	CHECK_EQ_U64(sem.nq, 44);
	CHECK(sem.qhead == &r[256]);
	fl_rwsem_release(&sem);
}

/* A woken writer that has not run yet loses the lock to a reader (R3 stealing). */
FL_TEST(engine_rwsem_reader_steals_from_woken_writer)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter r1, w, r2;
	uint32_t tids[4];
	int st[4];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&r1, 1, 120);
	fl_rwsem_waiter_init(&w, 2, 120);
	fl_rwsem_waiter_init(&r2, 3, 120);
	fl_rwsem_down_read(&sem, &r1, 0, 0);
	CHECK(fl_rwsem_down_write(&sem, &w, 1, 0) == FL_RWSEM_QUEUED);
	fl_rwsem_up_read(&sem, &r1, 10);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(fl_rwsem_down_read(&sem, &r2, 11, 0) == FL_RWSEM_ACQUIRED);
	CHECK(sem.recs[2].flags & FL_ACQ_STEAL);
	CHECK(fl_rwsem_write_wakeup(&sem, &w, 12) == FL_RWSEM_QUEUED);
	CHECK(sem.qhead == &w && w.state == FL_RWS_QUEUED);
	fl_rwsem_up_read(&sem, &r2, 20);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(fl_rwsem_write_wakeup(&sem, &w, 21) == FL_RWSEM_ACQUIRED);
	CHECK_EQ_U64(sem.recs[1].granted, 21);
	CHECK_EQ_U64(sem.stats.steals, 1);
	CHECK_EQ_U64(sem.stats.handoffs, 0);	/* 20 ns is far below 4 ms */
	fl_rwsem_release(&sem);
}

/*
 * Handoff: the same steal after the writer has waited 5 ms (> 4 ms) makes it set
 * HANDOFF when it runs and finds the lock taken; the next reader cannot steal.
 */
FL_TEST(engine_rwsem_handoff_after_wait_timeout)
{
	for (int on = 0; on < 2; on++) {
		struct fl_rwsem sem;
		struct fl_rwsem_waiter r1, w, r2, r4;
		uint32_t tids[4];
		int st[4];

		init_sem(&sem, false, on ? FL_RWSEM_WAIT_TIMEOUT_NS : 0);
		fl_rwsem_waiter_init(&r1, 1, 120);
		fl_rwsem_waiter_init(&w, 2, 120);
		fl_rwsem_waiter_init(&r2, 3, 120);
		fl_rwsem_waiter_init(&r4, 4, 120);
		fl_rwsem_down_read(&sem, &r1, 0, 0);
		CHECK(fl_rwsem_down_write(&sem, &w, 0, 0) == FL_RWSEM_QUEUED);
		fl_rwsem_up_read(&sem, &r1, 5 * MS);
		woken(&sem, tids, st, 4);
		CHECK(fl_rwsem_down_read(&sem, &r2, 5 * MS + 1, 0) == FL_RWSEM_ACQUIRED);
		CHECK(fl_rwsem_write_wakeup(&sem, &w, 5 * MS + 2) == FL_RWSEM_QUEUED);
		CHECK((sem.handoff == &w) == on);
		fl_rwsem_up_read(&sem, &r2, 6 * MS);
		CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
		if (on) {
			CHECK(fl_rwsem_down_read(&sem, &r4, 6 * MS + 1, 0) == FL_RWSEM_QUEUED);
			CHECK(fl_rwsem_write_wakeup(&sem, &w, 6 * MS + 2) == FL_RWSEM_ACQUIRED);
			CHECK(sem.recs[1].flags & FL_ACQ_HANDOFF);
			CHECK(!sem.handoff);
			CHECK_EQ_U64(sem.stats.handoffs, 1);
			fl_rwsem_up_write(&sem, &w, 7 * MS);
			CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
			CHECK(tids[0] == 4 && st[0] == FL_RWS_HOLD_READ);
		} else {
			CHECK(fl_rwsem_down_read(&sem, &r4, 6 * MS + 1, 0) == FL_RWSEM_ACQUIRED);
			CHECK(fl_rwsem_write_wakeup(&sem, &w, 6 * MS + 2) == FL_RWSEM_QUEUED);
			CHECK_EQ_U64(sem.stats.handoffs, 0);
		}
		fl_rwsem_release(&sem);
	}
}

/* W2: a writer spins (20 + readers)/2 µs on a reader-owned lock, without blocking readers. */
FL_TEST(engine_rwsem_writer_spin)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter r1, w, r2, w3, w4;
	uint32_t tids[4];
	int st[4];

	init_sem(&sem, true, FL_RWSEM_WAIT_TIMEOUT_NS);
	fl_rwsem_waiter_init(&r1, 1, 120);
	fl_rwsem_waiter_init(&w, 2, 120);
	fl_rwsem_waiter_init(&r2, 3, 120);
	fl_rwsem_waiter_init(&w3, 4, 120);
	fl_rwsem_waiter_init(&w4, 5, 120);
	fl_rwsem_down_read(&sem, &r1, 0, 0);
	CHECK(fl_rwsem_down_write(&sem, &w, 0, 0) == FL_RWSEM_SPINNING);
	CHECK_EQ_U64(w.spin_until, 10500);	/* (20 + 1) / 2 µs */
	/* a spinner sets no WAITERS bit: a new reader still takes the fast path */
	CHECK(fl_rwsem_down_read(&sem, &r2, 1 * US, 0) == FL_RWSEM_ACQUIRED);
	fl_rwsem_up_read(&sem, &r1, 2 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 0);
	fl_rwsem_up_read(&sem, &r2, 5 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	/* the spinner took it the instant it was free */
	CHECK(tids[0] == 2 && st[0] == FL_RWS_HOLD_WRITE);
	CHECK(fl_rwsem_spin_end(&sem, &w, w.spin_until) == FL_RWSEM_ACQUIRED);	/* stale timer */
	CHECK_EQ_U64(sem.recs[1].granted, 5 * US);
	CHECK(sem.recs[1].flags & FL_ACQ_SPUN);
	fl_rwsem_up_write(&sem, &w, 6 * US);

	/* a spin on readers that times out queues and makes the next writer queue at once */
	fl_rwsem_down_read(&sem, &r1, 10 * US, 0);
	fl_rwsem_down_read(&sem, &r2, 10 * US, 0);
	CHECK(fl_rwsem_down_write(&sem, &w3, 11 * US, 0) == FL_RWSEM_SPINNING);
	CHECK_EQ_U64(w3.spin_until, 11 * US + 11 * US);	/* (20 + 2) / 2 µs */
	CHECK(fl_rwsem_spin_end(&sem, &w3, w3.spin_until) == FL_RWSEM_QUEUED);
	CHECK(sem.wr_nonspinnable);
	CHECK(fl_rwsem_down_write(&sem, &w4, 23 * US, 0) == FL_RWSEM_QUEUED);
	CHECK_EQ_U64(sem.stats.spins, 2);
	CHECK_EQ_U64(sem.stats.spin_wins, 1);
	fl_rwsem_release(&sem);
}

/* Which threads run, for owner_on_cpu: bit tid of *arg. */
static bool on_cpu_mask(void *arg, uint32_t tid)
{
	return (*(const uint32_t *)arg >> tid) & 1;
}

/*
 * W2 on a write owner: a writer spins while the owner runs (rwsem_can_spin_on_owner,
 * rwsem_spin_on_owner), not when it is off its CPU; an owner leaving its CPU ends the spin,
 * and a downgrade turns it into a spin on readers (the reader threshold from then on).
 */
FL_TEST(engine_rwsem_writer_spins_on_running_owner)
{
	struct fl_rwsem sem;
	struct fl_rwsem_cfg cfg;
	struct fl_rwsem_waiter o, w, r;
	uint32_t running = 1u << 1, tids[4];
	int st[4];

	fl_rwsem_cfg_default(&cfg);
	cfg.spin_on_writer_ns = 1000 * US;
	cfg.owner_on_cpu = on_cpu_mask;
	cfg.owner_arg = &running;
	fl_rwsem_init(&sem, &cfg);
	fl_rwsem_waiter_init(&o, 1, 120);
	fl_rwsem_waiter_init(&w, 2, 120);
	fl_rwsem_waiter_init(&r, 3, 120);

	/* the owner runs: spin (no WAITERS bit), take the lock the instant it is free */
	CHECK(fl_rwsem_down_write(&sem, &o, 0, 0) == FL_RWSEM_ACQUIRED);
	CHECK(fl_rwsem_down_write(&sem, &w, 1 * US, 0) == FL_RWSEM_SPINNING);
	CHECK_EQ_U64(w.spin_until, 1001 * US);
	CHECK_EQ_U64(sem.nq, 0);
	CHECK(fl_rwsem_down_read_trylock(&sem, &r, 2 * US, 0) == FL_RWSEM_FAILED);
	fl_rwsem_up_write(&sem, &o, 3 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(tids[0] == 2 && st[0] == FL_RWS_HOLD_WRITE);
	CHECK(fl_rwsem_spin_end(&sem, &w, w.spin_until) == FL_RWSEM_ACQUIRED);
	/* the owner (now 2) is off its CPU: the next writer queues at once */
	running = 0;
	CHECK(fl_rwsem_down_write(&sem, &o, 4 * US, 0) == FL_RWSEM_QUEUED);
	CHECK_EQ_U64(sem.nq, 1);
	fl_rwsem_up_write(&sem, &w, 5 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(fl_rwsem_write_wakeup(&sem, &o, 6 * US) == FL_RWSEM_ACQUIRED);

	/* spinning on a running owner that then sleeps: the spin ends now, and it queues */
	running = 1u << 1;
	CHECK(fl_rwsem_down_write(&sem, &w, 7 * US, 0) == FL_RWSEM_SPINNING);
	CHECK_EQ_U64(fl_rwsem_owner_off_cpu(&sem, 9 * US), 1);
	CHECK_EQ_U64(w.spin_until, 9 * US);
	CHECK(fl_rwsem_spin_end(&sem, &w, 9 * US) == FL_RWSEM_QUEUED);
	CHECK(!sem.wr_nonspinnable);	/* not a spin on readers that timed out */
	CHECK_EQ_U64(fl_rwsem_owner_off_cpu(&sem, 10 * US), 0);
	fl_rwsem_up_write(&sem, &o, 11 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(fl_rwsem_write_wakeup(&sem, &w, 12 * US) == FL_RWSEM_ACQUIRED);

	/* a downgrade: the spinner now spins on one reader, (20 + 1) / 2 µs from then */
	running = 1u << 2;
	CHECK(fl_rwsem_down_write(&sem, &o, 13 * US, 0) == FL_RWSEM_SPINNING);
	fl_rwsem_downgrade(&sem, &w, 20 * US);
	CHECK_EQ_U64(o.spin_until, 20 * US + 10500);
	fl_rwsem_up_read(&sem, &w, 25 * US);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(tids[0] == 1 && st[0] == FL_RWS_HOLD_WRITE);
	CHECK_EQ_U64(sem.stats.spins, 3);
	CHECK_EQ_U64(sem.stats.spin_wins, 2);
	fl_rwsem_release(&sem);
}

/* Downgrade: the writer becomes a reader and the readers queued at the head join it. */
FL_TEST(engine_rwsem_downgrade)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter w, r1, w2, r2;
	uint32_t tids[4];
	int st[4];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&w, 1, 120);
	fl_rwsem_waiter_init(&r1, 2, 120);
	fl_rwsem_waiter_init(&w2, 3, 120);
	fl_rwsem_waiter_init(&r2, 4, 120);
	fl_rwsem_down_write(&sem, &w, 0, 7);
	fl_rwsem_down_read(&sem, &r1, 1, 0);
	fl_rwsem_down_write(&sem, &w2, 2, 0);
	fl_rwsem_down_read(&sem, &r2, 3, 0);
	fl_rwsem_downgrade(&sem, &w, 10);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 2);
	CHECK(tids[0] == 2 && tids[1] == 4);
	CHECK_EQ_U64(sem.readers, 3);
	CHECK(w.state == FL_RWS_HOLD_READ);
	CHECK(sem.qhead == &w2 && sem.nq == 1);
	/* the write hold ended at 10; a read record with no wait began there */
	CHECK_EQ_U64(sem.recs[0].released, 10);
	CHECK_EQ_U64(sem.recs[4].flags, FL_ACQ_DOWNGRADE);
	CHECK_EQ_U64(sem.recs[4].start, 10);
	CHECK_EQ_U64(sem.recs[4].tag, 7);
	fl_rwsem_up_read(&sem, &w, 20);
	CHECK_EQ_U64(sem.recs[4].released, 20);
	fl_rwsem_release(&sem);
}

FL_TEST(engine_rwsem_inversion_and_cancel)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter lo, hi, w, r;
	uint32_t tids[4];
	int st[4];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&lo, 1, 139);	/* nice 19 */
	fl_rwsem_waiter_init(&hi, 2, 100);	/* nice -20 */
	fl_rwsem_down_write(&sem, &lo, 0, 0);
	CHECK(fl_rwsem_down_read(&sem, &hi, 1, 0) == FL_RWSEM_QUEUED);
	fl_rwsem_up_write(&sem, &lo, 5);
	woken(&sem, tids, st, 4);
	CHECK(sem.recs[1].flags & FL_ACQ_INVERSION);
	CHECK_EQ_U64(sem.recs[1].blocker, 1);
	CHECK_EQ_U64(sem.stats.inversions, 1);
	fl_rwsem_up_read(&sem, &hi, 6);

	/* cancel the head writer: the reader queued behind it joins the reader-owned lock */
	fl_rwsem_waiter_init(&w, 3, 120);
	fl_rwsem_waiter_init(&r, 4, 120);
	fl_rwsem_down_read(&sem, &lo, 10, 0);
	CHECK(fl_rwsem_down_write(&sem, &w, 11, 0) == FL_RWSEM_QUEUED);
	CHECK(fl_rwsem_down_read(&sem, &r, 12, 0) == FL_RWSEM_QUEUED);
	fl_rwsem_cancel(&sem, &w, 13);
	CHECK_EQ_U64(woken(&sem, tids, st, 4), 1);
	CHECK(tids[0] == 4 && st[0] == FL_RWS_HOLD_READ);
	CHECK_EQ_U64(sem.readers, 2);
	CHECK_EQ_U64(sem.stats.cancelled, 1);
	CHECK(w.state == FL_RWS_IDLE);
	/* unlocking what one does not hold is an anomaly, not a crash */
	fl_rwsem_up_write(&sem, &w, 14);
	CHECK_EQ_U64(sem.stats.anomalies, 1);
	fl_rwsem_release(&sem);
}

FL_TEST(engine_rwsem_wait_percentiles)
{
	struct fl_rwsem sem;
	struct fl_rwsem_waiter w, r[10];
	const double pct[] = { 50, 99, 100, 0 };
	uint64_t out[4];

	init_sem(&sem, false, 0);
	fl_rwsem_waiter_init(&w, 100, 120);
	/* reader i arrives at i while a writer holds; all granted at 100 and return at 100 + i */
	fl_rwsem_down_write(&sem, &w, 0, 0);
	for (int i = 0; i < 10; i++) {
		fl_rwsem_waiter_init(&r[i], i, 120);
		fl_rwsem_down_read(&sem, &r[i], i, 0);
	}
	fl_rwsem_up_write(&sem, &w, 100);
	for (struct fl_rwsem_waiter *x = fl_rwsem_woken(&sem); x; x = x->wake_next)
		fl_rwsem_returned(&sem, x, 100 + x->tid);
	/* waits acquired - start are all 100; granted - start are 100 - i */
	CHECK_EQ_U64(fl_rwsem_wait_percentiles(&sem, false, pct, out, 4), 10);
	CHECK_EQ_U64(out[0], 100);
	CHECK_EQ_U64(sem.stats.wait_total_ns[0], 1000 - 45);
	CHECK_EQ_U64(fl_rwsem_wait_percentiles(&sem, true, pct, out, 4), 1);
	CHECK_EQ_U64(out[1], 0);
	fl_rwsem_release(&sem);

	/* distinct waits 1..10: p50 = 5th, p99 = 10th, p0 = 1st */
	init_sem(&sem, false, 0);
	fl_rwsem_down_write(&sem, &w, 0, 0);
	for (int i = 0; i < 10; i++) {
		fl_rwsem_waiter_init(&r[i], i, 120);
		fl_rwsem_down_read(&sem, &r[i], 90 + i, 0);
	}
	fl_rwsem_up_write(&sem, &w, 100);
	fl_rwsem_woken(&sem);
	CHECK_EQ_U64(fl_rwsem_wait_percentiles(&sem, false, pct, out, 4), 10);
	CHECK_EQ_U64(out[0], 5);
	CHECK_EQ_U64(out[1], 10);
	CHECK_EQ_U64(out[2], 10);
	CHECK_EQ_U64(out[3], 1);
	fl_rwsem_release(&sem);
}
