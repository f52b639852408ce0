/*
 * bench-decode.c - decode throughput, on a real capture or on golden pages.
 *
 * Not part of the build (make bench is the project's benchmark; this is the
 * decoder owner's measuring stick):
 *
 *	make build/libfaultlab.a
 *	cc -O2 -I. -o /tmp/bench-decode tests/golden/bench-decode.c build/libfaultlab.a \
 *		$(pkg-config --libs libtraceevent libtracefs libtracecmd libzstd sqlite3) \
 *		-lm -pthread
 *	/tmp/bench-decode run.flc                 # a real capture
 *	/tmp/bench-decode -g tests/golden/decode-x86_64-6.18 2000000
 *
 * With -g it packs the golden case's sub-buffers, replicated (each copy's
 * sub-buffer time stamps shifted so the streams stay in time order) until at
 * least N events, into a temporary .flc, then decodes it. It prints events,
 * seconds of CPU time (one thread) and events per second, for the full
 * decode (zstd + kbuffer + field reads + merge) and for zstd alone.
 */
#include "capture/decode.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int pack_golden(const char *dir, long want, const char *out)
{
	char path[1024];
	struct fl_kv h = { 0 };
	struct fl_buf b = { 0 }, raw[8] = { 0 };
	struct fl_flc_writer *w;
	struct fl_flc_stream *st[8];
	struct fl_err err;
	struct dirent *de;
	DIR *dd;
	char *line, *save;
	long per_copy = 0, copies;
	int ncpu;
	size_t subbuf;

	fl_kv_addu64(&h, "flc.version", FL_FLC_VERSION);
	snprintf(path, sizeof(path), "%s/meta", dir);
	if (fl_buf_read_file(&b, path, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), -1;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (sp) {
			*sp = 0;
			fl_kv_addstr(&h, line, sp + 1);
		}
	}
	fl_buf_reset(&b);
	snprintf(path, sizeof(path), "%s/header_page", dir);
	fl_buf_read_file(&b, path, &err);
	fl_kv_add(&h, "header_page", b.data, b.len);
	dd = opendir(dir);
	while ((de = readdir(dd))) {
		char key[512], *dot;

		if (strncmp(de->d_name, "format.", 7))
			continue;
		snprintf(key, sizeof(key), "format/%s", de->d_name + 7);
		dot = strchr(key + 7, '.');
		*dot = '/';
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fl_buf_reset(&b);
		fl_buf_read_file(&b, path, &err);
		fl_kv_add(&h, key, b.data, b.len);
	}
	closedir(dd);
	ncpu = (int)fl_kv_getu64(&h, "cpus", 1);
	subbuf = fl_kv_getu64(&h, "subbuf_size", 4096);
	for (int c = 0; c < ncpu; c++) {
		snprintf(path, sizeof(path), "%s/cpu%d.raw", dir, c);
		fl_buf_read_file(&raw[c], path, &err);
	}
	/* The golden expected.txt line count is the events per copy. */
	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	fl_buf_reset(&b);
	fl_buf_read_file(&b, path, &err);
	for (size_t i = 0; i < b.len; i++)
		per_copy += b.data[i] == '\n';
	copies = (want + per_copy - 1) / per_copy;

	w = fl_flc_create(out, 3, &err);
	fl_flc_write_kv(w, FL_FLC_HEADER, &h, &err);
	for (int c = 0; c < ncpu; c++)
		st[c] = fl_flc_stream_new(w, c);
	for (long k = 0; k < copies; k++) {
		for (int c = 0; c < ncpu; c++) {
			struct fl_buf copy = { 0 };

			fl_buf_add(&copy, raw[c].data, raw[c].len);
			for (size_t off = 0; off + subbuf <= copy.len; off += subbuf) {
				uint64_t ts;

				memcpy(&ts, copy.data + off, 8);
				ts += (uint64_t)k * 10000000000ULL;
				memcpy(copy.data + off, &ts, 8);
			}
			if (copy.len)
				fl_flc_stream_write(st[c], copy.data, copy.len, &err);
			fl_buf_release(&copy);
		}
	}
	for (int c = 0; c < ncpu; c++)
		fl_flc_stream_free(st[c]);
	return fl_flc_close(w, &err);
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/bench-decode-XXXXXX";
	const char *path = argv[1];
	struct fl_flc_reader *r;
	struct fl_decoder *d;
	struct fl_event ev;
	struct fl_err err;
	struct fl_buf b = { 0 };
	double t0, t1;
	long n = 0;
	uint64_t sum = 0;

	if (argc >= 3 && !strcmp(argv[1], "-g")) {
		close(mkstemp(tmp));
		if (pack_golden(argv[2], argc > 3 ? atol(argv[3]) : 2000000, tmp) < 0)
			return 1;
		path = tmp;
	} else if (argc != 2) {
		fprintf(stderr, "usage: bench-decode FILE.flc | -g GOLDEN_DIR [EVENTS]\n");
		return 2;
	}
	r = fl_flc_open(path, &err);
	if (!r)
		return fprintf(stderr, "%s\n", err.msg), 1;

	t0 = cpu_s();
	for (size_t i = 0; i < fl_flc_nrecs(r); i++)
		if (fl_flc_rec(r, i)->kind == FL_FLC_DATA)
			fl_flc_load(r, i, &b, &err);
	t1 = cpu_s();
	printf("zstd only:   %.3f s\n", t1 - t0);

	d = fl_decoder_open(r, &err);
	if (!d)
		return fprintf(stderr, "%s\n", err.msg), 1;
	t0 = cpu_s();
	while (fl_decoder_next(d, &ev, &err) == 1) {
		sum += ev.a[0] + ev.type;
		n++;
	}
	t1 = cpu_s();
	printf("full decode: %ld events in %.3f s = %.2f M events/s (one core)  [check %llx]\n",
	       n, t1 - t0, n / (t1 - t0) / 1e6, (unsigned long long)sum);
	for (int c = 0; c < fl_decoder_ncpus(d); c++)
		if (fl_decoder_lost(d, c) || fl_decoder_lost_unknown(d, c))
			printf("cpu %d: lost %llu (+%llu sub-buffers with unknown count)\n", c,
			       (unsigned long long)fl_decoder_lost(d, c),
			       (unsigned long long)fl_decoder_lost_unknown(d, c));
	fl_decoder_free(d);
	fl_flc_free(r);
	fl_buf_release(&b);
	if (path == tmp)
		unlink(tmp);
	return 0;
}
