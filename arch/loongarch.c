/*
 * loongarch.c - the LoongArch page-fault handler (arch/loongarch/mm/fault.c
 * __do_page_fault), as data (kernel-semantics.md §5.1, §5.3 "loongarch").
 *
 * Per-VMA lock only from 6.18: before that every fault takes mmap_lock via
 * lock_mm_and_find_vma and the retry loop. Access checks inline: write needs
 * VM_WRITE, an instruction fetch (address == exception_era) VM_EXEC, a data
 * read VM_READ or VM_WRITE.
 */
#include "arch/rules.h"

static uint32_t la_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ | FL_VMA_WRITE;
}

static const struct fl_arch loongarch = {
	.name = "loongarch",
	.machines = "loongarch64 loongarch",
	.handler = "arch/loongarch/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 18),
	.vma_lock_cond = "always (from 6.18-rc1)",
	.fault_tp_since = 0,
	.fault_marker = "no tracepoint: perf page-faults, a kprobe, or inference from "
			"mmap_lock and filemap events",
	.find_vma_since = FL_KVER(6, 1),
	.access_rule = "a write needs VM_WRITE, an instruction fetch VM_EXEC, a data read "
		       "VM_READ or VM_WRITE",
	.prechecks = "kernel-address faults and faults without an mm are handled without a lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup",
	.access_needs = la_access_needs,
};

const struct fl_arch *const fl_arch_loongarch = &loongarch;
