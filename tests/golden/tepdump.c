/*
 * tepdump.c - prints a golden decode case with libtraceevent's own printer.
 *
 * Not part of the build: the independent reference a maintainer reads next
 * to expected.txt before committing a golden case. It uses only
 * libtraceevent (kbuffer + tep_print_event), none of faultlab's decoder:
 *
 *	cc -O2 -Wall -o /tmp/tepdump tests/golden/tepdump.c \
 *		$(pkg-config --cflags --libs libtraceevent)
 *	/tmp/tepdump tests/golden/decode-x86_64-6.18
 *
 * Output, per CPU in buffer order: "ts cpu pid name: <print fmt output>",
 * and "LOST n" for a sub-buffer whose header says events were missed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include <kbuffer.h>
#include <trace-seq.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		cap += 65536;
		p = realloc(p, cap + 1);
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	p[n] = 0;
	*len = n;
	return p;
}

static long meta_num(const char *meta, const char *key, long def)
{
	const char *p = strstr(meta, key);

	return p ? atol(p + strlen(key) + 1) : def;
}

int main(int argc, char **argv)
{
	struct tep_handle *tep = tep_alloc();
	char path[1024], *meta, *hp, *data;
	size_t len;
	long subbuf, long_size, ncpu;
	struct dirent *de;
	DIR *d;

	if (argc != 2)
		return 2;
	snprintf(path, sizeof(path), "%s/meta", argv[1]);
	meta = slurp(path, &len);
	if (!meta)
		return 1;
	subbuf = meta_num(meta, "subbuf_size", 4096);
	long_size = meta_num(meta, "long_size", 8);
	ncpu = meta_num(meta, "cpus", 1);
	tep_set_long_size(tep, long_size);
	tep_set_page_size(tep, meta_num(meta, "page_size", 4096));
	tep_set_file_bigendian(tep, meta_num(meta, "big_endian", 0) ? TEP_BIG_ENDIAN :
			       TEP_LITTLE_ENDIAN);
	snprintf(path, sizeof(path), "%s/header_page", argv[1]);
	hp = slurp(path, &len);
	tep_parse_header_page(tep, hp, len, long_size);
	d = opendir(argv[1]);
	while ((de = readdir(d))) {
		char sys[256], *dot;

		if (strncmp(de->d_name, "format.", 7))
			continue;
		snprintf(sys, sizeof(sys), "%s", de->d_name + 7);
		dot = strchr(sys, '.');
		*dot = 0;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		data = slurp(path, &len);
		tep_parse_event(tep, data, len, sys);
		free(data);
	}
	closedir(d);

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct kbuffer *kb = kbuffer_alloc(tep_get_header_page_size(tep) == 8 ?
						   KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
						   meta_num(meta, "big_endian", 0) ?
						   KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);

		snprintf(path, sizeof(path), "%s/cpu%d.raw", argv[1], cpu);
		data = slurp(path, &len);
		if (!data)
			continue;
		for (size_t off = 0; off + subbuf <= len; off += subbuf) {
			unsigned long long ts;
			void *ev;

			kbuffer_load_subbuffer(kb, data + off);
			if (kbuffer_missed_events(kb))
				printf("LOST %d\n", kbuffer_missed_events(kb));
			for (ev = kbuffer_read_event(kb, &ts); ev;
			     ev = kbuffer_next_event(kb, &ts)) {
				struct tep_record rec = { .ts = ts, .cpu = cpu, .data = ev,
							  .size = kbuffer_event_size(kb) };
				struct trace_seq s;

				trace_seq_init(&s);
				tep_print_event(tep, &s, &rec, "%d %d %d %s: %s", TEP_PRINT_TIME,
						TEP_PRINT_CPU, TEP_PRINT_PID,
						TEP_PRINT_NAME, TEP_PRINT_INFO);
				trace_seq_terminate(&s);
				printf("%s\n", s.buffer);
				trace_seq_destroy(&s);
			}
		}
		kbuffer_free(kb);
		free(data);
	}
	tep_free(tep);
	free(meta);
	free(hp);
	return 0;
}
