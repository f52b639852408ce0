/*
 * capture.h - recording ftrace events into a capture file (.flc).
 *
 * A capture owns private tracefs instances named "faultlab-<pid>" (and, when
 * a command is followed, "faultlab-<pid>-g" for the events that fire in
 * another task's context and would be lost to the pid filter), one reader
 * thread per CPU and instance streaming raw ring-buffer sub-buffers into the
 * file, and a sampler that snapshots the followed processes' maps and tasks.
 * The layout of what it writes is in capture/flc.h.
 *
 * Lifecycle:
 *	c = fl_capture_new(&opts, &err);	checks, instances, output, header; the
 *						command is forked but held before exec
 *	fl_capture_run(c, &err);		releases the command, streams until it
 *						exits / the duration ends / a stop signal
 *	fl_capture_free(c);			removes anything still left
 * fl_capture_signal() may be called from a signal handler at any time after
 * fl_capture_new() returned.
 */
#ifndef FL_CAPTURE_H
#define FL_CAPTURE_H

#include "common/fl.h"

#define FL_CAPTURE_DEFAULT_BUFFER_KB	32768	/* per CPU and instance, KiB */

struct fl_capture_stats {
	uint64_t events;	/* events read from the ring buffers ("read events") */
	uint64_t lost;		/* events lost (overrun + dropped), all streams */
	uint64_t records;	/* records written to the file */
	uint64_t bytes;		/* file bytes written (compressed) */
	uint64_t raw_bytes;	/* ring-buffer bytes given to the writer */
	uint64_t elapsed_ns;	/* since the command was released / tracing began */
	uint64_t cpu_ns;	/* CPU time of the capture process (all threads) */
};

struct fl_capture_opts {
	const char *path;		/* output file */
	bool system;			/* -a: every task, no pid filter */
	uint64_t duration_ns;		/* stop after this long; 0 = no limit */
	unsigned int buffer_kb;		/* ring buffer per CPU and instance, KiB; 0 = default */
	const char *events;		/* comma list of sys:event or sys:*; NULL = default set */
	const char *clock;		/* trace clock; NULL = "mono" */
	char *const *argv;		/* command to run and follow; NULL = none */
	int level;			/* zstd level; 0 = writer default */
	/* Called about twice a second from fl_capture_run (may be NULL). */
	void (*progress)(const struct fl_capture_stats *st, void *arg);
	void *progress_arg;
};

struct fl_capture;

/*
 * Checks root and tracefs (mounting it if needed), removes instances left by
 * dead captures, resolves the events, creates the output and the instances,
 * forks the command (held before exec) and writes the HEADER. On failure
 * nothing is left behind: no instance, no output file, no child.
 */
struct fl_capture *fl_capture_new(const struct fl_capture_opts *opts, struct fl_err *err);
/*
 * Streams until the command exits (command mode), the duration ends, or a
 * stop signal arrives; then drains the buffers, writes the TRAILER and END,
 * and removes the instances. Returns 0 or -1 (err set). When the command
 * cannot be executed, returns -1 and fl_capture_exec_errno() is non-zero.
 */
int fl_capture_run(struct fl_capture *c, struct fl_err *err);
/* Async-signal-safe: asks a running capture to stop (forwarding sig to the command). */
void fl_capture_signal(struct fl_capture *c, int sig, bool from_user);
/* The command's wait status (valid after fl_capture_run in command mode), or -1. */
int fl_capture_wait_status(const struct fl_capture *c);
/* errno of a failed exec of the command, 0 if it ran. */
int fl_capture_exec_errno(const struct fl_capture *c);
/* The signal that asked the capture to stop (via fl_capture_signal), 0 if none. */
int fl_capture_stop_signal(const struct fl_capture *c);
void fl_capture_get_stats(struct fl_capture *c, struct fl_capture_stats *st);
void fl_capture_free(struct fl_capture *c);

/* Validates an --events list without creating anything (for early usage errors). */
int fl_capture_check_events(const char *list, struct fl_err *err);
/* Removes instances "faultlab-<pid>*" whose pid is dead; returns how many. */
int fl_capture_remove_stale(struct fl_err *err);

#endif
