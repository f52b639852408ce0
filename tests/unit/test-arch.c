/*
 * The architecture tables and the version rules of kernel-semantics.md §5.1
 * and §10: one check per rule boundary, per architecture where they differ.
 */
#include "tests/unit/test.h"

#include "arch/rules.h"

FL_TEST(arch_kver_parse)
{
	char b[16];

	CHECK(fl_kver_parse("6.12.0-1-amd64") == FL_KVER(6, 12));
	CHECK(fl_kver_parse("6.1") == FL_KVER(6, 1));
	CHECK(fl_kver_parse("7.0-rc3") == FL_KVER(7, 0));
	CHECK(fl_kver_parse("linux") == -1);
	CHECK(fl_kver_parse("6") == -1);
	CHECK(fl_kver_parse(NULL) == -1);
	CHECK(!strcmp(fl_kver_str(FL_KVER(6, 18), b), "6.18"));
}

FL_TEST(arch_find_by_name_and_machine)
{
	CHECK(fl_narches == 7);
	CHECK(fl_arch_find("x86_64") == fl_arch_get(0));
	CHECK(fl_arch_find("aarch64") == fl_arch_find("arm64"));
	CHECK(fl_arch_find("ppc64le") == fl_arch_find("powerpc"));
	CHECK(fl_arch_find("s390x") == fl_arch_find("s390"));
	CHECK(fl_arch_find("loongarch64") == fl_arch_find("loongarch"));
	CHECK(fl_arch_find("riscv64") == fl_arch_find("riscv"));
	CHECK(fl_arch_find("armv7l") == fl_arch_find("arm"));
	CHECK(fl_arch_find("arm") != fl_arch_find("arm64"));
	CHECK(fl_arch_find("sparc64") == NULL);
	for (unsigned i = 0; i < fl_narches; i++)
		CHECK(fl_arch_find(fl_arch_get(i)->name) == fl_arch_get(i));
}

/* §5.1: per-VMA lock since 6.4 (x86_64, arm64, powerpc, s390), 6.5 riscv, 6.8 arm, 6.18 loongarch. */
FL_TEST(arch_vma_lock_versions)
{
	static const struct { const char *a; int first; } tab[] = {
		{ "x86_64", FL_KVER(6, 4) }, { "arm64", FL_KVER(6, 4) }, { "powerpc", FL_KVER(6, 4) },
		{ "s390", FL_KVER(6, 4) }, { "riscv", FL_KVER(6, 5) }, { "arm", FL_KVER(6, 8) },
		{ "loongarch", FL_KVER(6, 18) },
	};
	struct fl_fault_rules r;

	for (size_t i = 0; i < FL_ARRAY_SIZE(tab); i++) {
		const struct fl_arch *a = fl_arch_find(tab[i].a);

		fl_arch_rules(a, FL_KVER(6, 1), &r);
		CHECKF(!r.vma_lock && r.impl == FL_VMA_LOCK_NONE, "%s 6.1", tab[i].a);
		fl_arch_rules(a, tab[i].first - 1, &r);
		CHECKF(!r.vma_lock, "%s before", tab[i].a);
		fl_arch_rules(a, tab[i].first, &r);
		CHECKF(r.vma_lock, "%s at %d", tab[i].a, tab[i].first);
	}
	fl_arch_rules(fl_arch_find("loongarch"), FL_KVER(6, 17), &r);
	CHECK(!r.vma_lock && !r.file_under_vma && !r.major_sets_tried);
}

/* §10: 6.4/6.5 anon-only, 6.6 file faults RETRY, 6.7 file under VMA, 6.8 TRIED, 6.10 access
 * errors, 6.15 refcount, 6.16 madvise. */
FL_TEST(arch_generic_version_rules)
{
	const struct fl_arch *x = fl_arch_find("x86_64");
	struct fl_fault_rules r;

	fl_arch_rules(x, FL_KVER(6, 5), &r);
	CHECK(r.anon_only && !r.file_under_vma && !r.swap_wait_under_vma && !r.anon_prepare_trylock);
	CHECK(r.impl == FL_VMA_LOCK_RWSEM);
	fl_arch_rules(x, FL_KVER(6, 6), &r);
	CHECK(!r.anon_only && !r.file_under_vma && r.swap_wait_under_vma && r.anon_prepare_trylock);
	fl_arch_rules(x, FL_KVER(6, 7), &r);
	CHECK(r.file_under_vma && !r.major_sets_tried);
	fl_arch_rules(x, FL_KVER(6, 8), &r);
	CHECK(r.major_sets_tried && !r.vma_access_error);
	fl_arch_rules(x, FL_KVER(6, 10), &r);
	CHECK(r.vma_access_error && r.impl == FL_VMA_LOCK_RWSEM);
	fl_arch_rules(x, FL_KVER(6, 15), &r);
	CHECK(r.impl == FL_VMA_LOCK_REFCNT && !r.madv_vma_lock);
	fl_arch_rules(x, FL_KVER(6, 16), &r);
	CHECK(r.madv_vma_lock);
	CHECK(r.mmap_entry == FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA);
}

/* §5.3: s390's mmap path is a plain mmap_read_lock in 6.x; arm retries only without errors. */
FL_TEST(arch_quirks)
{
	struct fl_fault_rules r;

	fl_arch_rules(fl_arch_find("s390"), FL_KVER(6, 12), &r);
	CHECK(r.mmap_entry == FL_MMAP_ENTRY_READ_LOCK);
	fl_arch_rules(fl_arch_find("s390"), FL_KVER(7, 0), &r);
	CHECK(r.mmap_entry == FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA);
	fl_arch_rules(fl_arch_find("arm"), FL_KVER(6, 12), &r);
	CHECK(r.mmap_retry_needs_no_error);
	fl_arch_rules(fl_arch_find("arm64"), FL_KVER(6, 12), &r);
	CHECK(!r.mmap_retry_needs_no_error);
	CHECK(fl_arch_find("arm64")->vma_gcs_no_success);
	CHECK(fl_arch_find("x86_64")->fault_tp_since && !fl_arch_find("arm64")->fault_tp_since);
}

FL_TEST(arch_access_checks)
{
	const struct fl_arch *x = fl_arch_find("x86_64"), *s = fl_arch_find("s390");

	CHECK(!fl_arch_access_ok(x, FL_ACC_WRITE, FL_VMA_READ));
	CHECK(fl_arch_access_ok(x, FL_ACC_WRITE, FL_VMA_READ | FL_VMA_WRITE));
	CHECK(fl_arch_access_ok(x, FL_ACC_READ, FL_VMA_EXEC));	/* any access */
	CHECK(!fl_arch_access_ok(s, FL_ACC_READ, FL_VMA_EXEC));	/* s390: VM_READ needed */
	CHECK(!fl_arch_access_ok(fl_arch_find("riscv"), FL_ACC_EXEC, FL_VMA_READ));
	CHECK(!fl_arch_access_ok(x, FL_ACC_READ, 0));
}

/* The explanation is generated: loongarch's differs in the VMA-lock version range, s390's in
 * the mmap entry, x86_64 has no differences from itself. */
FL_TEST(arch_explain_generated)
{
	struct fl_buf b = { 0 };

	fl_arch_explain(fl_arch_find("loongarch"), FL_KVER(6, 12), &b);
	CHECK(strstr(b.data, "from 6.18") != NULL);
	CHECK(strstr(b.data, "6.4 up to before 6.6") != NULL);
	CHECK(strstr(b.data, "6.16 up to before 6.18") != NULL);
	CHECK(strstr(b.data, "every fault takes mmap_lock") != NULL);
	fl_buf_reset(&b);
	fl_arch_explain(fl_arch_find("s390"), 0, &b);
	CHECK(strstr(b.data, "plain mmap_read_lock") != NULL);
	CHECK(strstr(b.data, "up to before 7.0") != NULL);
	fl_buf_reset(&b);
	fl_arch_explain(fl_arch_find("x86_64"), 0, &b);
	CHECK(strstr(b.data, "none (this is the baseline)") != NULL);
	fl_buf_release(&b);
}
