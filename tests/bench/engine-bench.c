/*
 * engine-bench - simulated operations per second of the lock model's engine
 * on one core.
 *
 * Two loads, both through the event queue as the replay drives it:
 *   lock:  16 threads taking mmap_lock for read (one for write now and then)
 *          with think times; an operation is one event handled (lock, unlock,
 *          wake-up, spin end).
 *   fault: 16 threads faulting file pages of their own 4 MiB file under a
 *          per-VMA lock with a page cache of 2048 pages (so pages get evicted
 *          and re-read), read-around on a miss, an I/O device with 8 slots,
 *          2 CPUs, and a writer doing mmap_lock write + vma_start_write; an
 *          operation is one event handled.
 * Prints one line per load and "engine: N simulated operations/s" (the lower
 * of the two). Exit status 0; the target (>= 5 M/s) is for `make bench` to
 * judge, this program only measures.
 *
 * Build: cc -O2 -I. -o build/tests/bench/engine-bench tests/bench/engine-bench.c \
 *        build/libfaultlab.a $(pkg-config --libs ...) -lm -pthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fl.h"
#include "engine/cpu.h"
#include "engine/evq.h"
#include "engine/pagecache.h"
#include "engine/rwsem.h"
#include "engine/vma.h"

#define NT 16

static double bench_lock(uint64_t target_ops)
{
	struct fl_rwsem sem;
	struct fl_rwsem_cfg cfg;
	struct fl_evq q;
	struct fl_event ev;
	struct fl_rng r;
	struct fl_rwsem_waiter w[NT];
	uint64_t ops = 0, t0;
	double secs;

	fl_rwsem_cfg_default(&cfg);
	cfg.record = false;
	fl_rwsem_init(&sem, &cfg);
	fl_evq_init(&q);
	fl_rng_init(&r, 1);
	for (int i = 0; i < NT; i++) {
		fl_rwsem_waiter_init(&w[i], i, 120);
		fl_evq_push(&q, fl_rng_below(&r, 1000), 0, i, 0);
	}
	t0 = fl_now_ns();
	while (ops < target_ops && fl_evq_pop(&q, &ev)) {
		struct fl_rwsem_waiter *me = &w[ev.tid], *x;
		enum fl_rwsem_res res;

		ops++;
		switch (ev.kind) {
		case 0:
			res = (ev.tid == 0 && fl_rng_below(&r, 4) == 0)
				      ? fl_rwsem_down_write(&sem, me, ev.time, 0)
				      : fl_rwsem_down_read(&sem, me, ev.time, 0);
			if (res == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 2000, 1, ev.tid, 0);
			else if (res == FL_RWSEM_SPINNING)
				fl_evq_push(&q, me->spin_until, 3, ev.tid, me->spin_until);
			break;
		case 1:
			if (me->state == FL_RWS_HOLD_WRITE)
				fl_rwsem_up_write(&sem, me, ev.time);
			else
				fl_rwsem_up_read(&sem, me, ev.time);
			fl_evq_push(&q, ev.time + 500 + fl_rng_below(&r, 5000), 0, ev.tid, 0);
			break;
		case 2:
			if (fl_rwsem_write_wakeup(&sem, me, ev.time) == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 2000, 1, ev.tid, 0);
			break;
		default:
			if (me->state == FL_RWS_SPINNING && me->spin_until == ev.arg &&
			    fl_rwsem_spin_end(&sem, me, ev.time) == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 2000, 1, ev.tid, 0);
			break;
		}
		for (x = fl_rwsem_woken(&sem); x; x = x->wake_next)
			fl_evq_push(&q, ev.time + (x->state == FL_RWS_WOKEN ? 1000 : 0) + 2000,
				    x->state == FL_RWS_WOKEN ? 2 : 1, x->tid, 0);
	}
	secs = (fl_now_ns() - t0) / 1e9;
	printf("lock:  %llu events, %llu acquisitions, %.3f s, %.2f M ops/s\n",
	       (unsigned long long)ops,
	       (unsigned long long)(sem.stats.acq[0] + sem.stats.acq[1]), secs, ops / secs / 1e6);
	fl_rwsem_release(&sem);
	fl_evq_release(&q);
	return ops / secs;
}

enum { E_FAULT, E_IO_DONE, E_CPU, E_WRITER };

struct fthread {
	uint64_t next_page;		/* page of its file to fault next */
	struct fl_folio *wait;		/* folio waited on */
	struct fl_folio_waiter fw;
	struct fl_vma *vma;
	struct fl_rwsem_waiter w;
};

static double bench_fault(uint64_t target_ops)
{
	const uint64_t file_pages = 1024, page = 4096;
	struct fl_mm mm;
	struct fl_pagecache pc;
	struct fl_pagecache_cfg pcfg;
	struct fl_cpu cpu;
	struct fl_io io;
	struct fl_evq q;
	struct fl_event ev;
	struct fl_err err;
	struct fthread th[NT];
	struct fl_folio *ra[64];
	struct fl_rwsem_waiter wr;
	uint64_t ops = 0, t0, faults = 0, misses = 0;
	double secs;

	fl_mm_init(&mm, FL_VMA_LOCK_REFCNT, NULL);
	fl_pagecache_cfg_default(&pcfg);
	pcfg.capacity_pages = 2048;
	fl_pagecache_init(&pc, &pcfg);
	fl_cpu_init(&cpu, 2);
	fl_io_init_fixed(&io, 8, 80000);
	fl_evq_init(&q);
	fl_rwsem_waiter_init(&wr, NT, 120);
	for (int i = 0; i < NT; i++) {
		uint64_t base = (uint64_t)(i + 1) << 32;

		memset(&th[i], 0, sizeof(th[i]));
		th[i].fw.tid = i;
		fl_rwsem_waiter_init(&th[i].w, i, 120);
		fl_mm_map(&mm, base, base + file_pages * page,
			  FL_VMA_READ | FL_VMA_FILE | FL_VMA_SHARED | FL_VMA_MAP_PAGES, i + 1, 0,
			  &err);
		fl_evq_push(&q, i * 100, E_FAULT, i, 0);
	}
	fl_evq_push(&q, 50000, E_WRITER, NT, 0);
	t0 = fl_now_ns();
	while (ops < target_ops && fl_evq_pop(&q, &ev)) {
		struct fthread *t = ev.tid < NT ? &th[ev.tid] : NULL;
		enum fl_vma_read_res res;
		uint64_t now = ev.time, done, tag;

		ops++;
		switch (ev.kind) {
		case E_FAULT: {
			uint64_t base = (uint64_t)(ev.tid + 1) << 32, idx = t->next_page;
			struct fl_folio *f;

			if (!fl_cpu_get(&cpu, ev.tid, now))
				break;	/* E_CPU will resume it */
			faults++;
			t->vma = fl_vma_lock_try_read(&mm, base + idx * page, &res);
			f = fl_pagecache_lookup(&pc, ev.tid + 1, idx);
			if (!f) {
				size_t n = fl_pagecache_read_around(&pc, ev.tid + 1, idx,
								    file_pages, now, ra);
				misses++;
				for (size_t k = 0; k < n; k++)
					{
					uint64_t a = (uint64_t)(uintptr_t)ra[k];

					if (fl_io_submit(&io, now, a, &done))
						fl_evq_push(&q, done, E_IO_DONE, 0, a);
				}
				f = fl_pagecache_peek(&pc, ev.tid + 1, idx);
			}
			if (t->vma && fl_vma_end_read(&mm, t->vma, now) != FL_TID_NONE)
				fl_evq_push(&q, now, E_WRITER, NT, 1);
			if (f && !fl_folio_wait_locked(&pc, f, &t->fw, now)) {
				fl_folio_get(&pc, f);
				t->wait = f;
			} else {
				fl_pagecache_touch(&pc, f);
				t->next_page = (idx + 1) % file_pages;
				fl_evq_push(&q, now + 1000, E_FAULT, ev.tid, 0);
			}
			uint32_t nx = fl_cpu_put(&cpu, now, NULL);
			if (nx != FL_TID_NONE)
				fl_evq_push(&q, now, E_CPU, nx, 0);
			break;
		}
		case E_CPU:
			/* given a CPU by fl_cpu_put: give it back and fault again */
			fl_cpu_put(&cpu, now, NULL);
			fl_evq_push(&q, now, E_FAULT, ev.tid, 0);
			break;
		case E_IO_DONE: {
			struct fl_folio *f = (struct fl_folio *)(uintptr_t)ev.arg;

			fl_pagecache_read_done(&pc, f, true, now);
			for (struct fl_folio_waiter *x = fl_pagecache_woken(&pc); x;
			     x = x->wake_next) {
				struct fthread *o = &th[x->tid];

				fl_folio_put(&pc, o->wait, now);
				o->wait = NULL;
				fl_evq_push(&q, now + 500, E_FAULT, x->tid, 0);
			}
			if (fl_io_complete(&io, now, &tag, &done))
				fl_evq_push(&q, done, E_IO_DONE, 0, tag);
			break;
		}
		case E_WRITER:
			/* a writer: mmap_lock write, vma_start_write on one VMA, unlock */
			if (ev.arg == 0) {
				if (wr.state == FL_RWS_IDLE &&
				    fl_rwsem_down_write(&mm.mmap_lock, &wr, now, 0) !=
					    FL_RWSEM_ACQUIRED) {
					fl_rwsem_cancel(&mm.mmap_lock, &wr, now);
					fl_evq_push(&q, now + 10000, E_WRITER, NT, 0);
					break;
				}
				struct fl_vma *v = mm.vmas[ops % mm.nvmas];
				if (fl_vma_start_write(&mm, v, NT, now) != FL_VMA_W_LOCKED)
					break;	/* the last reader's end_read resumes us */
			}
			fl_mm_write_unlock(&mm, &wr, now + 5000);
			fl_rwsem_woken(&mm.mmap_lock);
			fl_evq_push(&q, now + 100000, E_WRITER, NT, 0);
			break;
		}
	}
	secs = (fl_now_ns() - t0) / 1e9;
	printf("fault: %llu events, %llu faults, %llu misses, %llu evictions, %.3f s, "
	       "%.2f M ops/s\n",
	       (unsigned long long)ops, (unsigned long long)faults, (unsigned long long)misses,
	       (unsigned long long)pc.stats.evicted, secs, ops / secs / 1e6);
	fl_evq_release(&q);
	fl_io_release(&io);
	fl_cpu_release(&cpu);
	fl_pagecache_release(&pc);
	fl_mm_release(&mm);
	return ops / secs;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	double a = bench_lock(n), b = bench_fault(n);

	printf("engine: %.0f simulated operations/s\n", a < b ? a : b);
	return 0;
}
