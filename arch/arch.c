/*
 * arch.c - the architecture registry, kernel version parsing, the version
 * rules every handler shares, and the plain-words explanation generated from
 * the tables (kernel-semantics.md §5, §10).
 *
 * The generic rules (what changed in mm/ rather than in arch/):
 *   6.4   per-VMA locks (rwsem), anonymous VMAs with an anon_vma only (§4.1
 *         rule 4); swap faults under the VMA lock RETRY at once (§6.2)
 *   6.6   file VMAs accepted, but their faults RETRY at once to the mmap path;
 *         swap faults drop the VMA lock and wait; anon_vma prepared with
 *         mmap_read_trylock under the VMA lock (§6.3)
 *   6.7   file read/COW/shared faults handled under the VMA lock
 *   6.8   a MAJOR RETRY from the VMA attempt sets TRIED for the mmap retry (§5.2)
 *   6.10  access errors answered under the VMA lock, no mmap re-check
 *   6.15  the VMA lock is a refcount (new readers fail as soon as a writer
 *         waits)
 *   6.16  MADV_DONTNEED/FREE under the VMA lock (§7) [U]
 * Kernel-mode faults never use the VMA lock on any architecture (§5.2).
 */
#include "arch/rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const struct fl_arch *const fl_arch_x86_64, *const fl_arch_arm64, *const fl_arch_arm,
	*const fl_arch_powerpc, *const fl_arch_riscv, *const fl_arch_s390,
	*const fl_arch_loongarch;

static const struct fl_arch *arch_at(unsigned i)
{
	switch (i) {
	case 0: return fl_arch_x86_64;
	case 1: return fl_arch_arm64;
	case 2: return fl_arch_arm;
	case 3: return fl_arch_powerpc;
	case 4: return fl_arch_riscv;
	case 5: return fl_arch_s390;
	case 6: return fl_arch_loongarch;
	default: return NULL;
	}
}

const unsigned fl_narches = 7;

const struct fl_arch *fl_arch_get(unsigned i)
{
	return arch_at(i);
}

const struct fl_arch *fl_arch_find(const char *name)
{
	if (!name || !*name)
		return NULL;
	for (unsigned i = 0; i < fl_narches; i++) {
		const struct fl_arch *a = arch_at(i);
		const char *p = a->machines;
		size_t n = strlen(name);

		if (!strcasecmp(a->name, name))
			return a;
		while (p && *p) {
			const char *sp = strchr(p, ' ');
			size_t len = sp ? (size_t)(sp - p) : strlen(p);

			if (len == n && !strncasecmp(p, name, n))
				return a;
			p = sp ? sp + 1 : NULL;
		}
	}
	return NULL;
}

int fl_kver_parse(const char *release)
{
	int ma, mi, n = 0;

	if (!release || sscanf(release, "%d.%d%n", &ma, &mi, &n) < 2 || !n || ma < 0 || mi < 0 ||
	    mi > 999 || ma > 99)
		return -1;
	return FL_KVER(ma, mi);
}

const char *fl_kver_str(int kver, char *buf)
{
	snprintf(buf, 16, "%d.%d", kver / 1000, kver % 1000);
	return buf;
}

void fl_arch_rules(const struct fl_arch *a, int kver, struct fl_fault_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->arch = a;
	r->kver = kver;
	r->vma_lock = a->vma_lock_since && kver >= a->vma_lock_since;
	r->impl = !r->vma_lock ? FL_VMA_LOCK_NONE :
		  kver >= FL_KVER(6, 15) ? FL_VMA_LOCK_REFCNT : FL_VMA_LOCK_RWSEM;
	r->anon_only = r->vma_lock && kver < FL_KVER(6, 6);
	r->file_under_vma = r->vma_lock && kver >= FL_KVER(6, 7);
	r->swap_wait_under_vma = r->vma_lock && kver >= FL_KVER(6, 6);
	r->anon_prepare_trylock = r->vma_lock && kver >= FL_KVER(6, 6);
	r->major_sets_tried = r->vma_lock && kver >= FL_KVER(6, 8);
	r->vma_access_error = r->vma_lock && kver >= FL_KVER(6, 10);
	r->madv_vma_lock = r->vma_lock && kver >= FL_KVER(6, 16);
	r->mmap_entry = kver >= a->find_vma_since ? FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA :
						    FL_MMAP_ENTRY_READ_LOCK;
	r->mmap_retry_needs_no_error = a->mmap_retry_needs_no_error;
}

bool fl_arch_access_ok(const struct fl_arch *a, uint32_t access, uint32_t vma_flags)
{
	return (a->access_needs(access) & vma_flags) != 0;
}

/* ---- explanation ---------------------------------------------------------------- */

static const char *since(int kver, char *buf)
{
	if (!kver)
		return "never";
	snprintf(buf, 32, "from %d.%d", kver / 1000, kver % 1000);
	return buf;
}

/* One sentence per rule of r, for "what applies at this kernel". */
static void rules_words(const struct fl_fault_rules *r, struct fl_buf *o)
{
	if (!r->vma_lock) {
		fl_buf_addstr(o, "    - every fault takes mmap_lock for read (no per-VMA lock)\n");
	} else {
		fl_buf_addf(o, "    - user faults try the per-VMA lock first (%s); kernel-mode "
			    "faults take mmap_lock\n",
			    r->impl == FL_VMA_LOCK_REFCNT ? "a refcount: a waiting writer stops "
			    "new readers at once" : "a rw_semaphore: a writer spins before it "
			    "stops new readers");
		if (r->anon_only)
			fl_buf_addstr(o, "    - only anonymous VMAs with an anon_vma qualify: file "
				      "faults always use mmap_lock\n");
		else if (!r->file_under_vma)
			fl_buf_addstr(o, "    - file faults take the VMA lock but return RETRY at "
				      "once and finish under mmap_lock\n");
		else
			fl_buf_addstr(o, "    - file faults run under the VMA lock; waiting for I/O "
				      "drops it and the retry goes to mmap_lock\n");
		fl_buf_addf(o, "    - a major (I/O) RETRY from the VMA attempt %s\n",
			    r->major_sets_tried ? "sets TRIED: the mmap retry cannot drop the lock "
			    "again and waits for a re-read holding mmap_lock" :
			    "does not set TRIED: the mmap retry may drop the lock once more");
		fl_buf_addf(o, "    - an access error under the VMA lock %s\n",
			    r->vma_access_error ? "is answered there (SIGSEGV)" :
			    "is re-checked under mmap_lock");
		fl_buf_addf(o, "    - swap-in under the VMA lock %s\n",
			    r->swap_wait_under_vma ? "drops it and waits for the read" :
			    "returns RETRY at once (finished under mmap_lock)");
	}
	fl_buf_addf(o, "    - the mmap path enters with %s\n",
		    r->mmap_entry == FL_MMAP_ENTRY_LOCK_MM_AND_FIND_VMA ?
		    "lock_mm_and_find_vma (mmap_read_trylock, then a killable mmap_read_lock)" :
		    "a plain mmap_read_lock (no trylock, not killable)");
	fl_buf_addf(o, "    - madvise(DONTNEED/FREE) takes %s\n",
		    r->madv_vma_lock ? "the VMA lock (mmap_lock read as fallback)" :
		    "mmap_lock for read");
}

/* The kernel versions at which some rule changes, ascending. */
static const int steps[] = {
	FL_KVER(6, 1), FL_KVER(6, 4), FL_KVER(6, 5), FL_KVER(6, 6), FL_KVER(6, 7), FL_KVER(6, 8),
	FL_KVER(6, 10), FL_KVER(6, 15), FL_KVER(6, 16), FL_KVER(6, 17), FL_KVER(6, 18),
	FL_KVER(7, 0),
};

static bool rules_equal(const struct fl_fault_rules *x, const struct fl_fault_rules *y)
{
	return x->vma_lock == y->vma_lock && x->impl == y->impl && x->anon_only == y->anon_only &&
	       x->file_under_vma == y->file_under_vma &&
	       x->swap_wait_under_vma == y->swap_wait_under_vma &&
	       x->major_sets_tried == y->major_sets_tried &&
	       x->vma_access_error == y->vma_access_error &&
	       x->madv_vma_lock == y->madv_vma_lock && x->mmap_entry == y->mmap_entry;
}

static void field(struct fl_buf *o, struct fl_buf *same, const char *what, const char *mine,
		  const char *base, const char *base_name)
{
	if (!strcmp(mine, base)) {
		fl_buf_addf(same, "%s%s", same->len ? ", " : "", what);
		return;
	}
	fl_buf_addf(o, "  - %s: %s\n      (%s: %s)\n", what, mine, base_name, base);
}

void fl_arch_explain(const struct fl_arch *a, int kver, struct fl_buf *o)
{
	const struct fl_arch *b = arch_at(0);
	struct fl_buf same = { 0 };
	char s1[32], s2[32], v[16];
	char mine[256], base[256];
	int from = -1;

	fl_buf_addf(o, "%s (%s) against %s, from kernel-semantics.md §5:\n", a->name, a->handler,
		    b->name);
	snprintf(mine, sizeof(mine), "%s, %s", since(a->vma_lock_since, s1), a->vma_lock_cond);
	snprintf(base, sizeof(base), "%s, %s", since(b->vma_lock_since, s2), b->vma_lock_cond);
	field(o, &same, "per-VMA lock", mine, base, b->name);
	snprintf(mine, sizeof(mine), "%s%s%s", a->fault_tp_since ? since(a->fault_tp_since, s1) :
		 "", a->fault_tp_since ? ": " : "", a->fault_marker);
	snprintf(base, sizeof(base), "%s%s%s", b->fault_tp_since ? since(b->fault_tp_since, s2) :
		 "", b->fault_tp_since ? ": " : "", b->fault_marker);
	field(o, &same, "fault event in a trace", mine, base, b->name);
	snprintf(mine, sizeof(mine), "lock_mm_and_find_vma %s%s", since(a->find_vma_since, s1),
		 a->find_vma_since > FL_KVER(6, 1) ? "; before that a plain mmap_read_lock "
		 "(no trylock) and its own retry loop" : "");
	snprintf(base, sizeof(base), "lock_mm_and_find_vma %s%s", since(b->find_vma_since, s2),
		 b->find_vma_since > FL_KVER(6, 1) ? "; before that a plain mmap_read_lock" : "");
	field(o, &same, "mmap path entry", mine, base, b->name);
	field(o, &same, "access check", a->access_rule, b->access_rule, b->name);
	field(o, &same, "checks before any lock", a->prechecks, b->prechecks, b->name);
	field(o, &same, "VMA-path RETRY with a signal pending", a->vma_retry_signal,
	      b->vma_retry_signal, b->name);
	field(o, &same, "mmap-path retry",
	      a->mmap_retry_needs_no_error ? "only when the result has no error bit" :
	      "whenever the result has RETRY",
	      b->mmap_retry_needs_no_error ? "only when the result has no error bit" :
	      "whenever the result has RETRY", b->name);
	field(o, &same, "VMA-lock success counting",
	      a->vma_gcs_no_success ? "a GCS access error is not counted as vma_lock_success" :
	      "every non-RETRY result counts as vma_lock_success",
	      b->vma_gcs_no_success ? "a GCS access error is not counted as vma_lock_success" :
	      "every non-RETRY result counts as vma_lock_success", b->name);
	if (same.len)
		fl_buf_addf(o, "  - same as %s: %s\n", b->name, same.data);

	/* Version ranges where the resulting rules differ from the baseline's: one paragraph per
	 * range in which neither side's rules change. */
	fl_buf_addf(o, "kernel versions where the fault path differs from %s:\n", b->name);
	{
		struct fl_fault_rules cur_a, cur_b;

		for (size_t i = 0; i <= FL_ARRAY_SIZE(steps); i++) {
			struct fl_fault_rules ra, rb;
			bool differ = false, same_run = false;

			if (i < FL_ARRAY_SIZE(steps)) {
				fl_arch_rules(a, steps[i], &ra);
				fl_arch_rules(b, steps[i], &rb);
				differ = !rules_equal(&ra, &rb);
				same_run = from >= 0 && rules_equal(&ra, &cur_a) &&
					   rules_equal(&rb, &cur_b);
			}
			if (from >= 0 && !same_run) {
				fl_buf_addf(o, "  %s", fl_kver_str(steps[from], v));
				if (i < FL_ARRAY_SIZE(steps))
					fl_buf_addf(o, " up to before %s", fl_kver_str(steps[i], v));
				else
					fl_buf_addstr(o, " and later");
				fl_buf_addf(o, ":\n    %s:\n", a->name);
				rules_words(&cur_a, o);
				fl_buf_addf(o, "    %s:\n", b->name);
				rules_words(&cur_b, o);
				from = -1;
			}
			if (differ && from < 0) {
				from = (int)i;
				cur_a = ra;
				cur_b = rb;
			}
		}
	}
	if (a == b)
		fl_buf_addstr(o, "  none (this is the baseline)\n");
	if (kver > 0) {
		struct fl_fault_rules r;

		fl_arch_rules(a, kver, &r);
		fl_buf_addf(o, "at kernel %s, %s:\n", fl_kver_str(kver, v), a->name);
		rules_words(&r, o);
	}
	fl_buf_release(&same);
}
