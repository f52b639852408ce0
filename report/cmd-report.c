/*
 * cmd-report.c - `faultlab report [--db DB] [--capture ID] [--format text|json]`:
 * the CLI side of report/report.c. Reads the database only; the default
 * capture is the latest one ingested.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "report/report.h"

static const char usage_text[] =
	"usage: faultlab report [--db DB] [--capture ID] [--format text|json] [ID]\n"
	"\n"
	"The fault and lock picture of one ingested capture: its metadata, events by\n"
	"type, lost events, and the metrics (faults_user, faults_kernel, ...).\n"
	"\n"
	"  -d, --db DB         database (default faultlab.db)\n"
	"  -c, --capture ID    capture id (default: the latest; 'faultlab info DB' lists them)\n"
	"  -f, --format FMT    text (default) or json\n"
	"  -h, --help          this text\n";

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "capture", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *dbpath = "faultlab.db", *format = "text";
	struct fl_err err = { { 0 } };
	struct fl_buf out = { 0 };
	struct fl_report rep;
	struct fl_db *db;
	int64_t capture = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:f:h", longopts, NULL)) != -1) {
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
		case 'f':
			format = optarg;
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
	if (strcmp(format, "text") && strcmp(format, "json")) {
		fprintf(stderr, "faultlab report: unknown format '%s' (text or json)\n", format);
		return 2;
	}
	db = fl_db_open(dbpath, FL_DB_READ, &err);
	if (!db) {
		fprintf(stderr, "faultlab report: %s\n", err.msg);
		return 1;
	}
	if (fl_report_load(&rep, db, capture, &err)) {
		fprintf(stderr, "faultlab report: %s\n", err.msg);
		fl_db_close(db);
		return 1;
	}
	if (!strcmp(format, "json"))
		fl_report_json(&rep, &out);
	else
		fl_report_text(&rep, &out);
	fwrite(out.data, 1, out.len, stdout);
	fl_buf_release(&out);
	fl_report_release(&rep);
	fl_db_close(db);
	return 0;
}
