/*
 * The model driver on synthetic op streams: the direction of each policy from
 * the kernel's rules (kernel-semantics.md §5, §6, §7, §8), determinism, and
 * small hand-checked cases. These are not tuned to published numbers: the
 * scenario is the ioretry thrash in miniature (16 threads, each mmap / read
 * every page / munmap of its own 16 MiB file, page cache of 2 MiB, 2 CPUs) plus
 * a thread that forks every 2 ms.
 */
#include "tests/unit/test.h"

#include <math.h>
#include <stdlib.h>

#include "arch/kver.h"
#include "replay/run-metrics.h"

#define VMA_FILE_RO (FL_MVMA_READ | FL_MVMA_SHARED | FL_MVMA_FILE | FL_MVMA_MAP_PAGES)

static void thrash(struct fl_model_input *in, int nt, int rounds, uint64_t cap, bool forker)
{
	fl_model_input_init(in);
	in->capacity_pages = cap;
	in->ncpus = 2;
	in->kver = FL_KVER(6, 18);
	for (int i = 0; i < nt; i++) {
		uint32_t f = fl_model_add_file(in, 4096);
		struct fl_model_thread *t = fl_model_add_thread(in, 100 + i, 0);
		uint64_t base = 0x100000000ULL + (uint64_t)i * (32 << 20);

		t->start_ns = i * 1000;
		for (int r = 0; r < rounds; r++) {
			struct fl_op *o = fl_model_add_op(t);

			o->kind = FL_OP_MMAP;
			o->addr = base;
			o->len = 16 << 20;
			o->file = f;
			o->arg = VMA_FILE_RO;
			for (int p = 0; p < 4096; p++) {
				o = fl_model_add_op(t);
				o->kind = FL_OP_TOUCH;
				o->addr = base + (uint64_t)p * 4096;
				o->cpu_ns = 30;
			}
			o = fl_model_add_op(t);
			o->kind = FL_OP_MUNMAP;
			o->addr = base;
			o->len = 16 << 20;
		}
	}
	if (forker) {
		struct fl_model_thread *t = fl_model_add_thread(in, 999, 0);

		in->mm_forked = calloc(2, sizeof(*in->mm_forked));
		in->mm_forked[1] = 1;
		for (int k = 0; k < 40; k++) {
			struct fl_op *o = fl_model_add_op(t);

			o->kind = FL_OP_FORK;
			o->sleep_ns = 2000000;
			o->child_mm = 1;
		}
	}
}

static int run(const struct fl_model_input *in, const char *pol, struct fl_model_run *r,
	       struct fl_metrics *m)
{
	struct fl_err err;
	uint32_t bits;

	if (fl_policy_parse(pol, &bits, &err) < 0 || fl_model_run(in, bits, 1, r, &err) < 0) {
		fl_test_fail(__FILE__, __LINE__, "%s: %s", pol, err.msg);
		return -1;
	}
	fl_model_metrics(r, m);
	return 0;
}

FL_TEST(replay_policy_names)
{
	struct fl_err err;
	uint32_t p;
	char b[128];

	CHECK(fl_policy_parse("mainline", &p, &err) == 0 && p == 0);
	CHECK(fl_policy_parse("vma-retry+uptodate-no-retry-wb", &p, &err) == 0);
	CHECK(p == (FL_POL_VMA_RETRY | FL_POL_UPTODATE_NO_RETRY_WB));
	CHECK(!strcmp(fl_policy_name(p, b), "vma-retry+uptodate-no-retry-wb"));
	CHECK(fl_policy_parse("hold-vma-io+vma-retry", &p, &err) < 0);
	CHECK(strstr(err.msg, "do not combine") != NULL);
	CHECK(fl_policy_parse("no-vma-lock+retry-hard", &p, &err) < 0);
	CHECK(fl_policy_parse("vma-retry+retry-hard", &p, &err) < 0);
	CHECK(fl_policy_parse("bogus", &p, &err) < 0 && strstr(err.msg, "'bogus'"));
	CHECK(fl_policy_parse("fork-cow-only+hold-vma-io", &p, &err) == 0);
}

/* Mainline on the thrash: retries after I/O go to mmap_lock, some miss the page cache. */
FL_TEST(replay_thrash_mainline_retries)
{
	struct fl_model_input in;
	struct fl_model_run r;
	struct fl_metrics m;

	thrash(&in, 16, 2, 512, false);
	if (run(&in, "mainline", &r, &m) == 0) {
		CHECK(m.retry_drop > 1000);
		CHECK(m.retry_io_miss > 0);
		CHECK(m.path_vma_retry_mmap > 1000);
		CHECK(m.path_vma > 0);
		CHECK(m.mmap_read_acq >= m.path_vma_retry_mmap);
		CHECK(m.mmap_write_acq == 16 * 2 * 2);	/* mmap + munmap per round */
		CHECK(r.win.n > 0 && r.win.total_ns >= r.win.cpu_wait_ns + r.win.mmap_wait_ns);
		CHECK(r.touches_nofault > 0);		/* fault-around mapped the neighbours */
		CHECK_EQ_U64(r.anomalies, 0);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

/*
 * The CPU the kernel spends around the I/O and the switches, each measured per
 * capture (opstream): a device in rounds, its completions' interrupt time on
 * the interrupted CPU, the block kworkers' runs on the submitting CPU once the
 * submitter leaves the kernel, and a switch's cost at each handoff. On one
 * CPU: a lone thread's reads wait out each completion's interrupt (its CPU is
 * idle then, so it starts after it) and each request's kworker; two threads
 * pay a switch at each handoff, counted in their wait for the CPU.
 */
static void io_cpu_run(int nt, uint64_t gap_ns, uint64_t kworker_ns, uint64_t switch_ns,
		       struct fl_model_run *r, struct fl_metrics *m)
{
	static const uint64_t open_ns[] = { 300000, 400000 };
	struct fl_model_input in;

	thrash(&in, nt, 1, 512, false);
	in.ncpus = nt > 2 ? 2 : 1;
	in.wake_affine = nt <= 2;	/* more: one run queue, CPUs without identities */
	in.io_round_ns = malloc(sizeof(open_ns));
	memcpy(in.io_round_ns, open_ns, sizeof(open_ns));
	in.nio_round = 2;
	in.io_gap_ns = gap_ns;
	in.irq_cpu = 0;
	if (kworker_ns) {
		in.kworker_ns = malloc(sizeof(uint64_t));
		in.kworker_ns[0] = kworker_ns;
		in.nkworker_ns = 1;
		in.kworker_ppm = 1000000;
	}
	in.costs.switch_ns = switch_ns;
	memset(r, 0, sizeof(*r));
	memset(m, 0, sizeof(*m));
	if (run(&in, "mainline", r, m) == 0)
		CHECK_EQ_U64(r->anomalies, 0);
	fl_model_input_release(&in);
}

FL_TEST(replay_io_rounds_interrupts_kworkers_switches)
{
	struct fl_model_run r[6];
	struct fl_metrics m[6];
	uint64_t reqs;

	io_cpu_run(1, 0, 0, 0, &r[0], &m[0]);
	io_cpu_run(1, 50000, 0, 0, &r[1], &m[1]);
	io_cpu_run(1, 0, 200000, 0, &r[2], &m[2]);
	io_cpu_run(2, 0, 0, 0, &r[3], &m[3]);
	io_cpu_run(2, 0, 0, 20000, &r[4], &m[4]);
	/* the pool mode has no CPU to take an interrupt from: nothing charged there, no crash */
	io_cpu_run(4, 50000, 200000, 20000, &r[5], &m[5]);
	CHECK(m[5].faults_user > 0 && r[5].io_requests > 100);
	reqs = r[0].io_requests;
	CHECK(reqs > 100 && r[1].io_requests == reqs && r[2].io_requests == reqs);
	CHECK(m[0].faults_user > 0 && m[1].faults_user == m[0].faults_user &&
	      m[2].faults_user == m[0].faults_user && m[4].faults_user == m[3].faults_user);
	/* every read the thread waited for: 50 us later (at least half the requests) */
	CHECKF(r[1].makespan_ns >= r[0].makespan_ns + reqs / 2 * 50000,
	       "interrupts: %llu against %llu ns, %llu requests",
	       (unsigned long long)r[1].makespan_ns, (unsigned long long)r[0].makespan_ns,
	       (unsigned long long)reqs);
	/* 200 us per request on the only CPU; most of it overlaps the thread's next read */
	CHECKF(r[2].makespan_ns >= r[0].makespan_ns + reqs * 20000,
	       "kworkers: %llu against %llu ns", (unsigned long long)r[2].makespan_ns,
	       (unsigned long long)r[0].makespan_ns);
	/* a handoff inside a retry window: the switch is part of the window's CPU wait */
	CHECKF(r[4].win.cpu_wait_ns >= r[3].win.cpu_wait_ns + 10 * 20000,
	       "switches: retry windows' CPU wait %llu against %llu ns",
	       (unsigned long long)r[4].win.cpu_wait_ns, (unsigned long long)r[3].win.cpu_wait_ns);
	for (int i = 0; i < 6; i++)
		fl_model_run_release(&r[i]);
}

/* §8: retrying under the VMA lock removes the mmap fallback and the misses it causes;
 * holding the VMA lock across I/O removes the drops but fork waits behind the I/O. */
FL_TEST(replay_thrash_policy_directions)
{
	struct fl_model_input in;
	struct fl_model_run r0, r1, r2;
	struct fl_metrics m0, m1, m2;

	thrash(&in, 16, 2, 512, true);
	if (run(&in, "mainline", &r0, &m0) || run(&in, "vma-retry", &r1, &m1) ||
	    run(&in, "hold-vma-io", &r2, &m2))
		goto out;
	CHECK(m0.path_vma_retry_mmap > 1000);
	CHECKF(m1.path_vma_retry_mmap * 100 < m0.path_vma_retry_mmap,
	       "vma-retry left %llu of %llu mmap fallbacks",
	       (unsigned long long)m1.path_vma_retry_mmap,
	       (unsigned long long)m0.path_vma_retry_mmap);
	CHECK(m1.path_vma_retry_vma > 1000);
	CHECKF(m1.miss_drop_pct < m0.miss_drop_pct, "miss/drop %.3f vs %.3f", m1.miss_drop_pct,
	       m0.miss_drop_pct);
	CHECK(m1.mmap_read_wait_us.total < m0.mmap_read_wait_us.total);
	CHECK(m1.mmap_read_acq * 10 < m0.mmap_read_acq);
	CHECK_EQ_U64(m2.retry_drop, 0);
	CHECK(m2.io_wait_locked_us > 0 && m0.io_wait_locked_us < m2.io_wait_locked_us);
	CHECK(m2.fork_count == 40 && m0.fork_count == 40);
	CHECKF(m2.fork_blocked_us > 10 * (m0.fork_blocked_us + 1), "fork blocked %.1f vs %.1f",
	       m2.fork_blocked_us, m0.fork_blocked_us);
	CHECK(r2.vma_write_wait_ns > r0.vma_write_wait_ns);
	fl_model_run_release(&r0);
	fl_model_run_release(&r1);
	fl_model_run_release(&r2);
out:
	fl_model_input_release(&in);
}

/* Same input, policy and seed: byte-identical JSON; another seed changes I/O draws. */
FL_TEST(replay_deterministic_json)
{
	struct fl_model_input in;
	struct fl_model_run a, b;
	struct fl_buf ja = { 0 }, jb = { 0 };
	struct fl_err err;
	uint64_t lat[] = { 100000, 250000, 400000, 900000 };

	thrash(&in, 8, 1, 512, true);
	in.io_lat_ns = malloc(sizeof(lat));
	memcpy(in.io_lat_ns, lat, sizeof(lat));
	in.nio_lat = 4;
	CHECK(fl_model_run(&in, FL_POL_VMA_RETRY, 7, &a, &err) == 0);
	CHECK(fl_model_run(&in, FL_POL_VMA_RETRY, 7, &b, &err) == 0);
	fl_model_run_json(&a, 1, &ja);
	fl_model_run_json(&b, 1, &jb);
	CHECK(ja.len > 100 && ja.len == jb.len && !memcmp(ja.data, jb.data, ja.len));
	CHECK(strstr(ja.data, "\"policy\": \"vma-retry\"") && strstr(ja.data, "\"kernel\": \"6.18\""));
	fl_model_run_release(&b);
	fl_buf_reset(&jb);
	CHECK(fl_model_run(&in, FL_POL_VMA_RETRY, 8, &b, &err) == 0);
	fl_model_run_json(&b, 1, &jb);
	CHECK(ja.len != jb.len || memcmp(ja.data, jb.data, ja.len));
	fl_model_run_release(&a);
	fl_model_run_release(&b);
	fl_buf_release(&ja);
	fl_buf_release(&jb);
	fl_model_input_release(&in);
}

/* One thread, hand-checked: a cold file read fault under 6.18 drops the VMA lock for I/O and
 * retries under mmap_lock; under 6.1 (and no-vma-lock) it starts there; a kernel-mode fault
 * always does; loongarch before 6.18 has no VMA lock. */
static void one_fault(struct fl_model_input *in, const char *arch, int kver, uint8_t flags)
{
	struct fl_model_thread *t;
	struct fl_op *o;
	uint32_t f;

	fl_model_input_init(in);
	in->arch = arch;
	in->kver = kver;
	f = fl_model_add_file(in, 64);
	fl_model_add_vma(in, 0, 0x10000, 0x10000 + 64 * 4096, VMA_FILE_RO, f, 0);
	t = fl_model_add_thread(in, 1, 0);
	o = fl_model_add_op(t);
	o->kind = FL_OP_FAULT;
	o->addr = 0x10000 + 5 * 4096;
	o->flags = flags;
}

FL_TEST(replay_single_fault_paths)
{
	struct fl_model_input in;
	struct fl_model_run r;
	struct fl_metrics m;

	one_fault(&in, "x86_64", FL_KVER(6, 18), 0);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.path_vma_retry_mmap == 1 && m.retry_drop == 1 && m.retry_io_miss == 0);
		CHECK(m.faults_major == 1 && m.mmap_read_acq == 1);
		CHECK(r.faults[0].attempts == 2 && r.faults[0].io_wait_ns > 150000);
		CHECK(r.faults[0].io_wait_locked_ns == 0);
		fl_model_run_release(&r);
	}
	if (!run(&in, "vma-retry", &r, &m)) {
		CHECK(m.path_vma_retry_vma == 1 && m.mmap_read_acq == 0);
		fl_model_run_release(&r);
	}
	if (!run(&in, "hold-vma-io", &r, &m)) {
		CHECK(m.path_vma == 1 && m.retry_drop == 0 && r.faults[0].attempts == 1);
		CHECK(r.faults[0].io_wait_locked_ns == r.faults[0].io_wait_ns);
		fl_model_run_release(&r);
	}
	if (!run(&in, "no-vma-lock", &r, &m)) {
		CHECK(m.path_mmap == 1 && m.retry_drop == 1 && m.mmap_read_acq == 2);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);

	one_fault(&in, "x86_64", FL_KVER(6, 18), FL_OPF_KERNEL);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.faults_kernel == 1 && m.path_mmap == 1);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
	one_fault(&in, "x86_64", FL_KVER(6, 6), 0);	/* file fault: RETRY at once, no drop */
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.path_vma_retry_mmap == 1 && m.retry_drop == 1 && r.faults[0].attempts == 3);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
	one_fault(&in, "loongarch", FL_KVER(6, 12), 0);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.path_mmap == 1);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
	one_fault(&in, "loongarch", FL_KVER(6, 18), FL_OPF_WRITE);	/* write to a RO VMA */
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(r.segv == 1 && m.path_vma == 1);	/* >= 6.10: answered under the VMA lock */
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

/* One thread, one 16 MiB file read at a stride of 64 pages (every touch misses
 * the cache and fault-around) for `rounds` rounds, in a cache of 256 pages. */
static void strided(struct fl_model_input *in, int rounds)
{
	uint32_t f;
	struct fl_model_thread *t;

	fl_model_input_init(in);
	in->capacity_pages = 256;
	in->ra_pages = 32;
	in->ncpus = 2;
	f = fl_model_add_file(in, 4096);
	t = fl_model_add_thread(in, 100, 0);
	for (int r = 0; r < rounds; r++) {
		struct fl_op *o = fl_model_add_op(t);

		o->kind = FL_OP_MMAP;
		o->addr = 0x100000000ULL;
		o->len = 16 << 20;
		o->file = f;
		o->arg = VMA_FILE_RO;
		for (int p = 0; p < 4096; p += 64) {
			o = fl_model_add_op(t);
			o->kind = FL_OP_TOUCH;
			o->addr = 0x100000000ULL + (uint64_t)p * 4096;
			o->cpu_ns = 30;
		}
		o = fl_model_add_op(t);
		o->kind = FL_OP_MUNMAP;
		o->addr = 0x100000000ULL;
		o->len = 16 << 20;
	}
}

struct named {
	const char *name;
	double v;
};

static void find_extra(void *arg, const char *name, double v)
{
	struct named *n = arg;

	if (!strcmp(name, n->name))
		n->v = v;
}

/* A run's extra called name (fl_model_extras_foreach), NAN if there is none. */
static double extra(const struct fl_model_run *r, const char *name)
{
	struct named n = { name, NAN };

	fl_model_extras_foreach(r, find_extra, &n);
	return n.v;
}

/*
 * do_sync_mmap_readahead's MMAP_LOTSAMISS: the first round's misses are
 * answered by read-around and its pages, mapped by fault-around on the retry,
 * count mmap_miss back down; later rounds refault (PG_workingset), their pages
 * do not count as hits, and after 100 more misses read-around stops: each miss
 * then reads its one page, so the cache evicts far fewer pages than 32 a miss.
 */
FL_TEST(replay_mmap_miss_stops_read_around)
{
	struct fl_model_input in;
	struct fl_model_run r1, r6;
	struct fl_metrics m;

	strided(&in, 1);
	if (run(&in, "mainline", &r1, &m) == 0) {
		CHECK_EQ_U64(r1.pc_misses, 64);
		CHECK(r1.pc.evicted >= 64 * 32 - 256 - 64);	/* read-around all along */
		/* --validate's page-cache block: each miss a window of 32 new pages, inserted
		 * in one chunk (no time between its first and last insertion) */
		CHECK_EQ_U64(r1.pc.windows, 64);
		CHECK_EQ_U64(r1.pc.window_pages_p50, 32);
		CHECK_EQ_U64(r1.pc.window_build_ns_p50, 0);
		CHECK_EQ_U64(r1.pc.inserted, 64 * 32);
		/* the run's extras report the same counts (model.evictions, model.reclaim_scanned) */
		CHECK(extra(&r1, "model.evictions") == (double)r1.pc.evicted);
		CHECK(extra(&r1, "model.reclaim_scanned") == (double)r1.pc.reclaim_scanned);
		CHECK(r1.pc.reclaim_scanned >= r1.pc.reclaim_freed && r1.pc.reclaim_freed > 0);
		CHECK(r1.pc.read_ticks >= 1 && r1.pc.read_idle_ticks < r1.pc.read_ticks);
		fl_model_run_release(&r1);
	}
	fl_model_input_release(&in);
	strided(&in, 6);
	if (run(&in, "mainline", &r6, &m) == 0) {
		/*
		 * 64 + 101 misses read 32 pages each, the later ones one page; without
		 * the rule every miss would read 32 (about 384 * 32 - 256 evictions).
		 * The one-page misses evict little, so earlier windows stay cached and
		 * some later touches are mapped by fault-around without a miss.
		 */
		CHECK(r6.pc_misses >= 64 + 101);
		CHECK(r6.pc.evicted > (64 + 95) * 32 - 256);
		CHECK(r6.pc.evicted < (64 + 105) * 32 + 6 * 64);
		CHECK_EQ_U64(m.retry_drop, r6.pc_misses);	/* page_not_uptodate still drops */
		fl_model_run_release(&r6);
	}
	fl_model_input_release(&in);
}

/*
 * The page-cache block's medians and ticks: windows of 5, 1 and 9 pages built
 * in 3, 1 and 2 ns; reads completing at 0, 5, 35, 36 and 71 ms fill ticks 0, 3
 * and 7 of the eight 10 ms ticks from the first to the last, so five are idle.
 */
FL_TEST(replay_pc_activity_medians_and_ticks)
{
	uint64_t pages[] = { 5, 1, 9 }, build[] = { 3, 1, 2 };
	uint64_t reads[] = { 0, 5000000, 35000000, 36000000, 71000000 };
	struct fl_pc_activity a = { .inserted = 15 }, none = { 0 };

	for (size_t i = 0; i < 5; i++)
		fl_pc_activity_read(&a, reads[i]);
	fl_pc_activity_finish(&a, pages, build, 3);
	CHECK_EQ_U64(a.windows, 3);
	CHECK_EQ_U64(a.window_pages_p50, 5);
	CHECK_EQ_U64(a.window_build_ns_p50, 2);
	CHECK_EQ_U64(a.read_ticks, 8);
	CHECK_EQ_U64(a.read_idle_ticks, 5);
	CHECK_EQ_U64(a.inserted, 15);
	fl_pc_activity_finish(&none, NULL, NULL, 0);
	CHECK_EQ_U64(none.windows, 0);
	CHECK_EQ_U64(none.read_ticks, 0);
	CHECK_EQ_U64(none.read_idle_ticks, 0);
}

/* The capture's uncontended acquisition cost is added to every reported wait and
 * changes nothing else. */
/* An op of thread t: kind at [addr, addr + len) with arg, holding kcpu_ns of CPU. */
static struct fl_op *op_add(struct fl_model_thread *t, enum fl_op_kind kind, uint64_t addr,
			    uint64_t len, uint64_t arg, uint64_t kcpu_ns)
{
	struct fl_op *o = fl_model_add_op(t);

	o->kind = kind;
	o->addr = addr;
	o->len = len;
	o->arg = arg;
	o->kcpu_ns = kcpu_ns;
	return o;
}

/* Two bare mmap_lock holds: thread 1's (write, or read) for hold_ns from 0, thread 2's write
 * from 1 us. */
static void two_holds(struct fl_model_input *in, bool first_write, uint64_t hold_ns)
{
	struct fl_model_thread *t;

	fl_model_input_init(in);
	in->costs.wake_ns = 0;
	t = fl_model_add_thread(in, 1, 0);
	op_add(t, FL_OP_LOCK, 0, 0, first_write, hold_ns);
	t = fl_model_add_thread(in, 2, 0);
	t->start_ns = 1000;
	op_add(t, FL_OP_LOCK, 0, 0, 1, 1000);
}

/*
 * §3 W2 as --validate's writers block counts it: a writer that meets a running write
 * owner spins and takes the lock when it is released (4 us later: spun); one that meets
 * a reader holding for 50 us spins 10.5 us on it, then sleeps until the release (slept).
 */
FL_TEST(replay_writer_spins_or_sleeps)
{
	struct fl_model_input in;
	struct fl_model_run r;
	struct fl_metrics m;

	two_holds(&in, true, 5000);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK_EQ_U64(r.ww.spun, 1);
		CHECK_EQ_U64(r.ww.slept, 0);
		CHECK_EQ_U64(r.nwrite_waits, 2);
		CHECK(r.write_waits[1] >= 4000 && r.write_waits[1] < 5000 + 2000);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
	two_holds(&in, false, 50000);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK_EQ_U64(r.ww.spun, 0);
		CHECK_EQ_U64(r.ww.slept, 1);
		CHECK_EQ_U64(r.nwrite_waits, 1);
		CHECK(r.write_waits[0] >= 49000);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

/*
 * Where a first anonymous write fault trylocks mmap_lock: thread 1 maps a fresh
 * region (write hold 0..3 µs) and writes to it at 3 µs; thread 2's mprotect of
 * its own VMA takes the write lock at 4 µs for 5 µs. With the trylock at the
 * fault's entry (anon_prep_ns 0) it comes before the mprotect and succeeds; with
 * it 2 µs in (do_anonymous_page's page-table allocation first) it meets the
 * held lock and the fault retries under mmap_lock.
 */
static void anon_prepare_race(struct fl_model_input *in, uint64_t anon_prep_ns)
{
	struct fl_model_thread *t;

	fl_model_input_init(in);
	in->costs.wake_ns = 0;
	in->costs.anon_prep_ns = anon_prep_ns;
	fl_model_add_vma(in, 0, 0x400000, 0x400000 + 16 * 4096, FL_MVMA_READ | FL_MVMA_WRITE, 0,
			 0);
	t = fl_model_add_thread(in, 1, 0);
	op_add(t, FL_OP_MMAP, 0x10000000, 8 * 4096, FL_MVMA_READ | FL_MVMA_WRITE, 3000);
	op_add(t, FL_OP_FAULT, 0x10000000, 0, 0, 0)->flags = FL_OPF_WRITE;
	t = fl_model_add_thread(in, 2, 0);
	t->start_ns = 4000;
	op_add(t, FL_OP_MPROTECT, 0x400000, 4 * 4096, FL_MVMA_READ, 5000);
}

FL_TEST(replay_anon_prepare_trylock_position)
{
	struct fl_model_input in;
	struct fl_model_run r;
	struct fl_metrics m;

	anon_prepare_race(&in, 0);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.path_vma == 1 && m.path_vma_retry_mmap == 0);
		CHECK(r.faults[0].attempts == 1);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
	anon_prepare_race(&in, 2000);
	if (!run(&in, "mainline", &r, &m)) {
		CHECK(m.path_vma == 0 && m.path_vma_retry_mmap == 1);
		CHECK(r.faults[0].attempts == 2 && m.mmap_read_acq == 1);
		/* it waited for the mprotect (4..9 µs) from its trylock at 5 µs */
		CHECK(r.faults[0].mmap_wait_ns >= 3500 && r.faults[0].mmap_wait_ns <= 4500);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

FL_TEST(replay_acq_cost_added_to_waits)
{
	struct fl_model_input in;
	struct fl_model_run a, b;
	struct fl_metrics ma, mb;

	thrash(&in, 4, 1, 512, false);
	if (run(&in, "mainline", &a, &ma) == 0) {
		in.costs.acq_read_ns = 700;
		in.costs.acq_write_ns = 300;
		if (run(&in, "mainline", &b, &mb) == 0) {
			CHECK_EQ_U64(a.nread_waits, b.nread_waits);
			CHECK_EQ_U64(a.nwrite_waits, b.nwrite_waits);
			CHECK_EQ_U64(a.makespan_ns, b.makespan_ns);
			size_t odd = 0;

			/* munmap's downgrade is a read acquisition of 0 in both */
			for (size_t i = 0; i < a.nread_waits && i < b.nread_waits; i++)
				if (b.read_waits[i] != a.read_waits[i] + 700 &&
				    (a.read_waits[i] || b.read_waits[i]))
					odd++;
			CHECK_EQ_U64(odd, 0);
			CHECK(a.nread_waits > 4 * 2);
			for (size_t i = 0; i < a.nwrite_waits && i < b.nwrite_waits; i++)
				CHECK_EQ_U64(b.write_waits[i], a.write_waits[i] + 300);
			fl_model_run_release(&b);
		}
		fl_model_run_release(&a);
	}
	fl_model_input_release(&in);
}

/*
 * A memory cgroup far smaller than the readahead windows (8 pages against
 * 16 threads reading 32-page windows): windows stop where the charge fails,
 * faults whose own folio cannot be charged sleep until a read completes, and
 * the run still ends with every fault done, deterministically.
 */
FL_TEST(replay_tiny_memcg_charges_fail_and_wait)
{
	struct fl_model_input in;
	struct fl_model_run r, r2;
	struct fl_metrics m;

	thrash(&in, 16, 1, 8, false);
	for (size_t i = 0; i < in.nthreads; i++) {	/* 256 pages each, then munmap */
		struct fl_model_thread *t = &in.threads[i];

		t->ops[257] = t->ops[t->nops - 1];
		t->nops = 258;
	}
	if (run(&in, "mainline", &r, &m) == 0) {
		CHECK(r.charge_failed > 0);
		CHECK(r.memcg_waits > 0);
		CHECK_EQ_U64(r.anomalies, 0);
		CHECK(m.faults_user > 0);
		CHECK(r.ops == 16 * 258);
		if (run(&in, "mainline", &r2, &m) == 0) {
			CHECK_EQ_U64(r2.charge_failed, r.charge_failed);
			CHECK_EQ_U64(r2.memcg_waits, r.memcg_waits);
			CHECK_EQ_U64(r2.makespan_ns, r.makespan_ns);
			fl_model_run_release(&r2);
		}
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

/* A TOUCH of addr after cpu_ns on a CPU and sleep_ns asleep. */
static void add_touch(struct fl_model_thread *t, uint64_t addr, uint64_t cpu_ns,
		      uint64_t sleep_ns)
{
	struct fl_op *o = fl_model_add_op(t);

	o->kind = FL_OP_TOUCH;
	o->addr = addr;
	o->cpu_ns = cpu_ns;
	o->sleep_ns = sleep_ns;
}

/* When the first fault at addr started, 0 if none did. */
static uint64_t fault_start(const struct fl_model_run *r, uint64_t addr)
{
	for (size_t i = 0; i < r->nfaults; i++)
		if (r->faults[i].addr == addr)
			return r->faults[i].start_ns;
	return 0;
}

/*
 * Affine wake-ups on 2 CPUs with 20 ms slices. W runs 0.05 ms on CPU 0 and
 * sleeps 1 ms; L then takes CPU 0 for 10 ms; X ran briefly on CPU 1, which is
 * idle from 0.03 ms. W wakes at ~1.05 ms onto its busy previous CPU 0 (homes:
 * CPU 0 two active threads, CPU 1 one, so no rehoming) and waits. At the tick
 * at 4 ms the idle CPU 1 pulls it (the nohz idle balance), so its fault
 * starts then, not when L stops at ~10 ms.
 */
FL_TEST(replay_affine_tick_pulls_a_waiting_thread)
{
	struct fl_model_input in;
	struct fl_model_thread *t;
	struct fl_model_run r;
	struct fl_metrics m;

	fl_model_input_init(&in);
	in.ncpus = 2;
	in.kver = FL_KVER(6, 18);
	in.wake_affine = true;
	in.costs.wake_ns = 1;
	in.costs.slice_ns = 20000000;
	fl_model_add_vma(&in, 0, 0x10000, 0x10000 + 64 * 4096,
			 FL_MVMA_READ | FL_MVMA_WRITE | FL_MVMA_ANON, 0, 0);
	t = fl_model_add_thread(&in, 1, 0);	/* W */
	add_touch(t, 0x10000, 50000, 0);
	add_touch(t, 0x11000, 0, 1000000);
	add_touch(fl_model_add_thread(&in, 2, 0), 0x12000, 20000, 0);	/* X */
	t = fl_model_add_thread(&in, 3, 0);	/* L, from 0.06 ms */
	t->start_ns = 60000;
	add_touch(t, 0x13000, 10000000, 0);
	if (!run(&in, "mainline", &r, &m)) {
		uint64_t second = fault_start(&r, 0x11000), l = fault_start(&r, 0x13000);

		CHECKF(l > 10000000 && l < 10100000, "L's fault at %llu ns", (unsigned long long)l);
		CHECKF(second >= 4000000 && second < 4010000, "W's second fault at %llu ns",
		       (unsigned long long)second);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}

/*
 * Wake-up placement (model.c make_runnable: EEVDF's place_entity with
 * PLACE_LAG), worked out by hand: one CPU, 3 ms slices, no wake-up latency,
 * three threads burning 30 ms each (H1-H3) and S, which burns 2.9 ms, faults,
 * sleeps 10 ms and faults again. H1, H2, H3 run 0-3, 3-6, 6-9 ms; S runs 9 to
 * ~11.9 ms and sleeps with lag V - vrt = (3 + 3 + 3 + 2.9) / 4 - 2.9 = ~0.075
 * ms. The hogs take their second turns: H1 11.9-14.9, H2 -17.9, H3 -20.9 (all
 * at 6), H1 again from 20.9. S wakes at ~21.9 and is placed at V minus its
 * lag, V = (H1's 6 + 1 + 6 + 6) / 3 = 6.33, so at ~6.26: at H1's slice end
 * (23.9 ms) H2 and H3 (6) come first, and S's second fault starts at ~29.9 ms.
 * CFS's rule (no earlier than min_vruntime - slice, 6 - 3, else its own 2.9)
 * would have put S first at 23.9 ms.
 */
FL_TEST(replay_wakeup_placed_by_lag)
{
	struct fl_model_input in;
	struct fl_model_thread *t;
	struct fl_model_run r;
	struct fl_metrics m;

	fl_model_input_init(&in);
	in.ncpus = 1;
	in.kver = FL_KVER(6, 18);
	in.costs.wake_ns = 1;		/* latency draw 0 or 1 ns */
	fl_model_add_vma(&in, 0, 0x10000, 0x10000 + 64 * 4096,
			 FL_MVMA_READ | FL_MVMA_WRITE | FL_MVMA_ANON, 0, 0);
	for (int i = 0; i < 3; i++)
		add_touch(fl_model_add_thread(&in, 1 + i, 0), 0x10000 + (uint64_t)i * 4096,
			  30000000, 0);
	t = fl_model_add_thread(&in, 9, 0);
	add_touch(t, 0x20000, 2900000, 0);
	add_touch(t, 0x21000, 0, 10000000);
	if (!run(&in, "mainline", &r, &m)) {
		uint64_t first = fault_start(&r, 0x20000), second = fault_start(&r, 0x21000);

		CHECKF(first > 11800000 && first < 12000000, "S's first fault at %llu ns",
		       (unsigned long long)first);
		CHECKF(second > 29800000 && second < 30100000, "S's second fault at %llu ns",
		       (unsigned long long)second);
		fl_model_run_release(&r);
	}
	fl_model_input_release(&in);
}
