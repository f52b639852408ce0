/*
 * x86_64.c - the x86_64 page-fault handler (arch/x86/mm/fault.c), as data
 * (kernel-semantics.md §5.1, §5.3 "x86"). It is the baseline the other
 * architectures are explained against.
 *
 * Per-VMA lock from 6.4, 64-bit only; user faults only (FAULT_FLAG_USER comes
 * from user_mode(regs), not X86_PF_USER); the page_fault_user/kernel
 * tracepoints fire once per exception at handler entry.
 */
#include "arch/rules.h"

/* access_error(): write needs VM_WRITE, read-not-present needs any access; pkeys/SGX aside. */
static uint32_t x86_access_needs(uint32_t access)
{
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	return FL_VMA_READ | FL_VMA_WRITE | FL_VMA_EXEC;
}

static const struct fl_arch x86_64 = {
	.name = "x86_64",
	.machines = "x86_64 amd64 x86-64",
	.handler = "arch/x86/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 4),
	.vma_lock_cond = "64-bit kernels only (ARCH_SUPPORTS_PER_VMA_LOCK inside X86_64)",
	.fault_tp_since = FL_KVER(3, 13),
	.fault_marker = "exceptions:page_fault_user / page_fault_kernel at handler entry",
	.find_vma_since = FL_KVER(6, 1),
	.access_rule = "a write needs VM_WRITE, an instruction fetch VM_EXEC, a read any "
		       "access; protection keys and SGX are always errors",
	.prechecks = "reserved-bit faults, SMAP violations, kernel exec of user memory and the "
		     "vsyscall page are handled before any lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup (SIGBUS)",
	.access_needs = x86_access_needs,
};

const struct fl_arch *const fl_arch_x86_64 = &x86_64;
