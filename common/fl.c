/*
 * fl.c - the small shared pieces of libfaultlab: error messages, allocation,
 * growable buffers, the key/value list used by capture headers, CRC-32 and
 * the content hash. Nothing here knows about tracing or SQLite.
 *
 * Allocation failures abort: a tool that decodes millions of events has no
 * sensible way to continue without memory, and checking every small
 * allocation would hide the real error paths (I/O, bad input) in noise.
 */
#include "common/fl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

int fl_vseterr(struct fl_err *err, const char *fmt, va_list ap)
{
	if (err)
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int fl_seterr(struct fl_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fl_vseterr(err, fmt, ap);
	va_end(ap);
	return -1;
}

int fl_preferr(struct fl_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

static void oom(size_t n)
{
	fprintf(stderr, "faultlab: out of memory allocating %zu bytes\n", n);
	abort();
}

void *fl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *fl_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *fl_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *fl_strdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(fl_malloc(n), s, n);
}

char *fl_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(strlen(fmt));
	va_end(ap);
	return s;
}

static void buf_grow(struct fl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = fl_realloc(b->data, b->cap);
}

void fl_buf_add(struct fl_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void fl_buf_addstr(struct fl_buf *b, const char *s)
{
	fl_buf_add(b, s, strlen(s));
}

void fl_buf_addf(struct fl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void fl_buf_reset(struct fl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void fl_buf_release(struct fl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int fl_buf_read_file(struct fl_buf *b, const char *path, struct fl_err *err)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fl_seterr(err, "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return fl_seterr(err, "cannot read '%s': %s", path, strerror(e));
		}
		if (n == 0)
			break;
		fl_buf_add(b, chunk, n);
	}
	close(fd);
	if (!b->data)
		fl_buf_add(b, "", 0);
	return 0;
}

void fl_kv_add(struct fl_kv *kv, const char *key, const void *val, size_t len)
{
	struct fl_kv_item *it;

	if (kv->n == kv->cap) {
		kv->cap = kv->cap ? kv->cap * 2 : 16;
		kv->items = fl_realloc(kv->items, kv->cap * sizeof(*kv->items));
	}
	it = &kv->items[kv->n++];
	it->key = fl_strdup(key);
	it->val = fl_malloc(len + 1);
	if (len)
		memcpy(it->val, val, len);
	it->val[len] = '\0';
	it->len = len;
}

void fl_kv_addstr(struct fl_kv *kv, const char *key, const char *val)
{
	fl_kv_add(kv, key, val, strlen(val));
}

void fl_kv_addu64(struct fl_kv *kv, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	fl_kv_addstr(kv, key, s);
}

const struct fl_kv_item *fl_kv_find(const struct fl_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (!strcmp(kv->items[i].key, key))
			return &kv->items[i];
	return NULL;
}

const char *fl_kv_getstr(const struct fl_kv *kv, const char *key)
{
	const struct fl_kv_item *it = fl_kv_find(kv, key);

	return it ? it->val : NULL;
}

uint64_t fl_kv_getu64(const struct fl_kv *kv, const char *key, uint64_t def)
{
	const char *s = fl_kv_getstr(kv, key);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return def;
	return v;
}

void fl_kv_release(struct fl_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->items[i].key);
		free(kv->items[i].val);
	}
	free(kv->items);
	kv->items = NULL;
	kv->n = kv->cap = 0;
}

void fl_kv_serialize(const struct fl_kv *kv, struct fl_buf *out)
{
	uint8_t le[4];

	for (size_t i = 0; i < kv->n; i++) {
		size_t kl = strlen(kv->items[i].key);

		fl_put_le32(le, kl);
		fl_buf_add(out, le, 4);
		fl_buf_add(out, kv->items[i].key, kl);
		fl_put_le32(le, kv->items[i].len);
		fl_buf_add(out, le, 4);
		fl_buf_add(out, kv->items[i].val, kv->items[i].len);
	}
}

int fl_kv_parse(struct fl_kv *kv, const void *buf, size_t len, struct fl_err *err)
{
	const uint8_t *p = buf, *end = p + len;
	char key[4096];

	while (p < end) {
		uint32_t kl, vl;

		if (end - p < 4)
			return fl_seterr(err, "metadata cut inside an entry (offset %zu)",
					 (size_t)(p - (const uint8_t *)buf));
		kl = fl_get_le32(p);
		p += 4;
		if (kl == 0 || kl >= sizeof(key) || kl > (size_t)(end - p))
			return fl_seterr(err, "metadata key of %u bytes at offset %zu is invalid", kl,
					 (size_t)(p - 4 - (const uint8_t *)buf));
		memcpy(key, p, kl);
		key[kl] = '\0';
		p += kl;
		if (memchr(key, '\0', kl))
			return fl_seterr(err, "metadata key contains a NUL byte");
		if (end - p < 4)
			return fl_seterr(err, "metadata cut after key '%s'", key);
		vl = fl_get_le32(p);
		p += 4;
		if (vl > (size_t)(end - p))
			return fl_seterr(err, "metadata value of '%s' claims %u bytes, %zu left", key,
					 vl, (size_t)(end - p));
		fl_kv_add(kv, key, p, vl);
		p += vl;
	}
	return 0;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t fl_crc32(uint32_t crc, const void *buf, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const uint8_t *p = buf;

	pthread_once(&once, crc_init);
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * FNV-1a over 64-bit little-endian words (bytewise for the tail), with a
 * final avalanche. Not cryptographic: it identifies a file's content so that
 * ingesting the same capture twice is noticed, at memory speed.
 */
uint64_t fl_hash64(uint64_t h, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n >= 8) {
		h ^= fl_get_le64(p);
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

uint64_t fl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int fl_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t fl_median_u64(uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), fl_cmp_u64);
	return v[n / 2];
}

void fl_push_u64(uint64_t **v, size_t *n, uint64_t x)
{
	if (!(*n & (*n - 1)))		/* 0, 1, 2, 4, ...: full */
		*v = fl_realloc(*v, (*n ? 2 * *n : 1) * sizeof(**v));
	(*v)[(*n)++] = x;
}
