/*
 * anonmix.c - a multi-threaded anonymous-memory workload with mprotect, munmap
 * and fork, for the lock model's fidelity check (issue 4 Acceptance).
 *
 *   anonmix [THREADS [SECONDS [REGION_PAGES [FORK_MS [PAUSE_US]]]]]   (defaults 4 3 64 100 5000)
 *
 * Each of THREADS worker threads loops until SECONDS have passed: it mmaps an
 * anonymous region of REGION_PAGES pages (transparent huge pages off, so each
 * 4 KiB page faults once), writes one byte to every page (anonymous write
 * faults under the per-VMA lock), mprotects every other quarter read-only
 * (VMA splits: mmap_lock write holds), reads those pages back, makes them
 * writable again and writes them (write faults on pages already present),
 * then munmaps the region in two halves, and sleeps PAUSE_US (think time,
 * which keeps the capture small). The main thread forks every FORK_MS
 * milliseconds; each child writes one byte to a page of a private mapping
 * the parent touched (copy-on-write), and exits; the parent reaps it. Thread
 * i's work depends only on i and the loop count, so two runs do the same
 * operations in the same order per thread; the interleaving is the
 * scheduler's. Each thread maps at a hint address of its own (a 1 GiB window
 * per thread), so no thread reuses a range another thread just unmapped: the
 * order of such a munmap and mmap is decided by who wins mmap_lock, which
 * the op streams (ordered by syscall entry) do not record.
 *
 * Prints "loops=N forks=N" on stdout at the end (after the work).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long page_size;
static long region_pages = 64;
static long pause_us = 5000;
static volatile int stop;
static unsigned long total_loops;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;

static char *map_anon(void *hint, size_t bytes)
{
	char *p = mmap(hint, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "anonmix: mmap of %zu bytes failed: %s\n", bytes, strerror(errno));
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

static void *worker(void *arg)
{
	long id = (long)arg, quarter = region_pages / 4;
	size_t bytes = (size_t)region_pages * (size_t)page_size;
	unsigned long loops = 0;
	volatile char sink = 0;
	/* each thread's own 1 GiB window (a hint, not MAP_FIXED) */
	void *hint = (void *)(0x200000000000UL + ((unsigned long)id << 30));

	while (!stop) {
		char *p = map_anon(hint, bytes);

		for (long i = 0; i < region_pages; i++)
			p[i * page_size] = (char)(id + i + (long)loops);
		/* quarters 1 and 3 read-only: two splits */
		for (long q = 1; q < 4; q += 2)
			if (mprotect(p + q * quarter * page_size, (size_t)quarter * page_size,
				     PROT_READ)) {
				fprintf(stderr, "anonmix: mprotect failed: %s\n", strerror(errno));
				exit(1);
			}
		for (long i = quarter; i < 2 * quarter; i++)
			sink += p[i * page_size];
		for (long q = 1; q < 4; q += 2)
			mprotect(p + q * quarter * page_size, (size_t)quarter * page_size,
				 PROT_READ | PROT_WRITE);
		for (long i = 3 * quarter; i < region_pages; i++)
			p[i * page_size]++;
		munmap(p, bytes / 2);
		munmap(p + bytes / 2, bytes - bytes / 2);
		loops++;
		if (pause_us)
			usleep((useconds_t)pause_us);
	}
	(void)sink;
	pthread_mutex_lock(&total_lock);
	total_loops += loops;
	pthread_mutex_unlock(&total_lock);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long nthreads = argc > 1 ? atol(argv[1]) : 4;
	double seconds = argc > 2 ? atof(argv[2]) : 3;
	long fork_ms = argc > 4 ? atol(argv[4]) : 100;
	pthread_t *th;
	unsigned long forks = 0;
	char *shared;
	double end;

	if (argc > 3)
		region_pages = atol(argv[3]);
	if (argc > 5)
		pause_us = atol(argv[5]);
	page_size = sysconf(_SC_PAGESIZE);
	if (nthreads < 1 || nthreads > 256 || seconds <= 0 || region_pages < 4 || fork_ms < 1 ||
	    pause_us < 0) {
		fprintf(stderr, "usage: anonmix [THREADS(1-256) [SECONDS [REGION_PAGES(>=4) "
			"[FORK_MS [PAUSE_US]]]]]\n");
		return 2;
	}
	/* a private mapping the children write to (copy-on-write) */
	shared = map_anon(NULL, 64 * (size_t)page_size);
	for (long i = 0; i < 64; i++)
		shared[i * page_size] = 1;
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!th)
		return 1;
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i)) {
			fprintf(stderr, "anonmix: cannot create thread %ld\n", i);
			return 1;
		}
	end = now_s() + seconds;
	while (now_s() < end) {
		struct timespec ts = { fork_ms / 1000, (fork_ms % 1000) * 1000000L };
		pid_t pid;

		nanosleep(&ts, NULL);
		pid = fork();
		if (pid == 0) {
			shared[(forks % 64) * page_size] = 2;
			_exit(0);
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			forks++;
		}
	}
	stop = 1;
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	printf("loops=%lu forks=%lu\n", total_loops, forks);
	return 0;
}
