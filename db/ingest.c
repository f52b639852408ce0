/*
 * ingest.c - loading one capture into the database.
 *
 * A capture arrives as a struct fl_ingest_src: metadata (header, trailer and
 * snapshot key/value lists, file facts) and a merged event stream in (ts, cpu,
 * per-CPU order). fl_db_ingest() turns it into rows: capture, capture_kv,
 * capture_event_type, cpu_stat, task, maps and event.
 *
 * Invariants:
 *  - One BEGIN IMMEDIATE ... COMMIT per capture; every error path rolls back,
 *    so the database holds either the whole capture or nothing of it.
 *  - The content hash is looked up inside that transaction, so two ingests
 *    of the same file cannot both insert it.
 *  - event.id is assigned here, contiguous per capture, in merge order.
 *  - Events go in through one prepared multi-row INSERT (ROWS_PER_INSERT rows
 *    per step) into a rowid table with no secondary index (the capture's id
 *    range is its index, see schema.sql); the indexes of the schema's
 *    after-load part are created (IF NOT EXISTS) before COMMIT.
 *
 * Workload: millions of events per capture; the per-event work is a handful
 * of binds plus O(1) counter updates (per tep id, per CPU, per tid in an
 * open-addressing hash), so SQLite's B-tree append dominates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/reconstruct.h"

#define ROWS_PER_INSERT		64
#define EVENT_COLS		16	/* bound per row (capture is a literal) */
#define PROGRESS_EVERY		65536	/* events between progress callbacks */
#define MAX_TEP_ID		65536
#define MAX_CPU			65536

/* ---- the tid table ------------------------------------------------------ */

struct task {
	int32_t tid;		/* 0 = empty slot */
	int32_t tgid;		/* -1 = unknown */
	int32_t prio;		/* kernel prio, -1 = unknown */
	int32_t policy;		/* -1 = unknown */
	int32_t parent;		/* forking tid, -1 = unknown */
	bool followed;
	uint64_t events;	/* events emitted by this tid */
	char comm[16];
};

struct tasks {
	struct task *slot;
	size_t n, cap;		/* used slots, slots (a power of two) */
};

static size_t tid_hash(int32_t tid, size_t cap)
{
	return ((uint32_t)tid * 2654435761u) & (cap - 1);
}

static struct task *task_get(struct tasks *t, int32_t tid)
{
	size_t i;

	if (tid <= 0)
		return NULL;
	if (2 * (t->n + 1) > t->cap) {
		struct tasks bigger = { .cap = t->cap ? 2 * t->cap : 1024 };

		bigger.slot = fl_calloc(bigger.cap, sizeof(*bigger.slot));
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->slot[k].tid)
				continue;
			i = tid_hash(t->slot[k].tid, bigger.cap);
			while (bigger.slot[i].tid)
				i = (i + 1) & (bigger.cap - 1);
			bigger.slot[i] = t->slot[k];
		}
		bigger.n = t->n;
		free(t->slot);
		*t = bigger;
	}
	i = tid_hash(tid, t->cap);
	while (t->slot[i].tid && t->slot[i].tid != tid)
		i = (i + 1) & (t->cap - 1);
	if (!t->slot[i].tid) {
		struct task *k = &t->slot[i];

		k->tid = tid;
		k->tgid = k->prio = k->policy = k->parent = -1;
		t->n++;
	}
	return &t->slot[i];
}

/* The task with that tid, or NULL; never inserts. */
static struct task *task_find(const struct tasks *t, int32_t tid)
{
	size_t i;

	if (tid <= 0 || !t->cap)
		return NULL;
	for (i = tid_hash(tid, t->cap); t->slot[i].tid; i = (i + 1) & (t->cap - 1))
		if (t->slot[i].tid == tid)
			return &t->slot[i];
	return NULL;
}

static void task_comm(struct tasks *t, int32_t tid, const char *comm)
{
	struct task *k;

	if (!comm[0] || !(k = task_get(t, tid)))
		return;
	memcpy(k->comm, comm, sizeof(k->comm));
	k->comm[sizeof(k->comm) - 1] = 0;
}

/* ---- the ingest state ---------------------------------------------------- */

struct ingest {
	struct fl_db *db;
	sqlite3 *sql;
	const struct fl_ingest_src *src;
	struct fl_err *err;
	int64_t capture;
	bool system_mode;	/* -a: every task is followed */
	sqlite3_stmt *ins_many, *ins_one;
	struct fl_recon_db *recon;	/* fed as events are decoded (issue 3) */
	struct fl_event buf[ROWS_PER_INSERT];
	uint8_t inst[ROWS_PER_INSERT];	/* instance of each buffered event */
	int nbuf;
	int64_t next_id, first_id;
	uint64_t nevents;
	uint64_t first_ts, last_ts;
	uint64_t *per_tep;	/* [MAX_TEP_ID] events per tep id */
	uint64_t *per_cpu;	/* [MAX_CPU] events per CPU */
	int max_cpu;		/* highest CPU seen, -1 none */
	struct tasks tasks;
	long *maps_pids;	/* processes whose maps were stored already */
	size_t nmaps_pids;
};

static int sqlerr(struct ingest *in, const char *what)
{
	return fl_seterr(in->err, "database '%s': %s: %s", fl_db_path(in->db), what,
			 sqlite3_errmsg(in->sql));
}

static int exec(struct ingest *in, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(in->sql, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_seterr(in->err, "database '%s': %s", fl_db_path(in->db),
			  msg ? msg : sqlite3_errmsg(in->sql));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prepare(struct ingest *in, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(in->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return sqlerr(in, "prepare");
	return 0;
}

/* Steps a statement to DONE and resets it; -1 with err set otherwise. */
static int step_done(struct ingest *in, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return sqlerr(in, what);
	return 0;
}

static void bind_str_or_null(sqlite3_stmt *st, int col, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

static void bind_kv_str(sqlite3_stmt *st, int col, const struct fl_kv *kv, const char *key)
{
	bind_str_or_null(st, col, kv ? fl_kv_getstr(kv, key) : NULL);
}

static void bind_kv_int(sqlite3_stmt *st, int col, const struct fl_kv *kv, const char *key)
{
	const char *s = kv ? fl_kv_getstr(kv, key) : NULL;
	char *end;
	long long v;

	if (!s || !*s) {
		sqlite3_bind_null(st, col);
		return;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE && *s != '-')
		v = (long long)strtoull(s, &end, 10);	/* u64 beyond i64: two's complement */
	if (*end)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

/* Number of a[] fields each type carries (the rest bind as NULL); see decode.h. */
static const uint8_t nargs[FL_EV__COUNT] = {
	[FL_EV_PF_USER] = 3, [FL_EV_PF_KERNEL] = 3,
	[FL_EV_MMAP_LOCK_START] = 3, [FL_EV_MMAP_LOCK_ACQUIRED] = 4, [FL_EV_MMAP_LOCK_RELEASED] = 3,
	[FL_EV_FILEMAP_FAULT] = 3, [FL_EV_FILEMAP_MAP_PAGES] = 4,
	[FL_EV_FILEMAP_ADD] = 5, [FL_EV_FILEMAP_DELETE] = 5,
	[FL_EV_SCHED_SWITCH] = 5, [FL_EV_SCHED_WAKING] = 3, [FL_EV_SCHED_FORK] = 2,
	[FL_EV_SCHED_EXIT] = 2, [FL_EV_SCHED_EXEC] = 2,
	[FL_EV_BLOCK_RQ_ISSUE] = 4, [FL_EV_BLOCK_RQ_COMPLETE] = 4,
	[FL_EV_MEMCG_RECLAIM_BEGIN] = 2, [FL_EV_MEMCG_RECLAIM_END] = 1,
	[FL_EV_DIRECT_RECLAIM_BEGIN] = 2, [FL_EV_DIRECT_RECLAIM_END] = 1,
	[FL_EV_SYS_ENTER] = 6, [FL_EV_SYS_EXIT] = 1,
	[FL_EV_LOCK_CONTENTION_BEGIN] = 2, [FL_EV_LOCK_CONTENTION_END] = 2,
	[FL_EV_SHRINK_INACTIVE] = 6,
};

static void bind_event(sqlite3_stmt *st, int base, int64_t id, const struct fl_event *ev,
		       int inst)
{
	int n = ev->type < FL_EV__COUNT ? nargs[ev->type] : 0;

	sqlite3_bind_int64(st, base + 1, id);
	sqlite3_bind_int64(st, base + 2, (int64_t)ev->ts);
	sqlite3_bind_int(st, base + 3, ev->cpu);
	sqlite3_bind_int(st, base + 4, ev->tid);
	sqlite3_bind_int(st, base + 5, inst);
	sqlite3_bind_int(st, base + 6, ev->type);
	if (ev->sys)
		sqlite3_bind_int(st, base + 7, ev->sys);
	else
		sqlite3_bind_null(st, base + 7);
	if (ev->type == FL_EV_OTHER)
		sqlite3_bind_int(st, base + 8, ev->tep_id);
	else
		sqlite3_bind_null(st, base + 8);
	for (int i = 0; i < 6; i++) {
		if (i < n)
			sqlite3_bind_int64(st, base + 9 + i, ev->a[i]);
		else
			sqlite3_bind_null(st, base + 9 + i);
	}
	/* comm is NUL-terminated within 16 bytes; the buffer lives until the step. */
	if (ev->comm[0])
		sqlite3_bind_text(st, base + 15, ev->comm, strnlen(ev->comm, 16), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, base + 15);
	if (ev->comm2[0])
		sqlite3_bind_text(st, base + 16, ev->comm2, strnlen(ev->comm2, 16), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, base + 16);
}

static int flush_events(struct ingest *in)
{
	if (in->nbuf == ROWS_PER_INSERT) {
		for (int r = 0; r < ROWS_PER_INSERT; r++)
			bind_event(in->ins_many, r * EVENT_COLS, in->next_id + r, &in->buf[r],
				   in->inst[r]);
		if (sqlite3_step(in->ins_many) != SQLITE_DONE) {
			sqlite3_reset(in->ins_many);
			return sqlerr(in, "insert events");
		}
		sqlite3_reset(in->ins_many);
		in->next_id += ROWS_PER_INSERT;
	} else {
		for (int r = 0; r < in->nbuf; r++) {
			bind_event(in->ins_one, 0, in->next_id, &in->buf[r], in->inst[r]);
			if (step_done(in, in->ins_one, "insert event"))
				return -1;
			in->next_id++;
		}
	}
	in->nbuf = 0;
	return 0;
}

/*
 * Whether an event ran in the context of the task it names: the tid of a
 * sched_switch or sched_waking is whoever was running, not necessarily a task
 * the capture follows (the pid filter lets through switches *to* a followed
 * task), so those types do not make their tid followed.
 */
static bool own_context(uint16_t type)
{
	return type != FL_EV_SCHED_SWITCH && type != FL_EV_SCHED_WAKING &&
	       type != FL_EV_BLOCK_RQ_COMPLETE && type != FL_EV_OTHER;
}

/* Per-event bookkeeping: counters, tasks, names. */
static void account(struct ingest *in, const struct fl_event *ev, int inst)
{
	struct task *k;

	if (!in->nevents)
		in->first_ts = ev->ts;
	in->last_ts = ev->ts;
	in->nevents++;
	in->per_tep[ev->tep_id]++;
	in->per_cpu[ev->cpu]++;
	if (ev->cpu > in->max_cpu)
		in->max_cpu = ev->cpu;
	if ((k = task_get(&in->tasks, ev->tid))) {
		k->events++;
		if (in->system_mode || (inst == 0 && own_context(ev->type)))
			k->followed = true;
	}
	switch (ev->type) {
	case FL_EV_SCHED_SWITCH:
		task_comm(&in->tasks, (int32_t)ev->a[0], ev->comm);
		task_comm(&in->tasks, (int32_t)ev->a[3], ev->comm2);
		if ((k = task_get(&in->tasks, (int32_t)ev->a[0])))
			k->prio = (int32_t)ev->a[1];
		if ((k = task_get(&in->tasks, (int32_t)ev->a[3])))
			k->prio = (int32_t)ev->a[4];
		break;
	case FL_EV_SCHED_WAKING:
		task_comm(&in->tasks, (int32_t)ev->a[0], ev->comm);
		if ((k = task_get(&in->tasks, (int32_t)ev->a[0])))
			k->prio = (int32_t)ev->a[1];
		break;
	case FL_EV_SCHED_FORK:
		task_comm(&in->tasks, (int32_t)ev->a[0], ev->comm);
		task_comm(&in->tasks, (int32_t)ev->a[1], ev->comm2);
		if ((k = task_get(&in->tasks, (int32_t)ev->a[1]))) {
			k->parent = (int32_t)ev->a[0];
			/* A followed parent's child is followed (the pid filter follows forks). */
			struct task *p = task_get(&in->tasks, (int32_t)ev->a[0]);
			if (p && inst == 0 && (p->followed || in->system_mode))
				k->followed = true;
		}
		break;
	case FL_EV_SCHED_EXIT:
		task_comm(&in->tasks, (int32_t)ev->a[0], ev->comm);
		if ((k = task_get(&in->tasks, (int32_t)ev->a[0])))
			k->prio = (int32_t)ev->a[1];
		break;
	default:
		break;
	}
}

/* ---- metadata ------------------------------------------------------------- */

/* "a\0b\0c" -> "a b c" (the header stores argv NUL-separated). */
static char *join_cmdline(const struct fl_kv *h)
{
	const struct fl_kv_item *it = h ? fl_kv_find(h, "cmdline") : NULL;
	char *s;
	size_t n;

	if (!it || !it->len)
		return NULL;
	n = it->len;
	while (n && !it->val[n - 1])
		n--;
	s = fl_malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = it->val[i] ? it->val[i] : ' ';
	s[n] = 0;
	return s;
}

static int insert_capture(struct ingest *in, const char *hash)
{
	const struct fl_ingest_src *src = in->src;
	const struct fl_kv *h = src->header, *t = src->trailer;
	sqlite3_stmt *st = NULL;
	struct timespec now;
	char *cmdline = join_cmdline(h);
	int ret = -1;

	if (prepare(in, "INSERT INTO capture(content_hash, path, format, size_bytes, "
		    "ingested_realtime_ns, uname_sysname, uname_release, uname_version, "
		    "uname_machine, uname_nodename, arch, long_size, big_endian, page_size, cpus, "
		    "clock, start_realtime_ns, start_trace_ns, end_realtime_ns, end_trace_ns, "
		    "cmdline, mode, buffer_kb, memcg_path, memcg_limit_bytes, exit_status, "
		    "complete, truncated, bytes_lost, events, events_lost) VALUES (?1, ?2, ?3, "
		    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
		    "?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, 0, 0)", &st))
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, src->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, src->format, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (int64_t)src->size);
	sqlite3_bind_int64(st, 5, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	bind_kv_str(st, 6, h, "uname.sysname");
	bind_kv_str(st, 7, h, "uname.release");
	bind_kv_str(st, 8, h, "uname.version");
	bind_kv_str(st, 9, h, "uname.machine");
	bind_kv_str(st, 10, h, "uname.nodename");
	bind_kv_str(st, 11, h, "arch");
	bind_kv_int(st, 12, h, "long_size");
	bind_kv_int(st, 13, h, "big_endian");
	bind_kv_int(st, 14, h, "page_size");
	bind_kv_int(st, 15, h, "cpus");
	bind_kv_str(st, 16, h, "clock");
	bind_kv_int(st, 17, h, "start.realtime_ns");
	bind_kv_int(st, 18, h, "start.trace_ns");
	bind_kv_int(st, 19, t, "end.realtime_ns");
	bind_kv_int(st, 20, t, "end.trace_ns");
	bind_str_or_null(st, 21, cmdline);
	/* A trace.dat has no mode: it holds whatever its buffers recorded, so "system". */
	if (!fl_kv_getstr(h, "mode") && !strcmp(src->format, "trace.dat"))
		sqlite3_bind_text(st, 22, "system", -1, SQLITE_STATIC);
	else
		bind_kv_str(st, 22, h, "mode");
	bind_kv_int(st, 23, h, "buffer_kb");
	/*
	 * The memory cgroup the work ran in: a command that moves itself into
	 * a cgroup after it starts (tests/workloads/run-in-memcg.sh, systemd-run
	 * inside a script) shows its limit only in later snapshots and the
	 * trailer; the header then names the parent. The model's page-cache
	 * capacity comes from here.
	 */
	{
		const struct fl_kv *m = h;

		if (!fl_kv_find(h, "memcg.limit_bytes")) {
			if (t && fl_kv_find(t, "memcg.limit_bytes"))
				m = t;
			for (size_t i = src->nsnapshots; m == h && i-- > 0;)
				if (fl_kv_find(src->snapshots[i], "memcg.limit_bytes"))
					m = src->snapshots[i];
		}
		bind_kv_str(st, 24, m, "memcg.path");
		bind_kv_int(st, 25, m, "memcg.limit_bytes");
	}
	bind_kv_int(st, 26, t, "exit_status");
	sqlite3_bind_int(st, 27, src->complete);
	sqlite3_bind_int(st, 28, src->truncated);
	sqlite3_bind_int64(st, 29, (int64_t)src->bytes_lost);
	if (step_done(in, st, "insert capture"))
		goto out;
	in->capture = sqlite3_last_insert_rowid(in->sql);
	ret = 0;
out:
	sqlite3_finalize(st);
	free(cmdline);
	return ret;
}

static int insert_kv(struct ingest *in, sqlite3_stmt *st, const char *section,
		     const struct fl_kv *kv)
{
	if (!kv)
		return 0;
	for (size_t i = 0; i < kv->n; i++) {
		const struct fl_kv_item *it = &kv->items[i];

		sqlite3_bind_int64(st, 1, in->capture);
		sqlite3_bind_text(st, 2, section, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, it->key, -1, SQLITE_STATIC);
		if (memchr(it->val, 0, it->len))
			sqlite3_bind_blob(st, 4, it->val, (int)it->len, SQLITE_STATIC);
		else
			sqlite3_bind_text(st, 4, it->val, (int)it->len, SQLITE_STATIC);
		/* A key repeated within one section keeps its first value. */
		if (step_done(in, st, "insert capture_kv"))
			return -1;
	}
	return 0;
}

/* One "tid tgid prio policy comm" line per task (comm may hold spaces). */
static void load_tasks(struct ingest *in, const struct fl_kv *kv)
{
	const char *s = kv ? fl_kv_getstr(kv, "tasks") : NULL;

	while (s && *s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		char line[256];
		int tid, tgid, prio, policy, off = 0;

		snprintf(line, sizeof(line), "%.*s", (int)len, s);
		if (sscanf(line, "%d %d %d %d %n", &tid, &tgid, &prio, &policy, &off) == 4 &&
		    off > 0) {
			struct task *k = task_get(&in->tasks, tid);

			if (k) {
				k->tgid = tgid;
				k->prio = prio;
				k->policy = policy;
				k->followed = true;
				task_comm(&in->tasks, tid, line + off);
			}
		}
		s = eol ? eol + 1 : NULL;
	}
}

/*
 * The trailer's copies of the kernel's saved_tgids ("pid tgid" lines) and
 * saved_cmdlines ("pid comm" lines) name tasks the snapshots missed; they
 * never make a task followed.
 */
static void load_saved(struct ingest *in, const struct fl_kv *kv)
{
	const char *s;

	for (int pass = 0; pass < 2; pass++) {
		s = kv ? fl_kv_getstr(kv, pass ? "saved_cmdlines" : "saved_tgids") : NULL;
		while (s && *s) {
			const char *eol = strchr(s, '\n');
			size_t len = eol ? (size_t)(eol - s) : strlen(s);
			char line[128];
			int pid, tgid, off = 0;
			struct task *k;

			snprintf(line, sizeof(line), "%.*s", (int)len, s);
			if (!pass && sscanf(line, "%d %d", &pid, &tgid) == 2) {
				/* Only tasks that appear in the trace are worth a row. */
				if (pid > 0 && (k = task_get(&in->tasks, pid)) && k->tgid < 0)
					k->tgid = tgid;
			} else if (pass && sscanf(line, "%d %n", &pid, &off) == 1 && off > 0) {
				k = task_get(&in->tasks, pid);
				if (k && !k->comm[0])
					task_comm(&in->tasks, pid, line + off);
			}
			s = eol ? eol + 1 : NULL;
		}
	}
}

static int insert_maps(struct ingest *in, sqlite3_stmt *st, const struct fl_kv *kv,
		       const char *taken)
{
	int64_t when;

	if (!kv)
		return 0;
	when = (int64_t)fl_kv_getu64(kv, "time.trace_ns", (uint64_t)-1);
	if (!strcmp(taken, "start"))
		when = (int64_t)fl_kv_getu64(kv, "start.trace_ns", (uint64_t)-1);
	for (size_t i = 0; i < kv->n; i++) {
		const struct fl_kv_item *it = &kv->items[i];
		const char *s = it->val;
		long pid;

		if (strncmp(it->key, "maps/", 5))
			continue;
		pid = strtol(it->key + 5, NULL, 10);
		/*
		 * A snapshot holds a process's maps only when they changed, so
		 * the first one that has a pid holds its maps at start.
		 */
		const char *label = taken;
		if (strcmp(taken, "end")) {
			size_t k;

			for (k = 0; k < in->nmaps_pids && in->maps_pids[k] != pid; k++)
				;
			if (k == in->nmaps_pids) {
				in->maps_pids = fl_realloc(in->maps_pids,
							   (k + 1) * sizeof(*in->maps_pids));
				in->maps_pids[in->nmaps_pids++] = pid;
				label = "start";
			}
		}
		while (s && *s) {
			const char *eol = strchr(s, '\n');
			size_t len = eol ? (size_t)(eol - s) : strlen(s);
			char line[4352], perms[8], dev[32];
			unsigned long long start, end, off, ino;
			int n = 0;

			snprintf(line, sizeof(line), "%.*s", (int)len, s);
			s = eol ? eol + 1 : NULL;
			if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &off,
				   dev, &ino, &n) < 6)
				continue;
			char *path = line + n;
			size_t pl = strlen(path);

			while (pl && (path[pl - 1] == ' ' || path[pl - 1] == '\r'))
				path[--pl] = 0;
			sqlite3_bind_int64(st, 1, in->capture);
			sqlite3_bind_int64(st, 2, pid);
			sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
			if (when >= 0)
				sqlite3_bind_int64(st, 4, when);
			else
				sqlite3_bind_null(st, 4);
			sqlite3_bind_int64(st, 5, (int64_t)start);
			sqlite3_bind_int64(st, 6, (int64_t)end);
			sqlite3_bind_text(st, 7, perms, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 8, (int64_t)off);
			sqlite3_bind_text(st, 9, dev, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 10, (int64_t)ino);
			bind_str_or_null(st, 11, path);
			if (step_done(in, st, "insert maps"))
				return -1;
		}
	}
	return 0;
}

static int insert_metadata(struct ingest *in)
{
	const struct fl_ingest_src *src = in->src;
	sqlite3_stmt *kv = NULL, *maps = NULL;
	char section[32];
	int ret = -1;

	if (prepare(in, "INSERT OR IGNORE INTO capture_kv(capture, section, key, value) "
		    "VALUES (?, ?, ?, ?)", &kv) ||
	    prepare(in, "INSERT INTO maps(capture, pid, taken, time_ns, start, end, perms, offset, "
		    "dev, inode, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &maps))
		goto out;
	if (insert_kv(in, kv, "header", src->header) || insert_kv(in, kv, "trailer", src->trailer))
		goto out;
	if (insert_maps(in, maps, src->header, "start") || insert_maps(in, maps, src->trailer, "end"))
		goto out;
	load_tasks(in, src->header);
	for (size_t i = 0; i < src->nsnapshots; i++) {
		snprintf(section, sizeof(section), "snapshot.%zu", i);
		if (insert_kv(in, kv, section, src->snapshots[i]) ||
		    insert_maps(in, maps, src->snapshots[i], "snapshot"))
			goto out;
		load_tasks(in, src->snapshots[i]);
	}
	load_tasks(in, src->trailer);
	ret = 0;
out:
	sqlite3_finalize(kv);
	sqlite3_finalize(maps);
	return ret;
}

/* The tep id of an enabled event, from the "ID: N" line of its stored format text. */
static int format_id(const struct fl_kv *h, const char *sysname)
{
	char key[300];
	const char *fmt, *p;

	snprintf(key, sizeof(key), "format/%s", sysname);
	for (char *c = key + 7; *c; c++)
		if (*c == ':')
			*c = '/';
	fmt = fl_kv_getstr(h, key);
	if (!fmt || !(p = strstr(fmt, "\nID: ")))
		return -1;
	return atoi(p + 5);
}

static int insert_event_types(struct ingest *in)
{
	const struct fl_ingest_src *src = in->src;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (prepare(in, "INSERT OR IGNORE INTO capture_event_type(capture, system, name, tep_id, "
		    "enabled, events) VALUES (?, ?, ?, ?, ?, ?)", &st))
		goto out;
	for (int enabled = 1; enabled >= 0; enabled--) {
		const char *s = fl_kv_getstr(src->header, enabled ? "events.enabled"
								    : "events.missing");

		while (s && *s) {
			const char *eol = strchr(s, '\n');
			size_t len = eol ? (size_t)(eol - s) : strlen(s);
			char line[256], *colon;
			int id;

			snprintf(line, sizeof(line), "%.*s", (int)len, s);
			s = eol ? eol + 1 : NULL;
			if (!(colon = strchr(line, ':')))
				continue;
			id = enabled ? format_id(src->header, line) : -1;
			*colon = 0;
			sqlite3_bind_int64(st, 1, in->capture);
			sqlite3_bind_text(st, 2, line, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, colon + 1, -1, SQLITE_TRANSIENT);
			if (id >= 0)
				sqlite3_bind_int(st, 4, id);
			else
				sqlite3_bind_null(st, 4);
			sqlite3_bind_int(st, 5, enabled);
			sqlite3_bind_int64(st, 6, id >= 0 && id < MAX_TEP_ID ?
					   (int64_t)in->per_tep[id] : 0);
			if (step_done(in, st, "insert capture_event_type"))
				goto out;
			if (id >= 0 && id < MAX_TEP_ID)
				in->per_tep[id] = 0;	/* counted */
		}
	}
	/* Events whose type the header did not list (a trace.dat, say): name them if we can. */
	for (int id = 0; id < MAX_TEP_ID; id++) {
		const char *name;
		char sysname[256], *colon;

		if (!in->per_tep[id])
			continue;
		name = src->event_name ? src->event_name(src->arg, id) : NULL;
		if (name)
			snprintf(sysname, sizeof(sysname), "%s", name);
		else
			snprintf(sysname, sizeof(sysname), "unknown:id_%d", id);
		if (!(colon = strchr(sysname, ':')))
			continue;
		*colon = 0;
		sqlite3_bind_int64(st, 1, in->capture);
		sqlite3_bind_text(st, 2, sysname, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, colon + 1, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, id);
		sqlite3_bind_int(st, 5, 1);
		sqlite3_bind_int64(st, 6, (int64_t)in->per_tep[id]);
		if (step_done(in, st, "insert capture_event_type"))
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * Events the trailer says were lost on a CPU: its lost/N keys are per stream,
 * and the header's stream/N = "cpu C instance NAME" says which CPU stream N
 * read (no streams key: stream N is CPU N).
 */
static uint64_t trailer_lost(const struct fl_kv *h, const struct fl_kv *t, int cpu)
{
	uint64_t n = 0, nstreams;
	char key[32];

	if (!t)
		return 0;
	nstreams = fl_kv_getu64(h, "streams", 0);
	if (!nstreams) {
		snprintf(key, sizeof(key), "lost/%d", cpu);
		return fl_kv_getu64(t, key, 0);
	}
	for (uint64_t s = 0; s < nstreams && s < 65536; s++) {
		const char *v;
		int scpu;

		snprintf(key, sizeof(key), "stream/%llu", (unsigned long long)s);
		v = fl_kv_getstr(h, key);
		if (!v || sscanf(v, "cpu %d", &scpu) != 1 || scpu != cpu)
			continue;
		snprintf(key, sizeof(key), "lost/%llu", (unsigned long long)s);
		n += fl_kv_getu64(t, key, 0);
	}
	return n;
}

static int insert_cpu_stats(struct ingest *in, uint64_t *lost_total)
{
	const struct fl_ingest_src *src = in->src;
	sqlite3_stmt *st = NULL;
	int ncpu = (int)fl_kv_getu64(src->header, "cpus", 0);
	int ret = -1;

	*lost_total = 0;
	if (in->max_cpu + 1 > ncpu)
		ncpu = in->max_cpu + 1;
	if (ncpu > MAX_CPU)
		ncpu = MAX_CPU;
	if (prepare(in, "INSERT INTO cpu_stat(capture, cpu, events, lost) VALUES (?, ?, ?, ?)", &st))
		goto out;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		/* The trailer's per-CPU stats and the sub-buffer headers see overlapping losses. */
		uint64_t lost = trailer_lost(src->header, src->trailer, cpu);
		uint64_t dlost = src->lost ? src->lost(src->arg, cpu) : 0;

		if (dlost > lost)
			lost = dlost;
		*lost_total += lost;
		sqlite3_bind_int64(st, 1, in->capture);
		sqlite3_bind_int(st, 2, cpu);
		sqlite3_bind_int64(st, 3, (int64_t)in->per_cpu[cpu]);
		sqlite3_bind_int64(st, 4, (int64_t)lost);
		if (step_done(in, st, "insert cpu_stat"))
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int insert_tasks(struct ingest *in)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (prepare(in, "INSERT INTO task(capture, tid, tgid, comm, prio, policy, parent, followed, "
		    "events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st))
		goto out;
	/*
	 * Threads of a followed process are followed; tgid may come from
	 * saved_tgids. The followed processes go into a set keyed by tgid
	 * first: a system-wide global instance can name thousands of tasks.
	 */
	struct tasks followed_tgids = { 0 };

	for (size_t i = 0; i < in->tasks.cap; i++) {
		struct task *k = &in->tasks.slot[i];

		if (k->tid && k->followed && k->tgid > 0)
			task_get(&followed_tgids, k->tgid);
	}
	for (size_t i = 0; i < in->tasks.cap; i++) {
		struct task *k = &in->tasks.slot[i];

		if (k->tid && k->tgid > 0 && !k->followed && task_find(&followed_tgids, k->tgid))
			k->followed = true;
	}
	free(followed_tgids.slot);
	for (size_t i = 0; i < in->tasks.cap; i++) {
		struct task *k = &in->tasks.slot[i];

		if (!k->tid)
			continue;
		sqlite3_bind_int64(st, 1, in->capture);
		sqlite3_bind_int(st, 2, k->tid);
		if (k->tgid > 0)
			sqlite3_bind_int(st, 3, k->tgid);
		bind_str_or_null(st, 4, k->comm);
		if (k->prio >= 0)
			sqlite3_bind_int(st, 5, k->prio);
		if (k->policy >= 0)
			sqlite3_bind_int(st, 6, k->policy);
		if (k->parent > 0)
			sqlite3_bind_int(st, 7, k->parent);
		sqlite3_bind_int(st, 8, in->system_mode || k->followed);
		sqlite3_bind_int64(st, 9, (int64_t)k->events);
		if (step_done(in, st, "insert task"))
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int finish_capture(struct ingest *in, uint64_t lost, const struct fl_buf *warn,
			  const struct fl_ingest_stats *fs)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (prepare(in, "UPDATE capture SET events = ?, events_lost = ?, first_event_ns = ?, "
		    "last_event_ns = ?, event_first_id = ?, event_last_id = ?, warnings = ?, "
		    "complete = ?, truncated = ?, bytes_lost = ? WHERE id = ?", &st))
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)in->nevents);
	sqlite3_bind_int64(st, 2, (int64_t)lost);
	if (in->nevents) {
		sqlite3_bind_int64(st, 3, (int64_t)in->first_ts);
		sqlite3_bind_int64(st, 4, (int64_t)in->last_ts);
		sqlite3_bind_int64(st, 5, in->first_id);
		sqlite3_bind_int64(st, 6, in->next_id - 1);
	}
	if (warn->len)
		sqlite3_bind_text(st, 7, warn->data, (int)warn->len, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, fs->complete);
	sqlite3_bind_int(st, 9, fs->truncated);
	sqlite3_bind_int64(st, 10, (int64_t)fs->bytes_lost);
	sqlite3_bind_int64(st, 11, in->capture);
	if (step_done(in, st, "update capture"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static char *insert_sql(int rows, int64_t capture)
{
	struct fl_buf b = { 0 };

	fl_buf_addstr(&b, "INSERT INTO event(id, capture, ts, cpu, tid, inst, type, sys, tep_id, "
		      "a0, a1, a2, a3, a4, a5, comm, comm2) VALUES ");
	for (int r = 0; r < rows; r++)
		fl_buf_addf(&b, "%s(?,%lld,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", r ? "," : "",
			    (long long)capture);
	return b.data;
}

/* The id the capture's first event gets: after every event already stored. */
static int next_event_id(struct ingest *in)
{
	sqlite3_stmt *q = NULL;

	if (prepare(in, "SELECT coalesce(max(id), 0) + 1 FROM event", &q))
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		in->first_id = in->next_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (!in->first_id)
		return sqlerr(in, "read the last event id");
	return 0;
}

/* Looks the hash up; 1 and *id if present, 0 if not, -1 on error. */
static int find_hash(struct ingest *in, const char *hash, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (prepare(in, "SELECT id FROM capture WHERE content_hash = ?", &st))
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		sqlerr(in, "look up the content hash");
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * Progress in file bytes, estimated from the merge position: events arrive in
 * time order, so the fraction of the capture's time span already passed is
 * about the fraction of the file already decoded.
 */
static void progress(struct ingest *in, const struct fl_ingest_opts *opts, uint64_t t_start,
		     uint64_t t_end, uint64_t ts)
{
	uint64_t done = 0;

	if (!opts || !opts->progress)
		return;
	if (t_end > t_start && ts > t_start)
		done = ts >= t_end ? in->src->size
				   : (uint64_t)((double)(ts - t_start) / (t_end - t_start) *
						in->src->size);
	opts->progress(opts->progress_arg, done, in->src->size);
}

static int load_events(struct ingest *in, const struct fl_ingest_opts *opts)
{
	const struct fl_ingest_src *src = in->src;
	uint64_t t_start = fl_kv_getu64(src->header, "start.trace_ns", 0);
	uint64_t t_end = src->trailer ? fl_kv_getu64(src->trailer, "end.trace_ns", 0) : 0;
	struct fl_event *ev;
	int rc;

	for (;;) {
		ev = &in->buf[in->nbuf];
		rc = src->next(src->arg, ev, in->err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (ev->type >= FL_EV__COUNT)
			ev->type = FL_EV_OTHER;
		in->inst[in->nbuf] = src->instance ? (uint8_t)src->instance(src->arg) : 0;
		account(in, ev, in->inst[in->nbuf]);
		/* issue 3: reconstruct as we go, rather than reading the events back; in
		 * system mode (and a trace.dat) every buffer holds recorded tasks */
		if (in->recon && fl_recon_db_feed(in->recon, ev, in->system_mode ? 0 : in->inst[in->nbuf],
				     in->err) < 0)
			return -1;
		if (++in->nbuf == ROWS_PER_INSERT && flush_events(in))
			return -1;
		if (opts && opts->fail_after && in->nevents >= opts->fail_after)
			return fl_seterr(in->err, "ingest of '%s' stopped after %llu events "
					 "(test hook fail_after)", src->path,
					 (unsigned long long)in->nevents);
		if (!(in->nevents % PROGRESS_EVERY))
			progress(in, opts, t_start, t_end, ev->ts);
	}
	if (flush_events(in))
		return -1;
	progress(in, opts, t_start, t_end, t_end ? t_end : in->last_ts);
	return 0;
}

static void collect_warnings(const struct fl_ingest_src *src, struct fl_ingest_stats *st)
{
	size_t n = src->nwarnings ? src->nwarnings(src->arg) : 0;

	for (size_t i = 0; i < n; i++) {
		fl_buf_addstr(&st->warnings, src->warning(src->arg, i));
		fl_buf_addstr(&st->warnings, "\n");
	}
	st->nwarnings = n;
}

int fl_db_ingest(struct fl_db *db, const struct fl_ingest_src *src,
		 const struct fl_ingest_opts *opts, struct fl_ingest_stats *st, struct fl_err *err)
{
	struct ingest in = {
		.db = db, .sql = fl_db_sqlite(db), .src = src, .err = err, .max_cpu = -1,
	};
	char hash[17], *sql;
	uint64_t t0 = fl_now_ns(), lost;
	int found, ret = -1;

	memset(st, 0, sizeof(*st));
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)src->content_hash);
	in.system_mode = !fl_kv_getstr(src->header, "mode") ||
			 strcmp(fl_kv_getstr(src->header, "mode"), "command") != 0;
	if (exec(&in, "BEGIN IMMEDIATE"))
		return -1;
	found = find_hash(&in, hash, &st->capture_id);
	if (found < 0)
		goto out_rollback;
	if (found) {
		st->already = true;
		ret = 0;
		goto out_rollback;
	}
	in.per_tep = fl_calloc(MAX_TEP_ID, sizeof(*in.per_tep));
	in.per_cpu = fl_calloc(MAX_CPU, sizeof(*in.per_cpu));
	in.first_id = in.next_id = 0;
	if (next_event_id(&in) || insert_capture(&in, hash) || insert_metadata(&in))
		goto out_free;
	/* The capture id is a literal of the statements: one bind less per row. */
	sql = insert_sql(ROWS_PER_INSERT, in.capture);
	ret = prepare(&in, sql, &in.ins_many);
	free(sql);
	if (!ret) {
		sql = insert_sql(1, in.capture);
		ret = prepare(&in, sql, &in.ins_one);
		free(sql);
	}
	if (!ret && !(opts && opts->no_reconstruct) &&
	    !(in.recon = fl_recon_db_begin(in.sql, in.capture, err)))
		ret = -1;
	if (ret || load_events(&in, opts)) {
		ret = -1;
		goto out_free;
	}
	ret = -1;
	collect_warnings(src, st);
	st->complete = src->complete;
	st->truncated = src->truncated;
	st->bytes_lost = src->bytes_lost;
	if (src->status)
		src->status(src->arg, &st->complete, &st->truncated, &st->bytes_lost);
	load_saved(&in, src->trailer);
	if (insert_event_types(&in) || insert_cpu_stats(&in, &lost) || insert_tasks(&in) ||
	    finish_capture(&in, lost, &st->warnings, st))
		goto out_free;
	/* issue 3: fault, lock_wait, writer_op, io (same transaction) */
	if (in.recon && fl_recon_db_end(in.recon, lost, NULL, err) < 0) {
		in.recon = NULL;
		fl_preferr(err, "cannot reconstruct faults of '%s'", src->path);
		goto out_free;
	}
	in.recon = NULL;
	if (exec(&in, fl_db_schema_after_load()) || exec(&in, "COMMIT"))
		goto out_free;
	st->capture_id = in.capture;
	st->events = in.nevents;
	st->events_lost = lost;
	ret = 0;
out_free:
	fl_recon_db_abort(in.recon);
	sqlite3_finalize(in.ins_many);
	sqlite3_finalize(in.ins_one);
	free(in.per_tep);
	free(in.per_cpu);
	free(in.tasks.slot);
	free(in.maps_pids);
	if (!ret)
		goto out;
out_rollback:
	/* Also for "already ingested": nothing was written, release the lock. */
	if (sqlite3_get_autocommit(in.sql) == 0)
		sqlite3_exec(in.sql, "ROLLBACK", NULL, NULL, NULL);
out:
	st->elapsed_ns = fl_now_ns() - t0;
	return ret;
}

/* ---- sources: capture files --------------------------------------------- */

struct file_src {
	struct fl_flc_reader *reader;
	struct fl_decoder *dec;
	const struct fl_kv **snaps;
	struct fl_kv tracedat_header;
	uint8_t *stream_inst;	/* [nstreams] instance index of each stream */
	int nstreams;
	char **warn;		/* warnings for the ingest, see build_warnings() */
	size_t nwarn;
	bool warnings_built;
};

static void add_warning(struct file_src *f, char *w)
{
	f->warn = fl_realloc(f->warn, (f->nwarn + 1) * sizeof(*f->warn));
	f->warn[f->nwarn++] = w;
}

static int file_next(void *arg, struct fl_event *ev, struct fl_err *err)
{
	return fl_decoder_next(((struct file_src *)arg)->dec, ev, err);
}

static int file_instance(void *arg)
{
	struct file_src *f = arg;
	int s = fl_decoder_stream(f->dec);

	return s >= 0 && s < f->nstreams ? f->stream_inst[s] : 0;
}

/*
 * Numbers the instances behind the streams: stream 0's instance (the main
 * one, listed first by the capture) is 0, the others 1, 2, ... in order.
 */
static void map_instances(struct file_src *f, const struct fl_kv *h)
{
	const char *names[8] = { 0 };
	int nnames = 0;

	f->nstreams = (int)fl_kv_getu64(h, "streams", fl_kv_getu64(h, "cpus", 0));
	if (f->nstreams < 0 || f->nstreams > 65535)
		f->nstreams = 0;
	f->stream_inst = fl_calloc(f->nstreams + 1, 1);
	for (int s = 0; s < f->nstreams; s++) {
		const char *name = fl_decoder_stream_instance(f->dec, s);
		int i;

		if (!name)
			name = "main";
		for (i = 0; i < nnames; i++)
			if (!strcmp(names[i], name))
				break;
		if (i == nnames && nnames < (int)FL_ARRAY_SIZE(names))
			names[nnames++] = name;
		f->stream_inst[s] = (uint8_t)(i < nnames ? i : nnames - 1);
	}
}

static uint64_t file_lost(void *arg, int cpu)
{
	return fl_decoder_lost(((struct file_src *)arg)->dec, cpu);
}

static const char *file_event_name(void *arg, int tep_id)
{
	return fl_decoder_event_name(((struct file_src *)arg)->dec, tep_id);
}

static void file_status(void *arg, bool *complete, bool *truncated, uint64_t *bytes_lost)
{
	struct file_src *f = arg;

	*complete = fl_flc_complete(f->reader);
	*truncated = fl_flc_truncated(f->reader);
	*bytes_lost = fl_flc_bytes_lost(f->reader);
}

/*
 * The reader's warnings, then the decoder's findings that are warnings too:
 * sub-buffers that said events were lost without a count, and sub-buffers
 * skipped as malformed. Built when first asked, i.e. after the last event.
 */
static void build_warnings(struct file_src *f)
{
	uint64_t bad = fl_decoder_bad_subbufs(f->dec);

	if (f->warnings_built)
		return;
	f->warnings_built = true;
	for (size_t i = 0; f->reader && i < fl_flc_nwarnings(f->reader); i++)
		add_warning(f, fl_strdup(fl_flc_warning(f->reader, i)));
	for (int cpu = 0; cpu < fl_decoder_ncpus(f->dec); cpu++) {
		uint64_t n = fl_decoder_lost_unknown(f->dec, cpu);

		if (n)
			add_warning(f, fl_asprintf("cpu %d: %llu sub-buffers say events were lost "
						   "without saying how many (not in the lost count)",
						   cpu, (unsigned long long)n));
	}
	if (bad)
		add_warning(f, fl_asprintf("%llu ring-buffer sub-buffers were malformed and "
					   "skipped", (unsigned long long)bad));
}

static size_t file_nwarnings(void *arg)
{
	struct file_src *f = arg;

	build_warnings(f);
	return f->nwarn;
}

static const char *file_warning(void *arg, size_t i)
{
	struct file_src *f = arg;

	build_warnings(f);
	return i < f->nwarn ? f->warn[i] : "";
}

/* trace.dat has no content hash of its own: FNV over the whole file. */
static int hash_file(const char *path, uint64_t *hash, uint64_t *size, struct fl_err *err)
{
	struct stat sb;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fl_seterr(err, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb)) {
		close(fd);
		return fl_seterr(err, "cannot stat '%s': %s", path, strerror(errno));
	}
	*size = (uint64_t)sb.st_size;
	*hash = FL_HASH64_INIT;
	if (sb.st_size) {
		p = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			return fl_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		}
		*hash = fl_hash64(*hash, p, sb.st_size);
		munmap(p, sb.st_size);
	}
	close(fd);
	return 0;
}

/* The callbacks a file source answers with (.flc adds status). */
static void set_file_callbacks(struct fl_ingest_src *src, struct file_src *f)
{
	src->arg = f;
	src->next = file_next;
	src->instance = file_instance;
	src->lost = file_lost;
	src->event_name = file_event_name;
	src->nwarnings = file_nwarnings;
	src->warning = file_warning;
}

static int open_tracedat(struct fl_ingest_src *src, struct file_src *f, const char *path,
			 struct fl_err *err)
{
	if (hash_file(path, &src->content_hash, &src->size, err))
		goto fail;
	f->dec = fl_decoder_open_tracedat(path, &f->tracedat_header, err);
	if (!f->dec)
		goto fail;
	src->path = path;
	src->format = "trace.dat";
	src->header = &f->tracedat_header;
	map_instances(f, src->header);
	src->complete = true;
	set_file_callbacks(src, f);
	return 0;
fail:
	src->arg = f;
	fl_ingest_src_close(src);
	return -1;
}

int fl_ingest_src_open(struct fl_ingest_src *src, const char *path, struct fl_err *err)
{
	struct file_src *f = fl_calloc(1, sizeof(*f));
	unsigned char head[64];
	size_t n = 0;
	FILE *fp;

	memset(src, 0, sizeof(*src));
	fp = fopen(path, "rb");
	if (!fp) {
		fl_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		goto fail;
	}
	n = fread(head, 1, sizeof(head), fp);
	fclose(fp);
	if (fl_tracedat_sniff(head, n))
		return open_tracedat(src, f, path, err);
	if (!fl_flc_sniff(head, n)) {
		fl_seterr(err, "'%s' is not a faultlab capture or a trace-cmd trace.dat%s", path,
			  fl_db_sniff(head, n) ? " (it is an SQLite database)" : "");
		goto fail;
	}
	f->reader = fl_flc_open(path, err);
	if (!f->reader)
		goto fail;
	f->dec = fl_decoder_open(f->reader, err);
	if (!f->dec) {
		fl_preferr(err, "cannot decode '%s'", path);
		goto fail;
	}
	src->path = path;
	src->format = "flc";
	src->size = fl_flc_size(f->reader);
	src->content_hash = fl_flc_content_hash(f->reader);
	src->header = fl_flc_header(f->reader);
	map_instances(f, src->header);
	src->trailer = fl_flc_trailer(f->reader);
	src->nsnapshots = fl_flc_nsnapshots(f->reader);
	f->snaps = fl_calloc(src->nsnapshots + 1, sizeof(*f->snaps));
	for (size_t i = 0; i < src->nsnapshots; i++)
		f->snaps[i] = fl_flc_snapshot(f->reader, i);
	src->snapshots = f->snaps;
	src->complete = fl_flc_complete(f->reader);
	src->truncated = fl_flc_truncated(f->reader);
	src->bytes_lost = fl_flc_bytes_lost(f->reader);
	set_file_callbacks(src, f);
	src->status = file_status;
	return 0;
fail:
	src->arg = f;
	fl_ingest_src_close(src);
	return -1;
}

void fl_ingest_src_close(struct fl_ingest_src *src)
{
	struct file_src *f = src->arg;

	if (!f)
		return;
	if (f->dec)
		fl_decoder_free(f->dec);
	if (f->reader)
		fl_flc_free(f->reader);
	free(f->snaps);
	free(f->stream_inst);
	for (size_t i = 0; i < f->nwarn; i++)
		free(f->warn[i]);
	free(f->warn);
	fl_kv_release(&f->tracedat_header);
	free(f);
	memset(src, 0, sizeof(*src));
}
