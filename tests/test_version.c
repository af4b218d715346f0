/* SPDX-License-Identifier: MIT */
/*
 * awe_version() and <awe/version.h>: the loaded library and the headers give
 * the same version, written as MAJOR.MINOR.PATCH, and it is the one the
 * build system knows (AWE_TEST_PROJECT_VERSION, Meson's project()).
 */
#include "helpers.h"

#include <stdio.h>

Test(version, runtime_matches_headers)
{
	const char *v = awe_version();
	char want[64];

	cr_assert_not_null(v);
	cr_assert_str_eq(v, AWE_VERSION);
	snprintf(want, sizeof(want), "%d.%d.%d", AWE_VERSION_MAJOR, AWE_VERSION_MINOR,
		 AWE_VERSION_PATCH);
	cr_assert_str_eq(v, want, "AWE_VERSION %s, its parts say %s", v, want);
	cr_assert_str_eq(v, AWE_TEST_PROJECT_VERSION, "the build's version is %s",
			 AWE_TEST_PROJECT_VERSION);
}

Test(version, at_least)
{
	cr_assert(AWE_VERSION_AT_LEAST(0, 0, 0));
	cr_assert(AWE_VERSION_AT_LEAST(AWE_VERSION_MAJOR, AWE_VERSION_MINOR, AWE_VERSION_PATCH));
	cr_assert(
		!AWE_VERSION_AT_LEAST(AWE_VERSION_MAJOR, AWE_VERSION_MINOR, AWE_VERSION_PATCH + 1));
	cr_assert(!AWE_VERSION_AT_LEAST(AWE_VERSION_MAJOR, AWE_VERSION_MINOR + 1, 0));
	cr_assert(!AWE_VERSION_AT_LEAST(AWE_VERSION_MAJOR + 1, 0, 0));
}

/* No errno contract to keep: it cannot fail, and must not touch errno. */
Test(version, leaves_errno)
{
	errno = 1234;
	(void)awe_version();
	cr_assert_eq(errno, 1234);
}
