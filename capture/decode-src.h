/*
 * decode-src.h - private seam between the decoder (decode.c) and the sources
 * of raw event records other than a .flc reader (tracedat.c).
 *
 * A source hands the decoder one raw record at a time, already merged into
 * timestamp order; the decoder owns the tep handle's field cache and turns
 * each record into a struct fl_event. Only the capture/ sources include this.
 */
#ifndef FL_DECODE_SRC_H
#define FL_DECODE_SRC_H

#include "capture/decode.h"

struct tep_handle;

struct fl_raw_rec {
	const void *data;	/* the event record: common fields first */
	size_t size;		/* bytes at data */
	uint64_t ts;		/* ns in the trace clock */
	int cpu;		/* the real CPU */
	int stream;		/* the source's stream number (a buffer or instance) */
	int64_t missed;		/* events lost just before this record; -1 = unknown count */
};

struct fl_decoder_src {
	/* 1 = *rec filled, 0 = end, -1 = error (err set). */
	int (*next)(void *ctx, struct fl_raw_rec *rec, struct fl_err *err);
	void (*free)(void *ctx);
	/* The instance name of a stream, or NULL (then "main"); may be NULL itself. */
	const char *(*stream_name)(void *ctx, int stream);
	void *ctx;
};

/*
 * A decoder over tep (whose formats are parsed already; the decoder takes
 * ownership only if own_tep) and an external source, which the decoder frees
 * (src->free) from then on; on failure (NULL) the caller still owns both.
 * file_bigendian says how the records' numbers are stored. cpus sizes the
 * lost-event counters.
 */
struct fl_decoder *fl_decoder_open_src(struct tep_handle *tep, bool own_tep, bool file_bigendian,
				       int cpus, const struct fl_decoder_src *src,
				       struct fl_err *err);

#endif
