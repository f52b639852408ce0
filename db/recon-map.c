/*
 * recon-map.c - the uint64 -> uint64 hash map of the reconstruction.
 *
 * Linear probing over a power-of-two table kept at most half full; keys are
 * mixed with a 64-bit finaliser (tids and page-aligned addresses are not
 * random). Deleting shifts the following cluster back, so lookups never meet
 * tombstones and the table never needs cleaning.
 */
#include "db/recon-map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static void grow(struct fl_u64map *m)
{
	struct fl_u64map old = *m;
	size_t cap = old.cap ? old.cap * 2 : 64;

	m->keys = fl_calloc(cap, sizeof(*m->keys));
	m->vals = fl_calloc(cap, sizeof(*m->vals));
	m->used = fl_calloc(cap, 1);
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.used[i]) {
			bool c;
			*fl_u64map_put(m, old.keys[i], &c) = old.vals[i];
		}
	}
	free(old.keys);
	free(old.vals);
	free(old.used);
}

uint64_t *fl_u64map_get(struct fl_u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return &m->vals[i];
	}
}

uint64_t *fl_u64map_put(struct fl_u64map *m, uint64_t key, bool *created)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	for (i = mix(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*created = false;
			return &m->vals[i];
		}
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = 0;
	m->n++;
	*created = true;
	return &m->vals[i];
}

void fl_u64map_del(struct fl_u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap)
		return;
	for (i = mix(key) & mask;; i = (i + 1) & mask) {
		if (!m->used[i])
			return;
		if (m->keys[i] == key)
			break;
	}
	/* Backward shift: move later members of the cluster into the hole when allowed. */
	for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t home = mix(m->keys[j]) & mask;
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (between)
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
	m->used[i] = 0;
	m->n--;
}

void fl_u64map_release(struct fl_u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
