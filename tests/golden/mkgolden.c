/*
 * mkgolden.c - records a golden decode case from this machine's ring buffer.
 *
 * Not part of the build: a maintainer runs it (as root, with tracefs) when a
 * decode case has to be re-recorded, reads the result, and commits it:
 *
 *	cc -O2 -Wall -o /tmp/mkgolden tests/golden/mkgolden.c
 *	/tmp/mkgolden tests/golden/decode-x86_64-6.18 [SUBBUF_KB]
 *	make update-golden   # writes expected.txt; compare with tepdump first
 *	/tmp/mkgolden -t tests/golden/tracedat-x86_64-6.18/trace.dat
 *
 * It creates a scratch instance faultlab-golden-<pid> (never touching the
 * top-level buffer), enables the default faultlab event set filtered to its
 * own pid and its children (options/event-fork), runs a tiny workload pinned
 * to CPU 0 (anonymous and file faults, a kernel-mode fault from read(2),
 * page-cache eviction and a re-read from disk, mmap/mprotect/munmap, a fork
 * whose child execs /bin/true), then copies into DIR:
 *	meta                 "key value" lines: the capture header numbers
 *	header_page          events/header_page
 *	format.SYS.EVENT     the format text of every enabled event
 *	cpuN.raw             the raw sub-buffers read from per_cpu/cpuN/trace_pipe_raw
 * and removes the instance, also when the workload fails.
 *
 * With -t FILE it instead snapshots the instance with `trace-cmd extract -B`
 * into FILE (trace-cmd record does not work on the project's machines). To
 * keep the file small, extract runs in a private mount namespace where
 * /proc/kallsyms is a one-line stub (trace-cmd stores the whole symbol table
 * otherwise: 5 MB); the system's own /proc is untouched. extract's stdout must
 * not be a pipe (trace-cmd 3.1.6 then writes a broken file), so it goes to a file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing"

static const char *const events[] = {
	"exceptions/page_fault_user", "exceptions/page_fault_kernel",
	"mmap_lock/mmap_lock_start_locking", "mmap_lock/mmap_lock_acquire_returned",
	"mmap_lock/mmap_lock_released",
	"filemap/mm_filemap_fault", "filemap/mm_filemap_map_pages",
	"filemap/mm_filemap_add_to_page_cache", "filemap/mm_filemap_delete_from_page_cache",
	"sched/sched_switch", "sched/sched_waking", "sched/sched_process_fork",
	"sched/sched_process_exit", "sched/sched_process_exec",
	"block/block_rq_issue", "block/block_rq_complete",
	"syscalls/sys_enter_mmap", "syscalls/sys_exit_mmap",
	"syscalls/sys_enter_munmap", "syscalls/sys_exit_munmap",
	"syscalls/sys_enter_mprotect", "syscalls/sys_exit_mprotect",
	"syscalls/sys_enter_clone", "syscalls/sys_exit_clone",
	"syscalls/sys_enter_exit_group",
};

static char inst[256];

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int instf(const char *rel, const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", inst, rel);
	if (write_file(path, val) < 0) {
		fprintf(stderr, "mkgolden: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int copy(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			break;
	close(in);
	close(out);
	return n == 0 ? 0 : -1;
}

static void remove_instance(void)
{
	struct stat st;

	if (inst[0] && stat(inst, &st) == 0) {
		instf("tracing_on", "0");
		rmdir(inst);
		inst[0] = 0;
	}
}

static void on_signal(int sig)
{
	remove_instance();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Each step leaves a known, small trail of events. */
static int workload(const char *dir)
{
	long pg = sysconf(_SC_PAGESIZE);
	char path[512], *buf, *p;
	int fd, status;
	pid_t child;

	/* Anonymous write faults (user mode), then mprotect and munmap. */
	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	for (int i = 0; i < 4; i++)
		p[i * pg] = 1;
	mprotect(p, pg, PROT_READ);
	munmap(p, 4 * pg);

	/* A file with real data, evicted, then faulted back in (block I/O). */
	snprintf(path, sizeof(path), "%s/.mkgolden-data", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	buf = malloc(8 * pg);
	memset(buf, 'x', 8 * pg);
	if (write(fd, buf, 8 * pg) != 8 * pg)
		return -1;
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	p = mmap(NULL, 8 * pg, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	status = p[0] + p[5 * pg];

	/* A kernel-mode fault: read(2) into a fresh anonymous buffer. */
	char *dst = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED || pread(fd, dst, 64, 0) != 64)
		return -1;
	munmap(dst, pg);
	munmap(p, 8 * pg);
	close(fd);
	unlink(path);
	free(buf);

	/* fork + exec + exit + wait. */
	child = fork();
	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char path[512], to[512], num[64], datdir[512], *buf;
	const char *dir, *dat = NULL;
	struct utsname u;
	cpu_set_t set;
	FILE *meta;
	int ncpu, subbuf_kb = 0, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: mkgolden DIR [SUBBUF_KB] | mkgolden -t FILE.dat\n");
		return 2;
	}
	if (!strcmp(argv[1], "-t")) {
		if (argc < 3)
			return 2;
		dat = argv[2];
		snprintf(datdir, sizeof(datdir), "%s", dat);
		dir = dirname(datdir);
	} else {
		dir = argv[1];
		if (argc > 2)
			subbuf_kb = atoi(argv[2]);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkgolden: cannot create '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(inst, sizeof(inst), TRACEFS "/instances/faultlab-golden-%d", (int)getpid());
	if (mkdir(inst, 0755) < 0) {
		fprintf(stderr, "mkgolden: cannot create instance '%s': %s\n", inst,
			strerror(errno));
		inst[0] = 0;
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	if (instf("tracing_on", "0") < 0 || instf("buffer_size_kb", "1024") < 0)
		goto out;
	if (subbuf_kb) {
		snprintf(num, sizeof(num), "%d", subbuf_kb);
		if (instf("buffer_subbuf_size_kb", num) < 0)
			goto out;
	}
	snprintf(num, sizeof(num), "%d", (int)getpid());
	if (instf("set_event_pid", num) < 0 || instf("options/event-fork", "1") < 0)
		goto out;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), "events/%s/enable", events[i]);
		if (instf(rel, "1") < 0)
			goto out;
	}

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		goto out;
	if (instf("tracing_on", "1") < 0)
		goto out;
	if (workload(dir) < 0) {
		fprintf(stderr, "mkgolden: the workload failed: %s\n", strerror(errno));
		goto out;
	}
	if (instf("tracing_on", "0") < 0)
		goto out;
	if (dat) {
		char cmd[2048], stub[600];
		FILE *f;

		snprintf(stub, sizeof(stub), "%s/.kallsyms-stub", dir);
		f = fopen(stub, "w");
		if (!f)
			goto out;
		fprintf(f, "ffffffff81000000 T _stext\n");
		fclose(f);
		snprintf(cmd, sizeof(cmd), "unshare -m sh -c 'mount --bind %s /proc/kallsyms && "
			 "trace-cmd extract -B %s -o %s' >%s/.extract.log 2>&1", stub,
			 strrchr(inst, '/') + 1, dat, dir);
		rc = system(cmd) == 0 ? 0 : 1;
		unlink(stub);
		if (rc)
			fprintf(stderr, "mkgolden: '%s' failed, see %s/.extract.log\n", cmd, dir);
		else
			snprintf(path, sizeof(path), "%s/.extract.log", dir), unlink(path);
		/* trace-cmd extract removes the instance itself; remove_instance() copes. */
		goto out;
	}

	/* The metadata and formats, from this instance's own events/ directory. */
	ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	snprintf(path, sizeof(path), "%s/events/header_page", inst);
	snprintf(to, sizeof(to), "%s/header_page", dir);
	if (copy(path, to) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		char *slash;

		snprintf(path, sizeof(path), "%s/events/%s/format", inst, events[i]);
		snprintf(to, sizeof(to), "%s/format.%s", dir, events[i]);
		slash = strrchr(to, '/');
		*slash = '.';
		if (copy(path, to) < 0)
			goto out;
	}
	uname(&u);
	snprintf(path, sizeof(path), "%s/meta", dir);
	meta = fopen(path, "w");
	if (!meta)
		goto out;
	fprintf(meta, "arch %s\nuname.release %s\nlong_size %d\nbig_endian %d\npage_size %ld\n",
		u.machine, u.release, (int)sizeof(long), __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__,
		sysconf(_SC_PAGESIZE));
	fprintf(meta, "subbuf_size %d\ncpus %d\nclock local\n",
		subbuf_kb ? subbuf_kb * 1024 : (int)sysconf(_SC_PAGESIZE), ncpu);
	fclose(meta);

	/* The raw sub-buffers of every CPU, until the buffer is empty. */
	buf = malloc(1 << 20);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		ssize_t n;
		int in, out;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw", inst, cpu);
		snprintf(to, sizeof(to), "%s/cpu%d.raw", dir, cpu);
		in = open(path, O_RDONLY | O_NONBLOCK);
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || out < 0)
			goto out;
		while ((n = read(in, buf, 1 << 20)) > 0)
			if (write(out, buf, n) != n)
				break;
		close(in);
		close(out);
	}
	free(buf);
	rc = 0;
out:
	remove_instance();
	return rc;
}
