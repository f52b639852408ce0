/*
 * reconstruct.h - what every page fault and every mmap_lock acquisition did,
 * rebuilt from the raw events of one capture (kernel-semantics.md §5, §6, §7, §9).
 *
 * A reconstructor is fed the decoded events of one capture in merged time
 * order (capture/decode.h: struct fl_event and its a[] table) and delivers
 * rows to a sink as soon as they are complete:
 *
 *	r = fl_recon_new(&opts, &err);		header (kernel release, arch, cpus),
 *						snapshots (maps, tasks), the sink
 *	fl_recon_feed(r, &ev, inst, &err);	each event, in order (inst: the
 *						tracefs instance, 0 = the followed tasks)
 *	fl_recon_finish(r, &err);		closes what is still open
 *	fl_recon_free(r);
 *
 * Every per-thread state machine starts UNKNOWN (a capture can begin in the
 * middle of a fault or a lock hold); what cannot be explained is counted as an
 * anomaly of a named kind and flagged on the row it touches, never fatal, never
 * silently turned into a number. Times are ns of the capture's trace clock.
 *
 * fl_recon_run_db() does the same from a database: it reads the event table
 * of one capture in id (= merge) order and writes the fault, lock_wait,
 * writer_op, io, vma and recon_anomaly tables (db/schema.sql, "reconstruction").
 */
#ifndef FL_RECONSTRUCT_H
#define FL_RECONSTRUCT_H

#include "common/fl.h"
#include "capture/decode.h"

struct sqlite3;

/* How a fault was handled (DESIGN.md metric names path_*). */
enum fl_fault_path {
	FL_PATH_UNKNOWN = 0,		/* not enough events (e.g. capture began mid-fault) */
	FL_PATH_VMA,			/* entirely under the per-VMA lock */
	FL_PATH_VMA_RETRY_MMAP,		/* VMA attempt returned RETRY, finished under mmap_lock */
	FL_PATH_VMA_RETRY_VMA,		/* retried under the VMA lock again (patched kernels) */
	FL_PATH_MMAP,			/* started under mmap_lock */
	FL_PATH__COUNT
};

/* What the faulting address was, from maps snapshots and mmap-family syscalls. */
enum fl_vma_kind {
	FL_VMA_UNKNOWN = 0,
	FL_VMA_ANON,			/* private anonymous (incl. [heap]) */
	FL_VMA_FILE,			/* file-backed: dev/ino/index on the fault row when known */
	FL_VMA_SHMEM,			/* shared anonymous, tmpfs, memfd, SysV shm */
	FL_VMA_STACK,			/* [stack] */
	FL_VMA_NONE,			/* no mapping covered the address when the fault happened */
	FL_VMA__COUNT
};

/*
 * Anomaly kinds: counted per capture (fl_recon_anomalies) and, where a row is
 * touched, as bit (1 << kind) in that row's anomalies field.
 */
enum fl_anomaly {
	FL_AN_LOST_EVENTS = 0,		/* the ring buffer dropped events (count = events) */
	FL_AN_MID_FAULT,		/* lock events of a fault whose start was not captured */
	FL_AN_MID_HOLD,			/* release of a hold whose acquisition was not captured */
	FL_AN_ACQ_NO_START,		/* acquire_returned without start_locking (not a downgrade) */
	FL_AN_START_WHILE_WAITING,	/* a second start_locking before the first returned */
	FL_AN_FAULT_NO_LOCK,		/* kernel without per-VMA locks: fault with no mmap_lock event */
	FL_AN_FAULT_HELD_AT_NEXT,	/* a new fault/syscall while the last still held mmap_lock */
	FL_AN_SYSEXIT_NO_ENTER,		/* syscall exit whose entry was not captured */
	FL_AN_SYSENTER_NESTED,		/* syscall entry while another was still open */
	FL_AN_OPEN_AT_END,		/* fault, wait or hold still open when the capture ended */
	FL_AN_TIME_BACKWARDS,		/* an event older than the one before it */
	FL_AN_BLOCK_NO_ISSUE,		/* block completion whose issue was not captured */
	FL_AN_RELEASE_MODE,		/* released(write=w) while the tid held the other mode */
	FL_AN__COUNT
};

/* Bits of struct fl_fault.flags (facts, not anomalies). */
#define FL_FF_WRITE		(1u << 0)	/* x86 error_code bit 1 */
#define FL_FF_USER_BIT		(1u << 1)	/* x86 error_code bit 2 (X86_PF_USER) */
#define FL_FF_INSTR		(1u << 2)	/* x86 error_code bit 4 */
#define FL_FF_ANON_PREPARE	(1u << 3)	/* the VMA attempt took mmap_lock by trylock for
						   __vmf_anon_prepare (kernel-semantics §6.3) */
#define FL_FF_EVICTED		(1u << 4)	/* the folio was deleted from the page cache between
						   the first attempt and the retry (§9.2.3) */
#define FL_FF_FILE_ID		(1u << 5)	/* dev/ino/index known (mm_filemap_fault) */
#define FL_FF_UNFINISHED	(1u << 6)	/* capture ended inside the fault */

struct fl_fault {
	int64_t id;			/* 1, 2, ... in order of the fault's start */
	int32_t tid;
	int32_t tgid;			/* 0 = not known */
	uint64_t mm;			/* mm_struct address from mmap_lock events; 0 = not known */
	uint64_t address;		/* faulting address */
	uint64_t ip;			/* instruction pointer */
	uint64_t error_code;		/* arch error code as traced (x86: X86_PF_* bits) */
	bool user;			/* page_fault_user (user mode) vs page_fault_kernel */
	uint32_t flags;			/* FL_FF_* */
	uint8_t vma_kind;		/* enum fl_vma_kind */
	uint64_t vma_start, vma_end;	/* bytes; 0 when the VMA is unknown */
	uint32_t dev;			/* s_dev of the file (kernel encoding) */
	uint64_t ino;			/* inode number */
	uint64_t index;			/* page index in the file */
	uint64_t start_ns;		/* page_fault_* event */
	uint64_t end_ns;		/* last event attributable to the fault (a lower bound of its
					   completion: stock kernels trace no fault exit) */
	uint8_t path;			/* enum fl_fault_path */
	uint16_t attempts;		/* handle_mm_fault calls seen (VMA + mmap) */
	uint16_t retry_drop;		/* attempts that dropped the lock to wait and returned RETRY */
	uint16_t retry_io_miss;		/* retried attempts that missed the page cache again */
	bool major;			/* as mm_account_fault: a miss, or retried with TRIED */
	uint64_t io_wait_ns;		/* off CPU in D state, not waiting for mmap_lock */
	uint64_t io_wait_locked_ns;	/* part of io_wait_ns holding mmap_lock or the VMA lock */
	uint64_t mmap_wait_ns;		/* start_locking -> acquire_returned, summed */
	uint64_t mmap_hold_ns;		/* acquire_returned -> released, summed */
	uint32_t anomalies;		/* 1 << enum fl_anomaly */
};

enum fl_owner_kind {
	FL_OWNER_NONE = 0,		/* neither a fault nor a traced syscall (e.g. /proc, GUP) */
	FL_OWNER_FAULT,			/* owner_id = fault id */
	FL_OWNER_SYSCALL,		/* owner_id = writer_op id */
};

struct fl_lock_wait {
	int64_t id;			/* 1, 2, ... in order of start_locking */
	int32_t tid, tgid;		/* tgid 0 = not known */
	uint64_t mm;
	bool write;
	bool trylock;			/* inferred: first try of lock_mm_and_find_vma, anon_prepare */
	bool success;
	bool downgraded;		/* write hold downgraded to read (munmap, stack expansion) */
	uint64_t start_ns;		/* start_locking */
	uint64_t acquired_ns;		/* acquire_returned */
	uint64_t released_ns;		/* released; 0 = not seen (failed try, or capture ended) */
	uint8_t owner_kind;		/* enum fl_owner_kind */
	int64_t owner_id;
	uint16_t holders;		/* traced holders of this mm at start_locking */
	uint16_t writers_ahead;		/* traced writers queued ahead at start_locking */
	uint16_t readers_ahead;		/* traced readers queued ahead at start_locking */
	int32_t blocker_tid;		/* the writer holding or queued first ahead; else the
					   longest reader holder (for a write wait); 0 = none */
	int64_t blocker_wait;		/* lock_wait id of the blocker's acquisition, 0 if unknown */
	uint16_t chain;			/* 0 no blocker, 1 blocked by a holder, 1 + the chain of a
					   queued writer it waits behind */
	bool inversion;			/* the waiter's prio was higher (lower number) than a blocker's */
	int16_t prio;			/* kernel prio of the waiter (0..139), -1 unknown */
	uint32_t anomalies;
};

struct fl_writer_op {
	int64_t id;
	int32_t tid, tgid;
	uint64_t mm;			/* the tid's own mm (for fork: the parent's, not the child's) */
	uint16_t sys;			/* enum fl_sys */
	int64_t args[3];		/* syscall args 0..2 (addr, len, prot/advice/flags) */
	int64_t ret;
	uint64_t enter_ns, exit_ns;	/* exit_ns 0 = not seen */
	bool wrote;			/* took mmap_lock for write */
	uint64_t write_wait_ns;		/* start_locking(w=1) -> acquire_returned(w=1) */
	uint64_t acquired_ns;		/* write acquire_returned, 0 = none */
	uint64_t write_hold_ns;		/* write acquire -> released or downgrade */
	uint64_t downgrade_ns;		/* time of the downgrade, 0 = none */
	uint64_t read_hold_ns;		/* read holds (after downgrade, or read-lock syscalls) */
	uint64_t blocked_ns;		/* while holding for write: lock:contention and D sleeps
					   (fork: waiting in vma_start_write for the parent's faults) */
	int32_t child;			/* fork/clone: the new task, 0 = not seen */
	uint32_t anomalies;
};

/* What made a version of a VMA (vma.source). */
enum fl_vma_source {
	FL_VSRC_MAPS_START = 0,		/* the process's first maps snapshot (after exec: from the exec) */
	FL_VSRC_MMAP,			/* mmap's result (and the pieces of VMAs it overlapped) */
	FL_VSRC_MPROTECT,		/* mprotect changed its prot (pieces outside the range too) */
	FL_VSRC_MREMAP,			/* mremap's result */
	FL_VSRC_MUNMAP_SPLIT,		/* what munmap left of a VMA it cut */
	FL_VSRC_BRK,			/* the heap after brk moved its end */
	FL_VSRC_FORK,			/* the child's copy of its parent's layout */
	FL_VSRC_MAPS_END,		/* only in the last maps snapshot: made by something untraced */
	FL_VSRC__COUNT
};

/*
 * One version of one VMA: the address-space layout over time. A version is
 * valid over [valid_from_ns, valid_to_ns); a change to the VMA (split, prot,
 * resize, unmap, exec, exit) ends it and starts new ones.
 */
struct fl_vma_row {
	int64_t id;			/* 1, 2, ... in order of creation (= of valid_from_ns) */
	int32_t tgid;
	uint64_t mm;			/* 0 = not known */
	uint64_t start, end;		/* bytes, [start, end) */
	uint8_t prot;			/* PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4 */
	bool shared;			/* MAP_SHARED */
	uint8_t kind;			/* enum fl_vma_kind */
	uint32_t dev;			/* kernel dev_t, 0 = none or not known */
	uint64_t ino;			/* 0 = none or not known */
	uint64_t pgoff;			/* file offset of start, pages */
	bool heap;			/* the [heap] */
	const char *path;		/* from maps; NULL: anonymous or not known (owned by the
					   reconstructor: valid until fl_recon_free) */
	uint64_t valid_from_ns;		/* the change that made it; maps-start rows loaded before the
					   capture's first event: that event's time */
	uint64_t valid_to_ns;		/* the change that ended it; 0 = still there at the end */
	uint8_t source;			/* enum fl_vma_source */
	int64_t op;			/* writer_op id of the syscall that made it, 0 = none */
};

struct fl_io {
	int64_t id;
	uint32_t dev;
	uint64_t sector, nr_sector;
	uint64_t bytes;
	int32_t issue_tid;		/* task that issued it (0 = irq/kworker context) */
	int64_t issue_fault;		/* fault id open in issue_tid at issue, 0 = none */
	uint64_t issue_ns, complete_ns;	/* issue_ns 0 = issue not captured */
	int64_t error;
	uint32_t waiters;		/* faults whose D sleep ended by this completion */
	int64_t first_waiter;		/* fault id of the first of them, 0 = none */
	char rwbs[8];
};

/* Rows are delivered here as they complete. A callback returning -1 (err set) stops the run. */
struct fl_recon_sink {
	void *arg;
	int (*fault)(void *arg, const struct fl_fault *f, struct fl_err *err);
	int (*lock_wait)(void *arg, const struct fl_lock_wait *w, struct fl_err *err);
	int (*writer_op)(void *arg, const struct fl_writer_op *op, struct fl_err *err);
	int (*io)(void *arg, const struct fl_io *io, struct fl_err *err);
	int (*vma)(void *arg, const struct fl_vma_row *v, struct fl_err *err);	/* may be NULL */
};

struct fl_recon_opts {
	const struct fl_kv *header;		/* capture/flc.h HEADER keys */
	const struct fl_kv *const *snapshots;	/* SNAPSHOT records, then the TRAILER (maps/PID, tasks) */
	size_t nsnapshots;
	struct fl_recon_sink sink;
	const char *kernel_release;		/* overrides uname.release (tests) */
};

/* The kernel facts the reconstruction depends on (kernel-semantics §10). */
struct fl_recon_kernel {
	int major, minor;		/* from uname.release; 0.0 = unknown (treated as current) */
	bool vma_lock;			/* per-VMA locks (>= 6.4 on x86_64/arm64/ppc64/s390, 6.5 riscv) */
	bool file_vma_lock;		/* file faults may run under the VMA lock (>= 6.6) */
	bool anon_prepare_trylock;	/* VMA-lock faults trylock mmap_lock for anon_vma (>= 6.6) */
	bool filemap_fault_tp;		/* mm_filemap_fault exists and is enabled (>= 6.12) */
	bool add_tp;			/* mm_filemap_add_to_page_cache enabled */
	bool fault_tp;			/* exceptions:page_fault_* enabled (x86, riscv >= 6.17) */
	bool x86;			/* error_code has X86_PF_* bits */
};

struct fl_recon;

struct fl_recon *fl_recon_new(const struct fl_recon_opts *opts, struct fl_err *err);
/* inst: 0 = the capture's main instance (followed tasks), >0 = extra (other tasks' context). */
int fl_recon_feed(struct fl_recon *r, const struct fl_event *ev, int inst, struct fl_err *err);
/* Events the ring buffer lost on a CPU (from the trailer or the decoder). */
void fl_recon_note_lost(struct fl_recon *r, uint64_t n);
int fl_recon_finish(struct fl_recon *r, struct fl_err *err);
void fl_recon_free(struct fl_recon *r);

const struct fl_recon_kernel *fl_recon_kernel(const struct fl_recon *r);
/* Anomaly counts per kind (FL_AN__COUNT entries). */
const uint64_t *fl_recon_anomalies(const struct fl_recon *r);
/* Time of the first and last event fed (ns). */
void fl_recon_span(const struct fl_recon *r, uint64_t *first_ns, uint64_t *last_ns);
uint64_t fl_recon_events(const struct fl_recon *r);

const char *fl_fault_path_name(enum fl_fault_path p);
const char *fl_vma_kind_name(enum fl_vma_kind k);
const char *fl_anomaly_name(enum fl_anomaly a);
const char *fl_owner_kind_name(enum fl_owner_kind k);
const char *fl_vma_source_name(enum fl_vma_source s);

/* One line of text per row (no newline), stable for golden files. */
void fl_fault_format(const struct fl_fault *f, struct fl_buf *b);
void fl_lock_wait_format(const struct fl_lock_wait *w, struct fl_buf *b);
void fl_writer_op_format(const struct fl_writer_op *op, struct fl_buf *b);
void fl_io_format(const struct fl_io *io, struct fl_buf *b);
void fl_vma_row_format(const struct fl_vma_row *v, struct fl_buf *b);

/* Parses "6.1.0-31-cloud-amd64" -> 6, 1; returns -1 if it does not start with N.N. */
int fl_recon_parse_release(const char *release, int *major, int *minor);

/*
 * Reconstructs capture_id from the event table and writes fault, lock_wait,
 * writer_op, io, vma and recon_anomaly rows (replacing earlier ones of that capture).
 * Runs inside the caller's transaction if one is open, else in its own.
 * *events_out (may be NULL) receives the number of events read.
 */
int fl_recon_run_db(struct sqlite3 *db, int64_t capture_id, uint64_t *events_out,
		    struct fl_err *err);

/*
 * The same in steps, for ingest, which feeds the events as it decodes them
 * instead of reading them back: begin (after the capture's capture_kv rows
 * are stored; replaces earlier rows), feed in merge order, end (stores the
 * anomalies and the recon row; frees rd whatever it returns). abort frees
 * without storing. All run inside the caller's transaction.
 */
struct fl_recon_db;
struct fl_recon_db *fl_recon_db_begin(struct sqlite3 *db, int64_t capture_id, struct fl_err *err);
int fl_recon_db_feed(struct fl_recon_db *rd, const struct fl_event *ev, int inst,
		     struct fl_err *err);
int fl_recon_db_end(struct fl_recon_db *rd, uint64_t lost, uint64_t *events_out,
		    struct fl_err *err);
void fl_recon_db_abort(struct fl_recon_db *rd);

#endif
