/*
 * Tests of the event decoder.
 *
 * Golden cases (tests/golden/decode-<case>/, libtraceevent utest style): real
 * header_page, format text and raw sub-buffers recorded from a kernel by
 * tests/golden/mkgolden.c are packed into a .flc and decoded; the output is
 * compared line by line with expected.txt (FL_UPDATE_GOLDEN=1 rewrites it;
 * tests/golden/tepdump.c prints the same data with libtraceevent's own printer
 * for a hand check).
 *
 * Synthetic cases build sub-buffers byte by byte (the ring buffer's layout:
 * u64 time stamp, commit word, then 4-byte-aligned events whose 32-bit header
 * packs type_len and time_delta) to pin down what real data rarely shows:
 * merge order for equal time stamps, damaged records, missed events, unknown
 * events, a field a kernel lacks, and a 32-bit big-endian capture.
 */
#include "tests/unit/test.h"
#include "tests/header-page.h"
#include "capture/decode.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------- */

static char *tmpname(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/faultlab-test-decode-XXXXXX");
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	return path;
}

/*
 * Writes a capture: the header kv, then for each stream its raw bytes cut
 * into DATA records of per_rec sub-buffers (streams interleaved record by
 * record, as capture threads would append them).
 */
static int write_flc(const char *path, const struct fl_kv *h, struct fl_buf *raw, int nstreams,
		     size_t subbuf, size_t per_rec)
{
	struct fl_flc_writer *w;
	struct fl_flc_stream *st[8];
	struct fl_err err;
	size_t off[8] = { 0 };
	bool more = true;

	w = fl_flc_create(path, 1, &err);
	if (!w || fl_flc_write_kv(w, FL_FLC_HEADER, h, &err) < 0)
		return -1;
	for (int s = 0; s < nstreams; s++)
		st[s] = fl_flc_stream_new(w, s);
	while (more) {
		more = false;
		for (int s = 0; s < nstreams; s++) {
			size_t n = raw[s].len - off[s];

			if (!n)
				continue;
			if (n > subbuf * per_rec)
				n = subbuf * per_rec;
			if (fl_flc_stream_write(st[s], raw[s].data + off[s], n, &err) < 0)
				return -1;
			off[s] += n;
			more = true;
		}
	}
	for (int s = 0; s < nstreams; s++)
		fl_flc_stream_free(st[s]);
	return fl_flc_close(w, &err);
}

static void format_event(struct fl_buf *out, const struct fl_decoder *d, const struct fl_event *ev)
{
	if (ev->type == FL_EV_OTHER) {
		const char *n = fl_decoder_event_name(d, ev->tep_id);
		fl_buf_addf(out, "%llu %u %d other(%s)", (unsigned long long)ev->ts, ev->cpu,
			    ev->tid, n ? n : "?");
	} else if (ev->type == FL_EV_SYS_ENTER || ev->type == FL_EV_SYS_EXIT) {
		fl_buf_addf(out, "%llu %u %d %s:%s", (unsigned long long)ev->ts, ev->cpu, ev->tid,
			    fl_ev_name(ev->type), ev->sys ? fl_sys_name(ev->sys) : "?");
	} else {
		fl_buf_addf(out, "%llu %u %d %s", (unsigned long long)ev->ts, ev->cpu, ev->tid,
			    fl_ev_name(ev->type));
	}
	for (int i = 0; i < 6; i++)
		fl_buf_addf(out, " %llx", (unsigned long long)ev->a[i]);
	fl_buf_addf(out, " %s %s\n", ev->comm[0] ? ev->comm : "-", ev->comm2[0] ? ev->comm2 : "-");
}

/* Decodes a whole capture into text; returns the event count or -1. */
static long decode_all(const char *path, struct fl_buf *out)
{
	struct fl_flc_reader *r;
	struct fl_decoder *d;
	struct fl_event ev;
	struct fl_err err;
	uint64_t last = 0;
	long n = 0;
	int rc;

	r = fl_flc_open(path, &err);
	CHECKF(r, "open: %s", err.msg);
	if (!r)
		return -1;
	d = fl_decoder_open(r, &err);
	CHECKF(d, "decoder: %s", err.msg);
	if (!d) {
		fl_flc_free(r);
		return -1;
	}
	while ((rc = fl_decoder_next(d, &ev, &err)) == 1) {
		CHECKF(ev.ts >= last, "merged order goes back in time: %llu after %llu",
		       (unsigned long long)ev.ts, (unsigned long long)last);
		last = ev.ts;
		format_event(out, d, &ev);
		n++;
	}
	CHECK(rc == 0);
	CHECK_EQ_U64(fl_decoder_count(d), n);
	fl_decoder_free(d);
	fl_flc_free(r);
	return n;
}

static bool read_file(const char *path, struct fl_buf *b)
{
	struct fl_err err;

	fl_buf_reset(b);
	return fl_buf_read_file(b, path, &err) == 0;
}

/* A golden case directory -> header kv + per-CPU raw bytes. */
static int load_case(const char *dir, struct fl_kv *h, struct fl_buf *raw, int *ncpu)
{
	char path[1024];
	struct fl_buf b = { 0 };
	struct dirent *de;
	DIR *dd;
	char *line, *save;

	fl_kv_addu64(h, "flc.version", FL_FLC_VERSION);
	snprintf(path, sizeof(path), "%s/meta", dir);
	if (!read_file(path, &b))
		return -1;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = 0;
		fl_kv_addstr(h, line, sp + 1);
	}
	snprintf(path, sizeof(path), "%s/header_page", dir);
	if (!read_file(path, &b))
		return -1;
	fl_kv_add(h, "header_page", b.data, b.len);
	dd = opendir(dir);
	if (!dd)
		return -1;
	while ((de = readdir(dd))) {
		char key[512], *dot;

		if (strncmp(de->d_name, "format.", 7))
			continue;
		snprintf(key, sizeof(key), "format/%s", de->d_name + 7);
		dot = strchr(key + 7, '.');
		if (!dot)
			continue;
		*dot = '/';
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!read_file(path, &b))
			return -1;
		fl_kv_add(h, key, b.data, b.len);
	}
	closedir(dd);
	*ncpu = (int)fl_kv_getu64(h, "cpus", 1);
	for (int c = 0; c < *ncpu && c < 8; c++) {
		snprintf(path, sizeof(path), "%s/cpu%d.raw", dir, c);
		if (!read_file(path, &raw[c]))
			fl_buf_reset(&raw[c]);
	}
	fl_buf_release(&b);
	return 0;
}

static void run_golden(const char *dir)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw[8] = { 0 }, out = { 0 }, want = { 0 };
	char path[1024];
	const char *tmp = tmpname();
	int ncpu = 0;
	long n;

	CHECKF(load_case(dir, &h, raw, &ncpu) == 0, "cannot load golden case '%s'", dir);
	CHECK(ncpu > 0 && ncpu <= 8);
	/* Two sub-buffers per DATA record: records hold several, cut mid-stream. */
	CHECK(write_flc(tmp, &h, raw, ncpu, fl_kv_getu64(&h, "subbuf_size", 4096), 2) == 0);
	n = decode_all(tmp, &out);
	CHECKF(n > 100, "golden case '%s' decoded only %ld events", dir, n);

	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	if (getenv("FL_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		CHECK(f && fwrite(out.data, 1, out.len, f) == out.len);
		if (f)
			fclose(f);
	} else if (!read_file(path, &want)) {
		CHECKF(0, "'%s' missing: run make update-golden and read the diff", path);
	} else if (out.len != want.len || memcmp(out.data, want.data, out.len)) {
		/* Report the first differing line. */
		const char *a = out.data, *b = want.data;
		int line = 1;

		while (*a && *a == *b) {
			if (*a == '\n')
				line++;
			a++, b++;
		}
		CHECKF(0, "'%s' differs from the decoder's output at line %d", path, line);
	}
	/*
	 * Without the subbuf_size key the decoder takes the sub-buffer size
	 * from header_page (data offset + size) and must decode the same.
	 */
	{
		struct fl_kv h2 = { 0 };
		struct fl_buf out2 = { 0 };
		size_t sb = fl_kv_getu64(&h, "subbuf_size", 4096);

		for (size_t i = 0; i < h.n; i++)
			if (strcmp(h.items[i].key, "subbuf_size"))
				fl_kv_add(&h2, h.items[i].key, h.items[i].val, h.items[i].len);
		CHECK(write_flc(tmp, &h2, raw, ncpu, sb, 3) == 0);
		decode_all(tmp, &out2);
		CHECKF(out2.len == out.len && !memcmp(out2.data, out.data, out.len),
		       "'%s' decodes differently without the subbuf_size key", dir);
		fl_buf_release(&out2);
		fl_kv_release(&h2);
	}
	unlink(tmp);
	for (int c = 0; c < 8; c++)
		fl_buf_release(&raw[c]);
	fl_buf_release(&out);
	fl_buf_release(&want);
	fl_kv_release(&h);
}

FL_TEST(decode_golden)
{
	DIR *dd = opendir(fl_test_path("golden"));
	struct dirent *de;
	int cases = 0;

	CHECK(dd);
	if (!dd)
		return;
	while ((de = readdir(dd))) {
		char dir[512];

		if (strncmp(de->d_name, "decode-", 7))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", fl_test_path("golden"), de->d_name);
		run_golden(dir);
		cases++;
	}
	closedir(dd);
	CHECK(cases >= 1);
}

/* The golden x86_64 case holds every event type the workload provokes. */
FL_TEST(decode_golden_types)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw[8] = { 0 }, out = { 0 };
	const char *tmp = tmpname();
	static const char *const want[] = {
		"page_fault_user", "page_fault_kernel", "mmap_lock_start_locking",
		"mmap_lock_acquire_returned", "mmap_lock_released", "mm_filemap_fault",
		"mm_filemap_map_pages", "mm_filemap_add_to_page_cache",
		"mm_filemap_delete_from_page_cache", "sched_switch", "sched_waking",
		"sched_process_fork", "sched_process_exit", "sched_process_exec",
		"block_rq_issue", "sys_enter:mmap", "sys_exit:mmap", "sys_enter:munmap",
		"sys_enter:mprotect", "sys_enter:clone", "sys_exit:clone",
		"sys_enter:exit_group",
	};
	int ncpu;

	CHECK(load_case(fl_test_path("golden/decode-x86_64-6.18"), &h, raw, &ncpu) == 0);
	/* One sub-buffer per record this time: the output must not depend on it. */
	CHECK(write_flc(tmp, &h, raw, ncpu, 4096, 1) == 0);
	decode_all(tmp, &out);
	for (size_t i = 0; i < FL_ARRAY_SIZE(want); i++) {
		char pat[64];

		snprintf(pat, sizeof(pat), " %s ", want[i]);
		CHECKF(strstr(out.data, pat), "no %s event in the golden output", want[i]);
	}
	CHECK(!strstr(out.data, "other("));
	/* exec's comm is the basename of the file: /bin/true -> "true" */
	CHECK(strstr(out.data, " sched_process_exec ") && strstr(out.data, " true -\n"));
	unlink(tmp);
	for (int c = 0; c < 8; c++)
		fl_buf_release(&raw[c]);
	fl_buf_release(&out);
	fl_kv_release(&h);
}

/* ---- synthetic sub-buffers ------------------------------------------ */

struct sb {
	uint8_t buf[4096];
	size_t len;		/* bytes used */
	bool be;		/* big-endian file */
	int lsize;		/* commit word size: 4 or 8 */
};

static void put(struct sb *s, size_t at, uint64_t v, int size)
{
	for (int i = 0; i < size; i++) {
		int shift = s->be ? 8 * (size - 1 - i) : 8 * i;
		s->buf[at + i] = (uint8_t)(v >> shift);
	}
}

static void sb_init(struct sb *s, uint64_t ts, bool be, int lsize)
{
	memset(s, 0, sizeof(*s));
	s->be = be;
	s->lsize = lsize;
	put(s, 0, ts, 8);
	s->len = 8 + lsize;
}

/* Appends an event: payload of n bytes (n <= 112), time delta in ns. */
static void sb_event(struct sb *s, uint32_t delta, const uint8_t *payload, size_t n)
{
	size_t words = (n + 3) / 4;
	uint32_t hdr = s->be ? ((uint32_t)words << 27) | delta : (uint32_t)words | (delta << 5);

	put(s, s->len, hdr, 4);
	memcpy(s->buf + s->len + 4, payload, n);
	s->len += 4 + words * 4;
}

#define MISSING_EVENTS (1ULL << 31)
#define MISSING_STORED (1ULL << 30)

/* Writes the commit word; missed > 0 stores a count, missed < 0 only flags. */
static void sb_finish(struct sb *s, long missed)
{
	uint64_t commit = s->len - 8 - s->lsize;

	if (missed > 0) {
		commit |= MISSING_EVENTS | MISSING_STORED;
		put(s, s->len, (uint64_t)missed, s->lsize);
	} else if (missed < 0) {
		commit |= MISSING_EVENTS;
	}
	put(s, 8, commit, s->lsize);
}

/* An event payload in the file's byte order. */
struct pl {
	uint8_t b[112];
	size_t n;
	bool be;
};

static void pl_init(struct pl *p, bool be, uint16_t type, int32_t pid)
{
	struct sb tmp = { .be = be };

	memset(p, 0, sizeof(*p));
	p->be = be;
	put(&tmp, 0, type, 2);
	put(&tmp, 4, (uint32_t)pid, 4);
	memcpy(p->b, tmp.buf, 8);
	p->n = 8;
}

static void pl_put(struct pl *p, size_t at, uint64_t v, int size)
{
	struct sb tmp = { .be = p->be };

	put(&tmp, 0, v, size);
	memcpy(p->b + at, tmp.buf, size);
	if (at + size > p->n)
		p->n = at + size;
}


#define COMMON_FIELDS \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

static const char fmt_pf64[] =
	"name: page_fault_user\nID: 190\nformat:\n" COMMON_FIELDS
	"\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, "
	"(void *)REC->ip, REC->error_code\n";

/* A format faultlab has no name for. */
static const char fmt_other[] =
	"name: other_event\nID: 900\nformat:\n" COMMON_FIELDS
	"\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"value=%d\", REC->value\n";

/* mmap_lock_start_locking as kernels <= 6.13 had it: a memcg_path string, no memcg_id. */
static const char fmt_lock613[] =
	"name: mmap_lock_start_locking\nID: 501\nformat:\n" COMMON_FIELDS
	"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:__data_loc char[] memcg_path;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:bool write;\toffset:20;\tsize:1;\tsigned:0;\n\n"
	"print fmt: \"mm=%p memcg_path=%s write=%s\", REC->mm, __get_str(memcg_path), "
	"REC->write ? \"true\" : \"false\"\n";

static void base_header(struct fl_kv *h, int cpus, const char *hp, int lsize, bool be)
{
	fl_kv_addu64(h, "flc.version", FL_FLC_VERSION);
	fl_kv_addu64(h, "long_size", lsize);
	fl_kv_addu64(h, "big_endian", be);
	fl_kv_addu64(h, "page_size", 4096);
	fl_kv_addu64(h, "subbuf_size", 4096);
	fl_kv_addu64(h, "cpus", cpus);
	fl_kv_addstr(h, "clock", "local");
	fl_kv_addstr(h, "header_page", hp);
}

static void pf_event(struct sb *s, uint32_t delta, int32_t pid, uint64_t addr)
{
	struct pl p;

	pl_init(&p, false, 190, pid);
	pl_put(&p, 8, addr, 8);
	pl_put(&p, 16, 0x401000, 8);
	pl_put(&p, 24, 6, 8);
	sb_event(s, delta, p.b, p.n);
}

static void sb_to_buf(struct sb *s, struct fl_buf *b)
{
	fl_buf_add(b, s->buf, sizeof(s->buf));
}

/* Decodes and collects (cpu, address) of every page_fault_user in order. */
static int collect(const char *path, int *cpu, uint64_t *addr, int max, struct fl_decoder **dout,
		   struct fl_flc_reader **rout)
{
	struct fl_flc_reader *r;
	struct fl_decoder *d;
	struct fl_event ev;
	struct fl_err err;
	int n = 0;

	r = fl_flc_open(path, &err);
	CHECKF(r, "%s", err.msg);
	if (!r)
		return -1;
	d = fl_decoder_open(r, &err);
	CHECKF(d, "%s", err.msg);
	if (!d) {
		fl_flc_free(r);
		return -1;
	}
	while (fl_decoder_next(d, &ev, &err) == 1) {
		if (n < max) {
			cpu[n] = ev.cpu;
			addr[n] = (uint64_t)ev.a[0];
		}
		n++;
	}
	*dout = d;
	*rout = r;
	return n;
}

FL_TEST(decode_merge_equal_ts_stable)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw[2] = { 0 };
	struct fl_decoder *d;
	struct fl_flc_reader *r;
	struct sb s;
	const char *tmp = tmpname();
	int cpu[16];
	uint64_t addr[16];
	int n;

	base_header(&h, 2, hp64, 8, false);
	fl_kv_addstr(&h, "format/exceptions/page_fault_user", fmt_pf64);
	/* Two streams: stream 0 is CPU 1 of the main instance, stream 1 CPU 0 of a global one. */
	fl_kv_addu64(&h, "streams", 2);
	fl_kv_addstr(&h, "stream/0", "cpu 1 instance main");
	fl_kv_addstr(&h, "stream/1", "cpu 0 instance global");

	/* stream 0: 1000, 1000, 1010 | 1020   stream 1: 1000, 1000, 1010, 1010 */
	sb_init(&s, 1000, false, 8);
	pf_event(&s, 0, 10, 0xa0);
	pf_event(&s, 0, 10, 0xa1);
	pf_event(&s, 10, 10, 0xa2);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw[0]);
	sb_init(&s, 1020, false, 8);
	pf_event(&s, 0, 10, 0xa3);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw[0]);
	sb_init(&s, 1000, false, 8);
	pf_event(&s, 0, 20, 0xb0);
	pf_event(&s, 0, 20, 0xb1);
	pf_event(&s, 10, 20, 0xb2);
	pf_event(&s, 0, 20, 0xb3);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw[1]);
	CHECK(write_flc(tmp, &h, raw, 2, 4096, 1) == 0);

	n = collect(tmp, cpu, addr, 16, &d, &r);
	CHECK(n == 8);
	if (n == 8) {
		static const uint64_t want[8] = { 0xa0, 0xa1, 0xb0, 0xb1, 0xa2, 0xb2, 0xb3, 0xa3 };
		static const int wcpu[8] = { 1, 1, 0, 0, 1, 0, 0, 1 };

		for (int i = 0; i < 8; i++) {
			CHECKF(addr[i] == want[i], "event %d: address %llx, want %llx", i,
			       (unsigned long long)addr[i], (unsigned long long)want[i]);
			CHECKF(cpu[i] == wcpu[i], "event %d: cpu %d, want %d", i, cpu[i], wcpu[i]);
		}
	}
	if (n >= 0) {
		CHECK(!strcmp(fl_decoder_stream_instance(d, 1), "global"));
		CHECK(fl_decoder_stream(d) == 0);	/* the last event came from stream 0 */
		fl_decoder_free(d);
		fl_flc_free(r);
	}
	unlink(tmp);
	fl_buf_release(&raw[0]);
	fl_buf_release(&raw[1]);
	fl_kv_release(&h);
}

FL_TEST(decode_damaged_record_skipped)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw = { 0 }, file = { 0 };
	struct fl_decoder *d;
	struct fl_flc_reader *r;
	struct fl_err err;
	struct sb s;
	const char *tmp = tmpname();
	int cpu[16];
	uint64_t addr[16];
	size_t victim = 0;
	int n;

	base_header(&h, 1, hp64, 8, false);
	fl_kv_addstr(&h, "format/exceptions/page_fault_user", fmt_pf64);
	for (int i = 0; i < 3; i++) {
		sb_init(&s, 1000 + 100 * i, false, 8);
		pf_event(&s, 0, 10, 0x100 + 2 * i);
		pf_event(&s, 5, 10, 0x101 + 2 * i);
		sb_finish(&s, 0);
		sb_to_buf(&s, &raw);
	}
	CHECK(write_flc(tmp, &h, &raw, 1, 4096, 1) == 0);

	/* Flip a byte in the middle of the second DATA record's zstd frame. */
	r = fl_flc_open(tmp, &err);
	CHECK(r);
	if (!r)
		return;
	for (size_t i = 0, k = 0; i < fl_flc_nrecs(r); i++) {
		const struct fl_flc_rec *rec = fl_flc_rec(r, i);

		if (rec->kind == FL_FLC_DATA && k++ == 1)
			victim = rec->offset + FL_FLC_REC_OVERHEAD + rec->zsize / 2;
	}
	fl_flc_free(r);
	CHECK(victim > 0);
	CHECK(read_file(tmp, &file));
	file.data[victim] ^= 0x5a;
	{
		FILE *f = fopen(tmp, "w");

		CHECK(f && fwrite(file.data, 1, file.len, f) == file.len);
		if (f)
			fclose(f);
	}

	n = collect(tmp, cpu, addr, 16, &d, &r);
	CHECK(n == 4);
	if (n == 4) {
		CHECK(addr[0] == 0x100 && addr[1] == 0x101);
		CHECK(addr[2] == 0x104 && addr[3] == 0x105);
	}
	if (n >= 0) {
		CHECK(fl_flc_nwarnings(r) >= 1);
		fl_decoder_free(d);
		fl_flc_free(r);
	}
	unlink(tmp);
	fl_buf_release(&raw);
	fl_buf_release(&file);
	fl_kv_release(&h);
}

FL_TEST(decode_missed_events_counted)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw[2] = { 0 };
	struct fl_decoder *d;
	struct fl_flc_reader *r;
	struct sb s;
	const char *tmp = tmpname();
	int cpu[16];
	uint64_t addr[16];
	int n;

	base_header(&h, 2, hp64, 8, false);
	fl_kv_addstr(&h, "format/exceptions/page_fault_user", fmt_pf64);
	sb_init(&s, 1000, false, 8);
	pf_event(&s, 0, 10, 0x1);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw[0]);
	sb_init(&s, 2000, false, 8);
	pf_event(&s, 0, 10, 0x2);
	sb_finish(&s, 37);		/* 37 events missed before this sub-buffer */
	sb_to_buf(&s, &raw[0]);
	sb_init(&s, 3000, false, 8);
	pf_event(&s, 0, 10, 0x3);
	sb_finish(&s, -1);		/* missed, count not stored */
	sb_to_buf(&s, &raw[1]);
	CHECK(write_flc(tmp, &h, raw, 2, 4096, 1) == 0);

	n = collect(tmp, cpu, addr, 16, &d, &r);
	CHECK(n == 3);
	if (n >= 0) {
		CHECK_EQ_U64(fl_decoder_lost(d, 0), 37);
		CHECK_EQ_U64(fl_decoder_lost_unknown(d, 0), 0);
		CHECK_EQ_U64(fl_decoder_lost(d, 1), 0);
		CHECK_EQ_U64(fl_decoder_lost_unknown(d, 1), 1);
		fl_decoder_free(d);
		fl_flc_free(r);
	}
	unlink(tmp);
	fl_buf_release(&raw[0]);
	fl_buf_release(&raw[1]);
	fl_kv_release(&h);
}

/* Unknown formats, unknown ids, and a field the capturing kernel lacked. */
FL_TEST(decode_unknown_and_missing_fields)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw = { 0 };
	struct fl_flc_reader *r;
	struct fl_decoder *d;
	struct fl_event ev[4];
	struct fl_err err;
	struct sb s;
	struct pl p;
	const char *tmp = tmpname();
	int n = 0;

	base_header(&h, 1, hp64, 8, false);
	fl_kv_addstr(&h, "format/exceptions/page_fault_user", fmt_pf64);
	fl_kv_addstr(&h, "format/test/other_event", fmt_other);
	fl_kv_addstr(&h, "format/mmap_lock/mmap_lock_start_locking", fmt_lock613);
	sb_init(&s, 5000, false, 8);
	pl_init(&p, false, 900, 7);		/* other_event: parsed, but not faultlab's */
	pl_put(&p, 8, 42, 4);
	sb_event(&s, 0, p.b, p.n);
	pl_init(&p, false, 4321, 7);		/* an id with no format at all */
	pl_put(&p, 8, 0, 8);
	sb_event(&s, 1, p.b, p.n);
	pl_init(&p, false, 501, 7);		/* 6.13 start_locking: memcg_path, write=1 */
	pl_put(&p, 8, 0xffff888012345678ULL, 8);
	pl_put(&p, 16, (6u << 16) | 24, 4);	/* __data_loc: 6 bytes at offset 24 */
	pl_put(&p, 20, 1, 1);
	memcpy(p.b + 24, "/user", 6);
	p.n = 32;
	sb_event(&s, 1, p.b, p.n);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw);
	CHECK(write_flc(tmp, &h, &raw, 1, 4096, 1) == 0);

	r = fl_flc_open(tmp, &err);
	d = r ? fl_decoder_open(r, &err) : NULL;
	CHECKF(d, "%s", err.msg);
	if (d) {
		while (n < 4 && fl_decoder_next(d, &ev[n], &err) == 1)
			n++;
		CHECK(n == 3);
		CHECK(ev[0].type == FL_EV_OTHER && ev[0].tep_id == 900 && ev[0].tid == 7);
		CHECK(ev[0].a[0] == 0);
		CHECK(fl_decoder_event_name(d, 900) &&
		      !strcmp(fl_decoder_event_name(d, 900), "test:other_event"));
		CHECK(ev[1].type == FL_EV_OTHER && ev[1].tep_id == 4321);
		CHECK(fl_decoder_event_name(d, 4321) == NULL);
		CHECK(ev[2].type == FL_EV_MMAP_LOCK_START);
		CHECK((uint64_t)ev[2].a[0] == 0xffff888012345678ULL);
		CHECK(ev[2].a[1] == 1);		/* write */
		CHECK(ev[2].a[2] == 0);		/* memcg_id: absent in this format */
		CHECK(ev[2].ts == 5002);
		CHECK_EQ_U64(fl_decoder_count_other(d), 2);
		fl_decoder_free(d);
	}
	fl_flc_free(r);
	unlink(tmp);
	fl_buf_release(&raw);
	fl_kv_release(&h);
}

/* A 32-bit big-endian capture (ppc32-like): commit word, fields and headers swapped. */
FL_TEST(decode_32bit_big_endian)
{
	static const char fmt_pf32[] =
		"name: page_fault_user\nID: 190\nformat:\n" COMMON_FIELDS
		"\tfield:unsigned long address;\toffset:8;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned long ip;\toffset:12;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned long error_code;\toffset:16;\tsize:4;\tsigned:0;\n\n"
		"print fmt: \"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, "
		"(void *)REC->ip, REC->error_code\n";
	static const char fmt_exit32[] =
		"name: sys_exit_mmap\nID: 173\nformat:\n" COMMON_FIELDS
		"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
		"\tfield:long ret;\toffset:12;\tsize:4;\tsigned:1;\n\n"
		"print fmt: \"0x%lx\", REC->ret\n";
	static const char fmt_sw32[] =
		"name: sched_switch\nID: 372\nformat:\n" COMMON_FIELDS
		"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
		"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
		"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
		"\tfield:long prev_state;\toffset:32;\tsize:4;\tsigned:1;\n"
		"\tfield:char next_comm[16];\toffset:36;\tsize:16;\tsigned:0;\n"
		"\tfield:pid_t next_pid;\toffset:52;\tsize:4;\tsigned:1;\n"
		"\tfield:int next_prio;\toffset:56;\tsize:4;\tsigned:1;\n\n"
		"print fmt: \"prev_pid=%d next_pid=%d\", REC->prev_pid, REC->next_pid\n";
	struct fl_kv h = { 0 };
	struct fl_buf raw = { 0 };
	struct fl_flc_reader *r;
	struct fl_decoder *d;
	struct fl_event ev[4];
	struct fl_err err;
	struct sb s;
	struct pl p;
	const char *tmp = tmpname();
	int n = 0;

	base_header(&h, 1, hp32, 4, true);
	fl_kv_addstr(&h, "format/exceptions/page_fault_user", fmt_pf32);
	fl_kv_addstr(&h, "format/syscalls/sys_exit_mmap", fmt_exit32);
	fl_kv_addstr(&h, "format/sched/sched_switch", fmt_sw32);
	sb_init(&s, 0x100000000ULL, true, 4);
	pl_init(&p, true, 190, 1234);
	pl_put(&p, 8, 0xbf001000, 4);
	pl_put(&p, 12, 0x10074, 4);
	pl_put(&p, 16, 0x5, 4);
	sb_event(&s, 3, p.b, p.n);
	pl_init(&p, true, 173, 1234);
	pl_put(&p, 8, 90, 4);
	pl_put(&p, 12, (uint32_t)-12, 4);	/* -ENOMEM */
	sb_event(&s, 2, p.b, p.n);
	pl_init(&p, true, 372, 1234);
	memcpy(p.b + 8, "worker", 7);
	pl_put(&p, 24, 1234, 4);
	pl_put(&p, 28, 120, 4);
	pl_put(&p, 32, 2, 4);
	memcpy(p.b + 36, "swapper/0", 10);
	pl_put(&p, 52, 0, 4);
	pl_put(&p, 56, 120, 4);
	sb_event(&s, 1, p.b, 60);
	sb_finish(&s, 0);
	sb_to_buf(&s, &raw);
	CHECK(write_flc(tmp, &h, &raw, 1, 4096, 1) == 0);

	r = fl_flc_open(tmp, &err);
	d = r ? fl_decoder_open(r, &err) : NULL;
	CHECKF(d, "%s", err.msg);
	if (d) {
		while (n < 4 && fl_decoder_next(d, &ev[n], &err) == 1)
			n++;
		CHECK(n == 3);
		CHECK(ev[0].type == FL_EV_PF_USER && ev[0].tid == 1234);
		CHECK(ev[0].ts == 0x100000003ULL);
		CHECK(ev[0].a[0] == 0xbf001000 && ev[0].a[1] == 0x10074 && ev[0].a[2] == 5);
		CHECK(ev[1].type == FL_EV_SYS_EXIT && ev[1].sys == FL_SYS_MMAP);
		CHECK(ev[1].a[0] == -12);
		CHECK(ev[1].ts == 0x100000005ULL);
		CHECK(ev[2].type == FL_EV_SCHED_SWITCH);
		CHECK(ev[2].a[0] == 1234 && ev[2].a[1] == 120 && ev[2].a[2] == 2);
		CHECK(ev[2].a[3] == 0 && ev[2].a[4] == 120);
		CHECK(!strcmp(ev[2].comm, "worker") && !strcmp(ev[2].comm2, "swapper/0"));
		fl_decoder_free(d);
	}
	fl_flc_free(r);
	unlink(tmp);
	fl_buf_release(&raw);
	fl_kv_release(&h);
}

/* A header without formats or header_page is refused with a message, not a crash. */
FL_TEST(decode_bad_header)
{
	struct fl_kv h = { 0 };
	struct fl_buf raw = { 0 };
	struct fl_flc_reader *r;
	struct fl_err err;
	const char *tmp = tmpname();

	fl_kv_addu64(&h, "flc.version", FL_FLC_VERSION);
	fl_kv_addu64(&h, "cpus", 1);
	CHECK(write_flc(tmp, &h, &raw, 1, 4096, 1) == 0);
	r = fl_flc_open(tmp, &err);
	CHECK(r);
	if (r) {
		err.msg[0] = 0;
		CHECK(fl_decoder_open(r, &err) == NULL);
		CHECK(strstr(err.msg, "header_page"));
		fl_flc_free(r);
	}
	unlink(tmp);
	fl_kv_release(&h);
}

/* ---- trace.dat ------------------------------------------------------ */

FL_TEST(tracedat_golden)
{
	const char *dat = fl_test_path("golden/tracedat-x86_64-6.18/trace.dat");
	const char *exp = fl_test_path("golden/tracedat-x86_64-6.18/expected.txt");
	struct fl_kv h = { 0 };
	struct fl_buf out = { 0 }, want = { 0 }, head = { 0 };
	struct fl_decoder *d;
	struct fl_event ev;
	struct fl_err err;
	uint64_t last = 0;
	long n = 0;
	int rc;

	CHECK(read_file(dat, &head));
	CHECK(fl_tracedat_sniff(head.data, head.len));
	CHECK(!fl_tracedat_sniff(head.data, 5));
	CHECK(!fl_flc_sniff(head.data, head.len));
	d = fl_decoder_open_tracedat(dat, &h, &err);
	CHECKF(d, "%s", err.msg);
	if (!d)
		goto out;
	while ((rc = fl_decoder_next(d, &ev, &err)) == 1) {
		CHECK(ev.ts >= last);
		last = ev.ts;
		format_event(&out, d, &ev);
		n++;
	}
	CHECK(rc == 0);
	CHECKF(n > 300, "only %ld events in the golden trace.dat", n);
	CHECK_EQ_U64(fl_kv_getu64(&h, "cpus", 0), 2);
	CHECK_EQ_U64(fl_kv_getu64(&h, "long_size", 0), 8);
	CHECK_EQ_U64(fl_kv_getu64(&h, "page_size", 0), 4096);
	CHECK_EQ_U64(fl_kv_getu64(&h, "big_endian", 9), 0);
	CHECK(fl_kv_getstr(&h, "clock") && !strcmp(fl_kv_getstr(&h, "clock"), "local"));
	CHECK(fl_kv_getstr(&h, "arch") && !strcmp(fl_kv_getstr(&h, "arch"), "x86_64"));
	CHECK(fl_kv_getstr(&h, "uname.release") &&
	      !strncmp(fl_kv_getstr(&h, "uname.release"), "6.18", 4));
	CHECK(fl_kv_getstr(&h, "tracedat.buffers") &&
	      !strncmp(fl_kv_getstr(&h, "tracedat.buffers"), "faultlab-golden-", 16));
	CHECK(fl_kv_getstr(&h, "events.formats") &&
	      strstr(fl_kv_getstr(&h, "events.formats"), "exceptions:page_fault_user\n"));
	/* The extract came from an instance: every event is on stream 1. */
	CHECK(fl_decoder_stream(d) == 1);
	CHECK(!strncmp(fl_decoder_stream_instance(d, 1), "faultlab-golden-", 16));
	CHECK(!strcmp(fl_decoder_stream_instance(d, 0), "main"));
	for (int c = 0; c < 2; c++)
		CHECK_EQ_U64(fl_decoder_lost(d, c), 0);
	fl_decoder_free(d);

	if (getenv("FL_UPDATE_GOLDEN")) {
		FILE *f = fopen(exp, "w");

		CHECK(f && fwrite(out.data, 1, out.len, f) == out.len);
		if (f)
			fclose(f);
	} else {
		CHECKF(read_file(exp, &want), "'%s' missing: run make update-golden", exp);
		CHECKF(out.len == want.len && !memcmp(out.data, want.data, out.len),
		       "'%s' differs from the decoder's output", exp);
	}
	{
		static const char *const types[] = {
			" page_fault_user ", " page_fault_kernel ", " mmap_lock_start_locking ",
			" sched_process_fork ", " sched_process_exec ", " sys_enter:mmap ",
			" sys_exit:mmap ", " mm_filemap_fault ", " sched_switch ",
		};
		for (size_t i = 0; i < FL_ARRAY_SIZE(types); i++)
			CHECKF(strstr(out.data, types[i]), "no%sin the trace.dat output", types[i]);
	}
out:
	fl_kv_release(&h);
	fl_buf_release(&out);
	fl_buf_release(&want);
	fl_buf_release(&head);
}

FL_TEST(tracedat_not_a_tracedat)
{
	const char *tmp = tmpname();
	struct fl_kv h = { 0 };
	struct fl_err err;
	FILE *f = fopen(tmp, "w");

	CHECK(f);
	if (f) {
		fputs("\x17\x08\x44tracing6\0garbage", f);
		fclose(f);
	}
	err.msg[0] = 0;
	CHECK(fl_decoder_open_tracedat(tmp, &h, &err) == NULL);
	CHECK(strstr(err.msg, tmp) != NULL);
	CHECK(fl_decoder_open_tracedat("/nonexistent/x.dat", &h, &err) == NULL);
	unlink(tmp);
	fl_kv_release(&h);
}
