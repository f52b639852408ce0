/*
 * opstream.h - a captured workload as the model's input: one op stream per
 * followed thread, the address spaces, files, CPUs, page-cache capacity and
 * I/O latencies, read from the database (capture, task, maps, event, and the
 * reconstruction's fault, writer_op and io tables).
 */
#ifndef FL_REPLAY_OPSTREAM_H
#define FL_REPLAY_OPSTREAM_H

#include "common/fl.h"
#include "replay/model.h"

struct sqlite3;

struct fl_opstream_info {
	char arch[32];			/* capture's uname.machine */
	char release[128];		/* capture's uname.release */
	int kver;			/* parsed, 0 unknown */
	uint32_t cpus;
	uint64_t memcg_limit_bytes;	/* 0 = none recorded */
	uint64_t faults, writer_ops;	/* ops made from each */
	uint64_t lock_rounds;		/* ... and from mmap_lock rounds no syscall or fault owns */
	uint64_t faults_skipped;	/* unfinished or of tasks without a process */
	uint64_t vmas_added;		/* VMAs the maps did not show, made from fault rows */
	uint64_t io_samples;
	uint32_t io_depth;		/* reads in flight the device ran at most (0 unlimited) */
	uint64_t io_rounds;		/* completion rounds, when the device runs in them (else 0) */
	uint32_t io_round_share;	/* percent of the reads in rounds of 4 or more */
	uint32_t ra_pages;		/* pages: readahead window the model uses (ra_header_pages,
					 * else ra_inferred_pages), 0 none */
	uint32_t ra_header_pages;	/* pages: the device's read_ahead_kb from the header, 0 none */
	uint32_t ra_inferred_pages;	/* pages: the most frequent block read of 8 pages or more,
					 * to a power of two; also the request size, 0 none */
	uint64_t reclaim_page_ns;	/* ns: CPU per page reclaimed, measured (0: default) */
	uint64_t reclaim_pages;		/* pages the measured reclaim episodes freed */
	uint32_t io_split_pages;	/* pages: the mean readahead request when it is the split
					 * (smaller than the largest request), else 0 */
	uint64_t reclaim_episodes;	/* measured reclaim episodes */
	uint64_t reclaim_scan_ns;	/* ns: CPU per folio reclaim looks at (0: none) */
	uint64_t reclaim_scanned;	/* folios the episodes' batches scanned (0: not traced;
					 * reclaim_scan_ns is then a per-page bound) */
	uint64_t ra_page_ns;		/* ns: per page inserted by readahead, measured (0: default) */
	uint64_t ra_page_samples;	/* gaps between inserts its per-order medians are of */
	uint32_t ra_folio_order;	/* the folio order most pages were inserted at ... */
	uint32_t ra_folio_share;	/* ... and its share of the pages, percent */
	uint64_t files_cached;		/* files the model starts with in the cache */
	uint64_t wake_busy_prev;	/* followed threads woken on their busy previous CPU */
	uint64_t wake_moved;		/* ... of them placed on another CPU (target_cpu) */
	uint64_t wake_ns;		/* ns: median wake-up -> running on an idle CPU (0: default) */
	uint64_t wake_samples;		/* wake-ups it is the median of */
	bool wake_local;		/* ... all woken by the target CPU itself */
	uint64_t wake_remote_ns;	/* ns: the same, woken from another CPU (0: too few) */
	uint64_t wake_remote_samples;
	uint64_t switch_ns;		/* ns: median thread-to-thread switch (0: too few) */
	uint64_t switch_samples;
	uint64_t anon_prep_ns;		/* ns: median fault entry -> __vmf_anon_prepare's trylock
					   (0: too few) */
	uint64_t anon_prep_samples;	/* trylocks it is the median of */
	uint64_t span_ns;		/* first to last event */
	int autogroup;			/* kernel.sched_autogroup_enabled at capture: 0, 1, or -1
					 * not recorded (the model has no task groups) */
};

/* Fills in (fl_model_input_init first) from capture_id; -1 with err on failure. */
int fl_opstream_load(struct sqlite3 *db, int64_t capture_id, struct fl_model_input *in,
		     struct fl_opstream_info *info, struct fl_err *err);

/*
 * The capture's page-cache activity (struct fl_pc_activity, replay/model.h),
 * for --validate: add_to_page_cache and delete_from_page_cache events (of the
 * instance that holds them), the major file faults of followed tasks with the
 * insertions their own thread made between the fault's start and end, and the
 * block read completions (of any task: the device's). 0, or -1 with err.
 */
int fl_opstream_pc_activity(struct sqlite3 *db, int64_t capture_id, struct fl_pc_activity *a,
			    struct fl_err *err);

/*
 * The capture's mmap_lock writers that met a taken lock (struct fl_writer_waits,
 * replay/model.h), for --validate: the write acquisitions that found holders or
 * queued writers at start_locking, slept when the writer switched out before it
 * acquired (sched_switch of the main instance). 0, or -1 with err.
 */
int fl_opstream_writer_waits(struct sqlite3 *db, int64_t capture_id, struct fl_writer_waits *w,
			     struct fl_err *err);

#endif
