/*
 * reconstruct.c - the fault reconstructor: per-thread state machines over the
 * merged event stream of one capture (kernel-semantics.md §5, §6, §7, §9).
 *
 * What a stock kernel shows, and how it is read here:
 *
 *  - A fault is the window from exceptions:page_fault_{user,kernel} of a tid
 *    to the next page fault or traced syscall entry of that tid, or the end of
 *    the thread. Its end_ns is the last event attributable to it (stock
 *    kernels trace no fault exit), so a fault with no other event in its
 *    window has end_ns == start_ns.
 *  - The VMA lock is invisible; a fault whose window holds no mmap_lock event
 *    ran under it (path vma), when the kernel has per-VMA locks (>= 6.4) and the
 *    fault came from user mode (kernel-mode faults always take mmap_lock:
 *    arch/x86/mm/fault.c "if (!(flags & FAULT_FLAG_USER)) goto lock_mmap",
 *    kernel-semantics §5.2).
 *  - lock_mm_and_find_vma() first trylocks mmap_lock (start, acquire_returned
 *    ok=0/1) and then, if that failed, blocks (start, acquire_returned ok=1)
 *    [§4.3, 6.12 mm/memory.c:6141]. The first start of such a sequence is a
 *    trylock, a start after a failed one is blocking.
 *  - From 6.7, a VMA-lock write fault on a VMA without anon_vma trylocks
 *    mmap_lock inside __vmf_anon_prepare() and releases it at once [§6.3,
 *    6.12 mm/memory.c:3283-3315]. A successful first trylock in a user write
 *    fault before any page-cache or I/O activity is read as that (the fault
 *    stays on the VMA path) unless the VMA is shared or already had a write
 *    fault. Before 6.7 lock_vma_under_rcu() refused such VMAs [§4.1 rule 4],
 *    so the same pattern there is an immediate mmap fallback. Two failed
 *    trylocks in a row from the VMA phase are the anon_prepare failure
 *    (RETRY) followed by lock_mm_and_find_vma's failed trylock.
 *  - The VMA attempt returned RETRY after dropping its lock to wait
 *    (vma_retry_mmap, retry_drop) when, before its first mmap_lock start, the
 *    fault shows mm_filemap_fault, a D sleep, a page-cache insert or a block
 *    read of its own [§9.2.1]. Without that evidence an mmap_lock start means
 *    lock_vma_under_rcu() failed: path mmap.
 *  - An mmap attempt is one read hold; a new start_locking after its release
 *    is a retry of the same fault when the thread slept in D in between (the
 *    I/O wait after the drop, §6.1 case C), or came back within
 *    RETRY_GAP_NS without sleeping (case B'); an S sleep in between, or a
 *    longer gap, means the fault was over and the lock belongs to something
 *    untraced (a /proc read, GUP).
 *  - A retried attempt that inserts a folio covering the faulting index into
 *    the page cache (or issues a block read) missed again: retry_io_miss
 *    [§9.2.3]; without mm_filemap_fault (< 6.12) any insert counts. The
 *    kernel counts the fault major when any attempt missed or the mmap path
 *    retried with FAULT_FLAG_TRIED (mm_account_fault, §5.2).
 *  - I/O wait is D-state off-CPU time of the faulting thread outside mmap_lock
 *    waits; the part inside an mmap_lock read hold, or in a VMA attempt that
 *    finished without falling back, was spent holding a lock.
 *  - Writers: traced mmap-family syscalls, with their write wait and hold on
 *    the thread's own mm (fork also write-locks the child's mm, nested: that
 *    hold is a lock_wait row but not the op's). Time the write holder spends
 *    in lock:contention (6.4-6.14 vma_start_write) or in D sleeps is blocked_ns.
 *  - Contention: every start_locking snapshots the traced holders and queued
 *    waiters of that mm. Untraced tasks' holds are invisible.
 *
 * Without a page-fault tracepoint (arm64, kernel-semantics §9.1; fault_tp
 * false) no fault window ever opens and no fault is inferred: the lock
 * holds and filemap faults that belong to invisible faults are rows with
 * owner none, and are not mid-capture anomalies.
 *
 * The layout of each process (recon-layout.c) is versioned: the maps
 * snapshot at start (reloaded at an exec when it was taken after it), then
 * every mmap-family syscall's result, fork's copy and the leader's exit; each
 * version that ends, and at the end each that is left, goes to the sink's
 * vma callback. The last maps snapshot names files mmap'd during the capture
 * and adds what only it shows (maps-end).
 *
 * Events of other tasks (block completions, page-cache deletions by
 * reclaimers) come from an extra instance (inst > 0) in command mode; only
 * block, page-cache and (for the followed tasks) scheduling events are taken
 * from it, and duplicates of main-instance events are dropped.
 */
#include "db/reconstruct.h"
#include "db/recon-layout.h"
#include "db/recon-map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_GAP_NS	50000ULL	/* release -> start of a retry without a sleep */
#define VMA_SLEEP_NS	200000ULL	/* a D sleep this soon after fault activity is the fault's */
#define IO_KEEP_NS	1000000000ULL	/* completed block requests wait this long for waiters */
#define IO_RING		256
#define DEDUPE		64
#define MAX_ACQ		6

#define TASK_D		0x0002		/* TASK_UNINTERRUPTIBLE in prev_state (killable too) */
#define TASK_PREEMPT	0x0100		/* TASK_REPORT_MAX: preempted while running */
#define CLONE_VM_F	0x00000100
#define CLONE_THREAD_F	0x00010000
#define MAP_SHARED_F	0x01
#define MAP_ANON_F	0x20
#define MAP_GROWSDOWN_F	0x0100

/* ---- names ---------------------------------------------------------- */

static const char *const path_names[FL_PATH__COUNT] = {
	"unknown", "vma", "vma_retry_mmap", "vma_retry_vma", "mmap",
};
static const char *const kind_names[FL_VMA__COUNT] = {
	"unknown", "anon", "file", "shmem", "stack", "none",
};
static const char *const anomaly_names[FL_AN__COUNT] = {
	[FL_AN_LOST_EVENTS] = "lost_events",
	[FL_AN_MID_FAULT] = "mid_fault",
	[FL_AN_MID_HOLD] = "mid_hold",
	[FL_AN_ACQ_NO_START] = "acquire_without_start",
	[FL_AN_START_WHILE_WAITING] = "start_while_waiting",
	[FL_AN_FAULT_NO_LOCK] = "fault_without_mmap_lock",
	[FL_AN_FAULT_HELD_AT_NEXT] = "lock_held_at_next_fault",
	[FL_AN_SYSEXIT_NO_ENTER] = "syscall_exit_without_entry",
	[FL_AN_SYSENTER_NESTED] = "syscall_entry_nested",
	[FL_AN_OPEN_AT_END] = "open_at_end",
	[FL_AN_TIME_BACKWARDS] = "time_backwards",
	[FL_AN_BLOCK_NO_ISSUE] = "block_complete_without_issue",
	[FL_AN_RELEASE_MODE] = "release_mode_mismatch",
};
static const char *const owner_names[] = { "none", "fault", "syscall" };
static const char *const source_names[FL_VSRC__COUNT] = {
	"maps-start", "mmap", "mprotect", "mremap", "munmap-split", "brk", "fork", "maps-end",
};

const char *fl_fault_path_name(enum fl_fault_path p)
{
	return (unsigned)p < FL_PATH__COUNT ? path_names[p] : "?";
}
const char *fl_vma_kind_name(enum fl_vma_kind k)
{
	return (unsigned)k < FL_VMA__COUNT ? kind_names[k] : "?";
}
const char *fl_anomaly_name(enum fl_anomaly a)
{
	return (unsigned)a < FL_AN__COUNT ? anomaly_names[a] : "?";
}
const char *fl_owner_kind_name(enum fl_owner_kind k)
{
	return (unsigned)k < FL_ARRAY_SIZE(owner_names) ? owner_names[k] : "?";
}
const char *fl_vma_source_name(enum fl_vma_source s)
{
	return (unsigned)s < FL_VSRC__COUNT ? source_names[s] : "?";
}

/* ---- state ---------------------------------------------------------- */

enum phase {
	PH_NONE,		/* no attempt known yet (mmap path expected) */
	PH_VMA,			/* in the attempt under the VMA lock */
	PH_MMAP_WAIT,		/* acquiring mmap_lock for an mmap attempt */
	PH_MMAP_HELD,		/* an mmap attempt holds mmap_lock */
	PH_MMAP_RELEASED,	/* the last mmap attempt released; a retry may follow */
};

struct fault_st {
	bool active;
	struct fl_fault row;
	uint8_t phase;
	uint8_t seq_fail;		/* failed trylocks since the last acquisition */
	bool vma_possible;		/* the first attempt runs under the VMA lock */
	bool anon_candidate;		/* a first trylock would be __vmf_anon_prepare */
	bool anon_done, anon_failed;
	bool retry_mmap, retry_vma;	/* path evidence */
	bool next_is_retry;		/* the next attempt follows a RETRY with drop */
	bool cur_is_retry;		/* the current attempt is such a retry */
	bool any_miss;
	uint16_t vma_attempts, mmap_attempts;
	/* evidence within the current attempt */
	uint16_t att_filemap;
	bool att_sleep, att_add_cover, att_add_any, att_issue;
	bool att_mapped;		/* mm_filemap_map_pages (fault-around) in the attempt */
	bool expanding;			/* write-locked to expand the stack (see fault_writes) */
	uint64_t own_mm;		/* the mm this fault's own lock events name, 0 = none yet */
	uint64_t vma_sleep_prev, vma_sleep_cur;	/* ns of D sleep in VMA attempts */
	uint64_t rel_ts, rel_sleep_d;		/* after an mmap release */
	bool rel_sleep_s;
	uint64_t last_ts;
	uint64_t first_fm_ts;
	struct fl_vma *vma;		/* in the layout at fault start (may move: index use only) */
};

struct sys_st {
	bool active;
	struct fl_writer_op row;
	uint64_t hold_since;		/* write acquired, 0 = not holding for write */
	uint64_t read_since;		/* read hold began (downgrade or read lock), 0 = none */
	uint64_t cont_since, cont_ns;	/* lock:contention while holding for write */
	uint64_t dsleep_ns;		/* D sleeps while holding for write */
	int64_t args[6];		/* the raw syscall args, for the layout update at exit */
};

enum { ACQ_WAITING = 1, ACQ_HELD = 2 };

struct acq {
	uint8_t state;
	bool anon;			/* a __vmf_anon_prepare trylock */
	struct fl_lock_wait row;
};

struct thr {
	int32_t tid, tgid;		/* tgid 0 = unknown */
	int32_t parent;
	int16_t prio;
	bool known;			/* a fault, syscall or switch-in of it was seen */
	bool mid_counted;
	uint64_t mm;
	struct fault_st f;
	struct sys_st s;
	struct acq acq[MAX_ACQ];
	int nacq;
	bool off, off_d, off_s;
	uint64_t off_ts, wake_ts;
};

struct lk {
	int32_t tid;
	bool write;
	int16_t prio;
	uint16_t chain;
	int64_t wait_id;
	uint64_t since;
};

struct mmst {
	uint64_t mm;
	struct lk *hold, *wait;
	int nhold, caphold, nwait, capwait;
};

struct proc {
	struct fl_recon *r;
	int32_t tgid;
	uint64_t mm;
	struct fl_layout lay;
	char *start_maps;		/* the first maps snapshot of the process (a copy) */
	size_t start_len;
	uint64_t start_ns;		/* when it was taken (time.trace_ns), 0 = not said */
	char *end_maps;			/* the TRAILER's maps (the last known), a copy */
	size_t end_len;
	uint64_t brk_base;		/* the break brk(2) returned while no [heap] VMA existed */
	bool gone;			/* the thread-group leader exited: the layout is closed */
};

struct fl_recon {
	struct fl_recon_sink sink;
	struct fl_recon_kernel k;
	uint64_t page_size;
	uint64_t anomalies[FL_AN__COUNT];
	uint64_t first_ts, last_ts, events;
	int64_t next_fault, next_wait, next_op, next_io;
	struct fl_err *err;
	int failed;

	struct thr **thr;
	size_t nthr, capthr;
	struct fl_u64map tids;		/* tid -> index + 1 */
	struct mmst **mms;
	size_t nmms, capmms;
	struct fl_u64map mmidx;		/* mm -> index + 1 */
	struct proc **procs;
	size_t nprocs, capprocs;
	struct fl_u64map procidx;	/* tgid -> index + 1 */

	struct fl_io *ios;		/* issued, not completed */
	size_t nios, capios;
	int64_t *freeio;
	size_t nfree, capfree;
	struct fl_u64map ioidx;		/* (dev, sector) -> index + 1 */
	struct fl_io done[IO_RING];	/* completed, waiting for waiters; a FIFO */
	int done_head, ndone;

	struct fl_u64map deleted;	/* (dev, ino, index) -> ts of last page-cache delete */
	struct fl_strpool paths;	/* VMA paths */
	struct fl_u64map saved_tgids;	/* tid -> tgid from tracefs saved_tgids (TRAILER) */
	int64_t next_vma;
	uint64_t dedupe[DEDUPE];
	int dpos;
};

static void anomaly(struct fl_recon *r, enum fl_anomaly a, uint32_t *bits)
{
	r->anomalies[a]++;
	if (bits)
		*bits |= 1u << a;
}

/* ---- VMA versions ---------------------------------------------------- */

/*
 * A version of one of p's VMAs ends at p->lay.now (0: at the end of the
 * capture, still there). Versions loaded from a snapshot before the first
 * event (from_ns 0) count from the first event; those of a start snapshot
 * taken after an exec that retires them never existed before it (the
 * snapshot shows the new program) and are dropped.
 */
static void vma_retire(void *arg, const struct fl_vma *v)
{
	struct proc *p = arg;
	struct fl_recon *r = p->r;
	struct fl_vma_row row;

	if (r->failed || !r->sink.vma)
		return;
	if (!v->from_ns && v->source == FL_VSRC_MAPS_START && p->start_ns &&
	    p->lay.now && p->lay.now < p->start_ns)
		return;
	row = (struct fl_vma_row){
		.id = v->id, .tgid = p->tgid, .mm = p->mm, .start = v->start, .end = v->end,
		.prot = v->prot, .shared = v->shared, .kind = v->kind, .dev = v->dev,
		.ino = v->ino, .pgoff = v->pgoff, .path = v->path, .heap = v->heap,
		.valid_from_ns = v->from_ns ? v->from_ns : r->first_ts,
		.valid_to_ns = p->lay.now, .source = v->source, .op = v->op,
	};
	if (row.valid_to_ns && row.valid_to_ns < row.valid_from_ns)
		row.valid_from_ns = row.valid_to_ns;
	if (r->sink.vma(r->sink.arg, &row, r->err) < 0)
		r->failed = 1;
}

/* The layout of p, ready for a change at ts by a syscall (op) of the given source. */
static struct fl_layout *lay_change(struct proc *p, uint64_t ts, enum fl_vma_source source,
				    enum fl_vma_source split, int64_t op)
{
	p->lay.now = ts;
	p->lay.source = (uint8_t)source;
	p->lay.split_source = (uint8_t)split;
	p->lay.op = op;
	return &p->lay;
}

/* ---- lookups -------------------------------------------------------- */

static struct thr *thr_get(struct fl_recon *r, int32_t tid)
{
	bool created;
	uint64_t *slot = fl_u64map_put(&r->tids, (uint64_t)(uint32_t)tid, &created);
	struct thr *t;

	if (!created)
		return r->thr[*slot - 1];
	if (r->nthr == r->capthr) {
		r->capthr = r->capthr ? r->capthr * 2 : 64;
		r->thr = fl_realloc(r->thr, r->capthr * sizeof(*r->thr));
	}
	t = fl_calloc(1, sizeof(*t));
	t->tid = tid;
	t->prio = -1;
	r->thr[r->nthr++] = t;
	*slot = r->nthr;
	return t;
}

static struct thr *thr_find(struct fl_recon *r, int32_t tid)
{
	uint64_t *slot = fl_u64map_get(&r->tids, (uint64_t)(uint32_t)tid);

	return slot ? r->thr[*slot - 1] : NULL;
}

static struct mmst *mm_get(struct fl_recon *r, uint64_t mm)
{
	bool created;
	uint64_t *slot = fl_u64map_put(&r->mmidx, mm, &created);
	struct mmst *m;

	if (!created)
		return r->mms[*slot - 1];
	if (r->nmms == r->capmms) {
		r->capmms = r->capmms ? r->capmms * 2 : 16;
		r->mms = fl_realloc(r->mms, r->capmms * sizeof(*r->mms));
	}
	m = fl_calloc(1, sizeof(*m));
	m->mm = mm;
	r->mms[r->nmms++] = m;
	*slot = r->nmms;
	return m;
}

static struct proc *proc_get(struct fl_recon *r, int32_t tgid)
{
	bool created;
	uint64_t *slot = fl_u64map_put(&r->procidx, (uint64_t)(uint32_t)tgid, &created);
	struct proc *p;

	if (!created)
		return r->procs[*slot - 1];
	if (r->nprocs == r->capprocs) {
		r->capprocs = r->capprocs ? r->capprocs * 2 : 16;
		r->procs = fl_realloc(r->procs, r->capprocs * sizeof(*r->procs));
	}
	p = fl_calloc(1, sizeof(*p));
	p->r = r;
	p->tgid = tgid;
	p->lay.page_size = r->page_size;
	p->lay.pool = &r->paths;
	p->lay.next_id = &r->next_vma;
	p->lay.retire = vma_retire;
	p->lay.retire_arg = p;
	r->procs[r->nprocs++] = p;
	*slot = r->nprocs;
	return p;
}

static struct proc *proc_find(struct fl_recon *r, int32_t tgid)
{
	uint64_t *slot = fl_u64map_get(&r->procidx, (uint64_t)(uint32_t)tgid);

	return slot ? r->procs[*slot - 1] : NULL;
}

/* The thread's process: its tgid if known, else the one whose mm it shares. */
static int32_t thr_tgid(struct fl_recon *r, struct thr *t)
{
	if (t->tgid)
		return t->tgid;
	if (t->mm) {
		for (size_t i = 0; i < r->nprocs; i++) {
			if (r->procs[i]->mm == t->mm) {
				t->tgid = r->procs[i]->tgid;
				return t->tgid;
			}
		}
		if (t->parent) {
			struct thr *p = thr_find(r, t->parent);
			/* A clone3 child that does not share its parent's mm is a new process. */
			if (p && p->mm && p->mm != t->mm) {
				t->tgid = t->tid;
				return t->tgid;
			}
		}
	}
	/* A thread made by clone3 (its flags are in user memory) that never showed its mm
	 * before its first fault: tracefs's saved_tgids at the end says which process. */
	{
		uint64_t *g = fl_u64map_get(&r->saved_tgids, (uint64_t)(uint32_t)t->tid);

		if (g && *g) {
			t->tgid = (int32_t)*g;
			return t->tgid;
		}
	}
	return 0;
}

static void thr_set_mm(struct fl_recon *r, struct thr *t, uint64_t mm)
{
	int32_t tgid;

	if (t->mm || !mm)
		return;
	t->mm = mm;
	if (!t->tgid && t->parent) {
		struct thr *p = thr_find(r, t->parent);
		if (p && p->mm == mm && p->tgid)
			t->tgid = p->tgid;
	}
	tgid = thr_tgid(r, t);
	if (tgid) {
		struct proc *p = proc_get(r, tgid);
		if (!p->mm)
			p->mm = mm;
	}
}

static struct proc *thr_proc(struct fl_recon *r, struct thr *t)
{
	int32_t tgid = thr_tgid(r, t);

	return tgid ? proc_find(r, tgid) : NULL;
}

static struct fl_layout *thr_layout(struct fl_recon *r, struct thr *t)
{
	struct proc *p = thr_proc(r, t);

	return p ? &p->lay : NULL;
}

/* ---- sink ----------------------------------------------------------- */

static void emit_wait(struct fl_recon *r, struct thr *t, struct fl_lock_wait *w)
{
	if (r->failed)
		return;
	w->tgid = thr_tgid(r, t);
	if (r->sink.lock_wait && r->sink.lock_wait(r->sink.arg, w, r->err) < 0)
		r->failed = 1;
}

static void emit_op(struct fl_recon *r, struct thr *t, struct fl_writer_op *op)
{
	if (r->failed)
		return;
	op->tgid = thr_tgid(r, t);
	if (!op->mm)
		op->mm = t->mm;
	if (r->sink.writer_op && r->sink.writer_op(r->sink.arg, op, r->err) < 0)
		r->failed = 1;
}

static void emit_io(struct fl_recon *r, struct fl_io *io)
{
	if (r->failed)
		return;
	if (r->sink.io && r->sink.io(r->sink.arg, io, r->err) < 0)
		r->failed = 1;
}

/* ---- faults --------------------------------------------------------- */

static void att_reset(struct fault_st *f)
{
	f->att_filemap = 0;
	f->att_sleep = f->att_add_cover = f->att_add_any = f->att_issue = false;
	f->att_mapped = false;
}

static bool att_evidence(const struct fault_st *f)
{
	return f->att_filemap || f->att_sleep || f->att_add_any || f->att_issue;
}

/* Did the current attempt miss the page cache (or swap cache)? */
static bool att_miss(const struct fl_recon *r, const struct fault_st *f)
{
	bool fm_known = f->row.flags & FL_FF_FILE_ID;

	if (f->att_add_cover)
		return true;
	/* A file fault whose index is known, with the insert tracepoint on: only an insert
	 * covering the index is a miss; a read it issued was async readahead
	 * (do_async_mmap_readahead on a PG_readahead hit), which returns no VM_FAULT_MAJOR. */
	if (f->att_issue && !(fm_known && r->k.add_tp))
		return true;
	if (f->att_add_any && !fm_known)
		return true;
	if (!r->k.add_tp && f->att_sleep && f->att_filemap)
		return true;
	return false;
}

static void att_end(struct fl_recon *r, struct fault_st *f)
{
	if (att_miss(r, f)) {
		f->any_miss = true;
		if (f->cur_is_retry)
			f->row.retry_io_miss++;
	}
}

static uint64_t del_key(uint64_t dev, uint64_t ino, uint64_t index)
{
	uint64_t k = FL_HASH64_INIT, v[3] = { dev, ino, index };

	return fl_hash64(k, v, sizeof(v));
}

/* Was the faulting folio deleted from the page cache since the first attempt? */
static void check_evicted(struct fl_recon *r, struct fault_st *f, uint64_t now)
{
	if (!(f->row.flags & FL_FF_FILE_ID))
		return;
	for (int order = 0; order <= 9; order++) {
		uint64_t idx = f->row.index & ~((1ULL << order) - 1);
		uint64_t *ts = fl_u64map_get(&r->deleted, del_key(f->row.dev, f->row.ino, idx));

		if (ts && *ts >= f->first_fm_ts && *ts <= now) {
			f->row.flags |= FL_FF_EVICTED;
			return;
		}
	}
}

static void fault_close(struct fl_recon *r, struct thr *t, bool at_end)
{
	struct fault_st *f = &t->f;
	struct fl_fault *row = &f->row;

	if (!f->active)
		return;
	f->active = false;
	if (f->phase == PH_MMAP_HELD || f->phase == PH_MMAP_WAIT) {
		anomaly(r, at_end ? FL_AN_OPEN_AT_END : FL_AN_FAULT_HELD_AT_NEXT, &row->anomalies);
		if (at_end)
			row->flags |= FL_FF_UNFINISHED;
		if (f->phase == PH_MMAP_HELD)
			att_end(r, f);
	}
	if (f->phase == PH_VMA && f->vma_possible) {
		f->vma_attempts++;
		att_end(r, f);
		row->path = f->retry_vma ? FL_PATH_VMA_RETRY_VMA : FL_PATH_VMA;
		row->io_wait_ns += f->vma_sleep_prev + f->vma_sleep_cur;
		row->io_wait_locked_ns += f->vma_sleep_cur;
	} else if (f->phase == PH_VMA || f->phase == PH_NONE) {
		row->path = FL_PATH_UNKNOWN;
		if (row->user && !r->k.vma_lock)
			anomaly(r, FL_AN_FAULT_NO_LOCK, &row->anomalies);
	} else {
		row->path = f->retry_mmap ? FL_PATH_VMA_RETRY_MMAP : FL_PATH_MMAP;
	}
	row->attempts = f->vma_attempts + f->mmap_attempts;
	row->major = f->any_miss || f->mmap_attempts >= 2;
	row->end_ns = f->last_ts;
	row->tgid = thr_tgid(r, t);
	if (!row->mm)
		row->mm = t->mm;
	if (!row->mm && row->tgid) {
		struct proc *p = proc_find(r, row->tgid);
		row->mm = p ? p->mm : 0;
	}
	if (r->failed)
		return;
	if (r->sink.fault && r->sink.fault(r->sink.arg, row, r->err) < 0)
		r->failed = 1;
}

static void fault_open(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	struct fault_st *f = &t->f;
	struct fl_fault *row = &f->row;
	struct fl_layout *lay;
	struct fl_vma *v = NULL;

	fault_close(r, t, false);
	memset(f, 0, sizeof(*f));
	f->active = true;
	row->id = ++r->next_fault;
	row->tid = t->tid;
	row->mm = t->mm;
	row->address = (uint64_t)ev->a[0];
	row->ip = (uint64_t)ev->a[1];
	row->error_code = (uint64_t)ev->a[2];
	row->user = ev->type == FL_EV_PF_USER;
	row->start_ns = row->end_ns = ev->ts;
	if (r->k.x86) {
		/* arch/x86/include/asm/trap_pf.h: X86_PF_WRITE 1<<1, X86_PF_USER 1<<2, X86_PF_INSTR 1<<4 */
		if (row->error_code & 2)
			row->flags |= FL_FF_WRITE;
		if (row->error_code & 4)
			row->flags |= FL_FF_USER_BIT;
		if (row->error_code & 16)
			row->flags |= FL_FF_INSTR;
	}
	lay = thr_layout(r, t);
	if (lay && lay->n) {
		v = fl_layout_find_mut(lay, row->address);
		if (v) {
			row->vma_kind = v->kind;
			row->vma_start = v->start;
			row->vma_end = v->end;
			if (v->kind == FL_VMA_FILE && v->ino) {
				row->dev = v->dev;
				row->ino = v->ino;
				row->index = v->pgoff + (row->address - v->start) / r->page_size;
			}
		} else {
			row->vma_kind = FL_VMA_NONE;
		}
	}
	f->vma_possible = row->user && r->k.vma_lock;
	f->phase = f->vma_possible ? PH_VMA : PH_NONE;
	/* §6.3: only a private write fault on a VMA without anon_vma trylocks for it. */
	f->anon_candidate = f->vma_possible && r->k.anon_prepare_trylock &&
			    (row->flags & FL_FF_WRITE) && !(v && (v->shared || v->had_write)) &&
			    !(lay && lay->n && !v);	/* no VMA there: lock_vma_under_rcu fails */
	if (v && (row->flags & FL_FF_WRITE))
		v->had_write = true;
	f->last_ts = ev->ts;
	t->known = true;
}

/* The VMA attempt is over and an mmap attempt starts acquiring. */
static void vma_to_mmap(struct fl_recon *r, struct fault_st *f)
{
	if (f->phase == PH_VMA && f->vma_possible) {
		if (att_evidence(f)) {
			/* dropped the VMA lock to wait and returned RETRY (§6.1 cases B/C) */
			f->vma_attempts++;
			f->row.retry_drop++;
			att_end(r, f);
			f->retry_mmap = true;
			f->next_is_retry = true;
			f->row.io_wait_ns += f->vma_sleep_prev + f->vma_sleep_cur;
		} else if (f->anon_done || f->anon_failed) {
			/* RETRY without waiting: anon_vma needed mmap_lock (§6.0), or
			 * __vmf_anon_prepare's trylock failed against a writer; the
			 * VMA was locked either way. After a failed one the next start
			 * is lock_mm_and_find_vma's trylock, which may succeed at once
			 * (its writer has just released): ~0.4 us after the failure and
			 * uncontended, where a blocking lock after a failed lookup
			 * would wait for that writer. */
			f->vma_attempts++;
			f->retry_mmap = true;
			f->row.io_wait_ns += f->vma_sleep_prev;
		} else {
			/* lock_vma_under_rcu() failed (§4.1): no VMA attempt; or decided later */
			f->row.io_wait_ns += f->vma_sleep_prev;
		}
		f->vma_sleep_prev = f->vma_sleep_cur = 0;
	}
	att_reset(f);
	f->phase = PH_MMAP_WAIT;
}

static bool retry_ok(const struct fault_st *f, uint64_t ts)
{
	if (f->rel_sleep_d)
		return true;
	if (f->rel_sleep_s)
		return false;
	return ts - f->rel_ts <= RETRY_GAP_NS;
}

/* ---- mmap_lock ------------------------------------------------------ */

/*
 * A thread whose first events continue something the capture did not see
 * begin: counted once per thread, as a fault (read side) or a writer's hold.
 */
static void mid_capture(struct fl_recon *r, struct thr *t, bool write)
{
	if (t->mid_counted)
		return;
	t->mid_counted = true;
	/* without a fault tracepoint no fault is ever open: what continues is a hold */
	anomaly(r, write || !r->k.fault_tp ? FL_AN_MID_HOLD : FL_AN_MID_FAULT, NULL);
}

static void lk_push(struct lk **v, int *n, int *cap, const struct lk *x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = fl_realloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = *x;
}

static void lk_remove(struct lk *v, int *n, int64_t wait_id)
{
	for (int i = 0; i < *n; i++) {
		if (v[i].wait_id == wait_id) {
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
	}
}

static struct acq *acq_find(struct thr *t, uint64_t mm, int state, int write)
{
	struct acq *any = NULL;

	for (int i = t->nacq - 1; i >= 0; i--) {
		struct acq *a = &t->acq[i];
		if (a->state != state || a->row.mm != mm)
			continue;
		if (write < 0 || a->row.write == (write != 0))
			return a;
		if (!any)
			any = a;
	}
	return any;
}

static void acq_drop(struct thr *t, struct acq *a)
{
	int i = (int)(a - t->acq);

	memmove(&t->acq[i], &t->acq[i + 1], (t->nacq - i - 1) * sizeof(*a));
	t->nacq--;
}

/*
 * Fills the contention fields of a new wait from the traced state of its mm,
 * with the engine's definitions (engine/README.md "Metrics"): the blocker is
 * the nearest queued writer ahead, else the write owner, else the
 * lowest-priority reader holder; chain 1 = waited behind holders only, else 1 +
 * the chain of the nearest queued writer ahead; inversion = the waiter's prio
 * number is lower (more important) than the blocker's.
 */
static void contention(struct mmst *m, struct fl_lock_wait *w)
{
	const struct lk *blk = NULL, *qw = NULL;

	w->holders = (uint16_t)m->nhold;
	for (int i = 0; i < m->nwait; i++) {
		if (m->wait[i].write) {
			w->writers_ahead++;
			qw = &m->wait[i];
		} else {
			w->readers_ahead++;
		}
	}
	blk = qw;
	for (int i = 0; i < m->nhold && !blk; i++)
		if (m->hold[i].write)
			blk = &m->hold[i];
	if (!blk) {
		for (int i = 0; i < m->nhold; i++)
			if (!blk || m->hold[i].prio > blk->prio)
				blk = &m->hold[i];
	}
	if (qw) {
		/* a queued writer with chain 0 waits for holders the capture does not show */
		w->chain = (uint16_t)((qw->chain ? qw->chain : 1) + 1);
	} else if (m->nhold) {
		w->chain = 1;
	}
	if (blk) {
		w->blocker_tid = blk->tid;
		w->blocker_wait = blk->wait_id;
		w->inversion = w->prio >= 0 && blk->prio >= 0 && w->prio < blk->prio;
	}
}

/*
 * Can this lock start still belong to the open fault? A fault only ever takes
 * its own mm's lock, and for write only in lock_mm_and_find_vma() when the
 * address is below a stack VMA that must grow: it had the read lock, found
 * nothing to fault, released it and takes the write lock at once
 * (mm/memory.c lock_mm_and_find_vma, mmap_upgrade_trylock is a plain unlock +
 * write lock since 6.5), then downgrades. Anything else — exec's write locks
 * of the new mm, a syscall we do not trace — means the fault was over; without
 * this rule exec's dozen mmap_lock rounds became retries of the thread's last
 * fault (12 "drops" in 130 us, no I/O).
 */
static bool fault_owns(const struct fault_st *f, uint64_t mm, bool write, uint64_t ts)
{
	if (f->own_mm && f->own_mm != mm)
		return false;
	if (!write)
		return true;
	return f->phase == PH_MMAP_RELEASED && !att_evidence(f) && !f->att_mapped &&
	       ts - f->rel_ts <= RETRY_GAP_NS &&
	       (f->row.vma_kind == FL_VMA_NONE || f->row.vma_kind == FL_VMA_STACK ||
		f->row.vma_kind == FL_VMA_UNKNOWN);
}

static void lock_start(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	uint64_t mm = (uint64_t)ev->a[0];
	bool write = ev->a[1] != 0;
	struct fault_st *f = &t->f;
	struct mmst *m = mm_get(r, mm);
	struct acq *a, *old;
	struct lk l;
	bool fault_ctx;

	if (!t->mm) {
		/* the process's mm if known, else the first one it locks (for fork: the parent's,
		 * locked before the child's, kernel/fork.c dup_mmap) */
		int32_t tgid = thr_tgid(r, t);
		struct proc *p = tgid ? proc_find(r, tgid) : NULL;
		thr_set_mm(r, t, p && p->mm ? p->mm : mm);
	}
	if (f->active && f->phase == PH_MMAP_RELEASED && !retry_ok(f, ev->ts))
		fault_close(r, t, false);
	if (f->active && !fault_owns(f, mm, write, ev->ts)) {
		if (f->phase == PH_MMAP_HELD)
			anomaly(r, FL_AN_FAULT_HELD_AT_NEXT, &f->row.anomalies);
		fault_close(r, t, false);
	}
	if (f->active && f->phase == PH_MMAP_HELD && !write) {
		/* a read start while the fault holds read: its release was lost */
		anomaly(r, FL_AN_FAULT_HELD_AT_NEXT, &f->row.anomalies);
		fault_close(r, t, false);
	}
	old = acq_find(t, mm, ACQ_WAITING, -1);
	if (old) {
		anomaly(r, FL_AN_START_WHILE_WAITING, &old->row.anomalies);
		lk_remove(m->wait, &m->nwait, old->row.id);
		emit_wait(r, t, &old->row);
		acq_drop(t, old);
	}
	if (t->nacq == MAX_ACQ) {
		/* should not happen: holds whose release was lost pile up */
		anomaly(r, FL_AN_MID_HOLD, &t->acq[0].row.anomalies);
		lk_remove(m->hold, &m->nhold, t->acq[0].row.id);
		emit_wait(r, t, &t->acq[0].row);
		acq_drop(t, &t->acq[0]);
	}
	a = &t->acq[t->nacq++];
	memset(a, 0, sizeof(*a));
	a->state = ACQ_WAITING;
	a->row.id = ++r->next_wait;
	a->row.tid = t->tid;
	a->row.mm = mm;
	a->row.write = write;
	a->row.start_ns = ev->ts;
	a->row.prio = t->prio;
	contention(m, &a->row);

	fault_ctx = f->active;
	if (fault_ctx) {
		a->row.owner_kind = FL_OWNER_FAULT;
		a->row.owner_id = f->row.id;
		if (!f->row.mm || !f->own_mm)
			f->row.mm = mm;
		f->own_mm = mm;
		switch (f->phase) {
		case PH_VMA:
			if (f->anon_candidate && !f->anon_done && !f->anon_failed && !write &&
			    !att_evidence(f)) {
				a->anon = true;
				a->row.trylock = true;
			} else {
				vma_to_mmap(r, f);
				a->row.trylock = !write;
				f->seq_fail = 0;
			}
			break;
		case PH_NONE:
			f->phase = PH_MMAP_WAIT;
			f->seq_fail = 0;
			a->row.trylock = !write;
			break;
		case PH_MMAP_RELEASED:
			if (write) {
				/* stack expansion inside the same attempt (fault_owns) */
				f->expanding = true;
				f->phase = PH_MMAP_WAIT;
				f->seq_fail = 0;
				break;
			}
			/* the last attempt returned RETRY after dropping the lock */
			f->row.retry_drop++;
			f->row.io_wait_ns += f->rel_sleep_d;
			f->next_is_retry = true;
			f->phase = PH_MMAP_WAIT;
			f->seq_fail = 0;
			a->row.trylock = !write;
			break;
		case PH_MMAP_WAIT:
			a->row.trylock = false;	/* blocking, after a failed trylock */
			break;
		default:
			break;
		}
		f->last_ts = ev->ts;
	} else if (t->s.active) {
		a->row.owner_kind = FL_OWNER_SYSCALL;
		a->row.owner_id = t->s.row.id;
	}
	l = (struct lk){ .tid = t->tid, .write = write, .prio = t->prio, .chain = a->row.chain,
			 .wait_id = a->row.id, .since = ev->ts };
	lk_push(&m->wait, &m->nwait, &m->capwait, &l);
}

static void fault_acquired(struct fl_recon *r, struct fault_st *f, struct acq *a, bool ok,
			   uint64_t ts)
{
	f->row.mmap_wait_ns += ts - a->row.start_ns;
	f->last_ts = ts;
	if (a->anon) {
		if (ok) {
			f->row.flags |= FL_FF_ANON_PREPARE;
		} else {
			f->anon_failed = true;
			f->seq_fail = 1;
		}
		return;
	}
	if (f->phase != PH_MMAP_WAIT)
		return;
	if (!ok) {
		f->seq_fail++;
		return;
	}
	if (f->expanding) {
		/* the write hold that grows the stack continues the attempt it interrupted */
		f->expanding = false;
		f->seq_fail = 0;
		f->phase = PH_MMAP_HELD;
		return;
	}
	f->mmap_attempts++;
	f->cur_is_retry = f->next_is_retry;
	f->next_is_retry = false;
	if (f->cur_is_retry)
		check_evicted(r, f, ts);
	att_reset(f);
	f->seq_fail = 0;
	f->phase = PH_MMAP_HELD;
}

static void lock_acquired(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	uint64_t mm = (uint64_t)ev->a[0];
	bool write = ev->a[1] != 0, ok = ev->a[2] != 0;
	struct mmst *m = mm_get(r, mm);
	struct acq *a = acq_find(t, mm, ACQ_WAITING, write);
	struct lk l;

	if (!a) {
		struct acq *h = acq_find(t, mm, ACQ_HELD, 1);
		if (!write && ok && h && h->row.write && !h->row.downgraded) {
			/* mmap_write_downgrade(): acquire_returned(w=0) without start (§3) */
			h->row.downgraded = true;
			for (int i = 0; i < m->nhold; i++)
				if (m->hold[i].wait_id == h->row.id)
					m->hold[i].write = false;
			if (h->row.owner_kind == FL_OWNER_SYSCALL && t->s.active &&
			    h->row.owner_id == t->s.row.id && mm == t->mm) {
				struct sys_st *s = &t->s;
				s->row.downgrade_ns = ev->ts;
				if (s->hold_since)
					s->row.write_hold_ns += ev->ts - s->hold_since;
				s->hold_since = 0;
				s->read_since = ev->ts;
			}
			if (t->f.active)
				t->f.last_ts = ev->ts;
			return;
		}
		if (!t->known)
			mid_capture(r, t, write || (!write && ok));	/* a downgrade: mid write hold */
		else
			anomaly(r, FL_AN_ACQ_NO_START, t->f.active ? &t->f.row.anomalies : NULL);
		return;
	}
	lk_remove(m->wait, &m->nwait, a->row.id);
	a->row.acquired_ns = ev->ts;
	a->row.success = ok;
	if (a->row.owner_kind == FL_OWNER_FAULT && t->f.active && a->row.owner_id == t->f.row.id)
		fault_acquired(r, &t->f, a, ok, ev->ts);
	if (a->row.owner_kind == FL_OWNER_SYSCALL && t->s.active && a->row.owner_id == t->s.row.id &&
	    mm == t->mm) {
		struct sys_st *s = &t->s;
		if (write) {
			s->row.write_wait_ns += ev->ts - a->row.start_ns;
			if (ok) {
				s->row.wrote = true;
				s->row.acquired_ns = ev->ts;
				s->hold_since = ev->ts;
				s->row.mm = mm;
			}
		} else if (ok) {
			s->read_since = ev->ts;
		}
	}
	if (!ok) {
		emit_wait(r, t, &a->row);
		acq_drop(t, a);
		return;
	}
	a->state = ACQ_HELD;
	l = (struct lk){ .tid = t->tid, .write = write, .prio = t->prio, .chain = a->row.chain,
			 .wait_id = a->row.id, .since = ev->ts };
	lk_push(&m->hold, &m->nhold, &m->caphold, &l);
}

static void lock_released(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	uint64_t mm = (uint64_t)ev->a[0];
	bool write = ev->a[1] != 0;
	struct mmst *m = mm_get(r, mm);
	struct acq *a = NULL;
	struct fault_st *f = &t->f;

	/* a downgraded write hold is released as a read */
	for (int i = t->nacq - 1; i >= 0 && !a; i--) {
		struct acq *x = &t->acq[i];
		if (x->state == ACQ_HELD && x->row.mm == mm &&
		    (x->row.write && !x->row.downgraded) == write)
			a = x;
	}
	if (!a) {
		a = acq_find(t, mm, ACQ_HELD, -1);
		if (a)
			anomaly(r, FL_AN_RELEASE_MODE, &a->row.anomalies);
	}
	if (!a) {
		if (!t->known)
			mid_capture(r, t, write);
		else
			anomaly(r, FL_AN_MID_HOLD, f->active ? &f->row.anomalies : NULL);
		return;
	}
	lk_remove(m->hold, &m->nhold, a->row.id);
	a->row.released_ns = ev->ts;
	if (a->row.owner_kind == FL_OWNER_FAULT && f->active && a->row.owner_id == f->row.id) {
		f->row.mmap_hold_ns += ev->ts - a->row.acquired_ns;
		f->last_ts = ev->ts;
		if (a->anon) {
			f->anon_done = true;
		} else if (f->phase == PH_MMAP_HELD) {
			att_end(r, f);
			f->phase = PH_MMAP_RELEASED;
			f->rel_ts = ev->ts;
			f->rel_sleep_d = 0;
			f->rel_sleep_s = false;
		}
	}
	if (a->row.owner_kind == FL_OWNER_SYSCALL && t->s.active && a->row.owner_id == t->s.row.id &&
	    mm == t->mm) {
		struct sys_st *s = &t->s;
		if (write && s->hold_since) {
			s->row.write_hold_ns += ev->ts - s->hold_since;
			s->hold_since = 0;
		} else if (!write && s->read_since) {
			s->row.read_hold_ns += ev->ts - s->read_since;
			s->read_since = 0;
		}
	}
	emit_wait(r, t, &a->row);
	acq_drop(t, a);
}

/* ---- syscalls (writers) --------------------------------------------- */

static void sys_close(struct fl_recon *r, struct thr *t)
{
	struct sys_st *s = &t->s;

	if (!s->active)
		return;
	s->active = false;
	s->row.blocked_ns = s->cont_ns ? s->cont_ns : s->dsleep_ns;
	emit_op(r, t, &s->row);
}

static void sys_enter(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	struct sys_st *s = &t->s;

	if (t->f.active)
		fault_close(r, t, false);
	if (s->active) {
		anomaly(r, FL_AN_SYSENTER_NESTED, &s->row.anomalies);
		sys_close(r, t);
	}
	memset(s, 0, sizeof(*s));
	s->active = true;
	s->row.id = ++r->next_op;
	s->row.tid = t->tid;
	s->row.sys = ev->sys;
	s->row.args[0] = ev->a[0];
	s->row.args[1] = ev->a[1];
	s->row.args[2] = ev->a[2];
	s->row.enter_ns = ev->ts;
	s->row.mm = t->mm;
	memcpy(s->args, ev->a, sizeof(s->args));
	t->known = true;
}

static uint64_t page_up(const struct fl_recon *r, uint64_t n)
{
	return (n + r->page_size - 1) & ~(r->page_size - 1);
}

/* The layout change a successful mmap-family syscall made (§7). */
static void layout_update(struct fl_recon *r, struct thr *t, const struct sys_st *s, int64_t ret,
			  uint64_t ts)
{
	struct proc *p = thr_proc(r, t);
	struct fl_layout *lay;
	const int64_t *a = s->args;
	int64_t op = s->row.id;

	if (!p || p->gone || (ret < 0 && ret >= -4095))
		return;
	switch (s->row.sys) {
	case FL_SYS_MMAP: {
		uint64_t flags = (uint64_t)a[3];
		struct fl_vma v = {
			.start = (uint64_t)ret,
			.end = (uint64_t)ret + page_up(r, (uint64_t)a[1]),
			.shared = flags & MAP_SHARED_F,
			.prot = (uint8_t)(a[2] & 7),
		};
		if (flags & MAP_ANON_F)
			v.kind = v.shared ? FL_VMA_SHMEM : FL_VMA_ANON;
		else
			v.kind = FL_VMA_FILE;	/* the inode comes from mm_filemap_fault */
		if (flags & MAP_GROWSDOWN_F)
			v.kind = FL_VMA_STACK;
		v.pgoff = (uint64_t)a[5] / r->page_size;
		lay = lay_change(p, ts, FL_VSRC_MMAP, FL_VSRC_MUNMAP_SPLIT, op);
		fl_layout_map(lay, &v);
		break;
	}
	case FL_SYS_MUNMAP:
		lay = lay_change(p, ts, FL_VSRC_MUNMAP_SPLIT, FL_VSRC_MUNMAP_SPLIT, op);
		fl_layout_unmap(lay, (uint64_t)a[0], (uint64_t)a[0] + page_up(r, (uint64_t)a[1]));
		break;
	case FL_SYS_MPROTECT:
		/* mprotect_fixup(): a VMA whose flags do not change is left alone (§7) */
		lay = lay_change(p, ts, FL_VSRC_MPROTECT, FL_VSRC_MPROTECT, op);
		fl_layout_protect(lay, (uint64_t)a[0], (uint64_t)a[0] + page_up(r, (uint64_t)a[1]),
				  (uint8_t)(a[2] & 7));
		break;
	case FL_SYS_MREMAP: {
		const struct fl_vma *old = fl_layout_find(&p->lay, (uint64_t)a[0]);
		struct fl_vma v;

		if (!old)
			break;
		v = *old;
		if (v.kind == FL_VMA_FILE || v.ino)
			v.pgoff += ((uint64_t)a[0] - old->start) / r->page_size;
		lay = lay_change(p, ts, FL_VSRC_MREMAP, FL_VSRC_MUNMAP_SPLIT, op);
		fl_layout_unmap(lay, (uint64_t)a[0], (uint64_t)a[0] + page_up(r, (uint64_t)a[1]));
		v.start = (uint64_t)ret;
		v.end = (uint64_t)ret + page_up(r, (uint64_t)a[2]);
		fl_layout_map(lay, &v);
		break;
	}
	case FL_SYS_BRK: {
		/* brk(2) returns the new break: the [heap] VMA now ends there */
		uint64_t brk = page_up(r, (uint64_t)ret);
		size_t i;

		lay = lay_change(p, ts, FL_VSRC_BRK, FL_VSRC_BRK, op);
		for (i = 0; i < lay->n; i++)
			if (lay->v[i].heap)
				break;
		if (i == lay->n) {
			/* no heap yet: the first break is its start (mm->start_brk) */
			if (!p->brk_base) {
				p->brk_base = (uint64_t)ret;
			} else if (brk > p->brk_base && !fl_layout_find(lay, p->brk_base)) {
				struct fl_vma v = { .start = p->brk_base, .end = brk,
						    .kind = FL_VMA_ANON, .prot = 3, .heap = true,
						    .path = fl_strpool_get(&r->paths, "[heap]", 6) };
				fl_layout_map(lay, &v);
			}
			break;
		}
		if (brk == lay->v[i].end || (i + 1 < lay->n && lay->v[i + 1].start < brk))
			break;
		if (brk <= lay->v[i].start) {
			p->brk_base = lay->v[i].start;
			fl_layout_unmap(lay, lay->v[i].start, lay->v[i].end);
		} else {
			struct fl_vma v = lay->v[i];

			v.end = brk;
			fl_layout_replace(lay, i, &v);
		}
		break;
	}
	default:
		break;
	}
}

static void sys_exit(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	struct sys_st *s = &t->s;

	if (t->f.active)
		fault_close(r, t, false);
	if (!s->active && ev->a[0] == 0 && (ev->sys == FL_SYS_CLONE || ev->sys == FL_SYS_CLONE3 ||
					     ev->sys == FL_SYS_FORK || ev->sys == FL_SYS_VFORK))
		return;		/* the new task returning from clone: it never entered it */
	if (!s->active || s->row.sys != ev->sys) {
		anomaly(r, FL_AN_SYSEXIT_NO_ENTER, s->active ? &s->row.anomalies : NULL);
		if (s->active && s->row.sys != FL_SYS_EXIT_GROUP)
			sys_close(r, t);
		return;
	}
	s->row.ret = ev->a[0];
	s->row.exit_ns = ev->ts;
	if ((s->row.sys == FL_SYS_CLONE || s->row.sys == FL_SYS_CLONE3 ||
	     s->row.sys == FL_SYS_FORK || s->row.sys == FL_SYS_VFORK) && ev->a[0] > 0)
		s->row.child = (int32_t)ev->a[0];
	layout_update(r, t, s, ev->a[0], ev->ts);
	sys_close(r, t);
}

static void sched_fork(struct fl_recon *r, const struct fl_event *ev)
{
	struct thr *p = thr_get(r, (int32_t)ev->a[0]);
	struct thr *c = thr_get(r, (int32_t)ev->a[1]);
	struct sys_st *s = &p->s;

	c->parent = p->tid;
	c->known = true;	/* a new task starts outside any fault or syscall */
	if (c->prio < 0)
		c->prio = p->prio;
	if (s->active)
		s->row.child = c->tid;
	if (c->tgid)
		return;
	if (s->active && s->row.sys == FL_SYS_CLONE) {
		/* x86_64 clone(flags, newsp, parent_tid, child_tid, tls) */
		c->tgid = (s->args[0] & CLONE_THREAD_F) ? thr_tgid(r, p) : c->tid;
	} else if (s->active && (s->row.sys == FL_SYS_FORK || s->row.sys == FL_SYS_VFORK)) {
		c->tgid = c->tid;
	}
	/* clone3: flags are in user memory; decided when the child's mm shows (thr_set_mm) */
	if (c->tgid == c->tid) {
		struct proc *cp = proc_get(r, c->tid);
		struct proc *pp = p->tgid ? proc_find(r, p->tgid) : NULL;
		/* fork copies the parent's layout */
		if (pp && !cp->lay.n && !(s->active && (s->args[0] & CLONE_VM_F) &&
					   s->row.sys == FL_SYS_CLONE)) {
			struct fl_layout *lay = lay_change(cp, ev->ts, FL_VSRC_FORK, FL_VSRC_FORK,
							   s->active ? s->row.id : 0);

			for (size_t i = 0; i < pp->lay.n; i++)
				fl_layout_map(lay, &pp->lay.v[i]);
		}
	}
}

/* ---- scheduling ----------------------------------------------------- */

static void io_waiter(struct fl_recon *r, struct thr *t, uint64_t s, uint64_t e)
{
	for (int i = r->ndone - 1; i >= 0; i--) {
		struct fl_io *io = &r->done[(r->done_head + i) % IO_RING];

		if (io->complete_ns > e)
			continue;
		if (io->complete_ns < s)
			return;
		io->waiters++;
		if (!io->first_waiter)
			io->first_waiter = t->f.row.id;
		return;
	}
}

static void sleep_end(struct fl_recon *r, struct thr *t, uint64_t end)
{
	struct fault_st *f = &t->f;
	uint64_t d = end > t->off_ts ? end - t->off_ts : 0;

	for (int i = 0; i < t->nacq; i++)
		if (t->acq[i].state == ACQ_WAITING)
			return;		/* waiting for mmap_lock: the lock wait accounts it */
	if (t->s.active && t->s.hold_since && t->off_d)
		t->s.dsleep_ns += d;
	if (!f->active)
		return;
	if (!t->off_d) {
		if (f->phase == PH_MMAP_RELEASED && t->off_s)
			f->rel_sleep_s = true;
		return;
	}
	switch (f->phase) {
	case PH_MMAP_HELD:
		f->row.io_wait_ns += d;
		f->row.io_wait_locked_ns += d;
		f->att_sleep = true;
		f->last_ts = end;
		io_waiter(r, t, t->off_ts, end);
		break;
	case PH_MMAP_RELEASED:
		f->rel_sleep_d += d;
		io_waiter(r, t, t->off_ts, end);
		break;
	case PH_VMA:
	case PH_NONE:
		if (t->off_ts - f->last_ts <= VMA_SLEEP_NS || att_evidence(f)) {
			f->vma_sleep_cur += d;
			f->att_sleep = true;
			f->last_ts = end;
			io_waiter(r, t, t->off_ts, end);
		}
		break;
	default:
		break;
	}
}

/* t is seen running at ts: a sleep it was in ends at its wake-up if seen, else at ts. */
static void running_again(struct fl_recon *r, struct thr *t, uint64_t ts)
{
	if (!t->off)
		return;
	sleep_end(r, t, t->wake_ts ? t->wake_ts : ts);
	t->off = false;
}

static void sched_switch(struct fl_recon *r, const struct fl_event *ev)
{
	int32_t prev = (int32_t)ev->a[0], next = (int32_t)ev->a[3];
	uint64_t state = (uint64_t)ev->a[2];
	struct thr *t;

	if (prev > 0) {
		t = thr_get(r, prev);
		t->prio = (int16_t)ev->a[1];
		t->off = true;
		t->off_ts = ev->ts;
		t->wake_ts = 0;
		t->off_d = (state & TASK_D) && !(state & TASK_PREEMPT);
		t->off_s = state && !(state & TASK_D) && !(state & TASK_PREEMPT);
	}
	if (next > 0) {
		t = thr_get(r, next);
		t->prio = (int16_t)ev->a[4];
		running_again(r, t, ev->ts);
	}
}

static void sched_waking(struct fl_recon *r, const struct fl_event *ev)
{
	struct thr *t = thr_find(r, (int32_t)ev->a[0]);

	if (!t)
		return;
	t->prio = (int16_t)ev->a[1];
	if (t->off && !t->wake_ts)
		t->wake_ts = ev->ts;
}

/* ---- page cache and block I/O --------------------------------------- */

static bool duplicate(struct fl_recon *r, const struct fl_event *ev)
{
	uint64_t h = fl_hash64(FL_HASH64_INIT, &ev->ts, sizeof(ev->ts));

	h = fl_hash64(h, &ev->type, sizeof(ev->type));
	h = fl_hash64(h, ev->a, 4 * sizeof(ev->a[0]));
	for (int i = 0; i < DEDUPE; i++)
		if (r->dedupe[i] == h)
			return true;
	r->dedupe[r->dpos] = h;
	r->dpos = (r->dpos + 1) % DEDUPE;
	return false;
}

static void filemap_fault(struct fl_recon *r, struct thr *t, const struct fl_event *ev)
{
	struct fault_st *f = &t->f;

	if (!f->active) {
		/* without a fault tracepoint every filemap fault is outside a fault row */
		if (!t->known && !t->s.active && r->k.fault_tp)
			mid_capture(r, t, false);
		return;		/* GUP inside a syscall (MAP_POPULATE, mlock, ...) */
	}
	if (!(f->row.flags & FL_FF_FILE_ID)) {
		f->row.flags |= FL_FF_FILE_ID;
		f->row.dev = (uint32_t)ev->a[0];
		f->row.ino = (uint64_t)ev->a[1];
		f->row.index = (uint64_t)ev->a[2];
		f->first_fm_ts = ev->ts;
		if (f->row.vma_kind == FL_VMA_UNKNOWN || f->row.vma_kind == FL_VMA_NONE)
			f->row.vma_kind = FL_VMA_FILE;
	}
	if (f->phase == PH_VMA && f->vma_possible && f->att_filemap) {
		/* a second filemap_fault under the VMA lock: the first returned RETRY and
		 * the fault was retried under the VMA lock (§8 RETRY_VMA) */
		f->vma_attempts++;
		f->row.retry_drop++;
		att_end(r, f);
		f->retry_vma = true;
		f->cur_is_retry = true;
		f->vma_sleep_prev += f->vma_sleep_cur;
		f->vma_sleep_cur = 0;
		att_reset(f);
		check_evicted(r, f, ev->ts);
	}
	f->att_filemap++;
	f->last_ts = ev->ts;
}

static void filemap_add(struct fl_recon *r, const struct fl_event *ev)
{
	struct thr *t = thr_find(r, ev->tid);
	struct fault_st *f;

	if (!t || !t->f.active)
		return;
	f = &t->f;
	f->att_add_any = true;
	if ((f->row.flags & FL_FF_FILE_ID) && (uint64_t)ev->a[1] == f->row.ino &&
	    (uint32_t)ev->a[0] == f->row.dev) {
		uint64_t idx = (uint64_t)ev->a[2], n = 1ULL << (ev->a[3] & 63);
		if (f->row.index >= idx && f->row.index < idx + n)
			f->att_add_cover = true;
	}
	f->last_ts = ev->ts;
}

static void filemap_delete(struct fl_recon *r, const struct fl_event *ev)
{
	bool created;

	*fl_u64map_put(&r->deleted, del_key((uint32_t)ev->a[0], (uint64_t)ev->a[1],
					     (uint64_t)ev->a[2]), &created) = ev->ts;
}

static uint64_t io_key(uint64_t dev, uint64_t sector)
{
	return (dev << 44) ^ sector;
}

static void io_flush(struct fl_recon *r, uint64_t now, bool all)
{
	while (r->ndone) {
		struct fl_io *io = &r->done[r->done_head];

		if (!all && r->ndone < IO_RING && io->complete_ns + IO_KEEP_NS > now)
			break;
		emit_io(r, io);
		r->done_head = (r->done_head + 1) % IO_RING;
		r->ndone--;
	}
}

static void block_issue(struct fl_recon *r, const struct fl_event *ev)
{
	bool created;
	uint64_t *slot = fl_u64map_put(&r->ioidx, io_key((uint64_t)ev->a[0], (uint64_t)ev->a[1]),
				       &created);
	struct fl_io *io;
	struct thr *t;
	size_t i;

	if (!created)
		return;		/* reissued (requeue): keep the first issue */
	if (r->nfree) {
		i = (size_t)r->freeio[--r->nfree];
	} else {
		if (r->nios == r->capios) {
			r->capios = r->capios ? r->capios * 2 : 64;
			r->ios = fl_realloc(r->ios, r->capios * sizeof(*r->ios));
		}
		i = r->nios++;
	}
	*slot = i + 1;
	io = &r->ios[i];
	memset(io, 0, sizeof(*io));
	io->dev = (uint32_t)ev->a[0];
	io->sector = (uint64_t)ev->a[1];
	io->nr_sector = (uint64_t)ev->a[2];
	io->bytes = (uint64_t)ev->a[3];
	io->issue_ns = ev->ts;
	io->issue_tid = ev->tid;
	snprintf(io->rwbs, sizeof(io->rwbs), "%s", ev->comm);
	t = ev->tid > 0 ? thr_find(r, ev->tid) : NULL;
	if (t && t->f.active) {
		io->issue_fault = t->f.row.id;
		if (strchr(ev->comm, 'R'))
			t->f.att_issue = true;
		t->f.last_ts = ev->ts;
	}
}

static void block_complete(struct fl_recon *r, const struct fl_event *ev)
{
	uint64_t key = io_key((uint64_t)ev->a[0], (uint64_t)ev->a[1]);
	uint64_t *slot = fl_u64map_get(&r->ioidx, key);
	struct fl_io io;

	if (slot) {
		size_t i = *slot - 1;
		io = r->ios[i];
		fl_u64map_del(&r->ioidx, key);
		if (r->nfree == r->capfree) {
			r->capfree = r->capfree ? r->capfree * 2 : 64;
			r->freeio = fl_realloc(r->freeio, r->capfree * sizeof(*r->freeio));
		}
		r->freeio[r->nfree++] = (int64_t)i;
	} else {
		memset(&io, 0, sizeof(io));
		io.dev = (uint32_t)ev->a[0];
		io.sector = (uint64_t)ev->a[1];
		io.nr_sector = (uint64_t)ev->a[2];
		snprintf(io.rwbs, sizeof(io.rwbs), "%s", ev->comm);
		anomaly(r, FL_AN_BLOCK_NO_ISSUE, NULL);
	}
	io.id = ++r->next_io;
	io.complete_ns = ev->ts;
	io.error = ev->a[3];
	if (r->ndone == IO_RING)
		io_flush(r, ev->ts, false);
	r->done[(r->done_head + r->ndone) % IO_RING] = io;
	r->ndone++;
}

/* ---- the feed ------------------------------------------------------- */

int fl_recon_feed(struct fl_recon *r, const struct fl_event *ev, int inst, struct fl_err *err)
{
	struct thr *t;

	r->err = err;
	if (r->failed)
		return -1;
	if (!r->events++)
		r->first_ts = ev->ts;
	if (ev->ts < r->last_ts)
		anomaly(r, FL_AN_TIME_BACKWARDS, NULL);
	else
		r->last_ts = ev->ts;

	switch (ev->type) {
	case FL_EV_BLOCK_RQ_ISSUE:
	case FL_EV_BLOCK_RQ_COMPLETE:
	case FL_EV_FILEMAP_ADD:
	case FL_EV_FILEMAP_DELETE:
		if (duplicate(r, ev))
			return 0;
		if (ev->type == FL_EV_BLOCK_RQ_ISSUE)
			block_issue(r, ev);
		else if (ev->type == FL_EV_BLOCK_RQ_COMPLETE)
			block_complete(r, ev);
		else if (ev->type == FL_EV_FILEMAP_ADD)
			filemap_add(r, ev);
		else
			filemap_delete(r, ev);
		goto out;
	default:
		break;
	}
	/* Everything else only from the followed tasks' instance. */
	if (inst != 0)
		goto out;
	switch (ev->type) {
	case FL_EV_SCHED_SWITCH:
		sched_switch(r, ev);
		goto out;
	case FL_EV_SCHED_WAKING:
		sched_waking(r, ev);
		goto out;
	case FL_EV_SCHED_FORK:
		sched_fork(r, ev);
		goto out;
	default:
		break;
	}
	if (ev->tid <= 0)
		goto out;
	t = thr_get(r, ev->tid);
	/*
	 * An event of the thread's own shows it running: if the switch that
	 * brought it back is not in the trace, its sleep ends here, at its
	 * wake-up when that was seen. The kernel of the reference machine emits
	 * no sched_switch when a CPU other than CPU 0 leaves its idle task (6.18,
	 * with or without a pid filter: on anonmix CPU 1 records 1,149 switches
	 * to idle and none from it), so a thread woken onto an idle CPU 1 comes
	 * back with no switch-in, and its I/O sleep used to be lost with it.
	 */
	running_again(r, t, ev->ts);
	switch (ev->type) {
	case FL_EV_PF_USER:
	case FL_EV_PF_KERNEL:
		if (t->f.active && (t->f.phase == PH_MMAP_HELD || t->f.phase == PH_MMAP_WAIT))
			anomaly(r, FL_AN_FAULT_HELD_AT_NEXT, &t->f.row.anomalies);
		if (t->f.active)
			fault_close(r, t, false);
		fault_open(r, t, ev);
		break;
	case FL_EV_MMAP_LOCK_START:
		lock_start(r, t, ev);
		break;
	case FL_EV_MMAP_LOCK_ACQUIRED:
		lock_acquired(r, t, ev);
		break;
	case FL_EV_MMAP_LOCK_RELEASED:
		lock_released(r, t, ev);
		break;
	case FL_EV_FILEMAP_FAULT:
		filemap_fault(r, t, ev);
		break;
	case FL_EV_FILEMAP_MAP_PAGES:
		if (t->f.active) {
			t->f.last_ts = ev->ts;
			t->f.att_mapped = true;
		}
		break;
	case FL_EV_SYS_ENTER:
		if (ev->sys != FL_SYS_NONE)
			sys_enter(r, t, ev);
		break;
	case FL_EV_SYS_EXIT:
		if (ev->sys != FL_SYS_NONE)
			sys_exit(r, t, ev);
		break;
	case FL_EV_SCHED_EXIT: {
		struct proc *p;

		fault_close(r, t, false);
		sys_close(r, t);
		/* the thread-group leader's exit: the address space goes (exit_mm) */
		p = t->tgid == t->tid ? proc_find(r, t->tid) : NULL;
		if (p && !p->gone) {
			fl_layout_clear(lay_change(p, ev->ts, FL_VSRC_MAPS_START, FL_VSRC_MAPS_START,
						   0));
			p->gone = true;
		}
		break;
	}
	case FL_EV_SCHED_EXEC: {
		/* a new mm: forget the old one and its layout */
		struct proc *p = thr_proc(r, t);

		fault_close(r, t, false);
		if (p) {
			struct fl_layout *lay = lay_change(p, ev->ts, FL_VSRC_MAPS_START,
							   FL_VSRC_MAPS_START, 0);

			fl_layout_clear(lay);
			p->mm = 0;
			p->gone = false;
			p->brk_base = 0;
			/* a start snapshot taken after the exec shows the new program */
			if (p->start_maps && p->start_ns > ev->ts)
				fl_layout_load_maps(lay, p->start_maps, p->start_len);
		}
		t->mm = 0;
		break;
	}
	case FL_EV_LOCK_CONTENTION_BEGIN:
		if (t->s.active && t->s.hold_since)
			t->s.cont_since = ev->ts;
		break;
	case FL_EV_LOCK_CONTENTION_END:
		if (t->s.active && t->s.cont_since) {
			t->s.cont_ns += ev->ts - t->s.cont_since;
			t->s.cont_since = 0;
		}
		break;
	default:
		break;
	}
out:
	if (r->ndone && r->done[r->done_head].complete_ns + IO_KEEP_NS < ev->ts)
		io_flush(r, ev->ts, false);
	return r->failed ? -1 : 0;
}

void fl_recon_note_lost(struct fl_recon *r, uint64_t n)
{
	r->anomalies[FL_AN_LOST_EVENTS] += n;
}

/*
 * Reconciles a process's layout with its last maps snapshot (the TRAILER's):
 * a VMA that the layout has with the same range, and knows no file of, takes
 * the file from it (mmap of a file traces only its fd); a VMA of the snapshot
 * that overlaps nothing in the layout was made by something untraced (exec's
 * own, a task not followed, a lost event) and starts a maps-end version at the
 * capture's last event.
 */
static void maps_end(struct fl_recon *r, struct proc *p)
{
	struct fl_vma *e;
	size_t n;
	struct fl_layout *lay;

	if (!p->end_maps)
		return;
	fl_maps_parse(p->end_maps, p->end_len, r->page_size, &r->paths, &e, &n);
	lay = lay_change(p, r->last_ts, FL_VSRC_MAPS_END, FL_VSRC_MAPS_END, 0);
	for (size_t i = 0; i < n; i++) {
		struct fl_vma *v = fl_layout_find_mut(lay, e[i].start);
		bool overlap = false;

		if (v && v->start == e[i].start && v->end == e[i].end) {
			if (!v->path && e[i].path && v->kind == FL_VMA_FILE && !v->ino &&
			    v->pgoff == e[i].pgoff) {
				v->path = e[i].path;
				v->dev = e[i].dev;
				v->ino = e[i].ino;
			}
			continue;
		}
		for (size_t k = 0; k < lay->n && !overlap; k++)
			overlap = lay->v[k].start < e[i].end && lay->v[k].end > e[i].start;
		if (!overlap)
			fl_layout_map(lay, &e[i]);
	}
	free(e);
}

int fl_recon_finish(struct fl_recon *r, struct fl_err *err)
{
	r->err = err;
	for (size_t i = 0; i < r->nthr && !r->failed; i++) {
		struct thr *t = r->thr[i];

		if (t->off)
			sleep_end(r, t, r->last_ts);
		fault_close(r, t, true);
		if (t->s.active && t->s.row.sys != FL_SYS_EXIT_GROUP)
			anomaly(r, FL_AN_OPEN_AT_END, &t->s.row.anomalies);
		sys_close(r, t);
		while (t->nacq) {
			struct acq *a = &t->acq[0];
			anomaly(r, FL_AN_OPEN_AT_END, &a->row.anomalies);
			emit_wait(r, t, &a->row);
			acq_drop(t, a);
		}
	}
	io_flush(r, r->last_ts, true);
	for (size_t i = 0; i < r->nprocs && !r->failed; i++) {
		struct proc *p = r->procs[i];

		if (!p->gone)
			maps_end(r, p);
		/* what is left is still there at the end */
		fl_layout_clear(lay_change(p, 0, FL_VSRC_MAPS_START, FL_VSRC_MAPS_START, 0));
	}
	/* requests issued and never completed within the capture */
	for (size_t i = 0; i < r->ioidx.cap && !r->failed; i++) {
		if (r->ioidx.used[i]) {
			struct fl_io io = r->ios[r->ioidx.vals[i] - 1];
			io.id = ++r->next_io;
			emit_io(r, &io);
		}
	}
	return r->failed ? -1 : 0;
}

/* ---- setup ---------------------------------------------------------- */

int fl_recon_parse_release(const char *release, int *major, int *minor)
{
	int ma, mi, n = 0;

	if (!release || sscanf(release, "%d.%d%n", &ma, &mi, &n) < 2 || n == 0)
		return -1;
	*major = ma;
	*minor = mi;
	return 0;
}

static bool kernel_at_least(const struct fl_recon_kernel *k, int ma, int mi)
{
	if (!k->major)
		return true;	/* unknown: assume a current kernel */
	return k->major > ma || (k->major == ma && k->minor >= mi);
}

static bool event_enabled(const struct fl_kv *h, const char *name)
{
	const char *list = h ? fl_kv_getstr(h, "events.enabled") : NULL;
	size_t n = strlen(name);

	if (!list)
		return true;	/* not recorded: assume on */
	for (const char *p = list; (p = strstr(p, name)); p += n) {
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return true;
	}
	return false;
}

static void load_tasks(struct fl_recon *r, const struct fl_kv_item *it)
{
	const char *p = it->val, *end = it->val + it->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		int tid, tgid, prio, policy;

		if (sscanf(p, "%d %d %d %d", &tid, &tgid, &prio, &policy) == 4 && tid > 0) {
			struct thr *t = thr_get(r, tid);
			if (tgid > 0)
				t->tgid = tgid;
			if (t->prio < 0)
				t->prio = (int16_t)prio;
			if (tgid > 0)
				proc_get(r, tgid);
		}
		p = nl ? nl + 1 : end;
	}
}

static void load_saved_tgids(struct fl_recon *r, const struct fl_kv_item *it)
{
	const char *p = it->val, *end = it->val + it->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		int tid, tgid;
		bool created;

		if (sscanf(p, "%d %d", &tid, &tgid) == 2 && tid > 0 && tgid > 0)
			*fl_u64map_put(&r->saved_tgids, (uint64_t)tid, &created) = (uint64_t)tgid;
		p = nl ? nl + 1 : end;
	}
}

static void load_kv(struct fl_recon *r, const struct fl_kv *kv, bool maps)
{
	uint64_t taken = fl_kv_getu64(kv, "time.trace_ns", 0);
	bool trailer = fl_kv_find(kv, "end.trace_ns") != NULL;

	for (size_t i = 0; i < kv->n; i++) {
		const struct fl_kv_item *it = &kv->items[i];

		if (!maps && !strcmp(it->key, "tasks"))
			load_tasks(r, it);
		if (!maps && !strcmp(it->key, "saved_tgids"))
			load_saved_tgids(r, it);
		if (maps && !strncmp(it->key, "maps/", 5)) {
			int pid = atoi(it->key + 5);
			struct proc *p;

			if (pid <= 0)
				continue;
			p = proc_get(r, pid);
			if (trailer) {
				free(p->end_maps);
				p->end_maps = fl_malloc(it->len + 1);
				memcpy(p->end_maps, it->val, it->len);
				p->end_len = it->len;
			}
			/* the first snapshot of a process wins: it describes the start */
			if (!p->start_maps) {
				p->start_maps = fl_malloc(it->len + 1);
				memcpy(p->start_maps, it->val, it->len);
				p->start_len = it->len;
				p->start_ns = taken;
				fl_layout_load_maps(lay_change(p, 0, FL_VSRC_MAPS_START,
							       FL_VSRC_MAPS_START, 0),
						    it->val, it->len);
			}
		}
	}
}

struct fl_recon *fl_recon_new(const struct fl_recon_opts *opts, struct fl_err *err)
{
	struct fl_recon *r = fl_calloc(1, sizeof(*r));
	const struct fl_kv *h = opts->header;
	const char *rel = opts->kernel_release;
	const char *arch = h ? fl_kv_getstr(h, "arch") : NULL;

	r->sink = opts->sink;
	r->err = err;
	if (!rel && h)
		rel = fl_kv_getstr(h, "uname.release");
	if (rel && fl_recon_parse_release(rel, &r->k.major, &r->k.minor) < 0)
		r->k.major = r->k.minor = 0;
	if (!arch && h)
		arch = fl_kv_getstr(h, "uname.machine");
	r->k.x86 = !arch || !strcmp(arch, "x86_64") || !strcmp(arch, "i686") ||
		   !strcmp(arch, "x86");
	/* §5.1: per-VMA locks from 6.4 on x86_64, arm64, ppc64, s390; 6.5 riscv; 6.18 loongarch */
	if (arch && !strncmp(arch, "riscv", 5))
		r->k.vma_lock = kernel_at_least(&r->k, 6, 5);
	else if (arch && !strncmp(arch, "loongarch", 9))
		r->k.vma_lock = kernel_at_least(&r->k, 6, 18);
	else if (arch && (!strcmp(arch, "i686") || !strcmp(arch, "x86")))
		r->k.vma_lock = false;
	else
		r->k.vma_lock = kernel_at_least(&r->k, 6, 4);
	r->k.file_vma_lock = r->k.vma_lock && kernel_at_least(&r->k, 6, 6);
	/* vmf_anon_prepare() with its mmap_read_trylock arrived with "Handle more faults
	 * under the VMA lock" (6.7); before, lock_vma_under_rcu() refused VMAs without
	 * anon_vma (§4.1 rule 4, §10). */
	r->k.anon_prepare_trylock = r->k.vma_lock && kernel_at_least(&r->k, 6, 7);
	r->k.filemap_fault_tp = kernel_at_least(&r->k, 6, 12) &&
				event_enabled(h, "filemap:mm_filemap_fault");
	r->k.add_tp = event_enabled(h, "filemap:mm_filemap_add_to_page_cache");
	r->k.fault_tp = event_enabled(h, "exceptions:page_fault_user");
	r->page_size = h ? fl_kv_getu64(h, "page_size", 4096) : 4096;
	if (!r->page_size || (r->page_size & (r->page_size - 1)))
		r->page_size = 4096;

	if (h) {
		load_kv(r, h, false);
	}
	for (size_t i = 0; i < opts->nsnapshots; i++)
		load_kv(r, opts->snapshots[i], false);
	if (h)
		load_kv(r, h, true);
	for (size_t i = 0; i < opts->nsnapshots; i++)
		load_kv(r, opts->snapshots[i], true);
	return r;
}

void fl_recon_free(struct fl_recon *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nthr; i++)
		free(r->thr[i]);
	free(r->thr);
	for (size_t i = 0; i < r->nmms; i++) {
		free(r->mms[i]->hold);
		free(r->mms[i]->wait);
		free(r->mms[i]);
	}
	free(r->mms);
	for (size_t i = 0; i < r->nprocs; i++) {
		fl_layout_release(&r->procs[i]->lay);
		free(r->procs[i]->start_maps);
		free(r->procs[i]->end_maps);
		free(r->procs[i]);
	}
	fl_strpool_release(&r->paths);
	fl_u64map_release(&r->saved_tgids);
	free(r->procs);
	free(r->ios);
	free(r->freeio);
	fl_u64map_release(&r->tids);
	fl_u64map_release(&r->mmidx);
	fl_u64map_release(&r->procidx);
	fl_u64map_release(&r->ioidx);
	fl_u64map_release(&r->deleted);
	free(r);
}

const struct fl_recon_kernel *fl_recon_kernel(const struct fl_recon *r)
{
	return &r->k;
}

const uint64_t *fl_recon_anomalies(const struct fl_recon *r)
{
	return r->anomalies;
}

void fl_recon_span(const struct fl_recon *r, uint64_t *first_ns, uint64_t *last_ns)
{
	*first_ns = r->first_ts;
	*last_ns = r->last_ts;
}

uint64_t fl_recon_events(const struct fl_recon *r)
{
	return r->events;
}

/* ---- text form (golden tests, debugging) ---------------------------- */

static void anomaly_list(struct fl_buf *b, uint32_t bits)
{
	bool first = true;

	if (!bits)
		return;
	fl_buf_addstr(b, " anomalies=");
	for (int a = 0; a < FL_AN__COUNT; a++) {
		if (bits & (1u << a)) {
			fl_buf_addf(b, "%s%s", first ? "" : ",", anomaly_names[a]);
			first = false;
		}
	}
}

void fl_fault_format(const struct fl_fault *f, struct fl_buf *b)
{
	static const char *const fnames[] = { "write", "user_bit", "instr", "anon_prepare",
					      "evicted", "file_id", "unfinished" };

	fl_buf_addf(b, "fault %lld tid=%d tgid=%d mm=%#llx addr=%#llx %s %s vma=%s",
		    (long long)f->id, f->tid, f->tgid, (unsigned long long)f->mm,
		    (unsigned long long)f->address, f->user ? "user" : "kernel",
		    (f->flags & FL_FF_WRITE) ? "write" : "read", fl_vma_kind_name(f->vma_kind));
	if (f->flags & FL_FF_FILE_ID)
		fl_buf_addf(b, " file=%u:%llu:%llu", f->dev, (unsigned long long)f->ino,
			    (unsigned long long)f->index);
	fl_buf_addf(b, " path=%s attempts=%u retry_drop=%u io_miss=%u major=%d start=%llu end=%llu"
		    " io_wait=%llu io_locked=%llu mmap_wait=%llu mmap_hold=%llu",
		    fl_fault_path_name(f->path), f->attempts, f->retry_drop, f->retry_io_miss,
		    f->major, (unsigned long long)f->start_ns, (unsigned long long)f->end_ns,
		    (unsigned long long)f->io_wait_ns, (unsigned long long)f->io_wait_locked_ns,
		    (unsigned long long)f->mmap_wait_ns, (unsigned long long)f->mmap_hold_ns);
	for (size_t i = 3; i < FL_ARRAY_SIZE(fnames); i++)
		if ((i != 5) && (f->flags & (1u << i)))
			fl_buf_addf(b, " %s", fnames[i]);
	anomaly_list(b, f->anomalies);
}

void fl_lock_wait_format(const struct fl_lock_wait *w, struct fl_buf *b)
{
	fl_buf_addf(b, "lock_wait %lld tid=%d mm=%#llx %s%s%s start=%llu acquired=%llu released=%llu"
		    " ok=%d owner=%s:%lld holders=%u writers_ahead=%u readers_ahead=%u blocker=%d"
		    " blocker_wait=%lld chain=%u inversion=%d",
		    (long long)w->id, w->tid, (unsigned long long)w->mm, w->write ? "write" : "read",
		    w->trylock ? " try" : "", w->downgraded ? " downgraded" : "",
		    (unsigned long long)w->start_ns, (unsigned long long)w->acquired_ns,
		    (unsigned long long)w->released_ns, w->success,
		    fl_owner_kind_name(w->owner_kind), (long long)w->owner_id, w->holders,
		    w->writers_ahead, w->readers_ahead, w->blocker_tid, (long long)w->blocker_wait,
		    w->chain, w->inversion);
	anomaly_list(b, w->anomalies);
}

void fl_writer_op_format(const struct fl_writer_op *op, struct fl_buf *b)
{
	fl_buf_addf(b, "writer_op %lld tid=%d %s ret=%lld enter=%llu exit=%llu wrote=%d"
		    " write_wait=%llu write_hold=%llu downgrade=%llu read_hold=%llu blocked=%llu"
		    " child=%d",
		    (long long)op->id, op->tid, fl_sys_name(op->sys), (long long)op->ret,
		    (unsigned long long)op->enter_ns, (unsigned long long)op->exit_ns, op->wrote,
		    (unsigned long long)op->write_wait_ns, (unsigned long long)op->write_hold_ns,
		    (unsigned long long)op->downgrade_ns, (unsigned long long)op->read_hold_ns,
		    (unsigned long long)op->blocked_ns, op->child);
	anomaly_list(b, op->anomalies);
}

void fl_io_format(const struct fl_io *io, struct fl_buf *b)
{
	fl_buf_addf(b, "io %lld dev=%u sector=%llu nr=%llu %s issue_tid=%d issue_fault=%lld"
		    " issue=%llu complete=%llu error=%lld waiters=%u first_waiter=%lld",
		    (long long)io->id, io->dev, (unsigned long long)io->sector,
		    (unsigned long long)io->nr_sector, io->rwbs, io->issue_tid,
		    (long long)io->issue_fault, (unsigned long long)io->issue_ns,
		    (unsigned long long)io->complete_ns, (long long)io->error, io->waiters,
		    (long long)io->first_waiter);
}

void fl_vma_row_format(const struct fl_vma_row *v, struct fl_buf *b)
{
	fl_buf_addf(b, "vma %lld tgid=%d %#llx-%#llx %c%c%c%c %s", (long long)v->id, v->tgid,
		    (unsigned long long)v->start, (unsigned long long)v->end,
		    (v->prot & 1) ? 'r' : '-', (v->prot & 2) ? 'w' : '-', (v->prot & 4) ? 'x' : '-',
		    v->shared ? 's' : 'p', fl_vma_kind_name(v->kind));
	if (v->ino)
		fl_buf_addf(b, " file=%u:%llu pgoff=%llu", v->dev, (unsigned long long)v->ino,
			    (unsigned long long)v->pgoff);
	if (v->path)
		fl_buf_addf(b, " path=%s", v->path);
	fl_buf_addf(b, " from=%llu to=%llu source=%s op=%lld", (unsigned long long)v->valid_from_ns,
		    (unsigned long long)v->valid_to_ns, fl_vma_source_name(v->source),
		    (long long)v->op);
}
