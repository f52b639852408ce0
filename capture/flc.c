/*
 * flc.c - the capture file format: writer and reader (layout in flc.h).
 *
 * Writer: records are appended under one mutex; each per-CPU stream
 * compresses in its own thread with its own ZSTD_CCtx, so compression scales
 * with the reader threads and only the write(2) is serialised. Every payload
 * is an independent zstd frame with a content checksum.
 *
 * Reader: the file is mapped and indexed by walking the 40-byte record
 * headers; payloads are decompressed only when asked (fl_flc_load), so a
 * reader of a multi-GiB capture holds one record at a time. The walk never
 * trusts a length it has not checked against the file size, never allocates
 * more than FL_FLC_MAX_RAW for a record, and treats damage as warnings:
 *  - a header that fails its CRC, or bytes that are not a record, are
 *    skipped up to the next header pattern (resync);
 *  - a record that runs past the end of the file ends the walk (truncation);
 *  - a payload that fails to decompress or to match its checksum marks the
 *    record bad when it is loaded.
 * Only a file without a readable HEADER record is an error.
 */
#include "capture/flc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#define FL_FLC_MAX_RAW		(256u << 20)	/* largest payload accepted, bytes */
#define FL_FLC_MAX_WARNINGS	64		/* kept verbatim; later ones are counted */

/* ---- writer ---------------------------------------------------------- */

struct fl_flc_writer {
	int fd;
	pthread_mutex_t lock;		/* serialises appends and seq */
	uint64_t seq;			/* next record number */
	uint64_t bytes_written;		/* file bytes so far */
	uint64_t bytes_raw;		/* payload bytes before compression */
	int level;			/* zstd level */
	int write_errno;		/* first write error, 0 if none */
	char *path;
};

struct fl_flc_stream {
	struct fl_flc_writer *w;
	int cpu;			/* stream number written into the tag */
	ZSTD_CCtx *cctx;
	void *zbuf;			/* compression output */
	size_t zcap;			/* bytes allocated in zbuf */
};

static void make_tag(uint8_t *hdr, enum fl_flc_kind kind, int cpu, uint64_t seq,
		     uint32_t zsize, uint32_t rawsize)
{
	uint8_t *tag = hdr + 8;

	fl_put_le32(hdr, FL_FLC_SKIP_MAGIC);
	fl_put_le32(hdr + 4, FL_FLC_TAG_SIZE);
	fl_put_le32(tag, FL_FLC_TAG_MAGIC);
	fl_put_le16(tag + 4, kind);
	fl_put_le16(tag + 6, cpu);
	fl_put_le64(tag + 8, seq);
	fl_put_le32(tag + 16, zsize);
	fl_put_le32(tag + 20, rawsize);
	fl_put_le32(tag + 24, fl_crc32(0, tag, 24));
	fl_put_le32(tag + 28, 0);
}

static int write_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

/* Appends one record; zdata may be NULL for END. */
static int append_record(struct fl_flc_writer *w, enum fl_flc_kind kind, int cpu,
			 const void *zdata, size_t zsize, size_t rawsize, struct fl_err *err)
{
	uint8_t hdr[FL_FLC_REC_OVERHEAD];
	struct iovec iov[2];
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	if (w->write_errno) {
		ret = fl_seterr(err, "cannot write '%s': %s", w->path, strerror(w->write_errno));
		goto out;
	}
	make_tag(hdr, kind, cpu, w->seq, zsize, rawsize);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)zdata;
	iov[1].iov_len = zsize;
	if (write_all(w->fd, iov, zsize ? 2 : 1)) {
		w->write_errno = errno;
		ret = fl_seterr(err, "cannot write '%s': %s", w->path, strerror(errno));
		goto out;
	}
	w->seq++;
	w->bytes_written += sizeof(hdr) + zsize;
	w->bytes_raw += rawsize;
out:
	pthread_mutex_unlock(&w->lock);
	return ret;
}

static ZSTD_CCtx *new_cctx(int level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (!c)
		abort();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	return c;
}

static int compress_and_append(struct fl_flc_writer *w, ZSTD_CCtx *cctx, void **zbuf,
			       size_t *zcap, enum fl_flc_kind kind, int cpu, const void *buf,
			       size_t len, struct fl_err *err)
{
	size_t bound = ZSTD_compressBound(len), z;

	if (len > FL_FLC_MAX_RAW)
		return fl_seterr(err, "record of %zu bytes exceeds the %u-byte limit", len,
				 FL_FLC_MAX_RAW);
	if (*zcap < bound) {
		*zbuf = fl_realloc(*zbuf, bound);
		*zcap = bound;
	}
	z = ZSTD_compress2(cctx, *zbuf, *zcap, buf, len);
	if (ZSTD_isError(z))
		return fl_seterr(err, "zstd compression failed: %s", ZSTD_getErrorName(z));
	return append_record(w, kind, cpu, *zbuf, z, len, err);
}

struct fl_flc_writer *fl_flc_create(const char *path, int level, struct fl_err *err)
{
	struct fl_flc_writer *w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fl_seterr(err, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	w = fl_calloc(1, sizeof(*w));
	w->fd = fd;
	w->level = level > 0 ? level : 3;
	w->path = fl_strdup(path);
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

int fl_flc_write_kv(struct fl_flc_writer *w, enum fl_flc_kind kind, const struct fl_kv *kv,
		    struct fl_err *err)
{
	struct fl_buf raw = { 0 };
	void *zbuf = NULL;
	size_t zcap = 0;
	ZSTD_CCtx *cctx = new_cctx(w->level);
	int ret;

	fl_kv_serialize(kv, &raw);
	ret = compress_and_append(w, cctx, &zbuf, &zcap, kind, 0, raw.data ? raw.data : "",
				  raw.len, err);
	ZSTD_freeCCtx(cctx);
	free(zbuf);
	fl_buf_release(&raw);
	return ret;
}

struct fl_flc_stream *fl_flc_stream_new(struct fl_flc_writer *w, int cpu)
{
	struct fl_flc_stream *s = fl_calloc(1, sizeof(*s));

	s->w = w;
	s->cpu = cpu;
	s->cctx = new_cctx(w->level);
	return s;
}

int fl_flc_stream_write(struct fl_flc_stream *s, const void *buf, size_t len, struct fl_err *err)
{
	if (!len)
		return 0;
	return compress_and_append(s->w, s->cctx, &s->zbuf, &s->zcap, FL_FLC_DATA, s->cpu, buf,
				   len, err);
}

void fl_flc_stream_free(struct fl_flc_stream *s)
{
	if (!s)
		return;
	ZSTD_freeCCtx(s->cctx);
	free(s->zbuf);
	free(s);
}

uint64_t fl_flc_bytes_written(struct fl_flc_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->bytes_written;
	pthread_mutex_unlock(&w->lock);
	return n;
}

uint64_t fl_flc_bytes_raw(struct fl_flc_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->bytes_raw;
	pthread_mutex_unlock(&w->lock);
	return n;
}

static void writer_free(struct fl_flc_writer *w)
{
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}

int fl_flc_close(struct fl_flc_writer *w, struct fl_err *err)
{
	int ret = append_record(w, FL_FLC_END, 0, NULL, 0, 0, err);

	if (!ret && fsync(w->fd) && errno != EINVAL)
		ret = fl_seterr(err, "cannot sync '%s': %s", w->path, strerror(errno));
	if (close(w->fd) && !ret)
		ret = fl_seterr(err, "cannot close '%s': %s", w->path, strerror(errno));
	writer_free(w);
	return ret;
}

void fl_flc_abandon(struct fl_flc_writer *w)
{
	close(w->fd);
	writer_free(w);
}

/* ---- reader ---------------------------------------------------------- */

struct fl_flc_reader {
	const uint8_t *p;		/* the file's bytes */
	size_t size;			/* bytes in p */
	void *map;			/* non-NULL if we mmap'ed p */
	char *name;			/* for messages */
	struct fl_flc_rec *recs;
	size_t nrecs, caprecs;
	struct fl_kv header, trailer;
	struct fl_kv *snaps;
	size_t nsnaps;
	char **warnings;
	size_t nwarnings;		/* kept in warnings[] */
	size_t warnings_dropped;	/* beyond FL_FLC_MAX_WARNINGS */
	bool end_seen, truncated, damaged;
	uint64_t bytes_lost;		/* bytes in unreadable or cut records */
	ZSTD_DCtx *dctx;
};

static void warn(struct fl_flc_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(struct fl_flc_reader *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (r->nwarnings >= FL_FLC_MAX_WARNINGS) {
		r->warnings_dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->warnings = fl_realloc(r->warnings, (r->nwarnings + 1) * sizeof(*r->warnings));
	r->warnings[r->nwarnings++] = s;
}

/* True if a valid record header (magics and CRC) starts at off. */
static bool tag_at(const struct fl_flc_reader *r, size_t off)
{
	const uint8_t *h = r->p + off;

	if (r->size - off < FL_FLC_REC_OVERHEAD)
		return false;
	return fl_get_le32(h) == FL_FLC_SKIP_MAGIC && fl_get_le32(h + 4) == FL_FLC_TAG_SIZE &&
	       fl_get_le32(h + 8) == FL_FLC_TAG_MAGIC &&
	       fl_get_le32(h + 8 + 24) == fl_crc32(0, h + 8, 24);
}

/* The next offset after off where a valid record header starts, or r->size. */
static size_t resync(const struct fl_flc_reader *r, size_t off)
{
	static const uint8_t pat[4] = { 0x5e, 0x2a, 0x4d, 0x18 };

	for (off++; off + FL_FLC_REC_OVERHEAD <= r->size; off++) {
		const uint8_t *q = memchr(r->p + off, pat[0], r->size - off);

		if (!q)
			break;
		off = q - r->p;
		if (off + FL_FLC_REC_OVERHEAD > r->size)
			break;
		if (!memcmp(q, pat, 4) && tag_at(r, off))
			return off;
	}
	return r->size;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case FL_FLC_HEADER: return "header";
	case FL_FLC_DATA: return "data";
	case FL_FLC_SNAPSHOT: return "snapshot";
	case FL_FLC_TRAILER: return "trailer";
	case FL_FLC_END: return "end";
	}
	return "unknown";
}

static void index_records(struct fl_flc_reader *r)
{
	size_t off = 0;

	while (off < r->size) {
		const uint8_t *tag;
		struct fl_flc_rec *rec;
		unsigned kind;
		uint32_t zsize, rawsize;

		if (r->size - off < FL_FLC_REC_OVERHEAD) {
			warn(r, "the file ends %zu bytes into a record header at offset %zu "
				"(capture cut short)", r->size - off, off);
			r->truncated = true;
			r->bytes_lost += r->size - off;
			break;
		}
		if (!tag_at(r, off)) {
			size_t next = resync(r, off);

			warn(r, "bytes %zu..%zu are not an intact record (corrupted); skipped", off,
			     next);
			r->damaged = true;
			r->bytes_lost += next - off;
			off = next;
			continue;
		}
		tag = r->p + off + 8;
		kind = fl_get_le16(tag + 4);
		zsize = fl_get_le32(tag + 16);
		rawsize = fl_get_le32(tag + 20);
		if (kind < FL_FLC_HEADER || kind > FL_FLC_END || rawsize > FL_FLC_MAX_RAW ||
		    (kind == FL_FLC_END && zsize)) {
			warn(r, "record at offset %zu has an invalid kind %u or size %u; skipped",
			     off, kind, rawsize);
			r->damaged = true;
			r->bytes_lost += FL_FLC_REC_OVERHEAD;
			off += FL_FLC_REC_OVERHEAD;
			continue;
		}
		if (zsize > r->size - off - FL_FLC_REC_OVERHEAD) {
			warn(r, "%s record %llu (cpu %u) at offset %zu is cut off: the file ends "
				"%zu of its %u bytes in (capture cut short)",
			     kind_name(kind), (unsigned long long)fl_get_le64(tag + 8),
			     fl_get_le16(tag + 6), off, r->size - off - FL_FLC_REC_OVERHEAD,
			     zsize);
			r->truncated = true;
			r->bytes_lost += r->size - off;
			break;
		}
		if (r->nrecs == r->caprecs) {
			r->caprecs = r->caprecs ? 2 * r->caprecs : 256;
			r->recs = fl_realloc(r->recs, r->caprecs * sizeof(*r->recs));
		}
		rec = &r->recs[r->nrecs++];
		rec->kind = kind;
		rec->cpu = fl_get_le16(tag + 6);
		rec->seq = fl_get_le64(tag + 8);
		rec->offset = off;
		rec->zsize = zsize;
		rec->rawsize = rawsize;
		rec->status = FL_FLC_OK;
		if (kind == FL_FLC_END)
			r->end_seen = true;
		off += FL_FLC_REC_OVERHEAD + zsize;
	}
	if (!r->end_seen && !r->truncated) {
		warn(r, "no end-of-capture record: the capture did not finish (killed?); "
			"every intact record is still read");
		r->truncated = true;
	}
}

int fl_flc_load(struct fl_flc_reader *r, size_t i, struct fl_buf *out, struct fl_err *errp)
{
	struct fl_err e, *err = &e;
	struct fl_flc_rec *rec = &r->recs[i];
	const uint8_t *z = r->p + rec->offset + FL_FLC_REC_OVERHEAD;
	unsigned long long content;
	size_t n;

	fl_buf_reset(out);
	if (rec->kind == FL_FLC_END)
		return 0;
	if (rec->status == FL_FLC_BAD_FRAME)
		return fl_seterr(errp, "%s record %llu at offset %llu is damaged",
				 kind_name(rec->kind), (unsigned long long)rec->seq,
				 (unsigned long long)rec->offset);
	content = ZSTD_getFrameContentSize(z, rec->zsize);
	if (content != rec->rawsize) {
		n = 0;
		fl_seterr(err, "%s record %llu (cpu %d) at offset %llu: frame size does not match "
			       "its header (corrupted)", kind_name(rec->kind),
			  (unsigned long long)rec->seq, rec->cpu, (unsigned long long)rec->offset);
		goto bad;
	}
	/* grow to rawsize (+1 for the NUL fl_buf keeps) without touching len */
	fl_buf_add(out, "", 0);
	if (out->cap < (size_t)rec->rawsize + 1) {
		out->data = fl_realloc(out->data, (size_t)rec->rawsize + 1);
		out->cap = (size_t)rec->rawsize + 1;
	}
	if (!r->dctx && !(r->dctx = ZSTD_createDCtx()))
		abort();
	n = ZSTD_decompressDCtx(r->dctx, out->data, rec->rawsize, z, rec->zsize);
	if (ZSTD_isError(n) || n != rec->rawsize) {
		fl_seterr(err, "%s record %llu (cpu %d) at offset %llu: %s (corrupted)",
			  kind_name(rec->kind), (unsigned long long)rec->seq, rec->cpu,
			  (unsigned long long)rec->offset,
			  ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
		goto bad;
	}
	out->len = n;
	out->data[n] = '\0';
	return 0;
bad:
	rec->status = FL_FLC_BAD_FRAME;
	r->damaged = true;
	r->bytes_lost += FL_FLC_REC_OVERHEAD + rec->zsize;
	warn(r, "%s; skipped", e.msg);
	fl_buf_reset(out);
	if (errp)
		*errp = e;
	return -1;
}

static int load_kv(struct fl_flc_reader *r, size_t i, struct fl_kv *kv, struct fl_err *err)
{
	struct fl_buf b = { 0 };
	int ret;

	ret = fl_flc_load(r, i, &b, err);
	if (!ret && fl_kv_parse(kv, b.data, b.len, err)) {
		warn(r, "%s record %llu: %s; skipped", kind_name(r->recs[i].kind),
		     (unsigned long long)r->recs[i].seq, err->msg);
		r->damaged = true;
		ret = -1;
	}
	fl_buf_release(&b);
	return ret;
}

static int load_metadata(struct fl_flc_reader *r, struct fl_err *err)
{
	struct fl_err e;
	bool have_header = false;

	for (size_t i = 0; i < r->nrecs; i++) {
		struct fl_flc_rec *rec = &r->recs[i];

		switch (rec->kind) {
		case FL_FLC_HEADER:
			if (have_header) {
				warn(r, "a second header record (%llu) was ignored",
				     (unsigned long long)rec->seq);
				break;
			}
			if (load_kv(r, i, &r->header, &e)) {
				fl_kv_release(&r->header);
				return fl_seterr(err, "cannot read '%s': its header is unreadable "
						      "(%s)", r->name, e.msg);
			}
			have_header = true;
			break;
		case FL_FLC_TRAILER:
			fl_kv_release(&r->trailer);
			if (load_kv(r, i, &r->trailer, &e))
				fl_kv_release(&r->trailer);
			break;
		case FL_FLC_SNAPSHOT: {
			struct fl_kv kv = { 0 };

			if (load_kv(r, i, &kv, &e)) {
				fl_kv_release(&kv);
				break;
			}
			r->snaps = fl_realloc(r->snaps, (r->nsnaps + 1) * sizeof(*r->snaps));
			r->snaps[r->nsnaps++] = kv;
			break;
		}
		default:
			break;
		}
	}
	if (!have_header)
		return fl_seterr(err, "cannot read '%s': no intact header record (the file is "
				      "damaged at its start)", r->name);
	if (!fl_kv_find(&r->header, "flc.version"))
		return fl_seterr(err, "cannot read '%s': its header has no format version",
				 r->name);
	if (fl_kv_getu64(&r->header, "flc.version", 0) > FL_FLC_VERSION)
		return fl_seterr(err, "cannot read '%s': format version %s is newer than this "
				      "faultlab understands (%d); upgrade faultlab", r->name,
				 fl_kv_getstr(&r->header, "flc.version"), FL_FLC_VERSION);
	return 0;
}

bool fl_flc_sniff(const void *p, size_t len)
{
	const uint8_t *h = p;

	return len >= 12 && fl_get_le32(h) == FL_FLC_SKIP_MAGIC &&
	       fl_get_le32(h + 4) == FL_FLC_TAG_SIZE && fl_get_le32(h + 8) == FL_FLC_TAG_MAGIC;
}

static struct fl_flc_reader *open_common(struct fl_flc_reader *r, struct fl_err *err)
{
	if (!fl_flc_sniff(r->p, r->size)) {
		fl_seterr(err, "'%s' is not a faultlab capture (it does not start with a capture "
			       "record); make one with 'faultlab capture'", r->name);
		goto fail;
	}
	index_records(r);
	if (load_metadata(r, err))
		goto fail;
	return r;
fail:
	fl_flc_free(r);
	return NULL;
}

struct fl_flc_reader *fl_flc_open_mem(const void *p, size_t len, struct fl_err *err)
{
	struct fl_flc_reader *r = fl_calloc(1, sizeof(*r));

	r->p = p;
	r->size = len;
	r->name = fl_strdup("(memory)");
	return open_common(r, err);
}

struct fl_flc_reader *fl_flc_open(const char *path, struct fl_err *err)
{
	struct fl_flc_reader *r;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fl_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st)) {
		fl_seterr(err, "cannot stat '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fl_seterr(err, "'%s' is not a regular file", path);
		close(fd);
		return NULL;
	}
	r = fl_calloc(1, sizeof(*r));
	r->name = fl_strdup(path);
	r->size = st.st_size;
	if (r->size) {
		r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r->map == MAP_FAILED) {
			fl_seterr(err, "cannot map '%s': %s", path, strerror(errno));
			r->map = NULL;
			close(fd);
			fl_flc_free(r);
			return NULL;
		}
		madvise(r->map, r->size, MADV_SEQUENTIAL);
		r->p = r->map;
	} else {
		r->p = (const uint8_t *)"";
	}
	close(fd);
	return open_common(r, err);
}

void fl_flc_free(struct fl_flc_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->size);
	fl_kv_release(&r->header);
	fl_kv_release(&r->trailer);
	for (size_t i = 0; i < r->nsnaps; i++)
		fl_kv_release(&r->snaps[i]);
	free(r->snaps);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->recs);
	free(r->name);
	ZSTD_freeDCtx(r->dctx);
	free(r);
}

const struct fl_kv *fl_flc_header(const struct fl_flc_reader *r) { return &r->header; }
const struct fl_kv *fl_flc_trailer(const struct fl_flc_reader *r) { return &r->trailer; }
size_t fl_flc_nsnapshots(const struct fl_flc_reader *r) { return r->nsnaps; }
const struct fl_kv *fl_flc_snapshot(const struct fl_flc_reader *r, size_t i)
{
	return &r->snaps[i];
}
size_t fl_flc_nrecs(const struct fl_flc_reader *r) { return r->nrecs; }
const struct fl_flc_rec *fl_flc_rec(const struct fl_flc_reader *r, size_t i)
{
	return &r->recs[i];
}

size_t fl_flc_nwarnings(const struct fl_flc_reader *r)
{
	return r->nwarnings + (r->warnings_dropped ? 1 : 0);
}

const char *fl_flc_warning(const struct fl_flc_reader *r, size_t i)
{
	static __thread char more[96];

	if (i < r->nwarnings)
		return r->warnings[i];
	snprintf(more, sizeof(more), "%zu more warnings not shown", r->warnings_dropped);
	return more;
}

bool fl_flc_complete(const struct fl_flc_reader *r)
{
	return r->end_seen && !r->truncated && !r->damaged;
}
bool fl_flc_truncated(const struct fl_flc_reader *r) { return r->truncated; }
uint64_t fl_flc_size(const struct fl_flc_reader *r) { return r->size; }
uint64_t fl_flc_bytes_lost(const struct fl_flc_reader *r) { return r->bytes_lost; }

uint64_t fl_flc_content_hash(const struct fl_flc_reader *r)
{
	return fl_hash64(FL_HASH64_INIT, r->p, r->size);
}
