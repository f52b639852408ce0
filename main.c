/*
 * main.c - the faultlab command table and dispatch; nothing else.
 * Handlers return 0 (success), 1 (error) or 2 (usage error) and never exit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;	/* one line for 'faultlab help' */
};

static const struct cmd commands[] = {
	{ "capture", cmd_capture, "record ftrace events into a capture file" },
	{ "ingest", cmd_ingest, "decode captures into the database" },
	{ "info", cmd_info, "what is in a capture file or a database" },
	{ "report", cmd_report, "the fault and lock picture of a capture" },
	{ "replay", cmd_replay, "replay a capture through the lock model under kernel policies" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: faultlab <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'faultlab <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		ret = commands[i].fn(argc - 1, argv + 1);
		/* As git does: a full disk or a closed pipe is an error too. */
		if (fflush(stdout) || ferror(stdout) || fclose(stdout)) {
			if (errno != EPIPE)
				fprintf(stderr, "faultlab: cannot write output: %s\n", strerror(errno));
			return ret ? ret : 1;
		}
		return ret;
	}
	fprintf(stderr, "faultlab: '%s' is not a command; see 'faultlab help'\n", argv[1]);
	return 2;
}
