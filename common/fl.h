/*
 * fl.h - things every part of libfaultlab shares: the error convention,
 * growable buffers, a key/value list, little-endian helpers, hashes.
 *
 * Error convention (git-style): library functions return -1 (or NULL) and
 * leave a message in a struct fl_err that the caller passed in; they never
 * print and never exit. Only main.c and the cmd-*.c files print. Messages are
 * lowercase, name their subject in quotes and say what to do next:
 *	cannot read 'run.flc': frame 12 checksum mismatch (file corrupted)
 */
#ifndef FL_FL_H
#define FL_FL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define FL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fl_err {
	char msg[1024];
};

/* Formats the message into err (may be NULL) and returns -1. */
int fl_seterr(struct fl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int fl_vseterr(struct fl_err *err, const char *fmt, va_list ap);
/* Prefixes the existing message: "what: <old message>". Returns -1. */
int fl_preferr(struct fl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation that cannot fail silently: aborts on out-of-memory. */
void *fl_malloc(size_t n);
void *fl_calloc(size_t n, size_t size);
void *fl_realloc(void *p, size_t n);
char *fl_strdup(const char *s);
char *fl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; data is always NUL-terminated (not counted in len). */
struct fl_buf {
	char *data;
	size_t len;		/* bytes used */
	size_t cap;		/* bytes allocated */
};
void fl_buf_add(struct fl_buf *b, const void *p, size_t n);
void fl_buf_addstr(struct fl_buf *b, const char *s);
void fl_buf_addf(struct fl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_buf_reset(struct fl_buf *b);
void fl_buf_release(struct fl_buf *b);
/* Reads a whole file (e.g. a tracefs or /proc file); -1 with err set on failure. */
int fl_buf_read_file(struct fl_buf *b, const char *path, struct fl_err *err);

/*
 * An ordered key/value list with byte-string values (values may contain NULs;
 * a NUL is always appended after the value, not counted in len). Used for the
 * capture header and trailer: keys are printable ASCII like "uname.release" or
 * "format/sched/sched_switch"; numbers are stored as decimal text.
 */
struct fl_kv_item {
	char *key;
	char *val;
	size_t len;		/* bytes in val */
};
struct fl_kv {
	struct fl_kv_item *items;
	size_t n, cap;
};
void fl_kv_add(struct fl_kv *kv, const char *key, const void *val, size_t len);
void fl_kv_addstr(struct fl_kv *kv, const char *key, const char *val);
void fl_kv_addu64(struct fl_kv *kv, const char *key, uint64_t v);
/* The first item with that key, or NULL. */
const struct fl_kv_item *fl_kv_find(const struct fl_kv *kv, const char *key);
const char *fl_kv_getstr(const struct fl_kv *kv, const char *key);	/* NULL if absent */
/* Parses a decimal value; returns def if the key is absent or not a number. */
uint64_t fl_kv_getu64(const struct fl_kv *kv, const char *key, uint64_t def);
void fl_kv_release(struct fl_kv *kv);
/* Serialised form: repeated { le32 keylen, key, le32 vallen, val }. */
void fl_kv_serialize(const struct fl_kv *kv, struct fl_buf *out);
int fl_kv_parse(struct fl_kv *kv, const void *p, size_t len, struct fl_err *err);

/* Little-endian load/store, independent of the host. */
static inline void fl_put_le16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void fl_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline void fl_put_le64(uint8_t *p, uint64_t v)
{
	fl_put_le32(p, (uint32_t)v);
	fl_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t fl_get_le16(const uint8_t *p) { return p[0] | (uint16_t)p[1] << 8; }
static inline uint32_t fl_get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t fl_get_le64(const uint8_t *p)
{
	return fl_get_le32(p) | (uint64_t)fl_get_le32(p + 4) << 32;
}

/* CRC-32 (IEEE, as zlib) and a 64-bit content hash (FNV-1a on 64-bit words). */
uint32_t fl_crc32(uint32_t crc, const void *p, size_t n);
uint64_t fl_hash64(uint64_t h, const void *p, size_t n);
#define FL_HASH64_INIT 0xcbf29ce484222325ULL

/* qsort comparison of uint64_t values, ascending. */
int fl_cmp_u64(const void *a, const void *b);
/* The median (upper of two) of v[n], sorting v in place; 0 when n is 0. */
uint64_t fl_median_u64(uint64_t *v, size_t n);
/* Appends x to *v[*n], doubling the array when *n reaches a power of two (so a NULL, 0
 * array grows from nothing; no capacity kept beside it). */
void fl_push_u64(uint64_t **v, size_t *n, uint64_t x);

/* Monotonic time in ns for progress and benchmarks (never used by the model). */
uint64_t fl_now_ns(void);

#endif
