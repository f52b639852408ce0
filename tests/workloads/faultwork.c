/*
 * faultwork.c - a workload with a known number of page faults, for live tests.
 *
 *   faultwork [THREADS [PAGES [KPAGES [FORKPAGES [OUTFILE]]]]]   (defaults 4 2000 1000 500 -)
 *
 * - THREADS threads each write one byte to every page of a fresh anonymous
 *   mapping of PAGES pages: THREADS * PAGES user-mode faults;
 * - pread() of a real file (KPAGES pages of real data, created here) into a
 *   fresh anonymous buffer: KPAGES kernel-mode faults (copy_to_user faulting
 *   on each buffer page);
 * - one fork whose child writes to FORKPAGES pages the parent had touched
 *   (copy-on-write faults) and exits; the parent waits for it.
 * Transparent huge pages are disabled on these mappings so each 4 KiB page
 * faults once.
 *
 * It prints the kernel's own count, getrusage(RUSAGE_SELF) + (RUSAGE_CHILDREN)
 * minflt + majflt, as "rusage_faults=N", and the lower bound the design
 * implies as "expected_min=N", on stdout or into OUTFILE (opened before the
 * work starts, so that its faults are counted). Everything after getrusage avoids faulting:
 * the line is formatted into a buffer that was touched before, written with
 * write(2), and the process leaves with _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static long page_size;
static long pages_per_thread;

static char *map_anon(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("faultwork: mmap");
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

static void *writer(void *arg)
{
	char *p = map_anon(pages_per_thread * page_size);

	for (long i = 0; i < pages_per_thread; i++)
		p[i * page_size] = (char)(i + 1);
	munmap(p, pages_per_thread * page_size);
	return NULL;
}

/* A temporary file of npages pages of real (non-zero, non-sparse) data. */
static int make_file(long npages)
{
	char path[] = "/tmp/faultwork.XXXXXX";
	const char *dir = getenv("TMPDIR");
	char *buf = malloc(page_size);
	char *tmpl;
	int fd;

	if (dir && *dir) {
		tmpl = malloc(strlen(dir) + 20);
		sprintf(tmpl, "%s/faultwork.XXXXXX", dir);
	} else {
		tmpl = strdup(path);
	}
	fd = mkstemp(tmpl);
	if (fd < 0) {
		fprintf(stderr, "faultwork: cannot create '%s': %s\n", tmpl, strerror(errno));
		exit(1);
	}
	unlink(tmpl);
	free(tmpl);
	for (long i = 0; i < npages; i++) {
		for (long j = 0; j < page_size; j++)
			buf[j] = (char)(i * 31 + j * 7 + 1);
		if (write(fd, buf, page_size) != page_size) {
			perror("faultwork: write");
			exit(1);
		}
	}
	free(buf);
	return fd;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? atol(argv[1]) : 4;
	long kpages = argc > 3 ? atol(argv[3]) : 1000;
	long fpages = argc > 4 ? atol(argv[4]) : 500;
	struct rusage self, kids;
	pthread_t *tids;
	char line[256];
	char *shared, *buf;
	long total;
	pid_t pid;
	int fd, status, n, out = STDOUT_FILENO;

	page_size = sysconf(_SC_PAGESIZE);
	pages_per_thread = argc > 2 ? atol(argv[2]) : 2000;
	if (threads < 0 || pages_per_thread < 0 || kpages < 0 || fpages < 0) {
		fprintf(stderr, "usage: faultwork [THREADS [PAGES [KPAGES [FORKPAGES]]]]\n");
		return 2;
	}
	if (argc > 5 && strcmp(argv[5], "-")) {
		out = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0) {
			fprintf(stderr, "faultwork: cannot create '%s': %s\n", argv[5],
				strerror(errno));
			return 1;
		}
	}
	/* Warm up everything used after the final getrusage, so it does not fault. */
	memset(line, 0, sizeof(line));
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	n = snprintf(line, sizeof(line), "rusage_faults=%ld\nexpected_min=%ld\n",
		     self.ru_minflt + self.ru_majflt, kids.ru_minflt + kids.ru_majflt);
	if (write(out, line, 0) < 0)
		return 1;

	/* 1. user-mode faults from threads */
	tids = calloc(threads ? threads : 1, sizeof(*tids));
	for (long i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, writer, NULL)) {
			fprintf(stderr, "faultwork: cannot create thread\n");
			return 1;
		}
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	free(tids);

	/* 2. kernel-mode faults: pread into a fresh buffer */
	if (kpages) {
		ssize_t got;

		fd = make_file(kpages);
		buf = map_anon(kpages * page_size);
		got = pread(fd, buf, kpages * page_size, 0);
		if (got != kpages * page_size) {
			fprintf(stderr, "faultwork: pread returned %zd\n", got);
			return 1;
		}
		close(fd);
		munmap(buf, kpages * page_size);
	}

	/* 3. fork: the child writes to pages the parent touched (COW) */
	shared = map_anon((fpages ? fpages : 1) * page_size);
	for (long i = 0; i < fpages; i++)
		shared[i * page_size] = 1;
	pid = fork();
	if (pid < 0) {
		perror("faultwork: fork");
		return 1;
	}
	if (pid == 0) {
		for (long i = 0; i < fpages; i++)
			shared[i * page_size] = 2;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	total = threads * pages_per_thread + kpages + 2 * fpages;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	n = snprintf(line, sizeof(line), "rusage_faults=%ld\nexpected_min=%ld\n",
		     self.ru_minflt + self.ru_majflt + kids.ru_minflt + kids.ru_majflt, total);
	if (write(out, line, n) != n)
		_exit(1);
	_exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}
