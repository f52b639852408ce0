/*
 * policy.c - the model's policies (kernel-semantics.md §8) by name, and
 * which combinations the spec allows.
 *
 * A policy is a set of bits; "mainline" is the empty set (the chosen kernel
 * as it is). Names combine with '+': "vma-retry+uptodate-no-retry-wb" is the
 * proposed series (v2 with Willy's writeback condition). Refused:
 *   - no-vma-lock with anything that acts on the VMA lock (vma-retry,
 *     retry-hard, hold-vma-io): there is no VMA lock to retry under or hold;
 *   - vma-retry with retry-hard: two variants of the same patch;
 *   - hold-vma-io with vma-retry, retry-hard or the uptodate policies: it
 *     never drops the lock, so there is no retry for them to change;
 *   - uptodate-no-retry with uptodate-no-retry-wb: one condition or the other.
 * fork-cow-only combines with everything.
 */
#include "replay/model.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	uint32_t bit;
} pols[] = {
	{ "no-vma-lock", FL_POL_NO_VMA_LOCK },
	{ "vma-retry", FL_POL_VMA_RETRY },
	{ "uptodate-no-retry", FL_POL_UPTODATE_NO_RETRY },
	{ "uptodate-no-retry-wb", FL_POL_UPTODATE_NO_RETRY_WB },
	{ "hold-vma-io", FL_POL_HOLD_VMA_IO },
	{ "retry-hard", FL_POL_RETRY_HARD },
	{ "fork-cow-only", FL_POL_FORK_COW_ONLY },
};

const char *const fl_policy_names[] = {
	"mainline", "no-vma-lock", "vma-retry", "uptodate-no-retry", "uptodate-no-retry-wb",
	"hold-vma-io", "retry-hard", "fork-cow-only", NULL
};

static const struct {
	uint32_t a, b;
	const char *why;
} conflicts[] = {
	{ FL_POL_NO_VMA_LOCK, FL_POL_VMA_RETRY, "there is no VMA lock to retry under" },
	{ FL_POL_NO_VMA_LOCK, FL_POL_RETRY_HARD, "there is no VMA lock to retry under" },
	{ FL_POL_NO_VMA_LOCK, FL_POL_HOLD_VMA_IO, "there is no VMA lock to hold" },
	{ FL_POL_VMA_RETRY, FL_POL_RETRY_HARD, "they are two variants of the same patch" },
	{ FL_POL_HOLD_VMA_IO, FL_POL_VMA_RETRY, "hold-vma-io never drops the lock to retry" },
	{ FL_POL_HOLD_VMA_IO, FL_POL_RETRY_HARD, "hold-vma-io never drops the lock to retry" },
	{ FL_POL_HOLD_VMA_IO, FL_POL_UPTODATE_NO_RETRY,
	  "hold-vma-io never drops the lock to retry" },
	{ FL_POL_HOLD_VMA_IO, FL_POL_UPTODATE_NO_RETRY_WB,
	  "hold-vma-io never drops the lock to retry" },
	{ FL_POL_UPTODATE_NO_RETRY, FL_POL_UPTODATE_NO_RETRY_WB,
	  "pick one uptodate condition" },
};

static const char *bit_name(uint32_t bit)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(pols); i++)
		if (pols[i].bit == bit)
			return pols[i].name;
	return "?";
}

int fl_policy_parse(const char *s, uint32_t *pol, struct fl_err *err)
{
	uint32_t bits = 0;
	const char *p = s;

	if (!s || !*s)
		return fl_seterr(err, "empty policy name (try 'mainline')");
	while (*p) {
		const char *e = strchr(p, '+');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		bool found = false;

		if (n == 8 && !strncmp(p, "mainline", 8)) {
			found = true;
		} else {
			for (size_t i = 0; i < FL_ARRAY_SIZE(pols); i++) {
				if (strlen(pols[i].name) == n && !strncmp(p, pols[i].name, n)) {
					bits |= pols[i].bit;
					found = true;
				}
			}
		}
		if (!found)
			return fl_seterr(err, "unknown policy '%.*s' in '%s' (known: mainline, "
					 "no-vma-lock, vma-retry, uptodate-no-retry, "
					 "uptodate-no-retry-wb, hold-vma-io, retry-hard, "
					 "fork-cow-only)", (int)n, p, s);
		p += n;
		if (*p == '+')
			p++;
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(conflicts); i++)
		if ((bits & conflicts[i].a) && (bits & conflicts[i].b))
			return fl_seterr(err, "policy '%s': '%s' and '%s' do not combine (%s)", s,
					 bit_name(conflicts[i].a), bit_name(conflicts[i].b),
					 conflicts[i].why);
	*pol = bits;
	return 0;
}

const char *fl_policy_name(uint32_t pol, char *buf)
{
	size_t n = 0;

	buf[0] = 0;
	if (!pol) {
		snprintf(buf, 128, "mainline");
		return buf;
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(pols); i++)
		if (pol & pols[i].bit)
			n += snprintf(buf + n, 128 - n, "%s%s", n ? "+" : "", pols[i].name);
	return buf;
}
