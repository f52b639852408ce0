/*
 * capture.c - one ftrace capture: private tracefs instances streamed into a
 * capture file (layout in capture/flc.h).
 *
 * Instances. Everything is recorded in instances this process creates and
 * removes: "faultlab-<pid>" (main) and, when a command is followed,
 * "faultlab-<pid>-g" (global). The main instance filters on the command's pid
 * with set_event_pid and follows its forks and threads (options/event-fork).
 * That filter drops events that fire in another task's context although they
 * concern the command (block I/O completions in irq context, page-cache
 * deletions by kswapd or by other tasks' reclaim, reclaim events), so those
 * events go to the unfiltered global instance instead. In system mode (-a)
 * there is one unfiltered instance.
 *
 * Streams. Stream s < cpus is the main instance's CPU s; stream s >= cpus is
 * the global instance's CPU s - cpus. Each stream has its own reader thread
 * that polls per_cpu/cpuN/trace_pipe_raw (non-blocking, via libtracefs),
 * collects whole sub-buffers into a batch of up to FL_BATCH_BYTES and hands
 * each batch to the file writer as one DATA record tagged with the stream
 * number. Sub-buffers are never parsed here. The ring buffers run in
 * non-overwrite mode, so when a reader falls behind the newest events are
 * dropped (and counted by the kernel) rather than the oldest overwritten: a
 * capture always starts at the beginning. Readers run at nice -10: on the
 * 2-CPU reference machine a 16-thread reclaim-bound thrash otherwise delays
 * them by hundreds of ms and 4 MiB buffers overflow; at -10 they use about
 * 7% of one CPU and 4 MiB per CPU loses nothing (the default is 32 MiB).
 *
 * Stop. The buffers are switched off (tracing_on = 0) first, then every
 * reader drains its CPU until a read returns nothing, so everything recorded
 * reaches the file. The TRAILER then records lost events per stream from
 * per_cpu/cpuN/stats, end times, the command's exit status and the last known
 * maps and tasks.
 *
 * Sampler. In command mode the main thread reads the followed tids from the
 * instance's set_event_pid every FL_SAMPLE_NS and writes a SNAPSHOT with what
 * changed since the last one (maps of each process, the task list, the
 * command's memory cgroup). In system mode it walks /proc once at the start
 * and once at the end.
 *
 * Times: ns. Sizes: bytes unless named _kb.
 */
#include "capture/capture.h"
#include "capture/flc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#define FL_BATCH_BYTES		(1024 * 1024)		/* DATA record payload target */
#define FL_BATCH_AGE_NS		1000000000ULL		/* flush a partial batch after this */
#define FL_POLL_BUSY_NS		10000000ULL		/* reader sleep when data flows */
#define FL_POLL_IDLE_NS		50000000ULL		/* reader sleep when a CPU is quiet */
#define FL_SAMPLE_NS		100000000ULL		/* sampler period */
#define FL_PROGRESS_NS		500000000ULL		/* progress callback period */
#define FL_STOP_GRACE_NS	3000000000ULL		/* wait for the command after a signal */
#define FL_UNLIMITED_BYTES	(1ULL << 60)		/* memcg limits above this are "none" */
#define FL_DEFAULT_TOTAL_KB	(512 * 1024)		/* default ring buffers, all CPUs */
#define FL_DEFAULT_MIN_KB	4096			/* default per CPU never below */
#define FL_READER_NICE		-10			/* readers outrank a busy workload */

/* The DESIGN.md default event set; each is enabled only if the kernel has it. */
static const char *const default_events[] = {
	"exceptions:page_fault_user",
	"exceptions:page_fault_kernel",
	"mmap_lock:*",
	"filemap:mm_filemap_fault",
	"filemap:mm_filemap_map_pages",
	"filemap:mm_filemap_add_to_page_cache",
	"filemap:mm_filemap_delete_from_page_cache",
	"sched:sched_switch",
	"sched:sched_waking",
	"sched:sched_process_fork",
	"sched:sched_process_exit",
	"sched:sched_process_exec",
	"block:block_rq_issue",
	"block:block_rq_complete",
	"vmscan:mm_vmscan_memcg_reclaim_begin",
	"vmscan:mm_vmscan_memcg_reclaim_end",
	"vmscan:mm_vmscan_direct_reclaim_begin",
	"vmscan:mm_vmscan_direct_reclaim_end",
	"vmscan:mm_vmscan_lru_shrink_inactive",
	"syscalls:sys_enter_mmap", "syscalls:sys_exit_mmap",
	"syscalls:sys_enter_munmap", "syscalls:sys_exit_munmap",
	"syscalls:sys_enter_mprotect", "syscalls:sys_exit_mprotect",
	"syscalls:sys_enter_madvise", "syscalls:sys_exit_madvise",
	"syscalls:sys_enter_mremap", "syscalls:sys_exit_mremap",
	"syscalls:sys_enter_brk", "syscalls:sys_exit_brk",
	"syscalls:sys_enter_clone", "syscalls:sys_exit_clone",
	"syscalls:sys_enter_clone3", "syscalls:sys_exit_clone3",
	"syscalls:sys_enter_fork", "syscalls:sys_exit_fork",
	"syscalls:sys_enter_vfork", "syscalls:sys_exit_vfork",
	"syscalls:sys_enter_exit_group", "syscalls:sys_exit_exit_group",
};

struct event {
	char *sys;			/* tracefs system name */
	char *name;			/* event name */
	bool global;			/* recorded in the global instance */
};

struct stream {
	struct fl_capture *c;
	int index;			/* stream number: the DATA record's cpu field */
	int cpu;			/* CPU of the ring buffer */
	struct tracefs_instance *inst;	/* main or global instance */
	struct tracefs_cpu *tcpu;	/* per_cpu/cpuN/trace_pipe_raw */
	struct fl_flc_stream *out;
	pthread_t thread;
	bool running;			/* thread was started */
	char *batch;			/* whole sub-buffers waiting to be written */
	size_t used;			/* bytes in batch */
	uint64_t batch_t0;		/* fl_now_ns() of the first sub-buffer in batch */
	bool failed;			/* a read or write failed; err says why */
	struct fl_err err;
};

/* What the sampler last wrote for one process. */
struct proc {
	int pid;			/* tgid */
	struct fl_buf maps;		/* last /proc/PID/maps text written */
	bool written;			/* maps were written at least once */
};

/* The last known line of one task ("tid tgid prio policy comm"). */
struct task {
	int tid, tgid;
	char *line;
};

struct fl_capture {
	struct fl_capture_opts o;
	const char *clock;		/* trace clock name */
	unsigned int buffer_kb;		/* per CPU and instance */
	int ncpus;			/* CPUs with a ring buffer */
	int subbuf;			/* bytes per sub-buffer */
	int long_size;			/* bytes of the kernel's long */

	struct event *ev;
	size_t nev;
	struct fl_buf enabled, missing;	/* "sys:event\n" lists */

	char main_name[64], global_name[64];
	struct tracefs_instance *main, *global;
	bool main_created, global_created;

	struct fl_flc_writer *w;
	bool out_created;
	struct stream *streams;
	int nstreams;
	atomic_uint_fast64_t records;	/* records written */
	atomic_int stop;		/* readers: drain and finish */

	pid_t child;			/* the command, 0 if none */
	int go_fd;			/* write end: releases the child */
	int exec_fd;			/* read end: errno of a failed exec, EOF on success */
	int pidfd;
	int wait_status;		/* of the command, -1 until reaped */
	int exec_errno;
	bool reaped;

	int sig_pipe[2];		/* signal handler -> main loop */

	uint64_t t0;			/* fl_now_ns() when tracing began */
	struct proc *procs;
	size_t nprocs;
	struct task *tasks;
	size_t ntasks;
	struct fl_buf last_tasks;	/* last "tasks" text written */
	struct fl_buf memcg_path;	/* last memcg path written */
	uint64_t memcg_limit;		/* last memcg limit written, bytes (0 = none) */
	struct fl_buf tmp;		/* scratch */

	bool follow;			/* command mode: pid filter + global instance */
	int stop_signal;		/* signal that asked to stop, 0 if none */
	struct fl_capture_stats final;	/* figures at the end of fl_capture_run */
	bool finished;			/* fl_capture_run completed */
	struct child_args *child_args;	/* shared with the command until it execs */
	char *child_stack;		/* its stack until then */
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The clock_gettime clock that reads the same as a trace clock, or -1. */
static clockid_t trace_clock_id(const char *clock)
{
	if (!strcmp(clock, "mono"))
		return CLOCK_MONOTONIC;
	if (!strcmp(clock, "mono_raw"))
		return CLOCK_MONOTONIC_RAW;
	if (!strcmp(clock, "boot"))
		return CLOCK_BOOTTIME;
	if (!strcmp(clock, "tai"))
		return CLOCK_TAI;
	return (clockid_t)-1;
}

static int read_file(struct fl_buf *b, const char *path, struct fl_err *err)
{
	fl_buf_reset(b);
	return fl_buf_read_file(b, path, err);
}

/* Reads a file of an instance (NULL = top level) into b. */
static int read_inst_file(struct tracefs_instance *inst, const char *file, struct fl_buf *b,
			  struct fl_err *err)
{
	char *path = tracefs_instance_get_file(inst, file);
	int ret;

	if (!path)
		return fl_seterr(err, "cannot find tracefs file '%s'", file);
	ret = read_file(b, path, err);
	tracefs_put_tracing_file(path);
	return ret;
}

static int write_inst_file(struct tracefs_instance *inst, const char *file, const char *val,
			   struct fl_err *err)
{
	if (tracefs_instance_file_write(inst, file, val) < 0)
		return fl_seterr(err, "cannot write '%s' to tracefs file '%s/%s': %s", val,
				 tracefs_instance_get_name(inst) ?: "",
				 file, strerror(errno ? errno : EIO));
	return 0;
}

/* Value of "name: N" in a per_cpu stats text, 0 if absent. */
static uint64_t stats_value(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, n) && p[n] == ':')
			return strtoull(p + n + 1, NULL, 10);
	}
	return 0;
}

/* ---- events --------------------------------------------------------- */

static bool event_exists(const char *sys, const char *name)
{
	char *path = fl_asprintf("%s/events/%s/%s/format", tracefs_tracing_dir(), sys, name);
	bool ok = access(path, R_OK) == 0;

	free(path);
	return ok;
}

static bool system_exists(const char *sys)
{
	char *path = fl_asprintf("%s/events/%s", tracefs_tracing_dir(), sys);
	struct stat st;
	bool ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);

	free(path);
	return ok;
}

/* Events that fire in another task's context: recorded unfiltered (see the top). */
static bool needs_global(const char *sys, const char *name)
{
	return !strcmp(sys, "block") || !strcmp(sys, "vmscan") ||
	       (!strcmp(sys, "filemap") && (!strcmp(name, "mm_filemap_add_to_page_cache") ||
					    !strcmp(name, "mm_filemap_delete_from_page_cache")));
}

static void add_event(struct fl_capture *c, const char *sys, const char *name)
{
	for (size_t i = 0; i < c->nev; i++)
		if (!strcmp(c->ev[i].sys, sys) && !strcmp(c->ev[i].name, name))
			return;
	c->ev = fl_realloc(c->ev, (c->nev + 1) * sizeof(*c->ev));
	c->ev[c->nev].sys = fl_strdup(sys);
	c->ev[c->nev].name = fl_strdup(name);
	c->ev[c->nev].global = c->follow && needs_global(sys, name);
	c->nev++;
	fl_buf_addf(&c->enabled, "%s:%s\n", sys, name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Resolves one "sys:event" or "sys:*" item. A user-given item that the
 * kernel lacks is an error; a default one is listed as missing.
 */
static int resolve_item(struct fl_capture *c, const char *item, bool user, struct fl_err *err)
{
	char *sys = fl_strdup(item), *name = strchr(sys, ':');
	int ret = -1;

	if (!name || name == sys || !name[1] || strchr(name + 1, ':')) {
		fl_seterr(err, "bad event '%s': expected SYSTEM:EVENT or SYSTEM:*", item);
		goto out;
	}
	*name++ = 0;
	if (!strcmp(name, "*")) {
		char **list;
		size_t n = 0;

		if (!system_exists(sys)) {
			if (user) {
				fl_seterr(err, "unknown event system '%s' in '%s' (not in "
					  "%s/events)",
					  sys, item, tracefs_tracing_dir());
				goto out;
			}
			if (c)
				fl_buf_addf(&c->missing, "%s\n", item);
			ret = 0;
			goto out;
		}
		list = tracefs_system_events(NULL, sys);
		for (; list && list[n]; n++)
			;
		if (n)
			qsort(list, n, sizeof(*list), cmp_str);
		for (size_t i = 0; i < n; i++)
			if (c)
				add_event(c, sys, list[i]);
		tracefs_list_free(list);
		ret = 0;
		goto out;
	}
	if (!event_exists(sys, name)) {
		if (user) {
			fl_seterr(err, "unknown event '%s:%s' (not in %s/events; see "
				  "available_events)",
				  sys, name, tracefs_tracing_dir());
			goto out;
		}
		if (c)
			fl_buf_addf(&c->missing, "%s:%s\n", sys, name);
		ret = 0;
		goto out;
	}
	if (c)
		add_event(c, sys, name);
	ret = 0;
out:
	free(sys);
	return ret;
}

static int resolve_events(struct fl_capture *c, const char *list, struct fl_err *err)
{
	char *copy, *save = NULL;
	int ret = 0, n = 0;

	if (!list) {
		for (size_t i = 0; i < FL_ARRAY_SIZE(default_events); i++)
			if (resolve_item(c, default_events[i], false, err) < 0)
				return -1;
		return 0;
	}
	copy = fl_strdup(list);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		if (!*tok)
			continue;
		n++;
		if (resolve_item(c, tok, true, err) < 0) {
			ret = -1;
			break;
		}
	}
	free(copy);
	if (!ret && !n)
		ret = fl_seterr(err, "empty event list '%s'", list);
	return ret;
}

static int open_tracefs(struct fl_err *err)
{
	const char *dir = NULL;
	char *inst;
	struct stat st;
	int ret;

	if (geteuid() != 0)
		return fl_seterr(err, "not root: tracefs instances and event pid filters need "
				 "root; run it with sudo");
	/* Finds tracefs, mounting it at /sys/kernel/tracing when it is not mounted. */
	dir = tracefs_tracing_dir();
	if (!dir)
		return fl_seterr(err, "tracefs is not available: it is not mounted and mounting it "
				 "at /sys/kernel/tracing failed (kernel without CONFIG_FTRACE?)");
	inst = fl_asprintf("%s/instances", dir);
	ret = stat(inst, &st);
	free(inst);
	if (ret < 0)
		return fl_seterr(err, "tracefs at '%s' has no instances directory (kernel too old "
				 "for tracing instances)", dir);
	return 0;
}

int fl_capture_check_events(const char *list, struct fl_err *err)
{
	if (open_tracefs(err) < 0)
		return -1;
	return resolve_events(NULL, list, err);
}

/* ---- stale instances --------------------------------------------------- */

int fl_capture_remove_stale(struct fl_err *err)
{
	char **names = tracefs_instances(NULL);
	int removed = 0;

	for (size_t i = 0; names && names[i]; i++) {
		const char *p = names[i];
		struct tracefs_instance *inst;
		char *end;
		long pid;

		/* Exactly "faultlab-<pid>" or "faultlab-<pid>-g"; nothing else is ours. */
		if (strncmp(p, "faultlab-", 9) || !isdigit((unsigned char)p[9]))
			continue;
		pid = strtol(p + 9, &end, 10);
		if (*end && strcmp(end, "-g"))
			continue;
		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		inst = tracefs_instance_alloc(NULL, names[i]);
		if (!inst)
			continue;
		tracefs_trace_off(inst);
		if (tracefs_instance_destroy(inst) == 0)
			removed++;
		else
			fl_seterr(err, "cannot remove stale instance '%s': %s", names[i],
				  strerror(errno));
		tracefs_instance_free(inst);
	}
	tracefs_list_free(names);
	return removed;
}

/* ---- instances ------------------------------------------------------ */

/* Creates and configures an instance; *instp is set as soon as it exists (for cleanup). */
static int make_instance(struct fl_capture *c, const char *name, struct tracefs_instance **instp,
			 bool *created, struct fl_err *err)
{
	struct tracefs_instance *inst;
	char val[32];

	if (tracefs_instance_exists(name))
		return fl_seterr(err, "tracefs instance '%s' already exists; remove it with 'rmdir "
				 "%s/instances/%s'", name, tracefs_tracing_dir(), name);
	inst = tracefs_instance_create(name);
	if (!inst)
		return fl_seterr(err, "cannot create tracefs instance '%s': %s", name,
				 strerror(errno));
	*instp = inst;
	*created = true;
	/* Nothing is recorded until fl_capture_run switches tracing on. */
	if (write_inst_file(inst, "tracing_on", "0", err) < 0 ||
	    write_inst_file(inst, "options/overwrite", "0", err) < 0)
		return -1;
	if (tracefs_instance_file_write(inst, "trace_clock", c->clock) < 0)
		return fl_seterr(err, "unknown trace clock '%s' (see %s/trace_clock)", c->clock,
				 tracefs_tracing_dir());
	snprintf(val, sizeof(val), "%u", c->buffer_kb);
	if (write_inst_file(inst, "buffer_size_kb", val, err) < 0)
		return fl_preferr(err, "ring buffer of %u KiB per CPU (try a smaller --buffer-kb)",
				  c->buffer_kb);
	return 0;
}

static int enable_events(struct fl_capture *c, struct fl_err *err)
{
	for (size_t i = 0; i < c->nev; i++) {
		struct tracefs_instance *inst = c->ev[i].global ? c->global : c->main;

		if (tracefs_event_enable(inst, c->ev[i].sys, c->ev[i].name) < 0)
			return fl_seterr(err, "cannot enable event '%s:%s' in instance '%s': %s",
					 c->ev[i].sys, c->ev[i].name,
					 tracefs_instance_get_name(inst),
					 strerror(errno ? errno : EIO));
	}
	return 0;
}

static void destroy_instances(struct fl_capture *c)
{
	struct tracefs_instance **insts[2] = { &c->main, &c->global };
	bool *created[2] = { &c->main_created, &c->global_created };

	for (int i = 0; i < 2; i++) {
		if (!*insts[i])
			continue;
		if (*created[i]) {
			tracefs_trace_off(*insts[i]);
			tracefs_event_disable(*insts[i], NULL, NULL);
			tracefs_instance_destroy(*insts[i]);
		}
		tracefs_instance_free(*insts[i]);
		*insts[i] = NULL;
		*created[i] = false;
	}
}

static int count_cpus(struct tracefs_instance *inst)
{
	int n = 0;

	for (;;) {
		char file[64];
		char *path;
		bool ok;

		snprintf(file, sizeof(file), "per_cpu/cpu%d", n);
		path = tracefs_instance_get_file(inst, file);
		ok = path && access(path, F_OK) == 0;
		tracefs_put_tracing_file(path);
		if (!ok)
			return n;
		n++;
	}
}

/* Sub-buffer size and word size from the text of events/header_page. */
static void parse_header_page(const char *text, int *subbuf, int *long_size)
{
	const char *p;

	p = strstr(text, "commit;");
	if (p && (p = strstr(p, "size:")))
		*long_size = atoi(p + 5);
	p = strstr(text, " data;");
	if (p) {
		const char *off = strstr(p, "offset:"), *sz = strstr(p, "size:");

		if (off && sz)
			*subbuf = atoi(off + 7) + atoi(sz + 5);
	}
}

/* ---- the command ------------------------------------------------------ */

struct child_args {
	char *const *argv;		/* the command */
	int go_rd;			/* read end: one byte releases the child */
	int go_wr, ex_rd;		/* the parent's ends, closed in the child */
	int ex_wr;			/* write end (close-on-exec): errno if exec fails */
};

/*
 * The command's first code. It runs in the capture's address space
 * (CLONE_VM, like posix_spawn) on a stack the parent touched beforehand, so
 * it takes no page fault before exec: everything the command faults is
 * traced, and the kernel's fault counters of the command (getrusage) match
 * the trace. Only plain system calls here.
 */
__attribute__((no_sanitize("address")))
static int child_main(void *arg)
{
	const struct child_args *a = arg;
	sigset_t none;
	ssize_t r;
	char b;
	int e;

	sigemptyset(&none);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close(a->go_wr);
	close(a->ex_rd);
	do
		r = read(a->go_rd, &b, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(127);	/* the capture gave up before releasing us */
	execvp(a->argv[0], a->argv);
	e = errno;
	if (write(a->ex_wr, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

#define FL_CHILD_STACK	(256 * 1024)	/* bytes */

static int start_child(struct fl_capture *c, struct fl_err *err)
{
	int go[2], ex[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return fl_seterr(err, "cannot create a pipe: %s", strerror(errno));
	if (pipe2(ex, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return fl_seterr(err, "cannot create a pipe: %s", strerror(errno));
	}
	c->child_args = fl_calloc(1, sizeof(*c->child_args));
	c->child_args->argv = c->o.argv;
	c->child_args->go_rd = go[0];
	c->child_args->go_wr = go[1];
	c->child_args->ex_rd = ex[0];
	c->child_args->ex_wr = ex[1];
	c->child_stack = fl_malloc(FL_CHILD_STACK);
	memset(c->child_stack, 0, FL_CHILD_STACK);
	pid = clone(child_main, c->child_stack + FL_CHILD_STACK, CLONE_VM | SIGCHLD,
		    c->child_args);
	if (pid < 0) {
		close(go[0]);
		close(go[1]);
		close(ex[0]);
		close(ex[1]);
		return fl_seterr(err, "cannot start the command: clone: %s", strerror(errno));
	}
	close(go[0]);
	close(ex[1]);
	c->child = pid;
	c->go_fd = go[1];
	c->exec_fd = ex[0];
	return 0;
}

/* Kills and reaps a command that never ran (setup failed). */
static void abort_child(struct fl_capture *c)
{
	if (c->go_fd >= 0) {
		close(c->go_fd);	/* the child reads EOF and exits */
		c->go_fd = -1;
	}
	/* Only a command that was never released: it exits by itself on EOF. */
	if (c->child && !c->reaped && c->exec_fd >= 0) {
		while (waitpid(c->child, &c->wait_status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
		close(c->exec_fd);
		c->exec_fd = -1;
	}
}

/* ---- memory cgroup ---------------------------------------------------- */

/* Memory cgroup v1 path of pid and its effective limit (min over ancestors; 0 = none). */
static int read_memcg(struct fl_capture *c, int pid, struct fl_buf *path, uint64_t *limit)
{
	char file[64];
	char *line, *save = NULL, *dir;

	*limit = 0;
	fl_buf_reset(path);
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	if (read_file(&c->tmp, file, NULL) < 0)
		return -1;
	for (line = strtok_r(c->tmp.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *p;

		if (!ctl || !(p = strchr(ctl + 1, ':')))
			continue;
		*p = 0;
		/* "N:memory:/path", possibly with other controllers in the same hierarchy */
		for (char *s = ctl + 1, *t; s; s = t ? t + 1 : NULL) {
			size_t len;

			t = strchr(s, ',');
			len = t ? (size_t)(t - s) : strlen(s);
			if (len == 6 && !strncmp(s, "memory", 6)) {
				fl_buf_addstr(path, p + 1);
				break;
			}
		}
		if (path->len)
			break;
	}
	if (!path->len)
		return -1;
	/* Walk up from the cgroup to the root; the smallest limit applies. */
	dir = fl_strdup(path->data);
	for (;;) {
		char *f = fl_asprintf("/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
				      strcmp(dir, "/") ? dir : "");
		char *slash;

		if (read_file(&c->tmp, f, NULL) == 0) {
			uint64_t l = strtoull(c->tmp.data, NULL, 10);

			if (l < FL_UNLIMITED_BYTES && (!*limit || l < *limit))
				*limit = l;
		}
		free(f);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = 0;
	}
	free(dir);
	return 0;
}

static void add_memcg(struct fl_kv *kv, const struct fl_buf *path, uint64_t limit)
{
	fl_kv_addstr(kv, "memcg.path", path->data);
	if (limit)
		fl_kv_addu64(kv, "memcg.limit_bytes", limit);
}

/* ---- sampler -------------------------------------------------------- */

static struct proc *find_proc(struct fl_capture *c, int pid)
{
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->procs[i].pid == pid)
			return &c->procs[i];
	c->procs = fl_realloc(c->procs, (c->nprocs + 1) * sizeof(*c->procs));
	memset(&c->procs[c->nprocs], 0, sizeof(c->procs[0]));
	c->procs[c->nprocs].pid = pid;
	return &c->procs[c->nprocs++];
}

static struct task *find_task(struct fl_capture *c, int tid)
{
	for (size_t i = 0; i < c->ntasks; i++)
		if (c->tasks[i].tid == tid)
			return &c->tasks[i];
	return NULL;
}

/*
 * Reads /proc/TGID/task/TID/stat into "tid tgid prio policy comm" (prio as
 * the kernel and sched events print it: 120 = nice 0, below 100 = realtime).
 * Returns -1 if the task is gone.
 */
static int task_line(struct fl_capture *c, int tgid, int tid, struct fl_buf *out)
{
	char file[96];
	char *open_p, *close_p, *f;
	long prio = 0, policy = 0;
	int field;

	snprintf(file, sizeof(file), "/proc/%d/task/%d/stat", tgid, tid);
	if (read_file(&c->tmp, file, NULL) < 0)
		return -1;
	open_p = strchr(c->tmp.data, '(');
	close_p = strrchr(c->tmp.data, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -1;
	/* Fields after the comm start at 3 (state); priority is 18, policy 41. */
	f = close_p + 2;
	for (field = 3; f && *f; field++) {
		if (field == 18)
			prio = strtol(f, NULL, 10);
		if (field == 41) {
			policy = strtol(f, NULL, 10);
			break;
		}
		f = strchr(f, ' ');
		if (f)
			f++;
	}
	fl_buf_addf(out, "%d %d %ld %ld %.*s\n", tid, tgid, prio + 100, policy,
		    (int)(close_p - open_p - 1), open_p + 1);
	return 0;
}

static void remember_task(struct fl_capture *c, int tid, int tgid, const char *line, size_t len)
{
	struct task *t = find_task(c, tid);

	if (!t) {
		c->tasks = fl_realloc(c->tasks, (c->ntasks + 1) * sizeof(*c->tasks));
		t = &c->tasks[c->ntasks++];
		t->tid = tid;
		t->line = NULL;
	}
	t->tgid = tgid;
	free(t->line);
	t->line = fl_malloc(len + 1);
	memcpy(t->line, line, len);
	t->line[len] = 0;
}

static int tgid_of(struct fl_capture *c, int tid)
{
	struct task *t = find_task(c, tid);
	char file[64];
	const char *p;

	if (t)
		return t->tgid;
	snprintf(file, sizeof(file), "/proc/%d/status", tid);
	if (read_file(&c->tmp, file, NULL) < 0)
		return -1;
	p = strstr(c->tmp.data, "\nTgid:");
	return p ? atoi(p + 6) : -1;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Adds maps/PID to kv when /proc/PID/maps changed since it was last written. */
static void sample_maps(struct fl_capture *c, int pid, struct fl_kv *kv)
{
	char file[64], key[32];
	struct proc *p;

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	if (read_file(&c->tmp, file, NULL) < 0 || !c->tmp.len)
		return;
	p = find_proc(c, pid);
	if (p->written && p->maps.len == c->tmp.len && !memcmp(p->maps.data, c->tmp.data,
								 c->tmp.len))
		return;
	fl_buf_reset(&p->maps);
	fl_buf_add(&p->maps, c->tmp.data, c->tmp.len);
	p->written = true;
	snprintf(key, sizeof(key), "maps/%d", pid);
	fl_kv_add(kv, key, p->maps.data, p->maps.len);
}

/*
 * Maps and tasks of the given tids (sorted); writes a SNAPSHOT with what
 * changed, plus the command's memory cgroup when it moved.
 */
static int sample_tids(struct fl_capture *c, int *tids, size_t n, bool force,
		       struct fl_err *err)
{
	struct fl_kv kv = { 0 };
	struct fl_buf tasks = { 0 }, line = { 0 }, mpath = { 0 };
	int *tgids = fl_calloc(n + 1, sizeof(int));
	size_t ntg = 0;
	uint64_t limit;
	int ret = 0;

	qsort(tids, n, sizeof(*tids), cmp_int);
	for (size_t i = 0; i < n; i++) {
		int tgid = tgid_of(c, tids[i]);

		if (tgid <= 0)
			continue;
		fl_buf_reset(&line);
		if (task_line(c, tgid, tids[i], &line) < 0)
			continue;
		remember_task(c, tids[i], tgid, line.data, line.len);
		fl_buf_add(&tasks, line.data, line.len);
		tgids[ntg++] = tgid;
	}
	qsort(tgids, ntg, sizeof(*tgids), cmp_int);
	for (size_t i = 0; i < ntg; i++)
		if (!i || tgids[i] != tgids[i - 1])
			sample_maps(c, tgids[i], &kv);
	if (tasks.len && (force || tasks.len != c->last_tasks.len ||
			  memcmp(tasks.data, c->last_tasks.data, tasks.len))) {
		fl_kv_add(&kv, "tasks", tasks.data, tasks.len);
		fl_buf_reset(&c->last_tasks);
		fl_buf_add(&c->last_tasks, tasks.data, tasks.len);
	}
	if (c->child && !c->reaped && read_memcg(c, c->child, &mpath, &limit) == 0 &&
	    (strcmp(mpath.data, c->memcg_path.data ? c->memcg_path.data : "") ||
	     limit != c->memcg_limit)) {
		add_memcg(&kv, &mpath, limit);
		fl_buf_reset(&c->memcg_path);
		fl_buf_addstr(&c->memcg_path, mpath.data);
		c->memcg_limit = limit;
	}
	if (kv.n) {
		clockid_t id = trace_clock_id(c->clock);

		if (id != (clockid_t)-1)
			fl_kv_addu64(&kv, "time.trace_ns", clock_ns(id));
		fl_kv_addu64(&kv, "time.realtime_ns", clock_ns(CLOCK_REALTIME));
		ret = fl_flc_write_kv(c->w, FL_FLC_SNAPSHOT, &kv, err);
		if (!ret)
			c->records++;
	}
	fl_kv_release(&kv);
	fl_buf_release(&tasks);
	fl_buf_release(&line);
	fl_buf_release(&mpath);
	free(tgids);
	return ret;
}

/* The followed tids: set_event_pid of the main instance (event-fork adds children). */
static int sample_followed(struct fl_capture *c, struct fl_err *err)
{
	struct fl_buf b = { 0 };
	int *tids = NULL;
	size_t n = 0;
	int ret;

	if (read_inst_file(c->main, "set_event_pid", &b, NULL) == 0) {
		for (char *p = b.data; *p;) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p) {
				p++;
				continue;
			}
			tids = fl_realloc(tids, (n + 1) * sizeof(*tids));
			tids[n++] = (int)v;
			p = end;
		}
	}
	fl_buf_release(&b);
	ret = sample_tids(c, tids, n, false, err);
	free(tids);
	return ret;
}

/* Every task of every process (system mode, at start and end). */
static int sample_all(struct fl_capture *c, struct fl_err *err)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int *tids = NULL;
	size_t n = 0;
	int ret;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[64];
		DIR *td;
		struct dirent *te;
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		td = opendir(path);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			int tid = atoi(te->d_name);
			struct task *t;

			if (tid <= 0)
				continue;
			t = find_task(c, tid);
			if (!t) {
				/* Known tgid: avoids a /proc/TID/status read per task. */
				remember_task(c, tid, pid, "", 0);
			}
			tids = fl_realloc(tids, (n + 1) * sizeof(*tids));
			tids[n++] = tid;
		}
		closedir(td);
	}
	closedir(d);
	ret = sample_tids(c, tids, n, true, err);
	free(tids);
	return ret;
}

/* ---- readers ---------------------------------------------------------- */

static int flush_batch(struct stream *s)
{
	if (!s->used)
		return 0;
	if (fl_flc_stream_write(s->out, s->batch, s->used, &s->err) < 0) {
		s->failed = true;
		s->used = 0;
		return -1;
	}
	s->c->records++;
	s->used = 0;
	return 0;
}

/* Bytes of event data in a sub-buffer (from its commit field). */
static size_t subbuf_fill(const struct fl_capture *c, const char *page)
{
	uint64_t commit = 0;

	if (c->long_size == 8) {
		memcpy(&commit, page + 8, 8);
	} else {
		uint32_t v;

		memcpy(&v, page + 8, 4);
		commit = v;
	}
	return commit & ((1U << 27) - 1);
}

/*
 * Reads whatever the CPU has, whole sub-buffers at a time, until it is empty.
 * Returns sub-buffers read, -1 on error; *full says the last one was more
 * than half full (events keep flowing).
 */
static int drain(struct stream *s, bool *full)
{
	struct fl_capture *c = s->c;
	int got = 0;

	*full = false;
	for (;;) {
		char *page;
		int n;

		if (s->used + c->subbuf > FL_BATCH_BYTES && flush_batch(s) < 0)
			return -1;
		page = s->batch + s->used;
		n = tracefs_cpu_read(s->tcpu, page, true);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			fl_seterr(&s->err, "cannot read the ring buffer of CPU %d: %s", s->cpu,
				  strerror(errno));
			s->failed = true;
			return -1;
		}
		if (n == 0)
			return got;
		if (n < c->subbuf)
			memset(page + n, 0, c->subbuf - n);
		if (!s->used)
			s->batch_t0 = fl_now_ns();
		s->used += c->subbuf;
		*full = subbuf_fill(c, page) * 2 > (size_t)c->subbuf;
		got++;
	}
}

static void *reader_main(void *arg)
{
	struct stream *s = arg;
	struct fl_capture *c = s->c;
	sigset_t block;
	bool full;

	/* Signals go to the main thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), FL_READER_NICE);

	while (!s->failed) {
		bool stopping = atomic_load(&c->stop);

		if (drain(s, &full) < 0)
			break;
		if (stopping) {
			/* Tracing was off before stop was set: the CPU is now empty. */
			flush_batch(s);
			break;
		}
		if (s->used && fl_now_ns() - s->batch_t0 > FL_BATCH_AGE_NS && flush_batch(s) < 0)
			break;
		sleep_ns(full ? FL_POLL_BUSY_NS : FL_POLL_IDLE_NS);
	}
	return NULL;
}

static int start_streams(struct fl_capture *c, struct fl_err *err)
{
	for (int i = 0; i < c->nstreams; i++) {
		struct stream *s = &c->streams[i];

		s->tcpu = tracefs_cpu_open(s->inst, s->cpu, true);
		if (!s->tcpu)
			return fl_seterr(err, "cannot open the raw ring buffer of CPU %d in "
					 "instance "
					 "'%s': %s", s->cpu, tracefs_instance_get_name(s->inst),
					 strerror(errno));
		if (tracefs_cpu_read_size(s->tcpu) != c->subbuf)
			return fl_seterr(err, "sub-buffer size mismatch: libtracefs reads %d "
					 "bytes, "
					 "the instance has %d", tracefs_cpu_read_size(s->tcpu),
					 c->subbuf);
		s->out = fl_flc_stream_new(c->w, s->index);
		s->batch = fl_malloc(FL_BATCH_BYTES);
	}
	for (int i = 0; i < c->nstreams; i++) {
		struct stream *s = &c->streams[i];
		int e = pthread_create(&s->thread, NULL, reader_main, s);

		if (e)
			return fl_seterr(err, "cannot start a reader thread: %s", strerror(e));
		s->running = true;
	}
	return 0;
}

static void stop_streams(struct fl_capture *c)
{
	atomic_store(&c->stop, 1);
	for (int i = 0; i < c->nstreams; i++) {
		struct stream *s = &c->streams[i];

		if (s->running) {
			pthread_join(s->thread, NULL);
			s->running = false;
		}
	}
}

static void close_streams(struct fl_capture *c)
{
	for (int i = 0; i < c->nstreams; i++) {
		struct stream *s = &c->streams[i];

		tracefs_cpu_close(s->tcpu);
		s->tcpu = NULL;
		fl_flc_stream_free(s->out);
		s->out = NULL;
		free(s->batch);
		s->batch = NULL;
	}
}

/* ---- header and trailer ---------------------------------------------- */


/*
 * The read-ahead window of every backing device (/sys/class/bdi/MAJ:MIN):
 * a file's page-cache readahead and mmap read-around size come from its
 * device's read_ahead_kb (file->f_ra.ra_pages), which the lock model needs
 * to replay faults that wait for I/O. Keys "bdi/MAJ:MIN/read_ahead_kb".
 */
static void add_bdi_readahead(struct fl_kv *kv)
{
	DIR *d = opendir("/sys/class/bdi");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], key[300], val[32];
		unsigned maj, min;
		FILE *f;

		if (sscanf(e->d_name, "%u:%u", &maj, &min) != 2)
			continue;
		snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(val, sizeof(val), f)) {
			val[strcspn(val, "\n")] = '\0';
			snprintf(key, sizeof(key), "bdi/%u:%u/read_ahead_kb", maj, min);
			fl_kv_addstr(kv, key, val);
		}
		fclose(f);
	}
	closedir(d);
}

/*
 * Whether the fair scheduler groups tasks by session (CONFIG_SCHED_AUTOGROUP,
 * kernel.sched_autogroup_enabled): the threads of one session then share one
 * group's weight, which changes how the load balancer spreads them over the
 * CPUs (replay/README.md "Measured in session 5"). Key
 * "kernel.sched_autogroup_enabled", absent if the kernel lacks the sysctl.
 */
static void add_autogroup(struct fl_kv *kv)
{
	FILE *f = fopen("/proc/sys/kernel/sched_autogroup_enabled", "r");
	char val[16];

	if (!f)
		return;
	if (fgets(val, sizeof(val), f)) {
		val[strcspn(val, "\n")] = '\0';
		fl_kv_addstr(kv, "kernel.sched_autogroup_enabled", val);
	}
	fclose(f);
}

static int write_header(struct fl_capture *c, struct fl_err *err)
{
	struct fl_kv kv = { 0 };
	struct fl_buf b = { 0 }, mpath = { 0 };
	struct utsname u;
	union { uint16_t v; uint8_t b[2]; } endian = { .v = 1 };
	clockid_t id = trace_clock_id(c->clock);
	uint64_t limit;
	int ret = -1;

	fl_kv_addu64(&kv, "flc.version", FL_FLC_VERSION);
	if (uname(&u) == 0) {
		fl_kv_addstr(&kv, "uname.sysname", u.sysname);
		fl_kv_addstr(&kv, "uname.release", u.release);
		fl_kv_addstr(&kv, "uname.version", u.version);
		fl_kv_addstr(&kv, "uname.machine", u.machine);
		fl_kv_addstr(&kv, "uname.nodename", u.nodename);
		fl_kv_addstr(&kv, "arch", u.machine);
	}
	fl_kv_addu64(&kv, "long_size", c->long_size);
	fl_kv_addu64(&kv, "big_endian", endian.b[0] == 0);
	fl_kv_addu64(&kv, "page_size", sysconf(_SC_PAGESIZE));
	fl_kv_addu64(&kv, "subbuf_size", c->subbuf);
	fl_kv_addu64(&kv, "cpus", c->ncpus);
	fl_kv_addstr(&kv, "clock", c->clock);
	fl_kv_addu64(&kv, "start.realtime_ns", clock_ns(CLOCK_REALTIME));
	if (id != (clockid_t)-1)
		fl_kv_addu64(&kv, "start.trace_ns", clock_ns(id));
	if (read_inst_file(c->main, "events/header_page", &b, err) < 0)
		goto out;
	fl_kv_add(&kv, "header_page", b.data, b.len);
	for (size_t i = 0; i < c->nev; i++) {
		struct tracefs_instance *inst = c->ev[i].global ? c->global : c->main;
		char *file = fl_asprintf("events/%s/%s/format", c->ev[i].sys, c->ev[i].name);
		char *key = fl_asprintf("format/%s/%s", c->ev[i].sys, c->ev[i].name);

		ret = read_inst_file(inst, file, &b, err);
		if (!ret)
			fl_kv_add(&kv, key, b.data, b.len);
		free(file);
		free(key);
		if (ret)
			goto out;
	}
	ret = -1;
	fl_kv_add(&kv, "events.enabled", c->enabled.data ? c->enabled.data : "", c->enabled.len);
	fl_kv_add(&kv, "events.missing", c->missing.data ? c->missing.data : "", c->missing.len);
	fl_buf_reset(&b);
	for (size_t i = 0; i < c->nev; i++)
		if (c->ev[i].global)
			fl_buf_addf(&b, "%s:%s\n", c->ev[i].sys, c->ev[i].name);
	fl_kv_add(&kv, "events.global", b.data ? b.data : "", b.len);
	fl_kv_addu64(&kv, "streams", c->nstreams);
	for (int i = 0; i < c->nstreams; i++) {
		char key[32], val[64];

		snprintf(key, sizeof(key), "stream/%d", i);
		snprintf(val, sizeof(val), "cpu %d instance %s", c->streams[i].cpu,
			 c->streams[i].inst == c->main ? "main" : "global");
		fl_kv_addstr(&kv, key, val);
	}
	if (c->o.argv) {
		fl_buf_reset(&b);
		for (int i = 0; c->o.argv[i]; i++)
			fl_buf_add(&b, c->o.argv[i],
				   strlen(c->o.argv[i]) + (c->o.argv[i + 1] != NULL));
		fl_kv_add(&kv, "cmdline", b.data, b.len);
		fl_kv_addu64(&kv, "pid", c->child);
	}
	fl_kv_addstr(&kv, "mode", c->o.system ? "system" : "command");
	fl_kv_addu64(&kv, "buffer_kb", c->buffer_kb);
	add_bdi_readahead(&kv);
	add_autogroup(&kv);
	if (c->child && read_memcg(c, c->child, &mpath, &limit) == 0) {
		add_memcg(&kv, &mpath, limit);
		fl_buf_addstr(&c->memcg_path, mpath.data);
		c->memcg_limit = limit;
	}
	ret = fl_flc_write_kv(c->w, FL_FLC_HEADER, &kv, err);
	if (!ret)
		c->records++;
out:
	fl_kv_release(&kv);
	fl_buf_release(&b);
	fl_buf_release(&mpath);
	return ret;
}

static int write_trailer(struct fl_capture *c, uint64_t *lost_total, uint64_t *events_total,
			 struct fl_err *err)
{
	struct fl_kv kv = { 0 };
	struct fl_buf b = { 0 };
	clockid_t id = trace_clock_id(c->clock);
	int ret;

	*lost_total = *events_total = 0;
	fl_kv_addu64(&kv, "end.realtime_ns", clock_ns(CLOCK_REALTIME));
	if (id != (clockid_t)-1)
		fl_kv_addu64(&kv, "end.trace_ns", clock_ns(id));
	for (int i = 0; i < c->nstreams; i++) {
		struct stream *s = &c->streams[i];
		char file[64], key[32];
		uint64_t lost;

		snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", s->cpu);
		if (read_inst_file(s->inst, file, &b, NULL) < 0)
			continue;
		lost = stats_value(b.data, "overrun") + stats_value(b.data, "dropped events");
		*lost_total += lost;
		*events_total += stats_value(b.data, "read events");
		snprintf(key, sizeof(key), "lost/%d", i);
		fl_kv_addu64(&kv, key, lost);
		snprintf(key, sizeof(key), "stats/%d", i);
		fl_kv_add(&kv, key, b.data, b.len);
	}
	fl_kv_addu64(&kv, "lost", *lost_total);
	fl_kv_addu64(&kv, "events.read", *events_total);
	if (c->child && c->reaped && c->exec_fd < 0) {
		int st = c->wait_status;

		fl_kv_addu64(&kv, "exit_status", WIFEXITED(st) ? WEXITSTATUS(st) :
			     128 + WTERMSIG(st));
		fl_kv_addu64(&kv, "wait_status", st);
	}
	if (read_inst_file(NULL, "saved_tgids", &b, NULL) == 0)
		fl_kv_add(&kv, "saved_tgids", b.data, b.len);
	if (read_inst_file(NULL, "saved_cmdlines", &b, NULL) == 0)
		fl_kv_add(&kv, "saved_cmdlines", b.data, b.len);
	/* The last known maps of every process and every task ever seen. */
	for (size_t i = 0; i < c->nprocs; i++) {
		char key[32];

		if (!c->procs[i].written)
			continue;
		snprintf(key, sizeof(key), "maps/%d", c->procs[i].pid);
		fl_kv_add(&kv, key, c->procs[i].maps.data, c->procs[i].maps.len);
	}
	fl_buf_reset(&b);
	for (size_t i = 0; i < c->ntasks; i++)
		if (c->tasks[i].line && c->tasks[i].line[0])
			fl_buf_addstr(&b, c->tasks[i].line);
	if (b.len)
		fl_kv_add(&kv, "tasks", b.data, b.len);
	if (c->memcg_path.len)
		add_memcg(&kv, &c->memcg_path, c->memcg_limit);
	ret = fl_flc_write_kv(c->w, FL_FLC_TRAILER, &kv, err);
	if (!ret)
		c->records++;
	fl_kv_release(&kv);
	fl_buf_release(&b);
	return ret;
}

/* ---- lifecycle ------------------------------------------------------ */

static void cleanup_setup(struct fl_capture *c)
{
	abort_child(c);
	destroy_instances(c);
	if (c->w) {
		fl_flc_abandon(c->w);
		c->w = NULL;
	}
	if (c->out_created) {
		unlink(c->o.path);
		c->out_created = false;
	}
}

struct fl_capture *fl_capture_new(const struct fl_capture_opts *opts, struct fl_err *err)
{
	struct fl_capture *c = fl_calloc(1, sizeof(*c));
	struct fl_buf hp = { 0 };

	c->o = *opts;
	c->clock = opts->clock ? opts->clock : "mono";
	c->buffer_kb = opts->buffer_kb ? opts->buffer_kb : FL_CAPTURE_DEFAULT_BUFFER_KB;
	c->go_fd = c->exec_fd = c->pidfd = -1;
	c->sig_pipe[0] = c->sig_pipe[1] = -1;
	c->wait_status = -1;
	c->long_size = sizeof(long);

	if (open_tracefs(err) < 0)
		goto fail;
	fl_capture_remove_stale(NULL);
	if (pipe2(c->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fl_seterr(err, "cannot create a pipe: %s", strerror(errno));
		goto fail;
	}
	c->follow = opts->argv && !opts->system;
	if (resolve_events(c, opts->events, err) < 0)
		goto fail;
	if (!opts->buffer_kb) {
		/* Many CPUs: keep the default's total within FL_DEFAULT_TOTAL_KB. */
		long cpus = sysconf(_SC_NPROCESSORS_CONF);
		uint64_t total = (uint64_t)c->buffer_kb * (cpus > 0 ? cpus : 1) *
				 (c->follow ? 2 : 1);

		if (total > FL_DEFAULT_TOTAL_KB)
			c->buffer_kb = FL_DEFAULT_TOTAL_KB / (total / c->buffer_kb);
		if (c->buffer_kb < FL_DEFAULT_MIN_KB)
			c->buffer_kb = FL_DEFAULT_MIN_KB;
	}
	c->w = fl_flc_create(opts->path, opts->level, err);
	if (!c->w)
		goto fail;
	c->out_created = true;

	snprintf(c->main_name, sizeof(c->main_name), "faultlab-%d", (int)getpid());
	snprintf(c->global_name, sizeof(c->global_name), "faultlab-%d-g", (int)getpid());
	if (make_instance(c, c->main_name, &c->main, &c->main_created, err) < 0)
		goto fail;
	for (size_t i = 0; i < c->nev; i++) {
		if (!c->ev[i].global || c->global)
			continue;
		if (make_instance(c, c->global_name, &c->global, &c->global_created, err) < 0)
			goto fail;
	}
	if (read_inst_file(c->main, "events/header_page", &hp, err) < 0)
		goto fail;
	c->subbuf = sysconf(_SC_PAGESIZE);
	parse_header_page(hp.data, &c->subbuf, &c->long_size);
	c->ncpus = count_cpus(c->main);
	if (c->ncpus <= 0) {
		fl_seterr(err, "instance '%s' has no per-CPU buffers", c->main_name);
		goto fail;
	}
	c->nstreams = c->ncpus * (c->global ? 2 : 1);
	c->streams = fl_calloc(c->nstreams, sizeof(*c->streams));
	for (int i = 0; i < c->nstreams; i++) {
		c->streams[i].c = c;
		c->streams[i].index = i;
		c->streams[i].cpu = i % c->ncpus;
		c->streams[i].inst = i < c->ncpus ? c->main : c->global;
	}

	if (c->o.argv && start_child(c, err) < 0)
		goto fail;
	if (c->child && !c->o.system) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)c->child);
		if (write_inst_file(c->main, "set_event_pid", pid, err) < 0 ||
		    write_inst_file(c->main, "options/event-fork", "1", err) < 0)
			goto fail;
	}
	if (write_inst_file(c->main, "options/record-tgid", "1", err) < 0)
		goto fail;
	if (enable_events(c, err) < 0)
		goto fail;
	if (write_header(c, err) < 0)
		goto fail;
	fl_buf_release(&hp);
	return c;
fail:
	fl_buf_release(&hp);
	cleanup_setup(c);
	fl_capture_free(c);
	return NULL;
}

void fl_capture_signal(struct fl_capture *c, int sig, bool from_user)
{
	unsigned char b = (unsigned char)(sig & 0x7f) | (from_user ? 0x80 : 0);
	int e = errno;

	/* A full pipe already holds a stop request: losing this byte is fine. */
	if (c && c->sig_pipe[1] >= 0 && write(c->sig_pipe[1], &b, 1) < 0)
		errno = e;
	errno = e;
}

static void fill_stats(struct fl_capture *c, struct fl_capture_stats *st, bool read_stats)
{
	struct rusage ru;
	struct fl_buf b = { 0 };

	memset(st, 0, sizeof(*st));
	st->records = c->records;
	if (c->w) {
		st->bytes = fl_flc_bytes_written(c->w);
		st->raw_bytes = fl_flc_bytes_raw(c->w);
	}
	st->elapsed_ns = c->t0 ? fl_now_ns() - c->t0 : 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		st->cpu_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
			     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	for (int i = 0; read_stats && i < c->nstreams; i++) {
		char file[64];

		snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", c->streams[i].cpu);
		if (read_inst_file(c->streams[i].inst, file, &b, NULL) < 0)
			continue;
		st->events += stats_value(b.data, "read events");
		st->lost += stats_value(b.data, "overrun") + stats_value(b.data, "dropped events");
	}
	fl_buf_release(&b);
}

static int set_tracing(struct fl_capture *c, bool on)
{
	int ret = 0;

	if (c->main && (on ? tracefs_trace_on(c->main) : tracefs_trace_off(c->main)) < 0)
		ret = -1;
	if (c->global && (on ? tracefs_trace_on(c->global) : tracefs_trace_off(c->global)) < 0)
		ret = -1;
	return ret;
}

/* Releases the command and waits until it has exec'd (or failed to). */
static int release_child(struct fl_capture *c, struct fl_err *err)
{
	ssize_t n;
	int e = 0;

	if (write(c->go_fd, "g", 1) != 1) {
		fl_seterr(err, "cannot release the command: %s", strerror(errno));
		return -1;
	}
	close(c->go_fd);
	c->go_fd = -1;
	do
		n = read(c->exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->exec_fd);
	c->exec_fd = -1;
	if (n == sizeof(e)) {
		c->exec_errno = e;
		while (waitpid(c->child, &c->wait_status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
		return fl_seterr(err, "cannot run '%s': %s", c->o.argv[0],
				 e == ENOENT ? "command not found" : strerror(e));
	}
	c->pidfd = syscall(SYS_pidfd_open, c->child, 0);
	return 0;
}

static bool reap_child(struct fl_capture *c)
{
	pid_t r;

	if (!c->child || c->reaped)
		return c->reaped;
	r = waitpid(c->child, &c->wait_status, WNOHANG);
	if (r == c->child)
		c->reaped = true;
	return c->reaped;
}

int fl_capture_run(struct fl_capture *c, struct fl_err *err)
{
	struct fl_capture_stats st;
	uint64_t now, next_sample, next_progress, deadline = 0, grace = 0, lost, events;
	bool stopping = false;
	int ret = -1;

	if (start_streams(c, err) < 0)
		goto fail;
	c->t0 = fl_now_ns();
	if (set_tracing(c, true) < 0) {
		fl_seterr(err, "cannot switch tracing on in instance '%s': %s", c->main_name,
			  strerror(errno));
		goto fail;
	}
	if (c->child && release_child(c, err) < 0)
		goto fail;
	if (c->child && !c->o.system) {
		if (sample_followed(c, err) < 0)
			goto fail;
	} else if (sample_all(c, err) < 0) {
		goto fail;
	}
	if (c->o.duration_ns)
		deadline = c->t0 + c->o.duration_ns;
	now = fl_now_ns();
	next_sample = now + FL_SAMPLE_NS;
	next_progress = now + FL_PROGRESS_NS;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = c->sig_pipe[0], .events = POLLIN },
			{ .fd = c->pidfd, .events = POLLIN },
		};
		uint64_t wake = next_progress;
		int timeout;

		if (c->child && !c->o.system && next_sample < wake)
			wake = next_sample;
		if (deadline && deadline < wake)
			wake = deadline;
		if (grace && grace < wake)
			wake = grace;
		now = fl_now_ns();
		timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (poll(pfd, c->pidfd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			fl_seterr(err, "poll: %s", strerror(errno));
			goto fail;
		}
		if (pfd[0].revents & POLLIN) {
			unsigned char b;

			while (read(c->sig_pipe[0], &b, 1) == 1) {
				int sig = b & 0x7f;

				if (!c->stop_signal)
					c->stop_signal = sig;
				if (!c->child || c->reaped || stopping) {
					stopping = true;
					grace = 0;
					goto stop;
				}
				/* A terminal's ^C reached the command already; kill() did not. */
				if (b & 0x80)
					kill(c->child, sig);
				stopping = true;
				grace = fl_now_ns() + FL_STOP_GRACE_NS;
			}
		}
		if (reap_child(c))
			break;
		now = fl_now_ns();
		if (grace && now >= grace)
			break;
		if (deadline && now >= deadline) {
			if (!c->child)
				break;
			if (!stopping) {
				kill(c->child, SIGTERM);
				stopping = true;
				grace = now + FL_STOP_GRACE_NS;
			}
			deadline = 0;
		}
		if (c->child && !c->o.system && now >= next_sample) {
			if (sample_followed(c, err) < 0)
				goto fail;
			next_sample = now + FL_SAMPLE_NS;
		}
		if (now >= next_progress) {
			if (c->o.progress) {
				fill_stats(c, &st, true);
				c->o.progress(&st, c->o.progress_arg);
			}
			next_progress = now + FL_PROGRESS_NS;
		}
		for (int i = 0; i < c->nstreams; i++) {
			if (c->streams[i].failed) {
				fl_seterr(err, "%s", c->streams[i].err.msg);
				goto fail;
			}
		}
	}
stop:
	if (c->o.system || !c->child)
		sample_all(c, NULL);
	set_tracing(c, false);
	stop_streams(c);
	for (int i = 0; i < c->nstreams; i++) {
		if (c->streams[i].failed) {
			fl_seterr(err, "%s", c->streams[i].err.msg);
			goto fail;
		}
	}
	if (write_trailer(c, &lost, &events, err) < 0)
		goto fail;

	close_streams(c);
	fill_stats(c, &c->final, false);
	c->final.events = events;
	c->final.lost = lost;
	if (fl_flc_close(c->w, err) < 0) {
		c->w = NULL;
		goto fail;
	}
	c->w = NULL;
	c->final.records++;	/* END */
	{
		struct stat sb;

		if (stat(c->o.path, &sb) == 0)
			c->final.bytes = sb.st_size;
	}
	destroy_instances(c);
	c->finished = true;
	ret = 0;
	goto out;
fail:
	set_tracing(c, false);
	stop_streams(c);
	close_streams(c);
	if (c->exec_errno) {
		/* The command never ran: leave no file behind. */
		cleanup_setup(c);
	} else {
		if (c->w) {
			struct fl_err e2;

			fl_flc_close(c->w, &e2);
			c->w = NULL;
		}
		destroy_instances(c);
	}
out:
	return ret;
}

int fl_capture_wait_status(const struct fl_capture *c)
{
	return c->reaped ? c->wait_status : -1;
}

int fl_capture_exec_errno(const struct fl_capture *c)
{
	return c->exec_errno;
}

void fl_capture_get_stats(struct fl_capture *c, struct fl_capture_stats *st)
{
	if (c->finished)
		*st = c->final;
	else
		fill_stats(c, st, c->main != NULL);
}

int fl_capture_stop_signal(const struct fl_capture *c)
{
	return c->stop_signal;
}

void fl_capture_free(struct fl_capture *c)
{
	if (!c)
		return;
	stop_streams(c);
	close_streams(c);
	if (c->w) {
		fl_flc_abandon(c->w);
		c->w = NULL;
	}
	if (c->child && !c->reaped) {
		if (c->go_fd >= 0 || c->exec_fd >= 0)
			abort_child(c);
	}
	destroy_instances(c);
	if (c->go_fd >= 0)
		close(c->go_fd);
	if (c->exec_fd >= 0)
		close(c->exec_fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->sig_pipe[0] >= 0)
		close(c->sig_pipe[0]);
	if (c->sig_pipe[1] >= 0)
		close(c->sig_pipe[1]);
	for (size_t i = 0; i < c->nev; i++) {
		free(c->ev[i].sys);
		free(c->ev[i].name);
	}
	free(c->ev);
	fl_buf_release(&c->enabled);
	fl_buf_release(&c->missing);
	for (size_t i = 0; i < c->nprocs; i++)
		fl_buf_release(&c->procs[i].maps);
	free(c->procs);
	for (size_t i = 0; i < c->ntasks; i++)
		free(c->tasks[i].line);
	free(c->tasks);
	fl_buf_release(&c->last_tasks);
	fl_buf_release(&c->memcg_path);
	fl_buf_release(&c->tmp);
	free(c->streams);
	free(c->child_args);
	free(c->child_stack);
	free(c);
}
