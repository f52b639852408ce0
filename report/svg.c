/*
 * svg.c - the HTML report's figures, drawn as inline SVG from a loaded report.
 *
 * No script and no external resource: each figure is one <figure> with an
 * <svg> whose coordinates are computed here. Every label that comes from the
 * trace (comm) goes through fl_html_esc. Sizes are in SVG user units (px).
 *
 * - Histogram: the 7 bins of DESIGN.md, read and write side by side, bar
 *   height log10(1 + count) so that a bin of 3 waits stays visible beside one
 *   of 100,000; the exact count is printed above each bar.
 * - CDF: fraction of acquisitions whose wait is <= x, x on a log axis from
 *   10 ns (zero waits are drawn at the left edge) to the next power of ten
 *   above the longest wait. Points closer than half a pixel are merged, so
 *   the path has at most a few thousand points whatever the sample count.
 * - Timeline: one lane per top thread across the reconstruction's time span;
 *   the upper half shows faults coloured by path, the lower half mmap_lock
 *   waits and write holds. Each pixel column shows the most important kind
 *   that touches it (a 1 µs wait in a 10 s capture still marks its pixel);
 *   runs of equal pixels become one rectangle, so a lane has at most
 *   PLOT_W rectangles per half.
 */
#include "report/svg.h"
#include "report/report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLOT_W		900	/* plot area width */
#define LABEL_W		190	/* timeline lane labels */
#define LANE_H		22

static const char *const read_color = "#3a6fd8", *const write_color = "#e0731a";

static void text_at(struct fl_buf *out, double x, double y, const char *anchor, const char *s)
{
	fl_buf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
	fl_html_esc(out, s);
	fl_buf_addstr(out, "</text>");
}

static void fig_open(struct fl_buf *out, const char *caption, int w, int h, const char *label)
{
	fl_buf_addstr(out, "<figure><figcaption>");
	fl_html_esc(out, caption);
	fl_buf_addf(out, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	fl_html_esc(out, label);
	fl_buf_addstr(out, "\">\n");
}

static void fig_close(struct fl_buf *out)
{
	fl_buf_addstr(out, "</svg></figure>\n");
}

static void legend(struct fl_buf *out, double x, double y, const char *color, const char *name)
{
	fl_buf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
		    y - 10, color);
	text_at(out, x + 16, y, "start", name);
}

static void hist(const struct fl_report *r, struct fl_buf *out)
{
	const struct fl_metrics *m = &r->m;
	const int w = 860, h = 280, x0 = 60, y0 = 30, ph = 190;
	const double gw = (double)(w - x0 - 10) / FL_HIST_BINS, bw = gw * 0.36;
	uint64_t top = 1;
	double lmax;
	char s[48];

	for (int i = 0; i < FL_HIST_BINS; i++) {
		if (m->mmap_read_wait_hist[i] > top)
			top = m->mmap_read_wait_hist[i];
		if (m->mmap_write_wait_hist[i] > top)
			top = m->mmap_write_wait_hist[i];
	}
	lmax = ceil(log10((double)top + 1));
	if (lmax < 1)
		lmax = 1;
	fig_open(out, r->run_id ? "mmap_lock wait histogram (whole run, log count)" :
		 "mmap_lock wait histogram (whole capture, log count)", w, h,
		 "histogram of mmap_lock read and write waits");
	for (int k = 0; k <= (int)lmax; k++) {
		double y = y0 + ph - ph * k / lmax;

		fl_buf_addf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			    "stroke=\"#e3e7ee\"/>",
			    x0, y, w - 10, y);
		fl_fmt_count(s, sizeof(s), (uint64_t)pow(10, k));
		text_at(out, x0 - 6, y + 4, "end", k ? s : "0");
	}
	for (int i = 0; i < FL_HIST_BINS; i++) {
		const uint64_t c[2] = { m->mmap_read_wait_hist[i], m->mmap_write_wait_hist[i] };

		for (int j = 0; j < 2; j++) {
			double bh = ph * log10((double)c[j] + 1) / lmax;
			double x = x0 + gw * i + gw * 0.12 + bw * j;

			fl_buf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				    "height=\"%.1f\" fill=\"%s\"><title>%s %s: %" PRIu64
				    "</title></rect>", x,
				    y0 + ph - bh, bw, bh, j ? write_color : read_color,
				    j ? "write" : "read", fl_report_bin_name(i), c[j]);
			fl_fmt_count(s, sizeof(s), c[j]);
			text_at(out, x + bw / 2, y0 + ph - bh - 3, "middle", s);
		}
		text_at(out, x0 + gw * i + gw / 2, y0 + ph + 16, "middle", fl_report_bin_name(i));
	}
	fl_buf_addf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>", x0,
		    y0 + ph, w - 10, y0 + ph);
	legend(out, x0, h - 20, read_color, "read waits");
	legend(out, x0 + 110, h - 20, write_color, "write waits");
	fig_close(out);
}

static void cdf_path(struct fl_buf *out, const struct fl_report_samples *s, const char *color,
		     double x0, double y0, double pw, double ph, double lmin, double lmax)
{
	double lx = -1, ly = -1;

	if (!s->n)
		return;
	fl_buf_addf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", color);
	for (size_t i = 0; i < s->n; i++) {
		double us = s->v[i] / 1000.0;
		double lv = us > 0 ? log10(us) : lmin;
		double x, y;

		if (lv < lmin)
			lv = lmin;
		/* the step reaches (i + 1) / n at the last sample of a run of equal values */
		if (i + 1 < s->n && s->v[i + 1] == s->v[i])
			continue;
		x = x0 + pw * (lv - lmin) / (lmax - lmin);
		y = y0 + ph - ph * (double)(i + 1) / (double)s->n;
		if (lx < 0) {
			fl_buf_addf(out, "M%.1f %.1f", x0, y0 + ph);
			fl_buf_addf(out, "L%.1f %.1f", x, y0 + ph);
		} else if (x - lx < 0.5 && ly - y < 0.5 && i + 1 < s->n) {
			continue;
		} else {
			fl_buf_addf(out, "L%.1f %.1f", x, ly);
		}
		fl_buf_addf(out, "L%.1f %.1f", x, y);
		lx = x;
		ly = y;
	}
	fl_buf_addstr(out, "\"/>\n");
}

static void cdf(const struct fl_report *r, struct fl_buf *out)
{
	const int w = 860, h = 320, x0 = 60, y0 = 20, pw = w - x0 - 20, ph = 240;
	double lmin = -2, lmax = 1;	/* log10 µs: 10 ns .. at least 10 µs */
	uint64_t mx = 0;

	if (r->read_waits.n)
		mx = r->read_waits.v[r->read_waits.n - 1];
	if (r->write_waits.n && r->write_waits.v[r->write_waits.n - 1] > mx)
		mx = r->write_waits.v[r->write_waits.n - 1];
	if (mx > 0 && ceil(log10(mx / 1000.0)) > lmax)
		lmax = ceil(log10(mx / 1000.0));
	fig_open(out, "CDF of mmap_lock wait (whole capture)", w, h,
		 "cumulative distribution of mmap_lock wait times");
	for (int k = (int)lmin; k <= (int)lmax; k++) {
		double x = x0 + pw * (k - lmin) / (lmax - lmin);
		char s[32];

		if (k < 0)
			snprintf(s, sizeof(s), "%g µs", pow(10, k));
		else if (k < 3)
			snprintf(s, sizeof(s), "%d µs", (int)pow(10, k));
		else if (k < 6)
			snprintf(s, sizeof(s), "%d ms", (int)pow(10, k - 3));
		else
			snprintf(s, sizeof(s), "%d s", (int)pow(10, k - 6));
		fl_buf_addf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			    "stroke=\"#e3e7ee\"/>",
			    x, y0, x, y0 + ph);
		text_at(out, x, y0 + ph + 16, "middle", s);
	}
	for (int k = 0; k <= 4; k++) {
		double y = y0 + ph - ph * k / 4.0;
		char s[16];

		snprintf(s, sizeof(s), "%.2f", k / 4.0);
		fl_buf_addf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			    "stroke=\"#e3e7ee\"/>",
			    x0, y, x0 + pw, y);
		text_at(out, x0 - 6, y + 4, "end", s);
	}
	cdf_path(out, &r->read_waits, read_color, x0, y0, pw, ph, lmin, lmax);
	cdf_path(out, &r->write_waits, write_color, x0, y0, pw, ph, lmin, lmax);
	fl_buf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		    "stroke=\"#555\"/>", x0, y0, pw, ph);
	{
		char s[64];

		snprintf(s, sizeof(s), "read (%zu acquisitions)", r->read_waits.n);
		legend(out, x0, h - 12, read_color, s);
		snprintf(s, sizeof(s), "write (%zu acquisitions)", r->write_waits.n);
		legend(out, x0 + 220, h - 12, write_color, s);
	}
	fig_close(out);
}

/* Upper half (faults) and lower half (lock), in priority order within each. */
static const struct {
	const char *color, *name;
	int half, prio;
} span_style[FL_SPAN__COUNT] = {
	[FL_SPAN_FAULT] = { "#9cc59a", "fault (vma)", 0, 1 },
	[FL_SPAN_FAULT_RETRY] = { "#c9a227", "fault that dropped its lock and retried", 0, 3 },
	[FL_SPAN_FAULT_MMAP] = { "#5b8f59", "fault under mmap_lock", 0, 2 },
	[FL_SPAN_IO] = { "#888888", "I/O", 0, 0 },
	[FL_SPAN_WAIT_READ] = { "#3a6fd8", "mmap_lock read wait", 1, 2 },
	[FL_SPAN_WAIT_WRITE] = { "#d8402b", "mmap_lock write wait", 1, 3 },
	[FL_SPAN_WRITER] = { "#8e5bb5", "write hold (mmap, munmap, fork ...)", 1, 1 },
};

static void lane(struct fl_buf *out, const struct fl_report_lane *l, double span_ns, int y,
		 uint8_t *px)
{
	for (int half = 0; half < 2; half++) {
		memset(px, 0xff, PLOT_W);
		for (size_t i = 0; i < l->n; i++) {
			const struct fl_report_span *s = &l->s[i];
			int a, b;

			if (span_style[s->kind].half != half)
				continue;
			a = (int)(s->start_ns / span_ns * PLOT_W);
			b = (int)(s->end_ns / span_ns * PLOT_W);
			if (a < 0)
				a = 0;
			if (b >= PLOT_W)
				b = PLOT_W - 1;
			for (int x = a; x <= b; x++)
				if (px[x] == 0xff ||
				    span_style[s->kind].prio > span_style[px[x]].prio)
					px[x] = s->kind;
		}
		for (int x = 0; x < PLOT_W;) {
			int e = x;

			while (e < PLOT_W && px[e] == px[x])
				e++;
			if (px[x] != 0xff)
				fl_buf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
					    "height=\"8\" fill=\"%s\"/>", LABEL_W + x,
					    y + 2 + half * 9, e - x, span_style[px[x]].color);
			x = e;
		}
	}
}

static void timeline(const struct fl_report *r, struct fl_buf *out)
{
	const int w = LABEL_W + PLOT_W + 20, h = 30 + LANE_H * (int)r->nlanes + 70;
	double span_ns = (double)(r->recon_last_ns - r->recon_first_ns);
	uint8_t *px;

	fl_buf_addstr(out, "<h2 id=\"timeline\">Timeline of the top threads</h2>\n");
	if (!r->nlanes || span_ns <= 0) {
		fl_buf_addstr(out, "<p>No thread with faults or mmap_lock waits.</p>\n");
		return;
	}
	fl_buf_addstr(out, "<p>Upper half of each lane: faults by path; lower half: mmap_lock "
		      "waits and write holds. Each pixel shows the most important thing that "
		      "touched it, however short.</p>\n");
	fig_open(out, "faults and mmap_lock waits per thread", w, h,
		 "per-thread timeline of faults and mmap_lock waits");
	px = fl_malloc(PLOT_W);
	for (size_t i = 0; i < r->nlanes; i++) {
		const struct fl_report_lane *l = &r->lanes[i];
		int y = 10 + LANE_H * (int)i;
		char *name = fl_asprintf("%d %s", l->tid, l->comm);

		fl_buf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
			    LABEL_W, y, PLOT_W, LANE_H - 2, i % 2 ? "#f7f8fb" : "#eef1f6");
		text_at(out, LABEL_W - 6, y + 14, "end", name);
		free(name);
		lane(out, l, span_ns, y, px);
	}
	free(px);
	{
		int ya = 10 + LANE_H * (int)r->nlanes;

		for (int k = 0; k <= 5; k++) {
			double x = LABEL_W + PLOT_W * k / 5.0;
			char s[32];

			snprintf(s, sizeof(s), "%.3f s", span_ns * k / 5.0 / 1e9);
			fl_buf_addf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				    "stroke=\"#555\"/>", x, ya, x, ya + 4);
			text_at(out, x, ya + 16, "middle", s);
		}
		for (int k = 0, n = 0; k < FL_SPAN__COUNT; k++) {
			if (k == FL_SPAN_IO)
				continue;
			legend(out, 10 + (n % 3) * 330, ya + 38 + (n / 3) * 16, span_style[k].color,
			       span_style[k].name);
			n++;
		}
	}
	fig_close(out);
}

void fl_report_figure(void *arg, int id, struct fl_buf *out)
{
	const struct fl_report *r = arg;

	switch (id) {
	case FL_FIG_HIST:
		if (r->m.mmap_read_acq + r->m.mmap_write_acq)
			hist(r, out);
		break;
	case FL_FIG_CDF:
		if (r->read_waits.n + r->write_waits.n)
			cdf(r, out);
		break;
	case FL_FIG_TIMELINE:
		timeline(r, out);
		break;
	}
}
