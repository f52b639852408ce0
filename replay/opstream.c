/*
 * opstream.c - capture -> the model's input (DESIGN.md "The lock model":
 * "one op stream per captured thread ... the initial address space, CPU
 * count, page-cache capacity, I/O latencies taken from the capture").
 *
 * Sources, all of one capture in the database:
 *   - capture: uname (architecture, kernel), CPUs, page size, memcg limit;
 *   - task: the followed threads, their process and priority;
 *   - maps: each process's first /proc/PID/maps sample = its initial layout
 *     (dev "MM:mm" is the kernel dev_t (MM << 20) | mm of the filemap events);
 *   - fault (reconstruction): one FAULT op per page-fault exception, with its
 *     address, access (x86 error code), user/kernel mode;
 *   - writer_op (reconstruction): mmap/munmap/mprotect/madvise/mremap/brk, fork
 *     (a clone that write-locked the mm), exit_group; their measured write
 *     hold (minus the time blocked in it) is the op's kernel work, munmap's
 *     read hold after the downgrade its zap work;
 *   - event: mmap's flags/fd/offset (sys_enter args 3-5), and sched_switch /
 *     sched_waking to split each gap between a thread's ops into time on a
 *     CPU (think), time asleep (S/D, up to the wake-up: sleep) and time
 *     preempted or woken but waiting for a CPU (dropped: the model recreates
 *     CPU contention itself), and where the kernel placed wake-ups;
 *   - io: block request latencies (issue -> complete) for the I/O device.
 * A mapping's file is learnt from the faults in it (their dev/ino/index from
 * mm_filemap_fault); without one, each mapping is its own file. Layout is
 * tracked while the ops are built (an engine fl_mm per process, no locking):
 * a fault outside every known VMA gets a VMA from its fault row (or one page)
 * added to the initial layout, counted in info->vmas_added.
 * Times become ns after the capture's first event.
 */
#include "replay/opstream.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/kver.h"
#include "engine/vma.h"

#define MAP_SHARED_FLAG 0x01
#define MAP_ANON_FLAG 0x20

struct fileid {
	uint64_t dev, ino;
	uint32_t id;
};

struct slot {				/* one mmap op, its file learnt later */
	size_t thread, op;
	bool anon_flag, shared, known;	/* flags from the sys_enter event */
	int kind;			/* 0 unknown, 1 file, 2 anon, 3 shmem */
	uint64_t dev, ino, pgoff;
	bool ino_known;
	bool major;			/* a fault in it was major in the capture */
	uint32_t file;			/* model file id once resolved (unknown ino: its own) */
};

struct proc {
	int32_t tgid;
	uint32_t mm;
	struct fl_mm lay;		/* builder layout; vma->file = slot + 1 or -(file id) */
	uint64_t brk;			/* current break */
	bool has_maps;
	bool forked;			/* created by a traced fork: layout copied by the model */
};

struct offcpu {
	uint64_t from, to;		/* ns */
	bool preempted;
};

struct tstate {
	int32_t tid;
	size_t thread;			/* index in in->threads */
	uint64_t last_end;		/* ns: previous op's end */
	struct offcpu *off;
	size_t noff, capoff, pos;
	bool open;			/* switched out, not back yet */
	int32_t cpu;			/* CPU it last ran on, -1 unknown */
	uint64_t wake_t;		/* ns: woken onto an idle CPU, not running yet; 0 none */
	bool wake_remote;		/* ... by a CPU other than that one */
	uint64_t born;			/* ns: sched_process_fork made it in the capture; 0 not */
};

struct ctx {
	sqlite3 *db;
	int64_t cap;
	struct fl_model_input *in;
	struct fl_opstream_info *info;
	struct fl_err *err;
	uint64_t t0, page;
	unsigned shift;
	struct proc *procs;
	size_t nprocs;
	struct tstate *ts;
	size_t nts;
	struct fileid *files;
	size_t nfiles;
	struct slot *slots;
	size_t nslots;
};

static int sqlerr(struct ctx *c, const char *what)
{
	return fl_seterr(c->err, "cannot read the capture for replay: %s: %s", what,
			 sqlite3_errmsg(c->db));
}

/* Prepares q and binds ?1 = p1 and, if q has it, ?2 = p2. */
static int prep(sqlite3 *db, const char *q, int64_t p1, int64_t p2, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, q, -1, st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(*st, 1, p1);
	if (sqlite3_bind_parameter_count(*st) >= 2)
		sqlite3_bind_int64(*st, 2, p2);
	return 0;
}

/* One row of q (bound as prep binds it): its first column in *v0 and, with v1, its second. No
 * row leaves them as they are. 0, or -1 on an SQLite error. */
static int one_row(sqlite3 *db, const char *q, int64_t p1, int64_t p2, int64_t *v0, int64_t *v1)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(db, q, p1, p2, &st) < 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v0 = sqlite3_column_int64(st, 0);
		if (v1)
			*v1 = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static uint32_t file_for(struct ctx *c, uint64_t dev, uint64_t ino, uint64_t min_pages)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].dev == dev && c->files[i].ino == ino) {
			uint32_t id = c->files[i].id;

			if (c->in->file_pages[id - 1] < min_pages)
				c->in->file_pages[id - 1] = min_pages;
			return id;
		}
	}
	c->files = fl_realloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
	c->files[c->nfiles].dev = dev;
	c->files[c->nfiles].ino = ino;
	c->files[c->nfiles].id = fl_model_add_file(c->in, min_pages);
	return c->files[c->nfiles++].id;
}

static struct proc *proc_of(struct ctx *c, int32_t tgid)
{
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->procs[i].tgid == tgid)
			return &c->procs[i];
	c->procs = fl_realloc(c->procs, (c->nprocs + 1) * sizeof(*c->procs));
	memset(&c->procs[c->nprocs], 0, sizeof(c->procs[0]));
	c->procs[c->nprocs].tgid = tgid;
	c->procs[c->nprocs].mm = (uint32_t)c->nprocs;
	fl_mm_init(&c->procs[c->nprocs].lay, FL_VMA_LOCK_NONE, NULL);
	c->procs[c->nprocs].lay.page_shift = c->shift;
	if (c->nprocs + 1 > c->in->nmm)
		c->in->nmm = (uint32_t)c->nprocs + 1;
	return &c->procs[c->nprocs++];
}

static struct tstate *thread_of(struct ctx *c, int32_t tid, int32_t tgid, int prio)
{
	struct tstate *t;
	struct fl_model_thread *mt;

	for (size_t i = 0; i < c->nts; i++)
		if (c->ts[i].tid == tid)
			return &c->ts[i];
	c->ts = fl_realloc(c->ts, (c->nts + 1) * sizeof(*c->ts));
	t = &c->ts[c->nts++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->cpu = -1;
	t->thread = c->in->nthreads;
	mt = fl_model_add_thread(c->in, (uint32_t)tid, proc_of(c, tgid)->mm);
	mt->prio = prio > 0 ? prio : 120;
	return t;
}

static uint32_t perms_flags(const char *perms)
{
	uint32_t f = 0;

	if (perms[0] == 'r')
		f |= FL_VMA_READ;
	if (perms[0] && perms[1] == 'w')
		f |= FL_VMA_WRITE;
	if (perms[0] && perms[1] && perms[2] == 'x')
		f |= FL_VMA_EXEC;
	if (perms[0] && perms[1] && perms[2] && perms[3] == 's')
		f |= FL_VMA_SHARED;
	return f;
}

static uint64_t parse_dev(const char *s)
{
	unsigned ma = 0, mi = 0;

	if (sscanf(s, "%x:%x", &ma, &mi) != 2)
		return 0;
	return ((uint64_t)ma << 20) | mi;
}

/* Adds a VMA both to the model's initial layout and to the builder's. */
static void initial_vma(struct ctx *c, struct proc *p, uint64_t start, uint64_t end,
			uint32_t flags, uint32_t file, uint64_t pgoff)
{
	fl_model_add_vma(c->in, p->mm, start, end, flags, file, pgoff);
	fl_mm_map(&p->lay, start, end, flags, file, pgoff, NULL);
}

static int load_maps(struct ctx *c)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "SELECT pid, start, end, perms, offset, dev, inode, path "
			       "FROM maps WHERE capture = ? AND taken = 'start' "
			       "ORDER BY pid, start", -1, &st, NULL) != SQLITE_OK)
		return sqlerr(c, "maps");
	sqlite3_bind_int64(st, 1, c->cap);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct proc *p = proc_of(c, sqlite3_column_int(st, 0));
		uint64_t start = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t end = (uint64_t)sqlite3_column_int64(st, 2);
		const char *perms = (const char *)sqlite3_column_text(st, 3);
		uint64_t off = (uint64_t)sqlite3_column_int64(st, 4);
		const char *dev = (const char *)sqlite3_column_text(st, 5);
		uint64_t ino = (uint64_t)sqlite3_column_int64(st, 6);
		const char *path = (const char *)sqlite3_column_text(st, 7);
		uint32_t fl = perms_flags(perms ? perms : "");
		uint32_t file = 0;

		p->has_maps = true;
		if (end <= start || fl_mm_range(&p->lay, start, end, &(size_t){ 0 }))
			continue;
		if (ino) {
			file = file_for(c, parse_dev(dev ? dev : ""), ino,
					(off >> c->shift) + ((end - start) >> c->shift));
			fl |= FL_VMA_FILE | FL_VMA_MAP_PAGES;
		} else if (fl & FL_VMA_SHARED) {
			fl |= FL_VMA_ANON | FL_VMA_SHMEM;
		} else {
			fl |= FL_VMA_ANON | FL_VMA_HAS_ANON_VMA;
			if (path && !strcmp(path, "[stack]"))
				fl |= FL_VMA_GROWSDOWN;
			if (path && !strcmp(path, "[heap]"))
				p->brk = end;
		}
		initial_vma(c, p, start, end, fl, file, ino ? off >> c->shift : 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(c, "maps");
}

static size_t thread_idx(const struct ctx *c, int32_t tid)
{
	for (size_t i = 0; i < c->nts; i++)
		if (c->ts[i].tid == tid)
			return i;
	return SIZE_MAX;
}

static void off_open(struct tstate *t, uint64_t ts, bool preempted)
{
	if (t->noff == t->capoff) {
		t->capoff = t->capoff ? 2 * t->capoff : 64;
		t->off = fl_realloc(t->off, t->capoff * sizeof(*t->off));
	}
	t->off[t->noff].from = ts;
	t->off[t->noff].to = UINT64_MAX;
	t->off[t->noff].preempted = preempted;
	t->noff++;
	t->open = true;
}

static void off_close(struct tstate *t, uint64_t ts)
{
	t->off[t->noff - 1].to = ts;
	t->open = false;
}

/*
 * sched_switch, sched_waking and the threads' own events -> each followed
 * thread's off-CPU intervals. A switch-out in state R (preempted) is time
 * the model's own CPUs recreate: dropped. A sleep (S/D) ends at its
 * sched_waking; from there to the switch-in the thread waits for a CPU
 * (wake-up latency, a busy CPU), which the model also recreates (its wake
 * latency and run queues): dropped as well, not counted as sleep. Any event
 * a thread traces itself shows it running: it closes an interval whose
 * switch-in the capture lacks (pid-filtered instances miss some).
 *
 * Wake-up placement (kernel/sched/fair.c select_task_rq_fair ->
 * select_idle_sibling): a followed thread woken by an interrupt on the CPU
 * it last ran on while another task runs there (the sched_waking event's
 * CPU is that CPU and its common_pid is not 0) and another CPU is idle (its
 * last traced sched_switch was to pid 0 and nothing ran there since) was
 * placed on that busy CPU (target_cpu = it) unless the idle scan found the
 * idle CPU. With SIS_UTIL
 * the scan covers fewer CPUs the busier the LLC is, and none above ~85 % of
 * its capacity; on this 2-CPU VM the woken thread stayed on the busy CPU in
 * 4682 of 4689 such wake-ups (anonmix, short loops) and waited there for the
 * running thread to sleep, which serialises the threads' loops. The share
 * that moved is info->wake_moved / wake_busy_prev; with WAKE_MIN such
 * wake-ups the model places wake-ups that way (fl_cpu_set_affine).
 *
 * Wake-up latency: from a sched_waking whose target CPU was idle to the
 * woken thread's switch-in there, counted only when that switch comes from
 * the idle task (prev_pid 0): the pid-filtered instance does not show an
 * untraced task that ran on the "idle" CPU in between. The median is the
 * model's wake_ns (with WAKE_MIN samples): on this VM an idle vCPU takes
 * ~10 us to run a woken thread (halt exit, then the switch), five times the
 * 2 us default; every rwsem sleeper pays it (its acquisitions' wait
 * percentiles), and so does every return from a sleep. Split by the waker:
 * a wake-up from the target CPU itself (its timer interrupt ending a sleep:
 * the sched_waking event's CPU is the target) takes 8.8 us at the median on
 * the short-loop anonmix, one from another CPU (a lock released there, an
 * I/O completion interrupt: the idle vCPU must be sent an IPI through the
 * host) 18.9 us (845 samples; the 128 KiB thrash's, nearly all remote, 35
 * us). wake_ns is the local median (all of them when too few are local),
 * wake_remote_ns the remote one.
 */
#define WAKE_MIN	100
#define WAKE_CPUS	256		/* CPUs whose idle state is followed */
#define WAKE_LAT_MAX_NS	1000000		/* longer: a missed event, not a wake-up latency */

/* A thread woken onto an idle CPU runs at ts: one wake-up latency sample. */
/* Wake-up latencies: all, and by whether the waker ran on the target CPU (local) or not. */
struct wakelat {
	uint64_t *v;
	size_t n, cap;
};

static void wakelat_add(struct wakelat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = fl_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = ns;
}

/* The median of l with WAKE_MIN samples or more, else 0. */
static uint64_t wakelat_median(struct wakelat *l)
{
	return l->n < WAKE_MIN ? 0 : fl_median_u64(l->v, l->n);
}

static void wake_sample(struct tstate *t, uint64_t ts, struct wakelat *all, struct wakelat *by)
{
	if (!t->wake_t)
		return;
	if (ts - t->wake_t < WAKE_LAT_MAX_NS) {
		wakelat_add(all, ts - t->wake_t);
		wakelat_add(&by[t->wake_remote], ts - t->wake_t);
	}
	t->wake_t = 0;
}

/* Another CPU than cpu was idle (its last traced switch was to the idle task). */
static bool other_idle(const uint8_t *idle, int32_t cpu)
{
	for (int32_t k = 0; k < WAKE_CPUS; k++)
		if (k != cpu && idle[k] == 1)
			return true;
	return false;
}

static int load_offcpu(struct ctx *c, int64_t first_id, int64_t last_id)
{
	uint8_t idle[WAKE_CPUS];	/* per CPU: 1 idle, 0 running a task, 2 unknown */
	struct wakelat lat = { 0 }, by[2] = { { 0 }, { 0 } };	/* all; local, remote */
	uint64_t ns;
	sqlite3_stmt *st;
	int rc;

	memset(idle, 2, sizeof(idle));

	/* event.type (enum fl_ev): 10 SCHED_SWITCH, 11 SCHED_WAKING; the followed threads'
	 * own events: faults 1-2, mmap_lock 3-5, filemap 6-7, syscalls 21-22 */
	if (prep(c->db, "SELECT ts, a0, a2, a3, type, tid, cpu, a1 FROM event WHERE id "
		 "BETWEEN ? AND ? AND inst = 0 AND type IN (1, 2, 3, 4, 5, 6, 7, 10, 11, 12, "
		 "21, 22) ORDER BY id", first_id, last_id, &st) < 0)
		return sqlerr(c, "sched_switch events");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
		int type = sqlite3_column_int(st, 4);
		int32_t cpu = sqlite3_column_int(st, 6), cur = sqlite3_column_int(st, 5);
		size_t i;

		if (type == 12) {
			/* sched_process_fork: the child is runnable from here and waits
			 * for a CPU until its first switch-in, as a woken thread does */
			i = thread_idx(c, sqlite3_column_int(st, 7));
			if (i != SIZE_MAX && !c->ts[i].born && !c->ts[i].noff && !c->ts[i].open) {
				c->ts[i].born = ts;
				off_open(&c->ts[i], ts, true);
			}
			continue;
		}
		if (cpu >= 0 && cpu < WAKE_CPUS && type != 11)
			idle[cpu] = type == 10 ? sqlite3_column_int(st, 3) == 0 : cur == 0;
		if (type == 10) {
			int32_t prev = sqlite3_column_int(st, 1), next = sqlite3_column_int(st, 3);
			int64_t state = sqlite3_column_int64(st, 2);

			i = thread_idx(c, prev);
			if (i != SIZE_MAX) {
				if (c->ts[i].open)
					off_close(&c->ts[i], ts);	/* it ran: missed switch-in */
				off_open(&c->ts[i], ts, state == 0 || (state & 0x100));
				c->ts[i].cpu = cpu;
			}
			i = thread_idx(c, next);
			if (i != SIZE_MAX) {
				if (c->ts[i].open)
					off_close(&c->ts[i], ts);
				c->ts[i].cpu = cpu;
				/* a sample only when the CPU goes from idle to it: an untraced
				 * task in between (the pid filter hides it) is not latency */
				if (prev == 0)
					wake_sample(&c->ts[i], ts, &lat, by);
				c->ts[i].wake_t = 0;
			}
			continue;
		}
		if (type == 11) {
			int32_t pid = sqlite3_column_int(st, 1);

			i = thread_idx(c, pid);
			if (i == SIZE_MAX)
				continue;
			if (c->ts[i].cpu == cpu && cur != 0 && cur != pid && other_idle(idle, cpu)) {
				c->info->wake_busy_prev++;
				c->info->wake_moved += sqlite3_column_int(st, 2) != cpu;
			}
			c->ts[i].wake_t = 0;
			if (c->ts[i].open && !c->ts[i].off[c->ts[i].noff - 1].preempted) {
				int32_t target = sqlite3_column_int(st, 2);

				off_close(&c->ts[i], ts);
				off_open(&c->ts[i], ts, true);	/* woken, waiting for a CPU */
				if (target >= 0 && target < WAKE_CPUS && idle[target] == 1) {
					c->ts[i].wake_t = ts;
					c->ts[i].wake_remote = target != cpu;
				}
			}
			continue;
		}
		i = thread_idx(c, cur);
		if (i == SIZE_MAX)
			continue;
		c->ts[i].cpu = cpu;
		if (c->ts[i].open)
			off_close(&c->ts[i], ts);
		c->ts[i].wake_t = 0;	/* its switch-in was missed: no sample */
	}
	/* local wake-ups (timers), else all of them; remote ones apart (see above) */
	if ((ns = wakelat_median(&by[0]))) {
		c->info->wake_samples = by[0].n;
		c->info->wake_local = true;
	} else if ((ns = wakelat_median(&lat))) {
		c->info->wake_samples = lat.n;
	}
	if (ns) {
		c->in->costs.wake_ns = ns;
		c->info->wake_ns = ns;
	}
	if ((ns = wakelat_median(&by[1]))) {
		c->in->costs.wake_remote_ns = ns;
		c->info->wake_remote_ns = ns;
		c->info->wake_remote_samples = by[1].n;
	}
	free(lat.v);
	free(by[0].v);
	free(by[1].v);
	if (c->info->wake_busy_prev >= WAKE_MIN) {
		c->in->wake_affine = true;
		c->in->wake_idle_permille = (uint32_t)(c->info->wake_moved * 1000 /
						       c->info->wake_busy_prev);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(c, "sched_switch events");
}

/* Splits the gap [a, b) of thread t into CPU time and sleep; preempted time is dropped. */
static void gap(struct tstate *t, uint64_t a, uint64_t b, uint64_t *cpu, uint64_t *sleep)
{
	uint64_t sl = 0, pre = 0;

	*cpu = *sleep = 0;
	if (b <= a)
		return;
	while (t->pos < t->noff && t->off[t->pos].to <= a)
		t->pos++;
	for (size_t i = t->pos; i < t->noff && t->off[i].from < b; i++) {
		uint64_t lo = t->off[i].from > a ? t->off[i].from : a;
		uint64_t hi = t->off[i].to < b ? t->off[i].to : b;

		if (hi <= lo)
			continue;
		if (t->off[i].preempted)
			pre += hi - lo;
		else
			sl += hi - lo;
	}
	if (sl + pre > b - a)
		sl = b - a > pre ? b - a - pre : 0;
	*sleep = sl;
	*cpu = b - a - sl - pre;
}

/* A new op of thread t starting at ts (capture ns) after the previous one ended. */
static struct fl_op *new_op(struct ctx *c, struct tstate *t, uint64_t ts, uint64_t end)
{
	struct fl_model_thread *mt = &c->in->threads[t->thread];
	struct fl_op *op = fl_model_add_op(mt);

	if (mt->nops == 1 && !(t->born && t->born < ts)) {
		mt->start_ns = ts > c->t0 ? ts - c->t0 : 0;
	} else {
		if (mt->nops == 1) {
			/* created in the capture: it starts there, and its wait for a
			 * first CPU is the model's to reproduce */
			mt->start_ns = t->born > c->t0 ? t->born - c->t0 : 0;
			t->last_end = t->born;
		}
		gap(t, t->last_end, ts, &op->cpu_ns, &op->sleep_ns);
		/* the model pays the previous fault's own CPU: keep think time apart */
		op->cpu_ns = op->cpu_ns > c->in->costs.fault_ns ? op->cpu_ns - c->in->costs.fault_ns :
								   0;
	}
	t->last_end = end > ts ? end : ts;
	return op;
}

struct rawop {
	uint64_t ts, end;
	/*
	 * When the op's effect on the layout happened, for ordering across
	 * threads: a writer changes the layout under the mmap write lock, so
	 * its acquisition, not its syscall entry (an mmap that entered first
	 * can reuse a range a munmap that entered later freed before it). A
	 * thread's own order is unchanged: each op starts after the last ended.
	 */
	uint64_t order;
	int32_t tid, tgid;
	int prio;
	bool fault;
	/* fault */
	int64_t id;
	uint64_t addr, error_code, vstart, vend, dev, ino, index;
	bool user, write, instr, ino_known, major;
	char kind[8];
	/* writer */
	char sys[16];
	int64_t a0, a1, a2, ret;
	uint64_t hold, rhold, blocked;
	int32_t child;
	/* mmap flags from the event table */
	bool mflags_known;
	uint64_t mflags, mpgoff;
};

static int cmp_rawop(const void *x, const void *y)
{
	const struct rawop *a = x, *b = y;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	if (a->fault != b->fault)
		return a->fault ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void fault_op(struct ctx *c, const struct rawop *r, struct tstate *t, struct proc *p)
{
	struct fl_op *op = new_op(c, t, r->ts, r->end);
	struct fl_vma *v;
	uint64_t page = r->addr & ~(c->page - 1);

	op->kind = FL_OP_FAULT;
	op->addr = r->addr;
	op->ref = r->id;
	op->flags = (r->write ? FL_OPF_WRITE : 0) | (r->instr ? FL_OPF_EXEC : 0) |
		    (r->user ? 0 : FL_OPF_KERNEL);
	v = fl_mm_lookup(&p->lay, r->addr);
	if (!v) {
		/* a mapping the maps snapshot and traced syscalls did not show */
		uint64_t s = page, e = page + c->page;
		uint32_t fl = FL_VMA_READ | FL_VMA_WRITE, file = 0;
		uint64_t pgoff = 0;

		if (r->vstart && r->vend > r->vstart && r->vstart <= r->addr && r->addr < r->vend &&
		    !fl_mm_range(&p->lay, r->vstart, r->vend, &(size_t){ 0 })) {
			s = r->vstart;
			e = r->vend;
		}
		if (!strcmp(r->kind, "file") && r->ino_known) {
			pgoff = r->index > ((r->addr - s) >> c->shift) ?
				r->index - ((r->addr - s) >> c->shift) : 0;
			file = file_for(c, r->dev, r->ino, pgoff + ((e - s) >> c->shift));
			fl = FL_VMA_READ | FL_VMA_SHARED | FL_VMA_FILE | FL_VMA_MAP_PAGES;
		} else {
			fl |= FL_VMA_ANON | FL_VMA_HAS_ANON_VMA;
			if (!strcmp(r->kind, "stack"))
				fl |= FL_VMA_GROWSDOWN;
		}
		if (r->write)
			fl |= FL_VMA_WRITE;
		if (r->instr)
			fl |= FL_VMA_EXEC;
		initial_vma(c, p, s, e, fl, file, pgoff);
		c->info->vmas_added++;
		return;
	}
	if (v->file && (int32_t)v->file > 0 && v->file <= c->nslots) {
		/* a traced mmap: learn its file from the faults in it */
		struct slot *sl = &c->slots[v->file - 1];

		sl->major |= r->major;
		if (!sl->kind)
			sl->kind = !strcmp(r->kind, "file") ? 1 : !strcmp(r->kind, "shmem") ? 3 : 2;
		if (sl->kind == 1 && !sl->ino_known && r->ino_known) {
			uint64_t off = (r->addr - v->start) >> c->shift;

			sl->ino_known = true;
			sl->dev = r->dev;
			sl->ino = r->ino;
			sl->pgoff = r->index > off ? r->index - off : 0;
		}
	}
	c->info->faults++;
}

/*
 * The sys of a rawop made from a lock_wait row with no owner (owner_kind
 * 'none'): an mmap_lock acquisition of no traced syscall or fault, as execve
 * takes the new mm's lock to set it up (bprm_mm_init, setup_arg_pages, the
 * ELF loader's mappings) or an untraced syscall does. Replayed as a bare hold
 * (FL_OP_LOCK) so the model's acquisition counts and lock traffic include them.
 */
#define LOCK_ROUND "(lock)"

static void writer_op(struct ctx *c, const struct rawop *r, struct tstate *t, struct proc *p)
{
	struct fl_op *op;
	uint64_t len;
	const char *sys = r->sys;
	bool fork = (!strcmp(sys, "clone") || !strcmp(sys, "clone3") || !strcmp(sys, "fork") ||
		     !strcmp(sys, "vfork")) && r->hold > 0 && r->child > 0;

	if (r->ret < 0 && r->ret > -4096 && strcmp(sys, "exit_group"))
		return;		/* failed syscall */
	if (!fork && (!strcmp(sys, "clone") || !strcmp(sys, "clone3") || !strcmp(sys, "fork") ||
		      !strcmp(sys, "vfork")))
		return;		/* a thread (CLONE_VM): no mmap_lock write */
	op = new_op(c, t, r->ts, r->end);
	op->ref = r->id;
	op->kcpu_ns = r->hold > r->blocked ? r->hold - r->blocked : 0;
	if (!strcmp(sys, "mmap")) {
		struct slot *sl;

		len = ((uint64_t)r->a1 + c->page - 1) & ~(c->page - 1);
		op->kind = FL_OP_MMAP;
		op->addr = (uint64_t)r->ret;
		op->len = len;
		op->arg = (uint64_t)r->a2 & 7;	/* PROT_* = FL_VMA_READ/WRITE/EXEC */
		if (r->mflags_known && (r->mflags & (0x10 | 0x100000)))	/* MAP_FIXED[_NOREPLACE] */
			op->flags |= FL_OPF_FIXED;
		c->slots = fl_realloc(c->slots, (c->nslots + 1) * sizeof(*c->slots));
		sl = &c->slots[c->nslots++];
		memset(sl, 0, sizeof(*sl));
		sl->thread = t->thread;
		sl->op = c->in->threads[t->thread].nops - 1;
		sl->known = r->mflags_known;
		sl->anon_flag = r->mflags & MAP_ANON_FLAG;
		sl->shared = r->mflags & MAP_SHARED_FLAG;
		sl->pgoff = r->mpgoff;
		if (sl->known && sl->anon_flag)
			sl->kind = sl->shared ? 3 : 2;
		fl_mm_unmap(&p->lay, op->addr, op->addr + len);
		fl_mm_map(&p->lay, op->addr, op->addr + len, (uint32_t)op->arg,
			  (uint32_t)c->nslots, 0, NULL);
	} else if (!strcmp(sys, "munmap")) {
		len = ((uint64_t)r->a1 + c->page - 1) & ~(c->page - 1);
		op->kind = FL_OP_MUNMAP;
		op->addr = (uint64_t)r->a0;
		op->len = len;
		op->kcpu2_ns = r->rhold;
		fl_mm_unmap(&p->lay, op->addr, op->addr + len);
	} else if (!strcmp(sys, "mprotect")) {
		op->kind = FL_OP_MPROTECT;
		op->addr = (uint64_t)r->a0;
		op->len = ((uint64_t)r->a1 + c->page - 1) & ~(c->page - 1);
		op->arg = (uint64_t)r->a2 & 7;
	} else if (!strcmp(sys, "madvise")) {
		op->kind = FL_OP_MADVISE;
		op->addr = (uint64_t)r->a0;
		op->len = ((uint64_t)r->a1 + c->page - 1) & ~(c->page - 1);
		op->arg = (uint64_t)r->a2;
		if (!op->kcpu_ns)
			op->kcpu_ns = r->rhold;
	} else if (!strcmp(sys, "mremap")) {
		op->kind = FL_OP_MREMAP;
		op->addr = (uint64_t)r->a0;
		op->len = (uint64_t)r->a1;
		op->arg = (uint64_t)r->ret;
		op->arg2 = (uint64_t)r->a2;
		fl_mm_unmap(&p->lay, op->addr, op->addr + op->len);
	} else if (!strcmp(sys, "brk")) {
		op->kind = FL_OP_BRK;
		op->addr = p->brk ? p->brk : (uint64_t)r->ret;
		op->len = (uint64_t)r->ret;
		p->brk = (uint64_t)r->ret;
	} else if (fork) {
		struct proc *ch = proc_of(c, r->child);

		p = proc_of(c, r->tgid);	/* proc_of may have moved the array */
		op->kind = FL_OP_FORK;
		op->child_mm = ch->mm;
		if (!ch->has_maps && !ch->lay.nvmas) {
			for (size_t k = 0; k < p->lay.nvmas; k++) {
				const struct fl_vma *v = p->lay.vmas[k];

				fl_mm_map(&ch->lay, v->start, v->end, v->flags, v->file, v->pgoff,
					  NULL);
			}
			ch->forked = true;
		}
	} else if (!strcmp(sys, "exit_group")) {
		op->kind = FL_OP_EXIT;
		op->kcpu_ns = 0;
	} else if (!strcmp(sys, LOCK_ROUND)) {
		op->kind = FL_OP_LOCK;
		op->arg = r->a0 != 0;
		op->kcpu_ns = r->hold ? r->hold : 1;	/* 0 would ask for the default */
		c->info->lock_rounds++;
		return;
	} else {
		c->in->threads[t->thread].nops--;	/* not an op the model plays */
		return;
	}
	c->info->writer_ops++;
}

/* After all ops: each traced mmap gets its file (or anonymous) flags. */
static void resolve_slots(struct ctx *c)
{
	for (size_t i = 0; i < c->nslots; i++) {
		struct slot *sl = &c->slots[i];
		struct fl_op *op = &c->in->threads[sl->thread].ops[sl->op];
		uint32_t fl = (uint32_t)op->arg & 7;
		uint64_t pages = op->len >> c->shift;

		if (sl->kind == 1 || (sl->known && !sl->anon_flag)) {
			if (sl->ino_known)
				op->file = file_for(c, sl->dev, sl->ino, sl->pgoff + pages);
			else
				op->file = fl_model_add_file(c->in, sl->pgoff + pages);
			sl->file = sl->ino_known ? 0 : op->file;
			op->arg2 = sl->pgoff;
			fl |= FL_VMA_FILE | FL_VMA_MAP_PAGES;
			if (sl->shared || !sl->known)
				fl |= FL_VMA_SHARED;
		} else if (sl->kind == 3) {
			fl |= FL_VMA_ANON | FL_VMA_SHARED | FL_VMA_SHMEM;
		} else {
			fl |= FL_VMA_ANON;
		}
		op->arg = fl;
	}
}

static void rawop_from_fault(sqlite3_stmt *st, struct rawop *r)
{
	const char *k;

	memset(r, 0, sizeof(*r));
	r->fault = true;
	r->id = sqlite3_column_int64(st, 0);
	r->tid = sqlite3_column_int(st, 1);
	r->tgid = sqlite3_column_int(st, 2);
	r->addr = (uint64_t)sqlite3_column_int64(st, 3);
	r->user = sqlite3_column_int(st, 4);
	r->write = sqlite3_column_int(st, 5);
	r->instr = sqlite3_column_int(st, 6);
	k = (const char *)sqlite3_column_text(st, 7);
	snprintf(r->kind, sizeof(r->kind), "%s", k ? k : "");
	r->vstart = (uint64_t)sqlite3_column_int64(st, 8);
	r->vend = (uint64_t)sqlite3_column_int64(st, 9);
	r->ino_known = sqlite3_column_type(st, 11) != SQLITE_NULL &&
		       sqlite3_column_type(st, 12) != SQLITE_NULL;
	r->dev = (uint64_t)sqlite3_column_int64(st, 10);
	r->ino = (uint64_t)sqlite3_column_int64(st, 11);
	r->index = (uint64_t)sqlite3_column_int64(st, 12);
	r->ts = (uint64_t)sqlite3_column_int64(st, 13);
	r->order = r->ts;
	r->end = (uint64_t)sqlite3_column_int64(st, 14);
	r->prio = sqlite3_column_type(st, 15) == SQLITE_NULL ? 120 : sqlite3_column_int(st, 15);
	r->major = sqlite3_column_int(st, 16);
}

static void rawop_from_writer(sqlite3_stmt *st, struct rawop *r)
{
	const char *s;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->tid = sqlite3_column_int(st, 1);
	r->tgid = sqlite3_column_int(st, 2);
	s = (const char *)sqlite3_column_text(st, 3);
	snprintf(r->sys, sizeof(r->sys), "%s", s ? s : "");
	r->a0 = sqlite3_column_int64(st, 4);
	r->a1 = sqlite3_column_int64(st, 5);
	r->a2 = sqlite3_column_int64(st, 6);
	r->ret = sqlite3_column_int64(st, 7);
	r->ts = (uint64_t)sqlite3_column_int64(st, 8);
	r->end = sqlite3_column_type(st, 9) == SQLITE_NULL ? r->ts :
		 (uint64_t)sqlite3_column_int64(st, 9);
	r->hold = (uint64_t)sqlite3_column_int64(st, 10);
	r->rhold = (uint64_t)sqlite3_column_int64(st, 11);
	r->blocked = (uint64_t)sqlite3_column_int64(st, 12);
	r->child = sqlite3_column_int(st, 13);
	r->prio = sqlite3_column_type(st, 14) == SQLITE_NULL ? 120 : sqlite3_column_int(st, 14);
	r->order = sqlite3_column_type(st, 15) == SQLITE_NULL ? r->ts :
		   (uint64_t)sqlite3_column_int64(st, 15);
}

static void rawop_from_lock(sqlite3_stmt *st, struct rawop *r)
{
	uint64_t acq, rel;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->tid = sqlite3_column_int(st, 1);
	r->tgid = sqlite3_column_int(st, 2);
	snprintf(r->sys, sizeof(r->sys), "%s", LOCK_ROUND);
	r->a0 = sqlite3_column_int(st, 3);
	r->ts = (uint64_t)sqlite3_column_int64(st, 4);
	acq = (uint64_t)sqlite3_column_int64(st, 5);
	rel = sqlite3_column_type(st, 6) == SQLITE_NULL ? acq : (uint64_t)sqlite3_column_int64(st, 6);
	r->end = rel;
	r->hold = rel > acq ? rel - acq : 0;
	r->order = acq;
	r->prio = sqlite3_column_type(st, 7) == SQLITE_NULL ? 120 : sqlite3_column_int(st, 7);
}

/* An mmap op's entry, to match it with its sys_enter event (flags, fd, offset). */
struct mmkey {
	uint64_t ts;		/* ns: the syscall entry */
	int32_t tid;
	size_t i;		/* index in the rawop array */
};

static int cmp_mmkey(const void *x, const void *y)
{
	const struct mmkey *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return (a->tid > b->tid) - (a->tid < b->tid);
}

/* Appends one rawop per row of sql (its one parameter: the capture id). */
static int load_rawops(sqlite3 *db, struct ctx *c, int64_t capture_id, const char *what,
		       void (*from_row)(sqlite3_stmt *st, struct rawop *r), struct rawop **raw,
		       size_t *nraw, size_t *capraw, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(c, what);
	sqlite3_bind_int64(st, 1, capture_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*nraw == *capraw) {
			*capraw = *capraw ? 2 * *capraw : 4096;
			*raw = fl_realloc(*raw, *capraw * sizeof(**raw));
		}
		from_row(st, &(*raw)[(*nraw)++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(c, what);
}

/* A block read's issue (+1) or completion (-1) at t ns. */
struct ioev {
	uint64_t t;
	int d;
};

static int ioev_cmp(const void *a, const void *b)
{
	const struct ioev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->d - y->d;		/* completions first at a tie */
}

/*
 * The device's concurrency as the capture saw it: the number of reads in
 * flight (issue -> complete) that the device spent most of its busy time at.
 * The latencies drawn from the capture were measured at that concurrency, so
 * the model's device serves that many requests at once and queues the rest:
 * a saturated device (8 MiB read-around windows on this machine's disk: two
 * 1 MiB requests in flight 86% of the time) limits throughput, and a fault's
 * wait for a window grows with the backlog ahead of it. 0 (unlimited) when
 * there are no reads.
 */
static uint32_t io_concurrency(struct ioev *ev, size_t n)
{
	uint64_t busy[257] = { 0 }, best = 0;
	uint32_t cur = 0, mode = 0;

	if (!n)
		return 0;
	qsort(ev, n, sizeof(*ev), ioev_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && cur)
			busy[cur < 256 ? cur : 256] += ev[i].t - ev[i - 1].t;
		cur = ev[i].d > 0 ? cur + 1 : (cur ? cur - 1 : 0);
	}
	for (uint32_t k = 1; k <= 256; k++) {
		if (busy[k] > best) {
			best = busy[k];
			mode = k;
		}
	}
	return mode;
}


/*
 * I/O rounds. Some devices complete reads in batches: this machine's virtio
 * disk completes the reads of an 8-thread 128 KiB thrash 16 at a time, in
 * issue order within ~50 us, every ~1.2 ms, though they were issued over
 * ~420 us (replay/README.md "Measured in session 7"). That keeps the threads
 * in step, and the model's contention with it. The capture's read completions
 * are grouped into rounds (gaps under ROUND_GAP_NS); the device runs in rounds
 * when most reads (ROUND_SHARE percent) complete in rounds of 4 or more holding
 * two threads' requests or more, over CALIB_MIN rounds. Then:
 *  - the draws: from a round's opener (its first request issued after the
 *    previous round completed) to the round's first completion;
 *  - the spacing: the median gap between completions inside rounds;
 *  - the misses: requests issued while a round was open (after its opener,
 *    before its first completion) that completed in a later round, over those
 *    and the round's own.
 */
#define ROUND_GAP_NS	30000
#define ROUND_SHARE	50
#define CALIB_MIN	256		/* samples a measured cost or device property needs */

struct iorq {
	uint64_t issue, done;
	int32_t tid;
};

static int iorq_cmp(const void *a, const void *b)
{
	const struct iorq *x = a, *y = b;

	return x->done < y->done ? -1 : x->done > y->done;
}

static int io_rounds(struct ctx *c, int64_t capture_id)
{
	sqlite3_stmt *st;
	struct iorq *rq = NULL;
	size_t n = 0, cap = 0, *rs = NULL, nr = 0, in_big = 0, nmiss = 0, njoin = 0;
	uint64_t *gaps = NULL, *lat = NULL, maxlat = 0;
	size_t ngaps = 0, nlat = 0;
	int rc;

	if (prep(c->db, "SELECT issue_ns, complete_ns, coalesce(issue_tid, -1) FROM io WHERE "
		 "capture = ?1 AND issue_ns IS NOT NULL AND complete_ns IS NOT NULL AND "
		 "complete_ns > issue_ns AND coalesce(rwbs, 'R') LIKE '%R%'", capture_id, 0,
		 &st) < 0)
		return sqlerr(c, "io");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			rq = fl_realloc(rq, cap * sizeof(*rq));
		}
		rq[n] = (struct iorq){ (uint64_t)sqlite3_column_int64(st, 0),
				       (uint64_t)sqlite3_column_int64(st, 1),
				       sqlite3_column_int(st, 2) };
		if (rq[n].done - rq[n].issue > maxlat)
			maxlat = rq[n].done - rq[n].issue;
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(rq);
		return sqlerr(c, "io");
	}
	if (n < 2 * CALIB_MIN)
		goto out;
	qsort(rq, n, sizeof(*rq), iorq_cmp);
	/* round r is rq[rs[r] .. rs[r + 1]) */
	rs = fl_malloc((n + 1) * sizeof(*rs));
	for (size_t i = 0; i < n; i++) {
		if (!i || rq[i].done - rq[i - 1].done >= ROUND_GAP_NS)
			rs[nr++] = i;
		else
			fl_push_u64(&gaps, &ngaps, rq[i].done - rq[i - 1].done);
	}
	rs[nr] = n;
	for (size_t r = 0; r < nr; r++) {
		bool two = false;

		for (size_t i = rs[r] + 1; i < rs[r + 1] && !two; i++)
			two = rq[i].tid != rq[rs[r]].tid;
		if (rs[r + 1] - rs[r] >= 4 && two)
			in_big += rs[r + 1] - rs[r];
	}
	if (nr < CALIB_MIN || in_big * 100 < n * ROUND_SHARE)
		goto out;
	for (size_t r = 1; r < nr; r++) {
		uint64_t prev = rq[rs[r] - 1].done, first = rq[rs[r]].done, op = UINT64_MAX;
		size_t members = 0;

		for (size_t i = rs[r]; i < rs[r + 1]; i++) {
			if (rq[i].issue >= prev) {
				members++;
				if (rq[i].issue < op)
					op = rq[i].issue;
			}
		}
		if (!members)
			continue;
		fl_push_u64(&lat, &nlat, first - op);
		njoin += members;
		/* issued in the round, completed later (within the longest latency of it) */
		for (size_t i = rs[r + 1]; i < n && rq[i].done < first + maxlat; i++)
			if (rq[i].issue >= op && rq[i].issue < first)
				nmiss++;
	}
	if (nlat < CALIB_MIN)
		goto out;
	c->in->io_round_ns = lat;
	c->in->nio_round = nlat;
	lat = NULL;
	c->in->io_gap_ns = ngaps ? fl_median_u64(gaps, ngaps) : 0;
	c->in->io_miss_ppm = (uint32_t)(nmiss * 1000000 / (njoin + nmiss));
	c->info->io_rounds = nr;
	c->info->io_round_share = (uint32_t)(in_big * 100 / n);
	/* the CPU that takes the interrupts: the one most completions were traced on */
	if (prep(c->db, "SELECT cpu, count(*) FROM ev_block_rq WHERE capture = ?1 AND kind = "
		 "'complete' GROUP BY cpu ORDER BY 2 DESC LIMIT 1", capture_id, 0, &st) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) * 2 > (int64_t)n)
			c->in->irq_cpu = (uint32_t)sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	/* the kworkers' runs (sched_costs) per read request */
	if (c->in->nkworker_ns)
		c->in->kworker_ppm = (uint32_t)(c->in->nkworker_ns * 1000000 / n);
out:
	if (!c->in->nio_round) {	/* the model charges kworkers only with the rounds */
		free(c->in->kworker_ns);
		c->in->kworker_ns = NULL;
		c->in->nkworker_ns = 0;
	}
	free(rq);
	free(rs);
	free(gaps);
	free(lat);
	return 0;
}

/*
 * Two costs the model charges as CPU time, measured on the capture itself
 * rather than taken from defaults (kernel-semantics.md §6.1: readahead
 * allocates, charges and inserts each folio before it submits the read; a
 * charge over the memory cgroup's limit reclaims in the charging task,
 * mm/memcontrol.c try_charge_memcg -> try_to_free_mem_cgroup_pages):
 *
 *  - reclaim_page_ns: the followed threads' time on a CPU inside
 *    mm_vmscan_memcg_reclaim_begin/end (and direct reclaim) episodes, over
 *    the pages those episodes reclaimed (nr_reclaimed of the end event). On
 *    this machine's 64 MiB thrash at read_ahead_kb 8192 that is ~15 us a page
 *    (6.2 s of CPU for 393 k pages in 3.5 s on 2 CPUs: reclaim is what the
 *    workload spends its CPUs on), ten times the default.
 *  - ra_page_ns: the cost per page of inserting a folio, over the folio
 *    sizes the capture inserted. A folio's cost is the median gap before
 *    it from the same thread's previous mm_filemap_add_to_page_cache less
 *    than 20 us earlier, outside reclaim (one readahead batch), per folio
 *    order; most of it is per folio (allocation, charge, xarray store),
 *    not per page: 1.2 us for one page, 2.5 us for 16 and 13.6 us for 32
 *    (which includes submitting the previous window's read) on this
 *    machine's 128 KiB thrash, whose readahead inserts 92 % of its pages
 *    as 32-page folios. The model's folios are single pages, so each page
 *    is charged the capture's mean: sum over orders of pages inserted at
 *    that order times that order's median per page, over all pages (an
 *    order with fewer than ORDER_MIN gaps takes the nearest measured
 *    one's). Taking the single-page median for every page charged that
 *    thrash 0.9 s of CPU for 0.75 M pages, where the kernel spent ~1.25 s
 *    on everything, reclaim included.
 *
 * Each is used only with enough samples (CALIB_MIN); the info says which.
 */
#define SPLIT_MIN	32		/* readahead requests the mean request is taken over */
#define CALIB_GAP_NS	20000
#define ORDER_MIN	32		/* gaps an order's median per page is taken over */
#define ORDERS		11		/* folio orders told apart: 0..10 (the model's largest
					   readahead window is 4 MiB: order 10) */

/* ra_page_ns from the per-order gaps and pages (see above); nothing if no order has ORDER_MIN gaps. */
static void ra_page_cost(struct ctx *c, uint64_t *const gaps[ORDERS], const size_t ngaps[ORDERS],
			 const uint64_t opages[ORDERS])
{
	uint64_t med[ORDERS] = { 0 }, sum = 0, npages = 0, samples = 0;
	int have = -1, most = 0;

	for (int o = 0; o < ORDERS; o++) {
		if (ngaps[o] >= ORDER_MIN) {
			med[o] = fl_median_u64(gaps[o], ngaps[o]);
			have = o;
			samples += ngaps[o];
		}
	}
	if (have < 0)
		return;
	for (int o = 0; o < ORDERS; o++) {
		uint64_t m = med[o];

		/* the nearest measured order (the lower one on a tie) */
		for (int d = 1; !m && d < ORDERS; d++) {
			if (o - d >= 0 && ngaps[o - d] >= ORDER_MIN)
				m = med[o - d];
			else if (o + d < ORDERS && ngaps[o + d] >= ORDER_MIN)
				m = med[o + d];
		}
		sum += opages[o] * m;
		npages += opages[o];
		if (opages[o] > opages[most])
			most = o;
	}
	if (!npages)
		return;
	c->in->costs.ra_page_ns = sum / npages;
	c->info->ra_page_ns = c->in->costs.ra_page_ns;
	c->info->ra_page_samples = samples;
	c->info->ra_folio_order = (uint32_t)most;
	c->info->ra_folio_share = (uint32_t)(100 * opages[most] / npages);
}

/*
 * The CPU a switch between two followed threads takes: from the blocking
 * thread's last traced event to the next thread's first one on that CPU,
 * across a sched_switch between them (the blocking path, __schedule, the
 * return path; none of it is in the model's other costs). Only switches out
 * of an uninterruptible sleep (D: a folio's I/O), which the kernel enters
 * from a traced operation; a thread that sleeps from user space (nanosleep,
 * S) ran user code after its last event, and one that sleeps for a lock
 * (its last event mmap_lock_start_locking or contention_begin) may have spun
 * first (anonmix's short loops: 17.7 us). The median over
 * switches with both sides under SWITCH_MAX_NS (t3: 5.5 us, 3.9 us of it
 * before the switch).
 *
 * In the same pass, the per-CPU kworkers' runs (kblockd's nice -20 ones
 * dispatch the block requests): each from its switch-in to the CPU's next
 * switch. With a device in rounds (io_rounds) the model draws one onto the
 * submitting CPU per request with the capture's runs-per-request chance (t3:
 * 3,030 runs for 23,622 reads, 7 us at the median, 0.31 s in all).
 */
#define SWITCH_MAX_NS	50000

static int sched_costs(struct ctx *c, int64_t first_id, int64_t last_id)
{
	sqlite3_stmt *st;
	struct cpust {
		uint64_t last_ts, pend_ts, kw_since;
		int32_t last_tid, pend_tid;
		int last_type;
	} *cs = NULL;
	size_t ncs = 0, nv = 0, nkw = 0;
	uint64_t *v = NULL, *kw = NULL;
	int rc;

	if (prep(c->db, "SELECT ts, cpu, tid, type, a0, a2, a3, type = 10 AND comm2 LIKE "
		 "'kworker/%' FROM event WHERE id BETWEEN ?1 AND ?2 AND cpu IS NOT NULL ORDER BY "
		 "id", first_id, last_id, &st) < 0)
		return sqlerr(c, "events");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
		int64_t cpu = sqlite3_column_int64(st, 1);
		int32_t tid = sqlite3_column_int(st, 2);
		struct cpust *p;

		if (cpu < 0 || cpu > 4095)
			continue;
		if ((size_t)cpu >= ncs) {
			cs = fl_realloc(cs, ((size_t)cpu + 1) * sizeof(*cs));
			memset(cs + ncs, 0, ((size_t)cpu + 1 - ncs) * sizeof(*cs));
			ncs = (size_t)cpu + 1;
		}
		p = &cs[cpu];
		if (sqlite3_column_int(st, 3) == 10) {	/* sched_switch */
			int32_t prev = (int32_t)sqlite3_column_int64(st, 4);
			int64_t state = sqlite3_column_int64(st, 5);
			int32_t next = (int32_t)sqlite3_column_int64(st, 6);

			if (p->kw_since && ts > p->kw_since)
				fl_push_u64(&kw, &nkw, ts - p->kw_since);
			p->kw_since = sqlite3_column_int(st, 7) ? ts : 0;
			p->pend_tid = 0;
			/* not a lock wait: a writer may have spun there before it slept */
			if ((state & 2) && prev && prev == p->last_tid && p->last_type != 3 &&
			    p->last_type != 23 &&
			    thread_idx(c, prev) != SIZE_MAX && thread_idx(c, next) != SIZE_MAX &&
			    ts - p->last_ts < SWITCH_MAX_NS) {
				p->pend_tid = next;
				p->pend_ts = p->last_ts;
			}
			p->last_tid = 0;
			continue;
		}
		if (p->pend_tid && tid == p->pend_tid) {
			if (ts - p->pend_ts < 2 * SWITCH_MAX_NS)
				fl_push_u64(&v, &nv, ts - p->pend_ts);
			p->pend_tid = 0;
		}
		p->last_tid = tid;
		p->last_ts = ts;
		p->last_type = sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	free(cs);
	if (rc != SQLITE_DONE) {
		free(v);
		free(kw);
		return sqlerr(c, "events");
	}
	if (nv >= CALIB_MIN) {
		c->in->costs.switch_ns = fl_median_u64(v, nv);
		c->info->switch_ns = c->in->costs.switch_ns;
		c->info->switch_samples = nv;
	}
	free(v);
	if (nkw >= CALIB_MIN) {
		c->in->kworker_ns = kw;
		c->in->nkworker_ns = nkw;
	} else {
		free(kw);
	}
	return 0;
}

static int calibrate(struct ctx *c, int64_t first_id, int64_t last_id)
{
	sqlite3_stmt *st;
	uint64_t *on = fl_calloc(c->nts + 1, sizeof(uint64_t));	/* on a CPU since (0 off) */
	uint64_t *rec = fl_calloc(c->nts + 1, sizeof(uint64_t));	/* in reclaim since */
	uint64_t *inrec = fl_calloc(c->nts + 1, sizeof(uint64_t));	/* CPU ns in this episode */
	uint64_t *last_add = fl_calloc(c->nts + 1, sizeof(uint64_t));
	uint64_t *gaps[ORDERS] = { NULL }, *per = NULL, cpu_ns = 0, pages = 0, scanned = 0;
	uint64_t opages[ORDERS] = { 0 };	/* pages inserted at each order */
	size_t nper = 0, capper = 0;
	size_t ngaps[ORDERS] = { 0 }, capgaps[ORDERS] = { 0 }, ngaps_all = 0;
	int rc, ret = -1;

	/* event.type is enum fl_ev (capture/decode.h): 8 FILEMAP_ADD, 10 SCHED_SWITCH,
	 * 17/18 MEMCG_RECLAIM_BEGIN/END, 19/20 DIRECT_RECLAIM_BEGIN/END */
	/* sched_switch of the main instance; the others from the instance that holds
	 * them (the extra global one of command-mode captures), not twice */
	if (prep(c->db, "SELECT ts, tid, type, a0, a3 FROM event WHERE id BETWEEN ?1 AND "
		 "?2 AND ((type = 10 AND inst = 0) OR (type IN (8, 17, 18, 19, 20, 25) AND "
		 "inst = (SELECT coalesce(max(inst), 0) FROM event WHERE id BETWEEN ?1 AND "
		 "?2 AND type IN (8, 17)))) ORDER BY id", first_id, last_id, &st) < 0) {
		sqlerr(c, "reclaim events");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
		int type = sqlite3_column_int(st, 2);
		size_t i = thread_idx(c, sqlite3_column_int(st, 1));

		if (type == 10) {
			size_t prev = thread_idx(c, (int32_t)sqlite3_column_int64(st, 3));
			size_t next = thread_idx(c, (int32_t)sqlite3_column_int64(st, 4));

			if (prev != SIZE_MAX && on[prev]) {
				if (rec[prev])
					inrec[prev] += ts - (on[prev] > rec[prev] ? on[prev] : rec[prev]);
				on[prev] = 0;
			}
			if (next != SIZE_MAX)
				on[next] = ts;
			continue;
		}
		if (i == SIZE_MAX)
			continue;
		if (!on[i])
			on[i] = ts;	/* running: it traced this (its switch-in came before) */
		if (type == 17 || type == 19) {
			rec[i] = ts;
			inrec[i] = 0;
			last_add[i] = 0;
		} else if (type == 18 || type == 20) {
			if (rec[i]) {
				inrec[i] += ts - (on[i] > rec[i] ? on[i] : rec[i]);
				cpu_ns += inrec[i];
				pages += (uint64_t)sqlite3_column_int64(st, 3);
				if (sqlite3_column_int64(st, 3) > 0) {
					if (nper == capper) {
						capper = capper ? 2 * capper : 1024;
						per = fl_realloc(per, capper * sizeof(*per));
					}
					per[nper++] = inrec[i] / (uint64_t)sqlite3_column_int64(st, 3);
				}
			}
			rec[i] = 0;
			last_add[i] = 0;
		} else if (type == 25) {
			if (rec[i])	/* a batch of this episode: nr_scanned */
				scanned += (uint64_t)sqlite3_column_int64(st, 3);
		} else {
			uint64_t order = (uint64_t)sqlite3_column_int64(st, 4);

			if (order >= ORDERS)
				continue;
			opages[order] += 1ULL << order;
			if (rec[i])
				continue;
			if (last_add[i] && ts - last_add[i] < CALIB_GAP_NS) {
				if (ngaps[order] == capgaps[order]) {
					capgaps[order] = capgaps[order] ? 2 * capgaps[order] : 256;
					gaps[order] = fl_realloc(gaps[order],
								 capgaps[order] * sizeof(uint64_t));
				}
				gaps[order][ngaps[order]++] = (ts - last_add[i]) >> order;
				ngaps_all++;
			}
			last_add[i] = ts;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sqlerr(c, "reclaim events");
		goto out;
	}
	if (pages >= CALIB_MIN && cpu_ns) {
		c->in->costs.reclaim_page_ns = cpu_ns / pages;
		c->info->reclaim_page_ns = cpu_ns / pages;
		c->info->reclaim_pages = pages;
	}
	if (scanned >= CALIB_MIN && cpu_ns) {
		c->in->costs.reclaim_scan_ns = cpu_ns / scanned;
		c->info->reclaim_scan_ns = cpu_ns / scanned;
		c->info->reclaim_scanned = scanned;
		c->info->reclaim_episodes = nper;
	} else if (nper >= CALIB_MIN) {
		qsort(per, nper, sizeof(*per), fl_cmp_u64);
		c->in->costs.reclaim_scan_ns = per[nper / 10];
		c->info->reclaim_scan_ns = per[nper / 10];
		c->info->reclaim_episodes = nper;
	}
	if (ngaps_all >= CALIB_MIN)
		ra_page_cost(c, gaps, ngaps, opages);
	ret = 0;
out:
	free(on);
	free(rec);
	free(inrec);
	free(last_add);
	for (int o = 0; o < ORDERS; o++)
		free(gaps[o]);
	free(per);
	return ret;
}

/*
 * Files the capture shows were wholly cached before it: no page-cache insert
 * for them (mm_filemap_add_to_page_cache, any instance) and no fault on them
 * that the kernel counted major. A shared library or a binary run many times
 * is that; the model starts with their pages in the cache, outside the
 * memory cgroup's capacity (they are charged to whoever read them first),
 * instead of reading them from the device (which made the loader's first
 * faults major on every anonymous workload). Needs the insert tracepoint:
 * without it nothing is assumed.
 */
static int cached_files(struct ctx *c, int64_t first_id, int64_t last_id)
{
	sqlite3_stmt *st = NULL;
	uint64_t (*seen)[2] = NULL;
	size_t nseen = 0, capseen = 0;
	int rc, have_adds = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM capture_event_type WHERE capture = ? "
			       "AND system = 'filemap' AND name = 'mm_filemap_add_to_page_cache' "
			       "AND enabled = 1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, c->cap);
		if (sqlite3_step(st) == SQLITE_ROW)
			have_adds = sqlite3_column_int(st, 0) > 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	c->in->file_cached = fl_calloc(c->in->nfiles + 1, 1);
	if (!have_adds)
		return 0;
	/* event.type 8 = FL_EV_FILEMAP_ADD (capture/decode.h), a0 s_dev, a1 i_ino */
	if (prep(c->db, "SELECT DISTINCT a0, a1 FROM event WHERE id BETWEEN ?1 AND ?2 AND "
		 "type = 8 UNION SELECT DISTINCT dev, ino FROM fault WHERE capture = ?3 AND "
		 "major = 1 AND ino IS NOT NULL", first_id, last_id, &st) < 0)
		return sqlerr(c, "page-cache inserts");
	sqlite3_bind_int64(st, 3, c->cap);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (nseen == capseen) {
			capseen = capseen ? 2 * capseen : 64;
			seen = fl_realloc(seen, capseen * sizeof(*seen));
		}
		seen[nseen][0] = (uint64_t)sqlite3_column_int64(st, 0);
		seen[nseen][1] = (uint64_t)sqlite3_column_int64(st, 1);
		nseen++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(seen);
		return sqlerr(c, "page-cache inserts");
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		bool read = false;

		for (size_t j = 0; j < nseen && !read; j++)
			read = seen[j][0] == c->files[i].dev && seen[j][1] == c->files[i].ino;
		if (!read && c->files[i].ino) {
			c->in->file_cached[c->files[i].id - 1] = 1;
			c->info->files_cached++;
		}
	}
	/* a mapping whose file no fault named: cached if none of its faults was major */
	for (size_t i = 0; i < c->nslots; i++) {
		if (c->slots[i].file && !c->slots[i].major) {
			c->in->file_cached[c->slots[i].file - 1] = 1;
			c->info->files_cached++;
		}
	}
	free(seen);
	return 0;
}

int fl_opstream_load(sqlite3 *db, int64_t capture_id, struct fl_model_input *in,
		     struct fl_opstream_info *info, struct fl_err *err)
{
	struct ctx c = { .db = db, .cap = capture_id, .in = in, .info = info, .err = err };
	sqlite3_stmt *st = NULL;
	struct rawop *raw = NULL;
	struct ioev *io_ev = NULL;
	size_t nraw = 0, capraw = 0, nmm_idx = 0, capmm_idx = 0;
	struct mmkey *mm_idx = NULL;
	int64_t first_id = 0, last_id = 0;
	int ret = -1, rc;

	memset(info, 0, sizeof(*info));
	if (sqlite3_prepare_v2(db, "SELECT coalesce(uname_machine, arch, ''), "
			       "coalesce(uname_release, ''), coalesce(cpus, 0), "
			       "coalesce(page_size, 4096), coalesce(memcg_limit_bytes, 0), "
			       "coalesce(first_event_ns, 0), coalesce(last_event_ns, 0), "
			       "coalesce(event_first_id, 0), coalesce(event_last_id, -1) "
			       "FROM capture WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return sqlerr(&c, "capture");
	sqlite3_bind_int64(st, 1, capture_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fl_seterr(err, "capture %lld is not in the database (see 'faultlab info DB')",
				 (long long)capture_id);
	}
	snprintf(info->arch, sizeof(info->arch), "%s", sqlite3_column_text(st, 0));
	snprintf(info->release, sizeof(info->release), "%s", sqlite3_column_text(st, 1));
	info->kver = fl_kver_parse(info->release);
	if (info->kver < 0)
		info->kver = 0;
	info->cpus = (uint32_t)sqlite3_column_int(st, 2);
	c.page = (uint64_t)sqlite3_column_int64(st, 3);
	info->memcg_limit_bytes = (uint64_t)sqlite3_column_int64(st, 4);
	c.t0 = (uint64_t)sqlite3_column_int64(st, 5);
	info->span_ns = (uint64_t)sqlite3_column_int64(st, 6) - c.t0;
	first_id = sqlite3_column_int64(st, 7);
	last_id = sqlite3_column_int64(st, 8);
	sqlite3_finalize(st);
	if (!c.page || (c.page & (c.page - 1)))
		c.page = 4096;
	for (c.shift = 0; (1ULL << c.shift) < c.page; c.shift++)
		;
	in->page_shift = c.shift;
	in->nmm = 0;
	if (info->cpus)
		in->ncpus = info->cpus;
	if (info->kver)
		in->kver = info->kver;

	{
		int64_t ag = -1;

		if (one_row(db, "SELECT CAST(value AS INTEGER) != 0 FROM capture_kv WHERE capture = "
			    "?1 AND section = 'header' AND key = 'kernel.sched_autogroup_enabled'",
			    capture_id, 0, &ag, NULL) < 0)
			return sqlerr(&c, "autogroup");
		info->autogroup = (int)ag;
	}

	if (load_maps(&c) < 0)
		goto out;

	/* faults and writer ops of followed tasks, merged by time */
	if (load_rawops(db, &c, capture_id, "fault", rawop_from_fault, &raw, &nraw, &capraw,
			"SELECT f.id, f.tid, f.tgid, f.address, f.user, f.write, "
			"f.instr, f.vma_kind, coalesce(f.vma_start, 0), "
			"coalesce(f.vma_end, 0), f.dev, f.ino, f.page_index, f.start_ns, "
			"f.end_ns, t.prio, f.major FROM fault f LEFT JOIN task t ON t.capture = "
			"f.capture AND t.tid = f.tid WHERE f.capture = ? AND f.tgid IS NOT "
			"NULL AND f.unfinished = 0") < 0 ||
	    load_rawops(db, &c, capture_id, "writer_op", rawop_from_writer, &raw, &nraw, &capraw,
			"SELECT w.id, w.tid, w.tgid, w.sys, coalesce(w.arg0, 0), "
			"coalesce(w.arg1, 0), coalesce(w.arg2, 0), coalesce(w.ret, 0), "
			"w.enter_ns, w.exit_ns, w.write_hold_ns, w.read_hold_ns, "
			"w.blocked_ns, coalesce(w.child, 0), t.prio, w.acquired_ns "
			"FROM writer_op w "
			"LEFT JOIN task t ON t.capture = w.capture AND t.tid = w.tid "
			"WHERE w.capture = ? AND w.tgid IS NOT NULL") < 0 ||
	    load_rawops(db, &c, capture_id, "lock rounds", rawop_from_lock, &raw, &nraw, &capraw,
			"SELECT l.id, l.tid, l.tgid, l.write, l.start_ns, l.acquired_ns, "
			"l.released_ns, t.prio FROM lock_wait l "
			"LEFT JOIN task t ON t.capture = l.capture AND t.tid = l.tid "
			"WHERE l.capture = ? AND l.owner_kind = 'none' AND l.success = 1 AND "
			"l.acquired_ns IS NOT NULL AND l.tgid IS NOT NULL") < 0)
		goto out;
	/* mmap flags / fd / offset from the sys_enter events (args 3..5) */
	if (prep(db, "SELECT e.ts, e.tid, e.a3, e.a5 FROM event e JOIN sys_name s ON "
		 "s.sys = e.sys AND s.name = 'mmap' WHERE e.id BETWEEN ? AND ? AND "
		 "e.type = 21", first_id, last_id, &st) < 0) {
		sqlerr(&c, "mmap events");
		goto out;
	}
	/* the mmap ops by (entry time, tid): one binary search per sys_enter event */
	for (size_t i = 0; i < nraw; i++)
		if (!raw[i].fault && !strcmp(raw[i].sys, "mmap")) {
			if (nmm_idx == capmm_idx) {
				capmm_idx = capmm_idx ? 2 * capmm_idx : 64;
				mm_idx = fl_realloc(mm_idx, capmm_idx * sizeof(*mm_idx));
			}
			mm_idx[nmm_idx++] = (struct mmkey){ raw[i].ts, raw[i].tid, i };
		}
	if (nmm_idx)
		qsort(mm_idx, nmm_idx, sizeof(*mm_idx), cmp_mmkey);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mmkey key = { (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), 0 };
		size_t lo = 0, hi = nmm_idx;

		while (lo < hi) {	/* first entry not below key */
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_mmkey(&mm_idx[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nmm_idx && !cmp_mmkey(&mm_idx[lo], &key); lo++) {
			struct rawop *r = &raw[mm_idx[lo].i];

			if (r->mflags_known)
				continue;
			r->mflags_known = true;
			r->mflags = (uint64_t)sqlite3_column_int64(st, 2);
			r->mpgoff = (uint64_t)sqlite3_column_int64(st, 3) >> c.shift;
			break;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	qsort(raw, nraw, sizeof(*raw), cmp_rawop);
	for (size_t i = 0; i < nraw; i++)
		thread_of(&c, raw[i].tid, raw[i].tgid, raw[i].prio);
	if (calibrate(&c, first_id, last_id) < 0)
		goto out;
	if (sched_costs(&c, first_id, last_id) < 0)
		goto out;
	if (load_offcpu(&c, first_id, last_id) < 0)
		goto out;
	for (size_t i = 0; i < nraw; i++) {
		struct tstate *t = thread_of(&c, raw[i].tid, raw[i].tgid, raw[i].prio);
		struct proc *p = proc_of(&c, raw[i].tgid);

		if (raw[i].fault)
			fault_op(&c, &raw[i], t, p);
		else
			writer_op(&c, &raw[i], t, p);
	}
	resolve_slots(&c);
	if (cached_files(&c, first_id, last_id) < 0)
		goto out;
	in->mm_forked = fl_calloc(in->nmm ? in->nmm : 1, sizeof(*in->mm_forked));
	for (size_t i = 0; i < c.nprocs; i++)
		in->mm_forked[c.procs[i].mm] = c.procs[i].forked;

	/* I/O latencies: block reads issue -> complete */
	if (sqlite3_prepare_v2(db, "SELECT complete_ns - issue_ns, issue_ns FROM io WHERE "
			       "capture = ? AND issue_ns IS NOT NULL AND complete_ns IS NOT NULL AND "
			       "complete_ns > issue_ns AND coalesce(rwbs, 'R') LIKE '%R%' "
			       "ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		sqlerr(&c, "io");
		goto out;
	}
	sqlite3_bind_int64(st, 1, capture_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(in->nio_lat & (in->nio_lat - 1))) {
			size_t cap = in->nio_lat ? 2 * in->nio_lat : 1;

			in->io_lat_ns = fl_realloc(in->io_lat_ns, cap * sizeof(*in->io_lat_ns));
			io_ev = fl_realloc(io_ev, 2 * cap * sizeof(*io_ev));
		}
		in->io_lat_ns[in->nio_lat] = (uint64_t)sqlite3_column_int64(st, 0);
		io_ev[2 * in->nio_lat] = (struct ioev){ (uint64_t)sqlite3_column_int64(st, 1), 1 };
		io_ev[2 * in->nio_lat + 1] = (struct ioev){ io_ev[2 * in->nio_lat].t +
							   in->io_lat_ns[in->nio_lat], -1 };
		in->nio_lat++;
	}
	sqlite3_finalize(st);
	st = NULL;
	info->io_samples = in->nio_lat;
	in->io_depth = io_concurrency(io_ev, 2 * in->nio_lat);
	info->io_depth = in->io_depth;
	if (io_rounds(&c, capture_id) < 0)
		goto out;

	/*
	 * The cost of an uncontended mmap_lock acquisition as the capture measures
	 * it: the median start_locking -> acquire_returned of the acquisitions that
	 * found no traced holder and no writer queued ahead (the fast path plus the
	 * tracepoints' own cost, ~0.3-1 us here). The model's uncontended
	 * acquisitions take no time; it adds this to each wait it reports, so its
	 * percentiles are comparable with the capture's.
	 */
	for (int wr = 0; wr < 2; wr++) {
		int64_t n;

		if (sqlite3_prepare_v2(db, "SELECT wait_ns FROM lock_wait WHERE capture = ?1 AND "
				       "write = ?2 AND success = 1 AND wait_ns IS NOT NULL AND "
				       "holders = 0 AND writers_ahead = 0 ORDER BY wait_ns "
				       "LIMIT 1 OFFSET (SELECT (count(*) - 1) / 2 FROM lock_wait "
				       "WHERE capture = ?1 AND write = ?2 AND success = 1 AND "
				       "wait_ns IS NOT NULL AND holders = 0 AND writers_ahead = 0)",
				       -1, &st, NULL) != SQLITE_OK) {
			sqlerr(&c, "lock_wait");
			goto out;
		}
		sqlite3_bind_int64(st, 1, capture_id);
		sqlite3_bind_int(st, 2, wr);
		if (sqlite3_step(st) == SQLITE_ROW && (n = sqlite3_column_int64(st, 0)) > 0) {
			if (wr)
				in->costs.acq_write_ns = (uint64_t)n;
			else
				in->costs.acq_read_ns = (uint64_t)n;
		}
		sqlite3_finalize(st);
		st = NULL;
		/* and every one of them, for the draws (see fl_model_input.acq_ns) */
		if (sqlite3_prepare_v2(db, "SELECT wait_ns FROM lock_wait WHERE capture = ?1 AND "
				       "write = ?2 AND success = 1 AND wait_ns > 0 AND holders = 0 "
				       "AND writers_ahead = 0 ORDER BY id", -1, &st, NULL) !=
		    SQLITE_OK) {
			sqlerr(&c, "lock_wait");
			goto out;
		}
		sqlite3_bind_int64(st, 1, capture_id);
		sqlite3_bind_int(st, 2, wr);
		while (sqlite3_step(st) == SQLITE_ROW)
			fl_push_u64(&in->acq_ns[wr], &in->nacq[wr],
				    (uint64_t)sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
		st = NULL;
	}

	/*
	 * Where in a first write fault on an anonymous VMA __vmf_anon_prepare
	 * trylocks mmap_lock: do_anonymous_page allocates the page table first
	 * (pte_alloc, mm/memory.c), after lock_vma_under_rcu. The median time
	 * from the fault's entry to that trylock, over the faults under the VMA
	 * lock whose trylock succeeded (3-3.5 us on this VM: more than the rest
	 * of the fault). Where it falls decides which of another thread's write
	 * holds the trylock meets.
	 */
	{
		uint64_t *d = NULL;
		size_t n = 0;

		if (sqlite3_prepare_v2(db, "SELECT l.start_ns - f.start_ns FROM lock_wait l JOIN "
				       "fault f ON f.capture = l.capture AND f.id = l.owner_id WHERE "
				       "l.capture = ? AND l.owner_kind = 'fault' AND l.trylock = 1 AND "
				       "l.success = 1 AND l.write = 0 AND f.anon_prepare = 1 AND "
				       "f.path = 'vma' AND l.start_ns >= f.start_ns", -1, &st,
				       NULL) != SQLITE_OK) {
			sqlerr(&c, "anon_vma trylocks");
			goto out;
		}
		sqlite3_bind_int64(st, 1, capture_id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (!(n & (n - 1)))
				d = fl_realloc(d, (n ? 2 * n : 1) * sizeof(*d));
			d[n++] = (uint64_t)sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE) {
			free(d);
			sqlerr(&c, "anon_vma trylocks");
			goto out;
		}
		if (n >= CALIB_MIN) {
			in->costs.anon_prep_ns = fl_median_u64(d, n);
			info->anon_prep_ns = in->costs.anon_prep_ns;
			info->anon_prep_samples = n;
		}
		free(d);
	}

	/*
	 * The readahead window the model uses: the most frequent size of the block
	 * reads of 8 pages or more, rounded to a power of two (readahead submits a
	 * request per window). The device's read_ahead_kb, which newer captures
	 * record, is only the fallback below: see replay/README.md for why.
	 */
	if (sqlite3_prepare_v2(db, "SELECT (bytes + ?1 / 2) / ?1 AS pages, count(*) AS n FROM io "
			       "WHERE capture = ?2 AND bytes >= 8 * ?1 AND coalesce(rwbs, 'R') "
			       "LIKE '%R%' GROUP BY pages ORDER BY n DESC, pages DESC LIMIT 1", -1,
			       &st, NULL) != SQLITE_OK) {
		sqlerr(&c, "io sizes");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (int64_t)c.page);
	sqlite3_bind_int64(st, 2, capture_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t pages = (uint64_t)sqlite3_column_int64(st, 0), p2 = 8;

		while (p2 < 1024 && p2 + p2 / 2 <= pages)
			p2 *= 2;
		in->ra_pages = (uint32_t)p2;
		info->ra_pages = (uint32_t)p2;
		info->ra_inferred_pages = (uint32_t)p2;
		/* the same size is where the block layer splits a longer window */
		in->io_max_pages = (uint32_t)p2;
	}
	sqlite3_finalize(st);
	st = NULL;

	/*
	 * How many requests a window becomes: the block layer splits a readahead
	 * bio at max_sectors_kb and at the queue's max_segments (virtio-blk here:
	 * 254 single-page segments, so each 1 MiB piece of an 8 MiB window goes
	 * out as 254 pages plus a 2-page request), and this device takes about as
	 * long for a small request as for a large one (~1.1 ms each in the 8 MiB
	 * thrash captures). So the model splits a window into requests of the
	 * mean size of the capture's readahead requests (rwbs 'A'), not of the
	 * largest: the same number of requests, the same device time per window.
	 */
	if (sqlite3_prepare_v2(db, "SELECT count(*), sum(bytes) FROM io WHERE capture = ?1 AND "
			       "rwbs LIKE '%R%' AND rwbs LIKE '%A%' AND bytes > 0", -1, &st,
			       NULL) != SQLITE_OK) {
		sqlerr(&c, "readahead request sizes");
		goto out;
	}
	sqlite3_bind_int64(st, 1, capture_id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) >= SPLIT_MIN) {
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t mean = ((uint64_t)sqlite3_column_int64(st, 1) / c.page + n / 2) / n;

		if (mean && (!in->io_max_pages || mean < in->io_max_pages)) {
			in->io_max_pages = (uint32_t)mean;
			info->io_split_pages = (uint32_t)mean;
		}
	}
	sqlite3_finalize(st);
	st = NULL;

	/*
	 * The true window, when the capture recorded it: read_ahead_kb of the
	 * device of the most-faulted file ("bdi/MAJ:MIN/read_ahead_kb"; fault.dev
	 * is the kernel dev_t, major = dev >> 20, minor = dev & 0xfffff). It is
	 * the model's window; the inference above is the fallback for captures
	 * without it, and stays the request size the window is split into.
	 * (Until the model charged readahead chunk by chunk, split windows into
	 * requests and reclaimed as the kernel does, the inference was the
	 * better stand-in at 8 MiB; replay/README.md "Readahead window".)
	 */
	if (sqlite3_prepare_v2(db, "SELECT CAST(k.value AS INTEGER) FROM capture_kv k, "
			       "(SELECT dev FROM fault WHERE capture = ?1 AND dev IS NOT NULL "
			       "GROUP BY dev ORDER BY count(*) DESC, dev LIMIT 1) d "
			       "WHERE k.capture = ?1 AND k.section = 'header' AND k.key = 'bdi/' || "
			       "(d.dev >> 20) || ':' || (d.dev & 1048575) || '/read_ahead_kb'", -1,
			       &st, NULL) != SQLITE_OK) {
		sqlerr(&c, "read_ahead_kb");
		goto out;
	}
	sqlite3_bind_int64(st, 1, capture_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t kb = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t pages = kb * 1024 / c.page;

		if (pages && pages <= 1u << 20) {	/* 0 (off) the model cannot express */
			info->ra_header_pages = (uint32_t)pages;
			info->ra_inferred_pages = info->ra_pages;
			in->ra_pages = (uint32_t)pages;
			info->ra_pages = (uint32_t)pages;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (in->nmm == 0)
		in->nmm = 1;
	ret = 0;
out:
	if (st)
		sqlite3_finalize(st);
	for (size_t i = 0; i < c.nprocs; i++)
		fl_mm_release(&c.procs[i].lay);
	free(c.procs);
	for (size_t i = 0; i < c.nts; i++)
		free(c.ts[i].off);
	free(c.ts);
	free(c.files);
	free(c.slots);
	free(raw);
	free(mm_idx);
	free(io_ev);
	return ret;
}

/* ---- page-cache activity (--validate) ---- */

/* An event of thread tid at ts: a page-cache insertion of pages pages, or a switch-out. */
struct tsadd {
	int32_t tid;
	uint64_t ts;
	uint64_t pages;		/* 1 << the folio's order (0: a switch-out) */
};

/* Index of the first event of tid at or after ts in adds[n] (sorted by tid, ts). */
static size_t first_add(const struct tsadd *adds, size_t n, int32_t tid, uint64_t ts)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (adds[mid].tid < tid || (adds[mid].tid == tid && adds[mid].ts < ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The capture's event ids in *first_id..*last_id (an empty range if it has none). */
static int capture_events(sqlite3 *db, int64_t capture_id, int64_t *first_id, int64_t *last_id)
{
	*first_id = 0;
	*last_id = -1;
	return one_row(db, "SELECT coalesce(event_first_id, 0), coalesce(event_last_id, -1) FROM "
		       "capture WHERE id = ?1", capture_id, 0, first_id, last_id);
}

/*
 * The rows of q over the event range (tid, ts and, if q has a third column, the folio's
 * order) appended to *v[*n] as struct tsadd (pages 1 << order, else 0). 0, or -1 on an
 * SQLite error.
 */
static int load_tsadd(sqlite3 *db, const char *q, int64_t first_id, int64_t last_id,
		      struct tsadd **v, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = *n;
	int rc;

	if (prep(db, q, first_id, last_id, &st) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			*v = fl_realloc(*v, cap * sizeof(**v));
		}
		(*v)[*n].tid = sqlite3_column_int(st, 0);
		(*v)[*n].ts = (uint64_t)sqlite3_column_int64(st, 1);
		(*v)[(*n)++].pages = sqlite3_column_count(st) > 2 ?
				     1ULL << sqlite3_column_int(st, 2) : 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int fl_opstream_pc_activity(sqlite3 *db, int64_t capture_id, struct fl_pc_activity *a,
			    struct fl_err *err)
{
	/* event.type (capture/decode.h): 8 FILEMAP_ADD, 9 FILEMAP_DELETE (a3: the folio's
	 * order), 25 SHRINK_INACTIVE (a0 nr_scanned, a1 nr_reclaimed); of each, the last
	 * instance that holds it (a command-mode capture's extra global one sees every task's) */
	static const char *const q_adds =
		"SELECT tid, ts, min(coalesce(a3, 0), 20) FROM event WHERE id BETWEEN ?1 AND ?2 AND "
		"type = 8 AND inst = (SELECT coalesce(max(inst), 0) FROM event WHERE id BETWEEN ?1 "
		"AND ?2 AND type = 8) ORDER BY tid, ts";
	static const char *const q_dels =
		"SELECT coalesce(sum(1 << min(coalesce(a3, 0), 20)), 0) FROM event WHERE id BETWEEN "
		"?1 AND ?2 AND type = 9 AND inst = (SELECT coalesce(max(inst), 0) FROM event WHERE "
		"id BETWEEN ?1 AND ?2 AND type = 9)";
	static const char *const q_shrink =
		"SELECT coalesce(sum(a0), 0), coalesce(sum(a1), 0) FROM event WHERE id BETWEEN ?1 AND "
		"?2 AND type = 25 AND inst = (SELECT coalesce(max(inst), 0) FROM event WHERE id "
		"BETWEEN ?1 AND ?2 AND type = 25)";
	static const char *const q_faults =
		"SELECT tid, start_ns, end_ns FROM fault WHERE capture = ?1 AND major = 1 AND "
		"vma_kind = 'file' AND tgid IS NOT NULL AND unfinished = 0";
	static const char *const q_reads =
		"SELECT complete_ns FROM io WHERE capture = ?1 AND complete_ns IS NOT NULL AND "
		"rwbs LIKE '%R%' ORDER BY complete_ns";
	struct tsadd *adds = NULL;
	uint64_t *wp = NULL, *wb = NULL;
	size_t nadds = 0, nw = 0, nwp = 0;	/* nwp == nw: the windows' pages and build times */
	int64_t first_id, last_id, v[2] = { 0, 0 };
	sqlite3_stmt *st = NULL;
	const char *what = "capture";
	int rc, ret = -1;

	memset(a, 0, sizeof(*a));
	if (capture_events(db, capture_id, &first_id, &last_id) < 0)
		goto sqlfail;

	what = "page-cache insertions";
	if (load_tsadd(db, q_adds, first_id, last_id, &adds, &nadds) < 0)
		goto sqlfail;
	for (size_t i = 0; i < nadds; i++)
		a->inserted += adds[i].pages;

	what = "page-cache deletions";
	if (one_row(db, q_dels, first_id, last_id, &v[0], NULL) < 0)
		goto sqlfail;
	a->evicted = (uint64_t)v[0];
	what = "reclaim batches";
	if (one_row(db, q_shrink, first_id, last_id, &v[0], &v[1]) < 0)
		goto sqlfail;
	a->reclaim_scanned = (uint64_t)v[0];
	a->reclaim_freed = (uint64_t)v[1];

	what = "major faults";
	if (prep(db, q_faults, capture_id, 0, &st) < 0)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t tid = sqlite3_column_int(st, 0);
		uint64_t t0 = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t t1 = (uint64_t)sqlite3_column_int64(st, 2);
		size_t i = first_add(adds, nadds, tid, t0), j = i;
		uint64_t pages = 0;

		for (; j < nadds && adds[j].tid == tid && adds[j].ts <= t1; j++)
			pages += adds[j].pages;
		if (j == i)
			continue;	/* its pages were there: another task's read */
		fl_push_u64(&wp, &nwp, pages);
		fl_push_u64(&wb, &nw, adds[j - 1].ts - adds[i].ts);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto sqlfail;

	what = "block reads";
	if (prep(db, q_reads, capture_id, 0, &st) < 0)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fl_pc_activity_read(a, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	fl_pc_activity_finish(a, wp, wb, nw);
	ret = 0;
	goto out;
sqlfail:
	fl_seterr(err, "cannot read the capture's page-cache activity: %s: %s", what,
		  sqlite3_errmsg(db));
out:
	free(adds);
	free(wp);
	free(wb);
	return ret;
}

int fl_opstream_writer_waits(sqlite3 *db, int64_t capture_id, struct fl_writer_waits *w,
			     struct fl_err *err)
{
	/* event.type 10 SCHED_SWITCH (a0 prev_pid) of the main instance, as load_offcpu reads */
	static const char *const q_outs =
		"SELECT a0, ts FROM event WHERE id BETWEEN ?1 AND ?2 AND type = 10 AND inst = 0 "
		"ORDER BY a0, ts";
	static const char *const q_waits =
		"SELECT tid, start_ns, acquired_ns, holders FROM lock_wait WHERE capture = ?1 AND "
		"write = 1 AND trylock = 0 AND success = 1 AND acquired_ns IS NOT NULL AND "
		"(holders > 0 OR writers_ahead > 0)";
	struct tsadd *outs = NULL;	/* the switch-outs: tid left its CPU at ts */
	size_t nouts = 0;
	int64_t first_id, last_id;
	sqlite3_stmt *st = NULL;
	const char *what = "capture";
	int rc, ret = -1;

	memset(w, 0, sizeof(*w));
	if (capture_events(db, capture_id, &first_id, &last_id) < 0)
		goto sqlfail;
	what = "sched_switch events";
	if (load_tsadd(db, q_outs, first_id, last_id, &outs, &nouts) < 0)
		goto sqlfail;
	what = "lock waits";
	if (prep(db, q_waits, capture_id, 0, &st) < 0)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t tid = sqlite3_column_int(st, 0);
		uint64_t start = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t acq = (uint64_t)sqlite3_column_int64(st, 2);
		size_t lo = first_add(outs, nouts, tid, start);	/* first switch-out from start */

		if (lo < nouts && outs[lo].tid == tid && outs[lo].ts <= acq)
			w->slept++;
		else if (sqlite3_column_int(st, 3) > 0)
			w->spun++;
		else
			w->stole++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto sqlfail;
	ret = 0;
	goto out;
sqlfail:
	fl_seterr(err, "cannot read the capture's writer waits: %s: %s", what,
		  sqlite3_errmsg(db));
	sqlite3_finalize(st);
out:
	free(outs);
	return ret;
}
