/*
 * decode.h - turning raw ring-buffer sub-buffers into typed events.
 *
 * Decoding uses only what the capture stored: the header_page and each
 * event's format text (libtraceevent parses them into a private tep handle),
 * the word size and endianness, never the local kernel's tracefs. Field
 * offsets are looked up by name once per event type and cached, so a field
 * that moved between kernels (memcg_path -> memcg_id) is still found, and a
 * field a kernel lacks reads as 0 with FL_EV_HAS_* unset.
 *
 * Events arrive per stream (one ring buffer: a CPU of an instance) in
 * timestamp order; across streams they are merged by (ts, stream number,
 * position in that stream), so the merged order is total and stable for equal
 * timestamps. Without a `streams` header key, stream s is CPU s.
 *
 * The per-type meaning of a[] is fixed here, and the database's typed columns
 * and views follow it:
 *
 *   type                         a[0]      a[1]      a[2]         a[3]        a[4]      a[5]  comm / comm2
 *   PF_USER, PF_KERNEL           address   ip        error_code
 *   MMAP_LOCK_START              mm        write     memcg_id
 *   MMAP_LOCK_ACQUIRED           mm        write     success      memcg_id
 *   MMAP_LOCK_RELEASED           mm        write     memcg_id
 *   FILEMAP_FAULT                s_dev     i_ino     index
 *   FILEMAP_MAP_PAGES            s_dev     i_ino     index        last_index
 *   FILEMAP_ADD, FILEMAP_DELETE  s_dev     i_ino     index        order       pfn
 *   SCHED_SWITCH                 prev_pid  prev_prio prev_state   next_pid    next_prio       prev_comm / next_comm
 *   SCHED_WAKING                 pid       prio      target_cpu                               comm
 *   SCHED_FORK                   parent    child                                              parent_comm / child_comm
 *   SCHED_EXIT                   pid       prio                                               comm
 *   SCHED_EXEC                   pid       old_pid                                            (filename basename) 
 *   BLOCK_RQ_ISSUE               dev       sector    nr_sector    bytes                       rwbs / comm
 *   BLOCK_RQ_COMPLETE            dev       sector    nr_sector    error                       rwbs
 *   *_RECLAIM_BEGIN              order     gfp_flags
 *   *_RECLAIM_END                nr_reclaimed
 *   SYS_ENTER                    args[0..5] in the syscall's own order (sys says which;
 *                                FL_SYS_NONE for a syscalls:sys_enter_* faultlab has no name for)
 *   SYS_EXIT                     ret
 *   LOCK_CONTENTION_BEGIN        lock_addr flags
 *   LOCK_CONTENTION_END          lock_addr ret
 *   SHRINK_INACTIVE              nr_scanned nr_reclaimed nr_activate_file nr_ref_keep nr_unmap_fail priority
 *   OTHER                        (nothing decoded; tep_id says which event)
 *
 * prev_state is the raw kernel state bitmask as recorded (0 = runnable/
 * preempted, 1 = S, 2 = D, ...; TASK_REPORT_MAX means preempted "R+").
 */
#ifndef FL_DECODE_H
#define FL_DECODE_H

#include "capture/flc.h"

enum fl_ev {
	FL_EV_OTHER = 0,
	FL_EV_PF_USER,
	FL_EV_PF_KERNEL,
	FL_EV_MMAP_LOCK_START,
	FL_EV_MMAP_LOCK_ACQUIRED,
	FL_EV_MMAP_LOCK_RELEASED,
	FL_EV_FILEMAP_FAULT,
	FL_EV_FILEMAP_MAP_PAGES,
	FL_EV_FILEMAP_ADD,
	FL_EV_FILEMAP_DELETE,
	FL_EV_SCHED_SWITCH,
	FL_EV_SCHED_WAKING,
	FL_EV_SCHED_FORK,
	FL_EV_SCHED_EXIT,
	FL_EV_SCHED_EXEC,
	FL_EV_BLOCK_RQ_ISSUE,
	FL_EV_BLOCK_RQ_COMPLETE,
	FL_EV_MEMCG_RECLAIM_BEGIN,
	FL_EV_MEMCG_RECLAIM_END,
	FL_EV_DIRECT_RECLAIM_BEGIN,
	FL_EV_DIRECT_RECLAIM_END,
	FL_EV_SYS_ENTER,
	FL_EV_SYS_EXIT,
	FL_EV_LOCK_CONTENTION_BEGIN,
	FL_EV_LOCK_CONTENTION_END,
	FL_EV_SHRINK_INACTIVE,		/* mm_vmscan_lru_shrink_inactive: one batch of reclaim */
	FL_EV__COUNT
};

/* Which syscall a SYS_ENTER/SYS_EXIT is (from the event name, not the number). */
enum fl_sys {
	FL_SYS_NONE = 0,
	FL_SYS_MMAP, FL_SYS_MUNMAP, FL_SYS_MPROTECT, FL_SYS_MADVISE, FL_SYS_MREMAP,
	FL_SYS_BRK, FL_SYS_CLONE, FL_SYS_CLONE3, FL_SYS_FORK, FL_SYS_VFORK, FL_SYS_EXIT_GROUP,
	FL_SYS__COUNT
};

/* "page_fault_user", "mmap_lock_start_locking", ... and "mmap", "munmap", ... */
const char *fl_ev_name(enum fl_ev type);
const char *fl_sys_name(enum fl_sys sys);

struct fl_event {
	uint64_t ts;		/* ns in the capture's trace clock */
	int32_t tid;		/* common_pid: the thread the event ran in (0 = idle/irq) */
	uint16_t cpu;
	uint16_t type;		/* enum fl_ev */
	uint16_t sys;		/* enum fl_sys (SYS_ENTER/SYS_EXIT), else 0 */
	uint16_t tep_id;	/* the event's id in the capture's formats */
	int64_t a[6];		/* per-type fields: see the table above */
	char comm[16];		/* NUL-terminated; empty when the type has none */
	char comm2[16];
};

struct fl_decoder;

/*
 * Opens a merged event stream over all DATA records of a capture. Damaged
 * records are skipped (the reader records a warning); sub-buffers whose
 * header says events were lost add to fl_decoder_lost().
 */
struct fl_decoder *fl_decoder_open(struct fl_flc_reader *r, struct fl_err *err);
/* 1 = *ev filled, 0 = end of stream, -1 = error (err set). */
int fl_decoder_next(struct fl_decoder *d, struct fl_event *ev, struct fl_err *err);
/* Events the ring buffer reported as missed, per CPU (from sub-buffer headers). */
uint64_t fl_decoder_lost(const struct fl_decoder *d, int cpu);
/* Events decoded so far, and those of types faultlab does not know (OTHER). */
uint64_t fl_decoder_count(const struct fl_decoder *d);
/* The system:name of a tep id in this capture ("sched:sched_switch"), or NULL. */
const char *fl_decoder_event_name(const struct fl_decoder *d, int tep_id);
void fl_decoder_free(struct fl_decoder *d);

/*
 * Additions (decoder owner). Lost-event detail: sub-buffers flagged "events
 * missed" whose count the kernel could not store (fl_decoder_lost() counts
 * only stored counts); the CPU count the lost counters cover; events decoded
 * as OTHER; sub-buffers skipped for an impossible commit size.
 */
uint64_t fl_decoder_lost_unknown(const struct fl_decoder *d, int cpu);
int fl_decoder_ncpus(const struct fl_decoder *d);
uint64_t fl_decoder_count_other(const struct fl_decoder *d);
uint64_t fl_decoder_bad_subbufs(const struct fl_decoder *d);
/*
 * Streams: the stream (DATA record cpu tag; or trace.dat buffer) the last
 * event returned came from, and its instance name from the header's
 * `stream/N` = "cpu C instance NAME" ("main" when the header has no streams).
 */
int fl_decoder_stream(const struct fl_decoder *d);
const char *fl_decoder_stream_instance(const struct fl_decoder *d, int stream);

/*
 * trace-cmd trace.dat input (capture/tracedat.c). fl_tracedat_sniff: the
 * first bytes are trace.dat's magic "\x17\x08\x44tracing". fl_decoder_open_tracedat
 * opens path with libtracecmd and returns the same merged event stream; it
 * fills header (initialised by the caller, released by the caller) with what
 * the file knows, in the .flc HEADER key vocabulary where one exists: uname.*,
 * arch, cpus, page_size, long_size, big_endian, clock, start.trace_ns,
 * streams; and source = "trace.dat", tracedat.version, tracedat.uname,
 * events.formats (every "sys:event" whose format the file carries; trace-cmd
 * does not record which were enabled), tracedat.buffers (instance names, one
 * a line), so ingest can treat it like a capture. No format text: libtracecmd
 * has parsed it already. Events of the top-level buffer and of every instance
 * buffer are merged by (ts, stream, cpu); stream 0 is the top-level buffer,
 * stream i the (i-1)th instance (fl_decoder_stream()). Lost events come from
 * the records' missed_events.
 */
bool fl_tracedat_sniff(const void *p, size_t n);
struct fl_decoder *fl_decoder_open_tracedat(const char *path, struct fl_kv *header,
					    struct fl_err *err);

#endif
