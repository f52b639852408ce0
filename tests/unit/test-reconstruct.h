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
	size_t n, cap;
};
int recon_input_parse(struct recon_input *in, const char *text, struct fl_err *err);
void recon_input_release(struct recon_input *in);

struct recon_out {
	struct fl_fault *faults;
	struct fl_lock_wait *waits;
	struct fl_writer_op *ops;
	struct fl_io *ios;
	size_t nfaults, nwaits, nops, nios;
	uint64_t anomalies[FL_AN__COUNT];
	struct fl_buf ftext, wtext, otext, itext;
	struct fl_buf text;		/* all rows, each table sorted by id, then anomalies */
};
/* Runs the reconstructor over evs (inst may be NULL) with in's header and snapshots. */
int recon_run(const struct recon_input *in, const struct fl_event *evs, const int *inst, size_t n,
	      struct recon_out *o, struct fl_err *err);
void recon_out_release(struct recon_out *o);

#endif
