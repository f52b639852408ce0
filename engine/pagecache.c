/*
 * pagecache.c - the page cache of the lock model (kernel-semantics.md §1, §6).
 *
 * One struct fl_folio per cached (file, index) page, in a pool of stable
 * chunks, found through an open-addressing hash (linear probing, backward-
 * shift deletion). States follow §1 and are derived from the flags:
 *   absent -> LOCKED_READ_IO (readahead/find_or_create, I/O in flight)
 *          -> UPTODATE (read completed: folio_end_read sets uptodate, unlocks)
 *          -> LOCKED_SHORT (a fault holds the lock briefly) / WRITEBACK
 *          -> absent (evicted or removed).
 * The PG_readahead marker is a separate flag; fault-around skips folios that
 * carry it, so the fault reaches filemap_fault and triggers async readahead
 * (§6.1 case B').
 *
 * Waiters queue FIFO per folio. folio_unlock wakes the non-exclusive
 * (folio_wait_locked) waiters in order up to the first exclusive folio_lock
 * waiter, which is handed the lock (wake_page_function), and stops there.
 *
 * Capacity: cfg.capacity_pages is the memory cgroup limit. Whenever the cache
 * is over it (after an insertion, an unlock or a put) the least recently used
 * folio that is unlocked, not under writeback, unreferenced and has no waiters
 * is evicted, until it fits or nothing is evictable (counted as
 * over_capacity). A fault that waited for I/O holds a reference until its
 * out_retry drops it; from then on the folio is clean, unlocked, unmapped and
 * evictable, so if other insertions push it out before the retry's lookup the
 * retry misses (RETRY_IO_MISS, §6.1 "Eviction window") — the engine does not
 * decide that, the LRU order does. Mapped pages are not modelled: a mapped
 * folio is as evictable as any other (reclaim unmaps it).
 *
 * The LRU is one list (no active/inactive split); lookups do not reorder it,
 * fl_pagecache_touch (folio_mark_accessed) and fault-around do.
 */
#include "engine/pagecache.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT 12
#define CHUNK_SIZE (1u << CHUNK_SHIFT)

static inline struct fl_folio *slot_folio(const struct fl_pagecache *pc, uint32_t s)
{
	return &pc->chunks[s >> CHUNK_SHIFT][s & (CHUNK_SIZE - 1)];
}

static inline uint64_t key_hash(uint32_t file, uint64_t index)
{
	uint64_t h = (uint64_t)file * 0x9e3779b97f4a7c15ULL ^ index * 0xc2b2ae3d27d4eb4fULL;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 29);
}

void fl_pagecache_cfg_default(struct fl_pagecache_cfg *cfg)
{
	cfg->capacity_pages = 0;
	cfg->fault_around_pages = 16;
	cfg->ra_pages = 32;
	cfg->two_lists = false;
	cfg->rotate_busy = false;
	cfg->strict = false;
}

void fl_pagecache_init(struct fl_pagecache *pc, const struct fl_pagecache_cfg *cfg)
{
	memset(pc, 0, sizeof(*pc));
	if (cfg)
		pc->cfg = *cfg;
	else
		fl_pagecache_cfg_default(&pc->cfg);
	pc->free_slot = FL_NIL;
	pc->lru_head = pc->lru_tail = FL_NIL;
	pc->act_head = pc->act_tail = FL_NIL;
	pc->table_mask = 1023;
	pc->table = fl_malloc((pc->table_mask + 1) * sizeof(*pc->table));
	memset(pc->table, 0xff, (pc->table_mask + 1) * sizeof(*pc->table));
}

void fl_pagecache_release(struct fl_pagecache *pc)
{
	for (uint32_t i = 0; i < pc->nshadow; i++)
		free(pc->shadow[i]);
	free(pc->shadow);
	free(pc->shadow_words);
	for (uint32_t i = 0; i < pc->nchunks; i++)
		free(pc->chunks[i]);
	free(pc->chunks);
	free(pc->table);
	memset(pc, 0, sizeof(*pc));
}

enum fl_folio_state fl_folio_state(const struct fl_folio *f)
{
	if (!f || !f->in_cache)
		return FL_FOLIO_ABSENT;
	if (f->flags & FL_FOLIO_WRITEBACK)
		return FL_FOLIO_WRITEBACK_WAIT;
	if (f->flags & FL_FOLIO_LOCKED)
		return (f->flags & FL_FOLIO_UPTODATE) ? FL_FOLIO_LOCKED_SHORT
						      : FL_FOLIO_LOCKED_READ_IO;
	return (f->flags & FL_FOLIO_UPTODATE) ? FL_FOLIO_UPTODATE_UNLOCKED : FL_FOLIO_NOT_UPTODATE;
}

/* ---- hash ---- */

static void table_put(struct fl_pagecache *pc, uint32_t slot)
{
	struct fl_folio *f = slot_folio(pc, slot);
	uint32_t i = key_hash(f->file, f->index) & pc->table_mask;

	while (pc->table[i] != FL_NIL)
		i = (i + 1) & pc->table_mask;
	pc->table[i] = slot;
}

static void table_grow(struct fl_pagecache *pc)
{
	uint32_t *old = pc->table, oldn = pc->table_mask + 1;

	pc->table_mask = 2 * oldn - 1;
	pc->table = fl_malloc(2 * (size_t)oldn * sizeof(*pc->table));
	memset(pc->table, 0xff, 2 * (size_t)oldn * sizeof(*pc->table));
	for (uint32_t i = 0; i < oldn; i++)
		if (old[i] != FL_NIL)
			table_put(pc, old[i]);
	free(old);
}

static uint32_t table_find(const struct fl_pagecache *pc, uint32_t file, uint64_t index)
{
	uint32_t i = key_hash(file, index) & pc->table_mask;

	for (;;) {
		uint32_t s = pc->table[i];

		if (s == FL_NIL)
			return FL_NIL;
		struct fl_folio *f = slot_folio(pc, s);
		if (f->file == file && f->index == index)
			return i;
		i = (i + 1) & pc->table_mask;
	}
}

static void table_del(struct fl_pagecache *pc, uint32_t i)
{
	uint32_t j = i;

	pc->table[i] = FL_NIL;
	for (;;) {
		uint32_t s, home;

		j = (j + 1) & pc->table_mask;
		s = pc->table[j];
		if (s == FL_NIL)
			return;
		struct fl_folio *f = slot_folio(pc, s);
		home = key_hash(f->file, f->index) & pc->table_mask;
		/* move s back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		pc->table[i] = s;
		pc->table[j] = FL_NIL;
		i = j;
	}
}

/* ---- LRU ---- */

/* The list a folio is on: the active one with FL_FOLIO_ACTIVE, else the (inactive) LRU. */
static void lru_ends(struct fl_pagecache *pc, const struct fl_folio *f, uint32_t **head,
		     uint32_t **tail)
{
	bool act = f->flags & FL_FOLIO_ACTIVE;

	*head = act ? &pc->act_head : &pc->lru_head;
	*tail = act ? &pc->act_tail : &pc->lru_tail;
}

static void lru_unlink(struct fl_pagecache *pc, struct fl_folio *f)
{
	uint32_t *head, *tail;

	lru_ends(pc, f, &head, &tail);
	if (f->lru_prev != FL_NIL)
		slot_folio(pc, f->lru_prev)->lru_next = f->lru_next;
	else
		*head = f->lru_next;
	if (f->lru_next != FL_NIL)
		slot_folio(pc, f->lru_next)->lru_prev = f->lru_prev;
	else
		*tail = f->lru_prev;
	f->lru_prev = f->lru_next = FL_NIL;
	if (f->flags & FL_FOLIO_ACTIVE)
		pc->nr_active--;
}

static void lru_push_head(struct fl_pagecache *pc, struct fl_folio *f)
{
	uint32_t *head, *tail;

	lru_ends(pc, f, &head, &tail);
	f->lru_prev = FL_NIL;
	f->lru_next = *head;
	if (*head != FL_NIL)
		slot_folio(pc, *head)->lru_prev = f->slot;
	else
		*tail = f->slot;
	*head = f->slot;
	if (f->flags & FL_FOLIO_ACTIVE)
		pc->nr_active++;
}

/* Moves f to the head of the active (active true) or inactive list. */
static void lru_move(struct fl_pagecache *pc, struct fl_folio *f, bool active)
{
	lru_unlink(pc, f);
	if (active)
		f->flags |= FL_FOLIO_ACTIVE;
	else
		f->flags &= ~FL_FOLIO_ACTIVE;
	lru_push_head(pc, f);
}

void fl_pagecache_touch(struct fl_pagecache *pc, struct fl_folio *f)
{
	if (!f->in_cache || (f->flags & FL_FOLIO_FOREIGN))
		return;
	if (pc->cfg.two_lists) {
		/* the hardware sets the PTE's accessed bit; reclaim reads it (below) */
		f->flags |= FL_FOLIO_YOUNG;
		return;
	}
	if (pc->lru_head == f->slot)
		return;
	lru_unlink(pc, f);
	lru_push_head(pc, f);
}

/* ---- insertion and removal ---- */

static struct fl_folio *slot_alloc(struct fl_pagecache *pc)
{
	uint32_t s = pc->free_slot;
	struct fl_folio *f;

	if (s != FL_NIL) {
		f = slot_folio(pc, s);
		pc->free_slot = f->hash_next;
	} else {
		if ((pc->nslots >> CHUNK_SHIFT) == pc->nchunks) {
			pc->chunks = fl_realloc(pc->chunks,
						(pc->nchunks + 1) * sizeof(*pc->chunks));
			pc->chunks[pc->nchunks++] = fl_malloc(CHUNK_SIZE * sizeof(struct fl_folio));
		}
		s = pc->nslots++;
		f = slot_folio(pc, s);
	}
	memset(f, 0, sizeof(*f));
	f->slot = s;
	f->lru_prev = f->lru_next = f->hash_next = FL_NIL;
	return f;
}

static bool evictable(const struct fl_folio *f)
{
	return !(f->flags & (FL_FOLIO_LOCKED | FL_FOLIO_WRITEBACK)) && !f->refs && !f->wq_head;
}

static void drop(struct fl_pagecache *pc, struct fl_folio *f)
{
	uint32_t i = table_find(pc, f->file, f->index);

	if (i != FL_NIL)
		table_del(pc, i);
	if (f->flags & FL_FOLIO_FOREIGN) {
		pc->foreign--;
	} else {
		lru_unlink(pc, f);
		pc->resident--;
	}
	f->in_cache = 0;
	f->hash_next = pc->free_slot;
	pc->free_slot = f->slot;
}

/* The memcg's nonresident_age (workingset_age_nonresident): evictions and activations. */
static uint64_t nonresident_age(const struct fl_pagecache *pc)
{
	return pc->stats.evicted + pc->stats.activated;
}

/*
 * Shadow entries: the kernel leaves a shadow in the page cache for an evicted
 * folio holding the memcg's nonresident_age then (it counts evictions and
 * activations, workingset_age_nonresident), and workingset_refault()
 * (mm/workingset.c workingset_test_recent) compares the refault distance — the
 * age since — with the workingset: for a file folio without swap, the active
 * file list alone (NR_ACTIVE_FILE; the anon lists count only when there is
 * swap, and this model has none). A refault within it is activated at once
 * (folio_set_active). Here the age is stats.evicted + stats.activated
 * (nonresident_age) and the stamp is that + 1 at the eviction. So under a
 * thrash whose active list is small, re-read pages start inactive and are
 * reclaimed as readily as the first time. Without cfg.two_lists every refault
 * is PG_workingset and nothing is activated (one list): under a thrash inside a
 * memory cgroup, the case the model replays, refaults are recent, so that is
 * the steady state.
 */
static void shadow_set(struct fl_pagecache *pc, uint32_t file, uint64_t index)
{
	if (file >= pc->nshadow) {
		uint32_t n = file + 1;

		pc->shadow = fl_realloc(pc->shadow, n * sizeof(*pc->shadow));
		pc->shadow_words = fl_realloc(pc->shadow_words, n * sizeof(*pc->shadow_words));
		for (uint32_t i = pc->nshadow; i < n; i++) {
			pc->shadow[i] = NULL;
			pc->shadow_words[i] = 0;
		}
		pc->nshadow = n;
	}
	if (index >= pc->shadow_words[file]) {
		uint64_t n = 2 * (index + 1);

		pc->shadow[file] = fl_realloc(pc->shadow[file], n * sizeof(uint32_t));
		memset(pc->shadow[file] + pc->shadow_words[file], 0,
		       (n - pc->shadow_words[file]) * sizeof(uint32_t));
		pc->shadow_words[file] = n;
	}
	pc->shadow[file][index] = (uint32_t)(nonresident_age(pc) + 1);
}

/* Takes the shadow of (file, index): 0 if none, else its stamp (a refault). */
static uint32_t shadow_take(struct fl_pagecache *pc, uint32_t file, uint64_t index)
{
	uint32_t stamp;

	if (file >= pc->nshadow || index >= pc->shadow_words[file])
		return 0;
	stamp = pc->shadow[file][index];
	pc->shadow[file][index] = 0;
	return stamp;
}

static void evict(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now)
{
	if (pc->on_evict)
		pc->on_evict(pc->evict_ctx, f, now);
	pc->stats.evicted++;
	shadow_set(pc, f->file, f->index);
	drop(pc, f);
}

/*
 * The kernel's two-list reclaim of file folios in a memory cgroup
 * (mm/vmscan.c shrink_lruvec): while the inactive list is smaller than the
 * active one (inactive_is_low, ratio 1 below 1 GiB) the active tail is
 * deactivated (shrink_active_list: referenced file folios are deactivated
 * too unless they are executable, and their accessed bits are cleared);
 * the inactive tail is then reclaimed (shrink_folio_list ->
 * folio_check_references): accessed and already PG_referenced -> activated;
 * accessed once -> PG_referenced, kept (rotated); not accessed -> evicted.
 * Folios that cannot be reclaimed (locked, under writeback, referenced,
 * waited on) are passed over. Scans at most twice the resident pages.
 */
static void reclaim_two_lists(struct fl_pagecache *pc, uint64_t target, uint64_t now)
{
	uint64_t budget = 2 * (pc->resident + 16);
	uint32_t s = pc->lru_tail;

	while (pc->resident > target && budget--) {
		struct fl_folio *f;

		/* inactive too small, or all of it scanned: age the active list */
		if ((pc->nr_active > pc->resident - pc->nr_active || s == FL_NIL) &&
		    pc->act_tail != FL_NIL) {
			f = slot_folio(pc, pc->act_tail);
			f->flags &= ~FL_FOLIO_YOUNG;
			lru_move(pc, f, false);
			pc->stats.deactivated++;
			s = pc->lru_tail;
			continue;
		}
		if (s == FL_NIL)
			break;
		f = slot_folio(pc, s);
		s = f->lru_prev;
		pc->stats.scanned++;
		if (!evictable(f)) {
			if (pc->cfg.rotate_busy)
				lru_move(pc, f, false);		/* keep: back at the head */
			continue;
		}
		if (f->flags & FL_FOLIO_YOUNG) {
			f->flags &= ~FL_FOLIO_YOUNG;
			if (f->flags & FL_FOLIO_REFERENCED) {
				f->flags &= ~FL_FOLIO_REFERENCED;
				lru_move(pc, f, true);
				pc->stats.activated++;
			} else {
				f->flags |= FL_FOLIO_REFERENCED;
				lru_move(pc, f, false);
				pc->stats.rotated++;
			}
			continue;
		}
		evict(pc, f, now);
	}
}

/* Evict least recently used evictable folios until at most target pages are resident. */
static void reclaim_to(struct fl_pagecache *pc, uint64_t target, uint64_t now)
{
	uint32_t s = pc->lru_tail;

	if (pc->cfg.two_lists) {
		reclaim_two_lists(pc, target, now);
		return;
	}
	uint64_t budget = 2 * (pc->resident + 16);

	while (pc->resident > target && s != FL_NIL && budget--) {
		struct fl_folio *f = slot_folio(pc, s);

		s = f->lru_prev;
		pc->stats.scanned++;
		if (!evictable(f)) {
			/* shrink_folio_list cannot take it (locked under I/O, writeback,
			 * in use): it goes back at the head of the list (keep ->
			 * move_folios_to_lru), so a readahead window scanned while its read
			 * is in flight is the newest when the read completes */
			if (pc->cfg.rotate_busy && pc->lru_head != f->slot) {
				lru_unlink(pc, f);
				lru_push_head(pc, f);
			}
			continue;
		}
		evict(pc, f, now);
	}
}

/* Evict while over capacity. */
static void reclaim(struct fl_pagecache *pc, uint64_t now)
{
	if (pc->cfg.capacity_pages)
		reclaim_to(pc, pc->cfg.capacity_pages, now);
}

struct fl_folio *fl_pagecache_peek(const struct fl_pagecache *pc, uint32_t file, uint64_t index)
{
	uint32_t i = table_find(pc, file, index);

	return i == FL_NIL ? NULL : slot_folio(pc, pc->table[i]);
}

struct fl_folio *fl_pagecache_lookup(struct fl_pagecache *pc, uint32_t file, uint64_t index)
{
	struct fl_folio *f = fl_pagecache_peek(pc, file, index);

	pc->stats.lookups++;
	if (f)
		pc->stats.hits++;
	else
		pc->stats.misses++;
	return f;
}

/* A new folio in the hash (not yet on the LRU or counted), or NULL if (file, index) is there. */
static struct fl_folio *insert(struct fl_pagecache *pc, uint32_t file, uint64_t index,
			       uint32_t flags, uint64_t now)
{
	struct fl_folio *f;

	if (fl_pagecache_peek(pc, file, index)) {
		pc->stats.anomalies++;
		return NULL;
	}
	if (2 * (pc->resident + pc->foreign + 1) > (uint64_t)pc->table_mask + 1)
		table_grow(pc);
	f = slot_alloc(pc);
	f->file = file;
	f->index = index;
	f->in_cache = 1;
	f->flags = flags;
	f->t_added = now;
	table_put(pc, f->slot);
	return f;
}

struct fl_folio *fl_pagecache_add(struct fl_pagecache *pc, uint32_t file, uint64_t index,
				  bool locked, uint64_t now)
{
	struct fl_folio *f;
	uint32_t stamp;

	if (pc->cfg.strict && pc->cfg.capacity_pages && !fl_pagecache_peek(pc, file, index) &&
	    pc->resident + 1 > pc->cfg.capacity_pages) {
		/* try_charge_memcg: reclaim first; no room -> the charge fails */
		reclaim_to(pc, pc->cfg.capacity_pages - 1, now);
		if (pc->resident + 1 > pc->cfg.capacity_pages) {
			pc->stats.charge_failed++;
			return NULL;
		}
	}
	f = insert(pc, file, index, locked ? FL_FOLIO_LOCKED | FL_FOLIO_READ_IO : 0, now);
	if (!f)
		return NULL;
	stamp = shadow_take(pc, file, index);
	if (stamp)
		f->flags |= FL_FOLIO_WORKINGSET;
	/* workingset_refault: a refault distance within the active file list activates */
	if (stamp && pc->cfg.two_lists &&
	    (uint32_t)(nonresident_age(pc) + 1) - stamp <= pc->nr_active) {
		f->flags |= FL_FOLIO_ACTIVE;
		pc->stats.activated++;
	}
	lru_push_head(pc, f);
	pc->resident++;
	pc->stats.added++;
	if (pc->resident > pc->stats.resident_max)
		pc->stats.resident_max = pc->resident;
	f->refs++;		/* never evict the folio being inserted */
	reclaim(pc, now);
	f->refs--;
	if (pc->cfg.capacity_pages && pc->resident > pc->cfg.capacity_pages)
		pc->stats.over_capacity++;
	return f;
}

struct fl_folio *fl_pagecache_add_foreign(struct fl_pagecache *pc, uint32_t file, uint64_t index,
					  uint64_t now)
{
	struct fl_folio *f = insert(pc, file, index, FL_FOLIO_UPTODATE | FL_FOLIO_FOREIGN, now);

	if (f) {
		f->t_uptodate = now;
		pc->foreign++;
	}
	return f;
}

bool fl_pagecache_remove(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now)
{
	if (!f->in_cache || !evictable(f))
		return false;
	drop(pc, f);
	return true;
}

void fl_folio_get(struct fl_pagecache *pc, struct fl_folio *f)
{
	f->refs++;
}

void fl_folio_put(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now)
{
	if (!f->refs) {
		pc->stats.anomalies++;
		return;
	}
	if (--f->refs == 0)
		reclaim(pc, now);
}

/* ---- locks and waiters ---- */

static void wake_add(struct fl_pagecache *pc, struct fl_folio_waiter *wt)
{
	wt->wake_next = NULL;
	if (pc->woken_tail)
		pc->woken_tail->wake_next = wt;
	else
		pc->woken_head = wt;
	pc->woken_tail = wt;
}

struct fl_folio_waiter *fl_pagecache_woken(struct fl_pagecache *pc)
{
	struct fl_folio_waiter *l = pc->woken_head;

	pc->woken_head = pc->woken_tail = NULL;
	return l;
}

static void wq_add(struct fl_folio *f, struct fl_folio_waiter *wt, enum fl_folio_wait kind,
		   uint64_t now)
{
	wt->kind = kind;
	wt->granted = 0;
	wt->t_wait = now;
	wt->folio = f;
	wt->next = NULL;
	if (f->wq_tail)
		f->wq_tail->next = wt;
	else
		f->wq_head = wt;
	f->wq_tail = wt;
}

bool fl_folio_trylock(struct fl_pagecache *pc, struct fl_folio *f)
{
	if (f->flags & FL_FOLIO_LOCKED)
		return false;
	f->flags |= FL_FOLIO_LOCKED;
	return true;
}

bool fl_folio_lock(struct fl_pagecache *pc, struct fl_folio *f, struct fl_folio_waiter *wt,
		   uint64_t now)
{
	wt->folio = f;
	wt->granted = 0;
	if (fl_folio_trylock(pc, f)) {
		wt->granted = 1;
		return true;
	}
	wq_add(f, wt, FL_FOLIO_WAIT_LOCK, now);
	return false;
}

bool fl_folio_wait_locked(struct fl_pagecache *pc, struct fl_folio *f,
			  struct fl_folio_waiter *wt, uint64_t now)
{
	wt->folio = f;
	wt->granted = 0;
	if (!(f->flags & FL_FOLIO_LOCKED))
		return true;
	wq_add(f, wt, FL_FOLIO_WAIT_UNLOCKED, now);
	return false;
}

bool fl_folio_wait_writeback(struct fl_pagecache *pc, struct fl_folio *f,
			     struct fl_folio_waiter *wt, uint64_t now)
{
	wt->folio = f;
	wt->granted = 0;
	if (!(f->flags & FL_FOLIO_WRITEBACK))
		return true;
	wq_add(f, wt, FL_FOLIO_WAIT_WRITEBACK, now);
	return false;
}

bool fl_folio_wait_cancel(struct fl_pagecache *pc, struct fl_folio_waiter *wt)
{
	struct fl_folio *f = wt->folio;
	struct fl_folio_waiter **pp, *prev = NULL;

	if (!f)
		return false;
	for (pp = &f->wq_head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != wt)
			continue;
		*pp = wt->next;
		if (f->wq_tail == wt)
			f->wq_tail = prev;
		wt->next = NULL;
		return true;
	}
	return false;
}

void fl_folio_unlock(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now)
{
	struct fl_folio_waiter **pp = &f->wq_head, *prev = NULL;

	if (!(f->flags & FL_FOLIO_LOCKED)) {
		pc->stats.anomalies++;
		return;
	}
	f->flags &= ~(FL_FOLIO_LOCKED | FL_FOLIO_READ_IO);
	while (*pp) {
		struct fl_folio_waiter *wt = *pp;

		if (wt->kind == FL_FOLIO_WAIT_WRITEBACK) {
			prev = wt;
			pp = &wt->next;
			continue;
		}
		*pp = wt->next;
		if (f->wq_tail == wt)
			f->wq_tail = prev;
		wt->next = NULL;
		wake_add(pc, wt);
		if (wt->kind == FL_FOLIO_WAIT_LOCK) {
			/* lock handed to the first exclusive waiter; the rest keep waiting */
			f->flags |= FL_FOLIO_LOCKED;
			wt->granted = 1;
			break;
		}
	}
	if (!(f->flags & FL_FOLIO_LOCKED))
		reclaim(pc, now);
}

void fl_pagecache_read_done(struct fl_pagecache *pc, struct fl_folio *f, bool ok, uint64_t now)
{
	if (ok) {
		f->flags |= FL_FOLIO_UPTODATE;
		f->t_uptodate = now;
	}
	fl_folio_unlock(pc, f, now);
}

void fl_folio_start_writeback(struct fl_pagecache *pc, struct fl_folio *f)
{
	f->flags |= FL_FOLIO_WRITEBACK;
}

void fl_folio_end_writeback(struct fl_pagecache *pc, struct fl_folio *f, uint64_t now)
{
	struct fl_folio_waiter **pp = &f->wq_head, *prev = NULL;

	if (!(f->flags & FL_FOLIO_WRITEBACK)) {
		pc->stats.anomalies++;
		return;
	}
	f->flags &= ~FL_FOLIO_WRITEBACK;
	while (*pp) {
		struct fl_folio_waiter *wt = *pp;

		if (wt->kind != FL_FOLIO_WAIT_WRITEBACK) {
			prev = wt;
			pp = &wt->next;
			continue;
		}
		*pp = wt->next;
		if (f->wq_tail == wt)
			f->wq_tail = prev;
		wt->next = NULL;
		wake_add(pc, wt);
	}
	reclaim(pc, now);
}

/* ---- readahead and fault-around ---- */

size_t fl_pagecache_readahead(struct fl_pagecache *pc, uint32_t file, uint64_t start, uint64_t nr,
			      uint64_t mark, uint64_t file_pages, uint64_t now,
			      struct fl_folio **out)
{
	size_t n = 0;
	uint64_t end = start + nr;

	if (end > file_pages)
		end = file_pages;
	for (uint64_t i = start; i < end; i++) {
		struct fl_folio *f;

		if (fl_pagecache_peek(pc, file, i))
			continue;
		f = fl_pagecache_add(pc, file, i, true, now);
		if (!f)
			break;		/* the charge failed: read what is there */
		if (i == mark)
			f->flags |= FL_FOLIO_READAHEAD;
		out[n++] = f;
	}
	pc->stats.readahead_pages += n;
	return n;
}

void fl_read_around_window(uint64_t index, uint64_t ra, uint64_t *start, uint64_t *mark)
{
	*start = index > ra / 2 ? index - ra / 2 : 0;
	*mark = *start + ra - ra / 4;
}

size_t fl_pagecache_read_around(struct fl_pagecache *pc, uint32_t file, uint64_t index,
				uint64_t file_pages, uint64_t now, struct fl_folio **out)
{
	uint64_t ra = pc->cfg.ra_pages, start, mark;

	if (!ra)
		return 0;
	fl_read_around_window(index, ra, &start, &mark);
	return fl_pagecache_readahead(pc, file, start, ra, mark, file_pages, now, out);
}

void fl_fault_around_window(uint64_t addr_page, uint64_t index, uint64_t vma_pgoff,
			    uint64_t vma_pages, uint32_t nr, uint64_t *lo, uint64_t *hi)
{
	const uint64_t ptrs_per_pte = 512;
	uint64_t pte_off = addr_page % ptrs_per_pte;
	uint64_t vma_off = index - vma_pgoff;
	uint64_t from, to, a;

	if (nr < 1)
		nr = 1;
	a = pte_off - pte_off % nr;
	from = pte_off - (pte_off < vma_off ? pte_off : vma_off);
	if (a > from)
		from = a;
	to = from + nr;
	if (to > ptrs_per_pte)
		to = ptrs_per_pte;
	if (to > pte_off + vma_pages - vma_off)
		to = pte_off + vma_pages - vma_off;
	*lo = index - (pte_off - from);
	*hi = index + (to - pte_off);
}

size_t fl_pagecache_map_pages(struct fl_pagecache *pc, uint32_t file, uint64_t lo, uint64_t hi,
			      uint64_t index, bool *target, size_t *cold)
{
	size_t n = 0;

	if (target)
		*target = false;
	if (cold)
		*cold = 0;
	for (uint64_t i = lo; i < hi; i++) {
		struct fl_folio *f = fl_pagecache_peek(pc, file, i);

		if (!f || (f->flags & (FL_FOLIO_LOCKED | FL_FOLIO_READAHEAD)) ||
		    !(f->flags & FL_FOLIO_UPTODATE))
			continue;
		fl_pagecache_touch(pc, f);
		n++;
		if (cold && !(f->flags & FL_FOLIO_WORKINGSET))
			(*cold)++;
		if (i == index && target)
			*target = true;
	}
	pc->stats.fault_around_mapped += n;
	return n;
}
