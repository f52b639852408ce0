/*
 * recon-layout.h - one process's VMAs as the reconstruction knows them.
 * Private to db/recon*.c. Addresses in bytes, pgoff in pages.
 */
#ifndef FL_RECON_LAYOUT_H
#define FL_RECON_LAYOUT_H

#include "db/reconstruct.h"

struct fl_vma {
	uint64_t start, end;		/* bytes, [start, end) */
	uint8_t kind;			/* enum fl_vma_kind */
	bool shared;			/* MAP_SHARED / 's' in maps */
	bool from_snapshot;		/* known from maps (else created by a traced syscall) */
	bool heap;			/* [heap]: brk moves its end */
	bool had_write;			/* a write fault happened in it during the capture */
	uint32_t dev;			/* kernel dev_t (major << 20 | minor), 0 unknown */
	uint64_t ino;			/* 0 unknown */
	uint64_t pgoff;			/* file offset of start, pages */
};

struct fl_layout {
	struct fl_vma *v;		/* sorted by start, non-overlapping */
	size_t n, cap;
	uint64_t page_size;		/* bytes */
};

const struct fl_vma *fl_layout_find(const struct fl_layout *l, uint64_t addr);
struct fl_vma *fl_layout_find_mut(struct fl_layout *l, uint64_t addr);
void fl_layout_unmap(struct fl_layout *l, uint64_t start, uint64_t end);
/* Maps v, replacing whatever overlapped it (MAP_FIXED semantics). */
void fl_layout_map(struct fl_layout *l, const struct fl_vma *v);
/* Replaces the layout with the rows of a /proc/PID/maps text; returns the rows read. */
int fl_layout_load_maps(struct fl_layout *l, const char *text, size_t len);
void fl_layout_release(struct fl_layout *l);

#endif
