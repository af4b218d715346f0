/* SPDX-License-Identifier: MIT */
/*
 * awe-bench's large-frame runs: what sides.c (their rounds), large.c (the
 * map+unmap run's libawe sides), large_memfd.c (its memfd remapper of huge
 * pages), touch.c (the random-access run) and report_large.c share.
 *
 * These runs compare ways of doing one thing with frames of two sizes,
 * rather than contenders doing every workload, so each has sides of its
 * own: a side sets up its frames and window, then does its unit of work
 * (one map+touch+unmap, a batch of touches) as often as it is timed.
 */
#ifndef AWE_BENCH_LARGE_H
#define AWE_BENCH_LARGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

/* A side's setup result: it cannot run on this machine (no huge pages to
 * be had); bench_errmsg() says why. A skip, never a number. */
#define SIDE_UNAVAILABLE 1

struct side {
	/* Its name, description and flags in the report; nothing else of it
	 * is set. A result's contender points here. */
	const struct contender c;
	const char *owner; /* the contender of --contender it belongs to */
	bool unit_large;   /* one unit of its work covers a large page, else a page */
	/* Allocates @bytes of frames and maps what the work needs: 0 (then
	 * bench_errmsg() may hold a note for the report, or ""), a negative
	 * errno value or SIDE_UNAVAILABLE, with bench_err(). *@huge: the
	 * share of a mapped frame's memory (touch: of the whole window) that
	 * page tables map with huge pages, in percent, -1 unknown. */
	int (*setup)(void **st, size_t bytes, double *huge);
	/* One timed piece of work; adds the units it did to *@units. */
	int (*op)(void *st, uint64_t *units);
	void (*teardown)(void *st);
};

/* The "large" run: map, touch, unmap. */
extern const struct side side_awe_2m, side_awe_512x4k, side_memfd_2m, side_awe_4k;
/* The "touch" run: random touches of frames mapped once. */
extern const struct side side_touch_4k, side_touch_2m;
/* The workloads the runs' results name (not in workloads[]). */
extern const struct workload wl_large, wl_touch;

/* Frames per operation of awe-512x4K, and the pages one large frame
 * holds: the large page size over the page size (512 on x86-64). */
size_t pages_per_large(void);

/* All @n frames (large ones with AWE_ALLOC_LARGE), in as many calls as it
 * takes; *@got says how many are allocated, also on failure, when the
 * caller frees them. Large frames not to be had (-EOPNOTSUPP, -ENOMEM, or
 * fewer than @n) are SIDE_UNAVAILABLE, with why. */
int alloc_frames(uint64_t *frames, size_t n, bool large, size_t *got);

/* kB of [@addr, @addr + @len) that page tables map with huge pages, as
 * /proc/self/smaps counts them (THP, shmem and file PMDs, hugetlbfs), for
 * the mappings overlapping the range; -1 when it cannot be read. */
long huge_kb(const void *addr, size_t len);
/* The same in percent of @len. */
double huge_pct(const void *addr, size_t len);

/* Writes a byte of the page at @p: a program maps a page to use it. */
static inline void touch_page(char *p)
{
	*(volatile char *)p = 1;
}

/* The next position of a random order of @n. */
static inline size_t next_pos(size_t *pos, size_t n)
{
	size_t v = *pos;

	*pos = v + 1 == n ? 0 : v + 1;
	return v;
}

#endif
