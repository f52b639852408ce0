/*
 * riscv.c - the riscv page-fault handler (arch/riscv/mm/fault.c
 * handle_page_fault), as data (kernel-semantics.md §5.1, §5.3 "riscv").
 *
 * Per-VMA lock from 6.5 (commit 648321fa0d97). access_error() from the trap
 * cause: instruction -> VM_EXEC, load -> VM_READ|VM_WRITE, store -> VM_WRITE.
 * The exceptions:page_fault_* tracepoints arrived around 6.17.
 */
#include "arch/rules.h"

static uint32_t riscv_access_needs(uint32_t access)
{
	if (access & FL_ACC_EXEC)
		return FL_VMA_EXEC;
	if (access & FL_ACC_WRITE)
		return FL_VMA_WRITE;
	return FL_VMA_READ | FL_VMA_WRITE;
}

static const struct fl_arch riscv = {
	.name = "riscv",
	.machines = "riscv64 riscv",
	.handler = "arch/riscv/mm/fault.c",
	.vma_lock_since = FL_KVER(6, 5),
	.vma_lock_cond = "MMU kernels",
	.fault_tp_since = FL_KVER(6, 17),
	.fault_marker = "exceptions:page_fault_user / page_fault_kernel (cause instead of "
			"error_code)",
	.find_vma_since = FL_KVER(6, 1),
	.access_rule = "an instruction fault needs VM_EXEC, a load VM_READ or VM_WRITE, a store "
		       "VM_WRITE",
	.prechecks = "kernel accesses to user memory with SR_SUM clear go to the fixup or die "
		     "before any lock",
	.vma_retry_signal = "a user fault returns to deliver the signal; a kernel fault goes "
			    "to the exception fixup",
	.access_needs = riscv_access_needs,
};

const struct fl_arch *const fl_arch_riscv = &riscv;
