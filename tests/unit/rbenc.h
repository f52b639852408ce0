/*
 * rbenc.h - a ring-buffer sub-buffer encoder for tests: the inverse of the
 * decoder, writing the bytes the kernel's ring buffer would have handed to
 * trace_pipe_raw, from a stored header_page and event format texts.
 *
 *	e = rbenc_new("tests/golden/formats-x86_64-6.18", &err);
 *	id = rbenc_event_id(e, "mmap_lock", "mmap_lock_start_locking");
 *	rbenc_add(e, stream, ts, id, tid, fields, nfields, &err);	(per stream in time order)
 *	rbenc_flc(e, &header, &snapshot, 2, &flc, &err);		a whole capture in memory
 *	rbenc_free(e);
 *
 * Streams follow capture/flc.h: stream s < cpus is the main instance's CPU s,
 * stream cpus + c the global instance's CPU c.
 */
#ifndef FL_TEST_RBENC_H
#define FL_TEST_RBENC_H

#include "common/fl.h"

/* One field value by the format's field name. */
struct rbenc_field {
	const char *name;
	int64_t val;		/* integer fields (1, 2, 4 or 8 bytes) */
	const char *str;	/* char[N] and __data_loc char[] fields; NULL for integers */
};

struct rbenc;

/*
 * Loads DIR/header_page and every DIR/format.SYS.EVENT; DIR/meta holds
 * "key value" lines (long_size, page_size, cpus, uname.release, ...), and
 * "base OTHER" loads the sibling directory OTHER first (its meta, header_page
 * and formats), so a format is stored once.
 */
struct rbenc *rbenc_new(const char *dir, struct fl_err *err);
void rbenc_free(struct rbenc *e);

/* The event id of SYS:NAME in the loaded formats, or -1. */
int rbenc_event_id(const struct rbenc *e, const char *sys, const char *name);
/* The name of the n-th field after field `after` (syscall arguments after __syscall_nr). */
const char *rbenc_field_after(const struct rbenc *e, int id, const char *after, int n);
/* Whether the format of id has a field of that name. */
bool rbenc_has_field(const struct rbenc *e, int id, const char *name);
/* Bytes of the fixed part of id's records (sizeof the kernel's struct); *dyn: has strings. */
size_t rbenc_fixed_size(const struct rbenc *e, int id, bool *dyn);
/* meta values (cpus, long_size, ...) and the sub-buffer size from header_page, bytes. */
const struct fl_kv *rbenc_meta(const struct rbenc *e);
size_t rbenc_subbuf_size(const struct rbenc *e);

/*
 * Appends one event to a stream. Fields not given are 0 (common_flags,
 * common_preempt_count too). Fails for an unknown id or field, a value that
 * does not fit its field (the decoder would read something else), or a time
 * stamp older than the stream's last.
 */
int rbenc_add(struct rbenc *e, int stream, uint64_t ts, int id, int32_t tid,
	      const struct rbenc_field *f, size_t nf, struct fl_err *err);
/* Ends the stream's current sub-buffer (a reader took a partly filled page). */
void rbenc_break(struct rbenc *e, int stream);
/* The stream's next sub-buffer says n events were lost before it (n = 0: not stored). */
void rbenc_lost(struct rbenc *e, int stream, uint64_t n, bool stored);
/* Closes every open sub-buffer and counts; the raw bytes of a stream (whole sub-buffers). */
const struct fl_buf *rbenc_stream(struct rbenc *e, int stream);
int rbenc_nstreams(const struct rbenc *e);
/* Sub-buffers closed because the next event would not fit, and time extends written. */
uint64_t rbenc_full_subbufs(const struct rbenc *e);
uint64_t rbenc_time_extends(const struct rbenc *e);
/* Ends a sub-buffer after this many events (0 = only when full), like a reader keeping up. */
void rbenc_set_page_events(struct rbenc *e, unsigned n);

/*
 * Assembles a capture with the capture/flc.h writer: a HEADER with the
 * caller's keys first (they win over the encoder's: uname.release,
 * events.enabled, ...), then flc.version, arch, long_size, big_endian,
 * page_size, subbuf_size, cpus, clock, streams and stream/N when the global
 * instance has data, header_page, events.enabled (default: every loaded
 * format) and format/SYS/EVENT of each enabled event; snapshot (may be NULL)
 * as one SNAPSHOT record; each stream's sub-buffers in DATA records of
 * per_record sub-buffers, streams interleaved; a TRAILER and END.
 */
int rbenc_flc(struct rbenc *e, const struct fl_kv *header, const struct fl_kv *snapshot,
	      size_t per_record, struct fl_buf *out, struct fl_err *err);

#endif
