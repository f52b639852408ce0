/*
 * svg.h - the figures of the HTML report, as inline SVG: the mmap_lock wait
 * histogram, the CDF of mmap_lock wait, and per-thread timelines of faults
 * and lock waits for the top threads.
 */
#ifndef FL_SVG_H
#define FL_SVG_H

#include "common/fl.h"

enum fl_report_fig {
	FL_FIG_HIST = 1,	/* read and write waits per histogram bin (log count) */
	FL_FIG_CDF,		/* fraction of waits <= x, x on a log µs axis */
	FL_FIG_TIMELINE,	/* faults and mmap_lock waits/holds of the top threads over time */
};

/* fl_doc_figure_fn for a const struct fl_report *arg. */
void fl_report_figure(void *arg, int id, struct fl_buf *out);

/* "[1, 10 µs)" ... */
const char *fl_report_bin_name(int i);

#endif
