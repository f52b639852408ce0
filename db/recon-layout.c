/*
 * recon-layout.c - the address-space layout of each process over time, as far
 * as the capture shows it: /proc/PID/maps snapshots, then the results of the
 * mmap, munmap, mprotect, mremap and brk syscalls the capture traced.
 *
 * One layout per process, a sorted array of non-overlapping VMAs; lookups are
 * binary searches, updates rebuild the array (captured processes have a few
 * hundred to a few thousand VMAs and mmap-family syscalls are rare next to
 * faults). What the layout cannot know (a file mapped during the capture: its
 * inode) stays 0 and the fault row takes dev/ino/index from mm_filemap_fault.
 *
 * Versions: a VMA that a change touches is retired (its row ends at the
 * change's time) and whatever is left of it, and whatever the change makes,
 * starts a new version with a new id. Adjacent VMAs are never merged (the
 * kernel's vma_merge is not modelled): mprotect back and forth leaves pieces
 * that the kernel may have merged; their union is still the mapped range.
 */
#include "db/recon-layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string pool ---------------------------------------------------- */

const char *fl_strpool_get(struct fl_strpool *p, const char *s, size_t len)
{
	uint64_t h = fl_hash64(FL_HASH64_INIT, s, len);
	bool created;
	uint64_t *slot = fl_u64map_put(&p->idx, h, &created);
	char *c;

	if (!created) {
		const char *old = p->s[*slot - 1];
		if (strlen(old) == len && !memcmp(old, s, len))
			return old;
		/* a hash collision: keep the first string indexed, store this one unindexed */
	}
	c = fl_malloc(len + 1);
	memcpy(c, s, len);
	c[len] = 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->s = fl_realloc(p->s, p->cap * sizeof(*p->s));
	}
	p->s[p->n++] = c;
	if (created)
		*slot = p->n;
	return c;
}

void fl_strpool_release(struct fl_strpool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->s[i]);
	free(p->s);
	fl_u64map_release(&p->idx);
	memset(p, 0, sizeof(*p));
}

/* ---- the layout ----------------------------------------------------- */

void fl_layout_release(struct fl_layout *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

const struct fl_vma *fl_layout_find(const struct fl_layout *l, uint64_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < l->v[mid].start)
			hi = mid;
		else if (addr >= l->v[mid].end)
			lo = mid + 1;
		else
			return &l->v[mid];
	}
	return NULL;
}

struct fl_vma *fl_layout_find_mut(struct fl_layout *l, uint64_t addr)
{
	return (struct fl_vma *)fl_layout_find(l, addr);
}

static void push(struct fl_vma **v, size_t *n, size_t *cap, const struct fl_vma *x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		*v = fl_realloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = *x;
}

static uint64_t page_size(const struct fl_layout *l)
{
	return l->page_size ? l->page_size : 4096;
}

static void retire(struct fl_layout *l, const struct fl_vma *v)
{
	if (l->retire)
		l->retire(l->retire_arg, v);
}

/* Stamps v as a new version of the change being made, with the given source. */
static void version(struct fl_layout *l, struct fl_vma *v, uint8_t source)
{
	v->id = l->next_id ? ++*l->next_id : 0;
	v->from_ns = l->now;
	v->source = source;
	v->op = l->op;
}

/* A piece [s, e) of v (file offset kept right). */
static struct fl_vma piece(const struct fl_layout *l, const struct fl_vma *v, uint64_t s,
			   uint64_t e)
{
	struct fl_vma p = *v;

	if (p.kind == FL_VMA_FILE || p.ino)
		p.pgoff += (s - v->start) / page_size(l);
	p.start = s;
	p.end = e;
	return p;
}

/*
 * Rebuilds the layout with [start, end) cut out of every VMA that overlaps it;
 * each such VMA is retired. Pieces outside get split_source; when prot is >= 0
 * the piece inside is kept with that prot (source = the change's), else dropped.
 */
static void cut(struct fl_layout *l, uint64_t start, uint64_t end, int prot)
{
	struct fl_vma *out = NULL;
	size_t n = 0, cap = 0;

	if (end <= start)
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct fl_vma *v = &l->v[i];
		struct fl_vma p;

		if (v->end <= start || v->start >= end || (prot >= 0 && v->prot == prot)) {
			push(&out, &n, &cap, v);
			continue;
		}
		retire(l, v);
		if (v->start < start) {
			p = piece(l, v, v->start, start);
			version(l, &p, l->split_source);
			push(&out, &n, &cap, &p);
		}
		if (prot >= 0) {
			p = piece(l, v, v->start > start ? v->start : start, v->end < end ? v->end : end);
			p.prot = (uint8_t)prot;
			version(l, &p, l->source);
			push(&out, &n, &cap, &p);
		}
		if (v->end > end) {
			p = piece(l, v, end, v->end);
			version(l, &p, l->split_source);
			push(&out, &n, &cap, &p);
		}
	}
	free(l->v);
	l->v = out;
	l->n = n;
	l->cap = cap;
}

/* Removes [start, end), splitting VMAs that straddle its edges. */
void fl_layout_unmap(struct fl_layout *l, uint64_t start, uint64_t end)
{
	cut(l, start, end, -1);
}

void fl_layout_protect(struct fl_layout *l, uint64_t start, uint64_t end, uint8_t prot)
{
	cut(l, start, end, prot & 7);
}

void fl_layout_map(struct fl_layout *l, const struct fl_vma *v)
{
	struct fl_vma x = *v;
	size_t i;

	fl_layout_unmap(l, v->start, v->end);
	version(l, &x, l->source);
	push(&l->v, &l->n, &l->cap, &x);
	/* Keep it sorted: move the new element into place. */
	for (i = l->n - 1; i > 0 && l->v[i - 1].start > l->v[i].start; i--) {
		struct fl_vma t = l->v[i];
		l->v[i] = l->v[i - 1];
		l->v[i - 1] = t;
	}
}

void fl_layout_replace(struct fl_layout *l, size_t i, const struct fl_vma *v)
{
	retire(l, &l->v[i]);
	l->v[i] = *v;
	version(l, &l->v[i], l->source);
}

void fl_layout_clear(struct fl_layout *l)
{
	for (size_t i = 0; i < l->n; i++)
		retire(l, &l->v[i]);
	l->n = 0;
}

static enum fl_vma_kind kind_of(const char *perms, const char *path)
{
	bool shared = perms[3] == 's';

	if (!*path)
		return shared ? FL_VMA_SHMEM : FL_VMA_ANON;
	if (!strcmp(path, "[heap]"))
		return FL_VMA_ANON;
	if (!strncmp(path, "[stack", 6))
		return FL_VMA_STACK;
	if (!strncmp(path, "[anon", 5))
		return shared ? FL_VMA_SHMEM : FL_VMA_ANON;
	if (*path == '[')
		return FL_VMA_UNKNOWN;	/* [vdso], [vvar], [vsyscall], ... */
	if (!strncmp(path, "/memfd:", 7) || !strncmp(path, "/SYSV", 5) ||
	    !strncmp(path, "/dev/zero", 9) || !strncmp(path, "/dev/shm/", 9))
		return FL_VMA_SHMEM;
	return FL_VMA_FILE;
}

int fl_maps_parse(const char *text, size_t len, uint64_t psize, struct fl_strpool *pool,
		  struct fl_vma **vp, size_t *np)
{
	const char *p = text, *end = text + len;
	struct fl_vma *v = NULL;
	size_t n = 0, cap = 0;

	if (!psize)
		psize = 4096;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512], perms[8] = "", path[400] = "";
		unsigned long long s, e, off, ino;
		unsigned maj, min;
		int consumed = 0;

		if (ln >= sizeof(line))
			ln = sizeof(line) - 1;
		memcpy(line, p, ln);
		line[ln] = 0;
		p = nl ? nl + 1 : end;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &s, &e, perms, &off, &maj, &min,
			   &ino, &consumed) < 7 || strlen(perms) < 4)
			continue;
		if (consumed > 0 && consumed <= (int)ln) {
			snprintf(path, sizeof(path), "%s", line + consumed);
			for (char *q = path + strlen(path); q > path && (q[-1] == ' ' || q[-1] == '\n');)
				*--q = 0;
		}
		struct fl_vma x = {
			.start = s, .end = e,
			.kind = kind_of(perms, path),
			.prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) |
				(perms[2] == 'x' ? 4 : 0),
			.shared = perms[3] == 's',
			.dev = ((uint32_t)maj << 20) | min,
			.ino = ino,
			.pgoff = off / psize,
			.from_snapshot = true,
			.heap = !strcmp(path, "[heap]"),
			.path = *path && pool ? fl_strpool_get(pool, path, strlen(path)) : NULL,
		};
		if (x.kind != FL_VMA_FILE && !ino)
			x.dev = 0;
		if (e > s)
			push(&v, &n, &cap, &x);
	}
	/* /proc/PID/maps is sorted; tolerate a text that is not. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && v[j - 1].start > v[j].start; j--) {
			struct fl_vma t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	*vp = v;
	*np = n;
	return (int)n;
}

int fl_layout_load_maps(struct fl_layout *l, const char *text, size_t len)
{
	struct fl_vma *v;
	size_t n;

	fl_layout_clear(l);
	fl_maps_parse(text, len, l->page_size, l->pool, &v, &n);
	free(l->v);
	l->v = v;
	l->n = l->cap = n;
	for (size_t i = 0; i < n; i++)
		version(l, &l->v[i], l->source);
	return (int)n;
}
