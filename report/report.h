/*
 * report.h - the report of one capture: what it is, what it holds, and the
 * metrics of DESIGN.md's vocabulary computed from the database.
 *
 * fl_report_load() fills a struct from the database; the writers render it.
 * Later stages add metrics with fl_report_metric() so that every format
 * carries them under the same names (the JSON "metrics" object).
 */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include "common/fl.h"
#include "db/db.h"

/* A capture column or a metric: an integer, a real, a string, or null. */
enum fl_value_kind { FL_VAL_NULL, FL_VAL_INT, FL_VAL_REAL, FL_VAL_STR };

struct fl_value {
	char *name;
	enum fl_value_kind kind;
	int64_t i;
	double r;
	char *s;
};

struct fl_values {
	struct fl_value *v;
	size_t n, cap;
};

struct fl_report {
	int64_t capture_id;
	struct fl_values capture;	/* the capture row, column by column */
	struct fl_values by_type;	/* "system:name" -> events (INT) */
	struct fl_values metrics;	/* vocabulary name -> value */
	uint64_t *lost_cpu;		/* events lost per CPU */
	int ncpus;
	char **warnings;		/* the capture's warnings, one per entry */
	size_t nwarnings;
	/* Convenience copies of what the tests and the CLI look at. */
	uint64_t events, events_lost;
	uint64_t faults_user, faults_kernel;
	uint64_t tasks_followed;
	bool complete, truncated;
};

/* capture 0 = the latest. -1 with err set when there is none or on SQL errors. */
int fl_report_load(struct fl_report *r, struct fl_db *db, int64_t capture, struct fl_err *err);
void fl_report_release(struct fl_report *r);

/* Adds or replaces a metric. */
void fl_report_metric_int(struct fl_report *r, const char *name, int64_t v);
void fl_report_metric_real(struct fl_report *r, const char *name, double v);

/*
 * JSON: {"capture": {...}, "events_by_type": {...}, "lost": {...}, "warnings": [...],
 * "metrics": {...}}; text: the same for a terminal.
 */
void fl_report_json(const struct fl_report *r, struct fl_buf *out);
void fl_report_text(const struct fl_report *r, struct fl_buf *out);

/* JSON string escaping (shared by the writers of report/ and info). */
void fl_json_str(struct fl_buf *out, const char *s);

#endif
