/*
 * Live tests of capture/capture.c through the library (root + tracefs; on
 * the project's machines they run). A capture of tests/workloads/faultwork
 * is read back with the flc reader and the decoder and checked against what
 * the kernel itself says: the workload's getrusage fault count, the ring
 * buffers' "read events" counters, the header keys flc.h promises.
 */
#include "tests/unit/test.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "capture/flc.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Why a live test cannot run here, or NULL. */
static const char *live_unavailable(void)
{
	struct stat st;

	if (geteuid() != 0)
		return "not root";
	if (stat("/sys/kernel/tracing/events", &st) < 0 &&
	    system("mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null") != 0)
		return "tracefs unavailable";
	if (stat("/sys/kernel/tracing/instances", &st) < 0)
		return "tracefs unavailable";
	return NULL;
}

static char *workload(const char *name)
{
	const char *dir = getenv("WORKLOADS");

	return fl_asprintf("%s/%s", dir && *dir ? dir : "build/tests/workloads", name);
}

static bool instance_exists(const char *name)
{
	char *p = fl_asprintf("/sys/kernel/tracing/instances/%s", name);
	struct stat st;
	bool ok = stat(p, &st) == 0;

	free(p);
	return ok;
}

/* Runs a capture of argv into path with the library; returns 0 or -1. */
static int run_capture(const char *path, char **argv, const char *events, struct fl_err *err,
		       int *wait_status)
{
	struct fl_capture_opts o = { .path = path, .argv = argv, .events = events,
				     .buffer_kb = 8192 };
	struct fl_capture *c = fl_capture_new(&o, err);
	int ret;

	if (!c)
		return -1;
	ret = fl_capture_run(c, err);
	*wait_status = fl_capture_wait_status(c);
	fl_capture_free(c);
	return ret;
}

static uint64_t read_rusage(const char *path)
{
	struct fl_buf b = { 0 };
	const char *p;
	uint64_t v = 0;

	if (fl_buf_read_file(&b, path, NULL) == 0 && (p = strstr(b.data, "rusage_faults=")))
		v = strtoull(p + 14, NULL, 10);
	fl_buf_release(&b);
	return v;
}

FL_TEST(capture_live_faultwork)
{
	const char *why = live_unavailable();
	char dir[] = "/tmp/faultlab-test-capture-XXXXXX";
	char *fw, *flc, *out, *argv[7];
	struct fl_flc_reader *r = NULL;
	struct fl_decoder *d = NULL;
	struct fl_event ev;
	struct fl_err err;
	const struct fl_kv *h, *t;
	const struct fl_kv_item *it;
	uint64_t faults = 0, decoded = 0, rusage, streams, cpus, sub, lost = 0;
	char mainname[64];
	bool saw_maps = false;
	int ws = -1, rc;

	if (why)
		FL_SKIP(why);
	CHECK(mkdtemp(dir) != NULL);
	fw = workload("faultwork");
	flc = fl_asprintf("%s/fw.flc", dir);
	out = fl_asprintf("%s/rusage.txt", dir);
	argv[0] = fw;
	argv[1] = "4";
	argv[2] = "1500";
	argv[3] = "800";
	argv[4] = "300";
	argv[5] = out;
	argv[6] = NULL;
	rc = run_capture(flc, argv, NULL, &err, &ws);
	CHECKF(rc == 0, "capture failed: %s", err.msg);
	CHECKF(ws == 0, "faultwork wait status %d", ws);
	snprintf(mainname, sizeof(mainname), "faultlab-%d", (int)getpid());
	CHECK(!instance_exists(mainname));
	rusage = read_rusage(out);
	CHECKF(rusage >= 4 * 1500 + 800 + 600, "rusage_faults %llu", (unsigned long long)rusage);

	r = fl_flc_open(flc, &err);
	CHECKF(r, "open: %s", err.msg);
	if (!r)
		goto out;
	CHECK(fl_flc_complete(r));
	h = fl_flc_header(r);
	/* The keys flc.h promises, filled. */
	static const char *const keys[] = {
		"flc.version", "uname.release", "uname.machine", "arch", "long_size",
		"big_endian", "page_size", "subbuf_size", "cpus", "clock", "start.realtime_ns",
		"start.trace_ns", "header_page", "events.enabled", "events.missing", "cmdline",
		"mode", "buffer_kb", "streams", "stream/0", "pid", "memcg.path",
		"format/exceptions/page_fault_user", "format/sched/sched_switch",
	};
	for (size_t i = 0; i < FL_ARRAY_SIZE(keys); i++)
		CHECKF(fl_kv_find(h, keys[i]), "header lacks '%s'", keys[i]);
	CHECK_EQ_U64(fl_kv_getu64(h, "long_size", 0), sizeof(long));
	CHECK_EQ_U64(fl_kv_getu64(h, "page_size", 0), (uint64_t)sysconf(_SC_PAGESIZE));
	CHECK(fl_kv_getstr(h, "mode") && !strcmp(fl_kv_getstr(h, "mode"), "command"));
	CHECK(fl_kv_getstr(h, "clock") && !strcmp(fl_kv_getstr(h, "clock"), "mono"));
	CHECK(strstr(fl_kv_getstr(h, "events.enabled"), "exceptions:page_fault_user\n"));
	CHECK(strstr(fl_kv_getstr(h, "events.enabled"), "mmap_lock:mmap_lock_start_locking\n"));
	it = fl_kv_find(h, "cmdline");
	CHECK(it && it->len == strlen(fw) + 1 + 2 + 5 + 4 + 4 + strlen(out));
	cpus = fl_kv_getu64(h, "cpus", 0);
	streams = fl_kv_getu64(h, "streams", 0);
	sub = fl_kv_getu64(h, "subbuf_size", 0);
	CHECK(cpus > 0);
	CHECK_EQ_U64(streams, 2 * cpus);	/* main + global in command mode */
	CHECK(fl_kv_getstr(h, "stream/0") && !strcmp(fl_kv_getstr(h, "stream/0"),
						      "cpu 0 instance main"));
	{
		char key[32], want[64];

		snprintf(key, sizeof(key), "stream/%llu", (unsigned long long)cpus);
		snprintf(want, sizeof(want), "cpu 0 instance global");
		CHECK(fl_kv_getstr(h, key) && !strcmp(fl_kv_getstr(h, key), want));
	}
	CHECK(strstr(fl_kv_getstr(h, "events.global"), "block:block_rq_complete\n"));

	/* DATA records: whole sub-buffers, tagged with a valid stream. */
	for (size_t i = 0; i < fl_flc_nrecs(r); i++) {
		const struct fl_flc_rec *rec = fl_flc_rec(r, i);

		if (rec->kind != FL_FLC_DATA)
			continue;
		CHECKF(sub && rec->rawsize % sub == 0, "DATA %zu: %u bytes", i, rec->rawsize);
		CHECK((uint64_t)rec->cpu < streams);
	}

	t = fl_flc_trailer(r);
	CHECK_EQ_U64(fl_kv_getu64(t, "exit_status", 99), 0);
	CHECK_EQ_U64(fl_kv_getu64(t, "lost", 99), 0);
	CHECK(fl_kv_find(t, "lost/0") && fl_kv_find(t, "stats/0"));
	CHECK(fl_kv_find(t, "saved_cmdlines") && fl_kv_find(t, "saved_tgids"));
	CHECK(fl_kv_getstr(t, "tasks") && strstr(fl_kv_getstr(t, "tasks"), " faultwork\n"));
	{
		char key[32];

		snprintf(key, sizeof(key), "maps/%llu",
			 (unsigned long long)fl_kv_getu64(h, "pid", 0));
		CHECK(fl_kv_find(t, key));
		for (size_t i = 0; i < fl_flc_nsnapshots(r); i++)
			saw_maps |= fl_kv_find(fl_flc_snapshot(r, i), key) != NULL;
		CHECK(saw_maps);
	}

	/* Every event the ring buffers handed out is in the file. */
	d = fl_decoder_open(r, &err);
	CHECKF(d, "decoder: %s", err.msg);
	if (!d)
		goto out;
	while ((rc = fl_decoder_next(d, &ev, &err)) == 1) {
		decoded++;
		if (ev.type == FL_EV_PF_USER || ev.type == FL_EV_PF_KERNEL)
			faults++;
	}
	CHECKF(rc == 0, "decode: %s", err.msg);
	for (int c = 0; c < fl_decoder_ncpus(d); c++)
		lost += fl_decoder_lost(d, c) + fl_decoder_lost_unknown(d, c);
	CHECK_EQ_U64(lost, 0);
	CHECK_EQ_U64(decoded, fl_kv_getu64(t, "events.read", 0));
	/*
	 * All fault events come from the command's tree (the main instance
	 * filters on it; the global one records no fault events): the kernel's
	 * own count must match within 0.5%.
	 */
	CHECKF(faults * 1000 >= rusage * 995 && faults * 1000 <= rusage * 1005,
	       "traced faults %llu vs getrusage %llu", (unsigned long long)faults,
	       (unsigned long long)rusage);
out:
	fl_decoder_free(d);
	fl_flc_free(r);
	unlink(out);
	unlink(flc);
	rmdir(dir);
	free(fw);
	free(flc);
	free(out);
}

FL_TEST(capture_live_errors)
{
	const char *why = live_unavailable();
	char dir[] = "/tmp/faultlab-test-capture-XXXXXX";
	char *flc, *argv[] = { "/bin/true", NULL }, *dirargv[] = { "/tmp", NULL };
	struct fl_capture_opts o = { 0 };
	struct fl_capture *c;
	struct fl_err err;
	char mainname[64];
	int ws;

	if (why)
		FL_SKIP(why);
	CHECK(mkdtemp(dir) != NULL);
	flc = fl_asprintf("%s/x.flc", dir);
	snprintf(mainname, sizeof(mainname), "faultlab-%d", (int)getpid());

	/* unknown event: error, nothing created */
	CHECK(run_capture(flc, argv, "sched:sched_switch,nosuch:event", &err, &ws) < 0);
	CHECKF(strstr(err.msg, "unknown event") && strstr(err.msg, "nosuch:event"), "%s",
	       err.msg);
	CHECK(access(flc, F_OK) < 0);
	CHECK(!instance_exists(mainname));
	CHECK(fl_capture_check_events("nosuch:*", &err) < 0);
	CHECK(fl_capture_check_events("sched:*,exceptions:page_fault_user", &err) == 0);

	/* output not writable */
	o.path = "/nonexistent-dir/x.flc";
	o.argv = argv;
	CHECK(fl_capture_new(&o, &err) == NULL);
	CHECKF(strstr(err.msg, "/nonexistent-dir/x.flc"), "%s", err.msg);
	CHECK(!instance_exists(mainname));

	/* exec failure after setup: -1, exec errno, no instance, no file */
	o.path = flc;
	o.argv = dirargv;
	c = fl_capture_new(&o, &err);
	CHECKF(c, "%s", err.msg);
	if (c) {
		CHECK(instance_exists(mainname));
		CHECK(fl_capture_run(c, &err) < 0);
		CHECK(fl_capture_exec_errno(c) != 0);
		CHECKF(strstr(err.msg, "cannot run '/tmp'"), "%s", err.msg);
		fl_capture_free(c);
	}
	CHECK(!instance_exists(mainname));
	CHECK(access(flc, F_OK) < 0);

	/* a command's exit status is kept */
	{
		char *sh[] = { "/bin/sh", "-c", "exit 7", NULL };

		CHECK(run_capture(flc, sh, "sched:sched_process_exit", &err, &ws) == 0);
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 7);
		CHECK(!instance_exists(mainname));
	}
	unlink(flc);
	rmdir(dir);
	free(flc);
}
