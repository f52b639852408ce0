/*
 * decode.c - the event decoder: raw ring-buffer sub-buffers to struct fl_event.
 *
 * A decoder owns a private libtraceevent handle built from the capture's
 * HEADER only (header_page, every format/SYS/EVENT text, long_size,
 * big_endian, page_size): the local kernel's tracefs is never read, so a
 * capture from an arm64 phone decodes the same on an x86 workstation.
 *
 * Field access is the hot path (the whole ingest must run at >= 1 M events/s
 * on one core). libtraceevent is used to parse formats, and kbuffer to walk
 * sub-buffers (time extends, padding, absolute stamps); but fields are not
 * read through tep_read_number_field(): once per event type, each field the
 * fl_event needs is looked up by name and reduced to (offset, size, sign,
 * kind), and each record is then read with a bounds check and a memcpy. A
 * field that the capturing kernel lacks (memcg_id on 6.13, which had the
 * memcg_path string instead) has size 0 and reads as 0.
 *
 * Streams. A DATA record's cpu tag is a stream number. Without the `streams`
 * header key there is one stream per CPU (stream s = CPU s); with it, stream/N
 * says "cpu C instance NAME" (a capture may add an unfiltered global instance).
 * Each stream decompresses its DATA records lazily, one at a time, so memory
 * is one record per stream whatever the file size. Within a stream events
 * come in ring-buffer order; across streams a binary heap merges them by
 * (ts, stream number), which with the in-stream order makes the merged order
 * total and stable for equal timestamps. Damaged records (fl_flc_load fails)
 * and sub-buffers whose commit size is impossible are skipped; the reader
 * keeps the warning. A sub-buffer whose header flags missed events adds its
 * count (or one "unknown" when the kernel had no room to store it) to its
 * CPU's lost counters.
 *
 * Units: ts in ns of the capture's trace clock (the "local" clock is ns);
 * sizes in bytes.
 */
#include "capture/decode.h"
#include "capture/decode-src.h"

#include <stdlib.h>
#include <string.h>

#include <event-parse.h>
#include <kbuffer.h>

/* ---- names --------------------------------------------------------- */

static const char *const ev_names[FL_EV__COUNT] = {
	[FL_EV_OTHER] = "other",
	[FL_EV_PF_USER] = "page_fault_user",
	[FL_EV_PF_KERNEL] = "page_fault_kernel",
	[FL_EV_MMAP_LOCK_START] = "mmap_lock_start_locking",
	[FL_EV_MMAP_LOCK_ACQUIRED] = "mmap_lock_acquire_returned",
	[FL_EV_MMAP_LOCK_RELEASED] = "mmap_lock_released",
	[FL_EV_FILEMAP_FAULT] = "mm_filemap_fault",
	[FL_EV_FILEMAP_MAP_PAGES] = "mm_filemap_map_pages",
	[FL_EV_FILEMAP_ADD] = "mm_filemap_add_to_page_cache",
	[FL_EV_FILEMAP_DELETE] = "mm_filemap_delete_from_page_cache",
	[FL_EV_SCHED_SWITCH] = "sched_switch",
	[FL_EV_SCHED_WAKING] = "sched_waking",
	[FL_EV_SCHED_FORK] = "sched_process_fork",
	[FL_EV_SCHED_EXIT] = "sched_process_exit",
	[FL_EV_SCHED_EXEC] = "sched_process_exec",
	[FL_EV_BLOCK_RQ_ISSUE] = "block_rq_issue",
	[FL_EV_BLOCK_RQ_COMPLETE] = "block_rq_complete",
	[FL_EV_MEMCG_RECLAIM_BEGIN] = "mm_vmscan_memcg_reclaim_begin",
	[FL_EV_MEMCG_RECLAIM_END] = "mm_vmscan_memcg_reclaim_end",
	[FL_EV_DIRECT_RECLAIM_BEGIN] = "mm_vmscan_direct_reclaim_begin",
	[FL_EV_DIRECT_RECLAIM_END] = "mm_vmscan_direct_reclaim_end",
	[FL_EV_SYS_ENTER] = "sys_enter",
	[FL_EV_SYS_EXIT] = "sys_exit",
	[FL_EV_LOCK_CONTENTION_BEGIN] = "contention_begin",
	[FL_EV_LOCK_CONTENTION_END] = "contention_end",
	[FL_EV_SHRINK_INACTIVE] = "mm_vmscan_lru_shrink_inactive",
};

static const char *const sys_names[FL_SYS__COUNT] = {
	[FL_SYS_NONE] = "",
	[FL_SYS_MMAP] = "mmap", [FL_SYS_MUNMAP] = "munmap", [FL_SYS_MPROTECT] = "mprotect",
	[FL_SYS_MADVISE] = "madvise", [FL_SYS_MREMAP] = "mremap", [FL_SYS_BRK] = "brk",
	[FL_SYS_CLONE] = "clone", [FL_SYS_CLONE3] = "clone3", [FL_SYS_FORK] = "fork",
	[FL_SYS_VFORK] = "vfork", [FL_SYS_EXIT_GROUP] = "exit_group",
};

const char *fl_ev_name(enum fl_ev type)
{
	return (unsigned)type < FL_EV__COUNT ? ev_names[type] : "?";
}

const char *fl_sys_name(enum fl_sys sys)
{
	return (unsigned)sys < FL_SYS__COUNT ? sys_names[sys] : "?";
}

/*
 * The events faultlab knows and which format fields fill a[] and the comms
 * (see the table in decode.h). "a|b" means: field a, or b where a kernel
 * calls it that (riscv's page_fault_* have `cause`, not `error_code`).
 */
struct known_event {
	const char *system, *name;
	enum fl_ev type;
	const char *comm, *comm2;	/* string fields for comm / comm2, or NULL */
	const char *a[6];		/* numeric fields for a[0..5] */
};

static const struct known_event known[] = {
	{ "exceptions", "page_fault_user", FL_EV_PF_USER, NULL, NULL,
	  { "address", "ip", "error_code|cause" } },
	{ "exceptions", "page_fault_kernel", FL_EV_PF_KERNEL, NULL, NULL,
	  { "address", "ip", "error_code|cause" } },
	{ "mmap_lock", "mmap_lock_start_locking", FL_EV_MMAP_LOCK_START, NULL, NULL,
	  { "mm", "write", "memcg_id" } },
	{ "mmap_lock", "mmap_lock_acquire_returned", FL_EV_MMAP_LOCK_ACQUIRED, NULL, NULL,
	  { "mm", "write", "success", "memcg_id" } },
	{ "mmap_lock", "mmap_lock_released", FL_EV_MMAP_LOCK_RELEASED, NULL, NULL,
	  { "mm", "write", "memcg_id" } },
	{ "filemap", "mm_filemap_fault", FL_EV_FILEMAP_FAULT, NULL, NULL,
	  { "s_dev", "i_ino", "index" } },
	{ "filemap", "mm_filemap_map_pages", FL_EV_FILEMAP_MAP_PAGES, NULL, NULL,
	  { "s_dev", "i_ino", "index", "last_index" } },
	{ "filemap", "mm_filemap_add_to_page_cache", FL_EV_FILEMAP_ADD, NULL, NULL,
	  { "s_dev", "i_ino", "index", "order", "pfn" } },
	{ "filemap", "mm_filemap_delete_from_page_cache", FL_EV_FILEMAP_DELETE, NULL, NULL,
	  { "s_dev", "i_ino", "index", "order", "pfn" } },
	{ "sched", "sched_switch", FL_EV_SCHED_SWITCH, "prev_comm", "next_comm",
	  { "prev_pid", "prev_prio", "prev_state", "next_pid", "next_prio" } },
	{ "sched", "sched_waking", FL_EV_SCHED_WAKING, "comm", NULL,
	  { "pid", "prio", "target_cpu" } },
	{ "sched", "sched_process_fork", FL_EV_SCHED_FORK, "parent_comm", "child_comm",
	  { "parent_pid", "child_pid" } },
	{ "sched", "sched_process_exit", FL_EV_SCHED_EXIT, "comm", NULL, { "pid", "prio" } },
	{ "sched", "sched_process_exec", FL_EV_SCHED_EXEC, "filename", NULL, { "pid", "old_pid" } },
	{ "block", "block_rq_issue", FL_EV_BLOCK_RQ_ISSUE, "rwbs", "comm",
	  { "dev", "sector", "nr_sector", "bytes" } },
	{ "block", "block_rq_complete", FL_EV_BLOCK_RQ_COMPLETE, "rwbs", NULL,
	  { "dev", "sector", "nr_sector", "error" } },
	{ "vmscan", "mm_vmscan_memcg_reclaim_begin", FL_EV_MEMCG_RECLAIM_BEGIN, NULL, NULL,
	  { "order", "gfp_flags" } },
	{ "vmscan", "mm_vmscan_memcg_reclaim_end", FL_EV_MEMCG_RECLAIM_END, NULL, NULL,
	  { "nr_reclaimed" } },
	{ "vmscan", "mm_vmscan_direct_reclaim_begin", FL_EV_DIRECT_RECLAIM_BEGIN, NULL, NULL,
	  { "order", "gfp_flags" } },
	{ "vmscan", "mm_vmscan_direct_reclaim_end", FL_EV_DIRECT_RECLAIM_END, NULL, NULL,
	  { "nr_reclaimed" } },
	{ "lock", "contention_begin", FL_EV_LOCK_CONTENTION_BEGIN, NULL, NULL,
	  { "lock_addr", "flags" } },
	{ "lock", "contention_end", FL_EV_LOCK_CONTENTION_END, NULL, NULL, { "lock_addr", "ret" } },
	{ "vmscan", "mm_vmscan_lru_shrink_inactive", FL_EV_SHRINK_INACTIVE, NULL, NULL,
	  { "nr_scanned", "nr_reclaimed", "nr_activate1", "nr_ref_keep", "nr_unmap_fail",
	    "priority" } },
};

/* ---- field access -------------------------------------------------- */

enum fld_kind {
	FLD_NONE = 0,	/* the format lacks the field: reads as 0 / "" */
	FLD_NUM,	/* an integer of 1, 2, 4 or 8 bytes */
	FLD_STR,	/* an inline char[N] */
	FLD_DYN,	/* __data_loc char[]: u32 (len << 16 | offset from record start) */
	FLD_REL,	/* __rel_loc char[]: offset from the end of the field */
};

struct fld {
	uint32_t off;		/* bytes from the start of the record */
	uint32_t size;		/* bytes */
	uint8_t kind;		/* enum fld_kind */
	uint8_t sign;		/* 1 = sign-extend */
};

struct evtype {
	char *name;		/* "system:event" */
	uint16_t type;		/* enum fl_ev */
	uint16_t sys;		/* enum fl_sys */
	uint8_t na;		/* fields in a[] */
	bool basename;		/* comm is the last path component (sched_process_exec) */
	struct fld a[6];
	struct fld comm, comm2;
};

struct stream {
	int cpu;		/* the real CPU the stream's ring buffer belongs to */
	char *instance;		/* "main", "global", ... (NULL = unnamed) */
	size_t *recs;		/* indices of its DATA records, in file order */
	size_t nrecs, next_rec;
	struct fl_buf raw;	/* the DATA record being decoded, plus zeroed slack */
	size_t rawlen;		/* bytes of raw that are data */
	size_t off;		/* offset of the current sub-buffer in raw */
	const uint8_t *end;	/* end of the current sub-buffer's committed data */
	struct kbuffer *kb;
	void *ev;		/* head event (NULL = stream exhausted) */
	unsigned long long ts;	/* head event's time stamp, ns */
	uint64_t lost;		/* events the sub-buffer headers say were missed */
	uint64_t lost_unknown;	/* sub-buffers flagged "missed" without a count */
	uint64_t bad_subbufs;	/* sub-buffers skipped for an impossible commit size */
};

struct fl_decoder {
	struct tep_handle *tep;
	bool own_tep;
	bool swap;		/* file endianness differs from ours */
	struct evtype **types;	/* by tep id; NULL = no format for that id */
	size_t ntypes;
	struct fld common_type, common_pid;
	uint64_t count, other;	/* events returned; of which OTHER */
	int ncpus;
	uint64_t *lost_cpu, *lost_unknown_cpu;	/* per real CPU */
	int last_stream;	/* stream of the last event returned */

	/* .flc source */
	struct fl_flc_reader *r;
	size_t subbuf_size;	/* bytes of one sub-buffer in DATA records */
	size_t hdr_size;	/* bytes of a sub-buffer header (time stamp + commit) */
	size_t commit_size;	/* bytes of the commit word */
	struct stream *streams;
	int nstreams;
	int *heap;		/* stream numbers, min-heap on (ts, stream) */
	int nheap;

	/* other source (trace.dat) */
	struct fl_decoder_src src;
};

static uint64_t bswap(uint64_t v, uint32_t size)
{
	switch (size) {
	case 2: return __builtin_bswap16((uint16_t)v);
	case 4: return __builtin_bswap32((uint32_t)v);
	case 8: return __builtin_bswap64(v);
	default: return v;
	}
}

static inline int64_t read_num(const struct fl_decoder *d, const uint8_t *rec, size_t size,
			       const struct fld *f)
{
	uint64_t v = 0;

	if (f->kind != FLD_NUM || f->off + f->size > size)
		return 0;
	switch (f->size) {
	case 1: v = rec[f->off]; break;
	case 2: { uint16_t x; memcpy(&x, rec + f->off, 2); v = x; break; }
	case 4: { uint32_t x; memcpy(&x, rec + f->off, 4); v = x; break; }
	case 8: memcpy(&v, rec + f->off, 8); break;
	}
	if (d->swap)
		v = bswap(v, f->size);
	if (f->sign && f->size < 8) {
		unsigned shift = 64 - 8 * f->size;
		return (int64_t)(v << shift) >> shift;
	}
	return (int64_t)v;
}

/* Copies a string field into out[16], NUL-terminated; "" when absent or out of bounds. */
static void read_str(const struct fl_decoder *d, const uint8_t *rec, size_t size,
		     const struct fld *f, bool basename, char *out)
{
	const uint8_t *s;
	size_t n;

	out[0] = 0;
	if (f->off + f->size > size)
		return;
	if (f->kind == FLD_STR) {
		s = rec + f->off;
		n = f->size;
	} else if (f->kind == FLD_DYN || f->kind == FLD_REL) {
		uint32_t loc, start;

		memcpy(&loc, rec + f->off, 4);
		if (d->swap)
			loc = __builtin_bswap32(loc);
		start = loc & 0xffff;
		n = loc >> 16;
		if (f->kind == FLD_REL)
			start += f->off + 4;
		if (start > size || n > size - start)
			return;
		s = rec + start;
	} else {
		return;
	}
	n = strnlen((const char *)s, n);
	if (basename) {
		const uint8_t *slash = memrchr(s, '/', n);

		if (slash) {
			n -= slash + 1 - s;
			s = slash + 1;
		}
	}
	if (n > 15)
		n = 15;
	memcpy(out, s, n);
	out[n] = 0;
}

static void field_of(struct tep_format_field *tf, struct fld *f)
{
	memset(f, 0, sizeof(*f));
	if (!tf || tf->offset < 0 || tf->size <= 0)
		return;
	f->off = tf->offset;
	f->size = tf->size;
	f->sign = !!(tf->flags & TEP_FIELD_IS_SIGNED);
	if (tf->flags & TEP_FIELD_IS_DYNAMIC) {
		if (tf->size == 4)
			f->kind = (tf->flags & TEP_FIELD_IS_RELATIVE) ? FLD_REL : FLD_DYN;
	} else if (tf->flags & TEP_FIELD_IS_ARRAY) {
		f->kind = FLD_STR;
	} else if (tf->size == 1 || tf->size == 2 || tf->size == 4 || tf->size == 8) {
		f->kind = FLD_NUM;
	}
}

/* Looks up "a" or "a|b|..." among the event's fields. */
static void find_field(struct tep_event *ev, const char *names, struct fld *f)
{
	char buf[64];
	const char *p = names;

	memset(f, 0, sizeof(*f));
	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		struct tep_format_field *tf;

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, p, n);
		buf[n] = 0;
		tf = tep_find_field(ev, buf);
		if (tf) {
			field_of(tf, f);
			return;
		}
		p = bar ? bar + 1 : NULL;
	}
}

static enum fl_sys sys_of(const char *name)
{
	for (int i = 1; i < FL_SYS__COUNT; i++)
		if (!strcmp(name, sys_names[i]))
			return i;
	return FL_SYS_NONE;
}

static struct evtype *evtype_new(struct tep_event *ev)
{
	struct evtype *t = fl_calloc(1, sizeof(*t));

	t->name = fl_asprintf("%s:%s", ev->system ? ev->system : "", ev->name ? ev->name : "");
	if (!ev->system || !ev->name)
		return t;

	if (!strcmp(ev->system, "syscalls") && (!strncmp(ev->name, "sys_enter_", 10) ||
						 !strncmp(ev->name, "sys_exit_", 9))) {
		bool enter = ev->name[4] == 'e' && ev->name[5] == 'n';
		struct tep_format_field *tf;
		bool after_nr = false;

		t->type = enter ? FL_EV_SYS_ENTER : FL_EV_SYS_EXIT;
		t->sys = sys_of(ev->name + (enter ? 10 : 9));
		if (!enter) {
			find_field(ev, "ret", &t->a[0]);
			t->na = 1;
			return t;
		}
		/* The arguments in the format's order, after __syscall_nr. */
		for (tf = ev->format.fields; tf && t->na < 6; tf = tf->next) {
			if (!strcmp(tf->name, "__syscall_nr")) {
				after_nr = true;
				continue;
			}
			if (after_nr)
				field_of(tf, &t->a[t->na++]);
		}
		return t;
	}

	for (size_t i = 0; i < FL_ARRAY_SIZE(known); i++) {
		const struct known_event *k = &known[i];

		if (strcmp(k->system, ev->system) || strcmp(k->name, ev->name))
			continue;
		t->type = k->type;
		for (int j = 0; j < 6 && k->a[j]; j++) {
			find_field(ev, k->a[j], &t->a[j]);
			t->na = j + 1;
		}
		if (k->comm)
			find_field(ev, k->comm, &t->comm);
		if (k->comm2)
			find_field(ev, k->comm2, &t->comm2);
		t->basename = k->type == FL_EV_SCHED_EXEC;
		break;
	}
	return t;
}

/* Builds the per-id type table from every event the tep handle knows. */
static int build_types(struct fl_decoder *d, struct fl_err *err)
{
	int n = tep_get_events_count(d->tep);
	int maxid = -1;

	for (int i = 0; i < n; i++) {
		struct tep_event *ev = tep_get_event(d->tep, i);

		if (ev && ev->id > maxid)
			maxid = ev->id;
	}
	if (maxid < 0)
		return fl_seterr(err, "capture has no usable event format (header without "
				 "'format/...' keys?)");
	if (maxid > 65535)
		return fl_seterr(err, "event id %d out of range in the capture's formats", maxid);
	d->ntypes = maxid + 1;
	d->types = fl_calloc(d->ntypes, sizeof(*d->types));
	for (int i = 0; i < n; i++) {
		struct tep_event *ev = tep_get_event(d->tep, i);

		if (!ev || ev->id < 0 || d->types[ev->id])
			continue;
		d->types[ev->id] = evtype_new(ev);
		if (d->common_type.kind == FLD_NONE) {
			field_of(tep_find_common_field(ev, "common_type"), &d->common_type);
			field_of(tep_find_common_field(ev, "common_pid"), &d->common_pid);
		}
	}
	if (d->common_type.kind != FLD_NUM)
		return fl_seterr(err, "capture formats lack 'common_type' (corrupted header?)");
	return 0;
}

/* Fills ev from one raw record. */
static void decode_rec(struct fl_decoder *d, const uint8_t *rec, size_t size, uint64_t ts,
		       int cpu, struct fl_event *ev)
{
	int64_t id = read_num(d, rec, size, &d->common_type);
	const struct evtype *t = (uint64_t)id < d->ntypes ? d->types[id] : NULL;

	ev->ts = ts;
	ev->tid = (int32_t)read_num(d, rec, size, &d->common_pid);
	ev->cpu = (uint16_t)cpu;
	ev->tep_id = (uint16_t)id;
	memset(ev->a, 0, sizeof(ev->a));
	ev->comm[0] = ev->comm2[0] = 0;
	if (!t || t->type == FL_EV_OTHER) {
		ev->type = FL_EV_OTHER;
		ev->sys = 0;
		d->other++;
		return;
	}
	ev->type = t->type;
	ev->sys = t->sys;
	for (int i = 0; i < t->na; i++)
		ev->a[i] = read_num(d, rec, size, &t->a[i]);
	if (t->comm.kind)
		read_str(d, rec, size, &t->comm, t->basename, ev->comm);
	if (t->comm2.kind)
		read_str(d, rec, size, &t->comm2, false, ev->comm2);
}

/* ---- .flc streams -------------------------------------------------- */

static uint64_t read_word(const struct fl_decoder *d, const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	if (size == 4) {
		uint32_t x;

		memcpy(&x, p, 4);
		v = d->swap ? __builtin_bswap32(x) : x;
	} else {
		memcpy(&v, p, 8);
		if (d->swap)
			v = __builtin_bswap64(v);
	}
	return v;
}

#define COMMIT_MASK ((1u << 27) - 1)	/* the ring buffer's commit bits; above are flags */
#define RAW_SLACK 64			/* zeroed bytes after a record: kbuffer may peek past */

/* Loads the next DATA record of s that decompresses. 0 = none left. */
static int load_record(struct fl_decoder *d, struct stream *s)
{
	static const uint8_t zeros[RAW_SLACK];

	while (s->next_rec < s->nrecs) {
		struct fl_err lerr;
		size_t i = s->recs[s->next_rec++];

		if (fl_flc_load(d->r, i, &s->raw, &lerr) < 0)
			continue;	/* damaged: the reader has the warning */
		s->rawlen = s->raw.len;
		fl_buf_add(&s->raw, zeros, RAW_SLACK);
		s->off = 0;
		return 1;
	}
	return 0;
}

/*
 * Positions s on the first event of its next non-empty sub-buffer. Returns
 * 1 with s->ev set, or 0 when the stream is exhausted.
 */
static int next_subbuf(struct fl_decoder *d, struct stream *s)
{
	for (;;) {
		const uint8_t *sb;
		uint64_t commit;
		int missed;

		if (s->off + d->hdr_size > s->rawlen) {
			if (!load_record(d, s)) {
				s->ev = NULL;
				return 0;
			}
			continue;
		}
		sb = (const uint8_t *)s->raw.data + s->off;
		s->off += d->subbuf_size;
		commit = read_word(d, sb + 8, d->commit_size) & COMMIT_MASK;
		/* A sub-buffer cut by the record's end may still be whole up to its commit. */
		if (d->hdr_size + commit > d->subbuf_size ||
		    sb + d->hdr_size + commit > (const uint8_t *)s->raw.data + s->rawlen) {
			s->bad_subbufs++;
			continue;
		}
		if (kbuffer_load_subbuffer(s->kb, (void *)sb) < 0) {
			s->bad_subbufs++;
			continue;
		}
		s->end = sb + d->hdr_size + commit;
		missed = kbuffer_missed_events(s->kb);
		if (missed > 0)
			s->lost += missed;
		else if (missed < 0)
			s->lost_unknown++;
		s->ev = kbuffer_read_event(s->kb, &s->ts);
		if (s->ev && (const uint8_t *)s->ev + kbuffer_event_size(s->kb) <= s->end)
			return 1;
	}
}

static void advance(struct fl_decoder *d, struct stream *s)
{
	void *prev = s->ev;

	s->ev = kbuffer_next_event(s->kb, &s->ts);
	/*
	 * Events only move forward within a sub-buffer; a damaged length that
	 * would not (kbuffer trusts it) ends the sub-buffer instead of looping.
	 */
	if (s->ev && (uint8_t *)s->ev > (uint8_t *)prev &&
	    (const uint8_t *)s->ev + kbuffer_event_size(s->kb) <= s->end)
		return;
	if (s->ev)
		s->bad_subbufs++;
	next_subbuf(d, s);
}

static inline bool before(const struct fl_decoder *d, int a, int b)
{
	const struct stream *sa = &d->streams[a], *sb = &d->streams[b];

	return sa->ts < sb->ts || (sa->ts == sb->ts && a < b);
}

static void sift_down(struct fl_decoder *d, int i)
{
	int n = d->nheap, *h = d->heap;

	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && before(d, h[l], h[m]))
			m = l;
		if (r < n && before(d, h[r], h[m]))
			m = r;
		if (m == i)
			return;
		int tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static void sift_up(struct fl_decoder *d, int i)
{
	int *h = d->heap;

	while (i > 0) {
		int p = (i - 1) / 2;

		if (!before(d, h[i], h[p]))
			return;
		int tmp = h[i];
		h[i] = h[p];
		h[p] = tmp;
		i = p;
	}
}

/* ---- public -------------------------------------------------------- */

static struct fl_decoder *decoder_new(int cpus)
{
	struct fl_decoder *d = fl_calloc(1, sizeof(*d));

	d->ncpus = cpus > 0 ? cpus : 1;
	d->lost_cpu = fl_calloc(d->ncpus, sizeof(*d->lost_cpu));
	d->lost_unknown_cpu = fl_calloc(d->ncpus, sizeof(*d->lost_unknown_cpu));
	d->last_stream = -1;
	return d;
}

static bool host_bigendian(void)
{
	return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
}

/* Parses header_page and every format/SYS/EVENT of the header into a new tep. */
static struct tep_handle *tep_from_header(const struct fl_kv *h, int long_size, bool big,
					  int page_size, struct fl_err *err)
{
	const struct fl_kv_item *hp = fl_kv_find(h, "header_page");
	struct tep_handle *tep;
	int nformats = 0;

	if (!hp)
		return fl_seterr(err, "capture header lacks 'header_page' (not written by "
				 "faultlab capture?)"), NULL;
	tep = tep_alloc();
	if (!tep)
		return fl_seterr(err, "out of memory allocating the event parser"), NULL;
	tep_set_long_size(tep, long_size);
	tep_set_page_size(tep, page_size);
	tep_set_file_bigendian(tep, big ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(tep, host_bigendian() ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	if (tep_parse_header_page(tep, hp->val, hp->len, long_size) < 0) {
		fl_seterr(err, "cannot parse the capture's 'header_page'");
		goto fail;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct fl_kv_item *it = &h->items[i];
		char sys[256];
		const char *slash;
		size_t n;

		if (strncmp(it->key, "format/", 7))
			continue;
		slash = strchr(it->key + 7, '/');
		if (!slash || (n = slash - (it->key + 7)) == 0 || n >= sizeof(sys))
			continue;
		memcpy(sys, it->key + 7, n);
		sys[n] = 0;
		/*
		 * A print-format libtraceevent cannot parse still leaves the
		 * event and its fields, which is all we need; only a format
		 * without fields is lost, and its records decode as OTHER.
		 */
		tep_parse_event(tep, it->val, it->len, sys);
		nformats++;
	}
	if (!nformats) {
		fl_seterr(err, "capture header has no event formats");
		goto fail;
	}
	return tep;
fail:
	tep_free(tep);
	return NULL;
}

static int parse_streams(struct fl_decoder *d, const struct fl_kv *h, struct fl_err *err)
{
	uint64_t cpus = fl_kv_getu64(h, "cpus", 0);
	uint64_t n = fl_kv_getu64(h, "streams", cpus);

	if (n == 0 || n > 65535)
		return fl_seterr(err, "capture header has no valid 'cpus' count");
	d->nstreams = (int)n;
	d->streams = fl_calloc(n, sizeof(*d->streams));
	for (uint64_t s = 0; s < n; s++) {
		struct stream *st = &d->streams[s];
		char key[32];
		const char *v;

		st->cpu = (int)s;
		snprintf(key, sizeof(key), "stream/%llu", (unsigned long long)s);
		v = fl_kv_getstr(h, key);
		if (v) {
			int cpu, len = 0;
			char inst[128];

			if (sscanf(v, "cpu %d instance %127s%n", &cpu, inst, &len) < 2 || cpu < 0)
				return fl_seterr(err, "capture header key '%s' is malformed: '%s'",
						 key, v);
			st->cpu = cpu;
			st->instance = fl_strdup(inst);
		} else if (fl_kv_find(h, "streams")) {
			return fl_seterr(err, "capture header lacks '%s'", key);
		}
		if (st->cpu >= d->ncpus) {
			/* grow the per-CPU counters to fit */
			int nc = st->cpu + 1;

			d->lost_cpu = fl_realloc(d->lost_cpu, nc * sizeof(*d->lost_cpu));
			d->lost_unknown_cpu = fl_realloc(d->lost_unknown_cpu,
							 nc * sizeof(*d->lost_unknown_cpu));
			for (int c = d->ncpus; c < nc; c++)
				d->lost_cpu[c] = d->lost_unknown_cpu[c] = 0;
			d->ncpus = nc;
		}
	}
	return 0;
}

struct fl_decoder *fl_decoder_open(struct fl_flc_reader *r, struct fl_err *err)
{
	const struct fl_kv *h = fl_flc_header(r);
	int long_size = (int)fl_kv_getu64(h, "long_size", 8);
	bool big = fl_kv_getu64(h, "big_endian", 0) != 0;
	int page_size = (int)fl_kv_getu64(h, "page_size", 4096);
	struct fl_decoder *d;

	if (long_size != 4 && long_size != 8)
		return fl_seterr(err, "capture header has an invalid 'long_size' %d", long_size),
		       NULL;
	if (page_size < 64 || page_size > (1 << 24))
		return fl_seterr(err, "capture header has an invalid 'page_size' %d", page_size),
		       NULL;
	d = decoder_new((int)fl_kv_getu64(h, "cpus", 1));
	d->r = r;
	d->swap = big != host_bigendian();
	d->subbuf_size = fl_kv_getu64(h, "subbuf_size", page_size);
	d->tep = tep_from_header(h, long_size, big, page_size, err);
	if (!d->tep)
		goto fail;
	d->own_tep = true;
	if (!fl_kv_find(h, "subbuf_size")) {
		/* Older headers: the sub-buffer is header_page's data offset + size. */
		int sb = tep_get_sub_buffer_size(d->tep);

		d->subbuf_size = sb > 0 ? (size_t)sb : (size_t)page_size;
	}
	d->commit_size = tep_get_header_page_size(d->tep);
	if (d->commit_size != 4 && d->commit_size != 8)
		d->commit_size = long_size;
	d->hdr_size = 8 + d->commit_size;
	if (d->subbuf_size <= d->hdr_size || d->subbuf_size > (1u << 27)) {
		fl_seterr(err, "capture header has an invalid 'subbuf_size' %zu", d->subbuf_size);
		goto fail;
	}
	if (build_types(d, err) < 0 || parse_streams(d, h, err) < 0)
		goto fail;

	/* Index each stream's DATA records, in file order. */
	for (size_t i = 0; i < fl_flc_nrecs(r); i++) {
		const struct fl_flc_rec *rec = fl_flc_rec(r, i);
		struct stream *st;

		if (rec->kind != FL_FLC_DATA || rec->status != FL_FLC_OK)
			continue;
		if (rec->cpu < 0 || rec->cpu >= d->nstreams)
			continue;	/* a tag from no stream the header knows */
		st = &d->streams[rec->cpu];
		if ((st->nrecs & (st->nrecs - 1)) == 0)
			st->recs = fl_realloc(st->recs, (st->nrecs ? 2 * st->nrecs : 1) *
					      sizeof(*st->recs));
		st->recs[st->nrecs++] = i;
	}

	d->heap = fl_calloc(d->nstreams, sizeof(*d->heap));
	for (int s = 0; s < d->nstreams; s++) {
		struct stream *st = &d->streams[s];

		st->kb = kbuffer_alloc(d->commit_size == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
				       big ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);
		if (!st->kb) {
			fl_seterr(err, "out of memory allocating a ring-buffer reader");
			goto fail;
		}
		if (next_subbuf(d, st)) {
			d->heap[d->nheap] = s;
			sift_up(d, d->nheap++);
		}
	}
	return d;
fail:
	fl_decoder_free(d);
	return NULL;
}

struct fl_decoder *fl_decoder_open_src(struct tep_handle *tep, bool own_tep, bool file_bigendian,
				       int cpus, const struct fl_decoder_src *src,
				       struct fl_err *err)
{
	struct fl_decoder *d = decoder_new(cpus);

	d->tep = tep;
	d->own_tep = own_tep;
	d->swap = file_bigendian != host_bigendian();
	d->src = *src;
	if (build_types(d, err) < 0) {
		d->src.free = NULL;	/* the caller still owns the source */
		fl_decoder_free(d);
		return NULL;
	}
	return d;
}

static void add_lost(struct fl_decoder *d, int cpu, int64_t missed)
{
	if (cpu < 0 || cpu >= d->ncpus || !missed)
		return;
	if (missed > 0)
		d->lost_cpu[cpu] += missed;
	else
		d->lost_unknown_cpu[cpu]++;
}

int fl_decoder_next(struct fl_decoder *d, struct fl_event *ev, struct fl_err *err)
{
	struct stream *s;
	int top;

	if (d->src.next) {
		struct fl_raw_rec rec;
		int rc = d->src.next(d->src.ctx, &rec, err);

		if (rc <= 0)
			return rc;
		add_lost(d, rec.cpu, rec.missed);
		decode_rec(d, rec.data, rec.size, rec.ts, rec.cpu, ev);
		d->last_stream = rec.stream;
		d->count++;
		return 1;
	}
	if (!d->nheap)
		return 0;
	top = d->heap[0];
	s = &d->streams[top];
	decode_rec(d, s->ev, kbuffer_event_size(s->kb), s->ts, s->cpu, ev);
	d->last_stream = top;
	d->count++;
	advance(d, s);
	if (!s->ev)
		d->heap[0] = d->heap[--d->nheap];
	sift_down(d, 0);
	return 1;
}

uint64_t fl_decoder_lost(const struct fl_decoder *d, int cpu)
{
	uint64_t n = 0;

	if (cpu >= 0 && cpu < d->ncpus)
		n = d->lost_cpu[cpu];
	for (int s = 0; s < d->nstreams; s++)
		if (d->streams[s].cpu == cpu)
			n += d->streams[s].lost;
	return n;
}

uint64_t fl_decoder_lost_unknown(const struct fl_decoder *d, int cpu)
{
	uint64_t n = 0;

	if (cpu >= 0 && cpu < d->ncpus)
		n = d->lost_unknown_cpu[cpu];
	for (int s = 0; s < d->nstreams; s++)
		if (d->streams[s].cpu == cpu)
			n += d->streams[s].lost_unknown;
	return n;
}

int fl_decoder_ncpus(const struct fl_decoder *d)
{
	return d->ncpus;
}

uint64_t fl_decoder_count(const struct fl_decoder *d)
{
	return d->count;
}

uint64_t fl_decoder_count_other(const struct fl_decoder *d)
{
	return d->other;
}

uint64_t fl_decoder_bad_subbufs(const struct fl_decoder *d)
{
	uint64_t n = 0;

	for (int s = 0; s < d->nstreams; s++)
		n += d->streams[s].bad_subbufs;
	return n;
}

int fl_decoder_stream(const struct fl_decoder *d)
{
	return d->last_stream;
}

const char *fl_decoder_stream_instance(const struct fl_decoder *d, int stream)
{
	if (d->src.stream_name) {
		const char *name = d->src.stream_name(d->src.ctx, stream);

		return name ? name : "main";
	}
	if (stream < 0 || stream >= d->nstreams || !d->streams[stream].instance)
		return "main";
	return d->streams[stream].instance;
}

const char *fl_decoder_event_name(const struct fl_decoder *d, int tep_id)
{
	if (tep_id < 0 || (size_t)tep_id >= d->ntypes || !d->types[tep_id])
		return NULL;
	return d->types[tep_id]->name;
}

void fl_decoder_free(struct fl_decoder *d)
{
	if (!d)
		return;
	for (int s = 0; s < d->nstreams; s++) {
		struct stream *st = &d->streams[s];

		if (st->kb)
			kbuffer_free(st->kb);
		fl_buf_release(&st->raw);
		free(st->recs);
		free(st->instance);
	}
	free(d->streams);
	free(d->heap);
	for (size_t i = 0; i < d->ntypes; i++) {
		if (d->types[i]) {
			free(d->types[i]->name);
			free(d->types[i]);
		}
	}
	free(d->types);
	if (d->src.free)
		d->src.free(d->src.ctx);
	if (d->tep && d->own_tep)
		tep_free(d->tep);
	free(d->lost_cpu);
	free(d->lost_unknown_cpu);
	free(d);
}
