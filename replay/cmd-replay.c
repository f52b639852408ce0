/*
 * cmd-replay.c - `faultlab replay --model ...`: the CLI side of the lock model.
 *
 * Turns one ingested capture (or a capture file, ingested first) into op
 * streams (replay/opstream.c), runs them under each policy and architecture
 * asked for (replay/model.c), stores every run (replay/store.c) and prints a
 * side-by-side table with the savings against mainline, or JSON
 * {"capture": N, "runs": [...]}; --validate puts the mainline run for the
 * capture's own architecture and kernel beside the reconstructed metrics;
 * --explain-arch prints how an architecture's handler differs (arch/).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "cmds.h"
#include "db/db.h"
#include "replay/opstream.h"
#include "replay/run-metrics.h"
#include "replay/store.h"

static const char usage_text[] =
	"usage: faultlab replay --model [--policy P[,P...]] [--arch A[,A...]] [--kernel V]\n"
	"                       [--memcg-limit BYTES] [--cpus N] [--readahead W]\n"
	"                       [--seed N] [--db DB]\n"
	"                       [--format text|json] [--validate] [CAPTURE]\n"
	"       faultlab replay --model --explain-arch A [--kernel V]\n\n"
	"Replays the captured work of CAPTURE (a capture id in DB, or a .flc / trace.dat\n"
	"file, ingested first; default: the latest capture) through the lock model: each\n"
	"architecture's fault handler (kernel-semantics.md §5) under each policy (§8).\n"
	"Every run is stored (replay_run, metric, replay_fault) and shown side by side\n"
	"with its savings against mainline and the decomposition of the retry window\n"
	"(I/O completion -> the retry's page-cache lookup).\n\n"
	"  -p, --policy LIST     comma list of policies, '+' combines (default: all):\n"
	"                        mainline no-vma-lock vma-retry uptodate-no-retry\n"
	"                        uptodate-no-retry-wb hold-vma-io retry-hard fork-cow-only\n"
	"  -a, --arch LIST       x86_64 arm64 arm powerpc riscv s390 loongarch, or all\n"
	"                        (default: the capture's)\n"
	"  -k, --kernel V        kernel version, e.g. 6.12 (default: the capture's)\n"
	"  -m, --memcg-limit B   page-cache capacity in bytes (K/M/G suffix; default: the\n"
	"                        capture's memory cgroup limit, else unlimited)\n"
	"  -c, --cpus N          CPUs (default: the capture's)\n"
	"  -r, --readahead W     readahead window in KiB; 'device': the read_ahead_kb the\n"
	"                        capture recorded for the faulted files' device (the\n"
	"                        default); 'inferred': the most frequent block read size\n"
	"  -s, --seed N          seed of the I/O latency draws (default 1)\n"
	"  -d, --db DB           database (default faultlab.db)\n"
	"  -f, --format FMT      text (default) or json\n"
	"  -V, --validate        mainline for the capture's own arch and kernel beside the\n"
	"                        reconstructed metrics, with the relative error\n"
	"  -e, --explain-arch A  how A's fault handler differs from x86_64, in words\n"
	"  -h, --help            this text\n";

static const char *const all_policies[] = {
	"mainline", "no-vma-lock", "vma-retry", "uptodate-no-retry", "uptodate-no-retry-wb",
	"hold-vma-io", "retry-hard", "fork-cow-only", "vma-retry+uptodate-no-retry-wb", NULL
};

struct opts {
	const char *policies, *arches, *kernel, *db, *format, *explain, *capture;
	uint64_t memcg, seed;
	uint32_t cpus;
	uint32_t ra_kb;			/* --readahead KiB, 0 = default */
	bool ra_device;			/* --readahead device */
	bool ra_inferred;		/* --readahead inferred */
	bool model, validate;
};

struct runrec {
	struct fl_model_run r;
	struct fl_metrics m;
	int64_t id;
};

static int parse_bytes(const char *s, uint64_t *v)
{
	char *e;
	unsigned long long n = strtoull(s, &e, 10);

	if (e == s)
		return -1;
	switch (*e) {
	case 'k': case 'K': n <<= 10; e++; break;
	case 'm': case 'M': n <<= 20; e++; break;
	case 'g': case 'G': n <<= 30; e++; break;
	default: break;
	}
	if (*e)
		return -1;
	*v = n;
	return 0;
}

/* ---- metric lookup by name ---- */

struct named {
	char name[48];
	double v;
};

struct namedv {
	struct named *a;
	size_t n, cap;
};

static void collect(void *arg, const char *name, double v)
{
	struct namedv *nv = arg;

	if (nv->n == nv->cap) {
		nv->cap = nv->cap ? 2 * nv->cap : 64;
		nv->a = fl_realloc(nv->a, nv->cap * sizeof(*nv->a));
	}
	snprintf(nv->a[nv->n].name, sizeof(nv->a[0].name), "%s", name);
	nv->a[nv->n++].v = v;
}

static double get(const struct namedv *nv, const char *name)
{
	for (size_t i = 0; i < nv->n; i++)
		if (!strcmp(nv->a[i].name, name))
			return nv->a[i].v;
	return NAN;
}

static void all_values(const struct runrec *rr, struct namedv *nv)
{
	nv->n = 0;
	fl_metrics_foreach(&rr->m, collect, nv);
	fl_model_extras_foreach(&rr->r, collect, nv);
}

/* ---- text output ---- */

static const char *const table_rows[] = {
	"faults_user", "faults_kernel", "faults_major", "path_vma", "path_vma_retry_mmap",
	"path_vma_retry_vma", "path_mmap", "retry_drop", "retry_io_miss", "miss_drop_pct",
	"mmap_read_acq", "mmap_read_wait_us.total", "mmap_read_wait_us.p50",
	"mmap_read_wait_us.p99", "mmap_read_wait_us.max", "mmap_write_acq",
	"mmap_write_wait_us.total", "mmap_write_wait_us.p99", "io_wait_us", "io_wait_locked_us",
	"fault_latency_us.p50", "fault_latency_us.p99", "fork_count", "fork_hold_us",
	"fork_blocked_us", "model.vma_write_wait_us", "chained_waits", "max_chain", "inversions",
	"makespan_us", "retry_window.count", "retry_window.avg_us", "retry_window.cpu_wait_us",
	"retry_window.mmap_wait_us", "retry_window.vma_wait_us", "retry_window.run_us",
	"retry_window.missed", "model.evictions", "model.reclaim_scanned", "model.reclaim_cpu_us",
	"model.cpu_wait_us", "anomalies", NULL
};

static const char *const saving_rows[] = {
	"retry_drop", "retry_io_miss", "mmap_read_acq", "mmap_read_wait_us.total",
	"mmap_write_wait_us.total", "fork_blocked_us", "fault_latency_us.p99", "makespan_us", NULL
};

static void fmtv(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(b, n, "%.0f", v);
	else
		snprintf(b, n, "%.1f", v);
}

static void print_group(const struct runrec *rr, size_t n, const struct fl_opstream_info *info,
			const struct fl_model_input *in)
{
	struct namedv *nv = fl_calloc(n, sizeof(*nv));
	char pn[128], kv[16], b[48], ra[80];
	size_t base = n;

	for (size_t i = 0; i < n; i++) {
		all_values(&rr[i], &nv[i]);
		if (!rr[i].r.policy && base == n)
			base = i;
	}
	printf("\n%s, kernel %s, %u CPUs, readahead %u pages, page cache %s pages, I/O from %llu "
	       "samples:\n", rr[0].r.arch, fl_kver_str(rr[0].r.kver, kv), in->ncpus,
	       in->ra_pages ? in->ra_pages : 32,
	       in->capacity_pages ? (snprintf(b, sizeof(b), "%llu",
					      (unsigned long long)in->capacity_pages), b) :
	       "unlimited", (unsigned long long)info->io_samples);
	if (info->ra_page_ns)
		snprintf(ra, sizeof(ra), "measured: %u %% of the pages inserted as %u-page folios",
			 info->ra_folio_share, 1U << info->ra_folio_order);
	if (in->nio_round)
		printf("I/O in rounds (measured: %u %% of the reads complete in %llu rounds of 4 or "
		       "more): %.1f us apart in a round, %.1f %% miss the open round\n",
		       info->io_round_share, (unsigned long long)info->io_rounds,
		       (double)in->io_gap_ns / 1000.0, (double)in->io_miss_ppm / 10000.0);
	printf("costs per page: readahead insert %llu ns (%s), reclaim %llu ns (%s%s)\n",
	       (unsigned long long)in->costs.ra_page_ns,
	       info->ra_page_ns ? ra : "default",
	       (unsigned long long)in->costs.reclaim_page_ns,
	       info->reclaim_page_ns ? "measured" : "default",
	       in->costs.reclaim_scan_ns ? "; charged per folio scanned instead" : "");
	if (in->costs.reclaim_scan_ns && info->reclaim_scanned)
		printf("reclaim charged %llu ns per folio it scans (measured: %llu folios in "
		       "mm_vmscan_lru_shrink_inactive batches)\n",
		       (unsigned long long)in->costs.reclaim_scan_ns,
		       (unsigned long long)info->reclaim_scanned);
	else if (in->costs.reclaim_scan_ns)
		printf("reclaim charged %llu ns per folio it scans (no batches traced: the "
		       "cheapest tenth of %llu episodes' CPU per page freed)\n",
		       (unsigned long long)in->costs.reclaim_scan_ns,
		       (unsigned long long)info->reclaim_episodes);
	if (info->anon_prep_ns)
		printf("first anonymous write faults trylock mmap_lock for the anon_vma %llu ns in "
		       "(measured: median of %llu)\n", (unsigned long long)info->anon_prep_ns,
		       (unsigned long long)info->anon_prep_samples);
	if (info->io_split_pages)
		printf("readahead requests of %u pages (the capture's mean)\n", info->io_split_pages);
	if (info->autogroup == 1)
		printf("captured with autogroup on: the kernel balanced the session's threads as one "
		       "task group; the model schedules them one by one (replay/README.md)\n");
	printf("wake-up latency on an idle CPU %llu ns (%s, %llu %ssamples)\n",
	       (unsigned long long)in->costs.wake_ns, info->wake_ns ? "measured" : "default",
	       (unsigned long long)info->wake_samples, info->wake_local ? "local " : "");
	if (info->wake_remote_ns)
		printf("  woken from another CPU %llu ns (measured, %llu samples: lock releases, "
		       "I/O completions)\n", (unsigned long long)info->wake_remote_ns,
		       (unsigned long long)info->wake_remote_samples);
	if (info->switch_ns)
		printf("a switch from one thread to another %llu ns of CPU (measured, %llu switches)\n",
		       (unsigned long long)info->switch_ns,
		       (unsigned long long)info->switch_samples);
	if (in->wake_affine)
		printf("wake-ups: on the previous CPU, %u per mille to an idle one (%llu of %llu "
		       "wake-ups onto a busy CPU moved)\n", in->wake_idle_permille,
		       (unsigned long long)info->wake_moved,
		       (unsigned long long)info->wake_busy_prev);
	else
		printf("wake-ups: first idle CPU (%llu wake-ups onto a busy CPU measured, too few)\n",
		       (unsigned long long)info->wake_busy_prev);
	printf("%-28s", "metric");
	for (size_t i = 0; i < n; i++) {
		fl_policy_name(rr[i].r.policy, pn);
		printf(" %14.14s", pn);
	}
	printf("\n");
	for (const char *const *row = table_rows; *row; row++) {
		printf("%-28s", *row);
		for (size_t i = 0; i < n; i++) {
			fmtv(b, sizeof(b), get(&nv[i], *row));
			printf(" %14s", b);
		}
		printf("\n");
	}
	if (base < n) {
		printf("%-28s\n", "change against mainline");
		for (const char *const *row = saving_rows; *row; row++) {
			double m0 = get(&nv[base], *row);

			printf("  %-26s", *row);
			for (size_t i = 0; i < n; i++) {
				double v = get(&nv[i], *row);

				if (i == base || isnan(v) || isnan(m0))
					snprintf(b, sizeof(b), "-");
				else if (m0 == 0)
					snprintf(b, sizeof(b), v == 0 ? "0" : "new");
				else
					snprintf(b, sizeof(b), "%+.1f%%", 100.0 * (v - m0) / m0);
				printf(" %14s", b);
			}
			printf("\n");
		}
	}
	printf("retry window = from the I/O completing to the retry's page-cache lookup: "
	       "cpu_wait (runnable, no CPU), mmap_wait (queued on mmap_lock), vma_wait "
	       "(queued on mmap_lock because a writer held the VMA), run (the rest)\n");
	for (size_t i = 0; i < n; i++)
		free(nv[i].a);
	free(nv);
}

/* One metric of a validate block: a text row, or a JSON member after *first. */
static void validate_row(struct fl_buf *json, bool *first, const char *name, double c, double m,
			 bool recon_only)
{
	double rel = c != 0 ? (m - c) / fabs(c) : (m == 0 ? 0 : NAN);
	char x[48], y[48];

	/* the reconstruction's own doubts (a fault whose path it could not tell, events it
	 * could not place) have no counterpart in the model */
	if (recon_only)
		rel = NAN;
	if (json) {
		fl_buf_addf(json, "%s\"%s\": {\"capture\": %.3f, \"model\": %.3f, \"rel_err\": ",
			    *first ? "" : ", ", name, c, m);
		if (isnan(rel))
			fl_buf_addstr(json, "null}");
		else
			fl_buf_addf(json, "%.4f}", rel);
		*first = false;
		return;
	}
	fmtv(x, sizeof(x), c);
	fmtv(y, sizeof(y), m);
	if (recon_only)
		printf("%-28s %14s %14s %10s\n", name, x, y, "n/a");
	else if (isnan(rel))
		printf("%-28s %14s %14s %10s\n", name, x, y, "new");
	else
		printf("%-28s %14s %14s %+9.1f%%\n", name, x, y, 100 * rel);
}

/*
 * A validate block: the capture's values a beside the model's b, name by name,
 * under header (text), or as a JSON object; the histograms' bins only in JSON.
 */
static void validate_block(const struct namedv *a, const struct namedv *b, const char *header,
			   struct fl_buf *json)
{
	bool first = true;

	if (!json)
		printf("\n%s\n%-28s %14s %14s %10s\n", header, "metric", "capture", "model",
		       "rel.err");
	else
		fl_buf_addstr(json, "{");
	for (size_t i = 0; i < a->n; i++) {
		if (!json && strstr(a->a[i].name, "_hist."))
			continue;
		validate_row(json, &first, a->a[i].name, a->a[i].v, get(b, a->a[i].name),
			     !strcmp(a->a[i].name, "path_unknown") ||
			     !strcmp(a->a[i].name, "anomalies"));
	}
	if (json)
		fl_buf_addstr(json, "}");
}

/* The model's costs, each with whether the capture measured it (opstream.c). */
static void costs_json(const struct fl_model_input *in, const struct fl_opstream_info *info,
		       struct fl_buf *json)
{
	const struct {
		const char *name;
		uint64_t ns;
		bool measured;
	} c[] = {
		{ "ra_page_ns", in->costs.ra_page_ns, info->ra_page_ns != 0 },
		{ "reclaim_page_ns", in->costs.reclaim_page_ns, info->reclaim_page_ns != 0 },
		{ "reclaim_scan_ns", in->costs.reclaim_scan_ns, info->reclaim_scan_ns != 0 },
		{ "anon_prep_ns", in->costs.anon_prep_ns, info->anon_prep_ns != 0 },
		{ "wake_ns", in->costs.wake_ns, info->wake_ns != 0 },
		{ "wake_remote_ns", in->costs.wake_remote_ns ? in->costs.wake_remote_ns :
							      in->costs.wake_ns,
		  info->wake_remote_ns != 0 },
		{ "switch_ns", in->costs.switch_ns, info->switch_ns != 0 },
		{ "fault_ns", in->costs.fault_ns, false },
		{ "syscall_ns", in->costs.syscall_ns, false },
	};

	fl_buf_addstr(json, ", \"costs\": {");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		fl_buf_addf(json, "%s\"%s\": {\"ns\": %llu, \"measured\": %s}", i ? ", " : "",
			    c[i].name, (unsigned long long)c[i].ns, c[i].measured ? "true" : "false");
	fl_buf_addstr(json, "}");
}

/* --validate: the DESIGN.md metrics, then the page-cache block (struct fl_pc_activity), then
 * the mmap_lock writers that met a taken lock (struct fl_writer_waits). */
static void print_validate(const struct fl_metrics *cap, const struct fl_pc_activity *cap_pc,
			   const struct fl_writer_waits *cap_ww, const struct runrec *rr,
			   struct fl_buf *json)
{
	struct namedv a = { 0 }, b = { 0 };
	char header[160];

	fl_metrics_foreach(cap, collect, &a);
	fl_metrics_foreach(&rr->m, collect, &b);
	validate_block(&a, &b, "validate: the capture (reconstructed) against mainline on the model",
		       json);
	a.n = b.n = 0;
	fl_pc_activity_foreach(cap_pc, collect, &a);
	fl_pc_activity_foreach(&rr->r.pc, collect, &b);
	snprintf(header, sizeof(header), "page cache (faults that inserted pages; ticks of %llu ms "
		 "from the first read completion to the last in which none completed)",
		 (unsigned long long)(FL_PC_TICK_NS / 1000000));
	if (json)
		fl_buf_addstr(json, ", \"page_cache\": ");
	validate_block(&a, &b, header, json);
	a.n = b.n = 0;
	fl_writer_waits_foreach(cap_ww, collect, &a);
	fl_writer_waits_foreach(&rr->r.ww, collect, &b);
	if (json)
		fl_buf_addstr(json, ", \"writers\": ");
	validate_block(&a, &b, "mmap_lock writers that met a taken lock: took it spinning, slept for "
		       "it, or stole it past queued writers (capture: a switch-out inside the "
		       "wait is a sleep)", json);
	free(a.a);
	free(b.a);
}

/* ---- the command ---- */

static int64_t resolve_capture(struct fl_db *db, const char *cap, struct fl_err *err)
{
	char *end;
	long long v;
	struct fl_ingest_src src;
	struct fl_ingest_stats st;
	struct fl_ingest_opts io = { 0 };
	int rc;

	if (!cap)
		return fl_db_latest_capture(db, err);
	v = strtoll(cap, &end, 10);
	if (*cap && !*end && v > 0)
		return v;
	if (fl_ingest_src_open(&src, cap, err) < 0)
		return -1;
	memset(&st, 0, sizeof(st));
	rc = fl_db_ingest(db, &src, &io, &st, err);
	fl_ingest_src_close(&src);
	fl_buf_release(&st.warnings);
	return rc < 0 ? -1 : st.capture_id;
}

static int split(const char *list, char ***out)
{
	char *s = fl_strdup(list), *save = NULL;
	int n = 0;

	*out = NULL;
	for (char *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		*out = fl_realloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = fl_strdup(p);
	}
	free(s);
	return n;
}

static void free_list(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int run_model(const struct opts *o)
{
	struct fl_err err;
	struct fl_db *db = NULL;
	struct fl_model_input in;
	struct fl_opstream_info info;
	char **pols = NULL, **arches = NULL;
	int npols = 0, narches = 0, ret = 1;
	uint32_t *bits = NULL;
	struct runrec *rr = NULL;
	size_t nrr = 0;
	struct fl_buf json = { 0 };
	int64_t cap;
	int kver = 0;
	sqlite3 *sql;

	fl_model_input_init(&in);
	if (o->kernel && (kver = fl_kver_parse(o->kernel)) < 0) {
		fprintf(stderr, "faultlab replay: bad kernel version '%s' (e.g. 6.12)\n", o->kernel);
		return 2;
	}
	npols = split(o->policies ? o->policies : "all", &pols);
	if (npols == 1 && !strcmp(pols[0], "all")) {
		free_list(pols, npols);
		npols = 0;
		pols = NULL;
		for (const char *const *p = all_policies; *p; p++) {
			pols = fl_realloc(pols, (npols + 1) * sizeof(*pols));
			pols[npols++] = fl_strdup(*p);
		}
	}
	bits = fl_calloc(npols, sizeof(*bits));
	for (int i = 0; i < npols; i++) {
		if (fl_policy_parse(pols[i], &bits[i], &err) < 0) {
			fprintf(stderr, "faultlab replay: %s\n", err.msg);
			ret = 2;
			goto out;
		}
	}
	if (o->arches) {
		narches = split(o->arches, &arches);
		if (narches == 1 && !strcmp(arches[0], "all")) {
			free_list(arches, narches);
			arches = NULL;
			narches = 0;
			for (unsigned i = 0; i < fl_narches; i++) {
				arches = fl_realloc(arches, (narches + 1) * sizeof(*arches));
				arches[narches++] = fl_strdup(fl_arch_get(i)->name);
			}
		}
		for (int i = 0; i < narches; i++)
			if (!fl_arch_find(arches[i])) {
				fprintf(stderr, "faultlab replay: unknown architecture '%s' (x86_64, "
					"arm64, arm, powerpc, riscv, s390, loongarch, all)\n",
					arches[i]);
				ret = 2;
				goto out;
			}
	}
	db = fl_db_open(o->db, FL_DB_WRITE, &err);
	if (!db)
		goto fail;
	sql = fl_db_sqlite(db);
	cap = resolve_capture(db, o->capture, &err);
	if (cap < 0)
		goto fail;
	if (cap == 0) {
		fprintf(stderr, "faultlab replay: '%s' has no capture (run 'faultlab ingest' "
			"first)\n", o->db);
		goto out;
	}
	if (fl_replay_store_init(sql, &err) < 0 || fl_opstream_load(sql, cap, &in, &info, &err) < 0)
		goto fail;
	if (o->cpus)
		in.ncpus = o->cpus;
	if (o->ra_device && !info.ra_header_pages) {
		fprintf(stderr, "faultlab replay: capture %lld recorded no read_ahead_kb for the "
			"faulted files' device; say --readahead KB\n", (long long)cap);
		goto out;
	}
	if (o->ra_inferred && !info.ra_inferred_pages) {
		fprintf(stderr, "faultlab replay: capture %lld has no block reads of 8 pages or "
			"more to infer a readahead window from; say --readahead KB\n", (long long)cap);
		goto out;
	}
	if (o->ra_device)
		in.ra_pages = info.ra_header_pages;
	else if (o->ra_inferred)
		in.ra_pages = info.ra_inferred_pages;
	else if (o->ra_kb)
		in.ra_pages = (uint32_t)(((uint64_t)o->ra_kb << 10) >> in.page_shift) ?
			      (uint32_t)(((uint64_t)o->ra_kb << 10) >> in.page_shift) : 1;
	if (o->memcg)
		in.capacity_pages = o->memcg >> in.page_shift;
	else if (info.memcg_limit_bytes)
		in.capacity_pages = info.memcg_limit_bytes >> in.page_shift;
	if (!info.kver && !kver)
		fprintf(stderr, "faultlab replay: capture %lld has no kernel release; using %d.%d "
			"(say --kernel)\n", (long long)cap, in.kver / 1000, in.kver % 1000);
	if (kver)
		in.kver = kver;
	if (!narches) {
		const struct fl_arch *a = fl_arch_find(info.arch);

		if (!a) {
			fprintf(stderr, "faultlab replay: capture architecture '%s' is not modelled; "
				"using x86_64 (say --arch)\n", info.arch);
			a = fl_arch_get(0);
		}
		arches = fl_malloc(sizeof(*arches));
		arches[0] = fl_strdup(a->name);
		narches = 1;
	}
	if (o->validate && !kver && narches == 1 && npols >= 1) {
		/* nothing: the validate run is done separately below */
	}
	rr = fl_calloc((size_t)npols * narches + 1, sizeof(*rr));
	for (int a = 0; a < narches; a++) {
		in.arch = arches[a];
		for (int p = 0; p < npols; p++) {
			struct runrec *x = &rr[nrr];
			uint64_t t0 = fl_now_ns();

			if (fl_model_run(&in, bits[p], o->seed, &x->r, &err) < 0)
				goto fail;
			if (fl_replay_store_run(sql, cap, &x->r, &in, fl_now_ns() - t0, &x->id,
						&err) < 0)
				goto fail;
			fl_model_metrics(&x->r, &x->m);
			nrr++;
		}
	}
	if (!strcmp(o->format, "json")) {
		fl_buf_addf(&json, "{\"capture\": %lld, \"runs\": [", (long long)cap);
		for (size_t i = 0; i < nrr; i++) {
			if (i)
				fl_buf_addstr(&json, ", ");
			fl_model_run_json(&rr[i].r, rr[i].id, &json);
		}
		fl_buf_addstr(&json, "]");
		costs_json(&in, &info, &json);
	} else {
		printf("capture %lld: %llu faults, %llu writer ops and %llu other mmap_lock rounds "
		       "(execve's, untraced syscalls') in %zu threads, %llu VMAs added from fault "
		       "rows\n", (long long)cap, (unsigned long long)info.faults,
		       (unsigned long long)info.writer_ops, (unsigned long long)info.lock_rounds,
		       in.nthreads, (unsigned long long)info.vmas_added);
		for (int a = 0; a < narches; a++)
			print_group(&rr[(size_t)a * npols], npols, &info, &in);
		printf("stored as replay_run");
		for (size_t i = 0; i < nrr; i++)
			printf(" %lld", (long long)rr[i].id);
		printf("\n");
	}
	if (o->validate) {
		struct fl_metrics_acc *acc = fl_metrics_load_db(sql, cap, &err);
		struct fl_metrics capm;
		struct fl_pc_activity cap_pc;
		struct fl_writer_waits cap_ww;
		struct runrec v = { 0 };
		const struct fl_arch *a = fl_arch_find(info.arch);
		uint64_t t0 = fl_now_ns();

		if (!acc)
			goto fail;
		if (fl_metrics_acc_result(acc, 0, &capm) < 0)
			memset(&capm, 0, sizeof(capm));
		fl_metrics_acc_free(acc);
		if (fl_opstream_pc_activity(sql, cap, &cap_pc, &err) < 0 ||
		    fl_opstream_writer_waits(sql, cap, &cap_ww, &err) < 0)
			goto fail;
		in.arch = a ? a->name : "x86_64";
		in.kver = info.kver ? info.kver : in.kver;
		if (fl_model_run(&in, 0, o->seed, &v.r, &err) < 0 ||
		    fl_replay_store_run(sql, cap, &v.r, &in, fl_now_ns() - t0, &v.id, &err) < 0) {
			fl_model_run_release(&v.r);
			goto fail;
		}
		fl_model_metrics(&v.r, &v.m);
		if (json.len) {
			fl_buf_addf(&json, ", \"validate\": {\"run\": %lld, \"metrics\": ",
				    (long long)v.id);
			print_validate(&capm, &cap_pc, &cap_ww, &v, &json);
			fl_buf_addstr(&json, "}");
		} else {
			print_validate(&capm, &cap_pc, &cap_ww, &v, NULL);
		}
		fl_model_run_release(&v.r);
	}
	if (json.len) {
		fl_buf_addstr(&json, "}\n");
		fwrite(json.data, 1, json.len, stdout);
	}
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "faultlab replay: %s\n", err.msg);
	ret = 1;
out:
	for (size_t i = 0; i < nrr; i++)
		fl_model_run_release(&rr[i].r);
	free(rr);
	free(bits);
	free_list(pols, npols);
	free_list(arches, narches);
	fl_buf_release(&json);
	fl_model_input_release(&in);
	if (db)
		fl_db_close(db);
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "model", no_argument, NULL, 'M' },
		{ "live", no_argument, NULL, 'L' },
		{ "policy", required_argument, NULL, 'p' },
		{ "arch", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "memcg-limit", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "readahead", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "validate", no_argument, NULL, 'V' },
		{ "explain-arch", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .db = "faultlab.db", .format = "text", .seed = 1 };
	bool live = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:a:k:m:c:r:s:d:f:Ve:h", lo, NULL)) != -1) {
		char *e;

		switch (c) {
		case 'M': o.model = true; break;
		case 'L': live = true; break;
		case 'p': o.policies = optarg; break;
		case 'a': o.arches = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'm':
			if (parse_bytes(optarg, &o.memcg) < 0 || !o.memcg) {
				fprintf(stderr, "faultlab replay: bad --memcg-limit '%s' (bytes, "
					"e.g. 64M)\n", optarg);
				return 2;
			}
			break;
		case 'c':
			o.cpus = (uint32_t)strtoul(optarg, &e, 10);
			if (*e || !o.cpus || o.cpus > 65536) {
				fprintf(stderr, "faultlab replay: bad --cpus '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (!strcmp(optarg, "device")) {
				o.ra_device = true;
				break;
			}
			if (!strcmp(optarg, "inferred")) {
				o.ra_inferred = true;
				break;
			}
			o.ra_kb = (uint32_t)strtoul(optarg, &e, 10);
			if (*e || !o.ra_kb || o.ra_kb > (1u << 22)) {
				fprintf(stderr, "faultlab replay: bad --readahead '%s' (KiB, e.g. 128, "
					"'device' or 'inferred')\n", optarg);
				return 2;
			}
			break;
		case 's':
			o.seed = strtoull(optarg, &e, 10);
			if (*e || !*optarg) {
				fprintf(stderr, "faultlab replay: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd': o.db = optarg; break;
		case 'f': o.format = optarg; break;
		case 'V': o.validate = true; break;
		case 'e': o.explain = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (live) {
		fprintf(stderr, "faultlab replay: --live is not implemented yet; use --model\n");
		return 1;
	}
	if (!o.model) {
		fprintf(stderr, "faultlab replay: say --model (the lock model)\n%s", usage_text);
		return 2;
	}
	if (strcmp(o.format, "text") && strcmp(o.format, "json")) {
		fprintf(stderr, "faultlab replay: unknown --format '%s' (text or json)\n", o.format);
		return 2;
	}
	if (o.explain) {
		const struct fl_arch *a = fl_arch_find(o.explain);
		struct fl_buf b = { 0 };
		int kv = o.kernel ? fl_kver_parse(o.kernel) : 0;

		if (!a) {
			fprintf(stderr, "faultlab replay: unknown architecture '%s' (x86_64, arm64, "
				"arm, powerpc, riscv, s390, loongarch)\n", o.explain);
			return 2;
		}
		if (kv < 0) {
			fprintf(stderr, "faultlab replay: bad kernel version '%s'\n", o.kernel);
			return 2;
		}
		fl_arch_explain(a, kv, &b);
		fwrite(b.data, 1, b.len, stdout);
		fl_buf_release(&b);
		return 0;
	}
	if (optind < argc - 1) {
		fprintf(stderr, "faultlab replay: one CAPTURE at a time\n");
		return 2;
	}
	o.capture = optind < argc ? argv[optind] : NULL;
	return run_model(&o);
}
