/*
 * recon-layout.c - the address-space layout of each process over time, as far
 * as the capture shows it: /proc/PID/maps snapshots, then the results of the
 * mmap, munmap, mremap and brk syscalls the capture traced.
 *
 * One layout per process, a sorted array of non-overlapping VMAs; lookups are
 * binary searches, updates rebuild the array (captured processes have a few
 * hundred to a few thousand VMAs and mmap-family syscalls are rare next to
 * faults). What the layout cannot know (a file mapped during the capture: its
 * inode) stays 0 and the fault row takes dev/ino/index from mm_filemap_fault.
 */
#include "db/recon-layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fl_layout_release(struct fl_layout *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
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

static void push(struct fl_layout *l, const struct fl_vma *v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = fl_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *v;
}

/* Removes [start, end), splitting VMAs that straddle its edges. */
void fl_layout_unmap(struct fl_layout *l, uint64_t start, uint64_t end)
{
	struct fl_layout out = { 0 };

	if (end <= start)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct fl_vma v = l->v[i];

		if (v.end <= start || v.start >= end) {
			push(&out, &v);
			continue;
		}
		if (v.start < start) {
			struct fl_vma a = v;
			a.end = start;
			push(&out, &a);
		}
		if (v.end > end) {
			struct fl_vma b = v;
			if (b.kind == FL_VMA_FILE)
				b.pgoff += (end - v.start) / (l->page_size ? l->page_size : 4096);
			b.start = end;
			push(&out, &b);
		}
	}
	free(l->v);
	out.page_size = l->page_size;
	*l = out;
}

void fl_layout_map(struct fl_layout *l, const struct fl_vma *v)
{
	size_t i;

	fl_layout_unmap(l, v->start, v->end);
	push(l, v);
	/* Keep it sorted: move the new element into place. */
	for (i = l->n - 1; i > 0 && l->v[i - 1].start > l->v[i].start; i--) {
		struct fl_vma t = l->v[i];
		l->v[i] = l->v[i - 1];
		l->v[i - 1] = t;
	}
}

static enum fl_vma_kind kind_of(const char *perms, unsigned maj, unsigned min, uint64_t ino,
				const char *path)
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
	(void)maj, (void)min, (void)ino;
	return FL_VMA_FILE;
}

int fl_layout_load_maps(struct fl_layout *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int rows = 0;

	l->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512], perms[8] = "", path[400] = "";
		unsigned long long s, e, off, ino;
		unsigned maj, min;
		int consumed = 0;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = 0;
		p = nl ? nl + 1 : end;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &s, &e, perms, &off, &maj, &min,
			   &ino, &consumed) < 7 || strlen(perms) < 4)
			continue;
		if (consumed > 0 && consumed <= (int)n) {
			snprintf(path, sizeof(path), "%s", line + consumed);
			for (char *q = path + strlen(path); q > path && (q[-1] == ' ' || q[-1] == '\n');)
				*--q = 0;
		}
		struct fl_vma v = {
			.start = s, .end = e,
			.kind = kind_of(perms, maj, min, ino, path),
			.shared = perms[3] == 's',
			.dev = ((uint32_t)maj << 20) | min,
			.ino = ino,
			.pgoff = off / (l->page_size ? l->page_size : 4096),
			.from_snapshot = true,
			.heap = !strcmp(path, "[heap]"),
		};
		if (v.kind != FL_VMA_FILE)
			v.dev = 0, v.ino = 0;
		if (e > s) {
			push(l, &v);
			rows++;
		}
	}
	/* /proc/PID/maps is sorted; tolerate a text that is not. */
	for (size_t i = 1; i < l->n; i++) {
		for (size_t j = i; j > 0 && l->v[j - 1].start > l->v[j].start; j--) {
			struct fl_vma t = l->v[j];
			l->v[j] = l->v[j - 1];
			l->v[j - 1] = t;
		}
	}
	return rows;
}
