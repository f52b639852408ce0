/*
 * The unit test runner: runs every FL_TEST (or those named on the command
 * line), one line per test, and ends with "N passed, N failed, N skipped".
 */
#include "tests/unit/test.h"

#include <stdarg.h>
#include <stdlib.h>

static struct fl_test *tests;
static int cur_failed, cur_skipped;
static char skip_reason[256];

void fl_test_register(struct fl_test *t)
{
	struct fl_test **p = &tests;

	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

void fl_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	cur_failed++;
}

void fl_test_skip(const char *reason)
{
	snprintf(skip_reason, sizeof(skip_reason), "%s", reason);
	cur_skipped = 1;
}

const char *fl_test_path(const char *rel)
{
	static char buf[4][4096];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "tests/%s", rel);
	return buf[i];
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	for (struct fl_test *t = tests; t; t = t->next) {
		if (argc > 1) {
			int want = 0;
			for (int i = 1; i < argc; i++)
				want |= !strcmp(argv[i], t->name);
			if (!want)
				continue;
		}
		cur_failed = cur_skipped = 0;
		t->fn();
		if (cur_failed) {
			printf("FAIL - unit/%s\n", t->name);
			failed++;
		} else if (cur_skipped) {
			printf("skip - unit/%s: %s\n", t->name, skip_reason);
			skipped++;
		} else {
			printf("ok - unit/%s\n", t->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
