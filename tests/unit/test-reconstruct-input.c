/*
 * test-reconstruct-input.c - the text form of golden reconstruction inputs.
 *
 * tests/golden/recon-<case>/input.txt holds a small, hand-written event
 * sequence, one event per line, in merged time order:
 *
 *	T TID NAME field=value ... [inst=N]
 *
 * T is in µs (decimals allowed, read exactly as ns), NAME a short event name
 * (table below) and the fields are those of capture/decode.h's a[] table by
 * their kernel names; comm= fills comm (block rwbs), cpu=N says which CPU
 * it ran on (default: see test-reconstruct-encode.c). Directives:
 *
 *	@kernel RELEASE		uname.release        @arch ARCH (also uname.machine)
 *	@events sys:ev,...	events.enabled (default: all)
 *	@missing sys:ev,...	events.missing (what the kernel lacked)
 *	@maps PID ... @end	a /proc/PID/maps snapshot
 *	@tasks ... @end		"tid tgid prio policy comm" lines
 *	@lost CPU N [INST]	CPU's ring buffer (of instance INST, default 0) lost N
 *				events here: the next sub-buffer of its capture says so
 *				(the text events fed directly report the same total)
 *
 * The same parsed events feed the reconstructor directly, and are encoded
 * into real ring-buffer sub-buffers by test-reconstruct-encode.c.
 */
#include "tests/unit/test-reconstruct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct in_type types[] = {
	{ "pf_user", FL_EV_PF_USER, 0, { "address", "ip", "error_code" } },
	{ "pf_kernel", FL_EV_PF_KERNEL, 0, { "address", "ip", "error_code" } },
	{ "start", FL_EV_MMAP_LOCK_START, 0, { "mm", "write", "memcg_id" } },
	{ "acq", FL_EV_MMAP_LOCK_ACQUIRED, 0, { "mm", "write", "success", "memcg_id" } },
	{ "rel", FL_EV_MMAP_LOCK_RELEASED, 0, { "mm", "write", "memcg_id" } },
	{ "filemap_fault", FL_EV_FILEMAP_FAULT, 0, { "s_dev", "i_ino", "index" } },
	{ "map_pages", FL_EV_FILEMAP_MAP_PAGES, 0, { "s_dev", "i_ino", "index", "last_index" } },
	{ "add", FL_EV_FILEMAP_ADD, 0, { "s_dev", "i_ino", "index", "order", "pfn" } },
	{ "delete", FL_EV_FILEMAP_DELETE, 0, { "s_dev", "i_ino", "index", "order", "pfn" } },
	{ "switch", FL_EV_SCHED_SWITCH, 0,
	  { "prev_pid", "prev_prio", "prev_state", "next_pid", "next_prio" } },
	{ "waking", FL_EV_SCHED_WAKING, 0, { "pid", "prio", "target_cpu" } },
	{ "fork", FL_EV_SCHED_FORK, 0, { "parent_pid", "child_pid" } },
	{ "exit", FL_EV_SCHED_EXIT, 0, { "pid", "prio" } },
	{ "exec", FL_EV_SCHED_EXEC, 0, { "pid", "old_pid" } },
	{ "rq_issue", FL_EV_BLOCK_RQ_ISSUE, 0, { "dev", "sector", "nr_sector", "bytes" } },
	{ "rq_complete", FL_EV_BLOCK_RQ_COMPLETE, 0, { "dev", "sector", "nr_sector", "error" } },
	{ "sys_enter", FL_EV_SYS_ENTER, 1, { "a0", "a1", "a2", "a3", "a4", "a5" } },
	{ "sys_exit", FL_EV_SYS_EXIT, 1, { "ret" } },
	{ "cont_begin", FL_EV_LOCK_CONTENTION_BEGIN, 0, { "lock_addr", "flags" } },
	{ "cont_end", FL_EV_LOCK_CONTENTION_END, 0, { "lock_addr", "ret" } },
	{ "reclaim_begin", FL_EV_MEMCG_RECLAIM_BEGIN, 0, { "order", "gfp_flags" } },
	{ "reclaim_end", FL_EV_MEMCG_RECLAIM_END, 0, { "nr_reclaimed" } },
	{ "shrink", FL_EV_SHRINK_INACTIVE, 0,
	  { "nr_scanned", "nr_reclaimed", "nr_activate1", "nr_ref_keep", "nr_unmap_fail",
	    "priority" } },
};

const struct in_type *in_type_by_ev(int type)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

static const struct in_type *type_by_name(const char *name)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(types); i++)
		if (!strcmp(types[i].name, name))
			return &types[i];
	return NULL;
}

static int sys_by_name(const char *name)
{
	for (int s = 1; s < FL_SYS__COUNT; s++)
		if (!strcmp(fl_sys_name(s), name))
			return s;
	return -1;
}

/* "12.345" µs -> 12345 ns, exactly. */
static uint64_t parse_us(const char *s)
{
	uint64_t ns = strtoull(s, (char **)&s, 10) * 1000;
	uint64_t mul = 100;

	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && mul; s++, mul /= 10)
			ns += (uint64_t)(*s - '0') * mul;
	return ns;
}

static void push_ev(struct recon_input *in, const struct fl_event *ev, int inst, int cpu)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->ev = fl_realloc(in->ev, in->cap * sizeof(*in->ev));
		in->inst = fl_realloc(in->inst, in->cap * sizeof(*in->inst));
		in->cpu = fl_realloc(in->cpu, in->cap * sizeof(*in->cpu));
	}
	in->ev[in->n] = *ev;
	in->cpu[in->n] = cpu;
	in->inst[in->n++] = inst;
}

int recon_input_parse(struct recon_input *in, const char *text, struct fl_err *err)
{
	const char *p = text;
	int lineno = 0;
	struct fl_buf block = { 0 };
	char block_key[64] = "";

	memset(in, 0, sizeof(*in));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024], *tok, *save;
		struct fl_event ev;
		const struct in_type *ty;
		int inst = 0, cpu = -1;

		lineno++;
		if (n >= sizeof(line))
			return fl_seterr(err, "line %d: too long", lineno);
		memcpy(line, p, n);
		line[n] = 0;
		p = nl ? nl + 1 : p + n;
		if (*block_key) {
			if (!strcmp(line, "@end")) {
				fl_kv_add(&in->snap, block_key, block.data ? block.data : "", block.len);
				fl_buf_reset(&block);
				block_key[0] = 0;
			} else {
				fl_buf_addf(&block, "%s\n", line);
			}
			continue;
		}
		if (!line[0] || line[0] == '#')
			continue;
		if (line[0] == '@') {
			char key[32], val[1024] = "";
			if (sscanf(line, "@%31s %1023[^\n]", key, val) < 1)
				return fl_seterr(err, "line %d: bad directive", lineno);
			if (!strcmp(key, "kernel"))
				fl_kv_addstr(&in->header, "uname.release", val);
			else if (!strcmp(key, "arch")) {
				fl_kv_addstr(&in->header, "arch", val);
				fl_kv_addstr(&in->header, "uname.machine", val);
			}
			else if (!strcmp(key, "events") || !strcmp(key, "missing")) {
				for (char *c = val; *c; c++)
					if (*c == ',')
						*c = '\n';
				fl_kv_addstr(&in->header, !strcmp(key, "events") ? "events.enabled" :
					     "events.missing", val);
			} else if (!strcmp(key, "maps"))
				snprintf(block_key, sizeof(block_key), "maps/%s", val);
			else if (!strcmp(key, "tasks"))
				snprintf(block_key, sizeof(block_key), "tasks");
			else if (!strcmp(key, "lost")) {
				struct recon_lost l = { .at = in->n };
				unsigned long long lost = 0;

				if (sscanf(val, "%d %llu %d", &l.cpu, &lost, &l.inst) < 2 || !lost)
					return fl_seterr(err, "line %d: @lost CPU N [INST]", lineno);
				l.n = lost;
				in->lost = fl_realloc(in->lost, (in->nlost + 1) * sizeof(*in->lost));
				in->lost[in->nlost++] = l;
				in->lost_total += l.n;
			}
			else
				return fl_seterr(err, "line %d: unknown directive '%s'", lineno, key);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		tok = strtok_r(line, " \t", &save);
		ev.ts = parse_us(tok);
		tok = strtok_r(NULL, " \t", &save);
		if (!tok)
			return fl_seterr(err, "line %d: no tid", lineno);
		ev.tid = atoi(tok);
		tok = strtok_r(NULL, " \t", &save);
		if (!tok || !(ty = type_by_name(tok)))
			return fl_seterr(err, "line %d: unknown event '%s'", lineno, tok ? tok : "");
		ev.type = (uint16_t)ty->type;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			char *eq = strchr(tok, '=');
			int f;

			if (!eq)
				return fl_seterr(err, "line %d: '%s' is not field=value", lineno, tok);
			*eq++ = 0;
			if (!strcmp(tok, "inst")) {
				inst = atoi(eq);
				continue;
			}
			if (!strcmp(tok, "cpu")) {
				cpu = atoi(eq);
				continue;
			}
			if (!strcmp(tok, "comm")) {
				snprintf(ev.comm, sizeof(ev.comm), "%s", eq);
				continue;
			}
			if (!strcmp(tok, "sys")) {
				int s = sys_by_name(eq);
				if (s < 0)
					return fl_seterr(err, "line %d: unknown syscall '%s'", lineno, eq);
				ev.sys = (uint16_t)s;
				continue;
			}
			for (f = 0; f < 6 && ty->field[f]; f++)
				if (!strcmp(ty->field[f], tok))
					break;
			if (f == 6 || !ty->field[f])
				return fl_seterr(err, "line %d: %s has no field '%s'", lineno, ty->name,
						 tok);
			ev.a[f] = (int64_t)strtoull(eq, NULL, 0);
			if (*eq == '-')
				ev.a[f] = strtoll(eq, NULL, 0);
		}
		if (ty->needs_sys && !ev.sys)
			return fl_seterr(err, "line %d: %s needs sys=", lineno, ty->name);
		push_ev(in, &ev, inst, cpu);
	}
	fl_buf_release(&block);
	if (*block_key)
		return fl_seterr(err, "'%s' block has no @end", block_key);
	return 0;
}

void recon_input_release(struct recon_input *in)
{
	free(in->ev);
	free(in->inst);
	free(in->cpu);
	free(in->lost);
	fl_kv_release(&in->header);
	fl_kv_release(&in->snap);
	memset(in, 0, sizeof(*in));
}

/* ---- collecting rows ------------------------------------------------- */

static void add_line(struct fl_buf *b, size_t *n)
{
	fl_buf_addstr(b, "\n");
	(*n)++;
}

static int sink_fault(void *arg, const struct fl_fault *f, struct fl_err *err)
{
	struct recon_out *o = arg;

	o->faults = fl_realloc(o->faults, (o->nfaults + 1) * sizeof(*f));
	o->faults[o->nfaults] = *f;
	fl_fault_format(f, &o->ftext);
	add_line(&o->ftext, &o->nfaults);
	return 0;
}

static int sink_wait(void *arg, const struct fl_lock_wait *w, struct fl_err *err)
{
	struct recon_out *o = arg;

	o->waits = fl_realloc(o->waits, (o->nwaits + 1) * sizeof(*w));
	o->waits[o->nwaits] = *w;
	fl_lock_wait_format(w, &o->wtext);
	add_line(&o->wtext, &o->nwaits);
	return 0;
}

static int sink_op(void *arg, const struct fl_writer_op *op, struct fl_err *err)
{
	struct recon_out *o = arg;

	o->ops = fl_realloc(o->ops, (o->nops + 1) * sizeof(*op));
	o->ops[o->nops] = *op;
	fl_writer_op_format(op, &o->otext);
	add_line(&o->otext, &o->nops);
	return 0;
}

static int sink_io(void *arg, const struct fl_io *io, struct fl_err *err)
{
	struct recon_out *o = arg;

	o->ios = fl_realloc(o->ios, (o->nios + 1) * sizeof(*io));
	o->ios[o->nios] = *io;
	fl_io_format(io, &o->itext);
	add_line(&o->itext, &o->nios);
	return 0;
}

static int sink_vma(void *arg, const struct fl_vma_row *v, struct fl_err *err)
{
	struct recon_out *o = arg;
	struct fl_buf line = { 0 };

	o->vmas = fl_realloc(o->vmas, (o->nvmas + 1) * sizeof(*v));
	o->vmas[o->nvmas] = *v;
	o->vmas[o->nvmas].path = NULL;
	fl_vma_row_format(v, &line);
	fl_buf_addf(&o->vtext, "%s\n", line.data);
	o->nvmas++;
	fl_buf_release(&line);
	return 0;
}

/* Rows sorted by id within each table, so the text does not depend on emission order. */
static int cmp_line(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	long long ix = atoll(strchr(x, ' ') + 1), iy = atoll(strchr(y, ' ') + 1);

	return ix < iy ? -1 : ix > iy;
}

static void sorted(struct fl_buf *out, struct fl_buf *in)
{
	char **lines = NULL;
	size_t n = 0;

	for (char *p = in->data, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = 0;
		lines = fl_realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = p;
	}
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n; i++)
		fl_buf_addf(out, "%s\n", lines[i]);
	free(lines);
}

int recon_run(const struct recon_input *in, const struct fl_event *evs, const int *inst, size_t n,
	      struct recon_out *o, struct fl_err *err)
{
	const struct fl_kv *snaps[1] = { &in->snap };

	return recon_run_kv(&in->header, snaps, 1, evs, inst, n, in->lost_total, o, err);
}

int recon_run_kv(const struct fl_kv *header, const struct fl_kv *const *snaps, size_t nsnaps,
		 const struct fl_event *evs, const int *inst, size_t n, uint64_t lost,
		 struct recon_out *o, struct fl_err *err)
{
	struct fl_recon_opts opts = {
		.header = header,
		.snapshots = snaps,
		.nsnapshots = nsnaps,
		.sink = { o, sink_fault, sink_wait, sink_op, sink_io, sink_vma },
	};
	struct fl_recon *r;
	const uint64_t *an;

	memset(o, 0, sizeof(*o));
	r = fl_recon_new(&opts, err);
	if (!r)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fl_recon_feed(r, &evs[i], inst ? inst[i] : 0, err) < 0)
			goto fail;
	if (lost)
		fl_recon_note_lost(r, lost);
	if (fl_recon_finish(r, err) < 0)
		goto fail;
	an = fl_recon_anomalies(r);
	memcpy(o->anomalies, an, sizeof(o->anomalies));
	sorted(&o->text, &o->ftext);
	sorted(&o->text, &o->wtext);
	sorted(&o->text, &o->otext);
	sorted(&o->text, &o->itext);
	{
		struct fl_buf v = o->vtext;

		memset(&o->vtext, 0, sizeof(o->vtext));
		sorted(&o->vtext, &v);
		fl_buf_release(&v);
	}
	for (int a = 0; a < FL_AN__COUNT; a++)
		if (an[a])
			fl_buf_addf(&o->text, "anomaly %s %llu\n", fl_anomaly_name(a),
				    (unsigned long long)an[a]);
	fl_recon_free(r);
	return 0;
fail:
	fl_recon_free(r);
	return -1;
}

void recon_out_release(struct recon_out *o)
{
	free(o->faults);
	free(o->waits);
	free(o->ops);
	free(o->ios);
	free(o->vmas);
	fl_buf_release(&o->vtext);
	fl_buf_release(&o->ftext);
	fl_buf_release(&o->wtext);
	fl_buf_release(&o->otext);
	fl_buf_release(&o->itext);
	fl_buf_release(&o->text);
	memset(o, 0, sizeof(*o));
}
