-- schema.sql - the faultlab database: the one source of truth for its tables and views.
--
-- Compiled into the binary (db/schema.S) and run by fl_db_open() on a new database, inside one
-- transaction. PRAGMA user_version below is the schema version; a faultlab that finds a newer
-- version refuses to write. Every table is STRICT. Units: times in ns of the capture's trace clock
-- (column names end in _ns), sizes in bytes, addresses as signed 64-bit integers (two's complement:
-- printf('%x', address) shows them as the kernel prints them).
--
-- Raw decoded events are kept so that every derived table (issue 3: fault, lock_wait, writer_op,
-- vma, io; issue 4: replay_run, metric) can be rebuilt from this database alone.

PRAGMA user_version = 1;

-- One row per ingested capture file. content_hash makes ingest idempotent.
CREATE TABLE capture (
	id			INTEGER PRIMARY KEY,
	content_hash		TEXT NOT NULL UNIQUE,	-- 16 hex digits of the file's content hash
	path			TEXT NOT NULL,		-- as given on the command line
	format			TEXT NOT NULL,		-- 'flc' or 'trace.dat'
	size_bytes		INTEGER NOT NULL,
	ingested_realtime_ns	INTEGER NOT NULL,
	uname_sysname		TEXT,
	uname_release		TEXT,
	uname_version		TEXT,
	uname_machine		TEXT,
	uname_nodename		TEXT,
	arch			TEXT,			-- 'x86_64', 'aarch64', ...
	long_size		INTEGER,		-- kernel word size, bytes
	big_endian		INTEGER,
	page_size		INTEGER,		-- bytes
	cpus			INTEGER,
	clock			TEXT,			-- trace clock: 'local', 'mono', ...
	start_realtime_ns	INTEGER,
	start_trace_ns		INTEGER,
	end_realtime_ns		INTEGER,
	end_trace_ns		INTEGER,
	first_event_ns		INTEGER,		-- ts of the first and last event ingested
	last_event_ns		INTEGER,
	cmdline			TEXT,			-- arguments joined by spaces
	mode			TEXT,			-- 'command' or 'system'
	buffer_kb		INTEGER,		-- per-CPU ring buffer size
	memcg_path		TEXT,
	memcg_limit_bytes	INTEGER,
	exit_status		INTEGER,		-- of the followed command
	complete		INTEGER NOT NULL,	-- 1: END record seen and nothing damaged
	truncated		INTEGER NOT NULL,	-- 1: file ends inside a record or lacks END
	bytes_lost		INTEGER NOT NULL,	-- file bytes in damaged or cut records
	events			INTEGER NOT NULL,	-- rows in event for this capture
	events_lost		INTEGER NOT NULL,	-- events the ring buffer dropped (all CPUs)
	event_first_id		INTEGER,		-- event.id range of this capture (contiguous)
	event_last_id		INTEGER,
	warnings		TEXT			-- one warning per line, NULL if none
) STRICT;

-- Every other header/trailer/snapshot item, verbatim (format text, header_page, stats/CPU, ...).
CREATE TABLE capture_kv (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	section		TEXT NOT NULL,		-- 'header', 'trailer', 'snapshot.N'
	key		TEXT NOT NULL,
	value		ANY,			-- TEXT, or BLOB when the value holds NUL bytes
	PRIMARY KEY (capture, section, key)
) STRICT, WITHOUT ROWID;

-- Event types the capture asked for: enabled ones with their id in the capture's formats,
-- and those the kernel lacked (enabled = 0, tep_id NULL).
CREATE TABLE capture_event_type (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	system		TEXT NOT NULL,
	name		TEXT NOT NULL,
	tep_id		INTEGER,
	enabled		INTEGER NOT NULL,
	events		INTEGER NOT NULL,	-- rows in event with this tep_id
	PRIMARY KEY (capture, system, name)
) STRICT, WITHOUT ROWID;

-- Per capture per CPU (per stream: stream 0 is the followed command's or the system's instance).
CREATE TABLE cpu_stat (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	cpu		INTEGER NOT NULL,
	events		INTEGER NOT NULL,	-- events decoded from this CPU
	lost		INTEGER NOT NULL,	-- events the ring buffer dropped on this CPU
	PRIMARY KEY (capture, cpu)
) STRICT, WITHOUT ROWID;

-- Tasks (threads) seen in the capture: from the task snapshots, the sched events, and the
-- event stream. followed = 1 for the tasks the capture recorded on purpose: in command mode
-- the followed command's processes and threads, in system mode every task.
CREATE TABLE task (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	tid		INTEGER NOT NULL,
	tgid		INTEGER,		-- NULL if never learnt
	comm		TEXT,			-- the last name seen
	prio		INTEGER,		-- kernel prio (0..139, 120 = nice 0)
	policy		INTEGER,		-- SCHED_OTHER = 0, SCHED_FIFO = 1, ...
	parent		INTEGER,		-- tid that forked it (sched_process_fork), if seen
	followed	INTEGER NOT NULL,
	events		INTEGER NOT NULL,	-- events this tid emitted
	PRIMARY KEY (capture, tid)
) STRICT, WITHOUT ROWID;

-- The raw decoded events, merged across CPUs in (ts, cpu, per-CPU order). id is global and
-- contiguous within a capture (capture.event_first_id .. event_last_id), so id is also the
-- merge order. type/sys follow capture/decode.h (names in ev_type and sys_name); a0..a5 hold
-- the per-type fields documented there (NULL where the type has fewer); use the ev_* views.
CREATE TABLE event (
	id		INTEGER PRIMARY KEY,
	capture		INTEGER NOT NULL,
	ts		INTEGER NOT NULL,	-- ns, trace clock
	cpu		INTEGER NOT NULL,
	tid		INTEGER NOT NULL,	-- common_pid (0: idle or interrupt)
	inst		INTEGER NOT NULL,	-- tracefs instance: 0 main, 1 the extra global one
	type		INTEGER NOT NULL,	-- enum fl_ev
	sys		INTEGER,		-- enum fl_sys for syscall events, else NULL
	tep_id		INTEGER,		-- only for type 0 (OTHER): which event it was
	a0		INTEGER,
	a1		INTEGER,
	a2		INTEGER,
	a3		INTEGER,
	a4		INTEGER,
	a5		INTEGER,
	comm		TEXT,
	comm2		TEXT
) STRICT;

-- /proc/PID/maps rows sampled by the capture: 'start' = the first sample of that process,
-- 'snapshot' = a later sample (taken only when the maps changed), 'end' = the trailer's last
-- known maps.
CREATE TABLE maps (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	pid		INTEGER NOT NULL,
	taken		TEXT NOT NULL,		-- 'start', 'snapshot', 'end' (see above)
	time_ns		INTEGER,		-- trace clock when sampled, if known
	start		INTEGER NOT NULL,	-- address of the first byte
	end		INTEGER NOT NULL,	-- address after the last byte
	perms		TEXT NOT NULL,		-- 'r-xp' ...
	offset		INTEGER NOT NULL,	-- bytes into the file
	dev		TEXT NOT NULL,		-- 'fd:01'
	inode		INTEGER NOT NULL,
	path		TEXT			-- file, '[heap]', '[stack]', or NULL for anonymous
) STRICT;

-- Names of the enums of capture/decode.h (filled by fl_db_open from fl_ev_name/fl_sys_name).
CREATE TABLE ev_type (
	type		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL
) STRICT;
CREATE TABLE sys_name (
	sys		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL
) STRICT;

-- ---- views: the event table with the fields' real names ------------------------------------
-- The type numbers are those of enum fl_ev in capture/decode.h (checked by a unit test).

CREATE VIEW ev AS
	SELECT e.id, c.id AS capture, e.id - c.event_first_id AS seq, e.ts, e.cpu, e.tid, e.inst,
	       t.name AS type, s.name AS sys, e.a0, e.a1, e.a2, e.a3, e.a4, e.a5, e.comm, e.comm2
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	LEFT JOIN ev_type t ON t.type = e.type LEFT JOIN sys_name s ON s.sys = e.sys;

CREATE VIEW ev_page_fault AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS address, a1 AS ip, a2 AS error_code,
	       (type = 1) AS user
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (1, 2);

CREATE VIEW ev_mmap_lock AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst,
	       CASE type WHEN 3 THEN 'start_locking' WHEN 4 THEN 'acquire_returned'
			 ELSE 'released' END AS kind,
	       a0 AS mm, a1 AS write,
	       CASE type WHEN 4 THEN a2 END AS success,
	       CASE type WHEN 4 THEN a3 ELSE a2 END AS memcg_id
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (3, 4, 5);

CREATE VIEW ev_filemap AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst,
	       CASE type WHEN 6 THEN 'fault' WHEN 7 THEN 'map_pages' WHEN 8 THEN 'add_to_page_cache'
			 ELSE 'delete_from_page_cache' END AS kind,
	       a0 AS s_dev, a1 AS i_ino, a2 AS "index",
	       CASE type WHEN 7 THEN a3 END AS last_index,
	       CASE WHEN type IN (8, 9) THEN a3 END AS "order",
	       CASE WHEN type IN (8, 9) THEN a4 END AS pfn
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (6, 7, 8, 9);

CREATE VIEW ev_sched_switch AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS prev_pid, a1 AS prev_prio, a2 AS prev_state,
	       a3 AS next_pid, a4 AS next_prio, comm AS prev_comm, comm2 AS next_comm
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 10;

CREATE VIEW ev_sched_waking AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS pid, a1 AS prio, a2 AS target_cpu, comm
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 11;

CREATE VIEW ev_sched_fork AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS parent_pid, a1 AS child_pid,
	       comm AS parent_comm, comm2 AS child_comm
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 12;

CREATE VIEW ev_sched_exit AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS pid, a1 AS prio, comm
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 13;

CREATE VIEW ev_sched_exec AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS pid, a1 AS old_pid, comm AS filename
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 14;

CREATE VIEW ev_block_rq AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, CASE type WHEN 15 THEN 'issue' ELSE 'complete' END AS kind,
	       a0 AS dev, a1 AS sector, a2 AS nr_sector,
	       CASE type WHEN 15 THEN a3 END AS bytes,
	       CASE type WHEN 16 THEN a3 END AS error,
	       comm AS rwbs, comm2 AS comm
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (15, 16);

CREATE VIEW ev_reclaim AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst,
	       CASE WHEN type IN (17, 18) THEN 'memcg' ELSE 'direct' END AS kind,
	       CASE WHEN type IN (17, 19) THEN 'begin' ELSE 'end' END AS phase,
	       CASE WHEN type IN (17, 19) THEN a0 END AS "order",
	       CASE WHEN type IN (17, 19) THEN a1 END AS gfp_flags,
	       CASE WHEN type IN (18, 20) THEN a0 END AS nr_reclaimed
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (17, 18, 19, 20);

CREATE VIEW ev_syscall AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, s.name AS name,
	       CASE e.type WHEN 21 THEN 'enter' ELSE 'exit' END AS phase,
	       CASE e.type WHEN 21 THEN e.a0 END AS arg0, e.a1 AS arg1, e.a2 AS arg2,
	       e.a3 AS arg3, e.a4 AS arg4, e.a5 AS arg5,
	       CASE e.type WHEN 22 THEN e.a0 END AS ret
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	LEFT JOIN sys_name s ON s.sys = e.sys
	WHERE e.type IN (21, 22);

CREATE VIEW ev_lock_contention AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, CASE type WHEN 23 THEN 'begin' ELSE 'end' END AS phase,
	       a0 AS lock_addr, CASE type WHEN 23 THEN a1 END AS flags,
	       CASE type WHEN 24 THEN a1 END AS ret
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type IN (23, 24);

-- ==== reconstruction (issue 3) ================================================================
-- Written by fl_recon_run_db() (db/reconstruct.c) from the event table alone, at ingest; it can be
-- rerun on any capture (it replaces that capture's rows). Methods and their limits: the essay at the
-- top of db/reconstruct.c and kernel-semantics.md §9. Times are ns of the trace clock; ids are
-- per capture (1, 2, ... in order of start). anomalies: comma list of anomaly kinds the row touches
-- (recon_anomaly has the per-capture counts), NULL when none.

-- One row per reconstruction run of a capture: the kernel facts it went by and what it read.
CREATE TABLE recon (
	capture			INTEGER PRIMARY KEY REFERENCES capture(id),
	kernel_major		INTEGER,		-- from uname.release (NULL: unknown)
	kernel_minor		INTEGER,
	vma_lock		INTEGER NOT NULL,	-- per-VMA locks assumed (>= 6.4)
	filemap_fault_tp	INTEGER NOT NULL,	-- mm_filemap_fault available (>= 6.12)
	fault_tp		INTEGER NOT NULL,	-- exceptions:page_fault_* enabled (x86)
	events			INTEGER NOT NULL,	-- events read
	first_ns		INTEGER,
	last_ns			INTEGER,
	elapsed_ns		INTEGER NOT NULL	-- wall time from its start to its end: the whole
							-- load under ingest, recon alone under --rebuild
) STRICT;

-- One row per page-fault exception of a followed task (none when recon.fault_tp = 0: faults are
-- not inferred from other events, see README).
CREATE TABLE fault (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	id		INTEGER NOT NULL,
	tid		INTEGER NOT NULL,
	tgid		INTEGER,			-- NULL: process not known
	mm		INTEGER,			-- mm_struct address (mmap_lock events), NULL unknown
	address		INTEGER NOT NULL,
	ip		INTEGER,
	error_code	INTEGER,			-- as traced (x86: X86_PF_* bits)
	user		INTEGER NOT NULL,		-- 1 page_fault_user, 0 page_fault_kernel
	write		INTEGER NOT NULL,		-- x86 error_code bit 1
	instr		INTEGER NOT NULL,		-- x86 error_code bit 4
	vma_kind	TEXT NOT NULL,			-- unknown anon file shmem stack none
	vma_start	INTEGER,
	vma_end		INTEGER,
	dev		INTEGER,			-- file: kernel dev_t, inode, page index (NULL: not file
	ino		INTEGER,			-- or not known)
	page_index	INTEGER,
	start_ns	INTEGER NOT NULL,		-- the page_fault_* event
	end_ns		INTEGER NOT NULL,		-- last event attributable to it (lower bound)
	path		TEXT NOT NULL,			-- vma vma_retry_mmap vma_retry_vma mmap unknown
	attempts	INTEGER NOT NULL,		-- handle_mm_fault calls seen
	retry_drop	INTEGER NOT NULL,		-- attempts that dropped the lock and returned RETRY
	retry_io_miss	INTEGER NOT NULL,		-- retried attempts that missed the page cache
	major		INTEGER NOT NULL,		-- as the kernel accounts it (miss or TRIED)
	io_wait_ns	INTEGER NOT NULL,		-- D-state time outside mmap_lock waits
	io_wait_locked_ns INTEGER NOT NULL,		-- part of it holding mmap_lock or a VMA lock
	mmap_wait_ns	INTEGER NOT NULL,		-- start_locking -> acquire_returned, summed
	mmap_hold_ns	INTEGER NOT NULL,		-- acquire_returned -> released, summed
	anon_prepare	INTEGER NOT NULL,		-- VMA fault that trylocked mmap_lock for anon_vma
	evicted		INTEGER NOT NULL,		-- its folio was deleted between attempts
	unfinished	INTEGER NOT NULL,		-- the capture ended inside it
	anomalies	TEXT,
	PRIMARY KEY (capture, id)
) STRICT, WITHOUT ROWID;

-- One row per mmap_lock acquisition attempt (start_locking .. acquire_returned .. released).
CREATE TABLE lock_wait (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	id		INTEGER NOT NULL,
	tid		INTEGER NOT NULL,
	tgid		INTEGER,
	mm		INTEGER NOT NULL,
	write		INTEGER NOT NULL,
	trylock		INTEGER NOT NULL,		-- inferred (first try of a fault's sequence)
	success		INTEGER NOT NULL,
	downgraded	INTEGER NOT NULL,		-- write hold downgraded to read
	start_ns	INTEGER NOT NULL,
	acquired_ns	INTEGER,			-- NULL: never returned within the capture
	released_ns	INTEGER,			-- NULL: failed try, or still held at the end
	wait_ns		INTEGER,			-- acquired_ns - start_ns
	owner_kind	TEXT NOT NULL,			-- fault, syscall, none
	owner_id	INTEGER,			-- fault.id or writer_op.id
	holders		INTEGER NOT NULL,		-- traced holders at start_locking
	writers_ahead	INTEGER NOT NULL,		-- traced writers queued ahead
	readers_ahead	INTEGER NOT NULL,
	blocker_tid	INTEGER,			-- nearest queued writer, else write owner, else
	blocker_wait	INTEGER,			-- lowest-priority reader holder; its lock_wait.id
	chain		INTEGER NOT NULL,		-- 0 none, 1 behind holders, 1 + the writer's chain
	inversion	INTEGER NOT NULL,		-- waiter prio more important than the blocker's
	prio		INTEGER,			-- kernel prio of the waiter
	anomalies	TEXT,
	PRIMARY KEY (capture, id)
) STRICT, WITHOUT ROWID;

-- mmap-family syscalls and fork of the followed tasks, with their mmap_lock write wait and hold.
CREATE TABLE writer_op (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	id		INTEGER NOT NULL,
	tid		INTEGER NOT NULL,
	tgid		INTEGER,
	mm		INTEGER,
	sys		TEXT NOT NULL,			-- mmap munmap mprotect madvise mremap brk clone ...
	arg0		INTEGER,
	arg1		INTEGER,
	arg2		INTEGER,
	ret		INTEGER,
	enter_ns	INTEGER NOT NULL,
	exit_ns		INTEGER,			-- NULL: not seen
	wrote		INTEGER NOT NULL,		-- took mmap_lock for write on its own mm
	write_wait_ns	INTEGER NOT NULL,
	acquired_ns	INTEGER,
	write_hold_ns	INTEGER NOT NULL,		-- write acquire -> release or downgrade
	downgrade_ns	INTEGER,
	read_hold_ns	INTEGER NOT NULL,
	blocked_ns	INTEGER NOT NULL,		-- in lock:contention or D sleep while write-holding
	child		INTEGER,			-- fork/clone: the new task
	anomalies	TEXT,
	PRIMARY KEY (capture, id)
) STRICT, WITHOUT ROWID;

-- Block requests, with the fault that issued them and the faults that waited for them.
CREATE TABLE io (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	id		INTEGER NOT NULL,
	dev		INTEGER NOT NULL,		-- kernel dev_t
	sector		INTEGER NOT NULL,
	nr_sector	INTEGER NOT NULL,
	bytes		INTEGER,
	rwbs		TEXT,
	issue_tid	INTEGER,
	issue_fault	INTEGER,			-- fault.id open in issue_tid at issue
	issue_ns	INTEGER,			-- NULL: issue not captured
	complete_ns	INTEGER,			-- NULL: not completed within the capture
	error		INTEGER,
	waiters		INTEGER NOT NULL,		-- faults whose D sleep this completion ended
	first_waiter	INTEGER,			-- fault.id
	PRIMARY KEY (capture, id)
) STRICT, WITHOUT ROWID;

-- @@ vma: the address-space layout over time (fl_recon_db_begin() also creates it in databases
-- made before it existed, from this text up to "@@ end of vma").
-- One row per version of a VMA of a followed process: a change (mmap, munmap, mprotect, mremap,
-- brk, fork, exec, the process's exit) ends the versions it touches (valid_to_ns) and starts
-- new ones for what it makes and for the pieces it leaves. The layout at start comes from the
-- process's first /proc/PID/maps snapshot (after an exec: the snapshot taken after it, valid
-- from the exec); adjacent VMAs are never merged as the kernel's vma_merge may do.
CREATE TABLE IF NOT EXISTS vma (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	id		INTEGER NOT NULL,		-- 1, 2, ... in order of creation
	tgid		INTEGER NOT NULL,
	mm		INTEGER,			-- mm_struct address, NULL: not known
	start		INTEGER NOT NULL,		-- first byte
	end		INTEGER NOT NULL,		-- byte after the last
	perms		TEXT NOT NULL,			-- as maps: 'rw-p', 'r-xs', ...
	prot		INTEGER NOT NULL,		-- PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4
	shared		INTEGER NOT NULL,		-- MAP_SHARED
	kind		TEXT NOT NULL,			-- anon file shmem stack unknown ([vdso] ...)
	heap		INTEGER NOT NULL,		-- the [heap] (brk moves its end)
	dev		INTEGER,			-- kernel dev_t, inode, file offset in pages
	ino		INTEGER,			-- (NULL: not a file, or a file mmap'd during
	pgoff		INTEGER,			-- the capture and gone before its end)
	path		TEXT,				-- from maps; NULL: anonymous or not known
	valid_from_ns	INTEGER NOT NULL,		-- the change that made it (maps-start rows
							-- loaded before the first event: its time)
	valid_to_ns	INTEGER,			-- the change that ended it; NULL: still there
	source		TEXT NOT NULL,			-- maps-start mmap mprotect mremap munmap-split
							-- brk fork maps-end (only in the last snapshot)
	writer_op	INTEGER,			-- writer_op.id of the syscall that made it
	PRIMARY KEY (capture, id)
) STRICT, WITHOUT ROWID;
-- The layout of a process at a time: WHERE capture = ? AND tgid = ? AND start <= address
-- (a few rows per mmap-family syscall: kept up to date during the load, unlike the event table).
CREATE INDEX IF NOT EXISTS vma_by_addr ON vma(capture, tgid, start);
-- @@ end of vma

-- Anomalies per capture: a named kind and how often it happened (never silently absorbed).
CREATE TABLE recon_anomaly (
	capture		INTEGER NOT NULL REFERENCES capture(id),
	kind		TEXT NOT NULL,
	count		INTEGER NOT NULL,
	PRIMARY KEY (capture, kind)
) STRICT;

-- ==== end of reconstruction =====================================================================

-- ==== replay (issue 4: replay/, owned by the model engineer) ==================================
-- Written by `faultlab replay --model` (replay/store.c), one replay_run per (capture, policy,
-- arch, kernel, seed, cpus, capacity) run of the lock model; metric holds every number of the
-- DESIGN.md vocabulary by its JSON name ("mmap_read_wait_us.p99", "mmap_read_wait_hist.3", ...)
-- plus the model's own ("retry_window.cpu_wait_us", "model.evictions", ...); replay_fault one
-- row per simulated fault. Times are ns of virtual time from the run's start.
-- IF NOT EXISTS: replay also creates this section in databases made before it existed.
CREATE TABLE IF NOT EXISTS replay_run (
	id			INTEGER PRIMARY KEY,
	capture			INTEGER NOT NULL REFERENCES capture(id),
	policy			TEXT NOT NULL,		-- 'mainline', 'vma-retry+uptodate-no-retry-wb', ...
	arch			TEXT NOT NULL,		-- x86_64 arm64 arm powerpc riscv s390 loongarch
	kernel			TEXT NOT NULL,		-- '6.18'
	seed			INTEGER NOT NULL,
	cpus			INTEGER NOT NULL,
	capacity_pages		INTEGER NOT NULL,	-- page-cache capacity, 0 = unlimited
	created_realtime_ns	INTEGER NOT NULL,
	elapsed_ns		INTEGER NOT NULL	-- wall time of the run
) STRICT;

CREATE TABLE IF NOT EXISTS metric (
	run		INTEGER NOT NULL REFERENCES replay_run(id),
	name		TEXT NOT NULL,
	value		REAL NOT NULL,
	PRIMARY KEY (run, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS replay_fault (
	run		INTEGER NOT NULL REFERENCES replay_run(id),
	id		INTEGER NOT NULL,		-- 1, 2, ... in order of completion
	fault		INTEGER,			-- the capture's fault.id it replays
	tid		INTEGER NOT NULL,		-- captured tid of the thread
	address		INTEGER NOT NULL,
	user		INTEGER NOT NULL,
	path		TEXT NOT NULL,			-- vma vma_retry_mmap vma_retry_vma mmap
	outcome		TEXT NOT NULL,			-- ok segv
	attempts	INTEGER NOT NULL,
	retry_drop	INTEGER NOT NULL,
	retry_io_miss	INTEGER NOT NULL,
	major		INTEGER NOT NULL,
	start_ns	INTEGER NOT NULL,
	end_ns		INTEGER NOT NULL,
	io_wait_ns	INTEGER NOT NULL,
	io_wait_locked_ns INTEGER NOT NULL,
	mmap_wait_ns	INTEGER NOT NULL,
	PRIMARY KEY (run, id)
) STRICT;
-- ==== end of replay ===========================================================================

-- @@ after-load: indexes, built by fl_db_ingest() after the bulk insert of each capture
-- (CREATE INDEX IF NOT EXISTS: built once, then maintained by later captures' inserts).
--
-- The event table has no secondary index, on purpose: event.id is its rowid and each capture's
-- events are one contiguous id range in time order, so "the events of capture N" is a rowid
-- range scan (the ev* views join capture on that range), and a stage that needs every event
-- of a capture reads them in order without an index. Measured on a 2.16 M-event capture
-- (faultwork 4 500000): an index on event(capture, type, tid) took the ingest from 1.5 s to
-- 2.9 s and 45 to 62 bytes/event; a second one on (capture, tid, id) to 4.4 s.
CREATE INDEX IF NOT EXISTS maps_by_pid ON maps(capture, pid, taken);

-- Reclaim's batches (vmscan:mm_vmscan_lru_shrink_inactive, event type 25): a view added after
-- schema version 1 shipped, so it lives here and a database made before gets it with its next
-- ingest.
CREATE VIEW IF NOT EXISTS ev_shrink AS
	SELECT e.id, c.id AS capture, e.ts, e.cpu, e.tid, e.inst, a0 AS nr_scanned,
	       a1 AS nr_reclaimed, a2 AS nr_activate_file, a3 AS nr_ref_keep, a4 AS nr_unmap_fail,
	       a5 AS priority
	FROM capture c JOIN event e ON e.id BETWEEN c.event_first_id AND c.event_last_id
	WHERE type = 25;
