/*
 * rbenc.c - the ring-buffer sub-buffer encoder for tests (see rbenc.h).
 *
 * It writes what kernel/trace/ring_buffer.c writes and trace_pipe_raw hands
 * out, from the layout texts alone (no libtraceevent, so that decoding the
 * result with the decoder, which does use libtraceevent, is an independent
 * check of both):
 *
 *   sub-buffer:  header_page's `timestamp` (u64: the time of the first event),
 *                `commit` (local_t: bytes of event data, bit 31 RB_MISSED_EVENTS,
 *                bit 30 RB_MISSED_STORED with the count stored as a long right
 *                after the data), then the data at header_page's `data` offset.
 *   event:       a 32-bit header, type_len in bits 0..4 and time_delta (ns since
 *                the previous event, or since the sub-buffer's time stamp for
 *                the first) in bits 5..31 (little-endian files), then
 *                - type_len 1..28: type_len * 4 bytes of record;
 *                - type_len 0: a u32 length (record bytes rounded up to 4, plus
 *                  the 4 of the length word itself), then the record; used for
 *                  records over 112 bytes (RB_MAX_SMALL_DATA);
 *                - type_len 30 (TIME_EXTEND): a delta that does not fit 27 bits:
 *                  low 27 bits in time_delta, the rest in the following u32;
 *                  the event after it has time_delta 0.
 *   record:      the format's fields at their offsets; the fixed part is the
 *                struct's size (last field's end rounded up to the largest
 *                field alignment), __data_loc strings follow it with the field
 *                holding (length << 16 | offset).
 *
 * Invariants: per stream, events are added in time order; a sub-buffer holds
 * at most header_page's data size bytes; a stream's raw bytes are whole
 * sub-buffers. Units: ns, bytes. Little-endian captures only (every machine
 * faultlab's goldens come from); the 4-byte commit of 32-bit kernels works.
 */
#include "tests/unit/rbenc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/flc.h"

#define TYPE_LEN_MAX_DATA	28		/* RINGBUF_TYPE_DATA_TYPE_LEN_MAX */
#define TYPE_TIME_EXTEND	30
#define MAX_SMALL_DATA		(TYPE_LEN_MAX_DATA * 4)
#define DELTA_BITS		27
#define MISSED_EVENTS		(1ull << 31)
#define MISSED_STORED		(1ull << 30)

struct rfield {
	char *name;
	uint32_t off, size;	/* bytes */
	bool sign;
	bool array;		/* char name[N] */
	bool dyn, rel;		/* __data_loc / __rel_loc */
};

struct rformat {
	char *sys, *name;
	int id;
	struct rfield *f;
	size_t nf;
	uint32_t fixed;		/* bytes: sizeof the kernel's trace_event_raw_* struct */
	char *text;		/* the format text as stored */
	size_t textlen;
	bool used;		/* an event of this format was encoded */
};

struct rstream {
	struct fl_buf raw;	/* closed sub-buffers */
	uint8_t *page;		/* the open sub-buffer (subbuf bytes), NULL = none */
	size_t used;		/* bytes of event data in page */
	uint64_t last_ts;	/* ns of the last event (time deltas run from it) */
	bool any;		/* an event was added */
	unsigned nevents;	/* events in the open sub-buffer */
	bool lost_pending, lost_stored;
	uint64_t lost;		/* events missed before the next sub-buffer */
};

struct rbenc {
	struct fl_kv meta;
	char *hp;		/* header_page text */
	size_t hplen;
	uint32_t ts_size;	/* bytes of the sub-buffer time stamp */
	uint32_t commit_off, commit_size;
	uint32_t data_off, data_size;
	struct rformat *fmt;
	size_t nfmt;
	struct rstream *st;
	int nst, cpus;
	unsigned page_events;
	uint64_t full, extends;
};

/* ---- format text ------------------------------------------------------ */

/* Parses one "\tfield:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;" line. */
static int parse_field(const char *line, struct rfield *f)
{
	const char *decl = strstr(line, "field:"), *semi, *name;
	const char *o = strstr(line, "offset:"), *s = strstr(line, "size:"),
		   *g = strstr(line, "signed:");
	size_t n;

	if (!decl || !o || !s)
		return -1;
	decl += 6;
	semi = strchr(decl, ';');
	if (!semi)
		return -1;
	memset(f, 0, sizeof(*f));
	f->dyn = !strncmp(decl, "__data_loc", 10);
	f->rel = !strncmp(decl, "__rel_loc", 9);
	/* the name is the last word of the declaration, without [N] */
	name = semi;
	while (name > decl && name[-1] != ' ')
		name--;
	n = semi - name;
	if (memchr(name, '[', n)) {
		n = (const char *)memchr(name, '[', n) - name;
		f->array = !f->dyn && !f->rel;
	}
	if (!n)
		return -1;
	f->name = fl_malloc(n + 1);
	memcpy(f->name, name, n);
	f->name[n] = 0;
	f->off = (uint32_t)strtoul(o + 7, NULL, 10);
	f->size = (uint32_t)strtoul(s + 5, NULL, 10);
	f->sign = g && g[7] == '1';
	return 0;
}

/* The fields of a format or header_page text, in order. */
static int parse_fields(const char *text, struct rfield **out, size_t *nout)
{
	const char *p = text;

	*out = NULL;
	*nout = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		char line[512];
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = 0;
			if (strstr(line, "field:")) {
				*out = fl_realloc(*out, (*nout + 1) * sizeof(**out));
				if (parse_field(line, &(*out)[*nout]) < 0)
					return -1;
				(*nout)++;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static const struct rfield *field_named(const struct rfield *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static void free_fields(struct rfield *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].name);
	free(f);
}

static int add_format(struct rbenc *e, const char *sys, const char *text, size_t len,
		      struct fl_err *err)
{
	struct rformat *fm;
	const char *idl = strstr(text, "\nID: "), *nm = strncmp(text, "name: ", 6) ? NULL : text;
	uint32_t end = 0, align = 1;

	if (!idl || !nm)
		return fl_seterr(err, "format of '%s' lacks 'name:' or 'ID:'", sys);
	e->fmt = fl_realloc(e->fmt, (e->nfmt + 1) * sizeof(*e->fmt));
	fm = &e->fmt[e->nfmt];
	memset(fm, 0, sizeof(*fm));
	fm->sys = fl_strdup(sys);
	fm->name = fl_strdup(nm + 6);
	fm->name[strcspn(fm->name, "\n")] = 0;
	fm->id = atoi(idl + 5);
	fm->text = fl_malloc(len + 1);
	memcpy(fm->text, text, len);
	fm->text[len] = 0;
	fm->textlen = len;
	e->nfmt++;
	for (size_t i = 0; i < e->nfmt - 1; i++)
		if (e->fmt[i].id == fm->id || (!strcmp(e->fmt[i].sys, sys) &&
					       !strcmp(e->fmt[i].name, fm->name)))
			return fl_seterr(err, "format '%s:%s' (id %d) loaded twice", sys,
					 fm->name, fm->id);
	if (parse_fields(fm->text, &fm->f, &fm->nf) < 0 || !fm->nf)
		return fl_seterr(err, "cannot parse the fields of format '%s:%s'", sys, fm->name);
	for (size_t i = 0; i < fm->nf; i++) {
		const struct rfield *f = &fm->f[i];
		uint32_t a = f->array ? 1 : f->size >= 8 ? 8 : f->size;

		if (f->off + f->size > end)
			end = f->off + f->size;
		if (a > align)
			align = a;
	}
	fm->fixed = (end + align - 1) / align * align;
	return 0;
}

static int load_dir(struct rbenc *e, const char *dir, int depth, struct fl_err *err)
{
	struct fl_buf b = { 0 };
	char path[1024];
	struct dirent *de;
	DIR *dd;
	int ret = -1;

	if (depth > 4)
		return fl_seterr(err, "'%s': 'base' chain too long", dir);
	snprintf(path, sizeof(path), "%s/meta", dir);
	if (fl_buf_read_file(&b, path, err) == 0 && b.data) {
		char *save, *line;

		for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(line, ' ');

			if (!sp || line[0] == '#')
				continue;
			*sp = 0;
			if (!strcmp(line, "base")) {
				char base[1024], *slash;

				snprintf(base, sizeof(base), "%s", dir);
				slash = strrchr(base, '/');
				snprintf(slash ? slash + 1 : base,
					 sizeof(base) - (slash ? slash + 1 - base : 0), "%s", sp + 1);
				if (load_dir(e, base, depth + 1, err) < 0)
					goto out;
				continue;
			}
			/* this directory's meta overrides its base's */
			for (size_t i = 0; i < e->meta.n; i++)
				if (!strcmp(e->meta.items[i].key, line))
					e->meta.items[i].key[0] = 0;
			fl_kv_addstr(&e->meta, line, sp + 1);
		}
	}
	fl_buf_reset(&b);
	snprintf(path, sizeof(path), "%s/header_page", dir);
	if (fl_buf_read_file(&b, path, err) == 0 && b.len) {
		if (e->hp) {
			fl_seterr(err, "'%s' has a header_page and so has its base", dir);
			goto out;
		}
		e->hp = fl_malloc(b.len + 1);
		memcpy(e->hp, b.data, b.len);
		e->hp[b.len] = 0;
		e->hplen = b.len;
	}
	dd = opendir(dir);
	if (!dd) {
		fl_seterr(err, "cannot open '%s'", dir);
		goto out;
	}
	while ((de = readdir(dd))) {
		char sys[256], *dot;

		if (strncmp(de->d_name, "format.", 7))
			continue;
		snprintf(sys, sizeof(sys), "%s", de->d_name + 7);
		dot = strchr(sys, '.');
		if (!dot)
			continue;
		*dot = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fl_buf_reset(&b);
		if (fl_buf_read_file(&b, path, err) < 0 || !b.data ||
		    add_format(e, sys, b.data, b.len, err) < 0) {
			closedir(dd);
			goto out;
		}
	}
	closedir(dd);
	ret = 0;
out:
	fl_buf_release(&b);
	return ret;
}

struct rbenc *rbenc_new(const char *dir, struct fl_err *err)
{
	struct rbenc *e = fl_calloc(1, sizeof(*e));
	struct rfield *hf;
	const struct rfield *ts, *commit, *data;
	size_t nhf;

	if (load_dir(e, dir, 0, err) < 0)
		goto fail;
	if (!e->hp) {
		fl_seterr(err, "'%s' (and its base) has no header_page", dir);
		goto fail;
	}
	if (fl_kv_getu64(&e->meta, "big_endian", 0)) {
		fl_seterr(err, "'%s': big-endian captures are not encoded", dir);
		goto fail;
	}
	if (parse_fields(e->hp, &hf, &nhf) < 0) {
		fl_seterr(err, "cannot parse '%s' header_page", dir);
		goto fail;
	}
	ts = field_named(hf, nhf, "timestamp");
	commit = field_named(hf, nhf, "commit");
	data = field_named(hf, nhf, "data");
	if (!ts || !commit || !data || ts->off != 0 || (commit->size != 4 && commit->size != 8)) {
		free_fields(hf, nhf);
		fl_seterr(err, "'%s' header_page lacks timestamp/commit/data", dir);
		goto fail;
	}
	e->ts_size = ts->size;
	e->commit_off = commit->off;
	e->commit_size = commit->size;
	e->data_off = data->off;
	e->data_size = data->size;
	free_fields(hf, nhf);
	e->cpus = (int)fl_kv_getu64(&e->meta, "cpus", 1);
	if (e->cpus < 1 || e->cpus > 64) {
		fl_seterr(err, "'%s': meta 'cpus' out of range", dir);
		goto fail;
	}
	e->nst = 2 * e->cpus;
	e->st = fl_calloc(e->nst, sizeof(*e->st));
	return e;
fail:
	rbenc_free(e);
	return NULL;
}

void rbenc_free(struct rbenc *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nfmt; i++) {
		free(e->fmt[i].sys);
		free(e->fmt[i].name);
		free(e->fmt[i].text);
		free_fields(e->fmt[i].f, e->fmt[i].nf);
	}
	free(e->fmt);
	for (int s = 0; s < e->nst; s++) {
		fl_buf_release(&e->st[s].raw);
		free(e->st[s].page);
	}
	free(e->st);
	free(e->hp);
	fl_kv_release(&e->meta);
	free(e);
}

static struct rformat *format_by_id(const struct rbenc *e, int id)
{
	for (size_t i = 0; i < e->nfmt; i++)
		if (e->fmt[i].id == id)
			return &e->fmt[i];
	return NULL;
}

int rbenc_event_id(const struct rbenc *e, const char *sys, const char *name)
{
	for (size_t i = 0; i < e->nfmt; i++)
		if (!strcmp(e->fmt[i].sys, sys) && !strcmp(e->fmt[i].name, name))
			return e->fmt[i].id;
	return -1;
}

const char *rbenc_field_after(const struct rbenc *e, int id, const char *after, int n)
{
	const struct rformat *fm = format_by_id(e, id);

	for (size_t i = 0; fm && i < fm->nf; i++)
		if (!strcmp(fm->f[i].name, after))
			return i + 1 + n < fm->nf ? fm->f[i + 1 + n].name : NULL;
	return NULL;
}

bool rbenc_has_field(const struct rbenc *e, int id, const char *name)
{
	const struct rformat *fm = format_by_id(e, id);

	return fm && field_named(fm->f, fm->nf, name);
}

size_t rbenc_fixed_size(const struct rbenc *e, int id, bool *dyn)
{
	const struct rformat *fm = format_by_id(e, id);

	*dyn = false;
	for (size_t i = 0; fm && i < fm->nf; i++)
		*dyn |= fm->f[i].dyn || fm->f[i].rel;
	return fm ? fm->fixed : 0;
}

const struct fl_kv *rbenc_meta(const struct rbenc *e)
{
	return &e->meta;
}

size_t rbenc_subbuf_size(const struct rbenc *e)
{
	return e->data_off + e->data_size;
}

int rbenc_nstreams(const struct rbenc *e)
{
	return e->nst;
}

uint64_t rbenc_full_subbufs(const struct rbenc *e)
{
	return e->full;
}

uint64_t rbenc_time_extends(const struct rbenc *e)
{
	return e->extends;
}

void rbenc_set_page_events(struct rbenc *e, unsigned n)
{
	e->page_events = n;
}

/* ---- sub-buffers ------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void open_page(struct rbenc *e, struct rstream *s, uint64_t ts)
{
	s->page = fl_calloc(1, rbenc_subbuf_size(e));
	put_le(s->page, ts, e->ts_size);
	s->used = 0;
	s->nevents = 0;
}

static void close_page(struct rbenc *e, struct rstream *s)
{
	uint64_t commit;

	if (!s->page)
		return;
	commit = s->used;
	if (s->lost_pending) {
		commit |= MISSED_EVENTS;
		if (s->lost_stored && e->data_size - s->used >= (uint32_t)e->commit_size) {
			put_le(s->page + e->data_off + s->used, s->lost, e->commit_size);
			commit |= MISSED_STORED;
		}
		s->lost_pending = false;
		s->lost = 0;
	}
	put_le(s->page + e->commit_off, commit, e->commit_size);
	fl_buf_add(&s->raw, s->page, rbenc_subbuf_size(e));
	free(s->page);
	s->page = NULL;
}

void rbenc_break(struct rbenc *e, int stream)
{
	if (stream >= 0 && stream < e->nst)
		close_page(e, &e->st[stream]);
}

void rbenc_lost(struct rbenc *e, int stream, uint64_t n, bool stored)
{
	struct rstream *s;

	if (stream < 0 || stream >= e->nst)
		return;
	s = &e->st[stream];
	close_page(e, s);
	s->lost_pending = true;
	s->lost_stored = stored;
	s->lost += n;
}

const struct fl_buf *rbenc_stream(struct rbenc *e, int stream)
{
	struct rstream *s = &e->st[stream];

	close_page(e, s);
	if (s->lost_pending) {
		/* a loss after the last event: an empty sub-buffer carries it */
		open_page(e, s, s->last_ts);
		close_page(e, s);
	}
	return &s->raw;
}

/* Writes one integer or string field of a record; rec has room for fixed + strings. */
static int put_field(const struct rformat *fm, const struct rfield *f, const struct rbenc_field *v,
		     struct fl_buf *rec, struct fl_err *err)
{
	uint8_t *p = (uint8_t *)rec->data;

	if (f->dyn || f->rel) {
		size_t n = strlen(v->str ? v->str : "") + 1;
		uint32_t at = (uint32_t)rec->len, loc;

		if (!v->str || f->size != 4 || n > 0xffff)
			return fl_seterr(err, "%s:%s field '%s' wants a string", fm->sys, fm->name,
					 f->name);
		fl_buf_add(rec, v->str, n);
		p = (uint8_t *)rec->data;
		loc = (uint32_t)n << 16 | (f->rel ? at - (f->off + 4) : at);
		put_le(p + f->off, loc, 4);
		return 0;
	}
	if (f->array) {
		if (!v->str || strlen(v->str) >= f->size)
			return fl_seterr(err, "%s:%s field '%s' wants a string of < %u bytes",
					 fm->sys, fm->name, f->name, f->size);
		memcpy(p + f->off, v->str, strlen(v->str));
		return 0;
	}
	if (v->str || (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
		return fl_seterr(err, "%s:%s field '%s' is not a string", fm->sys, fm->name,
				 f->name);
	if (f->size < 8) {
		int64_t lo = f->sign ? -((int64_t)1 << (8 * f->size - 1)) : 0;
		int64_t hi = f->sign ? ((int64_t)1 << (8 * f->size - 1)) - 1 :
				       ((int64_t)1 << (8 * f->size)) - 1;

		if (v->val < lo || v->val > hi)
			return fl_seterr(err, "%s:%s field '%s' (%u bytes, %s) cannot hold %lld",
					 fm->sys, fm->name, f->name, f->size,
					 f->sign ? "signed" : "unsigned", (long long)v->val);
	}
	put_le(p + f->off, (uint64_t)v->val, f->size);
	return 0;
}

int rbenc_add(struct rbenc *e, int stream, uint64_t ts, int id, int32_t tid,
	      const struct rbenc_field *fv, size_t nf, struct fl_err *err)
{
	struct rformat *fm = format_by_id(e, id);
	struct rstream *s;
	struct fl_buf rec = { 0 };
	struct rbenc_field common[2] = { { "common_type", id, NULL }, { "common_pid", tid, NULL } };
	uint64_t delta = 0;
	size_t len, need, dlen;
	uint8_t *at;
	uint32_t hdr;
	int ret = -1;

	if (!fm)
		return fl_seterr(err, "no format with id %d", id);
	if (stream < 0 || stream >= e->nst)
		return fl_seterr(err, "stream %d out of range (0..%d)", stream, e->nst - 1);
	s = &e->st[stream];
	if (s->any && ts < s->last_ts)
		return fl_seterr(err, "%s:%s at %llu is older than stream %d's last event (%llu)",
				 fm->sys, fm->name, (unsigned long long)ts, stream,
				 (unsigned long long)s->last_ts);

	/* the record: fixed part, then __data_loc strings */
	{
		uint8_t *zero = fl_calloc(1, fm->fixed);

		fl_buf_add(&rec, zero, fm->fixed);
		free(zero);
	}
	for (int i = 0; i < 2; i++) {
		const struct rfield *f = field_named(fm->f, fm->nf, common[i].name);

		if (!f || put_field(fm, f, &common[i], &rec, err) < 0) {
			if (!f)
				fl_seterr(err, "%s:%s lacks '%s'", fm->sys, fm->name, common[i].name);
			goto out;
		}
	}
	for (size_t i = 0; i < nf; i++) {
		const struct rfield *f = field_named(fm->f, fm->nf, fv[i].name);

		if (!f) {
			fl_seterr(err, "%s:%s has no field '%s'", fm->sys, fm->name, fv[i].name);
			goto out;
		}
		if (put_field(fm, f, &fv[i], &rec, err) < 0)
			goto out;
	}
	/* dynamic fields not given still point at an empty string */
	for (size_t i = 0; i < fm->nf; i++) {
		const struct rfield *f = &fm->f[i];
		bool given = false;

		for (size_t j = 0; j < nf; j++)
			given |= !strcmp(fv[j].name, f->name);
		if ((f->dyn || f->rel) && !given) {
			struct rbenc_field empty = { f->name, 0, "" };

			if (put_field(fm, f, &empty, &rec, err) < 0)
				goto out;
		}
	}

	len = rec.len ? rec.len : 1;
	dlen = (len + 3) & ~(size_t)3;
	need = 4 + (len > MAX_SMALL_DATA ? 4 : 0) + dlen;
	if (need > e->data_size) {
		fl_seterr(err, "%s:%s record of %zu bytes does not fit a sub-buffer", fm->sys,
			  fm->name, len);
		goto out;
	}
	if (s->page) {
		delta = ts - s->last_ts;
		if (delta >> DELTA_BITS)
			need += 8;
		if (s->used + need > e->data_size || (e->page_events &&
						      s->nevents >= e->page_events)) {
			if (s->used + need > e->data_size)
				e->full++;
			close_page(e, s);
		}
	}
	if (!s->page) {
		open_page(e, s, ts);
		delta = 0;
	}
	at = s->page + e->data_off + s->used;
	if (delta >> DELTA_BITS) {
		hdr = TYPE_TIME_EXTEND | (uint32_t)(delta & ((1u << DELTA_BITS) - 1)) << 5;
		put_le(at, hdr, 4);
		put_le(at + 4, delta >> DELTA_BITS, 4);
		if (delta >> (DELTA_BITS + 32)) {
			fl_seterr(err, "time delta %llu ns too large for a time extend",
				  (unsigned long long)delta);
			goto out;
		}
		at += 8;
		s->used += 8;
		e->extends++;
		delta = 0;
	}
	if (len <= MAX_SMALL_DATA) {
		hdr = (uint32_t)(dlen / 4) | (uint32_t)delta << 5;
		put_le(at, hdr, 4);
		memcpy(at + 4, rec.data, rec.len);
		s->used += 4 + dlen;
	} else {
		hdr = (uint32_t)delta << 5;	/* type_len 0 */
		put_le(at, hdr, 4);
		put_le(at + 4, dlen + 4, 4);
		memcpy(at + 8, rec.data, rec.len);
		s->used += 8 + dlen;
	}
	s->nevents++;
	s->last_ts = ts;
	s->any = true;
	fm->used = true;
	ret = 0;
out:
	fl_buf_release(&rec);
	return ret;
}

/* ---- the capture ------------------------------------------------------ */

static bool listed(const char *list, const char *sys, const char *name)
{
	char want[256];
	size_t n;

	snprintf(want, sizeof(want), "%s:%s", sys, name);
	n = strlen(want);
	for (const char *p = list; (p = strstr(p, want)); p += n)
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return true;
	return false;
}

static void add_default(struct fl_kv *h, const struct fl_kv *mine, const char *key, const char *v)
{
	if (!mine || !fl_kv_find(mine, key))
		fl_kv_addstr(h, key, v);
}

int rbenc_flc(struct rbenc *e, const struct fl_kv *header, const struct fl_kv *snapshot,
	      size_t per_record, struct fl_buf *out, struct fl_err *err)
{
	struct fl_kv h = { 0 }, tr = { 0 };
	struct fl_buf list = { 0 };
	struct fl_flc_writer *w = NULL;
	struct fl_flc_stream **fs = NULL;
	const char *enabled;
	char path[64], num[32];
	bool global = false;
	uint64_t last = 0;
	size_t sb = rbenc_subbuf_size(e), *off = NULL;
	int fd, ret = -1;

	fl_buf_reset(out);
	for (int s = 0; s < e->nst; s++) {
		rbenc_stream(e, s);
		if (s >= e->cpus && e->st[s].raw.len)
			global = true;
		if (e->st[s].last_ts > last)
			last = e->st[s].last_ts;
	}
	for (size_t i = 0; header && i < header->n; i++)
		fl_kv_add(&h, header->items[i].key, header->items[i].val, header->items[i].len);
	snprintf(num, sizeof(num), "%d", FL_FLC_VERSION);
	add_default(&h, header, "flc.version", num);
	for (size_t i = 0; i < e->meta.n; i++)
		if (e->meta.items[i].key[0] && strcmp(e->meta.items[i].key, "subbuf_size"))
			add_default(&h, header, e->meta.items[i].key, e->meta.items[i].val);
	snprintf(num, sizeof(num), "%zu", sb);
	add_default(&h, header, "subbuf_size", num);
	if (global) {
		snprintf(num, sizeof(num), "%d", e->nst);
		add_default(&h, header, "streams", num);
		for (int s = 0; s < e->nst; s++) {
			char key[32], val[64];

			snprintf(key, sizeof(key), "stream/%d", s);
			snprintf(val, sizeof(val), "cpu %d instance %s", s % e->cpus,
				 s < e->cpus ? "main" : "global");
			add_default(&h, header, key, val);
		}
	}
	if (!header || !fl_kv_find(header, "header_page"))
		fl_kv_add(&h, "header_page", e->hp, e->hplen);
	enabled = header ? fl_kv_getstr(header, "events.enabled") : NULL;
	for (size_t i = 0; i < e->nfmt; i++) {
		const struct rformat *fm = &e->fmt[i];
		char key[256];

		if (enabled && !listed(enabled, fm->sys, fm->name)) {
			if (fm->used) {
				fl_seterr(err, "'%s:%s' events were encoded but the header's "
					  "events.enabled lacks it", fm->sys, fm->name);
				goto out;
			}
			continue;
		}
		if (!enabled)
			fl_buf_addf(&list, "%s%s:%s", list.len ? "\n" : "", fm->sys, fm->name);
		snprintf(key, sizeof(key), "format/%s/%s", fm->sys, fm->name);
		fl_kv_add(&h, key, fm->text, fm->textlen);
	}
	if (!enabled)
		fl_kv_addstr(&h, "events.enabled", list.data ? list.data : "");

	fd = memfd_create("rbenc-flc", 0);
	if (fd < 0) {
		fl_seterr(err, "memfd_create failed");
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w = fl_flc_create(path, 1, err);
	if (!w)
		goto out_fd;
	if (fl_flc_write_kv(w, FL_FLC_HEADER, &h, err) < 0)
		goto out_w;
	if (snapshot && fl_flc_write_kv(w, FL_FLC_SNAPSHOT, snapshot, err) < 0)
		goto out_w;
	fs = fl_calloc(e->nst, sizeof(*fs));
	off = fl_calloc(e->nst, sizeof(*off));
	for (int s = 0; s < e->nst; s++)
		fs[s] = fl_flc_stream_new(w, s);
	for (bool more = true; more;) {
		more = false;
		for (int s = 0; s < e->nst; s++) {
			size_t n = e->st[s].raw.len - off[s];

			if (!n || (!global && s >= e->cpus))
				continue;
			if (per_record && n > sb * per_record)
				n = sb * per_record;
			if (fl_flc_stream_write(fs[s], e->st[s].raw.data + off[s], n, err) < 0)
				goto out_w;
			off[s] += n;
			more = true;
		}
	}
	fl_kv_addu64(&tr, "end.trace_ns", last);
	if (fl_flc_write_kv(w, FL_FLC_TRAILER, &tr, err) < 0)
		goto out_w;
	for (int s = 0; s < e->nst; s++)
		fl_flc_stream_free(fs[s]);
	free(fs);
	fs = NULL;
	ret = fl_flc_close(w, err);
	w = NULL;
	if (ret == 0)
		ret = fl_buf_read_file(out, path, err);
out_w:
	if (fs) {
		for (int s = 0; s < e->nst; s++)
			fl_flc_stream_free(fs[s]);
		free(fs);
	}
	if (w)
		fl_flc_abandon(w);
out_fd:
	close(fd);
out:
	free(off);
	fl_buf_release(&list);
	fl_kv_release(&h);
	fl_kv_release(&tr);
	return ret;
}
