/* SPDX-License-Identifier: MIT */
/* awe_strerror(): one specific sentence per documented code. */
#include "helpers.h"

#include <limits.h>

/* Every code the header documents. */
static const int codes[] = {EINVAL, EBUSY,  ENOSYS, EOPNOTSUPP, EMFILE, ENFILE,
			    ENOMEM, EFAULT, EPERM,  ENOENT,	EEXIST, EIO};

#define NCODES (sizeof(codes) / sizeof(codes[0]))

Test(strerror, documented_codes)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *neg = awe_strerror(-codes[i]), *pos = awe_strerror(codes[i]);

		cr_assert_not_null(neg, "awe_strerror(-%d) is NULL", codes[i]);
		cr_assert_not_null(pos, "awe_strerror(%d) is NULL", codes[i]);
		cr_assert_gt(strlen(neg), 0, "awe_strerror(-%d) is empty", codes[i]);
		cr_assert_str_eq(neg, pos, "the sign of %d changes the message", codes[i]);
	}
}

/* The header documents these two with one explanation. */
static bool same_cause(int a, int b)
{
	return (a == EMFILE && b == ENFILE) || (a == ENFILE && b == EMFILE);
}

/*
 * "Specific": no two codes share a sentence (unless documented together),
 * and none is the bare libc text.
 */
Test(strerror, specific)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *m = awe_strerror(-codes[i]);

		cr_assert_str_neq(m, strerror(codes[i]),
				  "awe_strerror(%d) is libc's generic text: %s", codes[i], m);
		for (size_t j = 0; j < i; j++)
			if (!same_cause(codes[i], codes[j]))
				cr_assert_str_neq(m, awe_strerror(-codes[j]),
						  "codes %d and %d share the message: %s", codes[i],
						  codes[j], m);
	}
}

Test(strerror, names_the_cause)
{
	const char *m = awe_strerror(-ENOSYS);

	cr_assert(strstr(m, "userfaultfd"), "-ENOSYS: %s", m);
	m = awe_strerror(-EPERM);
	cr_assert(strstr(m, "RLIMIT_MEMLOCK"), "-EPERM: %s", m);
}

Test(strerror, unknown_codes)
{
	const int odd[] = {0, 9999, -9999, INT_MAX, INT_MIN, INT_MIN + 1, EDOM, -EDOM};

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *m = awe_strerror(odd[i]);

		cr_assert_not_null(m, "awe_strerror(%d) is NULL", odd[i]);
		/* A terminated, reasonable string. */
		cr_assert_lt(strlen(m), 4096);
	}
}

/* Works before anything else and does not depend on state. */
Test(strerror, before_init)
{
	const char *m = awe_strerror(-EBUSY);

	cr_assert_not_null(m);
	cr_assert_str_eq(m, awe_strerror(EBUSY));
	cr_assert_eq(get_stats().frames_allocated, 0);
	cr_assert_str_eq(m, awe_strerror(-EBUSY));
}
