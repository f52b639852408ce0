/*
 * test.h - the unit test harness. A test is a function registered with
 * FL_TEST(name); CHECK() records a failure with file:line and goes on.
 * The runner (tests/unit/main.c) prints "ok - name" or "FAIL - name" per test
 * and "skip - name: reason" when FL_SKIP() is called, then the counts.
 * Golden data lives under tests/golden/; FL_UPDATE_GOLDEN=1 rewrites it.
 */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <stdio.h>
#include <string.h>

struct fl_test {
	const char *name;
	void (*fn)(void);
	struct fl_test *next;
};
void fl_test_register(struct fl_test *t);
void fl_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fl_test_skip(const char *reason);
/* Path of a file under tests/ (the runner chdirs to the repo root). */
const char *fl_test_path(const char *rel);

#define FL_TEST(name)                                                          \
	static void test_##name(void);                                         \
	static struct fl_test fl_test_##name = { #name, test_##name, NULL };   \
	__attribute__((constructor)) static void fl_test_reg_##name(void)      \
	{ fl_test_register(&fl_test_##name); }                                 \
	static void test_##name(void)

#define CHECK(cond)                                                            \
	do { if (!(cond)) fl_test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define CHECKF(cond, ...)                                                      \
	do { if (!(cond)) fl_test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_EQ_U64(a, b)                                                     \
	do { unsigned long long _a = (a), _b = (b);                            \
	     if (_a != _b) fl_test_fail(__FILE__, __LINE__, "%s == %s: %llu != %llu", #a, #b, _a, _b); } while (0)
#define FL_SKIP(reason) do { fl_test_skip(reason); return; } while (0)

#endif
