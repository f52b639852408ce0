/*
 * test-report.c - the report's document renderers and figures without a
 * database: escaping of hostile trace strings in text, markdown and HTML,
 * number formats, column alignment by code points, and that doubts (lost
 * events, a truncated file, anomalies) come before the first number.
 */
#include <string.h>

#include "tests/unit/test.h"
#include "report/doc.h"
#include "report/report.h"
#include "report/svg.h"

static const char hostile[] = "<script>alert('x')</script>&\"|*\x01";

FL_TEST(report_doc_escaping)
{
	struct fl_doc d = { 0 };
	struct fl_buf text = { 0 }, md = { 0 }, html = { 0 };
	struct fl_table *t;

	d.title = fl_strdup(hostile);
	fl_doc_heading(&d, 1, "top", "%s", hostile);
	fl_doc_para(&d, "comm %s", hostile);
	fl_doc_warn(&d, "lost %s", hostile);
	t = fl_doc_table(&d, hostile, 2, "<comm", "waits");
	fl_table_row(t);
	fl_table_cell(t, "%s", hostile);
	fl_table_count(t, 1234567);
	fl_doc_text(&d, &text);
	fl_doc_md(&d, &md);
	fl_doc_html(&d, NULL, NULL, &html);

	/* text: as is, but no control byte reaches the terminal */
	CHECKF(strstr(text.data, "<script>alert('x')</script>&\"|*?"), "%s", text.data);
	CHECK(!strchr(text.data, '\x01'));
	CHECK(strstr(text.data, "!! WARNING: lost <script>"));
	CHECK(strstr(text.data, "1,234,567"));
	/* markdown: no HTML, no cell break */
	CHECKF(!strstr(md.data, "<script"), "%s", md.data);
	CHECK(strstr(md.data, "&lt;script&gt;alert('x')&lt;/script&gt;&amp;\"\\|\\*"));
	CHECK(strstr(md.data, "| comm | waits |\n|---|---:|\n"));
	CHECK(strstr(md.data, "> **Warning:** lost &lt;script&gt;"));
	/* HTML: every special character escaped, in the title, text, captions and cells */
	CHECKF(!strstr(html.data, "<script"), "%s", html.data);
	CHECK(strstr(html.data,
		     "<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
	CHECK(strstr(html.data, "<caption>&lt;script&gt;"));
	CHECK(strstr(html.data, "<td class=\"t\">&lt;script&gt;"));
	CHECK(strstr(html.data, "<div class=\"warn\">Warning: lost &lt;script&gt;"));
	CHECK(!strchr(html.data, '\x01'));
	CHECK(!strstr(html.data, "http://") && !strstr(html.data, "https://"));
	fl_buf_release(&text);
	fl_buf_release(&md);
	fl_buf_release(&html);
	fl_doc_release(&d);
}

FL_TEST(report_html_esc_utf8)
{
	struct fl_buf b = { 0 };

	fl_html_esc(&b, "µs ∞ \xff\xfe ok");
	CHECKF(!strcmp(b.data, "µs ∞ &#xfffd;&#xfffd; ok"), "%s", b.data);
	fl_buf_release(&b);
}

FL_TEST(report_number_formats)
{
	char s[64];

	fl_fmt_count(s, sizeof(s), 0);
	CHECK(!strcmp(s, "0"));
	fl_fmt_count(s, sizeof(s), 999);
	CHECK(!strcmp(s, "999"));
	fl_fmt_count(s, sizeof(s), 1000);
	CHECK(!strcmp(s, "1,000"));
	fl_fmt_count(s, sizeof(s), 10695877);
	CHECKF(!strcmp(s, "10,695,877"), "%s", s);
	fl_fmt_us(s, sizeof(s), 0);
	CHECK(!strcmp(s, "0"));
	fl_fmt_us(s, sizeof(s), 1.234);
	CHECK(!strcmp(s, "1.23"));
	fl_fmt_us(s, sizeof(s), 12.34);
	CHECK(!strcmp(s, "12.3"));
	fl_fmt_us(s, sizeof(s), 534.4);
	CHECK(!strcmp(s, "534"));
	fl_fmt_us(s, sizeof(s), 408436.2);
	CHECKF(!strcmp(s, "408,436"), "%s", s);
}

/* Columns line up in code points although "µ" and "∞" take two and three bytes. */
FL_TEST(report_text_alignment)
{
	struct fl_doc d = { 0 };
	struct fl_buf out = { 0 };
	struct fl_table *t = fl_doc_table(&d, NULL, 2, "<bin", "waits");
	size_t w[3], n = 0;

	fl_table_row(t);
	fl_table_cell(t, "[100 ms, ∞)");
	fl_table_count(t, 5);
	fl_table_row(t);
	fl_table_cell(t, "[0, 1 µs)");
	fl_table_count(t, 12345);
	fl_doc_text(&d, &out);
	for (char *line = strtok(out.data, "\n"); line && n < 3; line = strtok(NULL, "\n")) {
		size_t cp = 0;

		for (const unsigned char *p = (const unsigned char *)line; *p; p++)
			cp += (*p & 0xc0) != 0x80;
		w[n++] = cp;
	}
	CHECK(n == 3);
	CHECKF(w[0] == w[1] && w[1] == w[2], "%zu %zu %zu", w[0], w[1], w[2]);
	fl_buf_release(&out);
	fl_doc_release(&d);
}

/* A report assembled by hand: lost events, truncation and anomalies lead the page. */
FL_TEST(report_doubts_first_and_figures_escaped)
{
	static const char evil[] = "<img src=x onerror=alert(1)>";
	struct fl_value anomaly = { .name = (char *)"mid_fault", .kind = FL_VAL_INT, .i = 3 };
	struct fl_report_span spans[3] = {
		{ 0, 1000000, FL_SPAN_FAULT_RETRY },
		{ 200000, 900000, FL_SPAN_WAIT_READ },
		{ 5000000, 5000500, FL_SPAN_WRITER },
	};
	struct fl_report_lane lane = { .tid = 101, .tgid = 100, .comm = (char *)evil, .s = spans,
				       .n = 3 };
	struct fl_report_proc proc = { .tgid = 100, .comm = (char *)evil, .threads = 2 };
	uint64_t lost[2] = { 0, 7 };
	uint64_t rw[3] = { 0, 500, 2000000 };
	struct fl_report r;
	struct fl_buf text = { 0 }, html = { 0 };
	const char *warn, *faults;

	memset(&r, 0, sizeof(r));
	r.capture_id = 1;
	r.events = 1000;
	r.events_lost = 7;
	r.lost_cpu = lost;
	r.ncpus = 2;
	r.truncated = true;
	r.recon = r.vma_lock = r.fault_tp = r.filemap_fault_tp = true;
	r.recon_first_ns = 1000;
	r.recon_last_ns = 10001000;
	r.anomalies.v = &anomaly;
	r.anomalies.n = 1;
	r.m.anomalies = 10;
	r.m.mmap_read_acq = 3;
	r.m.mmap_read_wait_hist[0] = 2;
	r.m.mmap_read_wait_hist[6] = 1;
	r.read_waits.v = rw;
	r.read_waits.n = 3;
	proc.m = r.m;
	r.procs = &proc;
	r.nprocs = 1;
	r.lanes = &lane;
	r.nlanes = 1;
	CHECK(fl_report_incomplete(&r));

	fl_report_text(&r, &text);
	warn = strstr(text.data,
		      "!! WARNING: incomplete trace: the ring buffer dropped 7 events (cpu 1: 7)");
	faults = strstr(text.data, "\nFaults\n");
	CHECKF(warn && faults && warn < faults, "%s", text.data);
	CHECK(strstr(text.data, "capture file is truncated"));
	CHECK(strstr(text.data, "3 anomalies (mid_fault 3)"));
	CHECKF(strstr(text.data, "  waits in [100 ms, ∞)        1      0\n"), "%s", text.data);

	fl_report_html(&r, &html);
	CHECKF(!strstr(html.data, "<img"), "%s", html.data);
	CHECK(strstr(html.data, "101 &lt;img src=x onerror=alert(1)&gt;</text>"));
	CHECK(strstr(html.data, "process 100 &lt;img src=x onerror=alert(1)&gt; (2 threads)"));
	CHECK(strstr(html.data, "<figcaption>mmap_lock wait histogram"));
	CHECK(strstr(html.data, "<figcaption>CDF of mmap_lock wait"));
	CHECK(strstr(html.data, "<path fill=\"none\" stroke=\"#3a6fd8\""));
	CHECK(strstr(html.data, "<h2 id=\"timeline\">"));
	fl_buf_release(&text);
	fl_buf_release(&html);
}
