/*
 * arm.c - the 32-bit arm page-fault handler (arch/arm/mm/fault.c), as data
 * (kernel-semantics.md §5.1, §5.3 "arm").
 *
 * Per-VMA lock from about 6.8 (SMP kernels). Addresses at or above TASK_SIZE
 * are kernel-address faults handled without an mm lock. The mmap path retries
 * only when the result carries no VM_FAULT_ERROR bit.
 */
#include "arch/rules.h"

static uint32_t arm_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ | FL_VMA_WRITE | FL_VMA_EXEC;
}

static const struct fl_arch arm = {
	.name = "arm",
	.machines = "arm armv7l armv7 armv6l armhf",
	.handler = "arch/arm/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 8),
	.vma_lock_cond = "SMP kernels (per-VMA locks need MMU and SMP)",
	.fault_tp_since = 0,
	.fault_marker = "no tracepoint: perf page-faults, a kprobe, or inference from "
			"mmap_lock and filemap events",
	.find_vma_since = FL_KVER(6, 1),
	.mmap_retry_needs_no_error = true,
	.access_rule = "a write (FSR WnR) needs VM_WRITE, a prefetch abort VM_EXEC, a read any "
		       "access",
	.prechecks = "addresses at or above TASK_SIZE are kernel-address faults, handled "
		     "without an mm lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup",
	.access_needs = arm_access_needs,
};

const struct fl_arch *const fl_arch_arm = &arm;
