/*
 * rwsem.c - mmap_lock as the kernel's rw_semaphore (kernel-semantics.md §3).
 *
 * The object is one reader/writer semaphore in virtual time. Its state is what
 * the kernel's count word and wait list encode: the write owner or the number
 * of readers (WRITER_LOCKED / reader count), the FIFO wait queue (WAITERS iff
 * non-empty), the HANDOFF owner, the spinning writers (optimistic spinners are
 * not on the wait list, so they do not set WAITERS), and the writers'
 * non-spinnable hint. The rules, each tagged with the spec's name:
 *
 *   R1  a reader takes the lock at once iff no writer holds it, nobody is
 *       queued and HANDOFF is clear. A queued writer therefore blocks every
 *       new reader (writer preference).
 *   R2  read trylock: the same test; it never queues.
 *   R3  read slow path: if other readers hold the lock, queue behind the
 *       waiters; else if no writer holds it and HANDOFF is clear, steal it
 *       (the window where a woken writer has not yet taken the lock) and, as
 *       the first reader, grant the queued readers at the head in one batch;
 *       else queue.
 *   W1  a writer takes a lock with no holders, no waiters and no HANDOFF.
 *       A free lock with waiters is taken too unless HANDOFF is set (writer
 *       stealing: rwsem_try_write_lock_unqueued during the spin, or
 *       rwsem_try_write_lock right after queueing).
 *   W2  with cfg.writer_spin the writer first spins: on a reader-owned lock for
 *       (20 + min(readers, 30)) / 2 µs (rwsem_rspin_threshold, 10..25 µs), on a
 *       write-owned lock while the owner runs on a CPU (rwsem_spin_on_owner:
 *       cfg.owner_on_cpu when the spin starts, fl_rwsem_owner_off_cpu when the
 *       owner leaves its CPU), at most cfg.spin_on_writer_ns; when the owner
 *       downgrades, the spin goes on as a spin on readers (the reader threshold
 *       from then). A spinner takes the lock the instant it is freed (before
 *       the queue is woken) unless HANDOFF is set; a spin on readers that times
 *       out marks the lock non-spinnable for writers until the next writer
 *       acquires it. Then it queues.
 *   Wake on release (rwsem_mark_wake): when the last holder leaves and nobody
 *       spins: a writer at the head is woken only (WOKEN, it must still take
 *       the lock when it runs); a reader at the head gets the lock together
 *       with every queued reader, up to 256, skipping writers, which keep
 *       their order.
 *   Handoff: a head waiter that has been queued >= cfg.handoff_timeout_ns
 *       (RWSEM_WAIT_TIMEOUT, 4 ms) and finds the lock taken by someone else
 *       (a woken writer that lost it, a reader head bypassed by a spinner)
 *       sets HANDOFF; then nobody else can take the lock (no fast path, no
 *       stealing, no spinning) and the next release hands it to that waiter.
 *   Downgrade: the writer becomes a reader and the readers at the head of the
 *       queue join it (RWSEM_WAKE_READ_OWNED); writers keep waiting.
 *
 * Records: every attempt produces one struct fl_lock_acq with the times the
 * capture reconstruction derives from mmap_lock tracepoints (§9.1: start =
 * start_locking, acquired = acquire_returned, released), the blocker (the
 * nearest queued writer ahead, else the write owner, else the lowest-priority
 * reader holder), the chain depth (1 + the chain of the queued writer it
 * waits behind) and a priority inversion flag (waiter's prio number lower than
 * its blocker's). Waits use granted - start; fl_rwsem_returned() can move
 * acquired later when the simulator models the woken thread's run delay.
 *
 * Not modelled: reader-owned spinning by readers (removed from the kernel),
 * rwsem_cond_wake_waiter's reader wake when a writer queues behind readers
 * (only reachable after a HANDOFF race), and jiffy granularity of the timeout.
 * Unlock by a non-holder and other impossible calls are counted in
 * stats.anomalies and ignored, never fatal (a trace may begin mid-hold).
 */
#include "engine/rwsem.h"

#include <stdlib.h>
#include <string.h>

#include "common/fl.h"

const char *const fl_wait_hist_names[FL_WAIT_HIST_BINS] = {
	"[0,1us)", "[1,10us)", "[10,100us)", "[100us,1ms)", "[1,10ms)", "[10,100ms)", "[100ms,inf)",
};

int fl_wait_hist_bin(uint64_t ns)
{
	uint64_t lim = 1000;
	int b = 0;

	while (b < FL_WAIT_HIST_BINS - 1 && ns >= lim) {
		lim *= 10;
		b++;
	}
	return b;
}

void fl_rwsem_cfg_default(struct fl_rwsem_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->writer_spin = true;
	cfg->spin_on_writer_ns = 0;
	cfg->handoff_timeout_ns = FL_RWSEM_WAIT_TIMEOUT_NS;
	cfg->record = true;
}

void fl_rwsem_init(struct fl_rwsem *sem, const struct fl_rwsem_cfg *cfg)
{
	memset(sem, 0, sizeof(*sem));
	if (cfg)
		sem->cfg = *cfg;
	else
		fl_rwsem_cfg_default(&sem->cfg);
}

void fl_rwsem_release(struct fl_rwsem *sem)
{
	free(sem->recs);
	sem->recs = NULL;
	sem->nrecs = sem->caprecs = 0;
}

void fl_rwsem_waiter_init(struct fl_rwsem_waiter *w, uint32_t tid, int prio)
{
	memset(w, 0, sizeof(*w));
	w->tid = tid;
	w->prio = prio;
	w->state = FL_RWS_IDLE;
	w->rec = SIZE_MAX;
}

/* ---- lists ---- */

static void q_append(struct fl_rwsem_waiter **head, struct fl_rwsem_waiter **tail,
		     struct fl_rwsem_waiter *w)
{
	w->next = NULL;
	w->prev = *tail;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static void q_unlink(struct fl_rwsem_waiter **head, struct fl_rwsem_waiter **tail,
		     struct fl_rwsem_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		*tail = w->prev;
	w->prev = w->next = NULL;
}

static void wait_del(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	if (sem->qwriter_tail == w) {
		struct fl_rwsem_waiter *p = w->prev;

		while (p && !p->write)
			p = p->prev;
		sem->qwriter_tail = p;
	}
	q_unlink(&sem->qhead, &sem->qtail, w);
	sem->nq--;
	if (sem->handoff == w)
		sem->handoff = NULL;
}

static void holder_add(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	w->hnext = NULL;
	w->hprev = sem->holders_tail;
	if (sem->holders_tail)
		sem->holders_tail->hnext = w;
	else
		sem->holders = w;
	sem->holders_tail = w;
}

static void holder_del(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	if (w->hprev)
		w->hprev->hnext = w->hnext;
	else
		sem->holders = w->hnext;
	if (w->hnext)
		w->hnext->hprev = w->hprev;
	else
		sem->holders_tail = w->hprev;
	w->hprev = w->hnext = NULL;
}

static void wake_add(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	if (w->on_wake)
		return;
	w->on_wake = 1;
	w->wake_next = NULL;
	if (sem->woken_tail)
		sem->woken_tail->wake_next = w;
	else
		sem->woken_head = w;
	sem->woken_tail = w;
}

struct fl_rwsem_waiter *fl_rwsem_woken(struct fl_rwsem *sem)
{
	struct fl_rwsem_waiter *list = sem->woken_head;

	for (struct fl_rwsem_waiter *w = list; w; w = w->wake_next)
		w->on_wake = 0;
	sem->woken_head = sem->woken_tail = NULL;
	return list;
}

/* ---- records ---- */

static void rec_begin(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, bool write,
		      uint16_t flags, uint64_t now, uint64_t tag)
{
	w->write = write;
	w->t_start = now;
	w->tag = tag;
	w->chain = 0;
	w->flags = flags | (write ? FL_ACQ_WRITE : 0);
	w->rec = SIZE_MAX;
	if (!sem->cfg.record)
		return;
	if (sem->nrecs == sem->caprecs) {
		sem->caprecs = sem->caprecs ? 2 * sem->caprecs : 1024;
		sem->recs = fl_realloc(sem->recs, sem->caprecs * sizeof(*sem->recs));
	}
	w->rec = sem->nrecs++;
	struct fl_lock_acq *r = &sem->recs[w->rec];
	memset(r, 0, sizeof(*r));
	r->start = now;
	r->granted = r->acquired = r->released = FL_TIME_NONE;
	r->tag = tag;
	r->tid = w->tid;
	r->blocker = FL_TID_NONE;
	r->flags = w->flags;
}

static struct fl_lock_acq *rec_of(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	return w->rec == SIZE_MAX ? NULL : &sem->recs[w->rec];
}

static void rec_flags(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint16_t flags)
{
	struct fl_lock_acq *r = rec_of(sem, w);

	w->flags |= flags;
	if (r)
		r->flags = w->flags;
}

/* ---- acquisition and release ---- */

static void grant(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	struct fl_lock_acq *r = rec_of(sem, w);
	int rw = w->write;
	uint64_t wait = now - w->t_start;

	if (w->write) {
		sem->owner = w;
		w->state = FL_RWS_HOLD_WRITE;
		sem->wr_nonspinnable = false;
	} else {
		sem->readers++;
		w->state = FL_RWS_HOLD_READ;
	}
	holder_add(sem, w);
	sem->stats.acq[rw]++;
	sem->stats.wait_total_ns[rw] += wait;
	if (wait > sem->stats.wait_max_ns[rw])
		sem->stats.wait_max_ns[rw] = wait;
	sem->stats.hist[rw][fl_wait_hist_bin(wait)]++;
	if (w->flags & FL_ACQ_QUEUED)
		sem->stats.queued[rw]++;
	if (w->chain >= 2)
		sem->stats.chained++;
	if (w->chain > sem->stats.max_chain)
		sem->stats.max_chain = w->chain;
	if (w->flags & FL_ACQ_INVERSION)
		sem->stats.inversions++;
	if (w->flags & FL_ACQ_STEAL)
		sem->stats.steals++;
	if (r) {
		r->granted = r->acquired = now;
		r->chain = w->chain;
		r->flags = w->flags;
	}
}

/* Who w waits behind as it starts waiting; sets chain, blocker, inversion. */
static void note_blocker(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	struct fl_lock_acq *r = rec_of(sem, w);
	struct fl_rwsem_waiter *b = NULL;
	uint32_t ahead = sem->nq;

	if (sem->qwriter_tail && sem->qwriter_tail != w) {
		b = sem->qwriter_tail;
		w->chain = b->chain + 1;
	} else {
		w->chain = 1;
		if (sem->owner) {
			b = sem->owner;
		} else {
			/* the lowest-priority reader holder (bounded scan) */
			int n = 0;

			struct fl_rwsem_waiter *h;

			for (h = sem->holders; h && n < 256; h = h->hnext, n++)
				if (!b || h->prio > b->prio)
					b = h;
		}
	}
	if (b && w->prio < b->prio)
		w->flags |= FL_ACQ_INVERSION;
	if (r) {
		r->blocker = b ? b->tid : FL_TID_NONE;
		r->ahead = ahead > UINT16_MAX ? UINT16_MAX : ahead;
		r->chain = w->chain;
		r->flags = w->flags;
	}
}

static void enqueue(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	if (!(w->flags & FL_ACQ_QUEUED)) {
		/* first time queued in this attempt: who is in the way */
		if (w->chain == 0)
			note_blocker(sem, w);
		w->flags |= FL_ACQ_QUEUED;
	}
	w->t_queued = now;
	w->state = FL_RWS_QUEUED;
	q_append(&sem->qhead, &sem->qtail, w);
	sem->nq++;
	if (w->write)
		sem->qwriter_tail = w;
	rec_flags(sem, w, 0);
}

static bool timed_out(const struct fl_rwsem *sem, const struct fl_rwsem_waiter *w, uint64_t now)
{
	return sem->cfg.handoff_timeout_ns && now - w->t_queued >= sem->cfg.handoff_timeout_ns;
}

static void set_handoff(struct fl_rwsem *sem, struct fl_rwsem_waiter *w)
{
	if (sem->handoff)
		return;
	sem->handoff = w;
	sem->stats.handoffs++;
	rec_flags(sem, w, FL_ACQ_HANDOFF);
}

/*
 * Grant the lock to all queued readers, up to 256, in queue order, skipping
 * writers (rwsem_mark_wake, reader head). The caller checked the head is a
 * reader and no writer holds the lock.
 */
static void wake_readers(struct fl_rwsem *sem, uint64_t now)
{
	struct fl_rwsem_waiter *w = sem->qhead, *next;
	int n = 0;

	if (sem->handoff && !sem->handoff->write)
		sem->handoff = NULL;	/* the reader that set it is being granted */
	for (; w && n < FL_RWSEM_MAX_READERS_WAKEUP; w = next) {
		next = w->next;
		if (w->write)
			continue;
		wait_del(sem, w);
		grant(sem, w, now);
		wake_add(sem, w);
		n++;
	}
}

/* The last holder left (or a waiter vanished): who gets the lock next. */
static void release_wake(struct fl_rwsem *sem, uint64_t now)
{
	struct fl_rwsem_waiter *head = sem->qhead;

	if (fl_rwsem_is_locked(sem))
		return;
	if (sem->spin_head && !sem->handoff) {
		/* a spinning writer's cmpxchg beats the woken waiters */
		struct fl_rwsem_waiter *s = sem->spin_head;

		q_unlink(&sem->spin_head, &sem->spin_tail, s);
		sem->stats.spin_wins++;
		if (sem->nq)
			s->flags |= FL_ACQ_STEAL;
		grant(sem, s, now);
		wake_add(sem, s);
		if (head && head->write) {
			if (head->state == FL_RWS_QUEUED) {
				head->state = FL_RWS_WOKEN;
				wake_add(sem, head);
			}
		} else if (head && timed_out(sem, head, now)) {
			set_handoff(sem, head);
		}
		return;
	}
	if (!head)
		return;
	if (head->write) {
		if (head->state == FL_RWS_QUEUED) {
			head->state = FL_RWS_WOKEN;
			wake_add(sem, head);
		}
		return;
	}
	wake_readers(sem, now);
}

enum fl_rwsem_res fl_rwsem_down_read(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
				     uint64_t now, uint64_t tag)
{
	if (w->state != FL_RWS_IDLE) {
		sem->stats.anomalies++;
		return FL_RWSEM_FAILED;
	}
	rec_begin(sem, w, false, 0, now, tag);
	/* R1: fast path */
	if (!sem->owner && !sem->nq && !sem->handoff) {
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	/* R3: other readers own it -> queue; no writer and no HANDOFF -> steal */
	if (!sem->readers && !sem->owner && !sem->handoff) {
		w->flags |= FL_ACQ_STEAL;
		grant(sem, w, now);
		if (sem->qhead && !sem->qhead->write)
			wake_readers(sem, now);
		return FL_RWSEM_ACQUIRED;
	}
	enqueue(sem, w, now);
	return FL_RWSEM_QUEUED;
}

/* A failed trylock: counted, its record closed at once (it never waited). */
static enum fl_rwsem_res trylock_failed(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					bool write, uint64_t now)
{
	struct fl_lock_acq *r;

	sem->stats.trylock_fail[write]++;
	rec_flags(sem, w, FL_ACQ_FAILED);
	r = rec_of(sem, w);
	if (r)
		r->acquired = r->released = now;
	w->rec = SIZE_MAX;
	return FL_RWSEM_FAILED;
}

enum fl_rwsem_res fl_rwsem_down_read_trylock(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					     uint64_t now, uint64_t tag)
{
	if (w->state != FL_RWS_IDLE) {
		sem->stats.anomalies++;
		return FL_RWSEM_FAILED;
	}
	rec_begin(sem, w, false, FL_ACQ_TRYLOCK, now, tag);
	if (!sem->owner && !sem->nq && !sem->handoff) {
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	return trylock_failed(sem, w, false, now);
}

enum fl_rwsem_res fl_rwsem_down_write_trylock(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					      uint64_t now, uint64_t tag)
{
	if (w->state != FL_RWS_IDLE) {
		sem->stats.anomalies++;
		return FL_RWSEM_FAILED;
	}
	rec_begin(sem, w, true, FL_ACQ_TRYLOCK, now, tag);
	if (!fl_rwsem_is_locked(sem) && !sem->nq && !sem->handoff) {
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	return trylock_failed(sem, w, true, now);
}

/* rwsem_rspin_threshold: how long a writer spins on readers, (20 + min(readers, 30)) / 2 µs. */
static uint64_t rspin_threshold(const struct fl_rwsem *sem)
{
	uint32_t r = sem->readers > 30 ? 30 : sem->readers;

	return (20 + (uint64_t)r) * 1000 / 2;
}

enum fl_rwsem_res fl_rwsem_down_write(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
				      uint64_t now, uint64_t tag)
{
	uint64_t window = 0;

	if (w->state != FL_RWS_IDLE) {
		sem->stats.anomalies++;
		return FL_RWSEM_FAILED;
	}
	rec_begin(sem, w, true, 0, now, tag);
	/* W1, or stealing a free lock past the queue (no HANDOFF) */
	if (!fl_rwsem_is_locked(sem) && !sem->handoff) {
		if (sem->nq)
			w->flags |= FL_ACQ_STEAL;
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	/* W2: optimistic spin */
	if (sem->cfg.writer_spin && !sem->handoff) {
		if (sem->owner) {
			if (!sem->cfg.owner_on_cpu ||
			    sem->cfg.owner_on_cpu(sem->cfg.owner_arg, sem->owner->tid))
				window = sem->cfg.spin_on_writer_ns;
		} else if (sem->readers && !sem->wr_nonspinnable) {
			window = rspin_threshold(sem);
		}
	}
	if (window) {
		w->state = FL_RWS_SPINNING;
		w->spin_until = now + window;
		w->flags |= FL_ACQ_SPUN;
		/* blocker and chain as of the spin's start */
		note_blocker(sem, w);
		q_append(&sem->spin_head, &sem->spin_tail, w);
		sem->stats.spins++;
		rec_flags(sem, w, 0);
		return FL_RWSEM_SPINNING;
	}
	enqueue(sem, w, now);
	return FL_RWSEM_QUEUED;
}

enum fl_rwsem_res fl_rwsem_spin_end(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	if (w->state == FL_RWS_HOLD_WRITE)
		return FL_RWSEM_ACQUIRED;
	if (w->state != FL_RWS_SPINNING)
		return w->state == FL_RWS_IDLE ? FL_RWSEM_FAILED : FL_RWSEM_QUEUED;
	q_unlink(&sem->spin_head, &sem->spin_tail, w);
	if (!fl_rwsem_is_locked(sem) && !sem->handoff) {
		sem->stats.spin_wins++;
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	if (!sem->owner)
		sem->wr_nonspinnable = true;	/* gave up on readers */
	enqueue(sem, w, now);
	return FL_RWSEM_QUEUED;
}

size_t fl_rwsem_owner_off_cpu(struct fl_rwsem *sem, uint64_t now)
{
	size_t n = 0;

	if (!sem->owner)
		return 0;
	for (struct fl_rwsem_waiter *s = sem->spin_head; s; s = s->next) {
		if (s->spin_until > now)
			s->spin_until = now;
		n++;
	}
	return n;
}

enum fl_rwsem_res fl_rwsem_write_wakeup(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					uint64_t now)
{
	if (w->state == FL_RWS_HOLD_WRITE)
		return FL_RWSEM_ACQUIRED;
	if (w->state != FL_RWS_WOKEN) {
		if (w->state != FL_RWS_QUEUED)
			sem->stats.anomalies++;
		return w->state == FL_RWS_QUEUED ? FL_RWSEM_QUEUED : FL_RWSEM_FAILED;
	}
	/* rwsem_try_write_lock for the first waiter */
	if (!fl_rwsem_is_locked(sem) && (!sem->handoff || sem->handoff == w)) {
		wait_del(sem, w);
		grant(sem, w, now);
		return FL_RWSEM_ACQUIRED;
	}
	if (sem->qhead == w && timed_out(sem, w, now))
		set_handoff(sem, w);
	w->state = FL_RWS_QUEUED;
	return FL_RWSEM_QUEUED;
}

static void release_hold(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	struct fl_lock_acq *r = rec_of(sem, w);

	holder_del(sem, w);
	if (r)
		r->released = now;
	w->rec = SIZE_MAX;
	w->state = FL_RWS_IDLE;
}

void fl_rwsem_up_read(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	if (w->state != FL_RWS_HOLD_READ || !sem->readers) {
		sem->stats.anomalies++;
		return;
	}
	release_hold(sem, w, now);
	sem->readers--;
	release_wake(sem, now);
}

void fl_rwsem_up_write(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	if (w->state != FL_RWS_HOLD_WRITE || sem->owner != w) {
		sem->stats.anomalies++;
		return;
	}
	release_hold(sem, w, now);
	sem->owner = NULL;
	release_wake(sem, now);
}

void fl_rwsem_downgrade(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	uint64_t tag = w->tag;

	if (w->state != FL_RWS_HOLD_WRITE || sem->owner != w) {
		sem->stats.anomalies++;
		return;
	}
	release_hold(sem, w, now);
	sem->owner = NULL;
	/* mmap_write_downgrade emits acquire_returned(w=0) with no start: a read hold, no wait */
	rec_begin(sem, w, false, FL_ACQ_DOWNGRADE, now, tag);
	grant(sem, w, now);
	/* rwsem_optimistic_spin: a spinner that finds OWNER_READER spins to the threshold */
	for (struct fl_rwsem_waiter *s = sem->spin_head; s; s = s->next)
		if (s->spin_until > now + rspin_threshold(sem))
			s->spin_until = now + rspin_threshold(sem);
	if (sem->qhead && !sem->qhead->write)
		wake_readers(sem, now);
}

void fl_rwsem_cancel(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	struct fl_lock_acq *r = rec_of(sem, w);
	bool was_head = sem->qhead == w;

	switch (w->state) {
	case FL_RWS_SPINNING:
		q_unlink(&sem->spin_head, &sem->spin_tail, w);
		break;
	case FL_RWS_QUEUED:
	case FL_RWS_WOKEN:
		wait_del(sem, w);
		break;
	default:
		sem->stats.anomalies++;
		return;
	}
	sem->stats.cancelled++;
	w->flags |= FL_ACQ_FAILED | FL_ACQ_CANCELLED;
	if (r) {
		r->flags = w->flags;
		r->acquired = r->released = now;
	}
	w->rec = SIZE_MAX;
	w->state = FL_RWS_IDLE;
	/* rwsem_del_wake_waiter: the new head may be able to go */
	if (was_head && sem->qhead && !sem->owner) {
		if (!sem->readers)
			release_wake(sem, now);
		else if (!sem->qhead->write)
			wake_readers(sem, now);
	}
}

void fl_rwsem_returned(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now)
{
	struct fl_lock_acq *r = rec_of(sem, w);

	if (r && r->granted != FL_TIME_NONE && now >= r->granted)
		r->acquired = now;
}

size_t fl_rwsem_wait_percentiles(const struct fl_rwsem *sem, bool write, const double *pct,
				 uint64_t *out, size_t npct)
{
	uint64_t *w = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sem->nrecs; i++) {
		const struct fl_lock_acq *r = &sem->recs[i];

		if (!!(r->flags & FL_ACQ_WRITE) != write || (r->flags & FL_ACQ_FAILED) ||
		    r->acquired == FL_TIME_NONE)
			continue;
		if (!w)
			w = fl_malloc((sem->nrecs - i) * sizeof(*w));
		w[n++] = r->acquired - r->start;
	}
	if (!n)
		return 0;
	qsort(w, n, sizeof(*w), fl_cmp_u64);
	for (size_t k = 0; k < npct; k++) {
		double p = pct[k] < 0 ? 0 : pct[k] > 100 ? 100 : pct[k];
		size_t rank = (size_t)(p / 100.0 * n + 0.999999999);	/* ceil(p/100 * n) */

		out[k] = w[rank ? rank - 1 : 0];
	}
	free(w);
	return n;
}
