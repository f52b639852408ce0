/*
 * vma.c - the address space and its per-VMA locks (kernel-semantics.md §1, §4,
 * §7).
 *
 * An fl_mm is the model of one mm_struct: mmap_lock (an fl_rwsem, §3),
 * mm_lock_seq, and the VMAs sorted by start address in an array of pointers
 * (lookups are binary searches; layout changes memmove the array, cheap for
 * the thousands of VMAs real processes have). Addresses are bytes, pgoff is
 * in pages of 1 << page_shift bytes.
 *
 * Per-VMA lock invariants (§4):
 *   - A VMA is write-locked iff vm_lock_seq == mm_lock_seq. vma_start_write
 *     sets vm_lock_seq; there is no per-VMA unlock: mmap_write_unlock and
 *     mmap_write_downgrade bump mm_lock_seq, which releases every VMA write
 *     lock of the mm at once (fl_mm_vma_end_write_all).
 *   - lock_vma_under_rcu fails (the fault falls back to mmap_lock) iff no VMA
 *     covers the address, the VMA is write-locked in the current write session,
 *     a writer is draining its readers, or (6.4/6.5) the VMA is not anonymous
 *     with an anon_vma or is uffd-armed. A detached VMA is a MISS: the lookup is
 *     retried, not failed. It never sleeps.
 *   - vma_start_write (mmap_lock held for write) waits until readers == 0.
 *     6.4..6.14 (rwsem): the writer first spins on the reader-owned rwsem for
 *     (20 + min(readers, 30)) / 2 µs without setting WAITERS, so new readers'
 *     trylocks still succeed; once it sleeps (WAITERS), new readers fail.
 *     6.15+ (refcount): the writer adds VMA_LOCK_OFFSET at once, so new readers
 *     fail immediately; it sleeps in rcuwait until the readers leave. The last
 *     fl_vma_end_read completes the write lock and names the writer to wake.
 *   - munmap detaches the VMAs of its range after splitting the boundary ones;
 *     a detached VMA object is recycled once its readers are gone (they cannot
 *     be: the writer drained them), with a fresh id, like SLAB_TYPESAFE_BY_RCU.
 * Impossible calls (vma_start_write without the mmap write lock, end_read
 * without a reader) are counted in stats.anomalies, never fatal.
 */
#include "engine/vma.h"

#include <stdlib.h>
#include <string.h>

#define VMA_SEQ_NEVER UINT64_MAX

void fl_mm_init(struct fl_mm *mm, enum fl_vma_lock_impl impl, const struct fl_rwsem_cfg *cfg)
{
	memset(mm, 0, sizeof(*mm));
	fl_rwsem_init(&mm->mmap_lock, cfg);
	mm->impl = impl;
	mm->page_shift = 12;
	mm->vma_writer_spin = impl == FL_VMA_LOCK_RWSEM && mm->mmap_lock.cfg.writer_spin;
}

void fl_mm_release(struct fl_mm *mm)
{
	struct fl_vma *v, *next;

	for (size_t i = 0; i < mm->nvmas; i++)
		free(mm->vmas[i]);
	for (v = mm->free; v; v = next) {
		next = v->free_next;
		free(v);
	}
	free(mm->vmas);
	fl_rwsem_release(&mm->mmap_lock);
	mm->vmas = NULL;
	mm->nvmas = mm->capvmas = 0;
	mm->free = NULL;
}

size_t fl_mm_find_idx(const struct fl_mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->nvmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid]->end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct fl_vma *fl_mm_lookup(const struct fl_mm *mm, uint64_t addr)
{
	size_t i = fl_mm_find_idx(mm, addr);

	if (i < mm->nvmas && mm->vmas[i]->start <= addr)
		return mm->vmas[i];
	return NULL;
}

size_t fl_mm_range(const struct fl_mm *mm, uint64_t start, uint64_t end, size_t *first)
{
	size_t i = fl_mm_find_idx(mm, start), j = i;

	while (j < mm->nvmas && mm->vmas[j]->start < end)
		j++;
	*first = i;
	return j - i;
}

/* ---- readers ---- */

enum fl_vma_read_res fl_vma_start_read(struct fl_mm *mm, struct fl_vma *vma)
{
	if (mm->impl == FL_VMA_LOCK_NONE)
		return FL_VMA_ABORT_NONE;
	if (vma->detached)
		return FL_VMA_MISS;
	if (vma->vm_lock_seq == mm->mm_lock_seq)
		return FL_VMA_ABORT_LOCKED;
	if (vma->writer_state == FL_VMA_WS_DRAIN)
		return FL_VMA_ABORT_WRITER;
	if (mm->anon_only && (!(vma->flags & FL_VMA_ANON) || !(vma->flags & FL_VMA_HAS_ANON_VMA) ||
			      (vma->flags & FL_VMA_UFFD)))
		return FL_VMA_ABORT_FILTER;
	vma->readers++;
	return FL_VMA_READ_OK;
}

struct fl_vma *fl_vma_lock_try_read(struct fl_mm *mm, uint64_t addr, enum fl_vma_read_res *res)
{
	enum fl_vma_read_res r = FL_VMA_ABORT_NO_VMA;
	struct fl_vma *vma = NULL;

	for (int tries = 0; tries < 8; tries++) {
		vma = fl_mm_lookup(mm, addr);
		if (!vma) {
			r = mm->impl == FL_VMA_LOCK_NONE ? FL_VMA_ABORT_NONE : FL_VMA_ABORT_NO_VMA;
			break;
		}
		r = fl_vma_start_read(mm, vma);
		if (r != FL_VMA_MISS)
			break;
		mm->stats.miss++;
	}
	if (res)
		*res = r;
	switch (r) {
	case FL_VMA_READ_OK:
		mm->stats.lock_success++;
		return vma;
	case FL_VMA_ABORT_NO_VMA:
		mm->stats.abort_no_vma++;
		break;
	case FL_VMA_ABORT_LOCKED:
		mm->stats.abort_locked++;
		break;
	case FL_VMA_ABORT_WRITER:
		mm->stats.abort_writer++;
		break;
	case FL_VMA_ABORT_FILTER:
		mm->stats.abort_filter++;
		break;
	default:
		break;
	}
	return NULL;
}

static void vma_free(struct fl_mm *mm, struct fl_vma *vma)
{
	vma->free_next = mm->free;
	mm->free = vma;
}

static void write_done(struct fl_mm *mm, struct fl_vma *vma, uint64_t now)
{
	uint64_t wait = now - vma->write_start;

	vma->vm_lock_seq = mm->mm_lock_seq;
	vma->writer_state = FL_VMA_WS_NONE;
	vma->writer_tid = FL_TID_NONE;
	mm->stats.start_write++;
	mm->stats.start_write_wait_ns += wait;
	if (wait > mm->stats.start_write_wait_max_ns)
		mm->stats.start_write_wait_max_ns = wait;
}

uint32_t fl_vma_end_read(struct fl_mm *mm, struct fl_vma *vma, uint64_t now)
{
	uint32_t tid;

	if (!vma->readers) {
		mm->stats.anomalies++;
		return FL_TID_NONE;
	}
	if (--vma->readers)
		return FL_TID_NONE;
	if (vma->detached) {
		vma_free(mm, vma);
		return FL_TID_NONE;
	}
	if (vma->writer_state == FL_VMA_WS_NONE)
		return FL_TID_NONE;
	tid = vma->writer_tid;
	write_done(mm, vma, now);
	return tid;
}

/* ---- writers ---- */

static bool holds_write(const struct fl_mm *mm, uint32_t tid)
{
	return mm->mmap_lock.owner && mm->mmap_lock.owner->tid == tid;
}

enum fl_vma_write_res fl_vma_start_write(struct fl_mm *mm, struct fl_vma *vma, uint32_t tid,
					 uint64_t now)
{
	if (!holds_write(mm, tid))
		mm->stats.anomalies++;
	if (vma->vm_lock_seq == mm->mm_lock_seq)
		return FL_VMA_W_LOCKED;		/* already locked this session: free */
	if (vma->writer_state != FL_VMA_WS_NONE) {
		mm->stats.anomalies++;		/* two writers: cannot happen under mmap_lock */
		return vma->writer_state == FL_VMA_WS_SPIN ? FL_VMA_W_SPIN : FL_VMA_W_WAIT;
	}
	vma->write_start = now;
	if (!vma->readers) {
		write_done(mm, vma, now);
		return FL_VMA_W_LOCKED;
	}
	vma->writer_tid = tid;
	mm->stats.start_write_waits++;
	if (mm->impl == FL_VMA_LOCK_RWSEM && mm->vma_writer_spin) {
		uint32_t r = vma->readers > 30 ? 30 : vma->readers;

		vma->writer_state = FL_VMA_WS_SPIN;
		vma->spin_until = now + (20 + (uint64_t)r) * 1000 / 2;
		return FL_VMA_W_SPIN;
	}
	vma->writer_state = FL_VMA_WS_DRAIN;
	return FL_VMA_W_WAIT;
}

enum fl_vma_write_res fl_vma_spin_end(struct fl_mm *mm, struct fl_vma *vma, uint64_t now)
{
	if (vma->writer_state == FL_VMA_WS_SPIN) {
		if (!vma->readers) {
			write_done(mm, vma, now);
			return FL_VMA_W_LOCKED;
		}
		vma->writer_state = FL_VMA_WS_DRAIN;
		return FL_VMA_W_WAIT;
	}
	if (vma->writer_state == FL_VMA_WS_DRAIN)
		return FL_VMA_W_WAIT;
	return FL_VMA_W_LOCKED;
}

bool fl_vma_needs_copy(const struct fl_vma *vma)
{
	if (vma->flags & FL_VMA_DONTCOPY)
		return false;
	return vma->flags & (FL_VMA_HAS_ANON_VMA | FL_VMA_PFNMAP | FL_VMA_UFFD_WP);
}

void fl_mm_vma_end_write_all(struct fl_mm *mm)
{
	mm->mm_lock_seq++;
}

void fl_mm_write_unlock(struct fl_mm *mm, struct fl_rwsem_waiter *w, uint64_t now)
{
	fl_mm_vma_end_write_all(mm);
	fl_rwsem_up_write(&mm->mmap_lock, w, now);
}

void fl_mm_write_downgrade(struct fl_mm *mm, struct fl_rwsem_waiter *w, uint64_t now)
{
	fl_mm_vma_end_write_all(mm);
	fl_rwsem_downgrade(&mm->mmap_lock, w, now);
}

/* ---- layout ---- */

static struct fl_vma *vma_alloc(struct fl_mm *mm)
{
	struct fl_vma *v = mm->free;

	if (v)
		mm->free = v->free_next;
	else
		v = fl_malloc(sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->id = ++mm->next_id;
	v->vm_lock_seq = VMA_SEQ_NEVER;
	v->writer_tid = FL_TID_NONE;
	return v;
}

static void vmas_insert(struct fl_mm *mm, size_t i, struct fl_vma *v)
{
	if (mm->nvmas == mm->capvmas) {
		mm->capvmas = mm->capvmas ? 2 * mm->capvmas : 64;
		mm->vmas = fl_realloc(mm->vmas, mm->capvmas * sizeof(*mm->vmas));
	}
	if (mm->nvmas > i)
		memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nvmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = v;
	mm->nvmas++;
}

static void vmas_remove(struct fl_mm *mm, size_t i, size_t n)
{
	/* nothing to move when the tail is empty (vmas may be NULL then: UBSan) */
	if (mm->nvmas > i + n)
		memmove(&mm->vmas[i], &mm->vmas[i + n], (mm->nvmas - i - n) * sizeof(*mm->vmas));
	mm->nvmas -= n;
}

struct fl_vma *fl_mm_map(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			 uint32_t file, uint64_t pgoff, struct fl_err *err)
{
	size_t i;
	struct fl_vma *v;

	if (end <= start) {
		fl_seterr(err, "cannot map [%#llx, %#llx): empty range",
			  (unsigned long long)start, (unsigned long long)end);
		return NULL;
	}
	i = fl_mm_find_idx(mm, start);
	if (i < mm->nvmas && mm->vmas[i]->start < end) {
		fl_seterr(err, "cannot map [%#llx, %#llx): overlaps the VMA at %#llx "
			  "(unmap it first)",
			  (unsigned long long)start, (unsigned long long)end,
			  (unsigned long long)mm->vmas[i]->start);
		return NULL;
	}
	v = vma_alloc(mm);
	v->start = start;
	v->end = end;
	v->flags = flags;
	v->file = file;
	v->pgoff = pgoff;
	if (mm->mmap_lock.owner)
		v->vm_lock_seq = mm->mm_lock_seq;	/* inserted write-locked */
	vmas_insert(mm, i, v);
	return v;
}

struct fl_vma *fl_mm_split(struct fl_mm *mm, struct fl_vma *vma, uint64_t addr)
{
	struct fl_vma *n;
	size_t i;

	if (addr <= vma->start || addr >= vma->end || vma->detached) {
		mm->stats.anomalies++;
		return NULL;
	}
	i = fl_mm_find_idx(mm, vma->start);
	n = vma_alloc(mm);
	n->start = addr;
	n->end = vma->end;
	n->flags = vma->flags;
	n->file = vma->file;
	n->pgoff = vma->pgoff + ((addr - vma->start) >> mm->page_shift);
	n->vm_lock_seq = vma->vm_lock_seq;
	vma->end = addr;
	vmas_insert(mm, i + 1, n);
	return n;
}

/* Splits so that no VMA straddles start or end; returns the VMAs inside. */
static size_t carve(struct fl_mm *mm, uint64_t start, uint64_t end, size_t *first)
{
	size_t n = fl_mm_range(mm, start, end, first);

	if (!n)
		return 0;
	for (size_t k = 0; k < n; k++) {
		struct fl_vma *v = mm->vmas[*first + k];

		if (mm->mmap_lock.owner && !fl_vma_is_write_locked(mm, v))
			mm->stats.anomalies++;	/* writer forgot vma_start_write */
	}
	if (mm->vmas[*first]->start < start)
		fl_mm_split(mm, mm->vmas[*first], start);
	n = fl_mm_range(mm, start, end, first);
	if (mm->vmas[*first + n - 1]->end > end)
		fl_mm_split(mm, mm->vmas[*first + n - 1], end);
	return fl_mm_range(mm, start, end, first);
}

/*
 * Flags that differ between two VMAs without stopping a merge: the anon_vma a
 * fault gave one side (is_mergeable_anon_vma takes a new, anon_vma-less
 * mapping next to one that has it; a forked child's VMAs, whose anon_vma
 * chain is not singular, the model does not tell apart).
 */
#define MERGE_IGNORE	FL_VMA_HAS_ANON_VMA
/* Never merged: special mappings (VM_SPECIAL: PFNMAP, hugetlb), userfaultfd-armed ones. */
#define MERGE_NEVER	(FL_VMA_PFNMAP | FL_VMA_HUGETLB | FL_VMA_UFFD | FL_VMA_UFFD_WP)

static bool can_merge(const struct fl_vma *v, uint32_t flags, uint32_t file)
{
	return !v->detached && !((v->flags | flags) & MERGE_NEVER) && v->file == file &&
	       ((v->flags ^ flags) & ~MERGE_IGNORE) == 0;
}

void fl_mm_merge_candidates(const struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			    uint32_t file, uint64_t pgoff, struct fl_vma **prev,
			    struct fl_vma **next)
{
	size_t i = fl_mm_find_idx(mm, start);
	uint64_t pages = (end - start) >> mm->page_shift;

	*prev = *next = NULL;
	if (i > 0) {
		struct fl_vma *p = mm->vmas[i - 1];

		if (p->end == start && can_merge(p, flags, file) &&
		    (!file || p->pgoff + ((p->end - p->start) >> mm->page_shift) == pgoff))
			*prev = p;
	}
	if (i < mm->nvmas) {
		struct fl_vma *n = mm->vmas[i];

		if (n->start == end && can_merge(n, flags, file) && (!file || pgoff + pages == n->pgoff))
			*next = n;
	}
}

struct fl_vma *fl_mm_map_merge(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			       uint32_t file, uint64_t pgoff, struct fl_err *err)
{
	struct fl_vma *prev, *next;

	if (end <= start || (fl_mm_range(mm, start, end, &(size_t){ 0 })))
		return fl_mm_map(mm, start, end, flags, file, pgoff, err);	/* its error */
	fl_mm_merge_candidates(mm, start, end, flags, file, pgoff, &prev, &next);
	if (prev && next) {
		uint64_t nend = next->end;

		prev->flags |= next->flags & MERGE_IGNORE;
		fl_mm_unmap(mm, next->start, next->end);
		prev->end = nend;
		return prev;
	}
	if (prev) {
		prev->end = end;
		return prev;
	}
	if (next) {
		next->start = start;
		next->pgoff = pgoff;
		return next;
	}
	return fl_mm_map(mm, start, end, flags, file, pgoff, err);
}

size_t fl_mm_unmap(struct fl_mm *mm, uint64_t start, uint64_t end)
{
	size_t first, n = carve(mm, start, end, &first);

	for (size_t k = 0; k < n; k++) {
		struct fl_vma *v = mm->vmas[first + k];

		v->detached = 1;
		mm->stats.detached++;
		if (v->writer_state != FL_VMA_WS_NONE)
			mm->stats.anomalies++;
		if (!v->readers)
			vma_free(mm, v);
	}
	vmas_remove(mm, first, n);
	return n;
}

size_t fl_mm_mprotect(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t set,
		      uint32_t clear)
{
	size_t first, n = carve(mm, start, end, &first);

	for (size_t k = 0; k < n; k++) {
		struct fl_vma *v = mm->vmas[first + k];

		v->flags = (v->flags & ~clear) | set;
	}
	return n;
}
