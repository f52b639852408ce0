/*
 * cmd-ingest.c - `faultlab ingest FILE... [--db DB]`: the CLI side of db/ingest.c.
 *
 * Each file is all-or-nothing: it is ingested whole in one transaction or not
 * at all. A file that fails (not a capture, unreadable, a database error) is
 * reported on one line and the others are still ingested; the exit status is
 * 1 if any file failed, else 0. A truncated or damaged capture is not a
 * failure: every complete record goes in and the losses are warned about.
 * The database is created only when a first file is worth ingesting.
 * Progress (bytes of the file) is drawn on stderr when it is a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cmds.h"
#include "db/db.h"
#include "db/reconstruct.h"

static const char usage_text[] =
	"usage: faultlab ingest FILE... [--db DB]\n"
	"   or: faultlab ingest --rebuild [--db DB]\n"
	"\n"
	"Decodes capture files (.flc, or trace-cmd trace.dat) into an SQLite database.\n"
	"Each file goes in whole or not at all; a file already in the database (same\n"
	"content) is not added twice. The tables and views are described in README.md.\n"
	"\n"
	"  -d, --db DB     database file (default faultlab.db; created if absent)\n"
	"  -q, --quiet     no progress bar\n"
	"      --no-reconstruct  load the events only (faster for very large captures);\n"
	"                  `--rebuild` derives the fault and lock tables later\n"
	"      --rebuild   re-run the fault reconstruction of every capture in DB from its\n"
	"                  stored events (after upgrading faultlab); no FILE\n"
	"  -h, --help      this text\n"
	"\n"
	"Exit status: 0 when every file is in the database, 1 if any file failed.\n";

struct bar {
	const char *name;
	uint64_t t0;		/* ns */
	uint64_t last;		/* ns of the last draw */
	bool shown;
};

static void draw(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	uint64_t now = fl_now_ns();
	int width = 30, fill;
	char line[64];

	if (now - b->last < 100000000 && done < total)
		return;
	b->last = now;
	fill = total ? (int)((double)done / total * width) : 0;
	if (fill > width)
		fill = width;
	memset(line, '#', fill);
	memset(line + fill, '.', width - fill);
	line[width] = 0;
	fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MiB %.1f s ", b->name, line,
		total ? (int)(100.0 * done / total) : 0, done / 1048576.0, total / 1048576.0,
		(now - b->t0) / 1e9);
	fflush(stderr);
	b->shown = true;
}

static void clear_bar(struct bar *b)
{
	if (b->shown)
		fprintf(stderr, "\r\033[K");
	b->shown = false;
}

static void print_result(const char *path, const struct fl_ingest_stats *st)
{
	double secs = st->elapsed_ns / 1e9;
	const char *w = st->warnings.data;

	while (w && *w) {
		const char *eol = strchr(w, '\n');
		int len = eol ? (int)(eol - w) : (int)strlen(w);

		fprintf(stderr, "faultlab ingest: warning: '%s': %.*s\n", path, len, w);
		w = eol ? eol + 1 : NULL;
	}
	if (st->truncated || st->bytes_lost)
		fprintf(stderr, "faultlab ingest: warning: '%s' is %s: %llu bytes in cut or "
			"damaged records were lost; every complete record was ingested\n", path,
			st->truncated ? "truncated" : "damaged",
			(unsigned long long)st->bytes_lost);
	if (st->events_lost)
		fprintf(stderr, "faultlab ingest: warning: '%s': the ring buffer lost %llu events "
			"while capturing (a larger --buffer-kb helps)\n", path,
			(unsigned long long)st->events_lost);
	printf("%s: capture %lld, %llu events in %.2f s (%.2f M events/s), %zu warning%s%s\n",
	       path, (long long)st->capture_id, (unsigned long long)st->events, secs,
	       secs > 0 ? st->events / secs / 1e6 : 0.0, st->nwarnings,
	       st->nwarnings == 1 ? "" : "s",
	       st->events_lost ? ", events lost while capturing" : "");
}

/* --rebuild: the derived tables of every capture, again from its stored events. */
static int rebuild_all(const char *dbpath)
{
	struct fl_err err = { { 0 } };
	struct fl_db *db;
	sqlite3_stmt *q = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	int status = 0;

	if (access(dbpath, F_OK)) {
		fprintf(stderr, "faultlab ingest: no database '%s' to rebuild\n", dbpath);
		return 1;
	}
	db = fl_db_open(dbpath, FL_DB_WRITE, &err);
	if (!db) {
		fprintf(stderr, "faultlab ingest: %s\n", err.msg);
		return 1;
	}
	if (sqlite3_prepare_v2(fl_db_sqlite(db), "SELECT id FROM capture ORDER BY id", -1, &q,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "faultlab ingest: cannot list captures in '%s': %s\n", dbpath,
			sqlite3_errmsg(fl_db_sqlite(db)));
		fl_db_close(db);
		return 1;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		ids = fl_realloc(ids, (n + 1) * sizeof(*ids));
		ids[n++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = fl_now_ns(), events = 0;

		if (fl_recon_run_db(fl_db_sqlite(db), ids[i], &events, &err) < 0) {
			fprintf(stderr, "faultlab ingest: cannot rebuild capture %lld: %s (its "
				"earlier rows are kept)\n", (long long)ids[i], err.msg);
			status = 1;
			continue;
		}
		printf("capture %lld: reconstructed from %llu events in %.2f s\n",
		       (long long)ids[i], (unsigned long long)events, (fl_now_ns() - t0) / 1e9);
	}
	free(ids);
	fl_db_close(db);
	return status;
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "rebuild", no_argument, NULL, 'R' },
		{ "no-reconstruct", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *dbpath = "faultlab.db";
	struct fl_db *db = NULL;
	bool quiet = false, rebuild = false, no_recon = false;
	int c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'R':
			rebuild = true;
			break;
		case 'N':
			no_recon = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (rebuild) {
		if (optind < argc) {
			fprintf(stderr, "faultlab ingest: --rebuild takes no file\n\n%s", usage_text);
			return 2;
		}
		return rebuild_all(dbpath);
	}
	if (optind >= argc) {
		fprintf(stderr, "faultlab ingest: no capture file given\n\n%s", usage_text);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		struct fl_ingest_src src;
		struct fl_ingest_stats st;
		struct fl_err err = { { 0 } };
		struct bar bar = { .name = path, .t0 = fl_now_ns() };
		struct fl_ingest_opts opts = { .no_reconstruct = no_recon };
		const char *hook;

		if (fl_ingest_src_open(&src, path, &err)) {
			fprintf(stderr, "faultlab ingest: %s\n", err.msg);
			status = 1;
			continue;
		}
		if (!db) {
			db = fl_db_open(dbpath, FL_DB_WRITE, &err);
			if (!db) {
				fprintf(stderr, "faultlab ingest: %s\n", err.msg);
				fl_ingest_src_close(&src);
				return 1;
			}
		}
		/* Test hook: make the ingest fail after N events (tests/t/t2000-ingest.sh). */
		if ((hook = getenv("FAULTLAB_TEST_INGEST_FAIL_AFTER")))
			opts.fail_after = strtoull(hook, NULL, 10);
		if (!quiet && isatty(STDERR_FILENO)) {
			opts.progress = draw;
			opts.progress_arg = &bar;
		}
		if (fl_db_ingest(db, &src, &opts, &st, &err)) {
			clear_bar(&bar);
			fprintf(stderr, "faultlab ingest: cannot ingest '%s': %s (nothing of it "
				"was stored)\n", path, err.msg);
			status = 1;
		} else if (st.already) {
			clear_bar(&bar);
			printf("%s: already ingested as capture %lld\n", path,
			       (long long)st.capture_id);
		} else {
			clear_bar(&bar);
			print_result(path, &st);
		}
		fflush(stdout);
		fl_buf_release(&st.warnings);
		fl_ingest_src_close(&src);
	}
	fl_db_close(db);
	return status;
}
