/* test-reconstruct.h - helpers shared by the reconstruction tests (text input, row capture). */
#ifndef FL_TEST_RECONSTRUCT_H
#define FL_TEST_RECONSTRUCT_H

#include "common/fl.h"
#include "capture/decode.h"
#include "db/reconstruct.h"

struct in_type {
	const char *name;		/* short name in input.txt */
	int type;			/* enum fl_ev */
	int needs_sys;
	const char *field[6];		/* a[i] by kernel field name */
};
const struct in_type *in_type_by_ev(int type);

struct recon_input {
	struct fl_kv header;		/* uname.release, arch, events.enabled */
	struct fl_kv snap;		/* maps/PID, tasks */
	struct fl_event *ev;
	int *inst;
	int *cpu;			/* cpu=N of each event, -1 = not given */
	size_t n, cap;
	struct recon_lost {		/* @lost CPU N [INST]: a ring buffer overflowed */
		size_t at;		/* before event `at` (n: after the last) */
		int cpu, inst;
		uint64_t n;		/* events lost */
	} *lost;
	size_t nlost;
	uint64_t lost_total;		/* sum of lost[].n */
};
int recon_input_parse(struct recon_input *in, const char *text, struct fl_err *err);
void recon_input_release(struct recon_input *in);

struct recon_out {
	struct fl_fault *faults;
	struct fl_lock_wait *waits;
	struct fl_writer_op *ops;
	struct fl_io *ios;
	struct fl_vma_row *vmas;	/* path NULL here (the text has it) */
	size_t nfaults, nwaits, nops, nios, nvmas;
	uint64_t anomalies[FL_AN__COUNT];
	struct fl_buf ftext, wtext, otext, itext;
	struct fl_buf text;		/* all rows but vma, each table sorted by id, then anomalies */
	struct fl_buf vtext;		/* vma rows sorted by id (a case's vma.txt) */
};
/* Runs the reconstructor over evs (inst may be NULL) with in's header and snapshots. */
int recon_run(const struct recon_input *in, const struct fl_event *evs, const int *inst, size_t n,
	      struct recon_out *o, struct fl_err *err);
void recon_out_release(struct recon_out *o);
/* The same with any header and snapshots (SNAPSHOT records, then the TRAILER), and
 * the ring buffer's lost events (as ingest passes them). */
int recon_run_kv(const struct fl_kv *header, const struct fl_kv *const *snaps, size_t nsnaps,
		 const struct fl_event *evs, const int *inst, size_t n, uint64_t lost,
		 struct recon_out *o, struct fl_err *err);

/* ---- real captures of the text events (test-reconstruct-encode.c) ---- */

#define RECON_FORMATS "golden/formats-x86_64-6.18"	/* under tests/ */

struct rbenc;
/* Encodes ev into a stream of e; *tep_id gets its format's id. */
int recon_encode_event(struct rbenc *e, int stream, const struct fl_event *ev, int *tep_id,
		       struct fl_err *err);
/*
 * Encodes in's events with this machine's formats into a .flc (in->header
 * keys, in->snap as a SNAPSHOT): sub-buffers end after page_events events (0 =
 * when full), DATA records hold per_record sub-buffers. Fills each in->ev's
 * cpu and tep_id with what the decoder must give back.
 */
int recon_capture_encode(struct recon_input *in, unsigned page_events, size_t per_record,
			 struct fl_buf *flc, struct fl_err *err);

/* A capture decoded with the real decoder, events in merged order. */
struct recon_capture {
	struct fl_flc_reader *r;
	struct fl_event *ev;
	int *inst;			/* instance: 0 = main, 1.. others, as ingest numbers them */
	size_t n;
	uint64_t lost;			/* events the sub-buffers say were lost, all CPUs */
};
int recon_capture_decode(const struct fl_buf *flc, struct recon_capture *c, struct fl_err *err);
/* Reconstructs c with its own header and snapshots, as ingest does. */
int recon_capture_run(const struct recon_capture *c, struct recon_out *o, struct fl_err *err);
void recon_capture_release(struct recon_capture *c);
/* Checks (CHECK) that c holds exactly in's events, in order, with their instances. */
void recon_check_decoded(const struct recon_input *in, const struct recon_capture *c,
			 const char *what);

#endif
