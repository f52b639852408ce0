/*
 * rules.h - what a fault handler does for one (architecture, kernel version):
 * struct fl_fault_rules, from an arch table and the generic version deltas of
 * kernel-semantics.md §10 (see arch/arch.c).
 */
#ifndef FL_ARCH_RULES_H
#define FL_ARCH_RULES_H

#include "arch/arch.h"
#include "engine/vma.h"

/* What the mmap path enters with (§4.3). */
enum fl_mmap_entry {
	FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA,	/* trylock, then killable lock (6.5+, 6.1.y stable) */
	FL_MMAP_ENTRY_READ_LOCK,		/* plain mmap_read_lock, no trylock (s390 <= 6.x) */
};

/* The handler's behaviour for one (architecture, kernel version, fault mode). */
struct fl_fault_rules {
	const struct fl_arch *arch;
	int kver;			/* kernel code */
	bool vma_lock;			/* lock_vma_under_rcu tried first for user faults */
	enum fl_vma_lock_impl impl;	/* NONE, RWSEM (6.4-6.14), REFCNT (6.15+) */
	bool anon_only;			/* 6.4/6.5: only anonymous VMAs with anon_vma, no uffd */
	bool file_under_vma;		/* >= 6.7: file faults handled under the VMA lock; 6.6
					   returns RETRY at once (needs mmap_lock) */
	bool swap_wait_under_vma;	/* >= 6.6: swap-in drops the VMA lock and waits; before:
					   RETRY at once */
	bool anon_prepare_trylock;	/* >= 6.6: anon_vma set up by mmap_read_trylock under the
					   VMA lock (RETRY when it fails) */
	bool major_sets_tried;		/* >= 6.8: MAJOR from the VMA attempt sets TRIED */
	bool vma_access_error;		/* >= 6.10: access errors answered under the VMA lock */
	bool madv_vma_lock;		/* >= 6.16: MADV_DONTNEED/FREE under the VMA lock */
	enum fl_mmap_entry mmap_entry;
	bool mmap_retry_needs_no_error;
};

void fl_arch_rules(const struct fl_arch *a, int kver, struct fl_fault_rules *r);
/* Whether a fault with access (FL_ACC_*) is allowed on a VMA with flags (FL_VMA_*). */
bool fl_arch_access_ok(const struct fl_arch *a, uint32_t access, uint32_t vma_flags);

#endif
