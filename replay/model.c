/*
 * model.c - the lock model's driver: threads playing op streams through the
 * engine, with one architecture's fault handler and one policy
 * (kernel-semantics.md §4-§8; engine/README.md "Driving it").
 *
 * Each simulated thread runs one op after the other: user-space think time on
 * a CPU, an optional sleep, then a fault or a writer syscall. A thread is a
 * small state machine (enum phase) stepped by step() whenever it runs; it
 * either continues, burns CPU (an EV_BURST event, in time slices), or blocks
 * (gives its CPU away) until a lock, folio or I/O wake-up makes it runnable
 * again. Runnable threads wait for a CPU in the engine's run queue (ordered by
 * virtual runtime, 3 ms slices taken at burst boundaries: make_runnable), so
 * the time from an I/O completion to the retry's page-cache lookup includes
 * waiting for a CPU, as on the captured machine (§6.1 "Eviction window").
 * Where the capture shows the kernel putting woken threads back on their
 * busy previous CPU (opstream "Wake-up placement"), each CPU has its own run
 * queue and a woken thread waits for the thread running there to stop, or for
 * that CPU's next tick, when an idle CPU pulls it (fl_cpu_set_affine,
 * EV_TICK): on anonmix's short loops that serialises the threads' loops as in
 * the capture, and a fresh region's first write fault rarely meets another
 * thread's mmap_lock write hold.
 *
 * The fault handler follows §5.2 with the version rules of arch/ and the
 * policy bits of §8:
 *   user fault with per-VMA locks -> lock_vma_under_rcu -> access check ->
 *   handle_mm_fault under the VMA lock; RETRY -> (MAJOR && >= 6.8: TRIED) ->
 *   [vma-retry: RETRY_VMA / retry-hard: !RETRY_HARD -> lock_vma_under_rcu
 *   again] -> lock_mm_and_find_vma (trylock, then read lock) -> attempts until
 *   no RETRY, TRIED from the second mmap attempt on.
 * handle_mm_fault: anonymous faults (zero page for reads, __vmf_anon_prepare's
 * mmap_read_trylock for the first write under the VMA lock, swap-in from a
 * swap cache when the op says so), file faults (6.6: RETRY at once under the
 * VMA lock; fault-around for reads; filemap_fault cases A-E of §6.1 with
 * read-around I/O, PG_readahead async readahead, folio lock waits that drop
 * the fault lock only on a first try). A retried attempt that misses the page
 * cache is a RETRY_IO_MISS: nothing here decides it, the page cache's LRU
 * evicted the folio between the I/O and the retry.
 *
 * Writers (§7): mmap_lock for write (spin, queue, handoff in the engine), then
 * vma_start_write on each VMA touched, in address order (fork: every VMA, or
 * only those it copies under fork-cow-only, each held to the end), the layout
 * change, and mmap_write_unlock (munmap: downgrade, zap, read unlock).
 * madvise takes the read lock for the advice that do (§7 table), the VMA lock
 * for DONTNEED/FREE from 6.16, else the write lock.
 *
 * Determinism: the event queue orders by (time, sequence); the only
 * randomness is seeded: the I/O latency draws and a jitter on wake-up
 * latency. The jitter matters: with vma-retry a retry without TRIED (case B,
 * a hit on a folio another fault holds locked) may drop and retry again, a
 * loop "bounded only by the folio becoming lockable" (§8); with perfectly
 * periodic timing two such faults can hand the folio lock to each other
 * forever, which timing noise breaks on a real machine. As a last guard, a
 * fault that reaches MAX_ATTEMPTS attempts gets TRIED (model.retry_loops_cut
 * counts them); model.max_attempts reports the longest loop.
 */
#include "replay/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/rules.h"
#include "engine/cpu.h"
#include "engine/evq.h"
#include "engine/pagecache.h"
#include "engine/rwsem.h"
#include "engine/vma.h"

_Static_assert(FL_MVMA_READ == FL_VMA_READ && FL_MVMA_WRITE == FL_VMA_WRITE &&
	       FL_MVMA_EXEC == FL_VMA_EXEC && FL_MVMA_SHARED == FL_VMA_SHARED &&
	       FL_MVMA_ANON == FL_VMA_ANON && FL_MVMA_HAS_ANON_VMA == FL_VMA_HAS_ANON_VMA &&
	       FL_MVMA_MAP_PAGES == FL_VMA_MAP_PAGES && FL_MVMA_FILE == FL_VMA_FILE &&
	       FL_MVMA_SHMEM == FL_VMA_SHMEM && FL_MVMA_GROWSDOWN == FL_VMA_GROWSDOWN &&
	       FL_MVMA_HUGETLB == FL_VMA_HUGETLB && FL_MVMA_PFNMAP == FL_VMA_PFNMAP &&
	       FL_MVMA_RAND_READ == FL_VMA_RAND_READ && FL_MVMA_SEQ_READ == FL_VMA_SEQ_READ,
	       "input VMA flags are the engine's");

#define MAX_ATTEMPTS 100		/* handle_mm_fault calls after which TRIED is forced */
#define SWAP_FILE_BASE 0x80000000u	/* swap cache of mm i is file SWAP_FILE_BASE + i */
#define FOREIGN_MAX (1u << 22)		/* pages of files cached before the run (16 GiB) */
/* sysctl_sched_migration_cost (kernel/sched/fair.c): a thread that ran within it is cache hot */
#define MIGRATION_COST_NS 500000ULL
/*
 * The longest a writer spins on a write owner that stays on its CPU. The kernel
 * has no bound (rwsem_spin_on_owner stops when the owner leaves its CPU, the
 * lock changes hands or the spinner must reschedule); this keeps the spin-end
 * events of the model near its present.
 */
#define SPIN_ON_WRITER_MAX_NS 1000000ULL

enum ev_kind { EV_START, EV_RUN, EV_BURST, EV_SLEEP, EV_SPIN, EV_VMA_SPIN, EV_IO_DONE, EV_TICK };

enum phase {
	PH_IDLE,
	PH_OP_BEGIN,		/* think: burn cpu_ns */
	PH_OP_SLEEP,		/* then sleep_ns off CPU */
	PH_OP_EXEC,		/* dispatch the op */
	/* fault */
	PH_F_VMA_TRY,
	PH_F_MMAP_LOCK,
	PH_F_MMAP_WAIT,
	PH_F_MMAP_HAVE,
	PH_F_ATTEMPT,
	PH_F_FILEMAP,
	PH_F_LOCK_FOLIO,
	PH_F_RA,		/* a readahead window being allocated and charged, chunk by chunk */
	PH_F_NEW_FOLIO,		/* the faulting index's own folio (after readahead, or without) */
	PH_F_FOLIO_WAIT,
	PH_F_FOLIO_LOCKED,
	PH_F_SYNC_READ_WAIT,
	PH_F_SWAP,
	PH_F_MAPPED,		/* page mapped (after the fault's CPU cost): finish */
	/* writers */
	PH_W_LOCK,
	PH_W_SPIN,
	PH_W_LOCKWAIT,
	PH_W_HAVE,
	PH_W_VMAS,
	PH_W_VSPIN,
	PH_W_VWAIT,
	PH_W_COPIED,
	PH_W_WORK,
	PH_W_END,
	PH_W_ZAPPED,
	PH_R_LOCK,		/* madvise read-lock ops */
	PH_R_WAIT,
	PH_R_WORK,
	PH_R_END,
	PH_DONE,
};

enum lock_kind { LK_NONE, LK_VMA, LK_MMAP };

struct ioreq {
	struct fl_folio **f;		/* folios it reads, LOCKED for read I/O */
	size_t n, cap;
	uint32_t next_free;		/* free list link */
};

struct rastate {
	uint64_t start, size;		/* pages: the current readahead window */
	uint64_t async;			/* pages: its async tail (the marker starts it) */
	uint32_t mmap_miss;		/* file_ra_state.mmap_miss: misses minus cold hits */
};

/*
 * do_sync_mmap_readahead's "do we miss much more than hit in this file?" test
 * (mm/filemap.c, 6.12 and later): a page-cache miss counts mmap_miss up (to at
 * most 10 * MMAP_LOTSAMISS); above MMAP_LOTSAMISS there is no read-around and
 * no lock drop before the read (the fault then reads its one page through
 * page_not_uptodate). Hits count it down: one per first-try filemap_fault hit
 * (do_async_mmap_readahead) and, in filemap_map_pages, one per page mapped
 * whose folio is not PG_workingset (since 6.10, "mm/filemap: don't decrease
 * mmap_miss when folio has workingset flag": refaults of a thrashing file do
 * not count as hits, so read-around stops on it).
 */
#define MMAP_LOTSAMISS	100

struct mmst {
	struct fl_mm mm;
	bool ready;			/* layout exists (forked mms: after the fork) */
	uint32_t *parked;		/* threads waiting for the layout */
	size_t nparked, capparked;
};

struct thr {
	uint32_t idx;
	const struct fl_model_thread *in;
	struct mmst *ms;
	uint32_t mmi;
	size_t op;			/* current op */
	enum phase phase;
	uint64_t gen;			/* generation of self events (stale ones are dropped) */
	bool on_cpu, spinning, vspinning, done;
	bool runnable;			/* woken, waiting for a CPU or its EV_RUN */
	uint64_t t_runnable;		/* ns: became runnable */
	uint64_t cpu_since;		/* ns: got its CPU (the slice's start) */
	uint64_t burst_end;		/* ns: its pending EV_BURST (0 none) */
	uint64_t owed;			/* ns: taken by an interrupt while it ran a zero-time
					   step: its next burst starts that much later */
	uint64_t kw_owed;		/* ns: a kworker woken by its requests, which runs when
					   it next leaves the kernel or sleeps (PREEMPT_NONE) */
	uint64_t run_at;		/* ns: its pending EV_RUN onto a CPU (0 none) */
	uint64_t vrt;			/* ns: virtual runtime (CPU used, placed at wake-ups) */
	int64_t lag;			/* ns: V - vrt when it last stopped running (EEVDF vlag) */
	uint64_t t_wake;		/* ns: last wake-up (end of a wait) */
	uint64_t burst_left;		/* ns of CPU still to burn */
	struct fl_rwsem_waiter w;
	struct fl_folio_waiter fw;
	uint64_t addr;			/* the current op's address, relocated (see xlate) */
	struct xl { uint64_t old, len, new; } *xl;	/* this thread's relocated mappings */
	size_t nxl, capxl;
	/* current fault */
	struct {
		struct fl_model_fault rec;
		enum lock_kind lock;
		struct fl_vma *vma;	/* VMA read-locked (LK_VMA) or looked up (LK_MMAP) */
		bool tried, fpin, major, major_this, vma_tried, after_drop;
		bool anon_paid;		/* this attempt burned anon_prep_ns already */
		bool in_retry_vma;	/* the current VMA attempt is a retry_vma */
		bool fell_vma_locked;	/* this retry's VMA attempt found a writer */
		struct fl_folio *folio;	/* pinned folio (reference held) */
		uint32_t file;
		uint64_t index;
		uint64_t t_lock;	/* ns: start of an mmap_lock wait */
		uint64_t t_granted;	/* ns: mmap_lock granted to the sleeping waiter */
		uint64_t t_wait;	/* ns: start of a folio wait */
		bool wait_locked;	/* that wait holds the fault lock */
		bool waiting;		/* queued on a folio */
		bool win_open;
		uint64_t win_start, win_cpu, win_mmap, win_vma;
		int vma_phase;		/* 0 never under VMA; 1 VMA first; 2 VMA retry done */
		uint64_t ins_n;		/* pages this fault inserted (window, own folio) */
		uint64_t ins_first, ins_last;	/* ns: its first and last insertion */
	} f;
	/* readahead in progress (ra_start/PH_F_RA) */
	struct {
		uint32_t file;
		uint64_t next, end;	/* pages: the next index to allocate, window end */
		uint64_t mark;		/* PG_readahead index */
		uint64_t fp;		/* file pages */
		struct fl_folio **buf;	/* folios created so far (LOCKED for read) */
		size_t n;
		int failed;		/* charges of this chunk reclaim found no room for */
	} ra;
	/* current writer op */
	struct {
		uint64_t t_start, t_acq, t_vwait, blocked;
		struct fl_vma **list;
		size_t n, cap, i;
		bool read;		/* madvise under the read lock */
		struct fl_vma *vma;	/* madvise under a VMA lock */
	} wr;
};

/* PTE presence: (mm, virtual page) -> id of the VMA that mapped it (0 = none). */
struct ptemap {
	uint64_t *k, *v;
	size_t mask, n;
};

struct sim {
	const struct fl_model_input *in;
	/* page-cache activity samples (finish_run makes out->pc of them) */
	uint64_t *win_pages, *win_build_ns;
	size_t nwin, capwin;
	uint32_t pol;
	struct fl_fault_rules rules;
	const struct fl_arch *arch;
	struct fl_model_costs c;
	struct fl_evq q;
	struct fl_rng rng;		/* wake-up jitter, kworker draws */
	struct fl_cpu cpu;
	struct fl_io io;
	uint64_t *irq_until;		/* [ncpus] ns: the CPU handles interrupts until then */
	struct fl_pagecache pc;
	struct mmst *mms;
	struct thr *t;
	size_t nt;
	struct ioreq *req;
	size_t nreq, capreq;
	uint32_t req_free;
	struct ptemap pte;
	uint32_t *memwait;		/* threads waiting for the memory cgroup to have room */
	uint64_t min_vrt;		/* ns: the run queue's min_vruntime (only grows) */
	uint64_t tick_at;		/* ns: the pending EV_TICK, 0 none */
	/* the threads running or waiting for a CPU, for V (avg_vrt): the sum of
	 * their vrt (a running one's as of its cpu_since), how many, and of the
	 * running ones how many and the sum of their cpu_since */
	uint64_t rq_sum, rq_n, run_n, run_since_sum;
	size_t nmemwait, capmemwait;
	struct rastate *ras;		/* per file id (0 unused) */
	size_t nras;
	struct fl_model_run *out;
	size_t capfaults;
	uint64_t now, last_end;
	uint64_t fork_hold_ns, fork_blocked_ns;
	uint32_t page_shift;
};

/* ---- small helpers -------------------------------------------------------------- */

static uint64_t pte_key(uint32_t mm, uint64_t vpage)
{
	return ((uint64_t)(mm + 1) << 52) ^ vpage;
}

static uint64_t pte_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	return k ^ (k >> 33);
}

static void pte_set(struct ptemap *p, uint64_t k, uint64_t v)
{
	size_t i;

	if (2 * (p->n + 1) > p->mask + 1 || !p->k) {
		size_t om = p->k ? p->mask : 0;
		uint64_t *ok = p->k, *ov = p->v;

		p->mask = p->k ? 2 * p->mask + 1 : 4095;
		p->k = fl_calloc(p->mask + 1, sizeof(*p->k));
		p->v = fl_calloc(p->mask + 1, sizeof(*p->v));
		p->n = 0;
		if (ok) {
			for (size_t j = 0; j <= om; j++)
				if (ok[j])
					pte_set(p, ok[j], ov[j]);
			free(ok);
			free(ov);
		}
	}
	for (i = pte_hash(k) & p->mask; p->k[i] && p->k[i] != k; i = (i + 1) & p->mask)
		;
	if (!p->k[i]) {
		p->k[i] = k;
		p->n++;
	}
	p->v[i] = v;
}

static uint64_t pte_get(const struct ptemap *p, uint64_t k)
{
	if (!p->k)
		return 0;
	for (size_t i = pte_hash(k) & p->mask; p->k[i]; i = (i + 1) & p->mask)
		if (p->k[i] == k)
			return p->v[i];
	return 0;
}

static void push_self(struct sim *s, struct thr *t, uint64_t at, enum ev_kind k)
{
	fl_evq_push(&s->q, at, k, t->idx, t->gen);
}

/* The CPU thread t was given in the affine mode, else UINT32_MAX. */
static uint32_t cpu_of(const struct sim *s, const struct thr *t)
{
	return s->cpu.affine && t->idx < s->cpu.nthr ? s->cpu.thr[t->idx].on : UINT32_MAX;
}

/* t runs on its CPU from at, or when that CPU is done with its interrupts. */
static void push_run(struct sim *s, struct thr *t, uint64_t at)
{
	uint32_t c = cpu_of(s, t);

	if (s->irq_until && c < s->cpu.ncpus && s->irq_until[c] > at)
		at = s->irq_until[c];
	t->run_at = at;
	push_self(s, t, at, EV_RUN);
}

static void push_burst(struct sim *s, struct thr *t, uint64_t at)
{
	t->burst_end = at;
	push_self(s, t, at, EV_BURST);
}

/*
 * An interrupt takes ns of CPU c (a block completion, fl_io_set_rounds'
 * spacing: the capture's completions of a round come that far apart on the
 * CPU that takes the device's interrupt). The thread running there is
 * delayed by it, as is one about to start there; an idle CPU starts its next
 * thread after it.
 */
static void irq_steal(struct sim *s, uint32_t c, uint64_t ns)
{
	uint32_t tid;

	/* CPUs have identities only in the affine mode: irq_until is set up with it */
	if (!s->irq_until || c >= s->cpu.ncpus)
		return;
	tid = s->cpu.cur[c];
	if (tid < s->nt && s->t[tid].on_cpu) {
		struct thr *t = &s->t[tid];

		if (t->burst_end > s->now) {
			t->gen++;
			push_burst(s, t, t->burst_end + ns);
		} else {
			t->owed += ns;
		}
		return;
	}
	if (s->irq_until[c] < s->now)
		s->irq_until[c] = s->now;
	s->irq_until[c] += ns;
	if (tid < s->nt && s->t[tid].run_at > s->now) {
		s->t[tid].gen++;
		push_run(s, &s->t[tid], s->t[tid].run_at);
	}
}

/* The writers spinning on mm's mmap_lock check their spin ends again (spin_until moved). */
static void respin(struct sim *s, struct mmst *ms)
{
	for (struct fl_rwsem_waiter *w = ms->mm.mmap_lock.spin_head; w; w = w->next) {
		struct thr *x = &s->t[w->tid];

		x->gen++;
		push_self(s, x, w->spin_until, EV_SPIN);
	}
}

/* rwsem_can_spin_on_owner's owner_on_cpu(), for the mmap_lock's writers (fl_rwsem_cfg). */
static bool thr_on_cpu(void *arg, uint32_t tid)
{
	const struct sim *s = arg;

	return tid < s->nt && s->t[tid].on_cpu;
}

/*
 * Wake-up latency on an idle CPU: uniform in [mean / 2, 3 * mean / 2] (seeded), the
 * mean wake_ns, or wake_remote_ns when the waker is another CPU (it must interrupt
 * the idle one: on this VM twice as long).
 */
static uint64_t wake_latency(struct sim *s, bool remote)
{
	uint64_t mean = remote && s->c.wake_remote_ns ? s->c.wake_remote_ns : s->c.wake_ns;

	return mean / 2 + fl_rng_below(&s->rng, mean + 1);
}

/*
 * V, the run queue's average virtual runtime (EEVDF's avg_vruntime): over the
 * threads running or waiting for a CPU, a running one counted with the CPU it
 * has used so far, and `with` (not among them: it has just stopped) at its
 * vrt; none -> min_vrt.
 */
static uint64_t avg_vrt(const struct sim *s, const struct thr *with)
{
	uint64_t sum = s->rq_sum + s->run_n * s->now - s->run_since_sum, n = s->rq_n;

	if (with) {
		sum += with->vrt;
		n++;
	}
	return n ? sum / n : s->min_vrt;
}

/* The sums behind V: t joins the threads running or waiting for a CPU, starts
 * running (at its cpu_since), or stops running and leaves them. */
static void v_enter(struct sim *s, const struct thr *t)
{
	s->rq_sum += t->vrt;
	s->rq_n++;
}

static void v_run(struct sim *s, const struct thr *t)
{
	s->run_n++;
	s->run_since_sum += t->cpu_since;
}

static void v_leave(struct sim *s, const struct thr *t)
{
	s->rq_sum -= t->vrt;
	s->rq_n--;
	s->run_n--;
	s->run_since_sum -= t->cpu_since;
}

/* EEVDF clamps a sleeper's lag to two slices (update_entity_lag). */
static int64_t lag_clamp(const struct sim *s, int64_t lag)
{
	int64_t lim = 2 * (int64_t)s->c.slice_ns;

	return lag > lim ? lim : lag < -lim ? -lim : lag;
}

#define TICK_NS 4000000ULL	/* a jiffy at HZ=250, this machine's */

/*
 * A thread waits on a busy CPU while another CPU is idle (affine mode): at the
 * busy CPU's next tick the idle CPU is kicked to balance and pulls it
 * (fl_cpu_idle_pull; EV_TICK). Ticks fall on jiffy boundaries of the run.
 */
static void tick_arm(struct sim *s)
{
	if (s->tick_at || !fl_cpu_idle_and_queued(&s->cpu))
		return;
	s->tick_at = (s->now / TICK_NS + 1) * TICK_NS;
	fl_evq_push(&s->q, s->tick_at, EV_TICK, FL_TID_NONE, 0);
}

/*
 * The thread becomes runnable: it runs when it has a CPU. The run queue is
 * ordered by virtual runtime (CPU time used), as the fair scheduler's is
 * (kernel/sched/fair.c): a thread put back by its slice queues by what it has
 * used. A thread woken from a sleep is placed as EEVDF places it (6.6+,
 * place_entity with PLACE_LAG): at the queue's average V minus the lag it had
 * when it stopped, clamped to two slices; so a thread that used less than its
 * share before sleeping runs soon, and one that just ran its share waits for
 * the others below V (on the 8 MiB thrash a woken reader waited ~20 ms behind
 * six reclaiming threads). Picking the least virtual runtime first is
 * EEVDF's earliest eligible deadline when every slice is the same.
 */
static void make_runnable(struct sim *s, struct thr *t, bool woke, bool remote)
{
	t->t_wake = s->now;
	if (t->on_cpu) {			/* a spinner: already running */
		t->gen++;
		push_self(s, t, s->now, EV_RUN);
		return;
	}
	if (t->runnable)
		return;
	t->runnable = true;
	t->t_runnable = s->now;
	if (woke) {
		int64_t v = (int64_t)avg_vrt(s, NULL) - t->lag;

		t->vrt = v > 0 ? (uint64_t)v : 0;
	}
	v_enter(s, t);
	if (fl_cpu_get_key(&s->cpu, t->idx, s->now, t->vrt))
		push_run(s, t, s->now + wake_latency(s, remote));
	else
		tick_arm(s);
}

/* Woken by another thread or an interrupt elsewhere: a lock released, an I/O done. */
static void wake(struct sim *s, struct thr *t)
{
	make_runnable(s, t, true, true);
}

/* The thread stops running (sleeps or ends); its CPU goes to the next runnable thread. */
static void block(struct sim *s, struct thr *t)
{
	uint64_t waited;
	uint32_t next;

	if (!t->on_cpu)
		return;
	t->on_cpu = false;
	if (t->owed + t->kw_owed) {	/* the interrupt, the kworker run on */
		uint32_t c = cpu_of(s, t);

		if (s->irq_until && c < s->cpu.ncpus)
			s->irq_until[c] = (s->irq_until[c] > s->now ? s->irq_until[c] : s->now) +
					  t->owed + t->kw_owed;
		t->owed = 0;
		t->kw_owed = 0;
	}
	/* a write owner off its CPU: the writers spinning on it queue (rwsem_spin_on_owner) */
	if (t->w.state == FL_RWS_HOLD_WRITE && fl_rwsem_owner_off_cpu(&t->ms->mm.mmap_lock, s->now))
		respin(s, t->ms);
	v_leave(s, t);
	t->vrt += s->now - t->cpu_since;
	t->lag = lag_clamp(s, (int64_t)avg_vrt(s, t) - (int64_t)t->vrt);
	next = fl_cpu_put_thread(&s->cpu, t->idx, s->now, &waited);
	if (next != FL_TID_NONE)
		push_run(s, &s->t[next], s->now + s->c.switch_ns);
	else
		tick_arm(s);	/* idle now, with a cache-hot thread waiting elsewhere */
}

/*
 * Others wait for this thread's CPU and it has had its turn: with one queue, a
 * thread with less virtual runtime is queued; on per-CPU queues (affine), any
 * thread queued on its CPU.
 */
static bool others_wait(struct sim *s, struct thr *t)
{
	if (s->cpu.affine)
		return fl_cpu_contended(&s->cpu, t->idx);
	return fl_cpu_head_key(&s->cpu) < t->vrt + (s->now - t->cpu_since);
}

static void burn(struct sim *s, struct thr *t, uint64_t ns, enum phase next)
{
	uint64_t chunk;

	t->phase = next;
	t->burst_left = ns;
	chunk = ns < s->c.slice_ns ? ns : s->c.slice_ns;
	t->burst_left -= chunk;
	push_burst(s, t, s->now + chunk + t->owed);
	t->owed = 0;
}

static void drain_rwsem(struct sim *s, struct mmst *ms)
{
	struct fl_rwsem_waiter *x = fl_rwsem_woken(&ms->mm.mmap_lock), *next;

	for (; x; x = next) {
		next = x->wake_next;
		wake(s, &s->t[x->tid]);
	}
}

static void drain_pc(struct sim *s)
{
	struct fl_folio_waiter *x = fl_pagecache_woken(&s->pc), *next;

	for (; x; x = next) {
		struct thr *t = &s->t[x->tid];

		next = x->wake_next;
		t->f.waiting = false;
		if (t->f.fpin) {
			/* the retry window opens: the I/O it dropped the lock for is done */
			t->f.win_open = true;
			t->f.win_start = s->now;
			t->f.win_cpu = t->f.win_mmap = t->f.win_vma = 0;
		}
		wake(s, t);
	}
}

static void vma_end_read(struct sim *s, struct thr *t, struct fl_vma *v)
{
	uint32_t w = fl_vma_end_read(&t->ms->mm, v, s->now);

	if (w != FL_TID_NONE)
		wake(s, &s->t[w]);
}

static void release_fault_lock(struct sim *s, struct thr *t)
{
	if (t->f.lock == LK_VMA)
		vma_end_read(s, t, t->f.vma);
	else if (t->f.lock == LK_MMAP) {
		fl_rwsem_up_read(&t->ms->mm.mmap_lock, &t->w, s->now);
		drain_rwsem(s, t->ms);
	}
	t->f.lock = LK_NONE;
	t->f.vma = NULL;
}

static uint64_t file_pages(const struct sim *s, uint32_t file)
{
	if (file >= SWAP_FILE_BASE)
		return UINT64_MAX >> 1;
	if (!file || file > s->in->nfiles)
		return 0;
	return s->in->file_pages[file - 1];
}

/* ---- I/O -------------------------------------------------------------------------- */

static uint32_t req_alloc(struct sim *s)
{
	uint32_t r;

	if (s->req_free != UINT32_MAX) {
		r = s->req_free;
		s->req_free = s->req[r].next_free;
	} else {
		if (s->nreq == s->capreq) {
			s->capreq = s->capreq ? 2 * s->capreq : 64;
			s->req = fl_realloc(s->req, s->capreq * sizeof(*s->req));
		}
		r = s->nreq++;
		memset(&s->req[r], 0, sizeof(s->req[r]));
	}
	s->req[r].n = 0;
	return r;
}

static void req_add(struct sim *s, uint32_t r, struct fl_folio *f)
{
	struct ioreq *q = &s->req[r];

	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 32;
		q->f = fl_realloc(q->f, q->cap * sizeof(*q->f));
	}
	q->f[q->n++] = f;
}

static void req_submit(struct sim *s, struct thr *t, uint32_t r)
{
	uint64_t done;
	const struct fl_model_input *in = s->in;

	/* the block layer's kworkers: their CPU per request, on the submitter's CPU */
	if (in->kworker_ppm && fl_rng_below(&s->rng, 1000000) < in->kworker_ppm)
		t->kw_owed += in->kworker_ns[fl_rng_below(&s->rng, in->nkworker_ns)];

	s->out->io_requests++;
	if (fl_io_submit(&s->io, s->now, r, &done))
		fl_evq_push(&s->q, done, EV_IO_DONE, FL_TID_NONE, r);
}

/* Submits folios[0..n) (created LOCKED for read) as one request per contiguous run. */
static void submit_reads(struct sim *s, struct thr *t, struct fl_folio **f, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t r = req_alloc(s);
		size_t j = i;

		req_add(s, r, f[j]);
		/* a contiguous run, split where the block layer splits (max_sectors_kb) */
		while (j + 1 < n && f[j + 1]->index == f[j]->index + 1 && f[j + 1]->file == f[j]->file &&
		       (!s->in->io_max_pages || s->req[r].n < s->in->io_max_pages))
			req_add(s, r, f[++j]);
		req_submit(s, t, r);
		i = j + 1;
	}
}

static void io_done(struct sim *s, uint32_t r)
{
	struct ioreq *q = &s->req[r];
	uint64_t tag, done;

	if (s->io.rounds)
		irq_steal(s, s->in->irq_cpu, s->io.gap_ns);

	fl_pc_activity_read(&s->out->pc, s->now);
	for (size_t i = 0; i < q->n; i++)
		fl_pagecache_read_done(&s->pc, q->f[i], true, s->now);
	q->n = 0;
	q->next_free = s->req_free;
	s->req_free = r;
	drain_pc(s);
	/* unlocked folios can be reclaimed now: the memcg waiters try again */
	for (size_t i = 0, n = s->nmemwait; i < n; i++)
		wake(s, &s->t[s->memwait[i]]);
	s->nmemwait = 0;
	if (fl_io_complete(&s->io, s->now, &tag, &done))
		fl_evq_push(&s->q, done, EV_IO_DONE, FL_TID_NONE, tag);
}

/* ---- faults ----------------------------------------------------------------------- */

static const struct fl_op *cur_op(const struct thr *t)
{
	return &t->in->ops[t->op];
}

static uint32_t op_access(const struct fl_op *op)
{
	return op->flags & FL_OPF_EXEC ? FL_ACC_EXEC :
	       op->flags & FL_OPF_WRITE ? FL_ACC_WRITE : FL_ACC_READ;
}

static bool vma_lock_usable(const struct sim *s, const struct fl_op *op)
{
	return s->rules.vma_lock && !(s->pol & FL_POL_NO_VMA_LOCK) &&
	       !(op->flags & FL_OPF_KERNEL);
}

static void fault_begin(struct sim *s, struct thr *t)
{
	const struct fl_op *op = cur_op(t);

	memset(&t->f, 0, sizeof(t->f));
	t->f.rec.ref = op->ref;
	t->f.rec.thread = t->idx;
	t->f.rec.addr = t->addr;
	t->f.rec.user = !(op->flags & FL_OPF_KERNEL);
	t->f.rec.start_ns = s->now;
	t->f.rec.path = FL_MPATH_MMAP;
	t->phase = vma_lock_usable(s, op) ? PH_F_VMA_TRY : PH_F_MMAP_LOCK;
}

static void fault_record(struct sim *s, struct thr *t, enum fl_model_outcome oc)
{
	struct fl_model_run *o = s->out;

	t->f.rec.outcome = oc;
	t->f.rec.end_ns = s->now;
	t->f.rec.major = t->f.major || t->f.tried;
	if (o->nfaults == s->capfaults) {
		s->capfaults = s->capfaults ? 2 * s->capfaults : 1024;
		o->faults = fl_realloc(o->faults, s->capfaults * sizeof(*o->faults));
	}
	o->faults[o->nfaults++] = t->f.rec;
	if (oc == FL_OUT_SEGV)
		o->segv++;
}

static void close_window(struct sim *s, struct thr *t, bool missed)
{
	struct fl_retry_window *w = &s->out->win;
	uint64_t len, rest;

	if (!t->f.win_open)
		return;
	t->f.win_open = false;
	len = s->now - t->f.win_start;
	rest = t->f.win_cpu + t->f.win_mmap + t->f.win_vma;
	if (rest > len)
		s->out->anomalies++;	/* the parts must fit in the window */
	w->n++;
	w->total_ns += len;
	w->cpu_wait_ns += t->f.win_cpu;
	w->mmap_wait_ns += t->f.win_mmap;
	w->vma_wait_ns += t->f.win_vma;
	w->run_ns += len > rest ? len - rest : 0;
	if (len > w->max_ns)
		w->max_ns = len;
	w->missed += missed;
}

static void fault_drop(struct sim *s, struct thr *t);

/* n pages inserted in the page cache by t's current fault. */
static void note_insert(struct sim *s, struct thr *t, size_t n)
{
	if (!n)
		return;
	if (!t->f.ins_n)
		t->f.ins_first = s->now;
	t->f.ins_last = s->now;
	t->f.ins_n += n;
}

/* Inserts past cfg.strict (the swap cache, a charge that can never succeed). */
static struct fl_folio *pc_add_force(struct sim *s, uint32_t file, uint64_t index, bool locked)
{
	bool strict = s->pc.cfg.strict;
	struct fl_folio *f;

	s->pc.cfg.strict = false;
	f = fl_pagecache_add(&s->pc, file, index, locked, s->now);
	s->pc.cfg.strict = strict;
	return f;
}

/*
 * A folio the fault cannot do without (FGP_CREAT, no __GFP_NORETRY): when the
 * memory cgroup has no room and reclaim finds nothing to evict — every page is
 * locked under read I/O or in use — the kernel's charge retries reclaim,
 * throttled until I/O completes (mm/memcontrol.c try_charge_memcg,
 * mm/vmscan.c reclaim_throttle). The model puts the thread to sleep until the
 * next read completes (io_done wakes it to try again); with no read in
 * flight nothing would ever free, so it inserts over the limit. NULL: asleep.
 */
static struct fl_folio *new_folio(struct sim *s, struct thr *t, uint32_t file, uint64_t index,
				  bool locked)
{
	struct fl_folio *f = fl_pagecache_add(&s->pc, file, index, locked, s->now);

	if (!f && !s->io.inflight)
		f = pc_add_force(s, file, index, locked);
	if (f) {
		note_insert(s, t, 1);
		return f;
	}
	if (s->nmemwait == s->capmemwait) {
		s->capmemwait = s->capmemwait ? 2 * s->capmemwait : 16;
		s->memwait = fl_realloc(s->memwait, s->capmemwait * sizeof(*s->memwait));
	}
	s->memwait[s->nmemwait++] = t->idx;
	s->out->memcg_waits++;
	block(s, t);
	return NULL;
}

/*
 * A readahead window as page_cache_ra_unbounded() builds it (§6.1): folio by
 * folio in index order, each allocated and charged to the memory cgroup — a
 * charge over the limit reclaims in this task (try_charge_memcg, which asks
 * for SWAP_CLUSTER_MAX pages at a time) — and the reads are submitted only
 * when the whole window is in the page cache (read_pages under the task's
 * block plug). The model does it RA_CHUNK pages at a time: insert (the LRU
 * evicts what the capacity requires), burn their allocation and reclaim CPU,
 * next chunk; then submit. Meanwhile the window's folios are locked, and
 * other tasks' reclaim and allocation interleave with it as in the kernel; an
 * 8 MiB window at 25 us of reclaim a page takes the faulting task ~50 ms of
 * CPU before its read is even issued.
 */
#define RA_CHUNK 32

static void ra_start(struct sim *s, struct thr *t, uint64_t start, uint64_t nr, uint64_t mark,
		     uint64_t fp)
{
	if (!t->ra.buf)
		t->ra.buf = fl_calloc(s->pc.cfg.ra_pages + RA_CHUNK, sizeof(*t->ra.buf));
	t->ra.file = t->f.file;
	t->ra.next = start;
	t->ra.end = start + (nr > s->pc.cfg.ra_pages ? s->pc.cfg.ra_pages : nr);
	t->ra.mark = mark;
	t->ra.fp = fp;
	t->ra.n = 0;
	t->ra.failed = 0;
	t->phase = PH_F_RA;
}

/* One chunk of the window (burns its cost, back in PH_F_RA), or submits it: true when done. */
static bool ra_step(struct sim *s, struct thr *t)
{
	uint64_t ev0 = s->pc.stats.evicted, sc0 = s->pc.stats.scanned, nr, fails, cost;
	size_t n;

	if (t->ra.next >= t->ra.end) {
		submit_reads(s, t, t->ra.buf, t->ra.n);
		t->ra.n = 0;
		return true;
	}
	nr = t->ra.end - t->ra.next < RA_CHUNK ? t->ra.end - t->ra.next : RA_CHUNK;
	fails = s->pc.stats.charge_failed;
	n = fl_pagecache_readahead(&s->pc, t->ra.file, t->ra.next, nr, t->ra.mark, t->ra.fp,
				   s->now, t->ra.buf + t->ra.n);
	t->ra.n += n;
	note_insert(s, t, n);
	if (s->pc.stats.charge_failed == fails) {
		t->ra.next += nr;
		t->ra.failed = 0;
	} else if (++t->ra.failed >= 2) {
		t->ra.next = t->ra.end;	/* __GFP_NORETRY charge failed: the window ends */
	}
	/*
	 * Otherwise reclaim found nothing to free for this chunk: it has scanned
	 * the lists for that (its cost is in the burn below, paid before anything
	 * is decided), and try_charge_memcg drains the per-CPU stocks and
	 * reclaims once more before a __GFP_NORETRY charge fails. So the chunk is
	 * tried again after the burn, and what other tasks' reads unlocked in the
	 * meantime can be reclaimed then; the second failure ends the window. On
	 * the 8 MiB thrash this is the kernel's stall: 15 threads in reclaim for
	 * 100 ms with nothing freed, memory full of windows under construction.
	 */
	cost = n * s->c.ra_page_ns;
	if (s->c.reclaim_scan_ns)
		cost += (s->pc.stats.scanned - sc0) * s->c.reclaim_scan_ns;
	else
		cost += (s->pc.stats.evicted - ev0) * s->c.reclaim_page_ns;
	s->out->reclaim_cpu_ns += cost - n * s->c.ra_page_ns;
	burn(s, t, cost, PH_F_RA);
	return false;
}

/*
 * Readahead state per file (struct file_ra_state: start, size, async_size).
 * mmap read-around sets [index - ra/2, +ra) with async_size ra/4;
 * page_cache_async_ra moves to the next window, start += size, with
 * async_size = size, so its PG_readahead marker is the window's first page.
 * The engine's folios are order 0 while the kernel's readahead allocates large
 * folios, and a fault anywhere in the folio carrying PG_readahead triggers the
 * async readahead; a replayed fault stream, taken from a kernel with large
 * folios, need not touch the exact marker page. So the trigger is a first-try
 * fault in the window's async tail [start + size - async_size, start + size):
 * it reads the next window (dropping the fault lock first, case B'). Returns
 * true if it did (the caller is then fpin).
 */
static bool ra_async(struct sim *s, struct thr *t, uint64_t fp)
{
	struct rastate *r;
	uint64_t ra = s->pc.cfg.ra_pages, start;
	struct fl_folio *mk;

	if (!ra || t->f.file >= s->nras)
		return false;
	r = &s->ras[t->f.file];
	if (!r->size || t->f.index < r->start + r->size - r->async ||
	    t->f.index >= r->start + r->size)
		return false;
	mk = fl_pagecache_peek(&s->pc, t->f.file, r->start + r->size - r->async);
	if (mk)
		mk->flags &= ~FL_FOLIO_READAHEAD;
	start = r->start + r->size;
	r->start = start;
	r->size = ra;
	r->async = ra;
	fault_drop(s, t);
	ra_start(s, t, start, ra, start, fp);
	return true;
}

/* Marks the PTEs of [lo, hi) around the target that fault-around/the fault mapped. */
static void map_ptes(struct sim *s, struct thr *t, struct fl_vma *v, uint64_t lo, uint64_t hi,
		     uint64_t index, uint64_t vpage)
{
	for (uint64_t i = lo; i < hi; i++) {
		struct fl_folio *f = fl_pagecache_peek(&s->pc, v->file, i);

		if (i != index && (!f || (f->flags & (FL_FOLIO_LOCKED | FL_FOLIO_READAHEAD)) ||
				   !(f->flags & FL_FOLIO_UPTODATE)))
			continue;
		pte_set(&s->pte, pte_key(t->mmi, vpage + i - index), v->id);
	}
}

/*
 * handle_mm_fault returned RETRY with the fault lock already released. major:
 * VM_FAULT_MAJOR; vma_flag: VM_FAULT_RETRY_VMA (vma-retry); hard: the cause
 * needs mmap_lock (RETRY_HARD).
 */
static void fault_retry(struct sim *s, struct thr *t, bool was_vma, bool major, bool vma_flag,
			bool hard)
{
	if (t->f.rec.attempts > s->out->max_attempts)
		s->out->max_attempts = t->f.rec.attempts;
	if (t->f.rec.attempts >= MAX_ATTEMPTS && !t->f.tried) {
		/* guard: a retry loop the model cannot end (counted, see the essay) */
		s->out->retry_loops_cut++;
		t->f.tried = true;
	}
	if (major)
		t->f.major = true;
	if (!was_vma) {
		t->f.tried = true;		/* the mmap loop: flags |= TRIED; goto retry */
		t->phase = PH_F_MMAP_LOCK;
		return;
	}
	if (major && s->rules.major_sets_tried)
		t->f.tried = true;
	if (((s->pol & FL_POL_VMA_RETRY) && vma_flag) || ((s->pol & FL_POL_RETRY_HARD) && !hard)) {
		t->f.in_retry_vma = true;
		t->phase = PH_F_VMA_TRY;
		return;
	}
	t->f.rec.path = FL_MPATH_VMA_RETRY_MMAP;
	t->phase = PH_F_MMAP_LOCK;
}

/* out_retry of filemap_fault / do_swap_page after dropping the lock to wait. */
static void fault_out_retry(struct sim *s, struct thr *t)
{
	bool was_vma = t->f.vma_tried;

	t->f.rec.retry_drop++;
	t->f.after_drop = true;
	if (t->f.folio) {
		fl_folio_put(&s->pc, t->f.folio, s->now);
		t->f.folio = NULL;
	}
	fault_retry(s, t, was_vma, t->f.major_this, t->f.vma_tried, false);
}

static void fault_done(struct sim *s, struct thr *t, enum fl_model_outcome oc)
{

	if (t->f.folio) {
		fl_folio_put(&s->pc, t->f.folio, s->now);
		t->f.folio = NULL;
	}
	if (t->f.lock == LK_VMA && t->f.vma_phase) {
		t->f.rec.path = t->f.in_retry_vma ? FL_MPATH_VMA_RETRY_VMA : FL_MPATH_VMA;
	}
	release_fault_lock(s, t);
	close_window(s, t, false);
	fault_record(s, t, oc);
	if (t->f.major && t->f.ins_n) {
		if (s->nwin == s->capwin) {
			s->capwin = s->capwin ? 2 * s->capwin : 64;
			s->win_pages = fl_realloc(s->win_pages, s->capwin * sizeof(uint64_t));
			s->win_build_ns = fl_realloc(s->win_build_ns, s->capwin * sizeof(uint64_t));
		}
		s->win_pages[s->nwin] = t->f.ins_n;
		s->win_build_ns[s->nwin++] = t->f.ins_last - t->f.ins_first;
	}
	t->op++;
	t->phase = PH_OP_BEGIN;
}

/* Drops the fault lock to wait (fpin = maybe_unlock_mmap_for_io). */
static void fault_drop(struct sim *s, struct thr *t)
{
	t->f.vma_tried = t->f.lock == LK_VMA;
	t->f.fpin = true;
	release_fault_lock(s, t);
}

/* Starts waiting on the pinned folio; returns true if it must block. */
static bool folio_wait(struct sim *s, struct thr *t, bool lock)
{
	bool got;

	t->f.t_wait = s->now;
	t->f.wait_locked = t->f.lock != LK_NONE;
	got = lock ? fl_folio_lock(&s->pc, t->f.folio, &t->fw, s->now) :
		     fl_folio_wait_locked(&s->pc, t->f.folio, &t->fw, s->now);
	if (got) {
		t->t_wake = s->now;
		return false;
	}
	t->f.waiting = true;
	block(s, t);
	return true;
}

static void folio_wait_end(struct sim *s, struct thr *t)
{
	uint64_t d = t->t_wake - t->f.t_wait;

	t->f.rec.io_wait_ns += d;
	if (t->f.wait_locked)
		t->f.rec.io_wait_locked_ns += d;
}

/* ---- the thread state machine ------------------------------------------------------- */

static void writer_begin(struct sim *s, struct thr *t);
static void op_exec(struct sim *s, struct thr *t);
static void relocate(struct sim *s, struct thr *t, uint64_t old, uint64_t len);
static void fault_drop(struct sim *s, struct thr *t);

static void list_add(struct thr *t, struct fl_vma *v)
{
	if (t->wr.n == t->wr.cap) {
		t->wr.cap = t->wr.cap ? 2 * t->wr.cap : 16;
		t->wr.list = fl_realloc(t->wr.list, t->wr.cap * sizeof(*t->wr.list));
	}
	t->wr.list[t->wr.n++] = v;
}

static void list_range(struct thr *t, uint64_t start, uint64_t end)
{
	size_t first, n;

	if (end <= start)
		return;
	n = fl_mm_range(&t->ms->mm, start, end, &first);
	for (size_t k = 0; k < n; k++)
		list_add(t, t->ms->mm.vmas[first + k]);
}

static bool madv_read_lock(uint64_t advice)
{
	switch (advice) {
	case FL_MADV_WILLNEED: case FL_MADV_DONTNEED: case FL_MADV_FREE:
	case 9 /* REMOVE */: case 20 /* COLD */: case 21 /* PAGEOUT */:
	case 22 /* POPULATE_READ */: case 23 /* POPULATE_WRITE */: case 25 /* COLLAPSE */:
	case 0x100 /* DONTNEED_LOCKED */:
		return true;
	default:
		return false;
	}
}

static void zap_ptes(struct sim *s, struct thr *t, uint64_t start, uint64_t len)
{
	uint64_t pages = len >> s->page_shift;

	if (pages > (1u << 20))
		return;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t k = pte_key(t->mmi, (start >> s->page_shift) + i);

		if (pte_get(&s->pte, k))
			pte_set(&s->pte, k, 0);
	}
}

static uint64_t op_cost(const struct sim *s, const struct fl_op *op, uint64_t def)
{
	return op->kcpu_ns ? op->kcpu_ns : def;
}

static void step(struct sim *s, struct thr *t)
{
	for (;;) {
		const struct fl_op *op = t->op < t->in->nops ? cur_op(t) : NULL;
		struct fl_mm *mm = &t->ms->mm;
		enum fl_rwsem_res r;

		switch (t->phase) {
		case PH_IDLE:
		case PH_DONE:
			return;
		case PH_OP_BEGIN:
			if (t->kw_owed) {	/* back to user space: the kworker runs first */
				uint64_t kw = t->kw_owed;

				t->kw_owed = 0;
				burn(s, t, kw, PH_OP_BEGIN);
				return;
			}
			if (!op) {
				t->phase = PH_DONE;
				t->done = true;
				if (s->now > s->last_end)
					s->last_end = s->now;
				block(s, t);
				return;
			}
			if (op->cpu_ns) {
				burn(s, t, op->cpu_ns, PH_OP_SLEEP);
				return;
			}
			t->phase = PH_OP_SLEEP;
			continue;
		case PH_OP_SLEEP:
			t->phase = PH_OP_EXEC;
			if (op->sleep_ns) {
				block(s, t);
				push_self(s, t, s->now + op->sleep_ns, EV_SLEEP);
				return;
			}
			continue;
		case PH_OP_EXEC:
			s->out->ops++;
			op_exec(s, t);
			continue;

		/* ---- fault: lock_vma_under_rcu (§4.1, §5.2) ---- */
		case PH_F_VMA_TRY: {
			enum fl_vma_read_res res;
			struct fl_vma *v = fl_vma_lock_try_read(mm, t->addr, &res);

			if (!v) {
				s->out->vma_lock_fail++;
				if (t->f.in_retry_vma && (res == FL_VMA_ABORT_LOCKED ||
							  res == FL_VMA_ABORT_WRITER))
					t->f.fell_vma_locked = true;
				if (t->f.vma_phase)
					t->f.rec.path = FL_MPATH_VMA_RETRY_MMAP;
				t->phase = PH_F_MMAP_LOCK;
				continue;
			}
			t->f.lock = LK_VMA;
			t->f.vma = v;
			if (!t->f.vma_phase)
				t->f.vma_phase = 1;
			if (!fl_arch_access_ok(s->arch, op_access(op), v->flags)) {
				if (s->rules.vma_access_error) {
					fault_done(s, t, FL_OUT_SEGV);
					continue;
				}
				release_fault_lock(s, t);	/* 6.4-6.9: re-check under mmap_lock */
				t->phase = PH_F_MMAP_LOCK;
				continue;
			}
			t->phase = PH_F_ATTEMPT;
			continue;
		}
		/* ---- fault: lock_mm_and_find_vma (§4.3) ---- */
		case PH_F_MMAP_LOCK:
			t->f.t_lock = s->now;
			if (s->rules.mmap_entry == FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA) {
				r = fl_rwsem_down_read_trylock(&mm->mmap_lock, &t->w, s->now,
							       t->op);
				drain_rwsem(s, t->ms);
				if (r == FL_RWSEM_ACQUIRED) {
					t->phase = PH_F_MMAP_HAVE;
					continue;
				}
			}
			r = fl_rwsem_down_read(&mm->mmap_lock, &t->w, s->now, t->op);
			drain_rwsem(s, t->ms);
			if (r == FL_RWSEM_ACQUIRED) {
				t->phase = PH_F_MMAP_HAVE;
				continue;
			}
			t->phase = PH_F_MMAP_WAIT;
			block(s, t);
			return;
		case PH_F_MMAP_WAIT:
			if (t->w.state != FL_RWS_HOLD_READ) {
				block(s, t);		/* not ours yet */
				return;
			}
			fl_rwsem_returned(&mm->mmap_lock, &t->w, s->now);
			t->f.t_granted = t->t_wake;
			t->phase = PH_F_MMAP_HAVE;
			continue;
		case PH_F_MMAP_HAVE: {
			/* queued time only: the CPU wait after the grant is counted at EV_RUN */
			uint64_t wait = (t->f.t_granted > t->f.t_lock ? t->f.t_granted : s->now) -
					t->f.t_lock;
			struct fl_vma *v;

			t->f.rec.mmap_wait_ns += s->now - t->f.t_lock;
			t->f.t_granted = 0;
			if (t->f.win_open) {
				if (t->f.fell_vma_locked)
					t->f.win_vma += wait;
				else
					t->f.win_mmap += wait;
			}
			t->f.lock = LK_MMAP;
			v = fl_mm_lookup(mm, t->addr);
			t->f.vma = v;
			if (!v || !fl_arch_access_ok(s->arch, op_access(op), v->flags)) {
				fault_done(s, t, FL_OUT_SEGV);
				continue;
			}
			t->phase = PH_F_ATTEMPT;
			continue;
		}
		/* ---- handle_mm_fault (§6) ---- */
		case PH_F_ATTEMPT: {
			struct fl_vma *v = t->f.vma;
			bool under_vma = t->f.lock == LK_VMA;
			bool write = op->flags & FL_OPF_WRITE;
			bool file = (v->flags & FL_VMA_FILE) && !(v->flags & FL_VMA_SHMEM);

			bool resumed = t->f.anon_paid;

			t->f.anon_paid = false;
			if (!resumed) {
				t->f.rec.attempts++;
				t->f.fpin = false;
				t->f.major_this = false;
				t->f.vma_tried = false;
			}
			if (write && !(v->flags & FL_VMA_SHARED) && !(v->flags & FL_VMA_HAS_ANON_VMA) &&
			    (!file || write)) {
				/*
				 * do_anonymous_page allocates the page table before
				 * vmf_anon_prepare (mm/memory.c): the fault's first attempt
				 * trylocks that far into the fault (anon_prep_ns, measured)
				 */
				if (!resumed && t->f.rec.attempts == 1 && s->c.anon_prep_ns) {
					t->f.anon_paid = true;
					burn(s, t, s->c.anon_prep_ns, PH_F_ATTEMPT);
					return;
				}
				/* vmf_anon_prepare (§6.3) */
				if (under_vma) {
					r = fl_rwsem_down_read_trylock(&mm->mmap_lock, &t->w, s->now,
								       t->op);
					drain_rwsem(s, t->ms);
					if (r != FL_RWSEM_ACQUIRED) {
						release_fault_lock(s, t);
						fault_retry(s, t, true, false, false, true);
						continue;
					}
					fl_rwsem_up_read(&mm->mmap_lock, &t->w, s->now);
					drain_rwsem(s, t->ms);
				}
				v->flags |= FL_VMA_HAS_ANON_VMA;
			}
			if (!file) {
				if (op->flags & FL_OPF_SWAP) {
					t->phase = PH_F_SWAP;
					continue;
				}
				burn(s, t, s->c.fault_ns, PH_F_MAPPED);
				return;
			}
			if (under_vma && !s->rules.file_under_vma) {
				/* 6.6: the file fault needs mmap_lock: RETRY at once */
				release_fault_lock(s, t);
				fault_retry(s, t, true, false, false, true);
				continue;
			}
			t->f.file = v->file;
			t->f.index = v->pgoff + ((t->addr - v->start) >> s->page_shift);
			if (!write) {
				/* do_fault_around (§6.1) */
				uint64_t lo, hi, vp = t->addr >> s->page_shift;
				bool target;
				size_t n, cold;

				fl_fault_around_window(vp, t->f.index, v->pgoff,
						       (v->end - v->start) >> s->page_shift,
						       s->pc.cfg.fault_around_pages, &lo, &hi);
				n = fl_pagecache_map_pages(&s->pc, v->file, lo, hi, t->f.index,
							   &target, &cold);
				if (v->file < s->nras) {
					struct rastate *rs = &s->ras[v->file];

					rs->mmap_miss = cold >= rs->mmap_miss ? 0 :
							rs->mmap_miss - (uint32_t)cold;
				}
				if (target) {
					map_ptes(s, t, v, lo, hi, t->f.index, vp);
					close_window(s, t, false);
					burn(s, t, s->c.fault_ns + n * s->c.map_page_ns, PH_F_MAPPED);
					return;
				}
			}
			burn(s, t, s->c.filemap_ns, PH_F_FILEMAP);
			return;
		}
		case PH_F_FILEMAP: {
			uint64_t fp = file_pages(s, t->f.file);
			struct fl_folio *f;
			bool allow1 = !t->f.tried && !(s->pol & FL_POL_HOLD_VMA_IO);
			bool rand = t->f.vma->flags & FL_VMA_RAND_READ;

			if (t->f.index >= fp) {
				fault_done(s, t, FL_OUT_SEGV);	/* SIGBUS beyond i_size */
				continue;
			}
			f = fl_pagecache_lookup(&s->pc, t->f.file, t->f.index);
			if (!f && t->f.after_drop)
				t->f.rec.retry_io_miss++;
			close_window(s, t, !f);
			if (f) {
				s->out->pc_hits++;
				fl_folio_get(&s->pc, f);
				t->f.folio = f;
				/* do_async_mmap_readahead: a hit counts mmap_miss down */
				if (!t->f.tried && !rand && s->pc.cfg.ra_pages &&
				    t->f.file < s->nras && s->ras[t->f.file].mmap_miss)
					s->ras[t->f.file].mmap_miss--;
				if (!t->f.tried && allow1 && ra_async(s, t, fp))
					continue;	/* PH_F_RA, then PH_F_LOCK_FOLIO */
				t->phase = PH_F_LOCK_FOLIO;
				continue;
			}
			/* miss: MAJOR, do_sync_mmap_readahead */
			s->out->pc_misses++;
			t->f.major = t->f.major_this = true;
			if (!rand && s->pc.cfg.ra_pages && t->f.file < s->nras &&
			    !(t->f.vma->flags & FL_VMA_SEQ_READ)) {
				struct rastate *rs = &s->ras[t->f.file];

				if (rs->mmap_miss < MMAP_LOTSAMISS * 10)
					rs->mmap_miss++;
				if (rs->mmap_miss > MMAP_LOTSAMISS)
					rand = true;	/* no read-around, no drop here */
			}
			if (rand || !s->pc.cfg.ra_pages) {
				t->f.folio = NULL;
				t->phase = PH_F_NEW_FOLIO;
				continue;
			}
			if (allow1)
				fault_drop(s, t);
			{
				uint64_t ra = s->pc.cfg.ra_pages, start, mark;

				fl_read_around_window(t->f.index, ra, &start, &mark);
				if (t->f.file < s->nras) {
					s->ras[t->f.file].start = start;
					s->ras[t->f.file].size = ra;
					s->ras[t->f.file].async = ra / 4;
				}
				t->f.folio = NULL;	/* looked up again when the window is in */
				ra_start(s, t, start, ra, mark, fp);
				continue;
			}
		}
		case PH_F_RA:
			if (!ra_step(s, t))
				return;		/* burning a chunk's allocation and reclaim */
			t->phase = t->f.folio ? PH_F_LOCK_FOLIO : PH_F_NEW_FOLIO;
			continue;
		case PH_F_NEW_FOLIO: {
			/* filemap_fault after do_sync_mmap_readahead: the folio, or a new one
			 * (__filemap_get_folio FGP_CREAT) if readahead could not make it */
			struct fl_folio *f = fl_pagecache_peek(&s->pc, t->f.file, t->f.index);

			if (!f)
				f = new_folio(s, t, t->f.file, t->f.index, false);
			if (!f)
				return;		/* waits for room in the memory cgroup */
			fl_folio_get(&s->pc, f);
			t->f.folio = f;
			t->phase = PH_F_LOCK_FOLIO;
			continue;
		}
		case PH_F_LOCK_FOLIO: {
			struct fl_folio *f = t->f.folio;
			bool allow1 = !t->f.tried && !(s->pol & FL_POL_HOLD_VMA_IO);

			if (fl_folio_trylock(&s->pc, f)) {
				t->phase = PH_F_FOLIO_LOCKED;
				continue;
			}
			if ((s->pol & (FL_POL_UPTODATE_NO_RETRY | FL_POL_UPTODATE_NO_RETRY_WB)) &&
			    (f->flags & FL_FOLIO_UPTODATE) &&
			    (!(s->pol & FL_POL_UPTODATE_NO_RETRY_WB) ||
			     !(f->flags & FL_FOLIO_WRITEBACK)))
				allow1 = false;		/* v2 5/5: ALLOW_RETRY cleared */
			if (!t->f.fpin && allow1)
				fault_drop(s, t);
			t->phase = PH_F_FOLIO_WAIT;
			if (folio_wait(s, t, true))
				return;
			t->phase = PH_F_FOLIO_LOCKED;
			continue;
		}
		case PH_F_FOLIO_WAIT:
			if (t->f.waiting || !t->fw.granted) {
				block(s, t);
				return;
			}
			folio_wait_end(s, t);
			t->phase = PH_F_FOLIO_LOCKED;
			continue;
		case PH_F_FOLIO_LOCKED: {
			struct fl_folio *f = t->f.folio;

			if (!(f->flags & FL_FOLIO_UPTODATE)) {
				/* page_not_uptodate (case E): synchronous read */
				bool allow1 = !t->f.tried && !(s->pol & FL_POL_HOLD_VMA_IO);
				uint32_t rq;

				if (!t->f.fpin && allow1)
					fault_drop(s, t);
				t->f.major = t->f.major_this = true;
				f->flags |= FL_FOLIO_READ_IO;
				rq = req_alloc(s);
				req_add(s, rq, f);
				req_submit(s, t, rq);
				t->phase = PH_F_SYNC_READ_WAIT;
				if (folio_wait(s, t, false))
					return;
				continue;
			}
			if (t->f.fpin) {
				fl_folio_unlock(&s->pc, f, s->now);
				drain_pc(s);
				fault_out_retry(s, t);
				continue;
			}
			fl_pagecache_touch(&s->pc, f);
			fl_folio_unlock(&s->pc, f, s->now);
			drain_pc(s);
			pte_set(&s->pte, pte_key(t->mmi, t->addr >> s->page_shift), t->f.vma->id);
			burn(s, t, s->c.fault_ns, PH_F_MAPPED);
			return;
		}
		case PH_F_SYNC_READ_WAIT:
			if (t->f.waiting) {
				block(s, t);
				return;
			}
			folio_wait_end(s, t);
			if (t->f.fpin) {
				fault_out_retry(s, t);
				continue;
			}
			t->phase = PH_F_LOCK_FOLIO;	/* retry_find: lock and map */
			continue;
		case PH_F_SWAP: {
			/* do_swap_page (§6.2): swap cache keyed per mm */
			uint32_t sf = SWAP_FILE_BASE + t->mmi;
			uint64_t idx = t->addr >> s->page_shift;
			struct fl_folio *f = fl_pagecache_lookup(&s->pc, sf, idx);
			bool allow1 = !t->f.tried && !(s->pol & FL_POL_HOLD_VMA_IO);

			if (!f) {
				struct fl_folio *nf;

				if (t->f.after_drop)
					t->f.rec.retry_io_miss++;
				t->f.major = t->f.major_this = true;
				nf = pc_add_force(s, sf, idx, true);
				submit_reads(s, t, &nf, 1);	/* submitted holding the lock */
				f = nf;
			}
			fl_folio_get(&s->pc, f);
			t->f.folio = f;
			if (fl_folio_trylock(&s->pc, f)) {
				t->phase = PH_F_FOLIO_LOCKED;
				continue;
			}
			if (t->f.lock == LK_VMA && !s->rules.swap_wait_under_vma) {
				/* 6.4/6.5: RETRY at once under the VMA lock */
				fl_folio_put(&s->pc, f, s->now);
				t->f.folio = NULL;
				release_fault_lock(s, t);
				fault_retry(s, t, true, t->f.major_this, false, true);
				continue;
			}
			if ((s->pol & (FL_POL_UPTODATE_NO_RETRY | FL_POL_UPTODATE_NO_RETRY_WB)) &&
			    (f->flags & FL_FOLIO_UPTODATE))
				allow1 = false;		/* v2 4/5 */
			if (allow1) {
				/* folio_lock_or_retry: drop, wait for the unlock, RETRY */
				fault_drop(s, t);
				t->phase = PH_F_SYNC_READ_WAIT;
				if (folio_wait(s, t, false))
					return;
				continue;
			}
			t->phase = PH_F_FOLIO_WAIT;
			if (folio_wait(s, t, true))
				return;
			t->phase = PH_F_FOLIO_LOCKED;
			continue;
		}
		case PH_F_MAPPED:
			fault_done(s, t, FL_OUT_OK);
			continue;

		/* ---- writers (§7) ---- */
		case PH_W_LOCK:
			t->wr.t_start = s->now;
			r = fl_rwsem_down_write(&mm->mmap_lock, &t->w, s->now, t->op);
			drain_rwsem(s, t->ms);
			if (r == FL_RWSEM_ACQUIRED) {
				t->phase = PH_W_HAVE;
				continue;
			}
			if (r == FL_RWSEM_SPINNING) {
				t->spinning = true;
				t->phase = PH_W_SPIN;
				push_self(s, t, t->w.spin_until, EV_SPIN);
				return;
			}
			t->phase = PH_W_LOCKWAIT;
			block(s, t);
			return;
		case PH_W_SPIN:
			t->spinning = false;
			r = fl_rwsem_spin_end(&mm->mmap_lock, &t->w, s->now);
			drain_rwsem(s, t->ms);
			if (r == FL_RWSEM_ACQUIRED) {
				t->phase = PH_W_HAVE;
				continue;
			}
			t->phase = PH_W_LOCKWAIT;
			block(s, t);
			return;
		case PH_W_LOCKWAIT:
			if (t->w.state == FL_RWS_WOKEN) {
				r = fl_rwsem_write_wakeup(&mm->mmap_lock, &t->w, s->now);
				drain_rwsem(s, t->ms);
				if (r != FL_RWSEM_ACQUIRED) {
					block(s, t);
					return;
				}
			} else if (t->w.state == FL_RWS_HOLD_WRITE) {
				fl_rwsem_returned(&mm->mmap_lock, &t->w, s->now);
			} else {
				block(s, t);
				return;
			}
			t->phase = PH_W_HAVE;
			continue;
		case PH_W_HAVE:
			s->out->mmap_write_wait_ns += s->now - t->wr.t_start;
			if (op->kind == FL_OP_MMAP && !(op->flags & FL_OPF_FIXED) &&
			    fl_mm_range(mm, t->addr, t->addr + op->len, &(size_t){ 0 }))
				relocate(s, t, op->addr, op->len);
			t->wr.t_acq = s->now;
			t->wr.blocked = 0;
			t->wr.n = t->wr.i = 0;
			switch (op->kind) {
			case FL_OP_FORK:
				for (size_t k = 0; k < mm->nvmas; k++)
					if (!(s->pol & FL_POL_FORK_COW_ONLY) ||
					    fl_vma_needs_copy(mm->vmas[k]))
						list_add(t, mm->vmas[k]);
				break;
			case FL_OP_MREMAP:
				list_range(t, t->addr, t->addr + op->len);
				list_range(t, op->arg, op->arg + op->arg2);
				break;
			case FL_OP_BRK:
				if (op->len < op->addr)
					list_range(t, op->len, op->addr);
				break;
			case FL_OP_MMAP: {
				struct fl_vma *prev, *next;

				/* the neighbours it merges with are write-locked too */
				fl_mm_merge_candidates(mm, t->addr, t->addr + op->len,
						       (uint32_t)op->arg, op->file, op->arg2,
						       &prev, &next);
				if (prev)
					list_add(t, prev);
				list_range(t, t->addr, t->addr + op->len);
				if (next)
					list_add(t, next);
				break;
			}
			case FL_OP_MUNMAP:
			case FL_OP_MPROTECT:
			case FL_OP_MADVISE:
				list_range(t, t->addr, t->addr + op->len);
				break;
			default:
				break;
			}
			t->phase = PH_W_VMAS;
			continue;
		case PH_W_VMAS:
			if (t->wr.i >= t->wr.n) {
				t->phase = PH_W_WORK;
				continue;
			}
			switch (fl_vma_start_write(mm, t->wr.list[t->wr.i], t->idx, s->now)) {
			case FL_VMA_W_LOCKED:
				t->phase = PH_W_COPIED;
				if (op->kind == FL_OP_FORK) {
					struct fl_vma *v = t->wr.list[t->wr.i];
					uint64_t c = s->c.fork_vma_ns;

					if (op->kcpu_ns)
						c = op->kcpu_ns / (mm->nvmas ? mm->nvmas : 1);
					else if (fl_vma_needs_copy(v)) {
						uint64_t pg = (v->end - v->start) >> s->page_shift;

						c += (pg > 4096 ? 4096 : pg) * s->c.fork_page_ns;
					}
					burn(s, t, c, PH_W_COPIED);
					return;
				}
				continue;
			case FL_VMA_W_SPIN:
				t->vspinning = true;
				t->wr.t_vwait = s->now;
				t->phase = PH_W_VSPIN;
				push_self(s, t, t->wr.list[t->wr.i]->spin_until, EV_VMA_SPIN);
				return;
			case FL_VMA_W_WAIT:
				t->wr.t_vwait = s->now;
				t->phase = PH_W_VWAIT;
				block(s, t);
				return;
			}
			return;
		case PH_W_VSPIN:
			t->vspinning = false;
			if (fl_vma_spin_end(mm, t->wr.list[t->wr.i], s->now) == FL_VMA_W_WAIT) {
				t->phase = PH_W_VWAIT;
				block(s, t);
				return;
			}
			t->wr.blocked += s->now - t->wr.t_vwait;
			t->phase = PH_W_VMAS;	/* start_write again: locked now, free */
			continue;
		case PH_W_VWAIT:
			if (!fl_vma_is_write_locked(mm, t->wr.list[t->wr.i])) {
				block(s, t);
				return;
			}
			t->wr.blocked += t->t_wake - t->wr.t_vwait;
			t->phase = PH_W_VMAS;	/* start_write again: already locked, free */
			continue;
		case PH_W_COPIED:
			t->wr.i++;
			t->phase = PH_W_VMAS;
			continue;
		case PH_W_WORK:
			writer_begin(s, t);
			return;
		case PH_W_END: {
			uint64_t hold = s->now - t->wr.t_acq;

			s->out->vma_write_wait_ns += t->wr.blocked;
			if (op->kind == FL_OP_FORK) {
				s->out->fork_count++;
				s->fork_hold_ns += hold;
				s->fork_blocked_ns += t->wr.blocked;
			}
			if (op->kind == FL_OP_MUNMAP) {
				uint64_t zap = op->kcpu2_ns ? op->kcpu2_ns :
					       (op->len >> s->page_shift) * s->c.zap_page_ns;

				fl_mm_write_downgrade(mm, &t->w, s->now);
				drain_rwsem(s, t->ms);
				respin(s, t->ms);	/* now spinning on a reader */
				burn(s, t, zap, PH_W_ZAPPED);
				return;
			}
			fl_mm_write_unlock(mm, &t->w, s->now);
			drain_rwsem(s, t->ms);
			t->op++;
			t->phase = PH_OP_BEGIN;
			continue;
		}
		case PH_W_ZAPPED:
			fl_rwsem_up_read(&mm->mmap_lock, &t->w, s->now);
			drain_rwsem(s, t->ms);
			t->op++;
			t->phase = PH_OP_BEGIN;
			continue;

		/* ---- madvise under mmap_lock read or the VMA lock ---- */
		case PH_R_LOCK:
			if (op->kind == FL_OP_MADVISE && s->rules.madv_vma_lock &&
			    !(s->pol & FL_POL_NO_VMA_LOCK) &&
			    (op->arg == FL_MADV_DONTNEED || op->arg == FL_MADV_FREE)) {
				struct fl_vma *v = fl_vma_lock_try_read(mm, t->addr, NULL);

				if (v && v->end >= t->addr + op->len) {
					t->wr.vma = v;
					t->phase = PH_R_WORK;
					continue;
				}
				if (v)
					vma_end_read(s, t, v);
			}
			t->wr.vma = NULL;
			r = fl_rwsem_down_read(&mm->mmap_lock, &t->w, s->now, t->op);
			drain_rwsem(s, t->ms);
			t->phase = PH_R_WAIT;
			if (r != FL_RWSEM_ACQUIRED) {
				block(s, t);
				return;
			}
			continue;
		case PH_R_WAIT:
			if (t->w.state != FL_RWS_HOLD_READ) {
				block(s, t);
				return;
			}
			fl_rwsem_returned(&mm->mmap_lock, &t->w, s->now);
			t->phase = PH_R_WORK;
			continue;
		case PH_R_WORK: {
			uint64_t c = op_cost(s, op, s->c.syscall_ns);

			if (op->kind == FL_OP_MADVISE &&
			    (op->arg == FL_MADV_DONTNEED || op->arg == FL_MADV_FREE)) {
				zap_ptes(s, t, t->addr, op->len);
				if (!op->kcpu_ns)
					c += (op->len >> s->page_shift) * s->c.zap_page_ns;
			}
			burn(s, t, c, PH_R_END);
			return;
		}
		case PH_R_END:
			if (t->wr.vma) {
				vma_end_read(s, t, t->wr.vma);
				t->wr.vma = NULL;
			} else {
				fl_rwsem_up_read(&mm->mmap_lock, &t->w, s->now);
				drain_rwsem(s, t->ms);
			}
			t->op++;
			t->phase = PH_OP_BEGIN;
			continue;
		}
	}
}

/*
 * Relocation: timing in the model differs from the capture, so a mapping may
 * still exist in the model when another thread's mmap reuses its captured
 * address. A non-MAP_FIXED mmap that finds its range taken is placed in a
 * free range instead, and the thread's later ops in the captured range are
 * translated to it until it unmaps it.
 */
static uint64_t xlate(const struct thr *t, uint64_t a)
{
	for (size_t i = t->nxl; i-- > 0;)
		if (a >= t->xl[i].old && a - t->xl[i].old < t->xl[i].len)
			return t->xl[i].new + (a - t->xl[i].old);
	return a;
}

static void xl_drop(struct thr *t, uint64_t old, uint64_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nxl; i++)
		if (!(t->xl[i].old >= old && t->xl[i].old + t->xl[i].len <= old + len))
			t->xl[k++] = t->xl[i];
	t->nxl = k;
}

static void relocate(struct sim *s, struct thr *t, uint64_t old, uint64_t len)
{
	struct fl_mm *mm = &t->ms->mm;
	uint64_t a = 0x600000000000ULL;
	size_t first;

	while (fl_mm_range(mm, a, a + len, &first))
		a = mm->vmas[first]->end + ((uint64_t)1 << s->page_shift);
	if (t->nxl == t->capxl) {
		t->capxl = t->capxl ? 2 * t->capxl : 8;
		t->xl = fl_realloc(t->xl, t->capxl * sizeof(*t->xl));
	}
	t->xl[t->nxl++] = (struct xl){ old, len, a };
	t->addr = a;
	s->out->relocated++;
}

/* Dispatches the op at t->op. */
static void op_exec(struct sim *s, struct thr *t)
{
	const struct fl_op *op = cur_op(t);

	t->addr = op->kind == FL_OP_MMAP || op->kind == FL_OP_BRK ? op->addr : xlate(t, op->addr);

	switch (op->kind) {
	case FL_OP_TOUCH: {
		struct fl_vma *v = fl_mm_lookup(&t->ms->mm, t->addr);
		uint64_t id = pte_get(&s->pte, pte_key(t->mmi, t->addr >> s->page_shift));

		if (v && id == v->id &&
		    (!(op->flags & FL_OPF_WRITE) || (v->flags & FL_VMA_HAS_ANON_VMA) ||
		     (v->flags & FL_VMA_SHARED))) {
			s->out->touches_nofault++;
			t->op++;
			t->phase = PH_OP_BEGIN;
			return;
		}
		fault_begin(s, t);
		return;
	}
	case FL_OP_FAULT:
		fault_begin(s, t);
		return;
	case FL_OP_MADVISE:
		if (madv_read_lock(op->arg)) {
			t->phase = PH_R_LOCK;
			return;
		}
		t->phase = PH_W_LOCK;
		return;
	case FL_OP_LOCK:
		/* a bare hold: a write lock with no VMA to lock, or a read lock (the madvise
		 * read path with an advice that needs nothing else) */
		t->phase = op->arg ? PH_W_LOCK : PH_R_LOCK;
		return;
	case FL_OP_MMAP:
	case FL_OP_MUNMAP:
	case FL_OP_MPROTECT:
	case FL_OP_MREMAP:
	case FL_OP_BRK:
	case FL_OP_FORK:
		t->phase = PH_W_LOCK;
		return;
	case FL_OP_EXIT:
	default:
		t->op = t->in->nops;
		t->phase = PH_OP_BEGIN;
		return;
	}
}

static void fork_child(struct sim *s, struct thr *t)
{
	const struct fl_op *op = cur_op(t);
	struct mmst *c;

	if (op->child_mm >= s->in->nmm || op->child_mm == t->mmi)
		return;
	c = &s->mms[op->child_mm];
	if (c->ready)
		return;
	for (size_t k = 0; k < t->ms->mm.nvmas; k++) {
		const struct fl_vma *v = t->ms->mm.vmas[k];

		if (!(v->flags & FL_VMA_DONTCOPY))
			fl_mm_map(&c->mm, v->start, v->end, v->flags, v->file, v->pgoff, NULL);
	}
	c->ready = true;
	for (size_t i = 0; i < c->nparked; i++)
		wake(s, &s->t[c->parked[i]]);
	c->nparked = 0;
}

/* The layout change of a writer that holds mmap_lock for write and its VMAs (PH_W_WORK). */
static void writer_begin(struct sim *s, struct thr *t)
{
	const struct fl_op *op = cur_op(t);
	struct fl_mm *mm = &t->ms->mm;
	uint64_t c = op_cost(s, op, s->c.syscall_ns);

	switch (op->kind) {
	case FL_OP_MMAP:
		fl_mm_unmap(mm, t->addr, t->addr + op->len);
		fl_mm_map_merge(mm, t->addr, t->addr + op->len, (uint32_t)op->arg, op->file,
				op->arg2, NULL);
		break;
	case FL_OP_MUNMAP:
		fl_mm_unmap(mm, t->addr, t->addr + op->len);
		xl_drop(t, op->addr, op->len);
		break;
	case FL_OP_MPROTECT:
		fl_mm_mprotect(mm, t->addr, t->addr + op->len,
			       (uint32_t)op->arg & FL_VMA_PROT_MASK,
			       FL_VMA_PROT_MASK & ~(uint32_t)op->arg);
		break;
	case FL_OP_MADVISE: {
		uint32_t set = 0, clear = 0;

		switch (op->arg) {
		case FL_MADV_NORMAL: clear = FL_VMA_RAND_READ | FL_VMA_SEQ_READ; break;
		case FL_MADV_RANDOM: set = FL_VMA_RAND_READ; clear = FL_VMA_SEQ_READ; break;
		case FL_MADV_SEQUENTIAL: set = FL_VMA_SEQ_READ; clear = FL_VMA_RAND_READ; break;
		case FL_MADV_DONTFORK: set = FL_VMA_DONTCOPY; break;
		case FL_MADV_DOFORK: clear = FL_VMA_DONTCOPY; break;
		case FL_MADV_HUGEPAGE: set = FL_VMA_HUGEPAGE; break;
		case FL_MADV_NOHUGEPAGE: clear = FL_VMA_HUGEPAGE; break;
		default: break;
		}
		if (set || clear)
			fl_mm_mprotect(mm, t->addr, t->addr + op->len, set, clear);
		break;
	}
	case FL_OP_MREMAP: {
		struct fl_vma *v = fl_mm_lookup(mm, t->addr);
		uint32_t flags = v ? v->flags : FL_VMA_READ | FL_VMA_WRITE | FL_VMA_ANON;
		uint32_t file = v ? v->file : 0;
		uint64_t pgoff = v ? v->pgoff + ((t->addr - v->start) >> s->page_shift) : 0;

		fl_mm_unmap(mm, t->addr, t->addr + op->len);
		if (op->arg2) {
			fl_mm_unmap(mm, op->arg, op->arg + op->arg2);
			fl_mm_map(mm, op->arg, op->arg + op->arg2, flags, file, pgoff, NULL);
		}
		break;
	}
	case FL_OP_BRK:
		if (op->len > op->addr) {
			fl_mm_unmap(mm, op->addr, op->len);
			fl_mm_map(mm, op->addr, op->len, FL_VMA_READ | FL_VMA_WRITE | FL_VMA_ANON |
				  FL_VMA_HAS_ANON_VMA, 0, 0, NULL);
		} else if (op->len < op->addr) {
			fl_mm_unmap(mm, op->len, op->addr);
		}
		break;
	case FL_OP_FORK:
		/* the locked VMAs were paid for one by one; the others (fork-cow-only) now */
		fork_child(s, t);
		c = (mm->nvmas - t->wr.n) * (op->kcpu_ns ? op->kcpu_ns / (mm->nvmas ? mm->nvmas : 1) :
					       s->c.fork_vma_ns);
		break;
	default:
		break;
	}
	burn(s, t, c, PH_W_END);
}

/* ---- the run ------------------------------------------------------------------------ */

void fl_model_costs_default(struct fl_model_costs *c)
{
	c->fault_ns = 1000;
	c->filemap_ns = 500;
	c->map_page_ns = 60;
	c->ra_page_ns = 200;
	c->reclaim_page_ns = 1500;
	c->syscall_ns = 3000;
	c->zap_page_ns = 25;
	c->fork_vma_ns = 1000;
	c->fork_page_ns = 15;
	c->wake_ns = 2000;
	c->slice_ns = 3000000;
	c->io_ns = 200000;
}

void fl_model_input_init(struct fl_model_input *in)
{
	memset(in, 0, sizeof(*in));
	in->arch = "x86_64";
	in->kver = FL_KVER(6, 18);
	in->ncpus = 2;
	in->page_shift = 12;
	in->nmm = 1;
	in->irq_cpu = UINT32_MAX;
	fl_model_costs_default(&in->costs);
}

void fl_model_input_release(struct fl_model_input *in)
{
	for (size_t i = 0; i < in->nthreads; i++)
		free(in->threads[i].ops);
	free(in->threads);
	free(in->vmas);
	free(in->file_pages);
	free(in->file_cached);
	free(in->io_lat_ns);
	free(in->io_round_ns);
	free(in->kworker_ns);
	free(in->acq_ns[0]);
	free(in->acq_ns[1]);
	free(in->mm_forked);
	memset(in, 0, sizeof(*in));
}

struct fl_op *fl_model_add_op(struct fl_model_thread *t)
{
	if (t->nops == t->capops) {
		t->capops = t->capops ? 2 * t->capops : 64;
		t->ops = fl_realloc(t->ops, t->capops * sizeof(*t->ops));
	}
	memset(&t->ops[t->nops], 0, sizeof(t->ops[0]));
	return &t->ops[t->nops++];
}

struct fl_model_thread *fl_model_add_thread(struct fl_model_input *in, uint32_t tid, uint32_t mm)
{
	struct fl_model_thread *t;

	in->threads = fl_realloc(in->threads, (in->nthreads + 1) * sizeof(*in->threads));
	t = &in->threads[in->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->mm = mm;
	t->prio = 120;
	if (mm >= in->nmm)
		in->nmm = mm + 1;
	return t;
}

void fl_model_add_vma(struct fl_model_input *in, uint32_t mm, uint64_t start, uint64_t end,
		      uint32_t flags, uint32_t file, uint64_t pgoff)
{
	if (in->nvmas == in->capvmas) {
		in->capvmas = in->capvmas ? 2 * in->capvmas : 64;
		in->vmas = fl_realloc(in->vmas, in->capvmas * sizeof(*in->vmas));
	}
	in->vmas[in->nvmas++] = (struct fl_model_vma){ mm, start, end, flags, file, pgoff };
	if (mm >= in->nmm)
		in->nmm = mm + 1;
}

uint32_t fl_model_add_file(struct fl_model_input *in, uint64_t pages)
{
	in->file_pages = fl_realloc(in->file_pages, (in->nfiles + 1) * sizeof(*in->file_pages));
	in->file_pages[in->nfiles++] = pages;
	return (uint32_t)in->nfiles;
}

/* What a recorded wait adds for the fast path: a draw from the capture's own uncontended
 * acquisitions, else their median (costs.acq_*_ns). */
static uint64_t fast_path_ns(struct sim *s, struct fl_rng *rng, bool write)
{
	const struct fl_model_input *in = s->in;

	if (in->nacq[write])
		return in->acq_ns[write][fl_rng_below(rng, in->nacq[write])];
	return write ? s->c.acq_write_ns : s->c.acq_read_ns;
}

static void finish_run(struct sim *s, uint64_t seed)
{
	struct fl_model_run *o = s->out;
	struct fl_rng rng;	/* its own stream: reporting never perturbs the simulation */

	fl_rng_init(&rng, seed ^ 0xfa57ba7c0ffeeULL);

	for (uint32_t k = 0; k < s->in->nmm; k++) {
		const struct fl_rwsem *sem = &s->mms[k].mm.mmap_lock;
		const struct fl_vma_stats *vs = &s->mms[k].mm.stats;

		for (size_t i = 0; i < sem->nrecs; i++) {
			const struct fl_lock_acq *a = &sem->recs[i];
			uint64_t w;

			if (a->flags & (FL_ACQ_FAILED | FL_ACQ_CANCELLED))
				continue;
			if (a->flags & FL_ACQ_DOWNGRADE)
				w = 0;
			else if (a->acquired == FL_TIME_NONE)
				continue;
			else
				w = a->acquired - a->start +
				    fast_path_ns(s, &rng, a->flags & FL_ACQ_WRITE);
			if (a->flags & FL_ACQ_WRITE) {
				fl_push_u64(&o->write_waits, &o->nwrite_waits, w);
				if (a->flags & FL_ACQ_QUEUED)
					o->ww.slept++;
				else if (a->flags & FL_ACQ_SPUN)
					o->ww.spun++;
				else if (a->flags & FL_ACQ_STEAL)
					o->ww.stole++;
			} else
				fl_push_u64(&o->read_waits, &o->nread_waits, w);
			if (a->chain >= 2)
				o->chained_waits++;
			if (a->chain > o->max_chain)
				o->max_chain = a->chain;
			if (a->flags & FL_ACQ_INVERSION)
				o->inversions++;
		}
		o->anomalies += sem->stats.anomalies + vs->anomalies;
		o->vma_write_waits += vs->start_write_waits;
	}
	o->fork_hold_ns = s->fork_hold_ns;
	o->fork_blocked_ns = s->fork_blocked_ns;
	o->makespan_ns = s->last_end;
	o->anomalies += s->pc.stats.anomalies + s->cpu.stats.anomalies + s->io.stats.anomalies +
			s->q.past_pushes;
	o->cpu_wait_ns = s->cpu.stats.wait_total_ns;
	o->charge_failed = s->pc.stats.charge_failed;
	o->pc.inserted = s->pc.stats.added;
	o->pc.evicted = s->pc.stats.evicted;
	o->pc.reclaim_scanned = s->pc.stats.scanned;
	o->pc.reclaim_freed = s->pc.stats.evicted;
	fl_pc_activity_finish(&o->pc, s->win_pages, s->win_build_ns, s->nwin);
}

int fl_model_run(const struct fl_model_input *in, uint32_t policy, uint64_t seed,
		 struct fl_model_run *out, struct fl_err *err)
{
	struct sim s;
	struct fl_rwsem_cfg rc;
	struct fl_pagecache_cfg pcc;
	struct fl_event ev;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.in = in;
	s.pol = policy;
	s.out = out;
	s.c = in->costs;
	s.page_shift = in->page_shift ? in->page_shift : 12;
	s.arch = fl_arch_find(in->arch);
	if (!s.arch)
		return fl_seterr(err, "unknown architecture '%s' (known: x86_64, arm64, arm, "
				 "powerpc, riscv, s390, loongarch)", in->arch ? in->arch : "");
	if (in->kver < FL_KVER(5, 0))
		return fl_seterr(err, "kernel version %d.%d is older than the model covers "
				 "(5.0 and later)", in->kver / 1000, in->kver % 1000);
	if (!s.c.slice_ns)
		s.c.slice_ns = 3000000;
	fl_arch_rules(s.arch, in->kver, &s.rules);
	if (policy & FL_POL_NO_VMA_LOCK) {
		s.rules.vma_lock = false;
		s.rules.impl = FL_VMA_LOCK_NONE;
	}
	out->policy = policy;
	snprintf(out->arch, sizeof(out->arch), "%s", s.arch->name);
	out->kver = in->kver;
	out->seed = seed;

	fl_evq_init(&s.q);
	fl_rng_init(&s.rng, seed ^ 0x5eed0fa17ab1eULL);
	fl_cpu_init(&s.cpu, in->ncpus ? in->ncpus : 1);
	if (in->wake_affine)
		fl_cpu_set_affine(&s.cpu, MIGRATION_COST_NS, in->wake_idle_permille,
				  seed ^ 0x5ced0a77ULL);
	if (in->nio_round) {
		if (fl_io_init_samples(&s.io, 0, FL_IO_SAMPLES, in->io_round_ns, in->nio_round,
				       seed, err) < 0)
			goto out_cpu;
		fl_io_set_rounds(&s.io, in->io_gap_ns, in->io_miss_ppm);
		if (s.cpu.affine && in->irq_cpu < s.cpu.ncpus)
			s.irq_until = fl_calloc(s.cpu.ncpus, sizeof(*s.irq_until));
	} else if (in->nio_lat) {
		if (fl_io_init_samples(&s.io, in->io_depth, FL_IO_SAMPLES, in->io_lat_ns,
				       in->nio_lat, seed, err) < 0)
			goto out_cpu;
	} else {
		fl_io_init_fixed(&s.io, in->io_depth, s.c.io_ns ? s.c.io_ns : 200000);
	}
	fl_pagecache_cfg_default(&pcc);
	pcc.capacity_pages = in->capacity_pages;
	if (in->ra_pages)
		pcc.ra_pages = in->ra_pages;
	/* the kernel's reclaim: two lists, busy folios back at the head, the charge
	 * refused when nothing can be reclaimed (engine/pagecache.c) */
	pcc.two_lists = true;
	pcc.rotate_busy = true;
	pcc.strict = true;
	fl_pagecache_init(&s.pc, &pcc);
	/* files the capture never read: their pages were there all along (opstream.c) */
	for (size_t i = 0; in->file_cached && i < in->nfiles; i++) {
		for (uint64_t x = 0; in->file_cached[i] && x < in->file_pages[i] &&
				     s.pc.foreign < FOREIGN_MAX; x++)
			fl_pagecache_add_foreign(&s.pc, (uint32_t)i + 1, x, 0);
	}
	s.nras = in->nfiles + 1;
	s.ras = fl_calloc(s.nras, sizeof(*s.ras));
	s.req_free = UINT32_MAX;

	fl_rwsem_cfg_default(&rc);
	/* W2 (§3): writers spin on a write owner while it runs on a CPU */
	rc.spin_on_writer_ns = SPIN_ON_WRITER_MAX_NS;
	rc.owner_on_cpu = thr_on_cpu;
	rc.owner_arg = &s;
	s.mms = fl_calloc(in->nmm ? in->nmm : 1, sizeof(*s.mms));
	for (uint32_t k = 0; k < in->nmm; k++) {
		fl_mm_init(&s.mms[k].mm, s.rules.impl, &rc);
		s.mms[k].mm.page_shift = s.page_shift;
		s.mms[k].mm.anon_only = s.rules.anon_only;
		s.mms[k].ready = !(in->mm_forked && in->mm_forked[k]);
	}
	for (size_t i = 0; i < in->nvmas; i++) {
		const struct fl_model_vma *v = &in->vmas[i];

		if (v->mm < in->nmm &&
		    !fl_mm_map(&s.mms[v->mm].mm, v->start, v->end, v->flags, v->file, v->pgoff, err))
			goto out_mm;
	}
	s.nt = in->nthreads;
	s.t = fl_calloc(s.nt ? s.nt : 1, sizeof(*s.t));
	for (size_t i = 0; i < s.nt; i++) {
		struct thr *t = &s.t[i];

		t->idx = (uint32_t)i;
		t->in = &in->threads[i];
		t->mmi = t->in->mm < in->nmm ? t->in->mm : 0;
		t->ms = &s.mms[t->mmi];
		t->phase = PH_IDLE;
		fl_rwsem_waiter_init(&t->w, (uint32_t)i, t->in->prio);
		t->fw.tid = (uint32_t)i;
		fl_evq_push(&s.q, t->in->start_ns, EV_START, (uint32_t)i, 0);
	}

	while (fl_evq_pop(&s.q, &ev)) {
		struct thr *t = ev.tid < s.nt ? &s.t[ev.tid] : NULL;

		s.now = ev.time;
		out->events++;
		switch (ev.kind) {
		case EV_START:
			if (!t->ms->ready) {
				struct mmst *ms = t->ms;

				if (ms->nparked == ms->capparked) {
					ms->capparked = ms->capparked ? 2 * ms->capparked : 8;
					ms->parked = fl_realloc(ms->parked,
								ms->capparked * sizeof(*ms->parked));
				}
				ms->parked[ms->nparked++] = t->idx;
				t->phase = PH_OP_BEGIN;
				break;
			}
			t->phase = PH_OP_BEGIN;
			/* a new task has no lag: wake() places it at V (place_entity) */
			t->lag = 0;
			wake(&s, t);
			break;
		case EV_RUN: {
			uint64_t cw;

			if (ev.arg != t->gen || t->done)
				break;
			cw = s.now - t->t_runnable;
			if (!t->on_cpu) {
				if (!t->runnable)
					v_enter(&s, t);		/* not counted in V yet */
				t->on_cpu = true;
				t->cpu_since = s.now;
				v_run(&s, t);
				if (t->vrt > s.min_vrt)
					s.min_vrt = t->vrt;	/* min_vruntime only grows */
				/* only the part inside the window: a thread already runnable
				 * when its I/O completed queued from before the window opened */
				if (t->f.win_open)
					t->f.win_cpu += t->t_runnable >= t->f.win_start ? cw :
							s.now - t->f.win_start;
			}
			t->runnable = false;
			t->t_runnable = s.now;
			if (t->burst_left) {	/* a burst cut by its time slice goes on */
				uint64_t chunk = t->burst_left < s.c.slice_ns ? t->burst_left :
										 s.c.slice_ns;

				t->burst_left -= chunk;
				push_burst(&s, t, s.now + chunk);
				break;
			}
			step(&s, t);
			break;
		}
		case EV_BURST:
			if (ev.arg != t->gen)
				break;
			if (t->burst_left) {
				uint64_t chunk;

				if (others_wait(&s, t)) {	/* slice over and others wait */
					block(&s, t);
					make_runnable(&s, t, false, false);
					break;
				}
				chunk = t->burst_left < s.c.slice_ns ? t->burst_left : s.c.slice_ns;
				t->burst_left -= chunk;
				push_burst(&s, t, s.now + chunk);
				break;
			}
			if (s.now - t->cpu_since >= s.c.slice_ns && others_wait(&s, t)) {
				/* back-to-back short bursts (a readahead window's chunks, a
				 * run of faults) use up a slice too: the tick sets
				 * need_resched and the next cond_resched (reclaim calls it
				 * per folio; PREEMPT_NONE here) gives the CPU away */
				block(&s, t);
				make_runnable(&s, t, false, false);
				break;
			}
			step(&s, t);
			break;
		case EV_SLEEP:
			if (ev.arg != t->gen)
				break;
			make_runnable(&s, t, true, false);	/* its timer, on its CPU */
			break;
		case EV_SPIN:
		case EV_VMA_SPIN:
			if (ev.arg != t->gen)
				break;
			step(&s, t);
			break;
		case EV_IO_DONE:
			io_done(&s, (uint32_t)ev.arg);
			break;
		case EV_TICK: {
			uint32_t tid;

			/* the kicked CPU leaves idle to balance, then runs what it pulled */
			s.tick_at = 0;
			while ((tid = fl_cpu_idle_pull(&s.cpu, s.now, NULL)) != FL_TID_NONE)
				push_run(&s, &s.t[tid], s.now + wake_latency(&s, true));
			tick_arm(&s);
			break;
		}
		}
	}
	for (size_t i = 0; i < s.nt; i++)
		if (!s.t[i].done)
			out->anomalies++;	/* a thread never finished: deadlock */
	finish_run(&s, seed);
	ret = 0;

	for (size_t i = 0; i < s.nt; i++) {
		free(s.t[i].wr.list);
		free(s.t[i].xl);
		free(s.t[i].ra.buf);
	}
	free(s.t);
out_mm:
	for (uint32_t k = 0; k < in->nmm; k++) {
		fl_mm_release(&s.mms[k].mm);
		free(s.mms[k].parked);
	}
	free(s.mms);
	for (size_t i = 0; i < s.nreq; i++)
		free(s.req[i].f);
	free(s.req);
	free(s.memwait);
	free(s.win_pages);
	free(s.win_build_ns);
	free(s.ras);
	free(s.pte.k);
	free(s.pte.v);
	fl_pagecache_release(&s.pc);
	fl_io_release(&s.io);
	free(s.irq_until);
out_cpu:
	fl_cpu_release(&s.cpu);
	fl_evq_release(&s.q);
	return ret;
}

void fl_model_run_release(struct fl_model_run *r)
{
	free(r->faults);
	free(r->read_waits);
	free(r->write_waits);
	r->faults = NULL;
	r->read_waits = r->write_waits = NULL;
	r->nfaults = r->nread_waits = r->nwrite_waits = 0;
}

void fl_model_extras_foreach(const struct fl_model_run *r,
			     void (*fn)(void *arg, const char *name, double value), void *arg)
{
	const struct fl_retry_window *w = &r->win;

	fn(arg, "retry_window.count", (double)w->n);
	fn(arg, "retry_window.avg_us", w->n ? (double)w->total_ns / 1000.0 / (double)w->n : 0);
	fn(arg, "retry_window.max_us", (double)w->max_ns / 1000.0);
	fn(arg, "retry_window.cpu_wait_us", (double)w->cpu_wait_ns / 1000.0);
	fn(arg, "retry_window.mmap_wait_us", (double)w->mmap_wait_ns / 1000.0);
	fn(arg, "retry_window.vma_wait_us", (double)w->vma_wait_ns / 1000.0);
	fn(arg, "retry_window.run_us", (double)w->run_ns / 1000.0);
	fn(arg, "retry_window.missed", (double)w->missed);
	fn(arg, "model.touches_nofault", (double)r->touches_nofault);
	fn(arg, "model.max_attempts", (double)r->max_attempts);
	fn(arg, "model.relocated", (double)r->relocated);
	fn(arg, "model.retry_loops_cut", (double)r->retry_loops_cut);
	fn(arg, "model.segv", (double)r->segv);
	fn(arg, "model.vma_write_waits", (double)r->vma_write_waits);
	fn(arg, "model.vma_write_wait_us", (double)r->vma_write_wait_ns / 1000.0);
	fn(arg, "model.mmap_write_wait_us", (double)r->mmap_write_wait_ns / 1000.0);
	fn(arg, "model.vma_lock_fail", (double)r->vma_lock_fail);
	fn(arg, "model.evictions", (double)r->pc.evicted);
	fn(arg, "model.reclaim_scanned", (double)r->pc.reclaim_scanned);
	fn(arg, "model.reclaim_cpu_us", (double)r->reclaim_cpu_ns / 1000.0);
	fn(arg, "model.pagecache_hits", (double)r->pc_hits);
	fn(arg, "model.pagecache_misses", (double)r->pc_misses);
	fn(arg, "model.io_requests", (double)r->io_requests);
	fn(arg, "model.cpu_wait_us", (double)r->cpu_wait_ns / 1000.0);
	fn(arg, "model.memcg_waits", (double)r->memcg_waits);
	fn(arg, "model.charge_failed", (double)r->charge_failed);
	fn(arg, "model.events", (double)r->events);
	fn(arg, "model.ops", (double)r->ops);
}

void fl_pc_activity_read(struct fl_pc_activity *a, uint64_t done_ns)
{
	uint64_t k = done_ns / FL_PC_TICK_NS;

	if (!a->read_ticks) {
		a->read_ticks = 1;
		a->read_last_tick = k;
	} else if (k > a->read_last_tick) {
		a->read_idle_ticks += k - a->read_last_tick - 1;
		a->read_ticks += k - a->read_last_tick;
		a->read_last_tick = k;
	}
}

void fl_pc_activity_finish(struct fl_pc_activity *a, uint64_t *win_pages, uint64_t *win_build_ns,
			   size_t nwin)
{
	a->windows = nwin;
	a->window_pages_p50 = fl_median_u64(win_pages, nwin);
	a->window_build_ns_p50 = fl_median_u64(win_build_ns, nwin);
}

void fl_writer_waits_foreach(const struct fl_writer_waits *w,
			     void (*fn)(void *arg, const char *name, double value), void *arg)
{
	fn(arg, "write_spun", (double)w->spun);
	fn(arg, "write_slept", (double)w->slept);
	fn(arg, "write_stole", (double)w->stole);
}

void fl_pc_activity_foreach(const struct fl_pc_activity *a,
			    void (*fn)(void *arg, const char *name, double value), void *arg)
{
	fn(arg, "pages_inserted", (double)a->inserted);
	fn(arg, "pages_evicted", (double)a->evicted);
	fn(arg, "reclaim_scanned_per_freed", a->reclaim_freed ? (double)a->reclaim_scanned /
							     (double)a->reclaim_freed : 0);
	fn(arg, "fault_windows", (double)a->windows);
	fn(arg, "fault_window_pages.p50", (double)a->window_pages_p50);
	fn(arg, "fault_window_build_ms.p50", (double)a->window_build_ns_p50 / 1e6);
	fn(arg, "read_idle_pct", a->read_ticks ? 100.0 * (double)a->read_idle_ticks /
						 (double)a->read_ticks : 0);
}
