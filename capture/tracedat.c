/*
 * tracedat.c - trace-cmd trace.dat files as a decoder source.
 *
 * Users who already capture with trace-cmd on their devices hand faultlab a
 * trace.dat instead of a .flc. libtracecmd opens it (any file version it
 * supports, compressed or not) and gives a tep handle with the file's own
 * formats, so decoding never needs this machine's kernel either; the records
 * then go through the same field cache as .flc data (decode.c), so ingest
 * sees the same struct fl_event stream.
 *
 * Streams: the top-level buffer is stream 0 and each instance buffer
 * (trace-cmd record -B / extract -B) stream 1 + its index; every (stream, CPU)
 * ring buffer is read in file order with tracecmd_read_data() and a binary
 * heap merges them by (ts, stream, cpu), so the order is total and stable for
 * equal time stamps, as for a capture. A record stays owned by this source
 * until the next one is asked for.
 *
 * libtracecmd's public header lacks the getters for uname, clock, page size
 * and CPU count; they are exported, so they are declared weak here and used when
 * present (the header then simply lacks those keys).
 */
#include "capture/decode.h"
#include "capture/decode-src.h"

#include <stdlib.h>
#include <string.h>

#include <trace-cmd.h>

extern const char *tracecmd_get_uname(struct tracecmd_input *handle) __attribute__((weak));
extern const char *tracecmd_get_trace_clock(struct tracecmd_input *handle)
	__attribute__((weak));
extern int tracecmd_cpus(struct tracecmd_input *handle) __attribute__((weak));
extern const char *tracecmd_get_version(struct tracecmd_input *handle) __attribute__((weak));
extern int tracecmd_page_size(struct tracecmd_input *handle) __attribute__((weak));

/*
 * libtraceevent 1.7.1 leaks a few bytes parsing some print formats that
 * trace-cmd files carry (every event of the kernel); LeakSanitizer would fail
 * `make SANITIZE=address,undefined test` on it. The sanitizer runtime reads
 * this hook (it is inert in normal builds); the suppression covers allocations
 * made inside libtraceevent only.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\n";
}

static const char tracedat_magic[10] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

bool fl_tracedat_sniff(const void *p, size_t n)
{
	return n >= sizeof(tracedat_magic) && !memcmp(p, tracedat_magic, sizeof(tracedat_magic));
}

struct td_ring {
	struct tracecmd_input *h;	/* borrowed from struct tracedat */
	int stream;			/* 0 = top-level buffer, 1 + instance index */
	int cpu;
	struct tep_record *head;	/* next record (NULL = ring exhausted) */
};

struct tracedat {
	struct tracecmd_input *top;
	struct tracecmd_input **inst;	/* instance handles, owned */
	int ninst;
	struct td_ring *rings;
	int nrings;
	int *heap;			/* ring numbers, min-heap on (ts, stream, cpu) */
	int nheap;
	struct tep_record *last;	/* returned last; freed on the next call */
};

static bool ring_before(const struct tracedat *t, int a, int b)
{
	const struct td_ring *ra = &t->rings[a], *rb = &t->rings[b];

	if (ra->head->ts != rb->head->ts)
		return ra->head->ts < rb->head->ts;
	return a < b;	/* rings are numbered in (stream, cpu) order */
}

static void heap_down(struct tracedat *t, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < t->nheap && ring_before(t, t->heap[l], t->heap[m]))
			m = l;
		if (r < t->nheap && ring_before(t, t->heap[r], t->heap[m]))
			m = r;
		if (m == i)
			return;
		int tmp = t->heap[i];
		t->heap[i] = t->heap[m];
		t->heap[m] = tmp;
		i = m;
	}
}

static void heap_up(struct tracedat *t, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;

		if (!ring_before(t, t->heap[i], t->heap[p]))
			return;
		int tmp = t->heap[i];
		t->heap[i] = t->heap[p];
		t->heap[p] = tmp;
		i = p;
	}
}

static int td_next(void *ctx, struct fl_raw_rec *rec, struct fl_err *err)
{
	struct tracedat *t = ctx;
	struct td_ring *ring;
	struct tep_record *r;

	if (t->last) {
		tracecmd_free_record(t->last);
		t->last = NULL;
	}
	if (!t->nheap)
		return 0;
	ring = &t->rings[t->heap[0]];
	r = ring->head;
	ring->head = tracecmd_read_data(ring->h, ring->cpu);
	if (!ring->head)
		t->heap[0] = t->heap[--t->nheap];
	heap_down(t, 0);

	t->last = r;
	rec->data = r->data;
	rec->size = r->size > 0 ? (size_t)r->size : 0;
	rec->ts = r->ts;
	rec->cpu = ring->cpu;
	rec->stream = ring->stream;
	rec->missed = r->missed_events;
	return 1;
}

static void td_free(void *ctx)
{
	struct tracedat *t = ctx;

	if (!t)
		return;
	if (t->last)
		tracecmd_free_record(t->last);
	for (int i = 0; i < t->nrings; i++)
		if (t->rings[i].head)
			tracecmd_free_record(t->rings[i].head);
	for (int i = 0; i < t->ninst; i++)
		tracecmd_close(t->inst[i]);
	if (t->top)
		tracecmd_close(t->top);
	free(t->inst);
	free(t->rings);
	free(t->heap);
	free(t);
}

/* Stream 0 is the top-level buffer ("main"); stream 1 + i is instance i. */
static const char *td_stream_name(void *ctx, int stream)
{
	struct tracedat *t = ctx;

	if (stream <= 0 || stream > t->ninst)
		return NULL;
	return tracecmd_buffer_instance_name(t->top, stream - 1);
}

static int handle_cpus(struct tracecmd_input *h)
{
	if (tracecmd_cpus)
		return tracecmd_cpus(h);
	return tep_get_cpus(tracecmd_get_tep(h));
}

static void add_rings(struct tracedat *t, struct tracecmd_input *h, int stream, int *maxcpu)
{
	int ncpu = handle_cpus(h);

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct td_ring *ring;

		t->rings = fl_realloc(t->rings, (t->nrings + 1) * sizeof(*t->rings));
		ring = &t->rings[t->nrings];
		ring->h = h;
		ring->stream = stream;
		ring->cpu = cpu;
		ring->head = tracecmd_read_data(h, cpu);
		t->nrings++;
		if (cpu + 1 > *maxcpu)
			*maxcpu = cpu + 1;
	}
}

/* "Linux host 6.18.0 x86_64" (trace-cmd's uname option) -> uname.* keys. */
static void add_uname(struct fl_kv *kv, const char *u)
{
	const char *p = u, *tok[3], *rest, *last;
	size_t len[3];

	fl_kv_addstr(kv, "tracedat.uname", u);
	for (int i = 0; i < 3; i++) {
		while (*p == ' ')
			p++;
		tok[i] = p;
		while (*p && *p != ' ')
			p++;
		len[i] = p - tok[i];
		if (!len[i])
			return;
	}
	fl_kv_add(kv, "uname.sysname", tok[0], len[0]);
	fl_kv_add(kv, "uname.nodename", tok[1], len[1]);
	fl_kv_add(kv, "uname.release", tok[2], len[2]);
	rest = p;
	while (*rest == ' ')
		rest++;
	if (!*rest)
		return;
	/* The machine is the last word; anything between is a version string. */
	last = strrchr(rest, ' ');
	if (last) {
		fl_kv_add(kv, "uname.version", rest, last - rest);
		rest = last + 1;
	}
	fl_kv_addstr(kv, "uname.machine", rest);
	fl_kv_addstr(kv, "arch", rest);
}

static void fill_header(struct fl_kv *kv, struct tracedat *t, struct tep_handle *tep, int cpus)
{
	struct fl_buf names = { 0 };
	int n = tep_get_events_count(tep);

	fl_kv_addstr(kv, "source", "trace.dat");
	if (tracecmd_get_version && tracecmd_get_version(t->top))
		fl_kv_addstr(kv, "tracedat.version", tracecmd_get_version(t->top));
	if (tracecmd_get_uname && tracecmd_get_uname(t->top))
		add_uname(kv, tracecmd_get_uname(t->top));
	fl_kv_addu64(kv, "long_size", tep_get_long_size(tep));
	fl_kv_addu64(kv, "big_endian", tep_is_file_bigendian(tep));
	fl_kv_addu64(kv, "page_size", tracecmd_page_size ? tracecmd_page_size(t->top) :
		     tep_get_page_size(tep));
	fl_kv_addu64(kv, "cpus", cpus);
	fl_kv_addstr(kv, "clock", tracecmd_get_trace_clock && tracecmd_get_trace_clock(t->top) ?
		     tracecmd_get_trace_clock(t->top) : "local");
	if (t->nheap)
		fl_kv_addu64(kv, "start.trace_ns", t->rings[t->heap[0]].head->ts);
	/* Formats the file carries (trace-cmd stores those of every event, not only enabled). */
	for (int i = 0; i < n; i++) {
		struct tep_event *ev = tep_get_event(tep, i);

		if (ev && ev->system && ev->name)
			fl_buf_addf(&names, "%s:%s\n", ev->system, ev->name);
	}
	fl_kv_add(kv, "events.formats", names.data ? names.data : "", names.len);
	fl_buf_reset(&names);
	for (int i = 0; i < t->ninst; i++)
		fl_buf_addf(&names, "%s\n", tracecmd_buffer_instance_name(t->top, i));
	fl_kv_add(kv, "tracedat.buffers", names.data ? names.data : "", names.len);
	fl_kv_addu64(kv, "streams", 1 + t->ninst);
	fl_buf_release(&names);
}

struct fl_decoder *fl_decoder_open_tracedat(const char *path, struct fl_kv *header,
					    struct fl_err *err)
{
	struct tracedat *t = fl_calloc(1, sizeof(*t));
	struct fl_decoder_src src = { td_next, td_free, td_stream_name, t };
	struct fl_decoder *d;
	struct tep_handle *tep;
	int maxcpu = 0;

	/* libtracecmd would print its own complaints; the caller prints ours. */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	t->top = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS |
			       TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS);
	if (!t->top) {
		fl_seterr(err, "cannot read '%s' as a trace-cmd trace.dat (unsupported version "
			  "or damaged file)", path);
		goto fail;
	}
	tep = tracecmd_get_tep(t->top);
	if (!tep) {
		fl_seterr(err, "cannot read '%s': no event formats", path);
		goto fail;
	}
	t->ninst = tracecmd_buffer_instances(t->top);
	if (t->ninst < 0)
		t->ninst = 0;
	t->inst = fl_calloc(t->ninst ? t->ninst : 1, sizeof(*t->inst));
	add_rings(t, t->top, 0, &maxcpu);
	for (int i = 0; i < t->ninst; i++) {
		t->inst[i] = tracecmd_buffer_instance_handle(t->top, i);
		if (!t->inst[i]) {
			fl_seterr(err, "cannot read buffer '%s' of '%s'",
				  tracecmd_buffer_instance_name(t->top, i), path);
			t->ninst = i;
			goto fail;
		}
		add_rings(t, t->inst[i], 1 + i, &maxcpu);
	}
	t->heap = fl_calloc(t->nrings ? t->nrings : 1, sizeof(*t->heap));
	for (int i = 0; i < t->nrings; i++) {
		if (t->rings[i].head) {
			t->heap[t->nheap] = i;
			heap_up(t, t->nheap++);
		}
	}
	if (header)
		fill_header(header, t, tep, maxcpu);
	d = fl_decoder_open_src(tep, false, tep_is_file_bigendian(tep), maxcpu, &src, err);
	if (!d) {
		fl_preferr(err, "cannot decode '%s'", path);
		goto fail;
	}
	return d;
fail:
	td_free(t);
	return NULL;
}
