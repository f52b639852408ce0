/*
 * arch.h - each architecture's page-fault handler as data plus small
 * functions (kernel-semantics.md §5), and the kernel-version rules that
 * change what the handler and handle_mm_fault do (§4, §6, §7, §10).
 *
 * A struct fl_arch says what is particular to one architecture: since which
 * kernel it selects ARCH_SUPPORTS_PER_VMA_LOCK, how it checks an access
 * against the VMA, which lock entry its mmap path uses, what it does with a
 * RETRY that comes with a signal, and which event marks a fault in a trace.
 * arch/rules.h's fl_arch_rules() combines that with the generic version deltas
 * into the struct fl_fault_rules the model's fault handler follows (kept apart:
 * it needs engine types, this header does not). The trace's
 * architecture is data (the capture header's uname.machine), never #ifdef.
 *
 * Kernel versions are "codes" major * 1000 + minor (6.12 -> 6012).
 */
#ifndef FL_ARCH_H
#define FL_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/fl.h"
#include "arch/kver.h"

/* Access kinds of a fault (from the hardware error code). */
#define FL_ACC_READ	0x1
#define FL_ACC_WRITE	0x2
#define FL_ACC_EXEC	0x4

struct fl_arch {
	const char *name;		/* "x86_64", as faultlab names it (--arch) */
	const char *machines;		/* uname -m values that mean it, space separated */
	const char *handler;		/* the kernel file the rules come from */
	int vma_lock_since;		/* kernel code selecting per-VMA locks; 0 = never */
	const char *vma_lock_cond;	/* its Kconfig condition, in words */
	int fault_tp_since;		/* exceptions:page_fault_* tracepoint; 0 = none */
	const char *fault_marker;	/* what marks a fault in a trace without it */
	int find_vma_since;		/* mmap path uses lock_mm_and_find_vma from this code;
					   before it FL_MMAP_ENTRY_READ_LOCK */
	bool mmap_retry_needs_no_error;	/* arm: mmap-path retry only if !(fault & ERROR) */
	bool vma_gcs_no_success;	/* arm64: GCS access error not counted as SUCCESS */
	const char *access_rule;	/* the access check in words */
	const char *prechecks;		/* faults answered without any mm lock, in words */
	const char *vma_retry_signal;	/* what a VMA-path RETRY with a signal pending does */
	/* The VMA flags (FL_VMA_READ/WRITE/EXEC) of which one must be set for the access. */
	uint32_t (*access_needs)(uint32_t access);
};

/* All architectures, in a fixed order (x86_64 first): fl_arch_get(0 .. fl_narches - 1). */
extern const unsigned fl_narches;
const struct fl_arch *fl_arch_get(unsigned i);

/* By faultlab name or uname -m value ("x86_64", "amd64", "aarch64", "ppc64le", ...). */
const struct fl_arch *fl_arch_find(const char *name);


/*
 * How architecture a differs from the baseline (x86_64), in plain words,
 * generated from the tables: per-arch fields and the version ranges where the
 * rules differ. kver > 0 adds what applies at that kernel.
 */
void fl_arch_explain(const struct fl_arch *a, int kver, struct fl_buf *out);

#endif
