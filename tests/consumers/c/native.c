/* SPDX-License-Identifier: MIT */
/*
 * A consumer of the installed native API, built strict C11 (not gnu11): the
 * public headers must need no extension. It checks that the library loaded
 * is the one the headers describe, then maps a frame and reads it back.
 * Exit status 77 when libawe cannot run here (no locked memory, say).
 */
#include <awe.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "native consumer: %s: %s\n", what, awe_strerror(rc));
	return 1;
}

int main(void)
{
	awe_frame_t f;
	size_t freed = 0;
	void *win;
	ssize_t n;
	int rc;

	if (strcmp(awe_version(), AWE_VERSION) != 0) {
		fprintf(stderr, "native consumer: headers %s, library %s\n", AWE_VERSION,
			awe_version());
		return 1;
	}
	n = awe_alloc(&f, 1);
	if (n != 1) {
		fprintf(stderr, "native consumer: cannot allocate here: %s\n",
			awe_strerror((int)n));
		return 77;
	}
	if ((rc = awe_window_create(awe_page_size(), NULL, 0, &win)))
		return fail("awe_window_create", rc);
	if ((rc = awe_map(win, 1, &f)))
		return fail("awe_map", rc);
	strcpy((char *)win, "installed libawe");
	if ((rc = awe_unmap(win, 1, 0)) || (rc = awe_map(win, 1, &f)))
		return fail("awe_unmap/awe_map", rc);
	if (strcmp((char *)win, "installed libawe") != 0) {
		fprintf(stderr, "native consumer: the frame lost its contents\n");
		return 1;
	}
	if ((rc = awe_window_destroy(win)) || (rc = awe_free(&f, 1, &freed)) || freed != 1)
		return fail("awe_window_destroy/awe_free", rc);
	printf("native consumer: libawe %s, page size %zu, a frame mapped, unmapped, "
	       "mapped again and read back\n",
	       awe_version(), awe_page_size());
	return 0;
}
