/*
 * cmd-capture.c - `faultlab capture`: the CLI side of capture/capture.c.
 *
 * Parses the options, checks what can be checked before touching tracefs
 * (usage, the command exists), runs the capture with SIGINT/SIGTERM/SIGHUP
 * turned into stop requests, prints progress on a terminal and a one-line
 * summary. Exit status: the command's (128 + signal if it was killed), 0 for
 * a system capture, 1 on error, 2 on usage error, 127 when the command cannot
 * be run.
 */
#include "capture/capture.h"
#include "cmds.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct fl_capture *running;	/* for the signal handler */
static bool progress_shown;		/* a status line is on the terminal */

static const char usage_text[] =
	"usage: faultlab capture [-o FILE] [-a] [--duration SECONDS] [--buffer-kb N]\n"
	"                        [--events LIST] [--clock CLOCK] [-- CMD ARGS...]\n"
	"\n"
	"Records ftrace events (page faults, mmap_lock, page cache, sched, block I/O,\n"
	"reclaim, mm syscalls) into a capture file, in a private tracefs instance.\n"
	"\n"
	"  -o, --output FILE     capture file (default faultlab.flc)\n"
	"  -a, --all             record the whole system until --duration or SIGINT\n"
	"                        (with CMD: until CMD exits)\n"
	"  -d, --duration SECS   stop after SECS seconds (a followed CMD gets SIGTERM)\n"
	"  -b, --buffer-kb N     ring buffer per CPU and instance, KiB (default %d, less\n"
	"                        on machines with many CPUs: 512 MiB in all, >= 4 MiB)\n"
	"  -e, --events LIST     comma list of SYSTEM:EVENT or SYSTEM:* instead of the\n"
	"                        default set\n"
	"      --clock CLOCK     trace clock (default mono, so that the header's times\n"
	"                        are on the trace's clock)\n"
	"  -h, --help            this text\n"
	"\n"
	"With -- CMD, runs CMD and records it and every process and thread it creates;\n"
	"stops when CMD exits and exits with CMD's status. Needs root.\n";

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	/* si_code <= 0: sent by kill()/sigqueue(), not by the terminal to the group. */
	fl_capture_signal(running, sig, si && si->si_code <= 0);
}

static void progress(const struct fl_capture_stats *st, void *arg)
{
	fprintf(stderr, "\rfaultlab capture: %.1f s, %llu events, %.1f MiB written, %llu lost   ",
		st->elapsed_ns / 1e9, (unsigned long long)st->events, st->bytes / 1048576.0,
		(unsigned long long)st->lost);
	fflush(stderr);
	progress_shown = true;
}

/* 0 if CMD can be executed; else prints why and returns the exit status to use. */
static int check_command(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK) == 0)
			return 0;
		fprintf(stderr, "faultlab capture: cannot run '%s': %s\n", cmd, strerror(errno));
		return errno == ENOENT ? 127 : 126;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		path += n + (end != NULL);
		if (!end)
			break;
	}
	fprintf(stderr, "faultlab capture: cannot run '%s': command not found\n", cmd);
	return 127;
}

int cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "events", required_argument, NULL, 'e' },
		{ "clock", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fl_capture_opts o = { .path = "faultlab.flc" };
	struct fl_capture_stats st;
	struct fl_err err = { { 0 } };
	struct sigaction sa;
	sigset_t stopsigs, old;
	struct fl_capture *c;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:ad:b:e:h", longopts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'o':
			o.path = optarg;
			break;
		case 'a':
			o.system = true;
			break;
		case 'd': {
			double d = strtod(optarg, &end);

			if (end == optarg || *end || !(d > 0) || d > 1e7) {
				fprintf(stderr, "faultlab capture: bad --duration '%s' (seconds, "
					"> 0)\n", optarg);
				return 2;
			}
			o.duration_ns = (uint64_t)(d * 1e9);
			break;
		}
		case 'b': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v < 4 || v > (1UL << 24)) {
				fprintf(stderr, "faultlab capture: bad --buffer-kb '%s' "
					"(KiB per CPU, 4..16777216)\n", optarg);
				return 2;
			}
			o.buffer_kb = v;
			break;
		}
		case 'e':
			o.events = optarg;
			break;
		case 'C':
			o.clock = optarg;
			break;
		case 'h':
			printf(usage_text, FL_CAPTURE_DEFAULT_BUFFER_KB);
			return 0;
		default:
			fprintf(stderr, usage_text, FL_CAPTURE_DEFAULT_BUFFER_KB);
			return 2;
		}
	}
	if (optind < argc)
		o.argv = argv + optind;
	if (!o.argv && !o.system) {
		fprintf(stderr, "faultlab capture: nothing to record: give a command after '--' "
			"or -a for the whole system\n");
		return 2;
	}
	if (o.argv && (ret = check_command(o.argv[0])))
		return ret;
	if (isatty(STDERR_FILENO))
		o.progress = progress;

	/* Signals wait until the capture can clean up after itself. */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopsigs, &old);
	c = fl_capture_new(&o, &err);
	if (!c) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		fprintf(stderr, "faultlab capture: %s\n", err.msg);
		return 1;
	}
	running = c;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	ret = fl_capture_run(c, &err);
	if (progress_shown)
		fputc('\n', stderr);
	if (ret < 0) {
		fprintf(stderr, "faultlab capture: %s\n", err.msg);
		ret = fl_capture_exec_errno(c) ? 127 : 1;
		goto out;
	}
	fl_capture_get_stats(c, &st);
	fprintf(stderr, "faultlab capture: '%s': %llu records, %.2f MiB (%.2f MiB raw), "
		"%llu events, %llu lost events, %.2f s, capture CPU %.2f s\n", o.path,
		(unsigned long long)st.records, st.bytes / 1048576.0, st.raw_bytes / 1048576.0,
		(unsigned long long)st.events, (unsigned long long)st.lost, st.elapsed_ns / 1e9,
		st.cpu_ns / 1e9);
	ret = 0;
	if (o.argv) {
		int ws = fl_capture_wait_status(c);

		if (ws == -1) {
			fprintf(stderr, "faultlab capture: '%s' is still running; recording "
				"stopped\n", o.argv[0]);
			ret = 128 + fl_capture_stop_signal(c);
		} else if (WIFEXITED(ws)) {
			ret = WEXITSTATUS(ws);
		} else if (WIFSIGNALED(ws)) {
			ret = 128 + WTERMSIG(ws);
		}
	}
out:
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	running = NULL;
	fl_capture_free(c);
	return ret;
}
