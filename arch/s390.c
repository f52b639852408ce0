/*
 * s390.c - the s390 page-fault handler (arch/s390/mm/fault.c do_exception),
 * as data (kernel-semantics.md §5.1, §5.3 "s390").
 *
 * Per-VMA lock from 6.4. Its mmap path does not use lock_mm_and_find_vma()
 * in 6.x: a plain mmap_read_lock (no trylock, not killable: one
 * start_locking/acquire_returned pair), find_vma and its own stack expansion;
 * on RETRY it sets TRIED, takes mmap_read_lock again and loops. The 2026 mm
 * tree switched to lock_mm_and_find_vma (taken here as 7.0).
 */
#include "arch/rules.h"

static uint32_t s390_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ;
}

static const struct fl_arch s390 = {
	.name = "s390",
	.machines = "s390x s390",
	.handler = "arch/s390/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 4),
	.vma_lock_cond = "always",
	.fault_tp_since = 0,
	.fault_marker = "no tracepoint: perf page-faults, a kprobe, or inference from "
			"mmap_lock and filemap events",
	.find_vma_since = FL_KVER(7, 0),
	.access_rule = "the access needs the matching VM_READ, VM_WRITE or VM_EXEC bit",
	.prechecks = "kernel-address faults, faulthandler_disabled() and faults without an mm "
		     "are handled without a lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup",
	.access_needs = s390_access_needs,
};

const struct fl_arch *const fl_arch_s390 = &s390;
