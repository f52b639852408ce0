/*
 * flc.h - the faultlab capture file (.flc): writer and reader.
 *
 * A capture file is a sequence of records. Each record is a zstd *skippable*
 * frame carrying a 32-byte tag, followed (except for END) by one ordinary zstd
 * frame with a content checksum holding the record's payload. So `zstd -d`
 * on a capture prints the payloads and ignores the tags, every record can be
 * decompressed on its own, and a file cut anywhere keeps every complete record.
 *
 *   skippable frame:  le32 0x184D2A5E  le32 32  tag[32]
 *   tag:  0  le32 FL_FLC_TAG_MAGIC ("FLC1")
 *         4  le16 kind (enum fl_flc_kind)
 *         6  le16 cpu  (DATA: the STREAM number, see streams below; else 0)
 *         8  le64 seq  (record number in the file, from 0)
 *        16  le32 zsize (bytes of the zstd frame that follows; 0 for END)
 *        20  le32 rawsize (bytes once decompressed)
 *        24  le32 crc32 of tag bytes 0..23
 *        28  le32 reserved (0)
 *
 * Records: one HEADER first (struct fl_kv, see the keys below); DATA records,
 * each a whole number of raw ring-buffer sub-buffers of one CPU as read from
 * per_cpu/cpuN/trace_pipe_raw, in the order they were read (so per CPU in
 * time order); optional SNAPSHOT records (struct fl_kv: maps and tasks sampled
 * while capturing); one TRAILER (struct fl_kv: end time, lost events, maps and
 * tasks at the end); END (no payload) marks a capture that finished cleanly.
 *
 * HEADER keys (numbers as decimal text; absent = unknown):
 *   flc.version            FL_FLC_VERSION
 *   uname.sysname .release .version .machine .nodename
 *   arch                   "x86_64", "aarch64", ... (uname machine of the capturer)
 *   long_size              4 or 8 (kernel word size)
 *   big_endian             0 or 1
 *   page_size              bytes
 *   subbuf_size            bytes of one ring-buffer sub-buffer (DATA unit)
 *   cpus                   number of CPUs recorded
 *   streams                number of DATA streams (absent: streams == cpus, stream s = CPU s)
 *   stream/N               "cpu C instance main|global": stream N < cpus is the main
 *                          (pid-filtered) instance's CPU N; N >= cpus is the global
 *                          (unfiltered) instance's CPU N - cpus (command mode only; it
 *                          holds events that fire in other tasks' context: block:*,
 *                          vmscan:*, filemap add/delete_from_page_cache). -a: streams == cpus
 *   events.global          "sys:event" per line: the events recorded in the global instance
 *   pid                    the command's pid (command mode)
 *   clock                  trace clock name ("local", "mono", ...)
 *   start.realtime_ns      wall clock at start (CLOCK_REALTIME)
 *   start.trace_ns         the trace clock at start (faultlab capture uses "mono", which is
 *                          CLOCK_MONOTONIC; absent for clocks user space cannot read, e.g. local)
 *   header_page            text of events/header_page
 *   format/SYSTEM/EVENT    text of events/SYSTEM/EVENT/format, one per enabled event
 *   events.enabled         "sys:event" per line;  events.missing  likewise
 *   cmdline                the followed command, arguments separated by NUL
 *   mode                   "command" or "system"
 *   buffer_kb              per-CPU ring buffer size
 *   memcg.path, memcg.limit_bytes   memory cgroup v1 of the command at start; limit =
 *                          smallest limit on the path, absent if unlimited. SNAPSHOT and
 *                          TRAILER repeat them when the command moved (run-in-memcg.sh)
 *   bdi/MAJ:MIN/read_ahead_kb   each backing device's read-ahead window (a file's
 *                          readahead and mmap read-around size come from it)
 * SNAPSHOT / TRAILER keys:
 *   time.trace_ns          the trace clock when taken
 *   maps/PID               text of /proc/PID/maps
 *   tasks                  one line per task: "tid tgid prio policy comm" (prio as sched
 *                          events print it: 120 = nice 0, < 100 realtime; policy SCHED_*)
 *   end.realtime_ns end.trace_ns          (TRAILER)
 *   time.realtime_ns       wall clock when taken
 *   lost/N                 events lost on stream N (overrun + dropped), TRAILER
 *   stats/N                text of stream N's per_cpu/cpuC/stats at the end, TRAILER
 *   lost, events.read      totals over all streams ("read events" of the stats), TRAILER
 *   exit_status            the command's exit status (128 + signal if killed), TRAILER
 *   wait_status            its raw wait(2) status, TRAILER
 *   saved_tgids, saved_cmdlines   text of those tracefs files at the end, TRAILER
 *   (SNAPSHOT maps/PID appear only when they changed since the last snapshot; the first
 *   snapshot after exec holds the maps at start, the TRAILER the last known maps of every
 *   process and every task ever seen)
 */
#ifndef FL_FLC_H
#define FL_FLC_H

#include "common/fl.h"

#define FL_FLC_VERSION		1
#define FL_FLC_SKIP_MAGIC	0x184D2A5EU
#define FL_FLC_TAG_MAGIC	0x31434C46U	/* "FLC1" little-endian */
#define FL_FLC_TAG_SIZE		32
#define FL_FLC_REC_OVERHEAD	(8 + FL_FLC_TAG_SIZE)

enum fl_flc_kind {
	FL_FLC_HEADER = 1,
	FL_FLC_DATA = 2,
	FL_FLC_SNAPSHOT = 3,
	FL_FLC_TRAILER = 4,
	FL_FLC_END = 5,
};

/* ---- writer ---------------------------------------------------------- */

struct fl_flc_writer;
struct fl_flc_stream;

/* Creates (truncates) path. level: zstd level (1..19; 3 is the default). */
struct fl_flc_writer *fl_flc_create(const char *path, int level, struct fl_err *err);
/* Writes a HEADER, SNAPSHOT or TRAILER record. Thread-safe. */
int fl_flc_write_kv(struct fl_flc_writer *w, enum fl_flc_kind kind, const struct fl_kv *kv,
		    struct fl_err *err);
/*
 * A per-CPU stream compresses in the calling thread (one stream per reader
 * thread) and appends whole records under the writer's lock.
 */
struct fl_flc_stream *fl_flc_stream_new(struct fl_flc_writer *w, int cpu);
/* Writes len bytes (whole sub-buffers) as one DATA record. Thread-safe across streams. */
int fl_flc_stream_write(struct fl_flc_stream *s, const void *buf, size_t len, struct fl_err *err);
void fl_flc_stream_free(struct fl_flc_stream *s);
/* Bytes written to the file so far (compressed), and raw bytes given to it. */
uint64_t fl_flc_bytes_written(struct fl_flc_writer *w);
uint64_t fl_flc_bytes_raw(struct fl_flc_writer *w);
/* Writes END, fsyncs and closes. Returns -1 if any earlier write failed. */
int fl_flc_close(struct fl_flc_writer *w, struct fl_err *err);
/* Closes without END (for tests that simulate a killed capture). */
void fl_flc_abandon(struct fl_flc_writer *w);

/* ---- reader ---------------------------------------------------------- */

enum fl_flc_status {
	FL_FLC_OK = 0,
	FL_FLC_BAD_FRAME,	/* tag fine, payload fails to decompress or checksum */
};

struct fl_flc_rec {
	enum fl_flc_kind kind;
	int cpu;
	uint64_t seq;
	uint64_t offset;	/* file offset of the record's skippable frame */
	uint32_t zsize, rawsize;
	enum fl_flc_status status;	/* known after fl_flc_load, or after fl_flc_verify */
};

struct fl_flc_reader;

/*
 * Opens and indexes a capture: reads every tag, parses the HEADER. Damage is
 * not an error: a cut-off tail, tags that fail their CRC (the reader resyncs
 * at the next tag) and a missing END are recorded as warnings. Fails (NULL)
 * only for I/O errors, a file that is not a capture, or an unreadable HEADER.
 */
struct fl_flc_reader *fl_flc_open(const char *path, struct fl_err *err);
/* The same on a memory buffer (fuzzing, tests); the buffer must outlive the reader. */
struct fl_flc_reader *fl_flc_open_mem(const void *p, size_t len, struct fl_err *err);
void fl_flc_free(struct fl_flc_reader *r);

const struct fl_kv *fl_flc_header(const struct fl_flc_reader *r);
/* TRAILER and SNAPSHOT items (in file order), loaded by fl_flc_open; trailer may be empty. */
const struct fl_kv *fl_flc_trailer(const struct fl_flc_reader *r);
size_t fl_flc_nsnapshots(const struct fl_flc_reader *r);
const struct fl_kv *fl_flc_snapshot(const struct fl_flc_reader *r, size_t i);

/* All records in file order (including bad ones). */
size_t fl_flc_nrecs(const struct fl_flc_reader *r);
const struct fl_flc_rec *fl_flc_rec(const struct fl_flc_reader *r, size_t i);
/*
 * Decompresses record i into out (reset first). Returns 0, or -1 with err set
 * when the frame is damaged (the record is then marked FL_FLC_BAD_FRAME and a
 * warning is added; callers skip it and go on).
 */
int fl_flc_load(struct fl_flc_reader *r, size_t i, struct fl_buf *out, struct fl_err *err);

/* What the reader found wrong, in human words, one message each. */
size_t fl_flc_nwarnings(const struct fl_flc_reader *r);
const char *fl_flc_warning(const struct fl_flc_reader *r, size_t i);
bool fl_flc_complete(const struct fl_flc_reader *r);	/* END seen and nothing damaged */
bool fl_flc_truncated(const struct fl_flc_reader *r);	/* file ends inside a record or lacks END */
uint64_t fl_flc_size(const struct fl_flc_reader *r);	/* file bytes */
uint64_t fl_flc_bytes_lost(const struct fl_flc_reader *r);	/* bytes in damaged or cut records */
/* Content hash of the whole file (for idempotent ingest). */
uint64_t fl_flc_content_hash(const struct fl_flc_reader *r);

/* True if the first bytes look like a capture file (for "what is this file?" errors). */
bool fl_flc_sniff(const void *p, size_t len);

#endif
