// SPDX-License-Identifier: MIT
/*
 * The "large" run's libawe sides. Each operation maps frames of a pool at a
 * slot of a window, touches every page it mapped (one byte) and unmaps
 * them, the frames and the slot taken in random orders as in scatter:
 *
 *   awe-2M      one large frame (AWE_ALLOC_LARGE) at a slot of an
 *               AWE_WINDOW_LARGE window, awe_map() of one slot and the
 *               unmap of it: the 2 MiB page touched once;
 *   awe-512x4K  as much memory in 4 KiB frames: 512 frames at 512 slots
 *               of one 2 MiB-aligned range of a window, in one awe_map()
 *               call, every page touched, one unmap (sweep's operation);
 *   awe-4K      one 4 KiB frame at a slot, the goal's reference.
 *
 * And what the large-frame runs share: allocating every frame asked for,
 * and how much of a range page tables map with huge pages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <awe.h>

#include "bench.h"
#include "large.h"

struct lg {
	uint64_t *frames;
	size_t nframes, got;
	void *win;
	size_t slot; /* bytes of a slot: the page or the large page size */
	size_t run;  /* frames per operation */
	/* Runs of frames and runs of slots, in random order. */
	uint32_t *fperm, *sperm;
	size_t nruns, fpos, spos;
};

size_t pages_per_large(void)
{
	size_t lp = awe_large_page_size();

	return lp ? lp / opts.page : (2u << 20) / opts.page;
}

static int fail(int rc, const char *call)
{
	return bench_err(rc < 0 ? rc : -EIO, "%s: %s", call, awe_strerror(rc));
}

/* Why large frames ran out: awe_probe()'s account, after the error. */
static int unavailable(size_t got, size_t n, int rc)
{
	struct awe_probe p;
	char why[200] = "";

	if (awe_probe(&p) == 0 && p.large_reason)
		snprintf(why, sizeof(why), "; awe_probe: %" PRIu64 " could be had now: %s",
			 p.large_frames, p.large_reason);
	if (got)
		return bench_err(SIDE_UNAVAILABLE, "only %zu of %zu large frames could be had%s",
				 got, n, why);
	return bench_err(SIDE_UNAVAILABLE, "awe_alloc_ex(AWE_ALLOC_LARGE): %s%s", awe_strerror(rc),
			 why);
}

int alloc_frames(uint64_t *frames, size_t n, bool large, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		if (large)
			r = awe_alloc_ex(frames + *got, n - *got, -1, AWE_ALLOC_LARGE);
		else
			r = awe_alloc(frames + *got, n - *got);
		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (large && (r == 0 || r == -EOPNOTSUPP || r == -ENOMEM))
			return unavailable(*got, n, r ? (int)r : -ENOMEM);
		return fail(r < 0 ? (int)r : -ENOMEM,
			    large ? "awe_alloc_ex(AWE_ALLOC_LARGE)" : "awe_alloc");
	}
	return 0;
}

static const char *const huge_fields[] = {"AnonHugePages:", "ShmemPmdMapped:", "FilePmdMapped:",
					  "Shared_Hugetlb:", "Private_Hugetlb:"};

long huge_kb(const void *addr, size_t len)
{
	unsigned long lo = (unsigned long)addr, hi = lo + len, a, b;
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[8192];
	bool in = false;
	long kb = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			in = a < hi && b > lo;
			continue;
		}
		for (size_t i = 0; in && i < ARRAY_SIZE(huge_fields); i++) {
			size_t n = strlen(huge_fields[i]);

			if (!strncmp(line, huge_fields[i], n))
				kb += strtol(line + n, NULL, 10);
		}
	}
	fclose(f);
	return kb;
}

double huge_pct(const void *addr, size_t len)
{
	long kb = huge_kb(addr, len);

	return kb < 0 ? -1 : (double)kb * 1024 * 100 / (double)len;
}

static void lg_teardown(void *p)
{
	struct lg *s = p;

	if (s->win)
		awe_window_destroy(s->win);
	if (s->got)
		awe_free(s->frames, s->got, NULL);
	free(s->frames);
	free(s->fperm);
	free(s->sperm);
	free(s);
}

/* Maps the first run at the first slots, touched, and measures it. */
static int first_map(struct lg *s, double *huge)
{
	int rc = awe_map(s->win, s->run, s->frames);

	if (rc)
		return fail(rc, "awe_map");
	for (size_t i = 0; i < s->run; i++)
		touch_page((char *)s->win + i * s->slot);
	*huge = huge_pct(s->win, s->run * s->slot);
	rc = awe_map(s->win, s->run, NULL);
	return rc ? fail(rc, "awe_map(NULL)") : 0;
}

static int lg_setup(void **out, size_t bytes, bool large, size_t run, double *huge)
{
	size_t lp = awe_large_page_size();
	struct lg *s;
	int rc;

	if (large && !lp)
		return bench_err(SIDE_UNAVAILABLE, "the kernel has neither transparent huge pages "
						   "nor hugetlbfs (awe_large_page_size() is 0)");
	s = xcalloc(1, sizeof(*s));
	s->slot = large ? lp : opts.page;
	s->run = run;
	s->nframes = bytes / s->slot;
	s->nruns = s->nframes / run;
	s->frames = xcalloc(s->nframes, sizeof(*s->frames));
	rc = alloc_frames(s->frames, s->nframes, large, &s->got);
	if (!rc) {
		/* A run of 4 KiB slots covers what a large slot does. */
		unsigned int align = lp ? AWE_WINDOW_ALIGN(__builtin_ctzl(lp)) : 0;

		rc = awe_window_create(s->nframes * s->slot, NULL,
				       large	 ? AWE_WINDOW_LARGE
				       : run > 1 ? align
						 : 0,
				       &s->win);
		if (rc)
			rc = fail(rc, "awe_window_create");
	}
	if (!rc) {
		s->fperm = perm_new(s->nruns, 0x9e3779b97f4a7c15ull ^ run);
		s->sperm = perm_new(s->nruns, 0x5bd1e995u ^ run);
		rc = first_map(s, huge);
	}
	if (rc) {
		lg_teardown(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int lg_op(void *p, uint64_t *units)
{
	struct lg *s = p;
	const uint64_t *f = s->frames + (size_t)s->fperm[next_pos(&s->fpos, s->nruns)] * s->run;
	char *a =
		(char *)s->win + (size_t)s->sperm[next_pos(&s->spos, s->nruns)] * s->run * s->slot;
	int rc = awe_map(a, s->run, f);

	if (rc)
		return fail(rc, "awe_map");
	for (size_t i = 0; i < s->run; i++)
		touch_page(a + i * s->slot);
	rc = awe_map(a, s->run, NULL);
	if (rc)
		return fail(rc, "awe_map(NULL)");
	(*units)++;
	return 0;
}

static int setup_2m(void **out, size_t bytes, double *huge)
{
	return lg_setup(out, bytes, true, 1, huge);
}

static int setup_512x4k(void **out, size_t bytes, double *huge)
{
	return lg_setup(out, bytes, false, pages_per_large(), huge);
}

static int setup_4k(void **out, size_t bytes, double *huge)
{
	return lg_setup(out, bytes, false, 1, huge);
}

const struct side side_awe_2m = {
	.c = {.name = "awe-2M",
	      .what = "one large frame at a slot of an AWE_WINDOW_LARGE window: awe_map of 1 "
		      "slot, one touch, unmap"},
	.owner = "awe",
	.unit_large = true,
	.setup = setup_2m,
	.op = lg_op,
	.teardown = lg_teardown,
};

const struct side side_awe_512x4k = {
	.c = {.name = "awe-512x4K",
	      .what = "512 frames of 4 KiB at a 2 MiB-aligned range: one awe_map of 512, a touch "
		      "per page, one unmap"},
	.owner = "awe",
	.unit_large = true,
	.setup = setup_512x4k,
	.op = lg_op,
	.teardown = lg_teardown,
};

const struct side side_awe_4k = {
	.c = {.name = "awe-4K",
	      .what = "one 4 KiB frame at a slot: awe_map of 1 page, one touch, unmap"},
	.owner = "awe",
	.setup = setup_4k,
	.op = lg_op,
	.teardown = lg_teardown,
};
