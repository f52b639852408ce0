/*
 * mmapreuse - threads that map, touch and unmap same-sized anonymous regions
 * in a loop, so that the kernel hands a range one thread just unmapped to
 * another thread's next mmap. A replay that orders writers by syscall entry
 * instead of by when they took mmap_lock maps over a live VMA.
 *
 *   mmapreuse [THREADS [ROUNDS [KIB]]]    (defaults 4, 1000, 256)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static long rounds = 1000, bytes = 256 << 10;

static void *worker(void *arg)
{
	for (long i = 0; i < rounds; i++) {
		char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			perror("mmapreuse: mmap");
			exit(1);
		}
		for (long k = 0; k < bytes; k += 4096)
			p[k] = 1;
		munmap(p, bytes);
	}
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 4;
	pthread_t t[64];

	if (argc > 2)
		rounds = atol(argv[2]);
	if (argc > 3)
		bytes = atol(argv[3]) << 10;
	if (n < 1 || n > 64 || rounds < 1 || bytes < 4096) {
		fprintf(stderr, "usage: mmapreuse [THREADS(1-64) [ROUNDS [KIB]]]\n");
		return 2;
	}
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
