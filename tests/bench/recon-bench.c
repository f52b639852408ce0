/*
 * recon-bench - reconstruction throughput of one ingested capture.
 *
 *   recon-bench DB [CAPTURE]	(default CAPTURE: the latest in DB)
 *
 * Ingest reconstructs as it decodes, so its own time mixes decoding, loading
 * and reconstruction. This program times reconstruction on its own terms: it
 * rebuilds the capture's fault, lock_wait, writer_op, io and recon_anomaly rows
 * from the event table with fl_recon_run_db() (the rebuild path: read the
 * events back in merge order, run the per-thread state machines, write the
 * rows; one transaction) and prints
 *
 *	recon: N events, W s wall, C s CPU, R events/s wall, Q events/s CPU
 *
 * N counts the events read. CPU is user+sys of this process over the rebuild
 * (it is single-threaded). The rows are replaced by the same rows, so DB is
 * changed only in its free pages; make bench runs it on its own temporary
 * database. Exit status 0, or 1 with a message on error. Targets are for
 * make bench to judge; this program only measures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "common/fl.h"
#include "db/db.h"
#include "db/reconstruct.h"

/* user+sys CPU time of this process, ns */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

int main(int argc, char **argv)
{
	struct fl_err err = { { 0 } };
	struct fl_db *db = NULL;
	uint64_t events = 0, t0, c0, wall_ns, cpu;
	int64_t capture;
	int ret = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: recon-bench DB [CAPTURE]\n");
		return 2;
	}
	db = fl_db_open(argv[1], FL_DB_WRITE, &err);
	if (!db) {
		fprintf(stderr, "recon-bench: %s\n", err.msg);
		return 1;
	}
	capture = argc == 3 ? strtoll(argv[2], NULL, 10) : fl_db_latest_capture(db, &err);
	if (capture <= 0) {
		fprintf(stderr, "recon-bench: no capture to reconstruct in '%s'%s%s\n", argv[1],
			capture < 0 ? ": " : "", capture < 0 ? err.msg : "");
		goto out;
	}
	t0 = fl_now_ns();
	c0 = cpu_ns();
	if (fl_recon_run_db(fl_db_sqlite(db), capture, &events, &err) < 0) {
		fprintf(stderr, "recon-bench: capture %" PRId64 " of '%s': %s\n", capture, argv[1],
			err.msg);
		goto out;
	}
	wall_ns = fl_now_ns() - t0;
	cpu = cpu_ns() - c0;
	printf("recon: %" PRIu64 " events, %.3f s wall, %.3f s CPU, %.0f events/s wall, "
	       "%.0f events/s CPU\n", events, wall_ns / 1e9, cpu / 1e9,
	       wall_ns ? events / (wall_ns / 1e9) : 0.0, cpu ? events / (cpu / 1e9) : 0.0);
	ret = 0;
out:
	fl_db_close(db);
	return ret;
}
