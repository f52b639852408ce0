/*
 * doc.h - a report document: headings, paragraphs, warnings, tables and
 * figures, rendered as terminal text, GitHub-flavoured markdown or HTML.
 *
 * The report builds one document and every human-readable format renders
 * that same document, so text, md and html carry the same content. Strings
 * are stored raw (as the trace gave them) and escaped by each renderer:
 * control bytes in text, '|' '<' '>' '&' in markdown, everything in HTML.
 * Figures are placeholders that only the HTML renderer draws (through a
 * callback); text and markdown skip them.
 */
#ifndef FL_DOC_H
#define FL_DOC_H

#include "common/fl.h"

enum fl_block_kind {
	FL_BLK_HEADING,		/* level 1, 2 or 3 */
	FL_BLK_PARA,		/* a sentence or a few */
	FL_BLK_WARN,		/* stated prominently: lost events, anomalies, missing events */
	FL_BLK_TABLE,
	FL_BLK_FIGURE,		/* HTML only: drawn by the figure callback */
};

struct fl_table {
	int ncols;
	char **head;		/* ncols column names */
	char **cell;		/* nrows * ncols, row-major; NULL = empty */
	size_t nrows, cap;	/* rows used, rows allocated */
	int col;		/* next column of the current row */
	uint32_t left;		/* bit c: column c is text (left-aligned); else a number */
};

struct fl_block {
	enum fl_block_kind kind;
	int level;		/* heading level (1, 2), or figure id */
	char *text;		/* heading, paragraph, warning; table caption (may be NULL) */
	char *anchor;		/* HTML id of a heading, NULL for none */
	struct fl_table *table;
};

struct fl_doc {
	char *title;
	struct fl_block *b;
	size_t n, cap;
};

void fl_doc_heading(struct fl_doc *d, int level, const char *anchor, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void fl_doc_para(struct fl_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_doc_warn(struct fl_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_doc_figure(struct fl_doc *d, int id);
/* A new table of ncols columns, heads given as ncols strings; "<" before a head
 * marks a text (left-aligned) column, e.g. "<comm". caption may be NULL. */
struct fl_table *fl_doc_table(struct fl_doc *d, const char *caption, int ncols, ...);
void fl_doc_release(struct fl_doc *d);

/* Starts a row; the cells follow in column order. */
void fl_table_row(struct fl_table *t);
void fl_table_cell(struct fl_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_table_count(struct fl_table *t, uint64_t v);	/* 1,234,567 */
void fl_table_us(struct fl_table *t, double us);	/* µs with sensible precision */
void fl_table_pct(struct fl_table *t, double pct);	/* 12.34% */

/* Counts and µs as the tables print them (also used by figure labels). */
void fl_fmt_count(char *out, size_t len, uint64_t v);
void fl_fmt_us(char *out, size_t len, double us);

/* Figure callback for HTML: appends the markup of figure id (already escaped). */
typedef void (*fl_doc_figure_fn)(void *arg, int id, struct fl_buf *out);

void fl_doc_text(const struct fl_doc *d, struct fl_buf *out);
void fl_doc_md(const struct fl_doc *d, struct fl_buf *out);
/* One self-contained page: inline CSS, no external resource. */
void fl_doc_html(const struct fl_doc *d, fl_doc_figure_fn fig, void *arg, struct fl_buf *out);

/* HTML-escapes s (& < > " ' and control bytes; invalid UTF-8 becomes U+FFFD). */
void fl_html_esc(struct fl_buf *out, const char *s);

#endif
