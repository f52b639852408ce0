/*
 * model.h - the lock model's driver: per-thread op streams replayed through
 * the engine (mmap_lock, per-VMA locks, page cache, I/O, CPUs) by one
 * architecture's fault handler under a policy (kernel-semantics.md §4-§8).
 *
 * Input (struct fl_model_input): the address spaces (initial VMAs per mm),
 * files (sizes in pages), threads with their op streams, the CPU count, the
 * page-cache capacity (memcg limit), I/O latency samples from the capture and
 * the CPU costs of kernel work. fl_model_run() plays it under one policy and
 * seed and fills a struct fl_model_run: per-fault outcomes, the DESIGN.md
 * metrics (struct fl_metrics, same vocabulary as the reconstruction) and the
 * retry-window decomposition. Same input, policy and seed: same result, byte
 * for byte.
 */
#ifndef FL_REPLAY_MODEL_H
#define FL_REPLAY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fl.h"

/* ---- policies (§8) ------------------------------------------------------- */

#define FL_POL_NO_VMA_LOCK		0x01	/* as 6.1: every fault takes mmap_lock */
#define FL_POL_VMA_RETRY		0x02	/* RETRY_VMA: retry under the VMA lock after I/O */
#define FL_POL_UPTODATE_NO_RETRY	0x04	/* uptodate locked folio: wait, no drop */
#define FL_POL_UPTODATE_NO_RETRY_WB	0x08	/* ... and not under writeback (Willy) */
#define FL_POL_HOLD_VMA_IO		0x10	/* never drop the fault lock for I/O */
#define FL_POL_RETRY_HARD		0x20	/* retry under the VMA lock unless RETRY_HARD */
#define FL_POL_FORK_COW_ONLY		0x40	/* fork write-locks only VMAs it must copy */

/* "mainline", "vma-retry+uptodate-no-retry-wb", ... -> bits; -1 with err on unknown or
 * combinations the spec does not allow. */
int fl_policy_parse(const char *s, uint32_t *pol, struct fl_err *err);
/* The canonical name ("mainline" for 0), into buf (128 bytes). */
const char *fl_policy_name(uint32_t pol, char *buf);
/* Every single policy name, NULL-terminated (for --help and "all"). */
extern const char *const fl_policy_names[];

/* ---- input ------------------------------------------------------------------- */

enum fl_op_kind {
	FL_OP_FAULT,		/* a captured page fault: always enters the handler */
	FL_OP_TOUCH,		/* a memory access: faults only if no PTE maps the page */
	FL_OP_MMAP,
	FL_OP_MUNMAP,
	FL_OP_MPROTECT,
	FL_OP_MADVISE,
	FL_OP_MREMAP,
	FL_OP_BRK,
	FL_OP_FORK,
	FL_OP_EXIT,
	FL_OP_LOCK,		/* mmap_lock taken by the kernel for no traced syscall or fault
				   (execve's rounds on the new mm, ...): arg 1 write, 0 read;
				   held kcpu_ns */
	FL_OP__COUNT
};

/* struct fl_op.flags */
#define FL_OPF_WRITE	0x01	/* write access */
#define FL_OPF_EXEC	0x02	/* instruction fetch */
#define FL_OPF_KERNEL	0x04	/* kernel-mode fault (copy_to_user, ...): mmap path always */
#define FL_OPF_SWAP	0x08	/* anonymous fault that swaps the page in */
#define FL_OPF_FIXED	0x10	/* MMAP: MAP_FIXED, replaces what is there */

/* madvise advice values (Linux uapi) the model distinguishes */
#define FL_MADV_NORMAL		0
#define FL_MADV_RANDOM		1
#define FL_MADV_SEQUENTIAL	2
#define FL_MADV_WILLNEED	3
#define FL_MADV_DONTNEED	4
#define FL_MADV_FREE		8
#define FL_MADV_DONTFORK	10
#define FL_MADV_DOFORK		11
#define FL_MADV_HUGEPAGE	14
#define FL_MADV_NOHUGEPAGE	15

struct fl_op {
	uint8_t kind;		/* enum fl_op_kind */
	uint8_t flags;		/* FL_OPF_* */
	uint16_t pad;
	uint32_t file;		/* MMAP: file id (1-based index into files), 0 anonymous */
	uint64_t cpu_ns;	/* ns on a CPU in user space before the op (think) */
	uint64_t sleep_ns;	/* ns asleep (off CPU) before the op */
	uint64_t addr;		/* bytes: FAULT/TOUCH address; start of a range op; MREMAP old */
	uint64_t len;		/* bytes: range length; MREMAP old length; BRK new break */
	uint64_t arg;		/* MMAP: FL_MVMA_* flags; MPROTECT: FL_MVMA_READ|WRITE|EXEC;
				   MADVISE: advice; MREMAP: new address */
	uint64_t arg2;		/* MMAP: pgoff in pages; MREMAP: new length in bytes */
	uint64_t kcpu_ns;	/* ns of kernel work under the op's lock (0: model default) */
	uint64_t kcpu2_ns;	/* ns of work after munmap's downgrade (0: model default) */
	uint32_t child_mm;	/* FORK: mm index of the child */
	int64_t ref;		/* the capture row it came from (fault.id, writer_op.id, lock_wait.id
				   for FL_OP_LOCK), 0 none */
};

struct fl_model_thread {
	uint32_t tid;		/* the captured tid (names only) */
	uint32_t mm;		/* index of its address space */
	int prio;		/* kernel prio (120 = nice 0) */
	uint64_t start_ns;	/* ns after the run's start when its first op is ready */
	struct fl_op *ops;
	size_t nops, capops;
};

/*
 * VMA flags of the input: the engine's FL_VMA_* values (engine/vma.h, checked in
 * model.c), named apart because engine/vma.h cannot be included next to
 * db/reconstruct.h (both name things FL_VMA_ANON).
 */
#define FL_MVMA_READ		0x00001
#define FL_MVMA_WRITE		0x00002
#define FL_MVMA_EXEC		0x00004
#define FL_MVMA_SHARED		0x00008
#define FL_MVMA_ANON		0x00010
#define FL_MVMA_HAS_ANON_VMA	0x00020
#define FL_MVMA_MAP_PAGES	0x00040
#define FL_MVMA_FILE		0x00080
#define FL_MVMA_SHMEM		0x00100
#define FL_MVMA_GROWSDOWN	0x00200
#define FL_MVMA_HUGETLB		0x00800
#define FL_MVMA_PFNMAP		0x02000
#define FL_MVMA_RAND_READ	0x08000
#define FL_MVMA_SEQ_READ	0x10000

struct fl_model_vma {
	uint32_t mm;		/* address space index */
	uint64_t start, end;	/* bytes */
	uint32_t flags;		/* FL_MVMA_* */
	uint32_t file;		/* file id, 0 anonymous */
	uint64_t pgoff;		/* pages */
};

struct fl_model_costs {
	uint64_t fault_ns;		/* CPU of one handle_mm_fault that maps a page */
	uint64_t filemap_ns;		/* CPU of a filemap_fault attempt (lookup, locks) */
	uint64_t anon_prep_ns;		/* CPU of a first anonymous write fault before
					   __vmf_anon_prepare (lock_vma_under_rcu, the page
					   table's allocation); 0 = none */
	uint64_t map_page_ns;		/* CPU per page mapped by fault-around */
	uint64_t ra_page_ns;		/* CPU per page allocated and inserted by readahead */
	uint64_t reclaim_page_ns;	/* CPU per page the inserting task reclaims (memcg
					   charge over the limit: try_to_free_mem_cgroup_pages) */
	uint64_t reclaim_scan_ns;	/* CPU per folio reclaim looks at (0: reclaim_page_ns per
					   page reclaimed instead) */
	uint64_t syscall_ns;		/* mmap/mprotect/madvise/mremap/brk under the lock */
	uint64_t zap_page_ns;		/* munmap/DONTNEED: CPU per page of the range */
	uint64_t fork_vma_ns;		/* fork: per VMA copied */
	uint64_t fork_page_ns;		/* fork: per page of a VMA that needs copying */
	uint64_t wake_ns;		/* mean latency from a wake-up to running on an idle CPU;
					   drawn uniformly in [wake_ns / 2, 3 * wake_ns / 2] */
	uint64_t wake_remote_ns;	/* the same for a thread woken by another CPU (a lock
					   release, an I/O completion): the idle CPU must be sent
					   an interrupt; 0 = wake_ns. A timer's wake-up is local. */
	uint64_t switch_ns;		/* CPU a switch from one thread to another takes (the
					   blocking path, schedule, the return path): charged
					   before a thread that takes over a busy CPU runs;
					   0 = none (opstream: measured) */
	uint64_t slice_ns;		/* time slice of CPU-bound threads */
	uint64_t io_ns;			/* I/O latency when the input has no samples */
	uint64_t acq_read_ns;		/* start_locking -> acquire_returned of an uncontended
					   mmap_lock read (write) acquisition: the fast path plus
					   the tracepoints; added to every recorded wait, not
					   charged as time, when the input has no acq_ns samples;
					   0 = none (opstream: the capture's median) */
	uint64_t acq_write_ns;
};

void fl_model_costs_default(struct fl_model_costs *c);

struct fl_model_input {
	const char *arch;		/* fl_arch_find() name */
	int kver;			/* kernel code (FL_KVER) */
	uint32_t ncpus;			/* CPUs */
	uint64_t capacity_pages;	/* page-cache capacity (memcg limit), 0 unlimited */
	uint32_t page_shift;		/* log2 page size (12) */
	uint32_t nmm;			/* address spaces */
	uint32_t *mm_forked;		/* [nmm] 1 if the mm is created by a FORK op (its layout
					   is the parent's at that time); may be NULL */
	struct fl_model_vma *vmas;	/* initial VMAs (of mms not forked) */
	size_t nvmas, capvmas;
	uint64_t *file_pages;		/* [nfiles] size of file id i + 1 in pages */
	uint8_t *file_cached;		/* [nfiles] 1: wholly cached before the run (and charged
					   elsewhere: outside the capacity); may be NULL */
	size_t nfiles;
	struct fl_model_thread *threads;
	size_t nthreads;
	uint64_t *io_lat_ns;		/* I/O latency samples (ns); none: costs.io_ns */
	size_t nio_lat;
	/*
	 * A device that completes in rounds (fl_io_set_rounds), measured on the
	 * capture (opstream "I/O rounds"): the latency from the request that opens
	 * a round to the round's first completion (the draws, instead of
	 * io_lat_ns), the spacing of its completions and the share that miss it.
	 * nio_round 0: requests complete independently.
	 */
	uint64_t *io_round_ns;
	size_t nio_round;
	uint64_t io_gap_ns;
	uint32_t io_miss_ppm;
	uint32_t irq_cpu;		/* the CPU that takes the device's interrupts (most of the
					   capture's block completions); UINT32_MAX unknown */
	uint64_t *kworker_ns;		/* the capture's per-CPU kworkers' runs (ns), ... */
	size_t nkworker_ns;
	uint32_t kworker_ppm;		/* ... per million read requests: one is drawn onto the
					   submitting CPU with that chance per request (opstream
					   sets it only with a device in rounds) */
	uint32_t io_depth;		/* requests in service at once; 0 unlimited */
	uint32_t ra_pages;		/* readahead window in pages (read_ahead_kb / page);
					   0 = the engine default (32) */
	uint32_t io_max_pages;		/* pages: the read request a window is split into:
					   the capture's mean readahead request, else its
					   most frequent large one; 0 = no limit */
	/*
	 * The capture's uncontended mmap_lock acquisitions (no traced holder, no
	 * writer ahead): start_locking -> acquire_returned in ns, [0] reads,
	 * [1] writes. A model run adds a seeded draw from these to each wait it
	 * reports (as it draws I/O latencies from io_lat_ns), so the fast path's
	 * and the tracepoints' own cost has the capture's spread, not just its
	 * median; none: costs.acq_*_ns.
	 */
	uint64_t *acq_ns[2];
	size_t nacq[2];
	/*
	 * Wake-up placement measured on the capture (opstream "Wake-up placement"):
	 * wake_affine: a woken thread goes back to its previous CPU and waits there
	 * while it is busy (per-CPU run queues, fl_cpu_set_affine), except for
	 * wake_idle_permille of those wake-ups, which take an idle CPU; false: one
	 * run queue for all CPUs (the first idle CPU).
	 */
	bool wake_affine;
	uint32_t wake_idle_permille;
	struct fl_model_costs costs;
};

void fl_model_input_init(struct fl_model_input *in);
void fl_model_input_release(struct fl_model_input *in);
/* Appends and returns a zeroed op / thread / VMA / file id. */
struct fl_op *fl_model_add_op(struct fl_model_thread *t);
struct fl_model_thread *fl_model_add_thread(struct fl_model_input *in, uint32_t tid,
					    uint32_t mm);
void fl_model_add_vma(struct fl_model_input *in, uint32_t mm, uint64_t start, uint64_t end,
		      uint32_t flags, uint32_t file, uint64_t pgoff);
uint32_t fl_model_add_file(struct fl_model_input *in, uint64_t pages);

/* ---- output ------------------------------------------------------------------- */

enum fl_model_outcome { FL_OUT_OK, FL_OUT_SEGV, FL_OUT_NOFAULT };

/* Fault paths; the same numbers as enum fl_fault_path of db/reconstruct.h (checked there). */
enum fl_model_path {
	FL_MPATH_VMA = 1,		/* entirely under the per-VMA lock */
	FL_MPATH_VMA_RETRY_MMAP = 2,	/* VMA attempt RETRY, finished under mmap_lock */
	FL_MPATH_VMA_RETRY_VMA = 3,	/* retried under the VMA lock (policies) */
	FL_MPATH_MMAP = 4,		/* started under mmap_lock */
};

struct fl_model_fault {
	int64_t ref;			/* input op's ref */
	uint32_t thread;		/* index in input threads */
	uint64_t addr;
	uint8_t path;			/* enum fl_model_path */
	uint8_t outcome;		/* enum fl_model_outcome */
	uint8_t major;
	uint8_t user;
	uint16_t attempts, retry_drop, retry_io_miss;
	uint64_t start_ns, end_ns;	/* ns of virtual time */
	uint64_t io_wait_ns, io_wait_locked_ns, mmap_wait_ns;
};

/* From a folio wait's end (I/O done) to the retry's page-cache lookup (§6.1). */
struct fl_retry_window {
	uint64_t n;			/* windows measured */
	uint64_t total_ns;		/* sum of their lengths */
	uint64_t cpu_wait_ns;		/* waiting for a CPU */
	uint64_t mmap_wait_ns;		/* queued on mmap_lock */
	uint64_t vma_wait_ns;		/* queued on mmap_lock because the VMA lock was taken
					   by a writer (vma-retry fell back) */
	uint64_t run_ns;		/* the rest: running (fault-around, lookups) */
	uint64_t max_ns;
	uint64_t missed;		/* windows whose retry missed the page cache */
};

/*
 * Page-cache activity, measured alike on a capture (opstream.c
 * fl_opstream_pc_activity) and on a run, for --validate: pages inserted and
 * evicted; the major file faults that inserted pages (their readahead window
 * and the fault's own folio) with the median pages and time from the first
 * insertion to the last; and the 10 ms ticks from the first read completion to
 * the last, with those in which none completed (the device idle while the
 * workload waits: reclaim stalls under a memory cgroup).
 */
#define FL_PC_TICK_NS 10000000ULL

struct fl_pc_activity {
	uint64_t inserted, evicted;
	uint64_t reclaim_scanned, reclaim_freed;	/* folios reclaim looked at and freed (the
						 * capture's mm_vmscan_lru_shrink_inactive
						 * batches; 0 where none were traced) */
	uint64_t windows;
	uint64_t window_pages_p50;
	uint64_t window_build_ns_p50;
	uint64_t read_ticks, read_idle_ticks;
	uint64_t read_last_tick;		/* fl_pc_activity_read's place */
};

/* A read completed at done_ns (any origin; not before the previous call's). */
void fl_pc_activity_read(struct fl_pc_activity *a, uint64_t done_ns);
/* Fills the window fields of a from the pages and the build time of each window (sorted in
 * place). */
void fl_pc_activity_finish(struct fl_pc_activity *a, uint64_t *win_pages, uint64_t *win_build_ns,
			   size_t nwin);
/* Its fields as (name, value): "pages_inserted", ..., "read_idle_pct". The folios scanned per
 * page freed are 0 without reclaim. */
void fl_pc_activity_foreach(const struct fl_pc_activity *a,
			    void (*fn)(void *arg, const char *name, double value), void *arg);

/*
 * mmap_lock writers that did not find the lock free, measured alike on a
 * capture (opstream.c fl_opstream_writer_waits: the reconstruction's holders
 * and queued writers at start_locking, and a switch-out of the writer inside its
 * wait for a sleep) and on a run (the rwsem records' flags), for --validate:
 * those that met a holder and took the lock without sleeping (the optimistic
 * spin, §3 W2), those that slept for it, and those that met no holder but
 * queued writers and took it at once (stealing past the queue).
 */
struct fl_writer_waits {
	uint64_t spun, slept, stole;
};

/* Its fields as (name, value): "write_spun", "write_slept", "write_stole". */
void fl_writer_waits_foreach(const struct fl_writer_waits *w,
			     void (*fn)(void *arg, const char *name, double value), void *arg);

struct fl_model_run {
	uint32_t policy;
	char arch[16];
	int kver;
	uint64_t seed;
	struct fl_retry_window win;
	/* mmap_lock acquisitions of every mm: waits (ns) of successful reads (downgrades as
	 * 0) and writes, in record order; chains and inversions as engine/README.md says. */
	uint64_t *read_waits, *write_waits;
	size_t nread_waits, nwrite_waits;
	uint64_t chained_waits, max_chain, inversions;
	uint64_t fork_count, fork_hold_ns, fork_blocked_ns;
	uint64_t makespan_ns;		/* last thread's end */
	struct fl_model_fault *faults;	/* one per FAULT op and per faulting TOUCH */
	size_t nfaults;
	/* Extras, named in fl_model_extras_foreach. */
	uint64_t touches_nofault;	/* TOUCH ops that found a PTE */
	uint64_t max_attempts;		/* most handle_mm_fault calls of one fault */
	uint64_t retry_loops_cut;	/* faults given TRIED after MAX_ATTEMPTS (model.c) */
	uint64_t relocated;		/* mmaps placed elsewhere: their range was taken */
	uint64_t segv;			/* faults answered with SIGSEGV (no VMA / access) */
	uint64_t vma_write_waits;	/* vma_start_write calls that waited for readers */
	uint64_t vma_write_wait_ns;	/* ns writers spent in those */
	uint64_t mmap_write_wait_ns;	/* ns writers queued for mmap_lock write */
	uint64_t vma_lock_fail;		/* lock_vma_under_rcu failures */
	uint64_t pc_hits, pc_misses, io_requests;	/* (evictions and the folios reclaim
							 * looked at: pc) */
	uint64_t cpu_wait_ns;		/* ns threads spent runnable without a CPU */
	uint64_t memcg_waits;		/* faults that slept for room in the memory cgroup */
	uint64_t reclaim_cpu_ns;	/* CPU readahead's charges spent reclaiming */
	uint64_t charge_failed;		/* page-cache insertions the capacity refused */
	struct fl_pc_activity pc;	/* page-cache activity (--validate's block) */
	struct fl_writer_waits ww;	/* mmap_lock writers that met a taken lock (the same) */
	uint64_t events;		/* simulator events processed */
	uint64_t ops;			/* ops executed */
	uint64_t anomalies;		/* engine impossible-call counters, summed */
};

int fl_model_run(const struct fl_model_input *in, uint32_t policy, uint64_t seed,
		 struct fl_model_run *out, struct fl_err *err);
void fl_model_run_release(struct fl_model_run *r);

/* Extras and the retry window as (name, value), e.g. "retry_window.cpu_wait_us". */
void fl_model_extras_foreach(const struct fl_model_run *r,
			     void (*fn)(void *arg, const char *name, double value), void *arg);

/* The DESIGN.md metrics of a run, and its JSON, are in replay/run-metrics.h (they need
 * report/metrics.h, whose decode structs clash with the engine's names). */

#endif
