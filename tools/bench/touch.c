// SPDX-License-Identifier: MIT
/*
 * The "touch" run: random 8-byte reads and writes over frames mapped once
 * into one window, with 4 KiB frames (awe-4K) and with large frames
 * (awe-2M, AWE_ALLOC_LARGE in an AWE_WINDOW_LARGE window). Each touch adds
 * to the first word of a random cache line of a random 4 KiB page, picked
 * by xorshift from the same seed on both sides, so both run the same
 * sequence of addresses. Over 4 GiB of small pages nearly every touch
 * misses the TLB and walks page tables (8 MiB of them) that miss the
 * caches too; large pages need 512 times fewer entries.
 *
 * Setting up is not timed: allocating the frames (a large frame costs
 * milliseconds), mapping them and touching every page once, so that what
 * the engine leaves to the first touch is done.
 */
#include <errno.h>
#include <stdlib.h>

#include <awe.h>

#include "bench.h"
#include "large.h"

#define TOUCH_BATCH 4096 /* touches per timed operation */
#define TOUCH_LINE 64
#define TOUCH_MAP_CHUNK 16384 /* slots per awe_map() call of the setup */

struct tc {
	uint64_t *frames;
	size_t got;
	void *win;
	size_t lines;
	uint64_t x;
};

static void tc_teardown(void *p)
{
	struct tc *s = p;

	if (s->win)
		awe_window_destroy(s->win);
	if (s->got)
		awe_free(s->frames, s->got, NULL);
	free(s->frames);
	free(s);
}

static int tc_map(struct tc *s, size_t n, size_t slot)
{
	for (size_t i = 0; i < n; i += TOUCH_MAP_CHUNK) {
		size_t k = n - i < TOUCH_MAP_CHUNK ? n - i : TOUCH_MAP_CHUNK;
		int rc = awe_map((char *)s->win + i * slot, k, s->frames + i);

		if (rc)
			return bench_err(rc, "awe_map: %s", awe_strerror(rc));
	}
	for (size_t off = 0; off < n * slot; off += opts.page)
		touch_page((char *)s->win + off);
	return 0;
}

static int tc_setup(void **out, size_t bytes, bool large, double *huge)
{
	size_t slot = large ? awe_large_page_size() : opts.page, n;
	struct tc *s;
	int rc;

	if (!slot)
		return bench_err(SIDE_UNAVAILABLE, "the kernel has neither transparent huge pages "
						   "nor hugetlbfs (awe_large_page_size() is 0)");
	n = bytes / slot;
	s = xcalloc(1, sizeof(*s));
	s->frames = xcalloc(n, sizeof(*s->frames));
	s->lines = n * slot / TOUCH_LINE;
	s->x = 0x2545f4914f6cdd1dull;
	rc = alloc_frames(s->frames, n, large, &s->got);
	if (!rc) {
		rc = awe_window_create(n * slot, NULL, large ? AWE_WINDOW_LARGE : 0, &s->win);
		if (rc)
			rc = bench_err(rc, "awe_window_create: %s", awe_strerror(rc));
	}
	if (!rc)
		rc = tc_map(s, n, slot);
	if (rc) {
		tc_teardown(s);
		return rc;
	}
	*huge = huge_pct(s->win, n * slot);
	*out = s;
	return 0;
}

static int tc_op(void *p, uint64_t *units)
{
	struct tc *s = p;
	char *win = s->win;
	uint64_t x = s->x;

	for (unsigned int i = 0; i < TOUCH_BATCH; i++) {
		size_t line;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* A random line of all, from the high bits: a random line of a
		 * random 4 KiB page. */
		line = (size_t)(((__uint128_t)x * s->lines) >> 64);
		*(volatile uint64_t *)(win + line * TOUCH_LINE) += 1;
	}
	s->x = x;
	*units += TOUCH_BATCH;
	return 0;
}

static int setup_4k(void **out, size_t bytes, double *huge)
{
	return tc_setup(out, bytes, false, huge);
}

static int setup_2m(void **out, size_t bytes, double *huge)
{
	return tc_setup(out, bytes, true, huge);
}

const struct side side_touch_4k = {
	.c = {.name = "awe-4K", .what = "frames of 4 KiB in a window"},
	.owner = "awe",
	.setup = setup_4k,
	.op = tc_op,
	.teardown = tc_teardown,
};

const struct side side_touch_2m = {
	.c = {.name = "awe-2M",
	      .what = "large frames (AWE_ALLOC_LARGE) in an AWE_WINDOW_LARGE window"},
	.owner = "awe",
	.unit_large = true,
	.setup = setup_2m,
	.op = tc_op,
	.teardown = tc_teardown,
};
