/*
 * test-reconstruct-encode.c - golden reconstruction inputs as real captures.
 *
 * A golden case's text events (test-reconstruct-input.c) are turned into what
 * a capture of this machine holds: each event is written by the ring-buffer
 * encoder (rbenc.c) into the sub-buffers of its CPU's stream, at the offsets
 * and sizes the stored format texts give (tests/golden/formats-x86_64-6.18,
 * whose base is the decoder's golden case recorded on this machine), and the
 * sub-buffers go into a .flc with the case's header keys and a SNAPSHOT of
 * its maps and tasks. The real decoder then reads it back and the
 * reconstructor runs on what the decoder produced, as ingest does.
 *
 * Which CPU an event ran on is not in the text form unless given (cpu=N); by
 * default a thread runs on CPU tid % cpus, and the idle task's events
 * (tid 0) on the CPU of the task they switch to or wake. inst=N puts the
 * event into instance N's stream of that CPU (N = 1: the global instance).
 *
 * The tests here prove the encoder itself: encode -> decode gives the same
 * struct fl_event for every type (time extends, records over 112 bytes,
 * full and partly filled sub-buffers, lost-event flags, the global
 * instance); libtraceevent's own printer reads an encoded sub-buffer as the
 * format's print fmt says; the records the kernel wrote in the decoder's
 * golden case have the sizes the encoder gives; and the stored formats are
 * the running kernel's when it is the one they were copied from.
 */
#include "tests/unit/test.h"
#include "tests/unit/test-reconstruct.h"
#include "tests/unit/rbenc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <trace-seq.h>

/* fl_event type -> the tracepoint and the fields of a[] and the comms (capture/decode.h). */
struct ev_map {
	int type;
	const char *sys, *name;
	const char *a[6];
	const char *comm, *comm2;
};

static const struct ev_map ev_maps[] = {
	{ FL_EV_PF_USER, "exceptions", "page_fault_user", { "address", "ip", "error_code" },
	  NULL, NULL },
	{ FL_EV_PF_KERNEL, "exceptions", "page_fault_kernel", { "address", "ip", "error_code" },
	  NULL, NULL },
	{ FL_EV_MMAP_LOCK_START, "mmap_lock", "mmap_lock_start_locking",
	  { "mm", "write", "memcg_id" }, NULL, NULL },
	{ FL_EV_MMAP_LOCK_ACQUIRED, "mmap_lock", "mmap_lock_acquire_returned",
	  { "mm", "write", "success", "memcg_id" }, NULL, NULL },
	{ FL_EV_MMAP_LOCK_RELEASED, "mmap_lock", "mmap_lock_released",
	  { "mm", "write", "memcg_id" }, NULL, NULL },
	{ FL_EV_FILEMAP_FAULT, "filemap", "mm_filemap_fault", { "s_dev", "i_ino", "index" }, NULL, NULL },
	{ FL_EV_FILEMAP_MAP_PAGES, "filemap", "mm_filemap_map_pages",
	  { "s_dev", "i_ino", "index", "last_index" }, NULL, NULL },
	{ FL_EV_FILEMAP_ADD, "filemap", "mm_filemap_add_to_page_cache",
	  { "s_dev", "i_ino", "index", "order", "pfn" }, NULL, NULL },
	{ FL_EV_FILEMAP_DELETE, "filemap", "mm_filemap_delete_from_page_cache",
	  { "s_dev", "i_ino", "index", "order", "pfn" }, NULL, NULL },
	{ FL_EV_SCHED_SWITCH, "sched", "sched_switch",
	  { "prev_pid", "prev_prio", "prev_state", "next_pid", "next_prio" },
	  "prev_comm", "next_comm" },
	{ FL_EV_SCHED_WAKING, "sched", "sched_waking", { "pid", "prio", "target_cpu" }, "comm", NULL },
	{ FL_EV_SCHED_FORK, "sched", "sched_process_fork", { "parent_pid", "child_pid" },
	  "parent_comm", "child_comm" },
	{ FL_EV_SCHED_EXIT, "sched", "sched_process_exit", { "pid", "prio" }, "comm", NULL },
	{ FL_EV_SCHED_EXEC, "sched", "sched_process_exec", { "pid", "old_pid" }, "filename", NULL },
	{ FL_EV_BLOCK_RQ_ISSUE, "block", "block_rq_issue", { "dev", "sector", "nr_sector", "bytes" },
	  "rwbs", "comm" },
	{ FL_EV_BLOCK_RQ_COMPLETE, "block", "block_rq_complete",
	  { "dev", "sector", "nr_sector", "error" }, "rwbs", NULL },
	{ FL_EV_MEMCG_RECLAIM_BEGIN, "vmscan", "mm_vmscan_memcg_reclaim_begin",
	  { "order", "gfp_flags" }, NULL, NULL },
	{ FL_EV_MEMCG_RECLAIM_END, "vmscan", "mm_vmscan_memcg_reclaim_end", { "nr_reclaimed" },
	  NULL, NULL },
	{ FL_EV_DIRECT_RECLAIM_BEGIN, "vmscan", "mm_vmscan_direct_reclaim_begin",
	  { "order", "gfp_flags" }, NULL, NULL },
	{ FL_EV_DIRECT_RECLAIM_END, "vmscan", "mm_vmscan_direct_reclaim_end", { "nr_reclaimed" },
	  NULL, NULL },
	{ FL_EV_SHRINK_INACTIVE, "vmscan", "mm_vmscan_lru_shrink_inactive",
	  { "nr_scanned", "nr_reclaimed", "nr_activate1", "nr_ref_keep", "nr_unmap_fail",
	    "priority" }, NULL, NULL },
	{ FL_EV_SYS_EXIT, "syscalls", NULL, { "ret" }, NULL, NULL },
};

/*
 * Encodes ev into stream. A field of the table that the format lacks must be
 * 0 in ev (the decoder reads an absent field as 0); *tep_id gets the event id.
 */
int recon_encode_event(struct rbenc *e, int stream, const struct fl_event *ev, int *tep_id,
		       struct fl_err *err)
{
	const struct ev_map *m = NULL;
	struct rbenc_field f[8];
	char name[64];
	size_t nf = 0;
	int id;

	for (size_t i = 0; i < FL_ARRAY_SIZE(ev_maps); i++)
		if (ev_maps[i].type == ev->type)
			m = &ev_maps[i];
	if (ev->type == FL_EV_SYS_ENTER || ev->type == FL_EV_SYS_EXIT) {
		snprintf(name, sizeof(name), "sys_%s_%s", ev->type == FL_EV_SYS_ENTER ? "enter" :
			 "exit", fl_sys_name(ev->sys));
		id = rbenc_event_id(e, "syscalls", name);
	} else if (m) {
		snprintf(name, sizeof(name), "%s", m->name);
		id = rbenc_event_id(e, m->sys, m->name);
	} else {
		return fl_seterr(err, "no tracepoint for event type %s", fl_ev_name(ev->type));
	}
	if (id < 0)
		return fl_seterr(err, "no stored format for '%s'", name);
	for (int i = 0; i < 6; i++) {
		const char *fname = ev->type == FL_EV_SYS_ENTER ?
				    rbenc_field_after(e, id, "__syscall_nr", i) : m->a[i];

		if (!fname || !rbenc_has_field(e, id, fname)) {
			if (ev->a[i])
				return fl_seterr(err, "'%s' has no field for a[%d] = %lld", name, i,
						 (long long)ev->a[i]);
			continue;
		}
		f[nf++] = (struct rbenc_field){ fname, ev->a[i], NULL };
	}
	if (m && ev->type != FL_EV_SYS_ENTER && m->comm)
		f[nf++] = (struct rbenc_field){ m->comm, 0, ev->comm };
	if (m && ev->type != FL_EV_SYS_ENTER && m->comm2)
		f[nf++] = (struct rbenc_field){ m->comm2, 0, ev->comm2 };
	*tep_id = id;
	return rbenc_add(e, stream, ev->ts, id, ev->tid, f, nf, err);
}

/* ---- a golden case as a capture ---------------------------------------- */

/* The CPU an input event ran on when the text does not say (see the top). */
static int default_cpu(const struct fl_event *ev, int cpus)
{
	int32_t who = ev->tid;

	if (who == 0 && ev->type == FL_EV_SCHED_SWITCH)
		who = (int32_t)ev->a[3];		/* next_pid */
	else if (who == 0 && ev->type == FL_EV_SCHED_WAKING)
		return (int)(ev->a[2] % cpus);		/* target_cpu */
	return (int)(who % cpus);
}

int recon_capture_encode(struct recon_input *in, unsigned page_events, size_t per_record,
			 struct fl_buf *flc, struct fl_err *err)
{
	struct rbenc *e = rbenc_new(fl_test_path(RECON_FORMATS), err);
	int cpus, ret = -1;

	if (!e)
		return -1;
	cpus = (int)fl_kv_getu64(rbenc_meta(e), "cpus", 1);
	rbenc_set_page_events(e, page_events);
	for (size_t i = 0; i <= in->n; i++) {
		struct fl_event *ev;
		int cpu, id;

		for (size_t l = 0; l < in->nlost; l++) {
			const struct recon_lost *lo = &in->lost[l];

			if (lo->at != i)
				continue;
			if (lo->cpu < 0 || lo->cpu >= cpus || lo->inst < 0 || lo->inst > 1) {
				fl_seterr(err, "@lost %d %llu %d out of range", lo->cpu,
					  (unsigned long long)lo->n, lo->inst);
				goto out;
			}
			rbenc_lost(e, lo->inst * cpus + lo->cpu, lo->n, true);
		}
		if (i == in->n)
			break;
		ev = &in->ev[i];
		cpu = in->cpu && in->cpu[i] >= 0 ? in->cpu[i] : default_cpu(ev, cpus);

		if (cpu >= cpus || in->inst[i] < 0 || in->inst[i] > 1) {
			fl_seterr(err, "event %zu: cpu %d / instance %d out of range", i + 1, cpu,
				  in->inst[i]);
			goto out;
		}
		if (recon_encode_event(e, in->inst[i] * cpus + cpu, ev, &id, err) < 0) {
			fl_preferr(err, "event %zu (%s at %llu)", i + 1, fl_ev_name(ev->type),
				   (unsigned long long)ev->ts);
			goto out;
		}
		ev->cpu = (uint16_t)cpu;
		ev->tep_id = (uint16_t)id;
	}
	ret = rbenc_flc(e, &in->header, &in->snap, per_record, flc, err);
out:
	rbenc_free(e);
	return ret;
}

int recon_capture_decode(const struct fl_buf *flc, struct recon_capture *c, struct fl_err *err)
{
	struct fl_decoder *d;
	const char *names[8] = { 0 };
	int nnames = 0, rc;
	struct fl_event ev;
	size_t cap = 0;

	memset(c, 0, sizeof(*c));
	c->r = fl_flc_open_mem(flc->data, flc->len, err);
	if (!c->r)
		return -1;
	d = fl_decoder_open(c->r, err);
	if (!d)
		return -1;
	while ((rc = fl_decoder_next(d, &ev, err)) == 1) {
		const char *inst = fl_decoder_stream_instance(d, fl_decoder_stream(d));
		int k;

		/* instances numbered in order of first appearance, main first (as ingest) */
		if (!nnames)
			names[nnames++] = "main";
		for (k = 0; k < nnames; k++)
			if (!strcmp(names[k], inst))
				break;
		if (k == nnames && nnames < (int)FL_ARRAY_SIZE(names))
			names[nnames++] = inst;
		if (c->n == cap) {
			cap = cap ? 2 * cap : 64;
			c->ev = fl_realloc(c->ev, cap * sizeof(*c->ev));
			c->inst = fl_realloc(c->inst, cap * sizeof(*c->inst));
		}
		c->ev[c->n] = ev;
		c->inst[c->n++] = k;
	}
	for (int cpu = 0; cpu < fl_decoder_ncpus(d); cpu++)
		c->lost += fl_decoder_lost(d, cpu);
	if (rc == 0 && fl_decoder_bad_subbufs(d))
		rc = fl_seterr(err, "%llu malformed sub-buffers",
			       (unsigned long long)fl_decoder_bad_subbufs(d));
	fl_decoder_free(d);
	return rc;
}

int recon_capture_run(const struct recon_capture *c, struct recon_out *o, struct fl_err *err)
{
	const struct fl_kv *snaps[16];
	size_t n = 0;

	for (size_t i = 0; i < fl_flc_nsnapshots(c->r) && n < 15; i++)
		snaps[n++] = fl_flc_snapshot(c->r, i);
	snaps[n++] = fl_flc_trailer(c->r);
	return recon_run_kv(fl_flc_header(c->r), snaps, n, c->ev, c->inst, c->n, c->lost, o, err);
}

void recon_capture_release(struct recon_capture *c)
{
	fl_flc_free(c->r);
	free(c->ev);
	free(c->inst);
	memset(c, 0, sizeof(*c));
}

/* ---- the encoder's own tests ------------------------------------------- */

static bool ev_equal(const struct fl_event *a, const struct fl_event *b)
{
	return a->ts == b->ts && a->tid == b->tid && a->cpu == b->cpu && a->type == b->type &&
	       a->sys == b->sys && a->tep_id == b->tep_id && !memcmp(a->a, b->a, sizeof(a->a)) &&
	       !strcmp(a->comm, b->comm) && !strcmp(a->comm2, b->comm2);
}

static void ev_text(const struct fl_event *ev, struct fl_buf *b)
{
	fl_buf_addf(b, "%llu cpu%u tid %d %s%s%s id %u", (unsigned long long)ev->ts, ev->cpu, ev->tid,
		    fl_ev_name(ev->type), ev->sys ? ":" : "", ev->sys ? fl_sys_name(ev->sys) : "",
		    ev->tep_id);
	for (int i = 0; i < 6; i++)
		fl_buf_addf(b, " %llx", (unsigned long long)ev->a[i]);
	fl_buf_addf(b, " '%s' '%s'", ev->comm, ev->comm2);
}

/* Compares decoded events with the expected ones, reporting the first difference. */
static void check_events(const struct fl_event *want, const int *want_inst, size_t nwant,
			 const struct recon_capture *c, const char *what)
{
	CHECKF(c->n == nwant, "%s: %zu events decoded, %zu encoded", what, c->n, nwant);
	for (size_t i = 0; i < c->n && i < nwant; i++) {
		if (!ev_equal(&c->ev[i], &want[i]) || (want_inst && c->inst[i] != want_inst[i])) {
			struct fl_buf a = { 0 }, b = { 0 };

			ev_text(&want[i], &a);
			ev_text(&c->ev[i], &b);
			fl_test_fail(__FILE__, __LINE__, "%s: event %zu differs:\n  encoded: %s "
				     "inst %d\n  decoded: %s inst %d", what, i + 1, a.data,
				     want_inst ? want_inst[i] : 0, b.data, c->inst[i]);
			fl_buf_release(&a);
			fl_buf_release(&b);
			return;
		}
	}
}

void recon_check_decoded(const struct recon_input *in, const struct recon_capture *c,
			 const char *what)
{
	check_events(in->ev, in->inst, in->n, c, what);
}

struct planned {
	struct fl_event ev;
	int stream;
	size_t seq;
};

static int cmp_planned(const void *x, const void *y)
{
	const struct planned *a = x, *b = y;

	if (a->ev.ts != b->ev.ts)
		return a->ev.ts < b->ev.ts ? -1 : 1;
	if (a->stream != b->stream)
		return a->stream < b->stream ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static struct fl_event mk(uint64_t ts, int32_t tid, int type, int sys, const char *comm,
			  const char *comm2, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
			  int64_t a4, int64_t a5)
{
	struct fl_event ev = { .ts = ts, .tid = tid, .type = (uint16_t)type, .sys = (uint16_t)sys,
			       .a = { a0, a1, a2, a3, a4, a5 } };

	snprintf(ev.comm, sizeof(ev.comm), "%s", comm ? comm : "");
	snprintf(ev.comm2, sizeof(ev.comm2), "%s", comm2 ? comm2 : "");
	return ev;
}

/*
 * Every event type of the default set, on both CPUs and the global instance,
 * with time gaps that need time extends (2^27 ns, and 5 s, so that the
 * extend's upper word is more than 1), sub-buffers that fill up, records
 * over 112 bytes, and lost events; encode, write a capture, decode: the same
 * events in (ts, stream) order.
 */
FL_TEST(rbenc_roundtrip)
{
	struct fl_err err = { "" };
	struct rbenc *e = rbenc_new(fl_test_path(RECON_FORMATS), &err);
	struct planned *p = NULL;
	size_t np = 0, cap = 0;
	struct fl_buf flc = { 0 };
	struct recon_capture c = { 0 };
	struct fl_event *want = NULL;
	int *want_inst = NULL, cpus;
	uint64_t ts = 440287565388ULL;
	const int64_t mm = (int64_t)0xffff888100000000ULL;
	static const char long_path[] = "/usr/lib/x86_64-linux-gnu/faultlab/a/rather/long/path/that/"
					"makes/the/exec/record/larger/than/112/bytes/bin/true";

	CHECKF(e, "rbenc_new: %s", err.msg);
	if (!e)
		return;
	cpus = (int)fl_kv_getu64(rbenc_meta(e), "cpus", 1);
	CHECK(cpus == 2);
	CHECK_EQ_U64(rbenc_subbuf_size(e), 4096);

#define PLAN(stream_, ev_)                                                                 \
	do {                                                                               \
		if (np == cap)                                                             \
			p = fl_realloc(p, (cap = cap ? 2 * cap : 64) * sizeof(*p));        \
		p[np] = (struct planned){ ev_, stream_, np };                              \
		np++;                                                                      \
	} while (0)

	PLAN(0, mk(ts += 10, 1001, FL_EV_SYS_ENTER, FL_SYS_MMAP, 0, 0, 0, 0x100000, 3, 0x22, -1, 0));
	PLAN(0, mk(ts += 10, 1001, FL_EV_MMAP_LOCK_START, 0, 0, 0, mm, 1, 0xc03, 0, 0, 0));
	PLAN(0, mk(ts += 1, 1001, FL_EV_MMAP_LOCK_ACQUIRED, 0, 0, 0, mm, 1, 1, 0xc03, 0, 0));
	PLAN(0, mk(ts += 1, 1001, FL_EV_MMAP_LOCK_RELEASED, 0, 0, 0, mm, 1, 0xc03, 0, 0, 0));
	PLAN(0, mk(ts += 1, 1001, FL_EV_SYS_EXIT, FL_SYS_MMAP, 0, 0, 0x7f2000000000, 0, 0, 0, 0, 0));
	PLAN(1, mk(ts += 1, 1002, FL_EV_PF_USER, 0, 0, 0, 0x7f2000000000, 0x401000, 6, 0, 0, 0));
	PLAN(1, mk(ts += 1, 1002, FL_EV_PF_KERNEL, 0, 0, 0, 0x7f2000001000, -0x7effffff, 2, 0, 0,
		   0));
	/* a gap of exactly 2^27 - 1 ns still fits time_delta; 2^27 needs an extend */
	PLAN(1, mk(ts += (1 << 27) - 1, 1002, FL_EV_FILEMAP_FAULT, 0, 0, 0, 266338305, 5678, 5, 0,
		   0, 0));
	PLAN(1, mk(ts += 1 << 27, 1002, FL_EV_FILEMAP_MAP_PAGES, 0, 0, 0, 266338305, 5678, 0, 15, 0,
		   0));
	PLAN(2, mk(ts += 1, 1002, FL_EV_FILEMAP_ADD, 0, 0, 0, 266338305, 5678, 0, 4, 4096, 0));
	PLAN(3, mk(ts += 1, 77, FL_EV_FILEMAP_DELETE, 0, 0, 0, 0xffffffff, -1, 1, 255, 8192, 0));
	/* 5 s: the extend's upper word is 37, and the next sub-buffer starts anew */
	PLAN(0, mk(ts += 5000000000ULL, 1001, FL_EV_SCHED_SWITCH, 0, "work", "swapper/0", 1001,
		   120, 2, 0, 120, 0));
	PLAN(0, mk(ts += 3, 0, FL_EV_SCHED_WAKING, 0, "a-15-char-comm!", 0, 1001, 120, 1, 0, 0, 0));
	PLAN(1, mk(ts += 3, 1002, FL_EV_SCHED_FORK, 0, "work", "worker-child", 1002, 2000, 0, 0, 0,
		   0));
	PLAN(1, mk(ts += 3, 2000, FL_EV_SCHED_EXEC, 0, "true", 0, 2000, 2000, 0, 0, 0, 0));
	PLAN(1, mk(ts += 3, 2000, FL_EV_SCHED_EXIT, 0, "true", 0, 2000, 120, 0, 0, 0, 0));
	PLAN(2, mk(ts += 3, 1002, FL_EV_BLOCK_RQ_ISSUE, 0, "RA", "work", 8388609, 1040, 8, 4096, 0,
		   0));
	PLAN(2, mk(ts += 3, 0, FL_EV_BLOCK_RQ_COMPLETE, 0, "RA", 0, 8388609, 1040, 8, -5, 0, 0));
	PLAN(3, mk(ts += 3, 1003, FL_EV_MEMCG_RECLAIM_BEGIN, 0, 0, 0, -1, 0xcc0, 0, 0, 0, 0));
	PLAN(3, mk(ts += 3, 1003, FL_EV_MEMCG_RECLAIM_END, 0, 0, 0, 32, 0, 0, 0, 0, 0));
	PLAN(3, mk(ts += 3, 1003, FL_EV_DIRECT_RECLAIM_BEGIN, 0, 0, 0, 0, 0x140dca, 0, 0, 0, 0));
	PLAN(3, mk(ts += 3, 1003, FL_EV_DIRECT_RECLAIM_END, 0, 0, 0, 0, 0, 0, 0, 0, 0));
	/* every syscall of the default set, both ways */
	for (int s = FL_SYS_MMAP; s < FL_SYS__COUNT; s++) {
		PLAN(s & 1, mk(ts += 7, 1001 + (s & 1), FL_EV_SYS_ENTER, s, 0, 0, s, 2 * s,
			       s == FL_SYS_CLONE3 ? 88 : 3, 0, 0, 0));
		PLAN(s & 1, mk(ts += 7, 1001 + (s & 1), FL_EV_SYS_EXIT, s, 0, 0, -12, 0, 0, 0, 0,
			       0));
	}
	/* enough switches to fill several sub-buffers of CPU 0 */
	for (int i = 0; i < 200; i++)
		PLAN(0, mk(ts += 1000, i & 1 ? 0 : 1001, FL_EV_SCHED_SWITCH, 0, i & 1 ? "swapper/0" :
			   "work", i & 1 ? "work" : "swapper/0", i & 1 ? 0 : 1001, 120, i & 1 ? 0 : 1,
			   i & 1 ? 1001 : 0, 120, 0));
	/* the same time stamp on two streams: stream order decides */
	PLAN(1, mk(ts + 5, 1002, FL_EV_PF_USER, 0, 0, 0, 0x1000, 1, 4, 0, 0, 0));
	PLAN(0, mk(ts + 5, 1001, FL_EV_PF_USER, 0, 0, 0, 0x2000, 1, 4, 0, 0, 0));

	/* fill in the syscall argument counts the formats have: the rest stay 0 */
	for (size_t i = 0; i < np; i++) {
		struct fl_event *ev = &p[i].ev;
		char name[64];
		int id, nargs = 0;

		if (ev->type != FL_EV_SYS_ENTER)
			continue;
		snprintf(name, sizeof(name), "sys_enter_%s", fl_sys_name(ev->sys));
		id = rbenc_event_id(e, "syscalls", name);
		while (nargs < 6 && rbenc_field_after(e, id, "__syscall_nr", nargs))
			nargs++;
		for (int a = nargs; a < 6; a++)
			ev->a[a] = 0;
	}
	for (size_t i = 0; i < np; i++) {
		int id;

		if (p[i].ev.type == FL_EV_SCHED_FORK)
			rbenc_lost(e, 1, 7, true);	/* before the fork on CPU 1 */
		CHECKF(recon_encode_event(e, p[i].stream, &p[i].ev, &id, &err) == 0,
		       "encode %zu: %s", i, err.msg);
		p[i].ev.cpu = (uint16_t)(p[i].stream % cpus);
		p[i].ev.tep_id = (uint16_t)id;
	}
	/* a record over 112 bytes (type_len 0): exec of a long path; comm is its basename */
	{
		int id = rbenc_event_id(e, "sched", "sched_process_exec");
		struct rbenc_field f[3] = { { "filename", 0, long_path }, { "pid", 3000, NULL },
					    { "old_pid", 3000, NULL } };
		struct fl_event ev = mk(ts + 9, 3000, FL_EV_SCHED_EXEC, 0, "true", 0, 3000, 3000, 0,
					0, 0, 0);

		CHECK(rbenc_add(e, 1, ev.ts, id, 3000, f, 3, &err) == 0);
		ev.cpu = 1;
		ev.tep_id = (uint16_t)id;
		PLAN(1, ev);
	}
	rbenc_lost(e, 0, 0, false);	/* a loss after CPU 0's last event, count not stored */

	/* what the encoder must refuse */
	{
		int id = rbenc_event_id(e, "sched", "sched_waking");
		struct rbenc_field big = { "pid", (int64_t)1 << 40, NULL };
		struct rbenc_field neg = { "target_cpu", -3, NULL };
		struct rbenc_field none = { "no_such_field", 1, NULL };
		struct rbenc_field str = { "comm", 0, "sixteen-chars-xx" };

		CHECK(rbenc_add(e, 0, ts + 100, id, 1, &big, 1, &err) < 0 && strstr(err.msg, "pid"));
		CHECK(rbenc_add(e, 0, ts + 100, id, 1, &none, 1, &err) < 0);
		CHECK(rbenc_add(e, 0, ts + 100, id, 1, &str, 1, &err) < 0);
		CHECK(rbenc_add(e, 0, 5, id, 1, &neg, 1, &err) < 0 && strstr(err.msg, "older"));
		CHECK(rbenc_add(e, 9, ts + 100, id, 1, &neg, 1, &err) < 0);
	}

	CHECKF(rbenc_flc(e, NULL, NULL, 2, &flc, &err) == 0, "rbenc_flc: %s", err.msg);
		/* map_pages (2^27), and the 5 s gap on CPU 0 and both global streams (not CPU 1:
	 * the loss started a new sub-buffer there) */
	CHECK_EQ_U64(rbenc_time_extends(e), 4);
	CHECK(rbenc_full_subbufs(e) >= 2);
	qsort(p, np, sizeof(*p), cmp_planned);
	want = fl_calloc(np, sizeof(*want));
	want_inst = fl_calloc(np, sizeof(*want_inst));
	for (size_t i = 0; i < np; i++) {
		want[i] = p[i].ev;
		want_inst[i] = p[i].stream >= cpus;
	}
	CHECKF(recon_capture_decode(&flc, &c, &err) == 0, "decode: %s", err.msg);
	check_events(want, want_inst, np, &c, "round trip");
	CHECK_EQ_U64(c.lost, 7);
	{
		const struct fl_kv *h = fl_flc_header(c.r);

		CHECK(fl_kv_getu64(h, "streams", 0) == 4);
		CHECK(fl_kv_getstr(h, "stream/3") && !strcmp(fl_kv_getstr(h, "stream/3"),
							     "cpu 1 instance global"));
		CHECK(fl_kv_find(h, "format/vmscan/mm_vmscan_memcg_reclaim_begin"));
		CHECK(fl_kv_find(h, "format/syscalls/sys_exit_exit_group"));
		CHECK(fl_kv_getstr(h, "uname.release") &&
		      !strncmp(fl_kv_getstr(h, "uname.release"), "6.18", 4));
		CHECK(fl_flc_complete(c.r));
	}
	{
		/* the decoder's own lost counters: 7 stored on CPU 1, one unknown on CPU 0 */
		struct fl_decoder *d = fl_decoder_open(c.r, &err);
		struct fl_event ev;

		while (d && fl_decoder_next(d, &ev, &err) == 1)
			;
		CHECK(d && fl_decoder_lost(d, 1) == 7 && fl_decoder_lost_unknown(d, 0) == 1);
		CHECK(d && fl_decoder_lost(d, 0) == 0 && fl_decoder_lost_unknown(d, 1) == 0);
		fl_decoder_free(d);
	}
	recon_capture_release(&c);
	free(want);
	free(want_inst);
	free(p);
	fl_buf_release(&flc);
	rbenc_free(e);
#undef PLAN
}

/*
 * libtraceevent reads an encoded sub-buffer as the print fmt of each format
 * says: an independent parse of the same bytes (kbuffer walks the sub-buffer
 * headers, time extends and the long record; tep_print_event formats the
 * fields). The expected lines were written by hand from the print fmts.
 */
#define N(name, v) { name, (int64_t)(v), NULL }
#define S(name, str) { name, 0, str }

FL_TEST(rbenc_tep_print)
{
	static const char long_path[] = "/usr/lib/x86_64-linux-gnu/faultlab/a/rather/long/path/that/"
					"makes/the/exec/record/larger/than/112/bytes/bin/true";
	static const struct {
		const char *sys, *name;
		uint64_t ts;
		int tid;
		struct rbenc_field f[6];
		const char *want;
	} evs[] = {
		{ "mmap_lock", "mmap_lock_start_locking", 1000000, 1001,
		  { N("mm", (int64_t)0xffff888100000000ULL), N("memcg_id", 3075), N("write", 1) },
		  "mmap_lock_start_locking: mm=0xffff888100000000 memcg_id=3075 write=true" },
		{ "mmap_lock", "mmap_lock_acquire_returned", 1000400, 1001,
		  { N("mm", (int64_t)0xffff888100000000ULL), N("write", 0), N("success", 1) },
		  "mmap_lock_acquire_returned: mm=0xffff888100000000 memcg_id=0 write=false "
		  "success=true" },
		{ "sched", "sched_process_fork", 1000500, 1002,
		  { S("parent_comm", "work"), N("parent_pid", 1002),
		    S("child_comm", "work-child"), N("child_pid", 2000) },
		  "sched_process_fork: comm=work pid=1002 child_comm=work-child child_pid=2000" },
		/* 2^27 + 1 ns later: a time extend */
		{ "syscalls", "sys_enter_mmap", 1000500 + (1 << 27) + 1, 1001,
		  { N("len", 0x100000), N("prot", 3), N("flags", 0x22), N("fd", -1) },
		  "sys_enter_mmap: addr: 0x00000000, len: 0x00100000, prot: 0x00000003, "
		  "flags: 0x00000022, fd: 0xffffffffffffffff, off: 0x00000000" },
		{ "syscalls", "sys_exit_mmap", 1000600 + (1 << 27), 1001,
		  { N("__syscall_nr", 9), N("ret", 0x7f2000000000) },
		  "sys_exit_mmap: 0x7f2000000000" },
		/* 7 s later */
		{ "filemap", "mm_filemap_add_to_page_cache", 7001000600ULL + (1 << 27), 1001,
		  { N("s_dev", 266338305), N("i_ino", 5678), N("index", 5), N("order", 4),
		    N("pfn", 4096) },
		  "mm_filemap_add_to_page_cache: dev 254:1 ino 162e pfn=0x1000 ofs=20480 order=4" },
		{ "sched", "sched_waking", 7001000700ULL + (1 << 27), 0,
		  { S("comm", "work"), N("pid", 1001), N("prio", 120), N("target_cpu", 1) },
		  "sched_waking: comm=work pid=1001 prio=120 target_cpu=001" },
		{ "sched", "sched_process_exec", 7001000800ULL + (1 << 27), 3000,
		  { S("filename", long_path), N("pid", 3000), N("old_pid", 2999) },
		  NULL },
	};
	struct fl_err err = { "" };
	struct rbenc *e = rbenc_new(fl_test_path(RECON_FORMATS), &err);
	struct tep_handle *tep = NULL;
	struct kbuffer *kb = NULL;
	const struct fl_buf *raw;
	struct fl_buf flc = { 0 };
	struct fl_flc_reader *r = NULL;
	const struct fl_kv *h;
	unsigned long long ts;
	size_t i = 0;
	void *rec;

	CHECKF(e, "rbenc_new: %s", err.msg);
	if (!e)
		return;
	for (size_t k = 0; k < FL_ARRAY_SIZE(evs); k++) {
		size_t nf = 0;

		while (nf < 6 && evs[k].f[nf].name)
			nf++;
		CHECKF(rbenc_add(e, 0, evs[k].ts, rbenc_event_id(e, evs[k].sys, evs[k].name),
				 evs[k].tid, evs[k].f, nf, &err) == 0, "%s: %s", evs[k].name,
		       err.msg);
	}
	CHECK_EQ_U64(rbenc_time_extends(e), 2);
	raw = rbenc_stream(e, 0);
	CHECK_EQ_U64(raw->len, 4096);	/* one sub-buffer */
	/* the formats as the capture stores them */
	CHECKF(rbenc_flc(e, NULL, NULL, 1, &flc, &err) == 0, "rbenc_flc: %s", err.msg);
	r = fl_flc_open_mem(flc.data, flc.len, &err);
	CHECK(r);
	if (!r)
		goto out;
	h = fl_flc_header(r);
	tep = tep_alloc();
	tep_set_long_size(tep, 8);
	tep_set_page_size(tep, 4096);
	tep_set_file_bigendian(tep, TEP_LITTLE_ENDIAN);
	CHECK(tep_parse_header_page(tep, (char *)fl_kv_getstr(h, "header_page"),
				    fl_kv_find(h, "header_page")->len, 8) == 0);
	for (size_t k = 0; k < h->n; k++) {
		char sys[64];
		const char *key = h->items[k].key;

		if (strncmp(key, "format/", 7))
			continue;
		snprintf(sys, sizeof(sys), "%.*s", (int)strcspn(key + 7, "/"), key + 7);
		CHECKF(tep_parse_event(tep, h->items[k].val, h->items[k].len, sys) == 0,
		       "libtraceevent cannot parse %s", key);
	}
	kb = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_LITTLE);
	CHECK(kbuffer_load_subbuffer(kb, raw->data) == 0);
	CHECK(kbuffer_missed_events(kb) == 0);
	for (rec = kbuffer_read_event(kb, &ts); rec; rec = kbuffer_next_event(kb, &ts), i++) {
		struct tep_record tr = { .ts = ts, .cpu = 0, .data = rec,
					 .size = kbuffer_event_size(kb) };
		struct trace_seq s;

		if (i >= FL_ARRAY_SIZE(evs)) {
			CHECKF(0, "more events than encoded");
			break;
		}
		CHECKF(ts == evs[i].ts, "event %zu: ts %llu, want %llu", i, ts,
		       (unsigned long long)evs[i].ts);
		CHECK(tep_data_pid(tep, &tr) == evs[i].tid);
		trace_seq_init(&s);
		tep_print_event(tep, &s, &tr, "%s: %s", TEP_PRINT_NAME, TEP_PRINT_INFO);
		trace_seq_terminate(&s);
		if (evs[i].want) {
			CHECKF(!strcmp(s.buffer, evs[i].want), "libtraceevent printed\n  '%s'\n"
			       "  want '%s'", s.buffer, evs[i].want);
		} else {
			char want[256];

			/* type_len 0: 4 + 4 + a record of 20 + strlen + 1 bytes */
			CHECK(tr.size > 112);
			snprintf(want, sizeof(want), "sched_process_exec: filename=%s pid=3000 "
				 "old_pid=2999", long_path);
			CHECKF(!strcmp(s.buffer, want), "libtraceevent printed '%s'", s.buffer);
		}
		trace_seq_destroy(&s);
	}
	CHECK_EQ_U64(i, FL_ARRAY_SIZE(evs));
out:
	if (kb)
		kbuffer_free(kb);
	if (tep)
		tep_free(tep);
	fl_flc_free(r);
	fl_buf_release(&flc);
	rbenc_free(e);
}

/*
 * The records the kernel wrote in the decoder's golden case (recorded on this
 * machine) have the sizes the encoder gives them: the struct's size rounded
 * to 4 for records without strings, at least that with strings.
 */
FL_TEST(rbenc_sizes_match_kernel)
{
	struct fl_err err = { "" };
	struct rbenc *e = rbenc_new(fl_test_path(RECON_FORMATS), &err);
	struct fl_buf raw = { 0 };
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_LITTLE);
	size_t sb, checked = 0, ids = 0;
	uint8_t seen[65536 / 8] = { 0 };

	CHECKF(e, "rbenc_new: %s", err.msg);
	CHECK(fl_buf_read_file(&raw, fl_test_path("golden/decode-x86_64-6.18/cpu0.raw"),
			       &err) == 0);
	if (!e || !raw.len)
		goto out;
	sb = rbenc_subbuf_size(e);
	for (size_t off = 0; off + sb <= raw.len; off += sb) {
		unsigned long long ts;
		void *rec;

		if (kbuffer_load_subbuffer(kb, raw.data + off) < 0)
			continue;
		for (rec = kbuffer_read_event(kb, &ts); rec; rec = kbuffer_next_event(kb, &ts)) {
			uint16_t id;
			bool dyn;
			size_t fixed, size = kbuffer_event_size(kb);

			memcpy(&id, rec, 2);
			fixed = rbenc_fixed_size(e, id, &dyn);
			CHECKF(fixed, "no format for id %u in the golden case", id);
			if (!fixed)
				continue;
			if (dyn)
				CHECKF(size >= ((fixed + 3) & ~3u), "id %u: %zu < %zu", id, size,
				       fixed);
			else
				CHECKF(size == ((fixed + 3) & ~3u), "id %u: kernel %zu bytes, "
				       "encoder %zu", id, size, (fixed + 3) & ~3u);
			checked++;
			if (!(seen[id / 8] & (1 << (id % 8))))
				ids++;
			seen[id / 8] |= (uint8_t)(1 << (id % 8));
		}
	}
	CHECKF(checked > 100 && ids >= 15, "only %zu records of %zu event types", checked, ids);
out:
	kbuffer_free(kb);
	fl_buf_release(&raw);
	rbenc_free(e);
}

/*
 * The stored formats are this machine's: on the kernel they were copied from
 * (same uname release), every one equals tracefs's text; and together they
 * cover the whole default event set that kernel has.
 */
FL_TEST(rbenc_formats_live)
{
	static const char *const sets[] = { "golden/formats-x86_64-6.18",
					    "golden/decode-x86_64-6.18" };
	struct fl_err err = { "" };
	struct rbenc *e = rbenc_new(fl_test_path(RECON_FORMATS), &err);
	struct fl_buf mine = { 0 }, live = { 0 };
	char rel[256] = "", path[1024];
	const char *want;
	int compared = 0;
	FILE *f;

	CHECKF(e, "rbenc_new: %s", err.msg);
	if (!e)
		return;
	want = fl_kv_getstr(rbenc_meta(e), "uname.release");
	f = fopen("/proc/sys/kernel/osrelease", "r");
	if (f) {
		if (fgets(rel, sizeof(rel), f))
			rel[strcspn(rel, "\n")] = 0;
		fclose(f);
	}
	if (!want || strcmp(rel, want) || access("/sys/kernel/tracing/events/header_page", R_OK)) {
		rbenc_free(e);
		FL_SKIP("not the kernel the formats were copied from, or no tracefs");
	}
	for (size_t s = 0; s < FL_ARRAY_SIZE(sets); s++) {
		DIR *dd = opendir(fl_test_path(sets[s]));
		struct dirent *de;

		CHECK(dd);
		while (dd && (de = readdir(dd))) {
			char sys[128], *ev;

			if (strncmp(de->d_name, "format.", 7))
				continue;
			snprintf(sys, sizeof(sys), "%s", de->d_name + 7);
			ev = strchr(sys, '.');
			if (!ev)
				continue;
			*ev++ = 0;
			snprintf(path, sizeof(path), "%s/%s", fl_test_path(sets[s]), de->d_name);
			fl_buf_reset(&mine);
			fl_buf_reset(&live);
			CHECK(fl_buf_read_file(&mine, path, &err) == 0);
			snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", sys, ev);
			CHECKF(fl_buf_read_file(&live, path, &err) == 0, "%s", err.msg);
			CHECKF(mine.len == live.len && !memcmp(mine.data, live.data, mine.len),
			       "%s differs from the stored format", path);
			compared++;
		}
		if (dd)
			closedir(dd);
	}
	CHECK(compared >= 40);
	/* every default-set event this kernel has is stored */
	for (size_t i = 0; i < FL_ARRAY_SIZE(ev_maps); i++) {
		if (!ev_maps[i].name)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format",
			 ev_maps[i].sys, ev_maps[i].name);
		if (!access(path, R_OK))
			CHECKF(rbenc_event_id(e, ev_maps[i].sys, ev_maps[i].name) >= 0,
			       "%s:%s has no stored format", ev_maps[i].sys, ev_maps[i].name);
	}
	for (int s = FL_SYS_MMAP; s < FL_SYS__COUNT; s++)
		for (int x = 0; x < 2; x++) {
			char name[64];

			snprintf(name, sizeof(name), "sys_%s_%s", x ? "exit" : "enter",
				 fl_sys_name(s));
			CHECKF(rbenc_event_id(e, "syscalls", name) >= 0, "syscalls:%s not stored",
			       name);
		}
	fl_buf_release(&mine);
	fl_buf_release(&live);
	rbenc_free(e);
}
