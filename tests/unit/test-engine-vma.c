/*
 * Unit tests of the address space and per-VMA locks (engine/vma.c) against
 * kernel-semantics.md §4 and §7, expectations worked out by hand.
 */
#include "tests/unit/test.h"

#include "engine/vma.h"

#define PG 4096ULL

static void mm_setup(struct fl_mm *mm, enum fl_vma_lock_impl impl, bool spin)
{
	struct fl_rwsem_cfg cfg;

	fl_rwsem_cfg_default(&cfg);
	cfg.writer_spin = spin;
	fl_mm_init(mm, impl, &cfg);
}

static void write_lock(struct fl_mm *mm, struct fl_rwsem_waiter *w, uint64_t now)
{
	CHECK(fl_rwsem_down_write(&mm->mmap_lock, w, now, 0) == FL_RWSEM_ACQUIRED);
}

FL_TEST(engine_vma_layout_map_unmap_mprotect)
{
	struct fl_mm mm;
	struct fl_err err;
	struct fl_rwsem_waiter w;
	struct fl_vma *v;
	size_t first;

	mm_setup(&mm, FL_VMA_LOCK_REFCNT, false);
	fl_rwsem_waiter_init(&w, 1, 120);
	v = fl_mm_map(&mm, 16 * PG, 32 * PG, FL_VMA_READ | FL_VMA_FILE | FL_VMA_MAP_PAGES, 7, 100,
		      &err);
	CHECK(v && v->vm_lock_seq != mm.mm_lock_seq);	/* set up without a writer: unlocked */
	CHECK(fl_mm_map(&mm, 0, 4 * PG, FL_VMA_READ | FL_VMA_WRITE | FL_VMA_ANON, 0, 0, &err));
	CHECK(!fl_mm_map(&mm, 30 * PG, 40 * PG, FL_VMA_READ, 0, 0, &err));
	CHECK(strstr(err.msg, "overlaps") != NULL);
	CHECK_EQ_U64(mm.nvmas, 2);
	CHECK(fl_mm_lookup(&mm, 16 * PG) == v);
	CHECK(fl_mm_lookup(&mm, 32 * PG) == NULL);
	CHECK(fl_mm_lookup(&mm, 8 * PG) == NULL);
	CHECK_EQ_U64(fl_mm_find_idx(&mm, 8 * PG), 1);	/* find_vma: the next one above */

	/* munmap a hole in the middle: a split on each side, the middle detached */
	write_lock(&mm, &w, 0);
	CHECK_EQ_U64(fl_mm_range(&mm, 20 * PG, 24 * PG, &first), 1);
	CHECK(fl_vma_start_write(&mm, mm.vmas[first], 1, 0) == FL_VMA_W_LOCKED);
	CHECK_EQ_U64(fl_mm_unmap(&mm, 20 * PG, 24 * PG), 1);
	CHECK_EQ_U64(mm.nvmas, 3);
	CHECK(mm.vmas[1]->start == 16 * PG && mm.vmas[1]->end == 20 * PG);
	CHECK(mm.vmas[2]->start == 24 * PG && mm.vmas[2]->end == 32 * PG);
	CHECK_EQ_U64(mm.vmas[2]->pgoff, 108);	/* 100 + 8 pages */
	CHECK_EQ_U64(mm.vmas[2]->file, 7);
	CHECK(mm.vmas[1]->id != mm.vmas[2]->id);
	/* both halves of the split stay write-locked until the unlock */
	CHECK(fl_vma_is_write_locked(&mm, mm.vmas[1]) && fl_vma_is_write_locked(&mm, mm.vmas[2]));

	/* mprotect the middle of the upper piece: three pieces, flags only in range */
	CHECK(fl_vma_start_write(&mm, mm.vmas[2], 1, 0) == FL_VMA_W_LOCKED);
	CHECK_EQ_U64(fl_mm_mprotect(&mm, 26 * PG, 28 * PG, FL_VMA_WRITE, FL_VMA_READ), 1);
	CHECK_EQ_U64(mm.nvmas, 5);
	CHECK_EQ_U64(mm.vmas[3]->flags & FL_VMA_PROT_MASK, FL_VMA_WRITE);
	CHECK_EQ_U64(mm.vmas[2]->flags & FL_VMA_PROT_MASK, FL_VMA_READ);
	CHECK_EQ_U64(mm.vmas[4]->flags & FL_VMA_PROT_MASK, FL_VMA_READ);
	CHECK_EQ_U64(mm.vmas[4]->pgoff, 112);
	fl_mm_write_unlock(&mm, &w, 10);
	CHECK_EQ_U64(mm.stats.anomalies, 0);
	CHECK_EQ_U64(mm.stats.detached, 1);

	/* changing the layout without vma_start_write is caught */
	write_lock(&mm, &w, 20);
	fl_mm_unmap(&mm, 0, 4 * PG);
	CHECK_EQ_U64(mm.stats.anomalies, 1);
	fl_mm_write_unlock(&mm, &w, 21);
	fl_mm_release(&mm);
}

/* mmap merging with its neighbours (mm/vma.c vma_merge_new_range), expectations by hand */
FL_TEST(engine_vma_map_merge)
{
	const uint32_t anon = FL_VMA_READ | FL_VMA_WRITE | FL_VMA_ANON;
	const uint32_t file = FL_VMA_READ | FL_VMA_FILE | FL_VMA_MAP_PAGES;
	struct fl_mm mm;
	struct fl_rwsem_waiter w;
	struct fl_vma *a, *b, *p, *n, *v;
	uint64_t ida;

	mm_setup(&mm, FL_VMA_LOCK_REFCNT, false);
	fl_rwsem_waiter_init(&w, 1, 120);
	a = fl_mm_map(&mm, 10 * PG, 20 * PG, anon | FL_VMA_HAS_ANON_VMA, 0, 0, NULL);
	b = fl_mm_map(&mm, 30 * PG, 40 * PG, anon, 0, 0, NULL);
	fl_mm_map(&mm, 50 * PG, 60 * PG, file, 7, 100, NULL);
	ida = a->id;

	/* [20, 30) touches both anonymous neighbours: they merge, both are write-locked */
	fl_mm_merge_candidates(&mm, 20 * PG, 30 * PG, anon, 0, 0, &p, &n);
	CHECK(p == a && n == b);
	/* a different protection merges with nothing */
	fl_mm_merge_candidates(&mm, 20 * PG, 30 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &p, &n);
	CHECK(!p && !n);
	/* a gap on either side: no neighbour */
	fl_mm_merge_candidates(&mm, 21 * PG, 29 * PG, anon, 0, 0, &p, &n);
	CHECK(!p && !n);
	/* a file mapping merges only at the contiguous offset of the same file */
	fl_mm_merge_candidates(&mm, 60 * PG, 64 * PG, file, 7, 110, &p, &n);
	CHECK(p && p->start == 50 * PG && !n);
	fl_mm_merge_candidates(&mm, 60 * PG, 64 * PG, file, 7, 111, &p, &n);
	CHECK(!p && !n);
	fl_mm_merge_candidates(&mm, 60 * PG, 64 * PG, file, 8, 110, &p, &n);
	CHECK(!p && !n);
	fl_mm_merge_candidates(&mm, 46 * PG, 50 * PG, file, 7, 96, &p, &n);
	CHECK(!p && n && n->start == 50 * PG);

	write_lock(&mm, &w, 0);
	CHECK(fl_vma_start_write(&mm, a, 1, 0) == FL_VMA_W_LOCKED);
	CHECK(fl_vma_start_write(&mm, b, 1, 0) == FL_VMA_W_LOCKED);
	v = fl_mm_map_merge(&mm, 20 * PG, 30 * PG, anon, 0, 0, NULL);
	/* one VMA [10, 40): the lower one grew, the upper one was removed */
	CHECK(v && v->id == ida && v->start == 10 * PG && v->end == 40 * PG);
	CHECK(v->flags & FL_VMA_HAS_ANON_VMA);
	CHECK_EQ_U64(mm.nvmas, 2);
	CHECK_EQ_U64(mm.stats.detached, 1);
	CHECK(fl_mm_lookup(&mm, 35 * PG) == v);
	/* a file mapping below the file VMA at the contiguous offset: next grows down */
	v = fl_mm_lookup(&mm, 50 * PG);
	CHECK(fl_vma_start_write(&mm, v, 1, 0) == FL_VMA_W_LOCKED);
	n = fl_mm_map_merge(&mm, 46 * PG, 50 * PG, file, 7, 96, NULL);
	CHECK(n == v && n->start == 46 * PG && n->end == 60 * PG && n->pgoff == 96);
	/* nothing to merge with: a VMA of its own */
	n = fl_mm_map_merge(&mm, 70 * PG, 72 * PG, anon, 0, 0, NULL);
	CHECK(n && n->start == 70 * PG && n->end == 72 * PG);
	CHECK_EQ_U64(mm.nvmas, 3);
	fl_mm_write_unlock(&mm, &w, 10);
	CHECK_EQ_U64(mm.stats.anomalies, 0);
	fl_mm_release(&mm);
}

/* lock_vma_under_rcu failure rules 1 and 2, and mmap_write_unlock releasing VMA write locks */
FL_TEST(engine_vma_write_locked_until_mmap_unlock)
{
	struct fl_mm mm;
	struct fl_err err;
	struct fl_rwsem_waiter w;
	struct fl_vma *a, *b, *v;
	enum fl_vma_read_res res;

	mm_setup(&mm, FL_VMA_LOCK_REFCNT, false);
	fl_rwsem_waiter_init(&w, 5, 120);
	a = fl_mm_map(&mm, 0, 8 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err);
	b = fl_mm_map(&mm, 8 * PG, 16 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err);
	CHECK(!fl_vma_lock_try_read(&mm, 100 * PG, &res) && res == FL_VMA_ABORT_NO_VMA);
	v = fl_vma_lock_try_read(&mm, PG, &res);
	CHECK(v == a && res == FL_VMA_READ_OK && a->readers == 1);
	CHECK_EQ_U64(fl_vma_end_read(&mm, a, 1), FL_TID_NONE);

	/* fork-like: write-lock a and b in address order; both refuse readers */
	write_lock(&mm, &w, 10);
	CHECK(fl_vma_start_write(&mm, a, 5, 10) == FL_VMA_W_LOCKED);
	CHECK(fl_vma_start_write(&mm, a, 5, 11) == FL_VMA_W_LOCKED);	/* again: free */
	CHECK(!fl_vma_lock_try_read(&mm, PG, &res) && res == FL_VMA_ABORT_LOCKED);
	/* b not reached yet: still readable */
	v = fl_vma_lock_try_read(&mm, 9 * PG, &res);
	CHECK(v == b);
	fl_vma_end_read(&mm, b, 12);
	CHECK(fl_vma_start_write(&mm, b, 5, 13) == FL_VMA_W_LOCKED);
	CHECK(!fl_vma_lock_try_read(&mm, 9 * PG, &res) && res == FL_VMA_ABORT_LOCKED);
	/* a new VMA mapped under the write lock is inserted write-locked */
	CHECK(fl_mm_map(&mm, 16 * PG, 20 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err));
	CHECK(!fl_vma_lock_try_read(&mm, 17 * PG, &res) && res == FL_VMA_ABORT_LOCKED);
	fl_mm_write_unlock(&mm, &w, 20);
	CHECK(fl_vma_lock_try_read(&mm, PG, &res) == a);
	CHECK(fl_vma_lock_try_read(&mm, 9 * PG, &res) == b);
	CHECK(fl_vma_lock_try_read(&mm, 17 * PG, &res) != NULL);
	CHECK_EQ_U64(mm.stats.abort_locked, 3);
	CHECK_EQ_U64(mm.stats.abort_no_vma, 1);
	fl_mm_release(&mm);
}

/* 6.15+: vma_start_write refuses new readers at once and waits for the existing one */
FL_TEST(engine_vma_start_write_drains_readers_refcount)
{
	struct fl_mm mm;
	struct fl_err err;
	struct fl_rwsem_waiter w;
	struct fl_vma *a;
	enum fl_vma_read_res res;

	mm_setup(&mm, FL_VMA_LOCK_REFCNT, true);
	fl_rwsem_waiter_init(&w, 9, 120);
	a = fl_mm_map(&mm, 0, 8 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err);
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);		/* reader 1 holds */
	write_lock(&mm, &w, 100);
	CHECK(fl_vma_start_write(&mm, a, 9, 100) == FL_VMA_W_WAIT);	/* no spin in 6.15+ */
	CHECK(!fl_vma_lock_try_read(&mm, 0, &res) && res == FL_VMA_ABORT_WRITER);
	CHECK(!fl_vma_is_write_locked(&mm, a));
	CHECK_EQ_U64(fl_vma_end_read(&mm, a, 350), 9);		/* last reader wakes the writer */
	CHECK(fl_vma_is_write_locked(&mm, a));
	CHECK(!fl_vma_lock_try_read(&mm, 0, &res) && res == FL_VMA_ABORT_LOCKED);
	CHECK_EQ_U64(mm.stats.start_write_waits, 1);
	CHECK_EQ_U64(mm.stats.start_write_wait_ns, 250);
	/* downgrade also ends every VMA write lock */
	fl_mm_write_downgrade(&mm, &w, 400);
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);
	fl_rwsem_up_read(&mm.mmap_lock, &w, 500);
	CHECK_EQ_U64(mm.stats.anomalies, 0);
	fl_mm_release(&mm);
}

/* 6.12: the writer first spins (readers still get in), then sleeps with WAITERS (they fail) */
FL_TEST(engine_vma_start_write_spin_rwsem)
{
	struct fl_mm mm;
	struct fl_err err;
	struct fl_rwsem_waiter w;
	struct fl_vma *a;
	enum fl_vma_read_res res;

	mm_setup(&mm, FL_VMA_LOCK_RWSEM, true);
	fl_rwsem_waiter_init(&w, 3, 120);
	a = fl_mm_map(&mm, 0, 8 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err);
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);
	write_lock(&mm, &w, 0);
	CHECK(fl_vma_start_write(&mm, a, 3, 1000) == FL_VMA_W_SPIN);
	CHECK_EQ_U64(a->spin_until, 1000 + 10500);		/* (20 + 1 reader) / 2 µs */
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);	/* admitted during the spin */
	CHECK_EQ_U64(a->readers, 2);
	CHECK(fl_vma_spin_end(&mm, a, a->spin_until) == FL_VMA_W_WAIT);
	CHECK(!fl_vma_lock_try_read(&mm, 0, &res) && res == FL_VMA_ABORT_WRITER);
	CHECK_EQ_U64(fl_vma_end_read(&mm, a, 20000), FL_TID_NONE);
	CHECK_EQ_U64(fl_vma_end_read(&mm, a, 30000), 3);
	CHECK(fl_vma_is_write_locked(&mm, a));
	fl_mm_write_unlock(&mm, &w, 40000);

	/* readers that leave during the spin: the writer gets the VMA right then */
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);
	write_lock(&mm, &w, 50000);
	CHECK(fl_vma_start_write(&mm, a, 3, 50000) == FL_VMA_W_SPIN);
	CHECK_EQ_U64(fl_vma_end_read(&mm, a, 52000), 3);
	CHECK(fl_vma_spin_end(&mm, a, a->spin_until) == FL_VMA_W_LOCKED);	/* stale timer */
	fl_mm_write_unlock(&mm, &w, 60000);
	fl_mm_release(&mm);
}

FL_TEST(engine_vma_versions_and_detach)
{
	struct fl_mm mm;
	struct fl_err err;
	struct fl_rwsem_waiter w;
	struct fl_vma *a, *f;
	enum fl_vma_read_res res;

	/* before 6.4: never */
	mm_setup(&mm, FL_VMA_LOCK_NONE, false);
	fl_mm_map(&mm, 0, 8 * PG, FL_VMA_READ | FL_VMA_ANON | FL_VMA_HAS_ANON_VMA, 0, 0, &err);
	CHECK(!fl_vma_lock_try_read(&mm, 0, &res) && res == FL_VMA_ABORT_NONE);
	fl_mm_release(&mm);

	/* 6.4/6.5: anonymous VMAs with an anon_vma only */
	mm_setup(&mm, FL_VMA_LOCK_RWSEM, false);
	mm.anon_only = true;
	a = fl_mm_map(&mm, 0, 8 * PG, FL_VMA_READ | FL_VMA_ANON, 0, 0, &err);
	f = fl_mm_map(&mm, 8 * PG, 16 * PG, FL_VMA_READ | FL_VMA_FILE, 1, 0, &err);
	CHECK(!fl_vma_lock_try_read(&mm, 0, &res) && res == FL_VMA_ABORT_FILTER);
	a->flags |= FL_VMA_HAS_ANON_VMA;
	CHECK(fl_vma_lock_try_read(&mm, 0, &res) == a);
	fl_vma_end_read(&mm, a, 1);
	CHECK(!fl_vma_lock_try_read(&mm, 8 * PG, &res) && res == FL_VMA_ABORT_FILTER);

	/* munmap detaches: a pointer kept from before sees MISS, the lookup sees nothing */
	fl_rwsem_waiter_init(&w, 1, 120);
	write_lock(&mm, &w, 2);
	CHECK(fl_vma_start_write(&mm, f, 1, 2) == FL_VMA_W_LOCKED);
	CHECK_EQ_U64(fl_mm_unmap(&mm, 8 * PG, 16 * PG), 1);
	CHECK(f->detached);
	CHECK(fl_vma_start_read(&mm, f) == FL_VMA_MISS);
	fl_mm_write_unlock(&mm, &w, 3);
	CHECK(!fl_vma_lock_try_read(&mm, 8 * PG, &res) && res == FL_VMA_ABORT_NO_VMA);

	/* fork copies page tables only where vma_needs_copy */
	CHECK(fl_vma_needs_copy(a));
	a->flags |= FL_VMA_DONTCOPY;
	CHECK(!fl_vma_needs_copy(a));
	fl_mm_release(&mm);
}
