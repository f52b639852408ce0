/*
 * cmd-report.c - `faultlab report [--db DB] [--capture ID | --run ID] [--format
 * text|md|json|html] [-o FILE]`: the CLI side of report/report.c. Reads the database
 * only; the default capture is the latest one ingested; --run shows one stored run
 * of the lock model (faultlab replay --model) the way a capture is shown. With -o the
 * report is written to FILE (replaced atomically: a temporary file renamed into
 * place), else to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "report/report.h"

static const char usage_text[] =
	"usage: faultlab report [--db DB] [--capture ID | --run ID] [--format text|md|json|html] "
	"[-o FILE] [ID]\n\nThe fault and lock picture of one ingested capture: lost events and "
	"anomalies\nfirst, faults and the ioretry retry table (retry_drop, "
	"retry_io_miss,\nmiss_drop_pct, faults by path), the mmap_lock table (acquisitions, "
	"wait\ntotal/avg/p50/p99/max, histogram), top waiters and blockers, forks, per\nprocess "
	"detail, and every metric of the shared vocabulary by name.\n\n  -d, --db DB         "
	"database (default faultlab.db)\n  -c, --capture ID    capture id (default: the latest; "
	"'faultlab info DB' lists them)\n  -r, --run ID        a model run instead (a "
	"replay_run id, printed by 'faultlab\n                      replay --model'): the "
	"same tables, simulated\n  -f, --format FMT    text (default), md (GitHub "
	"markdown), json, or html (one\n                      self-contained page with SVG "
	"plots)\n  -o, --output FILE   write the report to FILE instead of stdout\n  -h, --help   "
	"       this text\n";

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* Writes straight into something that is not a regular file (/dev/stdout, a pipe). */
static int write_special(const char *path, const struct fl_buf *b)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f) {
		fprintf(stderr, "faultlab report: cannot open '%s': %s\n", path, strerror(errno));
		return 1;
	}
	ok = fwrite(b->data, 1, b->len, f) == b->len;
	ok &= fclose(f) == 0;
	if (!ok) {
		fprintf(stderr, "faultlab report: cannot write '%s': %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * Writes the report to path: a regular file (or a new one) through a temporary
 * file renamed into place, so a reader never sees half a report; anything else
 * (a device, a FIFO) directly, never replaced.
 */
static int write_file(const char *path, const struct fl_buf *b)
{
	struct stat st;
	char *tmp;
	FILE *f;
	int ok;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_special(path, b);
	tmp = fl_asprintf("%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");

	if (!f) {
		fprintf(stderr, "faultlab report: cannot create '%s': %s\n", tmp, strerror(errno));
		free(tmp);
		return 1;
	}
	ok = fwrite(b->data, 1, b->len, f) == b->len;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "faultlab report: cannot write '%s': %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return 1;
	}
	free(tmp);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "capture", required_argument, NULL, 'c' },
		{ "run", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *dbpath = "faultlab.db", *format = "text", *output = NULL;
	struct fl_err err = { { 0 } };
	struct fl_buf out = { 0 };
	struct fl_report rep;
	struct fl_db *db;
	int64_t capture = 0, run = 0;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:r:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'c':
			if (parse_id(optarg, &capture)) {
				fprintf(stderr, "faultlab report: '%s' is not a capture id "
					"(a positive number)\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (parse_id(optarg, &run)) {
				fprintf(stderr, "faultlab report: '%s' is not a model run id "
					"(a positive number)\n", optarg);
				return 2;
			}
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		if (optind + 1 < argc || capture || parse_id(argv[optind], &capture)) {
			fprintf(stderr, "faultlab report: unexpected argument '%s'\n\n%s",
				argv[optind], usage_text);
			return 2;
		}
	}
	if (run && capture) {
		fprintf(stderr, "faultlab report: --run and --capture exclude each other "
			"(a run names its capture)\n");
		return 2;
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md") &&
	    strcmp(format, "html")) {
		fprintf(stderr, "faultlab report: unknown format '%s' (text, md, json or html)\n",
			format);
		return 2;
	}
	db = fl_db_open(dbpath, FL_DB_READ, &err);
	if (!db) {
		fprintf(stderr, "faultlab report: %s\n", err.msg);
		return 1;
	}
	if (run ? fl_report_load_run(&rep, db, run, &err) :
	    fl_report_load(&rep, db, capture, &err)) {
		fprintf(stderr, "faultlab report: %s\n", err.msg);
		fl_db_close(db);
		return 1;
	}
	if (!strcmp(format, "json"))
		fl_report_json(&rep, &out);
	else if (!strcmp(format, "md"))
		fl_report_md(&rep, &out);
	else if (!strcmp(format, "html"))
		fl_report_html(&rep, &out);
	else
		fl_report_text(&rep, &out);
	fl_report_release(&rep);
	fl_db_close(db);
	ret = output ? write_file(output, &out) : 0;
	if (!output)
		fwrite(out.data, 1, out.len, stdout);
	fl_buf_release(&out);
	return ret;
}
