/*
 * Unit tests of the page cache model (engine/pagecache.c): folio states, LRU
 * eviction under a capacity, lock hand-over, read-around and fault-around
 * windows (kernel-semantics.md §6.1).
 */
#include "tests/unit/test.h"

#include "engine/pagecache.h"

static void pc_setup(struct fl_pagecache *pc, uint64_t cap)
{
	struct fl_pagecache_cfg cfg;

	fl_pagecache_cfg_default(&cfg);
	cfg.capacity_pages = cap;
	fl_pagecache_init(pc, &cfg);
}

/* Reads one page in: add locked, complete the I/O. */
static struct fl_folio *read_in(struct fl_pagecache *pc, uint32_t file, uint64_t idx, uint64_t t)
{
	struct fl_folio *f = fl_pagecache_add(pc, file, idx, true, t);

	CHECK(fl_folio_state(f) == FL_FOLIO_LOCKED_READ_IO);
	fl_pagecache_read_done(pc, f, true, t + 1);
	CHECK(fl_folio_state(f) == FL_FOLIO_UPTODATE_UNLOCKED);
	return f;
}

FL_TEST(engine_pagecache_lru_evicts_oldest_unlocked)
{
	struct fl_pagecache pc;

	pc_setup(&pc, 3);
	read_in(&pc, 1, 0, 0);
	read_in(&pc, 1, 1, 10);
	read_in(&pc, 1, 2, 20);
	/* touching page 0 makes page 1 the oldest */
	fl_pagecache_touch(&pc, fl_pagecache_lookup(&pc, 1, 0));
	read_in(&pc, 1, 3, 30);
	CHECK(fl_pagecache_peek(&pc, 1, 0) != NULL);
	CHECK(fl_pagecache_peek(&pc, 1, 1) == NULL);
	CHECK(fl_pagecache_peek(&pc, 1, 2) != NULL);
	CHECK_EQ_U64(pc.resident, 3);
	CHECK_EQ_U64(pc.stats.evicted, 1);
	read_in(&pc, 2, 0, 40);		/* then page 2 */
	CHECK(fl_pagecache_peek(&pc, 1, 2) == NULL);
	CHECK_EQ_U64(fl_folio_state(fl_pagecache_peek(&pc, 1, 2)), FL_FOLIO_ABSENT);
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_locked_pinned_never_evicted)
{
	struct fl_pagecache pc;
	struct fl_folio *io, *ref, *x;

	pc_setup(&pc, 2);
	io = fl_pagecache_add(&pc, 1, 0, true, 0);		/* under read I/O: locked */
	ref = read_in(&pc, 1, 1, 1);
	fl_folio_get(&pc, ref);					/* a fault waits on it */
	x = fl_pagecache_add(&pc, 1, 2, true, 2);		/* nothing evictable */
	CHECK(x != NULL);
	CHECK_EQ_U64(pc.resident, 3);
	CHECK_EQ_U64(pc.stats.evicted, 0);
	CHECK_EQ_U64(pc.stats.over_capacity, 1);
	/* the I/O of page 0 completes: now it is the oldest evictable one */
	fl_pagecache_read_done(&pc, io, true, 5);
	CHECK(fl_pagecache_peek(&pc, 1, 0) == NULL);
	CHECK(fl_pagecache_peek(&pc, 1, 1) == ref);
	CHECK_EQ_U64(pc.resident, 2);
	/* dropping the reference with page 2 still locked: nothing to evict, fits */
	fl_folio_put(&pc, ref, 6);
	CHECK(fl_pagecache_peek(&pc, 1, 1) == ref);
	fl_pagecache_release(&pc);
}

/*
 * The RETRY_IO_MISS window (§6.1): a fault's folio is read, the fault drops its
 * reference at out_retry, other threads' reads push it out before the retry's
 * lookup. Holding the reference (hold-vma-io style) keeps it.
 */
FL_TEST(engine_pagecache_eviction_between_io_and_retry)
{
	for (int hold = 0; hold < 2; hold++) {
		struct fl_pagecache pc;
		struct fl_folio *f;

		pc_setup(&pc, 4);
		f = fl_pagecache_add(&pc, 1, 100, true, 0);
		fl_folio_get(&pc, f);
		fl_pagecache_read_done(&pc, f, true, 1000);
		if (!hold)
			fl_folio_put(&pc, f, 1000);		/* out_retry */
		for (int i = 0; i < 4; i++)
			read_in(&pc, 2, i, 1100 + i);		/* other threads' I/O */
		CHECK((fl_pagecache_lookup(&pc, 1, 100) != NULL) == hold);
		CHECK_EQ_U64(pc.stats.misses, !hold);
		fl_pagecache_release(&pc);
	}
}

FL_TEST(engine_pagecache_unlock_hands_lock_to_first_locker)
{
	struct fl_pagecache pc;
	struct fl_folio *f;
	struct fl_folio_waiter a = { .tid = 1 }, b = { .tid = 2 };
	struct fl_folio_waiter c = { .tid = 3 }, d = { .tid = 4 };
	struct fl_folio_waiter *l;

	pc_setup(&pc, 0);
	f = fl_pagecache_add(&pc, 1, 0, true, 0);
	CHECK(!fl_folio_trylock(&pc, f));
	CHECK(!fl_folio_wait_locked(&pc, f, &a, 1));	/* folio_wait_locked */
	CHECK(!fl_folio_lock(&pc, f, &b, 2));		/* folio_lock */
	CHECK(!fl_folio_wait_locked(&pc, f, &c, 3));
	CHECK(!fl_folio_lock(&pc, f, &d, 4));
	fl_pagecache_read_done(&pc, f, true, 10);
	l = fl_pagecache_woken(&pc);
	CHECK(l == &a && l->wake_next == &b && !b.wake_next);
	CHECK(!a.granted && b.granted);
	CHECK(fl_folio_state(f) == FL_FOLIO_LOCKED_SHORT);	/* b holds it, uptodate */
	fl_folio_unlock(&pc, f, 11);
	l = fl_pagecache_woken(&pc);
	CHECK(l == &c && c.wake_next == &d && d.granted);
	fl_folio_unlock(&pc, f, 12);
	CHECK(fl_folio_state(f) == FL_FOLIO_UPTODATE_UNLOCKED);
	/* writeback waiters wait for writeback end, not unlock */
	fl_folio_start_writeback(&pc, f);
	CHECK(fl_folio_state(f) == FL_FOLIO_WRITEBACK_WAIT);
	CHECK(!fl_folio_wait_writeback(&pc, f, &a, 13));
	CHECK(fl_pagecache_woken(&pc) == NULL);
	fl_folio_end_writeback(&pc, f, 20);
	CHECK(fl_pagecache_woken(&pc) == &a);
	CHECK_EQ_U64(pc.stats.anomalies, 0);
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_read_around_window)
{
	struct fl_pagecache pc;
	struct fl_folio *out[32];
	size_t n;

	pc_setup(&pc, 0);
	/* index 100, ra 32: [84, 116), marker 116 - 8 = 108 */
	read_in(&pc, 1, 90, 0);				/* present: skipped */
	n = fl_pagecache_read_around(&pc, 1, 100, 1000, 5, out);
	CHECK_EQ_U64(n, 31);
	CHECK_EQ_U64(out[0]->index, 84);
	CHECK_EQ_U64(out[n - 1]->index, 115);
	for (size_t i = 0; i < n; i++) {
		CHECK(fl_folio_state(out[i]) == FL_FOLIO_LOCKED_READ_IO);
		CHECK(!!(out[i]->flags & FL_FOLIO_READAHEAD) == (out[i]->index == 108));
	}
	/* near the start and the end of the file it is clipped */
	n = fl_pagecache_read_around(&pc, 2, 5, 20, 5, out);
	CHECK_EQ_U64(n, 20);
	CHECK_EQ_U64(out[0]->index, 0);
	CHECK_EQ_U64(pc.stats.readahead_pages, 51);
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_fault_around)
{
	struct fl_pagecache pc;
	uint64_t lo, hi;
	bool target;
	struct fl_folio *f;

	/* fault at virtual page 1000 (pte 488), VMA from page 990 at file index 0, 100 pages */
	fl_fault_around_window(1000, 10, 0, 100, 16, &lo, &hi);
	CHECK_EQ_U64(lo, 2);	/* ptes 480..495 -> indexes 2..17 */
	CHECK_EQ_U64(hi, 18);
	/* VMA begins at page 998 (index 0), fault at 1000 (index 2): the window starts at the
	 * VMA start (pte 486) and still spans 16 pages (from_pte + nr_pages) */
	fl_fault_around_window(1000, 2, 0, 100, 16, &lo, &hi);
	CHECK_EQ_U64(lo, 0);
	CHECK_EQ_U64(hi, 16);
	/* clipped by the VMA end: 5 pages */
	fl_fault_around_window(1000, 2, 0, 5, 16, &lo, &hi);
	CHECK_EQ_U64(hi, 5);

	pc_setup(&pc, 0);
	for (int i = 0; i < 8; i++)
		if (i != 5)
			read_in(&pc, 1, i, i);
	fl_folio_trylock(&pc, fl_pagecache_peek(&pc, 1, 3));			/* locked */
	fl_pagecache_peek(&pc, 1, 4)->flags |= FL_FOLIO_READAHEAD;		/* marker */
	f = fl_pagecache_add(&pc, 1, 5, false, 9);				/* !uptodate */
	CHECK(fl_folio_state(f) == FL_FOLIO_NOT_UPTODATE);
	CHECK_EQ_U64(fl_pagecache_map_pages(&pc, 1, 0, 16, 2, &target, NULL), 5);	/* 0 1 2 6 7 */
	CHECK(target);
	CHECK_EQ_U64(fl_pagecache_map_pages(&pc, 1, 0, 16, 4, &target, NULL), 5);
	CHECK(!target);
	fl_pagecache_release(&pc);
}

/*
 * Shadows: a folio inserted where the cache evicted one is PG_workingset (a
 * refault), once; fault-around counts the mapped pages without it (the hits
 * that count file_ra_state.mmap_miss down).
 */
FL_TEST(engine_pagecache_refault_workingset)
{
	struct fl_pagecache pc;
	struct fl_folio *f;
	bool target;
	size_t cold = 99;

	pc_setup(&pc, 2);
	read_in(&pc, 1, 0, 1);
	read_in(&pc, 1, 1, 2);
	read_in(&pc, 1, 2, 3);				/* evicts 0 */
	CHECK(!fl_pagecache_peek(&pc, 1, 0));
	CHECK(!(fl_pagecache_peek(&pc, 1, 2)->flags & FL_FOLIO_WORKINGSET));
	read_in(&pc, 1, 0, 4);				/* refault of 0, evicts 1 */
	f = fl_pagecache_peek(&pc, 1, 0);
	CHECK(f && (f->flags & FL_FOLIO_WORKINGSET));
	CHECK_EQ_U64(fl_pagecache_map_pages(&pc, 1, 0, 16, 0, &target, &cold), 2);	/* 0 2 */
	CHECK(target);
	CHECK_EQ_U64(cold, 1);				/* 2 only */
	/* the shadow of 1 belongs to file 1: file 2's index 1 is no refault */
	f = fl_pagecache_add(&pc, 2, 1, false, 5);
	CHECK(f && !(f->flags & FL_FOLIO_WORKINGSET));
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_many_folios)
{
	struct fl_pagecache pc;
	uint64_t present = 0;

	/* beyond one pool chunk and several hash resizes, with evictions */
	pc_setup(&pc, 5000);
	for (uint64_t i = 0; i < 20000; i++) {
		struct fl_folio *f = fl_pagecache_add(&pc, (uint32_t)(i % 7), i, true, i);

		fl_pagecache_read_done(&pc, f, true, i);
	}
	for (uint64_t i = 0; i < 20000; i++)
		present += fl_pagecache_peek(&pc, (uint32_t)(i % 7), i) != NULL;
	CHECK_EQ_U64(present, 5000);
	CHECK_EQ_U64(pc.resident, 5000);
	/* exactly the newest 5000 stayed */
	CHECK(fl_pagecache_peek(&pc, 14999 % 7, 14999) == NULL);
	CHECK(fl_pagecache_peek(&pc, 15000 % 7, 15000) != NULL);
	CHECK_EQ_U64(pc.stats.evicted, 15000);
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_foreign_outside_capacity)
{
	struct fl_pagecache pc;
	struct fl_folio *f;

	pc_setup(&pc, 2);
	for (uint64_t i = 0; i < 100; i++)
		CHECK(fl_pagecache_add_foreign(&pc, 7, i, 0) != NULL);
	CHECK(fl_pagecache_add_foreign(&pc, 7, 3, 0) == NULL);	/* already there */
	CHECK_EQ_U64(pc.foreign, 100);
	CHECK_EQ_U64(pc.resident, 0);
	/* the charged pages compete for the capacity among themselves only */
	read_in(&pc, 1, 0, 10);
	read_in(&pc, 1, 1, 20);
	read_in(&pc, 1, 2, 30);
	CHECK_EQ_U64(pc.resident, 2);
	CHECK_EQ_U64(pc.stats.evicted, 1);
	CHECK(fl_pagecache_peek(&pc, 1, 0) == NULL);
	for (uint64_t i = 0; i < 100; i++)
		CHECK_EQ_U64(fl_folio_state(fl_pagecache_peek(&pc, 7, i)), FL_FOLIO_UPTODATE_UNLOCKED);
	/* touching one does not put it on the LRU; removing one keeps the LRU intact */
	f = fl_pagecache_lookup(&pc, 7, 5);
	fl_pagecache_touch(&pc, f);
	CHECK(fl_pagecache_remove(&pc, f, 40));
	CHECK_EQ_U64(pc.foreign, 99);
	CHECK(fl_pagecache_peek(&pc, 7, 5) == NULL);
	read_in(&pc, 1, 3, 50);
	CHECK_EQ_U64(pc.resident, 2);
	CHECK(fl_pagecache_peek(&pc, 1, 1) == NULL && fl_pagecache_peek(&pc, 1, 2) != NULL);
	fl_pagecache_release(&pc);
}

static void pc_setup_kernel(struct fl_pagecache *pc, uint64_t cap)
{
	struct fl_pagecache_cfg cfg;

	fl_pagecache_cfg_default(&cfg);
	cfg.capacity_pages = cap;
	cfg.two_lists = cfg.rotate_busy = cfg.strict = true;
	fl_pagecache_init(pc, &cfg);
}

FL_TEST(engine_pagecache_two_lists_second_chance)
{
	struct fl_pagecache pc;
	struct fl_folio *f;

	pc_setup_kernel(&pc, 4);
	for (uint64_t i = 0; i < 4; i++)
		read_in(&pc, 1, i, 10 * i);		/* inactive, head..tail: 3 2 1 0 */
	/* 0 was accessed: the scan keeps it once (PG_referenced) and takes 1 */
	fl_pagecache_touch(&pc, fl_pagecache_peek(&pc, 1, 0));
	CHECK(fl_pagecache_peek(&pc, 1, 0)->flags & FL_FOLIO_YOUNG);
	read_in(&pc, 1, 4, 100);			/* 4 0 3 2 */
	CHECK(fl_pagecache_peek(&pc, 1, 1) == NULL);
	f = fl_pagecache_peek(&pc, 1, 0);
	CHECK(f && (f->flags & FL_FOLIO_REFERENCED) && !(f->flags & FL_FOLIO_YOUNG));
	CHECK_EQ_U64(pc.stats.rotated, 1);
	/* accessed again: the next scan that reaches it activates it */
	fl_pagecache_touch(&pc, f);
	read_in(&pc, 1, 5, 110);			/* evicts 2 */
	read_in(&pc, 1, 6, 120);			/* evicts 3 */
	read_in(&pc, 1, 7, 130);			/* 0 activated, evicts 4 */
	f = fl_pagecache_peek(&pc, 1, 0);
	CHECK(f && (f->flags & FL_FOLIO_ACTIVE));
	CHECK_EQ_U64(pc.nr_active, 1);
	CHECK(fl_pagecache_peek(&pc, 1, 4) == NULL);
	CHECK_EQ_U64(pc.stats.evicted, 4);
	/* a refault far behind (1: the age moved 4 since, evictions and the activation;
	 * the active list, the workingset without swap, is 1) stays inactive */
	read_in(&pc, 1, 1, 140);			/* evicts 5 */
	f = fl_pagecache_peek(&pc, 1, 1);
	CHECK(f && !(f->flags & FL_FOLIO_ACTIVE) && (f->flags & FL_FOLIO_WORKINGSET));
	/* a recent refault (5, evicted just before) is activated at once */
	read_in(&pc, 1, 5, 150);			/* evicts 6 */
	f = fl_pagecache_peek(&pc, 1, 5);
	CHECK(f && (f->flags & FL_FOLIO_ACTIVE));
	CHECK_EQ_U64(pc.nr_active, 2);
	read_in(&pc, 1, 6, 160);			/* evicts 7; 6 refaults into active */
	CHECK_EQ_U64(pc.nr_active, 3);
	/* active (3) above inactive (1): the active tail, 0, is deactivated first */
	read_in(&pc, 1, 8, 170);
	f = fl_pagecache_peek(&pc, 1, 0);
	CHECK(f && !(f->flags & FL_FOLIO_ACTIVE));
	CHECK_EQ_U64(pc.stats.deactivated, 1);
	CHECK_EQ_U64(pc.resident, 4);
	fl_pagecache_release(&pc);
}

/*
 * workingset_test_recent: a file refault is activated when its distance is
 * within the active file list, not within the whole LRU (no swap). With
 * nothing active, even the most recent refault starts inactive.
 */
FL_TEST(engine_pagecache_refault_within_active_list)
{
	struct fl_pagecache pc;
	struct fl_folio *f;

	pc_setup_kernel(&pc, 8);
	for (uint64_t i = 0; i < 9; i++)
		read_in(&pc, 1, i, 10 * i);		/* 8 evicts 0 */
	CHECK(fl_pagecache_peek(&pc, 1, 0) == NULL);
	CHECK_EQ_U64(pc.nr_active, 0);
	read_in(&pc, 1, 0, 100);			/* distance 1, evicts 1 */
	f = fl_pagecache_peek(&pc, 1, 0);
	CHECK(f && !(f->flags & FL_FOLIO_ACTIVE) && (f->flags & FL_FOLIO_WORKINGSET));
	CHECK_EQ_U64(pc.stats.activated, 0);
	/* once a folio is active (2: accessed twice, reclaim activates it), a
	 * refault within that one page of age is activated */
	f = fl_pagecache_peek(&pc, 1, 2);
	fl_pagecache_touch(&pc, f);
	read_in(&pc, 1, 9, 110);			/* 2 kept (referenced), evicts 3 */
	fl_pagecache_touch(&pc, fl_pagecache_peek(&pc, 1, 2));
	for (uint64_t i = 10; i < 17; i++)
		read_in(&pc, 1, i, 10 * i);		/* 2 activated on the way */
	CHECK(fl_pagecache_peek(&pc, 1, 2) && (fl_pagecache_peek(&pc, 1, 2)->flags &
					       FL_FOLIO_ACTIVE));
	CHECK_EQ_U64(pc.nr_active, 1);
	{
		bool had[18] = { false };
		uint64_t gone = UINT64_MAX;

		for (uint64_t i = 0; i < 18; i++)
			had[i] = fl_pagecache_peek(&pc, 1, i) != NULL;
		read_in(&pc, 1, 17, 200);		/* evicts the inactive tail */
		for (uint64_t i = 0; i < 17; i++)
			if (had[i] && !fl_pagecache_peek(&pc, 1, i))
				gone = i;
		CHECK(gone != UINT64_MAX);
		/* refaulted at once: distance 0 <= 1 active page -> active */
		read_in(&pc, 1, gone, 210);
		f = fl_pagecache_peek(&pc, 1, gone);
		CHECK(f && (f->flags & FL_FOLIO_ACTIVE));
		CHECK_EQ_U64(pc.stats.activated, 2);
	}
	fl_pagecache_release(&pc);
}

FL_TEST(engine_pagecache_strict_charge_and_busy_rotation)
{
	struct fl_pagecache pc;
	struct fl_folio *out[8], *f;
	size_t n;

	/* strict: a window stops where the charge fails */
	pc_setup_kernel(&pc, 2);
	n = fl_pagecache_readahead(&pc, 1, 0, 4, 100, 64, 0, out);
	CHECK_EQ_U64(n, 2);
	CHECK_EQ_U64(pc.stats.charge_failed, 1);
	CHECK(fl_pagecache_add(&pc, 2, 0, false, 1) == NULL);	/* both busy */
	CHECK_EQ_U64(pc.stats.charge_failed, 2);
	fl_pagecache_read_done(&pc, out[0], true, 2);
	CHECK(fl_pagecache_add(&pc, 2, 0, false, 3) != NULL);	/* 0 could go */
	CHECK(fl_pagecache_peek(&pc, 1, 0) == NULL);
	CHECK_EQ_U64(pc.resident, 2);
	fl_pagecache_release(&pc);

	/* rotation: a busy folio the scan passes over goes back to the head */
	pc_setup_kernel(&pc, 3);
	f = fl_pagecache_add(&pc, 1, 0, true, 0);		/* under read I/O */
	read_in(&pc, 1, 1, 1);
	read_in(&pc, 1, 2, 2);				/* 2 1 0 */
	CHECK(fl_pagecache_add(&pc, 2, 0, false, 3) != NULL);	/* 0 rotated, 1 evicted */
	CHECK(fl_pagecache_peek(&pc, 1, 1) == NULL);
	fl_pagecache_read_done(&pc, f, true, 4);		/* (2,0) 0 2 */
	CHECK(fl_pagecache_add(&pc, 3, 0, false, 5) != NULL);
	CHECK(fl_pagecache_peek(&pc, 1, 2) == NULL);		/* 2 was older than 0 now */
	CHECK(fl_pagecache_peek(&pc, 1, 0) != NULL);
	fl_pagecache_release(&pc);
}
