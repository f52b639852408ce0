/*
 * recon-layout.h - one process's VMAs as the reconstruction knows them, and
 * the versions they go through. Private to db/recon*.c. Addresses in bytes,
 * pgoff in pages, times in ns of the trace clock.
 *
 * Every change (map, unmap, protect, and the in-place edits of brk) ends the
 * versions it touches, through the layout's retire callback, and starts new
 * ones stamped with the change's time, source and writer_op (the "ctx" fields
 * the caller sets before the change). What is left in the layout at the end
 * is retired by the caller.
 */
#ifndef FL_RECON_LAYOUT_H
#define FL_RECON_LAYOUT_H

#include "db/reconstruct.h"
#include "db/recon-map.h"

/* Interned strings (paths): equal strings share one pointer, freed with the pool. */
struct fl_strpool {
	char **s;
	size_t n, cap;
	struct fl_u64map idx;		/* hash of the bytes -> index + 1 */
};
const char *fl_strpool_get(struct fl_strpool *p, const char *s, size_t len);
void fl_strpool_release(struct fl_strpool *p);

struct fl_vma {
	uint64_t start, end;		/* bytes, [start, end) */
	uint8_t kind;			/* enum fl_vma_kind */
	uint8_t prot;			/* PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4 */
	bool shared;			/* MAP_SHARED / 's' in maps */
	bool from_snapshot;		/* known from maps (else created by a traced syscall) */
	bool heap;			/* [heap]: brk moves its end */
	bool had_write;			/* a write fault happened in it during the capture */
	uint32_t dev;			/* kernel dev_t (major << 20 | minor), 0 unknown */
	uint64_t ino;			/* 0 unknown */
	uint64_t pgoff;			/* file offset of start, pages */
	const char *path;		/* interned (pool); NULL: anonymous or not known */
	/* the version */
	int64_t id;			/* vma row id, 1, 2, ... in order of creation */
	uint64_t from_ns;		/* valid from */
	uint8_t source;			/* enum fl_vma_source */
	int64_t op;			/* writer_op id that made it, 0 none */
};

struct fl_layout {
	struct fl_vma *v;		/* sorted by start, non-overlapping */
	size_t n, cap;
	uint64_t page_size;		/* bytes */
	struct fl_strpool *pool;	/* for paths; NULL: paths are dropped */
	/* the change being made: set by the caller before map/unmap/protect */
	uint64_t now;			/* ns */
	uint8_t source;			/* source of the versions it creates */
	uint8_t split_source;		/* source of the pieces left of a VMA it cuts */
	int64_t op;			/* writer_op id, 0 none */
	int64_t *next_id;		/* version id counter (shared by all layouts); NULL: ids 0 */
	void (*retire)(void *arg, const struct fl_vma *v);	/* a version ends at now */
	void *retire_arg;
};

const struct fl_vma *fl_layout_find(const struct fl_layout *l, uint64_t addr);
struct fl_vma *fl_layout_find_mut(struct fl_layout *l, uint64_t addr);
void fl_layout_unmap(struct fl_layout *l, uint64_t start, uint64_t end);
/* Maps v, replacing whatever overlapped it (MAP_FIXED semantics); v's version is set here. */
void fl_layout_map(struct fl_layout *l, const struct fl_vma *v);
/* mprotect: [start, end) gets prot; VMAs whose prot changes are split at its edges. */
void fl_layout_protect(struct fl_layout *l, uint64_t start, uint64_t end, uint8_t prot);
/* Ends version *v and starts the next one (brk moved its end): call after editing a copy. */
void fl_layout_replace(struct fl_layout *l, size_t i, const struct fl_vma *v);
/* Retires every VMA and empties the layout (exec, exit). */
void fl_layout_clear(struct fl_layout *l);
/*
 * Replaces the layout with the rows of a /proc/PID/maps text (each a new
 * version of the layout's source, from now); returns the rows read.
 */
int fl_layout_load_maps(struct fl_layout *l, const char *text, size_t len);
/* Parses one maps text into v[] (not a layout: no versions, no retire); returns rows. */
int fl_maps_parse(const char *text, size_t len, uint64_t page_size, struct fl_strpool *pool,
		  struct fl_vma **v, size_t *n);
void fl_layout_release(struct fl_layout *l);

#endif
