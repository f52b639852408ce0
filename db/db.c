/*
 * db.c - opening a faultlab database and creating its schema.
 *
 * A faultlab database is an SQLite file whose PRAGMA user_version is the
 * schema version of db/schema.sql (embedded as fl_db_schema_sql by schema.S).
 * Invariants: a database with user_version 0 and no tables is empty and gets
 * the schema on the first write-open; user_version 0 with tables is someone
 * else's database and is refused; a newer version is refused (never
 * "upgraded" by an older binary). Write-opens use WAL with synchronous=NORMAL,
 * so a crash loses at most the last transactions, never consistency; readers
 * do not block the ingest and the ingest does not block readers.
 *
 * The schema text has two parts separated by the line "-- @@ after-load":
 * the tables and views (run once, at creation) and the indexes (run by the
 * ingest after each bulk insert; CREATE INDEX IF NOT EXISTS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "db/db.h"

extern const char fl_db_schema_sql[];

struct fl_db {
	sqlite3 *sql;
	char *path;
};

#define AFTER_LOAD_MARK "-- @@ after-load"

bool fl_db_sniff(const void *p, size_t len)
{
	return len >= 16 && !memcmp(p, "SQLite format 3", 16);
}

static int exec(struct fl_db *db, const char *sql, struct fl_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->sql, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_seterr(err, "database '%s': %s", db->path, msg ? msg : sqlite3_errmsg(db->sql));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int64_t query_int(struct fl_db *db, const char *sql, struct fl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	int rc;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		v = 0;
	else
		goto fail;
	sqlite3_finalize(st);
	return v;
fail:
	fl_seterr(err, "database '%s': %s", db->path, sqlite3_errmsg(db->sql));
	sqlite3_finalize(st);
	return -1;
}

/* Splits off the schema's after-load part: returns the tables text (caller frees). */
static char *schema_tables(void)
{
	const char *mark = strstr(fl_db_schema_sql, AFTER_LOAD_MARK);
	size_t n = mark ? (size_t)(mark - fl_db_schema_sql) : strlen(fl_db_schema_sql);
	char *s = fl_malloc(n + 1);

	memcpy(s, fl_db_schema_sql, n);
	s[n] = 0;
	return s;
}

const char *fl_db_schema_after_load(void)
{
	const char *mark = strstr(fl_db_schema_sql, AFTER_LOAD_MARK);

	return mark ? mark : "";
}

static int fill_names(struct fl_db *db, struct fl_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(db->sql, "INSERT OR IGNORE INTO ev_type(type, name) VALUES (?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	for (int t = 0; t < FL_EV__COUNT; t++) {
		sqlite3_bind_int(st, 1, t);
		sqlite3_bind_text(st, 2, fl_ev_name(t), -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db->sql, "INSERT OR IGNORE INTO sys_name(sys, name) VALUES (?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	for (int s = 1; s < FL_SYS__COUNT; s++) {
		sqlite3_bind_int(st, 1, s);
		sqlite3_bind_text(st, 2, fl_sys_name(s), -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	ret = 0;
out:
	if (ret)
		fl_seterr(err, "database '%s': cannot fill the name tables: %s", db->path,
			  sqlite3_errmsg(db->sql));
	sqlite3_finalize(st);
	return ret;
}

static int create_schema(struct fl_db *db, struct fl_err *err)
{
	char *tables = schema_tables();
	int ret = -1;

	if (exec(db, "BEGIN IMMEDIATE", err))
		goto out_free;
	/* Someone may have created it between our check and the lock. */
	int64_t v = query_int(db, "PRAGMA user_version", err);
	if (v < 0)
		goto out_rollback;
	if (v == 0) {
		if (exec(db, tables, err) || fill_names(db, err))
			goto out_rollback;
	}
	if (exec(db, "COMMIT", err))
		goto out_rollback;
	ret = 0;
	goto out_free;
out_rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
out_free:
	free(tables);
	return ret;
}

/* Checks that the open database is a faultlab one we can use; creates the schema if empty. */
static int check_schema(struct fl_db *db, enum fl_db_mode mode, struct fl_err *err)
{
	int64_t v, ntables;

	v = query_int(db, "PRAGMA user_version", err);
	if (v < 0) {
		if (sqlite3_errcode(db->sql) == SQLITE_NOTADB)
			return fl_seterr(err, "'%s' is not a faultlab database "
					 "(not an SQLite file)", db->path);
		return -1;
	}
	if (v > FL_DB_SCHEMA_VERSION)
		return fl_seterr(err, "'%s' has schema version %lld, newer than this "
				 "faultlab's %d: use a newer faultlab", db->path, (long long)v,
				 FL_DB_SCHEMA_VERSION);
	if (v == FL_DB_SCHEMA_VERSION) {
		if (query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'capture'",
			      err) != 1)
			return fl_seterr(err, "'%s' is not a faultlab database (no capture table)",
					 db->path);
		/* event types added since the file was made (appended, numbers unchanged) */
		if (mode == FL_DB_WRITE &&
		    query_int(db, "SELECT count(*) FROM ev_type", err) < FL_EV__COUNT)
			return fill_names(db, err);
		return 0;
	}
	if (v != 0)
		return fl_seterr(err, "'%s' has schema version %lld, which this faultlab cannot "
				 "read: re-ingest the captures into a new database", db->path,
				 (long long)v);
	ntables = query_int(db, "SELECT count(*) FROM sqlite_schema", err);
	if (ntables < 0)
		return -1;
	if (ntables > 0 || mode == FL_DB_READ)
		return fl_seterr(err, "'%s' is not a faultlab database (user_version 0%s)",
				 db->path, ntables ? ", has other tables" : ", empty");
	return create_schema(db, err);
}

struct fl_db *fl_db_open(const char *path, enum fl_db_mode mode, struct fl_err *err)
{
	struct fl_db *db = fl_calloc(1, sizeof(*db));
	/* One connection per thread: no SQLite mutexes on the hot path. */
	int flags = SQLITE_OPEN_NOMUTEX | (mode == FL_DB_WRITE ? SQLITE_OPEN_READWRITE |
					   SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	struct stat sb;
	char head[16];
	FILE *f;

	db->path = fl_strdup(path);
	if (mode == FL_DB_READ) {
		/* Say what is wrong before SQLite does, in the user's words. */
		f = fopen(path, "rb");
		if (!f) {
			fl_seterr(err, "cannot open '%s': %s", path, strerror(errno));
			goto fail;
		}
		size_t n = fread(head, 1, sizeof(head), f);
		fclose(f);
		if (!fl_db_sniff(head, n)) {
			fl_seterr(err, "'%s' is not a faultlab database (not an SQLite file)",
				  path);
			goto fail;
		}
	} else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fl_seterr(err, "cannot open database '%s': it is a directory", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK) {
		fl_seterr(err, "cannot open database '%s': %s", path,
			  db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
		goto fail;
	}
	/* Another ingest holds the write lock for its whole capture: wait for it. */
	sqlite3_busy_timeout(db->sql, mode == FL_DB_WRITE ? 600000 : 10000);
	if (mode == FL_DB_WRITE) {
		/*
		 * WAL: readers keep reading during an ingest; NORMAL: fsync at
		 * checkpoints only (a crash keeps the database consistent). A
		 * large page cache keeps a capture's transaction out of the WAL
		 * until commit as far as memory allows. 16 KiB pages (effective
		 * on a new database only) ingest ~20% faster than 4 KiB.
		 */
		if (exec(db, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; "
			 "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144; "
			 "PRAGMA temp_store = MEMORY", err)) {
			if (sqlite3_errcode(db->sql) == SQLITE_NOTADB)
				fl_seterr(err, "'%s' is not a faultlab database "
					  "(not an SQLite file)", path);
			goto fail;
		}
	}
	if (check_schema(db, mode, err))
		goto fail;
	return db;
fail:
	fl_db_close(db);
	return NULL;
}

void fl_db_close(struct fl_db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->sql);
	free(db->path);
	free(db);
}

struct sqlite3 *fl_db_sqlite(struct fl_db *db)
{
	return db->sql;
}

const char *fl_db_path(const struct fl_db *db)
{
	return db->path;
}

int64_t fl_db_latest_capture(struct fl_db *db, struct fl_err *err)
{
	return query_int(db, "SELECT max(id) FROM capture", err);
}
