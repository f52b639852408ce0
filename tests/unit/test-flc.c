/*
 * Tests of the capture file format: round trip, truncation at every byte
 * (frame boundaries and inside frames), and single flipped bytes anywhere.
 * The invariant under damage: the reader never crashes, never allocates
 * without bound, and never returns a payload that differs from what was
 * written — a record is either intact or reported damaged.
 */
#include "tests/unit/test.h"
#include "capture/flc.h"

#include <stdlib.h>
#include <unistd.h>

#define NDATA 5

struct sample {
	struct fl_buf file;			/* the whole capture */
	struct fl_buf payload[NDATA];		/* what each DATA record holds */
	uint64_t end[NDATA];			/* file offset where DATA i ends */
	uint64_t header_end;
};

static void make_payload(struct fl_buf *b, int i)
{
	/* compressible but distinct: a sub-buffer-like pattern per record */
	for (int k = 0; k < 4096 * (i + 1); k++) {
		uint8_t c = (uint8_t)((k * 7 + i * 13) ^ (k >> 5));
		fl_buf_add(b, &c, 1);
	}
}

static void build_sample(struct sample *s)
{
	char path[] = "/tmp/faultlab-test-flc-XXXXXX";
	struct fl_kv hdr = { 0 }, snap = { 0 }, trl = { 0 };
	struct fl_flc_writer *w;
	struct fl_flc_stream *st[2];
	struct fl_err err;
	int fd = mkstemp(path);

	memset(s, 0, sizeof(*s));
	CHECK(fd >= 0);
	close(fd);
	w = fl_flc_create(path, 3, &err);
	CHECK(w);
	fl_kv_addu64(&hdr, "flc.version", FL_FLC_VERSION);
	fl_kv_addstr(&hdr, "uname.release", "6.18.0-test");
	fl_kv_add(&hdr, "cmdline", "a\0b c", 5);
	fl_kv_addu64(&hdr, "cpus", 2);
	CHECK(fl_flc_write_kv(w, FL_FLC_HEADER, &hdr, &err) == 0);
	s->header_end = fl_flc_bytes_written(w);
	st[0] = fl_flc_stream_new(w, 0);
	st[1] = fl_flc_stream_new(w, 1);
	for (int i = 0; i < NDATA; i++) {
		make_payload(&s->payload[i], i);
		CHECK(fl_flc_stream_write(st[i % 2], s->payload[i].data, s->payload[i].len,
					  &err) == 0);
		s->end[i] = fl_flc_bytes_written(w);
		if (i == 2) {
			fl_kv_addstr(&snap, "maps/42", "00400000-00401000 r-xp 0 0:0 0 /bin/x\n");
			CHECK(fl_flc_write_kv(w, FL_FLC_SNAPSHOT, &snap, &err) == 0);
		}
	}
	fl_kv_addu64(&trl, "lost/0", 7);
	CHECK(fl_flc_write_kv(w, FL_FLC_TRAILER, &trl, &err) == 0);
	fl_flc_stream_free(st[0]);
	fl_flc_stream_free(st[1]);
	CHECK(fl_flc_close(w, &err) == 0);
	CHECK(fl_buf_read_file(&s->file, path, &err) == 0);
	unlink(path);
	fl_kv_release(&hdr);
	fl_kv_release(&snap);
	fl_kv_release(&trl);
}

static void free_sample(struct sample *s)
{
	fl_buf_release(&s->file);
	for (int i = 0; i < NDATA; i++)
		fl_buf_release(&s->payload[i]);
}

/*
 * Loads every DATA record; returns how many loaded intact. Fails the test
 * if any record loads with content that differs from what was written.
 */
static int check_data(struct fl_flc_reader *r, const struct sample *s)
{
	struct fl_buf b = { 0 };
	struct fl_err err;
	int intact = 0, ndata = 0;

	for (size_t i = 0; i < fl_flc_nrecs(r); i++) {
		const struct fl_flc_rec *rec = fl_flc_rec(r, i);

		if (rec->kind != FL_FLC_DATA)
			continue;
		ndata++;
		if (fl_flc_load(r, i, &b, &err))
			continue;
		/* data record k has seq k+1, +1 after the snapshot (written after DATA 2) */
		int k = rec->seq - 1 - (rec->seq > 4);
		CHECKF(k >= 0 && k < NDATA, "unexpected seq %llu", (unsigned long long)rec->seq);
		if (k < 0 || k >= NDATA)
			continue;
		CHECKF(b.len == s->payload[k].len && !memcmp(b.data, s->payload[k].data, b.len),
		       "record seq %llu loaded with wrong content", (unsigned long long)rec->seq);
		CHECK(rec->cpu == k % 2);
		intact++;
	}
	fl_buf_release(&b);
	return intact;
}

FL_TEST(flc_round_trip)
{
	struct sample s;
	struct fl_flc_reader *r;
	struct fl_err err;
	const struct fl_kv_item *it;

	build_sample(&s);
	r = fl_flc_open_mem(s.file.data, s.file.len, &err);
	CHECKF(r, "open: %s", err.msg);
	if (!r)
		goto out;
	CHECK(fl_flc_complete(r));
	CHECK(!fl_flc_truncated(r));
	CHECK_EQ_U64(fl_flc_nwarnings(r), 0);
	CHECK_EQ_U64(fl_flc_nrecs(r), 1 + NDATA + 1 + 1 + 1);
	CHECK(!strcmp(fl_kv_getstr(fl_flc_header(r), "uname.release"), "6.18.0-test"));
	it = fl_kv_find(fl_flc_header(r), "cmdline");
	CHECK(it && it->len == 5 && !memcmp(it->val, "a\0b c", 5));
	CHECK_EQ_U64(fl_kv_getu64(fl_flc_header(r), "cpus", 0), 2);
	CHECK_EQ_U64(fl_kv_getu64(fl_flc_trailer(r), "lost/0", 0), 7);
	CHECK_EQ_U64(fl_flc_nsnapshots(r), 1);
	CHECK(fl_flc_nsnapshots(r) == 1 &&
	      strstr(fl_kv_getstr(fl_flc_snapshot(r, 0), "maps/42"), "/bin/x"));
	CHECK_EQ_U64(check_data(r, &s), NDATA);
	CHECK(fl_flc_content_hash(r) == fl_hash64(FL_HASH64_INIT, s.file.data, s.file.len));
	CHECK_EQ_U64(fl_flc_bytes_lost(r), 0);
	fl_flc_free(r);
out:
	free_sample(&s);
}

FL_TEST(flc_truncated_everywhere)
{
	struct sample s;
	struct fl_err err;

	build_sample(&s);
	for (size_t cut = 0; cut < s.file.len; cut++) {
		struct fl_flc_reader *r = fl_flc_open_mem(s.file.data, cut, &err);
		int want = 0;

		for (int i = 0; i < NDATA; i++)
			want += s.end[i] <= cut;
		if (cut < s.header_end) {
			CHECKF(!r, "cut at %zu: header is incomplete but open succeeded", cut);
			fl_flc_free(r);
			continue;
		}
		CHECKF(r, "cut at %zu: open failed: %s", cut, err.msg);
		if (!r)
			continue;
		CHECKF(fl_flc_truncated(r), "cut at %zu not reported as truncated", cut);
		CHECK(!fl_flc_complete(r));
		CHECK(fl_flc_nwarnings(r) > 0);
		CHECKF(check_data(r, &s) == want, "cut at %zu: expected %d intact records", cut,
		       want);
		fl_flc_free(r);
	}
	free_sample(&s);
}

FL_TEST(flc_flipped_bytes)
{
	struct sample s;
	struct fl_err err;
	int opened = 0, damaged_seen = 0;

	build_sample(&s);
	for (size_t pos = 0; pos < s.file.len; pos++) {
		char *copy = fl_malloc(s.file.len);
		struct fl_flc_reader *r;

		memcpy(copy, s.file.data, s.file.len);
		copy[pos] ^= 0x5a;
		r = fl_flc_open_mem(copy, s.file.len, &err);
		if (r) {
			int intact = check_data(r, &s);

			opened++;
			/* one flipped byte damages at most one record */
			CHECKF(intact >= NDATA - 1, "flip at %zu lost %d records", pos,
			       NDATA - intact);
			if (intact < NDATA) {
				damaged_seen++;
				CHECKF(fl_flc_nwarnings(r) > 0 && !fl_flc_complete(r),
				       "flip at %zu: damage not reported", pos);
			}
			fl_flc_free(r);
		} else {
			/* only damage to the header record may make the file unreadable */
			CHECKF(pos < s.header_end, "flip at %zu (after the header) failed open: %s",
			       pos, err.msg);
		}
		free(copy);
	}
	CHECK(opened > 0);
	CHECK(damaged_seen > 0);
	free_sample(&s);
}

FL_TEST(flc_not_a_capture)
{
	static const char junk[] = "this is a text file, not a capture\n";
	struct fl_err err;
	struct fl_flc_reader *r = fl_flc_open_mem(junk, sizeof(junk) - 1, &err);

	CHECK(!r);
	CHECK(strstr(err.msg, "not a faultlab capture"));
	r = fl_flc_open("/nonexistent/x.flc", &err);
	CHECK(!r);
	CHECK(strstr(err.msg, "cannot open '/nonexistent/x.flc'"));
}

FL_TEST(kv_parse_rejects_bad_lengths)
{
	struct fl_kv kv = { 0 };
	struct fl_err err;
	uint8_t bad[12];

	fl_put_le32(bad, 3);
	memcpy(bad + 4, "abc", 3);
	fl_put_le32(bad + 7, 1000);	/* value longer than the buffer */
	CHECK(fl_kv_parse(&kv, bad, 11, &err) == -1);
	CHECK(strstr(err.msg, "claims 1000 bytes"));
	fl_kv_release(&kv);
}
