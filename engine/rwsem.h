/*
 * rwsem.h - mmap_lock modelled as the kernel's rw_semaphore
 * (kernel-semantics.md §3), with a record of every acquisition.
 *
 * Calling convention (list-based, no callbacks):
 *
 *	- Each simulated thread owns one struct fl_rwsem_waiter per lock it may
 *	  take (fl_rwsem_waiter_init once). A waiter is in at most one of: idle,
 *	  spinning, queued, woken, holding.
 *	- fl_rwsem_down_read/_write/_trylock(sem, w, now, tag) return what
 *	  happened to w *now*: ACQUIRED, QUEUED (sleep until granted),
 *	  SPINNING (a writer spins on the owner until w->spin_until: schedule an
 *	  event then and call fl_rwsem_spin_end) or FAILED (trylock).
 *	- Any call may change the state of *other* waiters (a release grants a
 *	  reader batch, a stealing reader grants the queued readers, a spinner
 *	  takes the freed lock, a writer is woken). Those waiters are appended
 *	  to the semaphore's wake list; after every call the simulator takes it
 *	  with fl_rwsem_woken() and walks it through ->wake_next. For each entry:
 *	    state HOLD_READ / HOLD_WRITE: the lock is that thread's from `now`
 *	      (readers are granted by the waker, as rwsem_mark_wake does);
 *	    state WOKEN: a writer was woken but does not own the lock yet; when
 *	      the simulator runs it (after its wake-up latency, e.g. once it has a
 *	      CPU) it calls fl_rwsem_write_wakeup(), which takes the lock or puts
 *	      it back to sleep. In between, readers and writers may steal the lock.
 *	- Records: with cfg.record, every acquisition attempt appends one
 *	  struct fl_lock_acq (start, granted, acquired, released, blocker, chain,
 *	  flags) — the model's lock_wait rows. fl_lock_stats aggregates always.
 */
#ifndef FL_ENGINE_RWSEM_H
#define FL_ENGINE_RWSEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/evq.h"

/* rwsem_mark_wake wakes at most this many readers per batch (MAX_READERS_WAKEUP) */
#define FL_RWSEM_MAX_READERS_WAKEUP 256
/* Bins [0,1µs) [1,10µs) [10,100µs) [100µs,1ms) [1,10ms) [10,100ms) [100ms,∞) */
#define FL_WAIT_HIST_BINS 7

enum fl_rwsem_res {
	FL_RWSEM_ACQUIRED,	/* the caller holds the lock from now */
	FL_RWSEM_QUEUED,	/* asleep in the FIFO wait queue */
	FL_RWSEM_SPINNING,	/* writer spinning until w->spin_until */
	FL_RWSEM_FAILED,	/* trylock failed / wait cancelled */
};

enum fl_rwsem_state {
	FL_RWS_IDLE,
	FL_RWS_SPINNING,	/* optimistic spin, not queued (no WAITERS bit) */
	FL_RWS_QUEUED,		/* in the wait queue, asleep */
	FL_RWS_WOKEN,		/* head writer woken, has not yet taken the lock */
	FL_RWS_HOLD_READ,
	FL_RWS_HOLD_WRITE,
};

/* fl_lock_acq.flags */
#define FL_ACQ_WRITE		0x001	/* write acquisition (else read) */
#define FL_ACQ_TRYLOCK		0x002	/* mmap_read_trylock / down_write_trylock */
#define FL_ACQ_FAILED		0x004	/* trylock failed or wait cancelled: no hold */
#define FL_ACQ_DOWNGRADE	0x008	/* read hold created by mmap_write_downgrade (no wait) */
#define FL_ACQ_INVERSION	0x010	/* waiter had higher priority than its blocker */
#define FL_ACQ_SPUN		0x020	/* writer spun before getting the lock or queueing */
#define FL_ACQ_STEAL		0x040	/* took a free lock past queued waiters */
#define FL_ACQ_HANDOFF		0x080	/* this waiter set the HANDOFF bit */
#define FL_ACQ_QUEUED		0x100	/* slept in the wait queue */
#define FL_ACQ_CANCELLED	0x200	/* left the queue without the lock (fatal signal) */

/* One acquisition attempt: the model's lock_wait row. Times in ns. */
struct fl_lock_acq {
	uint64_t start;		/* ns: down_* called (mmap_lock_start_locking) */
	uint64_t granted;	/* ns: the lock became this thread's; FL_TIME_NONE if never */
	uint64_t acquired;	/* ns: the thread returned from down_* (acquire_returned);
				   = granted unless fl_rwsem_returned() said later */
	uint64_t released;	/* ns: up_* or downgrade; FL_TIME_NONE while held */
	uint64_t tag;		/* caller's: the fault or syscall this belongs to */
	uint32_t tid;		/* waiter's thread id */
	uint32_t blocker;	/* tid it first waited behind (queued writer ahead, else the
				   write holder, else the lowest-priority reader holder);
				   FL_TID_NONE if it never waited */
	uint16_t ahead;		/* waiters queued ahead when it queued (saturates) */
	uint16_t chain;		/* chain depth: 0 no wait, 1 behind holders only, 1 + the
				   chain of the nearest queued writer ahead otherwise */
	uint16_t flags;		/* FL_ACQ_* */
	uint16_t pad;
};

struct fl_lock_stats {
	uint64_t acq[2];		/* successes [0] read (+downgrades) [1] write */
	uint64_t trylock_fail[2];	/* failed trylocks */
	uint64_t cancelled;		/* waits abandoned (fatal signal) */
	uint64_t wait_total_ns[2];	/* ns: sum of granted - start */
	uint64_t wait_max_ns[2];	/* ns */
	uint64_t hist[2][FL_WAIT_HIST_BINS];	/* waits per bin, all successful acquisitions */
	uint64_t queued[2];		/* acquisitions that slept in the queue */
	uint64_t chained;		/* waits with chain >= 2 */
	uint64_t max_chain;		/* deepest chain */
	uint64_t inversions;		/* waits flagged FL_ACQ_INVERSION */
	uint64_t handoffs;		/* HANDOFF bit set */
	uint64_t steals;		/* acquisitions past queued waiters */
	uint64_t spins;			/* writer spins started */
	uint64_t spin_wins;		/* spins that ended with the lock */
	uint64_t anomalies;		/* impossible calls (unlock by a non-holder, ...) ignored */
};

struct fl_rwsem_cfg {
	bool writer_spin;		/* W2 optimistic spin before queueing */
	uint64_t spin_on_writer_ns;	/* ns a writer spins at most on a write-owned lock, while
					   owner_on_cpu says the owner runs; 0 = queue at once */
	/* Whether thread tid runs on a CPU now (rwsem_can_spin_on_owner's owner_on_cpu);
	 * NULL: always. The caller reports an owner leaving its CPU with
	 * fl_rwsem_owner_off_cpu. */
	bool (*owner_on_cpu)(void *arg, uint32_t tid);
	void *owner_arg;
	uint64_t handoff_timeout_ns;	/* ns: RWSEM_WAIT_TIMEOUT; 0 disables handoff */
	bool record;			/* keep a struct fl_lock_acq per attempt */
};

/* RWSEM_WAIT_TIMEOUT = DIV_ROUND_UP(HZ, 250) jiffies: 4 ms at HZ=250/1000 (§3). */
#define FL_RWSEM_WAIT_TIMEOUT_NS 4000000ULL

struct fl_rwsem_waiter {
	uint32_t tid;		/* thread id (records, blocker) */
	int prio;		/* kernel prio 0..139; lower is more important (inversions) */
	uint8_t state;		/* enum fl_rwsem_state */
	uint8_t write;		/* current request is a write */
	uint8_t on_wake;	/* on the semaphore's wake list */
	uint16_t chain;		/* chain depth of the current wait */
	uint16_t flags;		/* FL_ACQ_* of the current attempt */
	uint64_t t_start;	/* ns: current down_* call */
	uint64_t t_queued;	/* ns: entered the wait queue (handoff timeout base) */
	uint64_t spin_until;	/* ns: end of the spin window when SPINNING */
	uint64_t tag;		/* caller's tag of the current attempt */
	size_t rec;		/* index of the current record or SIZE_MAX */
	struct fl_rwsem_waiter *prev, *next;	/* wait queue or spinner list */
	struct fl_rwsem_waiter *hprev, *hnext;	/* holder list */
	struct fl_rwsem_waiter *wake_next;	/* wake list (fl_rwsem_woken) */
};

struct fl_rwsem {
	struct fl_rwsem_cfg cfg;
	uint32_t readers;		/* read holders */
	struct fl_rwsem_waiter *owner;	/* write holder or NULL */
	struct fl_rwsem_waiter *holders;	/* all holders, oldest first... (list head) */
	struct fl_rwsem_waiter *holders_tail;
	struct fl_rwsem_waiter *qhead, *qtail;	/* FIFO wait queue */
	uint32_t nq;			/* waiters queued (WAITERS bit iff > 0) */
	struct fl_rwsem_waiter *qwriter_tail;	/* last writer in the queue */
	struct fl_rwsem_waiter *spin_head, *spin_tail;	/* spinning writers, FIFO (osq) */
	struct fl_rwsem_waiter *handoff;	/* waiter that set HANDOFF, or NULL */
	bool wr_nonspinnable;		/* spin on readers timed out (WR_NONSPINNABLE) */
	struct fl_rwsem_waiter *woken_head, *woken_tail;	/* wake list */
	struct fl_lock_acq *recs;	/* records, in attempt order */
	size_t nrecs, caprecs;
	struct fl_lock_stats stats;
};

void fl_rwsem_cfg_default(struct fl_rwsem_cfg *cfg);	/* kernel defaults, recording on */
void fl_rwsem_init(struct fl_rwsem *sem, const struct fl_rwsem_cfg *cfg);
void fl_rwsem_release(struct fl_rwsem *sem);		/* frees the records */
void fl_rwsem_waiter_init(struct fl_rwsem_waiter *w, uint32_t tid, int prio);

/* mmap_read_lock[_killable]: R1 fast path, R3 slow path (steal, queue). */
enum fl_rwsem_res fl_rwsem_down_read(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
				     uint64_t now, uint64_t tag);
/* mmap_read_trylock (R2): fails if a writer holds or anyone is queued. */
enum fl_rwsem_res fl_rwsem_down_read_trylock(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					     uint64_t now, uint64_t tag);
/* mmap_write_lock[_killable]: W1 fast path, steal, W2 spin, queue. */
enum fl_rwsem_res fl_rwsem_down_write(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
				      uint64_t now, uint64_t tag);
enum fl_rwsem_res fl_rwsem_down_write_trylock(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					      uint64_t now, uint64_t tag);
/* A spinning writer's window ended: ACQUIRED (lock was free), QUEUED, or its current state
 * (ACQUIRED if it already took the lock; call it for stale timeouts safely). */
enum fl_rwsem_res fl_rwsem_spin_end(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
/*
 * The write owner left its CPU (it sleeps or was preempted): the writers spinning on it
 * stop (rwsem_spin_on_owner returns OWNER_NONSPINNABLE) and queue at their spin end,
 * which becomes now. Returns how many; the caller re-arms their spin ends (spin_until).
 */
size_t fl_rwsem_owner_off_cpu(struct fl_rwsem *sem, uint64_t now);
/* A WOKEN writer runs: takes the lock (ACQUIRED) or sleeps again (QUEUED), maybe sets HANDOFF. */
enum fl_rwsem_res fl_rwsem_write_wakeup(struct fl_rwsem *sem, struct fl_rwsem_waiter *w,
					uint64_t now);
void fl_rwsem_up_read(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
void fl_rwsem_up_write(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
/* downgrade_write: w keeps a read hold; queued readers at the head join it. Writers
 * spinning on w now spin on a reader-owned lock: their spin ends at most the reader
 * threshold from now (spin_until may move earlier: the caller re-arms it). */
void fl_rwsem_downgrade(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
/* A queued/spinning/woken waiter gives up (fatal signal in a killable wait). */
void fl_rwsem_cancel(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
/* The thread granted earlier actually returned from down_* at now (records' acquired). */
void fl_rwsem_returned(struct fl_rwsem *sem, struct fl_rwsem_waiter *w, uint64_t now);
/* Takes the wake list (walk ->wake_next); NULL when nothing changed. */
struct fl_rwsem_waiter *fl_rwsem_woken(struct fl_rwsem *sem);

static inline bool fl_rwsem_is_locked(const struct fl_rwsem *sem)
{
	return sem->owner || sem->readers;
}

/*
 * Nearest-rank percentiles (pct[i] in [0, 100]) of the waits acquired - start, in ns, of
 * the successful read (write false) or write acquisitions in the records (cfg.record);
 * downgrades count as zero-wait reads, as in stats. Returns how many waits there were
 * (0: out[] untouched).
 */
size_t fl_rwsem_wait_percentiles(const struct fl_rwsem *sem, bool write, const double *pct,
				 uint64_t *out, size_t npct);

/* The histogram bin of a wait in ns. */
int fl_wait_hist_bin(uint64_t ns);
extern const char *const fl_wait_hist_names[FL_WAIT_HIST_BINS];

#endif
