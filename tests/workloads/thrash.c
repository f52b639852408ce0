/*
 * thrash.c - the memcg mmap/munmap thrash of REFERENCE-RESULTS.md §1.
 *
 *   thrash [-t THREADS] [-s MIB] [-d SECONDS] [-D DIR] [-p]
 *          (defaults: 16 threads, 16 MiB per file, 10 s, DIR = $TMPDIR or /tmp)
 *
 * Each thread owns one file DIR/thrash-N.dat of MIB MiB filled with real data
 * (non-zero bytes, so reading it does block I/O once it is out of the page
 * cache) and loops for SECONDS seconds:
 *	mmap(PROT_READ, MAP_SHARED) the whole file; read one byte of every page;
 *	munmap.
 * One such pass is a round. Run it inside a memory cgroup whose limit is far
 * below THREADS * MIB (tests/workloads/run-in-memcg.sh) and the page cache
 * thrashes: faults wait for I/O, drop mmap_lock and retry, while the other
 * threads' mmap/munmap take mmap_lock for writing.
 *
 * Files that already exist with the right size are reused (create them once
 * with -p, outside the measurement); at start their cached pages are dropped
 * (fdatasync + POSIX_FADV_DONTNEED) so that the run starts cold and charges
 * its page cache to its own cgroup. Prints "rounds=N seconds=S rounds_per_s=R
 * majflt=M minflt=m", the last two from getrusage(RUSAGE_SELF) after the
 * workers are joined (the kernel's own count, for checking faults_major).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long page_size;
static size_t file_bytes;
static double run_seconds = 10;
static atomic_long rounds;
static atomic_int stop;
static volatile unsigned long sink;

struct worker {
	pthread_t thread;
	int fd;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Opens (creating with real data if needed) DIR/thrash-N.dat of file_bytes bytes. */
static int open_file(const char *dir, int n)
{
	char path[4096];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/thrash-%d.dat", dir, n);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "thrash: cannot open '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	if (fstat(fd, &st) == 0 && (size_t)st.st_size == file_bytes)
		return fd;
	if (ftruncate(fd, 0) < 0) {
		fprintf(stderr, "thrash: cannot truncate '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	buf = malloc(1 << 20);
	for (size_t off = 0; off < file_bytes; off += 1 << 20) {
		size_t len = file_bytes - off < (1 << 20) ? file_bytes - off : (1 << 20);

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)((off + i) * 2654435761u >> 13) | 1;
		if (pwrite(fd, buf, len, off) != (ssize_t)len) {
			fprintf(stderr, "thrash: cannot write '%s': %s\n", path, strerror(errno));
			exit(1);
		}
	}
	free(buf);
	return fd;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long sum = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		const volatile char *p = mmap(NULL, file_bytes, PROT_READ, MAP_SHARED, w->fd, 0);

		if (p == MAP_FAILED) {
			perror("thrash: mmap");
			exit(1);
		}
		size_t off;

		for (off = 0; off < file_bytes; off += page_size) {
			sum += p[off];
			/* Stop on time even when a round takes seconds. */
			if (!(off & ((256 << 12) - 1)) &&
			    atomic_load_explicit(&stop, memory_order_relaxed))
				break;
		}
		munmap((void *)p, file_bytes);
		if (off >= file_bytes)
			atomic_fetch_add_explicit(&rounds, 1, memory_order_relaxed);
	}
	sink += sum;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("TMPDIR");
	long threads = 16, mib = 16;
	bool prepare_only = false;
	struct worker *w;
	struct rusage ru;
	double t0, t1;
	int opt;

	if (!dir || !*dir)
		dir = "/tmp";
	while ((opt = getopt(argc, argv, "t:s:d:D:p")) != -1) {
		switch (opt) {
		case 't':
			threads = atol(optarg);
			break;
		case 's':
			mib = atol(optarg);
			break;
		case 'd':
			run_seconds = atof(optarg);
			break;
		case 'D':
			dir = optarg;
			break;
		case 'p':
			prepare_only = true;
			break;
		default:
			fprintf(stderr, "usage: thrash [-t THREADS] [-s MIB] [-d SECONDS] [-D DIR] "
				"[-p]\n");
			return 2;
		}
	}
	if (threads <= 0 || mib <= 0 || run_seconds <= 0) {
		fprintf(stderr, "thrash: THREADS, MIB and SECONDS must be positive\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	file_bytes = (size_t)mib << 20;
	w = calloc(threads, sizeof(*w));
	for (long i = 0; i < threads; i++) {
		w[i].fd = open_file(dir, (int)i);
		/* Start cold: written-back pages can be dropped from the cache. */
		fdatasync(w[i].fd);
		posix_fadvise(w[i].fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	if (prepare_only) {
		printf("prepared %ld files of %ld MiB in %s\n", threads, mib, dir);
		for (long i = 0; i < threads; i++)
			close(w[i].fd);
		free(w);
		return 0;
	}
	t0 = now_s();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
			fprintf(stderr, "thrash: cannot create thread\n");
			free(w);
			return 1;
		}
	while (now_s() - t0 < run_seconds) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, 1);
	for (long i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru);
	printf("rounds=%ld seconds=%.2f rounds_per_s=%.2f majflt=%ld minflt=%ld\n",
	       atomic_load(&rounds), t1 - t0, atomic_load(&rounds) / (t1 - t0), ru.ru_majflt,
	       ru.ru_minflt);
	for (long i = 0; i < threads; i++)
		close(w[i].fd);
	free(w);
	return 0;
}
