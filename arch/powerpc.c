/*
 * powerpc.c - the powerpc book3s64 page-fault handler
 * (arch/powerpc/mm/fault.c ___do_page_fault), as data (kernel-semantics.md
 * §5.1, §5.3 "powerpc").
 *
 * Per-VMA lock from 6.4 on book3s64 only (PPC_PSERIES, PPC_POWERNV). Access
 * checks: protection keys first, then exec needs VM_EXEC (NOEXECUTE CPUs),
 * write VM_WRITE, read any access that is not exec-only.
 */
#include "arch/rules.h"

static uint32_t ppc_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ | FL_VMA_WRITE;
}

static const struct fl_arch powerpc = {
	.name = "powerpc",
	.machines = "ppc64le ppc64 powerpc powerpc64 powerpc64le",
	.handler = "arch/powerpc/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 4),
	.vma_lock_cond = "book3s64 only (PPC_PSERIES, PPC_POWERNV); 32-bit and booke never",
	.fault_tp_since = 0,
	.fault_marker = "no tracepoint: perf page-faults, a kprobe, or inference from "
			"mmap_lock and filemap events",
	.find_vma_since = FL_KVER(6, 1),
	.access_rule = "protection keys first; an exec needs VM_EXEC, a write VM_WRITE, a read "
		       "any access that is not exec-only",
	.prechecks = "bad error codes (SIGBUS), kernel exec/KUAP/kernel-address faults "
		     "(SIGSEGV) before any lock",
	.vma_retry_signal = "returns 0 for a user fault, SIGBUS for a kernel one",
	.access_needs = ppc_access_needs,
};

const struct fl_arch *const fl_arch_powerpc = &powerpc;
