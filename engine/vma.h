/*
 * vma.h - the address space (struct fl_mm): mmap_lock, mm_lock_seq, the sorted
 * VMAs and their per-VMA locks (kernel-semantics.md §1, §4, §7).
 *
 * Readers: fl_vma_lock_try_read() is lock_vma_under_rcu(): a VMA read-locked,
 * or NULL with the reason; it never sleeps. fl_vma_end_read() drops it and
 * returns the tid of a writer whose vma_start_write() completed because the
 * last reader left (the simulator wakes that writer), else FL_TID_NONE.
 *
 * Writers hold mmap_lock for write (take it with fl_rwsem_down_write on
 * &mm->mmap_lock), write-lock each VMA they touch with fl_vma_start_write()
 * (LOCKED now, SPIN until vma->spin_until then fl_vma_spin_end(), or WAIT
 * until fl_vma_end_read() names them), change the layout with fl_mm_map /
 * fl_mm_unmap / fl_mm_mprotect, and finish with fl_mm_write_unlock() or
 * fl_mm_write_downgrade(), which release every VMA write lock at once
 * (mm_lock_seq++). VMA pointers stay valid while read-locked or while the
 * caller holds mmap_lock; otherwise keep vma->id and look the address up again.
 */
#ifndef FL_ENGINE_VMA_H
#define FL_ENGINE_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fl.h"
#include "engine/rwsem.h"

/* struct fl_vma.flags */
#define FL_VMA_READ		0x00001
#define FL_VMA_WRITE		0x00002
#define FL_VMA_EXEC		0x00004
#define FL_VMA_SHARED		0x00008
#define FL_VMA_ANON		0x00010	/* vma_is_anonymous */
#define FL_VMA_HAS_ANON_VMA	0x00020	/* vma->anon_vma != NULL */
#define FL_VMA_MAP_PAGES	0x00040	/* vm_ops->map_pages (page-cache files, shmem) */
#define FL_VMA_FILE		0x00080	/* file-backed, page cache keyed by (file, index) */
#define FL_VMA_SHMEM		0x00100	/* shmem/tmpfs: shmem_fault, not filemap_fault */
#define FL_VMA_GROWSDOWN	0x00200
#define FL_VMA_UFFD		0x00400	/* userfaultfd armed */
#define FL_VMA_HUGETLB		0x00800
#define FL_VMA_DONTCOPY		0x01000	/* MADV_DONTFORK */
#define FL_VMA_PFNMAP		0x02000	/* PFNMAP or MIXEDMAP */
#define FL_VMA_UFFD_WP		0x04000
#define FL_VMA_RAND_READ	0x08000	/* MADV_RANDOM */
#define FL_VMA_SEQ_READ		0x10000	/* MADV_SEQUENTIAL */
#define FL_VMA_HUGEPAGE		0x20000	/* MADV_HUGEPAGE */
#define FL_VMA_LOCKED		0x40000	/* VM_LOCKED (mlock) */
#define FL_VMA_PROT_MASK	(FL_VMA_READ | FL_VMA_WRITE | FL_VMA_EXEC)

enum fl_vma_lock_impl {
	FL_VMA_LOCK_NONE,	/* < 6.4 (or arch without it): lock_vma_under_rcu always fails */
	FL_VMA_LOCK_RWSEM,	/* 6.4 .. 6.14: per-VMA rw_semaphore + vm_lock_seq (§4.1/4.2) */
	FL_VMA_LOCK_REFCNT,	/* 6.15+: vm_refcnt + rcuwait (§4.1/4.2) */
};

enum fl_vma_read_res {
	FL_VMA_READ_OK,
	FL_VMA_ABORT_NO_VMA,	/* no VMA covers addr (incl. stack growth below GROWSDOWN) */
	FL_VMA_ABORT_LOCKED,	/* vm_lock_seq == mm_lock_seq: write-locked this session */
	FL_VMA_ABORT_WRITER,	/* a vma_start_write is draining readers */
	FL_VMA_ABORT_FILTER,	/* 6.4/6.5: not anon, no anon_vma, or uffd-armed */
	FL_VMA_ABORT_NONE,	/* FL_VMA_LOCK_NONE */
	FL_VMA_MISS,		/* detached (refcount 0): look the address up again */
};

enum fl_vma_write_res {
	FL_VMA_W_LOCKED,	/* write-locked (now or already this session) */
	FL_VMA_W_SPIN,		/* 6.12: spinning until vma->spin_until, readers still enter */
	FL_VMA_W_WAIT,		/* asleep until the last reader leaves (fl_vma_end_read names us) */
};

enum fl_vma_writer_state {
	FL_VMA_WS_NONE,
	FL_VMA_WS_SPIN,		/* rwsem writer optimistic spin: no WAITERS bit yet */
	FL_VMA_WS_DRAIN,	/* WAITERS / VMA_LOCK_OFFSET set: new readers fail */
};

struct fl_vma {
	uint64_t start, end;	/* bytes: [start, end), page aligned */
	uint64_t pgoff;		/* pages: file offset of start */
	uint32_t flags;		/* FL_VMA_* */
	uint32_t file;		/* caller's file id (page-cache key); 0 for anonymous */
	uint64_t id;		/* unique per VMA lifetime, never reused */
	uint64_t vm_lock_seq;	/* == mm->mm_lock_seq iff write-locked; UINT64_MAX never */
	uint32_t readers;	/* VMA read-lock holders */
	uint8_t writer_state;	/* enum fl_vma_writer_state */
	uint8_t detached;	/* removed from the tree (munmap) */
	uint32_t writer_tid;	/* tid in vma_start_write, FL_TID_NONE */
	uint64_t spin_until;	/* ns: end of the 6.12 writer spin */
	uint64_t write_start;	/* ns: vma_start_write began (wait accounting) */
	struct fl_vma *free_next;	/* free list */
};

struct fl_vma_stats {
	uint64_t lock_success;	/* lock_vma_under_rcu returned a VMA */
	uint64_t abort_no_vma, abort_locked, abort_writer, abort_filter;
	uint64_t miss;		/* found detached: lookup retried */
	uint64_t start_write;	/* vma_start_write calls that locked a VMA */
	uint64_t start_write_waits;	/* ... that had to wait for readers */
	uint64_t start_write_wait_ns;	/* ns: total wait of those */
	uint64_t start_write_wait_max_ns;	/* ns */
	uint64_t detached;	/* VMAs removed */
	uint64_t anomalies;	/* impossible calls, ignored */
};

struct fl_mm {
	struct fl_rwsem mmap_lock;	/* §3 */
	uint64_t mm_lock_seq;		/* ++ on mmap_write_unlock / mmap_write_downgrade */
	enum fl_vma_lock_impl impl;
	unsigned page_shift;		/* log2 of the page size in bytes (capture header; 12) */
	bool anon_only;			/* 6.4/6.5 lock_vma_under_rcu filter (§4.1 rule 4) */
	bool vma_writer_spin;		/* 6.4..6.14: vma_start_write's down_write spins first */
	struct fl_vma **vmas;		/* sorted by start, non-overlapping */
	size_t nvmas, capvmas;
	struct fl_vma *free;		/* recycled VMA objects */
	uint64_t next_id;
	struct fl_vma_stats stats;
};

void fl_mm_init(struct fl_mm *mm, enum fl_vma_lock_impl impl, const struct fl_rwsem_cfg *cfg);
void fl_mm_release(struct fl_mm *mm);

/* The VMA containing addr, or NULL. */
struct fl_vma *fl_mm_lookup(const struct fl_mm *mm, uint64_t addr);
/* find_vma(): index of the first VMA with end > addr (== mm->nvmas if none). */
size_t fl_mm_find_idx(const struct fl_mm *mm, uint64_t addr);
/* VMAs overlapping [start, end): returns how many, *first the index of the first. */
size_t fl_mm_range(const struct fl_mm *mm, uint64_t start, uint64_t end, size_t *first);

/* lock_vma_under_rcu (§4.1). *res says why on NULL. */
struct fl_vma *fl_vma_lock_try_read(struct fl_mm *mm, uint64_t addr, enum fl_vma_read_res *res);
/* vma_start_read on a VMA the caller already holds a pointer to (FL_VMA_MISS if detached). */
enum fl_vma_read_res fl_vma_start_read(struct fl_mm *mm, struct fl_vma *vma);
/* vma_end_read; returns the tid of a writer that now owns the VMA, or FL_TID_NONE. */
uint32_t fl_vma_end_read(struct fl_mm *mm, struct fl_vma *vma, uint64_t now);
/* vma_start_write (§4.2); the caller must hold mmap_lock for write. */
enum fl_vma_write_res fl_vma_start_write(struct fl_mm *mm, struct fl_vma *vma, uint32_t tid,
					 uint64_t now);
/* The 6.12 writer spin window ended: LOCKED or WAIT (new readers now fail). */
enum fl_vma_write_res fl_vma_spin_end(struct fl_mm *mm, struct fl_vma *vma, uint64_t now);
static inline bool fl_vma_is_write_locked(const struct fl_mm *mm, const struct fl_vma *vma)
{
	return vma->vm_lock_seq == mm->mm_lock_seq;
}
/* fork's vma_needs_copy (§7): anon_vma, PFNMAP/MIXEDMAP or uffd-wp, and not DONTCOPY. */
bool fl_vma_needs_copy(const struct fl_vma *vma);

/* vma_end_write_all: every VMA write lock of the mm is released (mm_lock_seq++). */
void fl_mm_vma_end_write_all(struct fl_mm *mm);
/* mmap_write_unlock / mmap_write_downgrade: end_write_all, then the rwsem op. */
void fl_mm_write_unlock(struct fl_mm *mm, struct fl_rwsem_waiter *w, uint64_t now);
void fl_mm_write_downgrade(struct fl_mm *mm, struct fl_rwsem_waiter *w, uint64_t now);

/*
 * Layout changes (caller holds mmap_lock for write and has write-locked the
 * VMAs overlapping the range; unlocked ones are counted as anomalies).
 * fl_mm_map inserts a VMA (write-locked if mmap_lock is write-held, as
 * mmap_region does) and fails if the range overlaps one; at setup time (no
 * writer) it is inserted unlocked.
 */
struct fl_vma *fl_mm_map(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			 uint32_t file, uint64_t pgoff, struct fl_err *err);
/*
 * A new mapping of [start, end) merges with the VMA ending at start and the
 * one beginning at end when their attributes allow (mm/vma.c
 * vma_merge_new_range: same flags, same file at a contiguous offset, no
 * anon_vma conflict): *prev and *next are those VMAs, NULL where none merges.
 * mmap_region write-locks them (vma_expand -> vma_start_write) before it
 * changes them.
 */
void fl_mm_merge_candidates(const struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			    uint32_t file, uint64_t pgoff, struct fl_vma **prev,
			    struct fl_vma **next);
/* fl_mm_map with those merges: returns the VMA that covers [start, end) afterwards. */
struct fl_vma *fl_mm_map_merge(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
			       uint32_t file, uint64_t pgoff, struct fl_err *err);
/* munmap: splits the boundary VMAs, detaches everything in range; returns VMAs removed. */
size_t fl_mm_unmap(struct fl_mm *mm, uint64_t start, uint64_t end);
/* mprotect: splits at the range ends, then flags = (flags & ~clear) | set on each VMA in range. */
size_t fl_mm_mprotect(struct fl_mm *mm, uint64_t start, uint64_t end, uint32_t set,
		      uint32_t clear);
/* __split_vma at addr (start < addr < end); returns the upper half (both write-locked alike). */
struct fl_vma *fl_mm_split(struct fl_mm *mm, struct fl_vma *vma, uint64_t addr);

#endif
