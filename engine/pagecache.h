/*
 * pagecache.h - folios of the page cache per (file, index), their locks and
 * waiters, an LRU under a capacity, fault-around and read-around readahead
 * (kernel-semantics.md §1, §6.1).
 *
 * Conventions: indexes and sizes in pages; times in ns. A folio is one page
 * (order 0). Folio pointers stay valid while the caller holds a reference
 * (fl_folio_get) or the folio lock; an unreferenced, unlocked folio may be
 * evicted by any insertion. Wake-ups are list-based like the rwsem: unlock,
 * read completion and writeback end put waiters on the cache's wake list,
 * taken with fl_pagecache_woken(); a waiter with ->granted set now owns the
 * folio lock.
 */
#ifndef FL_ENGINE_PAGECACHE_H
#define FL_ENGINE_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fl.h"

#define FL_NIL UINT32_MAX

/* struct fl_folio.flags */
#define FL_FOLIO_LOCKED		0x01	/* PG_locked */
#define FL_FOLIO_UPTODATE	0x02	/* PG_uptodate */
#define FL_FOLIO_WRITEBACK	0x04	/* PG_writeback */
#define FL_FOLIO_READAHEAD	0x08	/* PG_readahead: the async readahead marker */
#define FL_FOLIO_READ_IO	0x10	/* locked for read I/O until fl_pagecache_read_done */
#define FL_FOLIO_WORKINGSET	0x20	/* PG_workingset: inserted where this cache evicted one */
#define FL_FOLIO_FOREIGN	0x40	/* cached before the run and charged elsewhere: uptodate,
					 * never on the LRU, not counted against the capacity */
#define FL_FOLIO_ACTIVE		0x80	/* PG_active: on the active list (cfg.two_lists) */
#define FL_FOLIO_YOUNG		0x100	/* accessed since reclaim last looked (young PTE or
					 * folio_mark_accessed; cfg.two_lists) */
#define FL_FOLIO_REFERENCED	0x200	/* PG_referenced: kept once by reclaim (cfg.two_lists) */

/* The states of §1's enum folio_state, derived from the flags. */
enum fl_folio_state {
	FL_FOLIO_ABSENT,
	FL_FOLIO_LOCKED_READ_IO,	/* locked, !uptodate, read I/O in flight */
	FL_FOLIO_UPTODATE_UNLOCKED,
	FL_FOLIO_LOCKED_SHORT,		/* locked and uptodate (someone is mapping it, ...) */
	FL_FOLIO_WRITEBACK_WAIT,	/* under writeback */
	FL_FOLIO_NOT_UPTODATE,		/* unlocked and !uptodate (read error / just created) */
};

enum fl_folio_wait {
	FL_FOLIO_WAIT_LOCK,		/* folio_lock: exclusive, lock handed over on unlock */
	FL_FOLIO_WAIT_UNLOCKED,		/* folio_wait_locked: woken by any unlock */
	FL_FOLIO_WAIT_WRITEBACK,	/* folio_wait_writeback */
};

struct fl_folio_waiter {
	uint32_t tid;			/* caller's thread id */
	uint8_t kind;			/* enum fl_folio_wait */
	uint8_t granted;		/* woken holding the folio lock */
	uint64_t t_wait;		/* ns: started waiting */
	uint64_t tag;			/* caller's */
	struct fl_folio *folio;		/* the folio waited on */
	struct fl_folio_waiter *next;	/* folio's wait queue */
	struct fl_folio_waiter *wake_next;	/* wake list */
};

struct fl_folio {
	uint64_t index;			/* pages: offset in the file */
	uint32_t file;			/* caller's file id */
	uint32_t slot;			/* pool index */
	uint32_t flags;			/* FL_FOLIO_* */
	uint32_t refs;			/* caller references: pinned against eviction */
	uint32_t lru_prev, lru_next;	/* LRU links (slots), FL_NIL at the ends */
	uint32_t hash_next;		/* free list link when unused */
	uint8_t in_cache;		/* in the page cache (not evicted/free) */
	struct fl_folio_waiter *wq_head, *wq_tail;	/* FIFO waiters */
	uint64_t t_added;		/* ns: inserted (mm_filemap_add_to_page_cache) */
	uint64_t t_uptodate;		/* ns: read completed */
	uint64_t io_tag;		/* caller's I/O request while READ_IO */
};

struct fl_pagecache_stats {
	uint64_t lookups, hits, misses;	/* fl_pagecache_lookup calls */
	uint64_t added;			/* folios inserted */
	uint64_t evicted;		/* folios reclaimed by the LRU */
	uint64_t scanned;		/* folios reclaim looked at (evicted, kept or passed over) */
	uint64_t activated;		/* refaults and twice-referenced folios made active */
	uint64_t deactivated;		/* active folios moved to the inactive list */
	uint64_t rotated;		/* referenced inactive folios kept by reclaim */
	uint64_t over_capacity;		/* insertions left over capacity (all pinned) */
	uint64_t charge_failed;		/* insertions refused (cfg.strict) */
	uint64_t resident_max;		/* pages */
	uint64_t fault_around_mapped;	/* pages mapped by fault-around */
	uint64_t readahead_pages;	/* pages created by readahead */
	uint64_t anomalies;		/* impossible calls, ignored */
};

struct fl_pagecache_cfg {
	uint64_t capacity_pages;	/* pages: memcg limit; 0 = unlimited */
	uint32_t fault_around_pages;	/* fault_around_bytes / page size (16 = 64 KiB) */
	uint32_t ra_pages;		/* readahead window in pages (32 = 128 KiB) */
	bool two_lists;			/* the kernel's active/inactive file LRU (see
					 * pagecache.c); false: one list, touch = move to head */
	bool rotate_busy;		/* reclaim moves folios it cannot take to the head */
	bool strict;			/* charge as the memory cgroup does: an insertion that
					 * reclaim cannot make room for fails (NULL; readahead
					 * stops there); false: it goes over the capacity */
};

typedef void (*fl_evict_fn)(void *ctx, const struct fl_folio *f, uint64_t now);

struct fl_pagecache {
	struct fl_pagecache_cfg cfg;
	struct fl_folio **chunks;	/* folio pool in chunks of 4096: stable pointers */
	uint32_t nchunks;
	uint32_t nslots;		/* slots handed out */
	uint32_t free_slot;		/* free list head (slot), FL_NIL */
	uint32_t *table;		/* open-addressing hash: slot or FL_NIL */
	uint32_t table_mask;		/* table size - 1 */
	uint64_t resident;		/* pages in the cache on the LRU (charged) */
	uint64_t foreign;		/* FL_FOLIO_FOREIGN pages in the cache */
	uint32_t lru_head, lru_tail;	/* most / least recently used slot (the inactive list
					 * with cfg.two_lists) */
	uint32_t act_head, act_tail;	/* the active list (cfg.two_lists) */
	uint64_t nr_active;		/* pages on the active list */
	struct fl_folio_waiter *woken_head, *woken_tail;
	uint32_t **shadow;		/* [file][index] eviction stamp (evicted + activated + 1 when
					 * it was evicted) of evicted, not yet refaulted pages */
	uint64_t *shadow_words;		/* [file] entries in shadow[file] */
	uint32_t nshadow;		/* files with a shadow slot */
	fl_evict_fn on_evict;		/* called per eviction, may be NULL */
	void *evict_ctx;
	struct fl_pagecache_stats stats;
};

void fl_pagecache_cfg_default(struct fl_pagecache_cfg *cfg);	/* unlimited, 16, 32 */
void fl_pagecache_init(struct fl_pagecache *pc, const struct fl_pagecache_cfg *cfg);
void fl_pagecache_release(struct fl_pagecache *pc);

enum fl_folio_state fl_folio_state(const struct fl_folio *f);	/* ABSENT for NULL */
/* filemap_get_folio: the folio or NULL; counts a hit/miss; does not touch the LRU. */
struct fl_folio *fl_pagecache_lookup(struct fl_pagecache *pc, uint32_t file, uint64_t index);
/* Same without counting (inspection). */
struct fl_folio *fl_pagecache_peek(const struct fl_pagecache *pc, uint32_t file, uint64_t index);
/* folio_mark_accessed: move to the most recently used end. */
void fl_pagecache_touch(struct fl_pagecache *pc, struct fl_folio *f);
/* Inserts a new folio, LOCKED and !uptodate (for read I/O) when locked, else unlocked
 * and !uptodate; may evict others. NULL (and an anomaly) if it already exists; NULL
 * (charge_failed) under cfg.strict when nothing can be evicted to make room. */
struct fl_folio *fl_pagecache_add(struct fl_pagecache *pc, uint32_t file, uint64_t index,
				  bool locked, uint64_t now);
/*
 * A page the workload found cached before the run (a shared library, a file
 * another cgroup read): uptodate, unlocked, outside the LRU and the capacity,
 * as a page charged to another memory cgroup is outside this one's reclaim
 * (mm/vmscan.c scans the charging memcg's lruvecs only). NULL if present.
 */
struct fl_folio *fl_pagecache_add_foreign(struct fl_pagecache *pc, uint32_t file, uint64_t index,
					  uint64_t now);
/* Removes an unlocked, unreferenced folio (truncate/invalidate); false if it cannot. */
bool fl_pagecache_remove(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now);

void fl_folio_get(struct fl_pagecache *pc, struct fl_folio *f);
void fl_folio_put(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now);
bool fl_folio_trylock(struct fl_pagecache *pc, struct fl_folio *f);
/*
 * folio_lock / folio_wait_locked / folio_wait_writeback for waiter wt:
 * true = no wait (lock taken / not locked / not under writeback); false =
 * queued, fl_pagecache_woken() returns wt later. wt->folio is set; the caller
 * should hold a reference while waiting, as the kernel does.
 */
bool fl_folio_lock(struct fl_pagecache *pc, struct fl_folio *f, struct fl_folio_waiter *wt,
		   uint64_t now);
bool fl_folio_wait_locked(struct fl_pagecache *pc, struct fl_folio *f,
			  struct fl_folio_waiter *wt, uint64_t now);
bool fl_folio_wait_writeback(struct fl_pagecache *pc, struct fl_folio *f,
			     struct fl_folio_waiter *wt, uint64_t now);
/* Removes a waiter that gives up (fatal signal); false if it was not queued. */
bool fl_folio_wait_cancel(struct fl_pagecache *pc, struct fl_folio_waiter *wt);
/* folio_unlock: wakes UNLOCKED waiters up to and handing the lock to the first LOCK waiter. */
void fl_folio_unlock(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now);
/* Read I/O completed (folio_end_read): uptodate (if ok) and unlock. */
void fl_pagecache_read_done(struct fl_pagecache *pc, struct fl_folio *f, bool ok, uint64_t now);
void fl_folio_start_writeback(struct fl_pagecache *pc, struct fl_folio *f);
void fl_folio_end_writeback(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now);
struct fl_folio_waiter *fl_pagecache_woken(struct fl_pagecache *pc);

/*
 * Readahead of [start, start + nr) clipped to [0, file_pages): creates the
 * absent folios LOCKED for read I/O (skipping present ones), marks the one at
 * mark (if created) with PG_readahead, stores the created folios in index order
 * in out[] (room for nr) and returns how many. Under cfg.strict it stops at the
 * first folio the capacity refuses (charge_failed grows). The caller submits the I/O (one
 * request per contiguous run) and calls fl_pagecache_read_done per folio.
 */
size_t fl_pagecache_readahead(struct fl_pagecache *pc, uint32_t file, uint64_t start, uint64_t nr,
			      uint64_t mark, uint64_t file_pages, uint64_t now,
			      struct fl_folio **out);
/* do_sync_mmap_readahead read-around (§6.1): the window [*start, *start + ra) around index,
 * [index - ra/2, +ra) clipped at 0, and its PG_readahead marker, ra/4 from its end. */
void fl_read_around_window(uint64_t index, uint64_t ra, uint64_t *start, uint64_t *mark);
/* Reads that window at once; out[] needs cfg.ra_pages entries. (The model charges it in
 * chunks instead: replay/model.c ra_start.) */
size_t fl_pagecache_read_around(struct fl_pagecache *pc, uint32_t file, uint64_t index,
				uint64_t file_pages, uint64_t now, struct fl_folio **out);
/*
 * do_fault_around's window in file indexes: the fault_around_pages-aligned
 * block of virtual pages around the fault, clipped to the VMA (vma_pages long,
 * starting at file index vma_pgoff) — §6.1. addr_page is the faulting virtual
 * page number, index its file index.
 */
void fl_fault_around_window(uint64_t addr_page, uint64_t index, uint64_t vma_pgoff,
			    uint64_t vma_pages, uint32_t nr, uint64_t *lo, uint64_t *hi);
/* filemap_map_pages over [lo, hi): maps uptodate, unlocked folios without the
 * readahead marker (touching them); returns how many; *target says whether
 * index was among them; *cold (may be NULL) how many of them lack PG_workingset
 * (the hits that decrement file_ra_state.mmap_miss). */
size_t fl_pagecache_map_pages(struct fl_pagecache *pc, uint32_t file, uint64_t lo, uint64_t hi,
			      uint64_t index, bool *target, size_t *cold);

#endif
