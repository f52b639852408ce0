/*
 * db.h - the faultlab database (SQLite): opening it, and ingesting captures.
 *
 * The schema lives in db/schema.sql, compiled into the binary; its version is
 * PRAGMA user_version (FL_DB_SCHEMA_VERSION). A database is opened in WAL mode
 * with synchronous=NORMAL. Ingest is one BEGIN IMMEDIATE ... COMMIT per capture:
 * any failure rolls back and leaves the database exactly as it was, and a file
 * whose content hash is already present is not ingested again.
 */
#ifndef FL_DB_H
#define FL_DB_H

#include "common/fl.h"
#include "capture/decode.h"

#define FL_DB_SCHEMA_VERSION	1

struct sqlite3;
struct fl_db;

enum fl_db_mode {
	FL_DB_READ = 0,		/* an existing faultlab database, read only */
	FL_DB_WRITE = 1,	/* create it if absent, create the schema if empty */
};

struct fl_db *fl_db_open(const char *path, enum fl_db_mode mode, struct fl_err *err);
void fl_db_close(struct fl_db *db);
struct sqlite3 *fl_db_sqlite(struct fl_db *db);
const char *fl_db_path(const struct fl_db *db);
/* True if the bytes start like an SQLite database file. */
bool fl_db_sniff(const void *p, size_t len);
/* The schema's index part, run after each bulk load (CREATE INDEX IF NOT EXISTS ...). */
const char *fl_db_schema_after_load(void);
/* The id of the latest capture, 0 if none, -1 on error. */
int64_t fl_db_latest_capture(struct fl_db *db, struct fl_err *err);

/*
 * One capture as the ingest sees it, whatever file it came from (.flc,
 * trace.dat, or a test's synthetic stream). The metadata is read before the
 * events; warnings are read after the last event (decoding adds some).
 */
struct fl_ingest_src {
	const char *path;
	const char *format;		/* "flc", "trace.dat", "synthetic" */
	uint64_t size;			/* file bytes */
	uint64_t content_hash;
	const struct fl_kv *header;	/* keys of capture/flc.h */
	const struct fl_kv *trailer;	/* may be NULL */
	const struct fl_kv *const *snapshots;
	size_t nsnapshots;
	bool complete, truncated;
	uint64_t bytes_lost;		/* file bytes in damaged or cut records */
	void *arg;
	/* 1 = *ev filled, 0 = end, -1 = error (err set) */
	int (*next)(void *arg, struct fl_event *ev, struct fl_err *err);
	/*
	 * Which tracefs instance the last event came from: 0 = the capture's
	 * main instance (the followed command's, or the whole system's), 1.. =
	 * extra instances (the unfiltered global one of command mode). May be NULL.
	 */
	int (*instance)(void *arg);
	/* Events lost on a CPU, per the ring buffer; may be NULL. */
	uint64_t (*lost)(void *arg, int cpu);
	/* "system:name" of a tep id, or NULL; may be NULL. */
	const char *(*event_name)(void *arg, int tep_id);
	/* Final complete/truncated/bytes_lost, known after the last event; may be NULL. */
	void (*status)(void *arg, bool *complete, bool *truncated, uint64_t *bytes_lost);
	size_t (*nwarnings)(void *arg);
	const char *(*warning)(void *arg, size_t i);
};

/*
 * Opens a capture file (.flc or trace.dat) as an ingest source. Fails with a
 * one-line message naming the file when it is neither.
 */
int fl_ingest_src_open(struct fl_ingest_src *src, const char *path, struct fl_err *err);
void fl_ingest_src_close(struct fl_ingest_src *src);

struct fl_ingest_opts {
	/* Called now and then with the bytes processed (estimated from time) of total. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	uint64_t fail_after;		/* test hook: fail after this many events (0 = never) */
	bool no_reconstruct;		/* load events only; `ingest --rebuild` derives the rest */
};

struct fl_ingest_stats {
	int64_t capture_id;
	bool already;			/* same content was ingested before as capture_id */
	uint64_t events;
	uint64_t events_lost;		/* dropped by the ring buffer */
	uint64_t bytes_lost;		/* file bytes in damaged or cut records */
	bool complete, truncated;
	uint64_t elapsed_ns;		/* wall time of the ingest, decode included */
	struct fl_buf warnings;		/* one per line; fl_buf_release() it */
	size_t nwarnings;
};

/* Ingests one source; 0 on success (including "already ingested"), -1 on error (rolled back). */
int fl_db_ingest(struct fl_db *db, const struct fl_ingest_src *src,
		 const struct fl_ingest_opts *opts, struct fl_ingest_stats *st, struct fl_err *err);

#endif
