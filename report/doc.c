/*
 * doc.c - the report document and its three human-readable renderers.
 *
 * A document is a flat list of blocks in reading order. Tables hold their
 * cells as formatted strings (numbers already grouped, µs already rounded) so
 * that every renderer shows the same figures; a column is either text
 * (left-aligned) or a number (right-aligned). Widths in the text renderer are
 * counted in code points, not bytes, so "µs" and "∞" keep columns aligned.
 *
 * Escaping is the renderer's job and covers every string, whatever its
 * origin: text replaces control bytes, markdown neutralises '|', '\', '<',
 * '>', '&' and backquotes, HTML escapes & < > " ' (and replaces control bytes
 * and invalid UTF-8). A comm named "<script>" therefore stays text everywhere.
 */
#include "report/doc.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fl_block *block_new(struct fl_doc *d, enum fl_block_kind kind)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 32;
		d->b = fl_realloc(d->b, d->cap * sizeof(*d->b));
	}
	memset(&d->b[d->n], 0, sizeof(d->b[0]));
	d->b[d->n].kind = kind;
	return &d->b[d->n++];
}

static char *vfmt(const char *fmt, va_list ap)
{
	struct fl_buf b = { 0 };
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	b.data = fl_malloc((size_t)n + 1);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	return b.data;
}

void fl_doc_heading(struct fl_doc *d, int level, const char *anchor, const char *fmt, ...)
{
	struct fl_block *b = block_new(d, FL_BLK_HEADING);
	va_list ap;

	b->level = level;
	b->anchor = anchor ? fl_strdup(anchor) : NULL;
	va_start(ap, fmt);
	b->text = vfmt(fmt, ap);
	va_end(ap);
}

void fl_doc_para(struct fl_doc *d, const char *fmt, ...)
{
	struct fl_block *b = block_new(d, FL_BLK_PARA);
	va_list ap;

	va_start(ap, fmt);
	b->text = vfmt(fmt, ap);
	va_end(ap);
}

void fl_doc_warn(struct fl_doc *d, const char *fmt, ...)
{
	struct fl_block *b = block_new(d, FL_BLK_WARN);
	va_list ap;

	va_start(ap, fmt);
	b->text = vfmt(fmt, ap);
	va_end(ap);
}

void fl_doc_figure(struct fl_doc *d, int id)
{
	block_new(d, FL_BLK_FIGURE)->level = id;
}

struct fl_table *fl_doc_table(struct fl_doc *d, const char *caption, int ncols, ...)
{
	struct fl_block *b = block_new(d, FL_BLK_TABLE);
	struct fl_table *t = fl_calloc(1, sizeof(*t));
	va_list ap;

	b->text = caption ? fl_strdup(caption) : NULL;
	b->table = t;
	t->ncols = ncols;
	t->head = fl_calloc((size_t)ncols, sizeof(*t->head));
	va_start(ap, ncols);
	for (int c = 0; c < ncols; c++) {
		const char *h = va_arg(ap, const char *);

		if (h[0] == '<') {
			t->left |= 1u << c;
			h++;
		}
		t->head[c] = fl_strdup(h);
	}
	va_end(ap);
	t->col = ncols;
	return t;
}

void fl_table_row(struct fl_table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cell = fl_realloc(t->cell, t->cap * (size_t)t->ncols * sizeof(*t->cell));
	}
	memset(t->cell + t->nrows * (size_t)t->ncols, 0, (size_t)t->ncols * sizeof(*t->cell));
	t->nrows++;
	t->col = 0;
}

static void put(struct fl_table *t, char *s)
{
	if (!t->nrows || t->col >= t->ncols) {
		free(s);	/* more cells than columns: a caller bug, not worth crashing */
		return;
	}
	t->cell[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->col++] = s;
}

void fl_table_cell(struct fl_table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put(t, vfmt(fmt, ap));
	va_end(ap);
}

void fl_fmt_count(char *out, size_t len, uint64_t v)
{
	char digits[32];
	size_t n, o = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v);
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
}

void fl_fmt_us(char *out, size_t len, double us)
{
	if (us == 0) {
		snprintf(out, len, "0");
	} else if (us >= 999.5) {
		char c[48];

		fl_fmt_count(c, sizeof(c), (uint64_t)llround(us));
		snprintf(out, len, "%s", c);
	} else if (us >= 100) {
		snprintf(out, len, "%.0f", us);
	} else if (us >= 10) {
		snprintf(out, len, "%.1f", us);
	} else {
		snprintf(out, len, "%.2f", us);
	}
}

void fl_table_count(struct fl_table *t, uint64_t v)
{
	char s[48];

	fl_fmt_count(s, sizeof(s), v);
	put(t, fl_strdup(s));
}

void fl_table_us(struct fl_table *t, double us)
{
	char s[64];

	fl_fmt_us(s, sizeof(s), us);
	put(t, fl_strdup(s));
}

void fl_table_pct(struct fl_table *t, double pct)
{
	fl_table_cell(t, "%.2f%%", pct);
}

static void table_free(struct fl_table *t)
{
	for (int c = 0; c < t->ncols; c++)
		free(t->head[c]);
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cell[i]);
	free(t->head);
	free(t->cell);
	free(t);
}

void fl_doc_release(struct fl_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->b[i].text);
		free(d->b[i].anchor);
		if (d->b[i].table)
			table_free(d->b[i].table);
	}
	free(d->b);
	free(d->title);
	memset(d, 0, sizeof(*d));
}

static const char *cell(const struct fl_table *t, size_t r, int c)
{
	const char *s = t->cell[r * (size_t)t->ncols + (size_t)c];

	return s ? s : "";
}

/* ---- text ---------------------------------------------------------------- */

/* Code points of s, control bytes replaced, as the terminal shows it. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

static void text_str(struct fl_buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char c = (char)*p;

		if (*p < 0x20 || *p == 0x7f)
			c = '?';
		fl_buf_add(out, &c, 1);
	}
}

/* Paragraph text wrapped at WRAP columns, continuation lines indented by indent. */
#define WRAP 100

static void text_wrapped(struct fl_buf *out, const char *s, size_t first, size_t indent)
{
	size_t col = first;
	bool start = true;	/* nothing on this line yet */

	while (*s) {
		const char *e = s;
		struct fl_buf word = { 0 };
		size_t w;

		while (*e && *e != ' ')
			e++;
		fl_buf_add(&word, s, (size_t)(e - s));
		w = width(word.data);
		if (!start && col + 1 + w > WRAP) {
			fl_buf_addstr(out, "\n");
			for (col = 0; col < indent; col++)
				fl_buf_addstr(out, " ");
		} else if (!start) {
			fl_buf_addstr(out, " ");
			col++;
		}
		start = false;
		text_str(out, word.data);
		col += w;
		fl_buf_release(&word);
		s = *e ? e + 1 : e;
	}
	fl_buf_addstr(out, "\n");
}

static void pad(struct fl_buf *out, size_t n)
{
	while (n--)
		fl_buf_addstr(out, " ");
}

static void text_table(const struct fl_table *t, const char *caption, struct fl_buf *out)
{
	size_t *w = fl_calloc((size_t)t->ncols, sizeof(*w));

	if (caption) {
		fl_buf_addstr(out, "  ");
		text_str(out, caption);
		fl_buf_addstr(out, "\n");
	}
	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++)
			if (width(cell(t, r, c)) > w[c])
				w[c] = width(cell(t, r, c));
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		fl_buf_addstr(out, "  ");
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? cell(t, r - 1, c) : t->head[c];
			size_t gap = w[c] - width(s);
			bool last = c == t->ncols - 1;

			if (c)
				fl_buf_addstr(out, "  ");
			if (!(t->left & (1u << c)))
				pad(out, gap);
			text_str(out, s);
			if ((t->left & (1u << c)) && !last)
				pad(out, gap);
		}
		fl_buf_addstr(out, "\n");
	}
	free(w);
}

void fl_doc_text(const struct fl_doc *d, struct fl_buf *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct fl_block *b = &d->b[i];

		switch (b->kind) {
		case FL_BLK_HEADING:
			if (i)
				fl_buf_addstr(out, "\n");
			if (b->level == 1) {
				text_str(out, b->text);
				fl_buf_addstr(out, "\n");
				for (size_t k = width(b->text); k; k--)
					fl_buf_addstr(out, "=");
			} else {
				fl_buf_addstr(out, b->level == 3 ? "-- " : "");
				text_str(out, b->text);
			}
			fl_buf_addstr(out, "\n");
			break;
		case FL_BLK_PARA:
			fl_buf_addstr(out, "  ");
			text_wrapped(out, b->text, 2, 2);
			break;
		case FL_BLK_WARN:
			fl_buf_addstr(out, "  !! WARNING: ");
			text_wrapped(out, b->text, 14, 5);
			break;
		case FL_BLK_TABLE:
			text_table(b->table, b->text, out);
			break;
		case FL_BLK_FIGURE:
			break;
		}
	}
}

/* ---- markdown ------------------------------------------------------------ */

static void md_str(struct fl_buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '|': fl_buf_addstr(out, "\\|"); break;
		case '\\': fl_buf_addstr(out, "\\\\"); break;
		case '`': fl_buf_addstr(out, "\\`"); break;
		case '*': fl_buf_addstr(out, "\\*"); break;
		case '[': fl_buf_addstr(out, "\\["); break;
		case '<': fl_buf_addstr(out, "&lt;"); break;
		case '>': fl_buf_addstr(out, "&gt;"); break;
		case '&': fl_buf_addstr(out, "&amp;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fl_buf_addstr(out, " ");
			else
				fl_buf_add(out, p, 1);
		}
	}
}

void fl_doc_md(const struct fl_doc *d, struct fl_buf *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct fl_block *b = &d->b[i];
		const struct fl_table *t = b->table;

		switch (b->kind) {
		case FL_BLK_HEADING:
			fl_buf_addstr(out, b->level == 1 ? "# " : b->level == 2 ? "## " : "### ");
			md_str(out, b->text);
			fl_buf_addstr(out, "\n\n");
			break;
		case FL_BLK_PARA:
			md_str(out, b->text);
			fl_buf_addstr(out, "\n\n");
			break;
		case FL_BLK_WARN:
			fl_buf_addstr(out, "> **Warning:** ");
			md_str(out, b->text);
			fl_buf_addstr(out, "\n\n");
			break;
		case FL_BLK_TABLE:
			if (b->text) {
				fl_buf_addstr(out, "**");
				md_str(out, b->text);
				fl_buf_addstr(out, "**\n\n");
			}
			for (int c = 0; c < t->ncols; c++) {
				fl_buf_addstr(out, "| ");
				md_str(out, t->head[c]);
				fl_buf_addstr(out, " ");
			}
			fl_buf_addstr(out, "|\n");
			for (int c = 0; c < t->ncols; c++)
				fl_buf_addstr(out, t->left & (1u << c) ? "|---" : "|---:");
			fl_buf_addstr(out, "|\n");
			for (size_t r = 0; r < t->nrows; r++) {
				for (int c = 0; c < t->ncols; c++) {
					fl_buf_addstr(out, "| ");
					md_str(out, cell(t, r, c));
					fl_buf_addstr(out, " ");
				}
				fl_buf_addstr(out, "|\n");
			}
			fl_buf_addstr(out, "\n");
			break;
		case FL_BLK_FIGURE:
			break;
		}
	}
}

/* ---- HTML ---------------------------------------------------------------- */

void fl_html_esc(struct fl_buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': fl_buf_addstr(out, "&amp;"); break;
		case '<': fl_buf_addstr(out, "&lt;"); break;
		case '>': fl_buf_addstr(out, "&gt;"); break;
		case '"': fl_buf_addstr(out, "&quot;"); break;
		case '\'': fl_buf_addstr(out, "&#39;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fl_buf_addstr(out, *p == '\n' || *p == '\t' ? " " : "&#xfffd;");
			} else if (*p >= 0x80) {
				int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
					: (*p & 0xf8) == 0xf0 ? 4 : 0;
				int k = 1;

				while (n && k < n && (p[k] & 0xc0) == 0x80)
					k++;
				if (n && k == n) {
					fl_buf_add(out, p, (size_t)n);
					p += n - 1;
				} else {
					fl_buf_addstr(out, "&#xfffd;");
				}
			} else {
				fl_buf_add(out, p, 1);
			}
		}
	}
}

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;"
	"max-width:1180px;padding:0 16px;color:#1d2330;background:#fff}"
	"h1{font-size:22px;margin:0 0 8px}h3{font-size:15px;margin:20px 0 6px}"
	"h2{font-size:17px;margin:28px 0 8px;"
	"border-bottom:1px solid #d8dde6;padding-bottom:3px}"
	"p{margin:4px 0}"
	".warn{background:#fff4e5;border:1px solid #f0a030;border-left:6px solid #e07000;"
	"padding:6px 10px;margin:6px 0;font-weight:600}"
	"table{border-collapse:collapse;margin:6px 0 14px;font-variant-numeric:tabular-nums}"
	"caption{text-align:left;font-weight:600;padding:2px 0 4px}"
	"th,td{border:1px solid #d8dde6;padding:3px 8px}th{background:#f0f3f8}"
	"td.n,th.n{text-align:right}td:first-child{white-space:nowrap}td.t,th.t{text-align:left}"
	"tbody tr:nth-child(even){background:#fafbfd}"
	".tw{overflow-x:auto;max-width:100%}figure{margin:8px 0 16px}figcaption{font-weight:600;margin-bottom:4px}"
	"svg{font:11px sans-serif;background:#fff;max-width:100%;height:auto}"
	"nav a{margin-right:12px}";

void fl_doc_html(const struct fl_doc *d, fl_doc_figure_fn fig, void *arg, struct fl_buf *out)
{
	fl_buf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>");
	fl_html_esc(out, d->title ? d->title : "faultlab report");
	fl_buf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	for (size_t i = 0; i < d->n; i++) {
		const struct fl_block *b = &d->b[i];
		const struct fl_table *t = b->table;

		switch (b->kind) {
		case FL_BLK_HEADING:
			fl_buf_addf(out, "<h%d", b->level);
			if (b->anchor) {
				fl_buf_addstr(out, " id=\"");
				fl_html_esc(out, b->anchor);
				fl_buf_addstr(out, "\"");
			}
			fl_buf_addstr(out, ">");
			fl_html_esc(out, b->text);
			fl_buf_addf(out, "</h%d>\n", b->level);
			break;
		case FL_BLK_PARA:
			fl_buf_addstr(out, "<p>");
			fl_html_esc(out, b->text);
			fl_buf_addstr(out, "</p>\n");
			break;
		case FL_BLK_WARN:
			fl_buf_addstr(out, "<div class=\"warn\">Warning: ");
			fl_html_esc(out, b->text);
			fl_buf_addstr(out, "</div>\n");
			break;
		case FL_BLK_TABLE:
			fl_buf_addstr(out, "<div class=\"tw\"><table>");
			if (b->text) {
				fl_buf_addstr(out, "<caption>");
				fl_html_esc(out, b->text);
				fl_buf_addstr(out, "</caption>");
			}
			fl_buf_addstr(out, "\n<thead><tr>");
			for (int c = 0; c < t->ncols; c++) {
				fl_buf_addf(out, "<th class=\"%s\">",
					    t->left & (1u << c) ? "t" : "n");
				fl_html_esc(out, t->head[c]);
				fl_buf_addstr(out, "</th>");
			}
			fl_buf_addstr(out, "</tr></thead>\n<tbody>\n");
			for (size_t r = 0; r < t->nrows; r++) {
				fl_buf_addstr(out, "<tr>");
				for (int c = 0; c < t->ncols; c++) {
					fl_buf_addf(out, "<td class=\"%s\">",
						    t->left & (1u << c) ? "t" : "n");
					fl_html_esc(out, cell(t, r, c));
					fl_buf_addstr(out, "</td>");
				}
				fl_buf_addstr(out, "</tr>\n");
			}
			fl_buf_addstr(out, "</tbody></table></div>\n");
			break;
		case FL_BLK_FIGURE:
			if (fig)
				fig(arg, b->level, out);
			break;
		}
	}
	fl_buf_addstr(out, "</body>\n</html>\n");
}
