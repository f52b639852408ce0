/*
 * recon-map.h - a small open-addressing hash map from uint64_t keys to
 * uint64_t values, used by the reconstruction for tids, mm addresses, block
 * requests and page-cache deletions. Private to db/recon*.c.
 *
 * Invariant: cap is a power of two and n <= cap / 2; a slot is in use iff
 * used[i]. Deletion uses backward shift, so there are no tombstones.
 */
#ifndef FL_RECON_MAP_H
#define FL_RECON_MAP_H

#include "common/fl.h"

struct fl_u64map {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used;
	size_t cap, n;
};

/* A pointer to the value of key, or NULL. */
uint64_t *fl_u64map_get(struct fl_u64map *m, uint64_t key);
/* A pointer to the value of key, inserting *created = true and value 0 if absent. */
uint64_t *fl_u64map_put(struct fl_u64map *m, uint64_t key, bool *created);
void fl_u64map_del(struct fl_u64map *m, uint64_t key);
void fl_u64map_release(struct fl_u64map *m);

#endif
