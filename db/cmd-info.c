/*
 * cmd-info.c - `faultlab info FILE|DB [--format text|json]`: what is in a
 * capture file (read from its header, trailer and record tags; nothing is
 * decoded, so it is quick on any size) or in a faultlab database (schema
 * version, captures with their event counts). The kind of file is decided by
 * its first bytes, not its name. Data records are decompressed (not decoded)
 * to check their checksums: about as fast as reading the file.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "cmds.h"
#include "capture/decode.h"
#include "capture/flc.h"
#include "db/db.h"
#include "report/report.h"

static const char usage_text[] =
	"usage: faultlab info FILE|DB [--format text|json]\n"
	"\n"
	"For a capture file: kernel, architecture, CPUs, clock, mode, command, duration,\n"
	"events enabled and missing, records, bytes, compression, snapshots, lost events,\n"
	"warnings, and whether it is complete. For a database: its schema version and\n"
	"its captures with their event counts.\n"
	"\n"
	"  -f, --format FMT    text (default) or json\n"
	"  -h, --help          this text\n";

struct out {
	struct fl_buf b;
	bool json;
	int n;			/* items written in the current JSON object */
};

static void key(struct out *o, const char *k)
{
	fl_buf_addf(&o->b, "%s\n  ", o->n++ ? "," : "");
	fl_json_str(&o->b, k);
	fl_buf_addstr(&o->b, ": ");
}

static void put_str(struct out *o, const char *k, const char *label, const char *v)
{
	if (o->json) {
		key(o, k);
		if (v)
			fl_json_str(&o->b, v);
		else
			fl_buf_addstr(&o->b, "null");
	} else {
		fl_buf_addf(&o->b, "%-20s %s\n", label, v ? v : "unknown");
	}
}

static void put_u64(struct out *o, const char *k, const char *label, uint64_t v)
{
	if (o->json) {
		key(o, k);
		fl_buf_addf(&o->b, "%" PRIu64, v);
	} else {
		fl_buf_addf(&o->b, "%-20s %" PRIu64 "\n", label, v);
	}
}

/* A newline-separated list: JSON array, or "N: a, b, c" in text. */
static void put_list(struct out *o, const char *k, const char *label, const char *s)
{
	int n = 0;

	if (o->json) {
		key(o, k);
		fl_buf_addstr(&o->b, "[");
	} else {
		for (const char *p = s; p && *p; p++)
			n += *p == '\n' || !p[1];
		fl_buf_addf(&o->b, "%-20s %d%s", label, n, n ? ": " : "");
	}
	n = 0;
	while (s && *s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		char *item = fl_asprintf("%.*s", (int)len, s);

		if (len) {
			if (o->json)
				fl_buf_addstr(&o->b, n ? ", " : "");
			else
				fl_buf_addstr(&o->b, n ? ", " : "");
			if (o->json)
				fl_json_str(&o->b, item);
			else
				fl_buf_addstr(&o->b, item);
			n++;
		}
		free(item);
		s = eol ? eol + 1 : NULL;
	}
	fl_buf_addstr(&o->b, o->json ? "]" : "\n");
}

static int info_capture(const char *path, struct out *o)
{
	struct fl_err err = { { 0 } };
	struct fl_flc_reader *r = fl_flc_open(path, &err);
	const struct fl_kv *h, *t;
	uint64_t nrec[FL_FLC_END + 1] = { 0 }, zbytes = 0, rawbytes = 0, lost = 0;
	uint64_t start, end, bad = 0;
	struct fl_buf payload = { 0 };
	char *cmd = NULL, buf[64];
	struct fl_buf warn = { 0 };

	if (!r) {
		fprintf(stderr, "faultlab info: %s\n", err.msg);
		return 1;
	}
	h = fl_flc_header(r);
	t = fl_flc_trailer(r);
	/*
	 * Every data record is decompressed once, so that a damaged frame
	 * (checksum) shows in the state and warnings, not only at ingest.
	 */
	for (size_t i = 0; i < fl_flc_nrecs(r); i++) {
		const struct fl_flc_rec *rec = fl_flc_rec(r, i);

		if (rec->kind <= FL_FLC_END)
			nrec[rec->kind]++;
		zbytes += rec->zsize;
		rawbytes += rec->rawsize;
		if (rec->kind == FL_FLC_DATA && rec->status == FL_FLC_OK &&
		    fl_flc_load(r, i, &payload, &err) < 0)
			bad++;
	}
	fl_buf_release(&payload);
	{
		const struct fl_kv_item *it = fl_kv_find(h, "cmdline");

		if (it) {
			cmd = fl_malloc(it->len + 1);
			for (size_t i = 0; i < it->len; i++)
				cmd[i] = it->val[i] ? it->val[i] : ' ';
			cmd[it->len] = 0;
		}
	}
	if (t) {
		lost = fl_kv_getu64(t, "lost", 0);
		if (!fl_kv_find(t, "lost"))
			for (size_t i = 0; i < t->n; i++)
				if (!strncmp(t->items[i].key, "lost/", 5))
					lost += strtoull(t->items[i].val, NULL, 10);
	}
	for (size_t i = 0; i < fl_flc_nwarnings(r); i++) {
		fl_buf_addstr(&warn, fl_flc_warning(r, i));
		fl_buf_addstr(&warn, "\n");
	}

	if (o->json)
		fl_buf_addstr(&o->b, "{");
	put_str(o, "file", "file", path);
	put_str(o, "kind", "kind", "faultlab capture");
	put_u64(o, "flc_version", "format version", fl_kv_getu64(h, "flc.version", 0));
	put_str(o, "kernel", "kernel", fl_kv_getstr(h, "uname.release"));
	put_str(o, "kernel_version", "kernel build", fl_kv_getstr(h, "uname.version"));
	put_str(o, "host", "host", fl_kv_getstr(h, "uname.nodename"));
	put_str(o, "arch", "arch", fl_kv_getstr(h, "arch"));
	put_u64(o, "cpus", "cpus", fl_kv_getu64(h, "cpus", 0));
	put_u64(o, "page_size", "page size", fl_kv_getu64(h, "page_size", 0));
	put_str(o, "clock", "clock", fl_kv_getstr(h, "clock"));
	put_str(o, "mode", "mode", fl_kv_getstr(h, "mode"));
	put_str(o, "command", "command", cmd);
	start = fl_kv_getu64(h, "start.trace_ns", 0);
	end = t ? fl_kv_getu64(t, "end.trace_ns", 0) : 0;
	if (o->json) {
		key(o, "duration_ns");
		if (end >= start && end)
			fl_buf_addf(&o->b, "%" PRIu64, end - start);
		else
			fl_buf_addstr(&o->b, "null");
	} else {
		if (end >= start && end)
			snprintf(buf, sizeof(buf), "%.3f s", (end - start) / 1e9);
		else
			snprintf(buf, sizeof(buf), "unknown (no trailer)");
		put_str(o, "duration", "duration", buf);
	}
	if (fl_kv_find(h, "memcg.limit_bytes"))
		put_u64(o, "memcg_limit_bytes", "memcg limit bytes",
			fl_kv_getu64(h, "memcg.limit_bytes", 0));
	put_list(o, "events_enabled", "events enabled", fl_kv_getstr(h, "events.enabled"));
	put_list(o, "events_missing", "events missing", fl_kv_getstr(h, "events.missing"));
	put_u64(o, "records", "records", fl_flc_nrecs(r));
	put_u64(o, "data_records", "data records", nrec[FL_FLC_DATA]);
	put_u64(o, "snapshots", "snapshots", nrec[FL_FLC_SNAPSHOT]);
	put_u64(o, "bytes", "file bytes", fl_flc_size(r));
	put_u64(o, "raw_bytes", "raw bytes", rawbytes);
	if (o->json) {
		key(o, "compression_ratio");
		fl_buf_addf(&o->b, "%.2f", zbytes ? (double)rawbytes / fl_flc_size(r) : 0.0);
	} else {
		snprintf(buf, sizeof(buf), "%.2fx",
			 zbytes ? (double)rawbytes / fl_flc_size(r) : 0.0);
		put_str(o, "compression_ratio", "compression", buf);
	}
	if (t)
		put_u64(o, "events_lost", "events lost", lost);
	else
		put_str(o, "events_lost", "events lost", NULL);
	put_u64(o, "bad_records", "damaged records", bad);
	put_u64(o, "bytes_lost", "bytes lost", fl_flc_bytes_lost(r));
	put_str(o, "state", "state", fl_flc_complete(r) ? "complete" :
		fl_flc_truncated(r) ? "truncated" : "damaged");
	put_list(o, "warnings", "warnings", warn.data);
	if (o->json)
		fl_buf_addstr(&o->b, "\n}\n");
	fl_buf_release(&warn);
	free(cmd);
	fl_flc_free(r);
	return 0;
}

/* A trace-cmd trace.dat: what libtracecmd tells, and its events counted by decoding it. */
static int info_tracedat(const char *path, struct out *o)
{
	struct fl_err err = { { 0 } };
	struct fl_kv h = { 0 };
	struct fl_decoder *d = fl_decoder_open_tracedat(path, &h, &err);
	struct fl_event ev;
	uint64_t n = 0, first = 0, last = 0, lost = 0;
	struct stat sb;
	char buf[64];
	int rc;

	if (!d) {
		fprintf(stderr, "faultlab info: %s\n", err.msg);
		fl_kv_release(&h);
		return 1;
	}
	while ((rc = fl_decoder_next(d, &ev, &err)) == 1) {
		if (!n++)
			first = ev.ts;
		last = ev.ts;
	}
	if (rc < 0) {
		fprintf(stderr, "faultlab info: cannot decode '%s': %s\n", path, err.msg);
		fl_decoder_free(d);
		fl_kv_release(&h);
		return 1;
	}
	for (int c = 0; c < fl_decoder_ncpus(d); c++)
		lost += fl_decoder_lost(d, c);
	if (o->json)
		fl_buf_addstr(&o->b, "{");
	put_str(o, "file", "file", path);
	put_str(o, "kind", "kind", "trace-cmd trace.dat");
	put_str(o, "tracedat_version", "trace-cmd version", fl_kv_getstr(&h, "tracedat.version"));
	put_str(o, "kernel", "kernel", fl_kv_getstr(&h, "uname.release"));
	put_str(o, "arch", "arch", fl_kv_getstr(&h, "arch"));
	put_u64(o, "cpus", "cpus", fl_kv_getu64(&h, "cpus", 0));
	put_u64(o, "page_size", "page size", fl_kv_getu64(&h, "page_size", 0));
	put_str(o, "clock", "clock", fl_kv_getstr(&h, "clock"));
	put_list(o, "buffers", "instance buffers", fl_kv_getstr(&h, "tracedat.buffers"));
	put_u64(o, "events", "events", n);
	if (o->json) {
		key(o, "duration_ns");
		fl_buf_addf(&o->b, "%" PRIu64, last - first);
	} else {
		snprintf(buf, sizeof(buf), "%.3f s (first to last event)", (last - first) / 1e9);
		put_str(o, "duration", "duration", buf);
	}
	put_u64(o, "events_lost", "events lost", lost);
	put_u64(o, "bytes", "file bytes", stat(path, &sb) ? 0 : (uint64_t)sb.st_size);
	if (o->json)
		fl_buf_addstr(&o->b, "\n}\n");
	fl_decoder_free(d);
	fl_kv_release(&h);
	return 0;
}

static int info_db(const char *path, struct out *o)
{
	struct fl_err err = { { 0 } };
	struct fl_db *db = fl_db_open(path, FL_DB_READ, &err);
	sqlite3_stmt *st = NULL;
	int rc, n = 0, ret = 1;

	if (!db) {
		fprintf(stderr, "faultlab info: %s\n", err.msg);
		return 1;
	}
	if (sqlite3_prepare_v2(fl_db_sqlite(db),
			       "SELECT id, path, format, coalesce(uname_release, '?'), "
			       "coalesce(arch, '?'), coalesce(mode, '?'), events, events_lost, "
			       "coalesce(end_trace_ns - start_trace_ns, "
			       "last_event_ns - first_event_ns, 0), complete, truncated, "
			       "coalesce(cmdline, '') FROM capture ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "faultlab info: database '%s': %s\n", path,
			sqlite3_errmsg(fl_db_sqlite(db)));
		goto out;
	}
	if (o->json) {
		fl_buf_addstr(&o->b, "{");
		put_str(o, "file", "", path);
		put_str(o, "kind", "", "faultlab database");
		put_u64(o, "schema_version", "", FL_DB_SCHEMA_VERSION);
		key(o, "captures");
		fl_buf_addstr(&o->b, "[");
	} else {
		fl_buf_addf(&o->b, "%-20s %s\n%-20s %s\n%-20s %d\n\n", "file", path, "kind",
			    "faultlab database", "schema version", FL_DB_SCHEMA_VERSION);
		fl_buf_addf(&o->b, "%4s %-10s %-8s %-7s %12s %8s %9s %-9s %s\n", "id", "kernel",
			    "arch", "mode", "events", "lost", "seconds", "state", "file / command");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = sqlite3_column_int(st, 9) ? "complete"
				    : sqlite3_column_int(st, 10) ? "truncated" : "damaged";

		if (o->json) {
			fl_buf_addf(&o->b, "%s\n    {\"id\": %lld, \"path\": ", n ? "," : "",
				    (long long)sqlite3_column_int64(st, 0));
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 1));
			fl_buf_addstr(&o->b, ", \"format\": ");
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 2));
			fl_buf_addstr(&o->b, ", \"kernel\": ");
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 3));
			fl_buf_addstr(&o->b, ", \"arch\": ");
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 4));
			fl_buf_addstr(&o->b, ", \"mode\": ");
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 5));
			fl_buf_addstr(&o->b, ", \"command\": ");
			fl_json_str(&o->b, (const char *)sqlite3_column_text(st, 11));
			fl_buf_addf(&o->b, ", \"events\": %lld, \"events_lost\": %lld, "
				    "\"duration_ns\": %lld, \"state\": \"%s\"}",
				    (long long)sqlite3_column_int64(st, 6),
				    (long long)sqlite3_column_int64(st, 7),
				    (long long)sqlite3_column_int64(st, 8), state);
		} else {
			fl_buf_addf(&o->b,
				    "%4lld %-10.10s %-8.8s %-7.7s %12lld %8lld %9.3f %-9s %s%s%s\n",
				    (long long)sqlite3_column_int64(st, 0),
				    sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
				    sqlite3_column_text(st, 5),
				    (long long)sqlite3_column_int64(st, 6),
				    (long long)sqlite3_column_int64(st, 7),
				    sqlite3_column_int64(st, 8) / 1e9, state,
				    sqlite3_column_text(st, 1),
				    *sqlite3_column_text(st, 11) ? " / " : "",
				    sqlite3_column_text(st, 11));
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "faultlab info: database '%s': %s\n", path,
			sqlite3_errmsg(fl_db_sqlite(db)));
		goto out;
	}
	if (o->json)
		fl_buf_addf(&o->b, "%s]\n}\n", n ? "\n  " : "");
	else if (!n)
		fl_buf_addstr(&o->b, "(no captures yet: 'faultlab ingest FILE --db DB')\n");
	ret = 0;
out:
	sqlite3_finalize(st);
	fl_db_close(db);
	return ret;
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *format = "text", *path;
	struct out o;
	unsigned char head[64];
	size_t n;
	FILE *f;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
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
	if (optind + 1 != argc) {
		fprintf(stderr, "faultlab info: %s\n\n%s", optind >= argc ? "no file given"
			: "one file at a time", usage_text);
		return 2;
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		fprintf(stderr, "faultlab info: unknown format '%s' (text or json)\n", format);
		return 2;
	}
	memset(&o, 0, sizeof(o));
	o.json = !strcmp(format, "json");
	path = argv[optind];
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "faultlab info: cannot open '%s': %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (fl_flc_sniff(head, n)) {
		ret = info_capture(path, &o);
	} else if (fl_tracedat_sniff(head, n)) {
		ret = info_tracedat(path, &o);
	} else if (fl_db_sniff(head, n)) {
		ret = info_db(path, &o);
	} else {
		fprintf(stderr, "faultlab info: '%s' is neither a faultlab capture, a trace-cmd "
			"trace.dat nor a faultlab database\n", path);
		return 1;
	}
	if (!ret)
		fwrite(o.b.data, 1, o.b.len, stdout);
	fl_buf_release(&o.b);
	return ret;
}
