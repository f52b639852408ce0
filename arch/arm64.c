/*
 * arm64.c - the arm64 page-fault handler (arch/arm64/mm/fault.c
 * do_page_fault), as data (kernel-semantics.md §5.1, §5.3 "arm64").
 *
 * Per-VMA lock from 6.4, unconditional. The VMA flags an access needs come
 * from the ESR: an EL0 instruction abort needs VM_EXEC, a write abort
 * VM_WRITE, a read VM_READ or VM_WRITE. arm64 has no page-fault tracepoint
 * (the patch adding one was NACKed), so a trace marks faults otherwise.
 */
#include "arch/rules.h"

static uint32_t arm64_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ | FL_VMA_WRITE;
}

static const struct fl_arch arm64 = {
	.name = "arm64",
	.machines = "aarch64 arm64",
	.handler = "arch/arm64/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 4),
	.vma_lock_cond = "always",
	.fault_tp_since = 0,
	.fault_marker = "no tracepoint: perf page-faults / major-faults / minor-faults, a "
			"kprobe on handle_mm_fault, or inference from mmap_lock and filemap events",
	.find_vma_since = FL_KVER(6, 1),
	.vma_gcs_no_success = true,
	.access_rule = "an instruction abort needs VM_EXEC, a write VM_WRITE, a read VM_READ "
		       "or VM_WRITE (from the ESR); GCS accesses count as writes",
	.prechecks = "EL1 permission faults on user addresses without an exception-table "
		     "entry die before any lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup",
	.access_needs = arm64_access_needs,
};

const struct fl_arch *const fl_arch_arm64 = &arm64;
